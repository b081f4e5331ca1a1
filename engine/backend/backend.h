/* tunebench — the backend op table: THE contract every compute backend implements.
 *
 * DESIGN.md §3 "Backends": the model (engine/model), LoRA, the optimizer and training call
 * only these ops; engine/backend/cpu (OpenBLAS + threads, the reference) and
 * engine/backend/vulkan (compute shaders) implement them with the same results.
 *
 * Execution model: ops are ENQUEUED. The CPU backend runs each op at once; the Vulkan
 * backend records them into a command buffer with the barriers they need and submits at a
 * sync point: `sync`, `download` (which waits for everything before it), and `destroy`.
 * So an op never reports an error itself: the first failure of anything enqueued is
 * reported by the next sync point. Ops must be enqueued from one thread at a time.
 *
 * Memory: model code never sees a pointer into backend memory. It holds tb_buf handles
 * (dtype + element count) and addresses into them with tb_view (buffer + element offset).
 * Buffers are allocated through the accounting allocator (host: the tb_mem_category given;
 * device memory: TB_MEM_DEVICE as well).
 *
 * Layouts: row-major, contiguous, innermost dimension last; every tensor argument carries
 * its shape comment. Dimension vocabulary (STYLE.md): B batch, T time, N = B*T rows, D model
 * dim, H heads, Hkv kv heads, Dh head dim, F ffn dim, V vocab, P rope positions.
 * Activations and gradients are F32. Weights may be F32, BF16 or F16 (read in place, never
 * converted as a whole: the CPU converts per tile) or NF4 (matmul only, see tb_wview).
 *
 * Backward conventions (llm.c style, mirrored arguments, STYLE.md rule 4): parameter
 * gradients ACCUMULATE (+=). Activation gradients: ops say "+=" or "=" per argument; "="
 * outputs need no zeroing. Forward ops save exactly what their backward needs (rstd, lse).
 */
#ifndef TB_BACKEND_BACKEND_H
#define TB_BACKEND_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/alloc.h"
#include "engine/core/dtype.h"
#include "engine/core/error.h"

typedef struct tb_backend tb_backend;

/* ------------------------------------------------------------------ buffers and views */

/* A buffer of backend memory. Backends embed this as the FIRST member of their own buffer
 * struct and hand out pointers to it; callers may read the fields, never write them. */
typedef struct tb_buf {
    tb_backend *be;          /* owner */
    tb_dtype dtype;
    size_t n;                /* elements */
    tb_mem_category cat;
    bool read_only;          /* made by buf_from_host: never an op's output */
} tb_buf;

/* An address inside a buffer: the op reads or writes its elements from `off` on. */
typedef struct tb_view {
    tb_buf *buf;
    size_t off;              /* in elements of buf->dtype */
} tb_view;

static inline tb_view tb_view_of(tb_buf *b) { return (tb_view){b, 0}; }
static inline tb_view tb_view_at(tb_view v, size_t off) { return (tb_view){v.buf, v.off + off}; }
static inline bool tb_view_null(tb_view v) { return v.buf == NULL; }
#define TB_VIEW_NONE ((tb_view){NULL, 0})

/* NF4 weights (issue 10, engine/quant): 4-bit NormalFloat codes with (double-quantized)
 * block scales, all held in backend buffers. engine/quant defines the struct; backends
 * that support NF4 dequantize it per tile (CPU) or in the shader (Vulkan). A backend
 * without NF4 support fails the next sync point with TB_ERR_UNSUPPORTED. */
struct tb_nf4_weight;

/* The weight operand of a matmul: dense (view of an F32/BF16/F16 buffer), or NF4. */
typedef struct tb_wview {
    tb_view v;                          /* dense weight; ignored when nf4 is set */
    const struct tb_nf4_weight *nf4;    /* non-NULL: NF4 weight (v unused) */
} tb_wview;

static inline tb_wview tb_wdense(tb_view v) { return (tb_wview){v, NULL}; }

/* ------------------------------------------------------------------ op arguments */

enum {
    TB_MM_TRANS_A = 1 << 0,  /* A is stored (K, M) */
    TB_MM_TRANS_B = 1 << 1,  /* B is stored (N, K): the torch [out, in] weight layout */
    /* A hint, never a change of result: A holds what it held at the previous matmul with the
     * same A view, M, K and TRANS_A (nothing wrote it since), so a backend may reuse work it
     * did on A then (the CPU: A rounded to bf16 for q, k and v of one input). Backends may
     * ignore it. */
    TB_MM_SAME_A = 1 << 2,
};

/* Causal grouped-query attention. Query row t of batch b sits at absolute position
 * pos0 + t and attends to keys 0 .. pos0 + t of the same batch row (so Tk = pos0 + Tq keys
 * exist). Query head h reads kv head h / (H / Hkv) (HF repeat_kv). */
typedef struct tb_attn_dims {
    int64_t B, Tq, pos0;
    int64_t H, Hkv, Dh;
    int64_t kv_stride_b;   /* elements between batch rows of k and v: (pos0 + Tq) * Hkv * Dh when
                              contiguous, Tmax * Hkv * Dh in a KV cache of Tmax positions */
    float scale;           /* softmax scale, 1 / sqrt(Dh) */
} tb_attn_dims;

typedef struct tb_adamw_params {
    float lr, beta1, beta2, eps, weight_decay;
    int64_t step;          /* 1-based step, for bias correction 1 - beta^step */
} tb_adamw_params;

/* Matmul compute precision. F32: exact f32 products, BF16/F16 weights widened per tile.
 * BF16: for BF16 weights, activations are rounded to bf16 and products accumulate in f32
 * (what PyTorch does with a bf16 model; several times faster on AVX512-BF16/AMX CPUs and
 * GPUs). F32 and F16 weights always compute in f32. */
typedef enum tb_precision {
    TB_PRECISION_F32 = 0,
    TB_PRECISION_BF16,
} tb_precision;

typedef struct tb_backend_options {
    int threads;              /* CPU worker threads; 0 = all online cores */
    tb_precision precision;   /* matmul precision for BF16 weights */
    int device;               /* Vulkan device index; -1 = best (discrete > integrated > CPU) */
} tb_backend_options;

/* ------------------------------------------------------------------ the op table */

typedef struct tb_backend_ops {
    /* --- memory and transfers ----------------------------------------------------- */
    /* Zeroed buffer of n elements (n > 0). */
    tb_status (*buf_alloc)(tb_backend *be, tb_buf **out, tb_dtype dtype, size_t n, tb_mem_category cat,
                           tb_error *err);
    /* Read-only buffer holding n elements at `host` (e.g. mmap'd weights). The CPU wraps the
     * memory without copying, so `host` must outlive the buffer; other backends upload once. */
    tb_status (*buf_from_host)(tb_backend *be, tb_buf **out, const void *host, tb_dtype dtype, size_t n,
                               tb_mem_category cat, tb_error *err);
    void (*buf_free)(tb_backend *be, tb_buf *buf);   /* NULL is fine; waits if the buffer is in use */
    /* Copy n elements (in dst's dtype) from host, ordered with the ops around it. `host` may be
     * reused as soon as the call returns. */
    void (*upload)(tb_backend *be, tb_view dst, const void *host, size_t n);
    /* Sync point: wait for everything enqueued, then copy n elements (src's dtype) to host. */
    tb_status (*download)(tb_backend *be, void *host, tb_view src, size_t n, tb_error *err);
    /* Sync point: submit everything enqueued, wait, report the first failure. */
    tb_status (*sync)(tb_backend *be, tb_error *err);
    void (*destroy)(tb_backend *be);  /* frees the backend (buffers must be freed before) */

    /* --- elementwise and reductions ------------------------------------------------ */
    void (*fill)(tb_backend *be, tb_view x, float value, size_t n);            /* x (n) F32 = value */
    /* dst (n) = src (n), converting between F32, BF16 and F16 (same dtype: plain copy). */
    void (*copy)(tb_backend *be, tb_view dst, tb_view src, size_t n);
    void (*add)(tb_backend *be, tb_view out, tb_view a, tb_view b, size_t n);   /* out = a + b; out may be a or b */
    void (*scale)(tb_backend *be, tb_view x, float alpha, size_t n);           /* x *= alpha */
    void (*axpy)(tb_backend *be, tb_view y, float alpha, tb_view x, size_t n); /* y += alpha * x */
    void (*sum)(tb_backend *be, tb_view out, tb_view x, size_t n);             /* out (1) += sum x */
    void (*sum_squares)(tb_backend *be, tb_view out, tb_view x, size_t n);     /* out (1) += sum x^2 */
    /* Grad-norm clipping factor on the device: out (1) = min(1, max_norm / (sqrt(sumsq[0]) + 1e-6)). */
    void (*clip_scale)(tb_backend *be, tb_view out, tb_view sumsq, float max_norm);

    /* --- layers, forward ---------------------------------------------------------- */
    /* out (N, D) = table[ids[i]]; table (V, D) F32/BF16/F16; ids (N) I32, each in [0, V). */
    void (*embedding_forward)(tb_backend *be, tb_view out, tb_view table, tb_view ids, int64_t N, int64_t D);
    /* HF LlamaRMSNorm: out (N, D) = weight (D) * inp * rstd, rstd (N) = 1 / sqrt(mean(inp^2) + eps).
     * rstd may be TB_VIEW_NONE (inference). weight may be F32/BF16/F16. out may equal inp. */
    void (*rmsnorm_forward)(tb_backend *be, tb_view out, tb_view rstd, tb_view inp, tb_view weight, int64_t N,
                            int64_t D, float eps);
    /* C (M, N) = alpha * op(A) * op(B) + beta * C. A F32: (M, K), or (K, M) with TB_MM_TRANS_A.
     * B: (K, N), or (N, K) with TB_MM_TRANS_B; F32/BF16/F16 or NF4. C F32. beta == 0
     * ignores C's old contents (NaN included). Linear layer y = x W^T: M = N rows, N = out,
     * K = in, TB_MM_TRANS_B. Its backward: dx = dy W (flags 0), dW += dy^T x (TRANS_A, beta 1). */
    void (*matmul)(tb_backend *be, tb_view c, tb_view a, tb_wview b, int64_t M, int64_t N, int64_t K, int flags,
                   float alpha, float beta);
    /* x (N, C) += bias (C) on every row; bias F32/BF16/F16. */
    void (*add_bias)(tb_backend *be, tb_view x, tb_view bias, int64_t N, int64_t C);
    /* RoPE, HF half-split layout (dim j pairs with j + Dh/2), in place on x (B, T, nh, Dh):
     * x1' = x1 cos - x2 sin, x2' = x2 cos + x1 sin at position pos0 + t. table (P, Dh) F32,
     * P >= pos0 + T: row p = cos(p * inv_freq[0 .. Dh/2)), then sin(...) (llama3 scaling is in
     * inv_freq; engine/model builds the table). */
    void (*rope_forward)(tb_backend *be, tb_view x, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh,
                         int64_t pos0);
    /* out (B, Tq, H*Dh) = softmax(scale * q k^T, causal) v. q (B, Tq, H*Dh); k, v (B, *, Hkv*Dh)
     * with batch stride d->kv_stride_b. lse (B, H, Tq) = log-sum-exp of each scaled score row
     * (what backward needs instead of the probabilities); TB_VIEW_NONE in inference. No
     * (Tq x Tk) matrix needs to be kept. */
    void (*attention_forward)(tb_backend *be, tb_view out, tb_view lse, tb_view q, tb_view k, tb_view v,
                              const tb_attn_dims *d);
    /* SwiGLU: out (n) = silu(gate) * up, silu(g) = g / (1 + exp(-g)). out may equal gate or up. */
    void (*swiglu_forward)(tb_backend *be, tb_view out, tb_view gate, tb_view up, size_t n);
    /* Inverted dropout with a counter-based mask (tb_dropout_keep): out = keep ? inp / (1 - p) : 0.
     * The same seed regenerates the mask in backward; p == 0 copies. */
    void (*dropout_forward)(tb_backend *be, tb_view out, tb_view inp, size_t n, float p, uint32_t seed);

    /* --- loss ---------------------------------------------------------------------- */
    /* Fused softmax + cross-entropy over logits (N, V), targets (N) I32; a target < 0 masks
     * its row. loss (N) = -log softmax(logits)[target] (0 on masked rows). With grad_scale
     * != 0, logits are OVERWRITTEN by dlogits = grad_scale * (softmax - onehot(target)) (0 on
     * masked rows), so the (N, V) buffer is reused; with grad_scale == 0 logits are kept. */
    void (*xent_forward_backward)(tb_backend *be, tb_view loss, tb_view logits, tb_view targets, int64_t N,
                                  int64_t V, float grad_scale);

    /* --- layers, backward (mirrored arguments) ----------------------------------------- */
    /* dtable (V, D) F32 += rows of dout (N, D) scattered by ids (N). */
    void (*embedding_backward)(tb_backend *be, tb_view dtable, tb_view dout, tb_view ids, int64_t N, int64_t D);
    /* dinp (N, D) +=, dweight (D) F32 += (TB_VIEW_NONE for a frozen weight); dout (N, D),
     * inp (N, D), weight (D), rstd (N) from the forward. */
    void (*rmsnorm_backward)(tb_backend *be, tb_view dinp, tb_view dweight, tb_view dout, tb_view inp,
                             tb_view weight, tb_view rstd, int64_t N, int64_t D);
    /* dbias (C) F32 += column sums of dout (N, C). */
    void (*bias_backward)(tb_backend *be, tb_view dbias, tb_view dout, int64_t N, int64_t C);
    /* In place on dx (B, T, nh, Dh): the transpose rotation (angle negated). */
    void (*rope_backward)(tb_backend *be, tb_view dx, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh,
                          int64_t pos0);
    /* dq (B, Tq, H*Dh) =, dk, dv (B, *, Hkv*Dh, stride d->kv_stride_b) =; dout, out (B, Tq, H*Dh),
     * lse (B, H, Tq) from the forward. */
    void (*attention_backward)(tb_backend *be, tb_view dq, tb_view dk, tb_view dv, tb_view dout, tb_view q,
                               tb_view k, tb_view v, tb_view out, tb_view lse, const tb_attn_dims *d);
    /* dgate (n) =, dup (n) =; dout, gate, up (n) from the forward. Any of them may alias
     * element for element (gradients written over gate and up). */
    void (*swiglu_backward)(tb_backend *be, tb_view dgate, tb_view dup, tb_view dout, tb_view gate, tb_view up,
                            size_t n);
    /* dinp (n) += keep ? dout / (1 - p) : 0 with the forward's seed. */
    void (*dropout_backward)(tb_backend *be, tb_view dinp, tb_view dout, size_t n, float p, uint32_t seed);

    /* --- optimizer ----------------------------------------------------------------- */
    /* AdamW (decoupled weight decay, bias-corrected) on param (n) F32 with grad (n) and moments
     * m, v (n) F32: g = grad * gscale[0] (gscale TB_VIEW_NONE: 1, else a device scalar, e.g.
     * clip_scale's output); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
     * param -= lr * (m / (1-b1^t) / (sqrt(v / (1-b2^t)) + eps) + wd * param). */
    void (*adamw)(tb_backend *be, tb_view param, tb_view grad, tb_view m, tb_view v, size_t n, tb_view gscale,
                  const tb_adamw_params *p);
} tb_backend_ops;

struct tb_backend {
    const tb_backend_ops *ops;
    const char *name;          /* "cpu", "vulkan" */
    char description[256];     /* one line for logs: threads, BLAS core, device name */
    tb_backend_options opt;
};

/* Create a backend by name: "cpu", "vulkan", or "auto" (Vulkan when a device is usable,
 * else the CPU; *notice then says why in one line, or "" — may be NULL). opt may be NULL
 * (defaults: all cores, F32 precision, best device). */
tb_status tb_backend_create(tb_backend **out, const char *name, const tb_backend_options *opt, char *notice,
                            size_t notice_size, tb_error *err);
void tb_backend_destroy(tb_backend *be); /* NULL is fine */

/* Counter-based dropout mask shared by every backend (Vulkan computes the same in GLSL
 * with 32-bit integer ops): element i is kept with probability 1 - p. */
static inline uint32_t tb_hash32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}
static inline bool tb_dropout_keep(uint32_t seed, uint32_t i, float p)
{
    uint32_t h = tb_hash32(i ^ tb_hash32(seed));
    return (float)(h >> 8) * (1.0f / 16777216.0f) >= p;
}

#endif
