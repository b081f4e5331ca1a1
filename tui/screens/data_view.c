/* tunebench — drawing the Data screen, and composing the example view of a finding. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "datasets/reader.h"
#include "tui/app.h"
#include "tui/screens/data_screen.h"
#include "tui/widgets/draw.h"
#include "tui/widgets/histogram.h"
#include "tui/widgets/progress.h"

static tb_role sev_role(tb_severity s) { return s == TB_SEV_ERROR ? TB_ROLE_ERROR : s == TB_SEV_WARNING ? TB_ROLE_WARN : TB_ROLE_INFO; }

/* ---- the example view ------------------------------------------------------------------ */

typedef struct buf {
    char *s;
    size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns)
            return;
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void span(data_screen *d, size_t off, size_t len, tb_role role)
{
    if (d->n_spans < (int)(sizeof d->spans / sizeof d->spans[0]) && len > 0)
        d->spans[d->n_spans++] = (tb_span){off, len, role};
}

/* A record that did not parse: show its raw bytes (up to 8 KiB). */
static void raw_record(buf *b, const char *path, int64_t offset)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return;
    char raw[8192];
    size_t n = 0;
    if (fseeko(fp, (off_t)offset, SEEK_SET) == 0)
        n = fread(raw, 1, sizeof raw, fp);
    fclose(fp);
    const char *nl = memchr(raw, '\n', n);
    put(b, "the record as written:\n", 23);
    put(b, raw, nl ? (size_t)(nl - raw) : n);
    put(b, "\n", 1);
}

void tb_data_close_detail(data_screen *d)
{
    free(d->detail_text);
    d->detail_text = NULL;
    d->detail_len = 0;
    d->n_spans = 0;
    d->detail_open = false;
}

void tb_data_open_detail(data_screen *d)
{
    int fi = tb_data_cursor_finding(d);
    if (fi < 0)
        return;
    const tb_finding *f = &d->rep.findings[fi];
    tb_data_close_detail(d);
    buf b = {0};
    size_t reveal = 0;
    size_t at = b.n;
    putf(&b, "%s (%s), row %ld, line %ld%s\n", tb_check_name(f->check), tb_severity_name(f->severity), f->row,
         f->line, f->in_eval ? " of the eval file" : "");
    span(d, at, b.n - at, TB_ROLE_LABEL);
    at = b.n;
    putf(&b, "%s\n", f->message);
    span(d, at, b.n - at, sev_role(f->severity));
    at = b.n;
    putf(&b, "What to do: %s\n\n", tb_check_hint(f->check));
    span(d, at, b.n - at, TB_ROLE_DIM);

    const char *path = f->in_eval ? d->rep.eval_path : d->rep.path;
    tb_reader_opts ro = {.format = f->in_eval ? TB_FORMAT_AUTO : d->rep.format};
    tb_reader *r = NULL;
    tb_error err;
    const tb_row *row = NULL;
    if (tb_reader_open(&r, path, &ro, &err) == TB_OK && tb_reader_seek(r, f->offset, f->line, f->record, f->row, &err) == TB_OK)
        tb_reader_next(r, &row, &err);
    bool shown = false;
    if (!row || row->parse != TB_PARSE_OK || row->n_texts == 0) {
        if (row && row->parse != TB_PARSE_OK)
            putf(&b, "%s\n\n", row->parse_message);
        raw_record(&b, path, f->offset);
    } else {
        for (int i = 0; i < row->n_texts; i++) {
            const tb_text *t = &row->texts[i];
            at = b.n;
            if (t->role)
                putf(&b, "%s  (%s)\n", t->field, t->role);
            else
                putf(&b, "%s\n", t->field);
            span(d, at, b.n - at, TB_ROLE_LABEL);
            size_t base = b.n;
            put(&b, t->text, t->len);
            if (strcmp(t->field, f->field) == 0) {
                shown = true;
                bool part = f->span_len > 0 && (size_t)f->span_off + f->span_len <= t->len;
                span(d, part ? base + f->span_off : base, part ? f->span_len : t->len, part ? TB_ROLE_SELECTED : TB_ROLE_ACCENT);
                reveal = part ? base + f->span_off : base;
            }
            put(&b, "\n\n", 2);
        }
        if (f->field[0] && !shown) {
            at = b.n;
            putf(&b, "('%s' is not in this row)\n", f->field);
            span(d, at, b.n - at, TB_ROLE_WARN);
        }
    }
    if (!row && err.status != TB_OK) {
        char msg[1024];
        putf(&b, "cannot read the row again: %s\n", tb_error_format(&err, msg, sizeof msg));
    }
    tb_reader_close(r);
    d->detail_text = b.s;
    d->detail_len = b.n;
    d->detail_open = b.s != NULL;
    tb_textview_set(&d->tv, d->detail_text, d->detail_len, d->spans, d->n_spans);
    d->tv.top = 0;
    d->tv_reveal = reveal;
}

/* ---- drawing ---------------------------------------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void draw_status(data_screen *d, WINDOW *win, int w)
{
    if (d->running) {
        char label[300];
        long rows = atomic_load(&d->progress_rows);
        const char *name = strrchr(d->job_path, '/');
        snprintf(label, sizeof label, "%s %s: %ld rows (Esc stops)", d->job_fix ? "writing the fixed copy of" : "checking",
                 name ? name + 1 : d->job_path, rows);
        tb_draw_progress(win, 1, 1, w - 2, (double)atomic_load(&d->progress_ppm) / 1e6, now_s() - d->started, label);
        return;
    }
    if (d->status[0]) {
        tb_draw_text(win, 1, 1, w - 2, TB_ROLE_WARN, d->status);
        return;
    }
    if (!d->have) {
        tb_draw_text(win, 1, 1, w - 2, TB_ROLE_DIM,
                     "No dataset loaded: press o, type a path (Tab completes), Enter. JSONL, JSON or CSV.");
        return;
    }
    const tb_report *r = &d->rep;
    int x = 1;
    x += tb_draw_textf(win, 1, x, w - x, TB_ROLE_NORMAL, "%ld rows  %s  %s  ", r->rows, tb_format_name(r->format),
                       tb_shape_name(r->shape));
    long e = r->by_severity[TB_SEV_ERROR], wn = r->by_severity[TB_SEV_WARNING];
    x += tb_draw_textf(win, 1, x, w - x, e ? TB_ROLE_ERROR : TB_ROLE_GOOD, "%ld error%s", e, e == 1 ? "" : "s");
    x += tb_draw_textf(win, 1, x, w - x, TB_ROLE_NORMAL, ", ");
    x += tb_draw_textf(win, 1, x, w - x, wn ? TB_ROLE_WARN : TB_ROLE_GOOD, "%ld warning%s", wn, wn == 1 ? "" : "s");
    tb_draw_textf(win, 1, x, w - x, TB_ROLE_DIM, "  %.2f s%s", r->seconds,
                  r->eval_path[0] ? "  (with --eval leakage)" : "");
}

static const char *filter_name(int sev) { return sev < 0 ? "all" : tb_severity_name((tb_severity)sev); }

/* The last column takes what the window leaves (the table draws fixed widths). */
static void fit_last_column(tb_table_column *cols, int n, int w)
{
    int x = 2; /* the table's gutter */
    for (int c = 0; c < n - 1; c++)
        x += cols[c].width + 1;
    int rest = w - 1 - x;
    cols[n - 1].width = rest > 8 ? rest : 8;
}

/* Checks on top (one row each, up to half the room), findings below at full width:
 * messages need the width more than the summary does. */
static void draw_findings_mode(data_screen *d, WINDOW *win, int y, int h, int w)
{
    int ch = d->n_check_rows + 3;
    if (ch > h / 2)
        ch = h / 2;
    if (ch < 5)
        ch = 5;
    tb_draw_box(win, y, 0, ch, w, d->focus == DF_CHECKS ? TB_ROLE_ACCENT : TB_ROLE_BORDER, "Checks");
    d->checks_at = (data_rect){y + 1, 1, ch - 2, w - 2};
    fit_last_column(d->check_cols, 5, w - 2);
    tb_table_draw(&d->checks, win, y + 1, 1, ch - 2, w - 2);
    int fy = y + ch, fh = h - ch;
    char title[128];
    snprintf(title, sizeof title, "Findings: %d shown, severity %s, %s", d->n_shown, filter_name(d->sev_filter),
             d->check_filter >= 0 ? tb_check_name(d->check_filter) : "all checks");
    tb_draw_box(win, fy, 0, fh, w, d->focus == DF_FINDINGS ? TB_ROLE_ACCENT : TB_ROLE_BORDER, title);
    d->findings_at = (data_rect){fy + 1, 1, fh - 2, w - 2};
    if (d->rep.n_findings == 0) {
        tb_draw_text(win, fy + 1, 2, w - 4, TB_ROLE_GOOD, "No findings: every check passed.");
        return;
    }
    fit_last_column(d->finding_cols, 5, w - 2);
    tb_table_draw(&d->findings, win, fy + 1, 1, fh - 2, w - 2);
    long listed = 0, total = 0;
    for (int c = 0; c < tb_check_count(); c++) {
        listed += d->rep.checks[c].stored;
        total += d->rep.checks[c].count;
    }
    if (total > listed)
        tb_draw_textf(win, fy + fh - 1, 2, w - 4, TB_ROLE_DIM, " %ld more not listed (1000 per check) ", total - listed);
}

static void draw_lengths_mode(data_screen *d, WINDOW *win, int y, int h, int w)
{
    const tb_report *r = &d->rep;
    tb_draw_box(win, y, 0, h, w, TB_ROLE_BORDER, "Lengths in characters (tokens: see below)");
    int row = y + 1;
    tb_draw_textf(win, row++, 2, w - 4, TB_ROLE_LABEL, "%-12s %8s %8s %8s %8s %8s %9s %9s", "", "min", "p10", "median",
                  "p90", "max", "mean", "stddev");
    for (int f = 0; f < TB_STAT_COUNT; f++) {
        const tb_length_stats *s = &r->stats[f];
        if (s->n == 0)
            continue;
        tb_draw_textf(win, row++, 2, w - 4, TB_ROLE_NORMAL, "%-12s %8.0f %8.0f %8.0f %8.0f %8.0f %9.1f %9.1f",
                      tb_stat_field_name((tb_stat_field)f), s->min, s->p10, s->median, s->p90, s->max, s->mean,
                      s->stddev);
    }
    tb_draw_textf(win, row++, 2, w - 4, TB_ROLE_DIM, "tokens: %s (prompt template %s)", r->token_note,
                  tb_template_name(tb_template_default(r->shape)));
    int hy = row + 1, hh = y + h - 1 - hy;
    int half = (w - 4) / 2;
    tb_draw_histogram(win, hy, 2, hh, half - 2, &r->hist[TB_STAT_INSTRUCTION],
                      r->shape == TB_SHAPE_CHAT || r->shape == TB_SHAPE_SHAREGPT ? "user turns" : "instruction",
                      TB_ROLE_SERIES1);
    tb_draw_histogram(win, hy, 2 + half, hh, half - 2, &r->hist[TB_STAT_OUTPUT],
                      r->shape == TB_SHAPE_CHAT || r->shape == TB_SHAPE_SHAREGPT ? "assistant turns" : "output",
                      TB_ROLE_SERIES2);
}

static void draw_detail(data_screen *d, WINDOW *win, int y, int h, int w)
{
    for (int r = 0; r < h; r++)
        tb_draw_fill(win, y + r, 0, w, TB_ROLE_NORMAL);
    tb_draw_box(win, y, 0, h, w, TB_ROLE_ACCENT, "Example");
    int ih = h - 3;
    if (d->tv.width != w - 4) {
        tb_textview_layout(&d->tv, w - 4);
        d->tv.page = ih;
        if (d->tv_reveal)
            tb_textview_reveal(&d->tv, d->tv_reveal);
    }
    tb_textview_draw(&d->tv, win, y + 1, 2, ih, w - 4, TB_ROLE_NORMAL);
    tb_draw_textf(win, y + h - 2, 2, w - 4, TB_ROLE_DIM, "Esc back   ↑/↓ PgUp/PgDn scroll   line %d of %d",
                  d->tv.top + 1, d->tv.n_lines);
}

static void draw_fix_dialog(data_screen *d, WINDOW *win, int h, int w)
{
    int bw = w - 8 < 76 ? w - 8 : 76, bh = 8;
    int y = (h - bh) / 2, x = (w - bw) / 2;
    for (int r = 0; r < bh; r++)
        tb_draw_fill(win, y + r, x, bw, TB_ROLE_DIALOG);
    tb_draw_box(win, y, x, bh, bw, TB_ROLE_DIALOG, NULL);
    tb_draw_text(win, y, x + 2, bw - 4, TB_ROLE_DIALOG_TITLE, " Fix and save as ");
    tb_draw_wrapped(win, y + 1, x + 2, bw - 4, 2, TB_ROLE_DIALOG,
                    "A cleaned JSONL copy: exact duplicates dropped, whitespace trimmed, placeholder inputs "
                    "emptied. The input file is never changed.");
    tb_pathentry_draw(&d->fix_path, win, y + 4, x + 2, bw - 4, true);
    tb_draw_text(win, y + 5, x + 2, bw - 4, TB_ROLE_DIM, d->fix_path.hint);
    tb_draw_text(win, y + bh - 2, x + bw - 30, 28, TB_ROLE_DIALOG_TITLE, "[Enter] save   [Esc] cancel");
}

void tb_data_draw(data_screen *d, WINDOW *win, int h, int w)
{
    tb_draw_text(win, 0, 1, 6, TB_ROLE_LABEL, "File");
    tb_pathentry_draw(&d->path, win, 0, 6, w - 7, d->focus == DF_PATH);
    draw_status(d, win, w);
    if (d->focus == DF_PATH) {
        tb_draw_text(win, 2, 6, w - 7, TB_ROLE_DIM,
                     d->path.hint[0] ? d->path.hint : "Enter load   Tab complete   Esc back   Ctrl-U clear");
    }
    int y = 3, ph = h - y - 2; /* two rows below the panes: the selection's message and hint */
    if (d->have && ph >= 6) {
        if (d->detail_open)
            draw_detail(d, win, 2, h - 2, w);
        else if (d->mode == DV_LENGTHS)
            draw_lengths_mode(d, win, y, ph + 1, w);
        else
            draw_findings_mode(d, win, y, ph, w);
    }
    if (d->have && !d->detail_open && d->mode == DV_FINDINGS) {
        int fi = tb_data_cursor_finding(d);
        if (fi >= 0 && d->focus == DF_FINDINGS) {
            const tb_finding *f = &d->rep.findings[fi];
            tb_draw_text(win, h - 2, 1, w - 2, sev_role(f->severity), f->message);
            tb_draw_textf(win, h - 1, 1, w - 2, TB_ROLE_DIM, "What to do: %s", tb_check_hint(f->check));
        } else if (d->focus == DF_CHECKS) {
            int r = tb_table_cursor_row(&d->checks);
            int c = r >= 0 ? d->check_rows[r] : -1;
            tb_draw_text(win, h - 2, 1, w - 2, TB_ROLE_NORMAL,
                         c >= 0 ? tb_check_about(c) : "Every check; pick one to see only its findings.");
            if (c >= 0)
                tb_draw_textf(win, h - 1, 1, w - 2, TB_ROLE_DIM, "What to do: %s", tb_check_hint(c));
        }
    }
    if (d->fix_open)
        draw_fix_dialog(d, win, h, w);
}
