/* Benchmark: single backend ops at the shapes of one LoRA training step (DEMO or SMOL of
 * ../shared/BENCHMARKING.md), each called --reps times; prints the fastest and the median
 * call. With --threads 1 and TB_BENCH_CLOCK=cpu the figures are CPU time, which a busy
 * neighbour on a shared machine hardly moves: what kernel work is judged by.
 *
 *   bench_ops [--shape demo|smol] [--threads N] [--reps 20] [--precision f32|bf16] [--only NAME]
 *             [--cold 1]   (matmuls read and write 8 buffer sets in turn, as a model's layers do) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

static tb_backend *be;

static tb_buf *buf(tb_dtype t, size_t n, float scale)
{
    tb_buf *b;
    tb_error err;
    if (be->ops->buf_alloc(be, &b, t, n, TB_MEM_SCRATCH, &err) != TB_OK)
        bench_die("bench_ops", &err);
    float *h = malloc(n * sizeof *h);
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        h[i] = scale * ((float)(s >> 8) / 8388608.0f - 1.0f);
    }
    if (t == TB_DTYPE_F32) {
        be->ops->upload(be, tb_view_of(b), h, n);
    } else {
        uint16_t *x = malloc(n * 2);
        tb_convert_from_f32(x, t, h, n);
        be->ops->upload(be, tb_view_of(b), x, n);
        free(x);
    }
    free(h);
    return b;
}

typedef struct op_case {
    const char *name;
    double flops;   /* per call, 0: not a product */
    int kind;
    int64_t a[6];
} op_case;

enum { K_ATTN_F, K_ATTN_B, K_NORM_F, K_NORM_B, K_SWIGLU_F, K_SWIGLU_B, K_ROPE, K_MM };

static tb_view v(tb_buf *b) { return tb_view_of(b); }

int main(int argc, char **argv)
{
    const char *shape = "demo", *only = NULL, *precision = "f32";
    long threads = 1, reps = 20, cold = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--shape"))
            shape = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            threads = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps"))
            reps = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--only"))
            only = argv[i + 1];
        else if (!strcmp(argv[i], "--cold"))
            cold = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--precision"))
            precision = argv[i + 1];
        else {
            fprintf(stderr, "bench_ops: unknown flag %s\n", argv[i]);
            return 2;
        }
    }
    bool smol = !strcmp(shape, "smol");
    int64_t D = smol ? 576 : 256, H = smol ? 9 : 8, Hkv = smol ? 3 : 4, F = smol ? 1536 : 688, T = smol ? 512 : 256;
    int64_t B = smol ? 4 : 8, R = 16, Dh = D / H, N = B * T, kvd = Hkv * Dh;
    bool bf16 = !strcmp(precision, "bf16");
    tb_backend_options bo = {.threads = (int)threads, .precision = bf16 ? TB_PRECISION_BF16 : TB_PRECISION_F32,
                             .device = -1};
    tb_error err;
    if (tb_backend_create(&be, "cpu", &bo, NULL, 0, &err) != TB_OK)
        bench_die("bench_ops", &err);
    printf("# %s, shape %s: N=%lld D=%lld H=%lld Hkv=%lld Dh=%lld F=%lld\n", be->description, shape, (long long)N,
           (long long)D, (long long)H, (long long)Hkv, (long long)Dh, (long long)F);
    tb_dtype wt = bf16 ? TB_DTYPE_BF16 : TB_DTYPE_F32;
    tb_buf *q = buf(TB_DTYPE_F32, (size_t)(N * D), 1), *k = buf(TB_DTYPE_F32, (size_t)(N * kvd), 1);
    tb_buf *vv = buf(TB_DTYPE_F32, (size_t)(N * kvd), 1), *o = buf(TB_DTYPE_F32, (size_t)(N * D), 1);
    tb_buf *lse = buf(TB_DTYPE_F32, (size_t)(N * H), 0), *dq = buf(TB_DTYPE_F32, (size_t)(N * D), 0);
    tb_buf *dk = buf(TB_DTYPE_F32, (size_t)(N * kvd), 0), *dv = buf(TB_DTYPE_F32, (size_t)(N * kvd), 0);
    tb_buf *x = buf(TB_DTYPE_F32, (size_t)(N * F), 1), *y = buf(TB_DTYPE_F32, (size_t)(N * F), 1);
    tb_buf *z = buf(TB_DTYPE_F32, (size_t)(N * F), 1), *w = buf(TB_DTYPE_F32, (size_t)(N * F), 1);
    tb_buf *u = buf(TB_DTYPE_F32, (size_t)(N * F), 1);
    tb_buf *nw = buf(TB_DTYPE_F32, (size_t)D, 1), *rstd = buf(TB_DTYPE_F32, (size_t)N, 1);
    tb_buf *wmat = buf(wt, (size_t)(F * D), 0.05f), *la = buf(TB_DTYPE_F32, (size_t)(R * F), 0.05f);
    tb_buf *rope = buf(TB_DTYPE_F32, (size_t)(T * Dh), 1);
    enum { SETS = 8 };
    tb_buf *ca[SETS], *cc[SETS]; /* --cold: (A, C) pairs used in turn */
    for (int i = 0; i < SETS; i++)
        ca[i] = cold ? buf(TB_DTYPE_F32, (size_t)(N * F), 1) : y, cc[i] = cold ? buf(TB_DTYPE_F32, (size_t)(N * F), 1) : z;
    tb_attn_dims ad = {B, T, 0, H, Hkv, Dh, T * kvd, 1.0f / sqrtf((float)Dh)};
    be->ops->attention_forward(be, v(o), v(lse), v(q), v(k), v(vv), &ad);
    double attn = 2.0 * 2.0 * (double)(B * H) * (double)T * (double)(T + 1) / 2.0 * (double)Dh; /* causal */
    op_case cases[] = {
        {"attention forward", attn, K_ATTN_F, {0}},
        {"attention backward", 2.5 * attn, K_ATTN_B, {0}},
        {"rmsnorm forward (N, D)", 0, K_NORM_F, {0}},
        {"rmsnorm backward (N, D)", 0, K_NORM_B, {0}},
        {"swiglu forward (N, F)", 0, K_SWIGLU_F, {0}},
        {"swiglu backward (N, F)", 0, K_SWIGLU_B, {0}},
        {"rope q (N, D)", 0, K_ROPE, {0}},
        {"matmul x W^T (N, D) -> (N, F)", 2.0 * (double)(N * F * D), K_MM, {N, F, D, TB_MM_TRANS_B, 0}},
        {"matmul dy W (N, F) -> (N, D)", 2.0 * (double)(N * F * D), K_MM, {N, D, F, 0, 0}},
        {"matmul x W^T (N, D) -> (N, D)", 2.0 * (double)(N * D * D), K_MM, {N, D, D, TB_MM_TRANS_B, 0}},
        {"lora x A^T (N, D) -> (N, R)", 2.0 * (double)(N * R * D), K_MM, {N, R, D, TB_MM_TRANS_B, 1}},
        {"lora h B^T (N, R) -> (N, D)", 2.0 * (double)(N * R * D), K_MM, {N, D, R, TB_MM_TRANS_B, 1}},
        {"lora dy B (N, D) -> (N, R)", 2.0 * (double)(N * R * D), K_MM, {N, R, D, 0, 1}},
        {"lora dh^T x (R, D) += ", 2.0 * (double)(N * R * D), K_MM, {R, D, N, TB_MM_TRANS_A, 2}},
        {"lora dy^T h (D, R) += ", 2.0 * (double)(N * R * D), K_MM, {D, R, N, TB_MM_TRANS_A, 3}},
        {"lora dh A (N, R) -> (N, D) +=", 2.0 * (double)(N * R * D), K_MM, {N, D, R, 0, 1}},
    };
    double *t = calloc((size_t)reps, sizeof *t);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        op_case *oc = &cases[c];
        if (only && !strstr(oc->name, only))
            continue;
        for (long r = -1; r < reps; r++) {
            double t0 = bench_now();
            switch (oc->kind) {
            case K_ATTN_F: be->ops->attention_forward(be, v(o), v(lse), v(q), v(k), v(vv), &ad); break;
            case K_ATTN_B:
                be->ops->attention_backward(be, v(dq), v(dk), v(dv), v(z), v(q), v(k), v(vv), v(o), v(lse), &ad);
                break;
            case K_NORM_F: be->ops->rmsnorm_forward(be, v(y), v(rstd), v(x), v(nw), N, D, 1e-5f); break;
            case K_NORM_B: be->ops->rmsnorm_backward(be, v(y), TB_VIEW_NONE, v(z), v(x), v(nw), v(rstd), N, D); break;
            case K_SWIGLU_F: be->ops->swiglu_forward(be, v(w), v(x), v(y), (size_t)(N * F)); break;
            case K_SWIGLU_B: be->ops->swiglu_backward(be, v(w), v(u), v(z), v(x), v(y), (size_t)(N * F)); break;
            case K_ROPE: be->ops->rope_forward(be, v(q), v(rope), B, T, H, Dh, 0); break;
            case K_MM: {
                int64_t M = oc->a[0], Nn = oc->a[1], K = oc->a[2];
                /* a[4]: 0 the layer weight, 1 a LoRA matrix (f32), 2 a LoRA gradient (A = dh, the
                 * activation x is B and the cold operand) */
                int set = (int)((r + 1) % SETS);
                bool grad = oc->a[4] >= 2; /* 3: dB = dy^T h, the cold dy is A */
                if (oc->a[4] == 3) {
                    be->ops->matmul(be, v(cc[set]), v(ca[set]), tb_wdense(v(x)), M, Nn, K, (int)oc->a[3], 1.0f, 1.0f);
                    break;
                }
                tb_wview bw = tb_wdense(oc->a[4] == 0 ? v(wmat) : oc->a[4] == 1 ? v(la) : v(ca[set]));
                be->ops->matmul(be, v(cc[set]), grad ? v(x) : v(ca[set]), bw, M, Nn, K, (int)oc->a[3], 1.0f,
                                grad ? 1.0f : 0.0f);
                break;
            }
            }
            if (be->ops->sync(be, &err) != TB_OK)
                bench_die("bench_ops", &err);
            if (r >= 0)
                t[r] = bench_now() - t0;
        }
        double best = t[0];
        for (long r = 0; r < reps; r++)
            best = t[r] < best ? t[r] : best;
        double med = bench_median(t, (int)reps);
        printf("%-34s best %8.3f ms  median %8.3f ms", oc->name, best * 1e3, med * 1e3);
        if (oc->flops > 0)
            printf("  %7.1f GFLOP/s (best)", oc->flops / best / 1e9);
        printf("\n");
    }
    free(t);
    for (int i = 0; cold && i < SETS; i++)
        be->ops->buf_free(be, ca[i]), be->ops->buf_free(be, cc[i]);
    tb_buf *all[] = {q, k, vv, o, lse, dq, dk, dv, x, y, z, w, u, nw, rstd, wmat, la, rope};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        be->ops->buf_free(be, all[i]);
    tb_backend_destroy(be);
    return 0;
}
