/* tunebench — PEFT adapter directories: adapter_config.json + adapter_model.safetensors.
 * Format facts: ../shared/reference/FORMATS.md ("PEFT LoRA adapter"). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/io/safetensors.h"
#include "engine/lora/lora.h"

/* ------------------------------------------------------------------ writing */

tb_status tb_lora_save_peft(tb_lora *lo, const char *dir, const char *base_model, tb_dtype dtype, int64_t *bytes,
                            tb_error *err)
{
    tb_param_set *ps = &lo->params;
    if (dtype != TB_DTYPE_F32 && dtype != TB_DTYPE_BF16 && dtype != TB_DTYPE_F16)
        return tb_fail(err, TB_ERR_INVALID, "adapters are written in f32, bf16 or f16");
    tb_status st = tb_mkdirs(dir, err);
    if (st != TB_OK)
        return st;
    float *host = malloc(ps->total * sizeof *host);
    void *conv = malloc(ps->total * tb_dtype_size(dtype));
    tb_lora_layout lay = {0};
    if (!host || !conv) {
        st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = tb_param_set_download(ps, host, err)) != TB_OK)
        goto done;
    size_t bad;
    if (!tb_floats_finite(host, ps->total, &bad)) {
        for (size_t i = 0; i < ps->n; i++)
            if (bad >= ps->p[i].off && bad < ps->p[i].off + ps->p[i].n) {
                st = tb_error_set(err, TB_ERR_NUMERIC, dir, 0, ps->p[i].name,
                                  "element %zu is not finite: refusing to write NaN/Inf into an adapter",
                                  bad - ps->p[i].off);
                goto done;
            }
        st = tb_fail(err, TB_ERR_NUMERIC, "the adapter holds a non-finite value: not written");
        goto done;
    }
    /* The calculator's layout (same names, shapes and order): the written file is the size
     * `tunebench calc` predicts, to the byte. */
    if ((st = tb_lora_layout_build(&lay, &lo->cfg, lo->opt.targets, lo->opt.rank, dtype, err)) != TB_OK)
        goto done;
    tb_convert_from_f32(conv, dtype, host, ps->total);
    for (size_t i = 0; i < lay.n; i++) {
        long k = tb_param_set_find(ps, lay.tensors[i].name);
        if (k < 0) {
            st = tb_fail(err, TB_ERR_INVALID, "%s: not in the adapter", lay.tensors[i].name);
            goto done;
        }
        lay.tensors[i].data = (const char *)conv + ps->p[k].off * tb_dtype_size(dtype);
    }
    char path[4096];
    tb_path_join(path, sizeof path, dir, "adapter_model.safetensors");
    if ((st = tb_safetensors_write(path, lay.tensors, lay.n, tb_peft_adapter_meta, 1, err)) != TB_OK)
        goto done;
    if (bytes)
        *bytes = (int64_t)tb_safetensors_file_size(lay.tensors, lay.n, tb_peft_adapter_meta, 1);

    /* Conservative adapter_config.json: older PEFT versions reject unknown keys. */
    json_t *mods = json_array();
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
        if ((lo->opt.targets >> m) & 1u)
            json_array_append_new(mods, json_string(tb_lora_module_name((tb_lora_module)m)));
    json_t *o = json_object();
    json_object_set_new(o, "peft_type", json_string("LORA"));
    json_object_set_new(o, "task_type", json_string("CAUSAL_LM"));
    json_object_set_new(o, "base_model_name_or_path", json_string(base_model ? base_model : ""));
    json_object_set_new(o, "r", json_integer(lo->opt.rank));
    json_object_set_new(o, "lora_alpha", json_real(lo->opt.alpha));
    json_object_set_new(o, "lora_dropout", json_real(lo->opt.dropout));
    json_object_set_new(o, "target_modules", mods);
    json_object_set_new(o, "bias", json_string("none"));
    json_object_set_new(o, "fan_in_fan_out", json_false());
    json_object_set_new(o, "inference_mode", json_true());
    json_object_set_new(o, "init_lora_weights", json_true());
    json_object_set_new(o, "modules_to_save", json_null());
    json_object_set_new(o, "use_rslora", json_boolean(lo->opt.rslora));
    json_object_set_new(o, "use_dora", json_false());
    json_object_set_new(o, "rank_pattern", json_object());
    json_object_set_new(o, "alpha_pattern", json_object());
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    tb_path_join(path, sizeof path, dir, "adapter_config.json");
    st = text ? tb_atomic_write(path, text, strlen(text), err) : tb_fail(err, TB_ERR_NOMEM, "out of memory");
    free(text);
done:
    tb_lora_layout_free(&lay);
    free(host);
    free(conv);
    return st;
}

/* ------------------------------------------------------------------ reading */

/* "q_proj", "self_attn.q_proj", "model.layers.0.self_attn.q_proj": the last dotted part. */
static tb_status add_target(const char *name, tb_lora_targets *t, const char *path, tb_error *err)
{
    const char *dot = strrchr(name, '.');
    tb_lora_targets one;
    if (tb_lora_targets_parse(dot ? dot + 1 : name, &one, NULL) != TB_OK)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, path, 0, "target_modules",
                            "'%s' is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj", name);
    *t |= one;
    return TB_OK;
}

static bool empty_or_null(json_t *v) { return !v || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) || (json_is_array(v) && json_array_size(v) == 0); }

tb_status tb_lora_read_config(const char *dir, tb_lora_opts *o, tb_error *err)
{
    memset(o, 0, sizeof *o);
    char path[4096];
    if (!tb_path_join(path, sizeof path, dir, "adapter_config.json"))
        return tb_fail(err, TB_ERR_INVALID, "path too long");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return tb_error_set(err, tb_path_exists(path) ? TB_ERR_FORMAT : TB_ERR_IO, path, je.line, NULL,
                            tb_path_exists(path) ? "not valid JSON: %s" : "no adapter_config.json here%s",
                            tb_path_exists(path) ? je.text : " (is this a PEFT adapter directory?)");
    tb_status st = TB_OK;
    json_t *v;
#define BAD(field, ...) (st = tb_error_set(err, TB_ERR_INVALID, path, 0, (field), __VA_ARGS__))
#define UNSUP(field, ...) (st = tb_error_set(err, TB_ERR_UNSUPPORTED, path, 0, (field), __VA_ARGS__))
    if ((v = json_object_get(root, "peft_type")) && json_is_string(v) && strcmp(json_string_value(v), "LORA") != 0) {
        UNSUP("peft_type", "'%s' adapters are not supported (LORA only)", json_string_value(v));
        goto done;
    }
    v = json_object_get(root, "r");
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        BAD("r", "missing or not a positive integer");
        goto done;
    }
    o->rank = json_integer_value(v);
    v = json_object_get(root, "lora_alpha");
    o->alpha = json_is_number(v) ? json_number_value(v) : 8.0; /* PEFT's default lora_alpha */
    v = json_object_get(root, "lora_dropout");
    o->dropout = json_is_number(v) ? json_number_value(v) : 0.0;
    o->rslora = json_is_true(json_object_get(root, "use_rslora"));
    if (json_is_true(json_object_get(root, "use_dora")) || json_is_true(json_object_get(root, "fan_in_fan_out"))) {
        UNSUP(json_is_true(json_object_get(root, "use_dora")) ? "use_dora" : "fan_in_fan_out", "not supported");
        goto done;
    }
    if (!empty_or_null(json_object_get(root, "rank_pattern")) || !empty_or_null(json_object_get(root, "alpha_pattern"))) {
        UNSUP("rank_pattern", "per-module ranks or alphas (rank_pattern / alpha_pattern) are not supported");
        goto done;
    }
    if (!empty_or_null(json_object_get(root, "modules_to_save")) ||
        !empty_or_null(json_object_get(root, "layers_to_transform"))) {
        UNSUP("modules_to_save", "modules_to_save / layers_to_transform are not supported");
        goto done;
    }
    if ((v = json_object_get(root, "bias")) && json_is_string(v) && strcmp(json_string_value(v), "none") != 0) {
        UNSUP("bias", "trained biases ('%s') are not supported", json_string_value(v));
        goto done;
    }
    v = json_object_get(root, "target_modules");
    if (json_is_string(v)) {
        st = strcmp(json_string_value(v), "all-linear") == 0 ? (o->targets = TB_LORA_TARGETS_ALL, TB_OK)
                                                              : add_target(json_string_value(v), &o->targets, path, err);
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_string(e)) {
                BAD("target_modules", "entry %zu is not a string", i);
                break;
            }
            if ((st = add_target(json_string_value(e), &o->targets, path, err)) != TB_OK)
                break;
        }
    } else {
        BAD("target_modules", "missing (a list of module names or \"all-linear\")");
    }
#undef BAD
#undef UNSUP
done:
    json_decref(root);
    return st;
}

tb_status tb_lora_load_peft(tb_lora **out, const char *dir, const tb_llama_config *cfg, tb_backend *be, bool grads,
                            tb_error *err)
{
    *out = NULL;
    tb_lora_opts o;
    tb_status st = tb_lora_read_config(dir, &o, err);
    if (st != TB_OK)
        return st;
    char path[4096];
    tb_path_join(path, sizeof path, dir, "adapter_config.json");
    if ((st = tb_lora_check(cfg, &o, err)) != TB_OK) {
        err->status = st;
        snprintf(err->file, sizeof err->file, "%s", path);
        return st;
    }
    tb_path_join(path, sizeof path, dir, "adapter_model.safetensors");
    tb_safetensors *sf = NULL;
    if ((st = tb_safetensors_open(&sf, path, err)) != TB_OK)
        return st;
    tb_lora *lo = NULL;
    float *host = NULL;
    if ((st = tb_lora_create(&lo, cfg, &o, be, grads, err)) != TB_OK)
        goto done;
    tb_param_set *ps = &lo->params;
    host = calloc(ps->total, sizeof *host);
    if (!host) {
        st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ps->n && st == TB_OK; i++) {
        const tb_param *p = &ps->p[i];
        const tb_st_tensor *t = tb_safetensors_find(sf, p->name);
        if (!t)
            st = tb_error_set(err, TB_ERR_FORMAT, path, 0, p->name,
                              "missing: adapter_config.json targets this module, the file has no tensor for it");
        else if (t->ndim != 2 || t->shape[0] != p->shape[0] || t->shape[1] != p->shape[1])
            st = tb_error_set(err, TB_ERR_FORMAT, path, 0, p->name,
                              "shape does not match the model and r=%lld: expected [%lld, %lld], the file has a "
                              "%d-D tensor of [%lld, ...]",
                              (long long)o.rank, (long long)p->shape[0], (long long)p->shape[1], t->ndim,
                              (long long)t->shape[0]);
        else if (t->dtype != TB_DTYPE_F32 && t->dtype != TB_DTYPE_BF16 && t->dtype != TB_DTYPE_F16)
            st = tb_error_set(err, TB_ERR_UNSUPPORTED, path, 0, p->name, "dtype %s (F32, BF16 or F16 expected)",
                              tb_dtype_name(t->dtype));
        else
            tb_convert_to_f32(host + p->off, t->data, t->dtype, p->n);
    }
    for (size_t i = 0; i < tb_safetensors_count(sf) && st == TB_OK; i++) {
        const tb_st_tensor *t = tb_safetensors_at(sf, i);
        if (tb_param_set_find(ps, t->name) < 0)
            st = tb_error_set(err, TB_ERR_FORMAT, path, 0, t->name,
                              "a tensor adapter_config.json does not account for (other layers or modules?)");
    }
    if (st == TB_OK) {
        size_t bad;
        if (!tb_floats_finite(host, ps->total, &bad))
            st = tb_error_set(err, TB_ERR_NUMERIC, path, 0, NULL, "the adapter holds NaN or Inf values");
    }
    if (st == TB_OK) {
        be->ops->upload(be, tb_view_of(ps->values), host, ps->total);
        st = be->ops->sync(be, err);
    }
done:
    free(host);
    tb_safetensors_close(sf);
    if (st != TB_OK) {
        tb_lora_free(lo);
        return st;
    }
    *out = lo;
    return TB_OK;
}
