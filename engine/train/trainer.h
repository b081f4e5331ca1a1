/* tunebench — the trainer: one object that runs a training run for the CLI (`tunebench
 * train`) and for the Train screen's worker thread alike.
 *
 *   tb_train_options o;  tb_train_options_init(&o);  ... fill ...
 *   tb_trainer *t;
 *   if (tb_trainer_create(&t, &o, &err) != TB_OK) ...   // loads and checks EVERYTHING first:
 *                                                       // bad input never reaches compute
 *   tb_trainer_run(t, &err);                            // until finished, stopped or failed
 *   tb_trainer_free(t);
 *
 * Threads: create, run and free on one thread (any thread); tb_trainer_request,
 * tb_trainer_progress, tb_trainer_metrics and tb_trainer_events from any other thread at any
 * time (a lock guards what they read; requests are atomic flags, so a signal handler may
 * call tb_trainer_request). The loop honours requests between optimizer steps. The
 * progress callback runs on the training thread: keep it short.
 *
 * A run lives in OUT/<id>/ (id from the run store OUT/tunebench.db): config.json (every
 * setting, tunebench version, xxh3 hashes of model, tokenizer and data), adapter/ (PEFT
 * layout; full fine-tuning: model/, a Hugging Face model directory), checkpoints/step-N/
 * (weights, AdamW moments, trainer_state.json with step, schedule, RNG counters and data
 * cursor), each written atomically. Resume: options.resume = "OUT/<id>". */
#ifndef TB_TRAIN_TRAINER_H
#define TB_TRAIN_TRAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/io/run_store.h"
#include "engine/model/llama.h"
#include "engine/train/data.h"
#include "engine/train/options.h"

typedef struct tb_trainer tb_trainer;

typedef enum tb_train_state {
    TB_TRAIN_READY = 0,      /* created, not started */
    TB_TRAIN_RUNNING,
    TB_TRAIN_PAUSED,
    TB_TRAIN_SAVING,         /* writing a checkpoint */
    TB_TRAIN_FINISHED,       /* all steps done (or early stopping) */
    TB_TRAIN_STOPPED,        /* stopped on request, checkpoint written */
    TB_TRAIN_FAILED,
} tb_train_state;

const char *tb_train_state_name(tb_train_state s);

typedef enum tb_train_request {
    TB_REQ_PAUSE = 1,
    TB_REQ_RESUME,
    TB_REQ_STOP,             /* finish the step, checkpoint, stop */
    TB_REQ_SAVE,             /* checkpoint after the current step, keep going */
} tb_train_request;

/* One logged point (a metrics-ring entry; also a run-store metrics row). */
typedef struct tb_train_metric {
    int64_t step;
    double epoch;
    double train_loss;       /* mean over the steps since the last log; NaN on eval-only points */
    double eval_loss;        /* NaN when no eval at this step */
    double lr, grad_norm;
    double tokens_per_s;     /* real (non-padding) tokens per second since the last log */
    double elapsed;          /* seconds of training, resumes included */
} tb_train_metric;

typedef struct tb_train_progress {
    tb_train_state state;
    int64_t run_id;
    char run_dir[TB_PATH_MAX];
    char adapter_path[TB_PATH_MAX];   /* final adapter / model directory once written */
    char last_checkpoint[TB_PATH_MAX];
    int64_t step, total_steps;
    double epoch;
    double train_loss, eval_loss;     /* last logged values */
    double best_eval_loss;
    int64_t best_eval_step;
    double lr, grad_norm, tokens_per_s;
    double elapsed, eta;              /* seconds */
    int64_t tokens_seen;              /* real tokens trained on */
    int64_t trainable_params;
    int64_t mem_current, mem_peak;    /* bytes allocated by the engine (accounting allocator) */
    int64_t mem_predicted;            /* the calculator's prediction for these settings */
    int64_t bad_steps, rollbacks;     /* NaN/Inf steps skipped, roll-backs done */
    char alarm[512];                  /* the last alarm, "" when none */
    char message[768];                /* why it stopped or failed */
} tb_train_progress;

typedef enum tb_train_update_kind {
    TB_UPD_LOG = 0,          /* a logging step (metric set) */
    TB_UPD_EVAL,             /* an eval (metric set, eval_loss) */
    TB_UPD_EVENT,            /* an alarm / warning / info (event set) */
    TB_UPD_CHECKPOINT,       /* a checkpoint was written (path set) */
    TB_UPD_STATE,            /* the state changed */
} tb_train_update_kind;

typedef struct tb_train_update {
    tb_train_update_kind kind;
    const tb_train_progress *progress;
    const tb_train_metric *metric;
    const tb_run_event *event;
    const char *path;
} tb_train_update;

typedef void (*tb_train_callback)(void *ctx, const tb_train_update *u);

/* Load the model, tokenizer and data, run the validator on the data (errors stop here
 * unless skip_validation), check every setting, allocate everything, create (or, with
 * resume, reopen) the run. Fails with TB_ERR_INVALID/FORMAT/IO/UNSUPPORTED on unusable
 * input: nothing has been computed then. resume: a run directory "OUT/<id>" whose settings
 * replace o's (o's callback and fault fields are kept). */
tb_status tb_trainer_create(tb_trainer **out, const tb_train_options *o, const char *resume, tb_train_callback cb,
                            void *cb_ctx, tb_error *err);
void tb_trainer_free(tb_trainer *t); /* NULL is fine */

/* Train until finished, stopped or failed; the state and progress say which. A failure of
 * the computation itself (NaN beyond roll-backs, I/O) returns its status. */
tb_status tb_trainer_run(tb_trainer *t, tb_error *err);

void tb_trainer_request(tb_trainer *t, tb_train_request r);
void tb_trainer_progress(tb_trainer *t, tb_train_progress *out);
/* Ring entries with step > after_step (oldest first), at most max; returns how many. The
 * ring keeps the last 4096 points. */
size_t tb_trainer_metrics(tb_trainer *t, int64_t after_step, tb_train_metric *out, size_t max);
/* Events with index >= first (0-based over the run), at most max. */
size_t tb_trainer_events(tb_trainer *t, size_t first, tb_run_event *out, size_t max);

/* The loaded data's statistics (truncation, skipped rows), for reports. */
const tb_data_stats *tb_trainer_data_stats(const tb_trainer *t);
/* The model being trained, with the adapter attached (LoRA): for evaluating or generating
 * with the current weights between runs of the loop (not while tb_trainer_run runs). */
tb_llama *tb_trainer_model(tb_trainer *t);

/* The settings in force (after defaults and resume). */
const tb_train_options *tb_trainer_options(const tb_trainer *t);

#endif
