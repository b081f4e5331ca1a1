/* tunebench — numbers for people. */
#include "engine/core/units.h"

#include <math.h>
#include <stdio.h>

/* Three significant digits with a suffix: the width stays <= 6 columns. */
static void scaled(double v, const char *suffix, char *buf, size_t size)
{
    if (v >= 99.95)
        snprintf(buf, size, "%.0f%s", v, suffix);
    else if (v >= 9.995)
        snprintf(buf, size, "%.1f%s", v, suffix);
    else
        snprintf(buf, size, "%.2f%s", v, suffix);
}

/* n in units of base^k with the k-th suffix; below base, exactly with unit0. */
static const char *human(int64_t n, double base, const char *unit0, const char *const suffix[4], char *buf,
                         size_t size)
{
    if (n < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    if ((double)n < base) {
        snprintf(buf, size, "%lld%s", (long long)n, unit0);
        return buf;
    }
    double v = (double)n / base;
    int k = 0;
    while (v >= base - 0.5 && k < 3) { /* 999.7k reads as 1.00M, not 1000k */
        v /= base;
        k++;
    }
    scaled(v, suffix[k], buf, size);
    return buf;
}

const char *tb_format_count(int64_t n, char *buf, size_t size)
{
    static const char *const suffix[4] = {"k", "M", "B", "T"};
    return human(n, 1000, "", suffix, buf, size);
}

const char *tb_format_bytes(int64_t n, char *buf, size_t size)
{
    static const char *const suffix[4] = {" KiB", " MiB", " GiB", " TiB"};
    return human(n, 1024, " B", suffix, buf, size);
}

const char *tb_format_duration(double seconds, char *buf, size_t size)
{
    if (!(seconds >= 0) || !isfinite(seconds)) {
        snprintf(buf, size, "-");
        return buf;
    }
    long long s = (long long)llround(seconds);
    if (s < 60)
        snprintf(buf, size, "%llds", s);
    else if (s < 3600)
        snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, size, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    else
        snprintf(buf, size, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
    return buf;
}
