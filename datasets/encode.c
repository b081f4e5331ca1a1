/* tunebench — rendered examples to ids + loss mask. */
#include "datasets/encode.h"

#include <stdlib.h>
#include <string.h>

static bool push(tb_encoded *e, const int32_t *ids, size_t n, bool trained)
{
    if (e->n + n > e->cap) {
        size_t cap = e->cap ? e->cap : 256;
        while (cap < e->n + n)
            cap *= 2;
        int32_t *ni = realloc(e->ids, cap * sizeof *ni);
        if (!ni)
            return false;
        e->ids = ni;
        uint8_t *nt = realloc(e->trained, cap);
        if (!nt)
            return false;
        e->trained = nt;
        e->cap = cap;
    }
    memcpy(e->ids + e->n, ids, n * sizeof *ids);
    memset(e->trained + e->n, trained ? 1 : 0, n);
    e->n += n;
    e->n_trained += trained ? n : 0;
    return true;
}

tb_status tb_rendered_encode(const tb_tokenizer *tok, const tb_rendered *r, tb_encoded *out, tb_error *err)
{
    out->n = out->n_trained = out->missing_eos = 0;
    int32_t bos = tb_tokenizer_bos(tok), eos = tb_tokenizer_eos(tok);
    if (r->add_bos && bos >= 0 && !push(out, &bos, 1, false))
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int i = 0; i < r->n_segs; i++) {
        const tb_segment *s = &r->segs[i];
        if (s->kind == TB_SEG_EOS) {
            if (eos < 0)
                out->missing_eos++; /* stands as -1: counted, never trained on (the trainer refuses) */
            if (!push(out, &eos, 1, s->trained))
                return tb_fail(err, TB_ERR_NOMEM, "out of memory");
            continue;
        }
        int32_t *ids = NULL;
        size_t n = 0;
        tb_status st = tb_tokenizer_encode(tok, r->text + s->off, s->len, false, &ids, &n, err);
        if (st != TB_OK)
            return st;
        bool ok = push(out, ids, n, s->trained);
        free(ids);
        if (!ok)
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    return TB_OK;
}

void tb_encoded_free(tb_encoded *e)
{
    free(e->ids);
    free(e->trained);
    memset(e, 0, sizeof *e);
}
