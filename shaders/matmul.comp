#version 450
// tunebench — C = alpha * op(A) op(B) + beta * C, tiled through shared memory with a
// TM x TN register block per invocation.
//   -DTRANS_A  A is stored (K,M)       (dW = dout^T x)
//   -DTRANS_B  B is stored (N,K)       (forward y = x W^T; W is (out, in))
//   -DW_F32 / -DW_BF16 / -DW_F16       element type of B, read directly (weights)
//   -DROUND_A  A rounded to bf16 as it is read (backend.h TB_PRECISION_BF16)
// Tile sizes are specialization constants picked per device (vk_pipeline.c). An invocation
// owns rows ty + i*(BM/TM) and columns tx + j*(BN/TN): neighbours read neighbouring shared
// words (no bank conflicts) and write neighbouring words of C (coalesced).
// Split K (pc.kchunk < K): workgroup z covers K range [z*kchunk, (z+1)*kchunk) and writes
// its raw partial tile to binding 3 at z*M*N (row stride N); splitk_reduce.comp then
// applies alpha and beta. Few output tiles over a long K (LoRA's dA, dB: rank x dim over
// all tokens) thus still fill the device.
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
layout(std430, binding = 3) buffer PartBuf { float part[]; };

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

// k-major tiles, rows padded by 4 words so the transposing stores of a (m, k)-contiguous
// operand spread over all banks.
const uint AS = BM + 4u, BS = BN + 4u;
shared float As[BK * AS];   // As[k*AS + m]
shared float Bs[BK * BS];   // Bs[k*BS + n]

void main()
{
    const uint tid = gl_LocalInvocationID.x;
    const uint m0 = gl_WorkGroupID.y * BM;
    const uint n0 = gl_WorkGroupID.x * BN;
    const uint SM = BM / TM, SN = BN / TN;   // row and column stride of an invocation's block
    const uint ty = tid / SN, tx = tid % SN;
    const uint kbeg = gl_WorkGroupID.z * pc.kchunk, kend = min(pc.K, kbeg + pc.kchunk);

    float acc[TM * TN];
    for (uint i = 0; i < TM * TN; i++)
        acc[i] = 0.0;
    float ra[TM];
    float rb[TN];

    for (uint k0 = kbeg; k0 < kend; k0 += BK) {
        // Consecutive invocations walk the contiguous dimension of each operand.
        for (uint idx = tid; idx < BM * BK; idx += WG) {
#ifdef TRANS_A
            uint mm = idx % BM, kk = idx / BM;
            uint m = m0 + mm, k = k0 + kk;
            As[kk * AS + mm] = (m < pc.M && k < kend) ? load_a(pc.oa + k * pc.lda + m) : 0.0;
#else
            uint kk = idx % BK, mm = idx / BK;
            uint m = m0 + mm, k = k0 + kk;
            As[kk * AS + mm] = (m < pc.M && k < kend) ? load_a(pc.oa + m * pc.lda + k) : 0.0;
#endif
        }
        for (uint idx = tid; idx < BN * BK; idx += WG) {
#ifdef TRANS_B
            uint kk = idx % BK, nn = idx / BK;
            uint n = n0 + nn, k = k0 + kk;
            Bs[kk * BS + nn] = (n < pc.N && k < kend) ? load_b(pc.ob + n * pc.ldb + k) : 0.0;
#else
            uint nn = idx % BN, kk = idx / BN;
            uint n = n0 + nn, k = k0 + kk;
            Bs[kk * BS + nn] = (n < pc.N && k < kend) ? load_b(pc.ob + k * pc.ldb + n) : 0.0;
#endif
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            for (uint i = 0; i < TM; i++)
                ra[i] = As[kk * AS + ty + i * SM];
            for (uint j = 0; j < TN; j++)
                rb[j] = Bs[kk * BS + tx + j * SN];
            for (uint i = 0; i < TM; i++)
                for (uint j = 0; j < TN; j++)
                    acc[i * TN + j] = fma(ra[i], rb[j], acc[i * TN + j]);
        }
        barrier();
    }

    for (uint i = 0; i < TM; i++) {
        uint m = m0 + ty + i * SM;
        if (m >= pc.M)
            break;
        for (uint j = 0; j < TN; j++) {
            uint n = n0 + tx + j * SN;
            if (n >= pc.N)
                break;
            if (pc.kchunk < pc.K) {
                part[gl_WorkGroupID.z * pc.M * pc.N + m * pc.N + n] = acc[i * TN + j];
                continue;
            }
            uint ci = pc.oc + m * pc.ldc + n;
            float v = pc.alpha * acc[i * TN + j];
            // beta == 0 must not read C: it may hold garbage (NaN) from an earlier use.
            if (pc.beta != 0.0)
                v += pc.beta * c[ci];
            c[ci] = v;
        }
    }
}
