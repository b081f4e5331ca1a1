/* tunebench — streaming detokenization (engine/tokenizer/stream.h). */
#include "engine/tokenizer/stream.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Decode everything so far and hand out the bytes past `emitted` (all of them when final). */
static tb_status emit(tb_detok_stream *s, const tb_tokenizer *tok, bool final, char **text, size_t *len, tb_error *err)
{
    *text = NULL;
    *len = 0;
    char *all = NULL;
    size_t n = 0;
    tb_status st = tb_tokenizer_decode_bytes(tok, s->ids, s->n, true, &all, &n, err);
    if (st != TB_OK)
        return st;
    bool partial = !final && n >= 3 && memcmp(all + n - 3, "\xef\xbf\xbd", 3) == 0;
    if (!partial && n > s->emitted) {
        *len = n - s->emitted;
        *text = malloc(*len + 1);
        if (!*text) {
            free(all);
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        }
        memcpy(*text, all + s->emitted, *len);
        (*text)[*len] = '\0';
        s->emitted = n;
    }
    free(all);
    return TB_OK;
}

tb_status tb_detok_stream_push(tb_detok_stream *s, const tb_tokenizer *tok, int32_t id, char **text, size_t *len,
                               tb_error *err)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        int32_t *g = realloc(s->ids, cap * sizeof *g);
        if (!g)
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        s->ids = g, s->cap = cap;
    }
    s->ids[s->n++] = id;
    return emit(s, tok, false, text, len, err);
}

tb_status tb_detok_stream_flush(tb_detok_stream *s, const tb_tokenizer *tok, char **text, size_t *len, tb_error *err)
{
    return emit(s, tok, true, text, len, err);
}

void tb_detok_stream_free(tb_detok_stream *s)
{
    free(s->ids);
    memset(s, 0, sizeof *s);
}
