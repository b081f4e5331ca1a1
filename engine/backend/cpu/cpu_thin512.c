/* tunebench — thin f32 matmuls on AVX-512: one side of the product at most 32 wide.
 *
 * LoRA's products have the rank (8..32) as one dimension: h = x A^T (N = r), y += h B^T
 * (K = r), dB += dy^T h and dh = dy B (N = r), dA += dh^T x (M = r), dx += dh A (K = r).
 * sgemm packs the big operand into panels before multiplying, which at these shapes
 * costs as much as the product; here the register tile of cpu_avx512.h reads it in place
 * (transposed access through strides), once, and only the r-wide side is repacked when
 * its layout needs it. Each output element is summed by one task in a fixed order, so
 * results do not depend on the thread count. */
#include <string.h>

#include "engine/backend/cpu/cpu_internal.h"

#if CPU_X86
#include "engine/backend/cpu/cpu_avx512.h"

#define THIN 32 /* the widest thin side */

typedef struct thin {
    float *C;
    const float *A, *B;
    int64_t M, N, K, ldb, ars, acs, rows; /* rows: C rows per task (by rows) */
    int64_t cols;                         /* C columns per task (by columns) */
    float alpha, beta;
} thin;

#define KC 16 /* rows of K per pass when A is transposed */

/* One tile shape over K rows [k0, k1); full tiles get their own instance (row offsets
 * become constants). */
#define TILE(MR, NV)                                                                                                  \
    (rows == (MR) ? cpu_tile512(MR, NV, MR, last, C, t->N, A, t->ars, t->acs, B, t->ldb, k0, k1, t->alpha, beta)    \
                  : cpu_tile512(MR, NV, rows, last, C, t->N, A, t->ars, t->acs, B, t->ldb, k0, k1, t->alpha, beta))

/* Prefetch rows [k0, k1) of A's columns [r0, r0 + m) (A transposed) and of B's columns
 * [c0, c0 + w): they are read a cache line per row, rows apart, which the hardware
 * prefetchers do not follow. */
static void prefetch(const thin *t, int64_t k0, int64_t k1, int64_t r0, int64_t m, int64_t c0, int64_t w)
{
    for (int64_t p = k0; p < k1; p++) {
        const char *a = (const char *)(t->A + p * t->acs + r0), *b = (const char *)(t->B + p * t->ldb + c0);
        for (int64_t o = 0; o < m * 4; o += 64)
            _mm_prefetch(a + o, _MM_HINT_T2);
        for (int64_t o = 0; o < w * 4; o += 64)
            _mm_prefetch(b + o, _MM_HINT_T2);
    }
}

/* C rows [r0, r0 + m) x columns [c0, c0 + w). A transposed (dA, dB: the long K runs down
 * A's columns): K in passes of KC rows (the next pass prefetched), 16-column panels,
 * 16-row tiles, so each of A's cache lines is fetched once. A row-major: panels of up to
 * 4 vectors, tiles of 6-8 rows (one pointer per row), all of K at once. */
AVX512 static void block(const thin *t, int64_t r0, int64_t m, int64_t c0, int64_t w)
{
    bool ta = t->ars == 1;
    int64_t kc = ta ? KC : t->K;
    if (ta)
        prefetch(t, 0, kc < t->K ? kc : t->K, r0, m, c0, w);
    for (int64_t k0 = 0; k0 < t->K; k0 += kc) {
        int64_t k1 = k0 + kc < t->K ? k0 + kc : t->K;
        float beta = k0 == 0 ? t->beta : 1.0f;
        if (ta && k1 < t->K)
            prefetch(t, k1, k1 + kc < t->K ? k1 + kc : t->K, r0, m, c0, w);
        for (int64_t c = c0; c < c0 + w; c += ta ? 16 : 64) {
            int64_t cw = c0 + w - c < (ta ? 16 : 64) ? c0 + w - c : (ta ? 16 : 64);
            int nv = (int)((cw + 15) / 16);
            __mmask16 last = cpu_lanes(cw - 16 * (nv - 1));
            int mr = ta ? 16 : nv == 4 ? 6 : 8;
            for (int64_t r = r0; r < r0 + m; r += mr) {
                int64_t rows = r0 + m - r < mr ? r0 + m - r : mr;
                float *C = t->C + r * t->N + c;
                const float *A = t->A + r * t->ars, *B = t->B + c;
                if (ta)
                    TILE(16, 1);
                else if (nv == 1)
                    TILE(8, 1);
                else if (nv == 2)
                    TILE(8, 2);
                else if (nv == 3)
                    TILE(8, 3);
                else
                    TILE(6, 4);
            }
        }
    }
}

static void by_rows(void *ctx, int64_t chunk, int tid)
{
    (void)tid;
    const thin *t = ctx;
    int64_t r0 = chunk * t->rows;
    block(t, r0, t->M - r0 < t->rows ? t->M - r0 : t->rows, 0, t->N);
}

static void by_cols(void *ctx, int64_t chunk, int tid)
{
    (void)tid;
    const thin *t = ctx;
    int64_t c0 = chunk * t->cols;
    block(t, 0, t->M, c0, t->N - c0 < t->cols ? t->N - c0 : t->cols);
}

/* dst (cols, rows) = src (rows, cols) transposed. */
static void transpose(float *dst, const float *src, int64_t rows, int64_t cols)
{
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            dst[j * rows + i] = src[i * cols + j];
}

bool cpu_thin512_matmul(cpu_backend *cb, float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
                        bool ta, bool tb, float alpha, float beta)
{
    /* the shapes above; anything else (and a wide transposed B) is sgemm's */
    if (!cpu_have_avx512() || (ta ? M > THIN && N > THIN : N > THIN && K > THIN))
        return false;
    /* op(B) (K, N) must be row-major: repack the thin B of a TRANS_B product (B (N, K) with
     * N or K thin: a few KB); a wide transposed B is sgemm's case. */
    const float *Bk = B;
    if (tb) {
        if (N > THIN && K > THIN)
            return false;
        if (!cpu_scratch_reserve(cb, &cb->vec, (size_t)(N * K)))
            return true; /* the failure is recorded */
        transpose(cb->vec.p, B, N, K);
        Bk = cb->vec.p;
    }
    thin t = {.C = C, .A = A, .B = Bk, .M = M, .N = N, .K = K, .ldb = N, .ars = ta ? 1 : K, .acs = ta ? M : 1,
              .alpha = alpha, .beta = beta};
    int T = cb->threads;
    bool par = T > 1 && (double)M * (double)N * (double)K >= (1 << 20);
    if (ta && M <= THIN && N > THIN) { /* dA-like: few rows, split the columns */
        t.cols = par ? ((N + 4 * T - 1) / (4 * T) + 63) / 64 * 64 : N;
        cpu_tasks(cb, par, (N + t.cols - 1) / t.cols, by_cols, &t);
        return true;
    }
    t.rows = par ? ((M + 4 * T - 1) / (4 * T) + 15) / 16 * 16 : M;
    cpu_tasks(cb, par, (M + t.rows - 1) / t.rows, by_rows, &t);
    return true;
}

#endif
