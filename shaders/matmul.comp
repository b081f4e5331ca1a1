#version 450
// tunebench — C = alpha * op(A) op(B) + beta * C, tiled through shared memory with a
// TM x TN register block per invocation.
//   -DTRANS_A  A is stored (K,M)       (dW = dout^T x)
//   -DTRANS_B  B is stored (N,K)       (forward y = x W^T; W is (out, in))
//   -DW_F32 / -DW_BF16 / -DW_F16       element type of B, read directly (weights)
//   -DROUND_A  A rounded to bf16 as it is read (backend.h TB_PRECISION_BF16)
// Tile sizes are specialization constants picked per device (vk_pipeline.c).
#include "common.glsl"

layout(constant_id = 0) const uint WG = 256;   // = (BM/TM) * (BN/TN)
layout(constant_id = 1) const uint BM = 64;
layout(constant_id = 2) const uint BN = 64;
layout(constant_id = 3) const uint BK = 16;
layout(constant_id = 4) const uint TM = 4;
layout(constant_id = 5) const uint TN = 4;
layout(local_size_x_id = 0) in;

TB_PUSH(TB_PC_MATMUL)

layout(std430, binding = 0) readonly buffer ABuf { float a[]; };
#if defined(W_BF16) || defined(W_F16)
layout(std430, binding = 1) readonly buffer BBuf { uint b_words[]; };
#else
layout(std430, binding = 1) readonly buffer BBuf { float b_f32[]; };
#endif
layout(std430, binding = 2) buffer CBuf { float c[]; };

float load_a(uint i)
{
#ifdef ROUND_A
    return uintBitsToFloat(tb_f32_to_bf16(a[i]) << 16);
#else
    return a[i];
#endif
}

float load_b(uint i)
{
#if defined(W_BF16)
    return tb_bf16_at(b_words[i >> 1], i & 1u);
#elif defined(W_F16)
    return tb_f16_at(b_words[i >> 1], i & 1u);
#else
    return b_f32[i];
#endif
}

shared float As[BK * BM];   // k-major: As[k*BM + m]
shared float Bs[BK * BN];   // k-major: Bs[k*BN + n]

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint m0 = gl_WorkGroupID.y * BM;
    const uint n0 = gl_WorkGroupID.x * BN;
    const uint tm = (tid / (BN / TN)) * TM;
    const uint tn = (tid % (BN / TN)) * TN;

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; i++)
        acc[i] = 0.0;
    float ra[TM];
    float rb[TN];

    for (uint k0 = 0; k0 < pc.K; k0 += BK) {
        // Consecutive invocations walk the contiguous dimension of each operand.
        for (uint idx = tid; idx < BM * BK; idx += WG) {
#ifdef TRANS_A
            uint mm = idx % BM, kk = idx / BM;
            uint m = m0 + mm, k = k0 + kk;
            As[kk * BM + mm] = (m < pc.M && k < pc.K) ? load_a(pc.oa + k * pc.lda + m) : 0.0;
#else
            uint kk = idx % BK, mm = idx / BK;
            uint m = m0 + mm, k = k0 + kk;
            As[kk * BM + mm] = (m < pc.M && k < pc.K) ? load_a(pc.oa + m * pc.lda + k) : 0.0;
#endif
        }
        for (uint idx = tid; idx < BN * BK; idx += WG) {
#ifdef TRANS_B
            uint kk = idx % BK, nn = idx / BK;
            uint n = n0 + nn, k = k0 + kk;
            Bs[kk * BN + nn] = (n < pc.N && k < pc.K) ? load_b(pc.ob + n * pc.ldb + k) : 0.0;
#else
            uint nn = idx % BN, kk = idx / BN;
            uint n = n0 + nn, k = k0 + kk;
            Bs[kk * BN + nn] = (n < pc.N && k < pc.K) ? load_b(pc.ob + k * pc.ldb + n) : 0.0;
#endif
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            for (uint i = 0; i < TM; i++)
                ra[i] = As[kk * BM + tm + i];
            for (uint j = 0; j < TN; j++)
                rb[j] = Bs[kk * BN + tn + j];
            for (uint i = 0; i < TM; i++)
                for (uint j = 0; j < TN; j++)
                    acc[i * TN + j] = fma(ra[i], rb[j], acc[i * TN + j]);
        }
        barrier();
    }

    for (uint i = 0; i < TM; i++) {
        uint m = m0 + tm + i;
        if (m >= pc.M)
            break;
        for (uint j = 0; j < TN; j++) {
            uint n = n0 + tn + j;
            if (n >= pc.N)
                break;
            uint ci = pc.oc + m * pc.ldc + n;
            float v = pc.alpha * acc[i * TN + j];
            // beta == 0 must not read C: it may hold garbage (NaN) from an earlier use.
            if (pc.beta != 0.0)
                v += pc.beta * c[ci];
            c[ci] = v;
        }
    }
}
