/* tunebench — a thin PCRE2 wrapper for the checks: compile once (JIT when available), find
 * matches with byte offsets. Texts reaching the checks are valid UTF-8 (readers repair bad
 * bytes), so matching skips PCRE2's UTF check. One match-data block per regex: a compiled
 * regex is used by one thread at a time. */
#ifndef TB_VALIDATORS_REGEX_H
#define TB_VALIDATORS_REGEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h> /* the PCRE2_* compile flags */

typedef struct tb_regex {
    void *code;   /* pcre2_code_8 */
    void *match;  /* pcre2_match_data_8 */
    bool jit;
} tb_regex;

/* Flags: PCRE2 compile options (PCRE2_CASELESS, PCRE2_MULTILINE, ...); PCRE2_UTF is always on.
 * A bad pattern fails with TB_ERR_INVALID naming the offset of the problem. */
tb_status tb_regex_compile(tb_regex *re, const char *pattern, uint32_t flags, tb_error *err);
void tb_regex_free(tb_regex *re);

/* First match at or after `start`; false when none. Offsets are bytes of s. */
bool tb_regex_find(tb_regex *re, const char *s, size_t len, size_t start, size_t *mstart, size_t *mend);
/* Offsets of capture group g of the last successful find; false when it did not take part. */
bool tb_regex_group(const tb_regex *re, int g, size_t *gstart, size_t *gend);

#endif
