/* tunebench — the Runs screen (F5): the experiment tracker.
 *
 * Every run in runs/tunebench.db in a sortable table; Space selects runs whose loss curves
 * are overlaid on one chart (no selection: the cursor run's); `r` recommends a run with the
 * reasoning of engine/plan/recommend.c. Live: each tick asks the store whether anyone
 * committed (PRAGMA data_version, no table read) and only then re-reads the run list and
 * the new metric rows, so a run written by another process appears and its curve grows.
 * The screen opens the store read-only and never signals a trainer: closing the UI cannot
 * affect a run. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/fs.h"
#include "engine/io/run_store.h"
#include "engine/plan/recommend.h"
#include "tui/app.h"
#include "tui/run_columns.h"
#include "tui/run_curves.h"
#include "tui/screens/screens.h"
#include "tui/widgets/draw.h"
#include "tui/widgets/plot.h"
#include "tui/widgets/table.h"

#define MAX_OVERLAY 6          /* one theme series color each */
#define REOPEN_TICKS 10        /* look for a missing store once a second */
#define STALE_TICKS 10         /* re-check trainer pids once a second */
/* The run list derives live summaries from the metrics (~3 ms per unsummarized 10k-step run
 * here): re-read it at most once a second; curves, read incrementally, every tick. */
#define LIST_TICKS 10

typedef enum curves_shown { SHOW_BOTH = 0, SHOW_TRAIN, SHOW_EVAL, SHOW_COUNT } curves_shown;
static const char *const shown_names[SHOW_COUNT] = {"train + eval (dots)", "train", "eval (dots)"};
static const int zoom_percent[] = {100, 50, 10};
#define N_ZOOM ((int)(sizeof zoom_percent / sizeof zoom_percent[0]))

static const tb_role overlay_roles[MAX_OVERLAY] = {
    TB_ROLE_SERIES1, TB_ROLE_SERIES2, TB_ROLE_SERIES3, TB_ROLE_SERIES4, TB_ROLE_SERIES5, TB_ROLE_SERIES6,
};
static const char overlay_glyphs[MAX_OVERLAY] = {'*', '+', 'o', 'x', '#', '%'};

typedef struct runs_screen {
    tb_screen base;
    char db_path[4096];
    tb_run_store *rs;          /* read-only; NULL until the store exists */
    tb_run_rows rows;          /* the runs, in id order (new runs append) */
    tb_table table;
    tb_run_curves curves;
    int plotted[MAX_OVERLAY];  /* rows overlaid, in selection order */
    int n_plotted;
    long ticks;
    long list_tick;            /* tick of the last run-list read */
    bool list_stale;           /* the store changed since then */
    bool ema, log_y;
    double ema_alpha;
    int zoom;
    curves_shown shown;
    int64_t pick_id;           /* the last recommendation's pick, -1 none */
    char note[256];            /* one-line feedback under the table */
    char error[512];           /* the store could not be read */
    tb_plot_canvas canvas;
    int table_y, table_h;      /* where the table was drawn (mouse) */
} runs_screen;

static const tb_key_help keys[] = {
    {"↑/↓ PgUp/PgDn", "move the cursor", NULL},
    {"Space", "select / unselect a run for the overlay (up to 6)", "Select"},
    {"</>", "sort by the previous / next column", "Sort"},
    {"I", "invert the sort order", NULL},
    {"←/→", "scroll the columns", NULL},
    {"r", "recommend a run (among the selected, or all)", "Recommend"},
    {"s", "EMA smoothing of the train loss on / off", "EMA"},
    {"-/+", "less / more smoothing", NULL},
    {"l", "log scale for the loss axis", "Log"},
    {"z", "zoom: whole run / last 50% / last 10% of the steps", "Zoom"},
    {"v", "curves: train + eval / train / eval", NULL},
    {"c", "clear the selection", NULL},
    {"Enter", "details of the run under the cursor", NULL},
    {0},
};

/* ---- collecting ------------------------------------------------------------------------ */

static void set_error(runs_screen *r, const tb_error *err)
{
    char buf[1024];
    snprintf(r->error, sizeof r->error, "%s", tb_error_format(err, buf, sizeof buf));
}

/* What the chart shows: the selected runs, else the cursor run. */
static void update_plotted(runs_screen *r)
{
    r->n_plotted = tb_table_selected(&r->table, r->plotted, MAX_OVERLAY);
    if (r->n_plotted == 0 && tb_table_cursor_row(&r->table) >= 0) {
        r->plotted[0] = tb_table_cursor_row(&r->table);
        r->n_plotted = 1;
    }
}

/* Read new metric rows of the plotted runs. */
static bool refresh_curves(runs_screen *r)
{
    bool any = false;
    for (int k = 0; k < r->n_plotted; k++) {
        bool changed = false;
        tb_error err;
        if (tb_run_curves_refresh(&r->curves, r->rs, r->rows.runs[r->plotted[k]].id, &changed, &err) != TB_OK) {
            set_error(r, &err);
            return true;
        }
        any |= changed;
    }
    return any;
}

static bool reload_runs(runs_screen *r)
{
    tb_run_info *runs;
    size_t n;
    tb_error err;
    if (tb_run_store_list(r->rs, &runs, &n, &err) != TB_OK) {
        set_error(r, &err);
        return true;
    }
    /* Runs only append; if the rows we know changed identity, the store was replaced. */
    bool same = n >= r->rows.n;
    for (size_t i = 0; same && i < r->rows.n; i++)
        same = runs[i].id == r->rows.runs[i].id;
    if (!same) {
        tb_table_clear_selection(&r->table);
        tb_run_curves_free(&r->curves);
        r->pick_id = -1;
    }
    tb_run_info_free_list(r->rows.runs, r->rows.n);
    r->rows.runs = runs;
    r->rows.n = n;
    tb_table_set_rows(&r->table, (int)n); /* re-sorts: live values move rows */
    r->error[0] = '\0';
    update_plotted(r);
    return true;
}

static bool try_open(runs_screen *r)
{
    if (r->rs)
        return false;
    tb_error err;
    if (tb_run_store_open(&r->rs, r->db_path, true, &err) != TB_OK)
        return false; /* not there yet: the screen says so and looks again */
    return true;
}

static int poll_store(runs_screen *r)
{
    if (!r->rs && !try_open(r))
        return TB_UI_IGNORED;
    bool changed = false;
    tb_error err;
    if (tb_run_store_poll(r->rs, &changed, &err) != TB_OK) {
        set_error(r, &err);
        return TB_UI_REDRAW;
    }
    r->list_stale |= changed;
    bool list_due = r->list_stale && (r->rows.n == 0 || r->ticks - r->list_tick >= LIST_TICKS);
    if (list_due) {
        reload_runs(r);
        r->list_tick = r->ticks;
        r->list_stale = false;
    }
    if (!changed && !list_due)
        return TB_UI_IGNORED;
    refresh_curves(r);
    return TB_UI_REDRAW;
}

/* ---- the table's gutter: overlay color/glyph, recommendation star ---------------------- */

static int overlay_index(const runs_screen *r, int row)
{
    for (int k = 0; k < r->n_plotted; k++)
        if (r->plotted[k] == row)
            return k;
    return -1;
}

/* The table source's ctx is &r->rows (tb_run_table_source); the screen is around it. */
static void mark(void *ctx, int row, bool selected, char *buf, size_t size, tb_role *role)
{
    runs_screen *r = (runs_screen *)((char *)ctx - offsetof(runs_screen, rows));
    int k = selected ? overlay_index(r, row) : -1;
    bool u = tb_term_utf8();
    if (k >= 0) {
        *role = overlay_roles[k];
        if (tb_theme_is_color() && u)
            snprintf(buf, size, "━");
        else
            snprintf(buf, size, "%c", overlay_glyphs[k]);
    } else if (r->rows.runs[row].id == r->pick_id) {
        *role = TB_ROLE_ACCENT;
        snprintf(buf, size, "%s", u ? "★" : "!");
    }
}

/* ---- life cycle ------------------------------------------------------------------------ */

static tb_screen *create(tb_app *app)
{
    runs_screen *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->base.cls = &tb_runs_screen_class;
    r->base.app = app;
    if (!tb_path_join(r->db_path, sizeof r->db_path, app->session.runs_dir, "tunebench.db"))
        snprintf(r->db_path, sizeof r->db_path, "runs/tunebench.db");
    tb_table_source src = tb_run_table_source(&r->rows);
    src.mark = mark;
    tb_table_init(&r->table, tb_run_columns, TB_RUN_COL_COUNT, TB_RUN_COLS_FROZEN, src);
    tb_table_sort(&r->table, TB_RUN_COL_BEST_EVAL, false); /* ranked by best eval loss */
    r->table.max_selected = MAX_OVERLAY;
    r->ema_alpha = 0.6;
    r->pick_id = -1;
    poll_store(r);
    return &r->base;
}

static void destroy(tb_screen *s)
{
    runs_screen *r = (runs_screen *)s;
    tb_run_store_close(r->rs);
    tb_run_info_free_list(r->rows.runs, r->rows.n);
    tb_table_free(&r->table);
    tb_run_curves_free(&r->curves);
    tb_plot_canvas_free(&r->canvas);
    free(r);
}

static void enter(tb_screen *s) { poll_store((runs_screen *)s); }

static int on_tick(tb_screen *s)
{
    runs_screen *r = (runs_screen *)s;
    r->ticks++;
    if (!r->rs && r->ticks % REOPEN_TICKS != 0)
        return TB_UI_IGNORED;
    int flags = poll_store(r);
    /* A trainer that dies writes nothing: look at running runs' pids now and then. */
    if (r->ticks % STALE_TICKS == 0)
        for (size_t i = 0; i < r->rows.n; i++)
            if (r->rows.runs[i].status == TB_RUN_RUNNING || r->rows.runs[i].status == TB_RUN_PAUSED)
                flags |= TB_UI_REDRAW;
    return flags;
}

/* ---- actions --------------------------------------------------------------------------- */

static void recommend(runs_screen *r)
{
    int sel[MAX_OVERLAY];
    int n_sel = tb_table_selected(&r->table, sel, MAX_OVERLAY);
    size_t n = n_sel >= 2 ? (size_t)n_sel : r->rows.n;
    if (n == 0) {
        tb_app_info(r->base.app, "Recommendation", "No runs yet: nothing to recommend.");
        return;
    }
    tb_recommend_run *cand = calloc(n, sizeof *cand);
    if (!cand) {
        tb_app_error(r->base.app, "Recommendation", "out of memory");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        /* The table's order, so equal candidates read in the order shown. */
        const tb_run_info *ri = &r->rows.runs[n_sel >= 2 ? sel[i] : r->table.order[i]];
        cand[i] = (tb_recommend_run){ri->id, ri->name, ri->trainable_params, ri->best_eval_loss};
    }
    tb_recommendation rec;
    tb_error err;
    if (tb_recommend(cand, n, &rec, &err) != TB_OK) {
        tb_app_error(r->base.app, "Recommendation", "%s", err.message);
    } else {
        char text[2048];
        size_t used = 0;
        for (size_t i = 0; i < rec.n_reasons && used < sizeof text; i++)
            used += (size_t)snprintf(text + used, sizeof text - used, "%s%s", i ? "\n- " : "", rec.reasons[i]);
        r->pick_id = rec.pick >= 0 ? cand[rec.pick].id : -1;
        char title[96];
        snprintf(title, sizeof title, "Recommendation among %s%zu runs", n_sel >= 2 ? "the selected " : "all ", n);
        tb_app_info(r->base.app, title, "%s", text);
        if (rec.pick >= 0)
            snprintf(r->note, sizeof r->note, "Recommended: #%lld %s", (long long)cand[rec.pick].id,
                     cand[rec.pick].name);
    }
    tb_recommendation_free(&rec);
    free(cand);
}

static void details(runs_screen *r)
{
    int row = tb_table_cursor_row(&r->table);
    if (row < 0)
        return;
    const tb_run_info *ri = &r->rows.runs[row];
    char text[2048], started[64] = "-";
    size_t used = 0;
    if (isfinite(ri->started)) {
        time_t t = (time_t)ri->started;
        struct tm tm;
        strftime(started, sizeof started, "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
    }
    used += (size_t)snprintf(text + used, sizeof text - used, "Status: %s", tb_run_display_status(ri));
    if (tb_run_is_stale(ri))
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 " (the store says running, but trainer pid %lld is gone)", (long long)ri->pid);
    used += (size_t)snprintf(text + used, sizeof text - used, "\nStarted: %s\nRun folder: %s\nAdapter: %s\nConfig: %s",
                             started, ri->run_dir[0] ? ri->run_dir : "-",
                             ri->adapter_path[0] ? ri->adapter_path : "(none yet)", ri->config_json);
    tb_run_event *ev = NULL;
    size_t n_ev = 0;
    tb_error err;
    if (r->rs && tb_run_store_events(r->rs, ri->id, &ev, &n_ev, &err) == TB_OK && n_ev > 0) {
        used += (size_t)snprintf(text + used, sizeof text - used, "\nEvents:");
        for (size_t i = n_ev > 5 ? n_ev - 5 : 0; i < n_ev && used < sizeof text; i++)
            used += (size_t)snprintf(text + used, sizeof text - used, "\n- step %lld %s: %s", (long long)ev[i].step,
                                     ev[i].level, ev[i].message);
    }
    free(ev);
    char title[192];
    snprintf(title, sizeof title, "Run #%lld %s", (long long)ri->id, ri->name);
    tb_app_info(r->base.app, title, "%s", text);
}

static int on_key(tb_screen *s, int key)
{
    runs_screen *r = (runs_screen *)s;
    int flags = tb_table_key(&r->table, key);
    if (flags & TB_TABLE_REFUSED)
        snprintf(r->note, sizeof r->note, "At most %d runs overlay at once: unselect one first (Space, c).",
                 MAX_OVERLAY);
    if (flags & (TB_TABLE_SELECTION | TB_TABLE_CURSOR)) {
        r->note[0] = '\0';
        update_plotted(r);
        refresh_curves(r);
    }
    if (flags & TB_UI_HANDLED)
        return flags & (TB_UI_HANDLED | TB_UI_REDRAW);
    switch (key) {
    case 'r': recommend(r); break;
    case 's': r->ema = !r->ema; break;
    case '-': r->ema_alpha = r->ema_alpha > 0.15 ? r->ema_alpha - 0.1 : 0.05; r->ema = true; break;
    case '+':
    case '=': r->ema_alpha = r->ema_alpha < 0.85 ? r->ema_alpha + 0.1 : 0.95; r->ema = true; break;
    case 'l': r->log_y = !r->log_y; break;
    case 'z': r->zoom = (r->zoom + 1) % N_ZOOM; break;
    case 'v': r->shown = (curves_shown)((r->shown + 1) % SHOW_COUNT); break;
    case 'c':
        tb_table_clear_selection(&r->table);
        update_plotted(r);
        refresh_curves(r);
        break;
    case '\n':
    case '\r':
    case KEY_ENTER: details(r); break;
    default: return TB_UI_IGNORED;
    }
    return TB_UI_HANDLED | TB_UI_REDRAW;
}

static int on_mouse(tb_screen *s, const MEVENT *ev, int y, int x)
{
    runs_screen *r = (runs_screen *)s;
    (void)ev;
    if (y <= r->table_y || y >= r->table_y + r->table_h - 1)
        return TB_UI_IGNORED;
    int flags = tb_table_click(&r->table, y - r->table_y - 1, x - 1, COLS - 2);
    if (flags & (TB_TABLE_SELECTION | TB_TABLE_CURSOR)) {
        update_plotted(r);
        refresh_curves(r);
    }
    return flags & (TB_UI_HANDLED | TB_UI_REDRAW);
}

/* ---- drawing --------------------------------------------------------------------------- */

static void draw_chart(runs_screen *r, WINDOW *win, int y, int x, int h, int w)
{
    char title[256];
    int cur = tb_table_cursor_row(&r->table);
    int n_sel = tb_table_selected(&r->table, NULL, 0);
    tb_plot_series series[2 * MAX_OVERLAY];
    int n = 0;
    double max_step = 0, best_x = NAN, best_y = NAN;
    for (int k = 0; k < r->n_plotted; k++) {
        const tb_run_info *ri = &r->rows.runs[r->plotted[k]];
        tb_run_curve *c = tb_run_curves_get(&r->curves, ri->id);
        if (!c)
            continue;
        if (c->n && c->step[c->n - 1] > max_step)
            max_step = c->step[c->n - 1];
        double bx, by;
        if (r->shown != SHOW_TRAIN && tb_run_curve_best_eval(c, &bx, &by) && !(by >= best_y)) {
            best_x = bx;
            best_y = by;
        }
        const char *name = ri->name;
        if (r->shown != SHOW_EVAL) {
            series[n++] = (tb_plot_series){.name = name, .x = c->step, .y = c->train, .n = c->n,
                                           .role = overlay_roles[k], .glyph = overlay_glyphs[k], .smooth = true};
            name = NULL; /* one legend entry per run */
        }
        if (r->shown != SHOW_TRAIN)
            series[n++] = (tb_plot_series){.name = name, .x = c->step, .y = c->eval, .n = c->n,
                                           .role = overlay_roles[k], .glyph = overlay_glyphs[k], .markers = true};
    }
    /* Monochrome: glyphs instead of braille so the runs stay apart without color. */
    tb_plot_opts o = {.utf8 = tb_term_utf8() && tb_theme_is_color(), .log_y = r->log_y,
                      .ema = r->ema ? r->ema_alpha : 0, .x_min = NAN, .x_max = NAN, .terse_legend = true,
                      .has_best = isfinite(best_y), .best_x = best_x, .best_y = best_y};
    char zoom[48] = "";
    if (zoom_percent[r->zoom] < 100 && max_step > 0) {
        double span = ceil(max_step * zoom_percent[r->zoom] / 100.0);
        o.x_min = max_step - span;
        snprintf(zoom, sizeof zoom, " · last %.0f steps", span);
    }
    char ema[32] = "";
    if (r->ema && r->shown != SHOW_EVAL)
        snprintf(ema, sizeof ema, " · EMA %.2f", r->ema_alpha);
    if (r->n_plotted == 0)
        snprintf(title, sizeof title, "Loss");
    else if (n_sel == 0)
        snprintf(title, sizeof title, "Loss of #%lld (Space: overlay runs) · %s%s%s",
                 (long long)r->rows.runs[cur].id, shown_names[r->shown], ema, zoom);
    else
        snprintf(title, sizeof title, "Loss of %d run%s: %s%s%s", n_sel, n_sel == 1 ? "" : "s",
                 shown_names[r->shown], ema, zoom);
    tb_draw_box(win, y, x, h, w, TB_ROLE_BORDER, title);
    if (r->n_plotted == 0) {
        tb_draw_text(win, y + h / 2, x + 3, w - 6, TB_ROLE_DIM, "Curves of the selected runs appear here.");
        return;
    }
    tb_plot_draw(win, y + 1, x + 1, h - 2, w - 2, series, n, &o, &r->canvas);
}

static void draw_status_line(runs_screen *r, WINDOW *win, int y, int w)
{
    int cur = tb_table_cursor_row(&r->table);
    if (r->error[0]) {
        tb_draw_text(win, y, 1, w - 2, TB_ROLE_ERROR, r->error);
    } else if (r->note[0]) {
        tb_draw_text(win, y, 1, w - 2, TB_ROLE_INFO, r->note);
    } else if (cur >= 0) {
        const tb_run_info *ri = &r->rows.runs[cur];
        if (tb_run_is_stale(ri))
            tb_draw_textf(win, y, 1, w - 2, TB_ROLE_WARN,
                          "#%lld %s: stale (the store says running, trainer pid %lld is gone)", (long long)ri->id,
                          ri->name, (long long)ri->pid);
        else
            tb_draw_textf(win, y, 1, w - 2, TB_ROLE_DIM, "#%lld %s · %s · adapter %s · Enter: details",
                          (long long)ri->id, ri->name, ri->run_dir[0] ? ri->run_dir : "-",
                          ri->adapter_path[0] ? ri->adapter_path : "none yet");
    }
}

static void draw(tb_screen *s, WINDOW *win, int h, int w)
{
    runs_screen *r = (runs_screen *)s;
    int running = 0;
    for (size_t i = 0; i < r->rows.n; i++)
        running += r->rows.runs[i].status == TB_RUN_RUNNING && !tb_run_is_stale(&r->rows.runs[i]);
    char title[4200], live[32] = "";
    if (running)
        snprintf(live, sizeof live, " · %d running", running);
    snprintf(title, sizeof title, "Runs · %s · %zu run%s%s", r->db_path, r->rows.n, r->rows.n == 1 ? "" : "s", live);
    int want = (int)r->rows.n + 3, cap = h * 2 / 5 > 6 ? h * 2 / 5 : 6;
    r->table_y = 0;
    r->table_h = want < 6 ? 6 : want > cap ? cap : want;
    tb_draw_box(win, 0, 0, r->table_h, w, TB_ROLE_BORDER, title);
    if (!r->rs || r->rows.n == 0) {
        tb_draw_wrapped(win, 2, 3, w - 6, r->table_h - 3, TB_ROLE_DIM,
                        !r->rs ? "No run store here yet. Runs appear as soon as a trainer writes to it "
                                 "(looking again every second)."
                               : "No runs yet. Runs appear here live as soon as a trainer starts one.");
    } else {
        tb_table_draw(&r->table, win, 1, 1, r->table_h - 2, w - 2);
    }
    draw_status_line(r, win, r->table_h, w);
    draw_chart(r, win, r->table_h + 1, 0, h - r->table_h - 1, w);
}

const tb_screen_class tb_runs_screen_class = {
    .name = "Runs",
    .fkey = 5,
    .keys = keys,
    .create = create,
    .destroy = destroy,
    .enter = enter,
    .on_key = on_key,
    .on_mouse = on_mouse,
    .on_tick = on_tick,
    .draw = draw,
};
