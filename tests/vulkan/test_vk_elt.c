/* Vulkan elementwise ops, conversions, reductions and AdamW against the oracle backend, plus
 * the backend's error behaviour (pending errors, out of device memory). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/vulkan/vk_test_util.h"

enum { P_N, P_A, P_B };

/* fill, add (also in place), scale, axpy on n elements. */
static void run_basic(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    size_t n = (size_t)c->p[P_N];
    float *x = vkt_rand(n, 11, 2.0f), *y = vkt_rand(n, 12, 2.0f);
    vkt_tensor tx = vkt_new(TB_DTYPE_F32, n, x), ty = vkt_new(TB_DTYPE_F32, n, y);
    vkt_tensor out = vkt_new(TB_DTYPE_F32, n, NULL), f = vkt_new(TB_DTYPE_F32, n, NULL);
    VKT_BOTH(be->ops->fill(be, f.v[i], -1.5f, n));
    VKT_BOTH(be->ops->add(be, out.v[i], tx.v[i], ty.v[i], n));
    VKT_BOTH(be->ops->add(be, ty.v[i], tx.v[i], ty.v[i], n));   /* out aliases b */
    VKT_BOTH(be->ops->scale(be, tx.v[i], -0.25f, n));
    VKT_BOTH(be->ops->axpy(be, tx.v[i], 3.0f, out.v[i], n));
    vkt_expect("fill", &f, 0.0);
    vkt_expect("add", &out, 0.0);            /* one rounding, same on both: exact */
    vkt_expect("add in place", &ty, 0.0);
    vkt_expect("scale + axpy", &tx, 1e-14);  /* fma contraction may differ by an ulp */
    vkt_free(&tx);
    vkt_free(&ty);
    vkt_free(&out);
    vkt_free(&f);
    free(x);
    free(y);
}

/* copy between dtypes: src dtype p[A], dst dtype p[B]; rounding must match bit for bit. */
static void run_copy(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    size_t n = (size_t)c->p[P_N];
    float *x = vkt_rand(n, 13, 3.0f);
    /* Bit-exact on both sides: the same round-to-nearest-even, NaN and overflow rules.
     * Cover the edges of the 16-bit formats: subnormals, ties, overflow, NaN, infinities. */
    static const float edge[] = {0.0f, -0.0f, 1e-6f, -3e-8f, 65504.0f, 65520.0f, INFINITY,
                                 -INFINITY, 1.00390625f, 1.01171875f, 3.4e38f, NAN};
    for (size_t i = 0; i < n && i < sizeof edge / sizeof *edge; i++)
        x[i] = edge[i];
    vkt_tensor src = vkt_new((tb_dtype)c->p[P_A], n, x), dst = vkt_new((tb_dtype)c->p[P_B], n, NULL);
    VKT_BOTH(be->ops->copy(be, dst.v[i], src.v[i], n));
    vkt_expect_bits(c->name, &dst);
    vkt_free(&src);
    vkt_free(&dst);
    free(x);
}

static void run_swiglu_dropout(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    size_t n = (size_t)c->p[P_N];
    float *g = vkt_rand(n, 21, 4.0f), *u = vkt_rand(n, 22, 2.0f), *d = vkt_rand(n, 23, 1.0f);
    vkt_tensor tg = vkt_new(TB_DTYPE_F32, n, g), tu = vkt_new(TB_DTYPE_F32, n, u), td = vkt_new(TB_DTYPE_F32, n, d);
    vkt_tensor out = vkt_new(TB_DTYPE_F32, n, NULL), dg = vkt_new(TB_DTYPE_F32, n, NULL);
    vkt_tensor du = vkt_new(TB_DTYPE_F32, n, NULL), drop = vkt_new(TB_DTYPE_F32, n, NULL);
    vkt_tensor dacc = vkt_new(TB_DTYPE_F32, n, u);
    VKT_BOTH(be->ops->swiglu_forward(be, out.v[i], tg.v[i], tu.v[i], n));
    VKT_BOTH(be->ops->swiglu_backward(be, dg.v[i], du.v[i], td.v[i], tg.v[i], tu.v[i], n));
    VKT_BOTH(be->ops->dropout_forward(be, drop.v[i], tg.v[i], n, 0.3f, 1234u));
    VKT_BOTH(be->ops->dropout_backward(be, dacc.v[i], td.v[i], n, 0.3f, 1234u));
    /* exp differs by a few ulps between the GPU and libm: ~1e-14. */
    vkt_expect("swiglu_forward", &out, 1e-12);
    vkt_expect("swiglu_backward dgate", &dg, 1e-12);
    vkt_expect("swiglu_backward dup", &du, 1e-12);
    vkt_expect("dropout_forward", &drop, 1e-14);   /* the same mask, bit for bit */
    vkt_expect("dropout_backward", &dacc, 1e-14);
    /* in place: swiglu out = gate */
    VKT_BOTH(be->ops->swiglu_forward(be, tg.v[i], tg.v[i], tu.v[i], n));
    vkt_expect("swiglu_forward in place", &tg, 1e-12);
    vkt_tensor *all[] = {&tg, &tu, &td, &out, &dg, &du, &drop, &dacc};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        vkt_free(all[i]);
    free(g);
    free(u);
    free(d);
}

static void run_bias(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    int N = c->p[P_N], C = c->p[P_A];
    tb_dtype bdt = (tb_dtype)c->p[P_B];
    float *x = vkt_rand((size_t)N * C, 31, 1.0f), *bias = vkt_rand((size_t)C, 32, 1.0f);
    vkt_tensor tx = vkt_new(TB_DTYPE_F32, (size_t)N * C, x), tb = vkt_new(bdt, (size_t)C, bias);
    vkt_tensor db = vkt_new(TB_DTYPE_F32, (size_t)C, bias);
    VKT_BOTH(be->ops->add_bias(be, tx.v[i], tb.v[i], N, C));
    VKT_BOTH(be->ops->bias_backward(be, db.v[i], tx.v[i], N, C));
    vkt_expect("add_bias", &tx, 0.0);
    vkt_expect("bias_backward", &db, 1e-12);   /* f32 column sum vs double */
    vkt_free(&tx);
    vkt_free(&tb);
    vkt_free(&db);
    free(x);
    free(bias);
}

/* sum, sum_squares (accumulating), clip_scale, then AdamW with and without the scale. */
static void run_reduce_adamw(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    size_t n = (size_t)c->p[P_N];
    float *g = vkt_rand(n, 41, 0.5f), *p0 = vkt_rand(n, 42, 1.0f), *m0 = vkt_rand(n, 43, 0.1f);
    float *v0 = vkt_rand(n, 44, 0.01f), acc[2] = {1.5f, 0.25f};
    for (size_t i = 0; i < n; i++)
        v0[i] = fabsf(v0[i]);
    vkt_tensor tg = vkt_new(TB_DTYPE_F32, n, g), tp = vkt_new(TB_DTYPE_F32, n, p0);
    vkt_tensor tm = vkt_new(TB_DTYPE_F32, n, m0), tv = vkt_new(TB_DTYPE_F32, n, v0);
    vkt_tensor tp2 = vkt_new(TB_DTYPE_F32, n, p0), tm2 = vkt_new(TB_DTYPE_F32, n, m0);
    vkt_tensor tv2 = vkt_new(TB_DTYPE_F32, n, v0);
    vkt_tensor sums = vkt_new(TB_DTYPE_F32, 2, acc), clip = vkt_new(TB_DTYPE_F32, 1, NULL);
    VKT_BOTH(be->ops->sum(be, sums.v[i], tg.v[i], n));
    VKT_BOTH(be->ops->sum_squares(be, tb_view_at(sums.v[i], 1), tg.v[i], n));
    /* max_norm below the norm, so the factor is < 1 and matters */
    VKT_BOTH(be->ops->clip_scale(be, clip.v[i], tb_view_at(sums.v[i], 1), 0.1f));
    tb_adamw_params ap = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.01f,
                          .step = 3};
    VKT_BOTH(be->ops->adamw(be, tp.v[i], tg.v[i], tm.v[i], tv.v[i], n, clip.v[i], &ap));
    ap.step = 1;
    ap.weight_decay = 0.0f;
    VKT_BOTH(be->ops->adamw(be, tp2.v[i], tg.v[i], tm2.v[i], tv2.v[i], n, TB_VIEW_NONE, &ap));
    /* Sums: f32 tree vs double: relative error ~1e-7 on a sum that may nearly cancel, so
     * compare the sum of squares tightly and the plain sum by its own scale. */
    vkt_expect("sum, sum_squares", &sums, 1e-12);
    vkt_expect("clip_scale", &clip, 1e-12);
    vkt_expect("adamw param (clipped, decay)", &tp, 1e-12);
    vkt_expect("adamw m", &tm, 1e-12);
    vkt_expect("adamw v", &tv, 1e-12);
    vkt_expect("adamw param (step 1)", &tp2, 1e-12);
    vkt_tensor *all[] = {&tg, &tp, &tm, &tv, &tp2, &tm2, &tv2, &sums, &clip};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        vkt_free(all[i]);
    free(g);
    free(p0);
    free(m0);
    free(v0);
}

/* Errors surface at the next sync point, once; the backend keeps working. */
static void run_pending_errors(void **state)
{
    (void)state;
    VKT_NEED();
    tb_backend *be = vkt_be(1);
    vkt_tensor t = vkt_new(TB_DTYPE_F32, 8, NULL);
    be->ops->fill(be, tb_view_at(t.v[1], 8 + VKT_TAIL), 0.0f, 1);   /* past the buffer */
    be->ops->scale(be, t.v[1], 2.0f, 8);                            /* skipped after the error */
    tb_error err;
    assert_int_equal(be->ops->sync(be, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "x");
    assert_non_null(strstr(err.message, "overrun"));
    assert_int_equal(be->ops->sync(be, &err), TB_OK);
    /* An op writing a read-only (weights) buffer is refused. */
    float w[4] = {1, 2, 3, 4};
    tb_buf *ro;
    assert_int_equal(be->ops->buf_from_host(be, &ro, w, TB_DTYPE_F32, 4, TB_MEM_WEIGHTS, &err), TB_OK);
    be->ops->scale(be, tb_view_of(ro), 2.0f, 4);
    assert_int_equal(be->ops->sync(be, &err), TB_ERR_INVALID);
    float back[4];
    assert_int_equal(be->ops->download(be, back, tb_view_of(ro), 4, &err), TB_OK);
    assert_memory_equal(back, w, sizeof w);
    be->ops->buf_free(be, ro);
    vkt_free(&t);
}

/* More than the device has: TB_ERR_NOMEM naming the bytes asked for and available; a
 * buffer larger than a shader can address: TB_ERR_UNSUPPORTED naming the limit. */
static void run_out_of_memory(void **state)
{
    (void)state;
    VKT_NEED();
    tb_backend *be = vkt_be(1);
    tb_buf *b = NULL;
    tb_error err;
    tb_error_clear(&err);
    /* 4 TiB exceeds every device's heap. */
    assert_int_equal(be->ops->buf_alloc(be, &b, TB_DTYPE_F32, (size_t)1 << 40, TB_MEM_ACTIVATIONS, &err),
                     TB_ERR_NOMEM);
    assert_null(b);
    assert_non_null(strstr(err.message, "asked for 4398046511104 bytes (4.00 TiB)"));
    assert_non_null(strstr(err.message, "available"));
    print_message("# %s\n", err.message);
    /* A memory cap (TUNEBENCH_VK_MEMORY_LIMIT, MiB) makes the same happen at 3 MiB. */
    setenv("TUNEBENCH_VK_MEMORY_LIMIT", "2", 1);
    assert_int_equal(be->ops->buf_alloc(be, &b, TB_DTYPE_F32, (size_t)3 << 18, TB_MEM_ACTIVATIONS, &err),
                     TB_ERR_NOMEM);
    unsetenv("TUNEBENCH_VK_MEMORY_LIMIT");
    assert_non_null(strstr(err.message, "(3.00 MiB)"));
    assert_int_equal(be->ops->buf_alloc(be, &b, TB_DTYPE_F32, (size_t)3 << 18, TB_MEM_ACTIVATIONS, &err), TB_OK);
    be->ops->buf_free(be, b);
}

/* A long chain of dependent ops on one buffer with no sync between: barriers must order
 * every step, in one submit. */
static void run_dependency_chain(void **state)
{
    (void)state;
    VKT_NEED();
    size_t n = 1000;
    float *x = vkt_rand(n, 51, 1.0f);
    vkt_tensor t = vkt_new(TB_DTYPE_F32, n, x), u = vkt_new(TB_DTYPE_F32, n, x);
    for (int k = 0; k < 40; k++) {
        VKT_BOTH(be->ops->axpy(be, t.v[i], 0.5f, u.v[i], n));
        VKT_BOTH(be->ops->add(be, u.v[i], t.v[i], u.v[i], n));
        VKT_BOTH(be->ops->scale(be, u.v[i], 0.25f, n));
    }
    vkt_expect("chain t", &t, 1e-12);
    vkt_expect("chain u", &u, 1e-12);
    vkt_free(&t);
    vkt_free(&u);
    free(x);
}

int main(void)
{
    vkt_case cases[64];
    size_t n = 0;
    static const int sizes[] = {1, 7, 256, 1001, 70001};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        vkt_add(cases, &n, 64, run_basic, "fill,add,scale,axpy/n=%d", sizes[s])->p[P_N] = sizes[s];
        vkt_add(cases, &n, 64, run_swiglu_dropout, "swiglu,dropout/n=%d", sizes[s])->p[P_N] = sizes[s];
        vkt_add(cases, &n, 64, run_reduce_adamw, "sum,clip_scale,adamw/n=%d", sizes[s])->p[P_N] = sizes[s];
    }
    vkt_add(cases, &n, 64, run_reduce_adamw, "sum,clip_scale,adamw/n=5000000")->p[P_N] = 5000000;
    static const struct { const char *name; tb_dtype dt; } dts[] = {
        {"f32", TB_DTYPE_F32}, {"bf16", TB_DTYPE_BF16}, {"f16", TB_DTYPE_F16},
    };
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int k = 0; k < 2; k++) {
                int len = k ? 1001 : 12;
                vkt_case *c = vkt_add(cases, &n, 64, run_copy, "copy %s->%s/n=%d", dts[a].name, dts[b].name, len);
                c->p[P_N] = len;
                c->p[P_A] = (int)dts[a].dt;
                c->p[P_B] = (int)dts[b].dt;
            }
    for (int b = 0; b < 3; b++) {
        vkt_case *c = vkt_add(cases, &n, 64, run_bias, "add_bias,bias_backward/N=9,C=33,bias=%s", dts[b].name);
        c->p[P_N] = 9;
        c->p[P_A] = 33;
        c->p[P_B] = (int)dts[b].dt;
    }
    vkt_add(cases, &n, 64, run_pending_errors, "errors/reported at the next sync, once");
    vkt_add(cases, &n, 64, run_out_of_memory, "errors/out of device memory names the bytes");
    vkt_add(cases, &n, 64, run_dependency_chain, "barriers/120 dependent ops in one submit/n=1000");
    return vkt_run("vk_elt", cases, n);
}
