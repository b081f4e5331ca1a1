/* tunebench — CPU causal attention on AVX-512 for head dims that are multiples of 16.
 *
 * The blocking of cpu_attention.c (QB query rows of one batch row against every key they
 * see, whole score rows in per-thread scratch, lse saved, probabilities recomputed in
 * backward), but every product is a register-blocked AVX-512 tile instead of an sgemm call:
 * at these sizes (64 x <= 512 x 32..128) sgemm spends more time packing and dispatching
 * than multiplying, and it computes the masked half of each diagonal block, which the
 * tiles here skip. K and V are transposed once per (batch row, kv head) so that score
 * columns are vectors; the heads of a GQA group share them. */
#include <math.h>
#include <string.h>

#include "engine/backend/cpu/cpu_internal.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#include "engine/backend/cpu/cpu_avx512.h"

#define QB 64

static int64_t pad16(int64_t n) { return (n + 15) / 16 * 16; }

/* The tile with A row-major or transposed (acs == 1 vs ars == 1), full vectors, beta 0 or 1;
 * full tiles get their own instance so that row offsets are constants. */
#define TILE(MR, NV)                                                                                       \
    (m == (MR) ? cpu_tile512(MR, NV, MR, 0xffff, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc ? 1.0f : 0.0f) \
               : cpu_tile512(MR, NV, m, 0xffff, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc ? 1.0f : 0.0f))

AVX512 static INLINE void tile(const int MR, const int NV, int64_t m, float *C, int64_t ldc, const float *A,
                               int64_t ars, int64_t acs, const float *B, int64_t ldb, int64_t k0, int64_t k1,
                               float alpha, bool acc)
{
    TILE(MR, NV);
}

/* Rows per tile for NV vectors: about 24 accumulators of the 32 registers. */
static int mr_of(int nv) { return nv >= 4 ? 6 : 8; }

/* tile() instances: mr 6 (any nv, the score tiles trimmed at the diagonal) or 8 (nv <= 3). */
AVX512 static void tile_any(int mr, int nv, int64_t m, float *C, int64_t ldc, const float *A, int64_t ars,
                            int64_t acs, const float *B, int64_t ldb, int64_t k0, int64_t k1, float alpha, bool acc)
{
    switch (mr == 6 ? nv : 4 + nv) {
    case 4: tile(6, 4, m, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc); break;
    case 3: tile(6, 3, m, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc); break;
    case 2: tile(6, 2, m, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc); break;
    case 1: tile(6, 1, m, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc); break;
    case 7: tile(8, 3, m, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc); break;
    case 6: tile(8, 2, m, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc); break;
    default: tile(8, 1, m, C, ldc, A, ars, acs, B, ldb, k0, k1, alpha, acc); break;
    }
}

/* The transposed form (A(r, p) = A[p lda + r]): its own instance so the row offsets are
 * constants. */
AVX512 static void tile_t(int nv, int64_t m, float *C, int64_t ldc, const float *A, int64_t lda, const float *B,
                          int64_t ldb, int64_t k0, int64_t k1, float alpha)
{
    switch (nv) {
    case 4: tile(6, 4, m, C, ldc, A, 1, lda, B, ldb, k0, k1, alpha, true); break;
    case 3: tile(8, 3, m, C, ldc, A, 1, lda, B, ldb, k0, k1, alpha, true); break;
    case 2: tile(8, 2, m, C, ldc, A, 1, lda, B, ldb, k0, k1, alpha, true); break;
    default: tile(8, 1, m, C, ldc, A, 1, lda, B, ldb, k0, k1, alpha, true); break;
    }
}

/* S (m, pad16(diag + m)), rows lds apart = alpha Q KT where row i needs only the columns
 * j <= diag + i (the others are left as they fall). Q (m, Dh) rows ldq apart; KT (Dh, *)
 * rows ldkt apart, readable up to pad16(diag + m). */
AVX512 static void scores(float *S, int64_t lds, const float *Q, int64_t ldq, int64_t m, const float *KT,
                          int64_t ldkt, int64_t Dh, int64_t diag, float alpha)
{
    int64_t nvec = pad16(diag + m) / 16;
    for (int64_t v0 = 0; v0 < nvec; v0 += 4) {
        int64_t c0 = v0 * 16, i0 = c0 - diag > 0 ? c0 - diag : 0; /* rows before i0 see none of these keys */
        for (int64_t i = i0; i < m; i += 6) {
            int64_t rows = m - i < 6 ? m - i : 6, need = (diag + i + rows - c0 + 15) / 16; /* vectors these rows see */
            int nv = (int)(need < nvec - v0 ? need : nvec - v0);
            tile_any(6, nv < 4 ? nv : 4, rows, S + i * lds + c0, lds, Q + i * ldq, ldq, 1, KT + c0, ldkt, 0, Dh, alpha,
                     false);
        }
    }
}

/* C (m, 16 nvec) = alpha A B with row i summing over p < diag + i + 1 only (A is zero past
 * that). A (m, *) rows lda apart; B (*, 16 nvec) rows ldb apart. */
AVX512 static void rows_times(float *C, int64_t ldc, const float *A, int64_t lda, int64_t m, const float *B,
                              int64_t ldb, int64_t nvec, int64_t diag, float alpha)
{
    for (int64_t v0 = 0; v0 < nvec; v0 += 4) {
        int nv = nvec - v0 < 4 ? (int)(nvec - v0) : 4, mr = mr_of(nv);
        for (int64_t i = 0; i < m; i += mr) {
            int64_t rows = m - i < mr ? m - i : mr;
            tile_any(mr, nv, rows, C + i * ldc + v0 * 16, ldc, A + i * lda, lda, 1, B + v0 * 16, ldb, 0,
                     diag + i + rows, alpha, false);
        }
    }
}

/* C (diag + m, 16 nvec) += alpha A^T B: key row j sums over the query rows i with
 * diag + i >= j. A (m, *) rows lda apart; B (m, 16 nvec) rows ldb apart. */
AVX512 static void cols_times(float *C, int64_t ldc, const float *A, int64_t lda, int64_t m, const float *B,
                              int64_t ldb, int64_t nvec, int64_t diag, float alpha)
{
    int64_t n = diag + m;
    for (int64_t v0 = 0; v0 < nvec; v0 += 4) {
        int nv = nvec - v0 < 4 ? (int)(nvec - v0) : 4, mr = mr_of(nv);
        for (int64_t j = 0; j < n; j += mr)
            tile_t(nv, n - j < mr ? n - j : mr, C + j * ldc + v0 * 16, ldc, A + j, lda, B + v0 * 16, ldb,
                   j - diag > 0 ? j - diag : 0, m, alpha);
    }
}

/* XT (Dh, ldt) = X (n, Dh) transposed, X's rows ldx apart; columns n .. ldt zeroed. */
AVX512 static void transpose(float *XT, int64_t ldt, const float *X, int64_t ldx, int64_t n, int64_t Dh)
{
    /* 16 keys at a time: a gather down the rows for each dimension (ldx fits in 32 bits:
     * it is Hkv * Dh) */
    __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                     _mm512_set1_epi32((int)ldx));
    for (int64_t j0 = 0; j0 < n; j0 += 16) {
        __mmask16 k = cpu_lanes(n - j0);
        for (int64_t d = 0; d < Dh; d++)
            _mm512_storeu_ps(XT + d * ldt + j0,
                             _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, idx, X + j0 * ldx + d, 4));
    }
    for (int64_t d = 0; d < Dh; d++) /* zero the padding past the last 16 */
        memset(XT + d * ldt + pad16(n), 0, (size_t)(ldt - pad16(n)) * sizeof(float));
}

typedef struct a512 {
    cpu_backend *cb;
    const tb_attn_dims *d;
    float *O, *L, *dQ, *dK, *dV, *KT, *Di;
    const float *Q, *K, *V, *dO, *Oc, *Lc;
    int64_t nqb, Tk, ldt;
} a512;

#define PAR_WORK (1 << 16) /* multiply-adds from which a pass goes to the pool */

static void pack_task(void *ctx, int64_t task, int tid)
{
    (void)tid;
    a512 *a = ctx;
    const tb_attn_dims *d = a->d;
    int64_t b = task / d->Hkv, kvh = task % d->Hkv;
    transpose(a->KT + task * d->Dh * a->ldt, a->ldt, a->K + b * d->kv_stride_b + kvh * d->Dh, d->Hkv * d->Dh, a->Tk,
              d->Dh);
}

/* One task: query block qb of (batch row, kv head), every head of the group; the blocks
 * nearest the end (the most keys) come first so the last tasks are the short ones. */
AVX512 static void fwd_task(void *ctx, int64_t task, int tid)
{
    a512 *a = ctx;
    const tb_attn_dims *d = a->d;
    int64_t Tq = d->Tq, H = d->H, Hkv = d->Hkv, Dh = d->Dh, ldq = H * Dh, ldk = Hkv * Dh, group = H / Hkv;
    int64_t bk = task % (d->B * Hkv), qb = a->nqb - 1 - task / (d->B * Hkv), b = bk / Hkv, kvh = bk % Hkv;
    int64_t t0 = qb * QB, rows = Tq - t0 < QB ? Tq - t0 : QB, diag = d->pos0 + t0, lds = pad16(diag + rows);
    const float *KT = a->KT + bk * Dh * a->ldt, *Vb = a->V + b * d->kv_stride_b + kvh * Dh;
    float *S = a->cb->tile[tid].p; /* (rows, lds) */
    for (int64_t h = kvh * group; h < (kvh + 1) * group; h++) {
        int64_t row0 = (b * Tq + t0) * ldq + h * Dh;
        scores(S, lds, a->Q + row0, ldq, rows, KT, a->ldt, Dh, diag, d->scale);
        float inv[QB];
        for (int64_t i = 0; i < rows; i++) { /* exp(s - max), normalized after the product */
            float *s = S + i * lds;
            int64_t valid = diag + i + 1;
            float mx = cpu_max(s, (size_t)valid);
            float sum = cpu_exp_shift_sum(s, (size_t)valid, mx);
            memset(s + valid, 0, (size_t)(lds - valid) * sizeof(float));
            inv[i] = 1.0f / sum;
            if (a->L)
                a->L[(b * H + h) * Tq + t0 + i] = mx + logf(sum);
        }
        float *Ob = a->O + row0;
        rows_times(Ob, ldq, S, lds, rows, Vb, ldk, Dh / 16, diag, 1.0f);
        for (int64_t i = 0; i < rows; i++)
            for (int64_t e = 0; e < Dh; e++)
                Ob[i * ldq + e] *= inv[i];
    }
}

bool cpu_attn512_forward(cpu_backend *cb, float *O, float *L, const float *Q, const float *K, const float *V,
                         const tb_attn_dims *d)
{
    if (!cpu_have_avx512() || d->Dh % 16 != 0 || d->Tq < 8)
        return false;
    int64_t Tk = d->pos0 + d->Tq, ldt = pad16(Tk), nqb = (d->Tq + QB - 1) / QB;
    for (int t = 0; t < cb->threads; t++)
        if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)(QB * ldt)))
            return true; /* the failure is recorded */
    if (!cpu_scratch_reserve(cb, &cb->shared, (size_t)(d->B * d->Hkv * d->Dh * ldt)))
        return true;
    a512 a = {.cb = cb, .d = d, .O = O, .L = L, .Q = Q, .K = K, .V = V, .KT = cb->shared.p, .nqb = nqb, .Tk = Tk,
              .ldt = ldt};
    bool par = Tk * d->Tq * d->Dh * d->H * d->B >= PAR_WORK;
    cpu_tasks(cb, par, d->B * d->Hkv, pack_task, &a);
    cpu_tasks(cb, par, d->B * d->Hkv * nqb, fwd_task, &a);
    return true;
}

/* dS = P * (dP - rowsum(dO * O)); dQ = scale dS K; dK += scale dS^T Q; dV += P^T dO. One
 * task per (batch row, kv head): the heads sharing a kv head accumulate its dK, dV. */
AVX512 static void bwd_task(void *ctx, int64_t task, int tid)
{
    a512 *a = ctx;
    const tb_attn_dims *d = a->d;
    int64_t Tq = d->Tq, H = d->H, Hkv = d->Hkv, Dh = d->Dh, Tk = a->Tk, ldt = a->ldt;
    int64_t ldq = H * Dh, ldk = Hkv * Dh, group = H / Hkv;
    int64_t b = task / Hkv, kvh = task % Hkv;
    const float *Kb = a->K + b * d->kv_stride_b + kvh * Dh, *Vb = a->V + b * d->kv_stride_b + kvh * Dh;
    float *dKb = a->dK + b * d->kv_stride_b + kvh * Dh, *dVb = a->dV + b * d->kv_stride_b + kvh * Dh;
    float *P = a->cb->tile[tid].p, *dP = P + QB * ldt, *KT = dP + QB * ldt, *VT = KT + Dh * ldt;
    transpose(KT, ldt, Kb, ldk, Tk, Dh);
    transpose(VT, ldt, Vb, ldk, Tk, Dh);
    for (int64_t j = 0; j < Tk; j++) {
        memset(dKb + j * ldk, 0, (size_t)Dh * sizeof(float));
        memset(dVb + j * ldk, 0, (size_t)Dh * sizeof(float));
    }
    for (int64_t h = kvh * group; h < (kvh + 1) * group; h++)
        for (int64_t qb = 0; qb < a->nqb; qb++) {
            int64_t t0 = qb * QB, rows = Tq - t0 < QB ? Tq - t0 : QB, diag = d->pos0 + t0, lds = pad16(diag + rows);
            int64_t row0 = (b * Tq + t0) * ldq + h * Dh;
            scores(P, lds, a->Q + row0, ldq, rows, KT, ldt, Dh, diag, d->scale);
            scores(dP, lds, a->dO + row0, ldq, rows, VT, ldt, Dh, diag, 1.0f);
            int64_t st = (b * H + h) * Tq + t0; /* row statistics: lse, rowsum(dO * O) */
            for (int64_t i = 0; i < rows; i++)
                cpu_attn_prob_grad(P + i * lds, dP + i * lds, (size_t)(diag + i + 1), (size_t)lds, a->Lc[st + i],
                                   a->Di[st + i]);
            rows_times(a->dQ + row0, ldq, dP, lds, rows, Kb, ldk, Dh / 16, diag, d->scale);
            cols_times(dKb, ldk, dP, lds, rows, a->Q + row0, ldq, Dh / 16, diag, d->scale);
            cols_times(dVb, ldk, P, lds, rows, a->dO + row0, ldq, Dh / 16, diag, 1.0f);
        }
}

/* Di (B, H, Tq) = rowsum(dO * O) per head, a pass over whole rows (which streams from memory;
 * per block the same rows are scattered reads). */
static void di_rows(void *ctx, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    a512 *a = ctx;
    const tb_attn_dims *d = a->d;
    int64_t H = d->H, Dh = d->Dh, Tq = d->Tq;
    for (int64_t r = lo; r < hi; r++) /* r = b Tq + t */
        for (int64_t h = 0; h < H; h++)
            a->Di[((r / Tq) * H + h) * Tq + r % Tq] =
                cpu_dot(a->dO + (r * H + h) * Dh, a->Oc + (r * H + h) * Dh, TB_DTYPE_F32, (size_t)Dh);
}

bool cpu_attn512_backward(cpu_backend *cb, float *dQ, float *dK, float *dV, const float *dO, const float *Q,
                          const float *K, const float *V, const float *O, const float *L, const tb_attn_dims *d)
{
    if (!cpu_have_avx512() || d->Dh % 16 != 0 || d->Tq < 8)
        return false;
    int64_t Tk = d->pos0 + d->Tq, ldt = pad16(Tk);
    for (int t = 0; t < cb->threads; t++)
        if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)((2 * QB + 2 * d->Dh) * ldt)))
            return true;
    if (!cpu_scratch_reserve(cb, &cb->shared, (size_t)(d->B * d->H * d->Tq)))
        return true;
    a512 a = {.cb = cb, .d = d, .dQ = dQ, .dK = dK, .dV = dV, .dO = dO, .Q = Q, .K = K, .V = V, .Oc = O, .Lc = L,
              .Di = cb->shared.p, .nqb = (d->Tq + QB - 1) / QB, .Tk = Tk, .ldt = ldt};
    cpu_for(cb, d->B * d->Tq, 64, di_rows, &a);
    cpu_tasks(cb, Tk * d->Tq * d->Dh * d->H * d->B >= PAR_WORK, d->B * d->Hkv, bwd_task, &a);
    return true;
}

#endif
