/* tunebench — CPU layer kernels: embedding, RMSNorm, bias, RoPE, SwiGLU, dropout, fused
 * softmax + cross-entropy; forward and backward (llm.c-style mirrored pairs). Rows are
 * split over the OpenMP team; reductions over rows use per-thread partials combined in a
 * fixed order, so results do not depend on scheduling. */
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/backend/cpu/cpu_internal.h"
#include "engine/backend/cpu/cpu_layers.h"

#define ROWS_PAR_MIN 32768 /* elements of work before rows go to the team */

static int team(tb_backend *be, size_t work) { return work >= ROWS_PAR_MIN ? cpu_of(be)->threads : 1; }

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

const float *cpu_vec_f32(cpu_backend *cb, tb_view v, size_t n)
{
    if (v.buf->dtype == TB_DTYPE_F32)
        return cpu_f32(v);
    if (!cpu_scratch_reserve(cb, &cb->vec, n))
        return NULL;
    cpu_widen(cb->vec.p, cpu_raw(v), v.buf->dtype, n);
    return cb->vec.p;
}

/* ------------------------------------------------------------------ embedding */

void cpu_embedding_forward(tb_backend *be, tb_view out, tb_view table, tb_view ids, int64_t N, int64_t D)
{
    float *o = cpu_f32(out);
    const int32_t *id = cpu_i32(ids);
    const char *tab = cpu_raw(table);
    tb_dtype t = table.buf->dtype;
    size_t es = tb_dtype_size(t);
    int64_t V = (int64_t)((table.buf->n - table.off) / (size_t)D);
    int nt = team(be, (size_t)(N * D));
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t i = 0; i < N; i++) {
        if (id[i] < 0 || id[i] >= V) { /* the model checks ids first; never read outside */
            memset(o + i * D, 0, (size_t)D * sizeof(float));
            continue;
        }
        cpu_widen(o + i * D, tab + (size_t)id[i] * (size_t)D * es, t, (size_t)D);
    }
}

void cpu_embedding_backward(tb_backend *be, tb_view dtable, tb_view dout, tb_view ids, int64_t N, int64_t D)
{
    float *dt = cpu_f32(dtable);
    const float *d = cpu_f32(dout);
    const int32_t *id = cpu_i32(ids);
    int64_t V = (int64_t)((dtable.buf->n - dtable.off) / (size_t)D);
    /* Columns split over threads: two rows with the same id never race. */
    int nt = team(be, (size_t)(N * D));
    int64_t chunk = 64;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t c0 = 0; c0 < D; c0 += chunk) {
        int64_t c1 = c0 + chunk < D ? c0 + chunk : D;
        for (int64_t i = 0; i < N; i++) {
            if (id[i] < 0 || id[i] >= V)
                continue;
            float *row = dt + (int64_t)id[i] * D;
            for (int64_t c = c0; c < c1; c++)
                row[c] += d[i * D + c];
        }
    }
}

/* ------------------------------------------------------------------ RMSNorm */

void cpu_rmsnorm_forward(tb_backend *be, tb_view out, tb_view rstd, tb_view inp, tb_view weight, int64_t N,
                         int64_t D, float eps)
{
    const float *w = cpu_vec_f32(cpu_of(be), weight, (size_t)D);
    if (!w)
        return;
    float *o = cpu_f32(out), *rs = tb_view_null(rstd) ? NULL : cpu_f32(rstd);
    const float *x = cpu_f32(inp);
    int nt = team(be, (size_t)(N * D));
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t i = 0; i < N; i++) {
        const float *xi = x + i * D;
        float *oi = o + i * D;
        float r = 1.0f / sqrtf(cpu_dot(xi, xi, TB_DTYPE_F32, (size_t)D) / (float)D + eps);
        for (int64_t j = 0; j < D; j++)
            oi[j] = w[j] * (xi[j] * r);
        if (rs)
            rs[i] = r;
    }
}

/* y = w * x * r. dx += r * (dout*w - xhat * mean(dout*w*xhat)), dw += sum_rows dout * xhat. */
void cpu_rmsnorm_backward(tb_backend *be, tb_view dinp, tb_view dweight, tb_view dout, tb_view inp, tb_view weight,
                          tb_view rstd, int64_t N, int64_t D)
{
    cpu_backend *cb = cpu_of(be);
    const float *w = cpu_vec_f32(cb, weight, (size_t)D);
    if (!w)
        return;
    float *dx = cpu_f32(dinp), *dw = tb_view_null(dweight) ? NULL : cpu_f32(dweight);
    const float *dy = cpu_f32(dout), *x = cpu_f32(inp), *rs = cpu_f32(rstd);
    int nt = team(be, (size_t)(N * D));
    if (dw)
        for (int t = 0; t < nt; t++)
            if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)D))
                return;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int tid = thread_id();
        float *part = dw ? cb->tile[tid].p : NULL;
        if (part)
            memset(part, 0, (size_t)D * sizeof(float));
#pragma omp for schedule(static)
        for (int64_t i = 0; i < N; i++) {
            const float *xi = x + i * D, *dyi = dy + i * D;
            float r = rs[i], dot = 0;
            for (int64_t j = 0; j < D; j++)
                dot += dyi[j] * w[j] * xi[j] * r;
            float mean = dot / (float)D;
            float *dxi = dx + i * D;
            for (int64_t j = 0; j < D; j++) {
                float xh = xi[j] * r;
                dxi[j] += r * (dyi[j] * w[j] - xh * mean);
                if (part)
                    part[j] += dyi[j] * xh;
            }
        }
    }
    if (dw)
        for (int t = 0; t < nt; t++)
            for (int64_t j = 0; j < D; j++)
                dw[j] += cb->tile[t].p[j];
}

/* ------------------------------------------------------------------ bias */

void cpu_add_bias(tb_backend *be, tb_view x, tb_view bias, int64_t N, int64_t C)
{
    const float *b = cpu_vec_f32(cpu_of(be), bias, (size_t)C);
    if (!b)
        return;
    float *p = cpu_f32(x);
    int nt = team(be, (size_t)(N * C));
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t i = 0; i < N; i++)
        for (int64_t j = 0; j < C; j++)
            p[i * C + j] += b[j];
}

void cpu_bias_backward(tb_backend *be, tb_view dbias, tb_view dout, int64_t N, int64_t C)
{
    float *db = cpu_f32(dbias);
    const float *d = cpu_f32(dout);
    int nt = team(be, (size_t)(N * C));
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t j = 0; j < C; j++) {
        float s = 0;
        for (int64_t i = 0; i < N; i++)
            s += d[i * C + j];
        db[j] += s;
    }
}

/* ------------------------------------------------------------------ RoPE */

/* sign +1: forward rotation; -1: its transpose (backward). */
static void rope(tb_backend *be, tb_view xv, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh,
                 int64_t pos0, float sign)
{
    float *x = cpu_f32(xv);
    const float *tab = cpu_f32(table);
    int64_t half = Dh / 2;
    int nt = team(be, (size_t)(B * T * nh * Dh));
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t bt = 0; bt < B * T; bt++) {
        const float *cs = tab + (pos0 + bt % T) * Dh, *sn = cs + half;
        for (int64_t h = 0; h < nh; h++) {
            float *v = x + (bt * nh + h) * Dh;
            for (int64_t j = 0; j < half; j++) {
                float x1 = v[j], x2 = v[j + half], c = cs[j], s = sign * sn[j];
                v[j] = x1 * c - x2 * s;
                v[j + half] = x2 * c + x1 * s;
            }
        }
    }
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

#define SIG_CHUNK 1024

void cpu_swiglu_forward(tb_backend *be, tb_view out, tb_view gate, tb_view up, size_t n)
{
    float *o = cpu_f32(out);
    const float *g = cpu_f32(gate), *u = cpu_f32(up);
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t c = 0; c < n; c += SIG_CHUNK) {
        float s[SIG_CHUNK];
        size_t len = n - c < SIG_CHUNK ? n - c : SIG_CHUNK;
        cpu_sigmoid(s, g + c, len);
        for (size_t i = 0; i < len; i++)
            o[c + i] = g[c + i] * s[i] * u[c + i];
    }
}

/* d silu(g)/dg = s (1 + g (1 - s)), s = sigmoid(g). */
void cpu_swiglu_backward(tb_backend *be, tb_view dgate, tb_view dup, tb_view dout, tb_view gate, tb_view up,
                         size_t n)
{
    float *dg = cpu_f32(dgate), *du = cpu_f32(dup);
    const float *d = cpu_f32(dout), *g = cpu_f32(gate), *u = cpu_f32(up);
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t c = 0; c < n; c += SIG_CHUNK) {
        float s[SIG_CHUNK];
        size_t len = n - c < SIG_CHUNK ? n - c : SIG_CHUNK;
        cpu_sigmoid(s, g + c, len);
        for (size_t i = 0; i < len; i++) {
            float gi = g[c + i], si = s[i], di = d[c + i];
            float dgi = di * u[c + i] * si * (1.0f + gi * (1.0f - si)); /* read before writing: dgate may alias */
            du[c + i] = di * gi * si;
            dg[c + i] = dgi;
        }
    }
}

/* ------------------------------------------------------------------ dropout */

void cpu_dropout_forward(tb_backend *be, tb_view out, tb_view inp, size_t n, float p, uint32_t seed)
{
    float *o = cpu_f32(out);
    const float *x = cpu_f32(inp);
    float k = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t i = 0; i < n; i++)
        o[i] = p <= 0.0f ? x[i] : tb_dropout_keep(seed, (uint32_t)i, p) ? x[i] * k : 0.0f;
}

void cpu_dropout_backward(tb_backend *be, tb_view dinp, tb_view dout, size_t n, float p, uint32_t seed)
{
    float *dx = cpu_f32(dinp);
    const float *d = cpu_f32(dout);
    float k = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t i = 0; i < n; i++)
        dx[i] += p <= 0.0f ? d[i] : tb_dropout_keep(seed, (uint32_t)i, p) ? d[i] * k : 0.0f;
}

/* ------------------------------------------------------------------ softmax + cross-entropy */

void cpu_xent_forward_backward(tb_backend *be, tb_view loss, tb_view logits, tb_view targets, int64_t N, int64_t V,
                               float grad_scale)
{
    cpu_backend *cb = cpu_of(be);
    float *ls = cpu_f32(loss), *lg = cpu_f32(logits);
    const int32_t *tg = cpu_i32(targets);
    bool grad = grad_scale != 0.0f;
    int nt = team(be, (size_t)(N * V));
    if (!grad) /* exps go to scratch so the logits survive */
        for (int t = 0; t < nt; t++)
            if (!cpu_scratch_reserve(cb, &cb->tile[t], (size_t)V))
                return;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (int64_t i = 0; i < N; i++) {
        float *row = lg + i * V;
        int32_t t = tg[i];
        if (t < 0 || t >= V) { /* masked (targets >= V are refused before we get here) */
            ls[i] = 0.0f;
            if (grad)
                memset(row, 0, (size_t)V * sizeof(float));
            continue;
        }
        float target_logit = row[t];
        float mx = cpu_max(row, (size_t)V);
        float *e = row;
        if (!grad) {
            e = cb->tile[thread_id()].p;
            memcpy(e, row, (size_t)V * sizeof(float));
        }
        float s = cpu_exp_shift_sum(e, (size_t)V, mx);
        ls[i] = mx + logf(s) - target_logit;
        if (grad) {
            float k = grad_scale / s;
            for (int64_t j = 0; j < V; j++)
                row[j] *= k;
            row[t] -= grad_scale;
        }
    }
}
