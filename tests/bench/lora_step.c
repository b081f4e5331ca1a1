/* tunebench — benchmark proxy of one LoRA training step (see lora_step.h). */
#include "tests/bench/lora_step.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { LQ, LK, LV, LO, LGATE, LUP, LDOWN, NLIN };
#define MAX_BUFS 4096

typedef struct layer {
    tb_buf *norm1, *norm2, *w[NLIN];                 /* weights; w[i] (out, in) */
    tb_buf *a[NLIN], *b[NLIN];                       /* LoRA A (R, in), B (out, R); NULL if untargeted */
    tb_buf *da[NLIN], *db[NLIN], *ma[NLIN], *va[NLIN], *mb[NLIN], *vb[NLIN];
    tb_buf *h[NLIN];                                 /* (N, R) saved x A^T */
    tb_buf *x, *xn1, *rstd1, *q, *k, *v, *att, *lse, *xmid, *xn2, *rstd2, *gate, *up, *act;
} layer;

struct lora_step {
    tb_backend *be;
    lora_shape s;
    int64_t N, Dh, kvD;
    float scale;                                     /* alpha / r, alpha = 2r */
    layer *layers;
    tb_buf *emb, *normf, *xlast, *xf, *rstdf, *logits, *ids, *targets, *loss, *scalars, *rope;
    tb_buf *dx, *dxn, *dbig, *dgate, *dup, *dq, *dk, *dv, *datt, *dh, *tmp;
    tb_buf *all[MAX_BUFS];
    int nall;
    tb_status st;
    tb_error err;
};

static void in_out(const lora_step *s, int t, int64_t *in, int64_t *out)
{
    int64_t D = s->s.D, F = s->s.F;
    static const int is_kv[NLIN] = {0, 1, 1, 0, 0, 0, 0};
    *in = t == LDOWN ? F : D;
    *out = t == LGATE || t == LUP ? F : t == LDOWN ? D : is_kv[t] ? s->kvD : D;
}

static uint32_t g_rng = 12345u;

static float frand(void)
{
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 17;
    g_rng ^= g_rng << 5;
    return (float)(g_rng >> 8) / 8388608.0f - 1.0f;
}

/* A buffer of n elements: zeros, or uniform in [-scale, scale) when scale > 0. */
static tb_buf *mk(lora_step *s, tb_dtype dt, int64_t n, float scale)
{
    if (s->st != TB_OK)
        return NULL;
    tb_buf *b = NULL;
    s->st = s->be->ops->buf_alloc(s->be, &b, dt, (size_t)n, TB_MEM_SCRATCH, &s->err);
    if (s->st != TB_OK || s->nall == MAX_BUFS)
        return NULL;
    s->all[s->nall++] = b;
    if (scale > 0 && dt == TB_DTYPE_I32) {
        int32_t *v = malloc((size_t)n * sizeof *v);
        for (int64_t i = 0; i < n; i++)
            v[i] = (int32_t)((uint32_t)(frand() * 1e6f + 1e6f) % (uint32_t)scale);
        s->be->ops->upload(s->be, tb_view_of(b), v, (size_t)n);
        free(v);
    } else if (scale > 0) {
        float *f = malloc((size_t)n * sizeof *f);
        uint16_t *h = malloc((size_t)n * sizeof *h);
        for (int64_t i = 0; i < n; i++)
            f[i] = scale * frand();
        if (dt == TB_DTYPE_F32) {
            s->be->ops->upload(s->be, tb_view_of(b), f, (size_t)n);
        } else {
            tb_convert_from_f32(h, dt, f, (size_t)n);
            s->be->ops->upload(s->be, tb_view_of(b), h, (size_t)n);
        }
        free(f);
        free(h);
    }
    return b;
}

static bool targeted(const lora_step *s, int t)
{
    return !s->s.qkvo_only || t <= LO;
}

tb_status lora_step_init(lora_step **out, tb_backend *be, const lora_shape *shape, tb_error *err)
{
    g_rng = 12345u;
    lora_step *s = calloc(1, sizeof *s);
    s->be = be;
    s->s = *shape;
    s->N = shape->B * shape->T;
    s->Dh = shape->D / shape->H;
    s->kvD = shape->Hkv * s->Dh;
    s->scale = 2.0f;
    int64_t N = s->N, D = shape->D, F = shape->F, R = shape->R, big = D > F ? D : F;
    s->layers = calloc((size_t)shape->L, sizeof *s->layers);
    float ws = 0.02f;
    for (int64_t l = 0; l < shape->L; l++) {
        layer *y = &s->layers[l];
        y->norm1 = mk(s, shape->wdtype, D, 1.0f);
        y->norm2 = mk(s, shape->wdtype, D, 1.0f);
        for (int t = 0; t < NLIN; t++) {
            int64_t in, o;
            in_out(s, t, &in, &o);
            y->w[t] = mk(s, shape->wdtype, o * in, ws);
            if (!targeted(s, t))
                continue;
            y->a[t] = mk(s, TB_DTYPE_F32, R * in, 1.0f / sqrtf((float)in));
            y->b[t] = mk(s, TB_DTYPE_F32, o * R, 0.01f);   /* nonzero so gradients flow everywhere */
            y->da[t] = mk(s, TB_DTYPE_F32, R * in, 0);
            y->db[t] = mk(s, TB_DTYPE_F32, o * R, 0);
            y->ma[t] = mk(s, TB_DTYPE_F32, R * in, 0);
            y->va[t] = mk(s, TB_DTYPE_F32, R * in, 0);
            y->mb[t] = mk(s, TB_DTYPE_F32, o * R, 0);
            y->vb[t] = mk(s, TB_DTYPE_F32, o * R, 0);
            y->h[t] = mk(s, TB_DTYPE_F32, N * R, 0);
        }
        y->x = mk(s, TB_DTYPE_F32, N * D, 0);
        y->xn1 = mk(s, TB_DTYPE_F32, N * D, 0);
        y->rstd1 = mk(s, TB_DTYPE_F32, N, 0);
        y->q = mk(s, TB_DTYPE_F32, N * D, 0);
        y->k = mk(s, TB_DTYPE_F32, N * s->kvD, 0);
        y->v = mk(s, TB_DTYPE_F32, N * s->kvD, 0);
        y->att = mk(s, TB_DTYPE_F32, N * D, 0);
        y->lse = mk(s, TB_DTYPE_F32, shape->B * shape->H * shape->T, 0);
        y->xmid = mk(s, TB_DTYPE_F32, N * D, 0);
        y->xn2 = mk(s, TB_DTYPE_F32, N * D, 0);
        y->rstd2 = mk(s, TB_DTYPE_F32, N, 0);
        y->gate = mk(s, TB_DTYPE_F32, N * F, 0);
        y->up = mk(s, TB_DTYPE_F32, N * F, 0);
        y->act = mk(s, TB_DTYPE_F32, N * F, 0);
    }
    s->emb = mk(s, shape->wdtype, shape->V * D, ws);
    s->normf = mk(s, shape->wdtype, D, 1.0f);
    s->xlast = mk(s, TB_DTYPE_F32, N * D, 0);
    s->xf = mk(s, TB_DTYPE_F32, N * D, 0);
    s->rstdf = mk(s, TB_DTYPE_F32, N, 0);
    s->logits = mk(s, TB_DTYPE_F32, N * shape->V, 0);
    s->ids = mk(s, TB_DTYPE_I32, N, (float)shape->V);
    s->targets = mk(s, TB_DTYPE_I32, N, (float)shape->V);
    s->loss = mk(s, TB_DTYPE_F32, N, 0);
    s->scalars = mk(s, TB_DTYPE_F32, 4, 0);   /* loss sum, grad sum of squares, clip factor */
    s->dx = mk(s, TB_DTYPE_F32, N * D, 0);
    s->dxn = mk(s, TB_DTYPE_F32, N * D, 0);
    s->dbig = mk(s, TB_DTYPE_F32, N * big, 0);
    s->dgate = mk(s, TB_DTYPE_F32, N * F, 0);
    s->dup = mk(s, TB_DTYPE_F32, N * F, 0);
    s->dq = mk(s, TB_DTYPE_F32, N * D, 0);
    s->dk = mk(s, TB_DTYPE_F32, N * s->kvD, 0);
    s->dv = mk(s, TB_DTYPE_F32, N * s->kvD, 0);
    s->datt = mk(s, TB_DTYPE_F32, N * D, 0);
    s->dh = mk(s, TB_DTYPE_F32, N * R, 0);
    s->tmp = mk(s, TB_DTYPE_F32, N * big, 0);
    /* RoPE table (T, Dh): cos then sin of p * theta^(-2j/Dh). */
    if (s->st == TB_OK) {
        int64_t Dh = s->Dh;
        float *tab = malloc((size_t)(shape->T * Dh) * sizeof *tab);
        for (int64_t p = 0; p < shape->T; p++)
            for (int64_t j = 0; j < Dh / 2; j++) {
                double f = pow(10000.0, -2.0 * (double)j / (double)Dh);
                tab[p * Dh + j] = (float)cos((double)p * f);
                tab[p * Dh + Dh / 2 + j] = (float)sin((double)p * f);
            }
        s->rope = mk(s, TB_DTYPE_F32, shape->T * Dh, 0);
        if (s->rope)
            be->ops->upload(be, tb_view_of(s->rope), tab, (size_t)(shape->T * Dh));
        free(tab);
    }
    if (s->st == TB_OK)
        s->st = be->ops->sync(be, &s->err);
    if (s->st != TB_OK) {
        tb_status st = s->st;
        if (err)
            *err = s->err;
        lora_step_free(s);
        *out = NULL;
        return st;
    }
    *out = s;
    return TB_OK;
}

void lora_step_free(lora_step *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nall; i++)
        s->be->ops->buf_free(s->be, s->all[i]);
    free(s->layers);
    free(s);
}

#define V(b) tb_view_of(b)

/* out (N, o) = in (N, i) W^T [+ s (in A^T) B^T], saving in A^T for the backward. */
static void linear(lora_step *s, layer *y, int t, tb_buf *out, tb_buf *in)
{
    const tb_backend_ops *op = s->be->ops;
    int64_t i, o, N = s->N, R = s->s.R;
    in_out(s, t, &i, &o);
    op->matmul(s->be, V(out), V(in), tb_wdense(V(y->w[t])), N, o, i, TB_MM_TRANS_B, 1.0f, 0.0f);
    if (y->a[t]) {
        op->matmul(s->be, V(y->h[t]), V(in), tb_wdense(V(y->a[t])), N, R, i, TB_MM_TRANS_B, 1.0f, 0.0f);
        op->matmul(s->be, V(out), V(y->h[t]), tb_wdense(V(y->b[t])), N, o, R, TB_MM_TRANS_B, s->scale, 1.0f);
    }
}

/* din (N, i) (= when beta 0, += when 1) from dout (N, o); adapter gradients +=. */
static void linear_back(lora_step *s, layer *y, int t, tb_buf *din, float beta, tb_buf *dout, tb_buf *in)
{
    const tb_backend_ops *op = s->be->ops;
    int64_t i, o, N = s->N, R = s->s.R;
    in_out(s, t, &i, &o);
    op->matmul(s->be, V(din), V(dout), tb_wdense(V(y->w[t])), N, i, o, 0, 1.0f, beta);
    if (!y->a[t])
        return;
    op->matmul(s->be, V(y->db[t]), V(dout), tb_wdense(V(y->h[t])), o, R, N, TB_MM_TRANS_A, s->scale, 1.0f);
    op->matmul(s->be, V(s->dh), V(dout), tb_wdense(V(y->b[t])), N, R, o, 0, s->scale, 0.0f);
    op->matmul(s->be, V(y->da[t]), V(s->dh), tb_wdense(V(in)), R, i, N, TB_MM_TRANS_A, 1.0f, 1.0f);
    op->matmul(s->be, V(din), V(s->dh), tb_wdense(V(y->a[t])), N, i, R, 0, 1.0f, 1.0f);
}

static tb_attn_dims attn_dims(const lora_step *s)
{
    return (tb_attn_dims){.B = s->s.B, .Tq = s->s.T, .pos0 = 0, .H = s->s.H, .Hkv = s->s.Hkv, .Dh = s->Dh,
                          .kv_stride_b = s->s.T * s->kvD, .scale = 1.0f / sqrtf((float)s->Dh)};
}

static void forward(lora_step *s)
{
    tb_backend *be = s->be;
    const tb_backend_ops *op = be->ops;
    int64_t N = s->N, D = s->s.D, F = s->s.F, B = s->s.B, T = s->s.T;
    tb_attn_dims ad = attn_dims(s);
    op->embedding_forward(be, V(s->layers[0].x), V(s->emb), V(s->ids), N, D);
    for (int64_t l = 0; l < s->s.L; l++) {
        layer *y = &s->layers[l];
        tb_buf *next = l + 1 < s->s.L ? s->layers[l + 1].x : s->xlast;
        op->rmsnorm_forward(be, V(y->xn1), V(y->rstd1), V(y->x), V(y->norm1), N, D, 1e-5f);
        linear(s, y, LQ, y->q, y->xn1);
        linear(s, y, LK, y->k, y->xn1);
        linear(s, y, LV, y->v, y->xn1);
        op->rope_forward(be, V(y->q), V(s->rope), B, T, s->s.H, s->Dh, 0);
        op->rope_forward(be, V(y->k), V(s->rope), B, T, s->s.Hkv, s->Dh, 0);
        op->attention_forward(be, V(y->att), V(y->lse), V(y->q), V(y->k), V(y->v), &ad);
        linear(s, y, LO, s->tmp, y->att);
        op->add(be, V(y->xmid), V(y->x), V(s->tmp), (size_t)(N * D));
        op->rmsnorm_forward(be, V(y->xn2), V(y->rstd2), V(y->xmid), V(y->norm2), N, D, 1e-5f);
        linear(s, y, LGATE, y->gate, y->xn2);
        linear(s, y, LUP, y->up, y->xn2);
        op->swiglu_forward(be, V(y->act), V(y->gate), V(y->up), (size_t)(N * F));
        linear(s, y, LDOWN, s->tmp, y->act);
        op->add(be, V(next), V(y->xmid), V(s->tmp), (size_t)(N * D));
    }
    op->rmsnorm_forward(be, V(s->xf), V(s->rstdf), V(s->xlast), V(s->normf), N, D, 1e-5f);
    /* tied LM head: logits = xf E^T */
    op->matmul(be, V(s->logits), V(s->xf), tb_wdense(V(s->emb)), N, s->s.V, D, TB_MM_TRANS_B, 1.0f, 0.0f);
    op->xent_forward_backward(be, V(s->loss), V(s->logits), V(s->targets), N, s->s.V, 1.0f / (float)N);
}

static void backward(lora_step *s)
{
    tb_backend *be = s->be;
    const tb_backend_ops *op = be->ops;
    int64_t N = s->N, D = s->s.D, F = s->s.F, B = s->s.B, T = s->s.T;
    tb_attn_dims ad = attn_dims(s);
    /* dxf = dlogits E (the embedding is frozen: no gradient for it) */
    op->matmul(be, V(s->dxn), V(s->logits), tb_wdense(V(s->emb)), N, D, s->s.V, 0, 1.0f, 0.0f);
    op->fill(be, V(s->dx), 0.0f, (size_t)(N * D));
    op->rmsnorm_backward(be, V(s->dx), TB_VIEW_NONE, V(s->dxn), V(s->xlast), V(s->normf), V(s->rstdf), N, D);
    for (int64_t l = s->s.L - 1; l >= 0; l--) {
        layer *y = &s->layers[l];
        /* MLP: x_next = xmid + down(silu(gate) * up); dx holds d x_next, becomes d xmid */
        linear_back(s, y, LDOWN, s->dbig, 0.0f, s->dx, y->act);
        op->swiglu_backward(be, V(s->dgate), V(s->dup), V(s->dbig), V(y->gate), V(y->up), (size_t)(N * F));
        linear_back(s, y, LGATE, s->dxn, 0.0f, s->dgate, y->xn2);
        linear_back(s, y, LUP, s->dxn, 1.0f, s->dup, y->xn2);
        op->rmsnorm_backward(be, V(s->dx), TB_VIEW_NONE, V(s->dxn), V(y->xmid), V(y->norm2), V(y->rstd2), N, D);
        /* attention: xmid = x + o(att); dx becomes d x */
        linear_back(s, y, LO, s->datt, 0.0f, s->dx, y->att);
        op->attention_backward(be, V(s->dq), V(s->dk), V(s->dv), V(s->datt), V(y->q), V(y->k), V(y->v), V(y->att),
                               V(y->lse), &ad);
        op->rope_backward(be, V(s->dq), V(s->rope), B, T, s->s.H, s->Dh, 0);
        op->rope_backward(be, V(s->dk), V(s->rope), B, T, s->s.Hkv, s->Dh, 0);
        linear_back(s, y, LQ, s->dxn, 0.0f, s->dq, y->xn1);
        linear_back(s, y, LK, s->dxn, 1.0f, s->dk, y->xn1);
        linear_back(s, y, LV, s->dxn, 1.0f, s->dv, y->xn1);
        op->rmsnorm_backward(be, V(s->dx), TB_VIEW_NONE, V(s->dxn), V(y->x), V(y->norm1), V(y->rstd1), N, D);
    }
}

/* Clip to norm 1 on the device, AdamW every adapter, zero the gradients for the next step. */
static void optimize(lora_step *s, int step)
{
    tb_backend *be = s->be;
    const tb_backend_ops *op = be->ops;
    tb_view sumsq = tb_view_at(V(s->scalars), 1), clip = tb_view_at(V(s->scalars), 2);
    op->fill(be, sumsq, 0.0f, 1);
    for (int64_t l = 0; l < s->s.L; l++)
        for (int t = 0; t < NLIN; t++) {
            layer *y = &s->layers[l];
            if (!y->a[t])
                continue;
            op->sum_squares(be, sumsq, V(y->da[t]), y->da[t]->n);
            op->sum_squares(be, sumsq, V(y->db[t]), y->db[t]->n);
        }
    op->clip_scale(be, clip, sumsq, 1.0f);
    tb_adamw_params p = {.lr = 1e-4f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = 0.0f,
                         .step = step};
    for (int64_t l = 0; l < s->s.L; l++)
        for (int t = 0; t < NLIN; t++) {
            layer *y = &s->layers[l];
            if (!y->a[t])
                continue;
            op->adamw(be, V(y->a[t]), V(y->da[t]), V(y->ma[t]), V(y->va[t]), y->a[t]->n, clip, &p);
            op->adamw(be, V(y->b[t]), V(y->db[t]), V(y->mb[t]), V(y->vb[t]), y->b[t]->n, clip, &p);
            op->fill(be, V(y->da[t]), 0.0f, y->da[t]->n);
            op->fill(be, V(y->db[t]), 0.0f, y->db[t]->n);
        }
}

tb_status lora_step_run(lora_step *s, int step, float *loss, float *grad_norm, tb_error *err)
{
    tb_backend *be = s->be;
    forward(s);
    be->ops->fill(be, V(s->scalars), 0.0f, 1);
    be->ops->sum(be, V(s->scalars), V(s->loss), (size_t)s->N);
    backward(s);
    optimize(s, step);
    float m[2] = {0, 0};   /* loss sum, gradient sum of squares */
    tb_status st = be->ops->download(be, m, V(s->scalars), 2, err);
    *loss = m[0] / (float)s->N;
    *grad_norm = sqrtf(m[1]);
    return st;
}

double lora_step_flops(const lora_shape *s)
{
    double D = (double)s->D, F = (double)s->F, Dh = D / (double)s->H, kvD = (double)s->Hkv * Dh;
    double T = (double)(s->B * s->T), R = (double)s->R;
    double lin = D * D * 2 + D * kvD * 2 + 3 * D * F;          /* q, o, k, v, gate, up, down */
    double frozen = (double)s->L * lin + (double)s->V * D;     /* + the LM head */
    double lora_layer = R * ((D + D) * 2 + (D + kvD) * 2);     /* q, o, k, v adapters */
    if (!s->qkvo_only)
        lora_layer += R * 3 * (D + F);
    double lora = (double)s->L * lora_layer;
    return 4 * frozen * T + 6 * lora * T + 12 * (double)s->L * (double)s->T * D * T;
}

tb_status lora_step_adapters(lora_step *s, float *out, size_t cap, size_t *n, tb_error *err)
{
    *n = 0;
    for (int64_t l = 0; l < s->s.L; l++)
        for (int t = 0; t < NLIN; t++) {
            tb_buf *ab[2] = {s->layers[l].a[t], s->layers[l].b[t]};
            for (int k = 0; k < 2; k++) {
                if (!ab[k])
                    continue;
                if (*n + ab[k]->n <= cap) {
                    tb_status st = s->be->ops->download(s->be, out + *n, tb_view_of(ab[k]), ab[k]->n, err);
                    if (st != TB_OK)
                        return st;
                }
                *n += ab[k]->n;
            }
        }
    return TB_OK;
}
