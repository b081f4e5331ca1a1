/* tunebench — which run to keep: performance weighed against efficiency.
 *
 * The rule (issue 7, "Recommend"): take the smallest run (fewest trainable parameters) as
 * the reference. A run with more than 2x its trainable parameters that improves the best
 * eval loss by less than 5% over it is penalized: it costs more to train, store and serve
 * for a gain that is within run-to-run noise. The pick is the lowest best eval loss among
 * the runs not penalized. The smallest run itself is never penalized, so whenever any run
 * has an eval loss there is a pick. Pure: no I/O; the Runs screen and `tunebench runs
 * --compare` both call it and show its reasons verbatim. */
#ifndef TB_PLAN_RECOMMEND_H
#define TB_PLAN_RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"

#define TB_RECOMMEND_PARAM_RATIO 2.0   /* "more than 2x the trainable parameters" */
#define TB_RECOMMEND_MIN_GAIN 0.05     /* "improves eval loss by less than 5%" */

/* What recommend() needs to know about a run. */
typedef struct tb_recommend_run {
    int64_t id;
    const char *name;           /* borrowed; may be NULL */
    int64_t trainable_params;   /* <= 0 = unknown */
    double best_eval_loss;      /* NaN/Inf = no eval yet */
} tb_recommend_run;

typedef enum tb_recommend_verdict {
    TB_REC_KEPT = 0,       /* competes on eval loss */
    TB_REC_PENALIZED,      /* > 2x the smallest's parameters for < 5% better eval loss */
    TB_REC_UNSIZED,        /* eval loss known, trainable parameters unknown: eval loss alone */
    TB_REC_NO_EVAL,        /* no usable eval loss: not considered */
} tb_recommend_verdict;

typedef struct tb_recommend_entry {
    tb_recommend_verdict verdict;
    double param_ratio;    /* trainable params / the smallest's; NaN when unknown */
    double gain;           /* (smallest's loss - this loss) / smallest's loss; NaN when unknown */
    int order;             /* place in the recommendation order, 0 = the pick; -1 NO_EVAL */
} tb_recommend_entry;

#define TB_RECOMMEND_REASON_LEN 256

typedef struct tb_recommendation {
    long pick;                  /* index into the input runs; -1 when no run has an eval loss */
    long smallest;              /* the reference run; -1 when no sized run has an eval loss */
    size_t n;
    tb_recommend_entry *entries;                  /* (n), one per input run; malloc'd */
    char (*reasons)[TB_RECOMMEND_REASON_LEN];     /* (n_reasons) sentences, the pick first */
    size_t n_reasons;
} tb_recommendation;

/* Weigh runs[0..n). Fills out (free with tb_recommendation_free, also after a failure).
 * Ties on eval loss go to fewer trainable parameters, then the lower id. Fails only when
 * out of memory. */
tb_status tb_recommend(const tb_recommend_run *runs, size_t n, tb_recommendation *out, tb_error *err);
void tb_recommendation_free(tb_recommendation *r);

/* "kept", "penalized", "unsized", "no-eval" (JSON). */
const char *tb_recommend_verdict_name(tb_recommend_verdict v);

#endif
