/* tunebench — CPU backend: the op table, buffers, transfers, elementwise ops, reductions,
 * AdamW. Ops run at once on the calling thread plus the backend's pool (cpu_pool.h);
 * OpenBLAS and oneDNN run single-threaded inside pool tasks, so there is one set of
 * threads for everything and no oversubscription on small machines. */
#include <cblas.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/backend/cpu/cpu.h"
#include "engine/backend/cpu/cpu_internal.h"
#include "engine/backend/cpu/cpu_layers.h"

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
    tb_free(cb->a16.p);
    tb_free(cb->vec.p);
    tb_free(cb->part.p);
    cpu_pool_destroy(cb->pool);
#if TB_HAVE_DNNL
    cpu_dnnl_free(cb->dnnl);
#endif
    tb_free(cb);
}

/* ------------------------------------------------------------------ elementwise */

#define GRAIN 16384 /* elements per chunk: below this an op stays on the calling thread */

typedef struct range_job {
    cpu_range_fn fn;
    void *ctx;
    int64_t n, grain;
} range_job;

static void range_task(void *ctx, int64_t chunk, int tid)
{
    range_job *r = ctx;
    int64_t lo = chunk * r->grain, hi = lo + r->grain < r->n ? lo + r->grain : r->n;
    r->fn(r->ctx, lo, hi, tid);
}

void cpu_for(cpu_backend *cb, int64_t n, int64_t grain, cpu_range_fn fn, void *ctx)
{
    if (n <= 0)
        return;
    if (grain < 1)
        grain = 1;
    if ((n + grain - 1) / grain > 4096)
        grain = (n + 4095) / 4096;
    if (n <= grain || cb->threads <= 1) {
        fn(ctx, 0, n, 0);
        return;
    }
    range_job r = {fn, ctx, n, grain};
    cpu_pool_run(cb->pool, (n + grain - 1) / grain, range_task, &r);
}

void cpu_tasks(cpu_backend *cb, bool par, int64_t n, cpu_task_fn fn, void *ctx)
{
    if (par && n > 1 && cb->threads > 1)
        cpu_pool_run(cb->pool, n, fn, ctx);
    else
        for (int64_t c = 0; c < n; c++)
            fn(ctx, c, 0);
}

typedef struct ew {
    float *o;
    const float *a, *b;
    float alpha;
    void *dst;
    const void *src;
    tb_dtype dt, st;
} ew;

static void fill_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    ew *e = c;
    for (int64_t i = lo; i < hi; i++)
        e->o[i] = e->alpha;
}

static void fill(tb_backend *be, tb_view x, float value, size_t n)
{
    ew e = {.o = cpu_f32(x), .alpha = value};
    cpu_for(cpu_of(be), (int64_t)n, GRAIN, fill_fn, &e);
}

static void copy_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    ew *e = c;
    size_t len = (size_t)(hi - lo), ds = tb_dtype_size(e->dt), ss = tb_dtype_size(e->st);
    const char *src = (const char *)e->src + (size_t)lo * ss;
    char *dst = (char *)e->dst + (size_t)lo * ds;
    if (e->dt == e->st) {
        memcpy(dst, src, len * ds);
    } else if (e->dt == TB_DTYPE_F32) {
        cpu_widen((float *)dst, src, e->st, len);
    } else if (e->st == TB_DTYPE_F32) {
        if (e->dt == TB_DTYPE_BF16)
            cpu_narrow_bf16((uint16_t *)dst, (const float *)src, len);
        else
            tb_convert_from_f32(dst, e->dt, (const float *)src, len);
    } else { /* bf16 <-> f16 through f32, a block at a time */
        float tmp[1024];
        for (size_t i = 0; i < len; i += 1024) {
            size_t k = len - i < 1024 ? len - i : 1024;
            tb_convert_to_f32(tmp, src + i * ss, e->st, k);
            tb_convert_from_f32(dst + i * ds, e->dt, tmp, k);
        }
    }
}

static void copy(tb_backend *be, tb_view dst, tb_view src, size_t n)
{
    ew e = {.dst = cpu_raw(dst), .src = cpu_raw(src), .dt = dst.buf->dtype, .st = src.buf->dtype};
    if (e.dt == e.st) { /* may overlap: one memmove */
        memmove(e.dst, e.src, n * tb_dtype_size(e.dt));
        return;
    }
    cpu_for(cpu_of(be), (int64_t)n, GRAIN, copy_fn, &e);
}

static void add_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    ew *e = c;
    for (int64_t i = lo; i < hi; i++)
        e->o[i] = e->a[i] + e->b[i];
}

static void add(tb_backend *be, tb_view out, tb_view a, tb_view b, size_t n)
{
    ew e = {.o = cpu_f32(out), .a = cpu_f32(a), .b = cpu_f32(b)};
    cpu_for(cpu_of(be), (int64_t)n, GRAIN, add_fn, &e);
}

static void scale_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    ew *e = c;
    for (int64_t i = lo; i < hi; i++)
        e->o[i] *= e->alpha;
}

static void scale(tb_backend *be, tb_view x, float alpha, size_t n)
{
    ew e = {.o = cpu_f32(x), .alpha = alpha};
    cpu_for(cpu_of(be), (int64_t)n, GRAIN, scale_fn, &e);
}

static void axpy_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    ew *e = c;
    for (int64_t i = lo; i < hi; i++)
        e->o[i] += e->alpha * e->a[i];
}

static void axpy(tb_backend *be, tb_view y, float alpha, tb_view x, size_t n)
{
    ew e = {.o = cpu_f32(y), .a = cpu_f32(x), .alpha = alpha};
    cpu_for(cpu_of(be), (int64_t)n, GRAIN, axpy_fn, &e);
}

/* Sums in double over fixed 4096-element blocks, combined in block order: the result does
 * not depend on the thread count or on which thread ran which block. */
#define RBLOCK 4096

typedef struct red {
    const float *x;
    int64_t n;
    bool squares;
    double *part;
} red;

static void reduce_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    red *r = c;
    for (int64_t b = lo; b < hi; b++) {
        double s = 0;
        int64_t end = (b + 1) * RBLOCK < r->n ? (b + 1) * RBLOCK : r->n;
        for (int64_t i = b * RBLOCK; i < end; i++)
            s += r->squares ? (double)r->x[i] * (double)r->x[i] : (double)r->x[i];
        r->part[b] = s;
    }
}

static double reduce(tb_backend *be, const float *x, size_t n, bool squares)
{
    cpu_backend *cb = cpu_of(be);
    int64_t blocks = ((int64_t)n + RBLOCK - 1) / RBLOCK;
    if (!cpu_scratch_reserve(cb, &cb->part, (size_t)(2 * blocks)))
        return 0;
    red r = {x, (int64_t)n, squares, (double *)cb->part.p};
    cpu_for(cb, blocks, 4, reduce_fn, &r);
    double total = 0;
    for (int64_t b = 0; b < blocks; b++)
        total += r.part[b];
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

typedef struct adam_job {
    float *w, *m, *v;
    const float *g;
    float gs, b1, b2, c1, c2, lr, eps, wd;
} adam_job;

static void adamw_fn(void *c, int64_t lo, int64_t hi, int tid)
{
    (void)tid;
    adam_job *a = c;
    for (int64_t i = lo; i < hi; i++) {
        float gi = a->g[i] * a->gs;
        a->m[i] = a->b1 * a->m[i] + (1.0f - a->b1) * gi;
        a->v[i] = a->b2 * a->v[i] + (1.0f - a->b2) * gi * gi;
        float mh = a->m[i] / a->c1, vh = a->v[i] / a->c2;
        a->w[i] -= a->lr * (mh / (sqrtf(vh) + a->eps) + a->wd * a->w[i]);
    }
}

static void adamw(tb_backend *be, tb_view param, tb_view grad, tb_view m, tb_view v, size_t n, tb_view gscale,
                  const tb_adamw_params *p)
{
    adam_job a = {cpu_f32(param), cpu_f32(m), cpu_f32(v), cpu_f32(grad),
                  tb_view_null(gscale) ? 1.0f : *cpu_f32(gscale), p->beta1, p->beta2,
                  1.0f - powf(p->beta1, (float)p->step), 1.0f - powf(p->beta2, (float)p->step), p->lr, p->eps,
                  p->weight_decay};
    cpu_for(cpu_of(be), (int64_t)n, GRAIN, adamw_fn, &a);
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
    if (threads <= 0)
        threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    threads = threads < 1 ? 1 : threads > CPU_MAX_THREADS ? CPU_MAX_THREADS : threads;
    cb->pool = cpu_pool_create(threads);
    if (!cb->pool) {
        tb_free(cb);
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "cpu backend: cannot start %d threads", threads);
    }
    cb->threads = cpu_pool_threads(cb->pool);
    cb->base.opt.threads = cb->threads;
    /* OpenBLAS runs inside our pool tasks, one thread per call. */
    openblas_set_num_threads(1);
    const char *mm = "sgemm (bf16/f16 weights widened per tile)";
#if TB_HAVE_DNNL
    /* In F32 precision oneDNN starts with the first product it serves (cpu_dnnl_get): small
     * models never pay for it. */
    if (cb->base.opt.precision == TB_PRECISION_BF16 && cpu_dnnl_bf16_ok())
        cb->dnnl = cpu_dnnl_create(cb->threads);
    cb->dnnl_bf16 = cb->dnnl != NULL;
    mm = cb->dnnl_bf16 ? "oneDNN bf16 for bf16 weights, oneDNN f32 for x W^T, sgemm otherwise"
                       : "oneDNN f32 for x W^T, sgemm otherwise (bf16/f16 weights widened per tile)";
#endif
    if (cb->base.opt.precision == TB_PRECISION_BF16 && !cb->dnnl_bf16) {
        mm = "bf16 precision asked, but no oneDNN bf16 on this build or CPU: computing in f32";
        cb->base.opt.precision = TB_PRECISION_F32; /* what runs, for callers that ask */
    }
    snprintf(cb->base.description, sizeof cb->base.description, "cpu: %d threads, OpenBLAS %s, matmul %s",
             cb->threads, openblas_get_corename(), mm);
    *out = &cb->base;
    return TB_OK;
}
