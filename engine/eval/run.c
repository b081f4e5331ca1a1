/* tunebench — evaluation measurements on a model (engine/eval/run.h). */
#include "engine/eval/run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* -log softmax(row)[target] in f64. */
static double token_nll(const float *row, int64_t V, int32_t target)
{
    double mx = row[0];
    for (int64_t v = 1; v < V; v++)
        if (row[v] > mx)
            mx = row[v];
    double s = 0;
    for (int64_t v = 0; v < V; v++)
        s += exp((double)row[v] - mx);
    return mx + log(s) - (double)row[target];
}

tb_status tb_eval_logits(tb_llama *m, const int32_t *ids, int64_t T, int64_t row0, int64_t rows, float *out,
                        tb_error *err)
{
    tb_llama_acts acts;
    tb_status st = tb_llama_acts_init(&acts, m, 1, T, TB_ACTS_INFERENCE, rows, err);
    if (st != TB_OK)
        return st;
    st = tb_llama_forward(m, &acts, ids, 1, T, NULL, err);
    if (st == TB_OK) {
        tb_llama_logits(m, &acts, row0, rows);
        st = m->be->ops->download(m->be, out, acts.logits, (size_t)(rows * m->cfg.vocab_size), err);
    }
    tb_llama_acts_free(&acts);
    return st;
}

tb_status tb_eval_nll(tb_llama *m, const int32_t *ids, const uint8_t *trained, int64_t n, double *nll,
                      int64_t *tokens, tb_error *err)
{
    *nll = 0;
    *tokens = 0;
    int64_t T = n - 1, V = m->cfg.vocab_size;
    if (T < 1)
        return TB_OK;
    /* Only the rows that predict a trained token need logits: run the lm_head on the span
     * from the first to the last such row. */
    int64_t first = -1, last = -1;
    for (int64_t t = 0; t < T; t++)
        if (!trained || trained[t + 1]) {
            if (first < 0)
                first = t;
            last = t;
        }
    if (first < 0)
        return TB_OK;
    int64_t rows = last - first + 1;
    float *logits = malloc((size_t)(rows * V) * sizeof *logits);
    if (!logits)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory for %lld x %lld logits", (long long)rows, (long long)V);
    tb_status st = tb_eval_logits(m, ids, T, first, rows, logits, err);
    for (int64_t t = first; st == TB_OK && t <= last; t++) {
        if (trained && !trained[t + 1])
            continue;
        double l = token_nll(logits + (t - first) * V, V, ids[t + 1]);
        if (!isfinite(l)) {
            st = tb_fail(err, TB_ERR_NUMERIC, "the model's logits are not finite at position %lld", (long long)t);
            break;
        }
        *nll += l;
        (*tokens)++;
    }
    free(logits);
    return st;
}

tb_status tb_eval_text_nll(tb_llama *m, const int32_t *ids, int64_t n, int64_t window, double *nll, int64_t *tokens,
                           tb_error *err)
{
    *nll = 0;
    *tokens = 0;
    if (window < 2)
        return tb_fail(err, TB_ERR_INVALID, "window of %lld tokens: at least 2", (long long)window);
    for (int64_t at = 0; at < n; at += window) {
        int64_t len = n - at < window ? n - at : window;
        double w;
        int64_t k;
        tb_status st = tb_eval_nll(m, ids + at, NULL, len, &w, &k, err);
        if (st != TB_OK)
            return st;
        *nll += w;
        *tokens += k;
    }
    return TB_OK;
}

int64_t tb_eval_prompt_len(const uint8_t *trained, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (trained[i])
            return i;
    return n;
}

tb_status tb_eval_generate_text(tb_llama *m, const tb_tokenizer *tok, const int32_t *prompt, int64_t n_prompt,
                                const tb_generate_opts *o, char **text, tb_error *err)
{
    *text = NULL;
    int32_t eos[TB_MAX_EOS + 1];
    int n_eos = 0;
    for (int i = 0; i < m->cfg.n_eos; i++)
        eos[n_eos++] = (int32_t)m->cfg.eos_ids[i];
    if (tb_tokenizer_eos(tok) >= 0)
        eos[n_eos++] = tb_tokenizer_eos(tok);
    tb_generate_opts go = *o;
    go.eos = eos;
    go.n_eos = n_eos;
    tb_generate_result res;
    tb_status st = tb_llama_generate(m, prompt, n_prompt, &go, &res, err);
    if (st != TB_OK)
        return st;
    st = tb_tokenizer_decode(tok, res.ids, (size_t)res.n, true, text, err);
    free(res.ids);
    return st;
}
