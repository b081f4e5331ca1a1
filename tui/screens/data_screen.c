/* tunebench — the Data screen: open a dataset, see what is wrong with it, fix it.
 * Summary by check on the left, findings on the right (sortable, filterable), Enter shows the
 * example with the offending part highlighted, h the length histograms, x writes a cleaned
 * copy. The logic is validators/validate.c, shared with `tunebench validate`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/fs.h"
#include "tb_config.h"
#include "tui/app.h"
#include "tui/screens/data_screen.h"
#include "tui/screens/screens.h"

#define KEY_ESC 27

static const tb_key_help keys[] = {
    {"o", "open a dataset file (Tab completes the path)", "Open"},
    {"←/→", "switch between the check summary and the findings", NULL},
    {"↑/↓ PgUp/PgDn", "move in the list; the summary filters the findings by check", NULL},
    {"Enter", "show the example with the offending part highlighted", "Show"},
    {"f", "filter the findings by severity: all, errors, warnings, info", "Filter"},
    {"< / >", "sort the findings by the previous / next column (a header click too)", "Sort"},
    {"I", "invert the sort order", NULL},
    {"h", "length histograms and statistics (h again: findings)", "Lengths"},
    {"x", "fix and save as... (drops duplicates, trims whitespace, empties placeholder inputs)", "Fix"},
    {"Esc", "close the example; stop a running validation", NULL},
    {0},
};

/* Widths are set for the window at each draw (tb_data_draw); these are the starting ones. */
static const tb_table_column check_cols[] = {
    {"Check", 19, false}, {"Sev", 5, false}, {"Count", 6, true}, {"Rows", 6, true}, {"Looks for", 30, false},
};
static const tb_table_column finding_cols[] = {
    {"Line", 5, true}, {"Sev", 5, false}, {"Check", 19, false}, {"Field", 12, false}, {"Message", 40, false},
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- tables ---------------------------------------------------------------------------- */

static const char *sev_short(tb_severity s) { return s == TB_SEV_ERROR ? "error" : s == TB_SEV_WARNING ? "warn" : "info"; }

static tb_role sev_role(tb_severity s) { return s == TB_SEV_ERROR ? TB_ROLE_ERROR : s == TB_SEV_WARNING ? TB_ROLE_WARN : TB_ROLE_INFO; }

static void check_cell(void *ctx, int row, int col, char *buf, size_t size, tb_role *role)
{
    data_screen *d = ctx;
    int c = d->check_rows[row];
    const tb_report *r = &d->rep;
    if (c < 0) {
        long n = 0;
        for (int k = 0; k < tb_check_count(); k++)
            n += r->checks[k].count;
        if (col == 0)
            snprintf(buf, size, "all checks");
        else if (col == 2)
            snprintf(buf, size, "%ld", n);
        else if (col == 4)
            snprintf(buf, size, "every check; pick one to see only its findings");
        return;
    }
    const tb_check_summary *cs = &r->checks[c];
    long base = strcmp(tb_check_name(c), "leakage") == 0 ? r->eval_rows : r->rows;
    switch (col) {
    case 0: snprintf(buf, size, "%s", tb_check_name(c)); break;
    case 1:
        snprintf(buf, size, "%s", sev_short(tb_check_severity(c)));
        *role = sev_role(tb_check_severity(c));
        break;
    case 2: snprintf(buf, size, "%ld", cs->count); break;
    case 3: snprintf(buf, size, "%.1f%%", base ? 100.0 * (double)cs->rows / (double)base : 0.0); break;
    default:
        snprintf(buf, size, "%s", tb_check_about(c));
        *role = TB_ROLE_DIM;
        break;
    }
}

/* The checks table keeps the report's order (errors and structure first). */
static int check_compare(void *ctx, int a, int b, int col)
{
    (void)ctx;
    (void)col;
    return (a > b) - (a < b);
}

static const tb_finding *shown_finding(const data_screen *d, int row) { return &d->rep.findings[d->shown[row]]; }

static void finding_cell(void *ctx, int row, int col, char *buf, size_t size, tb_role *role)
{
    const tb_finding *f = shown_finding(ctx, row);
    switch (col) {
    case 0:
        snprintf(buf, size, f->in_eval ? "e%ld" : "%ld", f->line);
        *role = TB_ROLE_DIM;
        break;
    case 1:
        snprintf(buf, size, "%s", sev_short(f->severity));
        *role = sev_role(f->severity);
        break;
    case 2: snprintf(buf, size, "%s", tb_check_name(f->check)); break;
    case 3: snprintf(buf, size, "%s", f->field); break;
    default: snprintf(buf, size, "%s", f->message); break;
    }
    /* One line per row: newlines and tabs in a cell become spaces. */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

static int finding_compare(void *ctx, int a, int b, int col)
{
    const tb_finding *x = shown_finding(ctx, a), *y = shown_finding(ctx, b);
    switch (col) {
    case 0:
        if (x->in_eval != y->in_eval)
            return x->in_eval ? 1 : -1;
        return (x->line > y->line) - (x->line < y->line);
    case 1: return (int)x->severity - (int)y->severity;
    case 2: return strcmp(tb_check_name(x->check), tb_check_name(y->check));
    case 3: return strcmp(x->field, y->field);
    default: return strcmp(x->message, y->message);
    }
}

/* The finding under the cursor, -1 when none. */
int tb_data_cursor_finding(const data_screen *d)
{
    int row = tb_table_cursor_row(&d->findings);
    return row >= 0 && row < d->n_shown ? d->shown[row] : -1;
}

/* Rebuild the findings table for the check and severity filters, keeping the cursor on the
 * same finding when it still passes. */
static void apply_filters(data_screen *d)
{
    int r = tb_table_cursor_row(&d->checks);
    d->check_filter = r >= 0 ? d->check_rows[r] : -1;
    int keep = tb_data_cursor_finding(d);
    d->n_shown = 0;
    for (long i = 0; i < d->rep.n_findings; i++) {
        const tb_finding *f = &d->rep.findings[i];
        if ((d->check_filter < 0 || f->check == d->check_filter) && (d->sev_filter < 0 || (int)f->severity == d->sev_filter))
            d->shown[d->n_shown++] = (int)i;
    }
    tb_table_set_rows(&d->findings, 0); /* the rows are other findings now */
    tb_table_set_rows(&d->findings, d->n_shown);
    for (int k = 0; k < d->n_shown && keep >= 0; k++)
        if (d->shown[k] == keep)
            tb_table_move_to_row(&d->findings, k);
}

static bool rebuild_tables(data_screen *d)
{
    d->n_check_rows = 0;
    d->check_rows[d->n_check_rows++] = -1;
    for (int c = 0; c < tb_check_count() && c < TB_CHECK_MAX; c++)
        if (d->rep.checks[c].count > 0)
            d->check_rows[d->n_check_rows++] = c;
    free(d->shown);
    d->shown = malloc((size_t)(d->rep.n_findings ? d->rep.n_findings : 1) * sizeof *d->shown);
    if (!d->shown)
        return false;
    tb_table_set_rows(&d->checks, 0);
    tb_table_set_rows(&d->checks, d->n_check_rows);
    tb_table_set_rows(&d->findings, 0);
    apply_filters(d);
    return true;
}

/* ---- the job ----------------------------------------------------------------------------- */

static void on_progress(void *ctx, double fraction, long rows)
{
    data_screen *d = ctx;
    atomic_store(&d->progress_ppm, (long)(fraction * 1e6));
    atomic_store(&d->progress_rows, rows);
}

static void *job_main(void *arg)
{
    data_screen *d = arg;
    d->job_status = tb_validate(&d->job_opts, &d->job_report, &d->job_err);
    atomic_store(&d->done, true);
    return NULL;
}

static void start_job(data_screen *d, const char *path, const char *fix_path)
{
    if (d->running)
        return;
    snprintf(d->job_path, sizeof d->job_path, "%s", path);
    tb_validate_opts_init(&d->job_opts);
    d->job_opts.path = d->job_path;
    d->job_opts.progress = on_progress;
    d->job_opts.progress_ctx = d;
    d->job_opts.cancel = &d->cancel;
    d->job_fix = fix_path != NULL;
    /* Exact token counts when the session's model has a tokenizer (estimates otherwise). */
    const char *md = d->base.app->session.model_dir;
    char tok[4096];
    if (md[0] && tb_path_join(tok, sizeof tok, md, "tokenizer.json") && tb_path_exists(tok)) {
        snprintf(d->job_model, sizeof d->job_model, "%s", md);
        d->job_opts.model_dir = d->job_model;
    }
    if (fix_path) {
        snprintf(d->job_fix_path, sizeof d->job_fix_path, "%s", fix_path);
        d->job_opts.fix_path = d->job_fix_path;
        d->job_opts.format = d->rep.format;
    }
    atomic_store(&d->done, false);
    atomic_store(&d->cancel, false);
    atomic_store(&d->progress_ppm, 0);
    atomic_store(&d->progress_rows, 0);
    tb_error_clear(&d->job_err);
    d->started = now_s();
    if (pthread_create(&d->thread, NULL, job_main, d) != 0) {
        tb_app_error(d->base.app, "Cannot validate", "could not start a worker thread");
        return;
    }
    d->running = true;
}

static void finish_job(data_screen *d)
{
    pthread_join(d->thread, NULL);
    d->running = false;
    tb_app *app = d->base.app;
    if (d->job_status != TB_OK) {
        tb_report_free(&d->job_report);
        if (d->job_status == TB_ERR_CANCELLED) {
            snprintf(d->status, sizeof d->status, "stopped: %s was not read to the end", d->job_path);
            return;
        }
        char msg[2048];
        tb_app_error(app, d->job_fix ? "Cannot write the fixed copy" : "Cannot read the dataset", "%s",
                     tb_error_format(&d->job_err, msg, sizeof msg));
        return;
    }
    if (d->job_fix) {
        const tb_fix_summary *fx = &d->job_report.fix;
        tb_app_info(app, "Fixed copy saved",
                    "Wrote %ld rows to %s.\n\nDropped %ld exact duplicates and %ld unreadable records, trimmed "
                    "whitespace in %ld fields, emptied %ld placeholder inputs. %s is unchanged.",
                    fx->written, fx->path, fx->dropped_duplicates, fx->dropped_unparseable, fx->trimmed_fields,
                    fx->emptied_inputs, d->rep.path);
        tb_report_free(&d->job_report);
        return;
    }
    tb_data_close_detail(d);
    tb_report_free(&d->rep);
    d->rep = d->job_report;
    memset(&d->job_report, 0, sizeof d->job_report);
    d->have = true;
    d->status[0] = '\0';
    snprintf(d->base.app->session.data_path, sizeof d->base.app->session.data_path, "%s", d->rep.path);
    if (!rebuild_tables(d))
        tb_app_error(app, "Out of memory", "cannot list %ld findings", d->rep.n_findings);
    d->focus = d->rep.n_findings > 0 ? DF_FINDINGS : DF_CHECKS;
}

/* ---- screen class ---------------------------------------------------------------------- */

static tb_screen *create(tb_app *app)
{
    data_screen *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->base.cls = &tb_data_screen_class;
    d->base.app = app;
    d->check_filter = d->sev_filter = -1;
    memcpy(d->check_cols, check_cols, sizeof check_cols);
    memcpy(d->finding_cols, finding_cols, sizeof finding_cols);
    tb_table_init(&d->checks, d->check_cols, 5, 5, (tb_table_source){.ctx = d, .cell = check_cell, .compare = check_compare});
    tb_table_init(&d->findings, d->finding_cols, 5, 5,
                  (tb_table_source){.ctx = d, .cell = finding_cell, .compare = finding_compare});
    d->focus = DF_PATH;
    return &d->base;
}

static void destroy(tb_screen *s)
{
    data_screen *d = (data_screen *)s;
    if (d->running) {
        atomic_store(&d->cancel, true);
        pthread_join(d->thread, NULL);
        tb_report_free(&d->job_report);
    }
    tb_data_close_detail(d);
    tb_textview_free(&d->tv);
    tb_table_free(&d->checks);
    tb_table_free(&d->findings);
    tb_report_free(&d->rep);
    free(d->shown);
    free(d);
}

static void enter(tb_screen *s)
{
    data_screen *d = (data_screen *)s;
    const char *p = d->base.app->session.data_path;
    if (d->have || d->running || d->path.len > 0)
        return;
    d->focus = DF_CHECKS;
    if (p[0]) {
        tb_pathentry_set(&d->path, p);
        start_job(d, p, NULL);
        return;
    }
    /* No dataset yet: start the path at the bundled examples, so o then Tab lists them. */
    char ex[4096];
    snprintf(ex, sizeof ex, "%s/datasets/examples/", TB_SOURCE_ROOT);
    tb_pathentry_set(&d->path, tb_path_is_dir(ex) ? ex : "");
}

static void open_fix_dialog(data_screen *d)
{
    char out[4096];
    const char *p = d->rep.path;
    const char *dot = strrchr(p, '.'), *slash = strrchr(p, '/');
    if (dot && (!slash || dot > slash))
        snprintf(out, sizeof out, "%.*s.fixed.jsonl", (int)(dot - p), p);
    else
        snprintf(out, sizeof out, "%s.fixed.jsonl", p);
    tb_pathentry_set(&d->fix_path, out);
    d->fix_open = true;
}

static int fix_dialog_key(data_screen *d, int key)
{
    int fl = tb_pathentry_key(&d->fix_path, key);
    if (fl & TB_PATH_CANCEL) {
        d->fix_open = false;
    } else if (fl & TB_PATH_SUBMIT && d->fix_path.len > 0) {
        char out[4096];
        tb_path_expand(d->fix_path.text, out, sizeof out);
        d->fix_open = false;
        start_job(d, d->rep.path, out);
    }
    return TB_UI_HANDLED | TB_UI_REDRAW;
}

static int path_key(data_screen *d, int key)
{
    if ((key >= KEY_F(1) && key <= KEY_F(12)) || key == KEY_BTAB || key == KEY_RESIZE || key == KEY_MOUSE)
        return TB_UI_IGNORED; /* screen switches and quitting work while typing a path */
    int fl = tb_pathentry_key(&d->path, key);
    if (fl & TB_PATH_CANCEL) {
        d->focus = d->focus_back != DF_PATH ? d->focus_back : DF_CHECKS;
        if (d->have)
            tb_pathentry_set(&d->path, d->rep.path);
    } else if (fl & TB_PATH_SUBMIT && d->path.len > 0) {
        char p[4096];
        tb_path_expand(d->path.text, p, sizeof p);
        start_job(d, p, NULL);
        d->focus = DF_CHECKS;
    }
    return TB_UI_HANDLED | TB_UI_REDRAW;
}

static int on_key(tb_screen *s, int key)
{
    data_screen *d = (data_screen *)s;
    if (d->fix_open)
        return fix_dialog_key(d, key);
    if (d->focus == DF_PATH)
        return path_key(d, key);
    if (d->detail_open) {
        if (key == KEY_ESC || key == '\n' || key == '\r' || key == KEY_ENTER || key == KEY_LEFT) {
            tb_data_close_detail(d);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        int fl = tb_textview_key(&d->tv, key);
        return fl != TB_UI_IGNORED ? fl : (key == 'q' || key == '?' ? TB_UI_IGNORED : TB_UI_HANDLED);
    }
    switch (key) {
    case 'o':
    case '/':
        d->focus_back = d->focus;
        d->focus = DF_PATH;
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_ESC:
        if (d->running)
            atomic_store(&d->cancel, true);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'h':
        d->mode = d->mode == DV_FINDINGS ? DV_LENGTHS : DV_FINDINGS;
        return TB_UI_HANDLED | TB_UI_REDRAW;
    default:
        break;
    }
    if (!d->have)
        return TB_UI_IGNORED;
    switch (key) {
    case KEY_LEFT:
        d->focus = DF_CHECKS;
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_RIGHT:
        d->focus = DF_FINDINGS;
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'f':
        d->sev_filter = d->sev_filter + 1 >= TB_SEV_COUNT ? -1 : d->sev_filter + 1;
        apply_filters(d);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case ' ':
        return TB_UI_HANDLED; /* the table's multi-selection has no use here */
    case '<':
    case ',':
    case '>':
    case '.':
    case 'I':
        return tb_table_key(&d->findings, key); /* sorting is always about the findings */
    case 'x':
        if (!d->running)
            open_fix_dialog(d);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case '\n':
    case '\r':
    case KEY_ENTER:
        if (d->focus == DF_CHECKS) {
            d->focus = DF_FINDINGS;
        } else if (tb_data_cursor_finding(d) >= 0) {
            tb_data_open_detail(d);
        }
        return TB_UI_HANDLED | TB_UI_REDRAW;
    default:
        break;
    }
    if (d->mode != DV_FINDINGS)
        return TB_UI_IGNORED;
    if (d->focus == DF_CHECKS) {
        int fl = tb_table_key(&d->checks, key);
        if (fl & TB_TABLE_CURSOR)
            apply_filters(d);
        return fl;
    }
    return tb_table_key(&d->findings, key);
}

static bool inside(const data_rect *r, int y, int x) { return y >= r->y && y < r->y + r->h && x >= r->x && x < r->x + r->w; }

static int on_mouse(tb_screen *s, const MEVENT *ev, int y, int x)
{
    data_screen *d = (data_screen *)s;
    (void)ev;
    if (!d->have || d->detail_open || d->fix_open || d->mode != DV_FINDINGS)
        return TB_UI_IGNORED;
    if (y == 0) {
        d->focus_back = d->focus;
        d->focus = DF_PATH;
        return TB_UI_HANDLED | TB_UI_REDRAW;
    }
    if (inside(&d->checks_at, y, x)) {
        d->focus = DF_CHECKS;
        int fl = tb_table_click(&d->checks, y - d->checks_at.y, x - d->checks_at.x, d->checks_at.w);
        if (fl & TB_TABLE_CURSOR)
            apply_filters(d);
        return fl | TB_UI_REDRAW;
    }
    if (inside(&d->findings_at, y, x)) {
        bool again = d->focus == DF_FINDINGS && y - d->findings_at.y == d->findings.cursor - d->findings.top + 1;
        d->focus = DF_FINDINGS;
        int fl = tb_table_click(&d->findings, y - d->findings_at.y, x - d->findings_at.x, d->findings_at.w);
        if (again) /* a second click on the selected finding opens it */
            tb_data_open_detail(d);
        return fl | TB_UI_REDRAW;
    }
    return TB_UI_IGNORED;
}

static int on_tick(tb_screen *s)
{
    data_screen *d = (data_screen *)s;
    if (!d->running)
        return 0;
    if (atomic_load(&d->done))
        finish_job(d);
    return TB_UI_REDRAW; /* progress moves */
}

static bool busy(tb_screen *s) { return ((data_screen *)s)->running; }
static bool text_input(tb_screen *s) { return ((data_screen *)s)->focus == DF_PATH || ((data_screen *)s)->fix_open; }
static void draw(tb_screen *s, WINDOW *win, int h, int w) { tb_data_draw((data_screen *)s, win, h, w); }

const tb_screen_class tb_data_screen_class = {
    .name = "Data",
    .fkey = 2,
    .keys = keys,
    .create = create,
    .destroy = destroy,
    .enter = enter,
    .on_key = on_key,
    .on_mouse = on_mouse,
    .on_tick = on_tick,
    .busy = busy,
    .text_input = text_input,
    .draw = draw,
};
