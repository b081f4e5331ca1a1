/* tunebench — matmul in every transpose combination used by forward and backward. */
#include <stdio.h>

#include "engine/backend/vulkan/vk_ops.h"
#include "engine/backend/vulkan/vk_push.h"

static const char *weight_suffix(tb_dtype t, bool round_a)
{
    switch (t) {
    case TB_DTYPE_F32: return "f32";
    case TB_DTYPE_BF16: return round_a ? "bf16r" : "bf16";
    case TB_DTYPE_F16: return "f16";
    default: return NULL;
    }
}

tb_status tb_vk_matmul(tb_vk_ctx *ctx, tb_vk_view c, tb_vk_view a, tb_vk_view b, uint32_t M,
                       uint32_t N, uint32_t K, bool trans_a, bool trans_b, bool round_a,
                       float alpha, float beta, tb_error *err)
{
    const char *wt = weight_suffix(b.dt, round_a);
    if (!wt)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "matmul",
                            "weights of dtype %s have no Vulkan matmul kernel", tb_dtype_name(b.dt));
    if (b.dt != TB_DTYPE_F32 && trans_a)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "matmul",
                            "a %s B with a transposed A has no kernel (weight gradients are f32)",
                            tb_dtype_name(b.dt));
    tb_status st;
    if ((st = tb_vk_check("matmul", "A", a, (size_t)M * K, err)) ||
        (st = tb_vk_check("matmul", "B", b, (size_t)K * N, err)) ||
        (st = tb_vk_check("matmul", "C", c, (size_t)M * N, err)))
        return st;
    if (M == 0 || N == 0)
        return TB_OK;
    char name[32];
    snprintf(name, sizeof name, "matmul_%c%c_%s", trans_a ? 't' : 'n', trans_b ? 't' : 'n', wt);
    /* A rank-sized side (LoRA: x A^T, dA, dB) gets a tile that wastes little on it. */
    tb_vk_tile t = ctx->tile_big;
    if (N <= 32 && M > 32)
        t = ctx->tile_skinny;
    else if (M <= 32 && N > 32)
        t = (tb_vk_tile){ctx->tile_skinny.bn, ctx->tile_skinny.bm, ctx->tile_skinny.bk,
                         ctx->tile_skinny.tn, ctx->tile_skinny.tm};
    uint32_t spec[6] = {(t.bm / t.tm) * (t.bn / t.tn), t.bm, t.bn, t.bk, t.tm, t.tn};
    tb_vk_pipeline *p;
    if ((st = tb_vk_pipeline_get(ctx, name, 4, sizeof(tb_pc_matmul), spec, 6, &p, err)))
        return st;
    uint32_t gx = (N + t.bn - 1) / t.bn, gy = (M + t.bm - 1) / t.bm;
    /* Split K when few output tiles face a long K (LoRA's dA, dB: rank x dim summed over
     * every token): otherwise a handful of workgroups would do all the work in series. */
    uint32_t splits = 1, kchunk = K ? K : 1;
    uint64_t tiles = (uint64_t)gx * gy;
    if (tiles < 64 && K >= 1024) {
        uint64_t want = (128 + tiles - 1) / tiles, most = K / 256;
        splits = (uint32_t)(want < most ? want : most);
        splits = splits > 64 ? 64 : splits;
        kchunk = (K + splits - 1) / splits;
        kchunk = (kchunk + t.bk - 1) / t.bk * t.bk;
        splits = (K + kchunk - 1) / kchunk;
    }
    tb_vk_buffer *part = c.buf;
    if (splits > 1 && (st = tb_vk_scratch(ctx, 2, (size_t)splits * M * N * sizeof(float), &part, err)))
        return st;
    tb_pc_matmul pc = {
        .M = M, .N = N, .K = K,
        .lda = trans_a ? M : K, .ldb = trans_b ? K : N, .ldc = N,
        .oa = (uint32_t)a.off, .ob = (uint32_t)b.off, .oc = (uint32_t)c.off,
        .alpha = alpha, .beta = beta, .kchunk = splits > 1 ? kchunk : (K ? K : 1),
    };
    tb_vk_bind binds[4] = {{a.buf, false}, {b.buf, false}, {c.buf, true}, {part, true}};
    if ((st = tb_vk_dispatch(ctx, p, binds, &pc, gx, gy, splits, err)) || splits == 1)
        return st;
    tb_pc_ew red = {.n = M * N, .o0 = (uint32_t)c.off, .alpha = alpha, .p = beta, .seed = splits};
    tb_vk_bind rb[2] = {{c.buf, true}, {part, false}};
    uint32_t rx, ry;
    if ((st = tb_vk_pipeline_get(ctx, "splitk_reduce", 2, sizeof red, NULL, 0, &p, err)) ||
        (st = tb_vk_grid(ctx, "splitk_reduce", ((uint64_t)M * N + 255) / 256, &rx, &ry, err)))
        return st;
    return tb_vk_dispatch(ctx, p, rb, &red, rx, ry, 1, err);
}
