/* tunebench — CPU backend internals shared by its files (not a public header). */
#ifndef TB_BACKEND_CPU_INTERNAL_H
#define TB_BACKEND_CPU_INTERNAL_H

#include <stdint.h>

#include "engine/backend/backend.h"
#include "engine/backend/cpu/cpu_pool.h"
#include "tb_config.h"

/* x86-64 with GCC/Clang: the AVX-512 kernels are compiled (and chosen at run time). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CPU_X86 1
#else
#define CPU_X86 0
#endif

typedef struct cpu_buf {
    tb_buf base;          /* first: tb_buf pointers are cpu_buf pointers */
    void *data;           /* tb_alloc'd, or the caller's memory for buf_from_host */
    bool owned;
} cpu_buf;

/* Per-thread scratch, grown on demand (rarely: shapes repeat every step) and kept. */
typedef struct cpu_scratch {
    float *p;
    size_t cap;           /* floats */
} cpu_scratch;

#define CPU_MAX_THREADS 64

struct cpu_dnnl;          /* cpu_dnnl.c: oneDNN engine, stream, primitive cache */

typedef struct cpu_backend {
    tb_backend base;      /* first */
    int threads;
    cpu_pool *pool;
    cpu_scratch tile[CPU_MAX_THREADS];   /* matmul weight tiles, attention score blocks */
    cpu_scratch shared;                  /* attention's transposed keys, row statistics */
    cpu_scratch a16;                     /* A rounded to bf16 for oneDNN (only the matmul uses it) */
    const float *a16_src;                /* ... the A it holds (TB_MM_SAME_A reuses it), NULL: none */
    int64_t a16_n;                       /* ... its elements */
    bool a16_ta;
    cpu_scratch vec;                     /* small per-op vectors: widened norm weights, biases */
    cpu_scratch part;                    /* per-chunk partial sums of reductions */
    struct cpu_dnnl *dnnl;               /* NULL without oneDNN or before its first use */
    bool dnnl_tried;                     /* ... created once (or failed to be) */
    bool dnnl_bf16;                      /* ... and bf16 weights multiply in bf16 (TB_PRECISION_BF16) */
    tb_status failed;                    /* first failure, reported by the next sync point */
    tb_error err;
} cpu_backend;

static inline cpu_backend *cpu_of(tb_backend *be) { return (cpu_backend *)be; }

/* Typed address of a view. */
static inline void *cpu_raw(tb_view v) { return (char *)((cpu_buf *)v.buf)->data + v.off * tb_dtype_size(v.buf->dtype); }
static inline float *cpu_f32(tb_view v) { return (float *)((cpu_buf *)v.buf)->data + v.off; }
static inline int32_t *cpu_i32(tb_view v) { return (int32_t *)((cpu_buf *)v.buf)->data + v.off; }

/* Widen a (small) F32/BF16/F16 vector into cb->vec; NULL on failure. F32 is returned as is. */
const float *cpu_vec_f32(cpu_backend *cb, tb_view v, size_t n);

/* Run fn over [0, n) in chunks of `grain` items on the pool (chunks are claimed
 * dynamically; fn gets its thread id for per-thread scratch). n <= grain runs inline. */
typedef void (*cpu_range_fn)(void *ctx, int64_t lo, int64_t hi, int tid);
void cpu_for(cpu_backend *cb, int64_t n, int64_t grain, cpu_range_fn fn, void *ctx);

/* Run fn on chunks 0 .. n-1: on the pool when par (and n > 1), else on the calling thread. */
void cpu_tasks(cpu_backend *cb, bool par, int64_t n, cpu_task_fn fn, void *ctx);

/* Grow a scratch to at least n floats; false when out of memory (recorded as a failure). */
bool cpu_scratch_reserve(cpu_backend *cb, cpu_scratch *s, size_t n);
void cpu_fail(cpu_backend *cb, tb_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Read element i of an F32/BF16/F16 view as f32. */
static inline float cpu_load(tb_view v, size_t i)
{
    switch (v.buf->dtype) {
    case TB_DTYPE_BF16: return tb_bf16_to_f32(((const uint16_t *)cpu_raw(v))[i]);
    case TB_DTYPE_F16: return tb_f16_to_f32(((const uint16_t *)cpu_raw(v))[i]);
    default: return ((const float *)cpu_raw(v))[i];
    }
}

/* ---- SIMD kernels (cpu_simd.c): AVX-512 when the CPU has it, portable C otherwise ---- */
/* dst (n) f32 <- src (n) of dtype t (F32, BF16, F16). */
void cpu_widen(float *dst, const void *src, tb_dtype t, size_t n);
/* sum a[i] * b[i], b of dtype t (F32, BF16, F16). */
float cpu_dot(const float *a, const void *b, tb_dtype t, size_t n);
/* x[i] = exp(x[i] - shift); returns the sum (f32 lanes, summed in a fixed order). */
float cpu_exp_shift_sum(float *x, size_t n, float shift);
float cpu_max(const float *x, size_t n);
/* An attention score row in backward: p[j] = exp(p[j] - lse) (the probability) and
 * dp[j] = p[j] (dp[j] - di) for j < valid; both 0 for valid <= j < n. */
void cpu_attn_prob_grad(float *p, float *dp, size_t valid, size_t n, float lse, float di);
/* dst (n) = src (n) with stores that bypass the caches (when dst is 64-byte aligned and n a
 * multiple of 16): for results written once and read much later. */
void cpu_stream_copy(float *dst, const float *src, size_t n);
/* dst (n) bf16 <- src (n) f32, round to nearest even. */
void cpu_narrow_bf16(uint16_t *dst, const float *src, size_t n);

bool cpu_have_avx512(void);

/* ---- inner loops of the layer ops (cpu_rows.c): AVX-512 when the CPU has it ---- */
/* RMSNorm: o (n) = w * (x * r). */
void cpu_row_norm_apply(float *o, const float *x, const float *w, float r, size_t n);
/* sum a * b * c. */
float cpu_row_dot3(const float *a, const float *b, const float *c, size_t n);
/* RMSNorm backward: dx (n) += r (dy w - x r mean); part (n) += dy x r unless NULL. */
void cpu_row_norm_grad(float *dx, float *part, const float *dy, const float *w, const float *x, float r, float mean,
                       size_t n);
/* SwiGLU: o (n) = g sigmoid(g) u; its backward dg = d u s (1 + g (1 - s)), du = d g s. */
void cpu_span_swiglu(float *o, const float *g, const float *u, size_t n);
void cpu_span_swiglu_grad(float *dg, float *du, const float *d, const float *g, const float *u, size_t n);
/* RoPE on one head, half-split: v[j], v[j + half] rotated by (c[j], sign * s[j]). */
void cpu_row_rope(float *v, const float *c, const float *s, float sign, size_t half);

/* ---- op groups, each in its own file ---- */
void cpu_matmul(tb_backend *be, tb_view c, tb_view a, tb_wview b, int64_t M, int64_t N, int64_t K, int flags,
                float alpha, float beta);
/* B an NF4 weight (cpu_matmul_nf4.c): TRANS_B and flags 0 only. */
void cpu_matmul_nf4(cpu_backend *cb, float *C, const float *A, const struct tb_nf4_weight *w, int64_t M, int64_t N,
                    int64_t K, int flags, float alpha, float beta);
void cpu_attention_forward(tb_backend *be, tb_view out, tb_view lse, tb_view q, tb_view k, tb_view v,
                           const tb_attn_dims *d);
void cpu_attention_backward(tb_backend *be, tb_view dq, tb_view dk, tb_view dv, tb_view dout, tb_view q,
                            tb_view k, tb_view v, tb_view out, tb_view lse, const tb_attn_dims *d);

#if CPU_X86
/* AVX-512 attention (cpu_attn512.c) on raw pointers, for Dh a multiple of 16 and at
 * least 8 query rows; false when not taken (the sgemm path runs instead). */
bool cpu_attn512_forward(cpu_backend *cb, float *O, float *L, const float *Q, const float *K, const float *V,
                         const tb_attn_dims *d);
bool cpu_attn512_backward(cpu_backend *cb, float *dQ, float *dK, float *dV, const float *dO, const float *Q,
                          const float *K, const float *V, const float *O, const float *L, const tb_attn_dims *d);

/* C (M, N) = alpha op(A) op(B) + beta C in f32 when one side is at most 32 wide (LoRA's
 * products; cpu_thin512.c); false when not taken. */
bool cpu_thin512_matmul(cpu_backend *cb, float *C, const float *A, const float *B, int64_t M, int64_t N, int64_t K,
                        bool ta, bool tb, float alpha, float beta);
#endif

#if TB_HAVE_DNNL
/* oneDNN matmul (cpu_dnnl.c). */
bool cpu_dnnl_bf16_ok(void); /* oneDNN has real bf16 kernels on this CPU */
struct cpu_dnnl *cpu_dnnl_create(int threads);
/* cb's oneDNN, created on first use; NULL if it cannot be. */
struct cpu_dnnl *cpu_dnnl_get(cpu_backend *cb);
void cpu_dnnl_free(struct cpu_dnnl *d);
/* A primitive for C (M,N; rows ldc apart) = alpha op(A) op(B) + beta C with A and B both f32
 * or both bf16 (B's rows ldc apart without TRANS_B). Call on the backend's thread; NULL if
 * refused. */
typedef struct cpu_dnnl_mm cpu_dnnl_mm;
const cpu_dnnl_mm *cpu_dnnl_prepare(struct cpu_dnnl *d, int64_t M, int64_t N, int64_t K, int64_t ldc, int flags,
                                    float alpha, float beta, bool f32);
/* Run it on pool thread tid (single-threaded). */
bool cpu_dnnl_run(const cpu_dnnl_mm *e, int tid, float *c, const void *a, const void *b);
#endif

#endif
