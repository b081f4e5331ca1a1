/* tunebench — NF4 (4-bit NormalFloat) weights, with optional double quantization.
 *
 * QLoRA stores the frozen base's linear weights as NF4 (FORMATS.md, "QLoRA NF4";
 * Dettmers et al. 2023): the flattened weight is cut into blocks of 64 consecutive values,
 * each block keeps its fp32 absmax, and each value becomes the 4-bit index of the NF4 code
 * value nearest to value/absmax; two indices per byte, the first element in the high
 * nibble. Double quantization ("nf4-dq") stores the absmax values themselves as 8 bits:
 * offset = mean(absmax), absmax - offset quantized in blocks of 256 with bitsandbytes'
 * dynamic map (engine/quant/quant8.h) and one fp32 scale per 256 blocks.
 *
 * Codes and scales are bit-identical to bitsandbytes' reference algorithm
 * (bitsandbytes/backends/default/ops.py quantize_4bit; functional.py quantize_4bit with
 * compress_statistics=True) for fp32 input and for whole blocks of bf16/f16 input; the
 * vectors in tests/reference/nf4_golden.bin prove it. tunebench widens 16-bit input to fp32
 * exactly and always computes in fp32 (as bitsandbytes' CUDA kernel does); the reference's
 * pure-PyTorch path rounds a *partial last block* of 16-bit input to 16 bits on the way,
 * which can move a code there (see tests/reference/nf4_reference.py).
 *
 * Dequantization is code[q] * absmax (fp32), absmax = map[qabsmax] * nested + offset under
 * double quantization, each step rounded to fp32: the same values bitsandbytes'
 * dequantize_4bit returns in fp32.
 *
 * Compute reads NF4 a tile at a time (tb_nf4_dequant_tile) and never the whole matrix;
 * engine/quant/tiled_matmul.h builds the CPU matmuls on those tiles. */
#ifndef TB_QUANT_NF4_H
#define TB_QUANT_NF4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/dtype.h"
#include "engine/core/error.h"

#define TB_NF4_BLOCK 64          /* values per absmax block (bitsandbytes' default) */
#define TB_NF4_NESTED_BLOCK 256  /* absmax values per nested block (double quantization) */

/* bitsandbytes get_4bit_type("nf4"), index 0..15, ascending. */
extern const float tb_nf4_code[16];

typedef struct tb_nf4 {
    int64_t rows, cols;          /* torch shape [out, in]; a 1-D tensor has rows = 1 */
    int64_t n;                   /* rows * cols */
    int64_t blocksize;           /* values per absmax block; TB_NF4_BLOCK when we quantize */
    int64_t n_blocks;            /* ceil(n / blocksize) */
    tb_dtype dtype;              /* dtype of the weight before quantization (F32/BF16/F16) */
    const uint8_t *codes;        /* ((n + 1) / 2) bytes; element 2k in the high nibble of byte k;
                                    an odd n pads the last low nibble with code 7 (0.0) */
    /* Scales: absmax when not double-quantized, else qabsmax + nested_absmax + offset. */
    const float *absmax;         /* (n_blocks) fp32, or NULL */
    const uint8_t *qabsmax;      /* (n_blocks) 8-bit codes of absmax - offset, or NULL */
    const float *nested_absmax;  /* (n_nested) fp32 absmax of each nested block */
    const float *nested_map;     /* (256) the 8-bit map (tb_quant8_dynamic_map, or a file's) */
    int64_t nested_blocksize;    /* TB_NF4_NESTED_BLOCK when we quantize */
    int64_t n_nested;            /* ceil(n_blocks / nested_blocksize) */
    float offset;                /* mean of the absmax values, added back on dequant */
    void *owned;                 /* tb_alloc'd storage tb_nf4_free releases; NULL when none */
} tb_nf4;

static inline bool tb_nf4_is_double_quant(const tb_nf4 *w) { return w->qabsmax != NULL; }

/* Quantize src (rows, cols) of dtype F32, BF16 or F16 into *out (owned storage, accounted as
 * TB_MEM_WEIGHTS). double_quant selects nf4-dq. NaN or Inf anywhere is refused with
 * TB_ERR_NUMERIC and a message naming `name` (err->field) and the element [row, col]. */
tb_status tb_nf4_quantize(tb_nf4 *out, const void *src, tb_dtype src_dtype, int64_t rows, int64_t cols,
                          bool double_quant, const char *name, tb_error *err);

/* Release what w owns and zero it. NULL and zeroed objects are fine. Weights loaded from a
 * bitsandbytes checkpoint keep pointing into the file's mapping: close the file after. */
void tb_nf4_free(tb_nf4 *w);

/* fp32 absmax of block b (dequantized under double quantization). */
float tb_nf4_block_scale(const tb_nf4 *w, int64_t b);

/* Elements [start, start + count) of the flattened weight, dequantized to fp32 into out
 * (count). Any start and count; the fast path (table per block, AVX2/AVX-512 where the CPU
 * has them) gives the same bits as tb_nf4_dequant_range_ref. */
void tb_nf4_dequant_range(const tb_nf4 *w, int64_t start, int64_t count, float *out);
/* The scalar oracle: one element at a time, straight from the definition. */
void tb_nf4_dequant_range_ref(const tb_nf4 *w, int64_t start, int64_t count, float *out);

/* The dequant kernel in use: "avx512", "avx2" or "c" (best the CPU has, unless forced). */
const char *tb_nf4_kernel_name(void);
/* Tests and benchmarks only (not thread-safe): force a kernel by name, NULL for the best.
 * Returns false when the CPU lacks it. */
bool tb_nf4_use_kernel(const char *name);

/* The tile rows [r0, r0 + nr) x columns [c0, c0 + nc) of the [rows, cols] weight into
 * tile (nr, nc), row-major: what a matmul calls per tile. Column slices on block
 * boundaries go straight to the kernel. */
void tb_nf4_dequant_tile(const tb_nf4 *w, int64_t r0, int64_t nr, int64_t c0, int64_t nc, float *tile);

/* Rows [r0, r0 + nrows) of the [rows, cols] weight into tile (nrows, cols). */
static inline void tb_nf4_dequant_rows(const tb_nf4 *w, int64_t r0, int64_t nrows, float *tile)
{
    tb_nf4_dequant_range(w, r0 * w->cols, nrows * w->cols, tile);
}

/* The whole tensor into dst (rows, cols) of dtype F32, BF16 or F16 (16-bit: the fp32 value
 * rounded to nearest even), for merge and export. */
tb_status tb_nf4_dequantize(const tb_nf4 *w, void *dst, tb_dtype dtype, tb_error *err);

/* Bytes the quantized tensor holds in memory: codes + absmax, or codes + 8-bit absmax +
 * nested scales + offset (the 256-entry map is one shared table). ~4.127 bits per weight
 * with double quantization, 4.5 without. */
uint64_t tb_nf4_storage_bytes(const tb_nf4 *w);
/* Bytes of the tensor's data in a bitsandbytes -bnb-4bit checkpoint, which also stores the
 * 16-entry quant_map and, with double quantization, a 256-entry nested_quant_map per
 * tensor (the JSON quant_state not counted). */
uint64_t tb_nf4_bnb_bytes(const tb_nf4 *w);

#endif
