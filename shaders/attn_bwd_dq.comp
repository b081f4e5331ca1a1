#version 450
// tunebench — attention backward, dq: a workgroup takes BQ query rows of one (batch, head)
// and walks the key tiles it sees, recomputing P = exp(scale q.k - lse) from the forward's
// lse (no probabilities were kept):
//   dS = P (dout.v - delta);  dq (0) = scale * sum_keys dS k   ("=")
// Bindings: 0 dq (offset oo), 1 dout, 2 q, 3 k, 4 v, 5 lse, 6 delta (offset od).
// Grid: (ceil(Tq/BQ), H, B).
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) buffer DQ { float dq[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Q { float q[]; };
layout(std430, binding = 3) readonly buffer K { float k[]; };
layout(std430, binding = 4) readonly buffer V { float v[]; };
layout(std430, binding = 5) readonly buffer Lse { float lse[]; };
layout(std430, binding = 6) readonly buffer Delta { float delta[]; };

shared float Qs[BQ * DP];
shared float dOs[BQ * DP];
shared float Ks[BK * DP];
shared float Vs[BK * DP];
shared float dSs[BQ * BK];

void main()
{
    const uint tid = gl_LocalInvocationID.x, r = tid / L, lane = tid % L;
    const uint t0 = gl_WorkGroupID.x * BQ, h = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    const uint g = h / (pc.H / pc.Hkv), t = t0 + r;
    const uint Tk = pc.pos0 + pc.Tq;

    for (uint i = tid; i < BQ * DH; i += WG) {
        uint rr = i / DH, d = i % DH;
        bool ok = t0 + rr < pc.Tq;
        Qs[rr * DP + d] = ok ? q[q_index(pc.oq, b, t0 + rr, h) + d] : 0.0;
        dOs[rr * DP + d] = ok ? dout[q_index(pc.odo, b, t0 + rr, h) + d] : 0.0;
    }
    float row_lse = t < pc.Tq ? lse[stat_index(pc.olse, b, h, t)] : 0.0;
    float row_delta = t < pc.Tq ? delta[stat_index(pc.od, b, h, t)] : 0.0;
    float acc[DL];
    for (uint j = 0u; j < DL; j++)
        acc[j] = 0.0;
    uint kend = min(Tk, pc.pos0 + min(t0 + BQ, pc.Tq));

    for (uint c0 = 0u; c0 < kend; c0 += BK) {
        barrier();
        for (uint i = tid; i < BK * DH; i += WG) {
            uint cc = i / DH, d = i % DH, pos = c0 + cc;
            bool in_range = pos < Tk;
            Ks[cc * DP + d] = in_range ? k[kv_index(pc.ok, b, pos, g) + d] : 0.0;
            Vs[cc * DP + d] = in_range ? v[kv_index(pc.ov, b, pos, g) + d] : 0.0;
        }
        barrier();
        for (uint c = lane; c < BK; c += L) {
            float ds = 0.0;
            if (visible(t, c0 + c)) {
                float s = 0.0, dp = 0.0;
                for (uint d = 0u; d < DH; d++) {
                    s = fma(Qs[r * DP + d], Ks[c * DP + d], s);
                    dp = fma(dOs[r * DP + d], Vs[c * DP + d], dp);
                }
                float p = exp(s * pc.scale - row_lse);
                ds = p * (dp - row_delta);
            }
            dSs[r * BK + c] = ds;
        }
        barrier();
        for (uint c = 0u; c < BK; c++) {
            float ds = dSs[r * BK + c];
            for (uint j = 0u; j < DL; j++) {
                uint d = lane + j * L;
                if (d < DH)
                    acc[j] = fma(ds, Ks[c * DP + d], acc[j]);
            }
        }
    }
    if (t >= pc.Tq)
        return;
    for (uint j = 0u; j < DL; j++) {
        uint d = lane + j * L;
        if (d < DH)
            dq[q_index(pc.oo, b, t, h) + d] = pc.scale * acc[j];
    }
}
