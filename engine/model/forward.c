/* tunebench — activations, KV cache and the forward pass of the Llama family.
 *
 * HF LlamaDecoderLayer, per layer:  h = x + o_proj(attn(rope(q), rope(k), v)) with q/k/v
 * projections of rmsnorm(x); x' = h + down(silu(gate(rmsnorm(h))) * up(rmsnorm(h))).
 * The residual additions are the matmuls' beta = 1 accumulation into the stream. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model/llama.h"

/* ------------------------------------------------------------------ activations */

/* Carves consecutive views out of one buffer; sizes rounded to 16 floats (64 bytes). */
typedef struct carver {
    tb_buf *buf;
    size_t at;
} carver;

static tb_view carve(carver *c, int64_t n)
{
    tb_view v = {c->buf, c->at};
    c->at += ((size_t)n + 15) / 16 * 16;
    return v;
}

/* Lays out every view; with buf NULL only counts (the first pass sizes the buffer). */
static size_t layout(tb_llama_acts *a, const tb_llama_config *c, tb_buf *buf)
{
    int64_t N = a->B * a->T, D = c->dim, F = c->ffn_dim, q = tb_llama_q_dim(c), kv = tb_llama_kv_dim(c);
    carver cv = {buf, 0};
    int64_t L = c->n_layers;
    if (a->save) {
        for (int64_t l = 0; l < L; l++) {
            tb_llama_layer_acts *la = &a->layers[l];
            la->x_in = carve(&cv, N * D);
            la->ln1 = carve(&cv, N * D);
            la->rstd1 = carve(&cv, N);
            la->q = carve(&cv, N * q);
            la->k = carve(&cv, N * kv);
            la->v = carve(&cv, N * kv);
            la->att = carve(&cv, N * q);
            la->lse = carve(&cv, a->B * c->n_heads * a->T);
            la->x_mid = carve(&cv, N * D);
            la->ln2 = carve(&cv, N * D);
            la->rstd2 = carve(&cv, N);
            la->gate = carve(&cv, N * F);
            la->up = carve(&cv, N * F);
            la->hmlp = carve(&cv, N * F);
        }
        a->x_out = carve(&cv, N * D);
        a->lnf = carve(&cv, N * D);
        a->rstdf = carve(&cv, N);
    } else {
        /* Inference: one residual stream updated in place, one set of temporaries. */
        tb_llama_layer_acts s;
        s.x_in = s.x_mid = carve(&cv, N * D);
        s.ln1 = s.ln2 = carve(&cv, N * D);
        s.rstd1 = s.rstd2 = s.lse = TB_VIEW_NONE;
        s.q = carve(&cv, N * q);
        s.k = carve(&cv, N * kv);
        s.v = carve(&cv, N * kv);
        s.att = carve(&cv, N * q);
        s.gate = s.hmlp = carve(&cv, N * F);
        s.up = carve(&cv, N * F);
        for (int64_t l = 0; l < L; l++)
            a->layers[l] = s;
        a->x_out = s.x_in;
        a->lnf = s.ln1;
        a->rstdf = TB_VIEW_NONE;
    }
    a->logits = carve(&cv, a->logit_rows * c->vocab_size);
    return cv.at;
}

tb_status tb_llama_acts_init(tb_llama_acts *a, const tb_llama *m, int64_t B, int64_t T, bool save,
                             int64_t logit_rows, tb_error *err)
{
    memset(a, 0, sizeof *a);
    a->B = B, a->T = T, a->save = save, a->logit_rows = logit_rows > 0 ? logit_rows : 1, a->be = m->be;
    if (B <= 0 || T <= 0)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, NULL, "activations need B > 0 and T > 0");
    a->layers = calloc((size_t)m->cfg.n_layers, sizeof *a->layers);
    if (!a->layers)
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "out of memory");
    size_t n = layout(a, &m->cfg, NULL);
    tb_status st = m->be->ops->buf_alloc(m->be, &a->mem, TB_DTYPE_F32, n, TB_MEM_ACTIVATIONS, err);
    if (st == TB_OK)
        st = m->be->ops->buf_alloc(m->be, &a->ids, TB_DTYPE_I32, (size_t)(B * T), TB_MEM_ACTIVATIONS, err);
    if (st != TB_OK) {
        tb_llama_acts_free(a);
        return st;
    }
    layout(a, &m->cfg, a->mem);
    return TB_OK;
}

void tb_llama_acts_free(tb_llama_acts *a)
{
    if (!a || !a->be)
        return;
    a->be->ops->buf_free(a->be, a->mem);
    a->be->ops->buf_free(a->be, a->ids);
    free(a->layers);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------------ KV cache */

tb_status tb_kv_cache_init(tb_kv_cache *c, const tb_llama *m, int64_t B, int64_t Tmax, tb_error *err)
{
    memset(c, 0, sizeof *c);
    int64_t L = m->cfg.n_layers, per = B * Tmax * tb_llama_kv_dim(&m->cfg);
    c->B = B, c->Tmax = Tmax;
    c->k = calloc((size_t)L, sizeof *c->k);
    c->v = calloc((size_t)L, sizeof *c->v);
    if (!c->k || !c->v) {
        tb_kv_cache_free(c, m->be);
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "out of memory");
    }
    tb_status st = m->be->ops->buf_alloc(m->be, &c->mem, TB_DTYPE_F32, (size_t)(2 * L * per), TB_MEM_ACTIVATIONS, err);
    if (st != TB_OK) {
        tb_kv_cache_free(c, m->be);
        return st;
    }
    for (int64_t l = 0; l < L; l++) {
        c->k[l] = (tb_view){c->mem, (size_t)(2 * l * per)};
        c->v[l] = (tb_view){c->mem, (size_t)((2 * l + 1) * per)};
    }
    return TB_OK;
}

void tb_kv_cache_free(tb_kv_cache *c, tb_backend *be)
{
    if (!c)
        return;
    if (c->mem)
        be->ops->buf_free(be, c->mem);
    free(c->k);
    free(c->v);
    memset(c, 0, sizeof *c);
}

/* ------------------------------------------------------------------ forward */

static bool same(tb_view a, tb_view b) { return a.buf == b.buf && a.off == b.off; }

tb_status tb_llama_forward(tb_llama *m, tb_llama_acts *a, const int32_t *ids, int64_t B, int64_t T,
                           tb_kv_cache *cache, tb_error *err)
{
    const tb_llama_config *c = &m->cfg;
    const tb_backend_ops *op = m->be->ops;
    tb_backend *be = m->be;
    if (B <= 0 || T <= 0 || B > a->B || T > a->T)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, NULL,
                            "batch %lld x %lld does not fit the activations (%lld x %lld)", (long long)B,
                            (long long)T, (long long)a->B, (long long)a->T);
    int64_t pos0 = cache ? cache->len : 0;
    if (cache && (B != cache->B || pos0 + T > cache->Tmax))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, NULL,
                            "KV cache of %lld x %lld positions cannot take %lld more tokens at position %lld",
                            (long long)cache->B, (long long)cache->Tmax, (long long)T, (long long)pos0);
    if (c->sliding_window > 0 && pos0 + T > c->sliding_window)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "sliding_window",
                            "%lld positions exceed the model's sliding window of %lld: sliding-window attention "
                            "is not supported (full attention equals it only within the window)",
                            (long long)(pos0 + T), (long long)c->sliding_window);
    for (int64_t i = 0; i < B * T; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "ids",
                                "token id %d (position %lld) is outside the vocabulary [0, %lld)", ids[i],
                                (long long)i, (long long)c->vocab_size);
    tb_status st = tb_llama_rope_reserve(m, pos0 + T, err);
    if (st != TB_OK)
        return st;
    int64_t N = B * T, D = c->dim, F = c->ffn_dim, H = c->n_heads, Hkv = c->n_kv_heads, Dh = c->head_dim;
    int64_t qd = H * Dh, kvd = Hkv * Dh;
    float eps = (float)c->rms_eps;
    tb_view rope = tb_view_of(m->rope);
    op->upload(be, tb_view_of(a->ids), ids, (size_t)N);

    op->embedding_forward(be, a->layers[0].x_in, m->embed, tb_view_of(a->ids), N, D);  /* (N, D) */
    for (int64_t l = 0; l < c->n_layers; l++) {
        const tb_llama_layer *w = &m->layers[l];
        tb_llama_layer_acts *s = &a->layers[l];
        /* attention block */
        op->rmsnorm_forward(be, s->ln1, s->rstd1, s->x_in, w->attn_norm, N, D, eps);        /* (N, D) */
        tb_view kdst = s->k, vdst = s->v;                                                 /* (N, kvd) */
        if (cache && B == 1) { /* project straight into the cache rows */
            kdst = tb_view_at(cache->k[l], (size_t)(pos0 * kvd));
            vdst = tb_view_at(cache->v[l], (size_t)(pos0 * kvd));
        }
        op->matmul(be, s->q, s->ln1, w->wq, N, qd, D, TB_MM_TRANS_B, 1.0f, 0.0f);        /* (N, qd) */
        op->matmul(be, kdst, s->ln1, w->wk, N, kvd, D, TB_MM_TRANS_B, 1.0f, 0.0f);
        op->matmul(be, vdst, s->ln1, w->wv, N, kvd, D, TB_MM_TRANS_B, 1.0f, 0.0f);
        if (!tb_view_null(w->bq)) {
            op->add_bias(be, s->q, w->bq, N, qd);
            op->add_bias(be, kdst, w->bk, N, kvd);
            op->add_bias(be, vdst, w->bv, N, kvd);
        }
        op->rope_forward(be, s->q, rope, B, T, H, Dh, pos0);
        op->rope_forward(be, kdst, rope, B, T, Hkv, Dh, pos0);
        tb_attn_dims d = {B, T, pos0, H, Hkv, Dh, T * kvd, 1.0f / sqrtf((float)Dh)};
        tb_view ksrc = s->k, vsrc = s->v;
        if (cache) {
            if (B > 1)
                for (int64_t b = 0; b < B; b++) {
                    size_t to = (size_t)((b * cache->Tmax + pos0) * kvd), from = (size_t)(b * T * kvd);
                    op->copy(be, tb_view_at(cache->k[l], to), tb_view_at(s->k, from), (size_t)(T * kvd));
                    op->copy(be, tb_view_at(cache->v[l], to), tb_view_at(s->v, from), (size_t)(T * kvd));
                }
            ksrc = cache->k[l], vsrc = cache->v[l];
            d.kv_stride_b = cache->Tmax * kvd;
        }
        op->attention_forward(be, s->att, s->lse, s->q, ksrc, vsrc, &d);                  /* (N, qd) */
        if (!same(s->x_mid, s->x_in))
            op->copy(be, s->x_mid, s->x_in, (size_t)(N * D));
        op->matmul(be, s->x_mid, s->att, w->wo, N, D, qd, TB_MM_TRANS_B, 1.0f, 1.0f);     /* x += o_proj */
        /* MLP block */
        op->rmsnorm_forward(be, s->ln2, s->rstd2, s->x_mid, w->mlp_norm, N, D, eps);
        op->matmul(be, s->gate, s->ln2, w->wgate, N, F, D, TB_MM_TRANS_B, 1.0f, 0.0f);    /* (N, F) */
        op->matmul(be, s->up, s->ln2, w->wup, N, F, D, TB_MM_TRANS_B, 1.0f, 0.0f);
        op->swiglu_forward(be, s->hmlp, s->gate, s->up, (size_t)(N * F));
        tb_view next = l + 1 < c->n_layers ? a->layers[l + 1].x_in : a->x_out;
        if (!same(next, s->x_mid))
            op->copy(be, next, s->x_mid, (size_t)(N * D));
        op->matmul(be, next, s->hmlp, w->wdown, N, D, F, TB_MM_TRANS_B, 1.0f, 1.0f);      /* x += down */
    }
    op->rmsnorm_forward(be, a->lnf, a->rstdf, a->x_out, m->final_norm, N, D, eps);         /* (N, D) */
    if (cache)
        cache->len += T;
    return TB_OK;
}

void tb_llama_logits(const tb_llama *m, tb_llama_acts *a, int64_t row0, int64_t rows)
{
    int64_t D = m->cfg.dim;
    m->be->ops->matmul(m->be, a->logits, tb_view_at(a->lnf, (size_t)(row0 * D)), m->lm_head, rows,
                       m->cfg.vocab_size, D, TB_MM_TRANS_B, 1.0f, 0.0f);                  /* (rows, V) */
}
