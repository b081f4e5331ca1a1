/* tunebench — the size of a PEFT adapter file, and the highest rank within a budget.
 *
 * Exact to the byte: the size is that of adapter_model.safetensors as PEFT writes it (PEFT
 * key names, lora_A [R, in] / lora_B [out, R], metadata {"format": "pt"}), computed by the
 * project's own safetensors writer (tb_safetensors_file_size) on the layout the trainer
 * writes (tb_lora_layout_build), so calculator and adapter cannot disagree. */
#ifndef TB_PLAN_ADAPTER_SIZE_H
#define TB_PLAN_ADAPTER_SIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/dtype.h"
#include "engine/core/error.h"
#include "engine/lora/targets.h"
#include "engine/model/config.h"

/* Bytes of adapter_model.safetensors for these targets, rank and adapter dtype. */
tb_status tb_plan_adapter_bytes(const tb_llama_config *cfg, tb_lora_targets targets, int64_t rank, tb_dtype dtype,
                                uint64_t *bytes, tb_error *err);

typedef struct tb_budget_result {
    uint64_t budget_bytes;
    int64_t rank;          /* highest rank whose file fits; 0 when not even rank 1 fits */
    uint64_t bytes;        /* that file's size (0 when rank is 0) */
    uint64_t rank1_bytes;  /* size at rank 1: the smallest adapter these targets can have */
    int64_t max_rank;      /* the search's upper end: min(in, out) over targeted modules */
    bool capped;           /* the budget would allow more than max_rank */
} tb_budget_result;

/* Largest rank in [1, max_rank] whose adapter file is at most budget_bytes. The size
 * grows with the rank, so a binary search needs about log2(max_rank) sizes. */
tb_status tb_plan_max_rank_for_budget(const tb_llama_config *cfg, tb_lora_targets targets, tb_dtype dtype,
                                      uint64_t budget_bytes, tb_budget_result *out, tb_error *err);

#endif
