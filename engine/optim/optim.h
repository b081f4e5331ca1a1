/* tunebench — AdamW with gradient-norm clipping, and Hugging Face's learning-rate schedules.
 *
 * Semantics follow torch.optim.AdamW (bias-corrected moments, decoupled weight decay) and
 * transformers' Trainer: clip_grad_norm_ (scale = max_norm / (norm + 1e-6), capped at 1)
 * before the update; weight decay on every weight but biases and norms (tb_param_set puts
 * those last); schedules as transformers.optimization.get_scheduler builds them, where the
 * k-th update (0-based) uses lr * lambda(k), so the first update under warmup uses lr 0. */
#ifndef TB_OPTIM_OPTIM_H
#define TB_OPTIM_OPTIM_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/optim/params.h"

/* ------------------------------------------------------------------ schedules */

typedef enum tb_schedule_kind {
    TB_SCHED_CONSTANT = 0,   /* "constant" (with warmup when warmup > 0: "constant_with_warmup") */
    TB_SCHED_LINEAR,         /* "linear": warmup, then linear decay to 0 at the last step */
    TB_SCHED_COSINE,         /* "cosine": warmup, then half a cosine down to 0 */
    TB_SCHED_COUNT
} tb_schedule_kind;

const char *tb_schedule_name(tb_schedule_kind k);
bool tb_schedule_parse(const char *name, tb_schedule_kind *out); /* also "constant_with_warmup" */

/* lambda(step) in [0, 1] for 0-based update `step` of `total` with `warmup` warmup steps. */
double tb_schedule_factor(tb_schedule_kind k, int64_t step, int64_t warmup, int64_t total);
/* HF get_warmup_steps: warmup_steps when > 0, else ceil(total * ratio). */
int64_t tb_schedule_warmup(int64_t warmup_steps, double warmup_ratio, int64_t total);

/* ------------------------------------------------------------------ AdamW */

typedef struct tb_adamw_opts {
    double lr;              /* peak learning rate */
    double beta1, beta2, eps;
    double weight_decay;
    double max_grad_norm;   /* <= 0: no clipping */
} tb_adamw_opts;

typedef struct tb_adamw {
    tb_adamw_opts opt;
    tb_param_set *params;   /* not owned */
    tb_buf *m, *v;          /* (total) F32 moments, TB_MEM_OPTIMIZER */
    tb_buf *scalars;        /* [0] sum of squared grads, [1] clip scale */
    int64_t t;              /* updates applied (the next one is t + 1 for bias correction) */
} tb_adamw;

tb_status tb_adamw_init(tb_adamw *a, tb_param_set *params, const tb_adamw_opts *opt, tb_error *err);
void tb_adamw_free(tb_adamw *a);

/* Squared L2 norm of every gradient (sync point). */
tb_status tb_adamw_grad_sumsq(tb_adamw *a, double *sumsq, tb_error *err);
/* Clip (from the sum of squares computed by tb_adamw_grad_sumsq) and apply one update at
 * learning rate lr; enqueued. Gradients are left as they are (the caller zeroes them). */
void tb_adamw_update(tb_adamw *a, double lr);

#endif
