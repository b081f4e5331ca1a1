#version 450
// tunebench — benchmark only (tests/bench/vk_bench.c): the device's achievable f32 FMA rate.
// Each invocation runs 8 independent FMA chains for pc.n iterations (2 flops per FMA) and
// writes one value so the compiler cannot drop the work.
#include "common.glsl"

layout(local_size_x = 256) in;
TB_PUSH(TB_PC_EW)

layout(std430, binding = 0) buffer Out { float o[]; };

void main()
{
    float x = float(gl_LocalInvocationID.x) * 1e-6, a = pc.alpha, b = pc.p;
    float r0 = x, r1 = x + 1.0, r2 = x + 2.0, r3 = x + 3.0, r4 = x + 4.0, r5 = x + 5.0, r6 = x + 6.0, r7 = x + 7.0;
    for (uint i = 0u; i < pc.n; i++) {
        r0 = fma(r0, a, b); r1 = fma(r1, a, b); r2 = fma(r2, a, b); r3 = fma(r3, a, b);
        r4 = fma(r4, a, b); r5 = fma(r5, a, b); r6 = fma(r6, a, b); r7 = fma(r7, a, b);
    }
    o[tb_gid()] = r0 + r1 + r2 + r3 + r4 + r5 + r6 + r7;
}
