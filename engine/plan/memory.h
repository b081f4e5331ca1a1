/* tunebench — training memory for full fine-tuning, LoRA and QLoRA on the engine.
 *
 * Pure arithmetic on the model description: weights, trainable LoRA weights, gradients,
 * optimizer moments and activations (engine/plan/activations.c), each mapped to the
 * accounting allocator's category (engine/core/alloc.h) so a run can put the prediction
 * next to what the engine really allocated. */
#ifndef TB_PLAN_MEMORY_H
#define TB_PLAN_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/alloc.h"
#include "engine/core/dtype.h"
#include "engine/lora/targets.h"
#include "engine/model/config.h"
#include "engine/plan/activations.h"

typedef enum tb_train_mode {
    TB_TRAIN_FULL = 0,   /* every weight trainable, f32 master weights */
    TB_TRAIN_LORA,       /* frozen base in its stored dtype */
    TB_TRAIN_QLORA,      /* frozen linears in NF4, fp32 absmax per 64 values */
    TB_TRAIN_QLORA_DQ,   /* NF4 with double-quantized absmax */
    TB_TRAIN_MODE_COUNT
} tb_train_mode;

typedef enum tb_mem_part {
    TB_PART_WEIGHTS = 0, /* base model weights */
    TB_PART_LORA,        /* LoRA A and B (f32) */
    TB_PART_GRADS,       /* gradients of the trainable parameters */
    TB_PART_OPTIMIZER,   /* AdamW first and second moments */
    TB_PART_ACTIVATIONS, /* saved activations and their gradients */
    TB_PART_COUNT
} tb_mem_part;

typedef enum tb_optim_kind {
    TB_OPTIM_ADAMW = 0,  /* two f32 moments per trainable parameter: what the engine does */
    TB_OPTIM_ADAMW_8BIT, /* bitsandbytes-style blockwise 8-bit moments (not in the engine) */
} tb_optim_kind;

typedef struct tb_mem_options {
    int64_t batch, seq;        /* B, T */
    bool checkpointing;
    tb_dtype base_dtype;       /* stored dtype of the frozen base (LoRA modes): F32, BF16, F16 */
    tb_optim_kind optim;
    int64_t rank;              /* LoRA modes */
    tb_lora_targets targets;
} tb_mem_options;

typedef struct tb_mem_estimate {
    tb_train_mode mode;
    uint64_t part[TB_PART_COUNT];
    uint64_t total;
    tb_act_breakdown act;
    int64_t trainable_params;
    uint64_t quantized_bytes;  /* QLoRA: the NF4 linears alone */
    double quantized_bits;     /* ... per quantized weight, exactly for this model's shapes */
} tb_mem_estimate;

void tb_plan_memory(const tb_llama_config *cfg, tb_train_mode mode, const tb_mem_options *opt, tb_mem_estimate *out);

/* Bytes of one NF4 tensor of n values as the engine stores it: two 4-bit codes per byte,
 * one absmax per 64-value block: fp32, or (double quantization) 8-bit with an fp32 scale
 * per 256 blocks and one fp32 offset. The 16-entry code book and the 256-entry 8-bit map
 * are shared constants, not per tensor. */
uint64_t tb_plan_nf4_bytes(int64_t n, bool double_quant);
/* Bits per weight for large tensors: 4 + 32/64 = 4.5; 4 + 8/64 + 32/(64*256) = 4.126953125. */
double tb_plan_nf4_bits(bool double_quant);

/* Bytes of the AdamW moments for n trainable parameters. */
uint64_t tb_plan_optimizer_bytes(int64_t n, tb_optim_kind optim);

tb_mem_category tb_mem_part_category(tb_mem_part p);
const char *tb_mem_part_name(tb_mem_part p);     /* "weights", "lora", "gradients", ... (JSON keys) */
const char *tb_mem_part_label(tb_mem_part p);    /* "Weights", "LoRA A/B", ... */
const char *tb_train_mode_name(tb_train_mode m); /* "full", "lora", "qlora", "qlora_dq" */
const char *tb_train_mode_label(tb_train_mode m);/* "Full FT", "LoRA", "QLoRA nf4", "QLoRA nf4+dq" */

/* The assumptions behind these numbers, one sentence each; returns how many (<= max). */
int tb_plan_memory_assumptions(const tb_mem_options *opt, const char **out, int max);

#endif
