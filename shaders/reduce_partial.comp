#version 450
// tunebench — stage 1 of sum / sum of squares: workgroup g sums x[chunk g] (chunk
// elements from ox + g*chunk) into partials[g]. Stage 2 is reduce_final.comp. Fixed chunks
// and tree sums: the result depends only on n, never on timing.
#include "common.glsl"
#include "reduce.glsl"

TB_PUSH(TB_PC_REDUCE)

layout(std430, binding = 0) buffer Partials { float part[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };

void main()
{
    uint g = tb_group(), lo = g * pc.chunk, hi = min(pc.n, lo + pc.chunk);
    float acc = 0.0;
    for (uint i = lo + gl_LocalInvocationID.x; i < hi; i += WG) {
        float v = x[pc.ox + i];
        acc += pc.mode == TB_RED_SUMSQ ? v * v : v;
    }
    acc = wg_sum(acc);
    if (gl_LocalInvocationID.x == 0u)
        part[g] = acc;
}
