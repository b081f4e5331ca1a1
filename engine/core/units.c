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

const char *tb_format_count(int64_t n, char *buf, size_t size)
{
    static const char *const suffix[] = {"k", "M", "B", "T"};
    if (n < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (n < 1000) {
        snprintf(buf, size, "%lld", (long long)n);
        return buf;
    }
    double v = (double)n / 1000;
    int k = 0;
    while (v >= 999.5 && k < 3) {
        v /= 1000;
        k++;
    }
    scaled(v, suffix[k], buf, size);
    return buf;
}

const char *tb_format_bytes(int64_t n, char *buf, size_t size)
{
    static const char *const suffix[] = {" KiB", " MiB", " GiB", " TiB"};
    if (n < 0) {
        snprintf(buf, size, "-");
        return buf;
    }
    if (n < 1024) {
        snprintf(buf, size, "%lld B", (long long)n);
        return buf;
    }
    double v = (double)n / 1024;
    int k = 0;
    while (v >= 1023.5 && k < 3) {
        v /= 1024;
        k++;
    }
    scaled(v, suffix[k], buf, size);
    return buf;
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
