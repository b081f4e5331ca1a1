#version 450
// tunebench — SwiGLU backward: dgate = dout * up * silu'(gate), dup = dout * silu(gate),
// silu(g) = g sigmoid(g), silu'(g) = sigmoid(g) (1 + g (1 - sigmoid(g))). Both "=".
// Bindings: 0 dgate, 1 dup, 2 dout, 3 gate, 4 up at offsets o0..o4 (any may alias: each
// element is read before it is written, by the same invocation).
#include "common.glsl"

layout(local_size_x = 256) in;
TB_PUSH(TB_PC_EW)

layout(std430, binding = 0) buffer DGate { float dgate[]; };
layout(std430, binding = 1) buffer DUp { float dup[]; };
layout(std430, binding = 2) readonly buffer DOut { float dout[]; };
layout(std430, binding = 3) readonly buffer Gate { float gate[]; };
layout(std430, binding = 4) readonly buffer Up { float up[]; };

void main()
{
    uint i = tb_gid();
    if (i >= pc.n)
        return;
    float g = gate[pc.o3 + i], u = up[pc.o4 + i], d = dout[pc.o2 + i];
    float s = 1.0 / (1.0 + exp(-g));
    dgate[pc.o0 + i] = d * u * s * (1.0 + g * (1.0 - s));
    dup[pc.o1 + i] = d * g * s;
}
