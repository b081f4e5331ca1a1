/* Vulkan layer kernels against the oracle backend: embedding (forward, scatter-add backward
 * with repeated ids), RMSNorm (forward, backward, weight gradient; f32/bf16/f16 weights),
 * RoPE (forward and backward, KV-cache offsets), fused softmax + cross-entropy with masked
 * rows. */
#include <math.h>
#include <stdlib.h>

#include "tests/vulkan/vk_test_util.h"

enum { P_N, P_D, P_DT, P_X, P_Y };

static void run_embedding(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    int N = c->p[P_N], D = c->p[P_D], V = c->p[P_X];
    float *table = vkt_rand((size_t)V * D, 61, 1.0f), *dout = vkt_rand((size_t)N * D, 62, 1.0f);
    int32_t *ids = malloc((size_t)N * sizeof *ids);
    for (int i = 0; i < N; i++)
        ids[i] = (i * 7 + 3) % V;   /* repeats once N > V: the scatter must add, not race */
    vkt_tensor tt = vkt_new((tb_dtype)c->p[P_DT], (size_t)V * D, table), ti = vkt_new(TB_DTYPE_I32, (size_t)N, ids);
    vkt_tensor out = vkt_new(TB_DTYPE_F32, (size_t)N * D, NULL), td = vkt_new(TB_DTYPE_F32, (size_t)N * D, dout);
    vkt_tensor dt = vkt_new(TB_DTYPE_F32, (size_t)V * D, table);
    VKT_BOTH(be->ops->embedding_forward(be, out.v[i], tt.v[i], ti.v[i], N, D));
    VKT_BOTH(be->ops->embedding_backward(be, dt.v[i], td.v[i], ti.v[i], N, D));
    vkt_expect("embedding_forward", &out, 0.0);    /* a gather: exact */
    vkt_expect("embedding_backward", &dt, 1e-13);  /* f32 sums in row order vs double */
    vkt_free(&tt);
    vkt_free(&ti);
    vkt_free(&out);
    vkt_free(&td);
    vkt_free(&dt);
    free(table);
    free(dout);
    free(ids);
}

static void run_rmsnorm(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    int N = c->p[P_N], D = c->p[P_D];
    size_t n = (size_t)N * D;
    float *x = vkt_rand(n, 71, 2.0f), *w = vkt_rand((size_t)D, 72, 1.0f), *g = vkt_rand(n, 73, 1.0f);
    float *dx0 = vkt_rand(n, 74, 1.0f), *dw0 = vkt_rand((size_t)D, 75, 1.0f);
    vkt_tensor tx = vkt_new(TB_DTYPE_F32, n, x), tw = vkt_new((tb_dtype)c->p[P_DT], (size_t)D, w);
    vkt_tensor out = vkt_new(TB_DTYPE_F32, n, NULL), rstd = vkt_new(TB_DTYPE_F32, (size_t)N, NULL);
    vkt_tensor tg = vkt_new(TB_DTYPE_F32, n, g), dx = vkt_new(TB_DTYPE_F32, n, dx0);
    vkt_tensor dw = vkt_new(TB_DTYPE_F32, (size_t)D, dw0), inpl = vkt_new(TB_DTYPE_F32, n, x);
    VKT_BOTH(be->ops->rmsnorm_forward(be, out.v[i], rstd.v[i], tx.v[i], tw.v[i], N, D, 1e-5f));
    VKT_BOTH(be->ops->rmsnorm_backward(be, dx.v[i], dw.v[i], tg.v[i], tx.v[i], tw.v[i], rstd.v[i], N, D));
    /* inference: no rstd, output over its input */
    VKT_BOTH(be->ops->rmsnorm_forward(be, inpl.v[i], TB_VIEW_NONE, inpl.v[i], tw.v[i], N, D, 1e-5f));
    /* f32 sum of squares vs double: ~1e-14 */
    vkt_expect("rmsnorm_forward out", &out, 1e-12);
    vkt_expect("rmsnorm_forward rstd", &rstd, 1e-12);
    vkt_expect("rmsnorm_forward in place", &inpl, 1e-12);
    vkt_expect("rmsnorm_backward dinp", &dx, 1e-12);
    vkt_expect("rmsnorm_backward dweight", &dw, 1e-12);
    vkt_tensor *all[] = {&tx, &tw, &out, &rstd, &tg, &dx, &dw, &inpl};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        vkt_free(all[i]);
    free(x);
    free(w);
    free(g);
    free(dx0);
    free(dw0);
}

static void run_rope(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    int B = c->p[P_N], T = c->p[P_X], nh = c->p[P_Y], Dh = c->p[P_D], pos0 = c->p[P_DT];
    int P = pos0 + T + 3;
    /* The table engine/model builds: row p = cos(p f_j), then sin(p f_j), f_j = theta^(-2j/Dh). */
    float *tab = malloc((size_t)P * Dh * sizeof *tab);
    for (int p = 0; p < P; p++)
        for (int j = 0; j < Dh / 2; j++) {
            double f = pow(10000.0, -2.0 * j / Dh);
            tab[p * Dh + j] = (float)cos(p * f);
            tab[p * Dh + Dh / 2 + j] = (float)sin(p * f);
        }
    size_t n = (size_t)B * T * nh * Dh;
    float *x = vkt_rand(n, 81, 1.0f);
    vkt_tensor tt = vkt_new(TB_DTYPE_F32, (size_t)P * Dh, tab), tx = vkt_new(TB_DTYPE_F32, n, x);
    vkt_tensor td = vkt_new(TB_DTYPE_F32, n, x);
    VKT_BOTH(be->ops->rope_forward(be, tx.v[i], tt.v[i], B, T, nh, Dh, pos0));
    VKT_BOTH(be->ops->rope_backward(be, td.v[i], tt.v[i], B, T, nh, Dh, pos0));
    /* the same products in f32 on both sides; only fma contraction may differ */
    vkt_expect("rope_forward", &tx, 1e-13);
    vkt_expect("rope_backward", &td, 1e-13);
    vkt_free(&tt);
    vkt_free(&tx);
    vkt_free(&td);
    free(tab);
    free(x);
}

static void run_xent(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    int N = c->p[P_N], V = c->p[P_D];
    float *z = vkt_rand((size_t)N * V, 91, 8.0f);
    int32_t *t = malloc((size_t)N * sizeof *t);
    int count = 0;
    for (int i = 0; i < N; i++) {
        t[i] = i % 3 == 1 ? -100 : (i * 977 + 5) % V;   /* every third row masked */
        count += t[i] >= 0;
    }
    vkt_tensor tz = vkt_new(TB_DTYPE_F32, (size_t)N * V, z), tt = vkt_new(TB_DTYPE_I32, (size_t)N, t);
    vkt_tensor keep = vkt_new(TB_DTYPE_F32, (size_t)N * V, z);
    vkt_tensor loss = vkt_new(TB_DTYPE_F32, (size_t)N, NULL), loss2 = vkt_new(TB_DTYPE_F32, (size_t)N, NULL);
    float gs = count ? 1.0f / (float)count : 1.0f;
    VKT_BOTH(be->ops->xent_forward_backward(be, loss.v[i], tz.v[i], tt.v[i], N, V, gs));
    VKT_BOTH(be->ops->xent_forward_backward(be, loss2.v[i], keep.v[i], tt.v[i], N, V, 0.0f));
    /* Both sides sum V exps in f32, each in its own order: the CPU's portable kernel (no
     * AVX-512) serially, ~sqrt(V) 2^-24 relative = 1.3e-5 at V = 49155, nMSE ~2e-10
     * (5e-12 seen); with AVX-512 in 16 lanes, ~1e-13. */
    vkt_expect("xent loss", &loss, 1e-10);
    vkt_expect("xent dlogits", &tz, 1e-10);
    vkt_expect("xent loss (no grad)", &loss2, 1e-10);
    vkt_expect_bits("xent logits kept when grad_scale == 0", &keep);
    vkt_tensor *all[] = {&tz, &tt, &keep, &loss, &loss2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        vkt_free(all[i]);
    free(z);
    free(t);
}

int main(void)
{
    vkt_case cases[64];
    size_t n = 0;
    static const struct { const char *name; tb_dtype dt; } dts[] = {
        {"f32", TB_DTYPE_F32}, {"bf16", TB_DTYPE_BF16}, {"f16", TB_DTYPE_F16},
    };
    static const int emb[][3] = {{1, 1, 1}, {19, 33, 50}, {200, 64, 37}};   /* N, D, V */
    for (size_t s = 0; s < 3; s++)
        for (int d = 0; d < 3; d++) {
            if (s != 1 && d)
                continue;
            vkt_case *c = vkt_add(cases, &n, 64, run_embedding, "embedding/N=%d,D=%d,V=%d,table=%s",
                                  emb[s][0], emb[s][1], emb[s][2], dts[d].name);
            c->p[P_N] = emb[s][0];
            c->p[P_D] = emb[s][1];
            c->p[P_X] = emb[s][2];
            c->p[P_DT] = (int)dts[d].dt;
        }
    static const int rms[][2] = {{1, 1}, {1, 64}, {7, 577}, {33, 1000}, {300, 33}};
    for (size_t s = 0; s < 5; s++)
        for (int d = 0; d < 3; d++) {
            if (s != 2 && d)
                continue;
            vkt_case *c = vkt_add(cases, &n, 64, run_rmsnorm, "rmsnorm/N=%d,D=%d,weight=%s", rms[s][0], rms[s][1],
                                  dts[d].name);
            c->p[P_N] = rms[s][0];
            c->p[P_D] = rms[s][1];
            c->p[P_DT] = (int)dts[d].dt;
        }
    static const int rope[][5] = {{1, 1, 1, 2, 0}, {2, 5, 3, 8, 0}, {2, 5, 3, 8, 4}, {1, 17, 2, 64, 0},
                                  {3, 2, 4, 128, 9}};   /* B, T, nh, Dh, pos0 */
    for (size_t s = 0; s < 5; s++) {
        vkt_case *c = vkt_add(cases, &n, 64, run_rope, "rope/B=%d,T=%d,nh=%d,Dh=%d,pos0=%d", rope[s][0],
                              rope[s][1], rope[s][2], rope[s][3], rope[s][4]);
        c->p[P_N] = rope[s][0];
        c->p[P_X] = rope[s][1];
        c->p[P_Y] = rope[s][2];
        c->p[P_D] = rope[s][3];
        c->p[P_DT] = rope[s][4];
    }
    static const int xe[][2] = {{1, 1}, {1, 7}, {5, 1000}, {3, 49155}, {40, 300}};
    for (size_t s = 0; s < 5; s++) {
        vkt_case *c = vkt_add(cases, &n, 64, run_xent, "xent/N=%d,V=%d", xe[s][0], xe[s][1]);
        c->p[P_N] = xe[s][0];
        c->p[P_D] = xe[s][1];
    }
    return vkt_run("vk_layers", cases, n);
}
