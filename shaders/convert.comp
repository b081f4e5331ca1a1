#version 450
// tunebench — dst (n) = src (n) converted between f32, bf16 and f16 (dt0 = dst's dtype,
// dt1 = src's). Each invocation owns one 32-bit word of dst, so a 16-bit dst's two halves
// are never written by two invocations; a word only half inside the view (odd offset or
// odd end) keeps its other half, read from the buffer, unchanged.
#include "common.glsl"

layout(local_size_x = 256) in;
TB_PUSH(TB_PC_EW)

layout(std430, binding = 0) buffer Dst { uint dst[]; };
layout(std430, binding = 1) readonly buffer Src { uint src[]; };

float src_at(uint i)
{
    return TB_LOAD(src, pc.dt1, pc.o1 + i);
}

uint to16(float f)
{
    return pc.dt0 == TB_DT_BF16 ? tb_f32_to_bf16(f) : tb_f32_to_f16(f);
}

void main()
{
    uint w = tb_gid();
    if (pc.dt0 == TB_DT_F32) {
        if (w < pc.n)
            dst[pc.o0 + w] = floatBitsToUint(src_at(w));
        return;
    }
    // Word w of dst covers absolute elements 2w' and 2w'+1, w' = first word + w.
    uint first = pc.o0 >> 1, last = (pc.o0 + pc.n + 1u) >> 1;
    uint word = first + w;
    if (pc.n == 0u || word >= last)
        return;
    uint v = dst[word];
    for (uint h = 0u; h < 2u; h++) {
        uint e = 2u * word + h;                  // absolute element index
        if (e >= pc.o0 && e < pc.o0 + pc.n) {
            uint bits = to16(src_at(e - pc.o0));
            v = h == 0u ? (v & 0xffff0000u) | bits : (v & 0x0000ffffu) | (bits << 16);
        }
    }
    dst[word] = v;
}
