/* tunebench — PCRE2 wrapper. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "validators/regex.h"

#include <pcre2.h>

tb_status tb_regex_compile(tb_regex *re, const char *pattern, uint32_t flags, tb_error *err)
{
    re->code = re->match = NULL;
    re->jit = false;
    int code;
    PCRE2_SIZE where;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, flags | PCRE2_UTF, &code, &where, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, NULL, "bad regular expression /%s/ at offset %zu: %s", pattern,
                            (size_t)where, (const char *)msg);
    }
    re->jit = pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) == 0;
    re->match = pcre2_match_data_create_from_pattern(c, NULL);
    re->code = c;
    if (!re->match) {
        tb_regex_free(re);
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, NULL, "out of memory compiling a regular expression");
    }
    return TB_OK;
}

void tb_regex_free(tb_regex *re)
{
    if (re->match)
        pcre2_match_data_free(re->match);
    if (re->code)
        pcre2_code_free(re->code);
    re->code = re->match = NULL;
}

bool tb_regex_find(tb_regex *re, const char *s, size_t len, size_t start, size_t *mstart, size_t *mend)
{
    if (!re->code || start > len)
        return false;
    int rc = re->jit ? pcre2_jit_match(re->code, (PCRE2_SPTR)s, len, start, PCRE2_NO_UTF_CHECK, re->match, NULL)
                     : pcre2_match(re->code, (PCRE2_SPTR)s, len, start, PCRE2_NO_UTF_CHECK, re->match, NULL);
    if (rc < 0)
        return false; /* no match, or a match-limit error: both mean "nothing found" here */
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->match);
    *mstart = ov[0];
    *mend = ov[1];
    return true;
}

bool tb_regex_group(const tb_regex *re, int g, size_t *gstart, size_t *gend)
{
    if (g < 0 || (uint32_t)g >= pcre2_get_ovector_count(re->match))
        return false;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re->match);
    if (ov[2 * g] == PCRE2_UNSET)
        return false;
    *gstart = ov[2 * g];
    *gend = ov[2 * g + 1];
    return true;
}
