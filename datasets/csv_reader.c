/* tunebench — CSV datasets through libcsv (RFC 4180: quoted fields, embedded newlines and
 * quotes, a header row naming the columns).
 *
 * libcsv is fed one line at a time so each record knows the line it starts on; a quoted
 * field spanning lines simply keeps the record open. Completed records wait in a small queue
 * (a file with bare CR line ends can complete several per line). Each record becomes a JSON
 * object {column: value} so every row shape and check works the same for CSV. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/reader_impl.h"
#include "datasets/utf8.h"

#define CSV_OPTS (CSV_STRICT | CSV_STRICT_FINI)

/* libcsv trims spaces around unquoted fields by default; the validator must see them. */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

typedef struct csv_queue {
    size_t *ends;  /* field index one past each completed record */
    size_t n, cap;
} csv_queue;

/* The queue lives beside the reader's field arrays; one per reader, freed in tb_csv_close. */
static csv_queue *queue_of(tb_reader *r) { return (csv_queue *)r->csv_queue; }

static void on_field(void *data, size_t len, void *ctx)
{
    tb_reader *r = ctx;
    if (r->csv_failed)
        return;
    if (r->n_fields == r->cap_fields) {
        size_t ncap = r->cap_fields ? r->cap_fields * 2 : 16;
        tb_csv_field *nf = realloc(r->fields, ncap * sizeof *nf);
        if (!nf) {
            r->csv_failed = true;
            return;
        }
        r->fields = nf;
        r->cap_fields = ncap;
    }
    if (r->csv_len + len + 1 > r->csv_cap) {
        size_t ncap = r->csv_cap ? r->csv_cap : 4096;
        while (ncap < r->csv_len + len + 1)
            ncap *= 2;
        char *nb = realloc(r->csv_buf, ncap);
        if (!nb) {
            r->csv_failed = true;
            return;
        }
        r->csv_buf = nb;
        r->csv_cap = ncap;
    }
    if (len)
        memcpy(r->csv_buf + r->csv_len, data, len);
    r->csv_buf[r->csv_len + len] = '\0';
    r->fields[r->n_fields++] = (tb_csv_field){r->csv_len, len};
    r->csv_len += len + 1;
}

static void on_record(int c, void *ctx)
{
    (void)c;
    tb_reader *r = ctx;
    csv_queue *q = queue_of(r);
    if (r->csv_failed)
        return;
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 8;
        size_t *ne = realloc(q->ends, ncap * sizeof *ne);
        if (!ne) {
            r->csv_failed = true;
            return;
        }
        q->ends = ne;
        q->cap = ncap;
    }
    q->ends[q->n++] = r->n_fields;
}

static tb_status parser_init(tb_reader *r, tb_error *err)
{
    if (csv_init(&r->csv, CSV_OPTS) != 0)
        return tb_error_set(err, TB_ERR_NOMEM, r->path, 0, NULL, "out of memory for the CSV parser");
    csv_set_space_func(&r->csv, no_space);
    r->csv_ready = true;
    return TB_OK;
}

static void clear_records(tb_reader *r)
{
    r->n_fields = 0;
    r->csv_len = 0;
    queue_of(r)->n = 0;
    r->in_record = false;
}

/* Drop the first queued record's fields, keeping any later ones. */
static void pop_record(tb_reader *r)
{
    csv_queue *q = queue_of(r);
    size_t k = q->ends[0];
    memmove(r->fields, r->fields + k, (r->n_fields - k) * sizeof *r->fields);
    r->n_fields -= k;
    memmove(q->ends, q->ends + 1, (q->n - 1) * sizeof *q->ends);
    q->n--;
    for (size_t i = 0; i < q->n; i++)
        q->ends[i] -= k;
    if (r->n_fields == 0)
        r->csv_len = 0;
}

/* Feed lines until a record completes, the parser fails, or the input ends.
 * r->record_line / record_offset say where the record began. */
static tb_status feed(tb_reader *r, bool *eof, tb_error *err)
{
    *eof = false;
    while (queue_of(r)->n == 0 && !r->csv_failed) {
        tb_line ln;
        tb_status s = tb_source_read_line(&r->src, &ln, err);
        if (s != TB_OK)
            return s;
        char *line = ln.text;
        size_t len = ln.len;
        if (ln.too_long) {
            r->record_line = ln.lineno;
            r->record_offset = ln.offset;
            r->csv_failed = true;
            r->csv_too_long = len;
            return TB_OK;
        }
        if (!line) {
            if (csv_fini(&r->csv, on_field, on_record, r) != 0)
                r->csv_failed = true;
            *eof = true;
            return TB_OK;
        }
        if (!r->in_record) {
            size_t i = 0;
            while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                i++;
            if (i == len)
                continue; /* blank line between records */
            r->in_record = true;
            r->record_line = ln.lineno;
            r->record_offset = ln.offset;
        }
        const char *term = ln.crlf ? "\r\n" : "\n";
        if (csv_parse(&r->csv, line, len, on_field, on_record, r) != len ||
            csv_parse(&r->csv, term, strlen(term), on_field, on_record, r) != strlen(term))
            r->csv_failed = true;
    }
    return TB_OK;
}

static void trim_name(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] == ' ' || s[i] == '\t')
        i++;
    memmove(s, s + i, n - i + 1);
}

tb_status tb_csv_open(tb_reader *r, tb_error *err)
{
    r->csv_queue = calloc(1, sizeof(csv_queue));
    if (!r->csv_queue)
        return tb_error_set(err, TB_ERR_NOMEM, r->path, 0, NULL, "out of memory");
    tb_status s = parser_init(r, err);
    if (s != TB_OK)
        return s;
    bool eof;
    s = feed(r, &eof, err);
    if (s != TB_OK)
        return s;
    if (r->csv_failed || queue_of(r)->n == 0)
        return tb_error_set(err, TB_ERR_FORMAT, r->path, r->record_line ? r->record_line : 1, NULL,
                            "cannot read the CSV header row%s", r->csv_failed ? " (malformed quoting)" : "");
    size_t n = queue_of(r)->ends[0];
    r->header = calloc(n ? n : 1, sizeof *r->header);
    if (!r->header)
        return tb_error_set(err, TB_ERR_NOMEM, r->path, 1, NULL, "out of memory");
    r->n_header = n;
    for (size_t i = 0; i < n; i++) {
        tb_csv_field f = r->fields[i];
        tb_utf8_repair(r->csv_buf + f.off, f.len, NULL, false);
        r->header[i] = strdup(r->csv_buf + f.off);
        if (!r->header[i])
            return tb_error_set(err, TB_ERR_NOMEM, r->path, 1, NULL, "out of memory");
        trim_name(r->header[i]);
    }
    pop_record(r);
    r->in_record = queue_of(r)->n > 0 || r->n_fields > 0;
    r->next_record = 1;
    return TB_OK;
}

__attribute__((format(printf, 2, 3)))
static void record_error(tb_reader *r, const char *fmt, ...)
{
    r->row.parse = TB_PARSE_CSV;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->row.parse_message, sizeof r->row.parse_message, fmt, ap);
    va_end(ap);
}

tb_status tb_csv_next(tb_reader *r, tb_error *err)
{
    bool eof = false;
    tb_status s = feed(r, &eof, err);
    if (s != TB_OK)
        return s;
    if (r->csv_failed) {
        tb_reader_begin_row(r, r->record_line, r->record_offset, 0, true);
        r->row.record = r->next_record++;
        if (r->csv_too_long)
            record_error(r, "the record is %zu MiB, over the %zu MiB limit; skipped", r->csv_too_long >> 20,
                         TB_SOURCE_MAX_RECORD >> 20);
        else
            record_error(r, "malformed CSV: a quote inside an unquoted field, text after a closing quote, or an "
                            "unterminated quoted field");
        /* Start over on the next line with a fresh parser. */
        csv_free(&r->csv);
        r->csv_ready = false;
        clear_records(r);
        r->csv_failed = false;
        r->csv_too_long = 0;
        if (eof)
            r->done = true;
        return parser_init(r, err);
    }
    if (queue_of(r)->n == 0) {
        r->done = true;
        return TB_OK;
    }
    size_t nf = queue_of(r)->ends[0];
    tb_reader_begin_row(r, r->record_line, r->record_offset, 0, true);
    r->row.record = r->next_record++;
    r->row.bytes = (size_t)(tb_source_offset(&r->src) - r->record_offset);
    json_t *obj = json_object();
    if (!obj)
        return tb_error_set(err, TB_ERR_NOMEM, r->path, r->record_line, NULL, "out of memory");
    for (size_t i = 0; i < nf && i < r->n_header; i++) {
        tb_csv_field f = r->fields[i];
        char *text = r->csv_buf + f.off;
        size_t first = 0, bad = tb_utf8_repair(text, f.len, &first, false);
        if (bad && r->row.bad_utf8 == 0) {
            r->row.bad_utf8_at = first;
            snprintf(r->row.bad_utf8_field, sizeof r->row.bad_utf8_field, "%s", r->header[i]);
        }
        r->row.bad_utf8 += bad;
        json_object_set_new(obj, r->header[i], json_stringn(text, f.len));
    }
    if (nf != r->n_header)
        record_error(r, "the record has %zu fields, the header has %zu", nf, r->n_header);
    pop_record(r);
    /* Lines after this record belong to the next one only once they hold data. */
    r->in_record = queue_of(r)->n > 0 || r->n_fields > 0;
    if (eof && queue_of(r)->n == 0)
        r->done = true;
    return tb_reader_take_object(r, obj, err);
}

tb_status tb_csv_restart(tb_reader *r, tb_error *err)
{
    if (r->csv_ready)
        csv_free(&r->csv);
    r->csv_ready = false;
    clear_records(r);
    r->csv_failed = false;
    r->csv_too_long = 0;
    return parser_init(r, err);
}

void tb_csv_close(tb_reader *r)
{
    if (r->csv_ready)
        csv_free(&r->csv);
    r->csv_ready = false;
    for (size_t i = 0; i < r->n_header; i++)
        free(r->header[i]);
    free(r->header);
    r->header = NULL;
    r->n_header = 0;
    free(r->fields);
    free(r->csv_buf);
    r->fields = NULL;
    r->csv_buf = NULL;
    if (r->csv_queue)
        free(queue_of(r)->ends);
    free(r->csv_queue);
    r->csv_queue = NULL;
}
