// tunebench — shared by every kernel: the push-constant field types and the dtype helpers.
#extension GL_GOOGLE_include_directive : require

#define U32 uint
#define I32 int
#define F32 float
#define TB_PC_FIELD(t, name) t name;
#include "push.h"

// Declare `pc` as the push-constant block of list L (one of TB_PC_* in push.h).
#define TB_PUSH(L) layout(push_constant) uniform PushBlock { L(TB_PC_FIELD) } pc;

// Large 1-D launches are split over x and y (x is capped at 65535 groups on some devices);
// the host computes the split (vk_grid in vk_kernels.c).
uint tb_group()
{
    return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
}

// A macro, not a function: gl_WorkGroupSize takes its value from the kernel's layout
// declaration, which comes after this file (a function here would see the default, 1).
#define tb_gid() (tb_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x)

// 16-bit floats are read from uint words (two per word, low half first), so the kernels
// need no 16-bit storage feature: element i lives in word i/2, half i%2.
float tb_bf16_at(uint word, uint half_index)
{
    return uintBitsToFloat(half_index != 0u ? (word & 0xffff0000u) : (word << 16));
}

// IEEE binary16 decoded by hand: unpackHalf2x16 may flush subnormals on some drivers.
float tb_f16_to_f32(uint h)
{
    uint sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0u)   // zero or subnormal: m * 2^-24, a normal f32, exact
        return uintBitsToFloat(sign | floatBitsToUint(float(m) * (1.0 / 16777216.0)));
    if (e == 31u)
        return uintBitsToFloat(sign | 0x7f800000u | (m << 13));
    return uintBitsToFloat(sign | ((e + 112u) << 23) | (m << 13));
}

float tb_f16_at(uint word, uint half_index)
{
    return tb_f16_to_f32(half_index != 0u ? word >> 16 : word & 0xffffu);
}

// Element i of a buffer declared as `uint arr[]` holding dtype dt (TB_DT_*); a macro since
// GLSL cannot pass buffer arrays to functions. dt is uniform, so the branch is free.
#define TB_LOAD(arr, dt, i) \
    ((dt) == TB_DT_F32 ? uintBitsToFloat(arr[i]) \
     : (dt) == TB_DT_BF16 ? tb_bf16_at(arr[(i) >> 1], (i) & 1u) : tb_f16_at(arr[(i) >> 1], (i) & 1u))

// f32 -> bf16 bits, round to nearest even; NaN stays a quiet NaN (engine/core/dtype.h).
uint tb_f32_to_bf16(float f)
{
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (u >> 16) | 0x40u;
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

// f32 -> f16 bits, round to nearest even, as engine/core/dtype.c (packHalf2x16 leaves the
// rounding to the driver).
uint tb_f32_to_f16(float f)
{
    uint u = floatBitsToUint(f);
    uint sign = (u >> 16) & 0x8000u, absu = u & 0x7fffffffu;
    if (absu > 0x7f800000u)
        return sign | 0x7e00u;
    if (absu >= 0x477ff000u)   // rounds to >= 65520: infinity
        return sign | 0x7c00u;
    if (absu < 0x38800000u)    // subnormal: a * 2^24 in [0, 1024), half to even
        return sign | uint(roundEven(uintBitsToFloat(absu) * 16777216.0));
    uint rounded = absu + 0xfffu + ((absu >> 13) & 1u);
    return sign | (((rounded >> 13) - (112u << 10)) & 0x7fffu);
}


// backend.h tb_hash32 / tb_dropout_keep, bit for bit (uint arithmetic wraps like C's).
uint tb_hash32(uint x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

bool tb_dropout_keep(uint seed, uint i, float p)
{
    uint h = tb_hash32(i ^ tb_hash32(seed));
    return float(h >> 8) * (1.0 / 16777216.0) >= p;
}
