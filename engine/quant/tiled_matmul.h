/* tunebench — CPU matmuls with a compressed weight operand, a tile of rows at a time.
 *
 * The two products a frozen base linear needs (DESIGN.md §3; the base gets no gradient):
 *   forward         y  (M, out) = x  (M, in)  · W^T      W is [out, in]
 *   input gradient  dx (M, in)  = dy (M, out) · W
 * W is never materialized in fp32: a tile of it is expanded by the weight's fill function
 * and handed to cblas_sgemm, and each product tiles along its own reduction dimension so
 * that sgemm packs every slice of the big activation operand exactly once:
 *   forward: column tiles W[:, k0:k0+kt] (out, kt); y += x[:, k0:k0+kt] · tile^T
 *   backward: row tiles W[r0:r0+tr, :] (tr, in);  dx += dy[:, r0:r0+tr] · tile
 * (Row tiles in the forward re-pack all of x per tile: 1.6-2.7x slower, BENCHMARKS.md.)
 * Fill functions exist for NF4 (tb_nf4_dequant_tile) and for dense F32/BF16/F16 weights.
 *
 * `tile` is caller scratch of tb_tiled_tile_floats(w) floats (64-byte aligned is best, e.g.
 * tb_alloc); NULL makes the call allocate and free its own (TB_MEM_SCRATCH).
 * alpha scales the product; beta: 0 overwrites the output (old contents, NaN included, are
 * ignored), 1 accumulates into it (backward accumulates, STYLE.md rule 4): the semantics of
 * backend.h's matmul op. Leading dimensions let x/y/dx be column slices of wider buffers. */
#ifndef TB_QUANT_TILED_MATMUL_H
#define TB_QUANT_TILED_MATMUL_H

#include "engine/quant/nf4.h"

/* Rows [r0, r0 + nr) x columns [c0, c0 + nc) of the weight as fp32 into tile (nr, nc). */
typedef void (*tb_tile_fill_fn)(const void *weight, int64_t r0, int64_t nr, int64_t c0, int64_t nc, float *tile);

typedef struct tb_tiled_weight {
    const void *weight;    /* what fill reads: a tb_nf4, or a tb_tiled_dense */
    int64_t rows, cols;    /* [out, in] */
    tb_tile_fill_fn fill;
} tb_tiled_weight;

/* A dense weight stored as F32, BF16 or F16 (rows, cols), row-major. */
typedef struct tb_tiled_dense {
    const void *data;
    tb_dtype dtype;
    int64_t cols;
} tb_tiled_dense;

tb_tiled_weight tb_tiled_weight_nf4(const tb_nf4 *w);
/* `d` must outlive the returned view. */
tb_tiled_weight tb_tiled_weight_dense(const tb_tiled_dense *d, int64_t rows);

/* Rows [r0, r0 + rows) x columns [c0, c0 + cols) of a weight, as a weight of its own: how a
 * threaded caller gives each thread a panel (the CPU backend's NF4 matmul). */
typedef struct tb_tiled_part {
    const tb_tiled_weight *whole;
    int64_t r0, c0;
} tb_tiled_part;
/* `p` (and p->whole) must outlive the returned view. */
tb_tiled_weight tb_tiled_weight_part(const tb_tiled_part *p, int64_t rows, int64_t cols);

/* Tile shapes (about 256K fp32 values each, 1 MB) and the scratch both products need. */
void tb_tiled_forward_tile(const tb_tiled_weight *w, int64_t *rows, int64_t *cols);  /* (out or less, kt) */
int64_t tb_tiled_backward_rows(const tb_tiled_weight *w);                             /* (tr, in) */
size_t tb_tiled_tile_floats(const tb_tiled_weight *w);

/* y (M, ldy >= rows) = alpha · x (M, ldx >= cols) · W^T + beta · y */
tb_status tb_tiled_matmul_xwt(float *y, int64_t ldy, const float *x, int64_t ldx, const tb_tiled_weight *w,
                              int64_t M, float alpha, float beta, float *tile, tb_error *err);
/* dx (M, lddx >= cols) = alpha · dy (M, lddy >= rows) · W + beta · dx */
tb_status tb_tiled_matmul_dyw(float *dx, int64_t lddx, const float *dy, int64_t lddy, const tb_tiled_weight *w,
                              int64_t M, float alpha, float beta, float *tile, tb_error *err);

/* The NF4 shorthands: the same products with W = dequant(w). */
tb_status tb_nf4_matmul_xwt(float *y, int64_t ldy, const float *x, int64_t ldx, const tb_nf4 *w, int64_t M,
                            float alpha, float beta, float *tile, tb_error *err);
tb_status tb_nf4_matmul_dyw(float *dx, int64_t lddx, const float *dy, int64_t lddy, const tb_nf4 *w, int64_t M,
                            float alpha, float beta, float *tile, tb_error *err);
size_t tb_nf4_tile_floats(const tb_nf4 *w);

/* Benchmarks only (not thread-safe): tile budget in fp32 values (0 restores the default). */
void tb_tiled_set_budget(size_t floats);

#endif
