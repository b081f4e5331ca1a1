/* tunebench — every setting of a training run: one struct that the CLI flags, the Train
 * screen's form and a run's config.json all fill, with Hugging Face TrainingArguments'
 * names and defaults where they exist (lr 2e-4 for LoRA, 3 epochs, per-device batch 4,
 * gradient accumulation 4, warmup ratio 0.03, cosine schedule, max_grad_norm 1.0).
 *
 * tb_train_options_check says why a setting is rejected (err->field is the flag name
 * without dashes, e.g. "lr"), before anything is loaded; tb_train_options_check_model adds
 * what needs the model's shapes (rank > min(in, out), max_len > context). */
#ifndef TB_TRAIN_OPTIONS_H
#define TB_TRAIN_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "datasets/row.h"
#include "datasets/template.h"
#include "engine/backend/backend.h"
#include "engine/lora/targets.h"
#include "engine/model/config.h"
#include "engine/optim/optim.h"
#include "engine/plan/memory.h"

#define TB_PATH_MAX 1024

typedef struct tb_train_options {
    /* inputs and outputs (strings are copied into the struct) */
    char model[TB_PATH_MAX];        /* --model DIR: Hugging Face model directory */
    char init_config[TB_PATH_MAX];  /* --init-config FILE: train from scratch, random init (full mode) */
    char tokenizer[TB_PATH_MAX];    /* --tokenizer DIR|FILE: default the model directory */
    char data[TB_PATH_MAX];         /* --data FILE */
    char eval[TB_PATH_MAX];         /* --eval FILE */
    char out[TB_PATH_MAX];          /* --out DIR: the runs folder (default "runs") */
    char name[128];                 /* --name: the run's name (default: model + data) */
    tb_train_mode mode;             /* --mode lora|full */
    /* LoRA */
    int64_t rank;                   /* --rank (16) */
    double alpha;                   /* --alpha (2 * rank when 0) */
    double dropout;                 /* --dropout (0) */
    bool rslora;                    /* --rslora */
    tb_lora_targets targets;        /* --targets (q,k,v,o) */
    /* data */
    tb_dataset_format format;       /* --format */
    char map[256];                  /* --map instruction=question,... */
    tb_template_kind template_kind; /* --template (by row shape) */
    bool train_on_inputs;           /* --train-on-inputs */
    int64_t max_len;                /* --max-len (0: min(1024, the model's context)) */
    double eval_split;              /* --eval-split (0; 0.1 is typical) */
    bool packed;                    /* --packed: plain text, packed blocks (pretraining) */
    bool group_by_length;           /* --no-group-by-length turns it off */
    bool skip_validation;           /* --skip-validation: train despite validator errors */
    /* optimization */
    double lr;                      /* --lr (2e-4 LoRA, 5e-5 full when 0) */
    double weight_decay;            /* --weight-decay (0) */
    double adam_beta1, adam_beta2, adam_eps;
    double max_grad_norm;           /* --max-grad-norm (1.0; 0 = off) */
    tb_schedule_kind schedule;      /* --schedule (cosine) */
    double warmup_ratio;            /* --warmup-ratio (0.03) */
    int64_t warmup_steps;           /* --warmup-steps (0: from the ratio) */
    double epochs;                  /* --epochs (3) */
    int64_t max_steps;              /* --max-steps (0: from epochs) */
    int64_t batch;                  /* --batch (4, per device) */
    int64_t grad_accum;             /* --grad-accum (4) */
    bool checkpointing;             /* --checkpointing (gradient checkpointing) */
    /* cadence */
    int64_t logging_steps;          /* --logging-steps (10) */
    int64_t eval_steps;             /* --eval-steps (50) */
    int64_t save_steps;             /* --save-steps (500) */
    int64_t save_total_limit;       /* --save-total-limit (2; 0 keeps all) */
    int64_t early_stopping_patience;/* --early-stopping-patience (0 = off): evals without improvement */
    double early_stopping_threshold;/* --early-stopping-threshold (0) */
    int64_t overfit_evals;          /* evals of rising eval loss (with falling train loss) that raise the alarm (3) */
    int64_t nan_patience;           /* bad (NaN/Inf) steps in a row before rolling back (3) */
    uint64_t seed;                  /* --seed (42) */
    tb_dtype save_dtype;            /* --save-dtype: adapter f32 (PEFT's), full model: the base's */
    /* engine */
    char backend[16];               /* --backend (cpu) */
    tb_backend_options be;          /* --threads, --precision */
    /* tests only: make step N's loss NaN (0 = never), and die (SIGKILL) inside the write of
     * checkpoint N (0 = never) */
    int64_t fault_nan_step, fault_nan_count, fault_kill_checkpoint;
} tb_train_options;

void tb_train_options_init(tb_train_options *o);
/* Values that cannot work, whatever the model; err->field names the flag. */
tb_status tb_train_options_check(const tb_train_options *o, tb_error *err);
/* Settings the model's shapes rule out (rank, max_len vs context, targets). */
tb_status tb_train_options_check_model(const tb_train_options *o, const tb_llama_config *cfg, tb_error *err);

/* Effective values (0 means "default" in the struct). */
double tb_train_options_lr(const tb_train_options *o);
double tb_train_options_alpha(const tb_train_options *o);
int64_t tb_train_options_max_len(const tb_train_options *o, const tb_llama_config *cfg);

/* The options as JSON text (every setting, the run's config.json "settings") and back.
 * Caller frees the text. from_json starts from defaults and reads what is there. */
char *tb_train_options_to_json(const tb_train_options *o);
tb_status tb_train_options_from_json(tb_train_options *o, const char *text, const char *path, tb_error *err);

#endif
