#version 450
// tunebench — stage 2 (one workgroup):
//   TB_RED_ADD   out (0)[oout] += sum of partials (1)[0 .. n)
//   TB_RED_CLIP  out (0)[oout] = min(1, max_norm / (sqrt(x (1)[ox]) + 1e-6))  (grad clipping)
#include "common.glsl"
#include "reduce.glsl"

TB_PUSH(TB_PC_REDUCE)

layout(std430, binding = 0) buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer In { float x[]; };

void main()
{
    if (pc.mode == TB_RED_CLIP) {
        if (gl_LocalInvocationID.x == 0u)
            o[pc.oout] = min(1.0, pc.max_norm / (sqrt(x[pc.ox]) + 1e-6));
        return;
    }
    float acc = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < pc.n; i += WG)
        acc += x[pc.ox + i];
    acc = wg_sum(acc);
    if (gl_LocalInvocationID.x == 0u)
        o[pc.oout] += acc;
}
