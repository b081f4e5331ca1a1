/* tunebench — the Eval screen's worker thread: it owns the resident model (and, once loaded,
 * its adapters), runs one job at a time (load, generate, evaluate ...) and posts what it
 * produces under a mutex, so the UI thread only ever copies snapshots and stays responsive.
 *
 * Generation streams: each side (the base, then each adapter) decodes its tokens as they
 * come and appends the new text to its pane; `dirty` tells the screen's tick to redraw. */
#ifndef TB_TUI_EVAL_WORKER_H
#define TB_TUI_EVAL_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/core/error.h"
#include "engine/model/generate.h"

#define TB_EW_MAX_SIDES 5          /* base + 4 adapters side by side */

typedef enum tb_ew_job {
    TB_EW_NONE = 0,
    TB_EW_LOAD,                    /* load the base model + tokenizer */
    TB_EW_LOAD_ADAPTER,            /* a PEFT adapter onto the resident base */
    TB_EW_GENERATE,                /* the prompt through every side */
    TB_EW_EVAL,                    /* before/after on a data file */
    TB_EW_MERGE,                   /* merge adapter `target` into a copy of the base */
    TB_EW_EXPORT,                  /* adapter `target` as a GGUF LoRA adapter */
} tb_ew_job;

typedef struct tb_ew_side {
    char name[256];                /* "base", or the adapter's short name */
    char path[4096];               /* the adapter directory ("" for the base) */
    char *text;                    /* generated so far (malloc'd) */
    size_t len, cap;
    int64_t tokens;
    double seconds;                /* decode wall time */
    bool done, running;
} tb_ew_side;

typedef struct tb_ew_settings {
    tb_sampler_opts sampler;
    int64_t max_new;
    int template_kind;             /* 0 alpaca, 1 chatml, 2 raw text */
} tb_ew_settings;

typedef struct tb_eval_worker {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    tb_ew_job job;                 /* requested, TB_EW_NONE when idle */
    bool busy, quit;
    char model_dir[4096];
    bool model_loaded;
    char model_info[256];          /* "2 layers, D 32, V 320, f32" */
    char prompt[4096];
    tb_ew_settings settings;
    tb_ew_side sides[TB_EW_MAX_SIDES];
    int n_sides;
    char status[256];              /* one line: what the worker is doing / did */
    char error[1024];              /* set when a job failed; the screen shows it and clears it */
    char info_title[64], info[1024]; /* a finished merge/export: shown once, then cleared */
    /* job arguments */
    char arg_path[4096], arg_path2[4096];
    int target;                    /* adapter index (0-based) for MERGE / EXPORT */
    int64_t eval_limit, eval_max_new;
    /* evaluation: progress, then the report as text (owned; the screen copies it) */
    int eval_side;
    int64_t eval_done, eval_total;
    char *report_text;
    size_t report_len;
    bool report_new;
    double switch_us;              /* the last adapter switch, microseconds */
    atomic_bool cancel;            /* stop the current generation */
    atomic_bool dirty;             /* new text or state: redraw */
    void *priv;                    /* model, tokenizer, backend (eval_worker.c) */
} tb_eval_worker;

tb_status tb_eval_worker_start(tb_eval_worker *w, tb_error *err);
void tb_eval_worker_stop(tb_eval_worker *w); /* cancels, joins, frees; safe when never started */

/* Ask for a job (false when one runs). GENERATE uses `prompt` and `settings` as given. */
bool tb_eval_worker_load(tb_eval_worker *w, const char *model_dir);
bool tb_eval_worker_generate(tb_eval_worker *w, const char *prompt, const tb_ew_settings *s);
bool tb_eval_worker_load_adapter(tb_eval_worker *w, const char *dir);
/* Evaluate base + every adapter on data (at most limit examples, max_new greedy tokens);
 * general: plain text for the regression check, NULL for none. */
bool tb_eval_worker_evaluate(tb_eval_worker *w, const char *data, const char *general, int64_t limit, int64_t max_new);
bool tb_eval_worker_merge(tb_eval_worker *w, int adapter, const char *out_dir);
bool tb_eval_worker_export(tb_eval_worker *w, int adapter, const char *gguf_path);
bool tb_eval_worker_busy(tb_eval_worker *w);

#endif
