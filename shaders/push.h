/* tunebench — push-constant blocks of every compute kernel, written once for GLSL and C.
 *
 * Each block is an X-macro list of 4-byte fields: the shaders expand it into a
 * `layout(push_constant)` block, engine/backend/vulkan/vk_push.h into a C struct with a
 * _Static_assert on its size, so the two sides cannot drift apart. All fields are 4 bytes,
 * so std430 (push-constant layout) and C agree on every offset. Vulkan guarantees 128
 * bytes of push constants: no block may exceed 32 fields.
 *
 * Field types: U32, I32, F32. Element offsets (`*_off`) count elements of that buffer's
 * dtype, so a kernel can work on a view into a larger buffer. */
#ifndef TB_SHADERS_PUSH_H
#define TB_SHADERS_PUSH_H

/* C = alpha * op(A) * op(B) + beta * C [+ lora_scale * H * op(L)]
 * A (M,K) f32, stored (M,K) with row stride lda, or (K,M) when transposed;
 * B (K,N) f32/bf16/f16, stored (K,N) with row stride ldb, or (N,K) when transposed;
 * C (M,N) row stride ldc. LoRA epilogue (matmul_lora_*): H (M,R) row stride R,
 * L element (n, r) at l_off + n * l_sn + r * l_sr. */
#define TB_PC_MATMUL(X) \
    X(U32, M) X(U32, N) X(U32, K) \
    X(U32, lda) X(U32, ldb) X(U32, ldc) \
    X(U32, a_off) X(U32, b_off) X(U32, c_off) \
    X(F32, alpha) X(F32, beta) \
    X(U32, R) X(U32, l_sn) X(U32, l_sr) X(U32, l_off) X(F32, lora_scale)
#define TB_PC_MATMUL_SIZE 64

/* rows x dim; eps of the norm. */
#define TB_PC_ROWS(X) X(U32, rows) X(U32, dim) X(F32, eps) X(U32, pad0)
#define TB_PC_ROWS_SIZE 16

/* RoPE on (rows = B*T, H, Dh) with position t = pos0 + row % T. cos/sin tables (Tmax, Dh/2). */
#define TB_PC_ROPE(X) X(U32, rows) X(U32, T) X(U32, H) X(U32, Dh) X(U32, pos0) X(U32, tmax)
#define TB_PC_ROPE_SIZE 24

/* Causal GQA attention: q (B,T,H,Dh), k,v (B,T,Hkv,Dh), out (B,T,H,Dh), lse (B,H,T). */
#define TB_PC_ATTN(X) X(U32, B) X(U32, T) X(U32, H) X(U32, Hkv) X(U32, Dh) X(F32, scale)
#define TB_PC_ATTN_SIZE 24

/* n elements; two scalars whose meaning depends on the kernel variant. */
#define TB_PC_ELTWISE(X) X(U32, n) X(F32, alpha) X(F32, beta) X(U32, flags)
#define TB_PC_ELTWISE_SIZE 16

/* Embedding: rows tokens of (V, C) table. */
#define TB_PC_EMBED(X) X(U32, rows) X(U32, C) X(U32, V) X(U32, pad0)
#define TB_PC_EMBED_SIZE 16

/* Softmax + cross-entropy over logits (N, V); scale multiplies dlogits (1 / tokens). */
#define TB_PC_XENT(X) X(U32, N) X(U32, V) X(F32, scale) X(U32, pad0)
#define TB_PC_XENT_SIZE 16

/* Reductions: n inputs into partials[out_off + workgroup]; finalize sums `n` partials. */
#define TB_PC_REDUCE(X) X(U32, n) X(U32, out_off) X(F32, scale) X(F32, max_norm)
#define TB_PC_REDUCE_SIZE 16

/* AdamW over n parameters; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t; use_clip: multiply grads
 * by the clip coefficient found at clip[1] (written by reduce_finalize's NORM variant). */
#define TB_PC_ADAMW(X) \
    X(U32, n) X(F32, lr) X(F32, beta1) X(F32, beta2) X(F32, eps) X(F32, weight_decay) \
    X(F32, bc1) X(F32, bc2) X(F32, grad_scale) X(U32, use_clip)
#define TB_PC_ADAMW_SIZE 40

#endif
