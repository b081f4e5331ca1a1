/* tunebench — training data: rows to tokenized examples, the eval split, batches. */
#include "engine/train/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/encode.h"
#include "datasets/reader.h"
#include "datasets/source.h"
#include "engine/core/rng.h"

/* ------------------------------------------------------------------ token sets */

static bool set_reserve(tb_token_set *s, int64_t tokens)
{
    if (s->n + 1 >= s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 1024;
        int64_t *st = realloc(s->start, (size_t)(cap + 1) * sizeof *st);
        if (!st)
            return false;
        s->start = st;
        int64_t *tg = realloc(s->targets, (size_t)cap * sizeof *tg);
        if (!tg)
            return false;
        s->targets = tg;
        long *ln = realloc(s->line, (size_t)cap * sizeof *ln);
        if (!ln)
            return false;
        s->line = ln;
        s->cap = cap;
    }
    if (s->tokens + tokens > s->cap_tokens) {
        int64_t cap = s->cap_tokens ? s->cap_tokens : 1 << 16;
        while (cap < s->tokens + tokens)
            cap *= 2;
        int32_t *ids = realloc(s->ids, (size_t)cap * sizeof *ids);
        if (!ids)
            return false;
        s->ids = ids;
        uint8_t *tr = realloc(s->trained, (size_t)cap);
        if (!tr)
            return false;
        s->trained = tr;
        s->cap_tokens = cap;
    }
    return true;
}

/* Append an example; trained flags of its first token do not count (nothing predicts it). */
static bool set_add(tb_token_set *s, const int32_t *ids, const uint8_t *trained, int64_t n, long line)
{
    if (!set_reserve(s, n))
        return false;
    if (s->n == 0)
        s->start[0] = 0;
    memcpy(s->ids + s->tokens, ids, (size_t)n * sizeof *ids);
    memcpy(s->trained + s->tokens, trained, (size_t)n);
    int64_t t = 0;
    for (int64_t i = 1; i < n; i++)
        t += trained[i];
    s->targets[s->n] = t;
    s->line[s->n] = line;
    s->tokens += n;
    s->n++;
    s->start[s->n] = s->tokens;
    return true;
}

static void set_free(tb_token_set *s)
{
    free(s->ids);
    free(s->trained);
    free(s->start);
    free(s->targets);
    free(s->line);
    memset(s, 0, sizeof *s);
}

static int64_t set_targets(const tb_token_set *s)
{
    int64_t t = 0;
    for (int64_t i = 0; i < s->n; i++)
        t += s->targets[i];
    return t;
}

void tb_train_data_free(tb_train_data *d)
{
    set_free(&d->train);
    set_free(&d->eval);
}

/* ------------------------------------------------------------------ instruction data */

static void note_skip(tb_data_stats *st, const char *file, long line, const char *why)
{
    if (st->skipped++ == 0)
        snprintf(st->first_skip, sizeof st->first_skip, "%s:%ld: %s", file, line, why);
}

/* Every row of one file into dst. */
static tb_status load_rows(const tb_data_opts *o, const char *path, const tb_tokenizer *tok, tb_token_set *dst,
                           tb_data_stats *st, tb_error *err)
{
    tb_reader_opts ro = {o->format, TB_SHAPE_UNKNOWN, o->map};
    tb_reader *r;
    tb_status s = tb_reader_open(&r, path, &ro, err);
    if (s != TB_OK)
        return s;
    tb_rendered rd = {0};
    tb_encoded enc = {0};
    const tb_row *row;
    tb_error rerr;
    while ((s = tb_reader_next(r, &row, err)) == TB_OK && row) {
        st->rows++;
        if (row->parse != TB_PARSE_OK) {
            note_skip(st, path, row->line, row->parse_message);
            continue;
        }
        if (tb_template_render(o->template_kind, row, o->train_on_inputs, &rd, &rerr) != TB_OK) {
            note_skip(st, path, row->line, rerr.message);
            continue;
        }
        if ((s = tb_rendered_encode(tok, &rd, &enc, err)) != TB_OK)
            break;
        st->missing_eos += (long)enc.missing_eos;
        int64_t n = (int64_t)enc.n;
        st->longest = n > st->longest ? n : st->longest;
        if (n > o->max_len) { /* cut the end (HF truncation_side "right"), and say so */
            st->truncated++;
            for (int64_t i = o->max_len; i < n; i++)
                st->truncated_targets += enc.trained[i];
            n = o->max_len;
        }
        int64_t t = 0;
        for (int64_t i = 1; i < n; i++)
            t += enc.trained[i];
        if (t == 0) {
            st->dropped++;
            continue;
        }
        if (!set_add(dst, enc.ids, enc.trained, n, row->line)) {
            s = tb_fail(err, TB_ERR_NOMEM, "out of memory for the tokenized dataset");
            break;
        }
    }
    tb_encoded_free(&enc);
    tb_rendered_free(&rd);
    tb_reader_close(r);
    return s;
}

/* ------------------------------------------------------------------ plain text, packed */

static tb_status flush_doc(const tb_tokenizer *tok, char **doc, size_t *len, tb_encoded *stream, tb_error *err)
{
    if (*len == 0)
        return TB_OK;
    int32_t *ids = NULL;
    size_t n = 0;
    tb_status s = tb_tokenizer_encode(tok, *doc, *len, false, &ids, &n, err);
    if (s != TB_OK)
        return s;
    int32_t eos = tb_tokenizer_eos(tok);
    size_t need = stream->n + n + 1;
    if (need > stream->cap) {
        size_t cap = stream->cap ? stream->cap : 1 << 16;
        while (cap < need)
            cap *= 2;
        int32_t *ni = realloc(stream->ids, cap * sizeof *ni);
        if (!ni) {
            free(ids);
            return tb_fail(err, TB_ERR_NOMEM, "out of memory for the tokenized corpus");
        }
        stream->ids = ni;
        stream->cap = cap;
    }
    memcpy(stream->ids + stream->n, ids, n * sizeof *ids);
    stream->n += n;
    stream->ids[stream->n++] = eos; /* documents end with EOS, as GPT-style corpora do */
    free(ids);
    *len = 0;
    return TB_OK;
}

/* Documents are separated by blank lines; each is tokenized whole and ends with EOS. The
 * stream is cut into blocks of max_len tokens (the remainder dropped, as HF group_texts). */
static tb_status load_packed(const tb_data_opts *o, const tb_tokenizer *tok, tb_token_set *dst, tb_data_stats *st,
                             tb_error *err)
{
    if (tb_tokenizer_eos(tok) < 0)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "eos_token_id",
                            "packed pretraining separates documents with EOS, and the tokenizer has none");
    tb_source src;
    tb_status s = tb_source_open_file(&src, o->path, err);
    if (s != TB_OK)
        return s;
    tb_encoded stream = {0};
    char *doc = NULL;
    size_t len = 0, cap = 0;
    tb_line line;
    while ((s = tb_source_read_line(&src, &line, err)) == TB_OK && line.text) {
        st->rows++;
        if (line.len == 0) {
            if ((s = flush_doc(tok, &doc, &len, &stream, err)) != TB_OK)
                break;
            continue;
        }
        if (len + line.len + 1 > cap) {
            cap = (len + line.len + 1) * 2;
            char *nd = realloc(doc, cap);
            if (!nd) {
                s = tb_fail(err, TB_ERR_NOMEM, "out of memory");
                break;
            }
            doc = nd;
        }
        if (len)
            doc[len++] = '\n';
        memcpy(doc + len, line.text, line.len);
        len += line.len;
    }
    if (s == TB_OK)
        s = flush_doc(tok, &doc, &len, &stream, err);
    free(doc);
    tb_source_close(&src);
    uint8_t *ones = s == TB_OK ? malloc((size_t)o->max_len) : NULL;
    if (s == TB_OK && !ones)
        s = tb_fail(err, TB_ERR_NOMEM, "out of memory");
    if (ones)
        memset(ones, 1, (size_t)o->max_len);
    for (int64_t at = 0; s == TB_OK && at + o->max_len <= (int64_t)stream.n; at += o->max_len)
        if (!set_add(dst, stream.ids + at, ones, o->max_len, 0))
            s = tb_fail(err, TB_ERR_NOMEM, "out of memory for the tokenized corpus");
    st->longest = (int64_t)stream.n;
    free(ones);
    free(stream.ids);
    return s;
}

/* ------------------------------------------------------------------ split */

/* Move a seeded random `count` of src's examples into eval, keeping the order of both. */
static tb_status split(tb_token_set *src, tb_token_set *eval, int64_t count, uint64_t seed, tb_error *err)
{
    uint8_t *pick = calloc((size_t)src->n, 1);
    int64_t *perm = malloc((size_t)src->n * sizeof *perm);
    tb_token_set keep = {0};
    tb_status s = TB_OK;
    if (!pick || !perm) {
        s = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        goto done;
    }
    tb_rng r;
    tb_rng_seed(&r, tb_seed_mix(seed, 0x65766131u /* "eva1" */, 0, 0));
    for (int64_t i = 0; i < src->n; i++)
        perm[i] = i;
    for (int64_t i = src->n - 1; i > 0; i--) { /* Fisher-Yates */
        int64_t j = (int64_t)tb_rng_below(&r, (uint64_t)(i + 1)), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    for (int64_t i = 0; i < count; i++)
        pick[perm[i]] = 1;
    for (int64_t i = 0; i < src->n && s == TB_OK; i++) {
        int64_t a = src->start[i], n = tb_token_set_len(src, i);
        if (!set_add(pick[i] ? eval : &keep, src->ids + a, src->trained + a, n, src->line[i]))
            s = tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    if (s == TB_OK) {
        set_free(src);
        *src = keep;
        memset(&keep, 0, sizeof keep);
    }
done:
    set_free(&keep);
    free(pick);
    free(perm);
    return s;
}

/* ------------------------------------------------------------------ loading */

tb_status tb_train_data_load(tb_train_data *d, const tb_data_opts *o, const tb_tokenizer *tok, tb_error *err)
{
    memset(d, 0, sizeof *d);
    tb_data_stats *st = &d->stats;
    if (o->max_len < 2)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "max-len", "must be at least 2 tokens");
    if (o->eval_path && o->eval_split > 0)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "eval-split", "give --eval FILE or --eval-split, not both");
    if (!(o->eval_split >= 0 && o->eval_split <= 0.5))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "eval-split", "must be in [0, 0.5]");
    tb_status s = o->packed ? load_packed(o, tok, &d->train, st, err) : load_rows(o, o->path, tok, &d->train, st, err);
    if (s == TB_OK && o->eval_path)
        s = o->packed ? tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "eval",
                                     "packed text takes --eval-split, not an eval file")
                      : load_rows(o, o->eval_path, tok, &d->eval, st, err);
    if (s != TB_OK)
        return s;
    if (st->missing_eos > 0)
        return tb_error_set(err, TB_ERR_INVALID, o->path, 0, "eos_token_id",
                            "the %s template ends every example with EOS, but the model's tokenizer has no EOS token "
                            "(set eos_token_id in config.json or tokenizer_config.json)",
                            tb_template_name(o->template_kind));
    if (d->train.n == 0) {
        char why[768];
        if (o->packed)
            snprintf(why, sizeof why, "the text has %lld tokens, fewer than one block of --max-len %lld",
                     (long long)st->longest, (long long)o->max_len);
        else if (st->dropped > 0 && st->truncated > 0)
            snprintf(why, sizeof why,
                     "--max-len %lld cuts every response away: %ld of %ld examples lost all trained tokens (the "
                     "longest example has %lld tokens; raise --max-len or shorten the prompts)",
                     (long long)o->max_len, st->dropped, st->rows, (long long)st->longest);
        else if (st->dropped > 0)
            snprintf(why, sizeof why, "every example's trained part is empty (%ld examples): are the outputs empty?",
                     st->dropped);
        else if (st->skipped > 0)
            snprintf(why, sizeof why, "no row makes a training example (%ld skipped; the first: %s)", st->skipped,
                     st->first_skip);
        else
            snprintf(why, sizeof why, "the file holds no rows");
        return tb_error_set(err, TB_ERR_INVALID, o->path, 0, NULL, "nothing would be trained: %s", why);
    }
    if (!o->eval_path && o->eval_split > 0) {
        int64_t count = (int64_t)((double)d->train.n * o->eval_split + 0.5);
        count = count < 1 ? 1 : count;
        if (count >= d->train.n)
            return tb_error_set(err, TB_ERR_INVALID, o->path, 0, "eval-split",
                                "%lld examples are too few to hold out %g of them for eval", (long long)d->train.n,
                                o->eval_split);
        if ((s = split(&d->train, &d->eval, count, o->seed, err)) != TB_OK)
            return s;
    }
    st->tokens = d->train.tokens, st->targets = set_targets(&d->train);
    st->eval_tokens = d->eval.tokens, st->eval_targets = set_targets(&d->eval);
    return TB_OK;
}

void tb_data_stats_format(const tb_data_stats *s, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%ld rows: %lld training tokens (%lld trained)", s->rows, (long long)s->tokens,
                     (long long)s->targets);
    if (s->eval_tokens > 0 && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, ", eval %lld tokens (%lld trained)", (long long)s->eval_tokens,
                      (long long)s->eval_targets);
    if (s->truncated > 0 && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "; %ld example%s cut at --max-len (%lld trained tokens lost)",
                      s->truncated, s->truncated == 1 ? "" : "s", (long long)s->truncated_targets);
    if (s->dropped > 0 && n >= 0 && (size_t)n < size)
        n += snprintf(buf + n, size - (size_t)n, "; %ld example%s with nothing left to train dropped", s->dropped,
                      s->dropped == 1 ? "" : "s");
    if (s->skipped > 0 && n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, "; %ld row%s skipped (first: %s)", s->skipped, s->skipped == 1 ? "" : "s",
                 s->first_skip);
}

/* ------------------------------------------------------------------ batches */

/* Longest first; ties by index, so the order is total and reproducible. */
static int by_len_desc(const void *a, const void *b, void *ctx)
{
    const tb_token_set *s = ctx;
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    int64_t li = tb_token_set_len(s, i), lj = tb_token_set_len(s, j);
    return li != lj ? (li > lj ? -1 : 1) : (i > j) - (i < j);
}

#define MEGA 50 /* transformers' LengthGroupedSampler mega_batch_mult */

tb_status tb_batch_plan_make(tb_batch_plan *p, const tb_token_set *s, int64_t batch, uint64_t seed, int64_t epoch,
                             bool shuffle, bool group_by_length, tb_error *err)
{
    memset(p, 0, sizeof *p);
    if (batch < 1 || s->n < 1)
        return tb_fail(err, TB_ERR_INVALID, "a batch plan needs examples and batch >= 1");
    p->idx = malloc((size_t)s->n * sizeof *p->idx);
    if (!p->idx)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    p->n = s->n, p->batch = batch;
    for (int64_t i = 0; i < s->n; i++)
        p->idx[i] = i;
    if (shuffle) {
        tb_rng r;
        tb_rng_seed(&r, tb_seed_mix(seed, 0x65706f63u /* "epoc" */, (uint64_t)epoch, 0));
        for (int64_t i = s->n - 1; i > 0; i--) {
            int64_t j = (int64_t)tb_rng_below(&r, (uint64_t)(i + 1)), t = p->idx[i];
            p->idx[i] = p->idx[j], p->idx[j] = t;
        }
    }
    if (!group_by_length)
        return TB_OK;
    int64_t mega = shuffle ? MEGA * batch : s->n;
    for (int64_t a = 0; a < s->n; a += mega)
        qsort_r(p->idx + a, (size_t)(a + mega < s->n ? mega : s->n - a), sizeof *p->idx, by_len_desc, (void *)(uintptr_t)s);
    /* the megabatch holding the longest example gives its first element to the front */
    int64_t best = 0;
    for (int64_t a = 0; a < s->n; a += mega)
        if (tb_token_set_len(s, p->idx[a]) > tb_token_set_len(s, p->idx[best]))
            best = a;
    int64_t t = p->idx[0];
    p->idx[0] = p->idx[best], p->idx[best] = t;
    return TB_OK;
}

void tb_batch_plan_free(tb_batch_plan *p)
{
    free(p->idx);
    memset(p, 0, sizeof *p);
}

void tb_batch_fill(const tb_token_set *s, const tb_batch_plan *p, int64_t b, int32_t pad_id, int32_t *ids,
                   int32_t *targets, int64_t *rows, int64_t *T, int64_t *ntargets)
{
    int64_t a = b * p->batch, n = p->n - a < p->batch ? p->n - a : p->batch, Tb = 1, nt = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t len = tb_token_set_len(s, p->idx[a + r]) - 1;
        Tb = len > Tb ? len : Tb;
    }
    for (int64_t r = 0; r < n; r++) {
        int64_t e = p->idx[a + r], at = s->start[e], len = tb_token_set_len(s, e) - 1;
        for (int64_t t = 0; t < Tb; t++) {
            bool in = t < len;
            ids[r * Tb + t] = in ? s->ids[at + t] : pad_id;
            targets[r * Tb + t] = in && s->trained[at + t + 1] ? s->ids[at + t + 1] : -1;
            nt += targets[r * Tb + t] >= 0;
        }
    }
    *rows = n, *T = Tb, *ntargets = nt;
}
