#version 450
// tunebench — elementwise ops over n elements, chosen by pc.mode (TB_EW_* in push.h):
// add, scale, axpy, swiglu forward, dropout forward/backward, bias broadcast. Memory-bound
// and uniform in mode, so one pipeline serves them all.
// Bindings: 0 out (f32, read-write), 1 a (f32; the bias's dtype dt1 for ADD_BIAS), 2 b (f32).
#include "common.glsl"

layout(local_size_x = 256) in;
TB_PUSH(TB_PC_EW)

layout(std430, binding = 0) buffer OutBuf { float o[]; };
layout(std430, binding = 1) readonly buffer ABuf { uint a_words[]; };
layout(std430, binding = 2) readonly buffer BBuf { float b[]; };

float a_at(uint i)
{
    return uintBitsToFloat(a_words[pc.o1 + i]);
}

void main()
{
    uint i = tb_gid();
    if (i >= pc.n)
        return;
    uint oi = pc.o0 + i;
    switch (pc.mode) {
    case TB_EW_ADD:
        o[oi] = a_at(i) + b[pc.o2 + i];
        break;
    case TB_EW_SCALE:
        o[oi] *= pc.alpha;
        break;
    case TB_EW_AXPY:
        o[oi] += pc.alpha * a_at(i);
        break;
    case TB_EW_SWIGLU: {
        float g = a_at(i);
        o[oi] = g / (1.0 + exp(-g)) * b[pc.o2 + i];
        break;
    }
    case TB_EW_DROPOUT:
        o[oi] = pc.p == 0.0 ? a_at(i) : (tb_dropout_keep(pc.seed, i, pc.p) ? a_at(i) / (1.0 - pc.p) : 0.0);
        break;
    case TB_EW_DROPOUT_ACC:
        o[oi] += pc.p == 0.0 ? a_at(i) : (tb_dropout_keep(pc.seed, i, pc.p) ? a_at(i) / (1.0 - pc.p) : 0.0);
        break;
    case TB_EW_ADD_BIAS: {
        uint j = pc.o1 + i % pc.cols;
        o[oi] += TB_LOAD(a_words, pc.dt1, j);
        break;
    }
    }
}
