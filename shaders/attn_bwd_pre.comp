#version 450
// tunebench — attention backward, step 1: delta (0) (B, H, Tq) = sum_d dout * out per row,
// the softmax-backward term every (query, key) pair needs. One invocation per row.
// Bindings: 0 delta, 1 dout, 2 out.
#include "common.glsl"

layout(local_size_x = 64) in;
layout(constant_id = 0) const uint DH = 64;
TB_PUSH(TB_PC_ATTN)

layout(std430, binding = 0) buffer Delta { float delta[]; };
layout(std430, binding = 1) readonly buffer DOut { float dout[]; };
layout(std430, binding = 2) readonly buffer Out { float o_out[]; };

void main()
{
    uint e = tb_gid();   // (b, t, h), h fastest
    if (e >= pc.B * pc.Tq * pc.H)
        return;
    uint h = e % pc.H, t = (e / pc.H) % pc.Tq, b = e / (pc.H * pc.Tq);
    uint row = (b * pc.Tq + t) * pc.H + h;
    float s = 0.0;
    for (uint d = 0u; d < DH; d++)
        s = fma(dout[pc.odo + row * DH + d], o_out[pc.oo + row * DH + d], s);
    delta[pc.od + (b * pc.H + h) * pc.Tq + t] = s;
}
