/* Test helper: tiny random Llama model directories. */
#include "tiny_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/io/safetensors.h"

typedef struct spec_tensor {
    char name[128];
    int64_t rows, cols; /* cols 0: vector */
    bool ones;          /* norms start near 1 */
} spec_tensor;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int add(spec_tensor *t, int *n, const char *name, int64_t rows, int64_t cols, bool ones)
{
    snprintf(t[*n].name, sizeof t[*n].name, "%s", name);
    t[*n].rows = rows;
    t[*n].cols = cols;
    t[*n].ones = ones;
    (*n)++;
    return 0;
}

int tiny_model_write(const char *dir, const tiny_spec *s)
{
    tb_error err;
    if (tb_mkdirs(dir, &err) != TB_OK)
        return -1;
    int64_t Dh = s->Dh ? s->Dh : s->D / s->H, q = s->H * Dh, kv = s->Hkv * Dh;
    char cfg[2048], head_dim[48] = "";
    if (s->Dh)
        snprintf(head_dim, sizeof head_dim, "\"head_dim\":%lld,", (long long)s->Dh);
    snprintf(cfg, sizeof cfg,
             "{\"architectures\":[\"%s\"],\"hidden_size\":%lld,\"intermediate_size\":%lld,"
             "\"num_hidden_layers\":%lld,\"num_attention_heads\":%lld,\"num_key_value_heads\":%lld,"
             "%s\"vocab_size\":%lld,\"rms_norm_eps\":1e-05,\"tie_word_embeddings\":%s,"
             "\"max_position_embeddings\":256,\"bos_token_id\":1,\"eos_token_id\":2%s%s}",
             s->arch ? s->arch : s->bias ? "Qwen2ForCausalLM" : "LlamaForCausalLM", (long long)s->D, (long long)s->F,
             (long long)s->L, (long long)s->H, (long long)s->Hkv, head_dim, (long long)s->V,
             s->tied ? "true" : "false", s->extra ? "," : "", s->extra ? s->extra : "");
    char path[4096];
    tb_path_join(path, sizeof path, dir, "config.json");
    if (tb_atomic_write(path, cfg, strlen(cfg), &err) != TB_OK)
        return -1;

    int cap = 8 + 13 * (int)s->L, n = 0;
    spec_tensor *t = calloc((size_t)cap, sizeof *t);
    add(t, &n, "model.embed_tokens.weight", s->V, s->D, false);
    add(t, &n, "model.norm.weight", s->D, 0, true);
    if (!s->tied)
        add(t, &n, "lm_head.weight", s->V, s->D, false);
    for (int64_t i = 0; i < s->L; i++) {
        char nm[128];
#define L_(suffix, r, c, one)                                                  \
    snprintf(nm, sizeof nm, "model.layers.%lld.%s", (long long)i, suffix);     \
    add(t, &n, nm, r, c, one)
        L_("input_layernorm.weight", s->D, 0, true);
        L_("self_attn.q_proj.weight", q, s->D, false);
        L_("self_attn.k_proj.weight", kv, s->D, false);
        L_("self_attn.v_proj.weight", kv, s->D, false);
        L_("self_attn.o_proj.weight", s->D, q, false);
        if (s->bias) {
            L_("self_attn.q_proj.bias", q, 0, false);
            L_("self_attn.k_proj.bias", kv, 0, false);
            L_("self_attn.v_proj.bias", kv, 0, false);
        }
        L_("post_attention_layernorm.weight", s->D, 0, true);
        L_("mlp.gate_proj.weight", s->F, s->D, false);
        L_("mlp.up_proj.weight", s->F, s->D, false);
        L_("mlp.down_proj.weight", s->D, s->F, false);
#undef L_
    }
    uint64_t rng = s->seed * 2654435761u + 12345;
    int shards = s->shards > 1 ? s->shards : 1;
    tb_st_write *w = calloc((size_t)n, sizeof *w);
    void **bufs = calloc((size_t)n, sizeof *bufs);
    int nw = 0;
    for (int i = 0; i < n; i++) {
        if (s->skip && strcmp(s->skip, t[i].name) == 0)
            continue;
        int64_t rows = t[i].rows + (s->reshape && strcmp(s->reshape, t[i].name) == 0 ? 1 : 0);
        int64_t count = rows * (t[i].cols ? t[i].cols : 1);
        float *f = malloc((size_t)count * sizeof *f);
        for (int64_t k = 0; k < count; k++) {
            float u = (float)((rng_next(&rng) >> 11) * (1.0 / 9007199254740992.0)) - 0.5f;
            f[k] = t[i].ones ? 1.0f + 0.2f * u : 0.4f * u;
        }
        void *data = f;
        if (s->dtype != TB_DTYPE_F32) {
            data = malloc((size_t)count * 2);
            tb_convert_from_f32(data, s->dtype, f, (size_t)count);
            free(f);
        }
        bufs[nw] = data;
        w[nw] = (tb_st_write){t[i].name, s->dtype, t[i].cols ? 2 : 1, {rows, t[i].cols}, data};
        nw++;
    }
    const char *meta[] = {"format", "pt"};
    int rc = 0;
    if (shards == 1) {
        tb_path_join(path, sizeof path, dir, "model.safetensors");
        rc = tb_safetensors_write(path, w, (size_t)nw, meta, 1, &err) == TB_OK ? 0 : -1;
    } else {
        /* round-robin tensors over shards; the index maps each name to its shard */
        size_t idx_cap = 1 << 16, len = 0;
        char *idx = malloc(idx_cap);
        len += (size_t)snprintf(idx + len, idx_cap - len, "{\"metadata\":{\"total_size\":0},\"weight_map\":{");
        tb_st_write *part = calloc((size_t)nw, sizeof *part);
        for (int sh = 0; sh < shards && rc == 0; sh++) {
            int np = 0;
            char fname[64];
            snprintf(fname, sizeof fname, "model-%05d-of-%05d.safetensors", sh + 1, shards);
            for (int i = sh; i < nw; i += shards) {
                part[np++] = w[i];
                len += (size_t)snprintf(idx + len, idx_cap - len, "%s\"%s\":\"%s\"", len > 60 ? "," : "",
                                        w[i].name, fname);
            }
            tb_path_join(path, sizeof path, dir, fname);
            rc = tb_safetensors_write(path, part, (size_t)np, meta, 1, &err) == TB_OK ? 0 : -1;
        }
        len += (size_t)snprintf(idx + len, idx_cap - len, "}}");
        tb_path_join(path, sizeof path, dir, "model.safetensors.index.json");
        if (rc == 0)
            rc = tb_atomic_write(path, idx, len, &err) == TB_OK ? 0 : -1;
        free(part);
        free(idx);
    }
    for (int i = 0; i < nw; i++)
        free(bufs[i]);
    free(bufs);
    free(w);
    free(t);
    return rc;
}
