/* tunebench — encode: the pipeline of tok_internal.h, end to end. */
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tok_internal.h"

typedef struct enc_ctx {
    const tb_tokenizer *tok;
    tok_ids *out;
} enc_ctx;

static bool emit_piece(void *ctx, const char *s, size_t n)
{
    enc_ctx *c = ctx;
    return tok_bpe_piece(c->tok, s, n, c->out);
}

/* One text segment between non-normalized added tokens. */
static bool encode_segment(const tb_tokenizer *tok, const char *s, size_t n, bool at_start, tok_buf *norm,
                           tok_segs *segs, tok_ids *out)
{
    enc_ctx ctx = {tok, out};
    if (tok->n_norms) {
        if (!tok_normalize(tok, s, n, norm))
            return false;
        s = norm->p ? norm->p : "";
        n = norm->n;
    }
    if (!tok->trie_norm.n)
        return tok_pretokenize(tok, s, n, at_start, emit_piece, &ctx);
    segs->n = 0;
    if (!tok_added_split(tok, &tok->trie_norm, s, n, segs))
        return false;
    for (size_t i = 0; i < segs->n; i++) {
        const tok_seg *g = &segs->v[i];
        bool ok = g->id >= 0 ? tok_ids_push(out, g->id)
                             : tok_pretokenize(tok, s + g->start, g->end - g->start, at_start && g->start == 0,
                                               emit_piece, &ctx);
        if (!ok)
            return false;
    }
    return true;
}

tb_status tb_tokenizer_encode(const tb_tokenizer *tok, const char *text, size_t len, bool add_special, int32_t **ids,
                              size_t *n, tb_error *err)
{
    *ids = NULL;
    *n = 0;
    char *clean = NULL;
    size_t clean_n = 0;
    if (tok_utf8_sanitize(text, len, &clean, &clean_n)) {
        if (!clean)
            return tb_error_set(err, TB_ERR_NOMEM, tok->path, 0, NULL, "out of memory");
        text = clean;
        len = clean_n;
    }
    tok_ids out = {0};
    tok_segs raw = {0}, inner = {0};
    tok_buf norm = {0};
    /* Reserve a slot so *ids is never NULL, even for an empty result. */
    bool ok = tok_ids_push(&out, 0);
    out.n = 0;
    if (ok && add_special)
        ok = tok_ids_append(&out, tok->post_prefix, tok->n_post_prefix);
    ok = ok && tok_added_split(tok, &tok->trie_raw, text, len, &raw);
    for (size_t i = 0; ok && i < raw.n; i++) {
        const tok_seg *g = &raw.v[i];
        ok = g->id >= 0 ? tok_ids_push(&out, g->id)
                        : encode_segment(tok, text + g->start, g->end - g->start, g->start == 0, &norm, &inner, &out);
    }
    if (ok && add_special)
        ok = tok_ids_append(&out, tok->post_suffix, tok->n_post_suffix);
    free(raw.v);
    free(inner.v);
    free(norm.p);
    free(clean);
    if (!ok) {
        free(out.v);
        return tb_error_set(err, TB_ERR_NOMEM, tok->path, 0, NULL, "out of memory while encoding %zu bytes", len);
    }
    *ids = out.v;
    *n = out.n;
    return TB_OK;
}
