/* tunebench — CPU layer kernels: embedding, RMSNorm, bias, RoPE, SwiGLU, dropout, fused
 * softmax + cross-entropy; forward and backward (llm.c-style mirrored pairs). Rows are
 * split over the pool; sums over rows go through per-chunk partials added in chunk order,
 * so results do not depend on which thread ran what. */
#include <math.h>
#include <string.h>

#include "engine/backend/cpu/cpu_internal.h"
#include "engine/backend/cpu/cpu_layers.h"

#define WORK 16384 /* elements of work per chunk */

static int64_t rows_grain(int64_t width) { return width >= WORK ? 1 : WORK / (width > 0 ? width : 1); }

const float *cpu_vec_f32(cpu_backend *cb, tb_view v, size_t n)
{
    if (v.buf->dtype == TB_DTYPE_F32)
        return cpu_f32(v);
    if (!cpu_scratch_reserve(cb, &cb->vec, n))
        return NULL;
    cpu_widen(cb->vec.p, cpu_raw(v), v.buf->dtype, n);
    return cb->vec.p;
}

/* One argument block for every kernel here: each uses the fields it needs. */
typedef struct lk {
    cpu_backend *cb;
    float *o, *o2, *part;
    const float *a, *b, *c, *w;
    const int32_t *ids;
    const char *tab;
    tb_dtype t;
    int64_t N, D, V, T, nh, Dh, pos0, rows_per_part;
    float f, g;
    uint32_t seed;
} lk;

/* ------------------------------------------------------------------ embedding */

static void emb_fwd(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    size_t es = tb_dtype_size(k->t);
    for (int64_t i = lo; i < hi; i++) {
        float *o = k->o + i * k->D;
        if (k->ids[i] < 0 || k->ids[i] >= k->V) /* the model checks ids first; never read outside */
            memset(o, 0, (size_t)k->D * sizeof(float));
        else
            cpu_widen(o, k->tab + (size_t)k->ids[i] * (size_t)k->D * es, k->t, (size_t)k->D);
    }
}

void cpu_embedding_forward(tb_backend *be, tb_view out, tb_view table, tb_view ids, int64_t N, int64_t D)
{
    lk k = {.o = cpu_f32(out), .ids = cpu_i32(ids), .tab = cpu_raw(table), .t = table.buf->dtype, .D = D,
            .V = (int64_t)((table.buf->n - table.off) / (size_t)D)};
    cpu_for(cpu_of(be), N, rows_grain(D), emb_fwd, &k);
}

/* Columns split over chunks: two rows with the same id never race. */
static void emb_bwd(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    for (int64_t i = 0; i < k->N; i++) {
        if (k->ids[i] < 0 || k->ids[i] >= k->V)
            continue;
        float *row = k->o + (int64_t)k->ids[i] * k->D;
        const float *d = k->a + i * k->D;
        for (int64_t j = lo; j < hi; j++)
            row[j] += d[j];
    }
}

void cpu_embedding_backward(tb_backend *be, tb_view dtable, tb_view dout, tb_view ids, int64_t N, int64_t D)
{
    lk k = {.o = cpu_f32(dtable), .a = cpu_f32(dout), .ids = cpu_i32(ids), .N = N, .D = D,
            .V = (int64_t)((dtable.buf->n - dtable.off) / (size_t)D)};
    cpu_for(cpu_of(be), D, N * D >= WORK ? 64 : D, emb_bwd, &k);
}

/* ------------------------------------------------------------------ RMSNorm */

static void norm_fwd(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    for (int64_t i = lo; i < hi; i++) {
        const float *x = k->a + i * k->D;
        float *o = k->o + i * k->D;
        float r = 1.0f / sqrtf(cpu_dot(x, x, TB_DTYPE_F32, (size_t)k->D) / (float)k->D + k->f);
        cpu_row_norm_apply(o, x, k->w, r, (size_t)k->D);
        if (k->o2)
            k->o2[i] = r;
    }
}

void cpu_rmsnorm_forward(tb_backend *be, tb_view out, tb_view rstd, tb_view inp, tb_view weight, int64_t N,
                         int64_t D, float eps)
{
    const float *w = cpu_vec_f32(cpu_of(be), weight, (size_t)D);
    if (!w)
        return;
    lk k = {.o = cpu_f32(out), .o2 = tb_view_null(rstd) ? NULL : cpu_f32(rstd), .a = cpu_f32(inp), .w = w, .D = D,
            .f = eps};
    cpu_for(cpu_of(be), N, rows_grain(D), norm_fwd, &k);
}

/* y = w * x * r. dx += r * (dout*w - xhat * mean(dout*w*xhat)); dw partial (per part of
 * rows_per_part rows) += dout * xhat. */
static void norm_bwd(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    for (int64_t p = lo; p < hi; p++) {
        float *part = k->part ? k->part + p * k->D : NULL;
        if (part)
            memset(part, 0, (size_t)k->D * sizeof(float));
        int64_t end = (p + 1) * k->rows_per_part < k->N ? (p + 1) * k->rows_per_part : k->N;
        for (int64_t i = p * k->rows_per_part; i < end; i++) {
            const float *x = k->b + i * k->D, *dy = k->a + i * k->D;
            float r = k->c[i], mean = cpu_row_dot3(dy, k->w, x, (size_t)k->D) * r / (float)k->D;
            cpu_row_norm_grad(k->o + i * k->D, part, dy, k->w, x, r, mean, (size_t)k->D);
        }
    }
}

void cpu_rmsnorm_backward(tb_backend *be, tb_view dinp, tb_view dweight, tb_view dout, tb_view inp, tb_view weight,
                          tb_view rstd, int64_t N, int64_t D)
{
    cpu_backend *cb = cpu_of(be);
    const float *w = cpu_vec_f32(cb, weight, (size_t)D);
    if (!w)
        return;
    int64_t rpp = rows_grain(D), parts = (N + rpp - 1) / rpp;
    if (parts > 64) { /* bounded partials */
        rpp = (N + 63) / 64;
        parts = (N + rpp - 1) / rpp;
    }
    bool dw = !tb_view_null(dweight);
    if (dw && !cpu_scratch_reserve(cb, &cb->part, (size_t)(parts * D)))
        return;
    lk k = {.o = cpu_f32(dinp), .part = dw ? cb->part.p : NULL, .a = cpu_f32(dout), .b = cpu_f32(inp),
            .c = cpu_f32(rstd), .w = w, .N = N, .D = D, .rows_per_part = rpp};
    cpu_for(cb, parts, 1, norm_bwd, &k);
    if (dw) {
        float *g = cpu_f32(dweight);
        for (int64_t p = 0; p < parts; p++)
            for (int64_t j = 0; j < D; j++)
                g[j] += cb->part.p[p * D + j];
    }
}

/* ------------------------------------------------------------------ bias */

static void bias_fwd(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    for (int64_t i = lo; i < hi; i++)
        for (int64_t j = 0; j < k->D; j++)
            k->o[i * k->D + j] += k->w[j];
}

void cpu_add_bias(tb_backend *be, tb_view x, tb_view bias, int64_t N, int64_t C)
{
    const float *b = cpu_vec_f32(cpu_of(be), bias, (size_t)C);
    if (!b)
        return;
    lk k = {.o = cpu_f32(x), .w = b, .D = C};
    cpu_for(cpu_of(be), N, rows_grain(C), bias_fwd, &k);
}

static void bias_bwd(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    for (int64_t j = lo; j < hi; j++) {
        float s = 0;
        for (int64_t i = 0; i < k->N; i++)
            s += k->a[i * k->D + j];
        k->o[j] += s;
    }
}

void cpu_bias_backward(tb_backend *be, tb_view dbias, tb_view dout, int64_t N, int64_t C)
{
    lk k = {.o = cpu_f32(dbias), .a = cpu_f32(dout), .N = N, .D = C};
    cpu_for(cpu_of(be), C, N * C >= WORK ? 16 : C, bias_bwd, &k);
}

/* ------------------------------------------------------------------ RoPE */

/* k->g = +1: forward rotation; -1: its transpose (backward). Rows are (b, t) pairs. */
static void rope_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    int64_t half = k->Dh / 2;
    for (int64_t bt = lo; bt < hi; bt++) {
        const float *cs = k->a + (k->pos0 + bt % k->T) * k->Dh, *sn = cs + half;
        for (int64_t h = 0; h < k->nh; h++)
            cpu_row_rope(k->o + (bt * k->nh + h) * k->Dh, cs, sn, k->g, (size_t)half);
    }
}

static void rope(tb_backend *be, tb_view x, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh, int64_t pos0,
                 float sign)
{
    lk k = {.o = cpu_f32(x), .a = cpu_f32(table), .T = T, .nh = nh, .Dh = Dh, .pos0 = pos0, .g = sign};
    cpu_for(cpu_of(be), B * T, rows_grain(nh * Dh), rope_fn, &k);
}

void cpu_rope_forward(tb_backend *be, tb_view x, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh,
                      int64_t pos0)
{
    rope(be, x, table, B, T, nh, Dh, pos0, 1.0f);
}

void cpu_rope_backward(tb_backend *be, tb_view dx, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh,
                       int64_t pos0)
{
    rope(be, dx, table, B, T, nh, Dh, pos0, -1.0f);
}

/* ------------------------------------------------------------------ SwiGLU */

static void swiglu_fwd(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    cpu_span_swiglu(k->o + lo, k->a + lo, k->b + lo, (size_t)(hi - lo));
}

void cpu_swiglu_forward(tb_backend *be, tb_view out, tb_view gate, tb_view up, size_t n)
{
    lk k = {.o = cpu_f32(out), .a = cpu_f32(gate), .b = cpu_f32(up)};
    cpu_for(cpu_of(be), (int64_t)n, WORK, swiglu_fwd, &k);
}

/* d silu(g)/dg = s (1 + g (1 - s)), s = sigmoid(g). */
static void swiglu_bwd(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    cpu_span_swiglu_grad(k->o + lo, k->o2 + lo, k->c + lo, k->a + lo, k->b + lo, (size_t)(hi - lo));
}

void cpu_swiglu_backward(tb_backend *be, tb_view dgate, tb_view dup, tb_view dout, tb_view gate, tb_view up,
                         size_t n)
{
    lk k = {.o = cpu_f32(dgate), .o2 = cpu_f32(dup), .c = cpu_f32(dout), .a = cpu_f32(gate), .b = cpu_f32(up)};
    cpu_for(cpu_of(be), (int64_t)n, WORK, swiglu_bwd, &k);
}

/* ------------------------------------------------------------------ dropout */

static void dropout_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    lk *k = c;
    float scale = k->f < 1.0f ? 1.0f / (1.0f - k->f) : 0.0f;
    for (int64_t i = lo; i < hi; i++) {
        float v = k->f <= 0.0f ? k->a[i] : tb_dropout_keep(k->seed, (uint32_t)i, k->f) ? k->a[i] * scale : 0.0f;
        k->o[i] = k->g != 0.0f ? k->o[i] + v : v; /* g: accumulate (backward) */
    }
}

void cpu_dropout_forward(tb_backend *be, tb_view out, tb_view inp, size_t n, float p, uint32_t seed)
{
    lk k = {.o = cpu_f32(out), .a = cpu_f32(inp), .f = p, .g = 0.0f, .seed = seed};
    cpu_for(cpu_of(be), (int64_t)n, WORK, dropout_fn, &k);
}

void cpu_dropout_backward(tb_backend *be, tb_view dinp, tb_view dout, size_t n, float p, uint32_t seed)
{
    lk k = {.o = cpu_f32(dinp), .a = cpu_f32(dout), .f = p, .g = 1.0f, .seed = seed};
    cpu_for(cpu_of(be), (int64_t)n, WORK, dropout_fn, &k);
}

/* ------------------------------------------------------------------ softmax + cross-entropy */

static void xent_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    lk *k = c;
    bool grad = k->f != 0.0f;
    for (int64_t i = lo; i < hi; i++) {
        float *row = k->o + i * k->V;
        int32_t t = k->ids[i];
        if (t < 0 || t >= k->V) { /* masked (targets >= V are refused before we get here) */
            k->o2[i] = 0.0f;
            if (grad)
                memset(row, 0, (size_t)k->V * sizeof(float));
            continue;
        }
        float target = row[t], mx = cpu_max(row, (size_t)k->V);
        float *e = row;
        if (!grad) { /* exps go to scratch so the logits survive */
            e = k->cb->tile[tid].p;
            memcpy(e, row, (size_t)k->V * sizeof(float));
        }
        float s = cpu_exp_shift_sum(e, (size_t)k->V, mx);
        k->o2[i] = mx + logf(s) - target;
        if (grad) {
            float scale = k->f / s;
            for (int64_t j = 0; j < k->V; j++)
                row[j] *= scale;
            row[t] -= k->f;
        }
    }
}

void cpu_xent_forward_backward(tb_backend *be, tb_view loss, tb_view logits, tb_view targets, int64_t N, int64_t V,
                               float grad_scale)
{
    cpu_backend *cb = cpu_of(be);
    if (grad_scale == 0.0f)
        for (int t = 0; t < cb->threads; t++)
            if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)V))
                return;
    lk k = {.cb = cb, .o = cpu_f32(logits), .o2 = cpu_f32(loss), .ids = cpu_i32(targets), .V = V, .f = grad_scale};
    cpu_for(cb, N, rows_grain(V), xent_fn, &k);
}
