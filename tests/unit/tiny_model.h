/* Test helper: write a tiny random Llama model directory (config.json + safetensors,
 * single file or sharded with an index), optionally broken on purpose. */
#ifndef TB_TEST_TINY_MODEL_H
#define TB_TEST_TINY_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/dtype.h"

typedef struct tiny_spec {
    int64_t D, F, L, H, Hkv, Dh, V;  /* Dh 0: D / H (no head_dim in config.json) */
    bool tied, bias;                 /* tie_word_embeddings; Qwen2 q/k/v bias */
    tb_dtype dtype;                  /* F32, BF16 or F16 */
    int shards;                      /* 0/1: model.safetensors; >1: index + N shards */
    uint64_t seed;
    const char *skip;                /* tensor name to leave out, or NULL */
    const char *reshape;             /* tensor name written with one extra row, or NULL */
    const char *extra;               /* extra config.json fields, e.g. "\"rope_theta\":500000.0", or NULL */
    const char *arch;                /* architectures[0]; NULL: Llama (Qwen2 with bias) */
} tiny_spec;

/* 0 on success. */
int tiny_model_write(const char *dir, const tiny_spec *s);

#endif
