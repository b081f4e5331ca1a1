/* tunebench — the inner loops of the CPU layer ops (RMSNorm, SwiGLU, RoPE), one row or
 * span at a time: AVX-512 when the CPU has it, portable C otherwise (the fallback and the
 * oracle). Each pass reads its inputs once and loads a vector's inputs before storing, so
 * outputs may alias inputs element for element, as the op table allows. */
#include <math.h>

#include "engine/backend/cpu/cpu_internal.h"

#if CPU_X86
#include "engine/backend/cpu/cpu_avx512.h"
#endif

/* ------------------------------------------------------------------ portable */

static void norm_apply_c(float *o, const float *x, const float *w, float r, size_t n)
{
    for (size_t j = 0; j < n; j++)
        o[j] = w[j] * (x[j] * r);
}

static float dot3_c(const float *a, const float *b, const float *c, size_t n)
{
    float s = 0;
    for (size_t j = 0; j < n; j++)
        s += a[j] * b[j] * c[j];
    return s;
}

static void norm_grad_c(float *dx, float *part, const float *dy, const float *w, const float *x, float r, float mean,
                        size_t n)
{
    for (size_t j = 0; j < n; j++) {
        float xh = x[j] * r;
        dx[j] += r * (dy[j] * w[j] - xh * mean);
        if (part)
            part[j] += dy[j] * xh;
    }
}

static float sig_c(float g) { return 1.0f / (1.0f + expf(-g)); }

static void swiglu_c(float *o, const float *g, const float *u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o[i] = g[i] * sig_c(g[i]) * u[i];
}

static void swiglu_grad_c(float *dg, float *du, const float *d, const float *g, const float *u, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i], ui = u[i], di = d[i], s = sig_c(gi);
        dg[i] = di * ui * s * (1.0f + gi * (1.0f - s));
        du[i] = di * gi * s;
    }
}

static void rope_c(float *v, const float *c, const float *s, float sign, size_t half)
{
    for (size_t j = 0; j < half; j++) {
        float x1 = v[j], x2 = v[j + half], co = c[j], si = sign * s[j];
        v[j] = x1 * co - x2 * si;
        v[j + half] = x2 * co + x1 * si;
    }
}

/* ------------------------------------------------------------------ AVX-512 */
#if CPU_X86
/* Loop over n in vectors; the last one masked. */
#define SPAN(n) for (size_t j = 0; j < (n); j += 16)
#define MASK(n) cpu_lanes((int64_t)((n) - j))

AVX512 static void norm_apply_512(float *o, const float *x, const float *w, float r, size_t n)
{
    __m512 rv = _mm512_set1_ps(r);
    SPAN(n) {
        __mmask16 k = MASK(n);
        __m512 xv = _mm512_maskz_loadu_ps(k, x + j), wv = _mm512_maskz_loadu_ps(k, w + j);
        _mm512_mask_storeu_ps(o + j, k, _mm512_mul_ps(wv, _mm512_mul_ps(xv, rv)));
    }
}

AVX512 static float dot3_512(const float *a, const float *b, const float *c, size_t n)
{
    __m512 s = _mm512_setzero_ps();
    SPAN(n) {
        __mmask16 k = MASK(n);
        __m512 ab = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, a + j), _mm512_maskz_loadu_ps(k, b + j));
        s = _mm512_fmadd_ps(ab, _mm512_maskz_loadu_ps(k, c + j), s);
    }
    return _mm512_reduce_add_ps(s);
}

AVX512 static void norm_grad_512(float *dx, float *part, const float *dy, const float *w, const float *x, float r,
                                 float mean, size_t n)
{
    __m512 rv = _mm512_set1_ps(r), mv = _mm512_set1_ps(mean);
    SPAN(n) {
        __mmask16 k = MASK(n);
        __m512 xh = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, x + j), rv), d = _mm512_maskz_loadu_ps(k, dy + j);
        __m512 g = _mm512_sub_ps(_mm512_mul_ps(d, _mm512_maskz_loadu_ps(k, w + j)), _mm512_mul_ps(xh, mv));
        _mm512_mask_storeu_ps(dx + j, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, dx + j), _mm512_mul_ps(rv, g)));
        if (part)
            _mm512_mask_storeu_ps(part + j, k, _mm512_add_ps(_mm512_maskz_loadu_ps(k, part + j), _mm512_mul_ps(d, xh)));
    }
}

AVX512 static void swiglu_512(float *o, const float *g, const float *u, size_t n)
{
    SPAN(n) {
        __mmask16 k = MASK(n);
        __m512 gv = _mm512_maskz_loadu_ps(k, g + j), uv = _mm512_maskz_loadu_ps(k, u + j);
        _mm512_mask_storeu_ps(o + j, k, _mm512_mul_ps(_mm512_mul_ps(gv, cpu_sigmoid512(gv)), uv));
    }
}

AVX512 static void swiglu_grad_512(float *dg, float *du, const float *d, const float *g, const float *u, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    SPAN(n) {
        __mmask16 k = MASK(n);
        __m512 gv = _mm512_maskz_loadu_ps(k, g + j), uv = _mm512_maskz_loadu_ps(k, u + j);
        __m512 dv = _mm512_maskz_loadu_ps(k, d + j), s = cpu_sigmoid512(gv);
        __m512 dsu = _mm512_mul_ps(_mm512_mul_ps(dv, uv), s);
        __m512 dgv = _mm512_mul_ps(dsu, _mm512_add_ps(one, _mm512_mul_ps(gv, _mm512_sub_ps(one, s))));
        _mm512_mask_storeu_ps(du + j, k, _mm512_mul_ps(_mm512_mul_ps(dv, gv), s));
        _mm512_mask_storeu_ps(dg + j, k, dgv);
    }
}

AVX512 static void rope_512(float *v, const float *c, const float *s, float sign, size_t half)
{
    __m512 sg = _mm512_set1_ps(sign);
    SPAN(half) {
        __mmask16 k = MASK(half);
        __m512 x1 = _mm512_maskz_loadu_ps(k, v + j), x2 = _mm512_maskz_loadu_ps(k, v + j + half);
        __m512 co = _mm512_maskz_loadu_ps(k, c + j), si = _mm512_mul_ps(sg, _mm512_maskz_loadu_ps(k, s + j));
        _mm512_mask_storeu_ps(v + j, k, _mm512_sub_ps(_mm512_mul_ps(x1, co), _mm512_mul_ps(x2, si)));
        _mm512_mask_storeu_ps(v + j + half, k, _mm512_add_ps(_mm512_mul_ps(x2, co), _mm512_mul_ps(x1, si)));
    }
}
#define PICK(f512, fc) (cpu_have_avx512() ? f512 : fc)
#else
#define PICK(f512, fc) (fc)
#endif

/* ------------------------------------------------------------------ dispatch */

void cpu_row_norm_apply(float *o, const float *x, const float *w, float r, size_t n)
{
    PICK(norm_apply_512, norm_apply_c)(o, x, w, r, n);
}

float cpu_row_dot3(const float *a, const float *b, const float *c, size_t n)
{
    return PICK(dot3_512, dot3_c)(a, b, c, n);
}

void cpu_row_norm_grad(float *dx, float *part, const float *dy, const float *w, const float *x, float r, float mean,
                       size_t n)
{
    PICK(norm_grad_512, norm_grad_c)(dx, part, dy, w, x, r, mean, n);
}

void cpu_span_swiglu(float *o, const float *g, const float *u, size_t n) { PICK(swiglu_512, swiglu_c)(o, g, u, n); }

void cpu_span_swiglu_grad(float *dg, float *du, const float *d, const float *g, const float *u, size_t n)
{
    PICK(swiglu_grad_512, swiglu_grad_c)(dg, du, d, g, u, n);
}

void cpu_row_rope(float *v, const float *c, const float *s, float sign, size_t half)
{
    PICK(rope_512, rope_c)(v, c, s, sign, half);
}
