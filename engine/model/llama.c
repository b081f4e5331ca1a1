/* tunebench — load a Llama-family model onto a backend; RoPE frequencies and table. */
#include "engine/model/llama.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* transformers' rope init in f32: inv_freq[i] = 1 / theta^(2i / Dh), then
 * _compute_llama3_parameters for rope_type llama3 (FORMATS.md). */
void tb_llama_inv_freq(const tb_llama_config *cfg, float *inv)
{
    int64_t half = cfg->head_dim / 2;
    for (int64_t i = 0; i < half; i++)
        inv[i] = 1.0f / powf((float)cfg->rope_theta, (float)(2 * i) / (float)cfg->head_dim);
    if (cfg->rope_type != TB_ROPE_LLAMA3)
        return;
    float factor = (float)cfg->rope_factor, lo = (float)cfg->rope_low_freq_factor;
    float old_ctx = (float)cfg->rope_orig_max_pos;
    float lo_wavelen = (float)((double)cfg->rope_orig_max_pos / cfg->rope_low_freq_factor);
    float hi_wavelen = (float)((double)cfg->rope_orig_max_pos / cfg->rope_high_freq_factor);
    float span = (float)(cfg->rope_high_freq_factor - cfg->rope_low_freq_factor);
    for (int64_t i = 0; i < half; i++) {
        float wavelen = (float)(2.0 * M_PI) / inv[i];
        float f = wavelen > lo_wavelen ? inv[i] / factor : inv[i];
        if (!(wavelen < hi_wavelen) && !(wavelen > lo_wavelen)) { /* medium band: interpolate */
            float smooth = (old_ctx / wavelen - lo) / span;
            f = (1.0f - smooth) * f / factor + smooth * f;
        }
        inv[i] = f;
    }
}

tb_status tb_llama_rope_reserve(tb_llama *m, int64_t P, tb_error *err)
{
    if (P <= m->rope_positions)
        return TB_OK;
    int64_t cap = m->rope_positions ? m->rope_positions : 256;
    while (cap < P)
        cap *= 2;
    int64_t Dh = m->cfg.head_dim, half = Dh / 2;
    float *tab = malloc((size_t)(cap * Dh) * sizeof *tab);
    if (!tab)
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "out of memory for the rope table");
    for (int64_t p = 0; p < cap; p++)
        for (int64_t j = 0; j < half; j++) {
            float a = (float)p * m->inv_freq[j]; /* HF: f32 product, then cos/sin in f32 */
            tab[p * Dh + j] = cosf(a);
            tab[p * Dh + half + j] = sinf(a);
        }
    tb_buf *buf;
    tb_status st = m->be->ops->buf_alloc(m->be, &buf, TB_DTYPE_F32, (size_t)(cap * Dh), TB_MEM_OTHER, err);
    if (st == TB_OK) {
        m->be->ops->upload(m->be, tb_view_of(buf), tab, (size_t)(cap * Dh));
        m->be->ops->buf_free(m->be, m->rope);
        m->rope = buf;
        m->rope_positions = cap;
    }
    free(tab);
    return st;
}

/* A backend buffer over one host tensor (the CPU reads the mapping in place). */
static tb_status wrap(tb_llama *m, const tb_host_tensor *t, tb_view *out, tb_error *err)
{
    *out = TB_VIEW_NONE;
    if (!t->data)
        return TB_OK;
    tb_buf *b;
    tb_status st = m->be->ops->buf_from_host(m->be, &b, t->data, t->dtype, (size_t)(t->rows * t->cols),
                                             TB_MEM_WEIGHTS, err);
    if (st != TB_OK)
        return tb_error_set(err, st, t->file, 0, t->name, "%s", err ? err->message : "cannot load");
    m->bufs[m->n_bufs++] = b;
    /* The mapping is the weights' memory once read: count it, so measured peaks compare with
     * the calculator's (which counts the weights). */
    int64_t bytes = t->rows * t->cols * (int64_t)tb_dtype_size(t->dtype);
    tb_mem_account(TB_MEM_WEIGHTS, bytes);
    m->mapped_bytes += bytes;
    *out = tb_view_of(b);
    return TB_OK;
}

tb_status tb_llama_load(tb_llama **out, const char *dir, tb_backend *be, tb_error *err)
{
    *out = NULL;
    tb_llama *m = calloc(1, sizeof *m);
    if (!m)
        return tb_error_set(err, TB_ERR_NOMEM, dir, 0, NULL, "out of memory");
    m->be = be;
    tb_status st = tb_hf_model_open(&m->hf, dir, err);
    if (st != TB_OK)
        goto fail;
    m->cfg = *tb_hf_model_config(m->hf);
    if ((st = tb_llama_host_weights_bind(&m->host, m->hf, err)) != TB_OK)
        goto fail;
    int64_t L = m->cfg.n_layers;
    m->layers = calloc((size_t)L, sizeof *m->layers);
    m->bufs = calloc((size_t)(3 + 12 * L), sizeof *m->bufs);
    m->inv_freq = malloc((size_t)(m->cfg.head_dim / 2) * sizeof *m->inv_freq);
    if (!m->layers || !m->bufs || !m->inv_freq) {
        st = tb_error_set(err, TB_ERR_NOMEM, dir, 0, NULL, "out of memory");
        goto fail;
    }
    tb_view head;
    if ((st = wrap(m, &m->host.embed, &m->embed, err)) != TB_OK ||
        (st = wrap(m, &m->host.final_norm, &m->final_norm, err)) != TB_OK)
        goto fail;
    if (m->cfg.tie_embeddings) /* one buffer, two views */
        head = m->embed;
    else if ((st = wrap(m, &m->host.lm_head, &head, err)) != TB_OK)
        goto fail;
    m->lm_head = tb_wdense(head);
    for (int64_t i = 0; i < L; i++) {
        const tb_llama_host_layer *h = &m->host.layers[i];
        tb_llama_layer *l = &m->layers[i];
        tb_view wq, wk, wv, wo, wg, wu, wd;
        if ((st = wrap(m, &h->attn_norm, &l->attn_norm, err)) != TB_OK ||
            (st = wrap(m, &h->wq, &wq, err)) != TB_OK || (st = wrap(m, &h->wk, &wk, err)) != TB_OK ||
            (st = wrap(m, &h->wv, &wv, err)) != TB_OK || (st = wrap(m, &h->wo, &wo, err)) != TB_OK ||
            (st = wrap(m, &h->bq, &l->bq, err)) != TB_OK || (st = wrap(m, &h->bk, &l->bk, err)) != TB_OK ||
            (st = wrap(m, &h->bv, &l->bv, err)) != TB_OK || (st = wrap(m, &h->mlp_norm, &l->mlp_norm, err)) != TB_OK ||
            (st = wrap(m, &h->wgate, &wg, err)) != TB_OK || (st = wrap(m, &h->wup, &wu, err)) != TB_OK ||
            (st = wrap(m, &h->wdown, &wd, err)) != TB_OK)
            goto fail;
        l->wq = tb_wdense(wq), l->wk = tb_wdense(wk), l->wv = tb_wdense(wv), l->wo = tb_wdense(wo);
        l->wgate = tb_wdense(wg), l->wup = tb_wdense(wu), l->wdown = tb_wdense(wd);
    }
    tb_llama_inv_freq(&m->cfg, m->inv_freq);
    if ((st = tb_llama_rope_reserve(m, 256, err)) != TB_OK)
        goto fail;
    *out = m;
    return TB_OK;
fail:
    tb_llama_free(m);
    return st;
}

void tb_llama_free(tb_llama *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_bufs; i++)
        m->be->ops->buf_free(m->be, m->bufs[i]);
    tb_mem_account(TB_MEM_WEIGHTS, -m->mapped_bytes);
    if (m->rope)
        m->be->ops->buf_free(m->be, m->rope);
    free(m->bufs);
    free(m->layers);
    free(m->inv_freq);
    tb_llama_host_weights_free(&m->host);
    tb_hf_model_close(m->hf);
    free(m);
}
