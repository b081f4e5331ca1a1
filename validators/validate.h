/* tunebench — validate a dataset: stream its rows through every check, gather findings,
 * length statistics and (optionally) write a cleaned copy.
 *
 * The pure library function behind both the Data screen and `tunebench validate`
 * (DESIGN.md §1). One pass over the file; memory grows with the number of rows' hashes
 * (exact-duplicate keys, MinHash signatures, a few bytes of lengths per row), never with
 * the file size. Findings are kept up to a cap per check; the counts are always complete. */
#ifndef TB_VALIDATORS_VALIDATE_H
#define TB_VALIDATORS_VALIDATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "datasets/row.h"
#include "datasets/template.h"
#include "engine/core/error.h"
#include "validators/stats.h"

typedef enum tb_severity { TB_SEV_ERROR = 0, TB_SEV_WARNING, TB_SEV_INFO, TB_SEV_COUNT } tb_severity;

const char *tb_severity_name(tb_severity s); /* "error", "warning", "info" */
bool tb_severity_parse(const char *name, tb_severity *out);

typedef struct tb_finding {
    int check;            /* index into the registry (tb_check_name) */
    tb_severity severity; /* the check's, or a user rule's own */
    long row;             /* 0-based row index; -1 for a finding about the whole file */
    long line;            /* 1-based line of the row (0 when none) */
    long record;          /* CSV record number, 0 otherwise */
    int64_t offset;       /* byte offset of the row in its file (to read it again) */
    bool in_eval;         /* about a row of the --eval file (leakage) */
    char field[64];       /* field as named in the file, "" when the whole row */
    uint32_t span_off, span_len; /* the offending bytes within that field's text; 0,0 = none */
    const char *message;  /* owned by the report */
    long seq;             /* emission order (ties in sorting) */
} tb_finding;

typedef enum tb_stat_field { TB_STAT_INSTRUCTION = 0, TB_STAT_INPUT, TB_STAT_OUTPUT, TB_STAT_TOKENS, TB_STAT_COUNT } tb_stat_field;
const char *tb_stat_field_name(tb_stat_field f); /* "instruction", "input", "output", "tokens" */

#define TB_CHECK_MAX 32

typedef struct tb_check_summary {
    long count;           /* findings, all of them */
    long rows;            /* distinct rows affected */
    long stored;          /* findings kept in the report (capped) */
} tb_check_summary;

typedef struct tb_fix_summary {
    bool done;
    char path[4096];
    long written, dropped_duplicates, dropped_unparseable, trimmed_fields, emptied_inputs;
} tb_fix_summary;

typedef struct tb_report_arena tb_report_arena;

typedef struct tb_report {
    char path[4096];
    char eval_path[4096];
    tb_dataset_format format;
    tb_row_shape shape;
    long rows;            /* records read, unparseable ones included */
    long parsed_rows;
    long eval_rows;
    int64_t bytes;
    double seconds;
    tb_check_summary checks[TB_CHECK_MAX];
    long by_severity[TB_SEV_COUNT];
    tb_finding *findings; /* sorted: file-level first, then by row, then by check */
    long n_findings, cap_findings;
    tb_length_stats stats[TB_STAT_COUNT];  /* characters; tokens in tokens */
    tb_histogram hist[TB_STAT_COUNT];
    bool tokens_exact;    /* false: tokens are an estimate (bytes / 4) */
    char token_note[256]; /* how tokens were counted, for people */
    long max_tokens;
    double near_threshold;
    tb_fix_summary fix;
    tb_report_arena *arena;
} tb_report;

typedef void (*tb_progress_fn)(void *ctx, double fraction, long rows);

typedef struct tb_validate_opts {
    const char *path;
    const char *eval_path;      /* leakage: rows of this file that repeat a training row */
    tb_dataset_format format;   /* AUTO: sniffed */
    const tb_field_map *map;    /* NULL: canonical names */
    const char *rules_path;     /* user PCRE2 rules, NULL for none */
    long max_tokens;            /* token_length fires above this; 0: off */
    double near_threshold;      /* dup_near Jaccard threshold (default 0.8) */
    const char *model_dir;      /* tokenizer.json from here, or */
    const char *tokenizer_path; /* this file, for exact token counts */
    tb_template_kind template_kind; /* prompt template for token counts (AUTO: by shape) */
    const char *fix_path;       /* write a cleaned JSONL here (never the input) */
    long max_findings;          /* kept per check; 0: all (default 1000) */
    tb_progress_fn progress;    /* called every few thousand rows (from the calling thread) */
    void *progress_ctx;
    atomic_bool *cancel;        /* set to stop early: TB_ERR_CANCELLED */
} tb_validate_opts;

void tb_validate_opts_init(tb_validate_opts *o);

/* Run. *out is filled (free with tb_report_free, also after a failure). Fails with
 * TB_ERR_IO / TB_ERR_FORMAT for unusable input (missing, unreadable, empty, not a dataset),
 * TB_ERR_INVALID for bad options (rules file, fix path = input), TB_ERR_CANCELLED. */
tb_status tb_validate(const tb_validate_opts *opts, tb_report *out, tb_error *err);
void tb_report_free(tb_report *r);

/* Counting helpers. */
long tb_report_errors(const tb_report *r);   /* findings with severity error */
/* The JSON document of `tunebench validate --json` (caller json_decref's). */
struct json_t;
struct json_t *tb_report_to_json(const tb_report *r);

/* ---- the check registry ----------------------------------------------------------------- */

int tb_check_count(void);
const char *tb_check_name(int check);
tb_severity tb_check_severity(int check);
const char *tb_check_hint(int check);   /* what to do about it */
const char *tb_check_about(int check);  /* what it looks for, one line */
int tb_check_find(const char *name);     /* -1 when unknown */

#endif
