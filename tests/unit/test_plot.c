/* Plot widget: scaling, log-y with non-positive values, 1 and 2 points, NaN gaps, resize,
 * EMA. Rendering is checked on the canvas (no terminal needed). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tui/widgets/plot.h"

static int lit_cells(const tb_plot_canvas *c)
{
    int n = 0;
    for (int i = 0; i < c->w * c->h; i++)
        n += c->series[i] >= 0;
    return n;
}

/* Row (0 = top) of the lit cell in column col, -1 when none. */
static int row_in_col(const tb_plot_canvas *c, int col)
{
    for (int r = 0; r < c->h; r++)
        if (c->series[r * c->w + col] >= 0)
            return r;
    return -1;
}

static tb_plot_opts opts(void)
{
    tb_plot_opts o = {.utf8 = true, .x_min = NAN, .x_max = NAN};
    return o;
}

static void test_scaling_descending_line(void **state)
{
    (void)state;
    tb_plot_canvas c = {0};
    assert_true(tb_plot_canvas_resize(&c, 20, 10));
    double x[5] = {0, 1, 2, 3, 4}, y[5] = {5, 4, 3, 2, 1};
    tb_plot_series s = {.name = "loss", .x = x, .y = y, .n = 5, .glyph = '*'};
    tb_plot_opts o = opts();
    tb_plot_render(&c, &s, 1, &o);
    assert_false(c.empty);
    /* Decreasing values: first column near the top, last near the bottom. */
    assert_true(row_in_col(&c, 0) <= 1);
    assert_true(row_in_col(&c, 19) >= 8);
    /* Range covers the data with headroom. */
    assert_true(c.y_lo < 1 && c.y_hi > 5);
    assert_true(c.x_lo == 0 && c.x_hi == 4);
    /* A connected line lights every column. */
    for (int col = 0; col < 20; col++)
        assert_true(row_in_col(&c, col) >= 0);
    tb_plot_canvas_free(&c);
}

static void test_single_and_two_points(void **state)
{
    (void)state;
    tb_plot_canvas c = {0};
    assert_true(tb_plot_canvas_resize(&c, 30, 8));
    double x1[1] = {7}, y1[1] = {2.5};
    tb_plot_series s = {.name = "loss", .x = x1, .y = y1, .n = 1, .glyph = '*'};
    tb_plot_opts o = opts();
    tb_plot_render(&c, &s, 1, &o);
    assert_false(c.empty);
    assert_int_equal(lit_cells(&c), 1);
    /* One point is centred both ways. */
    assert_int_equal(row_in_col(&c, 15) >= 0 || row_in_col(&c, 14) >= 0, 1);
    double x2[2] = {1, 2}, y2[2] = {3, 1};
    s.x = x2;
    s.y = y2;
    s.n = 2;
    tb_plot_render(&c, &s, 1, &o);
    assert_true(lit_cells(&c) >= 30); /* a line from edge to edge */
    assert_true(row_in_col(&c, 0) < row_in_col(&c, 29));
    tb_plot_canvas_free(&c);
}

static void test_nan_makes_gap(void **state)
{
    (void)state;
    tb_plot_canvas c = {0};
    assert_true(tb_plot_canvas_resize(&c, 40, 6));
    double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {1, 1, NAN, INFINITY, 1, 1};
    tb_plot_series s = {.name = "loss", .x = x, .y = y, .n = 6, .glyph = '*'};
    tb_plot_opts o = opts();
    tb_plot_render(&c, &s, 1, &o);
    assert_false(c.empty);
    /* Columns over x in (1, 4) stay empty: no line through the NaN/Inf. */
    int mid = (int)lround(2.5 / 5.0 * 39);
    assert_int_equal(row_in_col(&c, mid), -1);
    assert_true(row_in_col(&c, 0) >= 0 && row_in_col(&c, 39) >= 0);
    /* All NaN: empty, no crash. */
    double yn[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    s.y = yn;
    tb_plot_render(&c, &s, 1, &o);
    assert_true(c.empty);
    assert_int_equal(lit_cells(&c), 0);
    tb_plot_canvas_free(&c);
}

static void test_log_y_skips_non_positive(void **state)
{
    (void)state;
    tb_plot_canvas c = {0};
    assert_true(tb_plot_canvas_resize(&c, 30, 9));
    double x[5] = {0, 1, 2, 3, 4}, y[5] = {100, 10, 0, -5, 1};
    tb_plot_series s = {.name = "loss", .x = x, .y = y, .n = 5, .glyph = '*'};
    tb_plot_opts o = opts();
    o.log_y = true;
    tb_plot_render(&c, &s, 1, &o);
    assert_false(c.empty);
    assert_true(c.y_lo > 0 && c.y_lo < 1.0 && c.y_hi > 100);
    /* log scale: 10 sits half-way between 100 and 1 */
    int r100 = row_in_col(&c, 0), r10 = row_in_col(&c, (int)lround(1 / 4.0 * 29));
    int r1 = row_in_col(&c, 29);
    assert_true(r100 < r10 && r10 < r1);
    assert_true(abs((r10 - r100) - (r1 - r10)) <= 1);
    /* Only non-positive values: empty under log-y, fine under linear. */
    double yz[2] = {0, -1};
    double xz[2] = {0, 1};
    s.x = xz;
    s.y = yz;
    s.n = 2;
    tb_plot_render(&c, &s, 1, &o);
    assert_true(c.empty);
    o.log_y = false;
    tb_plot_render(&c, &s, 1, &o);
    assert_false(c.empty);
    tb_plot_canvas_free(&c);
}

static void test_resize_and_zoom(void **state)
{
    (void)state;
    tb_plot_canvas c = {0};
    double x[100], y[100];
    for (int i = 0; i < 100; i++)
        x[i] = i, y[i] = 100 - i;
    tb_plot_series s = {.name = "loss", .x = x, .y = y, .n = 100, .glyph = '*'};
    tb_plot_opts o = opts();
    for (int w = 4; w <= 120; w += 29) {
        assert_true(tb_plot_canvas_resize(&c, w, 3 + w / 10));
        tb_plot_render(&c, &s, 1, &o);
        assert_int_equal(c.w, w);
        assert_true(row_in_col(&c, w - 1) >= 0);
    }
    /* Zoom to the last 10 steps: the range follows the visible data. */
    o.x_min = 90;
    tb_plot_render(&c, &s, 1, &o);
    assert_true(c.x_lo == 90 && c.x_hi == 99);
    assert_true(c.y_hi < 12 && c.y_lo > 0);
    assert_false(tb_plot_canvas_resize(&c, 0, 5));
    tb_plot_canvas_free(&c);
}

static void test_ema_debiased_and_gaps(void **state)
{
    (void)state;
    double y[5] = {2, 2, NAN, 2, 4}, out[5];
    tb_plot_ema(y, 5, 0.9, out);
    assert_true(fabs(out[0] - 2) < 1e-12); /* debiased: no pull toward 0 */
    assert_true(fabs(out[1] - 2) < 1e-12);
    assert_true(isnan(out[2]));
    assert_true(out[4] > 2 && out[4] < 4);
}

static void test_best_marker(void **state)
{
    (void)state;
    tb_plot_canvas c = {0};
    assert_true(tb_plot_canvas_resize(&c, 20, 5));
    double x[3] = {0, 10, 20}, y[3] = {3, 1, 2};
    tb_plot_series s = {.name = "eval", .x = x, .y = y, .n = 3, .glyph = 'o', .markers = true};
    tb_plot_opts o = opts();
    o.has_best = true;
    o.best_x = 10;
    o.best_y = 1;
    tb_plot_render(&c, &s, 1, &o);
    int found = 0;
    for (int i = 0; i < c.w * c.h; i++)
        found += c.series[i] == -2;
    assert_int_equal(found, 1);
    tb_plot_canvas_free(&c);
}

static void test_format_value(void **state)
{
    (void)state;
    char b[32];
    tb_plot_format_value(2.3456, b, sizeof b);
    assert_string_equal(b, "2.346");
    tb_plot_format_value(12345, b, sizeof b);
    assert_string_equal(b, "12.3k");
    tb_plot_format_value(0.0002, b, sizeof b);
    assert_string_equal(b, "2e-04");
    tb_plot_format_value(NAN, b, sizeof b);
    assert_string_equal(b, "nan");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scaling_descending_line),
        cmocka_unit_test(test_single_and_two_points),
        cmocka_unit_test(test_nan_makes_gap),
        cmocka_unit_test(test_log_y_skips_non_positive),
        cmocka_unit_test(test_resize_and_zoom),
        cmocka_unit_test(test_ema_debiased_and_gaps),
        cmocka_unit_test(test_best_marker),
        cmocka_unit_test(test_format_value),
    };
    return cmocka_run_group_tests_name("plot", tests, NULL, NULL);
}
