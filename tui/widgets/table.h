/* tunebench — a table: columns, a filtered and sorted view of rows, selection and scrolling.
 *
 * The table owns no data: cells come from a callback, so a table over a million findings
 * costs one int per visible row. The view (which rows, in which order) is rebuilt by
 * tb_table_refresh after the filter or sort changes; the selection stays on the same source
 * row when it is still in view. Keys: ↑/↓ k/j, PgUp/PgDn, Home/End (g/G). */
#ifndef TB_WIDGETS_TABLE_H
#define TB_WIDGETS_TABLE_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "tui/theme.h"

typedef struct tb_table_col {
    const char *title;
    int width;       /* columns; 0 = takes what is left */
    bool right;      /* right-aligned (numbers) */
} tb_table_col;

typedef struct tb_table {
    const tb_table_col *cols;
    int n_cols;
    int n_rows;      /* source rows */
    int *view;       /* source row of each view position */
    int n_view, cap_view;
    int sel;         /* view position of the selection (-1 when empty) */
    int top;         /* first view position drawn */
    int page;        /* rows drawn last time (for PgUp/PgDn) */
    int sort_col;    /* -1: source order */
    bool sort_desc;
    void *ctx;
    /* Text of a cell. */
    void (*cell)(void *ctx, int row, int col, char *buf, size_t size);
    /* Order of two rows by a column (<0, 0, >0); NULL compares the cells' text. */
    int (*compare)(void *ctx, int a, int b, int col);
    /* Keep a row in the view; NULL keeps all. */
    bool (*keep)(void *ctx, int row);
    /* Role of a cell when not selected; NULL: normal. */
    tb_role (*role)(void *ctx, int row, int col);
} tb_table;

void tb_table_init(tb_table *t, const tb_table_col *cols, int n_cols, void *ctx,
                   void (*cell)(void *, int, int, char *, size_t));
void tb_table_free(tb_table *t);
/* New number of source rows (also after the data changed): refreshes the view. */
void tb_table_set_rows(tb_table *t, int n_rows);
/* Re-apply filter and sort. Returns false when out of memory (the view is then empty). */
bool tb_table_refresh(tb_table *t);
/* Sort by a column (same column again flips the direction); -1 = source order. */
void tb_table_sort(tb_table *t, int col);
/* Source row of the selection, -1 when the view is empty. */
int tb_table_selected(const tb_table *t);
/* Select a source row when it is in the view. */
bool tb_table_select_row(tb_table *t, int row);
/* Navigation keys; returns TB_UI_* flags (IGNORED for other keys). */
int tb_table_key(tb_table *t, int key);
/* Header on row y, rows below; h includes the header. */
void tb_table_draw(tb_table *t, WINDOW *win, int y, int x, int h, int w, bool focused);
/* Mouse: `row` relative to the table's y (0 = header: sorts by the column at `col`). */
int tb_table_click(tb_table *t, int row, int col, int w);

#endif
