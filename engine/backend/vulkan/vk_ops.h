/* tunebench — the Vulkan kernels as enqueue calls, one per op of the backend table.
 *
 * Semantics are backend.h's, op for op (vk_backend.c only adapts the signatures). Each
 * call checks that every view lies inside its buffer, picks the pipeline and enqueues its
 * dispatches on ctx's stream; results are visible after tb_vk_flush / tb_vk_download. A
 * view is a buffer, an element offset and the dtype it is read as. Shapes use the
 * project's vocabulary (STYLE.md): N rows, D model dim, H/Hkv heads, Dh head dim, V vocab. */
#ifndef TB_VK_OPS_H
#define TB_VK_OPS_H

#include "engine/backend/vulkan/vk_context.h"
#include "engine/core/dtype.h"

typedef struct tb_vk_view {
    tb_vk_buffer *buf;      /* NULL: absent (optional arguments) */
    size_t off;             /* elements of dt */
    tb_dtype dt;
} tb_vk_view;

/* --- matmul (vk_ops_matmul.c) --------------------------------------------------------- */
/* C (M,N) = alpha op(A) op(B) + beta C; A F32 (M,K) or stored (K,M) when trans_a; B F32/BF16/
 * F16 (K,N) or stored (N,K) when trans_b; round_a: A read as bf16 (TB_PRECISION_BF16). */
tb_status tb_vk_matmul(tb_vk_ctx *ctx, tb_vk_view c, tb_vk_view a, tb_vk_view b, uint32_t M,
                       uint32_t N, uint32_t K, bool trans_a, bool trans_b, bool round_a,
                       float alpha, float beta, tb_error *err);

/* --- elementwise, reductions, optimizer (vk_ops_elt.c) -------------------------------- */
tb_status tb_vk_fill_f32(tb_vk_ctx *ctx, tb_vk_view x, float value, size_t n, tb_error *err);
tb_status tb_vk_copy(tb_vk_ctx *ctx, tb_vk_view dst, tb_vk_view src, size_t n, tb_error *err);
tb_status tb_vk_add(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view a, tb_vk_view b, size_t n, tb_error *err);
tb_status tb_vk_scale(tb_vk_ctx *ctx, tb_vk_view x, float alpha, size_t n, tb_error *err);
tb_status tb_vk_axpy(tb_vk_ctx *ctx, tb_vk_view y, float alpha, tb_vk_view x, size_t n, tb_error *err);
tb_status tb_vk_swiglu_forward(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view gate, tb_vk_view up,
                               size_t n, tb_error *err);
tb_status tb_vk_swiglu_backward(tb_vk_ctx *ctx, tb_vk_view dgate, tb_vk_view dup, tb_vk_view dout,
                                tb_vk_view gate, tb_vk_view up, size_t n, tb_error *err);
/* accumulate: out += mask (dropout backward) instead of out = mask (forward). */
tb_status tb_vk_dropout(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view inp, size_t n, float p,
                        uint32_t seed, bool accumulate, tb_error *err);
tb_status tb_vk_add_bias(tb_vk_ctx *ctx, tb_vk_view x, tb_vk_view bias, uint32_t N, uint32_t C,
                         tb_error *err);
/* out (1) += sum x (squares: sum x^2). */
tb_status tb_vk_sum(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view x, size_t n, bool squares, tb_error *err);
tb_status tb_vk_clip_scale(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view sumsq, float max_norm, tb_error *err);
/* gscale.buf NULL: no scaling. step >= 1. */
tb_status tb_vk_adamw(tb_vk_ctx *ctx, tb_vk_view param, tb_vk_view grad, tb_vk_view m, tb_vk_view v,
                      size_t n, tb_vk_view gscale, float lr, float beta1, float beta2, float eps,
                      float weight_decay, int64_t step, tb_error *err);

/* --- layers (vk_ops_layers.c) --------------------------------------------------------- */
tb_status tb_vk_embedding_forward(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view table, tb_vk_view ids,
                                  uint32_t N, uint32_t D, tb_error *err);
tb_status tb_vk_embedding_backward(tb_vk_ctx *ctx, tb_vk_view dtable, tb_vk_view dout, tb_vk_view ids,
                                   uint32_t N, uint32_t D, tb_error *err);
tb_status tb_vk_rmsnorm_forward(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view rstd, tb_vk_view inp,
                                tb_vk_view weight, uint32_t N, uint32_t D, float eps, tb_error *err);
tb_status tb_vk_rmsnorm_backward(tb_vk_ctx *ctx, tb_vk_view dinp, tb_vk_view dweight, tb_vk_view dout,
                                 tb_vk_view inp, tb_vk_view weight, tb_vk_view rstd, uint32_t N,
                                 uint32_t D, tb_error *err);
tb_status tb_vk_bias_backward(tb_vk_ctx *ctx, tb_vk_view dbias, tb_vk_view dout, uint32_t N, uint32_t C,
                              tb_error *err);
/* backward: rotate by the negated angle. */
tb_status tb_vk_rope(tb_vk_ctx *ctx, tb_vk_view x, tb_vk_view table, uint32_t B, uint32_t T, uint32_t nh,
                     uint32_t Dh, uint32_t pos0, bool backward, tb_error *err);
tb_status tb_vk_xent(tb_vk_ctx *ctx, tb_vk_view loss, tb_vk_view logits, tb_vk_view targets, uint32_t N,
                     uint32_t V, float grad_scale, tb_error *err);

/* --- attention (vk_ops_attn.c) -------------------------------------------------------- */
typedef struct tb_vk_attn_dims {
    uint32_t B, Tq, pos0, H, Hkv, Dh;
    uint32_t kv_stride_b;   /* elements between batch rows of k, v (dk, dv) */
    float scale;
} tb_vk_attn_dims;

tb_status tb_vk_attention_forward(tb_vk_ctx *ctx, tb_vk_view out, tb_vk_view lse, tb_vk_view q,
                                  tb_vk_view k, tb_vk_view v, const tb_vk_attn_dims *d, tb_error *err);
tb_status tb_vk_attention_backward(tb_vk_ctx *ctx, tb_vk_view dq, tb_vk_view dk, tb_vk_view dv,
                                   tb_vk_view dout, tb_vk_view q, tb_vk_view k, tb_vk_view v,
                                   tb_vk_view out, tb_vk_view lse, const tb_vk_attn_dims *d,
                                   tb_error *err);

/* --- shared by the vk_ops_*.c files --------------------------------------------------- */
/* TB_ERR_INVALID naming op and arg unless v holds n elements from its offset (n == 0 and
 * optional absent views pass when optional). */
tb_status tb_vk_check(const char *op, const char *arg, tb_vk_view v, size_t n, tb_error *err);
/* F32, BF16 or F16: what the kernels read as floats. */
bool tb_vk_is_float(tb_dtype t);
/* Split `groups` workgroups over x and y within the device's limits. */
tb_status tb_vk_grid(tb_vk_ctx *ctx, const char *op, uint64_t groups, uint32_t *gx, uint32_t *gy,
                     tb_error *err);
/* A per-context temporary buffer (slot 0: reduction partials, 1: attention row dots, 2:
 * split-K partial products) of at
 * least bytes; contents undefined. Growing it flushes pending work first. */
tb_status tb_vk_scratch(tb_vk_ctx *ctx, int slot, size_t bytes, tb_vk_buffer **out, tb_error *err);

#endif
