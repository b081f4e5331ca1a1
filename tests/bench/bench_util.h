/* Benchmark helpers shared by bench_model and bench_train: clocks, medians, peak RSS, a
 * random model of a given shape written once to /tmp, and a per-op profiler that wraps the
 * backend's op table (bench only: the library never pays for it). */
#ifndef TB_BENCH_UTIL_H
#define TB_BENCH_UTIL_H

#include <stdbool.h>

#include "engine/backend/backend.h"
#include "tiny_model.h"

double bench_now(void);
double bench_median(double *v, int n);     /* sorts v */
double bench_peak_rss_mib(void);
_Noreturn void bench_die(const char *prog, const tb_error *err);

/* DIR of a random model of spec (written once; reused while the file exists). */
const char *bench_model_dir(const char *tag, const tiny_spec *spec);

/* Time every op from now on; vocab V tells the LM head's matmuls apart, rank R LoRA's. */
void bench_profile_on(tb_backend *be, long V, long R);
/* One line per op group: seconds per step and share, sorted by time. */
void bench_profile_print(int steps);

#endif
