/* tunebench — matmul in every transpose combination used by forward and backward, with
 * f32/bf16/f16 weights read in place or NF4 weights dequantized in the shader. */
#include <stdio.h>
#include <string.h>

#include "engine/backend/vulkan/vk_ops.h"
#include "engine/backend/vulkan/vk_push.h"

_Static_assert(offsetof(tb_pc_matmul_nf4, bs) == sizeof(tb_pc_matmul),
               "the NF4 matmul push block must start with the matmul fields");

static const char *weight_suffix(tb_dtype t, bool round_a)
{
    switch (t) {
    case TB_DTYPE_F32: return "f32";
    case TB_DTYPE_BF16: return round_a ? "bf16r" : "bf16";
    case TB_DTYPE_F16: return "f16";
    default: return NULL;
    }
}

/* Pick the tile, split K when it pays, dispatch kernel `name` and, when split, the
 * reduction. binds[3] (the split-K partials) is filled here. push (push_size bytes) starts
 * with a tb_pc_matmul, filled here; the rest is the caller's. */
static tb_status dispatch_matmul(tb_vk_ctx *ctx, const char *name, tb_vk_bind *binds, uint32_t nbind, void *push,
                                 uint32_t push_size, tb_vk_view c, uint32_t oa, uint32_t ob, uint32_t M, uint32_t N,
                                 uint32_t K, bool trans_a, bool trans_b, float alpha, float beta, tb_error *err)
{
    /* A rank-sized side (LoRA: x A^T, dA, dB) gets a tile that wastes little on it. */
    tb_vk_tile t = ctx->tile_big;
    if (N <= 32 && M > 32)
        t = ctx->tile_skinny;
    else if (M <= 32 && N > 32)
        t = (tb_vk_tile){ctx->tile_skinny.bn, ctx->tile_skinny.bm, ctx->tile_skinny.bk,
                         ctx->tile_skinny.tn, ctx->tile_skinny.tm};
    uint32_t spec[6] = {(t.bm / t.tm) * (t.bn / t.tn), t.bm, t.bn, t.bk, t.tm, t.tn};
    tb_vk_pipeline *p;
    tb_status st;
    if ((st = tb_vk_pipeline_get(ctx, name, nbind, push_size, spec, 6, &p, err)))
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
        .oa = oa, .ob = ob, .oc = (uint32_t)c.off,
        .alpha = alpha, .beta = beta, .kchunk = splits > 1 ? kchunk : (K ? K : 1),
    };
    memcpy(push, &pc, sizeof pc);
    binds[3] = (tb_vk_bind){part, true};
    if ((st = tb_vk_dispatch(ctx, p, binds, push, gx, gy, splits, err)) || splits == 1)
        return st;
    tb_pc_ew red = {.n = M * N, .o0 = (uint32_t)c.off, .alpha = alpha, .p = beta, .seed = splits};
    tb_vk_bind rb[2] = {{c.buf, true}, {part, false}};
    uint32_t rx, ry;
    if ((st = tb_vk_pipeline_get(ctx, "splitk_reduce", 2, sizeof red, NULL, 0, &p, err)) ||
        (st = tb_vk_grid(ctx, "splitk_reduce", ((uint64_t)M * N + 255) / 256, &rx, &ry, err)))
        return st;
    return tb_vk_dispatch(ctx, p, rb, &red, rx, ry, 1, err);
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
    tb_pc_matmul pc;
    tb_vk_bind binds[4] = {{a.buf, false}, {b.buf, false}, {c.buf, true}, {0}};
    return dispatch_matmul(ctx, name, binds, 4, &pc, sizeof pc, c, (uint32_t)a.off, (uint32_t)b.off, M, N, K,
                           trans_a, trans_b, alpha, beta, err);
}

tb_status tb_vk_matmul_nf4(tb_vk_ctx *ctx, tb_vk_view c, tb_vk_view a, const tb_vk_nf4 *w, uint32_t M, uint32_t N,
                           uint32_t K, bool trans_a, bool trans_b, float alpha, float beta, tb_error *err)
{
    if (trans_a)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "matmul",
                            "an NF4 weight as B with a transposed A (a weight gradient) is not supported: quantized "
                            "base weights are frozen (QLoRA trains LoRA adapters only)");
    uint32_t want_n = trans_b ? w->rows : w->cols, want_k = trans_b ? w->cols : w->rows;
    if (N != want_n || K != want_k)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "B",
                            "NF4 weight [%u, %u] used as a (%u x %u) %s operand", w->rows, w->cols,
                            trans_b ? N : K, trans_b ? K : N, trans_b ? "W^T" : "W");
    if (w->blocksize == 0 || (w->dq && w->nested_blocksize == 0))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "B", "NF4 weight without block sizes");
    size_t n = (size_t)w->rows * w->cols, blocks = (n + w->blocksize - 1) / w->blocksize;
    tb_vk_view codes = {w->codes, 0, TB_DTYPE_U8};
    tb_status st;
    if ((st = tb_vk_check("matmul", "A", a, (size_t)M * K, err)) ||
        (st = tb_vk_check("matmul", "C", c, (size_t)M * N, err)) ||
        (st = tb_vk_check("matmul", "codes", codes, (n + 1) / 2, err)))
        return st;
    if (w->dq) {
        tb_vk_view q = {w->qabsmax, 0, TB_DTYPE_U8}, nested = {w->nested_absmax, 0, TB_DTYPE_F32},
                   map = {w->nested_map, 0, TB_DTYPE_F32};
        if ((st = tb_vk_check("matmul", "qabsmax", q, blocks, err)) ||
            (st = tb_vk_check("matmul", "nested_absmax", nested,
                              (blocks + w->nested_blocksize - 1) / w->nested_blocksize, err)) ||
            (st = tb_vk_check("matmul", "nested_map", map, 256, err)))
            return st;
    } else {
        tb_vk_view s = {w->absmax, 0, TB_DTYPE_F32};
        if ((st = tb_vk_check("matmul", "absmax", s, blocks, err)))
            return st;
    }
    if (M == 0)
        return TB_OK;
    char name[32];
    snprintf(name, sizeof name, "matmul_n%c_%s", trans_b ? 't' : 'n', w->dq ? "nf4dq" : "nf4");
    tb_pc_matmul_nf4 pc = {.bs = w->blocksize, .nbs = w->dq ? w->nested_blocksize : 1, .offset = w->offset};
    tb_vk_bind binds[7] = {{a.buf, false}, {w->codes, false}, {c.buf, true}, {0},
                           {w->dq ? w->qabsmax : w->absmax, false}, {w->nested_absmax, false}, {w->nested_map, false}};
    return dispatch_matmul(ctx, name, binds, w->dq ? 7 : 5, &pc, sizeof pc, c, (uint32_t)a.off, 0, M, N, K, false,
                           trans_b, alpha, beta, err);
}
