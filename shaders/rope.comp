#version 450
// tunebench — RoPE in place on x (B*T rows, nh heads, Dh), HF half-split layout: dim j
// pairs with j + Dh/2. table (P, Dh): row p holds cos(p f_j) for j < Dh/2, then sin(p f_j).
// sign +1: x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin; sign -1 rotates back (backward).
#include "common.glsl"

layout(local_size_x = 256) in;
TB_PUSH(TB_PC_ROPE)

layout(std430, binding = 0) buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Table { float tab[]; };

void main()
{
    uint half_dh = pc.Dh / 2u;
    uint e = tb_gid();
    if (e >= pc.rows * pc.nh * half_dh)
        return;
    uint j = e % half_dh, h = (e / half_dh) % pc.nh, row = e / (half_dh * pc.nh);
    uint p = pc.pos0 + row % pc.T;
    float c = tab[pc.ot + p * pc.Dh + j], s = pc.sign * tab[pc.ot + p * pc.Dh + half_dh + j];
    uint b = pc.ox + (row * pc.nh + h) * pc.Dh + j;
    float x1 = x[b], x2 = x[b + half_dh];
    x[b] = x1 * c - x2 * s;
    x[b + half_dh] = x2 * c + x1 * s;
}
