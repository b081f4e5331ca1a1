/* tunebench — which run to keep: performance weighed against efficiency. */
#include "engine/plan/recommend.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/units.h"

const char *tb_recommend_verdict_name(tb_recommend_verdict v)
{
    switch (v) {
    case TB_REC_KEPT: return "kept";
    case TB_REC_PENALIZED: return "penalized";
    case TB_REC_UNSIZED: return "unsized";
    case TB_REC_NO_EVAL: return "no-eval";
    }
    return "?";
}

void tb_recommendation_free(tb_recommendation *r)
{
    if (!r)
        return;
    free(r->entries);
    free(r->reasons);
    memset(r, 0, sizeof *r);
    r->pick = r->smallest = -1;
}

static bool has_eval(const tb_recommend_run *r) { return isfinite(r->best_eval_loss); }
static bool sized(const tb_recommend_run *r) { return r->trainable_params > 0; }

/* Relative eval-loss improvement of `loss` over the reference `ref` (positive = better).
 * Cross-entropy is >= 0; a reference of exactly 0 cannot be improved on by any fraction. */
static double gain_over(double ref, double loss)
{
    if (ref != 0)
        return (ref - loss) / fabs(ref);
    return loss < 0 ? (double)INFINITY : loss == 0 ? 0 : -(double)INFINITY;
}

/* Sorting context: qsort has no user pointer, so the comparison reads these. */
typedef struct rank_item {
    size_t index;
    int tier;              /* 0 competes, 1 penalized, 2 no eval */
    double loss;
    int64_t params;        /* unknown sorts after known */
    int64_t id;
} rank_item;

static int cmp_rank(const void *pa, const void *pb)
{
    const rank_item *a = pa, *b = pb;
    if (a->tier != b->tier)
        return a->tier < b->tier ? -1 : 1;
    if (a->tier < 2 && a->loss != b->loss)
        return a->loss < b->loss ? -1 : 1;
    uint64_t pa_ = a->params > 0 ? (uint64_t)a->params : UINT64_MAX;
    uint64_t pb_ = b->params > 0 ? (uint64_t)b->params : UINT64_MAX;
    if (pa_ != pb_)
        return pa_ < pb_ ? -1 : 1;
    if (a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static void label(const tb_recommend_run *r, char *buf, size_t size)
{
    if (r->name && r->name[0])
        snprintf(buf, size, "#%lld \"%s\"", (long long)r->id, r->name);
    else
        snprintf(buf, size, "#%lld", (long long)r->id);
}

static void add_reason(tb_recommendation *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_reason(tb_recommendation *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->reasons[out->n_reasons++], TB_RECOMMEND_REASON_LEN, fmt, ap);
    va_end(ap);
}

static long find_smallest(const tb_recommend_run *runs, size_t n)
{
    long s = -1;
    for (size_t i = 0; i < n; i++) {
        const tb_recommend_run *r = &runs[i];
        if (!has_eval(r) || !sized(r))
            continue;
        if (s < 0) {
            s = (long)i;
            continue;
        }
        const tb_recommend_run *b = &runs[s];
        /* Among equally small runs the best one is the reference: the stricter bar. */
        if (r->trainable_params < b->trainable_params ||
            (r->trainable_params == b->trainable_params &&
             (r->best_eval_loss < b->best_eval_loss || (r->best_eval_loss == b->best_eval_loss && r->id < b->id))))
            s = (long)i;
    }
    return s;
}

static void judge(const tb_recommend_run *runs, size_t n, long smallest, tb_recommend_entry *e)
{
    const tb_recommend_run *s = smallest >= 0 ? &runs[smallest] : NULL;
    for (size_t i = 0; i < n; i++) {
        const tb_recommend_run *r = &runs[i];
        e[i].param_ratio = s && sized(r) ? (double)r->trainable_params / (double)s->trainable_params : (double)NAN;
        e[i].gain = s && has_eval(r) ? gain_over(s->best_eval_loss, r->best_eval_loss) : (double)NAN;
        if (!has_eval(r))
            e[i].verdict = TB_REC_NO_EVAL;
        else if (!sized(r))
            e[i].verdict = TB_REC_UNSIZED;
        else if (e[i].param_ratio > TB_RECOMMEND_PARAM_RATIO && e[i].gain < TB_RECOMMEND_MIN_GAIN)
            e[i].verdict = TB_REC_PENALIZED;
        else
            e[i].verdict = TB_REC_KEPT;
    }
}

/* The pick's sentence: why this one. */
static void explain_pick(tb_recommendation *out, const tb_recommend_run *runs)
{
    const tb_recommend_run *p = &runs[out->pick];
    const tb_recommend_entry *e = &out->entries[out->pick];
    char name[160], sname[160], params[32];
    label(p, name, sizeof name);
    tb_format_count(p->trainable_params, params, sizeof params);
    if (e->verdict == TB_REC_UNSIZED) {
        add_reason(out, "Pick %s: best eval loss %.4f; its trainable parameter count is unknown, so it was judged "
                        "on eval loss alone.", name, p->best_eval_loss);
        return;
    }
    if (out->pick == out->smallest) {
        add_reason(out, "Pick %s: best eval loss %.4f with %s trainable parameters, the smallest run.", name,
                   p->best_eval_loss, params);
        return;
    }
    label(&runs[out->smallest], sname, sizeof sname);
    if (e->param_ratio > TB_RECOMMEND_PARAM_RATIO)
        add_reason(out, "Pick %s: best eval loss %.4f with %s trainable parameters, %.1fx the smallest run %s, and "
                        "%.1f%% lower eval loss than it: enough (at least %.0f%%) to justify the size.", name,
                   p->best_eval_loss, params, e->param_ratio, sname, 100 * e->gain, 100 * TB_RECOMMEND_MIN_GAIN);
    else
        add_reason(out, "Pick %s: best eval loss %.4f with %s trainable parameters, %.1fx the smallest run %s "
                        "(not more than %.0fx, so no efficiency penalty) and %.1f%% lower eval loss than it.", name,
                   p->best_eval_loss, params, e->param_ratio, sname, TB_RECOMMEND_PARAM_RATIO, 100 * e->gain);
}

/* One sentence for a run that is not the pick. */
static void explain_other(tb_recommendation *out, const tb_recommend_run *runs, size_t i)
{
    const tb_recommend_run *r = &runs[i];
    const tb_recommend_entry *e = &out->entries[i];
    char name[160], sname[160];
    label(r, name, sizeof name);
    switch (e->verdict) {
    case TB_REC_NO_EVAL:
        add_reason(out, "%s: no eval loss yet; not considered.", name);
        return;
    case TB_REC_UNSIZED:
        add_reason(out, "%s: trainable parameters unknown; compared on eval loss alone (%.4f).", name, r->best_eval_loss);
        return;
    case TB_REC_PENALIZED:
        label(&runs[out->smallest], sname, sizeof sname);
        if (e->gain > 0)
            add_reason(out, "%s: penalized: %.1fx the parameters of %s for only %.1f%% lower eval loss (%.4f vs %.4f).",
                       name, e->param_ratio, sname, 100 * e->gain, r->best_eval_loss,
                       runs[out->smallest].best_eval_loss);
        else
            add_reason(out, "%s: penalized: %.1fx the parameters of %s for no better eval loss (%.4f vs %.4f).", name,
                       e->param_ratio, sname, r->best_eval_loss, runs[out->smallest].best_eval_loss);
        return;
    case TB_REC_KEPT: {
        const tb_recommend_run *p = &runs[out->pick];
        if (r->best_eval_loss == p->best_eval_loss)
            add_reason(out, "%s: the same eval loss (%.4f) as the pick, with %s trainable parameters.", name,
                       r->best_eval_loss, r->trainable_params > p->trainable_params ? "more" : "as many");
        else
            add_reason(out, "%s: eval loss %.4f, %.1f%% worse than the pick.", name, r->best_eval_loss,
                       100 * (r->best_eval_loss - p->best_eval_loss) / fabs(p->best_eval_loss));
        return;
    }
    }
}

tb_status tb_recommend(const tb_recommend_run *runs, size_t n, tb_recommendation *out, tb_error *err)
{
    memset(out, 0, sizeof *out);
    out->pick = out->smallest = -1;
    out->n = n;
    rank_item *items = malloc((n ? n : 1) * sizeof *items);
    out->entries = calloc(n ? n : 1, sizeof *out->entries);
    out->reasons = calloc(n + 3, sizeof *out->reasons);
    if (!items || !out->entries || !out->reasons) {
        free(items);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory weighing %zu runs", n);
    }
    out->smallest = find_smallest(runs, n);
    judge(runs, n, out->smallest, out->entries);
    for (size_t i = 0; i < n; i++) {
        tb_recommend_verdict v = out->entries[i].verdict;
        items[i] = (rank_item){.index = i, .tier = v == TB_REC_NO_EVAL ? 2 : v == TB_REC_PENALIZED ? 1 : 0,
                               .loss = runs[i].best_eval_loss, .params = runs[i].trainable_params, .id = runs[i].id};
    }
    qsort(items, n, sizeof *items, cmp_rank);
    for (size_t k = 0; k < n; k++)
        out->entries[items[k].index].order = items[k].tier == 2 ? -1 : (int)k;
    if (n > 0 && items[0].tier == 0)
        out->pick = (long)items[0].index;

    if (out->pick < 0) {
        add_reason(out, n == 0 ? "No runs to compare."
                               : "No run has an eval loss yet, so there is nothing to compare; a run needs at least "
                                 "one evaluation (--eval-steps).");
    } else {
        explain_pick(out, runs);
        if (out->smallest >= 0 && n > 1) {
            char sname[160], sparams[32];
            label(&runs[out->smallest], sname, sizeof sname);
            tb_format_count(runs[out->smallest].trainable_params, sparams, sizeof sparams);
            add_reason(out, "Rule: a run with more than %.0fx the trainable parameters of the smallest run (%s, %s) "
                            "that improves eval loss by less than %.0f%% over it is penalized.",
                       TB_RECOMMEND_PARAM_RATIO, sname, sparams, 100 * TB_RECOMMEND_MIN_GAIN);
        }
    }
    for (size_t k = 0; k < n; k++)
        if ((long)items[k].index != out->pick)
            explain_other(out, runs, items[k].index);
    free(items);
    return TB_OK;
}
