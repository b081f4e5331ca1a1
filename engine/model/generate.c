/* tunebench — the decode loop: one prompt pass, then one token at a time on the KV cache. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/model/generate.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The text of the generated ids ends with one of the stop strings. */
static bool hits_stop(const tb_generate_opts *o, const int32_t *ids, int64_t n)
{
    if (!o->n_stop || !o->decode)
        return false;
    char *text = o->decode(o->decode_ctx, ids, (size_t)n);
    if (!text)
        return false;
    size_t len = strlen(text);
    bool hit = false;
    for (int i = 0; i < o->n_stop && !hit; i++) {
        size_t sl = strlen(o->stop[i]);
        hit = sl && len >= sl && memcmp(text + len - sl, o->stop[i], sl) == 0;
    }
    free(text);
    return hit;
}

tb_status tb_llama_generate(tb_llama *m, const int32_t *prompt, int64_t n_prompt, const tb_generate_opts *o,
                            tb_generate_result *res, tb_error *err)
{
    memset(res, 0, sizeof *res);
    if (n_prompt < 1)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "prompt", "generation needs at least one prompt token");
    int64_t max_new = o->max_new > 0 ? o->max_new : 0;
    int64_t V = m->cfg.vocab_size;
    tb_llama_acts acts;
    tb_kv_cache cache;
    tb_sampler smp;
    memset(&cache, 0, sizeof cache);
    memset(&smp, 0, sizeof smp);
    float *logits = malloc((size_t)V * sizeof *logits);
    res->ids = malloc((size_t)(max_new + 1) * sizeof *res->ids);
    tb_status st = tb_llama_acts_init(&acts, m, 1, n_prompt, TB_ACTS_INFERENCE, 1, err);
    if (st != TB_OK) {
        free(logits);
        free(res->ids);
        res->ids = NULL;
        return st;
    }
    if (!logits || !res->ids)
        st = tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "out of memory");
    if (st == TB_OK)
        st = tb_kv_cache_init(&cache, m, 1, n_prompt + max_new, err);
    if (st == TB_OK)
        st = tb_sampler_init(&smp, &o->sampler, V, err);
    if (st != TB_OK)
        goto done;
    tb_sampler_observe(&smp, prompt, (size_t)n_prompt);

    double t0 = now();
    const int32_t *in = prompt;
    int64_t T = n_prompt;
    res->reason = TB_STOP_LENGTH;
    for (int64_t step = 0; step < max_new; step++) {
        if ((st = tb_llama_forward(m, &acts, in, 1, T, &cache, err)) != TB_OK)
            break;
        tb_llama_logits(m, &acts, T - 1, 1);
        if ((st = m->be->ops->download(m->be, logits, acts.logits, (size_t)V, err)) != TB_OK)
            break;
        if (step == 0)
            res->prefill_s = now() - t0;
        int32_t tok = tb_sampler_next(&smp, logits);
        bool eos = false;
        for (int i = 0; i < o->n_eos; i++)
            eos |= tok == o->eos[i];
        if (eos) {
            res->reason = TB_STOP_EOS;
            break;
        }
        res->ids[res->n++] = tok;
        if (o->on_token && !o->on_token(o->token_ctx, tok)) {
            res->reason = TB_STOP_CALLBACK;
            break;
        }
        if (hits_stop(o, res->ids, res->n)) {
            res->reason = TB_STOP_STRING;
            break;
        }
        in = &res->ids[res->n - 1];
        T = 1;
    }
    res->decode_s = now() - t0 - res->prefill_s;
done:
    tb_sampler_free(&smp);
    tb_kv_cache_free(&cache, m->be);
    tb_llama_acts_free(&acts);
    free(logits);
    if (st != TB_OK) {
        free(res->ids);
        res->ids = NULL;
        res->n = 0;
    }
    return st;
}
