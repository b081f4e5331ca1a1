/* tunebench — training health: the detectors behind the Train screen's alarms and the run
 * log (overfitting, grad-norm spikes, a loss stuck at zero) and early stopping. Pure state
 * machines fed with numbers, so they are tested on made-up curves and saved in checkpoints. */
#ifndef TB_TRAIN_HEALTH_H
#define TB_TRAIN_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tb_health {
    /* settings */
    int64_t overfit_evals;          /* rising evals (train falling) before the alarm; 0 off */
    int64_t patience;               /* early stopping: evals without improvement; 0 off */
    double threshold;               /* an eval improves when best - loss > threshold */
    /* state */
    double gn_ema;                  /* running grad norm (spikes clipped into it) */
    int64_t gn_count;
    int64_t zero_logs;              /* logging steps in a row with train loss ~ 0 */
    bool zero_alarmed;
    double last_eval, last_train;   /* previous eval and the train loss logged with it */
    double rise_eval, rise_train;   /* where the current rise started */
    int64_t rising;                 /* evals in a row that rose while train fell */
    bool overfit_alarmed;
    double best_eval;               /* NaN before the first eval */
    int64_t best_step;
    int64_t since_best;             /* evals without improvement */
} tb_health;

void tb_health_init(tb_health *h, int64_t overfit_evals, int64_t patience, double threshold);

/* A step's gradient norm: true (and a message) when it is over 10x the running norm. */
bool tb_health_grad(tb_health *h, int64_t step, double grad_norm, char *msg, size_t size);
/* A logged train loss: true once when it has been ~0 for 5 logging steps. */
bool tb_health_train(tb_health *h, int64_t step, double train_loss, char *msg, size_t size);

enum {
    TB_HEALTH_BEST = 1 << 0,        /* a new best eval loss */
    TB_HEALTH_OVERFIT = 1 << 1,     /* the alarm fires (once per rise) */
    TB_HEALTH_STOP = 1 << 2,        /* early stopping: patience used up */
};
/* An eval at `step` with the train loss logged nearest to it; returns TB_HEALTH_* flags,
 * msg says what happened for OVERFIT / STOP. */
int tb_health_eval(tb_health *h, int64_t step, double eval_loss, double train_loss, char *msg, size_t size);

#endif
