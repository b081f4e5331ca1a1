/* tunebench — CPU backend: the op table, buffers, transfers, elementwise ops, reductions,
 * AdamW. Ops run at once on the calling thread plus an OpenMP team; OpenBLAS runs
 * single-threaded inside that team (one thread pool for everything: no oversubscription
 * on small machines). */
#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "engine/backend/cpu/cpu.h"
#include "engine/backend/cpu/cpu_internal.h"
#include "engine/backend/cpu/cpu_layers.h"

/* Elementwise work below this many elements stays on the calling thread: waking the team
 * costs more than it saves. */
#define PAR_MIN 32768

void cpu_fail(cpu_backend *cb, tb_status st, const char *fmt, ...)
{
    if (cb->failed != TB_OK)
        return;
    cb->failed = st;
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tb_error_set(&cb->err, st, NULL, 0, NULL, "cpu backend: %s", msg);
}

bool cpu_scratch_reserve(cpu_backend *cb, cpu_scratch *s, size_t n)
{
    if (s->cap >= n)
        return true;
    tb_free(s->p);
    s->cap = 0;
    s->p = tb_alloc(n * sizeof(float), TB_MEM_SCRATCH);
    if (!s->p) {
        cpu_fail(cb, TB_ERR_NOMEM, "out of memory for %zu bytes of scratch", n * sizeof(float));
        return false;
    }
    s->cap = n;
    return true;
}

/* ------------------------------------------------------------------ memory */

static tb_status buf_alloc(tb_backend *be, tb_buf **out, tb_dtype dtype, size_t n, tb_mem_category cat, tb_error *err)
{
    *out = NULL;
    size_t es = tb_dtype_size(dtype);
    if (!n || !es || n > SIZE_MAX / es)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, NULL, "cpu backend: cannot allocate %zu elements of %s", n,
                            tb_dtype_name(dtype));
    cpu_buf *b = tb_alloc(sizeof *b, TB_MEM_OTHER);
    void *data = b ? tb_alloc(n * es, cat) : NULL;
    if (!data) {
        tb_free(b);
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "cpu backend: out of memory allocating %zu bytes (%s)",
                            n * es, tb_mem_category_name(cat));
    }
    b->base = (tb_buf){be, dtype, n, cat, false};
    b->data = data;
    b->owned = true;
    *out = &b->base;
    return TB_OK;
}

static tb_status buf_from_host(tb_backend *be, tb_buf **out, const void *host, tb_dtype dtype, size_t n,
                               tb_mem_category cat, tb_error *err)
{
    *out = NULL;
    cpu_buf *b = tb_alloc(sizeof *b, TB_MEM_OTHER);
    if (!b)
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "cpu backend: out of memory");
    b->base = (tb_buf){be, dtype, n, cat, true};
    b->data = (void *)(uintptr_t)host; /* read-only by contract (base.read_only) */
    b->owned = false;
    *out = &b->base;
    return TB_OK;
}

static void buf_free(tb_backend *be, tb_buf *buf)
{
    (void)be;
    if (!buf)
        return;
    cpu_buf *b = (cpu_buf *)buf;
    if (b->owned)
        tb_free(b->data);
    tb_free(b);
}

static void upload(tb_backend *be, tb_view dst, const void *host, size_t n)
{
    (void)be;
    memcpy(cpu_raw(dst), host, n * tb_dtype_size(dst.buf->dtype));
}

static tb_status sync_(tb_backend *be, tb_error *err)
{
    cpu_backend *cb = cpu_of(be);
    if (cb->failed == TB_OK)
        return TB_OK;
    if (err)
        *err = cb->err;
    tb_status st = cb->failed;
    cb->failed = TB_OK;
    return st;
}

static tb_status download(tb_backend *be, void *host, tb_view src, size_t n, tb_error *err)
{
    tb_status st = sync_(be, err);
    if (st == TB_OK)
        memcpy(host, cpu_raw(src), n * tb_dtype_size(src.buf->dtype));
    return st;
}

static void destroy(tb_backend *be)
{
    cpu_backend *cb = cpu_of(be);
    for (int i = 0; i < CPU_MAX_THREADS; i++)
        tb_free(cb->tile[i].p);
    tb_free(cb->shared.p);
    tb_free(cb->vec.p);
#if TB_HAVE_DNNL
    cpu_dnnl_free(cb->dnnl);
#endif
    tb_free(cb);
}

/* ------------------------------------------------------------------ elementwise */

static int team(tb_backend *be, size_t work) { return work >= PAR_MIN ? cpu_of(be)->threads : 1; }

static void fill(tb_backend *be, tb_view x, float value, size_t n)
{
    float *p = cpu_f32(x);
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t i = 0; i < n; i++)
        p[i] = value;
}

static void copy(tb_backend *be, tb_view dst, tb_view src, size_t n)
{
    tb_dtype dt = dst.buf->dtype, st = src.buf->dtype;
    if (dt == st) {
        memmove(cpu_raw(dst), cpu_raw(src), n * tb_dtype_size(dt));
        return;
    }
    int nt = team(be, n);
    size_t chunk = 4096;
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t c = 0; c < n; c += chunk) {
        size_t len = n - c < chunk ? n - c : chunk;
        if (dt == TB_DTYPE_F32) {
            cpu_widen(cpu_f32(dst) + c, (const char *)cpu_raw(src) + c * tb_dtype_size(st), st, len);
        } else if (st == TB_DTYPE_F32) {
            if (dt == TB_DTYPE_BF16)
                cpu_narrow_bf16((uint16_t *)cpu_raw(dst) + c, cpu_f32(src) + c, len);
            else
                tb_convert_from_f32((uint16_t *)cpu_raw(dst) + c, dt, cpu_f32(src) + c, len);
        } else { /* bf16 <-> f16 through f32 */
            float tmp[4096];
            tb_convert_to_f32(tmp, (const uint16_t *)cpu_raw(src) + c, st, len);
            tb_convert_from_f32((uint16_t *)cpu_raw(dst) + c, dt, tmp, len);
        }
    }
}

static void add(tb_backend *be, tb_view out, tb_view a, tb_view b, size_t n)
{
    float *o = cpu_f32(out);
    const float *x = cpu_f32(a), *y = cpu_f32(b);
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t i = 0; i < n; i++)
        o[i] = x[i] + y[i];
}

static void scale(tb_backend *be, tb_view x, float alpha, size_t n)
{
    float *p = cpu_f32(x);
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t i = 0; i < n; i++)
        p[i] *= alpha;
}

static void axpy(tb_backend *be, tb_view y, float alpha, tb_view x, size_t n)
{
    float *p = cpu_f32(y);
    const float *q = cpu_f32(x);
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t i = 0; i < n; i++)
        p[i] += alpha * q[i];
}

/* Sums in double over fixed 4096-element chunks: deterministic for any thread count. */
static double reduce(tb_backend *be, const float *x, size_t n, bool squares)
{
    size_t chunk = 4096, nc = (n + chunk - 1) / chunk;
    double total = 0;
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static) reduction(+ : total)
    for (size_t c = 0; c < nc; c++) {
        double s = 0;
        size_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
        for (size_t i = c * chunk; i < end; i++)
            s += squares ? (double)x[i] * (double)x[i] : (double)x[i];
        total += s;
    }
    return total;
}

static void sum(tb_backend *be, tb_view out, tb_view x, size_t n)
{
    *cpu_f32(out) += (float)reduce(be, cpu_f32(x), n, false);
}

static void sum_squares(tb_backend *be, tb_view out, tb_view x, size_t n)
{
    *cpu_f32(out) += (float)reduce(be, cpu_f32(x), n, true);
}

static void clip_scale(tb_backend *be, tb_view out, tb_view sumsq, float max_norm)
{
    (void)be;
    float norm = sqrtf(*cpu_f32(sumsq));
    float s = max_norm / (norm + 1e-6f);
    *cpu_f32(out) = s < 1.0f ? s : 1.0f;
}

static void adamw(tb_backend *be, tb_view param, tb_view grad, tb_view m, tb_view v, size_t n, tb_view gscale,
                  const tb_adamw_params *p)
{
    float *w = cpu_f32(param), *mm = cpu_f32(m), *vv = cpu_f32(v);
    const float *g = cpu_f32(grad);
    float gs = tb_view_null(gscale) ? 1.0f : *cpu_f32(gscale);
    float b1 = p->beta1, b2 = p->beta2;
    float c1 = 1.0f - powf(b1, (float)p->step), c2 = 1.0f - powf(b2, (float)p->step);
    float lr = p->lr, eps = p->eps, wd = p->weight_decay;
    int nt = team(be, n);
#pragma omp parallel for num_threads(nt) if (nt > 1) schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * gs;
        mm[i] = b1 * mm[i] + (1.0f - b1) * gi;
        vv[i] = b2 * vv[i] + (1.0f - b2) * gi * gi;
        float mh = mm[i] / c1, vh = vv[i] / c2;
        w[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * w[i]);
    }
}

/* ------------------------------------------------------------------ the table */

static const tb_backend_ops cpu_ops = {
    .buf_alloc = buf_alloc,
    .buf_from_host = buf_from_host,
    .buf_free = buf_free,
    .upload = upload,
    .download = download,
    .sync = sync_,
    .destroy = destroy,
    .fill = fill,
    .copy = copy,
    .add = add,
    .scale = scale,
    .axpy = axpy,
    .sum = sum,
    .sum_squares = sum_squares,
    .clip_scale = clip_scale,
    .embedding_forward = cpu_embedding_forward,
    .rmsnorm_forward = cpu_rmsnorm_forward,
    .matmul = cpu_matmul,
    .add_bias = cpu_add_bias,
    .rope_forward = cpu_rope_forward,
    .attention_forward = cpu_attention_forward,
    .swiglu_forward = cpu_swiglu_forward,
    .dropout_forward = cpu_dropout_forward,
    .xent_forward_backward = cpu_xent_forward_backward,
    .embedding_backward = cpu_embedding_backward,
    .rmsnorm_backward = cpu_rmsnorm_backward,
    .bias_backward = cpu_bias_backward,
    .rope_backward = cpu_rope_backward,
    .attention_backward = cpu_attention_backward,
    .swiglu_backward = cpu_swiglu_backward,
    .dropout_backward = cpu_dropout_backward,
    .adamw = adamw,
};

tb_status tb_cpu_backend_create(tb_backend **out, const tb_backend_options *opt, tb_error *err)
{
    *out = NULL;
    cpu_backend *cb = tb_alloc(sizeof *cb, TB_MEM_OTHER);
    if (!cb)
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "cpu backend: out of memory");
    cb->base.ops = &cpu_ops;
    cb->base.name = "cpu";
    if (opt)
        cb->base.opt = *opt;
    int threads = cb->base.opt.threads;
#ifdef _OPENMP
    if (threads <= 0)
        threads = omp_get_num_procs();
    omp_set_num_threads(threads); /* oneDNN uses the OpenMP team of the calling thread */
#else
    threads = 1;
#endif
    cb->threads = threads < 1 ? 1 : threads > CPU_MAX_THREADS ? CPU_MAX_THREADS : threads;
    cb->base.opt.threads = cb->threads;
    /* OpenBLAS runs inside our team, one thread per call. */
    openblas_set_num_threads(1);
    const char *mm = "sgemm (bf16/f16 weights widened per tile)";
#if TB_HAVE_DNNL
    if (cb->base.opt.precision == TB_PRECISION_BF16) {
        cb->dnnl = cpu_dnnl_create(cb->threads);
        if (cb->dnnl)
            mm = "oneDNN bf16 for bf16 weights, sgemm otherwise";
    }
#endif
    if (cb->base.opt.precision == TB_PRECISION_BF16 && !cb->dnnl)
        mm = "sgemm (bf16 precision asked, but this build has no oneDNN: computing in f32)";
    snprintf(cb->base.description, sizeof cb->base.description, "cpu: %d threads, OpenBLAS %s, matmul %s",
             cb->threads, openblas_get_corename(), mm);
    *out = &cb->base;
    return TB_OK;
}
