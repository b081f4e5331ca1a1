/* tunebench — elementwise ops, reductions, dtype conversion and AdamW on the device. */
#include <math.h>
#include <string.h>

#include "engine/backend/vulkan/vk_ops.h"
#include "engine/backend/vulkan/vk_push.h"

#define EW_WG 256u
#define REDUCE_WG 256u
#define MAX_PARTIALS 1024u

/* One invocation per element (or per word): `threads` of them, 256 to a workgroup. */
static tb_status ew_dispatch(tb_vk_ctx *ctx, const char *kernel, uint32_t nbind, const tb_vk_bind *binds,
                             const tb_pc_ew *pc, uint64_t threads, tb_error *err)
{
    if (threads == 0)
        return TB_OK;
    tb_vk_pipeline *p;
    uint32_t gx, gy;
    tb_status st;
    if ((st = tb_vk_pipeline_get(ctx, kernel, nbind, sizeof *pc, NULL, 0, &p, err)) ||
        (st = tb_vk_grid(ctx, kernel, (threads + EW_WG - 1) / EW_WG, &gx, &gy, err)))
        return st;
    return tb_vk_dispatch(ctx, p, binds, pc, gx, gy, 1, err);
}

static tb_status f32_only(const char *op, const char *arg, tb_vk_view v, tb_error *err)
{
    if (v.dt != TB_DTYPE_F32)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, arg, "%s: needs F32, got %s", op,
                            tb_dtype_name(v.dt));
    return TB_OK;
}

tb_status tb_vk_fill_f32(tb_vk_ctx *ctx, tb_vk_view x, float value, size_t n, tb_error *err)
{
    tb_status st;
    if ((st = f32_only("fill", "x", x, err)) || (st = tb_vk_check("fill", "x", x, n, err)))
        return st;
    uint32_t bits;
    memcpy(&bits, &value, 4);
    return tb_vk_fill(ctx, x.buf, x.off * 4, n * 4, bits, err);
}

tb_status tb_vk_copy(tb_vk_ctx *ctx, tb_vk_view dst, tb_vk_view src, size_t n, tb_error *err)
{
    tb_status st;
    if ((st = tb_vk_check("copy", "dst", dst, n, err)) || (st = tb_vk_check("copy", "src", src, n, err)))
        return st;
    if (dst.dt == src.dt) {
        size_t es = tb_dtype_size(dst.dt);
        return tb_vk_copy_bytes(ctx, dst.buf, dst.off * es, src.buf, src.off * es, n * es, err);
    }
    if (!tb_vk_is_float(dst.dt) || !tb_vk_is_float(src.dt))
        return tb_fail(err, TB_ERR_UNSUPPORTED, "copy: no conversion from %s to %s",
                       tb_dtype_name(src.dt), tb_dtype_name(dst.dt));
    tb_pc_ew pc = {.n = (uint32_t)n, .o0 = (uint32_t)dst.off, .o1 = (uint32_t)src.off,
                   .dt0 = (uint32_t)dst.dt, .dt1 = (uint32_t)src.dt};
    /* A 16-bit destination is written a 32-bit word per invocation (convert.comp). */
    uint64_t threads = dst.dt == TB_DTYPE_F32 ? n : ((dst.off + n + 1) >> 1) - (dst.off >> 1);
    tb_vk_bind binds[2] = {{dst.buf, true}, {src.buf, false}};
    return ew_dispatch(ctx, "convert", 2, binds, &pc, n ? threads : 0, err);
}

/* out = f(a, b) for the eltwise.comp modes; absent a/b bind out (never read then). */
static tb_status eltwise(tb_vk_ctx *ctx, const char *op, uint32_t mode, tb_vk_view out, tb_vk_view a,
                         tb_vk_view b, size_t n, float alpha, float p, uint32_t seed, tb_error *err)
{
    tb_status st;
    if ((st = f32_only(op, "out", out, err)) || (st = tb_vk_check(op, "out", out, n, err)))
        return st;
    if (a.buf && ((st = f32_only(op, "a", a, err)) || (st = tb_vk_check(op, "a", a, n, err))))
        return st;
    if (b.buf && ((st = f32_only(op, "b", b, err)) || (st = tb_vk_check(op, "b", b, n, err))))
        return st;
    tb_pc_ew pc = {.n = (uint32_t)n, .mode = mode, .o0 = (uint32_t)out.off, .o1 = (uint32_t)a.off,
                   .o2 = (uint32_t)b.off, .alpha = alpha, .p = p, .seed = seed};
    tb_vk_bind binds[3] = {{out.buf, true}, {a.buf ? a.buf : out.buf, false}, {b.buf ? b.buf : out.buf, false}};
    return ew_dispatch(ctx, "eltwise", 3, binds, &pc, n, err);
}

static const tb_vk_view none = {0};

tb_status tb_vk_add(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view a, tb_vk_view b, size_t n, tb_error *err)
{
    if (!a.buf || !b.buf)
        return tb_fail(err, TB_ERR_INVALID, "add: an operand is missing");
    return eltwise(ctx, "add", TB_EW_ADD, out, a, b, n, 0, 0, 0, err);
}

tb_status tb_vk_scale(tb_vk_ctx *ctx, tb_vk_view x, float alpha, size_t n, tb_error *err)
{
    return eltwise(ctx, "scale", TB_EW_SCALE, x, none, none, n, alpha, 0, 0, err);
}

tb_status tb_vk_axpy(tb_vk_ctx *ctx, tb_vk_view y, float alpha, tb_vk_view x, size_t n, tb_error *err)
{
    if (!x.buf)
        return tb_fail(err, TB_ERR_INVALID, "axpy: x is missing");
    return eltwise(ctx, "axpy", TB_EW_AXPY, y, x, none, n, alpha, 0, 0, err);
}

tb_status tb_vk_swiglu_forward(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view gate, tb_vk_view up,
                               size_t n, tb_error *err)
{
    if (!gate.buf || !up.buf)
        return tb_fail(err, TB_ERR_INVALID, "swiglu_forward: gate or up is missing");
    return eltwise(ctx, "swiglu_forward", TB_EW_SWIGLU, out, gate, up, n, 0, 0, 0, err);
}

tb_status tb_vk_dropout(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view inp, size_t n, float p,
                        uint32_t seed, bool accumulate, tb_error *err)
{
    if (!inp.buf)
        return tb_fail(err, TB_ERR_INVALID, "dropout: input is missing");
    if (!(p >= 0.0f && p < 1.0f))
        return tb_fail(err, TB_ERR_INVALID, "dropout: p = %g is outside [0, 1)", (double)p);
    return eltwise(ctx, "dropout", accumulate ? TB_EW_DROPOUT_ACC : TB_EW_DROPOUT, out, inp, none, n,
                   0, p, seed, err);
}

tb_status tb_vk_swiglu_backward(tb_vk_ctx *ctx, tb_vk_view dgate, tb_vk_view dup, tb_vk_view dout,
                                tb_vk_view gate, tb_vk_view up, size_t n, tb_error *err)
{
    const char *op = "swiglu_backward";
    const tb_vk_view views[5] = {dgate, dup, dout, gate, up};
    static const char *const names[5] = {"dgate", "dup", "dout", "gate", "up"};
    tb_status st;
    for (int i = 0; i < 5; i++)
        if ((st = f32_only(op, names[i], views[i], err)) || (st = tb_vk_check(op, names[i], views[i], n, err)))
            return st;
    tb_pc_ew pc = {.n = (uint32_t)n, .o0 = (uint32_t)dgate.off, .o1 = (uint32_t)dup.off,
                   .o2 = (uint32_t)dout.off, .o3 = (uint32_t)gate.off, .o4 = (uint32_t)up.off};
    tb_vk_bind binds[5] = {{dgate.buf, true}, {dup.buf, true}, {dout.buf, false}, {gate.buf, false},
                           {up.buf, false}};
    return ew_dispatch(ctx, "swiglu_bwd", 5, binds, &pc, n, err);
}

tb_status tb_vk_add_bias(tb_vk_ctx *ctx, tb_vk_view x, tb_vk_view bias, uint32_t N, uint32_t C,
                         tb_error *err)
{
    size_t n = (size_t)N * C;
    tb_status st;
    if ((st = f32_only("add_bias", "x", x, err)) || (st = tb_vk_check("add_bias", "x", x, n, err)) ||
        (st = tb_vk_check("add_bias", "bias", bias, C, err)))
        return st;
    if (!tb_vk_is_float(bias.dt))
        return tb_fail(err, TB_ERR_UNSUPPORTED, "add_bias: bias of dtype %s", tb_dtype_name(bias.dt));
    tb_pc_ew pc = {.n = (uint32_t)n, .mode = TB_EW_ADD_BIAS, .o0 = (uint32_t)x.off,
                   .o1 = (uint32_t)bias.off, .cols = C, .dt1 = (uint32_t)bias.dt};
    tb_vk_bind binds[3] = {{x.buf, true}, {bias.buf, false}, {x.buf, false}};
    return ew_dispatch(ctx, "eltwise", 3, binds, &pc, n, err);
}

static tb_status reduce_final(tb_vk_ctx *ctx, const tb_pc_reduce *pc, tb_vk_buffer *out,
                              tb_vk_buffer *in, tb_error *err)
{
    uint32_t spec[1] = {REDUCE_WG};
    tb_vk_pipeline *p;
    tb_status st = tb_vk_pipeline_get(ctx, "reduce_final", 2, sizeof *pc, spec, 1, &p, err);
    if (st != TB_OK)
        return st;
    tb_vk_bind binds[2] = {{out, true}, {in, false}};
    return tb_vk_dispatch(ctx, p, binds, pc, 1, 1, 1, err);
}

tb_status tb_vk_sum(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view x, size_t n, bool squares, tb_error *err)
{
    const char *op = squares ? "sum_squares" : "sum";
    tb_status st;
    if ((st = f32_only(op, "out", out, err)) || (st = tb_vk_check(op, "out", out, 1, err)) ||
        (st = f32_only(op, "x", x, err)) || (st = tb_vk_check(op, "x", x, n, err)))
        return st;
    if (n == 0)
        return TB_OK;
    /* Fixed chunks of at least 4096 elements, at most MAX_PARTIALS of them. */
    uint64_t groups = (n + 4095) / 4096;
    if (groups > MAX_PARTIALS)
        groups = MAX_PARTIALS;
    uint32_t chunk = (uint32_t)((n + groups - 1) / groups);
    groups = (n + chunk - 1) / chunk;
    tb_vk_buffer *part;
    if ((st = tb_vk_scratch(ctx, 0, MAX_PARTIALS * sizeof(float), &part, err)))
        return st;
    tb_pc_reduce pc = {.n = (uint32_t)n, .mode = squares ? TB_RED_SUMSQ : TB_RED_SUM,
                       .ox = (uint32_t)x.off, .chunk = chunk};
    uint32_t spec[1] = {REDUCE_WG};
    tb_vk_pipeline *p;
    if ((st = tb_vk_pipeline_get(ctx, "reduce_partial", 2, sizeof pc, spec, 1, &p, err)))
        return st;
    tb_vk_bind binds[2] = {{part, true}, {x.buf, false}};
    if ((st = tb_vk_dispatch(ctx, p, binds, &pc, (uint32_t)groups, 1, 1, err)))
        return st;
    tb_pc_reduce fin = {.n = (uint32_t)groups, .mode = TB_RED_ADD, .ox = 0, .oout = (uint32_t)out.off};
    return reduce_final(ctx, &fin, out.buf, part, err);
}

tb_status tb_vk_clip_scale(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view sumsq, float max_norm, tb_error *err)
{
    tb_status st;
    if ((st = f32_only("clip_scale", "out", out, err)) || (st = tb_vk_check("clip_scale", "out", out, 1, err)) ||
        (st = f32_only("clip_scale", "sumsq", sumsq, err)) ||
        (st = tb_vk_check("clip_scale", "sumsq", sumsq, 1, err)))
        return st;
    tb_pc_reduce pc = {.mode = TB_RED_CLIP, .ox = (uint32_t)sumsq.off, .oout = (uint32_t)out.off,
                       .max_norm = max_norm};
    return reduce_final(ctx, &pc, out.buf, sumsq.buf, err);
}

tb_status tb_vk_adamw(tb_vk_ctx *ctx, tb_vk_view param, tb_vk_view grad, tb_vk_view m, tb_vk_view v,
                      size_t n, tb_vk_view gscale, float lr, float beta1, float beta2, float eps,
                      float weight_decay, int64_t step, tb_error *err)
{
    const tb_vk_view views[4] = {param, grad, m, v};
    static const char *const names[4] = {"param", "grad", "m", "v"};
    tb_status st;
    for (int i = 0; i < 4; i++)
        if ((st = f32_only("adamw", names[i], views[i], err)) ||
            (st = tb_vk_check("adamw", names[i], views[i], n, err)))
            return st;
    if (gscale.buf && ((st = f32_only("adamw", "gscale", gscale, err)) ||
                       (st = tb_vk_check("adamw", "gscale", gscale, 1, err))))
        return st;
    if (step < 1)
        return tb_fail(err, TB_ERR_INVALID, "adamw: step %lld < 1", (long long)step);
    tb_pc_adamw pc = {
        .n = (uint32_t)n, .op = (uint32_t)param.off, .og = (uint32_t)grad.off,
        .om = (uint32_t)m.off, .ov = (uint32_t)v.off, .ogs = (uint32_t)gscale.off,
        .has_gscale = gscale.buf != NULL,
        .lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps, .weight_decay = weight_decay,
        .bc1 = (float)(1.0 - pow((double)beta1, (double)step)),
        .bc2 = (float)(1.0 - pow((double)beta2, (double)step)),
    };
    tb_vk_pipeline *p;
    uint32_t gx, gy;
    if ((st = tb_vk_pipeline_get(ctx, "adamw", 5, sizeof pc, NULL, 0, &p, err)) ||
        (st = tb_vk_grid(ctx, "adamw", (n + EW_WG - 1) / EW_WG, &gx, &gy, err)))
        return st;
    if (n == 0)
        return TB_OK;
    tb_vk_bind binds[5] = {{param.buf, true}, {grad.buf, false}, {m.buf, true}, {v.buf, true},
                           {gscale.buf ? gscale.buf : grad.buf, false}};
    return tb_vk_dispatch(ctx, p, binds, &pc, gx, gy, 1, err);
}
