/* tunebench — next-token sampling, in transformers' logits-processor order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/rng.h"
#include "engine/model/generate.h"

tb_status tb_sampler_init(tb_sampler *s, const tb_sampler_opts *o, int64_t V, tb_error *err)
{
    memset(s, 0, sizeof *s);
    s->o = *o;
    s->V = V;
    if (!(o->temperature >= 0) || !(o->top_p > 0 && o->top_p <= 1) || o->top_k < 0 || !(o->repetition_penalty > 0))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, NULL,
                            "sampling needs temperature >= 0, 0 < top_p <= 1, top_k >= 0, repetition penalty > 0");
    s->work = malloc((size_t)V * sizeof *s->work);
    s->order = malloc((size_t)V * sizeof *s->order);
    s->seen = calloc((size_t)V, 1);
    if (!s->work || !s->order || !s->seen) {
        tb_sampler_free(s);
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "out of memory");
    }
    tb_rng_seed(&s->rng, o->seed);
    return TB_OK;
}

void tb_sampler_free(tb_sampler *s)
{
    free(s->work);
    free(s->order);
    free(s->seen);
    memset(s, 0, sizeof *s);
}

void tb_sampler_observe(tb_sampler *s, const int32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < s->V)
            s->seen[ids[i]] = 1;
}

static int cmp_desc(const void *a, const void *b, void *ctx)
{
    const float *w = ctx;
    float x = w[*(const int32_t *)a], y = w[*(const int32_t *)b];
    if (x != y)
        return x > y ? -1 : 1;
    return *(const int32_t *)a - *(const int32_t *)b; /* ties: lower id first, deterministic */
}

int32_t tb_sampler_next(tb_sampler *s, const float *logits)
{
    int64_t V = s->V;
    float *w = s->work;
    memcpy(w, logits, (size_t)V * sizeof *w);
    float rp = s->o.repetition_penalty;
    if (rp != 1.0f)
        for (int64_t i = 0; i < V; i++)
            if (s->seen[i])
                w[i] = w[i] < 0 ? w[i] * rp : w[i] / rp;
    int32_t pick = 0;
    if (s->o.temperature == 0.0f) {
        for (int64_t i = 1; i < V; i++)
            if (w[i] > w[pick])
                pick = (int32_t)i;
    } else {
        for (int64_t i = 0; i < V; i++)
            w[i] /= s->o.temperature;
        /* Candidates sorted by descending logit; top-k keeps those >= the k-th value (ties
         * included, as transformers' `< kth value` removal does). */
        for (int64_t i = 0; i < V; i++)
            s->order[i] = (int32_t)i;
        qsort_r(s->order, (size_t)V, sizeof *s->order, cmp_desc, w);
        int64_t n = V;
        if (s->o.top_k > 0 && s->o.top_k < V) {
            float kth = w[s->order[s->o.top_k - 1]];
            n = s->o.top_k;
            while (n < V && w[s->order[n]] >= kth)
                n++;
        }
        float mx = w[s->order[0]];
        double total = 0;
        for (int64_t r = 0; r < n; r++)
            total += exp((double)(w[s->order[r]] - mx));
        /* top-p: keep a token while the mass ranked strictly above it is < top_p (the
         * transformers rule "drop where ascending cumsum <= 1 - top_p"); the top one always. */
        if (s->o.top_p < 1.0f) {
            double above = 0;
            int64_t keep = 0;
            while (keep < n && (keep == 0 || above < (double)s->o.top_p)) {
                above += exp((double)(w[s->order[keep]] - mx)) / total;
                keep++;
            }
            n = keep;
            total = 0;
            for (int64_t r = 0; r < n; r++)
                total += exp((double)(w[s->order[r]] - mx));
        }
        double u = tb_rng_uniform(&s->rng) * total, acc = 0;
        pick = s->order[n - 1];
        for (int64_t r = 0; r < n; r++) {
            acc += exp((double)(w[s->order[r]] - mx));
            if (u < acc) {
                pick = s->order[r];
                break;
            }
        }
    }
    s->seen[pick] = 1;
    return pick;
}
