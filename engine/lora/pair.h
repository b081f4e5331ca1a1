/* tunebench — one adapted linear as host memory: what the exporters (GGUF, merge) read.
 * Whoever holds an adapter (a loaded PEFT directory, a trainer) hands these out. */
#ifndef TB_LORA_PAIR_H
#define TB_LORA_PAIR_H

#include <stdint.h>

#include "engine/lora/targets.h"

typedef struct tb_lora_pair {
    int64_t layer;
    tb_lora_module module;
    const float *a;   /* (R, in)  lora_A, torch layout */
    const float *b;   /* (out, R) lora_B */
} tb_lora_pair;

#endif
