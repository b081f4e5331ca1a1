/* tunebench — Vulkan benchmarks: the device's f32 FMA peak, matmul GFLOP/s on the model
 * shapes of BENCHMARKING.md (DEMO, SMOL), attention, and the LoRA training-step proxy
 * (lora_step.c) in tokens/s. One RESULT line per measurement, medians of --runs.
 *
 *   vk_bench [--device N] [--only peak,matmul,attention,step] [--quick] [--runs N]
 *
 * --quick: small shapes only (lavapipe, correctness of the harness); without it the full
 * DEMO and SMOL shapes (a GPU: tests/bench/gpu_check.sh). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/backend/vulkan/vk_backend.h"
#include "engine/backend/vulkan/vk_context.h"
#include "engine/backend/vulkan/vk_push.h"
#include "tests/bench/lora_step.h"

static bool g_quick;
static int g_runs = 5;
static tb_backend *g_be;
static tb_vk_ctx *g_ctx;
static double g_peak;   /* measured f32 FMA GFLOP/s, 0 when not measured */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const char *what, const tb_error *err)
{
    char buf[1024];
    fprintf(stderr, "vk_bench: %s: %s\n", what, tb_error_format(err, buf, sizeof buf));
    exit(1);
}

/* Seconds per call of fn(arg) repeated reps times in one submit: GPU timestamps when the
 * queue has them, else wall clock around the submit. Median of g_runs batches. */
static double time_batch(void (*fn)(void *), void *arg, int reps)
{
    double t[32];
    tb_error err;
    fn(arg);   /* warm-up: pipelines built, caches warm */
    if (g_be->ops->sync(g_be, &err) != TB_OK)
        die("warm-up", &err);
    int runs = g_runs < 32 ? g_runs : 32;
    for (int r = 0; r < runs; r++) {
        bool ts = tb_vk_timestamp(g_ctx, 0, &err) == TB_OK;
        double w0 = now_s();
        for (int i = 0; i < reps; i++)
            fn(arg);
        if (ts)
            tb_vk_timestamp(g_ctx, 1, &err);
        if (g_be->ops->sync(g_be, &err) != TB_OK)
            die("run", &err);
        double w1 = now_s(), ns[2];
        t[r] = ts && tb_vk_timestamps_read(g_ctx, 2, ns, &err) == TB_OK ? (ns[1] - ns[0]) * 1e-9 : w1 - w0;
        t[r] /= reps;
    }
    return median(t, runs);
}

/* ---------------------------------------------------------------------- peak */

typedef struct peak_arg {
    tb_vk_pipeline *p;
    tb_vk_buffer *out;
    uint32_t groups, iters;
} peak_arg;

static void peak_once(void *a)
{
    peak_arg *pa = a;
    tb_pc_ew pc = {.n = pa->iters, .alpha = 0.999f, .p = 1e-3f};
    tb_vk_bind b[1] = {{pa->out, true}};
    tb_error err;
    if (tb_vk_dispatch(g_ctx, pa->p, b, &pc, pa->groups, 1, 1, &err) != TB_OK)
        die("fma_peak", &err);
}

static void bench_peak(void)
{
    peak_arg pa = {.groups = g_quick ? 64 : 16384, .iters = g_quick ? 256 : 4096};
    tb_error err;
    if (tb_vk_pipeline_get(g_ctx, "fma_peak", 1, sizeof(tb_pc_ew), NULL, 0, &pa.p, &err) ||
        tb_vk_buffer_create(g_ctx, (size_t)pa.groups * 256 * 4, "peak", &pa.out, &err))
        die("fma_peak", &err);
    double s = time_batch(peak_once, &pa, 3);
    g_peak = 2.0 * 8.0 * pa.iters * pa.groups * 256.0 / s / 1e9;
    printf("RESULT peak fp32_fma_gflops=%.0f (8 FMA chains x %u iterations x %u invocations, %.3f ms)\n", g_peak,
           pa.iters, pa.groups * 256, s * 1e3);
    tb_vk_buffer_free(pa.out);
}

/* ---------------------------------------------------------------------- matmul */

typedef struct mm_arg {
    tb_buf *a, *b, *c;
    int64_t M, N, K;
    int flags;
} mm_arg;

static void mm_once(void *p)
{
    mm_arg *m = p;
    g_be->ops->matmul(g_be, tb_view_of(m->c), tb_view_of(m->a), tb_wdense(tb_view_of(m->b)), m->M, m->N, m->K,
                      m->flags, 1.0f, 0.0f);
}

static tb_buf *alloc(tb_dtype dt, int64_t n)
{
    tb_buf *b;
    tb_error err;
    if (g_be->ops->buf_alloc(g_be, &b, dt, (size_t)n, TB_MEM_SCRATCH, &err) != TB_OK)
        die("alloc", &err);
    return b;
}

static void bench_matmul(const char *label, int64_t M, int64_t N, int64_t K, int flags, tb_dtype wdt)
{
    mm_arg m = {.a = alloc(TB_DTYPE_F32, M * K), .b = alloc(wdt, K * N), .c = alloc(TB_DTYPE_F32, M * N),
                .M = M, .N = N, .K = K, .flags = flags};
    double flops = 2.0 * (double)M * (double)N * (double)K;
    int reps = (int)fmin(200.0, fmax(1.0, (g_quick ? 2e8 : 2e11) / flops));
    double s = time_batch(mm_once, &m, reps);
    double gf = flops / s / 1e9;
    printf("RESULT matmul %-16s M=%-6lld N=%-6lld K=%-6lld %s%s w=%-4s median_ms=%.3f gflops=%.0f", label,
           (long long)M, (long long)N, (long long)K, flags & TB_MM_TRANS_A ? "t" : "n",
           flags & TB_MM_TRANS_B ? "t" : "n", tb_dtype_short_name(wdt), s * 1e3, gf);
    if (g_peak > 0)
        printf(" of_peak=%.0f%%", 100.0 * gf / g_peak);
    printf("\n");
    g_be->ops->buf_free(g_be, m.a);
    g_be->ops->buf_free(g_be, m.b);
    g_be->ops->buf_free(g_be, m.c);
}

/* The products of a LoRA step on a model of dim D, ffn F, kv width kvD, vocab V, M tokens. */
static void bench_model_matmuls(const char *name, int64_t M, int64_t D, int64_t F, int64_t kvD, int64_t V,
                                int64_t R, tb_dtype wdt)
{
    char l[32];
#define L(x) (snprintf(l, sizeof l, "%s.%s", name, x), l)
    bench_matmul(L("q_fwd"), M, D, D, TB_MM_TRANS_B, wdt);
    bench_matmul(L("kv_fwd"), M, kvD, D, TB_MM_TRANS_B, wdt);
    bench_matmul(L("up_fwd"), M, F, D, TB_MM_TRANS_B, wdt);
    bench_matmul(L("down_fwd"), M, D, F, TB_MM_TRANS_B, wdt);
    bench_matmul(L("up_dx"), M, D, F, 0, wdt);
    bench_matmul(L("head_fwd"), M, V, D, TB_MM_TRANS_B, wdt);
    bench_matmul(L("head_dx"), M, D, V, 0, wdt);
    if (wdt == TB_DTYPE_F32) {
        bench_matmul(L("lora_down"), M, R, D, TB_MM_TRANS_B, wdt);
        bench_matmul(L("lora_up"), M, D, R, TB_MM_TRANS_B, wdt);
        bench_matmul(L("lora_dA"), R, D, M, TB_MM_TRANS_A, wdt);
        bench_matmul(L("lora_dB"), D, R, M, TB_MM_TRANS_A, wdt);
    }
#undef L
}

/* ---------------------------------------------------------------------- attention */

typedef struct attn_arg {
    tb_buf *q, *k, *v, *o, *lse, *dq, *dk, *dv, *dout;
    tb_attn_dims d;
    bool backward;
} attn_arg;

static void attn_once(void *p)
{
    attn_arg *a = p;
    if (!a->backward)
        g_be->ops->attention_forward(g_be, tb_view_of(a->o), tb_view_of(a->lse), tb_view_of(a->q), tb_view_of(a->k),
                                     tb_view_of(a->v), &a->d);
    else
        g_be->ops->attention_backward(g_be, tb_view_of(a->dq), tb_view_of(a->dk), tb_view_of(a->dv),
                                      tb_view_of(a->dout), tb_view_of(a->q), tb_view_of(a->k), tb_view_of(a->v),
                                      tb_view_of(a->o), tb_view_of(a->lse), &a->d);
}

static void bench_attention(const char *name, int64_t B, int64_t T, int64_t H, int64_t Hkv, int64_t Dh)
{
    int64_t nq = B * T * H * Dh, nkv = B * T * Hkv * Dh;
    attn_arg a = {.q = alloc(TB_DTYPE_F32, nq), .k = alloc(TB_DTYPE_F32, nkv), .v = alloc(TB_DTYPE_F32, nkv),
                  .o = alloc(TB_DTYPE_F32, nq), .lse = alloc(TB_DTYPE_F32, B * H * T),
                  .dq = alloc(TB_DTYPE_F32, nq), .dk = alloc(TB_DTYPE_F32, nkv), .dv = alloc(TB_DTYPE_F32, nkv),
                  .dout = alloc(TB_DTYPE_F32, nq),
                  .d = {.B = B, .Tq = T, .H = H, .Hkv = Hkv, .Dh = Dh, .kv_stride_b = T * Hkv * Dh,
                        .scale = 1.0f / sqrtf((float)Dh)}};
    /* causal: half the (T x T) scores; q k^T and p v, 2 flops per multiply-add */
    double flops = 2.0 * 2.0 * (double)(B * H) * (double)T * (double)T / 2.0 * (double)Dh;
    double f = time_batch(attn_once, &a, g_quick ? 1 : 10);
    a.backward = true;
    double b = time_batch(attn_once, &a, g_quick ? 1 : 10);
    printf("RESULT attention %s B=%lld T=%lld H=%lld Hkv=%lld Dh=%lld fwd_ms=%.3f fwd_gflops=%.0f bwd_ms=%.3f "
           "bwd_gflops=%.0f\n", name, (long long)B, (long long)T, (long long)H, (long long)Hkv, (long long)Dh,
           f * 1e3, flops / f / 1e9, b * 1e3, 2.5 * flops / b / 1e9);
    tb_buf *all[] = {a.q, a.k, a.v, a.o, a.lse, a.dq, a.dk, a.dv, a.dout};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        g_be->ops->buf_free(g_be, all[i]);
}

/* ---------------------------------------------------------------------- training step */

static void bench_step(const lora_shape *s, int steps)
{
    lora_step *st;
    tb_error err;
    if (lora_step_init(&st, g_be, s, &err) != TB_OK) {
        char buf[1024];
        printf("RESULT step %s skipped: %s\n", s->name, tb_error_format(&err, buf, sizeof buf));
        return;
    }
    double t[64];
    float loss = 0, first = 0, gnorm = 0;
    int n = 0;
    for (int i = 1; i <= steps + 2 && n < 64; i++) {
        double t0 = now_s();
        if (lora_step_run(st, i, &loss, &gnorm, &err) != TB_OK)
            die("step", &err);
        if (i == 1)
            first = loss;
        if (i > 2)   /* two warm-up steps */
            t[n++] = now_s() - t0;
    }
    double med = median(t, n), tokens = (double)(s->B * s->T);
    printf("RESULT step %s tokens_per_step=%.0f median_step_s=%.4f min=%.4f max=%.4f tokens_per_s=%.1f "
           "gflops=%.0f loss_first=%.4f loss_last=%.4f grad_norm=%.4g\n", s->name, tokens, med, t[0], t[n - 1],
           tokens / med, lora_step_flops(s) / med / 1e9, (double)first, (double)loss, (double)gnorm);
    lora_step_free(st);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"device", required_argument, NULL, 'd'}, {"only", required_argument, NULL, 'o'},
        {"quick", no_argument, NULL, 'q'},        {"runs", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    int device = -1, c;
    const char *only = "peak,matmul,attention,step";
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'd')
            device = atoi(optarg);
        else if (c == 'o')
            only = optarg;
        else if (c == 'q')
            g_quick = true;
        else if (c == 'r')
            g_runs = atoi(optarg) > 0 ? atoi(optarg) : 1;
        else
            return 2;
    }
    tb_backend_options opt = {.device = device};
    tb_error err;
    if (tb_vulkan_backend_create(&g_be, &opt, &err) != TB_OK)
        die("vulkan", &err);
    g_ctx = tb_vulkan_backend_ctx(g_be);
    printf("# %s; quick=%d runs=%d\n", g_be->description, g_quick, g_runs);
    fflush(stdout);
    if (strstr(only, "peak"))
        bench_peak();
    if (strstr(only, "matmul")) {
        if (g_quick) {
            bench_model_matmuls("tiny", 256, 128, 344, 64, 512, 16, TB_DTYPE_F32);
        } else {
            bench_matmul("square", 4096, 4096, 4096, TB_MM_TRANS_B, TB_DTYPE_F32);
            bench_matmul("square", 4096, 4096, 4096, 0, TB_DTYPE_F32);
            bench_model_matmuls("demo", 2048, 256, 688, 128, 2048, 16, TB_DTYPE_F32);
            bench_model_matmuls("smol", 2048, 576, 1536, 192, 49152, 16, TB_DTYPE_F32);
            bench_model_matmuls("smol", 2048, 576, 1536, 192, 49152, 16, TB_DTYPE_BF16);
        }
        fflush(stdout);
    }
    if (strstr(only, "attention")) {
        if (g_quick) {
            bench_attention("tiny", 2, 64, 4, 2, 32);
        } else {
            bench_attention("demo", 8, 256, 8, 4, 32);
            bench_attention("smol", 4, 512, 9, 3, 64);
        }
        fflush(stdout);
    }
    if (strstr(only, "step")) {
        /* BENCHMARKING.md's shapes; --quick runs a toy one through the same code. */
        static const lora_shape tiny = {"tiny", 64, 2, 4, 2, 172, 512, 32, 2, 8, true, TB_DTYPE_F32};
        static const lora_shape demo = {"demo", 256, 8, 8, 4, 688, 2048, 256, 8, 16, true, TB_DTYPE_F32};
        static const lora_shape smol = {"smol", 576, 30, 9, 3, 1536, 49152, 512, 4, 16, true, TB_DTYPE_F32};
        static const lora_shape smol_all = {"smol_all", 576, 30, 9, 3, 1536, 49152, 512, 4, 16, false, TB_DTYPE_F32};
        static const lora_shape smol_bf16 = {"smol_bf16", 576, 30, 9, 3, 1536, 49152, 512, 4, 16, true, TB_DTYPE_BF16};
        if (g_quick) {
            bench_step(&tiny, 3);
        } else {
            bench_step(&demo, 8);
            bench_step(&smol, 5);
            bench_step(&smol_all, 5);
            bench_step(&smol_bf16, 5);
        }
    }
    g_be->ops->destroy(g_be);
    return 0;
}
