/* tunebench — the Vulkan kernels as enqueue calls, one per op of the backend table.
 *
 * Each call checks its shapes, picks the pipeline variant and enqueues one or more
 * dispatches on ctx's stream; results are visible after tb_vk_flush / tb_vk_download.
 * Shapes use the project's vocabulary (STYLE.md): B batch, T time, D model dim, H heads,
 * Hkv kv heads, Dh head dim, F ffn dim, V vocab, R LoRA rank; N = rows (B*T).
 * Backward ops accumulate (+=) into their input-gradient outputs, like the CPU kernels. */
#ifndef TB_VK_OPS_H
#define TB_VK_OPS_H

#include "engine/backend/vulkan/vk_context.h"
#include "engine/core/dtype.h"

/* C (M,N) = alpha * op(A) op(B) + beta * C  [+ lora_scale * H (M,R) op(L)].
 * ld* = 0 means "contiguous" (the stored row length). */
typedef struct tb_vk_matmul_args {
    uint32_t M, N, K;
    tb_vk_buffer *a;         /* f32: (M,K), or stored (K,M) when trans_a */
    uint32_t a_off, lda;
    bool trans_a;
    tb_vk_buffer *b;         /* b_dtype F32/BF16/F16: (K,N), or stored (N,K) when trans_b */
    uint32_t b_off, ldb;
    bool trans_b;
    tb_dtype b_dtype;
    tb_vk_buffer *c;         /* f32 (M,N) */
    uint32_t c_off, ldc;
    float alpha, beta;
    /* LoRA up-projection fused into the epilogue: H (M,R) contiguous; L (N,R) stored
     * (N,R) when lora_trans (the B matrix, forward) or (R,N) (the A matrix, backward). */
    tb_vk_buffer *lora_h;
    tb_vk_buffer *lora_l;
    uint32_t R;
    bool lora_trans;
    float lora_scale;
} tb_vk_matmul_args;

tb_status tb_vk_matmul(tb_vk_ctx *ctx, const tb_vk_matmul_args *m, tb_error *err);

#endif
