/* tunebench — causal GQA attention: forward (online softmax) and backward (dq and dk/dv
 * passes recomputing probabilities from the saved log-sum-exp). */
#include "engine/backend/vulkan/vk_ops.h"
#include "engine/backend/vulkan/vk_push.h"

#define LANES 4u

/* Rows per tile: as large as the device's shared memory allows for the biggest kernel
 * (dkdv: q, dout, k, v tiles + two score tiles); CPU devices get smaller tiles. */
static uint32_t tile_rows(const tb_vk_ctx *ctx, uint32_t Dh)
{
    uint32_t t = ctx->info.type == VK_PHYSICAL_DEVICE_TYPE_CPU ? 16 : 32;
    for (; t > 1; t /= 2) {
        uint64_t shared = 4ull * (4ull * t * (Dh + 1) + 2ull * t * t + 2ull * t);   /* rows padded by 1 */
        if (shared <= ctx->info.max_shared_bytes && t * LANES <= ctx->info.max_invocations)
            break;
    }
    return t;
}

static tb_status check_dims(const char *op, const tb_vk_attn_dims *d, tb_error *err)
{
    if (!d->B || !d->Tq || !d->H || !d->Hkv || !d->Dh || d->H % d->Hkv)
        return tb_fail(err, TB_ERR_INVALID, "%s: B=%u Tq=%u H=%u Hkv=%u Dh=%u: sizes must be positive "
                       "and H a multiple of Hkv", op, d->B, d->Tq, d->H, d->Hkv, d->Dh);
    uint64_t row = (uint64_t)(d->pos0 + d->Tq) * d->Hkv * d->Dh;
    if (d->kv_stride_b < row)
        return tb_fail(err, TB_ERR_INVALID, "%s: kv batch stride %u < (pos0 + Tq) * Hkv * Dh = %llu",
                       op, d->kv_stride_b, (unsigned long long)row);
    return TB_OK;
}

static tb_status check_f32(const char *op, const char *arg, tb_vk_view v, size_t n, tb_error *err)
{
    if (v.buf && v.dt != TB_DTYPE_F32)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, arg, "%s: needs F32", op);
    return tb_vk_check(op, arg, v, n, err);
}

/* Elements a k/v-shaped view spans: B-1 strides plus one batch row of Tk positions. */
static size_t kv_elems(const tb_vk_attn_dims *d)
{
    return (size_t)(d->B - 1) * d->kv_stride_b + (size_t)(d->pos0 + d->Tq) * d->Hkv * d->Dh;
}

static tb_pc_attn push_of(const tb_vk_attn_dims *d)
{
    return (tb_pc_attn){.B = d->B, .Tq = d->Tq, .pos0 = d->pos0, .H = d->H, .Hkv = d->Hkv,
                        .kv_stride = d->kv_stride_b, .scale = d->scale};
}

static tb_status run(tb_vk_ctx *ctx, const char *kernel, uint32_t nbind, const tb_vk_bind *binds,
                     const tb_pc_attn *pc, uint32_t rows, uint32_t Dh, uint32_t gx, uint32_t gy,
                     uint32_t gz, tb_error *err)
{
    uint32_t spec[5] = {rows * LANES, rows, rows, Dh, LANES};
    tb_vk_pipeline *p;
    tb_status st = tb_vk_pipeline_get(ctx, kernel, nbind, sizeof *pc, spec, 5, &p, err);
    if (st != TB_OK)
        return st;
    return tb_vk_dispatch(ctx, p, binds, pc, gx, gy, gz, err);
}

tb_status tb_vk_attention_forward(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view lse, tb_vk_view q,
                                  tb_vk_view k, tb_vk_view v, const tb_vk_attn_dims *d, tb_error *err)
{
    const char *op = "attention_forward";
    size_t nq = (size_t)d->B * d->Tq * d->H * d->Dh;
    tb_status st;
    if ((st = check_dims(op, d, err)) || (st = check_f32(op, "out", out, nq, err)) ||
        (st = check_f32(op, "q", q, nq, err)) || (st = check_f32(op, "k", k, kv_elems(d), err)) ||
        (st = check_f32(op, "v", v, kv_elems(d), err)) ||
        (lse.buf && (st = check_f32(op, "lse", lse, (size_t)d->B * d->H * d->Tq, err))))
        return st;
    uint32_t t = tile_rows(ctx, d->Dh);
    tb_pc_attn pc = push_of(d);
    pc.has_lse = lse.buf != NULL;
    pc.oq = (uint32_t)q.off;
    pc.ok = (uint32_t)k.off;
    pc.ov = (uint32_t)v.off;
    pc.oo = (uint32_t)out.off;
    pc.olse = (uint32_t)lse.off;
    tb_vk_bind binds[5] = {{out.buf, true}, {lse.buf ? lse.buf : out.buf, lse.buf != NULL},
                           {q.buf, false}, {k.buf, false}, {v.buf, false}};
    return run(ctx, "attn_fwd", 5, binds, &pc, t, d->Dh, (d->Tq + t - 1) / t, d->H, d->B, err);
}

tb_status tb_vk_attention_backward(tb_vk_ctx *ctx, tb_vk_view dq, tb_vk_view dk, tb_vk_view dv,
                                   tb_vk_view dout, tb_vk_view q, tb_vk_view k, tb_vk_view v,
                                   tb_vk_view out, tb_vk_view lse, const tb_vk_attn_dims *d,
                                   tb_error *err)
{
    const char *op = "attention_backward";
    size_t nq = (size_t)d->B * d->Tq * d->H * d->Dh, nkv = kv_elems(d), nstat = (size_t)d->B * d->H * d->Tq;
    tb_status st;
    if ((st = check_dims(op, d, err)) || (st = check_f32(op, "dq", dq, nq, err)) ||
        (st = check_f32(op, "dk", dk, nkv, err)) || (st = check_f32(op, "dv", dv, nkv, err)) ||
        (st = check_f32(op, "dout", dout, nq, err)) || (st = check_f32(op, "q", q, nq, err)) ||
        (st = check_f32(op, "k", k, nkv, err)) || (st = check_f32(op, "v", v, nkv, err)) ||
        (st = check_f32(op, "out", out, nq, err)) || (st = check_f32(op, "lse", lse, nstat, err)))
        return st;
    tb_vk_buffer *delta;
    if ((st = tb_vk_scratch(ctx, 1, nstat * sizeof(float), &delta, err)))
        return st;
    uint32_t t = tile_rows(ctx, d->Dh);
    tb_pc_attn pc = push_of(d);
    pc.oq = (uint32_t)q.off;
    pc.ok = (uint32_t)k.off;
    pc.ov = (uint32_t)v.off;
    pc.olse = (uint32_t)lse.off;
    pc.odo = (uint32_t)dout.off;
    pc.od = 0;

    /* 1. delta = rowsum(dout * out) */
    pc.oo = (uint32_t)out.off;
    tb_vk_bind pre[3] = {{delta, true}, {dout.buf, false}, {out.buf, false}};
    uint32_t gx, gy;
    if ((st = tb_vk_grid(ctx, op, (nstat + 63) / 64, &gx, &gy, err)))
        return st;
    uint32_t pre_spec[1] = {d->Dh};
    tb_vk_pipeline *p;
    if ((st = tb_vk_pipeline_get(ctx, "attn_bwd_pre", 3, sizeof pc, pre_spec, 1, &p, err)) ||
        (st = tb_vk_dispatch(ctx, p, pre, &pc, gx, gy, 1, err)))
        return st;

    /* 2. dq, one workgroup per query tile */
    pc.oo = (uint32_t)dq.off;
    tb_vk_bind bq[7] = {{dq.buf, true}, {dout.buf, false}, {q.buf, false}, {k.buf, false},
                        {v.buf, false}, {lse.buf, false}, {delta, false}};
    if ((st = run(ctx, "attn_bwd_dq", 7, bq, &pc, t, d->Dh, (d->Tq + t - 1) / t, d->H, d->B, err)))
        return st;

    /* 3. dk and dv, one workgroup per key tile of each kv head */
    pc.oo = (uint32_t)dk.off;
    pc.oo2 = (uint32_t)dv.off;
    uint32_t Tk = d->pos0 + d->Tq;
    tb_vk_bind bkv[8] = {{dk.buf, true}, {dv.buf, true}, {dout.buf, false}, {q.buf, false},
                         {k.buf, false}, {v.buf, false}, {lse.buf, false}, {delta, false}};
    return run(ctx, "attn_bwd_dkdv", 8, bkv, &pc, t, d->Dh, (Tk + t - 1) / t, d->Hkv, d->B, err);
}
