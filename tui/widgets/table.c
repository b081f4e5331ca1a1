/* tunebench — table widget. */
#include "tui/widgets/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/screen.h"
#include "tui/widgets/draw.h"

void tb_table_init(tb_table *t, const tb_table_col *cols, int n_cols, void *ctx,
                   void (*cell)(void *, int, int, char *, size_t))
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    t->n_cols = n_cols;
    t->ctx = ctx;
    t->cell = cell;
    t->sel = -1;
    t->sort_col = -1;
    t->page = 10;
}

void tb_table_free(tb_table *t)
{
    free(t->view);
    t->view = NULL;
    t->n_view = t->cap_view = 0;
}

static int cmp_rows(const void *pa, const void *pb, void *arg)
{
    const tb_table *t = arg;
    int a = *(const int *)pa, b = *(const int *)pb, c = 0;
    if (t->compare) {
        c = t->compare(t->ctx, a, b, t->sort_col);
    } else {
        char x[256], y[256];
        t->cell(t->ctx, a, t->sort_col, x, sizeof x);
        t->cell(t->ctx, b, t->sort_col, y, sizeof y);
        c = strcmp(x, y);
    }
    if (t->sort_desc)
        c = -c;
    /* Ties keep the source order, so sorting twice gives the same table. */
    return c ? c : (a > b) - (a < b);
}

static void clamp(tb_table *t)
{
    if (t->n_view == 0) {
        t->sel = -1;
        t->top = 0;
        return;
    }
    if (t->sel < 0)
        t->sel = 0;
    if (t->sel >= t->n_view)
        t->sel = t->n_view - 1;
    int page = t->page > 0 ? t->page : 1;
    if (t->sel < t->top)
        t->top = t->sel;
    if (t->sel >= t->top + page)
        t->top = t->sel - page + 1;
    if (t->top > t->n_view - page)
        t->top = t->n_view - page;
    if (t->top < 0)
        t->top = 0;
}

bool tb_table_refresh(tb_table *t)
{
    int keep_row = tb_table_selected(t);
    if (t->n_rows > t->cap_view) {
        int *nv = realloc(t->view, (size_t)t->n_rows * sizeof *nv);
        if (!nv) {
            t->n_view = 0;
            clamp(t);
            return false;
        }
        t->view = nv;
        t->cap_view = t->n_rows;
    }
    t->n_view = 0;
    for (int r = 0; r < t->n_rows; r++)
        if (!t->keep || t->keep(t->ctx, r))
            t->view[t->n_view++] = r;
    if (t->sort_col >= 0 && t->n_view > 1)
        qsort_r(t->view, (size_t)t->n_view, sizeof *t->view, cmp_rows, t);
    t->sel = 0;
    if (keep_row >= 0)
        for (int i = 0; i < t->n_view; i++)
            if (t->view[i] == keep_row) {
                t->sel = i;
                break;
            }
    clamp(t);
    return true;
}

void tb_table_set_rows(tb_table *t, int n_rows)
{
    t->n_rows = n_rows;
    if (t->sel >= 0 && t->n_view > 0 && tb_table_selected(t) >= n_rows)
        t->sel = -1; /* the old selection is gone */
    tb_table_refresh(t);
}

void tb_table_sort(tb_table *t, int col)
{
    if (col == t->sort_col)
        t->sort_desc = !t->sort_desc;
    else
        t->sort_desc = false;
    t->sort_col = col;
    tb_table_refresh(t);
}

int tb_table_selected(const tb_table *t)
{
    return t->sel >= 0 && t->sel < t->n_view ? t->view[t->sel] : -1;
}

bool tb_table_select_row(tb_table *t, int row)
{
    for (int i = 0; i < t->n_view; i++)
        if (t->view[i] == row) {
            t->sel = i;
            clamp(t);
            return true;
        }
    return false;
}

int tb_table_key(tb_table *t, int key)
{
    int page = t->page > 1 ? t->page - 1 : 1;
    int old = t->sel;
    switch (key) {
    case KEY_UP:
    case 'k': t->sel--; break;
    case KEY_DOWN:
    case 'j': t->sel++; break;
    case KEY_PPAGE: t->sel -= page; break;
    case KEY_NPAGE: t->sel += page; break;
    case KEY_HOME:
    case 'g': t->sel = 0; break;
    case KEY_END:
    case 'G': t->sel = t->n_view - 1; break;
    default: return TB_UI_IGNORED;
    }
    if (t->n_view == 0)
        t->sel = -1;
    else if (t->sel < 0)
        t->sel = 0;
    clamp(t);
    return TB_UI_HANDLED | (t->sel != old ? TB_UI_REDRAW : 0);
}

/* Column widths for a total width w: fixed ones as given, flexible ones share the rest. */
static void widths(const tb_table *t, int w, int *out)
{
    int fixed = 0, flex = 0;
    for (int c = 0; c < t->n_cols; c++) {
        if (t->cols[c].width > 0)
            fixed += t->cols[c].width + 1;
        else
            flex++;
    }
    int rest = w - fixed - (flex ? flex - 1 : 0);
    for (int c = 0; c < t->n_cols; c++)
        out[c] = t->cols[c].width > 0 ? t->cols[c].width : (flex ? (rest > flex ? rest / flex : 1) : 0);
}

static void draw_cell(WINDOW *win, int y, int x, int cw, tb_role role, const char *s, bool right)
{
    int tw = tb_text_width(s);
    if (right && tw < cw)
        x += cw - tw;
    tb_draw_text(win, y, x, cw, role, s);
}

void tb_table_draw(tb_table *t, WINDOW *win, int y, int x, int h, int w, bool focused)
{
    if (h < 1 || w < 4)
        return;
    int cw[16];
    int n = t->n_cols < 16 ? t->n_cols : 16;
    widths(t, w, cw);
    int cx = x;
    for (int c = 0; c < n; c++) {
        char title[64];
        const char *arrow = c == t->sort_col ? (t->sort_desc ? (tb_term_utf8() ? "▼" : "v") : (tb_term_utf8() ? "▲" : "^")) : "";
        snprintf(title, sizeof title, "%s%s", t->cols[c].title, arrow);
        draw_cell(win, y, cx, cw[c], TB_ROLE_LABEL, title, t->cols[c].right);
        cx += cw[c] + 1;
    }
    t->page = h - 1;
    clamp(t);
    for (int i = 0; i < h - 1; i++) {
        int v = t->top + i;
        if (v >= t->n_view)
            break;
        int row = t->view[v];
        bool sel = v == t->sel;
        tb_role base = sel ? (focused ? TB_ROLE_SELECTED : TB_ROLE_VALUE) : TB_ROLE_NORMAL;
        if (sel)
            tb_draw_fill(win, y + 1 + i, x, w, base);
        cx = x;
        for (int c = 0; c < n; c++) {
            char buf[1024];
            t->cell(t->ctx, row, c, buf, sizeof buf);
            /* One line per row: newlines and tabs in cell text become spaces. */
            for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\r' || *p == '\t')
                    *p = ' ';
            tb_role role = sel ? base : (t->role ? t->role(t->ctx, row, c) : TB_ROLE_NORMAL);
            draw_cell(win, y + 1 + i, cx, cw[c], role, buf, t->cols[c].right);
            cx += cw[c] + 1;
        }
    }
}

int tb_table_click(tb_table *t, int row, int col, int w)
{
    if (row == 0) {
        int cw[16], cx = 0;
        widths(t, w, cw);
        for (int c = 0; c < t->n_cols && c < 16; c++) {
            if (col >= cx && col < cx + cw[c]) {
                tb_table_sort(t, c);
                return TB_UI_HANDLED | TB_UI_REDRAW;
            }
            cx += cw[c] + 1;
        }
        return TB_UI_HANDLED;
    }
    int v = t->top + row - 1;
    if (v < 0 || v >= t->n_view)
        return TB_UI_IGNORED;
    t->sel = v;
    return TB_UI_HANDLED | TB_UI_REDRAW;
}
