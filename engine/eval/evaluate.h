/* tunebench — one before/after evaluation: every side (the base alone, then base + each
 * adapter of the set) over the same held-out examples: response loss, greedy generation
 * (exact match, length ratio), optionally the LLM judge, and the general-text perplexity.
 * The CLI (`tunebench eval`) and the Eval screen both call this; it fills a tb_eval_report. */
#ifndef TB_EVAL_EVALUATE_H
#define TB_EVAL_EVALUATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/eval/examples.h"
#include "engine/eval/report.h"
#include "engine/lora/adapter_set.h"

typedef struct tb_eval_opts {
    int64_t max_new;               /* greedy tokens per example (0: no generation) */
    const char *judge_cmd;         /* NULL: no judge */
    double judge_timeout_s;
    const int32_t *general;        /* general-text ids, NULL: no regression check */
    int64_t n_general;
    int64_t window;                /* tokens per general-text window */
    double threshold;              /* regression warning: relative perplexity rise */
    /* progress: called after each (side, example); may be NULL */
    void (*progress)(void *ctx, int side, int64_t done, int64_t total);
    void *progress_ctx;
    atomic_bool *cancel;           /* may be NULL */
} tb_eval_opts;

void tb_eval_opts_init(tb_eval_opts *o);

/* Sides: "base" then every adapter of set (set->n + 1 sides). Fills *r (free with
 * tb_eval_report_free); leaves the set with no adapter attached. */
tb_status tb_eval_run(tb_adapter_set *set, const tb_tokenizer *tok, const tb_eval_items *items,
                      const tb_eval_opts *o, tb_eval_report *r, tb_error *err);

#endif
