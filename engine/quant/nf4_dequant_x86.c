/* tunebench — SIMD NF4 dequantization for x86-64 (see nf4_kernels.h).
 *
 * The 16 scaled code values of a block fit one AVX-512 register (two AVX2 registers), so
 * dequantization is a table permute per 16 (8) values: nibbles become permute indices and
 * no per-element multiply is left. The table is code * scale, the very product the scalar
 * path computes, so the results are bit-identical. Compiled with per-function target
 * attributes and chosen at run time, so the build stays generic x86-64. */
#include "engine/quant/nf4_kernels.h"

#include <stddef.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#include "engine/quant/nf4.h"

/* 16 code bytes (32 values) -> the 32 nibbles in element order, as bytes:
 * byte k of the result pair holds hi(k/2) for even k and lo(k/2) for odd k. */
#define NF4_SPLIT(by, lo16, hi16)                                                     \
    do {                                                                              \
        const __m128i m = _mm_set1_epi8(0x0f);                                        \
        __m128i h = _mm_and_si128(_mm_srli_epi16((by), 4), m), l = _mm_and_si128((by), m); \
        (lo16) = _mm_unpacklo_epi8(h, l);                                             \
        (hi16) = _mm_unpackhi_epi8(h, l);                                             \
    } while (0)

__attribute__((target("avx512f"))) static void dequant_avx512(const uint8_t *codes, const float *scales,
                                                              int64_t nblocks, int64_t bs, float *out)
{
    const __m512 code = _mm512_loadu_ps(tb_nf4_code);
    for (int64_t b = 0; b < nblocks; b++) {
        const __m512 table = _mm512_mul_ps(code, _mm512_set1_ps(scales[b]));
        for (int64_t k = 0; k < bs; k += 32) {
            __m128i by = _mm_loadu_si128((const __m128i *)(const void *)(codes + k / 2)), i0, i1;
            NF4_SPLIT(by, i0, i1);
            _mm512_storeu_ps(out + k, _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(i0), table));
            _mm512_storeu_ps(out + k + 16, _mm512_permutexvar_ps(_mm512_cvtepu8_epi32(i1), table));
        }
        codes += bs / 2;
        out += bs;
    }
}

/* 8 values from 8 nibble indices (epi8 in the low half of idx8): two 8-entry permutes and a
 * blend on bit 3 of the index. */
__attribute__((target("avx2"))) static inline __m256 lookup8_avx2(__m128i idx8, __m256 t_lo, __m256 t_hi)
{
    __m256i idx = _mm256_cvtepu8_epi32(idx8);
    __m256 a = _mm256_permutevar8x32_ps(t_lo, idx), b = _mm256_permutevar8x32_ps(t_hi, idx);
    return _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
}

__attribute__((target("avx2"))) static void dequant_avx2(const uint8_t *codes, const float *scales,
                                                         int64_t nblocks, int64_t bs, float *out)
{
    const __m256 c_lo = _mm256_loadu_ps(tb_nf4_code), c_hi = _mm256_loadu_ps(tb_nf4_code + 8);
    for (int64_t b = 0; b < nblocks; b++) {
        const __m256 s = _mm256_set1_ps(scales[b]);
        const __m256 t_lo = _mm256_mul_ps(c_lo, s), t_hi = _mm256_mul_ps(c_hi, s);
        for (int64_t k = 0; k < bs; k += 32) {
            __m128i by = _mm_loadu_si128((const __m128i *)(const void *)(codes + k / 2)), i0, i1;
            NF4_SPLIT(by, i0, i1);
            _mm256_storeu_ps(out + k, lookup8_avx2(i0, t_lo, t_hi));
            _mm256_storeu_ps(out + k + 8, lookup8_avx2(_mm_srli_si128(i0, 8), t_lo, t_hi));
            _mm256_storeu_ps(out + k + 16, lookup8_avx2(i1, t_lo, t_hi));
            _mm256_storeu_ps(out + k + 24, lookup8_avx2(_mm_srli_si128(i1, 8), t_lo, t_hi));
        }
        codes += bs / 2;
        out += bs;
    }
}

tb_nf4_kernel_fn tb_nf4_kernel_avx2(void) { return __builtin_cpu_supports("avx2") ? dequant_avx2 : NULL; }
tb_nf4_kernel_fn tb_nf4_kernel_avx512(void)
{
    return __builtin_cpu_supports("avx512f") ? dequant_avx512 : NULL;
}

#else
tb_nf4_kernel_fn tb_nf4_kernel_avx2(void) { return NULL; }
tb_nf4_kernel_fn tb_nf4_kernel_avx512(void) { return NULL; }
#endif
