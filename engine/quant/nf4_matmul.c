/* tunebench — NF4 matmuls on tiles + cblas_sgemm (nf4_matmul.h). */
#include "engine/quant/nf4_matmul.h"

#include <cblas.h>

#include "engine/core/alloc.h"

/* 64K fp32 values (256 KB) per tile: the tile stays in L2 while sgemm packs it, and M x tr
 * is big enough that per-call overhead is lost in the product (tests/bench/bench_nf4.c). */
enum { DEFAULT_TILE_FLOATS = 65536 };
static size_t tile_budget = DEFAULT_TILE_FLOATS;

void tb_nf4_set_tile_floats(size_t floats) { tile_budget = floats ? floats : DEFAULT_TILE_FLOATS; }

int64_t tb_nf4_tile_rows(const tb_nf4 *w)
{
    int64_t tr = (int64_t)tile_budget / w->cols;
    if (tr < 1)
        tr = 1;
    return tr < w->rows ? tr : w->rows;
}

size_t tb_nf4_tile_floats(const tb_nf4 *w) { return (size_t)(tb_nf4_tile_rows(w) * w->cols); }

static tb_status get_tile(float **tile, bool *own, const tb_nf4 *w, tb_error *err)
{
    *own = !*tile;
    if (*own && !(*tile = tb_alloc(tb_nf4_tile_floats(w) * sizeof(float), TB_MEM_SCRATCH)))
        return tb_fail(err, TB_ERR_NOMEM, "out of memory for an NF4 tile (%zu floats)", tb_nf4_tile_floats(w));
    return TB_OK;
}

static tb_status check(const tb_nf4 *w, int64_t M, int64_t ld_out, int64_t need_out, int64_t ld_in,
                       int64_t need_in, tb_error *err)
{
    if (M < 0 || ld_out < need_out || ld_in < need_in)
        return tb_fail(err, TB_ERR_INVALID, "NF4 matmul: M %lld, leading dimensions %lld/%lld below %lld/%lld",
                       (long long)M, (long long)ld_out, (long long)ld_in, (long long)need_out, (long long)need_in);
    (void)w;
    return TB_OK;
}

tb_status tb_nf4_matmul_xwt(float *y, int64_t ldy, const float *x, int64_t ldx, const tb_nf4 *w, int64_t M,
                            float beta, float *tile, tb_error *err)
{
    bool own;
    tb_status st = check(w, M, ldy, w->rows, ldx, w->cols, err);
    if (st != TB_OK || M == 0 || (st = get_tile(&tile, &own, w, err)) != TB_OK)
        return st;
    const int64_t tr = tb_nf4_tile_rows(w);
    for (int64_t r0 = 0; r0 < w->rows; r0 += tr) {
        int64_t n = w->rows - r0 < tr ? w->rows - r0 : tr;
        tb_nf4_dequant_rows(w, r0, n, tile); /* (n, cols) */
        /* y[:, r0:r0+n] = x (M, cols) · tile^T (cols, n) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)n, (int)w->cols, 1.0f, x, (int)ldx,
                    tile, (int)w->cols, beta, y + r0, (int)ldy);
    }
    if (own)
        tb_free(tile);
    return TB_OK;
}

tb_status tb_nf4_matmul_dyw(float *dx, int64_t lddx, const float *dy, int64_t lddy, const tb_nf4 *w, int64_t M,
                            float beta, float *tile, tb_error *err)
{
    bool own;
    tb_status st = check(w, M, lddx, w->cols, lddy, w->rows, err);
    if (st != TB_OK || M == 0 || (st = get_tile(&tile, &own, w, err)) != TB_OK)
        return st;
    const int64_t tr = tb_nf4_tile_rows(w);
    for (int64_t r0 = 0; r0 < w->rows; r0 += tr) {
        int64_t n = w->rows - r0 < tr ? w->rows - r0 : tr;
        tb_nf4_dequant_rows(w, r0, n, tile);
        /* dx (M, cols) += dy[:, r0:r0+n] (M, n) · tile (n, cols); the first tile applies beta. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)w->cols, (int)n, 1.0f, dy + r0,
                    (int)lddy, tile, (int)w->cols, r0 == 0 ? beta : 1.0f, dx, (int)lddx);
    }
    if (own)
        tb_free(tile);
    return TB_OK;
}
