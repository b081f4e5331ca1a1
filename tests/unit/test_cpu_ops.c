/* CPU backend ops against independent oracles: naive double-precision loops for the
 * forwards, finite differences for the backwards, the adjoint identity for RoPE. Case
 * names carry their shapes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/backend.h"
#include "tb_config.h"

/* The oracles compute in double from f32 inputs on purpose. */
#pragma GCC diagnostic ignored "-Wdouble-promotion"

static tb_backend *be;      /* F32 precision */
static tb_backend *be_bf16; /* BF16 precision (oneDNN when built with it) */
static uint64_t rng = 88172645463325252ull;

static float frand(void) /* uniform [-1, 1) */
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 4503599627370496.0)) - 1.0f;
}

static float *rnd(size_t n, float scale)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = scale * frand();
    return p;
}

/* A buffer of dtype t holding f (converted); f32 values of what was stored go back in f. */
static tb_buf *mk_on(tb_backend *b, tb_dtype t, size_t n, float *f)
{
    tb_buf *buf;
    tb_error err;
    assert_int_equal(b->ops->buf_alloc(b, &buf, t, n, TB_MEM_SCRATCH, &err), TB_OK);
    if (f) {
        if (t == TB_DTYPE_F32 || t == TB_DTYPE_I32) {
            b->ops->upload(b, tb_view_of(buf), f, n);
        } else {
            uint16_t *h = malloc(n * 2);
            tb_convert_from_f32(h, t, f, n);
            tb_convert_to_f32(f, h, t, n);
            b->ops->upload(b, tb_view_of(buf), h, n);
            free(h);
        }
    }
    return buf;
}
static tb_buf *mk(tb_dtype t, size_t n, float *f) { return mk_on(be, t, n, f); }

static float *get(tb_buf *b, size_t n)
{
    float *p = malloc(n * sizeof *p);
    tb_error err;
    assert_int_equal(be->ops->download(b->be, p, tb_view_of(b), n, &err), TB_OK);
    return p;
}

static void drop(tb_buf *b) { b->be->ops->buf_free(b->be, b); }

static void close_all(const char *what, const float *got, const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= tol * (1.0 + fabs(want[i]))))
            fail_msg("%s: element %zu: got %.7g want %.7g", what, i, (double)got[i], want[i]);
    }
}

/* ------------------------------------------------------------------ matmul */

static void matmul_case(tb_backend *b, int64_t M, int64_t N, int64_t K, int flags, tb_dtype bt, float alpha,
                        float beta, double tol)
{
    char name[128];
    snprintf(name, sizeof name, "matmul/%s M=%lld N=%lld K=%lld ta=%d tb=%d %s a=%g b=%g", b == be ? "f32" : "bf16",
             (long long)M, (long long)N, (long long)K, !!(flags & TB_MM_TRANS_A), !!(flags & TB_MM_TRANS_B),
             tb_dtype_name(bt), (double)alpha, (double)beta);
    float *A = rnd((size_t)(M * K), 1), *Bm = rnd((size_t)(N * K), 1), *C = rnd((size_t)(M * N), 1);
    tb_buf *ab = mk_on(b, TB_DTYPE_F32, (size_t)(M * K), A), *bb = mk_on(b, bt, (size_t)(N * K), Bm),
           *cb = mk_on(b, TB_DTYPE_F32, (size_t)(M * N), C);
    /* offsets exercise views: compute into the buffers from element 0 */
    b->ops->matmul(b, tb_view_of(cb), tb_view_of(ab), tb_wdense(tb_view_of(bb)), M, N, K, flags, alpha, beta);
    double *want = calloc((size_t)(M * N), sizeof *want), *mags = calloc((size_t)(M * N), sizeof *mags);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0, mag = 0;
            for (int64_t k = 0; k < K; k++) {
                double a = (flags & TB_MM_TRANS_A) ? A[k * M + i] : A[i * K + k];
                double bv = (flags & TB_MM_TRANS_B) ? Bm[j * K + k] : Bm[k * N + j];
                s += a * bv;
                mag += fabs(a * bv);
            }
            want[i * N + j] = alpha * s + (beta != 0.0f ? beta * (double)C[i * N + j] : 0.0);
            mags[i * N + j] = fabs(alpha) * mag + fabs(beta * (double)C[i * N + j]);
        }
    float *got = get(cb, (size_t)(M * N));
    /* rounding error is relative to the sum of |products|, not to the (cancelling) result */
    for (int64_t i = 0; i < M * N; i++)
        if (!(fabs(got[i] - want[i]) <= tol * mags[i] + 1e-30))
            fail_msg("%s: element %lld: got %.7g want %.7g (sum |products| %.4g)", name, (long long)i, got[i],
                     want[i], mags[i]);
    free(A), free(Bm), free(C), free(want), free(mags), free(got);
    drop(ab), drop(bb), drop(cb);
}

static void test_matmul(void **state)
{
    (void)state;
    /* small-M path, tiny, odd, row-split / tall, wide; the last has several weight panels;
     * then LoRA-thin ones (a side <= 32: the AVX-512 thin path where the CPU has it), over
     * the threading threshold, with a rank that is not a whole vector; a tall one split by
     * rows (oneDNN f32 for x W^T where built with it) */
    static const int64_t shapes[][3] = {{1, 37, 29}, {3, 50, 64}, {37, 50, 29}, {300, 70, 130}, {65, 600, 16},
                                        {20, 300, 1000}, {2000, 16, 100}, {16, 200, 1000}, {700, 8, 300},
                                        {900, 130, 24}, {1100, 96, 70}};
    enum { NS = sizeof shapes / sizeof shapes[0] };
    static const tb_dtype dts[] = {TB_DTYPE_F32, TB_DTYPE_BF16, TB_DTYPE_F16};
    for (size_t s = 0; s < NS; s++)
        for (int flags = 0; flags < 4; flags++)
            for (size_t d = 0; d < 3; d++)
                matmul_case(be, shapes[s][0], shapes[s][1], shapes[s][2], flags, dts[d], s % 2 ? 0.5f : 1.0f,
                            s == 2 || s == 7 ? 1.0f : 0.0f, 1e-6);
    /* BF16 precision: A is rounded to bf16 too (2^-8 relative per product). */
    for (size_t s = 0; s < NS; s++)
        for (int flags = 0; flags < 4; flags++)
            matmul_case(be_bf16, shapes[s][0], shapes[s][1], shapes[s][2], flags, TB_DTYPE_BF16, s % 2 ? 0.5f : 1.0f,
                        s == 3 ? 1.0f : 0.0f, 4e-3);
    /* a large C written from scratch (oneDNN into thread scratch, streamed out) */
    matmul_case(be, 1050, 1008, 80, TB_MM_TRANS_B, TB_DTYPE_F32, 1.0f, 0.0f, 1e-6);
    matmul_case(be_bf16, 1050, 1008, 80, TB_MM_TRANS_B, TB_DTYPE_BF16, 1.0f, 0.0f, 4e-3);
    /* TB_MM_SAME_A: a second product of the same A (bf16 precision keeps A's bf16 copy) */
    for (int pass = 0; pass < 2; pass++) {
        tb_backend *b = pass ? be_bf16 : be;
        int64_t M = 300, K = 70, N1 = 50, N2 = 90;
        float *A = rnd((size_t)(M * K), 1), *B1 = rnd((size_t)(N1 * K), 1), *B2 = rnd((size_t)(N2 * K), 1);
        tb_buf *ab = mk_on(b, TB_DTYPE_F32, (size_t)(M * K), A), *b1 = mk_on(b, TB_DTYPE_BF16, (size_t)(N1 * K), B1),
               *b2 = mk_on(b, TB_DTYPE_BF16, (size_t)(N2 * K), B2), *c1 = mk_on(b, TB_DTYPE_F32, (size_t)(M * N1), NULL),
               *c2 = mk_on(b, TB_DTYPE_F32, (size_t)(M * N2), NULL), *c3 = mk_on(b, TB_DTYPE_F32, (size_t)(M * N2), NULL);
        b->ops->matmul(b, tb_view_of(c1), tb_view_of(ab), tb_wdense(tb_view_of(b1)), M, N1, K, TB_MM_TRANS_B, 1, 0);
        /* another A of the same shape in between: the hint names A's view, not "the last A" */
        b->ops->matmul(b, tb_view_of(c3), tb_view_of(c1), tb_wdense(tb_view_of(b2)), M, N2, N1 < K ? N1 : K,
                       TB_MM_TRANS_B, 1, 0);
        b->ops->matmul(b, tb_view_of(c2), tb_view_of(ab), tb_wdense(tb_view_of(b2)), M, N2, K,
                       TB_MM_TRANS_B | TB_MM_SAME_A, 1, 0);
        b->ops->matmul(b, tb_view_of(c3), tb_view_of(ab), tb_wdense(tb_view_of(b2)), M, N2, K, TB_MM_TRANS_B, 1, 0);
        float *g2 = get(c2, (size_t)(M * N2)), *g3 = get(c3, (size_t)(M * N2));
        assert_memory_equal(g2, g3, (size_t)(M * N2) * sizeof(float)); /* the hint changes nothing */
        double *want = calloc((size_t)(M * N2), sizeof *want);
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N2; j++)
                for (int64_t k = 0; k < K; k++)
                    want[i * N2 + j] += (double)A[i * K + k] * B2[j * K + k];
        close_all(pass ? "matmul/same-A bf16 M=300 N=90 K=70" : "matmul/same-A f32 M=300 N=90 K=70", g2, want,
                  (size_t)(M * N2), pass ? 0.05 : 1e-5);
        free(A), free(B1), free(B2), free(g2), free(g3), free(want);
        drop(ab), drop(b1), drop(b2), drop(c1), drop(c2), drop(c3);
    }
    /* beta = 0 ignores NaN in C */
    float nan = NAN, one = 1, two = 2;
    tb_buf *c = mk(TB_DTYPE_F32, 1, &nan), *a = mk(TB_DTYPE_F32, 1, &one), *bb = mk(TB_DTYPE_F32, 1, &two);
    be->ops->matmul(be, tb_view_of(c), tb_view_of(a), tb_wdense(tb_view_of(bb)), 1, 1, 1, TB_MM_TRANS_B, 1, 0);
    float *g = get(c, 1);
    assert_true(g[0] == 2.0f);
    free(g);
    drop(c), drop(a), drop(bb);
    /* NF4 weights: tests/unit/test_qlora.c */
}

/* ------------------------------------------------------------------ finite differences */

/* L = sum G * f(x) over `outs` outputs; the op under test writes dx. Checks `probes`
 * random coordinates of x against (L(x+e) - L(x-e)) / 2e, all in double from f32 runs. */
typedef void (*fwd_fn)(void *ctx, tb_buf *x, tb_buf *out);

static double loss_of(fwd_fn f, void *ctx, tb_buf *x, tb_buf *out, const float *G, size_t nout)
{
    f(ctx, x, out);
    float *o = get(out, nout);
    double s = 0;
    for (size_t i = 0; i < nout; i++)
        s += (double)G[i] * (double)o[i];
    free(o);
    return s;
}

static void fd_check(const char *name, fwd_fn f, void *ctx, float *xh, size_t nx, size_t nout, const float *G,
                     const float *dx, int probes, double tol)
{
    tb_buf *x = mk(TB_DTYPE_F32, nx, xh), *out = mk(TB_DTYPE_F32, nout, NULL);
    for (int p = 0; p < probes; p++) {
        size_t i = (size_t)((frand() + 1.0f) * 0.5f * (float)nx) % nx;
        float keep = xh[i], e = 1e-2f * (1.0f + fabsf(keep));
        xh[i] = keep + e;
        be->ops->upload(be, tb_view_at(tb_view_of(x), i), &xh[i], 1);
        double lp = loss_of(f, ctx, x, out, G, nout);
        xh[i] = keep - e;
        be->ops->upload(be, tb_view_at(tb_view_of(x), i), &xh[i], 1);
        double lm = loss_of(f, ctx, x, out, G, nout);
        xh[i] = keep;
        be->ops->upload(be, tb_view_at(tb_view_of(x), i), &xh[i], 1);
        double num = (lp - lm) / (2.0 * (double)e);
        if (fabs(num - (double)dx[i]) > tol * (1.0 + fabs(num)))
            fail_msg("%s: d/dx[%zu]: analytic %.6g, finite difference %.6g", name, i, (double)dx[i], num);
    }
    drop(x), drop(out);
}

/* ------------------------------------------------------------------ rmsnorm */

typedef struct norm_ctx { tb_buf *w; int64_t N, D; } norm_ctx;
static void norm_fwd(void *c, tb_buf *x, tb_buf *out)
{
    norm_ctx *n = c;
    be->ops->rmsnorm_forward(be, tb_view_of(out), TB_VIEW_NONE, tb_view_of(x), tb_view_of(n->w), n->N, n->D, 1e-5f);
}
typedef struct normw_ctx { tb_buf *x; int64_t N, D; } normw_ctx;
static void normw_fwd(void *c, tb_buf *w, tb_buf *out)
{
    normw_ctx *n = c;
    be->ops->rmsnorm_forward(be, tb_view_of(out), TB_VIEW_NONE, tb_view_of(n->x), tb_view_of(w), n->N, n->D, 1e-5f);
}

static void test_rmsnorm(void **state)
{
    (void)state;
    int64_t N = 5, D = 33;
    float *x = rnd((size_t)(N * D), 2), *w = rnd((size_t)D, 1), *G = rnd((size_t)(N * D), 1);
    for (tb_dtype wt = TB_DTYPE_F32; wt <= TB_DTYPE_BF16; wt++) {
        float *wc = malloc((size_t)D * sizeof *wc);
        memcpy(wc, w, (size_t)D * sizeof *wc);
        tb_buf *xb = mk(TB_DTYPE_F32, (size_t)(N * D), x), *wb = mk(wt, (size_t)D, wc),
               *ob = mk(TB_DTYPE_F32, (size_t)(N * D), NULL), *rb = mk(TB_DTYPE_F32, (size_t)N, NULL);
        be->ops->rmsnorm_forward(be, tb_view_of(ob), tb_view_of(rb), tb_view_of(xb), tb_view_of(wb), N, D, 1e-5f);
        double *want = malloc((size_t)(N * D) * sizeof *want);
        for (int64_t i = 0; i < N; i++) {
            double ss = 0;
            for (int64_t j = 0; j < D; j++)
                ss += (double)x[i * D + j] * x[i * D + j];
            double r = 1.0 / sqrt(ss / (double)D + 1e-5);
            for (int64_t j = 0; j < D; j++)
                want[i * D + j] = (double)wc[j] * x[i * D + j] * r;
        }
        float *got = get(ob, (size_t)(N * D));
        char name[64];
        snprintf(name, sizeof name, "rmsnorm_fwd/N=5,D=33,weight %s", tb_dtype_name(wt));
        close_all(name, got, want, (size_t)(N * D), 1e-6);
        free(got), free(want);
        if (wt == TB_DTYPE_F32) { /* backward: dx accumulates onto existing values, dw too */
            tb_buf *gb = mk(TB_DTYPE_F32, (size_t)(N * D), G), *dxb = mk(TB_DTYPE_F32, (size_t)(N * D), NULL),
                   *dwb = mk(TB_DTYPE_F32, (size_t)D, NULL);
            be->ops->fill(be, tb_view_of(dxb), 0.5f, (size_t)(N * D));
            be->ops->fill(be, tb_view_of(dwb), 0.25f, (size_t)D);
            be->ops->rmsnorm_backward(be, tb_view_of(dxb), tb_view_of(dwb), tb_view_of(gb), tb_view_of(xb),
                                      tb_view_of(wb), tb_view_of(rb), N, D);
            float *dx = get(dxb, (size_t)(N * D)), *dw = get(dwb, (size_t)D);
            for (int64_t i = 0; i < N * D; i++)
                dx[i] -= 0.5f;
            for (int64_t i = 0; i < D; i++)
                dw[i] -= 0.25f;
            norm_ctx c = {wb, N, D};
            fd_check("rmsnorm_back/dx N=5,D=33", norm_fwd, &c, x, (size_t)(N * D), (size_t)(N * D), G, dx, 30, 2e-3);
            normw_ctx cw = {xb, N, D};
            fd_check("rmsnorm_back/dw N=5,D=33", normw_fwd, &cw, wc, (size_t)D, (size_t)(N * D), G, dw, 15, 2e-3);
            free(dx), free(dw);
            drop(gb), drop(dxb), drop(dwb);
        }
        free(wc);
        drop(xb), drop(wb), drop(ob), drop(rb);
    }
    free(x), free(w), free(G);
}

/* ------------------------------------------------------------------ rope */

static void test_rope(void **state)
{
    (void)state;
    int64_t B = 2, T = 3, nh = 3, Dh = 6, pos0 = 4, P = pos0 + T, half = Dh / 2;
    float *tab = malloc((size_t)(P * Dh) * sizeof *tab);
    for (int64_t p = 0; p < P; p++)
        for (int64_t j = 0; j < half; j++) {
            double f = (double)p * pow(10000.0, -2.0 * (double)j / (double)Dh);
            tab[p * Dh + j] = (float)cos(f);
            tab[p * Dh + half + j] = (float)sin(f);
        }
    size_t n = (size_t)(B * T * nh * Dh);
    float *x = rnd(n, 1), *y = rnd(n, 1);
    tb_buf *tb = mk(TB_DTYPE_F32, (size_t)(P * Dh), tab), *xb = mk(TB_DTYPE_F32, n, x), *yb = mk(TB_DTYPE_F32, n, y);
    be->ops->rope_forward(be, tb_view_of(xb), tb_view_of(tb), B, T, nh, Dh, pos0);
    be->ops->rope_backward(be, tb_view_of(yb), tb_view_of(tb), B, T, nh, Dh, pos0);
    float *rx = get(xb, n), *ry = get(yb, n);
    double *want = malloc(n * sizeof *want);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t h = 0; h < nh; h++)
                for (int64_t j = 0; j < Dh; j++) {
                    /* HF: q*cos + rotate_half(q)*sin with cos = cat(freqs, freqs) */
                    int64_t base = ((b * T + t) * nh + h) * Dh, jj = j % half;
                    double f = (double)(pos0 + t) * pow(10000.0, -2.0 * (double)jj / (double)Dh);
                    double rot = j < half ? -(double)x[base + j + half] : (double)x[base + j - half];
                    want[base + j] = x[base + j] * cos(f) + rot * sin(f);
                }
    close_all("rope_fwd/B=2,T=3,nh=3,Dh=6,pos0=4", rx, want, n, 1e-6);
    /* backward is the adjoint: <R x, y> = <x, R^T y> */
    double l = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        l += (double)rx[i] * y[i];
        r += (double)x[i] * ry[i];
    }
    assert_true(fabs(l - r) < 1e-5 * (1 + fabs(l)));
    free(tab), free(x), free(y), free(rx), free(ry), free(want);
    drop(tb), drop(xb), drop(yb);
}

/* ------------------------------------------------------------------ attention */

typedef struct attn_ctx { tb_buf *q, *k, *v; tb_attn_dims d; int which; } attn_ctx;
static void attn_fwd(void *c, tb_buf *x, tb_buf *out)
{
    attn_ctx *a = c;
    tb_buf *q = a->which == 0 ? x : a->q, *k = a->which == 1 ? x : a->k, *v = a->which == 2 ? x : a->v;
    be->ops->attention_forward(be, tb_view_of(out), TB_VIEW_NONE, tb_view_of(q), tb_view_of(k), tb_view_of(v), &a->d);
}

/* Forward (out, lse) and, with G given, backward (dq, dk, dv for the Tk keys) of causal GQA
 * attention in double, straight from the definitions: P = softmax(scale q k^T), out = P v;
 * dP = G v^T, dS = P (dP - rowsum(P dP)), dq = scale dS k, dk = scale dS^T q, dv = P^T G. */
static void attn_oracle(const tb_attn_dims *d, int64_t Tmax, const float *q, const float *k, const float *v,
                        const float *G, double *out, double *lse, double *dq, double *dk, double *dv)
{
    int64_t B = d->B, Tq = d->Tq, pos0 = d->pos0, H = d->H, Hkv = d->Hkv, Dh = d->Dh;
    int64_t kvd = Hkv * Dh, qd = H * Dh;
    double sc = 1.0 / sqrt((double)Dh);
    double *s = malloc((size_t)(pos0 + Tq) * sizeof *s), *dp = malloc((size_t)(pos0 + Tq) * sizeof *dp);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++)
            for (int64_t t = 0; t < Tq; t++) {
                int64_t nkeys = pos0 + t + 1, g = h / (H / Hkv);
                const float *qr = q + (b * Tq + t) * qd + h * Dh;
                double mx = -1e300, sum = 0, di = 0;
                for (int64_t j = 0; j < nkeys; j++) {
                    double dot = 0;
                    for (int64_t e = 0; e < Dh; e++)
                        dot += (double)qr[e] * k[b * Tmax * kvd + j * kvd + g * Dh + e];
                    s[j] = dot * sc;
                    mx = s[j] > mx ? s[j] : mx;
                }
                for (int64_t j = 0; j < nkeys; j++)
                    sum += (s[j] = exp(s[j] - mx));
                for (int64_t j = 0; j < nkeys; j++) {
                    s[j] /= sum;
                    for (int64_t e = 0; e < Dh; e++)
                        out[(b * Tq + t) * qd + h * Dh + e] += s[j] * v[b * Tmax * kvd + j * kvd + g * Dh + e];
                }
                lse[(b * H + h) * Tq + t] = mx + log(sum);
                if (!G)
                    continue;
                const float *gr = G + (b * Tq + t) * qd + h * Dh;
                for (int64_t j = 0; j < nkeys; j++) {
                    dp[j] = 0;
                    for (int64_t e = 0; e < Dh; e++)
                        dp[j] += (double)gr[e] * v[b * Tmax * kvd + j * kvd + g * Dh + e];
                    di += s[j] * dp[j];
                }
                for (int64_t j = 0; j < nkeys; j++) {
                    double ds = s[j] * (dp[j] - di);
                    size_t kv = (size_t)(b * Tmax * kvd + j * kvd + g * Dh);
                    for (int64_t e = 0; e < Dh; e++) {
                        dq[(b * Tq + t) * qd + h * Dh + e] += sc * ds * k[kv + (size_t)e];
                        dk[kv + (size_t)e] += sc * ds * qr[e];
                        dv[kv + (size_t)e] += s[j] * gr[e];
                    }
                }
            }
    free(s), free(dp);
}

static void attn_case(int64_t B, int64_t Tq, int64_t pos0, int64_t H, int64_t Hkv, int64_t Dh, int64_t Tmax,
                      bool backward)
{
    char name[128];
    snprintf(name, sizeof name, "attention/B=%lld,Tq=%lld,pos0=%lld,H=%lld,Hkv=%lld,Dh=%lld,Tmax=%lld", (long long)B,
             (long long)Tq, (long long)pos0, (long long)H, (long long)Hkv, (long long)Dh, (long long)Tmax);
    tb_attn_dims d = {B, Tq, pos0, H, Hkv, Dh, Tmax * Hkv * Dh, 1.0f / sqrtf((float)Dh)};
    size_t nq = (size_t)(B * Tq * H * Dh), nk = (size_t)(B * Tmax * Hkv * Dh), nl = (size_t)(B * H * Tq);
    float *q = rnd(nq, 1), *k = rnd(nk, 1), *v = rnd(nk, 1), *G = backward ? rnd(nq, 1) : NULL;
    tb_buf *qb = mk(TB_DTYPE_F32, nq, q), *kb = mk(TB_DTYPE_F32, nk, k), *vb = mk(TB_DTYPE_F32, nk, v),
           *ob = mk(TB_DTYPE_F32, nq, NULL), *lb = mk(TB_DTYPE_F32, nl, NULL);
    be->ops->attention_forward(be, tb_view_of(ob), tb_view_of(lb), tb_view_of(qb), tb_view_of(kb), tb_view_of(vb), &d);
    double *want = calloc(nq, sizeof *want), *wl = calloc(nl, sizeof *wl), *wq = calloc(nq, sizeof *wq),
           *wk = calloc(nk, sizeof *wk), *wv = calloc(nk, sizeof *wv);
    attn_oracle(&d, Tmax, q, k, v, G, want, wl, wq, wk, wv);
    float *got = get(ob, nq), *gl = get(lb, nl);
    close_all(name, got, want, nq, 2e-6);
    close_all(name, gl, wl, nl, 2e-6);
    if (backward) {
        tb_buf *gb = mk(TB_DTYPE_F32, nq, G), *dq = mk(TB_DTYPE_F32, nq, NULL), *dk = mk(TB_DTYPE_F32, nk, NULL),
               *dv = mk(TB_DTYPE_F32, nk, NULL);
        be->ops->fill(be, tb_view_of(dq), 7.0f, nq); /* "=" outputs: old contents must not matter */
        be->ops->fill(be, tb_view_of(dk), 7.0f, nk);
        be->ops->fill(be, tb_view_of(dv), 7.0f, nk);
        be->ops->attention_backward(be, tb_view_of(dq), tb_view_of(dk), tb_view_of(dv), tb_view_of(gb), tb_view_of(qb),
                                    tb_view_of(kb), tb_view_of(vb), tb_view_of(ob), tb_view_of(lb), &d);
        float *gq = get(dq, nq), *gk = get(dk, nk), *gv = get(dv, nk);
        char n2[160];
        snprintf(n2, sizeof n2, "%s dq", name);
        close_all(n2, gq, wq, nq, 1e-5);
        size_t used = (size_t)((pos0 + Tq) * Hkv * Dh); /* keys in use in each batch row */
        for (int64_t b = 0; b < B; b++) {
            size_t at = (size_t)(b * Tmax * Hkv * Dh);
            snprintf(n2, sizeof n2, "%s dk", name);
            close_all(n2, gk + at, wk + at, used, 1e-5);
            snprintf(n2, sizeof n2, "%s dv", name);
            close_all(n2, gv + at, wv + at, used, 1e-5);
        }
        if (nq <= 512) { /* and the oracle's own formulas against finite differences */
            attn_ctx c = {qb, kb, vb, d, 0};
            snprintf(n2, sizeof n2, "%s dq", name);
            fd_check(n2, attn_fwd, &c, q, nq, nq, G, gq, 12, 3e-3);
            c.which = 1;
            snprintf(n2, sizeof n2, "%s dk", name);
            fd_check(n2, attn_fwd, &c, k, used, nq, G, gk, 12, 3e-3); /* B=1: keys in use */
            c.which = 2;
            snprintf(n2, sizeof n2, "%s dv", name);
            fd_check(n2, attn_fwd, &c, v, used, nq, G, gv, 12, 3e-3);
        }
        free(gq), free(gk), free(gv);
        drop(gb), drop(dq), drop(dk), drop(dv);
    }
    free(q), free(k), free(v), free(G), free(want), free(wl), free(wq), free(wk), free(wv), free(got), free(gl);
    drop(qb), drop(kb), drop(vb), drop(ob), drop(lb);
}

static void test_attention(void **state)
{
    (void)state;
    attn_case(2, 70, 0, 6, 2, 8, 70, false);    /* crosses a 64-row block, GQA 3:1 */
    attn_case(1, 1, 9, 4, 4, 6, 16, false);     /* decode step on a KV cache of 16 */
    attn_case(2, 5, 3, 4, 1, 4, 12, false);     /* prefill continuing a cache, MQA */
    attn_case(1, 7, 0, 4, 2, 4, 7, true);       /* backward, GQA */
    /* head dims of 16k: the AVX-512 tiles where the CPU has them (every tile width: 1-4
     * vectors, row tails, several 64-row blocks, a cache with pos0 > 0) */
    attn_case(1, 9, 0, 2, 1, 16, 9, true);
    attn_case(2, 150, 0, 6, 2, 32, 150, true);
    attn_case(1, 70, 0, 3, 3, 48, 70, true);
    attn_case(2, 67, 0, 4, 2, 64, 67, true);
    attn_case(1, 20, 13, 2, 1, 64, 40, true);
    attn_case(1, 33, 0, 2, 1, 128, 33, true);
}

/* ------------------------------------------------------------------ swiglu, xent, embedding */

typedef struct sw_ctx { tb_buf *other; bool wrt_gate; } sw_ctx;
static void sw_fwd(void *c, tb_buf *x, tb_buf *out)
{
    sw_ctx *s = c;
    be->ops->swiglu_forward(be, tb_view_of(out), tb_view_of(s->wrt_gate ? x : s->other),
                            tb_view_of(s->wrt_gate ? s->other : x), out->n);
}

static void test_swiglu(void **state)
{
    (void)state;
    size_t n = 40000; /* over the threading threshold */
    float *g = rnd(n, 6), *u = rnd(n, 1), *G = rnd(n, 1);
    tb_buf *gb = mk(TB_DTYPE_F32, n, g), *ub = mk(TB_DTYPE_F32, n, u), *ob = mk(TB_DTYPE_F32, n, NULL);
    be->ops->swiglu_forward(be, tb_view_of(ob), tb_view_of(gb), tb_view_of(ub), n);
    double *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++)
        want[i] = (double)g[i] / (1.0 + exp(-(double)g[i])) * u[i];
    float *got = get(ob, n);
    close_all("swiglu_fwd/n=40000", got, want, n, 2e-6);
    tb_buf *Gb = mk(TB_DTYPE_F32, n, G), *dg = mk(TB_DTYPE_F32, n, NULL), *du = mk(TB_DTYPE_F32, n, NULL);
    be->ops->swiglu_backward(be, tb_view_of(dg), tb_view_of(du), tb_view_of(Gb), tb_view_of(gb), tb_view_of(ub), n);
    float *dgh = get(dg, n), *duh = get(du, n);
    sw_ctx c = {ub, true};
    fd_check("swiglu_back/dgate n=40000", sw_fwd, &c, g, n, n, G, dgh, 20, 2e-3);
    c = (sw_ctx){gb, false};
    fd_check("swiglu_back/dup n=40000", sw_fwd, &c, u, n, n, G, duh, 20, 2e-3);
    free(g), free(u), free(G), free(want), free(got), free(dgh), free(duh);
    drop(gb), drop(ub), drop(ob), drop(Gb), drop(dg), drop(du);
}

static void test_xent(void **state)
{
    (void)state;
    int64_t N = 4, V = 1000;
    float *lg = rnd((size_t)(N * V), 8);
    float tg[4];
    int32_t ti[4] = {3, -100, 999, 0};
    memcpy(tg, ti, sizeof ti);
    tb_buf *lb = mk(TB_DTYPE_F32, (size_t)(N * V), lg), *tb = mk(TB_DTYPE_I32, 4, tg),
           *loss = mk(TB_DTYPE_F32, (size_t)N, NULL);
    be->ops->xent_forward_backward(be, tb_view_of(loss), tb_view_of(lb), tb_view_of(tb), N, V, 0.0f);
    float *kept = get(lb, (size_t)(N * V)), *l0 = get(loss, (size_t)N);
    assert_memory_equal(kept, lg, (size_t)(N * V) * sizeof(float)); /* grad_scale 0 keeps logits */
    be->ops->xent_forward_backward(be, tb_view_of(loss), tb_view_of(lb), tb_view_of(tb), N, V, 0.5f);
    float *dl = get(lb, (size_t)(N * V)), *l1 = get(loss, (size_t)N);
    for (int64_t i = 0; i < N; i++) {
        double mx = -1e300, s = 0;
        for (int64_t j = 0; j < V; j++)
            mx = lg[i * V + j] > mx ? lg[i * V + j] : mx;
        for (int64_t j = 0; j < V; j++)
            s += exp(lg[i * V + j] - mx);
        double want = ti[i] < 0 ? 0.0 : mx + log(s) - lg[i * V + ti[i]];
        char name[64];
        snprintf(name, sizeof name, "xent/N=4,V=1000 row %lld", (long long)i);
        close_all(name, &l0[i], &want, 1, 1e-6);
        close_all(name, &l1[i], &want, 1, 1e-6);
        for (int64_t j = 0; j < V; j++) {
            double g = ti[i] < 0 ? 0.0 : 0.5 * (exp(lg[i * V + j] - mx) / s - (j == ti[i]));
            close_all(name, &dl[i * V + j], &g, 1, 1e-6);
        }
    }
    free(lg), free(kept), free(l0), free(dl), free(l1);
    drop(lb), drop(tb), drop(loss);
}

static void test_embedding(void **state)
{
    (void)state;
    int64_t V = 11, D = 70, N = 6;
    float *tab = rnd((size_t)(V * D), 1), ids_f[6];
    int32_t ids[6] = {3, 0, 10, 3, 7, 3};
    memcpy(ids_f, ids, sizeof ids);
    tb_buf *tb = mk(TB_DTYPE_BF16, (size_t)(V * D), tab), *ib = mk(TB_DTYPE_I32, 6, ids_f),
           *ob = mk(TB_DTYPE_F32, (size_t)(N * D), NULL);
    be->ops->embedding_forward(be, tb_view_of(ob), tb_view_of(tb), tb_view_of(ib), N, D);
    float *o = get(ob, (size_t)(N * D));
    for (int64_t i = 0; i < N; i++)
        assert_memory_equal(o + i * D, tab + ids[i] * D, (size_t)D * sizeof(float));
    /* backward: rows scatter-add; id 3 three times */
    float *G = rnd((size_t)(N * D), 1);
    tb_buf *gb = mk(TB_DTYPE_F32, (size_t)(N * D), G), *dt = mk(TB_DTYPE_F32, (size_t)(V * D), NULL);
    be->ops->embedding_backward(be, tb_view_of(dt), tb_view_of(gb), tb_view_of(ib), N, D);
    float *d = get(dt, (size_t)(V * D));
    double *want = calloc((size_t)(V * D), sizeof *want);
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < D; j++)
            want[ids[i] * D + j] += G[i * D + j];
    close_all("embedding_back/V=11,D=70,N=6", d, want, (size_t)(V * D), 1e-6);
    free(tab), free(o), free(G), free(d), free(want);
    drop(tb), drop(ib), drop(ob), drop(gb), drop(dt);
}

/* ------------------------------------------------------------------ small ops */

static void test_elementwise_and_adamw(void **state)
{
    (void)state;
    size_t n = 50000;
    float *a = rnd(n, 1), *b = rnd(n, 1);
    tb_buf *ab = mk(TB_DTYPE_F32, n, a), *bb = mk(TB_DTYPE_F32, n, b), *ob = mk(TB_DTYPE_F32, n, NULL),
           *acc = mk(TB_DTYPE_F32, 2, NULL);
    be->ops->add(be, tb_view_of(ob), tb_view_of(ab), tb_view_of(bb), n);
    be->ops->scale(be, tb_view_of(ob), 2.0f, n);
    be->ops->axpy(be, tb_view_of(ob), -1.0f, tb_view_of(ab), n); /* a + 2b */
    be->ops->sum(be, tb_view_of(acc), tb_view_of(ab), n);
    be->ops->sum_squares(be, tb_view_at(tb_view_of(acc), 1), tb_view_of(bb), n);
    be->ops->sum_squares(be, tb_view_at(tb_view_of(acc), 1), tb_view_of(bb), n); /* accumulates */
    float *o = get(ob, n), *s = get(acc, 2);
    double sa = 0, sb = 0;
    double *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++) {
        want[i] = (double)a[i] + 2.0 * b[i];
        sa += a[i];
        sb += 2.0 * b[i] * b[i];
    }
    close_all("add_scale_axpy/n=50000", o, want, n, 1e-6);
    close_all("sum/n=50000", &s[0], &sa, 1, 1e-5);
    close_all("sum_squares/n=50000", &s[1], &sb, 1, 1e-5);
    /* clip_scale: norm sqrt(sb) -> min(1, 10 / norm) */
    be->ops->clip_scale(be, tb_view_of(acc), tb_view_at(tb_view_of(acc), 1), 10.0f);
    float *cs = get(acc, 1);
    double wcs = fmin(1.0, 10.0 / sqrt(sb));
    close_all("clip_scale", cs, &wcs, 1, 1e-5);
    /* copy converts dtypes: f32 -> bf16 -> f32 rounds like tb_f32_to_bf16 */
    tb_buf *h = mk(TB_DTYPE_BF16, n, NULL), *back = mk(TB_DTYPE_F32, n, NULL), *f16 = mk(TB_DTYPE_F16, n, NULL);
    be->ops->copy(be, tb_view_of(h), tb_view_of(ab), n);
    be->ops->copy(be, tb_view_of(f16), tb_view_of(h), n);
    be->ops->copy(be, tb_view_of(back), tb_view_of(h), n);
    float *bk = get(back, n);
    for (size_t i = 0; i < n; i++)
        assert_true(bk[i] == tb_bf16_to_f32(tb_f32_to_bf16(a[i])));
    /* AdamW, two steps with a clip scale of 0.5 from a device scalar */
    size_t m = 7;
    float p[7], g[7], half = 0.5f;
    for (size_t i = 0; i < m; i++)
        p[i] = frand(), g[i] = frand();
    tb_buf *pb = mk(TB_DTYPE_F32, m, p), *gb = mk(TB_DTYPE_F32, m, g), *mb = mk(TB_DTYPE_F32, m, NULL),
           *vb = mk(TB_DTYPE_F32, m, NULL), *sc = mk(TB_DTYPE_F32, 1, &half);
    double wp[7], wm[7] = {0}, wv[7] = {0};
    tb_adamw_params ap = {1e-2f, 0.9f, 0.999f, 1e-8f, 0.1f, 1};
    for (int step = 1; step <= 2; step++) {
        ap.step = step;
        be->ops->adamw(be, tb_view_of(pb), tb_view_of(gb), tb_view_of(mb), tb_view_of(vb), m, tb_view_of(sc), &ap);
        for (size_t i = 0; i < m; i++) {
            double gi = 0.5 * g[i], pi = step == 1 ? (double)p[i] : wp[i];
            wm[i] = 0.9 * wm[i] + 0.1 * gi;
            wv[i] = 0.999 * wv[i] + 0.001 * gi * gi;
            double mh = wm[i] / (1 - pow(0.9, step)), vh = wv[i] / (1 - pow(0.999, step));
            wp[i] = pi - 1e-2 * (mh / (sqrt(vh) + 1e-8) + 0.1 * pi);
        }
    }
    float *gp = get(pb, m);
    close_all("adamw/n=7,steps=2", gp, wp, m, 1e-6);
    /* dropout: keep rate and backward uses the same mask */
    be->ops->dropout_forward(be, tb_view_of(ob), tb_view_of(ab), n, 0.25f, 1234u);
    be->ops->fill(be, tb_view_of(back), 0.0f, n);
    be->ops->dropout_backward(be, tb_view_of(back), tb_view_of(ab), n, 0.25f, 1234u);
    float *dr = get(ob, n), *db = get(back, n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(dr[i] == db[i]);
        kept += dr[i] != 0.0f;
        assert_true(dr[i] == 0.0f || fabsf(dr[i] - a[i] / 0.75f) < 1e-6f);
    }
    assert_true(fabs((double)kept / (double)n - 0.75) < 0.01);
    /* add_bias / bias_backward */
    float bias[5] = {1, 2, 3, 4, 5};
    tb_buf *bias_b = mk(TB_DTYPE_BF16, 5, bias), *dbias = mk(TB_DTYPE_F32, 5, NULL);
    be->ops->fill(be, tb_view_of(ob), 1.0f, 15);
    be->ops->add_bias(be, tb_view_of(ob), tb_view_of(bias_b), 3, 5);
    be->ops->bias_backward(be, tb_view_of(dbias), tb_view_of(ob), 3, 5);
    float *bo = get(ob, 15), *bd = get(dbias, 5);
    for (int i = 0; i < 15; i++)
        assert_true(bo[i] == 1.0f + bias[i % 5]);
    for (int i = 0; i < 5; i++)
        assert_true(bd[i] == 3.0f * (1.0f + bias[i]));
    free(a), free(b), free(o), free(s), free(want), free(cs), free(bk), free(gp), free(dr), free(db), free(bo), free(bd);
    drop(ab), drop(bb), drop(ob), drop(acc), drop(h), drop(back), drop(f16), drop(pb), drop(gb), drop(mb), drop(vb);
    drop(sc), drop(bias_b), drop(dbias);
}

static void test_accounting(void **state)
{
    (void)state;
    tb_mem_stats before, during, after;
    tb_mem_get_stats(&before);
    tb_buf *b;
    tb_error err;
    assert_int_equal(be->ops->buf_alloc(be, &b, TB_DTYPE_BF16, 1000, TB_MEM_ACTIVATIONS, &err), TB_OK);
    tb_mem_get_stats(&during);
    assert_int_equal(during.current[TB_MEM_ACTIVATIONS] - before.current[TB_MEM_ACTIVATIONS], 2000);
    drop(b);
    tb_mem_get_stats(&after);
    assert_int_equal(after.current[TB_MEM_ACTIVATIONS], before.current[TB_MEM_ACTIVATIONS]);
    assert_int_equal(be->ops->buf_alloc(be, &b, TB_DTYPE_NF4, 10, TB_MEM_ACTIVATIONS, &err), TB_ERR_INVALID);
}

static int setup(void **state)
{
    (void)state;
    tb_error err;
    tb_backend_options o = {.threads = 2, .precision = TB_PRECISION_F32};
    if (tb_backend_create(&be, "cpu", &o, NULL, 0, &err) != TB_OK)
        return -1;
    o.precision = TB_PRECISION_BF16;
    if (tb_backend_create(&be_bf16, "cpu", &o, NULL, 0, &err) != TB_OK)
        return -1;
    printf("# %s\n# %s\n", be->description, be_bf16->description);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tb_backend_destroy(be);
    tb_backend_destroy(be_bf16);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul),    cmocka_unit_test(test_rmsnorm),   cmocka_unit_test(test_rope),
        cmocka_unit_test(test_attention), cmocka_unit_test(test_swiglu),    cmocka_unit_test(test_xent),
        cmocka_unit_test(test_embedding), cmocka_unit_test(test_elementwise_and_adamw),
        cmocka_unit_test(test_accounting),
    };
    return cmocka_run_group_tests_name("cpu_ops", tests, setup, teardown);
}
