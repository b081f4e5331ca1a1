/* tunebench — a table: columns, sort by any column, multi-selection, scrolling both ways.
 *
 * The table owns no data. A source (callbacks + ctx) gives each cell's text and role and
 * compares rows per column; the table keeps only the view: display order, cursor, the
 * selection (by row index, in the order rows were selected), scroll offsets. Rows are
 * 0..n_rows-1 in the source's order; tb_table_set_rows() grows or shrinks that range (data
 * that arrives live) and keeps the cursor and selection on the same rows.
 *
 * Keys (tb_table_key): ↑/↓ j/k, PgUp/PgDn, Home/End move; ←/→ scroll the columns right of
 * the frozen ones; Space selects/unselects the cursor row; < and > sort by the previous /
 * next column; I inverts the order. A mouse click on a header sorts by it (again: inverts),
 * on a row moves the cursor there. Everything but drawing is pure, for unit tests. */
#ifndef TB_WIDGETS_TABLE_H
#define TB_WIDGETS_TABLE_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "tui/theme.h"

typedef struct tb_table_column {
    const char *title;
    int width;             /* display columns of the cells */
    bool right;            /* right-aligned (numbers) */
} tb_table_column;

typedef struct tb_table_source {
    void *ctx;
    /* Cell text; *role starts as TB_ROLE_NORMAL and may be changed. */
    void (*cell)(void *ctx, int row, int col, char *buf, size_t size, tb_role *role);
    /* <0, 0, >0: row a before, with, after row b in ascending order of column col. */
    int (*compare)(void *ctx, int a, int b, int col);
    /* Optional: cells with no value sort last in both directions. */
    bool (*missing)(void *ctx, int row, int col);
    /* Optional: the 2-column gutter left of the cells (default: "✓ " when selected). */
    void (*mark)(void *ctx, int row, bool selected, char *buf, size_t size, tb_role *role);
} tb_table_source;

typedef struct tb_table {
    const tb_table_column *cols;
    int n_cols;
    int frozen;            /* leading columns that stay put when scrolling right */
    tb_table_source src;
    int n_rows;
    int *order;            /* (n_rows) display position -> row */
    int *sel;              /* (n_rows) 0 = not selected, else selection sequence number */
    int sel_seq;           /* last sequence number handed out */
    int max_selected;      /* 0 = no limit */
    int cursor;            /* display position of the cursor; 0 when empty */
    int top;               /* first display position shown */
    int hscroll;           /* scrollable columns skipped on the left */
    int sort_col;          /* -1 = source order */
    bool sort_desc;
    int page;              /* body rows shown at the last draw (PgUp/PgDn step) */
} tb_table;

/* Flags of tb_table_key/click beyond the TB_UI_* ones: what changed, for the caller. */
enum {
    TB_TABLE_SELECTION = 1 << 8,  /* the selection changed */
    TB_TABLE_CURSOR = 1 << 9,     /* the cursor moved */
    TB_TABLE_SORT = 1 << 10,      /* the sort column or direction changed */
    TB_TABLE_REFUSED = 1 << 11,   /* Space refused: max_selected rows are selected already */
};

void tb_table_init(tb_table *t, const tb_table_column *cols, int n_cols, int frozen, tb_table_source src);
void tb_table_free(tb_table *t);
/* The source now has n rows (the first min(old, n) are the same rows). Re-sorts; the cursor
 * stays on its row. False when out of memory (the table keeps its old rows). */
bool tb_table_set_rows(tb_table *t, int n);
/* Sort by col (-1: source order); call again after cell values changed. */
void tb_table_sort(tb_table *t, int col, bool desc);
void tb_table_resort(tb_table *t);

int tb_table_cursor_row(const tb_table *t);          /* row index, -1 when empty */
void tb_table_move_to_row(tb_table *t, int row);
bool tb_table_is_selected(const tb_table *t, int row);
/* Select/unselect; refuses (false) beyond max_selected. */
bool tb_table_select(tb_table *t, int row, bool on);
void tb_table_clear_selection(tb_table *t);
/* Selected rows in the order they were selected; returns the count (<= max). */
int tb_table_selected(const tb_table *t, int *rows, int max);

/* TB_UI_* flags | TB_TABLE_* flags. */
int tb_table_key(tb_table *t, int key);
/* A click at (y, x) relative to the table's top-left as drawn last time with width w. */
int tb_table_click(tb_table *t, int y, int x, int w);

/* Header row + rows in h x w at (y, x). Updates top/page so the cursor stays visible. */
void tb_table_draw(tb_table *t, WINDOW *win, int y, int x, int h, int w);
/* Which column starts at display column x (-1 none), for a table w columns wide. */
int tb_table_column_at(const tb_table *t, int x, int w);

#endif
