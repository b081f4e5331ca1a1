/* tunebench — a training run on a worker thread, watched from the UI thread.
 *
 * The worker creates the trainer (loading and checking everything: slow, so not on the UI
 * thread), runs it, and when the run has ended waits for the UI to take its last reading
 * before it frees the trainer: create, run and free stay on one thread as trainer.h asks.
 * The UI thread collects (tb_train_job_collect: progress, new metric points, new events)
 * into plain data that drawing only reads (STYLE.md rule 8). Requests (pause, resume,
 * stop, save) go straight to the trainer's atomic flags. */
#ifndef TB_TUI_TRAIN_JOB_H
#define TB_TUI_TRAIN_JOB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "engine/train/trainer.h"
#include "tui/run_curves.h"
#include "tui/train_alarms.h"

typedef enum tb_job_phase {
    TB_JOB_IDLE = 0,         /* never started, or finished and joined */
    TB_JOB_PREPARING,        /* tb_trainer_create: loading the model, validating, tokenizing */
    TB_JOB_TRAINING,         /* tb_trainer_run */
    TB_JOB_ENDED,            /* the worker is done (or waits for tb_train_job_finish) */
} tb_job_phase;

typedef struct tb_train_job {
    tb_train_options o;
    pthread_t thread;
    bool thread_live;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_int phase;        /* tb_job_phase */
    atomic_bool stop_early;  /* stop asked for while preparing */
    tb_trainer *t;           /* under lock: set once created, NULL once freed */
    bool release;            /* under lock: the UI took its last reading */
    tb_status create_status, run_status;
    tb_error err;            /* why create or run failed */
} tb_train_job;

/* What the screen draws, collected on the UI thread. */
typedef struct tb_train_live {
    bool have;               /* a trainer existed: prog and the rest are a run's */
    tb_train_progress prog;
    tb_run_curve curve;      /* step, train loss, eval loss, lr, grad norm */
    tb_run_event *events;    /* the run log, in order */
    size_t n_events, cap_events;
    tb_alarm_banner banner;
    double started;          /* monotonic seconds at tb_train_job_start */
} tb_train_live;

void tb_train_job_init(tb_train_job *j);
/* Start a run with these options (copied). Fails only when no thread can start. */
tb_status tb_train_job_start(tb_train_job *j, const tb_train_options *o, tb_error *err);
tb_job_phase tb_train_job_phase(tb_train_job *j);
/* Whether the worker is alive (preparing, training, or waiting for finish). */
bool tb_train_job_busy(tb_train_job *j);
void tb_train_job_request(tb_train_job *j, tb_train_request r);
/* Read what is new into live; true when anything changed. Call it once more after the
 * phase turned ENDED, then tb_train_job_finish. */
bool tb_train_job_collect(tb_train_job *j, tb_train_live *live);
/* Let the worker free the trainer and join it (blocks until the run has ended: request
 * TB_REQ_STOP first to end it early). The job can start again afterwards. */
void tb_train_job_finish(tb_train_job *j);
void tb_train_job_destroy(tb_train_job *j); /* stops a live run (checkpoint first) and joins */

void tb_train_live_reset(tb_train_live *l);
void tb_train_live_free(tb_train_live *l);

#endif
