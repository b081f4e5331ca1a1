/* tunebench — a before/after evaluation: the same held-out examples through several "sides"
 * (the base model, then base + each adapter), per-example cells, per-side summaries, the
 * general-text regression check, and its text and JSON forms.
 *
 * Collection (engine/eval/run.c, the CLI and the Eval screen) fills the cells; this module
 * only adds up and prints. Side 0 is the reference every delta is taken against. */
#ifndef TB_EVAL_REPORT_H
#define TB_EVAL_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/core/error.h"
#include "engine/eval/judge.h"
#include "engine/eval/metrics.h"

typedef struct tb_eval_cell {
    double nll;              /* summed cross-entropy over the example's trained tokens */
    int64_t tokens;          /* trained tokens (0: loss not measured) */
    char *generated;         /* greedy generation (malloc'd, owned); NULL when not generated */
    bool exact;
    double len_ratio;
    bool judged;             /* the judge ran (judge.ok says whether it scored) */
    tb_judge_scores judge;
} tb_eval_cell;

typedef struct tb_eval_example {
    char *prompt;            /* the instruction (plus input), for people (owned) */
    char *reference;         /* expected response (owned) */
    long line;               /* line of the data file, 0 when unknown */
} tb_eval_example;

typedef struct tb_eval_report {
    char *data_path, *model_path, *general_path, *judge_cmd; /* owned; general/judge NULL when unused */
    int n_sides;
    char **side_names;       /* (n_sides) "base", adapter names */
    int64_t n_examples;
    tb_eval_example *ex;     /* (n_examples) */
    tb_eval_cell *cells;     /* (n_examples * n_sides): cells[e * n_sides + s] */
    tb_eval_summary *sum;    /* (n_sides), by tb_eval_report_finish */
    double *general_ppl;     /* (n_sides) NaN without --general */
    tb_eval_regression *reg; /* (n_sides); reg[0] unused */
    double threshold;
} tb_eval_report;

static inline tb_eval_cell *tb_eval_report_cell(tb_eval_report *r, int64_t e, int s)
{
    return &r->cells[e * r->n_sides + s];
}

/* Sides named names[0..n_sides) and n_examples empty examples (NaN general perplexities). */
tb_status tb_eval_report_init(tb_eval_report *r, int n_sides, const char *const *names, int64_t n_examples,
                              tb_error *err);
void tb_eval_report_free(tb_eval_report *r); /* zeroed or partial reports are fine */

/* Fill a cell's generation metrics from its text (exact, length ratio), taking ownership. */
void tb_eval_cell_set_generation(tb_eval_cell *c, char *generated, const char *reference);

/* Add up the summaries and run the regression check (threshold: relative rise). */
void tb_eval_report_finish(tb_eval_report *r, double threshold);

/* The summary (the tutorial's before_after_comparison table, one row per metric, a delta
 * column per side after the first), the regression lines, then each example: its text, the
 * reference, every side's generation and the per-metric table. */
void tb_eval_report_print(const tb_eval_report *r, FILE *out);
/* The same as JSON (new reference; NaN becomes null). */
json_t *tb_eval_report_json(const tb_eval_report *r);

/* Metrics the report has values for (loss only when measured, judge only when used). */
bool tb_eval_report_has_metric(const tb_eval_report *r, tb_eval_metric m);
/* Per-example value of metric m on side s (NaN when absent). */
double tb_eval_cell_metric(const tb_eval_cell *c, tb_eval_metric m);

#endif
