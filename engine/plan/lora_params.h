/* tunebench — parameter counts with PEFT's conventions.
 *
 * "all params" is what PEFT's print_trainable_parameters() counts: every parameter of the
 * wrapped model once (named_parameters() skips the tied lm_head), LoRA A/B included, 4-bit
 * weights at their unquantized number. Formula: ../shared/reference/FORMATS.md
 * ("Parameter counting"). */
#ifndef TB_PLAN_LORA_PARAMS_H
#define TB_PLAN_LORA_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/lora/targets.h"
#include "engine/model/config.h"

typedef struct tb_lora_count {
    int64_t rank;
    tb_lora_targets targets;
    int64_t base_params;      /* the model alone (tied embeddings once, q/k/v bias included) */
    int64_t trainable;        /* LoRA A + B over all layers */
    int64_t all_params;       /* base_params + trainable: PEFT's "all params" */
    double trainable_percent; /* 100 * trainable / all_params: PEFT's "trainable%" */
    double percent_of_full;   /* 100 * trainable / base_params: share of what full FT trains */
    /* Per module, whether targeted or not (shape is a fact of the model). */
    int64_t in[TB_LORA_MODULE_COUNT], out[TB_LORA_MODULE_COUNT];
    int64_t per_layer[TB_LORA_MODULE_COUNT]; /* R * (in + out) when targeted, else 0 */
    int64_t total[TB_LORA_MODULE_COUNT];     /* per_layer * L */
} tb_lora_count;

/* The model's own parameter count: V*D*(tied ? 1 : 2) + D + L*(linears + 2*D + bias). */
int64_t tb_plan_base_params(const tb_llama_config *cfg);
/* Parameters of the linear weights q..down over all layers (what QLoRA quantizes). */
int64_t tb_plan_linear_params(const tb_llama_config *cfg);

void tb_plan_lora_count(const tb_llama_config *cfg, tb_lora_targets targets, int64_t rank, tb_lora_count *out);

/* PEFT's line, exactly as peft_model.py prints it:
 *   f"trainable params: {trainable_params:,d} || all params: {all_param:,d} || trainable%: {100 * trainable_params / all_param:.4f}"
 * (huggingface/peft src/peft/peft_model.py, PeftModel.print_trainable_parameters). */
void tb_plan_peft_line(int64_t trainable, int64_t all_params, char *buf, size_t size);

/* Python's "{:,d}": 13631488 -> "13,631,488". */
void tb_plan_format_thousands(int64_t v, char *buf, size_t size);

#endif
