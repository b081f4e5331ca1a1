/* tunebench — CPU matmuls with an NF4 weight operand, a tile of rows at a time.
 *
 * The two products a frozen QLoRA linear needs (DESIGN.md §3; the base weight gets no
 * gradient):
 *   forward         y  (M, out) = x  (M, in)  · dequant(W)^T      W is [out, in]
 *   input gradient  dx (M, in)  = dy (M, out) · dequant(W)
 * Rows [r0, r0 + tr) of W are dequantized into an fp32 tile (tr, in) and handed to
 * cblas_sgemm; the whole matrix never exists in fp32. Forward writes y's columns
 * [r0, r0 + tr) per tile; backward accumulates one rank-tr update per tile into dx.
 *
 * `tile` is caller scratch of tb_nf4_tile_floats(w) floats (64-byte aligned is best, e.g.
 * tb_alloc); NULL makes the call allocate and free its own (TB_MEM_SCRATCH).
 * beta: 0 overwrites the output, 1 accumulates into it (backward accumulates, STYLE.md
 * rule 4). Leading dimensions let y/dx be column slices of wider buffers. */
#ifndef TB_QUANT_NF4_MATMUL_H
#define TB_QUANT_NF4_MATMUL_H

#include "engine/quant/nf4.h"

/* Rows of W per tile (about 64K fp32 values, at least 1, at most rows). */
int64_t tb_nf4_tile_rows(const tb_nf4 *w);
size_t tb_nf4_tile_floats(const tb_nf4 *w);

/* y (M, ldy >= rows) = x (M, ldx >= cols) · dequant(W)^T + beta · y */
tb_status tb_nf4_matmul_xwt(float *y, int64_t ldy, const float *x, int64_t ldx, const tb_nf4 *w, int64_t M,
                            float beta, float *tile, tb_error *err);

/* dx (M, lddx >= cols) = dy (M, lddy >= rows) · dequant(W) + beta · dx */
tb_status tb_nf4_matmul_dyw(float *dx, int64_t lddx, const float *dy, int64_t lddy, const tb_nf4 *w, int64_t M,
                            float beta, float *tile, tb_error *err);

/* Benchmarks only: tile budget in fp32 values (0 restores the default). */
void tb_nf4_set_tile_floats(size_t floats);

#endif
