/* tunebench — UTF-8 validation and repair (RFC 3629, table 3-7 of the Unicode standard). */
#include "datasets/utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid sequence at s (1..4), 0 when invalid, -1 when cut short by `end`. */
static int seq_len(const unsigned char *s, const unsigned char *end)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* no overlongs */
        else if (c == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F; /* <= U+10FFFF */
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if (s + i >= end)
            return -1;
        unsigned b = s[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
            return 0;
    }
    return n;
}

/* Skip a run of ASCII eight bytes at a time: most dataset text is ASCII. */
static size_t ascii_run(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
        i += 8;
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

size_t tb_utf8_valid_prefix(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;
    size_t i = 0;
    while (i < n) {
        i += ascii_run(s + i, n - i);
        if (i >= n)
            break;
        int k = seq_len(s + i, end);
        if (k <= 0)
            return i;
        i += (size_t)k;
    }
    return n;
}

size_t tb_utf8_repair(char *str, size_t n, size_t *first, bool partial_tail)
{
    unsigned char *s = (unsigned char *)str, *end = s + n;
    size_t i = 0, bad = 0;
    while (i < n) {
        i += ascii_run(s + i, n - i);
        if (i >= n)
            break;
        int k = seq_len(s + i, end);
        if (k > 0) {
            i += (size_t)k;
            continue;
        }
        if (k < 0 && partial_tail)
            break;
        if (bad++ == 0 && first)
            *first = i;
        s[i++] = '?';
    }
    return bad;
}

size_t tb_utf8_chars(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += (s[i] & 0xC0) != 0x80;
    return count;
}
