/* tunebench — bind the Llama weights of a Hugging Face model by name and shape. */
#include "engine/model/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/quant/nf4_bnb.h"

/* Find `name`; expect shape [rows, cols] (cols 0: a vector [rows]). */
static tb_status bind(tb_host_tensor *out, const tb_hf_model *m, const char *name, int64_t rows, int64_t cols,
                      bool optional, tb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *file = NULL;
    const tb_st_tensor *t = tb_hf_model_find(m, name, &file);
    if (t && cols && tb_nf4_bnb_present(tb_nf4_source_hf_model(m), name)) {
        *out = (tb_host_tensor){.bnb4 = true, .rows = rows, .cols = cols, .name = t->name, .file = file};
        return TB_OK;
    }
    if (!t) {
        if (optional)
            return TB_OK;
        return tb_error_set(err, TB_ERR_FORMAT, tb_hf_model_dir(m), 0, name,
                            "tensor missing from the model's safetensors (the config calls for it)");
    }
    if (t->dtype != TB_DTYPE_F32 && t->dtype != TB_DTYPE_BF16 && t->dtype != TB_DTYPE_F16)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, file, 0, name,
                            "dtype %s is not supported for weights (F32, BF16, F16 are)", tb_dtype_name(t->dtype));
    bool ok = cols ? (t->ndim == 2 && t->shape[0] == rows && t->shape[1] == cols)
                   : (t->ndim == 1 && t->shape[0] == rows);
    if (!ok) {
        char got[128] = "[", want[64];
        for (int d = 0; d < t->ndim; d++) {
            size_t n = strlen(got);
            snprintf(got + n, sizeof got - n, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
        }
        strncat(got, "]", sizeof got - strlen(got) - 1);
        if (cols)
            snprintf(want, sizeof want, "[%lld, %lld]", (long long)rows, (long long)cols);
        else
            snprintf(want, sizeof want, "[%lld]", (long long)rows);
        return tb_error_set(err, TB_ERR_FORMAT, file, 0, name, "shape %s does not match config.json (expected %s)",
                            got, want);
    }
    out->data = t->data;
    out->dtype = t->dtype;
    out->rows = cols ? rows : 1;
    out->cols = cols ? cols : rows;
    out->name = t->name;
    out->file = file;
    return TB_OK;
}

tb_status tb_llama_host_weights_bind(tb_llama_host_weights *w, const tb_hf_model *m, tb_error *err)
{
    memset(w, 0, sizeof *w);
    const tb_llama_config *c = tb_hf_model_config(m);
    int64_t D = c->dim, F = c->ffn_dim, V = c->vocab_size, q = tb_llama_q_dim(c), kv = tb_llama_kv_dim(c);
    tb_status st;
    if ((st = bind(&w->embed, m, "model.embed_tokens.weight", V, D, false, err)) != TB_OK ||
        (st = bind(&w->final_norm, m, "model.norm.weight", D, 0, false, err)) != TB_OK)
        return st;
    if (c->tie_embeddings)
        w->lm_head = w->embed;
    else if ((st = bind(&w->lm_head, m, "lm_head.weight", V, D, false, err)) != TB_OK)
        return st;
    w->layers = calloc((size_t)c->n_layers, sizeof *w->layers);
    if (!w->layers)
        return tb_error_set(err, TB_ERR_NOMEM, tb_hf_model_dir(m), 0, NULL, "out of memory");
    w->n_layers = c->n_layers;
    for (int64_t i = 0; i < c->n_layers; i++) {
        tb_llama_host_layer *l = &w->layers[i];
        char n[160];
#define BIND(field, suffix, r, cc, opt)                                                    \
    do {                                                                                   \
        snprintf(n, sizeof n, "model.layers.%lld.%s", (long long)i, suffix);               \
        if ((st = bind(&l->field, m, n, (r), (cc), (opt), err)) != TB_OK)                  \
            goto fail;                                                                     \
    } while (0)
        BIND(attn_norm, "input_layernorm.weight", D, 0, false);
        BIND(wq, "self_attn.q_proj.weight", q, D, false);
        BIND(wk, "self_attn.k_proj.weight", kv, D, false);
        BIND(wv, "self_attn.v_proj.weight", kv, D, false);
        BIND(wo, "self_attn.o_proj.weight", D, q, false);
        if (c->qkv_bias) {
            BIND(bq, "self_attn.q_proj.bias", q, 0, false);
            BIND(bk, "self_attn.k_proj.bias", kv, 0, false);
            BIND(bv, "self_attn.v_proj.bias", kv, 0, false);
        }
        BIND(mlp_norm, "post_attention_layernorm.weight", D, 0, false);
        BIND(wgate, "mlp.gate_proj.weight", F, D, false);
        BIND(wup, "mlp.up_proj.weight", F, D, false);
        BIND(wdown, "mlp.down_proj.weight", D, F, false);
#undef BIND
    }
    return TB_OK;
fail:
    tb_llama_host_weights_free(w);
    return st;
}

void tb_llama_host_weights_free(tb_llama_host_weights *w)
{
    if (!w)
        return;
    free(w->layers);
    memset(w, 0, sizeof *w);
}
