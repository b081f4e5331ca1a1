/* tunebench — CPU matmul: C (M,N) = alpha op(A) op(B) + beta C.
 *
 * Paths, chosen per call:
 *  - few rows (M <= SMALL_M, B as [out, in]: decoding): a fused dot product per output that
 *    reads B once in its stored dtype (memory-bound: bf16 halves the bytes);
 *  - B F32: OpenBLAS sgemm on blocks of C rows (or columns when M is small);
 *  - B BF16 with TB_PRECISION_BF16 and oneDNN: A narrowed to bf16 once, oneDNN (AMX /
 *    AVX512-BF16) on panels of B's columns;
 *  - B BF16/F16 otherwise: B widened to f32 one panel of columns at a time in per-thread
 *    scratch (never the whole matrix), each panel fed to sgemm.
 * Blocks and panels are pool chunks; OpenBLAS and oneDNN run single-threaded inside them. */
#include <cblas.h>
#include <string.h>

#include "engine/backend/cpu/cpu_internal.h"

#define SMALL_M 8
#define DNNL_MIN_M 16
#define PAR_MIN_FLOPS (1 << 18)

typedef struct mm {
    cpu_backend *cb;
    float *C;
    const float *A;
    const void *B;
    uint16_t *A16;         /* A narrowed to bf16 (oneDNN path) */
    const struct cpu_dnnl_mm *full, *last; /* oneDNN primitives: w-wide panels, the last panel */
    tb_dtype bt;
    int64_t M, N, K, w;    /* w: rows or columns per chunk */
    bool ta, tb, by_rows;
    float alpha, beta;
} mm;

static void scale_c(float *C, int64_t M, int64_t N, float beta)
{
    for (int64_t i = 0; i < M * N; i++)
        C[i] = beta == 0.0f ? 0.0f : C[i] * beta;
}

static int64_t chunks_of(int64_t n, int64_t w) { return (n + w - 1) / w; }

/* Small problems stay on the calling thread. */
static void run(cpu_backend *cb, bool par, int64_t n, cpu_task_fn fn, void *ctx)
{
    if (par)
        cpu_pool_run(cb->pool, n, fn, ctx);
    else
        for (int64_t c = 0; c < n; c++)
            fn(ctx, c, 0);
}

/* ---- few rows: C[m, n] = alpha dot(A[m], B[n]) + beta C[m, n] */
static void small_m_task(void *ctx, int64_t chunk, int tid)
{
    (void)tid;
    mm *p = ctx;
    size_t es = tb_dtype_size(p->bt);
    int64_t n0 = chunk * p->w, n1 = n0 + p->w < p->N ? n0 + p->w : p->N;
    for (int64_t n = n0; n < n1; n++) {
        const void *bn = (const char *)p->B + (size_t)n * (size_t)p->K * es;
        for (int64_t m = 0; m < p->M; m++) {
            float d = p->alpha * cpu_dot(p->A + m * p->K, bn, p->bt, (size_t)p->K);
            float *c = p->C + m * p->N + n;
            *c = p->beta == 0.0f ? d : d + p->beta * *c;
        }
    }
}

/* ---- F32 B: sgemm on a block of rows or columns of C */
static void sgemm_task(void *ctx, int64_t chunk, int tid)
{
    (void)tid;
    mm *p = ctx;
    int64_t lda = p->ta ? p->M : p->K, ldb = p->tb ? p->K : p->N;
    enum CBLAS_TRANSPOSE TA = p->ta ? CblasTrans : CblasNoTrans, TB = p->tb ? CblasTrans : CblasNoTrans;
    const float *B = p->B;
    int64_t lo = chunk * p->w, hi = lo + p->w < (p->by_rows ? p->M : p->N) ? lo + p->w : (p->by_rows ? p->M : p->N);
    if (p->by_rows)
        cblas_sgemm(CblasRowMajor, TA, TB, (int)(hi - lo), (int)p->N, (int)p->K, p->alpha,
                    p->ta ? p->A + lo : p->A + lo * p->K, (int)lda, B, (int)ldb, p->beta, p->C + lo * p->N, (int)p->N);
    else
        cblas_sgemm(CblasRowMajor, TA, TB, (int)p->M, (int)(hi - lo), (int)p->K, p->alpha, p->A, (int)lda,
                    p->tb ? B + lo * p->K : B + lo, (int)ldb, p->beta, p->C + lo, (int)p->N);
}

/* ---- BF16/F16 B in f32: widen one panel of w columns of op(B) into thread scratch */
static void tiled_task(void *ctx, int64_t chunk, int tid)
{
    mm *p = ctx;
    size_t es = tb_dtype_size(p->bt);
    float *tile = p->cb->tile[tid].p;
    int64_t n0 = chunk * p->w, pw = p->N - n0 < p->w ? p->N - n0 : p->w, K = p->K, N = p->N;
    int64_t lda = p->ta ? p->M : K;
    enum CBLAS_TRANSPOSE TA = p->ta ? CblasTrans : CblasNoTrans;
    if (p->tb) { /* B (N, K): rows n0 .. n0+pw are contiguous */
        cpu_widen(tile, (const char *)p->B + (size_t)(n0 * K) * es, p->bt, (size_t)(pw * K));
        cblas_sgemm(CblasRowMajor, TA, CblasTrans, (int)p->M, (int)pw, (int)K, p->alpha, p->A, (int)lda, tile, (int)K,
                    p->beta, p->C + n0, (int)N);
    } else { /* B (K, N): a column block, row by row */
        for (int64_t k = 0; k < K; k++)
            cpu_widen(tile + k * pw, (const char *)p->B + (size_t)(k * N + n0) * es, p->bt, (size_t)pw);
        cblas_sgemm(CblasRowMajor, TA, CblasNoTrans, (int)p->M, (int)pw, (int)K, p->alpha, p->A, (int)lda, tile,
                    (int)pw, p->beta, p->C + n0, (int)N);
    }
}

#if TB_HAVE_DNNL
static void narrow_task(void *ctx, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    mm *p = ctx;
    cpu_narrow_bf16(p->A16 + lo, p->A + lo, (size_t)(hi - lo));
}

static void dnnl_task(void *ctx, int64_t chunk, int tid)
{
    mm *p = ctx;
    if (p->by_rows) { /* rows m0 .. of C and A, all of B */
        int64_t m0 = chunk * p->w, mw = p->M - m0 < p->w ? p->M - m0 : p->w;
        if (!cpu_dnnl_run(mw == p->w ? p->full : p->last, tid, p->C + m0 * p->N, p->A16 + m0 * p->K, p->B))
            cpu_fail(p->cb, TB_ERR_DEVICE, "oneDNN failed on a %lld x %lld x %lld bf16 matmul", (long long)mw,
                     (long long)p->N, (long long)p->K);
        return;
    }
    int64_t n0 = chunk * p->w, pw = p->N - n0 < p->w ? p->N - n0 : p->w;
    const uint16_t *B = (const uint16_t *)p->B + (p->tb ? n0 * p->K : n0);
    if (!cpu_dnnl_run(pw == p->w ? p->full : p->last, tid, p->C + n0, p->A16, B))
        cpu_fail(p->cb, TB_ERR_DEVICE, "oneDNN failed on a %lld x %lld x %lld bf16 matmul", (long long)p->M,
                 (long long)pw, (long long)p->K);
}
#endif

void cpu_matmul(tb_backend *be, tb_view c, tb_view a, tb_wview b, int64_t M, int64_t N, int64_t K, int flags,
                float alpha, float beta)
{
    cpu_backend *cb = cpu_of(be);
    if (b.nf4) {
        cpu_fail(cb, TB_ERR_UNSUPPORTED, "NF4 weights need the quantization module (engine/quant)");
        return;
    }
    if (M <= 0 || N <= 0)
        return;
    mm p = {cb, cpu_f32(c), NULL, NULL, NULL, NULL, NULL, TB_DTYPE_F32, M, N, K, 0, flags & TB_MM_TRANS_A,
            flags & TB_MM_TRANS_B, false, alpha, beta};
    if (K <= 0) {
        scale_c(p.C, M, N, beta);
        return;
    }
    p.A = cpu_f32(a);
    p.B = cpu_raw(b.v);
    p.bt = b.v.buf->dtype;
    bool par = (double)M * (double)N * (double)K >= PAR_MIN_FLOPS && cb->threads > 1;
    int64_t T = par ? cb->threads : 1;

    if (M <= SMALL_M && p.tb && !p.ta) {
        /* ~16 chunks per thread: a preempted thread holds up little */
        p.w = par ? (N / (16 * T) < 8 ? 8 : N / (16 * T)) : N;
        run(cb, par, chunks_of(N, p.w), small_m_task, &p);
        return;
    }
    if (p.bt == TB_DTYPE_F32) {
        /* Split C where both sides of a chunk stay wide: sgemm packs its B slice per call
         * (cost ~ 1 / rows of the chunk) and its A slice (~ 1 / columns), so the split that
         * keeps min(rows, columns) per chunk largest wastes least (341 x 49152 LM-head
         * blocks go by columns, 2048 x 576 layers by rows). ~4 chunks per thread absorb a
         * preempted thread; with a long K (the LM head's backward) packing dominates, so one
         * per thread. */
        int64_t per = par ? (K >= 8192 ? T : 4 * T) : 1;
        int64_t cr = M / per > 0 ? M / per : 1, cc = N / per > 0 ? N / per : 1;
        p.by_rows = (cr < N ? cr : N) >= (M < cc ? M : cc);
        int64_t extent = p.by_rows ? M : N;
        p.w = par ? (extent / per < 16 ? 16 : extent / per) : extent;
        run(cb, par, chunks_of(extent, p.w), sgemm_task, &p);
        return;
    }
#if TB_HAVE_DNNL
    if (cb->dnnl && p.bt == TB_DTYPE_BF16 && M >= DNNL_MIN_M) {
        /* Blocks of rows (A not transposed, C as tall as it is wide or taller: the training
         * step's 2048 x 256 projections) or panels of 64-column multiples (the LM head), a
         * couple per thread; all but the last share a shape. */
        p.by_rows = !p.ta && par && M / (2 * T) >= (N < 256 ? N : 256);
        int64_t extent = p.by_rows ? M : N;
        p.w = par ? extent / (2 * T) : extent;
        if (p.by_rows)
            p.w = p.w / 16 * 16 > 0 ? p.w / 16 * 16 : p.w;
        else
            p.w = p.w < 64 ? (N < 64 ? N : 64) : p.w / 64 * 64;
        int64_t rest = extent % p.w ? extent % p.w : p.w;
        p.full = p.by_rows ? cpu_dnnl_prepare(cb->dnnl, p.w, N, K, N, flags, alpha, beta)
                           : cpu_dnnl_prepare(cb->dnnl, M, p.w, K, N, flags, alpha, beta);
        p.last = rest == p.w   ? p.full
                 : p.by_rows ? cpu_dnnl_prepare(cb->dnnl, rest, N, K, N, flags, alpha, beta)
                             : cpu_dnnl_prepare(cb->dnnl, M, rest, K, N, flags, alpha, beta);
        size_t n = (size_t)(M * K);
        if (p.full && p.last && cpu_scratch_reserve(cb, &cb->shared, (n + 1) / 2)) {
            p.A16 = (uint16_t *)cb->shared.p;
            cpu_for(cb, (int64_t)n, 1 << 16, narrow_task, &p);
            run(cb, par, chunks_of(extent, p.w), dnnl_task, &p);
            return;
        }
        /* oneDNN refused the shape: the f32 path below computes it */
    }
#endif
    /* Panel: <= 2 MB of f32 (the L2 here) for tall A, 512 KB otherwise; multiples of 16. */
    int64_t budget = M >= 256 ? (1 << 19) : (1 << 17);
    p.w = budget / K;
    p.w = p.w < 16 ? 16 : p.w - p.w % 16;
    if (p.w > N)
        p.w = N;
    if (par && chunks_of(N, p.w) < 2 * T && N >= 32) /* enough panels to share */
        p.w = ((N + 2 * T - 1) / (2 * T) + 15) / 16 * 16;
    for (int t = 0; t < cb->threads; t++)
        if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)(p.w * K)))
            return;
    run(cb, par, chunks_of(N, p.w), tiled_task, &p);
}
