/* tunebench — blockwise 8-bit quantization with bitsandbytes' signed dynamic map.
 *
 * This is the scheme QLoRA's double quantization applies to the NF4 block scales
 * (../shared/reference/FORMATS.md, "QLoRA NF4"): blocks of consecutive values, one fp32
 * absmax per block, each value replaced by the index of the nearest map entry to
 * value/absmax. The arithmetic follows bitsandbytes' reference backend
 * (bitsandbytes/backends/default/ops.py, kernel "quantize_blockwise"/"dequantize_blockwise")
 * bit for bit; tests/reference/nf4_reference.py generates the vectors that prove it. */
#ifndef TB_QUANT_QUANT8_H
#define TB_QUANT_QUANT8_H

#include <stdint.h>

/* bitsandbytes functional.create_dynamic_map(signed=True): 256 ascending fp32 values in
 * [-0.99296875, 1], 0 included. */
extern const float tb_quant8_dynamic_map[256];

/* Index of the map entry nearest to s (map: 256 ascending values) by fp32 distance
 * |s - map[i]|, the lower index on a tie, 0 for NaN: torch.argmin's answer. */
uint8_t tb_quant8_nearest(float s, const float map[256]);

/* q (n) and absmax (ceil(n / blocksize)) from x (n): per block absmax = max|x|,
 * s = clamp(x * (1/absmax), -1, 1) in fp32, q = nearest(s). An all-zero block has absmax 0
 * and codes 0 (0 * inf is NaN, as in the reference). x must be finite. */
void tb_quant8_quantize(uint8_t *q, float *absmax, const float *x, int64_t n, int64_t blocksize,
                        const float map[256]);

/* One value back: map[q] * absmax[i / blocksize], rounded to fp32. */
static inline float tb_quant8_value(uint8_t q, float block_absmax, const float map[256])
{
    return map[q] * block_absmax;
}

#endif
