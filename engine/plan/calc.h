/* tunebench — the LoRA calculator: everything the Calc screen and `tunebench calc` show,
 * from one model description and one set of choices, in one pure call.
 *
 * Exact where exactness is possible (parameter counts, adapter file bytes, rank for a
 * budget, NF4 weight bytes), an explicit model where it is not (activations; see
 * engine/plan/activations.c), with the assumptions listed alongside. */
#ifndef TB_PLAN_CALC_H
#define TB_PLAN_CALC_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/error.h"
#include "engine/plan/adapter_size.h"
#include "engine/plan/lora_params.h"
#include "engine/plan/memory.h"

#define TB_CALC_MAX_RANKS 16
#define TB_CALC_MAX_ASSUMPTIONS 12

/* The adapter dtypes, in output order. */
enum { TB_CALC_F32 = 0, TB_CALC_BF16, TB_CALC_F16, TB_CALC_DTYPE_COUNT };
extern const tb_dtype tb_calc_dtypes[TB_CALC_DTYPE_COUNT];

typedef struct tb_calc_input {
    tb_llama_config cfg;
    int64_t rank;                       /* R for the counts and the memory table */
    double alpha;                       /* LoRA alpha: only reported (scale = alpha / R) */
    tb_lora_targets targets;
    tb_dtype adapter_dtype;             /* for the budget and the rank table */
    int64_t ranks[TB_CALC_MAX_RANKS];   /* the sweep */
    int n_ranks;
    tb_mem_options mem;                 /* batch, seq, checkpointing, base dtype, optimizer (rank/targets copied) */
    bool has_budget;
    uint64_t budget_bytes;
} tb_calc_input;

typedef struct tb_calc_rank_row {
    int64_t rank;
    int64_t trainable;
    double percent_of_full;             /* trainable / base params, % */
    uint64_t adapter_bytes;             /* in the chosen adapter dtype */
    uint64_t lora_total;                /* LoRA training memory at this rank */
    int64_t savings_vs_full;            /* full FT total - LoRA total, bytes */
    bool budget_best;                   /* the highest rank the budget allows */
    bool chosen;                        /* == input rank */
} tb_calc_rank_row;

typedef struct tb_calc_result {
    tb_lora_count count;
    char peft_line[192];
    uint64_t adapter_bytes[TB_CALC_DTYPE_COUNT];
    tb_mem_estimate mem[TB_TRAIN_MODE_COUNT];
    bool has_budget;
    tb_budget_result budget;
    tb_calc_rank_row rows[TB_CALC_MAX_RANKS + 2];
    int n_rows;
    const char *assumptions[TB_CALC_MAX_ASSUMPTIONS];
    int n_assumptions;
} tb_calc_result;

/* Defaults: r 16, alpha 32, q,k,v,o, bf16 adapter, ranks 4,8,16,32,64, batch 4, seq 512,
 * no checkpointing, AdamW; cfg zeroed (the caller fills it, base dtype follows it). */
void tb_calc_input_defaults(tb_calc_input *in);

/* Check the input (the config with tb_llama_config_validate, then rank, targets, batch,
 * seq, ranks) and compute everything. Errors name the field: a config.json field, or one
 * of "rank", "ranks", "targets", "batch", "seq", "dtype". */
tb_status tb_calc_run(const tb_calc_input *in, tb_calc_result *out, const char *source, tb_error *err);

/* "16", "4,8,16" (1..65536, at most TB_CALC_MAX_RANKS, strictly positive). */
tb_status tb_calc_parse_ranks(const char *text, int64_t *ranks, int *n, tb_error *err);

#endif
