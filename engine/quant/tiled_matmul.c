/* tunebench — matmuls on fp32 tiles of a compressed weight + cblas_sgemm (tiled_matmul.h). */
#include "engine/quant/tiled_matmul.h"

#include <cblas.h>

#include "engine/core/alloc.h"

/* 256K fp32 values (1 MB) per tile: about an L2 of this CPU family, and the forward's
 * column slices come out 128+ wide, where sgemm runs at full speed (tests/bench/bench_nf4.c
 * sweeps the budget: 64-wide slices cost 1.2x f32, 128-wide 1.07x; BENCHMARKS.md). */
enum { DEFAULT_TILE_FLOATS = 262144, KT_ALIGN = 64 };
static size_t tile_budget = DEFAULT_TILE_FLOATS;

void tb_tiled_set_budget(size_t floats) { tile_budget = floats ? floats : DEFAULT_TILE_FLOATS; }

static void fill_nf4(const void *weight, int64_t r0, int64_t nr, int64_t c0, int64_t nc, float *tile)
{
    tb_nf4_dequant_tile(weight, r0, nr, c0, nc, tile);
}

static void fill_dense(const void *weight, int64_t r0, int64_t nr, int64_t c0, int64_t nc, float *tile)
{
    const tb_tiled_dense *d = weight;
    const uint8_t *base = d->data;
    size_t esize = tb_dtype_size(d->dtype);
    for (int64_t r = 0; r < nr; r++)
        tb_convert_to_f32(tile + r * nc, base + (size_t)((r0 + r) * d->cols + c0) * esize, d->dtype, (size_t)nc);
}

tb_tiled_weight tb_tiled_weight_nf4(const tb_nf4 *w)
{
    return (tb_tiled_weight){.weight = w, .rows = w->rows, .cols = w->cols, .fill = fill_nf4};
}

tb_tiled_weight tb_tiled_weight_dense(const tb_tiled_dense *d, int64_t rows)
{
    return (tb_tiled_weight){.weight = d, .rows = rows, .cols = d->cols, .fill = fill_dense};
}

static void fill_part(const void *weight, int64_t r0, int64_t nr, int64_t c0, int64_t nc, float *tile)
{
    const tb_tiled_part *p = weight;
    p->whole->fill(p->whole->weight, p->r0 + r0, nr, p->c0 + c0, nc, tile);
}

tb_tiled_weight tb_tiled_weight_part(const tb_tiled_part *p, int64_t rows, int64_t cols)
{
    return (tb_tiled_weight){.weight = p, .rows = rows, .cols = cols, .fill = fill_part};
}

void tb_tiled_forward_tile(const tb_tiled_weight *w, int64_t *rows, int64_t *cols)
{
    /* kt: a multiple of 64 (whole NF4 blocks per row slice) fitting all rows in the budget;
     * a very tall weight (out * 64 > budget) also splits its rows. */
    int64_t kt = (int64_t)tile_budget / w->rows / KT_ALIGN * KT_ALIGN, tr = w->rows;
    if (kt < KT_ALIGN) {
        kt = KT_ALIGN;
        tr = (int64_t)tile_budget / kt;
        if (tr < 1)
            tr = 1;
        if (tr > w->rows)
            tr = w->rows;
    }
    *rows = tr;
    *cols = kt < w->cols ? kt : w->cols;
}

int64_t tb_tiled_backward_rows(const tb_tiled_weight *w)
{
    int64_t tr = (int64_t)tile_budget / w->cols;
    if (tr < 1)
        tr = 1;
    return tr < w->rows ? tr : w->rows;
}

size_t tb_tiled_tile_floats(const tb_tiled_weight *w)
{
    int64_t fr, fc;
    tb_tiled_forward_tile(w, &fr, &fc);
    int64_t fwd = fr * fc, bwd = tb_tiled_backward_rows(w) * w->cols;
    return (size_t)(fwd > bwd ? fwd : bwd);
}

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
                              int64_t M, float alpha, float beta, float *tile, tb_error *err)
{
    bool own;
    tb_status st = begin(&tile, &own, w, M, ldy, w->rows, ldx, w->cols, err);
    if (st != TB_OK || M == 0)
        return st;
    int64_t tr, kt;
    tb_tiled_forward_tile(w, &tr, &kt);
    for (int64_t r0 = 0; r0 < w->rows; r0 += tr) {
        int64_t nr = w->rows - r0 < tr ? w->rows - r0 : tr;
        for (int64_t k0 = 0; k0 < w->cols; k0 += kt) {
            int64_t nk = w->cols - k0 < kt ? w->cols - k0 : kt;
            w->fill(w->weight, r0, nr, k0, nk, tile); /* (nr, nk) */
            /* y[:, r0:r0+nr] (+)= x[:, k0:k0+nk] (M, nk) · tile^T (nk, nr); the first slice applies beta */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)M, (int)nr, (int)nk, alpha, x + k0, (int)ldx,
                        tile, (int)nk, k0 == 0 ? beta : 1.0f, y + r0, (int)ldy);
        }
    }
    if (own)
        tb_free(tile);
    return TB_OK;
}

tb_status tb_tiled_matmul_dyw(float *dx, int64_t lddx, const float *dy, int64_t lddy, const tb_tiled_weight *w,
                              int64_t M, float alpha, float beta, float *tile, tb_error *err)
{
    bool own;
    tb_status st = begin(&tile, &own, w, M, lddx, w->cols, lddy, w->rows, err);
    if (st != TB_OK || M == 0)
        return st;
    const int64_t tr = tb_tiled_backward_rows(w);
    for (int64_t r0 = 0; r0 < w->rows; r0 += tr) {
        int64_t n = w->rows - r0 < tr ? w->rows - r0 : tr;
        w->fill(w->weight, r0, n, 0, w->cols, tile); /* (n, cols) */
        /* dx (M, cols) (+)= dy[:, r0:r0+n] (M, n) · tile (n, cols); the first tile applies beta */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)w->cols, (int)n, alpha, dy + r0,
                    (int)lddy, tile, (int)w->cols, r0 == 0 ? beta : 1.0f, dx, (int)lddx);
    }
    if (own)
        tb_free(tile);
    return TB_OK;
}

tb_status tb_nf4_matmul_xwt(float *y, int64_t ldy, const float *x, int64_t ldx, const tb_nf4 *w, int64_t M,
                            float alpha, float beta, float *tile, tb_error *err)
{
    tb_tiled_weight t = tb_tiled_weight_nf4(w);
    return tb_tiled_matmul_xwt(y, ldy, x, ldx, &t, M, alpha, beta, tile, err);
}

tb_status tb_nf4_matmul_dyw(float *dx, int64_t lddx, const float *dy, int64_t lddy, const tb_nf4 *w, int64_t M,
                            float alpha, float beta, float *tile, tb_error *err)
{
    tb_tiled_weight t = tb_tiled_weight_nf4(w);
    return tb_tiled_matmul_dyw(dx, lddx, dy, lddy, &t, M, alpha, beta, tile, err);
}

size_t tb_nf4_tile_floats(const tb_nf4 *w)
{
    tb_tiled_weight t = tb_tiled_weight_nf4(w);
    return tb_tiled_tile_floats(&t);
}
