/* tunebench — the CPU backend's thread pool.
 *
 * Why not OpenMP: its parallel regions end in a barrier that waits for every thread of the
 * team, so on a loaded machine one preempted thread stalls each of the ~500 regions of a
 * decode step (measured: 2 threads slower than 1). Here work is a list of chunks claimed
 * one at a time from an atomic counter; the calling thread works too and returns as soon
 * as every chunk is done, without waiting for a worker that never woke up. Idle workers
 * spin briefly, then yield, then sleep. */
#ifndef TB_BACKEND_CPU_POOL_H
#define TB_BACKEND_CPU_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cpu_pool cpu_pool;

/* fn runs chunk `chunk` of `n_chunks` on thread `tid` (0 = the caller, < threads). */
typedef void (*cpu_task_fn)(void *ctx, int64_t chunk, int tid);

/* threads - 1 workers are started; threads <= 1 runs everything on the caller. NULL on failure. */
cpu_pool *cpu_pool_create(int threads);
void cpu_pool_destroy(cpu_pool *p);
int cpu_pool_threads(const cpu_pool *p);

/* Run every chunk, return when all are done. Not reentrant: one caller at a time, and fn
 * must not call cpu_pool_run. */
void cpu_pool_run(cpu_pool *p, int64_t n_chunks, cpu_task_fn fn, void *ctx);

#endif
