/* tunebench — CPU inner kernels: widening bf16/f16, dot products, exp for softmax.
 *
 * The build targets baseline x86-64 (no -march), so the AVX-512 versions carry a target
 * attribute and are chosen at run time; the portable versions are the fallback and the
 * oracle. No -ffast-math (STYLE.md): sums keep a fixed order for a given n. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/cpu/cpu_internal.h"

#if CPU_X86
#include "engine/backend/cpu/cpu_avx512.h"
#endif

static bool have_avx512(void)
{
#if CPU_X86
    static int cached = -1;
    if (cached < 0) {
        /* TUNEBENCH_CPU_ISA=portable runs the fallback kernels on an AVX-512 machine, so the
         * suite can be checked as a CPU without AVX-512 would run it. */
        const char *isa = getenv("TUNEBENCH_CPU_ISA");
        cached = !(isa && strcmp(isa, "portable") == 0) && __builtin_cpu_supports("avx512f") &&
                 __builtin_cpu_supports("avx512bw");
    }
    return cached;
#else
    return false;
#endif
}

bool cpu_have_avx512(void) { return have_avx512(); }

/* ------------------------------------------------------------------ portable */

static void widen_c(float *dst, const void *src, tb_dtype t, size_t n) { tb_convert_to_f32(dst, src, t, n); }

static float dot_c(const float *a, const void *b, tb_dtype t, size_t n)
{
    float s[4] = {0, 0, 0, 0};
    const float *bf = b;
    const uint16_t *bh = b;
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++)
            s[k] += a[i + k] * (t == TB_DTYPE_F32 ? bf[i + k]
                                : t == TB_DTYPE_BF16 ? tb_bf16_to_f32(bh[i + k]) : tb_f16_to_f32(bh[i + k]));
    float r = (s[0] + s[1]) + (s[2] + s[3]);
    for (; i < n; i++)
        r += a[i] * (t == TB_DTYPE_F32 ? bf[i] : t == TB_DTYPE_BF16 ? tb_bf16_to_f32(bh[i]) : tb_f16_to_f32(bh[i]));
    return r;
}

static float exp_shift_sum_c(float *x, size_t n, float shift)
{
    float s = 0;
    for (size_t i = 0; i < n; i++)
        s += (x[i] = expf(x[i] - shift));
    return s;
}

static float max_c(const float *x, size_t n)
{
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++)
        m = x[i] > m ? x[i] : m;
    return m;
}

static void prob_grad_c(float *p, float *dp, size_t valid, size_t n, float lse, float di)
{
    for (size_t j = 0; j < valid; j++) {
        p[j] = expf(p[j] - lse);
        dp[j] = p[j] * (dp[j] - di);
    }
    memset(p + valid, 0, (n - valid) * sizeof(float));
    memset(dp + valid, 0, (n - valid) * sizeof(float));
}

/* ------------------------------------------------------------------ AVX-512 */
#if CPU_X86

AVX512 static inline __m512 load16(const void *p, tb_dtype t)
{
    if (t == TB_DTYPE_F32)
        return _mm512_loadu_ps(p);
    __m256i h = _mm256_loadu_si256((const __m256i *)p);
    if (t == TB_DTYPE_F16)
        return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

AVX512 static void widen_512(float *dst, const void *src, tb_dtype t, size_t n)
{
    size_t es = tb_dtype_size(t), i = 0;
    const char *s = src;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i, load16(s + i * es, t));
    widen_c(dst + i, s + i * es, t, n - i);
}

AVX512 static float dot_512(const float *a, const void *b, tb_dtype t, size_t n)
{
    size_t es = tb_dtype_size(t), i = 0;
    const char *bb = b;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load16(bb + i * es, t), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load16(bb + (i + 16) * es, t), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), load16(bb + (i + 32) * es, t), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), load16(bb + (i + 48) * es, t), s3);
    }
    for (; i + 16 <= n; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load16(bb + i * es, t), s0);
    float r = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    return r + dot_c(a + i, bb + i * es, t, n - i);
}

AVX512 static float exp_shift_sum_512(float *x, size_t n, float shift)
{
    __m512 sh = _mm512_set1_ps(shift), s = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 e = cpu_exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), sh));
        _mm512_storeu_ps(x + i, e);
        s = _mm512_add_ps(s, e);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = cpu_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), sh));
        _mm512_mask_storeu_ps(x + i, m, e);
        s = _mm512_add_ps(s, _mm512_maskz_mov_ps(m, e));
    }
    return _mm512_reduce_add_ps(s);
}

AVX512 static void prob_grad_512(float *p, float *dp, size_t valid, size_t n, float lse, float di)
{
    __m512 l = _mm512_set1_ps(lse), d = _mm512_set1_ps(di);
    size_t j = 0;
    for (; j < n; j += 16) {
        __mmask16 in = (__mmask16)(j >= valid ? 0 : valid - j >= 16 ? 0xffff : (1u << (valid - j)) - 1);
        __mmask16 all = (__mmask16)(n - j >= 16 ? 0xffff : (1u << (n - j)) - 1);
        __m512 e = _mm512_maskz_mov_ps(in, cpu_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(in, p + j), l)));
        __m512 g = _mm512_mul_ps(e, _mm512_sub_ps(_mm512_maskz_loadu_ps(in, dp + j), d));
        _mm512_mask_storeu_ps(p + j, all, e);
        _mm512_mask_storeu_ps(dp + j, all, _mm512_maskz_mov_ps(in, g));
    }
}

AVX512 static float max_512(const float *x, size_t n)
{
    __m512 m = _mm512_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        m = _mm512_max_ps(m, _mm512_loadu_ps(x + i));
    float r = _mm512_reduce_max_ps(m), t = max_c(x + i, n - i);
    return t > r ? t : r;
}

AVX512 static void narrow_bf16_512(uint16_t *dst, const float *src, size_t n)
{
    size_t i = 0;
    const __m512i bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1);
    for (; i + 16 <= n; i += 16) {
        __m512i u = _mm512_castps_si512(_mm512_loadu_ps(src + i));
        __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
        u = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(bias, odd)), 16);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtepi32_epi16(u));
    }
    for (; i < n; i++)
        dst[i] = tb_f32_to_bf16(src[i]);
}
#endif

/* ------------------------------------------------------------------ dispatch */

void cpu_widen(float *dst, const void *src, tb_dtype t, size_t n)
{
#if CPU_X86
    if (have_avx512()) {
        widen_512(dst, src, t, n);
        return;
    }
#endif
    widen_c(dst, src, t, n);
}

float cpu_dot(const float *a, const void *b, tb_dtype t, size_t n)
{
#if CPU_X86
    if (have_avx512())
        return dot_512(a, b, t, n);
#endif
    return dot_c(a, b, t, n);
}

float cpu_exp_shift_sum(float *x, size_t n, float shift)
{
#if CPU_X86
    if (have_avx512())
        return exp_shift_sum_512(x, n, shift);
#endif
    return exp_shift_sum_c(x, n, shift);
}

float cpu_max(const float *x, size_t n)
{
#if CPU_X86
    if (have_avx512())
        return max_512(x, n);
#endif
    return max_c(x, n);
}

void cpu_attn_prob_grad(float *p, float *dp, size_t valid, size_t n, float lse, float di)
{
#if CPU_X86
    if (have_avx512()) {
        prob_grad_512(p, dp, valid, n, lse, di);
        return;
    }
#endif
    prob_grad_c(p, dp, valid, n, lse, di);
}

#if CPU_X86
AVX512 static void stream_512(float *dst, const float *src, size_t n)
{
    for (size_t i = 0; i < n; i += 16)
        _mm512_stream_ps(dst + i, _mm512_loadu_ps(src + i));
    _mm_sfence();
}
#endif

void cpu_stream_copy(float *dst, const float *src, size_t n)
{
#if CPU_X86
    if (have_avx512() && ((uintptr_t)dst & 63) == 0 && n % 16 == 0) {
        stream_512(dst, src, n);
        return;
    }
#endif
    memcpy(dst, src, n * sizeof(float));
}

void cpu_narrow_bf16(uint16_t *dst, const float *src, size_t n)
{
#if CPU_X86
    if (have_avx512()) {
        narrow_bf16_512(dst, src, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        dst[i] = tb_f32_to_bf16(src[i]);
}
