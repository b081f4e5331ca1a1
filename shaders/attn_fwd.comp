#version 450
// tunebench — causal GQA attention forward, flash style: a workgroup takes BQ query rows of
// one (batch, head), walks key tiles up to the causal limit, and keeps a running max m,
// sum l and output o per row (online softmax), so memory stays O(T) for any length.
//   out (0) (B, Tq, H*Dh) = softmax(scale q k^T, causal) v; lse (1) (B, H, Tq) = m + log l.
// Bindings: 0 out, 1 lse, 2 q, 3 k, 4 v. Grid: (ceil(Tq/BQ), H, B).
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) buffer Out { float o_out[]; };
layout(std430, binding = 1) buffer Lse { float lse[]; };
layout(std430, binding = 2) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer K { float k[]; };
layout(std430, binding = 4) readonly buffer V { float v[]; };

shared float Qs[BQ * DP];
shared float Ks[BK * DP];
shared float Vs[BK * DP];
shared float Ss[BQ * BK];

void main()
{
    const uint tid = gl_LocalInvocationID.x, r = tid / L, lane = tid % L;
    const uint t0 = gl_WorkGroupID.x * BQ, h = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    const uint g = h / (pc.H / pc.Hkv), t = t0 + r;
    const uint Tk = pc.pos0 + pc.Tq;

    for (uint i = tid; i < BQ * DH; i += WG) {
        uint rr = i / DH, d = i % DH;
        Qs[rr * DP + d] = t0 + rr < pc.Tq ? q[q_index(pc.oq, b, t0 + rr, h) + d] : 0.0;
    }
    float acc[DL];
    for (uint j = 0u; j < DL; j++)
        acc[j] = 0.0;
    float m = NEG_INF, l = 0.0;
    uint kend = min(Tk, pc.pos0 + min(t0 + BQ, pc.Tq));   // last key any row here sees, + 1

    for (uint c0 = 0u; c0 < kend; c0 += BK) {
        barrier();   // previous tile fully used (and Qs written, first time round)
        for (uint i = tid; i < BK * DH; i += WG) {
            uint cc = i / DH, d = i % DH, pos = c0 + cc;
            bool in_range = pos < Tk;
            Ks[cc * DP + d] = in_range ? k[kv_index(pc.ok, b, pos, g) + d] : 0.0;
            Vs[cc * DP + d] = in_range ? v[kv_index(pc.ov, b, pos, g) + d] : 0.0;
        }
        barrier();
        for (uint c = lane; c < BK; c += L) {
            float s = 0.0;
            for (uint d = 0u; d < DH; d++)
                s = fma(Qs[r * DP + d], Ks[c * DP + d], s);
            Ss[r * BK + c] = visible(t, c0 + c) ? s * pc.scale : NEG_INF;
        }
        barrier();
        float mb = NEG_INF;
        for (uint c = 0u; c < BK; c++)
            mb = max(mb, Ss[r * BK + c]);
        float m_new = max(m, mb);
        // -inf only for rows past Tq (no visible key): they add nothing. No `continue`:
        // every invocation must reach the next barrier through the same path.
        if (m_new != NEG_INF) {
            float alpha = exp(m - m_new);
            l *= alpha;
            for (uint j = 0u; j < DL; j++)
                acc[j] *= alpha;
            for (uint c = 0u; c < BK; c++) {
                float p = exp(Ss[r * BK + c] - m_new);
                l += p;
                for (uint j = 0u; j < DL; j++) {
                    uint d = lane + j * L;
                    if (d < DH)
                        acc[j] = fma(p, Vs[c * DP + d], acc[j]);
                }
            }
            m = m_new;
        }
    }
    if (t >= pc.Tq)
        return;
    for (uint j = 0u; j < DL; j++) {
        uint d = lane + j * L;
        if (d < DH)
            o_out[q_index(pc.oo, b, t, h) + d] = acc[j] / l;
    }
    if (pc.has_lse != 0u && lane == 0u)
        lse[stat_index(pc.olse, b, h, t)] = m + log(l);
}
