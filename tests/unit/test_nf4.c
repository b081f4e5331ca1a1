/* NF4 quantization and double quantization: bit-identity with bitsandbytes' reference
 * algorithm (tests/reference/nf4_golden.bin), nibble order, partial and all-zero blocks,
 * NaN/Inf refusal, round-trip error bounds, and every dequant kernel against the scalar
 * oracle. One golden case per cmocka case, named with its shape. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/quant/nf4.h"
#include "engine/quant/quant8.h"
#include "nf4_golden.h"

static nf4_golden golden;

/* Equal bits, or fail naming the first differing index. */
static void expect_bits(const void *got, const void *want, size_t n, size_t esize, const char *what)
{
    const uint8_t *a = got, *b = want;
    for (size_t i = 0; i < n; i++) {
        if (memcmp(a + i * esize, b + i * esize, esize) != 0) {
            if (esize == 4) {
                float fa, fb;
                memcpy(&fa, a + i * esize, 4);
                memcpy(&fb, b + i * esize, 4);
                fail_msg("%s[%zu]: got %.9g (%a), bitsandbytes %.9g (%a)", what, i, (double)fa, (double)fa,
                         (double)fb, (double)fb);
            }
            fail_msg("%s[%zu]: got 0x%02x, bitsandbytes 0x%02x", what, i, a[i * esize], b[i * esize]);
        }
    }
}

/* ---- golden cases ------------------------------------------------------------------- */

static void test_golden_case(void **state)
{
    const nf4_golden_case *c = *state;
    tb_nf4 w, dq;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&w, c->input, c->dtype, c->rows, c->cols, false, c->name, &err), TB_OK);
    expect_bits(w.codes, c->packed, (size_t)(c->n + 1) / 2, 1, "codes");
    expect_bits(w.absmax, c->absmax, (size_t)c->blocks, 4, "absmax");

    assert_int_equal(tb_nf4_quantize(&dq, c->input, c->dtype, c->rows, c->cols, true, c->name, &err), TB_OK);
    expect_bits(dq.codes, c->packed, (size_t)(c->n + 1) / 2, 1, "codes (dq)");
    expect_bits(&dq.offset, &c->offset, 1, 4, "offset");
    expect_bits(dq.qabsmax, c->qabsmax, (size_t)c->blocks, 1, "qabsmax");
    expect_bits(dq.nested_absmax, c->nested_absmax, (size_t)c->nested, 4, "nested_absmax");
    assert_int_equal(dq.n_nested, c->nested);
    for (int64_t b = 0; b < c->blocks; b++) {
        float s = tb_nf4_block_scale(&dq, b);
        expect_bits(&s, &c->absmax_dq[b], 1, 4, "dequantized absmax");
    }
    if (c->dequant) {
        float *out = malloc((size_t)c->n * sizeof(float));
        assert_non_null(out);
        tb_nf4_dequant_range(&w, 0, c->n, out);
        expect_bits(out, c->dequant, (size_t)c->n, 4, "dequant");
        tb_nf4_dequant_range_ref(&w, 0, c->n, out);
        expect_bits(out, c->dequant, (size_t)c->n, 4, "dequant (ref)");
        tb_nf4_dequant_range(&dq, 0, c->n, out);
        expect_bits(out, c->dequant_dq, (size_t)c->n, 4, "dequant (dq)");
        free(out);
    }
    tb_nf4_free(&w);
    tb_nf4_free(&dq);
}

static void test_golden_tables(void **state)
{
    (void)state;
    expect_bits(tb_nf4_code, golden.code, 16, 4, "nf4 code");
    expect_bits(tb_quant8_dynamic_map, golden.dynamic_map, 256, 4, "dynamic map");
}

/* ---- definitions checked directly --------------------------------------------------- */

static void test_nibble_order(void **state)
{
    (void)state;
    /* absmax 1, values on codes 0, 15, 7, 15, 8: first element in the high nibble, the odd
     * count padded with code 7 (the pad element is 0.0). */
    const float x[5] = {-1.0f, 1.0f, 0.0f, 1.0f, tb_nf4_code[8]};
    tb_nf4 w;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&w, x, TB_DTYPE_F32, 1, 5, false, "nibbles", &err), TB_OK);
    assert_int_equal(w.codes[0], 0x0f);
    assert_int_equal(w.codes[1], 0x7f);
    assert_int_equal(w.codes[2], 0x87);
    float back[5];
    tb_nf4_dequant_range(&w, 0, 5, back);
    assert_memory_equal(back, x, sizeof x);
    tb_nf4_free(&w);
}

static void test_partial_and_zero_blocks(void **state)
{
    (void)state;
    /* rows=3, cols=50: 150 values = blocks of 64, 64, 22; block 1 all zero. */
    float x[150];
    for (int i = 0; i < 150; i++)
        x[i] = (i >= 64 && i < 128) ? 0.0f : (float)((i * 37) % 23 - 11) * 0.01f;
    tb_nf4 w, dq;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&w, x, TB_DTYPE_F32, 3, 50, false, "partial", &err), TB_OK);
    assert_int_equal(w.n_blocks, 3);
    float back[150];
    tb_nf4_dequant_range(&w, 0, 150, back);
    assert_true(w.absmax[1] == 0.0f);
    for (int i = 64; i < 128; i++)
        assert_true(back[i] == 0.0f); /* absmax 0: code 0 (-1) times 0 */
    for (int i = 64; i < 128; i += 2)
        assert_int_equal(w.codes[i / 2], 0x00);
    /* the partial last block has its own absmax: max |x| over elements 128..149 */
    float amax = 0;
    for (int i = 128; i < 150; i++)
        amax = fmaxf(amax, fabsf(x[i]));
    assert_true(w.absmax[2] == amax);
    assert_true(back[149] == tb_nf4_code[w.codes[149 / 2] & 0x0f] * amax); /* odd element: low nibble */
    /* Double quantization stores the zero block's absmax to 8 bits around the mean, so it
     * comes back near 0, not at 0 (bitsandbytes does the same; golden zero_blocks case). */
    assert_int_equal(tb_nf4_quantize(&dq, x, TB_DTYPE_F32, 3, 50, true, "partial", &err), TB_OK);
    float s1 = tb_nf4_block_scale(&dq, 1);
    assert_true(fabsf(s1) <= 0.00704f * dq.nested_absmax[0] + 1e-6f);
    tb_nf4_free(&w);
    tb_nf4_free(&dq);
}

static void expect_refused(const void *src, tb_dtype dt, int64_t rows, int64_t cols, const char *where,
                           const char *what)
{
    tb_nf4 w;
    tb_error err;
    tb_error_clear(&err);
    assert_int_equal(tb_nf4_quantize(&w, src, dt, rows, cols, true, "model.layers.3.mlp.up_proj.weight", &err),
                     TB_ERR_NUMERIC);
    assert_string_equal(err.field, "model.layers.3.mlp.up_proj.weight");
    assert_non_null(strstr(err.message, where));
    assert_non_null(strstr(err.message, what));
    assert_non_null(strstr(err.message, "model.layers.3.mlp.up_proj.weight"));
    assert_null(w.owned);
}

static void test_nan_inf_refused(void **state)
{
    (void)state;
    float x[4 * 80];
    for (int i = 0; i < 4 * 80; i++)
        x[i] = 0.01f * (float)(i % 7);
    x[2 * 80 + 5] = NAN;
    expect_refused(x, TB_DTYPE_F32, 4, 80, "[2, 5]", "NaN");
    x[2 * 80 + 5] = 0;
    x[3 * 80 + 79] = -INFINITY; /* in the partial last block */
    expect_refused(x, TB_DTYPE_F32, 4, 80, "[3, 79]", "Inf");
    uint16_t h[64] = {0};
    h[63] = 0x7fc0; /* bf16 NaN */
    expect_refused(h, TB_DTYPE_BF16, 1, 64, "[0, 63]", "NaN");
    h[63] = 0x7c00; /* f16 +Inf */
    expect_refused(h, TB_DTYPE_F16, 2, 32, "[1, 31]", "Inf");
}

/* ---- nearest-code search against brute force ----------------------------------------- */

static int brute_nearest(float s, const float *code, int n)
{
    int best = 0; /* torch.argmin: first minimum; NaN distances make index 0 win */
    if (isnan(s))
        return 0;
    for (int i = 1; i < n; i++)
        if (fabsf(s - code[i]) < fabsf(s - code[best]))
            best = i;
    return best;
}

static uint32_t rng_state = 12345u;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}
static float urand(void) { return (float)(rnd() >> 8) * (1.0f / 16777216.0f); } /* [0, 1) */

/* Values that stress a nearest search over `code`: random, each midpoint and its ulps. */
static int stress_values(float *v, int cap, const float *code, int n)
{
    int k = 0;
    for (int i = 0; i + 1 < n && k + 5 <= cap; i++) {
        float mid = (code[i] + code[i + 1]) * 0.5f;
        v[k++] = mid;
        v[k++] = nextafterf(mid, 2.0f);
        v[k++] = nextafterf(mid, -2.0f);
        v[k++] = code[i];
        v[k++] = nextafterf(code[i], 2.0f);
    }
    while (k < cap)
        v[k++] = urand() * 2.0f - 1.0f;
    return k;
}

static void test_quant8_nearest_vs_bruteforce(void **state)
{
    (void)state;
    enum { N = 100000 };
    float *v = malloc(N * sizeof(float));
    assert_non_null(v);
    int k = stress_values(v, N, tb_quant8_dynamic_map, 256);
    v[0] = -1.0f; /* below the map's first entry (-0.99296875) */
    v[1] = NAN;
    for (int i = 0; i < k; i++) {
        int got = tb_quant8_nearest(v[i], tb_quant8_dynamic_map);
        int want = brute_nearest(v[i], tb_quant8_dynamic_map, 256);
        if (got != want)
            fail_msg("quant8 nearest(%a): %d, argmin %d", (double)v[i], got, want);
    }
    free(v);
}

static void test_nf4_nearest_vs_bruteforce(void **state)
{
    (void)state;
    /* Blocks that start with 1.0 (absmax 1, so the scaled value is the value itself). */
    enum { BLOCKS = 512, N = BLOCKS * 64 };
    float *x = malloc(N * sizeof(float)), *v = malloc(N * sizeof(float));
    assert_non_null(x);
    assert_non_null(v);
    stress_values(v, N, tb_nf4_code, 16);
    for (int b = 0, k = 0; b < BLOCKS; b++)
        for (int i = 0; i < 64; i++)
            x[b * 64 + i] = i == 0 ? 1.0f : v[k++];
    tb_nf4 w;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&w, x, TB_DTYPE_F32, BLOCKS, 64, false, "stress", &err), TB_OK);
    for (int e = 0; e < N; e++) {
        int got = (e & 1) ? w.codes[e / 2] & 15 : w.codes[e / 2] >> 4;
        int want = brute_nearest(x[e], tb_nf4_code, 16);
        if (got != want)
            fail_msg("nf4 nearest(%a): %d, argmin %d", (double)x[e], got, want);
    }
    tb_nf4_free(&w);
    free(x);
    free(v);
}

/* ---- round trip --------------------------------------------------------------------- */

/* Box-Muller normal, with rare 20x outliers as real weights have. */
static void fill_weights(float *x, int64_t n, float scale)
{
    for (int64_t i = 0; i < n; i += 2) {
        float u1 = urand() + 1e-7f, u2 = urand();
        float r = sqrtf(-2.0f * logf(u1)) * scale;
        x[i] = r * cosf(6.2831853f * u2);
        if (i + 1 < n)
            x[i + 1] = r * sinf(6.2831853f * u2);
        if (rnd() % 997 == 0)
            x[i] *= 20.0f;
    }
}

static void test_roundtrip_bounds(void **state)
{
    (void)state;
    const int64_t rows = 64, cols = 1536, n = rows * cols;
    float *x = malloc((size_t)n * sizeof(float)), *y = malloc((size_t)n * sizeof(float));
    assert_non_null(x);
    assert_non_null(y);
    fill_weights(x, n, 0.02f);
    tb_nf4 w, dq;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&w, x, TB_DTYPE_F32, rows, cols, false, "rt", &err), TB_OK);
    assert_int_equal(tb_nf4_quantize(&dq, x, TB_DTYPE_F32, rows, cols, true, "rt", &err), TB_OK);

    /* NF4: each value lands within half the widest code gap (c1 - c0)/2 of itself. */
    float half_gap = 0;
    for (int i = 0; i < 15; i++)
        half_gap = fmaxf(half_gap, (tb_nf4_code[i + 1] - tb_nf4_code[i]) * 0.5f);
    tb_nf4_dequant_range(&w, 0, n, y);
    double se = 0, sx = 0;
    for (int64_t e = 0; e < n; e++) {
        float bound = half_gap * w.absmax[e / 64] * 1.000001f;
        if (fabsf(x[e] - y[e]) > bound)
            fail_msg("rt/rows=64,cols=1536: |x - dq| at %lld is %g > %g", (long long)e,
                     (double)fabsf(x[e] - y[e]), (double)bound);
        double d = (double)x[e] - (double)y[e];
        se += d * d;
        sx += (double)x[e] * (double)x[e];
    }
    /* NF4's relative RMS error on normal weights is about 0.1 (QLoRA paper, fig. 2 scale). */
    assert_true(sqrt(se / sx) < 0.12);

    /* Double quantization: each absmax within half the widest map gap times its nested
     * scale, plus the rounding of the offset add. */
    float map_half_gap = 0;
    for (int i = 0; i < 255; i++)
        map_half_gap = fmaxf(map_half_gap, (tb_quant8_dynamic_map[i + 1] - tb_quant8_dynamic_map[i]) * 0.5f);
    for (int64_t b = 0; b < w.n_blocks; b++) {
        float got = tb_nf4_block_scale(&dq, b), want = w.absmax[b];
        float bound = map_half_gap * dq.nested_absmax[b / 256] * 1.0001f + fabsf(want) * 2e-7f;
        if (fabsf(got - want) > bound)
            fail_msg("dq/blocks=%lld: absmax %lld is %g, want %g within %g", (long long)w.n_blocks, (long long)b,
                     (double)got, (double)want, (double)bound);
    }
    tb_nf4_free(&w);
    tb_nf4_free(&dq);
    free(x);
    free(y);
}

/* ---- dequant kernels ------------------------------------------------------------------ */

static void check_kernels_on(const tb_nf4 *w, const char *label)
{
    static const char *const kernels[] = {"c", "avx2", "avx512"};
    float *a = malloc((size_t)w->n * sizeof(float)), *b = malloc((size_t)w->n * sizeof(float));
    assert_non_null(a);
    assert_non_null(b);
    for (size_t k = 0; k < 3; k++) {
        if (!tb_nf4_use_kernel(kernels[k])) {
            print_message("# %s: kernel %s not on this CPU\n", label, kernels[k]);
            continue;
        }
        tb_nf4_dequant_range(w, 0, w->n, a);
        tb_nf4_dequant_range_ref(w, 0, w->n, b);
        expect_bits(a, b, (size_t)w->n, 4, kernels[k]);
        for (int t = 0; t < 200; t++) { /* arbitrary sub-ranges: odd starts, partial blocks */
            int64_t s = rnd() % w->n, c = rnd() % (w->n - s + 1);
            tb_nf4_dequant_range(w, s, c, a);
            tb_nf4_dequant_range_ref(w, s, c, b);
            expect_bits(a, b, (size_t)c, 4, kernels[k]);
        }
        int64_t r0 = w->rows / 3, nr = w->rows - r0;
        tb_nf4_dequant_rows(w, r0, nr, a);
        tb_nf4_dequant_range_ref(w, r0 * w->cols, nr * w->cols, b);
        expect_bits(a, b, (size_t)(nr * w->cols), 4, kernels[k]);
        /* tiles: a column slice on block boundaries when the layout has them, and an odd one */
        for (int t = 0; t < 2; t++) {
            int64_t c0 = t ? 3 : (w->cols % 64 ? 0 : 64), nc = t ? w->cols / 2 : (w->cols > 128 ? 128 : w->cols - c0);
            tb_nf4_dequant_tile(w, r0, nr, c0, nc, a);
            for (int64_t r = 0; r < nr; r++)
                tb_nf4_dequant_range_ref(w, (r0 + r) * w->cols + c0, nc, b + r * nc);
            expect_bits(a, b, (size_t)(nr * nc), 4, kernels[k]);
        }
    }
    tb_nf4_use_kernel(NULL);
    free(a);
    free(b);
}

static void test_kernels_vs_ref(void **state)
{
    (void)state;
    const int64_t rows = 37, cols = 197; /* n = 7289: odd, blocks straddle rows */
    float *x = malloc((size_t)(rows * cols) * sizeof(float));
    assert_non_null(x);
    fill_weights(x, rows * cols, 0.05f);
    for (int i = 128; i < 192; i++)
        x[i] = 0; /* an all-zero block */
    tb_nf4 w, dq;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&w, x, TB_DTYPE_F32, rows, cols, false, "k", &err), TB_OK);
    assert_int_equal(tb_nf4_quantize(&dq, x, TB_DTYPE_F32, rows, cols, true, "k", &err), TB_OK);
    check_kernels_on(&w, "kernels/rows=37,cols=197");
    check_kernels_on(&dq, "kernels-dq/rows=37,cols=197");
    tb_nf4 al;
    assert_int_equal(tb_nf4_quantize(&al, x, TB_DTYPE_F32, 28, 256, true, "k", &err), TB_OK);
    check_kernels_on(&al, "kernels-dq/rows=28,cols=256");
    tb_nf4_free(&al);
    print_message("# best dequant kernel here: %s\n", tb_nf4_kernel_name());
    tb_nf4_free(&w);
    tb_nf4_free(&dq);
    free(x);
}

static void test_dequantize_whole(void **state)
{
    (void)state;
    const int64_t rows = 10, cols = 4999; /* more than one 4096 chunk */
    const int64_t n = rows * cols;
    float *x = malloc((size_t)n * 4), *f = malloc((size_t)n * 4);
    uint16_t *h = malloc((size_t)n * 2);
    assert_true(x && f && h);
    fill_weights(x, n, 1.0f);
    tb_nf4 w;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&w, x, TB_DTYPE_F32, rows, cols, true, "whole", &err), TB_OK);
    assert_int_equal(tb_nf4_dequantize(&w, f, TB_DTYPE_F32, &err), TB_OK);
    assert_int_equal(tb_nf4_dequantize(&w, h, TB_DTYPE_BF16, &err), TB_OK);
    for (int64_t e = 0; e < n; e++)
        assert_int_equal(h[e], tb_f32_to_bf16(f[e]));
    assert_int_equal(tb_nf4_dequantize(&w, h, TB_DTYPE_F16, &err), TB_OK);
    for (int64_t e = 0; e < n; e++)
        assert_int_equal(h[e], tb_f32_to_f16(f[e]));
    assert_int_equal(tb_nf4_dequantize(&w, h, TB_DTYPE_I32, &err), TB_ERR_UNSUPPORTED);
    tb_nf4_free(&w);
    free(x);
    free(f);
    free(h);
}

/* ---- storage: bits per weight for SmolLM2-135M's linears ------------------------------- */

static void test_smollm2_bits_per_weight(void **state)
{
    (void)state;
    /* D 576, F 1536, H 9, Hkv 3, Dh 64, 30 layers: q, k, v, o, gate, up, down [out, in]. */
    static const int64_t shapes[7][2] = {{576, 576}, {192, 576}, {192, 576}, {576, 576},
                                         {1536, 576}, {1536, 576}, {576, 1536}};
    uint64_t params = 0, b_nf4 = 0, b_dq = 0, b_dq_file = 0;
    float *x = malloc(1536 * 576 * sizeof(float));
    assert_non_null(x);
    fill_weights(x, 1536 * 576, 0.02f);
    for (int s = 0; s < 7; s++) {
        tb_nf4 w, dq;
        tb_error err;
        assert_int_equal(tb_nf4_quantize(&w, x, TB_DTYPE_F32, shapes[s][0], shapes[s][1], false, "s", &err), TB_OK);
        assert_int_equal(tb_nf4_quantize(&dq, x, TB_DTYPE_F32, shapes[s][0], shapes[s][1], true, "s", &err), TB_OK);
        params += 30 * (uint64_t)w.n;
        b_nf4 += 30 * tb_nf4_storage_bytes(&w);
        b_dq += 30 * tb_nf4_storage_bytes(&dq);
        b_dq_file += 30 * tb_nf4_bnb_bytes(&dq);
        tb_nf4_free(&w);
        tb_nf4_free(&dq);
    }
    double bpw_nf4 = 8.0 * (double)b_nf4 / (double)params, bpw_dq = 8.0 * (double)b_dq / (double)params;
    double bpw_file = 8.0 * (double)b_dq_file / (double)params;
    print_message("# SmolLM2-135M linears (30 layers x q,k,v,o,gate,up,down): %llu params; bf16 %llu B; "
                  "nf4 %llu B = %.4f bits/weight; nf4-dq %llu B = %.4f bits/weight in memory, "
                  "%llu B = %.4f in a -bnb-4bit checkpoint (per-tensor maps)\n",
                  (unsigned long long)params, (unsigned long long)(2 * params), (unsigned long long)b_nf4, bpw_nf4,
                  (unsigned long long)b_dq, bpw_dq, (unsigned long long)b_dq_file, bpw_file);
    assert_true(bpw_nf4 == 4.5);                       /* 4 + 32/64: every shape is whole blocks */
    assert_true(bpw_dq > 4.126 && bpw_dq < 4.128);     /* 4 + 8/64 + 32/(64*256) */
    assert_true(bpw_file > bpw_dq && bpw_file < 4.15);
    free(x);
}

int main(void)
{
    char why[600];
    bool have = nf4_golden_load(&golden, why, sizeof why);
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_golden_tables),
        cmocka_unit_test(test_nibble_order),
        cmocka_unit_test(test_partial_and_zero_blocks),
        cmocka_unit_test(test_nan_inf_refused),
        cmocka_unit_test(test_quant8_nearest_vs_bruteforce),
        cmocka_unit_test(test_nf4_nearest_vs_bruteforce),
        cmocka_unit_test(test_roundtrip_bounds),
        cmocka_unit_test(test_kernels_vs_ref),
        cmocka_unit_test(test_dequantize_whole),
        cmocka_unit_test(test_smollm2_bits_per_weight),
    };
    size_t n_fixed = sizeof fixed / sizeof fixed[0];
    if (!have) { /* the golden file is part of the repository: its absence is a failure */
        printf("not ok 1 - golden file: %s\n", why);
        return 1;
    }
    size_t total = n_fixed + (size_t)golden.n_cases;
    struct CMUnitTest *tests = calloc(total, sizeof *tests);
    char (*names)[160] = calloc((size_t)golden.n_cases + 1, sizeof *names);
    assert_non_null(tests);
    assert_non_null(names);
    memcpy(tests, fixed, sizeof fixed);
    for (int i = 0; i < golden.n_cases; i++) {
        snprintf(names[i], sizeof names[i], "golden/%s", golden.cases[i].name);
        tests[n_fixed + (size_t)i] = (struct CMUnitTest){names[i], test_golden_case, NULL, NULL, &golden.cases[i]};
    }
    int rc = _cmocka_run_group_tests("nf4", tests, total, NULL, NULL);
    free(tests);
    free(names);
    nf4_golden_free(&golden);
    return rc;
}
