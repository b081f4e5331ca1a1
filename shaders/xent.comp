#version 450
// tunebench — fused softmax + cross-entropy, one workgroup per row of logits (N, V):
//   loss (0)[row] = lse - logit[target] (0 when target < 0: a masked row)
//   with eps (= grad_scale) != 0, logits (1) are overwritten by
//   grad_scale * (softmax - onehot(target)), 0 on masked rows.
// targets (2) I32. pc.dim = V.
#include "common.glsl"
#include "reduce.glsl"

TB_PUSH(TB_PC_ROWS)

layout(std430, binding = 0) buffer Loss { float loss[]; };
layout(std430, binding = 1) buffer Logits { float z[]; };
layout(std430, binding = 2) readonly buffer Targets { int targets[]; };

shared float sum_buf[WG];

void main()
{
    uint row = tb_group();
    if (row >= pc.rows)
        return;
    uint V = pc.dim, base = pc.o1 + row * V, tid = gl_LocalInvocationID.x;
    int t = targets[pc.o2 + row];
    // One pass for the max and the sum of exponentials (online: rescale the running sum
    // when the max grows), then a tree over (max, sum) pairs: the logits, the largest
    // tensor of a step, are read twice in all (here and for the gradient), not three times.
    float m = -1.0 / 0.0, s = 0.0;
    for (uint i = tid; i < V; i += WG) {
        float z_i = z[base + i];
        if (z_i > m) {
            s = s * exp(m - z_i) + 1.0;
            m = z_i;
        } else {
            s += exp(z_i - m);
        }
    }
    // Read the target's logit before the barriers below: after them its gradient may
    // overwrite it.
    float zt = (t >= 0 && uint(t) < V) ? z[base + uint(t)] : 0.0;
    red_buf[tid] = m;
    sum_buf[tid] = s;
    barrier();
    for (uint h = WG / 2u; h > 0u; h >>= 1) {
        if (tid < h) {
            float m1 = red_buf[tid], m2 = red_buf[tid + h], mm = max(m1, m2);
            float s1 = sum_buf[tid], s2 = sum_buf[tid + h];
            // an empty side has m = -inf and s = 0: its term is 0, never NaN
            sum_buf[tid] = (s1 > 0.0 ? s1 * exp(m1 - mm) : 0.0) + (s2 > 0.0 ? s2 * exp(m2 - mm) : 0.0);
            red_buf[tid] = mm;
        }
        barrier();
    }
    m = red_buf[0];
    s = sum_buf[0];
    float lse = m + log(s);
    if (tid == 0u)
        loss[pc.o0 + row] = t >= 0 ? lse - zt : 0.0;
    if (pc.eps != 0.0) {
        for (uint i = tid; i < V; i += WG)
            z[base + i] = t < 0 ? 0.0 : pc.eps * (exp(z[base + i] - m) / s - (i == uint(t) ? 1.0 : 0.0));
    }
}
