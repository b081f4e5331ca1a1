/* tunebench benchmark — NF4 dequantization throughput and NF4 matmuls against f32 sgemm
 * and bf16 tiles, on SmolLM2-135M's linear shapes (BENCHMARKING.md "SMOL": D 576, F 1536,
 * Hkv*Dh 192; M = batch 4 x seq 512 = 2048 tokens).
 *
 *   meson test -C build --benchmark --suite tunebench nf4 -v      (or build/tests/bench/bench_nf4)
 *
 * meson runs it through `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE` so OpenBLAS picks its
 * best kernels (BENCHMARKING.md). Variants run alternately (A B C D, A B C D, ...) after a
 * warm-up; figures are medians with [min-max] over the runs. Prints markdown for
 * BENCHMARKS.md. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/alloc.h"
#include "engine/quant/tiled_matmul.h"

enum { RUNS = 7, M_TOKENS = 2048 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct stat3 { double med, lo, hi; } stat3;

static stat3 summarize(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return (stat3){v[n / 2], v[0], v[n - 1]};
}

static uint32_t rng = 7u;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)(rng >> 8) * (2.0f / 16777216.0f) - 1.0f;
}

static float *falloc(size_t n)
{
    float *p = tb_alloc(n * sizeof(float), TB_MEM_SCRATCH);
    if (!p) {
        fprintf(stderr, "bench_nf4: out of memory\n");
        exit(1);
    }
    return p;
}

/* ---- dequantization throughput ----------------------------------------------------------- */

/* Seconds to expand all of w tile by tile into `tile`, as the forward (column tiles) or
 * the backward (row tiles) walks it. The tile stays in L2, so this is the kernel's speed,
 * not DRAM's. */
static double time_expand(const tb_tiled_weight *w, float *tile, int reps, bool forward)
{
    int64_t tr = tb_tiled_backward_rows(w), kt = w->cols;
    if (forward)
        tb_tiled_forward_tile(w, &tr, &kt);
    double t0 = now();
    for (int r = 0; r < reps; r++)
        for (int64_t r0 = 0; r0 < w->rows; r0 += tr)
            for (int64_t k0 = 0; k0 < w->cols; k0 += kt)
                w->fill(w->weight, r0, w->rows - r0 < tr ? w->rows - r0 : tr, k0, w->cols - k0 < kt ? w->cols - k0 : kt,
                        tile);
    return (now() - t0) / reps;
}

static void bench_dequant(void)
{
    const int64_t rows = 1536, cols = 576, n = rows * cols; /* gate_proj */
    float *x = falloc((size_t)n);
    uint16_t *h = tb_alloc((size_t)n * 2, TB_MEM_SCRATCH);
    for (int64_t i = 0; i < n; i++)
        x[i] = frand() * 0.05f;
    tb_convert_from_f32(h, TB_DTYPE_BF16, x, (size_t)n);
    tb_nf4 w, dq;
    tb_error err;
    if (tb_nf4_quantize(&w, x, TB_DTYPE_F32, rows, cols, false, "g", &err) != TB_OK ||
        tb_nf4_quantize(&dq, x, TB_DTYPE_F32, rows, cols, true, "g", &err) != TB_OK) {
        fprintf(stderr, "bench_nf4: %s\n", err.message);
        exit(1);
    }
    tb_tiled_dense dense = {h, TB_DTYPE_BF16, cols};
    tb_tiled_weight tw_bf16 = tb_tiled_weight_dense(&dense, rows), tw = tb_tiled_weight_nf4(&w),
                    tw_dq = tb_tiled_weight_nf4(&dq);
    float *tile = falloc(tb_tiled_tile_floats(&tw));

    static const char *const kernels[] = {"c", "avx2", "avx512"};
    enum { V = 8 };
    double t[V][RUNS];
    const char *label[V], *pattern[V];
    int nv = 0;
    for (int run = -1; run < RUNS; run++) { /* run -1: warm-up */
        int v = 0;
        for (int k = 0; k < 3; k++) {
            if (!tb_nf4_use_kernel(kernels[k]))
                continue;
            double a = time_expand(&tw, tile, 20, false), b = time_expand(&tw_dq, tile, 20, false);
            if (run >= 0) {
                t[v][run] = a;
                t[v + 1][run] = b;
            }
            label[v] = label[v + 1] = kernels[k];
            pattern[v] = pattern[v + 1] = "row tiles (backward)";
            v += 2;
        }
        tb_nf4_use_kernel(NULL);
        double c = time_expand(&tw_dq, tile, 20, true), d = time_expand(&tw_bf16, tile, 20, false);
        if (run >= 0) {
            t[v][run] = c;
            t[v + 1][run] = d;
        }
        label[v] = tb_nf4_kernel_name();
        pattern[v++] = "column tiles (forward)";
        label[v] = "bf16->f32 convert (peer)";
        pattern[v++] = "row tiles (backward)";
        nv = v;
    }
    int64_t fr, fc;
    tb_tiled_forward_tile(&tw, &fr, &fc);
    printf("\n### Dequantization into fp32 tiles, [1536, 576] (gate_proj); row tiles %lld x 576, column tiles "
           "%lld x %lld\n\n", (long long)tb_tiled_backward_rows(&tw), (long long)fr, (long long)fc);
    printf("| kernel | format | walk | Gweights/s | GB/s f32 written | GB/s read |\n"
           "| --- | --- | --- | --- | --- | --- |\n");
    for (int v = 0; v < nv; v++) {
        stat3 s = summarize(t[v], RUNS);
        bool peer = v == nv - 1;
        const char *fmt = peer ? "bf16" : (v == nv - 2 || v % 2) ? "nf4-dq" : "nf4";
        double bytes_in = peer ? 2.0 * (double)n
                               : (fmt[3] ? (double)tb_nf4_storage_bytes(&dq) : (double)tb_nf4_storage_bytes(&w));
        printf("| %s | %s | %s | %.2f [%.2f-%.2f] | %.1f | %.1f |\n", label[v], fmt, pattern[v], (double)n / s.med * 1e-9,
               (double)n / s.hi * 1e-9, (double)n / s.lo * 1e-9, 4.0 * (double)n / s.med * 1e-9,
               bytes_in / s.med * 1e-9);
    }
    tb_free(tile);
    tb_free(x);
    tb_free(h);
    tb_nf4_free(&w);
    tb_nf4_free(&dq);
}

/* ---- matmuls ------------------------------------------------------------------------------ */

typedef struct shape { const char *name; int64_t out, in; int per_layer; } shape;

static const shape shapes[] = {
    {"q/o [576, 576]", 576, 576, 2},
    {"k/v [192, 576]", 192, 576, 2},
    {"gate/up [1536, 576]", 1536, 576, 2},
    {"down [576, 1536]", 576, 1536, 1},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0], NVAR = 4 };
static const char *const var_name[NVAR] = {"f32 sgemm", "bf16 tiles", "nf4 tiles", "nf4-dq tiles"};

/* One product: forward (y = x W^T) or backward (dx = dy W) with variant v. */
static void product(int v, bool backward, float *out, const float *in, const float *wf, const tb_tiled_weight *tw,
                    int64_t rows, int64_t cols, float *tile)
{
    tb_error err;
    if (v == 0) {
        if (backward)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M_TOKENS, (int)cols, (int)rows, 1.0f, in,
                        (int)rows, wf, (int)cols, 0.0f, out, (int)cols);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M_TOKENS, (int)rows, (int)cols, 1.0f, in, (int)cols,
                        wf, (int)cols, 0.0f, out, (int)rows);
        return;
    }
    tb_status st = backward ? tb_tiled_matmul_dyw(out, cols, in, rows, tw, M_TOKENS, 1.0f, 0.0f, tile, &err)
                            : tb_tiled_matmul_xwt(out, rows, in, cols, tw, M_TOKENS, 1.0f, 0.0f, tile, &err);
    if (st != TB_OK) {
        fprintf(stderr, "bench_nf4: %s\n", err.message);
        exit(1);
    }
}

/* Median seconds per product, per shape x direction x variant. */
static double med[NSHAPES][2][NVAR];

static void bench_matmul_shape(int si)
{
    const shape *sh = &shapes[si];
    const int64_t rows = sh->out, cols = sh->in, n = rows * cols;
    float *wf = falloc((size_t)n), *x = falloc((size_t)(M_TOKENS * (rows > cols ? rows : cols)));
    float *y = falloc((size_t)(M_TOKENS * (rows > cols ? rows : cols)));
    uint16_t *h = tb_alloc((size_t)n * 2, TB_MEM_SCRATCH);
    for (int64_t i = 0; i < n; i++)
        wf[i] = frand() * 0.05f;
    for (int64_t i = 0; i < M_TOKENS * (rows > cols ? rows : cols); i++)
        x[i] = frand();
    tb_convert_from_f32(h, TB_DTYPE_BF16, wf, (size_t)n);
    tb_nf4 w, dq;
    tb_error err;
    if (tb_nf4_quantize(&w, wf, TB_DTYPE_F32, rows, cols, false, "w", &err) != TB_OK ||
        tb_nf4_quantize(&dq, wf, TB_DTYPE_F32, rows, cols, true, "w", &err) != TB_OK)
        exit(1);
    tb_tiled_dense dense = {h, TB_DTYPE_BF16, cols};
    tb_tiled_weight tws[NVAR] = {{0}, tb_tiled_weight_dense(&dense, rows), tb_tiled_weight_nf4(&w),
                                 tb_tiled_weight_nf4(&dq)};
    float *tile = falloc(tb_tiled_tile_floats(&tws[2]));
    double t[2][NVAR][RUNS];
    for (int run = -1; run < RUNS; run++)
        for (int dir = 0; dir < 2; dir++)
            for (int v = 0; v < NVAR; v++) {
                double t0 = now();
                product(v, dir == 1, y, x, wf, &tws[v], rows, cols, tile);
                if (run >= 0)
                    t[dir][v][run] = now() - t0;
            }
    double flops = 2.0 * M_TOKENS * (double)n;
    for (int dir = 0; dir < 2; dir++) {
        stat3 base = summarize(t[dir][0], RUNS);
        for (int v = 0; v < NVAR; v++) {
            stat3 s = v ? summarize(t[dir][v], RUNS) : base;
            med[si][dir][v] = s.med;
            printf("| %s | %s | %s | %.2f [%.2f-%.2f] | %.0f | %.2f |\n", sh->name, dir ? "dx = dy W" : "y = x W^T",
                   var_name[v], s.med * 1e3, s.lo * 1e3, s.hi * 1e3, flops / s.med * 1e-9, s.med / base.med);
        }
    }
    tb_free(tile);
    tb_free(wf);
    tb_free(x);
    tb_free(y);
    tb_free(h);
    tb_nf4_free(&w);
    tb_nf4_free(&dq);
}

static void bench_tile_budget(void)
{
    const int64_t rows = 1536, cols = 576, n = rows * cols;
    float *wf = falloc((size_t)n), *x = falloc((size_t)(M_TOKENS * cols)), *y = falloc((size_t)(M_TOKENS * rows));
    for (int64_t i = 0; i < n; i++)
        wf[i] = frand() * 0.05f;
    for (int64_t i = 0; i < M_TOKENS * cols; i++)
        x[i] = frand();
    tb_nf4 dq;
    tb_error err;
    if (tb_nf4_quantize(&dq, wf, TB_DTYPE_F32, rows, cols, true, "w", &err) != TB_OK)
        exit(1);
    static const size_t budgets[] = {16384, 32768, 65536, 131072, 262144, 524288, 1536 * 576};
    enum { NB = sizeof budgets / sizeof budgets[0] };
    double t[NB][RUNS];
    for (int run = -1; run < RUNS; run++)
        for (int b = 0; b < NB; b++) {
            tb_tiled_set_budget(budgets[b]);
            double t0 = now();
            if (tb_nf4_matmul_xwt(y, rows, x, cols, &dq, M_TOKENS, 1.0f, 0.0f, NULL, &err) != TB_OK)
                exit(1);
            if (run >= 0)
                t[b][run] = now() - t0;
        }
    tb_tiled_set_budget(0);
    printf("\n### Tile budget, nf4-dq y = x W^T, [1536, 576], M = %d\n\n| tile floats | tile | ms |\n"
           "| --- | --- | --- |\n", M_TOKENS);
    for (int b = 0; b < NB; b++) {
        stat3 s = summarize(t[b], RUNS);
        tb_tiled_set_budget(budgets[b]);
        tb_tiled_weight tw = tb_tiled_weight_nf4(&dq);
        int64_t fr, fc;
        tb_tiled_forward_tile(&tw, &fr, &fc);
        tb_tiled_set_budget(0);
        printf("| %zu | %lld x %lld | %.2f [%.2f-%.2f] |\n", budgets[b], (long long)fr, (long long)fc, s.med * 1e3,
               s.lo * 1e3, s.hi * 1e3);
    }
    tb_free(wf);
    tb_free(x);
    tb_free(y);
    tb_nf4_free(&dq);
}

int main(void)
{
    double load[3] = {0};
    if (getloadavg(load, 3) < 0)
        load[0] = -1;
    time_t t = time(NULL);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M", localtime(&t));
    printf("## NF4 benchmark (%s)\n\nOpenBLAS core %s, %d threads; dequant kernel %s; load average %.2f %.2f %.2f "
           "at start\n",
           date, openblas_get_corename(), openblas_get_num_threads(), tb_nf4_kernel_name(), load[0], load[1],
           load[2]);
    bench_dequant();
    printf("\n### Matmuls, M = %d tokens (batch 4 x seq 512), median ms [min-max] of %d alternated runs\n\n", M_TOKENS,
           RUNS);
    printf("| shape [out, in] | product | weight | ms | GFLOP/s | x f32 |\n| --- | --- | --- | --- | --- | --- |\n");
    for (int s = 0; s < NSHAPES; s++)
        bench_matmul_shape(s);
    /* The 30-layer SmolLM2 stack of the seven linears, forward + input gradient. */
    printf("\n### SmolLM2-135M linears, 30 layers x (q,k,v,o,gate,up,down), forward + input gradient, M = %d\n\n"
           "| weight | ms per step | x f32 | x bf16 |\n| --- | --- | --- | --- |\n", M_TOKENS);
    double total[NVAR] = {0};
    for (int v = 0; v < NVAR; v++)
        for (int s = 0; s < NSHAPES; s++)
            total[v] += 30.0 * shapes[s].per_layer * (med[s][0][v] + med[s][1][v]);
    for (int v = 0; v < NVAR; v++)
        printf("| %s | %.0f | %.2f | %.2f |\n", var_name[v], total[v] * 1e3, total[v] / total[0], total[v] / total[1]);
    bench_tile_budget();
    if (getloadavg(load, 3) >= 0)
        printf("\nload average at end %.2f %.2f %.2f\n", load[0], load[1], load[2]);
    return 0;
}
