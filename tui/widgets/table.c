/* tunebench — the table widget. */
#include "tui/widgets/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/screen.h"
#include "tui/widgets/draw.h"

#define GUTTER 2

void tb_table_init(tb_table *t, const tb_table_column *cols, int n_cols, int frozen, tb_table_source src)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->n_cols = n_cols;
    t->frozen = frozen < n_cols ? frozen : n_cols;
    t->src = src;
    t->sort_col = -1;
    t->page = 10;
}

void tb_table_free(tb_table *t)
{
    free(t->order);
    free(t->sel);
    t->order = t->sel = NULL;
    t->n_rows = 0;
}

int tb_table_cursor_row(const tb_table *t)
{
    return t->n_rows > 0 ? t->order[t->cursor] : -1;
}

void tb_table_move_to_row(tb_table *t, int row)
{
    for (int p = 0; p < t->n_rows; p++)
        if (t->order[p] == row) {
            t->cursor = p;
            return;
        }
}

/* ---- sorting ------------------------------------------------------------------------ */

static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
    const tb_table *t = ctx;
    int a = *(const int *)pa, b = *(const int *)pb;
    if (t->sort_col >= 0) {
        bool ma = t->src.missing && t->src.missing(t->src.ctx, a, t->sort_col);
        bool mb = t->src.missing && t->src.missing(t->src.ctx, b, t->sort_col);
        if (ma != mb)
            return ma ? 1 : -1;
        if (!ma) {
            int c = t->src.compare(t->src.ctx, a, b, t->sort_col);
            if (c)
                return t->sort_desc ? -c : c;
        }
    }
    return (a > b) - (a < b); /* ties keep the source order: sorting is stable */
}

void tb_table_resort(tb_table *t)
{
    int row = tb_table_cursor_row(t);
    for (int p = 0; p < t->n_rows; p++)
        t->order[p] = p;
    if (t->n_rows > 1 && t->sort_col >= 0 && t->src.compare)
        qsort_r(t->order, (size_t)t->n_rows, sizeof *t->order, cmp_rows, t);
    if (row >= 0)
        tb_table_move_to_row(t, row);
}

void tb_table_sort(tb_table *t, int col, bool desc)
{
    t->sort_col = col >= -1 && col < t->n_cols ? col : -1;
    t->sort_desc = desc;
    tb_table_resort(t);
}

bool tb_table_set_rows(tb_table *t, int n)
{
    if (n < 0)
        n = 0;
    int row = tb_table_cursor_row(t);
    size_t cap = (size_t)(n ? n : 1);
    int *order = realloc(t->order, cap * sizeof *order);
    if (!order)
        return false;
    t->order = order;
    int *sel = realloc(t->sel, cap * sizeof *sel);
    if (!sel)
        return false;
    t->sel = sel;
    for (int r = t->n_rows; r < n; r++)
        t->sel[r] = 0;
    t->n_rows = n;
    t->cursor = 0;
    tb_table_resort(t);
    if (row >= 0 && row < n)
        tb_table_move_to_row(t, row);
    return true;
}

/* ---- selection ---------------------------------------------------------------------- */

bool tb_table_is_selected(const tb_table *t, int row)
{
    return row >= 0 && row < t->n_rows && t->sel[row] > 0;
}

bool tb_table_select(tb_table *t, int row, bool on)
{
    if (row < 0 || row >= t->n_rows)
        return false;
    if (!on) {
        t->sel[row] = 0;
        return true;
    }
    if (t->sel[row])
        return true;
    if (t->max_selected > 0 && tb_table_selected(t, NULL, 0) >= t->max_selected)
        return false;
    t->sel[row] = ++t->sel_seq;
    return true;
}

void tb_table_clear_selection(tb_table *t)
{
    for (int r = 0; r < t->n_rows; r++)
        t->sel[r] = 0;
}

int tb_table_selected(const tb_table *t, int *rows, int max)
{
    /* Few selected rows: a selection pass per rank is simpler than sorting. */
    int count = 0;
    for (int r = 0; r < t->n_rows; r++)
        count += t->sel[r] > 0;
    if (!rows)
        return count;
    int got = 0, last = 0;
    while (got < count && got < max) {
        int best = -1;
        for (int r = 0; r < t->n_rows; r++)
            if (t->sel[r] > last && (best < 0 || t->sel[r] < t->sel[best]))
                best = r;
        rows[got++] = best;
        last = t->sel[best];
    }
    return got;
}

/* ---- layout ------------------------------------------------------------------------- */

/* A column's drawn width: room for its title plus the sort arrow, whatever the cells need. */
static int col_width(const tb_table *t, int c)
{
    int tw = tb_text_width(t->cols[c].title) + 1;
    return t->cols[c].width > tw ? t->cols[c].width : tw;
}

/* The columns shown in w display columns and where each starts; returns how many. */
static int layout(const tb_table *t, int w, int *cols, int *xs)
{
    int n = 0, x = GUTTER;
    for (int c = 0; c < t->n_cols; c++) {
        if (c >= t->frozen && c < t->frozen + t->hscroll)
            continue;
        if (x + col_width(t, c) > w - 1) /* the last column shows the "more" arrow */
            break;
        cols[n] = c;
        xs[n++] = x;
        x += col_width(t, c) + 1;
    }
    return n;
}

int tb_table_column_at(const tb_table *t, int x, int w)
{
    int cols[64], xs[64];
    if (t->n_cols > 64)
        return -1;
    int n = layout(t, w, cols, xs);
    for (int i = 0; i < n; i++)
        if (x >= xs[i] && x < xs[i] + col_width(t, cols[i]) + 1)
            return cols[i];
    return -1;
}

static int max_hscroll(const tb_table *t) { return t->n_cols - t->frozen > 1 ? t->n_cols - t->frozen - 1 : 0; }

/* ---- input -------------------------------------------------------------------------- */

static int move_cursor(tb_table *t, int to)
{
    if (t->n_rows == 0)
        return TB_UI_HANDLED;
    if (to < 0)
        to = 0;
    if (to > t->n_rows - 1)
        to = t->n_rows - 1;
    if (to == t->cursor)
        return TB_UI_HANDLED;
    t->cursor = to;
    return TB_UI_HANDLED | TB_UI_REDRAW | TB_TABLE_CURSOR;
}

static int set_hscroll(tb_table *t, int h)
{
    if (h < 0)
        h = 0;
    if (h > max_hscroll(t))
        h = max_hscroll(t);
    if (h == t->hscroll)
        return TB_UI_HANDLED;
    t->hscroll = h;
    return TB_UI_HANDLED | TB_UI_REDRAW;
}

static int toggle_cursor_row(tb_table *t)
{
    int row = tb_table_cursor_row(t);
    if (row < 0)
        return TB_UI_HANDLED;
    if (!tb_table_select(t, row, !tb_table_is_selected(t, row)))
        return TB_UI_HANDLED | TB_UI_REDRAW | TB_TABLE_REFUSED;
    return TB_UI_HANDLED | TB_UI_REDRAW | TB_TABLE_SELECTION;
}

static int sort_flags(tb_table *t, int col, bool desc)
{
    tb_table_sort(t, col, desc);
    /* Bring a sort column scrolled out of view back into it. */
    if (col >= t->frozen && col - t->frozen < t->hscroll)
        t->hscroll = col - t->frozen;
    return TB_UI_HANDLED | TB_UI_REDRAW | TB_TABLE_SORT;
}

int tb_table_key(tb_table *t, int key)
{
    switch (key) {
    case KEY_UP:
    case 'k':
        return move_cursor(t, t->cursor - 1);
    case KEY_DOWN:
    case 'j':
        return move_cursor(t, t->cursor + 1);
    case KEY_PPAGE:
        return move_cursor(t, t->cursor - t->page);
    case KEY_NPAGE:
        return move_cursor(t, t->cursor + t->page);
    case KEY_HOME:
        return move_cursor(t, 0);
    case KEY_END:
        return move_cursor(t, t->n_rows - 1);
    case KEY_LEFT:
        return set_hscroll(t, t->hscroll - 1);
    case KEY_RIGHT:
        return set_hscroll(t, t->hscroll + 1);
    case ' ':
        return toggle_cursor_row(t);
    case '<':
    case ',':
        return sort_flags(t, t->sort_col <= 0 ? t->n_cols - 1 : t->sort_col - 1, false);
    case '>':
    case '.':
        return sort_flags(t, t->sort_col >= t->n_cols - 1 ? 0 : t->sort_col + 1, false);
    case 'I':
        return t->sort_col >= 0 ? sort_flags(t, t->sort_col, !t->sort_desc) : TB_UI_HANDLED;
    default:
        return TB_UI_IGNORED;
    }
}

int tb_table_click(tb_table *t, int y, int x, int w)
{
    if (y == 0) {
        int col = tb_table_column_at(t, x, w);
        if (col < 0)
            return TB_UI_HANDLED;
        return sort_flags(t, col, col == t->sort_col ? !t->sort_desc : false);
    }
    int pos = t->top + y - 1;
    if (y < 0 || pos >= t->n_rows)
        return TB_UI_IGNORED;
    int flags = move_cursor(t, pos) | TB_UI_HANDLED;
    if (x < GUTTER)
        flags |= toggle_cursor_row(t);
    return flags;
}

/* ---- drawing ------------------------------------------------------------------------ */

static void draw_cell(WINDOW *win, int y, int x, int width, bool right, tb_role role, const char *text)
{
    int tw = tb_text_width(text);
    int pad = right && tw < width ? width - tw : 0;
    tb_draw_text(win, y, x + pad, width - pad, role, text);
}

static void draw_header(const tb_table *t, WINDOW *win, int y, int x, int w, const int *cols, const int *xs, int n)
{
    bool u = tb_term_utf8();
    tb_draw_fill(win, y, x, w, TB_ROLE_LABEL);
    for (int i = 0; i < n; i++) {
        const tb_table_column *c = &t->cols[cols[i]];
        /* The sort arrow sits on the title's outer side: before right-aligned titles (so they
         * stay over their numbers), after left-aligned ones. */
        const char *arrow = cols[i] != t->sort_col ? "" : t->sort_desc ? (u ? "▼" : "v") : (u ? "▲" : "^");
        char title[128];
        snprintf(title, sizeof title, "%s%s%s", c->right ? arrow : "", c->title, c->right ? "" : arrow);
        draw_cell(win, y, x + xs[i], col_width(t, cols[i]), c->right, TB_ROLE_LABEL, title);
    }
    if (t->hscroll > 0)
        tb_draw_text(win, y, x, 1, TB_ROLE_LABEL, u ? "◀" : "<");
    int last = n > 0 ? cols[n - 1] : -1;
    if (last >= 0 && last < t->n_cols - 1)
        tb_draw_text(win, y, x + w - 1, 1, TB_ROLE_LABEL, u ? "▶" : ">");
}

void tb_table_draw(tb_table *t, WINDOW *win, int y, int x, int h, int w)
{
    int cols[64], xs[64];
    if (h < 1 || w < GUTTER + 1 || t->n_cols > 64)
        return;
    int n = layout(t, w, cols, xs);
    draw_header(t, win, y, x, w, cols, xs, n);
    int body = h - 1;
    t->page = body > 1 ? body : 1;
    if (t->cursor < t->top)
        t->top = t->cursor;
    if (t->cursor >= t->top + body)
        t->top = t->cursor - body + 1;
    if (t->top > t->n_rows - body)
        t->top = t->n_rows - body;
    if (t->top < 0)
        t->top = 0;
    bool u = tb_term_utf8();
    for (int r = 0; r < body && t->top + r < t->n_rows; r++) {
        int pos = t->top + r, row = t->order[pos], ry = y + 1 + r;
        bool at_cursor = pos == t->cursor;
        if (at_cursor)
            tb_draw_fill(win, ry, x, w, TB_ROLE_SELECTED);
        char buf[256];
        tb_role role = TB_ROLE_ACCENT;
        buf[0] = '\0';
        if (t->src.mark)
            t->src.mark(t->src.ctx, row, t->sel[row] > 0, buf, sizeof buf, &role);
        else if (t->sel[row])
            snprintf(buf, sizeof buf, "%s", u ? "✓" : "x");
        tb_draw_text(win, ry, x, GUTTER, at_cursor ? TB_ROLE_SELECTED : role, buf);
        for (int i = 0; i < n; i++) {
            role = TB_ROLE_NORMAL;
            buf[0] = '\0';
            t->src.cell(t->src.ctx, row, cols[i], buf, sizeof buf, &role);
            const tb_table_column *c = &t->cols[cols[i]];
            draw_cell(win, ry, x + xs[i], col_width(t, cols[i]), c->right, at_cursor ? TB_ROLE_SELECTED : role, buf);
        }
    }
}
