/* tunebench — AVX-512 building blocks of the CPU backend (internal header, x86-64 only):
 * exp, lane masks, and the register tile.
 *
 * The tile: C = alpha A B + beta C on a tile of up to 16 rows by up to 4 vectors of 16 columns:
 * B's row p is loaded as vectors, A(r, p) broadcast to each row's accumulators. A is read
 * through two strides, so the same tile serves A row-major (ars = lda, acs = 1) and A
 * transposed (ars = 1, acs = lda). Shared by the attention kernels (cpu_attn512.c) and the
 * thin matmuls of LoRA (cpu_thin512.c). Callers carry the AVX512 target attribute. */
#ifndef TB_BACKEND_CPU_AVX512_H
#define TB_BACKEND_CPU_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#define INLINE inline __attribute__((always_inline))

/* exp(x) for x in [-100, 88.7]: x = n ln2 + r, |r| <= ln2/2, exp(r) by the Cephes expf
 * polynomial, times 2^n with scalef (which also flushes tiny results to 0). */
AVX512 static INLINE __m512 cpu_exp512(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-100.0f)), _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
    p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

/* sigmoid(x) = 1 / (1 + exp(-x)). */
AVX512 static INLINE __m512 cpu_sigmoid512(__m512 x)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_div_ps(one, _mm512_add_ps(one, cpu_exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

/* Mask of the first n (<= 16) lanes. */
static inline __mmask16 cpu_lanes(int64_t n) { return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1); }

/* C (m <= MR rows ldc apart; NV vectors, the last one masked by `last`) = alpha sum over
 * p in [k0, k1) of A(r, p) B(p, :) + beta C (beta 0: C is not read). A(r, p) = A[r ars +
 * p acs]; B's row p starts at B + p ldb. Rows past m repeat row m - 1 and are not stored,
 * so every read stays inside A. MR and NV are constants once inlined: the accumulators
 * live in registers (MR x NV <= 24 or so of the 32). */
AVX512 static INLINE void cpu_tile512(const int MR, const int NV, int64_t m, __mmask16 last, float *C, int64_t ldc,
                                      const float *A, int64_t ars, int64_t acs, const float *B, int64_t ldb,
                                      int64_t k0, int64_t k1, float alpha, float beta)
{
    __m512 c[16][4];
    const float *a[16];
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        a[r] = A + (r < m ? r : m - 1) * ars;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            c[r][v] = _mm512_setzero_ps();
    }
    for (int64_t p = k0; p < k1; p++) {
        const float *b = B + p * ldb;
        int64_t o = p * acs;
        __m512 bv[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 16
        for (int r = 0; r < MR; r++) {
            __m512 x = _mm512_set1_ps(a[r][o]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++)
                c[r][v] = _mm512_fmadd_ps(x, bv[v], c[r][v]);
        }
    }
    __m512 al = _mm512_set1_ps(alpha), be = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
        if (r >= m)
            break;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            float *cp = C + r * ldc + 16 * v;
            __mmask16 k = v == NV - 1 ? last : 0xffff;
            __m512 x = _mm512_mul_ps(al, c[r][v]);
            if (beta != 0.0f)
                x = _mm512_fmadd_ps(be, _mm512_maskz_loadu_ps(k, cp), x);
            _mm512_mask_storeu_ps(cp, k, x);
        }
    }
}

#endif
