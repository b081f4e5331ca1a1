/* tunebench — before/after evaluation over the sides of an adapter set (engine/eval/evaluate.h). */
#include "engine/eval/evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eval/run.h"

void tb_eval_opts_init(tb_eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_new = 128;
    o->judge_timeout_s = 120;
    o->window = 256;
    o->threshold = TB_EVAL_REGRESSION_THRESHOLD;
}

static bool cancelled(const tb_eval_opts *o) { return o->cancel && atomic_load(o->cancel); }

/* One side over every example. */
static tb_status run_side(tb_adapter_set *set, int side, const tb_tokenizer *tok, const tb_eval_items *items,
                          const tb_eval_opts *o, tb_eval_report *r, tb_error *err)
{
    tb_llama *m = set->m;
    for (int64_t e = 0; e < items->n; e++) {
        if (cancelled(o))
            return tb_fail(err, TB_ERR_CANCELLED, "evaluation stopped");
        const tb_eval_item *it = &items->v[e];
        tb_eval_cell *c = tb_eval_report_cell(r, e, side);
        tb_status st = tb_eval_nll(m, it->ids, it->trained, it->n, &c->nll, &c->tokens, err);
        if (st != TB_OK)
            return st;
        if (o->max_new > 0) {
            /* greedy: temperature 0, nothing else changes the argmax */
            tb_generate_opts go = {.sampler = {.temperature = 0, .top_p = 1, .repetition_penalty = 1},
                                   .max_new = o->max_new};
            char *text = NULL;
            if ((st = tb_eval_generate_text(m, tok, it->ids, it->prompt_len, &go, &text, err)) != TB_OK)
                return st;
            tb_eval_cell_set_generation(c, text, it->reference);
            if (o->judge_cmd) {
                c->judged = true;
                tb_judge_score(o->judge_cmd, it->reference, text, o->judge_timeout_s, &c->judge);
            }
        }
        if (o->progress)
            o->progress(o->progress_ctx, side, e + 1, items->n);
    }
    if (o->general) {
        double nll;
        int64_t k;
        tb_status st = tb_eval_text_nll(m, o->general, o->n_general, o->window, &nll, &k, err);
        if (st != TB_OK)
            return st;
        r->general_ppl[side] = tb_eval_perplexity(nll, k);
    }
    return TB_OK;
}

tb_status tb_eval_run(tb_adapter_set *set, const tb_tokenizer *tok, const tb_eval_items *items,
                      const tb_eval_opts *o, tb_eval_report *r, tb_error *err)
{
    int n_sides = set->n + 1;
    const char **names = malloc((size_t)n_sides * sizeof *names);
    if (!names)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    names[0] = "base";
    for (int i = 0; i < set->n; i++)
        names[i + 1] = set->v[i].name;
    tb_status st = tb_eval_report_init(r, n_sides, names, items->n, err);
    free(names);
    if (st != TB_OK)
        return st;
    for (int64_t e = 0; e < items->n; e++) {
        r->ex[e].line = items->v[e].line;
        r->ex[e].prompt = strdup(items->v[e].prompt);
        r->ex[e].reference = strdup(items->v[e].reference);
        if (!r->ex[e].prompt || !r->ex[e].reference)
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    if (o->judge_cmd && st == TB_OK && !(r->judge_cmd = strdup(o->judge_cmd)))
        st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int s = 0; s < n_sides && st == TB_OK; s++) {
        tb_adapter_set_activate(set, s - 1);
        st = run_side(set, s, tok, items, o, r, err);
    }
    tb_adapter_set_activate(set, -1);
    if (st != TB_OK) {
        tb_eval_report_free(r);
        return st;
    }
    tb_eval_report_finish(r, o->threshold);
    return TB_OK;
}
