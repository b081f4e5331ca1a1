/* tunebench — a model directory's tokenizer: DIR/tokenizer.json plus the special tokens that
 * transformers takes from tokenizer_config.json, generation_config.json and config.json. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/tokenizer/tok_internal.h"

enum { WHICH_BOS, WHICH_EOS, WHICH_PAD, WHICH_COUNT };

static const char *const token_keys[WHICH_COUNT] = {"bos_token", "eos_token", "pad_token"};
static const char *const id_keys[WHICH_COUNT] = {"bos_token_id", "eos_token_id", "pad_token_id"};

/* Missing files are fine (NULL, TB_OK); a present file that is not a JSON object is not. */
static tb_status read_json(const char *dir, const char *name, json_t **out, char *path, size_t path_size,
                           tb_error *err)
{
    *out = NULL;
    if (!tb_path_join(path, path_size, dir, name))
        return tb_error_set(err, TB_ERR_INVALID, dir, 0, NULL, "path too long");
    if (!tb_path_exists(path))
        return TB_OK;
    json_error_t jerr;
    /* tokenizer_config.json's model_max_length is often 1e30 written as an integer, which
     * jansson refuses as an integer; read every number as a double (ids fit exactly). */
    json_t *j = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr);
    if (!j)
        return tb_error_set(err, TB_ERR_FORMAT, path, jerr.line, NULL, "invalid JSON: %s", jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return tb_error_set(err, TB_ERR_FORMAT, path, 0, NULL, "not a JSON object");
    }
    *out = j;
    return TB_OK;
}

/* tokenizer_config.json names tokens: "eos_token": "</s>" or {"content": "</s>", ...}. */
static tb_status from_names(tb_tokenizer *tok, json_t *cfg, const char *path, bool have[WHICH_COUNT], tb_error *err)
{
    for (int w = 0; w < WHICH_COUNT; w++) {
        json_t *v = json_object_get(cfg, token_keys[w]);
        if (json_is_object(v))
            v = json_object_get(v, "content");
        if (!json_is_string(v))
            continue;
        int32_t id = tb_tokenizer_token_id(tok, json_string_value(v));
        if (id < 0)
            return tb_error_set(err, TB_ERR_FORMAT, path, 0, token_keys[w], "'%s' is not a token of tokenizer.json",
                                json_string_value(v));
        int32_t *dst = w == WHICH_BOS ? &tok->bos : w == WHICH_EOS ? &tok->eos : &tok->pad;
        *dst = id;
        have[w] = true;
    }
    return TB_OK;
}

/* generation_config.json / config.json give ids; eos_token_id may be a list (first wins). */
static tb_status from_ids(tb_tokenizer *tok, json_t *cfg, const char *path, bool have[WHICH_COUNT], tb_error *err)
{
    for (int w = 0; w < WHICH_COUNT; w++) {
        if (have[w])
            continue;
        json_t *v = json_object_get(cfg, id_keys[w]);
        if (json_is_array(v))
            v = json_array_get(v, 0);
        if (!json_is_number(v))
            continue;
        double d = json_number_value(v);
        if (!(d >= 0 && d < tok->n_ids) || d != (double)(int32_t)d)
            return tb_error_set(err, TB_ERR_FORMAT, path, 0, id_keys[w], "%g is not an id of the vocabulary (%d)", d,
                                tok->n_ids);
        int32_t id = (int32_t)d;
        int32_t *dst = w == WHICH_BOS ? &tok->bos : w == WHICH_EOS ? &tok->eos : &tok->pad;
        *dst = id;
        have[w] = true;
    }
    return TB_OK;
}

/* transformers' LlamaTokenizerFast rebuilds the post-processor from add_bos_token /
 * add_eos_token (update_post_processor), so add_special follows them for Llama classes. */
static tb_status llama_template(tb_tokenizer *tok, json_t *cfg)
{
    const char *cls = json_string_value(json_object_get(cfg, "tokenizer_class"));
    if (!cls || (strcmp(cls, "LlamaTokenizer") != 0 && strcmp(cls, "LlamaTokenizerFast") != 0))
        return TB_OK;
    json_t *ab = json_object_get(cfg, "add_bos_token"), *ae = json_object_get(cfg, "add_eos_token");
    bool add_bos = json_is_boolean(ab) ? json_is_true(ab) : true;
    bool add_eos = json_is_boolean(ae) ? json_is_true(ae) : false;
    free(tok->post_prefix);
    free(tok->post_suffix);
    tok->post_prefix = malloc(sizeof *tok->post_prefix);
    tok->post_suffix = malloc(sizeof *tok->post_suffix);
    if (!tok->post_prefix || !tok->post_suffix)
        return TB_ERR_NOMEM;
    tok->n_post_prefix = add_bos && tok->bos >= 0;
    tok->n_post_suffix = add_eos && tok->eos >= 0;
    tok->post_prefix[0] = tok->bos;
    tok->post_suffix[0] = tok->eos;
    return TB_OK;
}

tb_status tb_tokenizer_load_dir(tb_tokenizer **out, const char *dir, tb_error *err)
{
    *out = NULL;
    char path[4096];
    if (!tb_path_join(path, sizeof path, dir, "tokenizer.json"))
        return tb_error_set(err, TB_ERR_INVALID, dir, 0, NULL, "path too long");
    if (!tb_path_exists(path))
        return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "missing: the model directory has no tokenizer.json");
    tb_tokenizer *tok = NULL;
    tb_status st = tb_tokenizer_load(&tok, path, err);
    if (st != TB_OK)
        return st;
    bool have[WHICH_COUNT] = {false, false, false};
    static const char *const files[] = {"tokenizer_config.json", "generation_config.json", "config.json"};
    json_t *tcfg = NULL;
    for (int f = 0; f < 3 && st == TB_OK; f++) {
        json_t *cfg = NULL;
        st = read_json(dir, files[f], &cfg, path, sizeof path, err);
        if (st == TB_OK && cfg)
            st = f == 0 ? from_names(tok, cfg, path, have, err) : from_ids(tok, cfg, path, have, err);
        if (f == 0)
            tcfg = cfg;
        else
            json_decref(cfg);
    }
    if (st == TB_OK && tcfg && llama_template(tok, tcfg) != TB_OK)
        st = tb_error_set(err, TB_ERR_NOMEM, dir, 0, NULL, "out of memory");
    json_decref(tcfg);
    if (st != TB_OK) {
        tb_tokenizer_free(tok);
        return st;
    }
    *out = tok;
    return TB_OK;
}
