/* tunebench — the run store: SQLite database runs/tunebench.db (WAL mode).
 *
 * One writer (the training process) and any number of readers (the workbench, `tunebench
 * runs`, another terminal) at once: WAL lets readers see committed rows while a run trains,
 * busy_timeout absorbs brief lock contention. The UI attaches to any run by reading here. */
#ifndef TB_IO_RUN_STORE_H
#define TB_IO_RUN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"

typedef struct tb_run_store tb_run_store;

typedef enum tb_run_status {
    TB_RUN_CREATED = 0,
    TB_RUN_RUNNING,
    TB_RUN_PAUSED,
    TB_RUN_FINISHED,
    TB_RUN_STOPPED,    /* stopped by the user, checkpoint written */
    TB_RUN_FAILED,
    TB_RUN_STATUS_COUNT
} tb_run_status;

/* A run's row; numbers are NaN / -1 when not known yet. */
typedef struct tb_run_info {
    int64_t id;
    char name[128];
    tb_run_status status;
    char mode[16];             /* "lora", "qlora", "full" */
    char run_dir[1024];
    char adapter_path[1024];
    char *config_json;         /* malloc'd; freed by tb_run_info_free_list */
    double started, ended;     /* unix seconds; ended NaN while running */
    double updated;            /* last write by the trainer (heartbeat) */
    int64_t pid;               /* trainer process, for "is it still alive" */
    int64_t rank, total_steps, last_step, best_eval_step;
    double alpha, lr, epochs;
    int64_t batch;
    int64_t trainable_params, peak_mem_bytes, adapter_bytes;
    double best_eval_loss, final_eval_loss, final_train_loss, tokens_per_s, wall_time;
} tb_run_info;

/* One logging step. eval_loss NaN when no eval happened at this step. */
typedef struct tb_metric_row {
    int64_t step;
    double epoch, train_loss, eval_loss, lr, grad_norm, tokens_per_s, wall_time;
} tb_metric_row;

typedef struct tb_run_event {
    int64_t step;
    double time;
    char level[16];            /* "info", "warning", "alarm" */
    char message[512];
} tb_run_event;

/* Open (creating dirs, the file and the schema when missing). readonly opens an existing
 * file for reading only (fails if absent). */
tb_status tb_run_store_open(tb_run_store **out, const char *db_path, bool readonly, tb_error *err);
void tb_run_store_close(tb_run_store *rs); /* NULL is fine */
const char *tb_run_store_path(const tb_run_store *rs);

/* Writer side. */
tb_status tb_run_store_create(tb_run_store *rs, const tb_run_info *info, int64_t *id, tb_error *err);
tb_status tb_run_store_update(tb_run_store *rs, const tb_run_info *info, tb_error *err); /* by info->id */
tb_status tb_run_store_set_status(tb_run_store *rs, int64_t id, tb_run_status st, tb_error *err);
/* Insert or replace rows (same step twice: the later values win, NaN fields keep the old). */
tb_status tb_run_store_append_metrics(tb_run_store *rs, int64_t id, const tb_metric_row *rows, size_t n,
                                      tb_error *err);
tb_status tb_run_store_add_event(tb_run_store *rs, int64_t id, const tb_run_event *ev, tb_error *err);

/* Reader side. Lists are malloc'd arrays; free with tb_run_info_free_list / free().
 * last_step, best/final losses, best_eval_step, tokens_per_s and wall_time that the runs row
 * leaves unknown are derived from the metrics, so a live run shows its progress. */
tb_status tb_run_store_list(tb_run_store *rs, tb_run_info **runs, size_t *n, tb_error *err);
tb_status tb_run_store_get(tb_run_store *rs, int64_t id, tb_run_info *out, tb_error *err); /* out->config_json malloc'd */
/* Rows with step > after_step, in step order (incremental polling for live plots). */
tb_status tb_run_store_metrics(tb_run_store *rs, int64_t id, int64_t after_step, tb_metric_row **rows, size_t *n,
                               tb_error *err);
tb_status tb_run_store_events(tb_run_store *rs, int64_t id, tb_run_event **events, size_t *n, tb_error *err);
void tb_run_info_free_list(tb_run_info *runs, size_t n);
/* Whether another connection committed since the last call (PRAGMA data_version: no table
 * read, cheap enough for every UI tick). The first call says true. */
tb_status tb_run_store_poll(tb_run_store *rs, bool *changed, tb_error *err);

/* A run that says running/paused while its trainer process (pid) is gone: it crashed or was
 * killed before recording its end. False when no pid is recorded. */
bool tb_run_is_stale(const tb_run_info *r);
/* tb_run_status_name, or "stale" for a stale run: what tables show. */
const char *tb_run_display_status(const tb_run_info *r);

const char *tb_run_status_name(tb_run_status st);
bool tb_run_status_parse(const char *name, tb_run_status *out);
/* A blank info: numbers NaN / -1, status CREATED. */
void tb_run_info_init(tb_run_info *info);

#endif
