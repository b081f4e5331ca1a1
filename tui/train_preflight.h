/* tunebench — the Train form's preflight: what the trainer would say about these settings,
 * found before anything trains.
 *
 * Two halves. tb_train_preflight_run is the slow one (open the model directory, load the
 * tokenizer, run the validator, tokenize the data: what tb_trainer_create does before it
 * allocates anything) and runs on a worker thread whenever the model or data inputs change.
 * tb_train_assess is instant: the option checks, the model checks and the plan (steps,
 * memory) from the last preflight, on every keystroke. Both call the engine's own checks
 * (engine/train/options.h, plan.h), so a refusal here is the trainer's refusal. */
#ifndef TB_TUI_TRAIN_PREFLIGHT_H
#define TB_TUI_TRAIN_PREFLIGHT_H

#include <stdatomic.h>
#include <stdbool.h>

#include "engine/train/plan.h"

typedef struct tb_train_preflight {
    bool done;                       /* ran (possibly failing) for the key below */
    /* the key: the inputs the slow half depends on */
    char model[TB_PATH_MAX], data[TB_PATH_MAX], eval[TB_PATH_MAX];
    int64_t max_len;
    double eval_split;
    uint64_t seed;
    /* the model directory */
    tb_status model_status;          /* TB_OK: cfg and base_dtype are valid */
    tb_error model_err;
    tb_llama_config cfg;
    tb_dtype base_dtype;             /* stored dtype of the embedding (what the trainer plans with) */
    /* the data (with this model's tokenizer) */
    tb_status data_status;           /* TB_OK: the trainer would load it */
    tb_error data_err;
    tb_data_verdict verdict;
    tb_data_stats stats;
    int64_t n_train, n_eval;         /* examples after the split and the max-len cut */
    int64_t longest;                 /* tokens of the longest example after the cut */
} tb_train_preflight;

/* Set p's key from o (what tb_train_preflight_run does first). */
void tb_train_preflight_set_key(tb_train_preflight *p, const tb_train_options *o);
/* Whether p's key is o's: the model half only / all of it (whether it ran: p->done). */
bool tb_train_preflight_model_matches(const tb_train_preflight *p, const tb_train_options *o);
bool tb_train_preflight_matches(const tb_train_preflight *p, const tb_train_options *o);

/* The slow half. cancel (may be NULL) stops the validator early: out->data_status is then
 * TB_ERR_CANCELLED. */
void tb_train_preflight_run(const tb_train_options *o, atomic_bool *cancel, tb_train_preflight *out);

#define TB_TRAIN_MAX_REFUSALS 4

typedef struct tb_train_refusal {
    char flag[64];                   /* the flag it is about ("rank", "data"), "" when none */
    char message[1100];              /* what is wrong, as the trainer says it */
} tb_train_refusal;

typedef struct tb_train_assessment {
    tb_train_refusal refusals[TB_TRAIN_MAX_REFUSALS];
    int n_refusals;                  /* 0: the trainer would start */
    bool pending;                    /* the preflight for these inputs has not finished */
    bool has_plan;                   /* plan is valid (model and data known) */
    tb_train_plan plan;
} tb_train_assessment;

/* p may be NULL or not done (nothing known yet) or for other inputs (its matching halves
 * are used). */
void tb_train_assess(const tb_train_options *o, const tb_train_preflight *p, tb_train_assessment *out);

#endif
