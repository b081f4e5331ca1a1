/* tunebench — held-out examples for an evaluation (engine/eval/examples.h). */
#include "engine/eval/examples.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/encode.h"
#include "datasets/reader.h"
#include "engine/core/fs.h"

static char *dup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* "instruction\n\ninput" (alpaca), the first user turn (chat), the prompt. */
static char *prompt_text(const tb_row *row)
{
    const tb_text *p = tb_row_find(row, TB_TEXT_PROMPT), *in = tb_row_find(row, TB_TEXT_INPUT);
    if (!p)
        return dup_n("", 0);
    if (!in || in->len == 0)
        return dup_n(p->text, p->len);
    char *s = malloc(p->len + in->len + 3);
    if (s)
        snprintf(s, p->len + in->len + 3, "%.*s\n\n%.*s", (int)p->len, p->text, (int)in->len, in->text);
    return s;
}

static void skip(tb_eval_items *s, const tb_row *row, const char *why)
{
    if (s->skipped++ == 0)
        snprintf(s->first_skip, sizeof s->first_skip, "%s:%ld: %s", row->file, row->line, why);
}

static tb_status add_item(tb_eval_items *s, const tb_row *row, const tb_encoded *enc, int64_t max_len)
{
    int64_t n = (int64_t)enc->n;
    if (n > max_len) {
        n = max_len;
        s->truncated++;
    }
    int64_t first = -1, trained = 0;
    for (int64_t i = 0; i < n; i++)
        if (enc->trained[i]) {
            trained++;
            if (first < 0)
                first = i;
        }
    if (trained == 0 || first == 0) {
        skip(s, row, trained ? "the whole example is trained: no prompt to generate from"
                             : "no response token left (empty response, or cut at the length limit)");
        return TB_OK;
    }
    if (s->n == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 32;
        tb_eval_item *g = realloc(s->v, (size_t)cap * sizeof *g);
        if (!g)
            return TB_ERR_NOMEM;
        s->v = g, s->cap = cap;
    }
    tb_eval_item *it = &s->v[s->n];
    memset(it, 0, sizeof *it);
    const tb_text *resp = tb_row_find(row, TB_TEXT_RESPONSE);
    it->ids = malloc((size_t)n * sizeof *it->ids);
    it->trained = malloc((size_t)n);
    it->prompt = prompt_text(row);
    it->reference = resp ? dup_n(resp->text, resp->len) : dup_n("", 0);
    if (!it->ids || !it->trained || !it->prompt || !it->reference) {
        free(it->ids), free(it->trained), free(it->prompt), free(it->reference);
        return TB_ERR_NOMEM;
    }
    memcpy(it->ids, enc->ids, (size_t)n * sizeof *it->ids);
    memcpy(it->trained, enc->trained, (size_t)n);
    it->n = n;
    it->prompt_len = first;
    it->line = row->line;
    s->n++;
    return TB_OK;
}

tb_status tb_eval_items_load(tb_eval_items *out, const char *path, const tb_tokenizer *tok, tb_template_kind kind,
                             int64_t max_len, int64_t limit, tb_error *err)
{
    memset(out, 0, sizeof *out);
    tb_reader *r = NULL;
    tb_status st = tb_reader_open(&r, path, NULL, err);
    if (st != TB_OK)
        return st;
    tb_rendered rend;
    tb_encoded enc;
    memset(&rend, 0, sizeof rend);
    memset(&enc, 0, sizeof enc);
    const tb_row *row;
    while ((st = tb_reader_next(r, &row, err)) == TB_OK && row && (limit <= 0 || out->n < limit)) {
        if (row->parse != TB_PARSE_OK) {
            skip(out, row, row->parse_message);
            continue;
        }
        tb_template_kind k = kind == TB_TEMPLATE_AUTO ? tb_template_default(row->shape) : kind;
        tb_error rerr;
        if (tb_template_render(k, row, false, &rend, &rerr) != TB_OK) {
            skip(out, row, rerr.message);
            continue;
        }
        if ((st = tb_rendered_encode(tok, &rend, &enc, err)) != TB_OK)
            break;
        if (add_item(out, row, &enc, max_len) != TB_OK) {
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
            break;
        }
    }
    tb_rendered_free(&rend);
    tb_encoded_free(&enc);
    tb_reader_close(r);
    if (st == TB_OK && out->n == 0)
        st = tb_error_set(err, TB_ERR_INVALID, path, 0, NULL, "no example to evaluate%s%s",
                          out->skipped ? ": every row was skipped, the first: " : "", out->first_skip);
    if (st != TB_OK)
        tb_eval_items_free(out);
    return st;
}

void tb_eval_items_free(tb_eval_items *s)
{
    for (int64_t i = 0; s->v && i < s->n; i++) {
        tb_eval_item *it = &s->v[i];
        free(it->ids), free(it->trained), free(it->prompt), free(it->reference);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

tb_status tb_eval_text_ids(const char *path, const tb_tokenizer *tok, int32_t **ids, int64_t *n, tb_error *err)
{
    *ids = NULL;
    *n = 0;
    char *text;
    size_t len;
    tb_status st = tb_read_file(path, &text, &len, err);
    if (st != TB_OK)
        return st;
    int32_t *body = NULL;
    size_t nb = 0;
    st = tb_tokenizer_encode(tok, text, len, false, &body, &nb, err);
    free(text);
    if (st != TB_OK)
        return st;
    int32_t bos = tb_tokenizer_bos(tok);
    *ids = malloc((nb + 1) * sizeof **ids);
    if (!*ids) {
        free(body);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    if (bos >= 0)
        (*ids)[(*n)++] = bos;
    memcpy(*ids + *n, body, nb * sizeof *body);
    *n += (int64_t)nb;
    free(body);
    if (*n < 2) {
        free(*ids);
        *ids = NULL;
        return tb_error_set(err, TB_ERR_INVALID, path, 0, NULL, "too little text for a perplexity (%lld tokens)",
                            (long long)*n);
    }
    return TB_OK;
}
