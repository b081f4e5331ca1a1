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

void main()
{
    uint row = tb_group();
    if (row >= pc.rows)
        return;
    uint V = pc.dim, base = pc.o1 + row * V, tid = gl_LocalInvocationID.x;
    int t = targets[pc.o2 + row];
    float m = -1.0 / 0.0;
    for (uint i = tid; i < V; i += WG)
        m = max(m, z[base + i]);
    m = wg_max(m);
    float s = 0.0;
    for (uint i = tid; i < V; i += WG)
        s += exp(z[base + i] - m);
    // Read the target's logit before the reduction's barriers: after them it may be
    // overwritten by its gradient.
    float zt = (t >= 0 && uint(t) < V) ? z[base + uint(t)] : 0.0;
    s = wg_sum(s);
    float lse = m + log(s);
    if (tid == 0u)
        loss[pc.o0 + row] = t >= 0 ? lse - zt : 0.0;
    if (pc.eps != 0.0) {
        for (uint i = tid; i < V; i += WG)
            z[base + i] = t < 0 ? 0.0 : pc.eps * (exp(z[base + i] - m) / s - (i == uint(t) ? 1.0 : 0.0));
    }
}
