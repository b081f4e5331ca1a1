// tunebench — shared by every kernel: the push-constant field types and the dtype helpers.
#extension GL_GOOGLE_include_directive : require

#define U32 uint
#define I32 int
#define F32 float
#define TB_PC_FIELD(t, name) t name;
#include "push.h"

// Declare `pc` as the push-constant block of list L (one of TB_PC_* in push.h).
#define TB_PUSH(L) layout(push_constant) uniform PushBlock { L(TB_PC_FIELD) } pc;

// 16-bit floats are read from uint words (two per word, little end first), so the kernels
// need no 16-bit storage feature: element i lives in word i/2, half i%2.
float tb_bf16_at(uint word, uint half_index)
{
    return uintBitsToFloat(half_index != 0u ? (word & 0xffff0000u) : (word << 16));
}

float tb_f16_at(uint word, uint half_index)
{
    return unpackHalf2x16(word)[half_index];
}

// f32 -> bf16 bits, round to nearest even; NaN stays a quiet NaN (engine/core/dtype.h).
uint tb_f32_to_bf16(float f)
{
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (u >> 16) | 0x40u;
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

float tb_sigmoid(float x)
{
    return 1.0 / (1.0 + exp(-x));
}
