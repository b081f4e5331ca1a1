/* tunebench — one optimizer step and an eval pass.
 *
 * A step takes up to grad_accum micro-batches from the data cursor (the last step of an
 * epoch takes what is left), counts their unmasked targets first, and scales every
 * micro-batch's loss by 1 / that total: the accumulated gradient is exactly the gradient of
 * the mean loss over all the step's targets, as if it were one large batch. */
#include <math.h>
#include <string.h>

#include "engine/core/rng.h"
#include "engine/train/trainer_internal.h"

double tb_trainer_lr(const tb_trainer *t, int64_t step)
{
    return tb_train_options_lr(&t->o) * tb_schedule_factor(t->o.schedule, step, t->warmup, t->total_steps);
}

static tb_status ensure_plan(tb_trainer *t, tb_error *err)
{
    if (t->plan_epoch == t->epoch)
        return TB_OK;
    tb_batch_plan_free(&t->plan);
    tb_status st = tb_batch_plan_make(&t->plan, &t->data.train, t->o.batch, t->o.seed, t->epoch, true,
                                      t->o.group_by_length, err);
    t->plan_epoch = st == TB_OK ? t->epoch : -1;
    return st;
}

/* Real (non-padding) input tokens of a batch. */
static int64_t real_tokens(const tb_token_set *s, const tb_batch_plan *p, int64_t b)
{
    int64_t n = 0;
    for (int64_t k = b * p->batch; k < p->n && k < (b + 1) * p->batch; k++)
        n += tb_token_set_len(s, p->idx[k]) - 1;
    return n;
}

tb_status tb_trainer_step(tb_trainer *t, tb_error *err)
{
    tb_status st = ensure_plan(t, err);
    if (st != TB_OK)
        return st;
    int64_t B = t->o.batch, stride = B * t->Tmax;
    int64_t n_micro = t->batches_per_epoch - t->cursor;
    n_micro = n_micro < t->o.grad_accum ? n_micro : t->o.grad_accum;
    int64_t rows[4096], T[4096], total = 0, tokens = 0;
    for (int64_t k = 0; k < n_micro; k++) {
        int64_t nt;
        tb_batch_fill(&t->data.train, &t->plan, t->cursor + k, t->pad_id, t->ids + k * stride,
                      t->targets + k * stride, &rows[k], &T[k], &nt);
        total += nt;
        tokens += real_tokens(&t->data.train, &t->plan, t->cursor + k);
    }
    if (t->lora)
        t->lora->train = true;
    tb_llama_loss_reset(t->m, &t->bwd);
    for (int64_t k = 0; k < n_micro && st == TB_OK; k++) {
        /* dropout masks: a counter-based stream per (step, micro-batch), so resuming replays them */
        if (t->lora)
            t->lora->seed = (uint32_t)tb_seed_mix(t->o.seed, (uint64_t)t->step, (uint64_t)k, 0x64726f70u);
        st = tb_llama_forward(t->m, &t->acts, t->ids + k * stride, rows[k], T[k], NULL, err);
        if (st == TB_OK)
            st = tb_llama_loss(t->m, &t->acts, &t->bwd, t->targets + k * stride, 1.0f / (float)total, err);
        if (st == TB_OK)
            st = tb_llama_backward(t->m, &t->acts, &t->bwd, err);
    }
    double loss_sum = 0, sumsq = 0;
    if (st == TB_OK)
        st = tb_llama_loss_read(t->m, &t->bwd, &loss_sum, err);
    if (st == TB_OK)
        st = tb_adamw_grad_sumsq(&t->opt, &sumsq, err);
    if (st != TB_OK)
        return st;
    double loss = loss_sum / (double)total, gn = sqrt(sumsq);
    if (t->o.fault_nan_step > 0 && t->step + 1 >= t->o.fault_nan_step &&
        t->step + 1 < t->o.fault_nan_step + (t->o.fault_nan_count > 0 ? t->o.fault_nan_count : 1))
        loss = NAN; /* tests: a poisoned step */
    double lr = tb_trainer_lr(t, t->step);
    t->step++;
    t->cursor += n_micro;
    if (t->cursor >= t->batches_per_epoch)
        t->epoch++, t->cursor = 0;
    if (!isfinite(loss) || !isfinite(sumsq)) {
        /* never apply it; after nan_patience such steps in a row, go back to the last good state */
        tb_param_set_zero_grads(t->params);
        t->bad_steps++;
        t->bad_streak++;
        tb_trainer_event(t, "warning", "step %lld: %s is %s: step skipped (%lld in a row)", (long long)t->step,
                         isfinite(loss) ? "the gradient" : "the loss", isnan(isfinite(loss) ? sumsq : loss) ? "NaN" : "Inf",
                         (long long)t->bad_streak);
        if (t->bad_streak >= t->o.nan_patience) {
            if (++t->rollback_streak > 3)
                return tb_error_set(err, TB_ERR_NUMERIC, NULL, 0, NULL,
                                    "training diverged: NaN/Inf persisted through 3 roll-backs (step %lld); lower --lr "
                                    "or check the data",
                                    (long long)t->step);
            if ((st = tb_trainer_rollback(t, err)) != TB_OK)
                return st;
            t->rollbacks++;
            t->bad_streak = 0;
            tb_trainer_event(t, "alarm",
                             "NaN/Inf for %lld steps in a row: rolled back to the state of step %lld (weights and "
                             "optimizer); training goes on with the next batches",
                             (long long)t->o.nan_patience, (long long)t->snap_step);
        }
        return TB_OK;
    }
    tb_adamw_update(&t->opt, lr);
    tb_param_set_zero_grads(t->params);
    t->bad_streak = 0;
    t->rollback_streak = 0;
    t->tokens_seen += tokens;
    t->log_loss += loss;
    t->log_steps++;
    t->log_tokens += tokens;
    t->last_lr = lr, t->last_gn = gn;
    char msg[512];
    if (tb_health_grad(&t->health, t->step, gn, msg, sizeof msg))
        tb_trainer_event(t, "warning", "%s", msg);
    return t->be->ops->sync(t->be, err);
}

tb_status tb_trainer_eval(tb_trainer *t, double *loss, tb_error *err)
{
    *loss = NAN;
    const tb_token_set *s = &t->data.eval;
    if (s->n == 0)
        return TB_OK;
    tb_status st = TB_OK;
    if (!t->eval_plan.idx)
        st = tb_batch_plan_make(&t->eval_plan, s, t->o.batch, t->o.seed, 0, false, true, err);
    if (t->lora)
        t->lora->train = false; /* no dropout in eval */
    tb_llama_loss_reset(t->m, &t->bwd);
    int64_t total = 0;
    for (int64_t b = 0; b < tb_batch_count(&t->eval_plan) && st == TB_OK; b++) {
        int64_t rows, T, nt;
        tb_batch_fill(s, &t->eval_plan, b, t->pad_id, t->ids, t->targets, &rows, &T, &nt);
        total += nt;
        st = tb_llama_forward(t->m, &t->acts, t->ids, rows, T, NULL, err);
        if (st == TB_OK)
            st = tb_llama_loss(t->m, &t->acts, &t->bwd, t->targets, 0.0f, err);
    }
    double sum = 0;
    if (st == TB_OK)
        st = tb_llama_loss_read(t->m, &t->bwd, &sum, err);
    if (st == TB_OK && total > 0)
        *loss = sum / (double)total;
    return st;
}
