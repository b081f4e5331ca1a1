/* tunebench — oneDNN matmul for the CPU backend: bf16 (TB_PRECISION_BF16, bf16 weights)
 * and f32 (the forward's x W^T with f32 weights, where its brgemm kernels beat sgemm).
 *
 * oneDNN picks AMX or AVX512-BF16 kernels at run time (several times sgemm here). A
 * primitive is specialised for one shape and costs milliseconds to create, so the few
 * shapes a model uses are cached (least recently used evicted). The backend's pool runs
 * one panel per task; oneDNN itself is kept single-threaded (its OpenMP team would
 * oversubscribe the pool). */
#include "engine/backend/cpu/cpu_internal.h"

#if TB_HAVE_DNNL
#include <dnnl.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define CACHE 48

struct cpu_dnnl_mm {
    int64_t M, N, K, ldc;
    int flags;
    bool f32;                              /* f32 operands, else bf16 */
    float alpha, beta;
    uint64_t used;
    dnnl_primitive_t prim;
    dnnl_memory_t mem[CPU_MAX_THREADS][4]; /* src, weights, dst, scratchpad handles per pool thread */
    struct cpu_dnnl *owner;
};

struct cpu_dnnl {
    dnnl_engine_t engine;
    dnnl_stream_t stream[CPU_MAX_THREADS];
    int threads;
    /* Our scratchpads (accounted, allocated once and grown): oneDNN's own would be
     * allocated and page-faulted on every call. */
    void *scratch[CPU_MAX_THREADS];
    size_t scratch_size;
    cpu_dnnl_mm cache[CACHE];
    uint64_t clock;
};

static void entry_free(cpu_dnnl_mm *e)
{
    if (e->prim)
        dnnl_primitive_destroy(e->prim);
    for (int t = 0; t < CPU_MAX_THREADS; t++)
        for (int i = 0; i < 4; i++)
            if (e->mem[t][i])
                dnnl_memory_destroy(e->mem[t][i]);
    memset(e, 0, sizeof *e);
}

/* oneDNN's bf16 kernels start at AVX-512 (emulated bf16 dot products; native with
 * AVX512-BF16 / AMX). Below that it runs reference code that is slow and, in 2.6 on AVX2,
 * measurably less accurate (0.025 logit error on the reference model): the widened-sgemm
 * path is the better choice there. */
bool cpu_dnnl_bf16_ok(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core;
}

struct cpu_dnnl *cpu_dnnl_create(int threads)
{
    struct cpu_dnnl *d = tb_alloc(sizeof *d, TB_MEM_OTHER);
    if (!d)
        return NULL;
    d->threads = threads;
    bool ok = dnnl_engine_create(&d->engine, dnnl_cpu, 0) == dnnl_success;
    for (int t = 0; ok && t < threads; t++)
        ok = dnnl_stream_create(&d->stream[t], d->engine, dnnl_stream_default_flags) == dnnl_success;
    if (!ok) {
        cpu_dnnl_free(d);
        return NULL;
    }
    return d;
}

struct cpu_dnnl *cpu_dnnl_get(cpu_backend *cb)
{
    if (!cb->dnnl && !cb->dnnl_tried)
        cb->dnnl = cpu_dnnl_create(cb->threads);
    cb->dnnl_tried = true;
    return cb->dnnl;
}

void cpu_dnnl_free(struct cpu_dnnl *d)
{
    if (!d)
        return;
    for (int i = 0; i < CACHE; i++)
        entry_free(&d->cache[i]);
    for (int t = 0; t < CPU_MAX_THREADS; t++) {
        if (d->stream[t])
            dnnl_stream_destroy(d->stream[t]);
        tb_free(d->scratch[t]);
    }
    if (d->engine)
        dnnl_engine_destroy(d->engine);
    tb_free(d);
}

static bool build(struct cpu_dnnl *d, cpu_dnnl_mm *e)
{
    /* Strides of the row-major operands: A (M,K) or stored (K,M); B (K,N) as stored (N,K)
     * with TRANS_B or (K, ldc) without; C (M,N) inside rows of ldc. */
    bool ta = e->flags & TB_MM_TRANS_A, tb = e->flags & TB_MM_TRANS_B;
    dnnl_dims_t sd = {e->M, e->K}, wd = {e->K, e->N}, dd = {e->M, e->N};
    dnnl_dims_t ss = {ta ? 1 : e->K, ta ? e->M : 1}, ws = {tb ? 1 : e->ldc, tb ? e->K : 1}, ds = {e->ldc, 1};
    dnnl_memory_desc_t src_md, wei_md, dst_md;
    dnnl_data_type_t dt = e->f32 ? dnnl_f32 : dnnl_bf16;
    if (dnnl_memory_desc_init_by_strides(&src_md, 2, sd, dt, ss) != dnnl_success ||
        dnnl_memory_desc_init_by_strides(&wei_md, 2, wd, dt, ws) != dnnl_success ||
        dnnl_memory_desc_init_by_strides(&dst_md, 2, dd, dnnl_f32, ds) != dnnl_success)
        return false;
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &src_md, &wei_md, NULL, &dst_md) != dnnl_success)
        return false;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    bool ok = dnnl_primitive_attr_create(&attr) == dnnl_success &&
              dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success;
    if (ok && e->alpha != 1.0f)
        ok = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &e->alpha) == dnnl_success;
    if (ok && e->beta != 0.0f)
        ok = dnnl_post_ops_create(&po) == dnnl_success && dnnl_post_ops_append_sum(po, e->beta) == dnnl_success &&
             dnnl_primitive_attr_set_post_ops(attr, po) == dnnl_success;
    dnnl_primitive_desc_t pd = NULL;
    if (ok)
        ok = dnnl_primitive_desc_create(&pd, &md, attr, d->engine, NULL) == dnnl_success;
    if (ok)
        ok = dnnl_primitive_create(&e->prim, pd) == dnnl_success;
    const dnnl_memory_desc_t *sp_md = ok ? dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) : NULL;
    size_t sp = sp_md ? dnnl_memory_desc_get_size(sp_md) : 0;
    if (ok && sp > d->scratch_size) { /* grow every thread's scratchpad (between tasks: we are on the caller) */
        for (int t = 0; ok && t < d->threads; t++) {
            tb_free(d->scratch[t]);
            ok = (d->scratch[t] = tb_alloc(sp, TB_MEM_SCRATCH)) != NULL;
        }
        d->scratch_size = ok ? sp : 0;
    }
    for (int t = 0; ok && t < d->threads; t++)
        ok = dnnl_memory_create(&e->mem[t][0], &src_md, d->engine, DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&e->mem[t][1], &wei_md, d->engine, DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&e->mem[t][2], &dst_md, d->engine, DNNL_MEMORY_NONE) == dnnl_success &&
             (!sp || dnnl_memory_create(&e->mem[t][3], sp_md, d->engine, DNNL_MEMORY_NONE) == dnnl_success);
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    e->owner = d;
    return ok;
}

const cpu_dnnl_mm *cpu_dnnl_prepare(struct cpu_dnnl *d, int64_t M, int64_t N, int64_t K, int64_t ldc, int flags,
                                    float alpha, float beta, bool f32)
{
    cpu_dnnl_mm *victim = &d->cache[0];
    for (int i = 0; i < CACHE; i++) {
        cpu_dnnl_mm *x = &d->cache[i];
        if (x->prim && x->M == M && x->N == N && x->K == K && x->ldc == ldc && x->flags == flags &&
            x->alpha == alpha && x->beta == beta && x->f32 == f32) {
            x->used = ++d->clock;
            return x;
        }
        if (x->used < victim->used)
            victim = x;
    }
    entry_free(victim);
    *victim = (cpu_dnnl_mm){.M = M, .N = N, .K = K, .ldc = ldc, .flags = flags, .f32 = f32, .alpha = alpha,
                            .beta = beta};
    if (!build(d, victim)) {
        entry_free(victim);
        return NULL;
    }
    victim->used = ++d->clock;
    return victim;
}

bool cpu_dnnl_run(const cpu_dnnl_mm *e, int tid, float *c, const void *a, const void *b)
{
    struct cpu_dnnl *d = e->owner;
    if (tid >= d->threads)
        return false;
#ifdef _OPENMP
    omp_set_num_threads(1); /* this thread's oneDNN call stays on this thread */
#endif
    dnnl_memory_t const *m = e->mem[tid];
    /* oneDNN takes non-const handles; it only reads src and weights. */
    if (dnnl_memory_set_data_handle(m[0], (void *)(uintptr_t)a) != dnnl_success ||
        dnnl_memory_set_data_handle(m[1], (void *)(uintptr_t)b) != dnnl_success ||
        dnnl_memory_set_data_handle(m[2], c) != dnnl_success ||
        (m[3] && dnnl_memory_set_data_handle(m[3], d->scratch[tid]) != dnnl_success))
        return false;
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, m[0]}, {DNNL_ARG_WEIGHTS, m[1]}, {DNNL_ARG_DST, m[2]},
                               {DNNL_ARG_SCRATCHPAD, m[3]}};
    return dnnl_primitive_execute(e->prim, d->stream[tid], m[3] ? 4 : 3, args) == dnnl_success &&
           dnnl_stream_wait(d->stream[tid]) == dnnl_success;
}
#endif
