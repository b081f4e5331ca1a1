/* tunebench — dataset readers: sniffing, JSON Lines, JSON arrays (CSV: csv_reader.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/reader_impl.h"
#include "datasets/utf8.h"

#define JSON_FLAGS (JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES)
#define LOOKAHEAD ((size_t)64 << 10)

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* ---- sniffing ----------------------------------------------------------------------- */

static tb_status sniff(tb_reader *r, tb_error *err)
{
    const char *head;
    size_t n;
    tb_status s = tb_source_head(&r->src, 64 << 10, &head, &n, err);
    if (s != TB_OK)
        return s;
    size_t i = 0;
    while (i < n && is_ws(head[i]))
        i++;
    if (n == 0 || (i == n && r->src.eof && tb_source_avail(&r->src) == n))
        return tb_error_set(err, TB_ERR_FORMAT, r->path, 0, NULL, "the file is empty: no rows to read");
    if (memchr(head, '\0', n))
        return tb_error_set(err, TB_ERR_FORMAT, r->path, 0, NULL,
                            "binary data (NUL bytes): not a JSONL, JSON or CSV dataset");
    if (r->format != TB_FORMAT_AUTO)
        return TB_OK;
    if (i < n && head[i] == '[') {
        r->format = TB_FORMAT_JSON;
    } else if (i < n && head[i] == '{') {
        r->format = TB_FORMAT_JSONL;
    } else {
        /* CSV when the first line looks like a header row: a delimiter or a known column. */
        const char *nl = memchr(head, '\n', n);
        size_t ln = nl ? (size_t)(nl - head) : n;
        bool comma = memchr(head, ',', ln) != NULL;
        if (!comma)
            return tb_error_set(err, TB_ERR_FORMAT, r->path, 1, NULL,
                                "not a dataset: expected JSON Lines ({...} per line), a JSON array ([...]) "
                                "or CSV with a header row (use --format to say which)");
        r->format = TB_FORMAT_CSV;
    }
    return TB_OK;
}

/* ---- rows --------------------------------------------------------------------------- */

/* Begin the row returned by this call; `counts` is false for end-of-file problems that are
 * reported at a place but are not a record of their own. */
void tb_reader_begin_row(tb_reader *r, long line, int64_t offset, size_t bytes, bool counts)
{
    tb_row_reset(&r->row);
    if (r->obj) {
        json_decref(r->obj);
        r->obj = NULL;
    }
    r->row.file = r->path;
    r->row.index = counts ? r->next_index++ : r->next_index;
    r->row.line = line;
    r->row.offset = offset;
    r->row.bytes = bytes;
    r->row.shape = r->shape;
    r->produced = true;
}

static void list_keys(json_t *obj, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    const char *key;
    json_t *v;
    int k = 0;
    json_object_foreach(obj, key, v) {
        (void)v;
        if (k++ == 8) {
            snprintf(buf + n, size - n, ", ...");
            break;
        }
        int w = snprintf(buf + n, size - n, "%s'%s'", n ? ", " : "", key);
        if (w < 0 || (size_t)w >= size - n)
            break;
        n += (size_t)w;
    }
}

tb_status tb_reader_take_object(tb_reader *r, json_t *obj, tb_error *err)
{
    (void)err;
    r->obj = obj;
    if (r->shape == TB_SHAPE_UNKNOWN && json_is_object(obj)) {
        r->shape = tb_shape_detect(obj, r->has_map ? &r->map : NULL);
        if (r->shape == TB_SHAPE_UNKNOWN) {
            /* One odd row ({} or a stray record) must not make the whole file unreadable:
             * report it, and let a later row decide the shape. */
            char keys[256];
            list_keys(obj, keys, sizeof keys);
            r->row.obj = obj;
            tb_row_add_issue(&r->row, TB_ISSUE_MISSING, "",
                             "fields %s fit no row shape (alpaca instruction/output, chat messages, ShareGPT "
                             "conversations, prompt/completion); name yours with --map instruction=COL,output=COL",
                             keys[0] ? keys : "(none)");
            if (!r->shape_problem[0])
                snprintf(r->shape_problem, sizeof r->shape_problem, "line %ld: %s", r->row.line,
                         r->row.issues[r->row.n_issues - 1].detail);
            return TB_OK;
        }
    }
    r->row.shape = r->shape;
    return tb_row_extract(&r->row, obj, r->shape, r->has_map ? &r->map : NULL);
}

const char *tb_reader_shape_problem(const tb_reader *r) { return r->shape_problem; }

/* ---- JSON Lines --------------------------------------------------------------------- */

static tb_status jsonl_next(tb_reader *r, tb_error *err)
{
    for (;;) {
        tb_line ln;
        tb_status s = tb_source_read_line(&r->src, &ln, err);
        if (s != TB_OK)
            return s;
        char *line = ln.text;
        size_t len = ln.len;
        if (ln.too_long) {
            tb_reader_begin_row(r, ln.lineno, ln.offset, len, true);
            r->row.parse = TB_PARSE_JSON;
            snprintf(r->row.parse_message, sizeof r->row.parse_message,
                     "the line is %zu MiB, over the %zu MiB limit for one record; skipped", len >> 20,
                     TB_SOURCE_MAX_RECORD >> 20);
            return TB_OK;
        }
        if (!line) {
            r->done = true;
            return TB_OK;
        }
        size_t i = 0;
        while (i < len && is_ws(line[i]))
            i++;
        if (i == len)
            continue; /* blank lines separate nothing in JSONL; skipping them loses no data */
        tb_reader_begin_row(r, ln.lineno, ln.offset, len, true);
        r->row.crlf = ln.crlf;
        r->row.bad_utf8 = tb_utf8_repair(line, len, &r->row.bad_utf8_at, false);
        json_error_t je;
        json_t *obj = json_loadb(line, len, JSON_FLAGS, &je);
        if (!obj) {
            r->row.parse = TB_PARSE_JSON;
            snprintf(r->row.parse_message, sizeof r->row.parse_message, "invalid JSON: %s (column %d)", je.text,
                     je.column);
            return TB_OK;
        }
        return tb_reader_take_object(r, obj, err);
    }
}

/* ---- JSON arrays -------------------------------------------------------------------- */

/* Skip whitespace (counting lines); returns the next byte or -1 at end of input. */
static int skip_ws(tb_reader *r, tb_error *err, tb_status *st)
{
    for (;;) {
        size_t avail;
        *st = tb_source_fill(&r->src, 1, &avail, err);
        if (*st != TB_OK || avail == 0)
            return -1;
        const char *p = tb_source_peek(&r->src);
        size_t i = 0;
        while (i < avail && is_ws(p[i]))
            i++;
        tb_source_consume(&r->src, i);
        if (i < avail)
            return (unsigned char)p[i];
    }
}

static tb_status json_array_next(tb_reader *r, tb_error *err)
{
    tb_status st = TB_OK;
    int c = skip_ws(r, err, &st);
    if (st != TB_OK)
        return st;
    if (!r->array_open) {
        if (c != '[')
            return tb_error_set(err, TB_ERR_FORMAT, r->path, r->src.line, NULL,
                                "expected a JSON array of rows ('['), found %s", c < 0 ? "the end" : "other data");
        tb_source_consume(&r->src, 1);
        r->array_open = true;
        c = skip_ws(r, err, &st);
        if (st != TB_OK)
            return st;
    } else if (c == ',') {
        tb_source_consume(&r->src, 1);
        c = skip_ws(r, err, &st);
        if (st != TB_OK)
            return st;
    }
    if (c == ']' || c < 0) {
        r->done = true;
        if (c < 0) {
            /* The array never closed: the file was cut short. */
            tb_reader_begin_row(r, r->src.line, tb_source_offset(&r->src), 0, false);
            r->row.parse = TB_PARSE_JSON;
            snprintf(r->row.parse_message, sizeof r->row.parse_message,
                     "invalid JSON: the array is not closed with ']' (truncated file?)");
        }
        return TB_OK;
    }
    long line = r->src.line;
    int64_t offset = tb_source_offset(&r->src);
    size_t want = LOOKAHEAD, avail = 0;
    size_t bad = 0, bad_at = 0;
    for (;;) {
        st = tb_source_fill(&r->src, want, &avail, err);
        if (st != TB_OK)
            return st;
        json_error_t je;
        json_t *obj = json_loadb(tb_source_peek(&r->src), avail,
                                 JSON_FLAGS | JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &je);
        if (obj) {
            tb_reader_begin_row(r, line, offset, (size_t)je.position, true);
            r->row.bad_utf8 = bad;
            r->row.bad_utf8_at = bad_at;
            tb_source_consume(&r->src, (size_t)je.position);
            return tb_reader_take_object(r, obj, err);
        }
        enum json_error_code code = json_error_code(&je);
        if (code == json_error_premature_end_of_input && !r->src.eof && avail < TB_SOURCE_MAX_RECORD) {
            want = avail * 2;
            continue;
        }
        if (code == json_error_invalid_utf8) {
            /* Repair up to where the parser stopped, so the count belongs to this element;
             * the whole window only when that finds nothing. */
            size_t first = 0, upto = (size_t)je.position + 4;
            size_t n = tb_utf8_repair(tb_source_peek(&r->src), upto < avail ? upto : avail, &first, true);
            if (n == 0)
                n = tb_utf8_repair(tb_source_peek(&r->src), avail, &first, !r->src.eof);
            if (n > 0) {
                if (bad == 0)
                    bad_at = first;
                bad += n;
                continue;
            }
        }
        /* A syntax error inside an array leaves no safe place to resume: report it, stop. */
        tb_reader_begin_row(r, line, offset, 0, true);
        r->row.parse = TB_PARSE_JSON;
        snprintf(r->row.parse_message, sizeof r->row.parse_message,
                 "invalid JSON at line %ld: %s; the rest of the array cannot be read", line + je.line - 1, je.text);
        r->done = true;
        return TB_OK;
    }
}

/* ---- public ------------------------------------------------------------------------- */

static tb_status finish_open(tb_reader *r, const tb_reader_opts *opts, tb_error *err)
{
    if (opts) {
        r->format = opts->format;
        r->shape = opts->shape;
        r->shape_fixed = opts->shape != TB_SHAPE_UNKNOWN;
        if (opts->map) {
            r->map = *opts->map;
            r->has_map = true;
        }
    }
    tb_status s = sniff(r, err);
    if (s == TB_OK && r->format == TB_FORMAT_CSV)
        s = tb_csv_open(r, err);
    return s;
}

/* Both constructors: a file (data NULL) or a memory block. */
static tb_status open_any(tb_reader **out, const char *name, const void *data, size_t len,
                          const tb_reader_opts *opts, tb_error *err)
{
    *out = NULL;
    tb_reader *r = calloc(1, sizeof *r);
    if (!r)
        return tb_error_set(err, TB_ERR_NOMEM, name, 0, NULL, "out of memory");
    snprintf(r->path, sizeof r->path, "%s", name);
    tb_status s = data ? tb_source_open_mem(&r->src, data, len, r->path, err) : tb_source_open_file(&r->src, name, err);
    if (s == TB_OK)
        s = finish_open(r, opts, err);
    if (s != TB_OK) {
        tb_reader_close(r);
        return s;
    }
    *out = r;
    return TB_OK;
}

tb_status tb_reader_open(tb_reader **out, const char *path, const tb_reader_opts *opts, tb_error *err)
{
    return open_any(out, path, NULL, 0, opts, err);
}

tb_status tb_reader_open_mem(tb_reader **out, const void *data, size_t len, const char *name,
                             const tb_reader_opts *opts, tb_error *err)
{
    /* An empty block still goes through the memory path (and is reported empty). */
    return open_any(out, name ? name : "(memory)", data ? data : "", len, opts, err);
}

void tb_reader_close(tb_reader *r)
{
    if (!r)
        return;
    if (r->obj)
        json_decref(r->obj);
    tb_csv_close(r);
    tb_row_free(&r->row);
    tb_source_close(&r->src);
    free(r);
}

tb_status tb_reader_next(tb_reader *r, const tb_row **row, tb_error *err)
{
    *row = NULL;
    r->produced = false;
    while (!r->done && !r->produced) {
        tb_status s;
        switch (r->format) {
        case TB_FORMAT_JSON: s = json_array_next(r, err); break;
        case TB_FORMAT_CSV: s = tb_csv_next(r, err); break;
        default: s = jsonl_next(r, err); break;
        }
        if (s != TB_OK)
            return s;
    }
    if (r->produced) {
        *row = &r->row;
    } else if (r->obj) {
        json_decref(r->obj);
        r->obj = NULL;
    }
    return TB_OK;
}

tb_status tb_reader_seek(tb_reader *r, int64_t offset, long line, long record, long index, tb_error *err)
{
    tb_status s = tb_source_seek(&r->src, offset, line, err);
    if (s != TB_OK)
        return s;
    r->done = false;
    r->next_index = index;
    if (r->format == TB_FORMAT_JSON) {
        r->array_open = true; /* the offset is an element's, past '[' and ',' */
    } else if (r->format == TB_FORMAT_CSV) {
        s = tb_csv_restart(r, err);
        r->next_record = record;
    }
    return s;
}

tb_dataset_format tb_reader_format(const tb_reader *r) { return r->format; }
tb_row_shape tb_reader_shape(const tb_reader *r) { return r->shape; }
double tb_reader_progress(const tb_reader *r) { return r->done ? 1.0 : tb_source_progress(&r->src); }
int64_t tb_reader_size(const tb_reader *r) { return r->src.size; }
const char *tb_reader_path(const tb_reader *r) { return r->path; }
