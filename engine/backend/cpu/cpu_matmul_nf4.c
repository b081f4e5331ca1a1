/* tunebench — CPU matmul with an NF4 weight (QLoRA's frozen base, engine/quant).
 *
 * The two products a frozen linear needs (nf4_weight.h), W = dequant(w) [out, in]:
 *   TB_MM_TRANS_B  forward         C (M, out) = alpha A (M, in) W^T + beta C
 *   flags 0        input gradient  C (M, in)  = alpha A (M, out) W + beta C
 * W never exists in fp32 as a whole: engine/quant/tiled_matmul.h expands one tile at a
 * time into per-thread scratch and feeds it to cblas_sgemm. The pool splits C by columns
 * into panels, so every weight value is dequantized once per product whichever thread
 * runs it: forward panels are rows of W, input-gradient panels columns of W (multiples of
 * 64, whole NF4 blocks). OpenBLAS stays single-threaded inside each task, as everywhere in
 * this backend. TRANS_A (a weight gradient) is refused: the base is frozen. NF4 always
 * computes in f32 (TB_PRECISION_BF16 only concerns bf16 weights). */
#include <stdatomic.h>

#include "engine/backend/cpu/cpu_internal.h"
#include "engine/quant/nf4_weight.h"
#include "engine/quant/tiled_matmul.h"

#define PAR_MIN_FLOPS (1 << 18) /* below this the caller's thread does it alone */
#define MIN_PANEL 16            /* forward: rows of W per panel at least */

typedef struct nf4_job {
    cpu_backend *cb;
    float *C;                   /* (M, N) */
    const float *A;             /* (M, K) */
    tb_tiled_weight whole;      /* W [out, in] */
    int64_t M, N, K;
    int64_t w;                  /* panel width: columns of C */
    bool fwd;                   /* TRANS_B */
    float alpha, beta;
    atomic_int failed;          /* a task's error (none expected: shapes are checked first) */
} nf4_job;

static void nf4_task(void *ctx, int64_t chunk, int tid)
{
    nf4_job *j = ctx;
    int64_t lo = chunk * j->w, width = j->N - lo < j->w ? j->N - lo : j->w;
    tb_tiled_part part = {&j->whole, j->fwd ? lo : 0, j->fwd ? 0 : lo};
    tb_tiled_weight panel = j->fwd ? tb_tiled_weight_part(&part, width, j->whole.cols)
                                   : tb_tiled_weight_part(&part, j->whole.rows, width);
    tb_error err;
    tb_status st = j->fwd ? tb_tiled_matmul_xwt(j->C + lo, j->N, j->A, j->K, &panel, j->M, j->alpha, j->beta,
                                                j->cb->tile[tid].p, &err)
                          : tb_tiled_matmul_dyw(j->C + lo, j->N, j->A, j->K, &panel, j->M, j->alpha, j->beta,
                                                j->cb->tile[tid].p, &err);
    if (st != TB_OK)
        atomic_store(&j->failed, (int)st);
}

/* Scratch one panel of width `width` needs. */
static size_t panel_floats(const nf4_job *j, int64_t width)
{
    tb_tiled_part part = {&j->whole, 0, 0};
    tb_tiled_weight panel = j->fwd ? tb_tiled_weight_part(&part, width, j->whole.cols)
                                   : tb_tiled_weight_part(&part, j->whole.rows, width);
    return tb_tiled_tile_floats(&panel);
}

void cpu_matmul_nf4(cpu_backend *cb, float *C, const float *A, const struct tb_nf4_weight *nw, int64_t M, int64_t N,
                    int64_t K, int flags, float alpha, float beta)
{
    const tb_nf4 *q = nw->host;
    if (flags & TB_MM_TRANS_A) {
        cpu_fail(cb, TB_ERR_UNSUPPORTED,
                 "matmul: an NF4 weight as B with a transposed A (a weight gradient) is not supported: "
                 "quantized base weights are frozen (QLoRA trains LoRA adapters only)");
        return;
    }
    bool fwd = flags & TB_MM_TRANS_B;
    int64_t want_n = fwd ? q->rows : q->cols, want_k = fwd ? q->cols : q->rows;
    if (N != want_n || K != want_k) {
        cpu_fail(cb, TB_ERR_INVALID, "matmul: NF4 weight [%lld, %lld] used as a (%lld x %lld) %s operand",
                 (long long)q->rows, (long long)q->cols, (long long)(fwd ? N : K), (long long)(fwd ? K : N),
                 fwd ? "W^T" : "W");
        return;
    }
    if (M <= 0)
        return;
    nf4_job j = {.cb = cb, .C = C, .A = A, .whole = tb_tiled_weight_nf4(q), .M = M, .N = N, .K = K, .fwd = fwd,
                 .alpha = alpha, .beta = beta};
    atomic_init(&j.failed, TB_OK);
    bool par = (double)M * (double)N * (double)K >= PAR_MIN_FLOPS && cb->threads > 1;
    /* Two panels per thread absorb a preempted thread; each re-packs only A's slice. */
    int64_t panels = par ? 2 * cb->threads : 1;
    j.w = (N + panels - 1) / panels;
    if (fwd)
        j.w = j.w < MIN_PANEL ? (N < MIN_PANEL ? N : MIN_PANEL) : j.w;
    else
        j.w = (j.w + TB_NF4_BLOCK - 1) / TB_NF4_BLOCK * TB_NF4_BLOCK; /* whole blocks per row slice */
    if (j.w > N)
        j.w = N;
    int64_t n_chunks = (N + j.w - 1) / j.w, last = N - (n_chunks - 1) * j.w;
    size_t need = panel_floats(&j, j.w), need_last = panel_floats(&j, last);
    need = need > need_last ? need : need_last;
    int users = par ? cb->threads : 1;
    for (int t = 0; t < users; t++)
        if (!cpu_scratch_reserve(cb, &cb->tile[t], need))
            return;
    if (par)
        cpu_pool_run(cb->pool, n_chunks, nf4_task, &j);
    else
        for (int64_t c = 0; c < n_chunks; c++)
            nf4_task(&j, c, 0);
    if (atomic_load(&j.failed) != TB_OK)
        cpu_fail(cb, (tb_status)atomic_load(&j.failed), "matmul: NF4 tiled product failed");
}
