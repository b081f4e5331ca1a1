/* tunebench — UTF-8 validation, in-place repair and character counts for dataset text.
 *
 * Readers repair invalid bytes in place (each becomes '?', so lengths and offsets stay put)
 * and report where they were; everything downstream may then assume valid UTF-8. */
#ifndef TB_DATASETS_UTF8_H
#define TB_DATASETS_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the longest valid prefix of s[0..n) (n when all of it is valid). Overlongs,
 * surrogates and code points past U+10FFFF are invalid (RFC 3629). */
size_t tb_utf8_valid_prefix(const char *s, size_t n);

/* Replace every invalid byte with '?'. Returns how many were replaced; *first gets the
 * offset of the first one (untouched when none). When `partial_tail` is true, an incomplete
 * sequence cut by the end of the buffer is left alone (more bytes may follow). */
size_t tb_utf8_repair(char *s, size_t n, size_t *first, bool partial_tail);

/* Code points in valid UTF-8 (continuation bytes are not counted). */
size_t tb_utf8_chars(const char *s, size_t n);

#endif
