#version 450
// tunebench — RMSNorm over rows (one workgroup per row), HF LlamaRMSNorm:
//   forward  out = w * (x * rstd), rstd = 1 / sqrt(mean(x^2) + eps)   (rstd saved when limit != 0)
//   backward dinp += rstd w g - x rstd^3 mean(g w x)
// Bindings (o0..o4): forward 0 out, 1 rstd, 2 inp, 3 weight (dtype dtw);
//                    backward 0 dinp, 1 dout, 2 inp, 3 weight, 4 rstd.
// out may alias inp: every invocation reads its own elements before writing them.
#include "common.glsl"
#include "reduce.glsl"

TB_PUSH(TB_PC_ROWS)

layout(std430, binding = 0) buffer Out { float o[]; };
layout(std430, binding = 1) buffer Aux { float aux[]; };
layout(std430, binding = 2) readonly buffer Inp { float x[]; };
layout(std430, binding = 3) readonly buffer Weight { uint w_words[]; };
layout(std430, binding = 4) readonly buffer Rstd { float rstd_in[]; };

float w_at(uint i)
{
    return TB_LOAD(w_words, pc.dtw, pc.o3 + i);
}

void main()
{
    uint row = tb_group();
    if (row >= pc.rows)
        return;   // uniform per workgroup: the whole group leaves together
    uint D = pc.dim, xb = pc.o2 + row * D;
    if (pc.mode == TB_ROWS_RMS_FWD) {
        float ss = 0.0;
        for (uint i = gl_LocalInvocationID.x; i < D; i += WG)
            ss += x[xb + i] * x[xb + i];
        ss = wg_sum(ss);
        float r = 1.0 / sqrt(ss / float(D) + pc.eps);
        for (uint i = gl_LocalInvocationID.x; i < D; i += WG)
            o[pc.o0 + row * D + i] = w_at(i) * (x[xb + i] * r);
        if (pc.limit != 0u && gl_LocalInvocationID.x == 0u)
            aux[pc.o1 + row] = r;
    } else {
        float r = rstd_in[pc.o4 + row];
        uint gb = pc.o1 + row * D;
        float dot = 0.0;
        for (uint i = gl_LocalInvocationID.x; i < D; i += WG)
            dot += aux[gb + i] * w_at(i) * x[xb + i];
        dot = wg_sum(dot) / float(D);
        for (uint i = gl_LocalInvocationID.x; i < D; i += WG)
            o[pc.o0 + row * D + i] += r * w_at(i) * aux[gb + i] - x[xb + i] * (r * r * r) * dot;
    }
}
