/* Reader for tests/reference/nf4_golden.bin (written by tests/reference/nf4_reference.py):
 * bitsandbytes' reference NF4 + double-quant results for a set of input tensors. */
#ifndef TB_TEST_NF4_GOLDEN_H
#define TB_TEST_NF4_GOLDEN_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/dtype.h"

typedef struct nf4_golden_case {
    char name[128];
    tb_dtype dtype;          /* of input */
    int64_t rows, cols, n, blocks, nested;
    void *input;             /* (n) of dtype */
    uint8_t *packed;         /* ((n+1)/2) */
    float *absmax;           /* (blocks) */
    float offset;
    uint8_t *qabsmax;        /* (blocks) */
    float *nested_absmax;    /* (nested) */
    float *absmax_dq;        /* (blocks) dequantized absmax */
    float *dequant;          /* (n) or NULL: dequant with fp32 absmax */
    float *dequant_dq;       /* (n) or NULL: dequant with double-quantized absmax */
} nf4_golden_case;

typedef struct nf4_golden {
    float code[16];
    float dynamic_map[256];
    int n_cases;
    nf4_golden_case *cases;
} nf4_golden;

/* Load from $TB_SOURCE_ROOT/tests/reference/nf4_golden.bin (or the configured source root).
 * Returns false with a reason in why. */
bool nf4_golden_load(nf4_golden *g, char *why, size_t why_size);
void nf4_golden_free(nf4_golden *g);

#endif
