/* tunebench — decode (HF Tokenizer::decode + src/decoders/): ids → token strings (special
 * ones dropped on request) → the decoder chain over the list of strings → concatenation.
 * Without a decoder HF joins the tokens with spaces. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tok_internal.h"

typedef struct strlist {
    tok_buf *v;
    size_t n, cap;
} strlist;

static void list_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].p);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static bool list_push(strlist *l, const char *s, size_t n)
{
    if (!tok_grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v))
        return false;
    tok_buf *b = &l->v[l->n++];
    memset(b, 0, sizeof *b);
    return tok_buf_append(b, s, n);
}

/* Concatenation of the byte values of each token's chars; a token with a char outside the
 * alphabet contributes its own UTF-8 bytes (HF byte_level.rs); then lossy UTF-8. */
static bool dec_bytelevel(strlist *in, strlist *out)
{
    tok_buf all = {0}, one = {0};
    bool ok = tok_buf_append(&all, "", 0);
    for (size_t i = 0; ok && i < in->n; i++) {
        if (tok_bytelevel_to_raw(in->v[i].p, in->v[i].n, &one))
            ok = tok_buf_append(&all, one.p ? one.p : "", one.n);
        else
            ok = tok_buf_append(&all, in->v[i].p, in->v[i].n);
    }
    char *clean = NULL;
    size_t cn = 0;
    if (ok && tok_utf8_sanitize(all.p, all.n, &clean, &cn)) {
        ok = clean && list_push(out, clean, cn);
        free(clean);
    } else if (ok)
        ok = list_push(out, all.p, all.n);
    free(all.p);
    free(one.p);
    return ok;
}

static bool byte_token(const tok_buf *t, unsigned char *byte)
{
    if (t->n != 6 || memcmp(t->p, "<0x", 3) != 0 || t->p[5] != '>')
        return false;
    unsigned v = 0;
    for (int i = 3; i < 5; i++) {
        char c = t->p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return false;
        v = v * 16 + (unsigned)d;
    }
    *byte = (unsigned char)v;
    return true;
}

/* Runs of <0xXX> tokens become their UTF-8 text, or one U+FFFD per byte when invalid. */
static bool dec_bytefallback(strlist *in, strlist *out)
{
    tok_buf bytes = {0};
    bool ok = true;
    for (size_t i = 0; ok && i <= in->n; i++) {
        unsigned char b;
        if (i < in->n && byte_token(&in->v[i], &b)) {
            ok = tok_buf_append(&bytes, &b, 1);
            continue;
        }
        if (bytes.n) {
            char *clean = NULL;
            size_t cn = 0;
            if (!tok_utf8_sanitize(bytes.p, bytes.n, &clean, &cn)) {
                ok = list_push(out, bytes.p, bytes.n);
            } else {
                free(clean);
                tok_buf rep = {0};
                for (size_t k = 0; ok && k < bytes.n; k++)
                    ok = tok_buf_append(&rep, "\xEF\xBF\xBD", 3);
                ok = ok && list_push(out, rep.p, rep.n);
                free(rep.p);
            }
            bytes.n = 0;
        }
        if (ok && i < in->n)
            ok = list_push(out, in->v[i].p, in->v[i].n);
    }
    free(bytes.p);
    return ok;
}

static bool dec_replace(const tok_dec *d, strlist *in, strlist *out)
{
    bool ok = true;
    for (size_t i = 0; ok && i < in->n; i++) {
        tok_buf r = {0};
        const tok_buf *t = &in->v[i];
        if (d->re) {
            PCRE2_SIZE need = t->n * 2 + 64;
            for (;;) {
                char *o = malloc(need);
                if (!o) {
                    ok = false;
                    break;
                }
                PCRE2_SIZE olen = need;
                int rc = pcre2_substitute(d->re, (PCRE2_SPTR)(t->p ? t->p : ""), t->n, 0,
                                          PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_LITERAL |
                                              PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | PCRE2_NO_UTF_CHECK,
                                          NULL, NULL, (PCRE2_SPTR)d->b, d->b_len, (PCRE2_UCHAR *)o, &olen);
                if (rc == PCRE2_ERROR_NOMEMORY) {
                    free(o);
                    need = olen + 1;
                    continue;
                }
                ok = rc >= 0 ? tok_buf_append(&r, o, olen) : tok_buf_append(&r, t->p, t->n);
                free(o);
                break;
            }
        } else {
            size_t j = 0;
            while (ok && j < t->n) {
                const char *hit = d->a_len && d->a_len <= t->n - j ? memmem(t->p + j, t->n - j, d->a, d->a_len) : NULL;
                if (!hit)
                    break;
                size_t at = (size_t)(hit - t->p);
                ok = tok_buf_append(&r, t->p + j, at - j) && tok_buf_append(&r, d->b, d->b_len);
                j = at + d->a_len;
            }
            ok = ok && tok_buf_append(&r, t->p + j, t->n - j);
        }
        ok = ok && list_push(out, r.p ? r.p : "", r.n);
        free(r.p);
    }
    return ok;
}

static bool dec_strip(const tok_dec *d, strlist *in, strlist *out)
{
    bool ok = true;
    size_t cl = d->a_len;
    for (size_t i = 0; ok && i < in->n; i++) {
        const char *p = in->v[i].p ? in->v[i].p : "";
        size_t a = 0, b = in->v[i].n;
        for (int k = 0; k < d->start && cl && b - a >= cl && memcmp(p + a, d->a, cl) == 0; k++)
            a += cl;
        for (int k = 0; k < d->stop && cl && b - a >= cl && memcmp(p + b - cl, d->a, cl) == 0; k++)
            b -= cl;
        ok = list_push(out, p + a, b - a);
    }
    return ok;
}

/* Replacement char → space; in the first token it is dropped (HF metaspace.rs decode_chain,
 * when a prefix was prepended at encode time). */
static bool dec_metaspace(const tok_dec *d, strlist *in, strlist *out)
{
    bool ok = true;
    for (size_t i = 0; ok && i < in->n; i++) {
        tok_buf r = {0};
        const char *p = in->v[i].p ? in->v[i].p : "";
        size_t n = in->v[i].n;
        for (size_t j = 0; ok && j < n;) {
            if (j + d->a_len <= n && memcmp(p + j, d->a, d->a_len) == 0) {
                if (!(i == 0 && d->prepend != TOK_PREPEND_NEVER))
                    ok = tok_buf_append(&r, " ", 1);
                j += d->a_len;
            } else {
                ok = tok_buf_append(&r, p + j, 1);
                j++;
            }
        }
        ok = ok && list_push(out, r.p ? r.p : "", r.n);
        free(r.p);
    }
    return ok;
}

static bool dec_fuse(strlist *in, strlist *out)
{
    tok_buf all = {0};
    bool ok = tok_buf_append(&all, "", 0);
    for (size_t i = 0; ok && i < in->n; i++)
        ok = tok_buf_append(&all, in->v[i].p, in->v[i].n);
    ok = ok && list_push(out, all.p, all.n);
    free(all.p);
    return ok;
}

tb_status tb_tokenizer_decode(const tb_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special, char **text,
                              tb_error *err)
{
    return tb_tokenizer_decode_bytes(tok, ids, n, skip_special, text, NULL, err);
}

tb_status tb_tokenizer_decode_bytes(const tb_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special,
                                    char **text, size_t *len, tb_error *err)
{
    *text = NULL;
    if (len)
        *len = 0;
    strlist cur = {0}, next = {0};
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= tok->n_ids || !tok->str[id].p) {
            list_free(&cur);
            return tb_error_set(err, TB_ERR_INVALID, tok->path, 0, "ids", "id %d (position %zu) is not in the "
                                "vocabulary of %d ids", id, i, tok->n_ids);
        }
        if (skip_special && (tok->flags[id] & TOK_ID_SPECIAL))
            continue;
        ok = list_push(&cur, tok->str[id].p, tok->str[id].n);
    }
    if (ok && !tok->has_decoder) {
        ok = list_push(&next, "", 0);
        for (size_t i = 0; ok && i < cur.n; i++)
            ok = (i == 0 || tok_buf_append(&next.v[0], " ", 1)) && tok_buf_append(&next.v[0], cur.v[i].p, cur.v[i].n);
        list_free(&cur);
        cur = next;
        memset(&next, 0, sizeof next);
    }
    for (size_t k = 0; ok && tok->has_decoder && k < tok->n_decs; k++) {
        const tok_dec *d = &tok->decs[k];
        switch (d->kind) {
        case TOK_DEC_BYTELEVEL: ok = dec_bytelevel(&cur, &next); break;
        case TOK_DEC_BYTEFALLBACK: ok = dec_bytefallback(&cur, &next); break;
        case TOK_DEC_FUSE: ok = dec_fuse(&cur, &next); break;
        case TOK_DEC_STRIP: ok = dec_strip(d, &cur, &next); break;
        case TOK_DEC_REPLACE: ok = dec_replace(d, &cur, &next); break;
        case TOK_DEC_METASPACE: ok = dec_metaspace(d, &cur, &next); break;
        }
        list_free(&cur);
        cur = next;
        memset(&next, 0, sizeof next);
    }
    tok_buf all = {0};
    ok = ok && tok_buf_append(&all, "", 0);
    for (size_t i = 0; ok && i < cur.n; i++)
        ok = tok_buf_append(&all, cur.v[i].p, cur.v[i].n);
    list_free(&cur);
    list_free(&next);
    if (!ok) {
        free(all.p);
        return tb_error_set(err, TB_ERR_NOMEM, tok->path, 0, NULL, "out of memory while decoding");
    }
    all.p[all.n] = '\0';
    *text = all.p;
    if (len)
        *len = all.n;
    return TB_OK;
}
