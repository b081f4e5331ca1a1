#version 450
// tunebench — attention backward, dk and dv: a workgroup takes BK keys of one (batch, kv
// head) and walks every query row that sees them, for each query head of the group (GQA:
// the group's heads sum into the same dk, dv, with no atomics):
//   P = exp(scale q.k - lse), dS = P (dout.v - delta)
//   dv (0) = sum P dout, dk (1) = scale * sum dS q   ("=", keys < Tk only)
// Bindings: 0 dk (offset oo), 1 dv (oo2), 2 dout, 3 q, 4 k, 5 v, 6 lse, 7 delta.
// Grid: (ceil(Tk/BK), Hkv, B); invocation (key row, lane).
#include "common.glsl"
#include "attention.glsl"

layout(std430, binding = 0) buffer DK { float dk[]; };
layout(std430, binding = 1) buffer DV { float dv[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 3) readonly buffer Q { float q[]; };
layout(std430, binding = 4) readonly buffer K { float k[]; };
layout(std430, binding = 5) readonly buffer V { float v[]; };
layout(std430, binding = 6) readonly buffer Lse { float lse[]; };
layout(std430, binding = 7) readonly buffer Delta { float delta[]; };

shared float Ks[BK * DP];
shared float Vs[BK * DP];
shared float Qs[BQ * DP];
shared float dOs[BQ * DP];
shared float Ps[BQ * BK];
shared float dSs[BQ * BK];
shared float row_lse[BQ];
shared float row_delta[BQ];

void main()
{
    const uint tid = gl_LocalInvocationID.x, c = tid / L, lane = tid % L;
    const uint c0 = gl_WorkGroupID.x * BK, g = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    const uint Tk = pc.pos0 + pc.Tq, group = pc.H / pc.Hkv;
    const uint kpos = c0 + c;

    for (uint i = tid; i < BK * DH; i += WG) {
        uint cc = i / DH, d = i % DH, pos = c0 + cc;
        bool in_range = pos < Tk;
        Ks[cc * DP + d] = in_range ? k[kv_index(pc.ok, b, pos, g) + d] : 0.0;
        Vs[cc * DP + d] = in_range ? v[kv_index(pc.ov, b, pos, g) + d] : 0.0;
    }
    float acc_k[DL], acc_v[DL];
    for (uint j = 0u; j < DL; j++) {
        acc_k[j] = 0.0;
        acc_v[j] = 0.0;
    }
    // Query row t sees key c0 when pos0 + t >= c0: start at the tile holding that row.
    uint tfirst = c0 > pc.pos0 ? c0 - pc.pos0 : 0u;
    uint qstart = (tfirst / BQ) * BQ;

    for (uint hh = 0u; hh < group; hh++) {
        uint h = g * group + hh;
        for (uint t0 = qstart; t0 < pc.Tq; t0 += BQ) {
            barrier();   // the previous tile is fully used (and Ks/Vs written, first time)
            for (uint i = tid; i < BQ * DH; i += WG) {
                uint rr = i / DH, d = i % DH;
                bool ok = t0 + rr < pc.Tq;
                Qs[rr * DP + d] = ok ? q[q_index(pc.oq, b, t0 + rr, h) + d] : 0.0;
                dOs[rr * DP + d] = ok ? dout[q_index(pc.odo, b, t0 + rr, h) + d] : 0.0;
            }
            for (uint rr = tid; rr < BQ; rr += WG) {
                bool ok = t0 + rr < pc.Tq;
                row_lse[rr] = ok ? lse[stat_index(pc.olse, b, h, t0 + rr)] : 0.0;
                row_delta[rr] = ok ? delta[stat_index(pc.od, b, h, t0 + rr)] : 0.0;
            }
            barrier();
            for (uint r = lane; r < BQ; r += L) {
                float p = 0.0, ds = 0.0;
                if (kpos < Tk && visible(t0 + r, kpos)) {
                    float s = 0.0, dp = 0.0;
                    for (uint d = 0u; d < DH; d++) {
                        s = fma(Qs[r * DP + d], Ks[c * DP + d], s);
                        dp = fma(dOs[r * DP + d], Vs[c * DP + d], dp);
                    }
                    p = exp(s * pc.scale - row_lse[r]);
                    ds = p * (dp - row_delta[r]);
                }
                Ps[r * BK + c] = p;
                dSs[r * BK + c] = ds;
            }
            barrier();
            for (uint r = 0u; r < BQ; r++) {
                float p = Ps[r * BK + c], ds = dSs[r * BK + c];
                for (uint j = 0u; j < DL; j++) {
                    uint d = lane + j * L;
                    if (d < DH) {
                        acc_v[j] = fma(p, dOs[r * DP + d], acc_v[j]);
                        acc_k[j] = fma(ds, Qs[r * DP + d], acc_k[j]);
                    }
                }
            }
        }
    }
    if (kpos >= Tk)
        return;
    for (uint j = 0u; j < DL; j++) {
        uint d = lane + j * L;
        if (d < DH) {
            dk[kv_index(pc.oo, b, kpos, g) + d] = pc.scale * acc_k[j];
            dv[kv_index(pc.oo2, b, kpos, g) + d] = acc_v[j];
        }
    }
}
