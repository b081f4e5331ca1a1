/* tunebench — what a check module sees: the class it fills in and the validation context it
 * reports through. Internal to validators/ (the public face is validate.h).
 *
 * A check is a small module: a name, a severity, a fix hint, and up to four functions.
 * row() sees every record in file order (unparseable ones too: they have no texts);
 * finish() runs after the pass, when statistics exist, for checks that compare a row with
 * the whole dataset. State is per run (init/destroy), so two validations can run at once. */
#ifndef TB_VALIDATORS_CHECK_H
#define TB_VALIDATORS_CHECK_H

#include <stdarg.h>

#include "datasets/row.h"
#include "validators/hashmap.h"
#include "validators/validate.h"

typedef struct tb_vctx tb_vctx;

typedef struct tb_check_class {
    const char *name;
    tb_severity severity;
    const char *about;
    const char *hint;
    tb_status (*init)(void **state, const tb_validate_opts *opts, tb_error *err); /* NULL: stateless */
    void (*row)(void *state, tb_vctx *ctx, const tb_row *row);
    void (*finish)(void *state, tb_vctx *ctx);
    void (*destroy)(void *state);
} tb_check_class;

/* Where each row was: kept for every row so finish() can point at one. 16 bytes a row. */
typedef struct tb_rowloc {
    int64_t offset;
    uint32_t line;
    uint32_t record;
} tb_rowloc;

/* Facts the driver derives once per row and the checks share. */
typedef struct tb_row_facts {
    uint64_t key;        /* duplicate key: normalized instruction + input (or the conversation) */
    bool has_key;
    long dup_of;         /* first row with the same key, -1 */
    uint32_t len[TB_STAT_COUNT]; /* characters (tokens for TB_STAT_TOKENS); TB_LEN_ABSENT */
    long trained_tokens; /* tokens of the response (estimate or exact) */
    bool renderable;     /* the template could render it */
} tb_row_facts;

struct tb_vctx {
    const tb_validate_opts *opts;
    tb_report *report;
    int check;                 /* the check running now */
    tb_row_facts facts;        /* of the row being checked */
    tb_rowloc *locs;           /* (rows) */
    uint32_t *lens[TB_STAT_COUNT]; /* (rows) per-row lengths, TB_LEN_ABSENT when none */
    long n_rows, cap_rows;
    tb_map64 keys;             /* duplicate key → first row */
    const tb_field_map *map;
    bool oom;                  /* a check could not grow its state */
    unsigned char *seen[TB_CHECK_MAX]; /* (rows/8) bitmaps: rows already counted per check */
    size_t seen_bytes;
    long last_eval_row[TB_CHECK_MAX];
    long seq;
    tb_error eval_error;       /* the --eval file could not be read (leakage) */
};

/* Report a finding about `row` (the current one) in `field`; span = offending bytes of that
 * field's text (0, 0 when none). printf-style message. */
void tb_vctx_emit(tb_vctx *ctx, const tb_row *row, const char *field, size_t span_off, size_t span_len,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* The same with an explicit severity (user rules). */
void tb_vctx_emit_sev(tb_vctx *ctx, tb_severity sev, const tb_row *row, const char *field, size_t span_off,
                      size_t span_len, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* A finding about an earlier row by index (finish()), located from ctx->locs. */
void tb_vctx_emit_at(tb_vctx *ctx, long row, const char *field, size_t span_off, size_t span_len, const char *fmt,
                     ...) __attribute__((format(printf, 6, 7)));
/* A finding about a row of the --eval file (leakage). */
void tb_vctx_emit_eval(tb_vctx *ctx, const tb_row *eval_row, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void tb_vctx_vemit(tb_vctx *ctx, tb_severity sev, long row, long line, long record, int64_t offset, bool in_eval,
                   const char *field, size_t span_off, size_t span_len, const char *fmt, va_list ap)
    __attribute__((format(printf, 11, 0)));

/* Sort findings: file-level, then by row, check, emission (the driver calls it once). */
void tb_report_sort(tb_report *r);

/* Line of an earlier row. */
long tb_vctx_line(const tb_vctx *ctx, long row);

/* Duplicate key of a row as the driver computes it (also used for --eval rows). */
bool tb_row_key(const tb_row *row, uint64_t *key);

/* The registry (registry.c), in report order. */
extern const tb_check_class *const tb_check_classes[];

/* Text helpers the checks share (text_util.c). */
bool tb_is_blank(const char *s, size_t n);
/* s trimmed of ASCII whitespace, compared case-insensitively with `word`. */
bool tb_trimmed_equals_ci(const char *s, size_t n, const char *word);
/* An input that stands for "no input" (<noinput>, No input, N/A). */
bool tb_is_placeholder_input(const char *s, size_t n);
/* An output that is no output: blank, N/A, <No Output>. */
bool tb_is_empty_output(const char *s, size_t n);
/* Printable excerpt of s[off, off+len) for messages: newlines as ⏎, cut to max bytes. */
void tb_excerpt(char *out, size_t size, const char *s, size_t off, size_t len, size_t max);

#endif
