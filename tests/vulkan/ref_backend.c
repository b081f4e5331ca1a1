/* tunebench — a plain-C reference implementation of backend.h, the oracle of the Vulkan
 * kernel suites until the CPU backend (engine/backend/cpu) lands; then the suites take
 * tb_backend_create("cpu") instead and this file goes.
 *
 * Naive loops with double accumulators, host memory, no threads: written for obviousness,
 * straight from backend.h's formulas. */
#include "tests/vulkan/ref_backend.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref_buf {
    tb_buf base;
    unsigned char *data;
} ref_buf;

static void *at(tb_view v)
{
    return ((ref_buf *)v.buf)->data + v.off * tb_dtype_size(v.buf->dtype);
}
static float *f32(tb_view v) { return at(v); }

static float get(tb_view v, size_t i)
{
    const unsigned char *p = (const unsigned char *)at(v) + i * tb_dtype_size(v.buf->dtype);
    float f;
    tb_convert_to_f32(&f, p, v.buf->dtype, 1);
    return f;
}

static tb_status r_alloc(tb_backend *be, tb_buf **out, tb_dtype dt, size_t n, tb_mem_category cat, tb_error *err)
{
    ref_buf *b = calloc(1, sizeof *b);
    b->data = calloc(n, tb_dtype_size(dt));
    if (!b || !b->data)
        return tb_fail(err, TB_ERR_NOMEM, "ref: out of memory");
    b->base = (tb_buf){.be = be, .dtype = dt, .n = n, .cat = cat};
    *out = &b->base;
    return TB_OK;
}

static tb_status r_from_host(tb_backend *be, tb_buf **out, const void *host, tb_dtype dt, size_t n,
                             tb_mem_category cat, tb_error *err)
{
    tb_status st = r_alloc(be, out, dt, n, cat, err);
    if (st == TB_OK) {
        memcpy(((ref_buf *)*out)->data, host, n * tb_dtype_size(dt));
        (*out)->read_only = true;
    }
    return st;
}

static void r_free(tb_backend *be, tb_buf *b)
{
    (void)be;
    if (b) {
        free(((ref_buf *)b)->data);
        free(b);
    }
}

static void r_upload(tb_backend *be, tb_view dst, const void *host, size_t n)
{
    (void)be;
    memcpy(at(dst), host, n * tb_dtype_size(dst.buf->dtype));
}

static tb_status r_download(tb_backend *be, void *host, tb_view src, size_t n, tb_error *err)
{
    (void)be;
    (void)err;
    memcpy(host, at(src), n * tb_dtype_size(src.buf->dtype));
    return TB_OK;
}

static tb_status r_sync(tb_backend *be, tb_error *err)
{
    (void)be;
    (void)err;
    return TB_OK;
}

static void r_destroy(tb_backend *be) { free(be); }

static void r_fill(tb_backend *be, tb_view x, float value, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        f32(x)[i] = value;
}

static void r_copy(tb_backend *be, tb_view dst, tb_view src, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        float f = get(src, i);
        tb_convert_from_f32((unsigned char *)at(dst) + i * tb_dtype_size(dst.buf->dtype), dst.buf->dtype, &f, 1);
    }
}

static void r_add(tb_backend *be, tb_view out, tb_view a, tb_view b, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        f32(out)[i] = f32(a)[i] + f32(b)[i];
}

static void r_scale(tb_backend *be, tb_view x, float alpha, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        f32(x)[i] *= alpha;
}

static void r_axpy(tb_backend *be, tb_view y, float alpha, tb_view x, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        f32(y)[i] += alpha * f32(x)[i];
}

static void r_sum(tb_backend *be, tb_view out, tb_view x, size_t n)
{
    (void)be;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)f32(x)[i];
    f32(out)[0] += (float)s;
}

static void r_sum_squares(tb_backend *be, tb_view out, tb_view x, size_t n)
{
    (void)be;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)f32(x)[i] * (double)f32(x)[i];
    f32(out)[0] += (float)s;
}

static void r_clip_scale(tb_backend *be, tb_view out, tb_view sumsq, float max_norm)
{
    (void)be;
    float s = max_norm / (sqrtf(f32(sumsq)[0]) + 1e-6f);
    f32(out)[0] = s < 1.0f ? s : 1.0f;
}

static void r_embedding_forward(tb_backend *be, tb_view out, tb_view table, tb_view ids, int64_t N, int64_t D)
{
    (void)be;
    const int32_t *id = at(ids);
    for (int64_t i = 0; i < N; i++)
        for (int64_t d = 0; d < D; d++)
            f32(out)[i * D + d] = get(table, (size_t)(id[i] * D + d));
}

static void r_rmsnorm_forward(tb_backend *be, tb_view out, tb_view rstd, tb_view inp, tb_view weight,
                              int64_t N, int64_t D, float eps)
{
    (void)be;
    for (int64_t i = 0; i < N; i++) {
        const float *x = f32(inp) + i * D;
        double ss = 0;
        for (int64_t d = 0; d < D; d++)
            ss += (double)x[d] * (double)x[d];
        float r = (float)(1.0 / sqrt(ss / (double)D + (double)eps));
        if (!tb_view_null(rstd))
            f32(rstd)[i] = r;
        for (int64_t d = 0; d < D; d++)
            f32(out)[i * D + d] = get(weight, (size_t)d) * (x[d] * r);
    }
}

static void r_matmul(tb_backend *be, tb_view c, tb_view a, tb_wview w, int64_t M, int64_t N, int64_t K,
                     int flags, float alpha, float beta)
{
    bool ta = flags & TB_MM_TRANS_A, tb = flags & TB_MM_TRANS_B;
    bool round_a = be->opt.precision == TB_PRECISION_BF16 && w.v.buf->dtype == TB_DTYPE_BF16;
    /* B and A as f32 arrays, A rounded to bf16 when the precision asks for it */
    float *bw = malloc((size_t)(K * N) * sizeof *bw), *aw = malloc((size_t)(M * K) * sizeof *aw);
    tb_convert_to_f32(bw, at(w.v), w.v.buf->dtype, (size_t)(K * N));
    for (int64_t i = 0; i < M * K; i++)
        aw[i] = round_a ? tb_bf16_to_f32(tb_f32_to_bf16(f32(a)[i])) : f32(a)[i];
    for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (double)aw[ta ? k * M + m : m * K + k] * (double)bw[tb ? n * K + k : k * N + n];
            float *cv = &f32(c)[m * N + n];
            *cv = (float)((double)alpha * s + (beta != 0.0f ? (double)beta * (double)*cv : 0.0));
        }
    free(aw);
    free(bw);
}

static void r_add_bias(tb_backend *be, tb_view x, tb_view bias, int64_t N, int64_t C)
{
    (void)be;
    for (int64_t i = 0; i < N * C; i++)
        f32(x)[i] += get(bias, (size_t)(i % C));
}

static void rope(tb_view x, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh, int64_t pos0, float sign)
{
    int64_t h2 = Dh / 2;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t h = 0; h < nh; h++)
                for (int64_t j = 0; j < h2; j++) {
                    const float *row = f32(table) + (pos0 + t) * Dh;
                    float c = row[j], s = sign * row[h2 + j];
                    float *p = f32(x) + ((b * T + t) * nh + h) * Dh;
                    float x1 = p[j], x2 = p[j + h2];
                    p[j] = x1 * c - x2 * s;
                    p[j + h2] = x2 * c + x1 * s;
                }
}

static void r_rope_forward(tb_backend *be, tb_view x, tb_view table, int64_t B, int64_t T, int64_t nh,
                           int64_t Dh, int64_t pos0)
{
    (void)be;
    rope(x, table, B, T, nh, Dh, pos0, 1.0f);
}

static void r_rope_backward(tb_backend *be, tb_view x, tb_view table, int64_t B, int64_t T, int64_t nh,
                            int64_t Dh, int64_t pos0)
{
    (void)be;
    rope(x, table, B, T, nh, Dh, pos0, -1.0f);
}

/* Full (Tq x Tk) probabilities, row by row: the obvious two-pass softmax. */
static double *probs(const tb_attn_dims *d, tb_view q, tb_view k, int64_t b, int64_t h, int64_t t, double *lse)
{
    int64_t Tk = d->pos0 + d->Tq, g = h / (d->H / d->Hkv);
    double *p = calloc((size_t)Tk, sizeof *p), m = -INFINITY, s = 0;
    const float *qr = f32(q) + ((b * d->Tq + t) * d->H + h) * d->Dh;
    for (int64_t j = 0; j <= d->pos0 + t; j++) {
        const float *kr = f32(k) + b * d->kv_stride_b + (j * d->Hkv + g) * d->Dh;
        double dot = 0;
        for (int64_t e = 0; e < d->Dh; e++)
            dot += (double)qr[e] * (double)kr[e];
        p[j] = dot * (double)d->scale;
        m = p[j] > m ? p[j] : m;
    }
    for (int64_t j = 0; j <= d->pos0 + t; j++)
        s += exp(p[j] - m);
    for (int64_t j = 0; j <= d->pos0 + t; j++)
        p[j] = exp(p[j] - m) / s;
    *lse = m + log(s);
    return p;
}

static void r_attention_forward(tb_backend *be, tb_view out, tb_view lse, tb_view q, tb_view k, tb_view v,
                                const tb_attn_dims *d)
{
    (void)be;
    for (int64_t b = 0; b < d->B; b++)
        for (int64_t h = 0; h < d->H; h++)
            for (int64_t t = 0; t < d->Tq; t++) {
                double l;
                double *p = probs(d, q, k, b, h, t, &l);
                int64_t g = h / (d->H / d->Hkv);
                for (int64_t e = 0; e < d->Dh; e++) {
                    double acc = 0;
                    for (int64_t j = 0; j <= d->pos0 + t; j++)
                        acc += p[j] * (double)f32(v)[b * d->kv_stride_b + (j * d->Hkv + g) * d->Dh + e];
                    f32(out)[((b * d->Tq + t) * d->H + h) * d->Dh + e] = (float)acc;
                }
                if (!tb_view_null(lse))
                    f32(lse)[(b * d->H + h) * d->Tq + t] = (float)l;
                free(p);
            }
}

static void r_attention_backward(tb_backend *be, tb_view dq, tb_view dk, tb_view dv, tb_view dout, tb_view q,
                                 tb_view k, tb_view v, tb_view out, tb_view lse, const tb_attn_dims *d)
{
    (void)be;
    (void)out;
    (void)lse;
    int64_t Tk = d->pos0 + d->Tq, Dh = d->Dh;
    for (int64_t b = 0; b < d->B; b++)
        for (int64_t j = 0; j < Tk; j++)
            for (int64_t e = 0; e < d->Hkv * Dh; e++) {
                f32(dk)[b * d->kv_stride_b + j * d->Hkv * Dh + e] = 0;
                f32(dv)[b * d->kv_stride_b + j * d->Hkv * Dh + e] = 0;
            }
    for (int64_t b = 0; b < d->B; b++)
        for (int64_t h = 0; h < d->H; h++)
            for (int64_t t = 0; t < d->Tq; t++) {
                double l;
                double *p = probs(d, q, k, b, h, t, &l);
                int64_t g = h / (d->H / d->Hkv), qi = ((b * d->Tq + t) * d->H + h) * Dh;
                const float *go = f32(dout) + qi;
                /* dP_j = dout . v_j; dS_j = P_j (dP_j - sum_i P_i dP_i) */
                double *dp = calloc((size_t)Tk, sizeof *dp), pdp = 0;
                for (int64_t j = 0; j <= d->pos0 + t; j++) {
                    const float *vr = f32(v) + b * d->kv_stride_b + (j * d->Hkv + g) * Dh;
                    for (int64_t e = 0; e < Dh; e++)
                        dp[j] += (double)go[e] * (double)vr[e];
                    pdp += p[j] * dp[j];
                }
                for (int64_t e = 0; e < Dh; e++)
                    f32(dq)[qi + e] = 0;
                for (int64_t j = 0; j <= d->pos0 + t; j++) {
                    size_t ki = (size_t)(b * d->kv_stride_b + (j * d->Hkv + g) * Dh);
                    double ds = p[j] * (dp[j] - pdp) * (double)d->scale;
                    for (int64_t e = 0; e < Dh; e++) {
                        f32(dq)[qi + e] += (float)(ds * (double)f32(k)[ki + (size_t)e]);
                        f32(dk)[ki + (size_t)e] += (float)(ds * (double)f32(q)[qi + e]);
                        f32(dv)[ki + (size_t)e] += (float)(p[j] * (double)go[e]);
                    }
                }
                free(dp);
                free(p);
            }
}

static void r_swiglu_forward(tb_backend *be, tb_view out, tb_view gate, tb_view up, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        float g = f32(gate)[i];
        f32(out)[i] = g / (1.0f + expf(-g)) * f32(up)[i];
    }
}

static void r_swiglu_backward(tb_backend *be, tb_view dgate, tb_view dup, tb_view dout, tb_view gate, tb_view up,
                              size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        double g = f32(gate)[i], u = f32(up)[i], d = f32(dout)[i], s = 1.0 / (1.0 + exp(-g));
        f32(dgate)[i] = (float)(d * u * s * (1.0 + g * (1.0 - s)));
        f32(dup)[i] = (float)(d * g * s);
    }
}

static void r_dropout_forward(tb_backend *be, tb_view out, tb_view inp, size_t n, float p, uint32_t seed)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        f32(out)[i] = p == 0.0f ? f32(inp)[i] : tb_dropout_keep(seed, (uint32_t)i, p) ? f32(inp)[i] / (1.0f - p) : 0.0f;
}

static void r_dropout_backward(tb_backend *be, tb_view dinp, tb_view dout, size_t n, float p, uint32_t seed)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        f32(dinp)[i] += p == 0.0f ? f32(dout)[i] : tb_dropout_keep(seed, (uint32_t)i, p) ? f32(dout)[i] / (1.0f - p) : 0.0f;
}

static void r_xent(tb_backend *be, tb_view loss, tb_view logits, tb_view targets, int64_t N, int64_t V,
                   float grad_scale)
{
    (void)be;
    for (int64_t i = 0; i < N; i++) {
        float *z = f32(logits) + i * V;
        int32_t t = ((const int32_t *)at(targets))[i];
        double m = -INFINITY, s = 0;
        for (int64_t j = 0; j < V; j++)
            m = (double)z[j] > m ? (double)z[j] : m;
        for (int64_t j = 0; j < V; j++)
            s += exp((double)z[j] - m);
        f32(loss)[i] = t < 0 ? 0.0f : (float)(m + log(s) - (double)z[t]);
        if (grad_scale != 0.0f)
            for (int64_t j = 0; j < V; j++)
                z[j] = t < 0 ? 0.0f : (float)((double)grad_scale * (exp((double)z[j] - m) / s - (j == t)));
    }
}

static void r_embedding_backward(tb_backend *be, tb_view dtable, tb_view dout, tb_view ids, int64_t N, int64_t D)
{
    (void)be;
    const int32_t *id = at(ids);
    for (int64_t i = 0; i < N; i++)
        for (int64_t d = 0; d < D; d++)
            f32(dtable)[id[i] * D + d] += f32(dout)[i * D + d];
}

static void r_rmsnorm_backward(tb_backend *be, tb_view dinp, tb_view dweight, tb_view dout, tb_view inp,
                               tb_view weight, tb_view rstd, int64_t N, int64_t D)
{
    (void)be;
    for (int64_t i = 0; i < N; i++) {
        const float *g = f32(dout) + i * D, *x = f32(inp) + i * D;
        double r = f32(rstd)[i], dot = 0;
        for (int64_t d = 0; d < D; d++)
            dot += (double)g[d] * (double)get(weight, (size_t)d) * (double)x[d];
        dot /= (double)D;
        for (int64_t d = 0; d < D; d++) {
            f32(dinp)[i * D + d] += (float)(r * (double)get(weight, (size_t)d) * (double)g[d] - (double)x[d] * r * r * r * dot);
            if (!tb_view_null(dweight))
                f32(dweight)[d] += (float)((double)g[d] * (double)x[d] * r);
        }
    }
}

static void r_bias_backward(tb_backend *be, tb_view dbias, tb_view dout, int64_t N, int64_t C)
{
    (void)be;
    for (int64_t c = 0; c < C; c++) {
        double s = 0;
        for (int64_t i = 0; i < N; i++)
            s += (double)f32(dout)[i * C + c];
        f32(dbias)[c] += (float)s;
    }
}

static void r_adamw(tb_backend *be, tb_view param, tb_view grad, tb_view m, tb_view v, size_t n, tb_view gscale,
                    const tb_adamw_params *p)
{
    (void)be;
    double bc1 = 1.0 - pow((double)p->beta1, (double)p->step), bc2 = 1.0 - pow((double)p->beta2, (double)p->step);
    double gs = tb_view_null(gscale) ? 1.0 : (double)f32(gscale)[0];
    for (size_t i = 0; i < n; i++) {
        double g = (double)f32(grad)[i] * gs;
        double mm = (double)p->beta1 * (double)f32(m)[i] + (1.0 - (double)p->beta1) * g;
        double vv = (double)p->beta2 * (double)f32(v)[i] + (1.0 - (double)p->beta2) * g * g;
        f32(m)[i] = (float)mm;
        f32(v)[i] = (float)vv;
        double w = f32(param)[i];
        f32(param)[i] = (float)(w - (double)p->lr * (mm / bc1 / (sqrt(vv / bc2) + (double)p->eps) +
                                                      (double)p->weight_decay * w));
    }
}

static const tb_backend_ops ref_ops = {
    .buf_alloc = r_alloc, .buf_from_host = r_from_host, .buf_free = r_free, .upload = r_upload,
    .download = r_download, .sync = r_sync, .destroy = r_destroy, .fill = r_fill, .copy = r_copy,
    .add = r_add, .scale = r_scale, .axpy = r_axpy, .sum = r_sum, .sum_squares = r_sum_squares,
    .clip_scale = r_clip_scale, .embedding_forward = r_embedding_forward,
    .rmsnorm_forward = r_rmsnorm_forward, .matmul = r_matmul, .add_bias = r_add_bias,
    .rope_forward = r_rope_forward, .attention_forward = r_attention_forward,
    .swiglu_forward = r_swiglu_forward, .dropout_forward = r_dropout_forward,
    .xent_forward_backward = r_xent, .embedding_backward = r_embedding_backward,
    .rmsnorm_backward = r_rmsnorm_backward, .bias_backward = r_bias_backward,
    .rope_backward = r_rope_backward, .attention_backward = r_attention_backward,
    .swiglu_backward = r_swiglu_backward, .dropout_backward = r_dropout_backward, .adamw = r_adamw,
};

tb_backend *ref_backend_create(const tb_backend_options *opt)
{
    tb_backend *be = calloc(1, sizeof *be);
    be->ops = &ref_ops;
    be->name = "ref";
    if (opt)
        be->opt = *opt;
    return be;
}
