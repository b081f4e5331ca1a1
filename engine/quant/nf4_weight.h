/* tunebench — an NF4 weight on a backend: the `nf4` matmul operand of backend.h (tb_wview).
 *
 * backend.h declares `struct tb_nf4_weight` and leaves its definition to engine/quant. It
 * holds the quantized tensor's arrays as backend buffers (made with buf_from_host: the CPU
 * wraps the host memory without copying, Vulkan uploads once) plus the host-side tb_nf4
 * with the shape, block sizes and offset.
 *
 * How a backend's matmul reads it (C (M, N) = alpha op(A) op(B) + beta C, B = NF4 [out, in]):
 *   flags TB_MM_TRANS_B (linear forward y = x W^T; N = out, K = in):
 *       tb_nf4_matmul_xwt(C, N, A, K, w->host, M, alpha, beta, tile, err)
 *   flags 0 (input gradient dx = dy W; K = out, N = in):
 *       tb_nf4_matmul_dyw(C, N, A, K, w->host, M, alpha, beta, tile, err)
 *   TB_MM_TRANS_A: no NF4 weight gets a gradient; TB_ERR_UNSUPPORTED.
 * (engine/quant/tiled_matmul.h; or the backend's own tiling around tb_nf4_dequant_tile.)
 * A GPU backend binds codes, absmax or qabsmax + nested_absmax + nested_map, and passes
 * host->offset, host->blocksize, host->nested_blocksize as constants. */
#ifndef TB_QUANT_NF4_WEIGHT_H
#define TB_QUANT_NF4_WEIGHT_H

#include "engine/backend/backend.h"
#include "engine/quant/nf4.h"

struct tb_nf4_weight {
    const tb_nf4 *host;     /* the quantized tensor; must outlive this object */
    tb_backend *be;
    tb_buf *codes;          /* U8 ((n + 1) / 2), high nibble first */
    tb_buf *absmax;         /* F32 (n_blocks); NULL under double quantization */
    tb_buf *qabsmax;        /* U8 (n_blocks); double quantization only */
    tb_buf *nested_absmax;  /* F32 (n_nested); double quantization only */
    tb_buf *nested_map;     /* F32 (256); double quantization only */
};
typedef struct tb_nf4_weight tb_nf4_weight;

/* Wrap/upload q's arrays on be (category TB_MEM_WEIGHTS). On failure nothing is left
 * allocated. q (and, for a checkpoint, its file mapping) must outlive *out. */
tb_status tb_nf4_weight_create(tb_nf4_weight *out, tb_backend *be, const tb_nf4 *q, tb_error *err);
/* Free the buffers (not q); NULL and zeroed objects are fine. */
void tb_nf4_weight_free(tb_nf4_weight *w);

/* The matmul operand. */
static inline tb_wview tb_wnf4(const tb_nf4_weight *w) { return (tb_wview){TB_VIEW_NONE, w}; }

#endif
