/* Benchmark helpers. */
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/core/fs.h"

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

_Noreturn void bench_die(const char *prog, const tb_error *err)
{
    char buf[1024];
    fprintf(stderr, "%s: %s\n", prog, tb_error_format(err, buf, sizeof buf));
    exit(2);
}

const char *bench_model_dir(const char *tag, const tiny_spec *spec)
{
    static char dir[256];
    snprintf(dir, sizeof dir, "/tmp/tunebench-bench-%s-%s", tag, tb_dtype_short_name(spec->dtype));
    char path[300];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!tb_path_exists(path)) {
        fprintf(stderr, "bench: writing a random %s-shaped model to %s\n", tag, dir);
        if (tiny_model_write(dir, spec) != 0) {
            fprintf(stderr, "bench: cannot write %s\n", dir);
            exit(2);
        }
    }
    return dir;
}

/* ------------------------------------------------------------------ profiler */

enum {
    P_MM_LAYERS, P_MM_HEAD, P_MM_LORA, P_ATTN_F, P_ATTN_B, P_XENT, P_NORM_F, P_NORM_B, P_ROPE, P_SWIGLU_F,
    P_SWIGLU_B, P_EMB, P_ADAMW, P_REDUCE, P_COPY_FILL, P_OTHER, P_COUNT
};
static const char *const names[P_COUNT] = {
    "matmul, layer weights", "matmul, LM head", "matmul, LoRA A/B", "attention forward", "attention backward",
    "softmax + cross-entropy", "rmsnorm forward", "rmsnorm backward", "rope fwd + bwd", "swiglu forward",
    "swiglu backward", "embedding", "adamw", "sum / sum of squares", "copy / fill / axpy", "other",
};
static double acc[P_COUNT];
static long V_, R_;
static const tb_backend_ops *real;
static tb_backend_ops wrapped;

#define TIMED(k, call)                                                         \
    do {                                                                       \
        double t0_ = bench_now();                                              \
        call;                                                                  \
        acc[k] += bench_now() - t0_;                                           \
    } while (0)

/* matmuls by shape too: where a matmul group's time goes */
typedef struct shape_acc {
    int64_t M, N, K;
    int flags;
    long calls;
    double s;
} shape_acc;
static shape_acc shapes[64];
static int n_shapes;

static void p_matmul(tb_backend *be, tb_view c, tb_view a, tb_wview b, int64_t M, int64_t N, int64_t K, int f, float al,
                     float bt)
{
    int k = N == V_ || K == V_ ? P_MM_HEAD : (M == R_ || N == R_ || K == R_) ? P_MM_LORA : P_MM_LAYERS;
    double t0 = bench_now();
    real->matmul(be, c, a, b, M, N, K, f, al, bt);
    double dt = bench_now() - t0;
    acc[k] += dt;
    int i = 0;
    while (i < n_shapes && !(shapes[i].M == M && shapes[i].N == N && shapes[i].K == K && shapes[i].flags == f))
        i++;
    if (i == n_shapes && n_shapes < 64)
        shapes[n_shapes++] = (shape_acc){M, N, K, f, 0, 0};
    if (i < 64)
        shapes[i].calls++, shapes[i].s += dt;
}
static void p_attn_f(tb_backend *be, tb_view o, tb_view l, tb_view q, tb_view k, tb_view v, const tb_attn_dims *d)
{
    TIMED(P_ATTN_F, real->attention_forward(be, o, l, q, k, v, d));
}
static void p_attn_b(tb_backend *be, tb_view dq, tb_view dk, tb_view dv, tb_view dout, tb_view q, tb_view k, tb_view v,
                     tb_view out, tb_view lse, const tb_attn_dims *d)
{
    TIMED(P_ATTN_B, real->attention_backward(be, dq, dk, dv, dout, q, k, v, out, lse, d));
}
static void p_xent(tb_backend *be, tb_view loss, tb_view logits, tb_view t, int64_t N, int64_t V, float g)
{
    TIMED(P_XENT, real->xent_forward_backward(be, loss, logits, t, N, V, g));
}
static void p_norm_f(tb_backend *be, tb_view o, tb_view r, tb_view i, tb_view w, int64_t N, int64_t D, float e)
{
    TIMED(P_NORM_F, real->rmsnorm_forward(be, o, r, i, w, N, D, e));
}
static void p_norm_b(tb_backend *be, tb_view di, tb_view dw, tb_view dout, tb_view i, tb_view w, tb_view r, int64_t N,
                     int64_t D)
{
    TIMED(P_NORM_B, real->rmsnorm_backward(be, di, dw, dout, i, w, r, N, D));
}
static void p_rope_f(tb_backend *be, tb_view x, tb_view t, int64_t B, int64_t T, int64_t nh, int64_t Dh, int64_t p0)
{
    TIMED(P_ROPE, real->rope_forward(be, x, t, B, T, nh, Dh, p0));
}
static void p_rope_b(tb_backend *be, tb_view x, tb_view t, int64_t B, int64_t T, int64_t nh, int64_t Dh, int64_t p0)
{
    TIMED(P_ROPE, real->rope_backward(be, x, t, B, T, nh, Dh, p0));
}
static void p_swiglu_f(tb_backend *be, tb_view o, tb_view g, tb_view u, size_t n)
{
    TIMED(P_SWIGLU_F, real->swiglu_forward(be, o, g, u, n));
}
static void p_swiglu_b(tb_backend *be, tb_view dg, tb_view du, tb_view d, tb_view g, tb_view u, size_t n)
{
    TIMED(P_SWIGLU_B, real->swiglu_backward(be, dg, du, d, g, u, n));
}
static void p_emb(tb_backend *be, tb_view o, tb_view t, tb_view i, int64_t N, int64_t D)
{
    TIMED(P_EMB, real->embedding_forward(be, o, t, i, N, D));
}
static void p_adamw(tb_backend *be, tb_view p, tb_view g, tb_view m, tb_view v, size_t n, tb_view s,
                    const tb_adamw_params *a)
{
    TIMED(P_ADAMW, real->adamw(be, p, g, m, v, n, s, a));
}
static void p_sum(tb_backend *be, tb_view o, tb_view x, size_t n) { TIMED(P_REDUCE, real->sum(be, o, x, n)); }
static void p_sumsq(tb_backend *be, tb_view o, tb_view x, size_t n) { TIMED(P_REDUCE, real->sum_squares(be, o, x, n)); }
static void p_copy(tb_backend *be, tb_view d, tb_view s, size_t n) { TIMED(P_COPY_FILL, real->copy(be, d, s, n)); }
static void p_fill(tb_backend *be, tb_view x, float v, size_t n) { TIMED(P_COPY_FILL, real->fill(be, x, v, n)); }
static void p_axpy(tb_backend *be, tb_view y, float a, tb_view x, size_t n) { TIMED(P_COPY_FILL, real->axpy(be, y, a, x, n)); }
static void p_bias(tb_backend *be, tb_view x, tb_view b, int64_t N, int64_t C) { TIMED(P_OTHER, real->add_bias(be, x, b, N, C)); }
static void p_drop_f(tb_backend *be, tb_view o, tb_view i, size_t n, float p, uint32_t s)
{
    TIMED(P_OTHER, real->dropout_forward(be, o, i, n, p, s));
}
static void p_drop_b(tb_backend *be, tb_view d, tb_view o, size_t n, float p, uint32_t s)
{
    TIMED(P_OTHER, real->dropout_backward(be, d, o, n, p, s));
}

void bench_profile_on(tb_backend *be, long V, long R)
{
    real = be->ops;
    wrapped = *real;
    V_ = V, R_ = R;
    wrapped.matmul = p_matmul, wrapped.attention_forward = p_attn_f, wrapped.attention_backward = p_attn_b;
    wrapped.xent_forward_backward = p_xent, wrapped.rmsnorm_forward = p_norm_f, wrapped.rmsnorm_backward = p_norm_b;
    wrapped.rope_forward = p_rope_f, wrapped.rope_backward = p_rope_b, wrapped.swiglu_forward = p_swiglu_f;
    wrapped.swiglu_backward = p_swiglu_b, wrapped.embedding_forward = p_emb, wrapped.adamw = p_adamw;
    wrapped.sum = p_sum, wrapped.sum_squares = p_sumsq, wrapped.copy = p_copy, wrapped.fill = p_fill;
    wrapped.axpy = p_axpy, wrapped.add_bias = p_bias, wrapped.dropout_forward = p_drop_f;
    wrapped.dropout_backward = p_drop_b;
    be->ops = &wrapped;
    memset(acc, 0, sizeof acc);
    n_shapes = 0;
}

void bench_profile_print(int steps)
{
    int order[P_COUNT];
    double total = 0;
    for (int i = 0; i < P_COUNT; i++)
        order[i] = i, total += acc[i];
    for (int i = 0; i < P_COUNT; i++)
        for (int k = i + 1; k < P_COUNT; k++)
            if (acc[order[k]] > acc[order[i]]) {
                int t = order[i];
                order[i] = order[k], order[k] = t;
            }
    printf("# profile, per step (%d steps):\n", steps);
    for (int i = 0; i < P_COUNT; i++)
        if (acc[order[i]] > 0)
            printf("#   %-26s %8.4f s  %5.1f%%\n", names[order[i]], acc[order[i]] / steps,
                   100.0 * acc[order[i]] / total);
    printf("#   %-26s %8.4f s\n", "total in ops", total / steps);
    printf("# matmuls by shape (M x N x K, flags), per step:\n");
    for (int i = 0; i < n_shapes; i++)
        if (shapes[i].s / steps > 0.002)
            printf("#   %6lld x %6lld x %6lld %s%s  %4ld calls  %7.4f s  %6.1f GFLOP/s\n", (long long)shapes[i].M,
                   (long long)shapes[i].N, (long long)shapes[i].K, shapes[i].flags & TB_MM_TRANS_A ? "A'" : "A ",
                   shapes[i].flags & TB_MM_TRANS_B ? "B'" : "B ", shapes[i].calls / steps, shapes[i].s / steps,
                   2.0 * (double)shapes[i].M * (double)shapes[i].N * (double)shapes[i].K * (double)shapes[i].calls /
                       shapes[i].s / 1e9);
}
