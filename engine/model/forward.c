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

/* The widest input of a targeted module: the dropout scratch holds any of them. */
static int64_t lora_max_in(const tb_lora *lo)
{
    int64_t w = 0;
    for (int mo = 0; mo < TB_LORA_MODULE_COUNT; mo++) {
        int64_t in, out;
        tb_lora_module_shape(&lo->cfg, (tb_lora_module)mo, &in, &out);
        if ((lo->opt.targets >> mo) & 1u)
            w = in > w ? in : w;
    }
    return w;
}

/* One layer's saved tensors other than x_in. The norm outputs and the SwiGLU output are
 * not among them: backward recomputes them (cheap, elementwise) from what is saved, which
 * keeps about a third less per layer; the forward writes them to shared views. */
static void carve_layer(carver *cv, tb_llama_layer_acts *la, const tb_llama_config *c, const tb_lora *lo, int64_t B,
                        int64_t T)
{
    int64_t N = B * T, q = tb_llama_q_dim(c), kv = tb_llama_kv_dim(c), F = c->ffn_dim, D = c->dim;
    la->rstd1 = carve(cv, N);
    la->q = carve(cv, N * q);
    la->k = carve(cv, N * kv);
    la->v = carve(cv, N * kv);
    la->att = carve(cv, N * q);
    la->lse = carve(cv, B * c->n_heads * T);
    la->x_mid = carve(cv, N * D);
    la->rstd2 = carve(cv, N);
    la->gate = carve(cv, N * F);
    la->up = carve(cv, N * F);
    for (int mo = 0; mo < TB_LORA_MODULE_COUNT; mo++)
        la->lora_h[mo] = lo && ((lo->opt.targets >> mo) & 1u) ? carve(cv, N * lo->opt.rank) : TB_VIEW_NONE;
}

/* Lays out every view; with buf NULL only counts (the first pass sizes the buffer). */
static size_t layout(tb_llama_acts *a, const tb_llama_config *c, const tb_lora *lo, tb_buf *buf)
{
    int64_t N = a->B * a->T, D = c->dim, F = c->ffn_dim, q = tb_llama_q_dim(c), kv = tb_llama_kv_dim(c);
    carver cv = {buf, 0};
    int64_t L = c->n_layers;
    if (a->mode != TB_ACTS_INFERENCE) {
        /* Shared by every layer: the norm outputs (ln1 and ln2 in turn) and the SwiGLU output. */
        tb_view ln = carve(&cv, N * D), hmlp = carve(&cv, N * F);
        tb_llama_layer_acts s;
        if (a->mode == TB_ACTS_CHECKPOINT) /* one set of everything but the layer inputs */
            carve_layer(&cv, &s, c, lo, a->B, a->T);
        for (int64_t l = 0; l < L; l++) {
            if (a->mode == TB_ACTS_SAVE)
                carve_layer(&cv, &s, c, lo, a->B, a->T);
            a->layers[l] = s;
            a->layers[l].x_in = carve(&cv, N * D);
            a->layers[l].ln1 = a->layers[l].ln2 = ln;
            a->layers[l].hmlp = hmlp;
        }
    } else {
        /* Inference: one residual stream updated in place, one set of temporaries. */
        tb_llama_layer_acts s;
        memset(&s, 0, sizeof s);
        s.x_in = s.x_mid = carve(&cv, N * D);
        s.ln1 = s.ln2 = carve(&cv, N * D);
        s.rstd1 = s.rstd2 = s.lse = TB_VIEW_NONE;
        s.q = carve(&cv, N * q);
        s.k = carve(&cv, N * kv);
        s.v = carve(&cv, N * kv);
        s.att = carve(&cv, N * q);
        s.gate = s.hmlp = carve(&cv, N * F);
        s.up = carve(&cv, N * F);
        tb_view h = lo ? carve(&cv, N * lo->opt.rank) : TB_VIEW_NONE; /* consumed at once: one for all */
        for (int mo = 0; mo < TB_LORA_MODULE_COUNT; mo++)
            s.lora_h[mo] = h;
        for (int64_t l = 0; l < L; l++)
            a->layers[l] = s;
    }
    if (a->mode == TB_ACTS_INFERENCE) {
        a->x_out = a->layers[0].x_in;
        a->lnf = a->layers[0].ln1;
        a->rstdf = TB_VIEW_NONE;
    } else {
        a->x_out = carve(&cv, N * D);
        a->lnf = carve(&cv, N * D);
        a->rstdf = carve(&cv, N);
    }
    a->lora_xd = lo && lo->opt.dropout > 0 && a->mode != TB_ACTS_INFERENCE ? carve(&cv, N * lora_max_in(lo))
                                                                           : TB_VIEW_NONE;
    a->logits = carve(&cv, a->logit_rows * c->vocab_size);
    return cv.at;
}

tb_status tb_llama_acts_init(tb_llama_acts *a, const tb_llama *m, int64_t B, int64_t T, tb_acts_mode mode,
                             int64_t logit_rows, tb_error *err)
{
    memset(a, 0, sizeof *a);
    a->B = B, a->T = T, a->mode = mode, a->save = mode != TB_ACTS_INFERENCE, a->be = m->be;
    a->logit_rows = logit_rows > 0 ? logit_rows : 1;
    a->lora_rank = m->lora ? m->lora->opt.rank : 0;
    if (B <= 0 || T <= 0)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, NULL, "activations need B > 0 and T > 0");
    a->layers = calloc((size_t)m->cfg.n_layers, sizeof *a->layers);
    if (!a->layers)
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "out of memory");
    size_t n = layout(a, &m->cfg, m->lora, NULL);
    tb_status st = m->be->ops->buf_alloc(m->be, &a->mem, TB_DTYPE_F32, n, TB_MEM_ACTIVATIONS, err);
    if (st == TB_OK)
        st = m->be->ops->buf_alloc(m->be, &a->ids, TB_DTYPE_I32, (size_t)(B * T), TB_MEM_ACTIVATIONS, err);
    if (st != TB_OK) {
        tb_llama_acts_free(a);
        return st;
    }
    layout(a, &m->cfg, m->lora, a->mem);
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

/* A linear layer: out (N, n_out) = beta * out + x W^T (+ bias) (+ the attached adapter's s B A x). */
static void linear(tb_llama *m, tb_llama_acts *a, int64_t l, tb_lora_module mo, tb_view out, tb_view x, tb_wview w,
                   tb_view bias, int64_t N, int64_t n_out, int64_t n_in, float beta)
{
    const tb_backend_ops *op = m->be->ops;
    if (!tb_view_null(out))
        op->matmul(m->be, out, x, w, N, n_out, n_in, TB_MM_TRANS_B, 1.0f, beta);
    if (!tb_view_null(bias))
        op->add_bias(m->be, out, bias, N, n_out);
    if (tb_lora_has(m->lora, l, mo))
        tb_lora_forward(m->lora, l, mo, out, x, a->layers[l].lora_h[mo], a->lora_xd, N);
}

void tb_llama_layer_forward(tb_llama *m, tb_llama_acts *a, int64_t l, int64_t B, int64_t T, int64_t pos0,
                            tb_kv_cache *cache, tb_view next)
{
    const tb_llama_config *c = &m->cfg;
    const tb_backend_ops *op = m->be->ops;
    tb_backend *be = m->be;
    int64_t N = B * T, D = c->dim, F = c->ffn_dim, H = c->n_heads, Hkv = c->n_kv_heads, Dh = c->head_dim;
    int64_t qd = H * Dh, kvd = Hkv * Dh;
    float eps = (float)c->rms_eps;
    tb_view rope = tb_view_of(m->rope);
    const tb_llama_layer *w = &m->layers[l];
    tb_llama_layer_acts *s = &a->layers[l];
    /* attention block */
    op->rmsnorm_forward(be, s->ln1, s->rstd1, s->x_in, w->attn_norm, N, D, eps);              /* (N, D) */
    tb_view kdst = s->k, vdst = s->v;                                                       /* (N, kvd) */
    if (cache && B == 1) { /* project straight into the cache rows */
        kdst = tb_view_at(cache->k[l], (size_t)(pos0 * kvd));
        vdst = tb_view_at(cache->v[l], (size_t)(pos0 * kvd));
    }
    linear(m, a, l, TB_LORA_Q, s->q, s->ln1, w->wq, w->bq, N, qd, D, 0.0f);                  /* (N, qd) */
    linear(m, a, l, TB_LORA_K, kdst, s->ln1, w->wk, w->bk, N, kvd, D, 0.0f);
    linear(m, a, l, TB_LORA_V, vdst, s->ln1, w->wv, w->bv, N, kvd, D, 0.0f);
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
    op->attention_forward(be, s->att, s->lse, s->q, ksrc, vsrc, &d);                        /* (N, qd) */
    if (!same(s->x_mid, s->x_in))
        op->copy(be, s->x_mid, s->x_in, (size_t)(N * D));
    linear(m, a, l, TB_LORA_O, s->x_mid, s->att, w->wo, TB_VIEW_NONE, N, D, qd, 1.0f);       /* x += o_proj */
    /* MLP block */
    op->rmsnorm_forward(be, s->ln2, s->rstd2, s->x_mid, w->mlp_norm, N, D, eps);
    linear(m, a, l, TB_LORA_GATE, s->gate, s->ln2, w->wgate, TB_VIEW_NONE, N, F, D, 0.0f);   /* (N, F) */
    linear(m, a, l, TB_LORA_UP, s->up, s->ln2, w->wup, TB_VIEW_NONE, N, F, D, 0.0f);
    op->swiglu_forward(be, s->hmlp, s->gate, s->up, (size_t)(N * F));
    if (!tb_view_null(next) && !same(next, s->x_mid))
        op->copy(be, next, s->x_mid, (size_t)(N * D));
    linear(m, a, l, TB_LORA_DOWN, next, s->hmlp, w->wdown, TB_VIEW_NONE, N, D, F, 1.0f);     /* x += down */
}

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
    if (a->lora_rank != (m->lora ? m->lora->opt.rank : 0))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, NULL,
                            "the activations were sized for another adapter: attach it before tb_llama_acts_init");
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
    int64_t N = B * T, D = c->dim;
    a->Bcur = B, a->Tcur = T, a->pos0 = pos0;
    op->upload(be, tb_view_of(a->ids), ids, (size_t)N);
    op->embedding_forward(be, a->layers[0].x_in, m->embed, tb_view_of(a->ids), N, D);  /* (N, D) */
    for (int64_t l = 0; l < c->n_layers; l++)
        tb_llama_layer_forward(m, a, l, B, T, pos0, cache, l + 1 < c->n_layers ? a->layers[l + 1].x_in : a->x_out);
    op->rmsnorm_forward(be, a->lnf, a->rstdf, a->x_out, m->final_norm, N, D, (float)c->rms_eps);  /* (N, D) */
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
