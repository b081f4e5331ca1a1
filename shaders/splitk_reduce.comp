#version 450
// tunebench — finish a split-K matmul: C (0) at o0, row-major (n = M*N elements, contiguous)
//   C = alpha * sum_z part (1)[z*n + i] + beta * C,   z < seed (the number of splits)
// summed in z order, so the result does not depend on timing. p is beta (0: C not read).
#include "common.glsl"

layout(local_size_x = 256) in;
TB_PUSH(TB_PC_EW)

layout(std430, binding = 0) buffer C { float c[]; };
layout(std430, binding = 1) readonly buffer Part { float part[]; };

void main()
{
    uint i = tb_gid();
    if (i >= pc.n)
        return;
    float s = 0.0;
    for (uint z = 0u; z < pc.seed; z++)
        s += part[z * pc.n + i];
    float v = pc.alpha * s;
    if (pc.p != 0.0)
        v += pc.p * c[pc.o0 + i];
    c[pc.o0 + i] = v;
}
