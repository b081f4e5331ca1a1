/* tunebench — the Train form's preflight and assessment. */
#include "tui/train_preflight.h"

#include <stdio.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/io/hf_model.h"
#include "engine/tokenizer/tokenizer.h"

void tb_train_preflight_set_key(tb_train_preflight *p, const tb_train_options *o)
{
    snprintf(p->model, sizeof p->model, "%s", o->model);
    snprintf(p->data, sizeof p->data, "%s", o->data);
    snprintf(p->eval, sizeof p->eval, "%s", o->eval);
    p->max_len = o->max_len;
    p->eval_split = o->eval_split;
    p->seed = o->seed;
}

bool tb_train_preflight_model_matches(const tb_train_preflight *p, const tb_train_options *o)
{
    return p && strcmp(p->model, o->model) == 0;
}

bool tb_train_preflight_matches(const tb_train_preflight *p, const tb_train_options *o)
{
    return tb_train_preflight_model_matches(p, o) && strcmp(p->data, o->data) == 0 && strcmp(p->eval, o->eval) == 0 &&
           p->max_len == o->max_len && p->eval_split == o->eval_split && p->seed == o->seed;
}

/* The refusal names the form's flag; what the engine named (a config.json key, a tensor)
 * moves into the message. */
static tb_status as_flag(tb_error *err, tb_status st, const char *flag)
{
    if (st == TB_OK || strcmp(err->field, flag) == 0)
        return st;
    if (err->field[0]) {
        char m[sizeof err->message];
        snprintf(m, sizeof m, "%s: %s", err->field, err->message);
        snprintf(err->message, sizeof err->message, "%s", m);
    }
    snprintf(err->field, sizeof err->field, "%s", flag);
    return st;
}

/* The model directory as tb_trainer_create reads it: config, weights, tokenizer. */
static tb_status open_model(const tb_train_options *o, tb_train_preflight *out, tb_tokenizer **tok, tb_error *err)
{
    if (!o->model[0])
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "model", "--model DIR is required");
    tb_hf_model *hm;
    tb_status st = tb_hf_model_open(&hm, o->model, err);
    if (st != TB_OK)
        return as_flag(err, st, "model");
    out->cfg = *tb_hf_model_config(hm);
    const tb_st_tensor *embed = tb_hf_model_find(hm, "model.embed_tokens.weight", NULL);
    out->base_dtype = embed ? embed->dtype : TB_DTYPE_F32;
    tb_hf_model_close(hm);
    const char *tp = o->tokenizer[0] ? o->tokenizer : o->model;
    st = tb_path_is_dir(tp) ? tb_tokenizer_load_dir(tok, tp, err) : tb_tokenizer_load(tok, tp, err);
    if (st != TB_OK)
        return as_flag(err, st, "tokenizer");
    if (tb_tokenizer_vocab_size(*tok) > out->cfg.vocab_size)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "tokenizer",
                            "the tokenizer has %d tokens, more than the model's vocabulary of %lld",
                            tb_tokenizer_vocab_size(*tok), (long long)out->cfg.vocab_size);
    return TB_OK;
}

static int64_t longest(const tb_token_set *s)
{
    int64_t m = 0;
    for (int64_t i = 0; i < s->n; i++)
        if (tb_token_set_len(s, i) > m)
            m = tb_token_set_len(s, i);
    return m;
}

void tb_train_preflight_run(const tb_train_options *o, atomic_bool *cancel, tb_train_preflight *out)
{
    memset(out, 0, sizeof *out);
    tb_train_preflight_set_key(out, o);
    tb_tokenizer *tok = NULL;
    tb_error_clear(&out->model_err);
    tb_error_clear(&out->data_err);
    out->model_status = open_model(o, out, &tok, &out->model_err);
    if (!o->data[0])
        out->data_status = tb_error_set(&out->data_err, TB_ERR_INVALID, NULL, 0, "data", "--data FILE is required");
    else
        out->data_status = tb_train_validate_data(o, NULL, cancel, &out->verdict, &out->data_err);
    /* Tokenizing needs the model's tokenizer, and the max length its context. */
    if (out->data_status == TB_OK && out->model_status == TB_OK) {
        tb_train_data d;
        tb_data_opts dopts = tb_train_data_opts(o, &out->cfg, NULL);
        out->data_status = tb_train_data_load(&d, &dopts, tok, &out->data_err);
        out->stats = d.stats;
        out->n_train = d.train.n;
        out->n_eval = d.eval.n;
        int64_t lt = longest(&d.train), le = longest(&d.eval);
        out->longest = lt > le ? lt : le;
        tb_train_data_free(&d);
    }
    tb_tokenizer_free(tok);
    out->done = true;
}

static void refuse(tb_train_assessment *a, const tb_error *err)
{
    if (a->n_refusals >= TB_TRAIN_MAX_REFUSALS)
        return;
    tb_train_refusal *r = &a->refusals[a->n_refusals++];
    snprintf(r->flag, sizeof r->flag, "%s", err->field);
    tb_error e = *err;
    e.field[0] = '\0'; /* the flag is shown apart */
    tb_error_format(&e, r->message, sizeof r->message);
}

void tb_train_assess(const tb_train_options *o, const tb_train_preflight *p, tb_train_assessment *out)
{
    memset(out, 0, sizeof *out);
    tb_error err;
    tb_error_clear(&err);
    bool options_ok = tb_train_options_check(o, &err) == TB_OK;
    if (!options_ok)
        refuse(out, &err);
    bool model_known = p && p->done && tb_train_preflight_model_matches(p, o);
    bool all_known = model_known && tb_train_preflight_matches(p, o);
    out->pending = !all_known;
    bool model_ok = model_known && p->model_status == TB_OK;
    if (model_known && !model_ok)
        refuse(out, &p->model_err);
    tb_error_clear(&err);
    if (model_ok && tb_train_options_check_model(o, &p->cfg, &err) != TB_OK) {
        refuse(out, &err);
        model_ok = false;
    }
    if (all_known && p->data_status != TB_OK && p->data_status != TB_ERR_CANCELLED)
        refuse(out, &p->data_err);
    if (all_known && options_ok && model_ok && p->data_status == TB_OK) {
        out->has_plan = true;
        tb_train_plan_make(o, &p->cfg, p->base_dtype, p->n_train, p->longest, &out->plan);
    }
}
