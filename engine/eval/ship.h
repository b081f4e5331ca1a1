/* tunebench — shipping an adapter: merged into its base (with the proof that the merge is
 * exact: the largest logits difference to base + adapter on a fixed token sequence) or
 * exported for llama.cpp. One implementation for `tunebench merge` / `export` and the Eval
 * screen's actions. */
#ifndef TB_EVAL_SHIP_H
#define TB_EVAL_SHIP_H

#include <stdbool.h>

#include "engine/lora/gguf_export.h"
#include "engine/lora/lora.h"
#include "engine/lora/merge.h"
#include "engine/model/llama.h"

typedef struct tb_ship_merge_result {
    tb_lora_merge_info info;
    bool measured;           /* the logits check ran */
    double max_diff;         /* max |logits(merged) - logits(base + adapter)| */
    int64_t positions, vocab;
    char why_not[512];       /* when not measured */
} tb_ship_merge_result;

/* Merge lo into a copy of model_dir at out (dtype f32/bf16), then run the merged model and
 * base + lo on the same tokens. base: the resident base model (lo must fit it), or NULL to
 * load model_dir on be for the check. A failed check is reported in res, not as an error. */
tb_status tb_ship_merge(const char *model_dir, tb_lora *lo, tb_llama *base, tb_backend *be, tb_dtype dtype,
                        const char *out, tb_ship_merge_result *res, tb_error *err);

/* Export lo (an adapter for the model described by cfg) as a GGUF LoRA adapter. */
tb_status tb_ship_export(const tb_llama_config *cfg, tb_lora *lo, uint32_t ggml_type, const char *path,
                         tb_lora_gguf_info *info, tb_error *err);

#endif
