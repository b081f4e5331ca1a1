/* Test helper: a model's logits for a batch of token ids (one full forward, no cache). */
#ifndef TB_TEST_MODEL_LOGITS_H
#define TB_TEST_MODEL_LOGITS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/model/llama.h"

/* Logits (B*T, V) of ids (B, T), malloc'd (caller frees); save keeps the activations for
 * backward (TB_ACTS_SAVE) to check that this path gives the same logits. Fails the test on
 * any error. */
float *model_logits(tb_llama *m, const int32_t *ids, int64_t B, int64_t T, bool save);

#endif
