#version 450
// tunebench — column sums over rows, one invocation per column, rows in order (so the
// result does not depend on the device):
//   TB_COLS_RMS_DW  dw (0) += sum_rows dout (1) * inp (2) * rstd (3)[row]   (RMSNorm weight)
//   TB_COLS_BIAS    db (0) += sum_rows dout (1)                             (bias)
#include "common.glsl"

layout(local_size_x = 64) in;
TB_PUSH(TB_PC_ROWS)

layout(std430, binding = 0) buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer DOut { float g[]; };
layout(std430, binding = 2) readonly buffer Inp { float x[]; };
layout(std430, binding = 3) readonly buffer Rstd { float rstd[]; };

void main()
{
    uint c = tb_gid();
    if (c >= pc.dim)
        return;
    float acc = 0.0;
    if (pc.mode == TB_COLS_RMS_DW) {
        for (uint r = 0u; r < pc.rows; r++)
            acc += g[pc.o1 + r * pc.dim + c] * x[pc.o2 + r * pc.dim + c] * rstd[pc.o3 + r];
    } else {
        for (uint r = 0u; r < pc.rows; r++)
            acc += g[pc.o1 + r * pc.dim + c];
    }
    o[pc.o0 + c] += acc;
}
