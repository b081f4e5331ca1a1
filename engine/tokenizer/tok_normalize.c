/* tunebench — normalizers (HF src/normalizers/): Unicode forms via utf8proc, Prepend, Replace,
 * Lowercase, Strip. Applied to each text segment between added tokens. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "engine/tokenizer/tok_internal.h"

static bool is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

static bool unicode_form(const tok_norm *st, const char *s, size_t n, tok_buf *out)
{
    out->n = 0;
    if (is_ascii(s, n)) /* ASCII is invariant under all four forms */
        return tok_buf_append(out, s, n);
    utf8proc_option_t opt = UTF8PROC_STABLE;
    switch (st->kind) {
    case TOK_NORM_NFC: opt |= UTF8PROC_COMPOSE; break;
    case TOK_NORM_NFD: opt |= UTF8PROC_DECOMPOSE; break;
    case TOK_NORM_NFKC: opt |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    default: opt |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
    }
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &dst, opt);
    if (r < 0) /* input is valid UTF-8 (sanitized), so only allocation can fail */
        return false;
    bool ok = tok_buf_append(out, dst, (size_t)r);
    free(dst);
    return ok;
}

static bool replace_literal(const char *s, size_t n, const char *pat, size_t pl, const char *rep, size_t rl,
                            tok_buf *out)
{
    out->n = 0;
    if (!pl)
        return tok_buf_append(out, s, n);
    size_t i = 0;
    while (i < n) {
        const char *hit = pl <= n - i ? memmem(s + i, n - i, pat, pl) : NULL;
        if (!hit)
            break;
        size_t at = (size_t)(hit - s);
        if (!tok_buf_append(out, s + i, at - i) || !tok_buf_append(out, rep, rl))
            return false;
        i = at + pl;
    }
    return tok_buf_append(out, s + i, n - i);
}

/* Global regex replacement; the replacement is literal (HF's Replace inserts content as is). */
static bool replace_regex(const pcre2_code *re, const char *s, size_t n, const char *rep, size_t rl, tok_buf *out)
{
    out->n = 0;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md)
        return false;
    size_t i = 0;
    bool ok = true;
    while (i <= n) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, n, i, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        if (!tok_buf_append(out, s + i, ov[0] - i) || !tok_buf_append(out, rep, rl)) {
            ok = false;
            break;
        }
        if (ov[1] == ov[0]) { /* empty match: copy one char and move on */
            if (ov[0] >= n) {
                i = n;
                break;
            }
            int l = tok_utf8_len((const unsigned char *)s + ov[0], n - ov[0]);
            if (!tok_buf_append(out, s + ov[0], (size_t)(l ? l : 1))) {
                ok = false;
                break;
            }
            i = ov[0] + (size_t)(l ? l : 1);
        } else
            i = ov[1];
    }
    pcre2_match_data_free(md);
    return ok && tok_buf_append(out, s + (i < n ? i : n), i < n ? n - i : 0);
}

static bool lowercase(const char *s, size_t n, tok_buf *out)
{
    /* Simple (1:1) case mapping; Rust's to_lowercase also has a few 1:n special cases
     * (e.g. U+0130), which none of the supported models' normalizers reach. */
    out->n = 0;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        int l = tok_utf8_len(u + i, n - i);
        if (!l)
            l = 1;
        char buf[4];
        uint32_t cp = l > 1 || u[i] < 0x80 ? tok_utf8_decode(u + i, l) : 0xFFFD;
        int k = tok_utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)cp), buf);
        if (!tok_buf_append(out, buf, (size_t)k))
            return false;
        i += (size_t)l;
    }
    return true;
}

static bool strip(const tok_norm *st, const char *s, size_t n, tok_buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t a = 0, b = n;
    while (st->left && a < b) {
        int l = tok_utf8_len(u + a, b - a);
        if (!l || !tok_is_space(tok_utf8_decode(u + a, l)))
            break;
        a += (size_t)l;
    }
    while (st->right && b > a) {
        uint32_t cp = tok_utf8_last(s + a, b - a);
        if (!tok_is_space(cp))
            break;
        char tmp[4];
        b -= (size_t)tok_utf8_encode(cp, tmp);
    }
    out->n = 0;
    return tok_buf_append(out, s + a, b - a);
}

bool tok_normalize(const tb_tokenizer *tok, const char *s, size_t n, tok_buf *out)
{
    tok_buf tmp = {0};
    out->n = 0;
    if (!tok_buf_append(out, s, n))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < tok->n_norms; i++) {
        const tok_norm *st = &tok->norms[i];
        switch (st->kind) {
        case TOK_NORM_NFC: case TOK_NORM_NFD: case TOK_NORM_NFKC: case TOK_NORM_NFKD:
            ok = unicode_form(st, out->p, out->n, &tmp);
            break;
        case TOK_NORM_PREPEND:
            tmp.n = 0;
            /* HF prepends only to non-empty text. */
            ok = out->n == 0 ? tok_buf_append(&tmp, "", 0)
                             : tok_buf_append(&tmp, st->a, st->a_len) && tok_buf_append(&tmp, out->p, out->n);
            break;
        case TOK_NORM_REPLACE:
            ok = st->re ? replace_regex(st->re, out->p, out->n, st->b, st->b_len, &tmp)
                        : replace_literal(out->p, out->n, st->a, st->a_len, st->b, st->b_len, &tmp);
            break;
        case TOK_NORM_LOWERCASE:
            ok = lowercase(out->p, out->n, &tmp);
            break;
        case TOK_NORM_STRIP:
            ok = strip(st, out->p, out->n, &tmp);
            break;
        }
        if (ok) { /* swap: the step's output becomes the next step's input */
            tok_buf t = *out;
            *out = tmp;
            tmp = t;
        }
    }
    free(tmp.p);
    return ok;
}
