/* tunebench — weights as trainable parameters; models from a config; model directories. */
#include "engine/model/params.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/core/rng.h"
#include "engine/io/safetensors.h"

/* One weight of the model: where its view lives (plain or as a matmul operand), where its
 * gradient view goes, its HF name and shape, and whether weight decay applies. */
typedef struct entry {
    char name[96];
    tb_view *v;          /* norms, biases, embedding */
    tb_wview *w;         /* matrices */
    tb_view *g;          /* gradient view to set */
    int64_t rows, cols;  /* cols 0: vector */
    bool decay, ones;    /* ones: RMSNorm weight (init 1) */
} entry;

/* Decaying weights first (embedding, head, matrices), then norms and biases. */
static int entries(tb_llama *m, tb_llama_grads *g, entry *e)
{
    const tb_llama_config *c = &m->cfg;
    int64_t D = c->dim, F = c->ffn_dim, q = tb_llama_q_dim(c), kv = tb_llama_kv_dim(c), V = c->vocab_size;
    int n = 0;
#define ADD(nm, vp, wp, gp, r, cl, dec, one)                                    \
    do {                                                                       \
        e[n] = (entry){"", (vp), (wp), (gp), (r), (cl), (dec), (one)};         \
        snprintf(e[n].name, sizeof e[n].name, "%s", (nm));                     \
        n++;                                                                   \
    } while (0)
    ADD("model.embed_tokens.weight", &m->embed, NULL, &g->embed, V, D, true, false);
    if (!c->tie_embeddings)
        ADD("lm_head.weight", NULL, &m->lm_head, &g->lm_head, V, D, true, false);
    char nm[96];
#define LAYER(suffix) (snprintf(nm, sizeof nm, "model.layers.%lld.%s", (long long)l, (suffix)), nm)
    for (int64_t l = 0; l < c->n_layers; l++) {
        tb_llama_layer *w = &m->layers[l];
        tb_llama_layer_grads *lg = &g->layers[l];
        ADD(LAYER("self_attn.q_proj.weight"), NULL, &w->wq, &lg->wq, q, D, true, false);
        ADD(LAYER("self_attn.k_proj.weight"), NULL, &w->wk, &lg->wk, kv, D, true, false);
        ADD(LAYER("self_attn.v_proj.weight"), NULL, &w->wv, &lg->wv, kv, D, true, false);
        ADD(LAYER("self_attn.o_proj.weight"), NULL, &w->wo, &lg->wo, D, q, true, false);
        ADD(LAYER("mlp.gate_proj.weight"), NULL, &w->wgate, &lg->wgate, F, D, true, false);
        ADD(LAYER("mlp.up_proj.weight"), NULL, &w->wup, &lg->wup, F, D, true, false);
        ADD(LAYER("mlp.down_proj.weight"), NULL, &w->wdown, &lg->wdown, D, F, true, false);
    }
    ADD("model.norm.weight", &m->final_norm, NULL, &g->final_norm, D, 0, false, true);
    for (int64_t l = 0; l < c->n_layers; l++) {
        tb_llama_layer *w = &m->layers[l];
        tb_llama_layer_grads *lg = &g->layers[l];
        ADD(LAYER("input_layernorm.weight"), &w->attn_norm, NULL, &lg->attn_norm, D, 0, false, true);
        ADD(LAYER("post_attention_layernorm.weight"), &w->mlp_norm, NULL, &lg->mlp_norm, D, 0, false, true);
        if (c->qkv_bias) {
            ADD(LAYER("self_attn.q_proj.bias"), &w->bq, NULL, &lg->bq, q, 0, false, false);
            ADD(LAYER("self_attn.k_proj.bias"), &w->bk, NULL, &lg->bk, kv, 0, false, false);
            ADD(LAYER("self_attn.v_proj.bias"), &w->bv, NULL, &lg->bv, kv, 0, false, false);
        }
    }
#undef LAYER
#undef ADD
    return n;
}

static int max_entries(const tb_llama_config *c) { return 4 + 12 * (int)c->n_layers; }

static tb_view entry_view(const entry *e) { return e->v ? *e->v : e->w->v; }
static int64_t entry_elems(const entry *e) { return e->rows * (e->cols ? e->cols : 1); }

tb_status tb_llama_params_create(tb_llama *m, tb_llama_params *p, tb_error *err)
{
    memset(p, 0, sizeof *p);
    const tb_llama_config *c = &m->cfg;
    entry *e = calloc((size_t)max_entries(c), sizeof *e);
    p->grads.layers = calloc((size_t)c->n_layers, sizeof *p->grads.layers);
    if (!e || !p->grads.layers) {
        free(e);
        free(p->grads.layers);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    int n = entries(m, &p->grads, e);
    tb_status st = TB_OK;
    for (int i = 0; i < n && st == TB_OK; i++)
        st = tb_param_set_add(&p->set, e[i].name, e[i].cols ? 2 : 1, e[i].rows, e[i].cols, e[i].decay, err);
    if (st == TB_OK)
        st = tb_param_set_alloc(&p->set, m->be, TB_MEM_WEIGHTS, true, err);
    if (st != TB_OK) {
        free(e);
        tb_llama_params_free(m, p);
        return st;
    }
    for (int i = 0; i < n; i++) {
        tb_view src = entry_view(&e[i]), dst = tb_param_value(&p->set, (size_t)i);
        if (src.buf) /* a model from tb_llama_create has no values yet */
            m->be->ops->copy(m->be, dst, src, (size_t)entry_elems(&e[i]));
        if (e[i].v)
            *e[i].v = dst;
        else
            *e[i].w = tb_wdense(dst);
        *e[i].g = tb_param_grad(&p->set, (size_t)i);
    }
    if (c->tie_embeddings) { /* one tensor, two uses: the head's gradient adds into the embedding's */
        m->lm_head = tb_wdense(m->embed);
        p->grads.lm_head = p->grads.embed;
    }
    for (int64_t l = 0; l < c->n_layers && !c->qkv_bias; l++)
        p->grads.layers[l].bq = p->grads.layers[l].bk = p->grads.layers[l].bv = TB_VIEW_NONE;
    free(e);
    m->grads = &p->grads;
    return m->be->ops->sync(m->be, err);
}

void tb_llama_params_free(tb_llama *m, tb_llama_params *p)
{
    if (!p)
        return;
    if (m && m->grads == &p->grads)
        m->grads = NULL;
    tb_param_set_free(&p->set);
    free(p->grads.layers);
    memset(p, 0, sizeof *p);
}

tb_status tb_llama_params_init_random(tb_llama_params *p, uint64_t seed, double std, tb_error *err)
{
    tb_param_set *s = &p->set;
    float *host = calloc(s->total, sizeof *host);
    if (!host)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    tb_rng rng;
    tb_rng_seed(&rng, seed);
    for (size_t i = 0; i < s->n; i++) {
        const tb_param *t = &s->p[i];
        bool norm = strstr(t->name, "norm.weight") != NULL, bias = strstr(t->name, ".bias") != NULL;
        for (size_t k = 0; k < t->n; k++)
            host[t->off + k] = norm ? 1.0f : bias ? 0.0f : (float)(std * tb_rng_normal(&rng));
    }
    s->be->ops->upload(s->be, tb_view_of(s->values), host, s->total);
    free(host);
    return s->be->ops->sync(s->be, err);
}

tb_status tb_llama_create(tb_llama **out, const tb_llama_config *cfg, tb_backend *be, tb_error *err)
{
    *out = NULL;
    tb_status st = tb_llama_config_validate(cfg, "config", err);
    if (st != TB_OK)
        return st;
    tb_llama *m = calloc(1, sizeof *m);
    if (!m)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    m->be = be;
    m->cfg = *cfg;
    m->layers = calloc((size_t)cfg->n_layers, sizeof *m->layers);
    m->inv_freq = malloc((size_t)(cfg->head_dim / 2 > 0 ? cfg->head_dim / 2 : 1) * sizeof *m->inv_freq);
    if (!m->layers || !m->inv_freq) {
        tb_llama_free(m);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    tb_llama_inv_freq(&m->cfg, m->inv_freq);
    if ((st = tb_llama_rope_reserve(m, 256, err)) != TB_OK) {
        tb_llama_free(m);
        return st;
    }
    *out = m;
    return TB_OK;
}

/* ------------------------------------------------------------------ model directories */

char *tb_llama_config_json(const tb_llama_config *c, tb_dtype dtype)
{
    json_t *o = json_object();
    json_object_set_new(o, "architectures", json_pack("[s]", c->architecture[0] ? c->architecture : "LlamaForCausalLM"));
    json_object_set_new(o, "model_type", json_string(c->model_type[0] ? c->model_type : "llama"));
    json_object_set_new(o, "hidden_size", json_integer(c->dim));
    json_object_set_new(o, "intermediate_size", json_integer(c->ffn_dim));
    json_object_set_new(o, "num_hidden_layers", json_integer(c->n_layers));
    json_object_set_new(o, "num_attention_heads", json_integer(c->n_heads));
    json_object_set_new(o, "num_key_value_heads", json_integer(c->n_kv_heads));
    json_object_set_new(o, "head_dim", json_integer(c->head_dim));
    json_object_set_new(o, "vocab_size", json_integer(c->vocab_size));
    json_object_set_new(o, "max_position_embeddings", json_integer(c->max_pos));
    json_object_set_new(o, "rms_norm_eps", json_real(c->rms_eps));
    json_object_set_new(o, "rope_theta", json_real(c->rope_theta));
    if (c->rope_type == TB_ROPE_LLAMA3)
        json_object_set_new(o, "rope_scaling",
                            json_pack("{s:s, s:f, s:f, s:f, s:I}", "rope_type", "llama3", "factor", c->rope_factor,
                                      "low_freq_factor", c->rope_low_freq_factor, "high_freq_factor",
                                      c->rope_high_freq_factor, "original_max_position_embeddings",
                                      (json_int_t)c->rope_orig_max_pos));
    else
        json_object_set_new(o, "rope_scaling", json_null());
    json_object_set_new(o, "tie_word_embeddings", json_boolean(c->tie_embeddings));
    json_object_set_new(o, "attention_bias", json_boolean(c->qkv_bias));
    json_object_set_new(o, "hidden_act", json_string("silu"));
    if (c->bos_id >= 0)
        json_object_set_new(o, "bos_token_id", json_integer(c->bos_id));
    if (c->n_eos == 1)
        json_object_set_new(o, "eos_token_id", json_integer(c->eos_ids[0]));
    else if (c->n_eos > 1) {
        json_t *a = json_array();
        for (int i = 0; i < c->n_eos; i++)
            json_array_append_new(a, json_integer(c->eos_ids[i]));
        json_object_set_new(o, "eos_token_id", a);
    }
    const char *dt = dtype == TB_DTYPE_BF16 ? "bfloat16" : dtype == TB_DTYPE_F16 ? "float16" : "float32";
    json_object_set_new(o, "torch_dtype", json_string(dt));
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return text;
}

static tb_status copy_file(const char *src_dir, const char *dir, const char *name, tb_error *err)
{
    char from[4096], to[4096];
    if (!tb_path_join(from, sizeof from, src_dir, name) || !tb_path_join(to, sizeof to, dir, name))
        return tb_fail(err, TB_ERR_INVALID, "path too long");
    if (!tb_path_exists(from))
        return TB_OK;
    char *data;
    size_t len;
    tb_status st = tb_read_file(from, &data, &len, err);
    if (st == TB_OK)
        st = tb_atomic_write(to, data, len, err);
    free(data);
    return st;
}

tb_status tb_llama_save(tb_llama *m, const char *dir, tb_dtype dtype, const char *src_dir, tb_error *err)
{
    const tb_llama_config *c = &m->cfg;
    if (dtype != TB_DTYPE_F32 && dtype != TB_DTYPE_BF16 && dtype != TB_DTYPE_F16)
        return tb_fail(err, TB_ERR_INVALID, "models are written in f32, bf16 or f16");
    tb_status st = tb_mkdirs(dir, err);
    if (st != TB_OK)
        return st;
    tb_llama_grads scratch = {0};
    scratch.layers = calloc((size_t)c->n_layers, sizeof *scratch.layers);
    entry *e = calloc((size_t)max_entries(c), sizeof *e);
    tb_st_write *w = calloc((size_t)max_entries(c), sizeof *w);
    void **data = calloc((size_t)max_entries(c), sizeof *data);
    int n = 0;
    if (!scratch.layers || !e || !w || !data) {
        st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        goto done;
    }
    n = entries(m, &scratch, e);
    for (int i = 0; i < n && st == TB_OK; i++) {
        tb_view v = entry_view(&e[i]);
        size_t cnt = (size_t)entry_elems(&e[i]), es = tb_dtype_size(v.buf->dtype);
        float *f = malloc(cnt * sizeof *f);
        void *raw = malloc(cnt * es);
        data[i] = malloc(cnt * tb_dtype_size(dtype));
        if (!f || !raw || !data[i]) {
            free(f), free(raw);
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory for %s", e[i].name);
            break;
        }
        st = m->be->ops->download(m->be, raw, v, cnt, err);
        if (st == TB_OK) {
            tb_convert_to_f32(f, raw, v.buf->dtype, cnt);
            size_t bad;
            if (!tb_floats_finite(f, cnt, &bad))
                st = tb_error_set(err, TB_ERR_NUMERIC, NULL, 0, e[i].name,
                                  "element %zu is not finite: refusing to write a broken model", bad);
            tb_convert_from_f32(data[i], dtype, f, cnt);
        }
        w[i] = (tb_st_write){e[i].name, dtype, e[i].cols ? 2 : 1, {e[i].rows, e[i].cols}, data[i]};
        free(f);
        free(raw);
    }
    char path[4096];
    if (st == TB_OK) {
        const char *meta[] = {"format", "pt"};
        tb_path_join(path, sizeof path, dir, "model.safetensors");
        st = tb_safetensors_write(path, w, (size_t)n, meta, 1, err);
    }
    if (st == TB_OK) {
        char *json = tb_llama_config_json(c, dtype);
        tb_path_join(path, sizeof path, dir, "config.json");
        st = json ? tb_atomic_write(path, json, strlen(json), err) : tb_fail(err, TB_ERR_NOMEM, "out of memory");
        free(json);
    }
    static const char *const tok_files[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json",
                                            "special_tokens_map.json"};
    for (size_t i = 0; st == TB_OK && src_dir && i < sizeof tok_files / sizeof tok_files[0]; i++)
        st = copy_file(src_dir, dir, tok_files[i], err);
done:
    for (int i = 0; data && i < n; i++)
        free(data[i]);
    free(data);
    free(w);
    free(e);
    free(scratch.layers);
    return st;
}
