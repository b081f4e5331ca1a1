/* tunebench — what a run will do, computed without running it: the validator's verdict on
 * its data, the data pipeline's options, the step count and the memory the calculator
 * predicts for it. tb_trainer_create and the Train screen's preflight share these, so the
 * form shows the numbers the trainer will use and refuses what the trainer would. */
#ifndef TB_TRAIN_PLAN_H
#define TB_TRAIN_PLAN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/plan/memory.h"
#include "engine/train/data.h"
#include "engine/train/options.h"

typedef struct tb_data_verdict {
    long rows, eval_rows;        /* records read (training file, eval file) */
    long errors, warnings;       /* validator findings by severity */
} tb_data_verdict;

/* Run the validator on o's data (and eval file) the way training does. Findings of error
 * severity: TB_ERR_INVALID, err->field "data", the message lists the first three with
 * their lines. A file that cannot be read: the validator's error. map: o->map parsed
 * (NULL when none); cancel may be NULL. out is filled whenever the file was read. */
tb_status tb_train_validate_data(const tb_train_options *o, const tb_field_map *map, atomic_bool *cancel,
                                 tb_data_verdict *out, tb_error *err);

/* The data pipeline's options for o on a model with config cfg. The strings stay o's. */
tb_data_opts tb_train_data_opts(const tb_train_options *o, const tb_llama_config *cfg, const tb_field_map *map);

typedef struct tb_train_plan {
    int64_t batches_per_epoch, steps_per_epoch, total_steps, warmup;
    int64_t seq;                 /* T: positions of the longest example (its tokens - 1) */
    tb_mem_estimate mem;         /* the calculator's prediction for these settings */
} tb_train_plan;

/* Steps and memory for n_train examples whose longest (after the max-len cut) has `longest`
 * tokens; base_dtype is the stored dtype of the base weights. */
void tb_train_plan_make(const tb_train_options *o, const tb_llama_config *cfg, tb_dtype base_dtype, int64_t n_train,
                        int64_t longest, tb_train_plan *out);

#endif
