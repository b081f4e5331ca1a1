/* tunebench — push-constant blocks of every compute kernel, written once for GLSL and C.
 *
 * Each block is an X-macro list of 4-byte fields: the shaders expand it into a
 * `layout(push_constant)` block, engine/backend/vulkan/vk_push.h into a C struct with a
 * _Static_assert on its size, so the two sides cannot drift apart. All fields are 4 bytes,
 * so std430 (push-constant layout) and C agree on every offset. Vulkan guarantees 128
 * bytes of push constants: no block may exceed 32 fields.
 *
 * Field types: U32, I32, F32. `o*` fields are element offsets into the buffer bound at
 * that position (counted in that buffer's dtype): backend views (tb_view) are buffer +
 * offset. `dt*` fields are dtype codes (TB_DT_*), equal to engine/core/dtype.h's tb_dtype. */
#ifndef TB_SHADERS_PUSH_H
#define TB_SHADERS_PUSH_H

#define TB_DT_F32 0
#define TB_DT_F16 1
#define TB_DT_BF16 2

/* C (M,N) = alpha * op(A) op(B) + beta * C; leading dimensions in elements; kchunk: the K
 * range of one split (= K when not split). */
#define TB_PC_MATMUL(X) \
    X(U32, M) X(U32, N) X(U32, K) X(U32, lda) X(U32, ldb) X(U32, ldc) \
    X(U32, oa) X(U32, ob) X(U32, oc) X(F32, alpha) X(F32, beta) X(U32, kchunk)
#define TB_PC_MATMUL_SIZE 48

/* Elementwise kernels over n elements (eltwise.comp modes, swiglu_bwd, convert):
 * buffers 0..3 at offsets o0..o3; alpha and p scalars; seed for dropout; cols for the
 * bias broadcast; dt0/dt1 dtypes of buffers 0 and 1 where they vary. */
#define TB_PC_EW(X) \
    X(U32, n) X(U32, mode) X(U32, o0) X(U32, o1) X(U32, o2) X(U32, o3) X(U32, o4) \
    X(F32, alpha) X(F32, p) X(U32, seed) X(U32, cols) X(U32, dt0) X(U32, dt1)
#define TB_PC_EW_SIZE 52

#define TB_EW_ADD 0          /* out = a + b */
#define TB_EW_SCALE 1        /* out *= alpha */
#define TB_EW_AXPY 2         /* out += alpha * a */
#define TB_EW_SWIGLU 3       /* out = silu(a) * b */
#define TB_EW_DROPOUT 4      /* out = keep ? a / (1 - p) : 0 */
#define TB_EW_DROPOUT_ACC 5  /* out += keep ? a / (1 - p) : 0 */
#define TB_EW_ADD_BIAS 6     /* out[i] += a[i % cols], a of dtype dt1 */

/* Row kernels (rmsnorm, xent, embedding, column sums): rows x dim, buffers at o0..o5. */
#define TB_PC_ROWS(X) \
    X(U32, rows) X(U32, dim) X(F32, eps) X(U32, mode) X(U32, dtw) X(U32, limit) \
    X(U32, o0) X(U32, o1) X(U32, o2) X(U32, o3) X(U32, o4) X(U32, o5)
#define TB_PC_ROWS_SIZE 48

#define TB_ROWS_RMS_FWD 0       /* out(0) = inp(2) * rstd * w(3); rstd(1) saved unless limit == 0 */
#define TB_ROWS_RMS_BWD 1       /* dinp(0) += ...; dout(1), inp(2), w(3), rstd(4) */
#define TB_COLS_RMS_DW 0        /* dw(0) += sum_rows dout(1) * inp(2) * rstd(3) */
#define TB_COLS_BIAS 1          /* db(0) += sum_rows dout(1) */
#define TB_EMB_FWD 0            /* out(0) = table(1)[ids(2)] */
#define TB_EMB_BWD 1            /* dtable(0)[ids(2)] += dout(1) */

/* RoPE in place on x (rows = B*T, nh, Dh); table (P, Dh): cos then sin halves. */
#define TB_PC_ROPE(X) \
    X(U32, rows) X(U32, T) X(U32, nh) X(U32, Dh) X(U32, pos0) X(F32, sign) X(U32, ox) X(U32, ot)
#define TB_PC_ROPE_SIZE 32

/* Causal GQA attention (backend.h tb_attn_dims). q/out/dq/dout rows are H*Dh wide; k/v/dk/dv
 * rows Hkv*Dh wide with batch stride kv_stride; lse and the backward's row dots (B, H, Tq)
 * at olse and od. The kernels' outputs sit at oo (out, dq, dk) and oo2 (dv). */
#define TB_PC_ATTN(X) \
    X(U32, B) X(U32, Tq) X(U32, pos0) X(U32, H) X(U32, Hkv) X(U32, kv_stride) X(F32, scale) \
    X(U32, has_lse) X(U32, oq) X(U32, ok) X(U32, ov) X(U32, oo) X(U32, olse) X(U32, odo) \
    X(U32, od) X(U32, oo2)
#define TB_PC_ATTN_SIZE 64

/* Reductions: stage 1 sums chunks of n elements of x (at ox) into partials; stage 2 adds
 * the `n` partials into out[oout], or computes the clip factor. */
#define TB_PC_REDUCE(X) \
    X(U32, n) X(U32, mode) X(U32, ox) X(U32, oout) X(U32, chunk) X(F32, max_norm)
#define TB_PC_REDUCE_SIZE 24

#define TB_RED_SUM 0
#define TB_RED_SUMSQ 1
#define TB_RED_ADD 0            /* stage 2: out += sum of partials */
#define TB_RED_CLIP 1           /* out = min(1, max_norm / (sqrt(x[ox]) + 1e-6)) */

/* AdamW over n parameters; bc1 = 1 - beta1^t, bc2 = 1 - beta2^t; with has_gscale the
 * gradient is multiplied by the device scalar at buffer 4, element ogs. */
#define TB_PC_ADAMW(X) \
    X(U32, n) X(U32, op) X(U32, og) X(U32, om) X(U32, ov) X(U32, ogs) X(U32, has_gscale) \
    X(F32, lr) X(F32, beta1) X(F32, beta2) X(F32, eps) X(F32, weight_decay) X(F32, bc1) X(F32, bc2)
#define TB_PC_ADAMW_SIZE 56

#endif
