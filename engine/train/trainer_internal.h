/* tunebench — the trainer's inside, shared by its files (not a public header):
 * trainer.c (create, run loop, requests, progress), step.c (optimizer step, eval),
 * checkpoint.c (run folder, checkpoints, resume, roll-back snapshot). */
#ifndef TB_TRAIN_TRAINER_INTERNAL_H
#define TB_TRAIN_TRAINER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "engine/model/params.h"
#include "engine/optim/optim.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/train/health.h"
#include "engine/train/trainer.h"

#define RING 4096

struct tb_trainer {
    tb_train_options o;
    tb_train_callback cb;
    void *cb_ctx;
    /* engine */
    tb_backend *be;
    tb_llama *m;
    tb_tokenizer *tok;
    tb_lora *lora;               /* LoRA mode */
    tb_llama_params full;        /* full mode */
    tb_param_set *params;        /* what trains: lora->params or full.set */
    tb_adamw opt;
    tb_llama_acts acts;
    tb_llama_bwd bwd;
    char base_name[TB_PATH_MAX]; /* the model directory (or the init config) for adapter_config.json */
    tb_dtype base_dtype;         /* stored dtype of the base weights */
    /* data */
    tb_train_data data;
    tb_batch_plan plan, eval_plan;
    int64_t plan_epoch;          /* epoch `plan` was made for; -1 none */
    int32_t pad_id;
    int64_t Tmax;                /* positions per example at most (longest example - 1) */
    int32_t *ids, *targets;      /* (grad_accum, batch, Tmax) host staging */
    int64_t batches_per_epoch, steps_per_epoch, total_steps, warmup;
    /* position: everything a checkpoint must restore */
    int64_t step;                /* optimizer steps done (skipped NaN steps included) */
    int64_t epoch, cursor;       /* the next micro-batch: epoch and batch index in it */
    int64_t tokens_seen;
    double elapsed0;             /* training seconds before this session (resume) */
    double t0;                   /* monotonic start of this session */
    tb_health health;
    int64_t bad_streak, bad_steps, rollbacks, rollback_streak;
    /* logging window */
    double log_loss;
    int64_t log_steps, log_tokens;
    double log_t0;
    double last_lr, last_gn, last_train, last_eval;
    bool stop_early;
    /* roll-back target: the last checkpoint (or the start), host copies */
    float *snap_p, *snap_m, *snap_v;
    int64_t snap_t, snap_step;
    int64_t snap_step0;          /* the step this session started at (ETA) */
    /* the run */
    tb_run_store *store;
    tb_run_info info;
    char run_dir[TB_PATH_MAX];
    int64_t mem_predicted;
    /* shared with other threads, under lock */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    tb_train_progress prog;
    tb_train_metric ring[RING];
    size_t ring_n;               /* entries ever pushed */
    tb_run_event *events;
    size_t n_events, cap_events;
    atomic_int req_stop, req_pause, req_save;
};

double tb_trainer_now(void);                 /* monotonic seconds */
double tb_trainer_elapsed(const tb_trainer *t);
/* Fill t->prog's numbers (call with the lock held) and notify the callback (without). */
void tb_trainer_publish(tb_trainer *t, tb_train_update_kind kind, const tb_train_metric *mt, const tb_run_event *ev,
                        const char *path);
void tb_trainer_event(tb_trainer *t, const char *level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* step.c */
tb_status tb_trainer_step(tb_trainer *t, tb_error *err);
tb_status tb_trainer_eval(tb_trainer *t, double *loss, tb_error *err);
double tb_trainer_lr(const tb_trainer *t, int64_t step);

/* checkpoint.c */
tb_status tb_trainer_write_config(tb_trainer *t, tb_error *err);
tb_status tb_trainer_checkpoint(tb_trainer *t, tb_error *err);
tb_status tb_trainer_load_latest(tb_trainer *t, bool *found, tb_error *err);
tb_status tb_trainer_snapshot(tb_trainer *t, tb_error *err);   /* current state becomes the roll-back target */
tb_status tb_trainer_rollback(tb_trainer *t, tb_error *err);
tb_status tb_trainer_write_result(tb_trainer *t, tb_error *err); /* adapter/ or model/ */

#endif
