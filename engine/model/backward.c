/* tunebench — loss and backward pass of the Llama family.
 *
 * Per layer, the forward (forward.c) in reverse, with dres the gradient of the layer's
 * output; the residual additions make it flow straight through, and each RMSNorm backward
 * adds its branch back into it:
 *   MLP:   dhmlp = dres Wd;  dgate, dup = swiglu'(dhmlp);  dln = dgate Wg + dup Wu;
 *          dres += rmsnorm'(dln)                                   (now d x_mid)
 *   attn:  datt = dres Wo;  dq, dk, dv = attention'(datt);  rope'(dq), rope'(dk);
 *          dln = dq Wq + dk Wk + dv Wv;  dres += rmsnorm'(dln)     (now d x_in)
 * Weight gradients (full fine-tuning) dW += dy^T x; adapters add their own (tb_lora_backward).
 * The norm outputs and the SwiGLU output are recomputed from what the forward kept. */
#include "engine/model/backward.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static tb_view carve(tb_buf *b, size_t *at, int64_t n)
{
    tb_view v = {b, *at};
    *at += ((size_t)n + 15) / 16 * 16;
    return v;
}

static size_t layout(tb_llama_bwd *g, const tb_llama_config *c, int64_t R, tb_buf *buf)
{
    int64_t N = g->B * g->T, D = c->dim, F = c->ffn_dim, q = tb_llama_q_dim(c), kv = tb_llama_kv_dim(c);
    size_t at = 0;
    g->dres = carve(buf, &at, N * D);
    g->dln = carve(buf, &at, N * D);
    g->xn = carve(buf, &at, N * D);
    g->dq = carve(buf, &at, N * q);
    g->datt = carve(buf, &at, N * q);
    g->dk = carve(buf, &at, N * kv);
    g->dv = carve(buf, &at, N * kv);
    g->dhmlp = carve(buf, &at, N * F);
    g->dgate = carve(buf, &at, N * F);
    g->dup = carve(buf, &at, N * F);
    g->dh = R > 0 ? carve(buf, &at, N * R) : TB_VIEW_NONE;
    g->loss_rows = carve(buf, &at, tb_llama_logit_rows(c, N));
    g->loss_sum = carve(buf, &at, 1);
    return at;
}

tb_status tb_llama_bwd_init(tb_llama_bwd *g, const tb_llama *m, const tb_llama_acts *a, tb_error *err)
{
    memset(g, 0, sizeof *g);
    g->B = a->B, g->T = a->T;
    int64_t R = m->lora ? m->lora->opt.rank : 0;
    size_t n = layout(g, &m->cfg, R, NULL);
    tb_status st = m->be->ops->buf_alloc(m->be, &g->mem, TB_DTYPE_F32, n, TB_MEM_ACTIVATIONS, err);
    if (st == TB_OK)
        st = m->be->ops->buf_alloc(m->be, &g->targets, TB_DTYPE_I32, (size_t)(a->B * a->T), TB_MEM_ACTIVATIONS, err);
    if (st != TB_OK) {
        tb_llama_bwd_free(g, m->be);
        return st;
    }
    layout(g, &m->cfg, R, g->mem);
    return TB_OK;
}

void tb_llama_bwd_free(tb_llama_bwd *g, tb_backend *be)
{
    if (!g)
        return;
    if (be) {
        be->ops->buf_free(be, g->mem);
        be->ops->buf_free(be, g->targets);
    }
    memset(g, 0, sizeof *g);
}

/* ------------------------------------------------------------------ loss */

void tb_llama_loss_reset(tb_llama *m, tb_llama_bwd *g) { m->be->ops->fill(m->be, g->loss_sum, 0.0f, 1); }

tb_status tb_llama_loss_read(tb_llama *m, tb_llama_bwd *g, double *sum, tb_error *err)
{
    float v = 0;
    tb_status st = m->be->ops->download(m->be, &v, g->loss_sum, 1, err);
    *sum = (double)v;
    return st;
}

tb_status tb_llama_loss(tb_llama *m, tb_llama_acts *a, tb_llama_bwd *g, const int32_t *targets, float grad_scale,
                        tb_error *err)
{
    const tb_backend_ops *op = m->be->ops;
    tb_backend *be = m->be;
    int64_t N = a->Bcur * a->Tcur, V = m->cfg.vocab_size, D = m->cfg.dim;
    if (N <= 0 || !a->save || N > g->B * g->T)
        return tb_fail(err, TB_ERR_INVALID, "the loss needs a forward with saved activations that fit its buffers");
    for (int64_t i = 0; i < N; i++)
        if (targets[i] < -1 || targets[i] >= V)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "targets",
                                "target %d (row %lld) is outside the vocabulary [0, %lld) and is not -1 (masked)",
                                targets[i], (long long)i, (long long)V);
    op->upload(be, tb_view_of(g->targets), targets, (size_t)N);
    const tb_view *head_grad = m->grads ? &m->grads->lm_head : NULL;
    for (int64_t r0 = 0; r0 < N; r0 += a->logit_rows) {
        int64_t c = N - r0 < a->logit_rows ? N - r0 : a->logit_rows;
        tb_llama_logits(m, a, r0, c);                                                      /* (c, V) */
        op->xent_forward_backward(be, g->loss_rows, a->logits, tb_view_at(tb_view_of(g->targets), (size_t)r0), c, V,
                                  grad_scale);
        op->sum(be, g->loss_sum, g->loss_rows, (size_t)c);
        if (grad_scale == 0.0f)
            continue;
        /* logits = lnf W^T: dlnf = dlogits W; dW += dlogits^T lnf */
        op->matmul(be, tb_view_at(g->dln, (size_t)(r0 * D)), a->logits, m->lm_head, c, D, V, 0, 1.0f, 0.0f);
        if (head_grad)
            op->matmul(be, *head_grad, a->logits, tb_wdense(tb_view_at(a->lnf, (size_t)(r0 * D))), V, D, c,
                       TB_MM_TRANS_A, 1.0f, 1.0f);
    }
    return TB_OK;
}

/* ------------------------------------------------------------------ backward */

/* A linear's backward: dx (N, in) = dx_beta dx + dy W (skipped when dx is NONE), dW (out, in)
 * += dy^T x when the weight trains, then the adapter's part. */
static void linear_backward(tb_llama *m, tb_llama_acts *a, tb_llama_bwd *g, int64_t l, tb_lora_module mo, tb_view dx,
                            float dx_beta, tb_view dy, tb_view x, tb_wview w, const tb_view *dw, int64_t N,
                            int64_t n_out, int64_t n_in)
{
    const tb_backend_ops *op = m->be->ops;
    if (!tb_view_null(dx))
        op->matmul(m->be, dx, dy, w, N, n_in, n_out, 0, 1.0f, dx_beta);
    if (dw && !tb_view_null(*dw))
        op->matmul(m->be, *dw, dy, tb_wdense(x), n_out, n_in, N, TB_MM_TRANS_A, 1.0f, 1.0f);
    if (tb_lora_has(m->lora, l, mo))
        tb_lora_backward(m->lora, l, mo, dx, dy, x, a->layers[l].lora_h[mo], g->dh, a->lora_xd, N);
}

#define DW(field) (gr ? &gr->field : NULL)

static void layer_backward(tb_llama *m, tb_llama_acts *a, tb_llama_bwd *g, int64_t l, bool need_dx)
{
    const tb_llama_config *c = &m->cfg;
    const tb_backend_ops *op = m->be->ops;
    tb_backend *be = m->be;
    int64_t B = a->Bcur, T = a->Tcur, N = B * T, D = c->dim, F = c->ffn_dim, H = c->n_heads, Hkv = c->n_kv_heads;
    int64_t Dh = c->head_dim, qd = H * Dh, kvd = Hkv * Dh;
    const tb_llama_layer *w = &m->layers[l];
    tb_llama_layer_acts *s = &a->layers[l];
    const tb_llama_layer_grads *gr = m->grads ? &m->grads->layers[l] : NULL;
    tb_view rope = tb_view_of(m->rope);

    /* MLP block: x_out = x_mid + down(silu(gate(ln2)) * up(ln2)). The SwiGLU output and ln2
     * were not kept: recomputed here (into dup, free until swiglu_backward, and xn). */
    tb_view hmlp = g->dup;
    if (gr || tb_lora_has(m->lora, l, TB_LORA_DOWN)) /* only a trained weight needs the input */
        op->swiglu_forward(be, hmlp, s->gate, s->up, (size_t)(N * F));
    linear_backward(m, a, g, l, TB_LORA_DOWN, g->dhmlp, 0.0f, g->dres, hmlp, w->wdown, DW(wdown), N, D, F);
    op->swiglu_backward(be, g->dgate, g->dup, g->dhmlp, s->gate, s->up, (size_t)(N * F));
    if (gr || tb_lora_has(m->lora, l, TB_LORA_GATE) || tb_lora_has(m->lora, l, TB_LORA_UP))
        op->rmsnorm_forward(be, g->xn, TB_VIEW_NONE, s->x_mid, w->mlp_norm, N, D, (float)c->rms_eps);
    linear_backward(m, a, g, l, TB_LORA_GATE, g->dln, 0.0f, g->dgate, g->xn, w->wgate, DW(wgate), N, F, D);
    linear_backward(m, a, g, l, TB_LORA_UP, g->dln, 1.0f, g->dup, g->xn, w->wup, DW(wup), N, F, D);
    op->rmsnorm_backward(be, g->dres, gr ? gr->mlp_norm : TB_VIEW_NONE, g->dln, s->x_mid, w->mlp_norm, s->rstd2, N, D);

    /* attention block: x_mid = x_in + o_proj(attention(rope(q), rope(k), v)) */
    linear_backward(m, a, g, l, TB_LORA_O, g->datt, 0.0f, g->dres, s->att, w->wo, DW(wo), N, D, qd);
    tb_attn_dims d = {B, T, 0, H, Hkv, Dh, T * kvd, 1.0f / sqrtf((float)Dh)};
    op->attention_backward(be, g->dq, g->dk, g->dv, g->datt, s->q, s->k, s->v, s->att, s->lse, &d);
    op->rope_backward(be, g->dq, rope, B, T, H, Dh, 0);
    op->rope_backward(be, g->dk, rope, B, T, Hkv, Dh, 0);
    if (gr && !tb_view_null(gr->bq)) {
        op->bias_backward(be, gr->bq, g->dq, N, qd);
        op->bias_backward(be, gr->bk, g->dk, N, kvd);
        op->bias_backward(be, gr->bv, g->dv, N, kvd);
    }
    /* The first layer's input gradient only feeds the embedding: skip it when that is frozen. */
    tb_view dln = need_dx ? g->dln : TB_VIEW_NONE;
    if (gr || tb_lora_has(m->lora, l, TB_LORA_Q) || tb_lora_has(m->lora, l, TB_LORA_K) ||
        tb_lora_has(m->lora, l, TB_LORA_V)) /* ln1 again, for the weights that train */
        op->rmsnorm_forward(be, g->xn, TB_VIEW_NONE, s->x_in, w->attn_norm, N, D, (float)c->rms_eps);
    linear_backward(m, a, g, l, TB_LORA_Q, dln, 0.0f, g->dq, g->xn, w->wq, DW(wq), N, qd, D);
    linear_backward(m, a, g, l, TB_LORA_K, dln, 1.0f, g->dk, g->xn, w->wk, DW(wk), N, kvd, D);
    linear_backward(m, a, g, l, TB_LORA_V, dln, 1.0f, g->dv, g->xn, w->wv, DW(wv), N, kvd, D);
    if (need_dx)
        op->rmsnorm_backward(be, g->dres, gr ? gr->attn_norm : TB_VIEW_NONE, g->dln, s->x_in, w->attn_norm, s->rstd1,
                             N, D);
}

tb_status tb_llama_backward(tb_llama *m, tb_llama_acts *a, tb_llama_bwd *g, tb_error *err)
{
    const tb_llama_config *c = &m->cfg;
    const tb_backend_ops *op = m->be->ops;
    tb_backend *be = m->be;
    int64_t B = a->Bcur, T = a->Tcur, N = B * T, D = c->dim;
    if (!a->save || N <= 0 || a->pos0 != 0)
        return tb_fail(err, TB_ERR_INVALID, "backward needs a forward without KV cache and with saved activations");
    op->fill(be, g->dres, 0.0f, (size_t)(N * D));
    op->rmsnorm_backward(be, g->dres, m->grads ? m->grads->final_norm : TB_VIEW_NONE, g->dln, a->x_out, m->final_norm,
                         a->rstdf, N, D);
    for (int64_t l = c->n_layers - 1; l >= 0; l--) {
        /* checkpointing: the shared set still holds the last layer from the forward */
        if (a->mode == TB_ACTS_CHECKPOINT && l + 1 < c->n_layers)
            tb_llama_layer_forward(m, a, l, B, T, 0, NULL, TB_VIEW_NONE);
        layer_backward(m, a, g, l, l > 0 || m->grads);
    }
    if (m->grads)
        op->embedding_backward(be, m->grads->embed, g->dres, tb_view_of(a->ids), N, D);
    return TB_OK;
}
