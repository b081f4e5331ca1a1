/* tunebench — loss curves of runs, read incrementally from the run store for live plots.
 *
 * Each poll reads only rows after the last step seen, plus that last step again: a trainer
 * writes a step's train row first and merges its eval loss into the same row afterwards
 * (tb_run_store_append_metrics upserts), so the last row read may still gain a value. */
#ifndef TB_TUI_RUN_CURVES_H
#define TB_TUI_RUN_CURVES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/io/run_store.h"

typedef struct tb_run_curve {
    int64_t id;
    size_t n, cap;
    double *step;          /* (n) increasing */
    double *train;         /* (n) train loss, NaN where none */
    double *eval;          /* (n) eval loss, NaN where no eval at that step */
    double *lr;            /* (n) learning rate at the step */
    double *grad_norm;     /* (n) gradient norm (before clipping) */
} tb_run_curve;

typedef struct tb_run_curves {
    tb_run_curve *items;
    size_t n, cap;
} tb_run_curves;

/* Merge rows (step order, steps >= the curve's last step) into the curve: a row for a step
 * already there updates it (NaN fields keep the old value), later steps append. Returns
 * false when out of memory (the curve keeps what fit). *changed says whether anything did. */
bool tb_run_curve_merge(tb_run_curve *c, const tb_metric_row *rows, size_t n, bool *changed);
/* Free one curve's columns (a curve kept outside tb_run_curves); it becomes empty. */
void tb_run_curve_free(tb_run_curve *c);

/* The curve of run id, created empty when absent; NULL when out of memory. */
tb_run_curve *tb_run_curves_get(tb_run_curves *cs, int64_t id);
/* Read what is new for run id; *changed when the curve changed. */
tb_status tb_run_curves_refresh(tb_run_curves *cs, tb_run_store *rs, int64_t id, bool *changed, tb_error *err);
void tb_run_curves_free(tb_run_curves *cs);

/* Lowest eval loss and its step; false when the curve has no eval yet. */
bool tb_run_curve_best_eval(const tb_run_curve *c, double *step, double *loss);

#endif
