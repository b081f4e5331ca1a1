/* tunebench — oneDNN bf16 matmul for the CPU backend (TB_PRECISION_BF16, bf16 weights).
 *
 * oneDNN picks AMX or AVX512-BF16 kernels at run time (several times sgemm here). A
 * primitive is specialised for one shape, and creating it costs milliseconds, so the few
 * shapes a model uses are cached (least recently used evicted). */
#include "engine/backend/cpu/cpu_internal.h"

#if TB_HAVE_DNNL
#include <dnnl.h>
#include <string.h>

#define CACHE 48

typedef struct entry {
    int64_t M, N, K;
    int flags;
    float alpha, beta;
    uint64_t used;
    dnnl_primitive_t prim;
    dnnl_memory_t src, wei, dst;
} entry;

struct cpu_dnnl {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    entry cache[CACHE];
    uint64_t clock;
};

static void entry_free(entry *e)
{
    if (e->prim)
        dnnl_primitive_destroy(e->prim);
    if (e->src)
        dnnl_memory_destroy(e->src);
    if (e->wei)
        dnnl_memory_destroy(e->wei);
    if (e->dst)
        dnnl_memory_destroy(e->dst);
    memset(e, 0, sizeof *e);
}

struct cpu_dnnl *cpu_dnnl_create(int threads)
{
    (void)threads; /* oneDNN runs on the caller's OpenMP team (omp_set_num_threads) */
    struct cpu_dnnl *d = tb_alloc(sizeof *d, TB_MEM_OTHER);
    if (!d)
        return NULL;
    if (dnnl_engine_create(&d->engine, dnnl_cpu, 0) != dnnl_success) {
        tb_free(d);
        return NULL;
    }
    if (dnnl_stream_create(&d->stream, d->engine, dnnl_stream_default_flags) != dnnl_success) {
        dnnl_engine_destroy(d->engine);
        tb_free(d);
        return NULL;
    }
    return d;
}

void cpu_dnnl_free(struct cpu_dnnl *d)
{
    if (!d)
        return;
    for (int i = 0; i < CACHE; i++)
        entry_free(&d->cache[i]);
    dnnl_stream_destroy(d->stream);
    dnnl_engine_destroy(d->engine);
    tb_free(d);
}

static bool build(struct cpu_dnnl *d, entry *e)
{
    dnnl_memory_desc_t src_md, wei_md, dst_md;
    dnnl_dims_t sd = {e->M, e->K}, wd = {e->K, e->N}, dd = {e->M, e->N};
    bool ok = dnnl_memory_desc_init_by_tag(&src_md, 2, sd, dnnl_bf16,
                                           (e->flags & TB_MM_TRANS_A) ? dnnl_ba : dnnl_ab) == dnnl_success &&
              dnnl_memory_desc_init_by_tag(&wei_md, 2, wd, dnnl_bf16,
                                           (e->flags & TB_MM_TRANS_B) ? dnnl_ba : dnnl_ab) == dnnl_success &&
              dnnl_memory_desc_init_by_tag(&dst_md, 2, dd, dnnl_f32, dnnl_ab) == dnnl_success;
    if (!ok)
        return false;
    dnnl_matmul_desc_t md;
    if (dnnl_matmul_desc_init(&md, &src_md, &wei_md, NULL, &dst_md) != dnnl_success)
        return false;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    ok = dnnl_primitive_attr_create(&attr) == dnnl_success;
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
    if (ok)
        ok = dnnl_memory_create(&e->src, &src_md, d->engine, DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&e->wei, &wei_md, d->engine, DNNL_MEMORY_NONE) == dnnl_success &&
             dnnl_memory_create(&e->dst, &dst_md, d->engine, DNNL_MEMORY_NONE) == dnnl_success;
    if (pd)
        dnnl_primitive_desc_destroy(pd);
    if (po)
        dnnl_post_ops_destroy(po);
    if (attr)
        dnnl_primitive_attr_destroy(attr);
    return ok;
}

bool cpu_dnnl_matmul(struct cpu_dnnl *d, float *c, const uint16_t *a_bf16, const uint16_t *b, int64_t M, int64_t N,
                     int64_t K, int flags, float alpha, float beta)
{
    entry *e = NULL, *victim = &d->cache[0];
    for (int i = 0; i < CACHE; i++) {
        entry *x = &d->cache[i];
        if (x->prim && x->M == M && x->N == N && x->K == K && x->flags == flags && x->alpha == alpha &&
            x->beta == beta) {
            e = x;
            break;
        }
        if (x->used < victim->used)
            victim = x;
    }
    if (!e) {
        entry_free(victim);
        *victim = (entry){.M = M, .N = N, .K = K, .flags = flags, .alpha = alpha, .beta = beta};
        if (!build(d, victim)) {
            entry_free(victim);
            return false;
        }
        e = victim;
    }
    e->used = ++d->clock;
    /* oneDNN takes non-const handles; it only reads src and weights. */
    if (dnnl_memory_set_data_handle(e->src, (void *)(uintptr_t)a_bf16) != dnnl_success ||
        dnnl_memory_set_data_handle(e->wei, (void *)(uintptr_t)b) != dnnl_success ||
        dnnl_memory_set_data_handle(e->dst, c) != dnnl_success)
        return false;
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, e->src}, {DNNL_ARG_WEIGHTS, e->wei}, {DNNL_ARG_DST, e->dst}};
    return dnnl_primitive_execute(e->prim, d->stream, 3, args) == dnnl_success &&
           dnnl_stream_wait(d->stream) == dnnl_success;
}
#endif
