/* tunebench — NF4 dequantization kernels (internal to engine/quant).
 *
 * A kernel dequantizes whole blocks: nblocks blocks of bs values (bs a multiple of 32)
 * from codes (nblocks * bs / 2 bytes, starting at a block boundary) with one fp32 scale
 * per block into out (nblocks * bs). Every kernel computes code[q] * scale in fp32, so all
 * give the bits of tb_nf4_dequant_range_ref. */
#ifndef TB_QUANT_NF4_KERNELS_H
#define TB_QUANT_NF4_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*tb_nf4_kernel_fn)(const uint8_t *codes, const float *scales, int64_t nblocks, int64_t bs,
                                 float *out);

/* x86-64 kernels (nf4_dequant_x86.c); NULL elsewhere or when the CPU lacks the ISA. */
tb_nf4_kernel_fn tb_nf4_kernel_avx2(void);
tb_nf4_kernel_fn tb_nf4_kernel_avx512(void);

#endif
