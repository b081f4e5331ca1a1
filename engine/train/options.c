/* tunebench — training settings: defaults, checks, JSON. */
#include "engine/train/options.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/fs.h"

void tb_train_options_init(tb_train_options *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->out, sizeof o->out, "runs");
    snprintf(o->backend, sizeof o->backend, "cpu");
    o->mode = TB_TRAIN_LORA;
    o->rank = 16;
    o->targets = TB_LORA_TARGETS_QKVO;
    o->group_by_length = true;
    o->adam_beta1 = 0.9, o->adam_beta2 = 0.999, o->adam_eps = 1e-8;
    o->max_grad_norm = 1.0;
    o->schedule = TB_SCHED_COSINE;
    o->warmup_ratio = 0.03;
    o->epochs = 3;
    o->batch = 4;
    o->grad_accum = 4;
    o->logging_steps = 10;
    o->eval_steps = 50;
    o->save_steps = 500;
    o->save_total_limit = 2;
    o->overfit_evals = 3;
    o->nan_patience = 3;
    o->seed = 42;
    o->save_dtype = TB_DTYPE_COUNT; /* "as the base" */
    o->be.precision = TB_PRECISION_F32;
    o->be.device = -1;
}

double tb_train_options_lr(const tb_train_options *o)
{
    return o->lr > 0 ? o->lr : o->mode == TB_TRAIN_FULL ? 5e-5 : 2e-4;
}

double tb_train_options_alpha(const tb_train_options *o) { return o->alpha > 0 ? o->alpha : 2.0 * (double)o->rank; }

int64_t tb_train_options_max_len(const tb_train_options *o, const tb_llama_config *cfg)
{
    if (o->max_len > 0)
        return o->max_len;
    int64_t ctx = cfg && cfg->max_pos > 0 ? cfg->max_pos : 1024;
    return ctx < 1024 ? ctx : 1024;
}

#define BAD(field, ...) tb_error_set(err, TB_ERR_INVALID, NULL, 0, (field), __VA_ARGS__)

tb_status tb_train_options_check(const tb_train_options *o, tb_error *err)
{
    if (!o->model[0] && !o->init_config[0])
        return BAD("model", "--model DIR is required (or --init-config FILE to train from scratch)");
    if (o->model[0] && o->init_config[0])
        return BAD("init-config", "--model and --init-config exclude each other");
    if (o->init_config[0] && o->mode != TB_TRAIN_FULL)
        return BAD("mode", "a model trained from scratch (--init-config) needs --mode full");
    if (o->init_config[0] && !o->tokenizer[0])
        return BAD("tokenizer", "--init-config needs --tokenizer DIR|FILE (there is no model directory to take it from)");
    if (!o->data[0])
        return BAD("data", "--data FILE is required");
    if (o->mode != TB_TRAIN_LORA && o->mode != TB_TRAIN_FULL)
        return BAD("mode", "'%s' is not available yet: use lora or full", tb_train_mode_name(o->mode));
    if (o->mode == TB_TRAIN_LORA) {
        if (o->rank < 1)
            return BAD("rank", "must be at least 1");
        if (o->alpha < 0 || !isfinite(o->alpha))
            return BAD("alpha", "must be a positive number");
        if (!(o->dropout >= 0 && o->dropout < 1))
            return BAD("dropout", "must be in [0, 1)");
        if (tb_lora_targets_count(o->targets & TB_LORA_TARGETS_ALL) == 0)
            return BAD("targets", "no target module");
    }
    if (o->max_len != 0 && o->max_len < 2)
        return BAD("max-len", "must be at least 2 tokens");
    if (!(o->eval_split >= 0 && o->eval_split <= 0.5))
        return BAD("eval-split", "must be in [0, 0.5]");
    if (o->eval[0] && o->eval_split > 0)
        return BAD("eval-split", "give --eval FILE or --eval-split, not both");
    if (!(o->lr >= 0 && o->lr < 1) || !isfinite(o->lr))
        return BAD("lr", "must be in (0, 1)");
    if (!(o->weight_decay >= 0 && o->weight_decay < 1))
        return BAD("weight-decay", "must be in [0, 1)");
    if (!(o->adam_beta1 >= 0 && o->adam_beta1 < 1) || !(o->adam_beta2 >= 0 && o->adam_beta2 < 1) || !(o->adam_eps > 0))
        return BAD("adam", "betas must be in [0, 1) and eps positive");
    if (!(o->max_grad_norm >= 0) || !isfinite(o->max_grad_norm))
        return BAD("max-grad-norm", "must be >= 0 (0 turns clipping off)");
    if (!(o->warmup_ratio >= 0 && o->warmup_ratio < 1))
        return BAD("warmup-ratio", "must be in [0, 1)");
    if (o->warmup_steps < 0)
        return BAD("warmup-steps", "must be >= 0");
    if (o->max_steps < 0)
        return BAD("max-steps", "must be >= 0");
    if (o->max_steps == 0 && !(o->epochs > 0 && o->epochs <= 1e6))
        return BAD("epochs", "must be positive (or give --max-steps)");
    if (o->batch < 1 || o->batch > 4096)
        return BAD("batch", "must be in [1, 4096]");
    if (o->grad_accum < 1 || o->grad_accum > 4096)
        return BAD("grad-accum", "must be in [1, 4096]");
    if (o->logging_steps < 1)
        return BAD("logging-steps", "must be at least 1");
    if (o->eval_steps < 0 || o->save_steps < 0 || o->save_total_limit < 0)
        return BAD(o->eval_steps < 0 ? "eval-steps" : o->save_steps < 0 ? "save-steps" : "save-total-limit",
                   "must be >= 0 (0: off / keep all)");
    if (o->early_stopping_patience < 0)
        return BAD("early-stopping-patience", "must be >= 0 (0: off)");
    if (o->early_stopping_patience > 0 && !o->eval[0] && o->eval_split <= 0)
        return BAD("early-stopping-patience", "early stopping watches the eval loss: give --eval FILE or --eval-split");
    if (o->save_dtype != TB_DTYPE_COUNT && o->save_dtype != TB_DTYPE_F32 && o->save_dtype != TB_DTYPE_BF16 &&
        o->save_dtype != TB_DTYPE_F16)
        return BAD("save-dtype", "must be f32, bf16 or f16");
    return TB_OK;
}

tb_status tb_train_options_check_model(const tb_train_options *o, const tb_llama_config *cfg, tb_error *err)
{
    if (o->mode == TB_TRAIN_LORA) {
        int64_t max = tb_lora_max_rank(cfg, o->targets);
        if (o->rank > max)
            return BAD("rank",
                       "rank %lld is impossible for this model: the smallest targeted matrix has min(in, out) = %lld",
                       (long long)o->rank, (long long)max);
    }
    int64_t L = tb_train_options_max_len(o, cfg);
    if (cfg->max_pos > 0 && L > cfg->max_pos)
        return BAD("max-len", "%lld tokens exceed the model's context (max_position_embeddings %lld)", (long long)L,
                   (long long)cfg->max_pos);
    if (cfg->sliding_window > 0 && L > cfg->sliding_window)
        return BAD("max-len", "%lld tokens exceed the model's sliding window (%lld), which the engine does not support",
                   (long long)L, (long long)cfg->sliding_window);
    return TB_OK;
}

/* ------------------------------------------------------------------ JSON */

typedef enum kind { K_STR, K_I64, K_U64, K_F64, K_BOOL } kind;

static const struct field {
    const char *name;
    kind k;
    size_t off, size;
} fields[] = {
#define S(n, f) {n, K_STR, offsetof(tb_train_options, f), sizeof(((tb_train_options *)0)->f)}
#define I(n, f) {n, K_I64, offsetof(tb_train_options, f), 0}
#define F(n, f) {n, K_F64, offsetof(tb_train_options, f), 0}
#define B(n, f) {n, K_BOOL, offsetof(tb_train_options, f), 0}
    S("model", model), S("init_config", init_config), S("tokenizer", tokenizer), S("data", data), S("eval", eval),
    S("out", out), S("name", name), I("rank", rank), F("alpha", alpha), F("dropout", dropout), B("rslora", rslora),
    S("map", map), B("train_on_inputs", train_on_inputs), I("max_len", max_len), F("eval_split", eval_split),
    B("packed", packed), B("group_by_length", group_by_length), B("skip_validation", skip_validation),
    F("learning_rate", lr), F("weight_decay", weight_decay), F("adam_beta1", adam_beta1),
    F("adam_beta2", adam_beta2), F("adam_epsilon", adam_eps), F("max_grad_norm", max_grad_norm),
    F("warmup_ratio", warmup_ratio), I("warmup_steps", warmup_steps), F("num_train_epochs", epochs),
    I("max_steps", max_steps), I("per_device_train_batch_size", batch), I("gradient_accumulation_steps", grad_accum),
    B("gradient_checkpointing", checkpointing), I("logging_steps", logging_steps), I("eval_steps", eval_steps),
    I("save_steps", save_steps), I("save_total_limit", save_total_limit),
    I("early_stopping_patience", early_stopping_patience), F("early_stopping_threshold", early_stopping_threshold),
    I("overfit_evals", overfit_evals), I("nan_patience", nan_patience), {"seed", K_U64, offsetof(tb_train_options, seed), 0},
    S("backend", backend),
#undef S
#undef I
#undef F
#undef B
};

char *tb_train_options_to_json(const tb_train_options *o)
{
    json_t *j = json_object();
    const char *base = (const char *)o;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const struct field *f = &fields[i];
        const void *p = base + f->off;
        json_t *v = NULL;
        switch (f->k) {
        case K_STR: v = json_string((const char *)p); break;
        case K_I64: v = json_integer(*(const int64_t *)p); break;
        case K_U64: v = json_integer((json_int_t) * (const uint64_t *)p); break;
        case K_F64: v = json_real(*(const double *)p); break;
        case K_BOOL: v = json_boolean(*(const bool *)p); break;
        }
        json_object_set_new(j, f->name, v);
    }
    char targets[64];
    tb_lora_targets_format(o->targets, targets, sizeof targets);
    json_object_set_new(j, "mode", json_string(tb_train_mode_name(o->mode)));
    json_object_set_new(j, "target_modules", json_string(targets));
    json_object_set_new(j, "format", json_string(tb_format_name(o->format)));
    json_object_set_new(j, "template", json_string(tb_template_name(o->template_kind)));
    json_object_set_new(j, "lr_scheduler_type", json_string(tb_schedule_name(o->schedule)));
    json_object_set_new(j, "save_dtype", json_string(o->save_dtype == TB_DTYPE_COUNT ? "auto" : tb_dtype_short_name(o->save_dtype)));
    json_object_set_new(j, "threads", json_integer(o->be.threads));
    json_object_set_new(j, "precision", json_string(o->be.precision == TB_PRECISION_BF16 ? "bf16" : "f32"));
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(j);
    return text;
}

tb_status tb_train_options_from_json(tb_train_options *o, const char *text, const char *path, tb_error *err)
{
    tb_train_options_init(o);
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j || !json_is_object(j)) {
        json_decref(j);
        return tb_error_set(err, TB_ERR_FORMAT, path, je.line, NULL, "not a settings object: %s", je.text);
    }
    tb_status st = TB_OK;
    char *base = (char *)o;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0] && st == TB_OK; i++) {
        const struct field *f = &fields[i];
        json_t *v = json_object_get(j, f->name);
        if (!v)
            continue;
        void *p = base + f->off;
        bool ok = true;
        switch (f->k) {
        case K_STR:
            if ((ok = json_is_string(v)))
                snprintf((char *)p, f->size, "%s", json_string_value(v));
            break;
        case K_I64:
            if ((ok = json_is_integer(v)))
                *(int64_t *)p = json_integer_value(v);
            break;
        case K_U64:
            if ((ok = json_is_integer(v)))
                *(uint64_t *)p = (uint64_t)json_integer_value(v);
            break;
        case K_F64:
            if ((ok = json_is_number(v)))
                *(double *)p = json_number_value(v);
            break;
        case K_BOOL:
            if ((ok = json_is_boolean(v)))
                *(bool *)p = json_is_true(v);
            break;
        }
        if (!ok)
            st = tb_error_set(err, TB_ERR_FORMAT, path, 0, f->name, "has the wrong type");
    }
    const char *s;
    if (st == TB_OK && (s = json_string_value(json_object_get(j, "mode")))) {
        bool found = false;
        for (int m = 0; m < TB_TRAIN_MODE_COUNT; m++)
            if (strcmp(s, tb_train_mode_name((tb_train_mode)m)) == 0)
                o->mode = (tb_train_mode)m, found = true;
        if (!found)
            st = tb_error_set(err, TB_ERR_FORMAT, path, 0, "mode", "unknown mode '%s'", s);
    }
    if (st == TB_OK && (s = json_string_value(json_object_get(j, "target_modules"))) &&
        tb_lora_targets_parse(s, &o->targets, NULL) != TB_OK)
        st = tb_error_set(err, TB_ERR_FORMAT, path, 0, "target_modules", "cannot read '%s'", s);
    if (st == TB_OK && (s = json_string_value(json_object_get(j, "format"))) && !tb_format_parse(s, &o->format))
        st = tb_error_set(err, TB_ERR_FORMAT, path, 0, "format", "unknown format '%s'", s);
    if (st == TB_OK && (s = json_string_value(json_object_get(j, "template"))) &&
        !tb_template_parse(s, &o->template_kind))
        st = tb_error_set(err, TB_ERR_FORMAT, path, 0, "template", "unknown template '%s'", s);
    if (st == TB_OK && (s = json_string_value(json_object_get(j, "lr_scheduler_type"))) &&
        !tb_schedule_parse(s, &o->schedule))
        st = tb_error_set(err, TB_ERR_FORMAT, path, 0, "lr_scheduler_type", "unknown schedule '%s'", s);
    if (st == TB_OK && (s = json_string_value(json_object_get(j, "save_dtype"))) && strcmp(s, "auto") != 0 &&
        !tb_dtype_parse_short(s, &o->save_dtype))
        st = tb_error_set(err, TB_ERR_FORMAT, path, 0, "save_dtype", "unknown dtype '%s'", s);
    json_t *v = json_object_get(j, "threads");
    if (json_is_integer(v))
        o->be.threads = (int)json_integer_value(v);
    if ((s = json_string_value(json_object_get(j, "precision"))))
        o->be.precision = strcmp(s, "bf16") == 0 ? TB_PRECISION_BF16 : TB_PRECISION_F32;
    json_decref(j);
    return st;
}
