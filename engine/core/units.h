/* tunebench — numbers for people: counts, bytes, durations in a few columns.
 * One formatter per unit for every screen, CLI table and reason text. */
#ifndef TB_CORE_UNITS_H
#define TB_CORE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* 950, 460.8k, 1.84M, 134.5M, 7.00B; "-" when negative (unknown). Returns buf. */
const char *tb_format_count(int64_t n, char *buf, size_t size);
/* 512 B, 1.5 KiB, 14.1 MiB, 2.00 GiB (binary units); "-" when negative. Returns buf. */
const char *tb_format_bytes(int64_t n, char *buf, size_t size);
/* 42s, 3m07s, 1h02m, 2d03h; "-" when NaN/negative. Returns buf. */
const char *tb_format_duration(double seconds, char *buf, size_t size);

#endif
