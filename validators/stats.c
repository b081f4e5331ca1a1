/* tunebench — length statistics and histograms. */
#include "validators/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

double tb_percentile_sorted(const uint32_t *sorted, size_t n, double p)
{
    double pos = p * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return (double)sorted[lo] + frac * ((double)sorted[hi] - (double)sorted[lo]);
}

bool tb_length_stats_compute(const uint32_t *values, size_t n, uint32_t *scratch, tb_length_stats *out)
{
    memset(out, 0, sizeof *out);
    uint32_t *buf = scratch;
    if (!buf && n > 0) {
        buf = malloc(n * sizeof *buf);
        if (!buf)
            return false;
    }
    size_t m = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (values[i] != TB_LEN_ABSENT) {
            buf[m++] = values[i];
            sum += values[i];
        }
    out->n = (long)m;
    if (m > 0) {
        qsort(buf, m, sizeof *buf, cmp_u32);
        out->mean = sum / (double)m;
        double ss = 0;
        for (size_t i = 0; i < m; i++) {
            double d = buf[i] - out->mean;
            ss += d * d;
        }
        out->stddev = sqrt(ss / (double)m);
        out->min = buf[0];
        out->max = buf[m - 1];
        out->p10 = tb_percentile_sorted(buf, m, 0.10);
        out->p25 = tb_percentile_sorted(buf, m, 0.25);
        out->median = tb_percentile_sorted(buf, m, 0.50);
        out->p75 = tb_percentile_sorted(buf, m, 0.75);
        out->p90 = tb_percentile_sorted(buf, m, 0.90);
    }
    if (buf != scratch)
        free(buf);
    return true;
}

void tb_histogram_build(const uint32_t *values, size_t n, int bins, const tb_length_stats *st, tb_histogram *out)
{
    memset(out, 0, sizeof *out);
    if (bins < 1)
        bins = 1;
    if (bins > TB_HIST_MAX_BINS)
        bins = TB_HIST_MAX_BINS;
    out->n_bins = bins;
    if (st->n == 0)
        return;
    double lo = st->min, hi = st->max;
    if (hi <= lo)
        hi = lo + 1;
    out->log_scale = hi / (lo < 1 ? 1 : lo) > 20;
    double llo = log(lo + 1), lhi = log(hi + 1);
    for (int i = 0; i <= bins; i++) {
        double f = (double)i / bins;
        out->edges[i] = out->log_scale ? exp(llo + f * (lhi - llo)) - 1 : lo + f * (hi - lo);
    }
    out->edges[0] = lo;
    out->edges[bins] = hi;
    for (size_t i = 0; i < n; i++) {
        if (values[i] == TB_LEN_ABSENT)
            continue;
        double v = values[i];
        double f = out->log_scale ? (log(v + 1) - llo) / (lhi - llo) : (v - lo) / (hi - lo);
        int b = (int)(f * bins);
        if (b < 0)
            b = 0;
        if (b >= bins)
            b = bins - 1;
        /* Edges are rounded doubles: keep the bin consistent with them. */
        while (b > 0 && v < out->edges[b])
            b--;
        while (b < bins - 1 && v >= out->edges[b + 1])
            b++;
        out->counts[b]++;
        out->total++;
    }
}
