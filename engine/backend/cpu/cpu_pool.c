/* tunebench — the CPU backend's thread pool (see cpu_pool.h for why it exists).
 *
 * One atomic word holds the current job: id (20 bits) | chunk count (22) | next chunk (22).
 * Claiming a chunk is a compare-and-swap of next -> next + 1, so a chunk is claimed once,
 * and the job's function/context (in a ring slot, written before the word is published)
 * are only read after a successful claim, when the job cannot complete without us. */
#include "engine/backend/cpu/cpu_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#define RING 64
#define CHUNK_BITS 22
#define CHUNK_MASK ((1ull << CHUNK_BITS) - 1)
#define JOB_SHIFT (2 * CHUNK_BITS)
#define SPINS 20000    /* ~50-100 us of pause before yielding */
#define YIELDS 2000    /* then yield the CPU for a while before sleeping */

typedef struct job {
    cpu_task_fn fn;
    void *ctx;
    _Atomic int64_t done;
} job;

typedef struct worker {
    cpu_pool *pool;
    int tid;
} worker;

struct cpu_pool {
    int threads;
    pthread_t *th;
    worker *w;
    int started;
    _Atomic uint64_t state;
    job ring[RING];
    uint64_t job_id;            /* caller only */
    _Atomic int stop;
    _Atomic int sleepers;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static bool work_available(cpu_pool *p)
{
    uint64_t s = atomic_load(&p->state);
    return (s & CHUNK_MASK) < ((s >> CHUNK_BITS) & CHUNK_MASK);
}

/* Claim one chunk: true with *jb and *chunk set. */
static bool claim(cpu_pool *p, job **jb, int64_t *chunk)
{
    uint64_t s = atomic_load_explicit(&p->state, memory_order_acquire);
    for (;;) {
        uint64_t next = s & CHUNK_MASK, n = (s >> CHUNK_BITS) & CHUNK_MASK;
        if (next >= n)
            return false;
        if (atomic_compare_exchange_weak_explicit(&p->state, &s, s + 1, memory_order_acq_rel,
                                                  memory_order_acquire)) {
            *jb = &p->ring[(s >> JOB_SHIFT) % RING];
            *chunk = (int64_t)next;
            return true;
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    cpu_pool *p = w->pool;
    long idle = 0;
    while (!atomic_load(&p->stop)) {
        job *jb;
        int64_t chunk;
        if (claim(p, &jb, &chunk)) {
            jb->fn(jb->ctx, chunk, w->tid);
            atomic_fetch_add_explicit(&jb->done, 1, memory_order_release);
            idle = 0;
            continue;
        }
        idle++;
        if (idle < SPINS) {
            cpu_relax();
        } else if (idle < SPINS + YIELDS) {
            sched_yield();
        } else {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (!atomic_load(&p->stop) && !work_available(p))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
            idle = 0;
        }
    }
    return NULL;
}

cpu_pool *cpu_pool_create(int threads)
{
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (p->threads > 1) {
        p->th = calloc((size_t)p->threads, sizeof *p->th);
        p->w = calloc((size_t)p->threads, sizeof *p->w);
        if (!p->th || !p->w) {
            cpu_pool_destroy(p);
            return NULL;
        }
        for (int i = 1; i < p->threads; i++) {
            p->w[i] = (worker){p, i};
            if (pthread_create(&p->th[i], NULL, worker_main, &p->w[i]) != 0)
                break;
            p->started = i;
        }
        p->threads = p->started + 1; /* run with the workers we got */
    }
    return p;
}

void cpu_pool_destroy(cpu_pool *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i <= p->started; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->th);
    free(p->w);
    free(p);
}

int cpu_pool_threads(const cpu_pool *p) { return p->threads; }

void cpu_pool_run(cpu_pool *p, int64_t n_chunks, cpu_task_fn fn, void *ctx)
{
    if (n_chunks <= 0)
        return;
    if (p->threads <= 1 || n_chunks == 1) {
        for (int64_t c = 0; c < n_chunks; c++)
            fn(ctx, c, 0);
        return;
    }
    uint64_t id = ++p->job_id & ((1ull << (64 - JOB_SHIFT)) - 1);
    job *jb = &p->ring[id % RING];
    jb->fn = fn;
    jb->ctx = ctx;
    atomic_store_explicit(&jb->done, 0, memory_order_relaxed);
    atomic_store(&p->state, id << JOB_SHIFT | (uint64_t)n_chunks << CHUNK_BITS); /* publishes jb */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    job *mine;
    int64_t chunk;
    while (claim(p, &mine, &chunk)) {
        fn(ctx, chunk, 0);
        atomic_fetch_add_explicit(&jb->done, 1, memory_order_release);
    }
    /* Wait only for chunks a worker has claimed and is still running. */
    for (long spins = 0; atomic_load_explicit(&jb->done, memory_order_acquire) < n_chunks; spins++) {
        if (spins < SPINS)
            cpu_relax();
        else
            sched_yield();
    }
}
