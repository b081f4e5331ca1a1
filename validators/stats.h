/* tunebench — length statistics and histograms over per-row lengths.
 * Percentiles interpolate linearly between order statistics (numpy's default "linear"):
 * p at position (n - 1) * p of the sorted values. */
#ifndef TB_VALIDATORS_STATS_H
#define TB_VALIDATORS_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TB_LEN_ABSENT UINT32_MAX /* the row has no such text */

typedef struct tb_length_stats {
    long n;                           /* values counted (absent ones skipped) */
    double min, p10, p25, median, p75, p90, max;
    double mean, stddev;              /* population σ */
} tb_length_stats;

/* Stats over values[0..n) skipping TB_LEN_ABSENT. scratch: n values of workspace (may be
 * NULL: allocated here). Returns false only when allocation fails. */
bool tb_length_stats_compute(const uint32_t *values, size_t n, uint32_t *scratch, tb_length_stats *out);

/* Percentile p in [0, 1] of sorted values (n > 0). */
double tb_percentile_sorted(const uint32_t *sorted, size_t n, double p);

#define TB_HIST_MAX_BINS 48
typedef struct tb_histogram {
    int n_bins;
    bool log_scale;                   /* edges grow geometrically */
    double edges[TB_HIST_MAX_BINS + 1]; /* bin i holds edges[i] <= v < edges[i+1] (last bin closed) */
    long counts[TB_HIST_MAX_BINS];
    long total;
} tb_histogram;

/* Bins over [min, max] of the present values: geometric when max/min spans more than 20x
 * (lengths are skewed), linear otherwise. bins in [1, TB_HIST_MAX_BINS]. */
void tb_histogram_build(const uint32_t *values, size_t n, int bins, const tb_length_stats *st, tb_histogram *out);

#endif
