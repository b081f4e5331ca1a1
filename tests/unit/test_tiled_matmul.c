/* Tiled matmuls on the CPU (fp32 tiles + cblas_sgemm) against a double-precision product
 * with the whole weight expanded: NF4, NF4-dq, BF16 and F16 weights; forward x·W^T and input
 * gradient dy·W; several tiles with a partial last one, accumulation, column slices, and
 * canaries around the outputs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/quant/tiled_matmul.h"

#define CANARY 12345.0f

static uint32_t rng = 99u;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) * (2.0f / 16777216.0f) - 1.0f;
}

typedef struct mm_case {
    int64_t M, out, in;
    size_t tile_floats;  /* 0: the default budget */
    int64_t pad;         /* extra leading-dimension columns (slices of wider buffers) */
    float beta;
    tb_dtype wt;         /* TB_DTYPE_NF4 (dq selects nf4-dq), BF16 or F16 */
    bool dq;
} mm_case;

static const char *kind(const mm_case *c) { return c->wt == TB_DTYPE_NF4 ? (c->dq ? "nf4-dq" : "nf4") : tb_dtype_short_name(c->wt); }

/* ref (M, N) = A (M, K) · B with B[k][n] = b[k * sbk + n * sbn]; abs gets sum |a||b|. */
static void ref_matmul(double *ref, double *abs_sum, const float *a, int64_t lda, const float *b, int64_t sbk,
                       int64_t sbn, int64_t M, int64_t N, int64_t K)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0, t = 0;
            for (int64_t k = 0; k < K; k++) {
                double p = (double)a[i * lda + k] * (double)b[k * sbk + j * sbn];
                s += p;
                t += fabs(p);
            }
            ref[i * N + j] = s;
            abs_sum[i * N + j] = t;
        }
}

static void run_case(const mm_case *c, bool backward)
{
    const int64_t M = c->M, out = c->out, in = c->in;
    const int64_t K = backward ? out : in, N = backward ? in : out; /* product (M, N) over K */
    const int64_t lda = K + c->pad, ldc = N + c->pad;
    float *wf = malloc((size_t)(out * in) * sizeof(float)), *deq = malloc((size_t)(out * in) * sizeof(float));
    float *a = malloc((size_t)(M * lda) * sizeof(float)), *y = malloc((size_t)(M * ldc) * sizeof(float));
    float *y0 = malloc((size_t)(M * ldc) * sizeof(float));
    double *ref = malloc((size_t)(M * N) * sizeof(double)), *abs_sum = malloc((size_t)(M * N) * sizeof(double));
    assert_true(wf && deq && a && y && y0 && ref && abs_sum);
    for (int64_t i = 0; i < out * in; i++)
        wf[i] = frand() * 0.05f;
    for (int64_t i = 0; i < M * lda; i++)
        a[i] = frand();
    /* beta 0 must ignore the old output, NaN included (backend.h matmul semantics) */
    for (int64_t i = 0; i < M * ldc; i++)
        y0[i] = (i % ldc) < N ? (c->beta == 0.0f ? NAN : frand()) : CANARY;
    const float alpha = c->pad ? 0.5f : 1.0f;
    memcpy(y, y0, (size_t)(M * ldc) * sizeof(float));

    tb_nf4 w = {0};
    tb_error err;
    uint16_t *h = malloc((size_t)(out * in) * 2);
    assert_non_null(h);
    tb_tiled_dense dense = {h, c->wt, in};
    tb_tiled_weight tw;
    if (c->wt == TB_DTYPE_NF4) {
        assert_int_equal(tb_nf4_quantize(&w, wf, TB_DTYPE_F32, out, in, c->dq, "mm", &err), TB_OK);
        assert_int_equal(tb_nf4_dequantize(&w, deq, TB_DTYPE_F32, &err), TB_OK);
        tw = tb_tiled_weight_nf4(&w);
    } else {
        tb_convert_from_f32(h, c->wt, wf, (size_t)(out * in));
        tb_convert_to_f32(deq, h, c->wt, (size_t)(out * in));
        tw = tb_tiled_weight_dense(&dense, out);
    }
    if (backward) /* dx = dy · W: B[k][n] = W[k][n] */
        ref_matmul(ref, abs_sum, a, lda, deq, in, 1, M, N, K);
    else          /* y = x · W^T: B[k][n] = W[n][k] */
        ref_matmul(ref, abs_sum, a, lda, deq, 1, in, M, N, K);

    tb_tiled_set_budget(c->tile_floats);
    int64_t fr, fc, br = tb_tiled_backward_rows(&tw);
    tb_tiled_forward_tile(&tw, &fr, &fc);
    int64_t tiles = backward ? (out + br - 1) / br : ((out + fr - 1) / fr) * ((in + fc - 1) / fc);
    float *tile = c->tile_floats ? NULL : malloc(tb_tiled_tile_floats(&tw) * sizeof(float)); /* NULL: own scratch */
    tb_status st;
    if (c->wt == TB_DTYPE_NF4) /* the NF4 shorthands */
        st = backward ? tb_nf4_matmul_dyw(y, ldc, a, lda, &w, M, alpha, c->beta, tile, &err)
                      : tb_nf4_matmul_xwt(y, ldc, a, lda, &w, M, alpha, c->beta, tile, &err);
    else
        st = backward ? tb_tiled_matmul_dyw(y, ldc, a, lda, &tw, M, alpha, c->beta, tile, &err)
                      : tb_tiled_matmul_xwt(y, ldc, a, lda, &tw, M, alpha, c->beta, tile, &err);
    assert_int_equal(st, TB_OK);
    tb_tiled_set_budget(0);

    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < ldc; j++) {
            float got = y[i * ldc + j];
            if (j >= N) {
                if (got != CANARY)
                    fail_msg("%s-%s/M=%lld,out=%lld,in=%lld: canary at [%lld, %lld] overwritten",
                             backward ? "dyw" : "xwt", kind(c), (long long)M, (long long)out, (long long)in, (long long)i,
                             (long long)j);
                continue;
            }
            double old = c->beta == 0.0f ? 0.0 : (double)c->beta * (double)y0[i * ldc + j];
            double want = (double)alpha * ref[i * N + j] + old;
            double tol = 4.0 * (double)K * (double)FLT_EPSILON * (abs_sum[i * N + j] + fabs(old)) + 1e-30;
            if (fabs((double)got - want) > tol)
                fail_msg("%s-%s/M=%lld,out=%lld,in=%lld,tiles=%lld,beta=%g: [%lld, %lld] = %.9g, want %.9g (tol %.3g)",
                         backward ? "dyw" : "xwt", kind(c), (long long)M, (long long)out, (long long)in, (long long)tiles,
                         (double)c->beta, (long long)i, (long long)j, (double)got, want, tol);
        }
    print_message("# %s-%s/M=%lld,out=%lld,in=%lld,tiles=%lld,beta=%g ok\n", backward ? "dyw" : "xwt", kind(c),
                  (long long)M, (long long)out, (long long)in, (long long)tiles, (double)c->beta);
    tb_nf4_free(&w);
    free(h);
    free(tile);
    free(wf);
    free(deq);
    free(a);
    free(y);
    free(y0);
    free(ref);
    free(abs_sum);
}

static const mm_case cases[] = {
    {7, 150, 96, 96 * 40, 0, 0.0f, TB_DTYPE_NF4, false}, /* 4 tiles, the last of 30 rows */
    {7, 150, 96, 96 * 40, 5, 1.0f, TB_DTYPE_NF4, true},  /* accumulate into a column slice */
    {33, 64, 197, 0, 0, 0.0f, TB_DTYPE_NF4, true},       /* one default tile; blocks straddle rows */
    {1, 300, 64, 64 * 7, 3, 1.0f, TB_DTYPE_NF4, false},  /* a decode step: M=1, 43 tiles */
    {16, 37, 130, 1, 0, 0.0f, TB_DTYPE_NF4, true},       /* budget below a row: one row per tile */
    {6, 96, 256, 96 * 128, 1, 1.0f, TB_DTYPE_NF4, true},  /* column tiles on block boundaries */
    {9, 150, 96, 96 * 40, 2, 1.0f, TB_DTYPE_BF16, false}, /* dense bf16 weights, same tiling */
    {5, 70, 33, 33 * 16, 0, 0.0f, TB_DTYPE_F16, false},
};

static void test_xwt(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], false);
}

static void test_dyw(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], true);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    float wf[64 * 4] = {0}, x[64], y[4];
    tb_nf4 w;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&w, wf, TB_DTYPE_F32, 4, 64, false, "mm", &err), TB_OK);
    assert_int_equal(tb_nf4_matmul_xwt(y, 3, x, 64, &w, 1, 1.0f, 0.0f, NULL, &err), TB_ERR_INVALID); /* ldy < out */
    assert_int_equal(tb_nf4_matmul_dyw(x, 64, y, 2, &w, 1, 1.0f, 0.0f, NULL, &err), TB_ERR_INVALID); /* lddy < out */
    assert_int_equal(tb_nf4_matmul_xwt(y, 4, x, 64, &w, 0, 1.0f, 0.0f, NULL, &err), TB_OK);          /* M = 0 */
    tb_nf4_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xwt),
        cmocka_unit_test(test_dyw),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests_name("tiled_matmul", tests, NULL, NULL);
}
