/* tunebench — CPU matmul: C (M,N) = alpha op(A) op(B) + beta C.
 *
 * Paths, chosen per call:
 *  - few rows (M <= SMALL_M, B as [out, in]: decoding): a fused dot product per output that
 *    reads B once in its stored dtype (memory-bound: bf16 halves the bytes);
 *  - B F32: OpenBLAS sgemm, split over the team by rows of C (or columns when M is small);
 *  - B BF16 with TB_PRECISION_BF16 and oneDNN: A narrowed to bf16, oneDNN (AMX/AVX512-BF16);
 *  - B BF16/F16 otherwise: B widened to f32 one panel of columns at a time in per-thread
 *    scratch (never the whole matrix), each panel fed to sgemm.
 * OpenBLAS is single-threaded inside the team (tb_cpu_backend_create). */
#include <cblas.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/backend/cpu/cpu_internal.h"

#define SMALL_M 8
#define DNNL_MIN_M 16
#define PAR_MIN_FLOPS (1 << 18)

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static void scale_c(float *C, int64_t M, int64_t N, float beta)
{
    for (int64_t i = 0; i < M * N; i++)
        C[i] = beta == 0.0f ? 0.0f : C[i] * beta;
}

/* B [out, in] and few rows of A: C[m, n] = alpha dot(A[m], B[n]) + beta C[m, n]. */
static void small_m(cpu_backend *cb, float *C, const float *A, const void *B, tb_dtype bt, int64_t M, int64_t N,
                    int64_t K, float alpha, float beta)
{
    size_t es = tb_dtype_size(bt);
    int nt = M * N * K >= PAR_MIN_FLOPS ? cb->threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t n = 0; n < N; n++) {
        const void *bn = (const char *)B + (size_t)n * (size_t)K * es;
        for (int64_t m = 0; m < M; m++) {
            float d = alpha * cpu_dot(A + m * K, bn, bt, (size_t)K);
            float *c = C + m * N + n;
            *c = beta == 0.0f ? d : d + beta * *c;
        }
    }
}

/* F32 B: sgemm, split over the team. */
static void sgemm_split(cpu_backend *cb, float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
                        bool ta, bool tb, float alpha, float beta)
{
    int64_t lda = ta ? M : K, ldb = tb ? K : N;
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
    int nt = (double)M * N * K >= PAR_MIN_FLOPS ? cb->threads : 1;
    bool by_rows = M >= 64 * nt || M >= N;
    int64_t extent = by_rows ? M : N;
    if (nt > extent)
        nt = (int)extent;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = thread_id(), n_t = nt > 1 ? nt : 1;
        int64_t lo = extent * t / n_t, hi = extent * (t + 1) / n_t;
        if (hi > lo) {
            if (by_rows)
                cblas_sgemm(CblasRowMajor, TA, TB, (int)(hi - lo), (int)N, (int)K, alpha, ta ? A + lo : A + lo * K,
                            (int)lda, B, (int)ldb, beta, C + lo * N, (int)N);
            else
                cblas_sgemm(CblasRowMajor, TA, TB, (int)M, (int)(hi - lo), (int)K, alpha, A, (int)lda,
                            tb ? B + lo * K : B + lo, (int)ldb, beta, C + lo, (int)N);
        }
    }
}

/* BF16/F16 B: widen one panel of w columns of op(B) at a time into thread scratch. */
static void tiled(cpu_backend *cb, float *C, const float *A, const void *B, tb_dtype bt, int64_t M, int64_t N,
                  int64_t K, bool ta, bool tb, float alpha, float beta)
{
    size_t es = tb_dtype_size(bt);
    /* Panel: <= 2 MB of f32 (the L2 here) for tall A, 512 KB otherwise; multiples of 16. */
    int64_t budget = M >= 256 ? (1 << 19) : (1 << 17);
    int64_t w = budget / K;
    w = w < 16 ? 16 : w - w % 16;
    if (w > N)
        w = N;
    int64_t panels = (N + w - 1) / w;
    int nt = (double)M * N * K >= PAR_MIN_FLOPS ? cb->threads : 1;
    if (nt > panels)
        nt = (int)panels;
    for (int t = 0; t < nt; t++)
        if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)(w * K)))
            return;
    int64_t lda = ta ? M : K;
    enum CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t p = 0; p < panels; p++) {
        float *tile = cb->tile[thread_id()].p;
        int64_t n0 = p * w, pw = N - n0 < w ? N - n0 : w;
        if (tb) { /* B (N, K): rows n0 .. n0+pw are contiguous */
            cpu_widen(tile, (const char *)B + (size_t)(n0 * K) * es, bt, (size_t)(pw * K));
            cblas_sgemm(CblasRowMajor, TA, CblasTrans, (int)M, (int)pw, (int)K, alpha, A, (int)lda, tile, (int)K,
                        beta, C + n0, (int)N);
        } else { /* B (K, N): a column block, row by row */
            for (int64_t k = 0; k < K; k++)
                cpu_widen(tile + k * pw, (const char *)B + (size_t)(k * N + n0) * es, bt, (size_t)pw);
            cblas_sgemm(CblasRowMajor, TA, CblasNoTrans, (int)M, (int)pw, (int)K, alpha, A, (int)lda, tile,
                        (int)pw, beta, C + n0, (int)N);
        }
    }
}

#if TB_HAVE_DNNL
static bool via_dnnl(cpu_backend *cb, float *C, const float *A, const uint16_t *B, int64_t M, int64_t N, int64_t K,
                     int flags, float alpha, float beta)
{
    size_t n = (size_t)(M * K);
    if (!cpu_scratch_reserve(cb, &cb->shared, (n + 1) / 2))
        return false;
    uint16_t *a16 = (uint16_t *)cb->shared.p;
    size_t chunk = 1 << 14;
    int nt = n >= (1u << 16) ? cb->threads : 1;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t c = 0; c < n; c += chunk)
        cpu_narrow_bf16(a16 + c, A + c, n - c < chunk ? n - c : chunk);
    return cpu_dnnl_matmul(cb->dnnl, C, a16, B, M, N, K, flags, alpha, beta);
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
    float *C = cpu_f32(c);
    if (K <= 0) {
        scale_c(C, M, N, beta);
        return;
    }
    const float *A = cpu_f32(a);
    const void *B = cpu_raw(b.v);
    tb_dtype bt = b.v.buf->dtype;
    bool ta = flags & TB_MM_TRANS_A, tb = flags & TB_MM_TRANS_B;
    if (M <= SMALL_M && tb && !ta) {
        small_m(cb, C, A, B, bt, M, N, K, alpha, beta);
        return;
    }
    if (bt == TB_DTYPE_F32) {
        sgemm_split(cb, C, A, B, M, N, K, ta, tb, alpha, beta);
        return;
    }
#if TB_HAVE_DNNL
    if (cb->dnnl && bt == TB_DTYPE_BF16 && M >= DNNL_MIN_M && via_dnnl(cb, C, A, B, M, N, K, flags, alpha, beta))
        return;
#endif
    tiled(cb, C, A, B, bt, M, N, K, ta, tb, alpha, beta);
}
