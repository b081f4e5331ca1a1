/* tunebench — matmul in every transpose combination, with the fused LoRA epilogue. */
#include <stdio.h>

#include "engine/backend/vulkan/vk_ops.h"
#include "engine/backend/vulkan/vk_push.h"

static const char *dtype_suffix(tb_dtype t)
{
    switch (t) {
    case TB_DTYPE_F32: return "f32";
    case TB_DTYPE_BF16: return "bf16";
    case TB_DTYPE_F16: return "f16";
    default: return NULL;
    }
}

/* Elements a buffer holds of dtype t. */
static uint64_t capacity(const tb_vk_buffer *b, tb_dtype t)
{
    return b->size / tb_dtype_size(t);
}

/* Last element touched + 1 of a (rows, cols) view with row stride ld at off. */
static uint64_t extent(uint64_t off, uint64_t rows, uint64_t cols, uint64_t ld)
{
    return rows && cols ? off + (rows - 1) * ld + cols : 0;
}

static tb_status fits(const char *what, const tb_vk_buffer *b, tb_dtype t, uint64_t need, tb_error *err)
{
    if (!b)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, what, "matmul: buffer missing");
    if (need > capacity(b, t))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, what,
                            "matmul: view needs %llu elements, buffer holds %llu",
                            (unsigned long long)need, (unsigned long long)capacity(b, t));
    return TB_OK;
}

tb_status tb_vk_matmul(tb_vk_ctx *ctx, const tb_vk_matmul_args *m, tb_error *err)
{
    const char *wt = dtype_suffix(m->b_dtype);
    if (!wt)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "matmul",
                            "weights of dtype %s are not supported by the Vulkan matmul",
                            tb_dtype_name(m->b_dtype));
    if (m->b_dtype != TB_DTYPE_F32 && m->trans_a)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "matmul",
                            "16-bit B with transposed A has no kernel (weight gradients are f32)");
    bool lora = m->lora_h != NULL;
    uint32_t lda = m->lda ? m->lda : (m->trans_a ? m->M : m->K);
    uint32_t ldb = m->ldb ? m->ldb : (m->trans_b ? m->K : m->N);
    uint32_t ldc = m->ldc ? m->ldc : m->N;
    tb_status st;
    if ((st = fits("A", m->a, TB_DTYPE_F32,
                   m->trans_a ? extent(m->a_off, m->K, m->M, lda) : extent(m->a_off, m->M, m->K, lda), err)) ||
        (st = fits("B", m->b, m->b_dtype,
                   m->trans_b ? extent(m->b_off, m->N, m->K, ldb) : extent(m->b_off, m->K, m->N, ldb), err)) ||
        (st = fits("C", m->c, TB_DTYPE_F32, extent(m->c_off, m->M, m->N, ldc), err)))
        return st;
    if (lora && ((st = fits("lora H", m->lora_h, TB_DTYPE_F32, (uint64_t)m->M * m->R, err)) ||
                 (st = fits("lora L", m->lora_l, TB_DTYPE_F32, (uint64_t)m->N * m->R, err))))
        return st;
    if (m->M == 0 || m->N == 0)
        return TB_OK;

    char name[48];
    if (lora) {
        if (m->trans_a)
            return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "matmul",
                                "the LoRA epilogue needs an untransposed A");
        snprintf(name, sizeof name, "matmul_lora_%s_%s", m->trans_b ? "nt" : "nn", wt);
    } else {
        snprintf(name, sizeof name, "matmul_%c%c_%s", m->trans_a ? 't' : 'n', m->trans_b ? 't' : 'n', wt);
    }
    /* A rank-sized side (LoRA) gets a tile that does not waste 7/8 of the work on it. */
    tb_vk_tile t = ctx->tile_big;
    if (m->N <= 32 && m->M > 32)
        t = ctx->tile_skinny;
    else if (m->M <= 32 && m->N > 32)
        t = (tb_vk_tile){ctx->tile_skinny.bn, ctx->tile_skinny.bm, ctx->tile_skinny.bk,
                         ctx->tile_skinny.tn, ctx->tile_skinny.tm};
    uint32_t spec[6] = {(t.bm / t.tm) * (t.bn / t.tn), t.bm, t.bn, t.bk, t.tm, t.tn};
    tb_vk_pipeline *p;
    if ((st = tb_vk_pipeline_get(ctx, name, lora ? 5 : 3, sizeof(tb_pc_matmul), spec, 6, &p, err)))
        return st;
    tb_pc_matmul pc = {
        .M = m->M, .N = m->N, .K = m->K,
        .lda = lda, .ldb = ldb, .ldc = ldc,
        .a_off = m->a_off, .b_off = m->b_off, .c_off = m->c_off,
        .alpha = m->alpha, .beta = m->beta,
        .R = lora ? m->R : 0,
        .l_sn = m->lora_trans ? m->R : 1,
        .l_sr = m->lora_trans ? 1 : m->N,
        .l_off = 0,
        .lora_scale = m->lora_scale,
    };
    tb_vk_bind binds[5] = {
        {m->a, false}, {m->b, false}, {m->c, true},
        {m->lora_h, false}, {m->lora_l, false},
    };
    return tb_vk_dispatch(ctx, p, binds, &pc, (m->N + t.bn - 1) / t.bn, (m->M + t.bm - 1) / t.bm, 1, err);
}
