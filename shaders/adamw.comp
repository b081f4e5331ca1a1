#version 450
// tunebench — AdamW (decoupled weight decay, bias-corrected), one invocation per parameter:
//   g = grad * gscale; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//   param -= lr * (m / bc1 / (sqrt(v / bc2) + eps) + wd * param)
// gscale is a device scalar (clip factor) when has_gscale, so clipping needs no readback.
#include "common.glsl"

layout(local_size_x = 256) in;
TB_PUSH(TB_PC_ADAMW)

layout(std430, binding = 0) buffer Param { float param[]; };
layout(std430, binding = 1) readonly buffer Grad { float grad[]; };
layout(std430, binding = 2) buffer M { float mom1[]; };
layout(std430, binding = 3) buffer V { float mom2[]; };
layout(std430, binding = 4) readonly buffer GScale { float gscale[]; };

void main()
{
    uint i = tb_gid();
    if (i >= pc.n)
        return;
    float g = grad[pc.og + i];
    if (pc.has_gscale != 0u)
        g *= gscale[pc.ogs];
    float m = pc.beta1 * mom1[pc.om + i] + (1.0 - pc.beta1) * g;
    float v = pc.beta2 * mom2[pc.ov + i] + (1.0 - pc.beta2) * g * g;
    mom1[pc.om + i] = m;
    mom2[pc.ov + i] = v;
    float p = param[pc.op + i];
    param[pc.op + i] = p - pc.lr * (m / pc.bc1 / (sqrt(v / pc.bc2) + pc.eps) + pc.weight_decay * p);
}
