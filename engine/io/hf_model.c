/* tunebench — Hugging Face model directory: config + (sharded) safetensors. */
#include "engine/io/hf_model.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"

struct tb_hf_model {
    char dir[4096];
    tb_llama_config cfg;
    tb_safetensors **shards;  /* (n_shards) */
    size_t n_shards;
};

static tb_status open_shard(tb_hf_model *m, const char *path, tb_error *err)
{
    tb_safetensors **grown = realloc(m->shards, (m->n_shards + 1) * sizeof *grown);
    if (!grown)
        return tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory");
    m->shards = grown;
    tb_status st = tb_safetensors_open(&m->shards[m->n_shards], path, err);
    if (st == TB_OK)
        m->n_shards++;
    return st;
}

/* model.safetensors.index.json: {"metadata": {...}, "weight_map": {tensor: shard file}}.
 * Shards open once each, in first-mention order; each mapped tensor must be in its shard. */
static tb_status open_index(tb_hf_model *m, const char *index_path, tb_error *err)
{
    char *text;
    tb_status st = tb_read_file(index_path, &text, NULL, err);
    if (st != TB_OK)
        return st;
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    free(text);
    if (!root)
        return tb_error_set(err, TB_ERR_FORMAT, index_path, jerr.line, NULL, "invalid JSON: %s", jerr.text);
    json_t *map = json_object_get(root, "weight_map");
    if (!json_is_object(map) || json_object_size(map) == 0) {
        json_decref(root);
        return tb_error_set(err, TB_ERR_FORMAT, index_path, 0, "weight_map",
                            "missing or empty (expected {\"tensor name\": \"shard file\"})");
    }
    const char *name;
    json_t *v;
    json_object_foreach(map, name, v) {
        const char *file = json_string_value(v);
        if (!file || !file[0] || strchr(file, '/') || strcmp(file, "..") == 0) {
            st = tb_error_set(err, TB_ERR_FORMAT, index_path, 0, name,
                              "weight_map entry must be a shard file name in the model directory");
            break;
        }
        char path[4096];
        if (!tb_path_join(path, sizeof path, m->dir, file)) {
            st = tb_error_set(err, TB_ERR_INVALID, index_path, 0, name, "shard path too long");
            break;
        }
        size_t s = 0;
        while (s < m->n_shards && strcmp(tb_safetensors_path(m->shards[s]), path) != 0)
            s++;
        if (s == m->n_shards && (st = open_shard(m, path, err)) != TB_OK)
            break;
        if (!tb_safetensors_find(m->shards[s], name)) {
            st = tb_error_set(err, TB_ERR_FORMAT, path, 0, name,
                              "tensor is listed in model.safetensors.index.json but missing from this shard");
            break;
        }
    }
    json_decref(root);
    return st;
}

tb_status tb_hf_model_open(tb_hf_model **out, const char *dir, tb_error *err)
{
    *out = NULL;
    tb_hf_model *m = calloc(1, sizeof *m);
    if (!m)
        return tb_error_set(err, TB_ERR_NOMEM, dir, 0, NULL, "out of memory");
    tb_status st;
    char path[4096];
    if (snprintf(m->dir, sizeof m->dir, "%s", dir) >= (int)sizeof m->dir) {
        st = tb_error_set(err, TB_ERR_INVALID, dir, 0, NULL, "path too long");
        goto fail;
    }
    if (!tb_path_is_dir(dir)) {
        st = tb_error_set(err, TB_ERR_IO, dir, 0, NULL, "not a directory (expected a Hugging Face model directory)");
        goto fail;
    }
    tb_path_join(path, sizeof path, dir, "config.json");
    if ((st = tb_llama_config_load(&m->cfg, path, err)) != TB_OK)
        goto fail;
    tb_path_join(path, sizeof path, dir, "model.safetensors");
    if (tb_path_exists(path)) {
        st = open_shard(m, path, err);
    } else {
        tb_path_join(path, sizeof path, dir, "model.safetensors.index.json");
        if (tb_path_exists(path)) {
            st = open_index(m, path, err);
        } else {
            tb_path_join(path, sizeof path, dir, "pytorch_model.bin");
            st = tb_error_set(err, TB_ERR_IO, dir, 0, NULL,
                              tb_path_exists(path)
                                  ? "has only pytorch_model.bin (pickle): convert the model to safetensors"
                                  : "no model.safetensors or model.safetensors.index.json");
        }
    }
    if (st != TB_OK)
        goto fail;
    *out = m;
    return TB_OK;
fail:
    tb_hf_model_close(m);
    return st;
}

void tb_hf_model_close(tb_hf_model *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_shards; i++)
        tb_safetensors_close(m->shards[i]);
    free(m->shards);
    free(m);
}

const tb_llama_config *tb_hf_model_config(const tb_hf_model *m) { return &m->cfg; }
const char *tb_hf_model_dir(const tb_hf_model *m) { return m->dir; }

const tb_st_tensor *tb_hf_model_find(const tb_hf_model *m, const char *name, const char **file)
{
    for (size_t i = 0; i < m->n_shards; i++) {
        const tb_st_tensor *t = tb_safetensors_find(m->shards[i], name);
        if (t) {
            if (file)
                *file = tb_safetensors_path(m->shards[i]);
            return t;
        }
    }
    return NULL;
}

size_t tb_hf_model_tensor_count(const tb_hf_model *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n_shards; i++)
        n += tb_safetensors_count(m->shards[i]);
    return n;
}

const tb_st_tensor *tb_hf_model_tensor_at(const tb_hf_model *m, size_t i, const char **file)
{
    for (size_t s = 0; s < m->n_shards; s++) {
        size_t n = tb_safetensors_count(m->shards[s]);
        if (i < n) {
            if (file)
                *file = tb_safetensors_path(m->shards[s]);
            return tb_safetensors_at(m->shards[s], i);
        }
        i -= n;
    }
    return NULL;
}
