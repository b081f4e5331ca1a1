/* Table widget without a terminal: sorting (missing values last both ways, stable ties),
 * live row growth keeping cursor and selection, keys, selection limits and order, column
 * scrolling and mouse hit-testing. A 3-column source of (name, score, size). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tui/screen.h"
#include "tui/widgets/table.h"

typedef struct item {
    const char *name;
    double score; /* NaN = missing */
    int size;
} item;

static item items[8];

static void cell(void *ctx, int row, int col, char *buf, size_t size, tb_role *role)
{
    (void)ctx;
    (void)role;
    if (col == 0)
        snprintf(buf, size, "%s", items[row].name);
    else if (col == 1)
        snprintf(buf, size, "%g", items[row].score);
    else
        snprintf(buf, size, "%d", items[row].size);
}

static int compare(void *ctx, int a, int b, int col)
{
    (void)ctx;
    if (col == 0)
        return strcmp(items[a].name, items[b].name);
    if (col == 1)
        return (items[a].score > items[b].score) - (items[a].score < items[b].score);
    return items[a].size - items[b].size;
}

static bool missing(void *ctx, int row, int col)
{
    (void)ctx;
    return col == 1 && isnan(items[row].score);
}

static const tb_table_column cols[3] = {{"name", 10, false}, {"score", 8, true}, {"size", 6, true}};

static void make(tb_table *t, int n)
{
    const item init[8] = {{"delta", 2.0, 4}, {"alpha", NAN, 1}, {"echo", 1.0, 4},   {"bravo", 3.0, 2},
                          {"golf", NAN, 9},  {"fox", 1.0, 3},   {"hotel", 0.5, 7}, {"charlie", 9.0, 5}};
    memcpy(items, init, sizeof items);
    tb_table_init(t, cols, 3, 1, (tb_table_source){.cell = cell, .compare = compare, .missing = missing});
    assert_true(tb_table_set_rows(t, n));
}

static void order_is(const tb_table *t, const int *want, int n)
{
    assert_int_equal(t->n_rows, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(t->order[i], want[i]);
}

/* sort/rows=6 by score: ascending and descending, NaN last both ways, equal scores in source order. */
static void test_sort_missing_last_stable(void **state)
{
    (void)state;
    tb_table t;
    make(&t, 6);
    tb_table_sort(&t, 1, false);
    order_is(&t, (int[]){2, 5, 0, 3, 1, 4}, 6); /* 1.0(echo) 1.0(fox) 2.0 3.0 NaN NaN */
    tb_table_sort(&t, 1, true);
    order_is(&t, (int[]){3, 0, 2, 5, 1, 4}, 6); /* ties stay in source order, NaN still last */
    tb_table_sort(&t, 0, false);
    order_is(&t, (int[]){1, 3, 0, 2, 5, 4}, 6);
    tb_table_sort(&t, -1, false);
    order_is(&t, (int[]){0, 1, 2, 3, 4, 5}, 6);
    tb_table_free(&t);
}

/* live/rows 4 -> 8: the cursor stays on its row, selection kept, new rows sorted in. */
static void test_rows_arrive(void **state)
{
    (void)state;
    tb_table t;
    make(&t, 4);
    tb_table_sort(&t, 1, false); /* echo 1.0, delta 2.0, bravo 3.0, alpha NaN */
    tb_table_move_to_row(&t, 3);
    assert_int_equal(t.cursor, 2);
    assert_true(tb_table_select(&t, 0, true));
    assert_true(tb_table_set_rows(&t, 8));
    assert_int_equal(tb_table_cursor_row(&t), 3);
    assert_true(tb_table_is_selected(&t, 0));
    assert_false(tb_table_is_selected(&t, 7));
    order_is(&t, (int[]){6, 2, 5, 0, 3, 7, 1, 4}, 8);
    assert_int_equal(t.cursor, 4);
    /* Shrinking past the cursor clamps it. */
    tb_table_move_to_row(&t, 7);
    assert_true(tb_table_set_rows(&t, 2));
    assert_true(tb_table_cursor_row(&t) >= 0 && tb_table_cursor_row(&t) < 2);
    tb_table_free(&t);
}

/* keys/rows=8, page 3: movement stops at both ends; PgDn/PgUp/Home/End. */
static void test_navigation_keys(void **state)
{
    (void)state;
    tb_table t;
    make(&t, 8);
    t.page = 3;
    assert_int_equal(tb_table_key(&t, KEY_UP) & TB_TABLE_CURSOR, 0); /* at the top already */
    assert_true(tb_table_key(&t, KEY_DOWN) & TB_TABLE_CURSOR);
    assert_int_equal(t.cursor, 1);
    tb_table_key(&t, KEY_NPAGE);
    assert_int_equal(t.cursor, 4);
    tb_table_key(&t, KEY_NPAGE);
    tb_table_key(&t, KEY_NPAGE);
    assert_int_equal(t.cursor, 7);
    tb_table_key(&t, KEY_PPAGE);
    assert_int_equal(t.cursor, 4);
    tb_table_key(&t, KEY_HOME);
    assert_int_equal(t.cursor, 0);
    tb_table_key(&t, KEY_END);
    assert_int_equal(t.cursor, 7);
    tb_table_key(&t, 'k');
    assert_int_equal(t.cursor, 6);
    assert_int_equal(tb_table_key(&t, 'x'), TB_UI_IGNORED);
    tb_table_free(&t);
}

/* select/max 2: Space toggles, a third is refused, the list comes in selection order. */
static void test_selection(void **state)
{
    (void)state;
    tb_table t;
    make(&t, 8);
    t.max_selected = 2;
    tb_table_move_to_row(&t, 5);
    assert_true(tb_table_key(&t, ' ') & TB_TABLE_SELECTION);
    tb_table_move_to_row(&t, 2);
    assert_true(tb_table_key(&t, ' ') & TB_TABLE_SELECTION);
    tb_table_move_to_row(&t, 0);
    assert_true(tb_table_key(&t, ' ') & TB_TABLE_REFUSED);
    assert_false(tb_table_is_selected(&t, 0));
    int rows[8];
    assert_int_equal(tb_table_selected(&t, rows, 8), 2);
    assert_int_equal(rows[0], 5);
    assert_int_equal(rows[1], 2);
    tb_table_move_to_row(&t, 5);
    tb_table_key(&t, ' '); /* unselect */
    tb_table_move_to_row(&t, 7);
    tb_table_key(&t, ' ');
    assert_int_equal(tb_table_selected(&t, rows, 8), 2);
    assert_int_equal(rows[0], 2);
    assert_int_equal(rows[1], 7);
    tb_table_clear_selection(&t);
    assert_int_equal(tb_table_selected(&t, NULL, 0), 0);
    tb_table_free(&t);
}

/* sort keys/3 columns: > from unsorted picks column 0, wraps; < goes back; I inverts. */
static void test_sort_keys(void **state)
{
    (void)state;
    tb_table t;
    make(&t, 6);
    assert_true(tb_table_key(&t, '>') & TB_TABLE_SORT);
    assert_int_equal(t.sort_col, 0);
    tb_table_key(&t, '>');
    tb_table_key(&t, '>');
    assert_int_equal(t.sort_col, 2);
    tb_table_key(&t, '>');
    assert_int_equal(t.sort_col, 0);
    tb_table_key(&t, '<');
    assert_int_equal(t.sort_col, 2);
    assert_false(t.sort_desc);
    tb_table_key(&t, 'I');
    assert_true(t.sort_desc);
    order_is(&t, (int[]){4, 0, 2, 5, 3, 1}, 6); /* size 9, 4, 4 (source order), 3, 2, 1 */
    tb_table_free(&t);
}

/* scroll+click/width 22 (gutter 2 + name 10 + score 8 = 21): size is off screen until →. */
static void test_hscroll_and_clicks(void **state)
{
    (void)state;
    tb_table t;
    make(&t, 8);
    int w = 22;
    assert_int_equal(tb_table_column_at(&t, 2, w), 0);
    assert_int_equal(tb_table_column_at(&t, 13, w), 1);
    assert_int_equal(tb_table_column_at(&t, 0, w), -1); /* gutter */
    tb_table_key(&t, KEY_RIGHT);
    assert_int_equal(t.hscroll, 1);
    assert_int_equal(tb_table_column_at(&t, 13, w), 2); /* frozen name stays, size moved in */
    tb_table_key(&t, KEY_RIGHT);
    assert_int_equal(t.hscroll, 1); /* the last column is the limit */
    /* Header click sorts by the column under it; again inverts. */
    assert_true(tb_table_click(&t, 0, 14, w) & TB_TABLE_SORT);
    assert_int_equal(t.sort_col, 2);
    assert_false(t.sort_desc);
    tb_table_click(&t, 0, 14, w);
    assert_true(t.sort_desc);
    /* Row click moves the cursor; a gutter click also selects. */
    tb_table_key(&t, KEY_LEFT);
    tb_table_sort(&t, -1, false);
    t.top = 0;
    assert_true(tb_table_click(&t, 3, 5, w) & TB_TABLE_CURSOR);
    assert_int_equal(tb_table_cursor_row(&t), 2);
    assert_true(tb_table_click(&t, 4, 0, w) & TB_TABLE_SELECTION);
    assert_true(tb_table_is_selected(&t, 3));
    assert_int_equal(tb_table_click(&t, 20, 5, w), TB_UI_IGNORED); /* below the last row */
    /* Sorting by a column scrolled out of view scrolls back to it. */
    tb_table_key(&t, KEY_RIGHT);
    tb_table_key(&t, '<'); /* from unsorted: the last column (2), visible */
    tb_table_key(&t, '<'); /* column 1: scrolled out */
    assert_int_equal(t.sort_col, 1);
    assert_int_equal(t.hscroll, 0);
    tb_table_free(&t);
}

/* empty/rows=0: keys and queries are safe. */
static void test_empty(void **state)
{
    (void)state;
    tb_table t;
    make(&t, 0);
    assert_int_equal(tb_table_cursor_row(&t), -1);
    tb_table_key(&t, KEY_DOWN);
    tb_table_key(&t, ' ');
    tb_table_key(&t, KEY_END);
    assert_int_equal(t.cursor, 0);
    assert_int_equal(tb_table_selected(&t, NULL, 0), 0);
    tb_table_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_missing_last_stable),
        cmocka_unit_test(test_rows_arrive),
        cmocka_unit_test(test_navigation_keys),
        cmocka_unit_test(test_selection),
        cmocka_unit_test(test_sort_keys),
        cmocka_unit_test(test_hscroll_and_clicks),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests_name("table", tests, NULL, NULL);
}
