#version 450
// tunebench — token embedding, table (V, D) of dtype dtw, ids (N) I32 (pc.limit = V):
//   TB_EMB_FWD  out (0) (N, D) = table (1)[ids (2)]    one invocation per element
//   TB_EMB_BWD  dtable (0) (V, D) += dout (1) rows scattered by ids (2): one invocation
//               per column walking the rows in order, so repeated ids never race.
// An id outside [0, V) reads zeros and scatters nowhere.
#include "common.glsl"

layout(local_size_x = 64) in;
TB_PUSH(TB_PC_ROWS)

layout(std430, binding = 0) buffer Out { float o[]; };
layout(std430, binding = 1) readonly buffer Src { uint src[]; };
layout(std430, binding = 2) readonly buffer Ids { int ids[]; };

void main()
{
    uint D = pc.dim;
    if (pc.mode == TB_EMB_FWD) {
        uint e = tb_gid();
        if (e >= pc.rows * D)
            return;
        uint row = e / D, d = e % D;
        int id = ids[pc.o2 + row];
        o[pc.o0 + e] = (id >= 0 && uint(id) < pc.limit) ? TB_LOAD(src, pc.dtw, pc.o1 + uint(id) * D + d) : 0.0;
    } else {
        uint d = tb_gid();
        if (d >= D)
            return;
        for (uint row = 0u; row < pc.rows; row++) {
            int id = ids[pc.o2 + row];
            if (id >= 0 && uint(id) < pc.limit)
                o[pc.o0 + uint(id) * D + d] += uintBitsToFloat(src[pc.o1 + row * D + d]);
        }
    }
}
