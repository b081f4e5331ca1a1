/* tunebench — parse and check a Hugging Face config.json (Llama family). */
#include "engine/model/config.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"

#define FAIL(st, field, ...) tb_error_set(err, (st), path, 0, (field), __VA_ARGS__)

/* Integer field: absent -> *out untouched and false; present but not an integer -> error. */
static tb_status get_int(json_t *obj, const char *key, int64_t *out, bool *present, const char *path, tb_error *err)
{
    json_t *v = json_object_get(obj, key);
    *present = v && !json_is_null(v);
    if (!*present)
        return TB_OK;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return TB_OK;
    }
    /* Some exporters write 2048.0; accept integral reals. */
    if (json_is_real(v) && floor(json_real_value(v)) == json_real_value(v) && fabs(json_real_value(v)) < 9e15) {
        *out = (int64_t)json_real_value(v);
        return TB_OK;
    }
    return FAIL(TB_ERR_INVALID, key, "must be an integer");
}

static tb_status get_real(json_t *obj, const char *key, double *out, bool *present, const char *path, tb_error *err)
{
    json_t *v = json_object_get(obj, key);
    *present = v && !json_is_null(v);
    if (!*present)
        return TB_OK;
    if (!json_is_number(v))
        return FAIL(TB_ERR_INVALID, key, "must be a number");
    *out = json_number_value(v);
    return TB_OK;
}

static tb_status require_int(json_t *obj, const char *key, int64_t *out, const char *path, tb_error *err)
{
    bool present;
    tb_status st = get_int(obj, key, out, &present, path, err);
    if (st != TB_OK)
        return st;
    if (!present)
        return FAIL(TB_ERR_INVALID, key, "missing (required for a Llama-family model)");
    return TB_OK;
}

static tb_status parse_rope(tb_llama_config *cfg, json_t *root, const char *path, tb_error *err)
{
    bool present;
    tb_status st;
    cfg->rope_theta = 10000.0;
    cfg->rope_type = TB_ROPE_DEFAULT;
    if ((st = get_real(root, "rope_theta", &cfg->rope_theta, &present, path, err)) != TB_OK)
        return st;
    /* Newer files put rope settings under rope_parameters; older under rope_scaling. */
    json_t *rs = json_object_get(root, "rope_parameters");
    const char *field = "rope_parameters";
    if (!rs || json_is_null(rs)) {
        rs = json_object_get(root, "rope_scaling");
        field = "rope_scaling";
    }
    if (!rs || json_is_null(rs))
        return TB_OK;
    if (!json_is_object(rs))
        return FAIL(TB_ERR_INVALID, field, "must be an object or null");
    if ((st = get_real(rs, "rope_theta", &cfg->rope_theta, &present, path, err)) != TB_OK)
        return st;
    json_t *type = json_object_get(rs, "rope_type");
    if (!type)
        type = json_object_get(rs, "type");
    const char *t = json_is_string(type) ? json_string_value(type) : "default";
    if (strcmp(t, "default") == 0)
        return TB_OK;
    if (strcmp(t, "llama3") != 0)
        return FAIL(TB_ERR_UNSUPPORTED, field, "rope type '%s' is not supported (default and llama3 are)", t);
    cfg->rope_type = TB_ROPE_LLAMA3;
    char sub[64];
    bool p1, p2, p3, p4;
    if ((st = get_real(rs, "factor", &cfg->rope_factor, &p1, path, err)) != TB_OK ||
        (st = get_real(rs, "low_freq_factor", &cfg->rope_low_freq_factor, &p2, path, err)) != TB_OK ||
        (st = get_real(rs, "high_freq_factor", &cfg->rope_high_freq_factor, &p3, path, err)) != TB_OK ||
        (st = get_int(rs, "original_max_position_embeddings", &cfg->rope_orig_max_pos, &p4, path, err)) != TB_OK)
        return st;
    const char *miss = !p1 ? "factor" : !p2 ? "low_freq_factor" : !p3 ? "high_freq_factor"
                     : !p4 ? "original_max_position_embeddings" : NULL;
    if (miss) {
        snprintf(sub, sizeof sub, "%s.%s", field, miss);
        return FAIL(TB_ERR_INVALID, sub, "missing (required for llama3 rope scaling)");
    }
    if (!(cfg->rope_factor > 0) || !(cfg->rope_high_freq_factor > cfg->rope_low_freq_factor) ||
        cfg->rope_orig_max_pos <= 0)
        return FAIL(TB_ERR_INVALID, field,
                    "llama3 rope scaling needs factor > 0, high_freq_factor > low_freq_factor, "
                    "original_max_position_embeddings > 0");
    return TB_OK;
}

static tb_status parse_eos(tb_llama_config *cfg, json_t *root, const char *path, tb_error *err)
{
    cfg->bos_id = -1;
    cfg->n_eos = 0;
    json_t *b = json_object_get(root, "bos_token_id");
    if (json_is_integer(b))
        cfg->bos_id = json_integer_value(b);
    json_t *e = json_object_get(root, "eos_token_id");
    if (json_is_integer(e)) {
        cfg->eos_ids[cfg->n_eos++] = json_integer_value(e);
    } else if (json_is_array(e)) {
        size_t i;
        json_t *v;
        json_array_foreach(e, i, v) {
            if (!json_is_integer(v))
                return FAIL(TB_ERR_INVALID, "eos_token_id", "list entries must be integers");
            if (cfg->n_eos < TB_MAX_EOS)
                cfg->eos_ids[cfg->n_eos++] = json_integer_value(v);
        }
    } else if (e && !json_is_null(e)) {
        return FAIL(TB_ERR_INVALID, "eos_token_id", "must be an integer or a list of integers");
    }
    return TB_OK;
}

static tb_status parse_quant(tb_llama_config *cfg, json_t *root, const char *path, tb_error *err)
{
    json_t *q = json_object_get(root, "quantization_config");
    if (!q || json_is_null(q))
        return TB_OK;
    const char *method = json_string_value(json_object_get(q, "quant_method"));
    if (!method || strcmp(method, "bitsandbytes") != 0)
        return FAIL(TB_ERR_UNSUPPORTED, "quantization_config.quant_method",
                    "'%s' checkpoints are not supported (bitsandbytes 4-bit is)", method ? method : "?");
    if (!json_is_true(json_object_get(q, "load_in_4bit")))
        return FAIL(TB_ERR_UNSUPPORTED, "quantization_config.load_in_4bit",
                    "only 4-bit bitsandbytes checkpoints are supported");
    const char *qt = json_string_value(json_object_get(q, "bnb_4bit_quant_type"));
    if (!qt)
        qt = "fp4"; /* bitsandbytes' default */
    if (strcmp(qt, "nf4") != 0)
        return FAIL(TB_ERR_UNSUPPORTED, "quantization_config.bnb_4bit_quant_type",
                    "'%s' is not supported (nf4 is)", qt);
    cfg->bnb_4bit = true;
    cfg->bnb_double_quant = json_is_true(json_object_get(q, "bnb_4bit_use_double_quant"));
    snprintf(cfg->bnb_quant_type, sizeof cfg->bnb_quant_type, "%s", qt);
    return TB_OK;
}

static tb_status parse_root(tb_llama_config *cfg, json_t *root, const char *path, tb_error *err)
{
    tb_status st;
    bool present;
    /* Architecture: from architectures[0], else model_type. */
    json_t *arch = json_object_get(root, "architectures");
    const char *a = json_is_array(arch) ? json_string_value(json_array_get(arch, 0)) : NULL;
    const char *mt = json_string_value(json_object_get(root, "model_type"));
    snprintf(cfg->model_type, sizeof cfg->model_type, "%s", mt ? mt : "");
    static const struct { const char *arch, *type; } known[] = {
        {"LlamaForCausalLM", "llama"}, {"MistralForCausalLM", "mistral"}, {"Qwen2ForCausalLM", "qwen2"},
    };
    int k = -1;
    for (int i = 0; i < 3; i++)
        if ((a && strcmp(a, known[i].arch) == 0) || (!a && mt && strcmp(mt, known[i].type) == 0))
            k = i;
    if (k < 0)
        return FAIL(TB_ERR_UNSUPPORTED, a ? "architectures" : "model_type",
                    "'%s' is not supported (LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM are)",
                    a ? a : mt ? mt : "(none given)");
    snprintf(cfg->architecture, sizeof cfg->architecture, "%s", known[k].arch);
    if (!mt)
        snprintf(cfg->model_type, sizeof cfg->model_type, "%s", known[k].type);
    cfg->qkv_bias = k == 2; /* Qwen2 always has q/k/v bias */

    /* Mixture-of-experts fields mean another architecture family. */
    static const char *const moe_keys[] = {"num_local_experts", "num_experts", "n_routed_experts"};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(root, moe_keys[i]);
        if (v && json_is_integer(v) && json_integer_value(v) > 1)
            return FAIL(TB_ERR_UNSUPPORTED, moe_keys[i], "mixture-of-experts models are not supported");
    }
    const char *act = json_string_value(json_object_get(root, "hidden_act"));
    if (act && strcmp(act, "silu") != 0)
        return FAIL(TB_ERR_UNSUPPORTED, "hidden_act", "'%s' is not supported (silu is)", act);
    if (json_is_true(json_object_get(root, "mlp_bias")))
        return FAIL(TB_ERR_UNSUPPORTED, "mlp_bias", "MLP biases are not supported");
    if (json_is_true(json_object_get(root, "attention_bias")) && k != 2)
        return FAIL(TB_ERR_UNSUPPORTED, "attention_bias",
                    "attention biases on a Llama model (o_proj bias too) are not supported");

    if ((st = require_int(root, "hidden_size", &cfg->dim, path, err)) != TB_OK ||
        (st = require_int(root, "intermediate_size", &cfg->ffn_dim, path, err)) != TB_OK ||
        (st = require_int(root, "num_hidden_layers", &cfg->n_layers, path, err)) != TB_OK ||
        (st = require_int(root, "num_attention_heads", &cfg->n_heads, path, err)) != TB_OK ||
        (st = require_int(root, "vocab_size", &cfg->vocab_size, path, err)) != TB_OK)
        return st;
    cfg->n_kv_heads = cfg->n_heads;
    if ((st = get_int(root, "num_key_value_heads", &cfg->n_kv_heads, &present, path, err)) != TB_OK)
        return st;
    cfg->head_dim = 0;
    if ((st = get_int(root, "head_dim", &cfg->head_dim, &present, path, err)) != TB_OK)
        return st;
    if (!present) {
        if (cfg->n_heads <= 0)
            return FAIL(TB_ERR_INVALID, "num_attention_heads", "must be positive (got %lld)", (long long)cfg->n_heads);
        if (cfg->dim % cfg->n_heads != 0)
            return FAIL(TB_ERR_INVALID, "num_attention_heads",
                        "%lld heads do not divide hidden_size %lld and no head_dim is given",
                        (long long)cfg->n_heads, (long long)cfg->dim);
        cfg->head_dim = cfg->dim / cfg->n_heads;
    }
    cfg->max_pos = 2048;
    if ((st = get_int(root, "max_position_embeddings", &cfg->max_pos, &present, path, err)) != TB_OK)
        return st;
    cfg->rms_eps = 1e-6;
    if ((st = get_real(root, "rms_norm_eps", &cfg->rms_eps, &present, path, err)) != TB_OK)
        return st;
    json_t *tie = json_object_get(root, "tie_word_embeddings");
    cfg->tie_embeddings = tie ? json_is_true(tie) : false; /* transformers' default for Llama: false */
    if (tie && !json_is_boolean(tie))
        return FAIL(TB_ERR_INVALID, "tie_word_embeddings", "must be true or false");

    /* Sliding window: Qwen2 only uses it when use_sliding_window is true; Mistral's window
     * leaves attention unchanged for sequences up to its length, so it only caps context. */
    if (k == 2 && json_is_true(json_object_get(root, "use_sliding_window")))
        return FAIL(TB_ERR_UNSUPPORTED, "use_sliding_window", "sliding-window attention is not supported");
    cfg->sliding_window = 0;
    if (k == 1 && (st = get_int(root, "sliding_window", &cfg->sliding_window, &present, path, err)) != TB_OK)
        return st;

    if ((st = parse_rope(cfg, root, path, err)) != TB_OK || (st = parse_eos(cfg, root, path, err)) != TB_OK ||
        (st = parse_quant(cfg, root, path, err)) != TB_OK)
        return st;
    cfg->torch_dtype = TB_DTYPE_F32;
    const char *td = json_string_value(json_object_get(root, "torch_dtype"));
    if (!td)
        td = json_string_value(json_object_get(root, "dtype"));
    if (td && !tb_dtype_parse_short(td, &cfg->torch_dtype))
        cfg->torch_dtype = TB_DTYPE_F32;
    return tb_llama_config_validate(cfg, path, err);
}

tb_status tb_llama_config_validate(const tb_llama_config *cfg, const char *path, tb_error *err)
{
    static const struct { const char *name; size_t off; } pos[] = {
        {"hidden_size", offsetof(tb_llama_config, dim)},
        {"intermediate_size", offsetof(tb_llama_config, ffn_dim)},
        {"num_hidden_layers", offsetof(tb_llama_config, n_layers)},
        {"num_attention_heads", offsetof(tb_llama_config, n_heads)},
        {"num_key_value_heads", offsetof(tb_llama_config, n_kv_heads)},
        {"head_dim", offsetof(tb_llama_config, head_dim)},
        {"vocab_size", offsetof(tb_llama_config, vocab_size)},
        {"max_position_embeddings", offsetof(tb_llama_config, max_pos)},
    };
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        int64_t v;
        memcpy(&v, (const char *)cfg + pos[i].off, sizeof v);
        if (v <= 0)
            return FAIL(TB_ERR_INVALID, pos[i].name, "must be positive (got %lld)", (long long)v);
        if (v > ((int64_t)1 << 40))
            return FAIL(TB_ERR_INVALID, pos[i].name, "is implausibly large (%lld)", (long long)v);
    }
    if (cfg->n_heads % cfg->n_kv_heads != 0)
        return FAIL(TB_ERR_INVALID, "num_key_value_heads",
                    "%lld kv heads do not divide %lld attention heads (grouped-query attention needs that)",
                    (long long)cfg->n_kv_heads, (long long)cfg->n_heads);
    if (cfg->head_dim % 2 != 0)
        return FAIL(TB_ERR_INVALID, "head_dim", "must be even for rotary embeddings (got %lld)",
                    (long long)cfg->head_dim);
    if (!(cfg->rms_eps > 0) || !isfinite(cfg->rms_eps))
        return FAIL(TB_ERR_INVALID, "rms_norm_eps", "must be a positive number");
    if (!(cfg->rope_theta > 0) || !isfinite(cfg->rope_theta))
        return FAIL(TB_ERR_INVALID, "rope_theta", "must be a positive number");
    if (cfg->sliding_window < 0)
        return FAIL(TB_ERR_INVALID, "sliding_window", "must be positive or null");
    return TB_OK;
}

tb_status tb_llama_config_parse(tb_llama_config *cfg, const char *json_text, const char *path, tb_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    if (!path)
        path = "config.json";
    json_error_t jerr;
    json_t *root = json_loads(json_text, 0, &jerr);
    if (!root)
        return tb_error_set(err, TB_ERR_FORMAT, path, jerr.line, NULL, "invalid JSON: %s", jerr.text);
    tb_status st = json_is_object(root) ? parse_root(cfg, root, path, err)
                                        : FAIL(TB_ERR_FORMAT, NULL, "config.json must hold a JSON object");
    json_decref(root);
    return st;
}

tb_status tb_llama_config_load(tb_llama_config *cfg, const char *path, tb_error *err)
{
    char *text;
    tb_status st = tb_read_file(path, &text, NULL, err);
    if (st != TB_OK)
        return st;
    st = tb_llama_config_parse(cfg, text, path, err);
    free(text);
    return st;
}
