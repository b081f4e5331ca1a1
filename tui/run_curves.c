/* tunebench — loss curves of runs, read incrementally. */
#include "tui/run_curves.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool grow(tb_run_curve *c)
{
    size_t cap = c->cap ? c->cap * 2 : 256;
    double **cols[] = {&c->step, &c->train, &c->eval, &c->lr, &c->grad_norm};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        double *p = realloc(*cols[k], cap * sizeof *p);
        if (!p)
            return false; /* the columns grown so far keep their old content */
        *cols[k] = p;
    }
    c->cap = cap;
    return true;
}

static void update(double *dst, double v, bool *changed)
{
    if (isnan(v) || *dst == v)
        return;
    *dst = v;
    *changed = true;
}

bool tb_run_curve_merge(tb_run_curve *c, const tb_metric_row *rows, size_t n, bool *changed)
{
    *changed = false;
    for (size_t r = 0; r < n; r++) {
        const tb_metric_row *m = &rows[r];
        double step = (double)m->step;
        /* Rows re-read from the tail: find the step among the last points. */
        size_t i = c->n;
        while (i > 0 && c->step[i - 1] > step)
            i--;
        if (i > 0 && c->step[i - 1] == step) {
            update(&c->train[i - 1], m->train_loss, changed);
            update(&c->eval[i - 1], m->eval_loss, changed);
            update(&c->lr[i - 1], m->lr, changed);
            update(&c->grad_norm[i - 1], m->grad_norm, changed);
            continue;
        }
        if (i != c->n)
            continue; /* older than the tail and unknown: not from this store's order; ignore */
        if (c->n == c->cap && !grow(c))
            return false;
        c->step[c->n] = step;
        c->train[c->n] = m->train_loss;
        c->eval[c->n] = m->eval_loss;
        c->lr[c->n] = m->lr;
        c->grad_norm[c->n] = m->grad_norm;
        c->n++;
        *changed = true;
    }
    return true;
}

tb_run_curve *tb_run_curves_get(tb_run_curves *cs, int64_t id)
{
    for (size_t i = 0; i < cs->n; i++)
        if (cs->items[i].id == id)
            return &cs->items[i];
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 8;
        tb_run_curve *items = realloc(cs->items, cap * sizeof *items);
        if (!items)
            return NULL;
        cs->items = items;
        cs->cap = cap;
    }
    tb_run_curve *c = &cs->items[cs->n++];
    memset(c, 0, sizeof *c);
    c->id = id;
    return c;
}

tb_status tb_run_curves_refresh(tb_run_curves *cs, tb_run_store *rs, int64_t id, bool *changed, tb_error *err)
{
    *changed = false;
    tb_run_curve *c = tb_run_curves_get(cs, id);
    if (!c)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory for the curve of run %lld", (long long)id);
    /* The last step again (it may have gained its eval loss), and everything after it. */
    int64_t after = c->n ? (int64_t)c->step[c->n - 1] - 1 : INT64_MIN;
    tb_metric_row *rows;
    size_t n;
    tb_status st = tb_run_store_metrics(rs, id, after, &rows, &n, err);
    if (st != TB_OK)
        return st;
    bool ok = tb_run_curve_merge(c, rows, n, changed);
    free(rows);
    return ok ? TB_OK : tb_fail(err, TB_ERR_NOMEM, "out of memory for the curve of run %lld", (long long)id);
}

void tb_run_curve_free(tb_run_curve *c)
{
    free(c->step);
    free(c->train);
    free(c->eval);
    free(c->lr);
    free(c->grad_norm);
    int64_t id = c->id;
    memset(c, 0, sizeof *c);
    c->id = id;
}

void tb_run_curves_free(tb_run_curves *cs)
{
    for (size_t i = 0; i < cs->n; i++)
        tb_run_curve_free(&cs->items[i]);
    free(cs->items);
    memset(cs, 0, sizeof *cs);
}

bool tb_run_curve_best_eval(const tb_run_curve *c, double *step, double *loss)
{
    bool found = false;
    for (size_t i = 0; i < c->n; i++)
        if (isfinite(c->eval[i]) && (!found || c->eval[i] < *loss)) {
            *loss = c->eval[i];
            *step = c->step[i];
            found = true;
        }
    return found;
}
