/* tunebench — layer kernels: embedding, RMSNorm, bias gradient, RoPE, softmax + xent. */
#include "engine/backend/vulkan/vk_ops.h"
#include "engine/backend/vulkan/vk_push.h"

#define ROW_WG 256u   /* one workgroup per row (rmsnorm, xent) */
#define COL_WG 64u    /* one invocation per column or element (colsum, embedding) */

static tb_status need(const char *op, const char *arg, tb_vk_view v, tb_dtype dt, size_t n, tb_error *err)
{
    if (v.buf && v.dt != dt)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, arg, "%s: needs %s, got %s", op,
                            tb_dtype_name(dt), tb_dtype_name(v.dt));
    return tb_vk_check(op, arg, v, n, err);
}

static tb_status need_float(const char *op, const char *arg, tb_vk_view v, size_t n, tb_error *err)
{
    if (v.buf && !tb_vk_is_float(v.dt))
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, arg, "%s: dtype %s", op, tb_dtype_name(v.dt));
    return tb_vk_check(op, arg, v, n, err);
}

/* Dispatch `kernel` with `groups` workgroups (split over x, y) of the given size. */
static tb_status launch(tb_vk_ctx *ctx, const char *kernel, uint32_t nbind, const tb_vk_bind *binds,
                        const void *pc, uint32_t push_size, uint32_t wg, bool wg_spec, uint64_t groups,
                        tb_error *err)
{
    if (groups == 0)
        return TB_OK;
    tb_vk_pipeline *p;
    uint32_t gx, gy;
    tb_status st;
    if ((st = tb_vk_pipeline_get(ctx, kernel, nbind, push_size, &wg, wg_spec ? 1 : 0, &p, err)) ||
        (st = tb_vk_grid(ctx, kernel, groups, &gx, &gy, err)))
        return st;
    return tb_vk_dispatch(ctx, p, binds, pc, gx, gy, 1, err);
}

tb_status tb_vk_embedding_forward(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view table, tb_vk_view ids,
                                  uint32_t N, uint32_t D, tb_error *err)
{
    const char *op = "embedding_forward";
    tb_status st;
    if ((st = need(op, "out", out, TB_DTYPE_F32, (size_t)N * D, err)) ||
        (st = need_float(op, "table", table, D, err)) || (st = need(op, "ids", ids, TB_DTYPE_I32, N, err)))
        return st;
    /* V: the rows the table view holds; ids beyond read zeros instead of foreign memory. */
    uint32_t V = D ? (uint32_t)((table.buf->size / tb_dtype_size(table.dt) - table.off) / D) : 0;
    tb_pc_rows pc = {.rows = N, .dim = D, .mode = TB_EMB_FWD, .dtw = (uint32_t)table.dt, .limit = V,
                     .o0 = (uint32_t)out.off, .o1 = (uint32_t)table.off, .o2 = (uint32_t)ids.off};
    tb_vk_bind binds[3] = {{out.buf, true}, {table.buf, false}, {ids.buf, false}};
    uint64_t n = (uint64_t)N * D;
    return launch(ctx, "embedding", 3, binds, &pc, sizeof pc, COL_WG, false, (n + COL_WG - 1) / COL_WG, err);
}

tb_status tb_vk_embedding_backward(tb_vk_ctx *ctx, tb_vk_view dtable, tb_vk_view dout, tb_vk_view ids,
                                   uint32_t N, uint32_t D, tb_error *err)
{
    const char *op = "embedding_backward";
    tb_status st;
    if ((st = need(op, "dtable", dtable, TB_DTYPE_F32, D, err)) ||
        (st = need(op, "dout", dout, TB_DTYPE_F32, (size_t)N * D, err)) ||
        (st = need(op, "ids", ids, TB_DTYPE_I32, N, err)))
        return st;
    uint32_t V = D ? (uint32_t)((dtable.buf->size / 4 - dtable.off) / D) : 0;
    tb_pc_rows pc = {.rows = N, .dim = D, .mode = TB_EMB_BWD, .dtw = TB_DT_F32, .limit = V,
                     .o0 = (uint32_t)dtable.off, .o1 = (uint32_t)dout.off, .o2 = (uint32_t)ids.off};
    tb_vk_bind binds[3] = {{dtable.buf, true}, {dout.buf, false}, {ids.buf, false}};
    return launch(ctx, "embedding", 3, binds, &pc, sizeof pc, COL_WG, false, N ? (D + COL_WG - 1) / COL_WG : 0, err);
}

tb_status tb_vk_rmsnorm_forward(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view rstd, tb_vk_view inp,
                                tb_vk_view weight, uint32_t N, uint32_t D, float eps, tb_error *err)
{
    const char *op = "rmsnorm_forward";
    size_t n = (size_t)N * D;
    tb_status st;
    if ((st = need(op, "out", out, TB_DTYPE_F32, n, err)) || (st = need(op, "inp", inp, TB_DTYPE_F32, n, err)) ||
        (st = need_float(op, "weight", weight, D, err)) ||
        (rstd.buf && (st = need(op, "rstd", rstd, TB_DTYPE_F32, N, err))))
        return st;
    tb_pc_rows pc = {.rows = N, .dim = D, .eps = eps, .mode = TB_ROWS_RMS_FWD, .dtw = (uint32_t)weight.dt,
                     .limit = rstd.buf != NULL, .o0 = (uint32_t)out.off, .o1 = (uint32_t)rstd.off,
                     .o2 = (uint32_t)inp.off, .o3 = (uint32_t)weight.off};
    tb_vk_bind binds[5] = {{out.buf, true}, {rstd.buf ? rstd.buf : out.buf, rstd.buf != NULL},
                           {inp.buf, false}, {weight.buf, false}, {inp.buf, false}};
    return launch(ctx, "rmsnorm", 5, binds, &pc, sizeof pc, ROW_WG, true, D ? N : 0, err);
}

tb_status tb_vk_rmsnorm_backward(tb_vk_ctx *ctx, tb_vk_view dinp, tb_vk_view dweight, tb_vk_view dout,
                                 tb_vk_view inp, tb_vk_view weight, tb_vk_view rstd, uint32_t N,
                                 uint32_t D, tb_error *err)
{
    const char *op = "rmsnorm_backward";
    size_t n = (size_t)N * D;
    tb_status st;
    if ((st = need(op, "dinp", dinp, TB_DTYPE_F32, n, err)) || (st = need(op, "dout", dout, TB_DTYPE_F32, n, err)) ||
        (st = need(op, "inp", inp, TB_DTYPE_F32, n, err)) || (st = need_float(op, "weight", weight, D, err)) ||
        (st = need(op, "rstd", rstd, TB_DTYPE_F32, N, err)) ||
        (dweight.buf && (st = need(op, "dweight", dweight, TB_DTYPE_F32, D, err))))
        return st;
    tb_pc_rows pc = {.rows = N, .dim = D, .mode = TB_ROWS_RMS_BWD, .dtw = (uint32_t)weight.dt,
                     .o0 = (uint32_t)dinp.off, .o1 = (uint32_t)dout.off, .o2 = (uint32_t)inp.off,
                     .o3 = (uint32_t)weight.off, .o4 = (uint32_t)rstd.off};
    tb_vk_bind binds[5] = {{dinp.buf, true}, {dout.buf, false}, {inp.buf, false}, {weight.buf, false},
                           {rstd.buf, false}};
    if ((st = launch(ctx, "rmsnorm", 5, binds, &pc, sizeof pc, ROW_WG, true, D ? N : 0, err)) || !dweight.buf)
        return st;
    tb_pc_rows cs = {.rows = N, .dim = D, .mode = TB_COLS_RMS_DW, .o0 = (uint32_t)dweight.off,
                     .o1 = (uint32_t)dout.off, .o2 = (uint32_t)inp.off, .o3 = (uint32_t)rstd.off};
    tb_vk_bind cb[4] = {{dweight.buf, true}, {dout.buf, false}, {inp.buf, false}, {rstd.buf, false}};
    return launch(ctx, "colsum", 4, cb, &cs, sizeof cs, COL_WG, false, (D + COL_WG - 1) / COL_WG, err);
}

tb_status tb_vk_bias_backward(tb_vk_ctx *ctx, tb_vk_view dbias, tb_vk_view dout, uint32_t N, uint32_t C,
                              tb_error *err)
{
    tb_status st;
    if ((st = need("bias_backward", "dbias", dbias, TB_DTYPE_F32, C, err)) ||
        (st = need("bias_backward", "dout", dout, TB_DTYPE_F32, (size_t)N * C, err)))
        return st;
    tb_pc_rows cs = {.rows = N, .dim = C, .mode = TB_COLS_BIAS, .o0 = (uint32_t)dbias.off,
                     .o1 = (uint32_t)dout.off, .o2 = (uint32_t)dout.off, .o3 = (uint32_t)dout.off};
    tb_vk_bind cb[4] = {{dbias.buf, true}, {dout.buf, false}, {dout.buf, false}, {dout.buf, false}};
    return launch(ctx, "colsum", 4, cb, &cs, sizeof cs, COL_WG, false, (C + COL_WG - 1) / COL_WG, err);
}

tb_status tb_vk_rope(tb_vk_ctx *ctx, tb_vk_view x, tb_vk_view table, uint32_t B, uint32_t T, uint32_t nh,
                     uint32_t Dh, uint32_t pos0, bool backward, tb_error *err)
{
    const char *op = backward ? "rope_backward" : "rope_forward";
    if (Dh % 2)
        return tb_fail(err, TB_ERR_INVALID, "%s: head dim %u is odd", op, Dh);
    tb_status st;
    if ((st = need(op, "x", x, TB_DTYPE_F32, (size_t)B * T * nh * Dh, err)) ||
        (st = need(op, "table", table, TB_DTYPE_F32, (size_t)(pos0 + T) * Dh, err)))
        return st;
    tb_pc_rope pc = {.rows = B * T, .T = T, .nh = nh, .Dh = Dh, .pos0 = pos0, .sign = backward ? -1.0f : 1.0f,
                     .ox = (uint32_t)x.off, .ot = (uint32_t)table.off};
    tb_vk_bind binds[2] = {{x.buf, true}, {table.buf, false}};
    uint64_t n = (uint64_t)B * T * nh * (Dh / 2);
    return launch(ctx, "rope", 2, binds, &pc, sizeof pc, 256, false, (n + 255) / 256, err);
}

tb_status tb_vk_xent(tb_vk_ctx *ctx, tb_vk_view loss, tb_vk_view logits, tb_vk_view targets, uint32_t N,
                     uint32_t V, float grad_scale, tb_error *err)
{
    const char *op = "xent_forward_backward";
    tb_status st;
    if ((st = need(op, "loss", loss, TB_DTYPE_F32, N, err)) ||
        (st = need(op, "logits", logits, TB_DTYPE_F32, (size_t)N * V, err)) ||
        (st = need(op, "targets", targets, TB_DTYPE_I32, N, err)))
        return st;
    tb_pc_rows pc = {.rows = N, .dim = V, .eps = grad_scale, .o0 = (uint32_t)loss.off,
                     .o1 = (uint32_t)logits.off, .o2 = (uint32_t)targets.off};
    tb_vk_bind binds[3] = {{loss.buf, true}, {logits.buf, grad_scale != 0.0f}, {targets.buf, false}};
    return launch(ctx, "xent", 3, binds, &pc, sizeof pc, ROW_WG, true, V ? N : 0, err);
}
