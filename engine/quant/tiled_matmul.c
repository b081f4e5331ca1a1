/* tunebench — matmuls on fp32 tiles of a compressed weight + cblas_sgemm (tiled_matmul.h). */
#include "engine/quant/tiled_matmul.h"

#include <cblas.h>

#include "engine/core/alloc.h"

/* 64K fp32 values (256 KB) per tile: the tile stays in L2 while sgemm packs it, and M x tr
 * is big enough that the per-call cost vanishes in the product (tests/bench/bench_nf4.c
 * sweeps the budget; BENCHMARKS.md). */
enum { DEFAULT_TILE_FLOATS = 65536 };
static size_t tile_budget = DEFAULT_TILE_FLOATS;

void tb_tiled_set_budget(size_t floats) { tile_budget = floats ? floats : DEFAULT_TILE_FLOATS; }

static void fill_nf4(const void *weight, int64_t r0, int64_t n, float *tile)
{
    tb_nf4_dequant_rows(weight, r0, n, tile);
}

static void fill_dense(const void *weight, int64_t r0, int64_t n, float *tile)
{
    const tb_tiled_dense *d = weight;
    size_t esize = tb_dtype_size(d->dtype);
    tb_convert_to_f32(tile, (const uint8_t *)d->data + (size_t)(r0 * d->cols) * esize, d->dtype,
                      (size_t)(n * d->cols));
}

tb_tiled_weight tb_tiled_weight_nf4(const tb_nf4 *w)
{
    return (tb_tiled_weight){.weight = w, .rows = w->rows, .cols = w->cols, .fill = fill_nf4};
}

tb_tiled_weight tb_tiled_weight_dense(const tb_tiled_dense *d, int64_t rows)
{
    return (tb_tiled_weight){.weight = d, .rows = rows, .cols = d->cols, .fill = fill_dense};
}

int64_t tb_tiled_tile_rows(const tb_tiled_weight *w)
{
    int64_t tr = (int64_t)tile_budget / w->cols;
    if (tr < 1)
        tr = 1;
    return tr < w->rows ? tr : w->rows;
}

size_t tb_tiled_tile_floats(const tb_tiled_weight *w) { return (size_t)(tb_tiled_tile_rows(w) * w->cols); }

static tb_status begin(float **tile, bool *own, const tb_tiled_weight *w, int64_t M, int64_t ld_out,
                       int64_t need_out, int64_t ld_in, int64_t need_in, tb_error *err)
{
    *own = false;
    if (M < 0 || ld_out < need_out || ld_in < need_in)
        return tb_fail(err, TB_ERR_INVALID, "tiled matmul: M %lld, leading dimensions %lld/%lld below %lld/%lld",
                       (long long)M, (long long)ld_out, (long long)ld_in, (long long)need_out, (long long)need_in);
    if (M == 0 || *tile)
        return TB_OK;
    if (!(*tile = tb_alloc(tb_tiled_tile_floats(w) * sizeof(float), TB_MEM_SCRATCH)))
        return tb_fail(err, TB_ERR_NOMEM, "out of memory for a weight tile (%zu floats)", tb_tiled_tile_floats(w));
    *own = true;
    return TB_OK;
}

tb_status tb_tiled_matmul_xwt(float *y, int64_t ldy, const float *x, int64_t ldx, const tb_tiled_weight *w,
                              int64_t M, float beta, float *tile, tb_error *err)
{
    bool own;
    tb_status st = begin(&tile, &own, w, M, ldy, w->rows, ldx, w->cols, err);
    if (st != TB_OK || M == 0)
        return st;
    const int64_t tr = tb_tiled_tile_rows(w);
    for (int64_t r0 = 0; r0 < w->rows; r0 += tr) {
        int64_t n = w->rows - r0 < tr ? w->rows - r0 : tr;
        w->fill(w->weight, r0, n, tile); /* (n, cols) */
        /* y[:, r0:r0+n] = x (M, cols) · tile^T (cols, n) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)n, (int)w->cols, 1.0f, x, (int)ldx,
                    tile, (int)w->cols, beta, y + r0, (int)ldy);
    }
    if (own)
        tb_free(tile);
    return TB_OK;
}

tb_status tb_tiled_matmul_dyw(float *dx, int64_t lddx, const float *dy, int64_t lddy, const tb_tiled_weight *w,
                              int64_t M, float beta, float *tile, tb_error *err)
{
    bool own;
    tb_status st = begin(&tile, &own, w, M, lddx, w->cols, lddy, w->rows, err);
    if (st != TB_OK || M == 0)
        return st;
    const int64_t tr = tb_tiled_tile_rows(w);
    for (int64_t r0 = 0; r0 < w->rows; r0 += tr) {
        int64_t n = w->rows - r0 < tr ? w->rows - r0 : tr;
        w->fill(w->weight, r0, n, tile);
        /* dx (M, cols) += dy[:, r0:r0+n] (M, n) · tile (n, cols); the first tile applies beta. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)w->cols, (int)n, 1.0f, dy + r0,
                    (int)lddy, tile, (int)w->cols, r0 == 0 ? beta : 1.0f, dx, (int)lddx);
    }
    if (own)
        tb_free(tile);
    return TB_OK;
}

tb_status tb_nf4_matmul_xwt(float *y, int64_t ldy, const float *x, int64_t ldx, const tb_nf4 *w, int64_t M,
                            float beta, float *tile, tb_error *err)
{
    tb_tiled_weight t = tb_tiled_weight_nf4(w);
    return tb_tiled_matmul_xwt(y, ldy, x, ldx, &t, M, beta, tile, err);
}

tb_status tb_nf4_matmul_dyw(float *dx, int64_t lddx, const float *dy, int64_t lddy, const tb_nf4 *w, int64_t M,
                            float beta, float *tile, tb_error *err)
{
    tb_tiled_weight t = tb_tiled_weight_nf4(w);
    return tb_tiled_matmul_dyw(dx, lddx, dy, lddy, &t, M, beta, tile, err);
}

size_t tb_nf4_tile_floats(const tb_nf4 *w)
{
    tb_tiled_weight t = tb_tiled_weight_nf4(w);
    return tb_tiled_tile_floats(&t);
}
