/* tunebench — training health detectors. */
#include "engine/train/health.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SPIKE 10.0       /* a grad norm this many times the running one is a spike */
#define SPIKE_WARMUP 10  /* steps before spikes are judged */
#define ZERO_LOSS 1e-4
#define ZERO_LOGS 5

void tb_health_init(tb_health *h, int64_t overfit_evals, int64_t patience, double threshold)
{
    memset(h, 0, sizeof *h);
    h->overfit_evals = overfit_evals;
    h->patience = patience;
    h->threshold = threshold;
    h->last_eval = h->last_train = h->best_eval = (double)NAN;
    h->best_step = -1;
}

bool tb_health_grad(tb_health *h, int64_t step, double gn, char *msg, size_t size)
{
    if (!isfinite(gn))
        return false; /* NaN/Inf steps are handled (skipped, rolled back) by the trainer */
    bool spike = h->gn_count >= SPIKE_WARMUP && gn > SPIKE * h->gn_ema;
    if (spike)
        snprintf(msg, size,
                 "grad-norm spike at step %lld: %.3g is %.0fx the running norm %.3g (clipping keeps the update "
                 "bounded; repeated spikes: lower --lr or raise --warmup-ratio)",
                 (long long)step, gn, gn / h->gn_ema, h->gn_ema);
    double x = spike ? SPIKE * h->gn_ema : gn;
    h->gn_ema = h->gn_count == 0 ? x : 0.9 * h->gn_ema + 0.1 * x;
    h->gn_count++;
    return spike;
}

bool tb_health_train(tb_health *h, int64_t step, double loss, char *msg, size_t size)
{
    h->zero_logs = isfinite(loss) && loss < ZERO_LOSS ? h->zero_logs + 1 : 0;
    if (h->zero_logs < ZERO_LOGS || h->zero_alarmed)
        return false;
    h->zero_alarmed = true;
    snprintf(msg, size,
             "train loss stuck at zero (%.2g at step %lld, %d logging steps in a row): is everything masked, or do the "
             "prompts contain the answers?",
             loss, (long long)step, ZERO_LOGS);
    return true;
}

int tb_health_eval(tb_health *h, int64_t step, double eval, double train, char *msg, size_t size)
{
    int flags = 0;
    if (isnan(h->best_eval) || h->best_eval - eval > h->threshold) {
        h->best_eval = eval;
        h->best_step = step;
        h->since_best = 0;
        flags |= TB_HEALTH_BEST;
    } else {
        h->since_best++;
    }
    /* Overfitting: the eval loss rose at each of the last N evals while the train loss fell. */
    bool rose = !isnan(h->last_eval) && eval > h->last_eval && train < h->last_train;
    if (rose) {
        if (h->rising == 0)
            h->rise_eval = h->last_eval, h->rise_train = h->last_train;
        h->rising++;
    } else {
        h->rising = 0;
        h->overfit_alarmed = false;
    }
    if (h->overfit_evals > 0 && h->rising >= h->overfit_evals && !h->overfit_alarmed) {
        h->overfit_alarmed = true;
        flags |= TB_HEALTH_OVERFIT;
        snprintf(msg, size,
                 "overfitting: eval loss rose for %lld evals (%.4f -> %.4f) while train loss fell (%.4f -> %.4f); "
                 "best eval %.4f at step %lld",
                 (long long)h->rising, h->rise_eval, eval, h->rise_train, train, h->best_eval,
                 (long long)h->best_step);
    }
    h->last_eval = eval, h->last_train = train;
    if (h->patience > 0 && h->since_best >= h->patience) {
        flags |= TB_HEALTH_STOP;
        snprintf(msg, size, "early stopping: no eval improvement for %lld evals; best eval %.4f at step %lld",
                 (long long)h->since_best, h->best_eval, (long long)h->best_step);
    }
    return flags;
}
