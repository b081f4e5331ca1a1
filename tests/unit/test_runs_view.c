/* What the Runs screen and `tunebench runs` show: column text and order (tui/run_columns)
 * and the incremental loss curves (tui/run_curves), including an eval loss merged into a
 * step after that step was read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/run_columns.h"
#include "tui/run_curves.h"

static tb_metric_row row(int64_t step, double train, double eval)
{
    return (tb_metric_row){.step = step, .epoch = NAN, .train_loss = train, .eval_loss = eval, .lr = NAN,
                           .grad_norm = NAN, .tokens_per_s = NAN, .wall_time = NAN};
}

static void text(const tb_run_info *r, tb_run_col c, const char *want)
{
    char buf[128];
    tb_run_col_text(r, c, buf, sizeof buf);
    assert_string_equal(buf, want);
}

/* columns/one full row and one blank: units, "-" for unknown, lr in e-notation. */
static void test_column_text(void **state)
{
    (void)state;
    tb_run_info r;
    tb_run_info_init(&r);
    text(&r, TB_RUN_COL_BEST_EVAL, "-");
    text(&r, TB_RUN_COL_STEP, "-");
    text(&r, TB_RUN_COL_LR, "-");
    text(&r, TB_RUN_COL_MODE, "-");
    text(&r, TB_RUN_COL_STATUS, "created");
    r.id = 7;
    r.best_eval_loss = 1.87436;
    r.last_step = 120;
    text(&r, TB_RUN_COL_STEP, "120");
    r.total_steps = 300;
    text(&r, TB_RUN_COL_STEP, "120/300");
    text(&r, TB_RUN_COL_BEST_EVAL, "1.8744");
    r.lr = 2e-4;
    text(&r, TB_RUN_COL_LR, "2e-4");
    r.lr = 1.5e-5;
    text(&r, TB_RUN_COL_LR, "1.5e-5");
    r.lr = 9.999e-5; /* rounds up a decade, not "10e-5" */
    text(&r, TB_RUN_COL_LR, "1e-4");
    r.lr = 0.05;
    text(&r, TB_RUN_COL_LR, "0.05");
    r.trainable_params = 921600;
    text(&r, TB_RUN_COL_PARAMS, "922k");
    r.adapter_bytes = 3687424;
    text(&r, TB_RUN_COL_ADAPTER, "3.52 MiB");
    r.wall_time = 3725;
    text(&r, TB_RUN_COL_WALL, "1h02m");
    r.tokens_per_s = 5105.4;
    text(&r, TB_RUN_COL_TOKENS_S, "5.11k");
}

/* columns/keys: every column has a --sort key that parses back to it. */
static void test_column_keys(void **state)
{
    (void)state;
    for (int c = 0; c < TB_RUN_COL_COUNT; c++) {
        tb_run_col got;
        assert_true(tb_run_col_parse(tb_run_col_key((tb_run_col)c), &got));
        assert_int_equal(got, c);
        assert_non_null(tb_run_columns[c].title);
        assert_true(tb_run_columns[c].width >= (int)strlen(tb_run_columns[c].title));
    }
    tb_run_col got;
    assert_false(tb_run_col_parse("nope", &got));
}

/* columns/order: numeric compare, names compare as text, unknown numbers are missing. */
static void test_column_order(void **state)
{
    (void)state;
    tb_run_info a, b;
    tb_run_info_init(&a);
    tb_run_info_init(&b);
    snprintf(a.name, sizeof a.name, "beta");
    snprintf(b.name, sizeof b.name, "alpha");
    a.best_eval_loss = 1.5;
    b.best_eval_loss = 1.25;
    a.rank = 16;
    b.rank = 8;
    assert_true(tb_run_col_compare(&a, &b, TB_RUN_COL_BEST_EVAL) > 0);
    assert_true(tb_run_col_compare(&a, &b, TB_RUN_COL_NAME) > 0);
    assert_true(tb_run_col_compare(&b, &a, TB_RUN_COL_RANK) < 0);
    assert_true(tb_run_col_missing(&a, TB_RUN_COL_PARAMS));
    assert_false(tb_run_col_missing(&a, TB_RUN_COL_RANK));
    assert_false(tb_run_col_missing(&a, TB_RUN_COL_NAME));
    assert_true(tb_run_col_missing(&a, TB_RUN_COL_MODE));
}

/* curves/rows 1..3 then 3..5 with step 3 gaining its eval: 5 points, eval kept, no duplicate. */
static void test_curve_merge(void **state)
{
    (void)state;
    tb_run_curve c = {.id = 1};
    bool changed;
    tb_metric_row first[3] = {row(1, 3.0, NAN), row(2, 2.5, NAN), row(3, 2.0, NAN)};
    assert_true(tb_run_curve_merge(&c, first, 3, &changed));
    assert_true(changed);
    assert_int_equal(c.n, 3);
    tb_metric_row again[1] = {row(3, 2.0, NAN)};
    assert_true(tb_run_curve_merge(&c, again, 1, &changed));
    assert_false(changed); /* nothing new */
    tb_metric_row next[3] = {row(3, NAN, 2.2), row(4, 1.8, NAN), row(5, 1.7, 2.1)};
    assert_true(tb_run_curve_merge(&c, next, 3, &changed));
    assert_true(changed);
    assert_int_equal(c.n, 5);
    assert_true(c.train[2] == 2.0 && c.eval[2] == 2.2);
    assert_true(c.step[4] == 5 && c.eval[4] == 2.1);
    double s, l;
    assert_true(tb_run_curve_best_eval(&c, &s, &l));
    assert_true(s == 5 && l == 2.1);
    tb_run_curve_free(&c);
}

/* curves/store: a reader polling while a writer appends and later merges an eval into a step
 * already read sees every step once and the eval. 600 steps: the arrays grow past 256. */
static void test_curve_refresh_from_store(void **state)
{
    (void)state;
    char dir[] = "/tmp/tb-curves-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/tunebench.db", dir);
    tb_run_store *w, *r;
    tb_error err;
    assert_int_equal(tb_run_store_open(&w, path, false, &err), TB_OK);
    tb_run_info info;
    tb_run_info_init(&info);
    snprintf(info.name, sizeof info.name, "live");
    int64_t id;
    assert_int_equal(tb_run_store_create(w, &info, &id, &err), TB_OK);
    assert_int_equal(tb_run_store_open(&r, path, true, &err), TB_OK);
    tb_run_curves cs = {0};
    bool changed;
    for (int s = 1; s <= 600; s++) {
        tb_metric_row m = row(s, 10.0 / s, NAN);
        assert_int_equal(tb_run_store_append_metrics(w, id, &m, 1, &err), TB_OK);
        if (s % 100 == 0) { /* the eval of this step lands after the UI read the step */
            assert_int_equal(tb_run_curves_refresh(&cs, r, id, &changed, &err), TB_OK);
            tb_metric_row e = row(s, NAN, 5.0 / s);
            assert_int_equal(tb_run_store_append_metrics(w, id, &e, 1, &err), TB_OK);
        }
        if (s % 7 == 0)
            assert_int_equal(tb_run_curves_refresh(&cs, r, id, &changed, &err), TB_OK);
    }
    assert_int_equal(tb_run_curves_refresh(&cs, r, id, &changed, &err), TB_OK);
    tb_run_curve *c = tb_run_curves_get(&cs, id);
    assert_int_equal(c->n, 600);
    int evals = 0;
    for (size_t i = 0; i < c->n; i++) {
        assert_true(c->step[i] == (double)(i + 1));
        assert_true(c->train[i] == 10.0 / (double)(i + 1));
        if (isfinite(c->eval[i])) {
            evals++;
            assert_true(c->eval[i] == 5.0 / (double)(i + 1));
        }
    }
    assert_int_equal(evals, 6);
    assert_int_equal(cs.n, 1);
    tb_run_curves_free(&cs);
    tb_run_store_close(r);
    tb_run_store_close(w);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_column_text),
        cmocka_unit_test(test_column_keys),
        cmocka_unit_test(test_column_order),
        cmocka_unit_test(test_curve_merge),
        cmocka_unit_test(test_curve_refresh_from_store),
    };
    return cmocka_run_group_tests_name("runs_view", tests, NULL, NULL);
}
