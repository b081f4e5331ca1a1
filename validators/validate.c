/* tunebench — the validation driver: one streaming pass of every row through every check,
 * then statistics, then the checks that compare a row with the whole dataset. */
#include "validators/validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t on the stack */
#include <xxhash.h>

#include "datasets/reader.h"
#include "validators/check.h"
#include "validators/fix.h"
#include "validators/tokens.h"

#define HIST_BINS 24

void tb_validate_opts_init(tb_validate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->near_threshold = 0.8;
    o->max_findings = 1000;
}

/* ---- the duplicate key ---------------------------------------------------------------- */

/* Feed text to the hash lowercased, with every whitespace run as one space and none at the
 * ends: "What  is X?\n" and "what is x?" are the same prompt. */
static void hash_normalized(XXH3_state_t *st, const char *s, size_t n)
{
    char buf[1024];
    size_t k = 0;
    bool space = false, any = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
            space = any;
            continue;
        }
        if (space) {
            buf[k++] = ' ';
            space = false;
        }
        buf[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        any = true;
        if (k >= sizeof buf - 2) {
            XXH3_64bits_update(st, buf, k);
            k = 0;
        }
    }
    XXH3_64bits_update(st, buf, k);
}

bool tb_row_key(const tb_row *row, uint64_t *key)
{
    if (!row->obj || row->n_texts == 0)
        return false;
    XXH3_state_t st;
    XXH3_64bits_reset(&st);
    bool chat = row->shape == TB_SHAPE_CHAT || row->shape == TB_SHAPE_SHAREGPT;
    bool any = false;
    for (int i = 0; i < row->n_texts; i++) {
        const tb_text *t = &row->texts[i];
        /* Alpaca and prompt/completion: the prompt decides (one prompt, two answers is a
         * conflict); conversations: the whole exchange (paraphrased replies to one question
         * are deliberate augmentation, a repeated conversation is not). */
        if (!chat && t->kind != TB_TEXT_PROMPT && t->kind != TB_TEXT_INPUT)
            continue;
        if (t->kind == TB_TEXT_INPUT && (tb_is_blank(t->text, t->len) || tb_is_placeholder_input(t->text, t->len)))
            continue; /* "<noinput>", "" and no input field at all are the same prompt */
        unsigned char sep[2] = {0x1F, (unsigned char)('0' + t->kind)};
        XXH3_64bits_update(&st, sep, sizeof sep);
        hash_normalized(&st, t->text, t->len);
        any = true;
    }
    if (!any)
        return false;
    *key = XXH3_64bits_digest(&st);
    return true;
}

/* ---- per-row facts -------------------------------------------------------------------- */

static tb_status grow_rows(tb_vctx *ctx, tb_error *err)
{
    if (ctx->n_rows < ctx->cap_rows)
        return TB_OK;
    long ncap = ctx->cap_rows ? ctx->cap_rows + ctx->cap_rows / 2 : 4096;
    tb_rowloc *nl = realloc(ctx->locs, (size_t)ncap * sizeof *nl);
    if (!nl)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory for %ld rows", ncap);
    ctx->locs = nl;
    for (int f = 0; f < TB_STAT_COUNT; f++) {
        uint32_t *nv = realloc(ctx->lens[f], (size_t)ncap * sizeof *nv);
        if (!nv)
            return tb_fail(err, TB_ERR_NOMEM, "out of memory for %ld rows", ncap);
        ctx->lens[f] = nv;
    }
    ctx->cap_rows = ncap;
    return TB_OK;
}

static uint32_t chars_of(const tb_row *row, tb_text_kind kind, bool absent_ok)
{
    size_t n = 0;
    bool found = false;
    for (int i = 0; i < row->n_texts; i++)
        if (row->texts[i].kind == kind) {
            /* UTF-8 characters: continuation bytes (10xxxxxx) do not start one. */
            const unsigned char *s = (const unsigned char *)row->texts[i].text;
            for (size_t k = 0; k < row->texts[i].len; k++)
                n += (s[k] & 0xC0) != 0x80;
            found = true;
        }
    if (!found)
        return absent_ok ? 0 : TB_LEN_ABSENT;
    return n >= TB_LEN_ABSENT ? TB_LEN_ABSENT - 1 : (uint32_t)n;
}

static tb_status derive(tb_vctx *ctx, const tb_row *row, tb_token_counter *tc, tb_rendered *rend, tb_error *err)
{
    tb_row_facts *f = &ctx->facts;
    f->dup_of = -1;
    f->has_key = false;
    f->renderable = false;
    f->trained_tokens = 0;
    for (int k = 0; k < TB_STAT_COUNT; k++)
        f->len[k] = TB_LEN_ABSENT;
    if (row->obj && json_is_object(row->obj)) {
        f->len[TB_STAT_INSTRUCTION] = chars_of(row, TB_TEXT_PROMPT, false);
        if (row->shape == TB_SHAPE_ALPACA)
            f->len[TB_STAT_INPUT] = chars_of(row, TB_TEXT_INPUT, true);
        f->len[TB_STAT_OUTPUT] = chars_of(row, TB_TEXT_RESPONSE, false);
        if (tb_row_key(row, &f->key)) {
            f->has_key = true;
            uint32_t first;
            bool oom;
            if (tb_map64_get_or_put(&ctx->keys, f->key, (uint32_t)row->index, &first, &oom))
                f->dup_of = first;
            if (oom)
                return tb_fail(err, TB_ERR_NOMEM, "out of memory for duplicate keys");
        }
        tb_error rerr;
        if (tb_template_render(ctx->opts->template_kind, row, false, rend, &rerr) == TB_OK) {
            long total, trained;
            tb_status s = tb_token_count(tc, rend, &total, &trained, err);
            if (s != TB_OK)
                return s;
            f->len[TB_STAT_TOKENS] = total >= (long)TB_LEN_ABSENT ? TB_LEN_ABSENT - 1 : (uint32_t)total;
            f->trained_tokens = trained;
            f->renderable = true;
        }
    }
    long r = ctx->n_rows++;
    ctx->locs[r] = (tb_rowloc){row->offset, (uint32_t)row->line, (uint32_t)row->record};
    for (int k = 0; k < TB_STAT_COUNT; k++)
        ctx->lens[k][r] = f->len[k];
    return TB_OK;
}

/* ---- the run -------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct run {
    tb_vctx ctx;
    void *states[TB_CHECK_MAX];
    int n_checks;
    tb_reader *reader;
    tb_token_counter tc;
    tb_rendered rend;
    tb_fixer fix;
    long first_bad_line;
    char first_bad[256];
} run;

static void run_free(run *r)
{
    for (int c = 0; c < r->n_checks; c++)
        if (tb_check_classes[c]->destroy)
            tb_check_classes[c]->destroy(r->states[c]);
    tb_reader_close(r->reader);
    tb_token_counter_close(&r->tc);
    tb_rendered_free(&r->rend);
    tb_fix_abort(&r->fix);
    free(r->ctx.locs);
    for (int f = 0; f < TB_STAT_COUNT; f++)
        free(r->ctx.lens[f]);
    for (int c = 0; c < TB_CHECK_MAX; c++)
        free(r->ctx.seen[c]);
    tb_map64_free(&r->ctx.keys);
}

static tb_status open_all(run *r, const tb_validate_opts *opts, tb_report *out, tb_error *err)
{
    tb_reader_opts ro = {.format = opts->format, .map = opts->map};
    tb_status s;
    if (opts->eval_path) {
        /* Fail before the long pass when the eval file is unusable. */
        tb_reader *probe;
        if ((s = tb_reader_open(&probe, opts->eval_path, &ro, err)) != TB_OK)
            return s;
        tb_reader_close(probe);
    }
    if ((s = tb_reader_open(&r->reader, opts->path, &ro, err)) != TB_OK)
        return s;
    out->format = tb_reader_format(r->reader);
    out->bytes = tb_reader_size(r->reader);
    for (; tb_check_classes[r->n_checks]; r->n_checks++) {
        const tb_check_class *cls = tb_check_classes[r->n_checks];
        if (cls->init && (s = cls->init(&r->states[r->n_checks], opts, err)) != TB_OK) {
            r->n_checks++; /* destroy() accepts what init left (NULL) */
            return s;
        }
    }
    if ((s = tb_token_counter_open(&r->tc, opts->model_dir, opts->tokenizer_path, err)) != TB_OK)
        return s;
    out->tokens_exact = r->tc.exact;
    snprintf(out->token_note, sizeof out->token_note, "%s", r->tc.note);
    if (opts->fix_path &&
        (s = tb_fix_open(&r->fix, opts->fix_path, opts->path, opts->eval_path, opts->map, &out->fix, err)) != TB_OK)
        return s;
    return TB_OK;
}

static tb_status pass(run *r, const tb_validate_opts *opts, tb_report *out, tb_error *err)
{
    tb_vctx *ctx = &r->ctx;
    const tb_row *row;
    tb_status s;
    while ((s = tb_reader_next(r->reader, &row, err)) == TB_OK && row) {
        if ((row->index & 255) == 0 && opts->cancel && atomic_load(opts->cancel))
            return tb_fail(err, TB_ERR_CANCELLED, "validation cancelled");
        if ((row->index & 4095) == 0 && opts->progress)
            opts->progress(opts->progress_ctx, tb_reader_progress(r->reader), row->index);
        out->shape = tb_reader_shape(r->reader);
        if ((s = grow_rows(ctx, err)) != TB_OK || (s = derive(ctx, row, &r->tc, &r->rend, err)) != TB_OK)
            return s;
        for (int c = 0; c < r->n_checks; c++) {
            ctx->check = c;
            if (tb_check_classes[c]->row)
                tb_check_classes[c]->row(r->states[c], ctx, row);
        }
        out->rows++;
        if (row->obj && row->parse != TB_PARSE_JSON)
            out->parsed_rows++;
        else if (!r->first_bad[0]) {
            r->first_bad_line = row->line;
            snprintf(r->first_bad, sizeof r->first_bad, "%s", row->parse_message);
        }
        if ((s = tb_fix_row(&r->fix, row, ctx->facts.dup_of >= 0, err)) != TB_OK)
            return s;
        if (ctx->oom)
            return tb_fail(err, TB_ERR_NOMEM, "out of memory at row %ld", row->index);
    }
    if (s == TB_OK && opts->progress)
        opts->progress(opts->progress_ctx, 1.0, out->rows);
    return s;
}

static void statistics(run *r, tb_report *out)
{
    uint32_t *scratch = malloc((size_t)(r->ctx.n_rows ? r->ctx.n_rows : 1) * sizeof *scratch);
    for (int f = 0; f < TB_STAT_COUNT; f++) {
        tb_length_stats_compute(r->ctx.lens[f], (size_t)r->ctx.n_rows, scratch, &out->stats[f]);
        tb_histogram_build(r->ctx.lens[f], (size_t)r->ctx.n_rows, HIST_BINS, &out->stats[f], &out->hist[f]);
    }
    free(scratch);
}

tb_status tb_validate(const tb_validate_opts *opts, tb_report *out, tb_error *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", opts->path);
    if (opts->eval_path)
        snprintf(out->eval_path, sizeof out->eval_path, "%s", opts->eval_path);
    out->max_tokens = opts->max_tokens;
    out->near_threshold = opts->near_threshold;
    double t0 = now_s();
    run *r = calloc(1, sizeof *r);
    if (!r)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    r->ctx.opts = opts;
    r->ctx.report = out;
    r->ctx.map = opts->map;
    for (int c = 0; c < TB_CHECK_MAX; c++)
        r->ctx.last_eval_row[c] = -1;
    tb_status s = open_all(r, opts, out, err);
    if (s == TB_OK)
        s = pass(r, opts, out, err);
    if (s == TB_OK && out->rows == 0)
        s = tb_error_set(err, TB_ERR_FORMAT, opts->path, 0, NULL, "no rows: the file holds no records");
    if (s == TB_OK && out->parsed_rows == 0)
        s = tb_error_set(err, TB_ERR_FORMAT, opts->path, r->first_bad_line, NULL,
                         "no record could be read (first problem: %s); is this a %s file?", r->first_bad,
                         tb_format_name(out->format));
    if (s == TB_OK && out->shape == TB_SHAPE_UNKNOWN)
        s = tb_error_set(err, TB_ERR_FORMAT, opts->path, 0, NULL, "not a dataset: no row has a known shape (%s)",
                         tb_reader_shape_problem(r->reader));
    if (s == TB_OK) {
        statistics(r, out);
        for (int c = 0; c < r->n_checks; c++) {
            r->ctx.check = c;
            if (tb_check_classes[c]->finish)
                tb_check_classes[c]->finish(r->states[c], &r->ctx);
        }
        if (r->ctx.eval_error.status != TB_OK) {
            *err = r->ctx.eval_error;
            s = err->status;
        } else if (r->ctx.oom) {
            s = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        }
    }
    if (s == TB_OK)
        s = tb_fix_commit(&r->fix, err);
    tb_report_sort(out);
    out->seconds = now_s() - t0;
    run_free(r);
    free(r);
    return s;
}
