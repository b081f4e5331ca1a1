/* Run store: round trip, upsert of eval rows, events, and a reader in another process
 * polling while a writer appends (WAL). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/io/run_store.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/tb-runstore-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void db_path(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s/tunebench.db", dir, name); }

static void test_round_trip(void **state)
{
    (void)state;
    char path[512];
    db_path(path, sizeof path, "rt");
    tb_run_store *rs;
    tb_error err;
    assert_int_equal(tb_run_store_open(&rs, path, false, &err), TB_OK);
    tb_run_info info;
    tb_run_info_init(&info);
    snprintf(info.name, sizeof info.name, "demo r=16");
    snprintf(info.mode, sizeof info.mode, "lora");
    info.rank = 16;
    info.lr = 2e-4;
    info.config_json = (char *)(uintptr_t)"{\"rank\":16}";
    int64_t id = -1;
    assert_int_equal(tb_run_store_create(rs, &info, &id, &err), TB_OK);
    assert_true(id > 0);
    tb_metric_row rows[3] = {
        {.step = 1, .epoch = 0.1, .train_loss = 3.0, .eval_loss = NAN, .lr = 1e-4, .grad_norm = 1.5, .tokens_per_s = 100, .wall_time = 1},
        {.step = 2, .epoch = 0.2, .train_loss = 2.5, .eval_loss = NAN, .lr = 2e-4, .grad_norm = 1.2, .tokens_per_s = 110, .wall_time = 2},
        {.step = 3, .epoch = 0.3, .train_loss = 2.0, .eval_loss = NAN, .lr = 2e-4, .grad_norm = 1.0, .tokens_per_s = 120, .wall_time = 3},
    };
    assert_int_equal(tb_run_store_append_metrics(rs, id, rows, 3, &err), TB_OK);
    /* An eval for step 2 merges into that row, keeping its train loss. */
    tb_metric_row ev = {.step = 2, .epoch = NAN, .train_loss = NAN, .eval_loss = 2.7, .lr = NAN, .grad_norm = NAN,
                        .tokens_per_s = NAN, .wall_time = NAN};
    assert_int_equal(tb_run_store_append_metrics(rs, id, &ev, 1, &err), TB_OK);
    tb_metric_row *got;
    size_t n;
    assert_int_equal(tb_run_store_metrics(rs, id, 0, &got, &n, &err), TB_OK);
    assert_int_equal(n, 3);
    assert_true(got[1].train_loss == 2.5 && got[1].eval_loss == 2.7);
    assert_true(isnan(got[0].eval_loss));
    free(got);
    assert_int_equal(tb_run_store_metrics(rs, id, 2, &got, &n, &err), TB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(got[0].step, 3);
    free(got);

    tb_run_event e = {.step = 3, .time = 0};
    snprintf(e.level, sizeof e.level, "alarm");
    snprintf(e.message, sizeof e.message, "eval loss rising");
    assert_int_equal(tb_run_store_add_event(rs, id, &e, &err), TB_OK);
    tb_run_event *evs;
    assert_int_equal(tb_run_store_events(rs, id, &evs, &n, &err), TB_OK);
    assert_int_equal(n, 1);
    assert_string_equal(evs[0].message, "eval loss rising");
    free(evs);

    assert_int_equal(tb_run_store_set_status(rs, id, TB_RUN_FINISHED, &err), TB_OK);
    tb_run_info back;
    assert_int_equal(tb_run_store_get(rs, id, &back, &err), TB_OK);
    assert_string_equal(back.name, "demo r=16");
    assert_int_equal(back.status, TB_RUN_FINISHED);
    assert_int_equal(back.rank, 16);
    assert_int_equal(back.last_step, 3);
    assert_true(isfinite(back.ended));
    /* No summary written by the trainer: derived from the metrics. */
    assert_true(back.best_eval_loss == 2.7 && back.best_eval_step == 2);
    assert_true(back.final_eval_loss == 2.7 && back.final_train_loss == 2.0);
    assert_true(back.tokens_per_s == 110 && back.wall_time == 3);
    assert_string_equal(back.config_json, "{\"rank\":16}");
    free(back.config_json);
    assert_int_equal(tb_run_store_get(rs, 999, &back, &err), TB_ERR_INVALID);
    tb_run_store_close(rs);

    /* Read-only open of a missing store fails cleanly. */
    db_path(path, sizeof path, "missing");
    assert_int_equal(tb_run_store_open(&rs, path, true, &err), TB_ERR_IO);
}

static void test_reader_while_writer_appends(void **state)
{
    (void)state;
    char path[512];
    db_path(path, sizeof path, "live");
    tb_run_store *rs;
    tb_error err;
    assert_int_equal(tb_run_store_open(&rs, path, false, &err), TB_OK);
    tb_run_info info;
    tb_run_info_init(&info);
    snprintf(info.name, sizeof info.name, "live");
    int64_t id;
    assert_int_equal(tb_run_store_create(rs, &info, &id, &err), TB_OK);
    tb_run_store_close(rs);

    enum { STEPS = 400 };
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* the trainer */
        tb_run_store *w;
        if (tb_run_store_open(&w, path, false, &err) != TB_OK)
            _exit(1);
        for (int s = 1; s <= STEPS; s++) {
            tb_metric_row m = {.step = s, .epoch = s / 100.0, .train_loss = 5.0 / s, .eval_loss = NAN, .lr = 1e-4,
                               .grad_norm = 1, .tokens_per_s = 1000, .wall_time = s};
            if (tb_run_store_append_metrics(w, id, &m, 1, &err) != TB_OK)
                _exit(2);
        }
        tb_run_store_close(w);
        _exit(0);
    }
    /* The UI: poll incrementally, rows arrive in order, none lost or repeated. */
    tb_run_store *r;
    int64_t last = 0;
    int polls = 0;
    while (last < STEPS && polls < 200000) {
        polls++;
        if (tb_run_store_open(&r, path, true, &err) != TB_OK)
            continue;
        tb_metric_row *rows;
        size_t n;
        assert_int_equal(tb_run_store_metrics(r, id, last, &rows, &n, &err), TB_OK);
        for (size_t i = 0; i < n; i++) {
            assert_int_equal(rows[i].step, last + 1);
            assert_true(fabs(rows[i].train_loss - 5.0 / (double)rows[i].step) < 1e-12);
            last = rows[i].step;
        }
        free(rows);
        tb_run_store_close(r);
    }
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(last, STEPS);
}

/* The trainer's summary wins over what the metrics say; a run without metrics stays unknown. */
static void test_summary_over_derived(void **state)
{
    (void)state;
    char path[512];
    db_path(path, sizeof path, "summary");
    tb_run_store *rs;
    tb_error err;
    assert_int_equal(tb_run_store_open(&rs, path, false, &err), TB_OK);
    tb_run_info a, b;
    tb_run_info_init(&a);
    tb_run_info_init(&b);
    snprintf(a.name, sizeof a.name, "summarized");
    snprintf(b.name, sizeof b.name, "empty");
    int64_t ida, idb;
    assert_int_equal(tb_run_store_create(rs, &a, &ida, &err), TB_OK);
    assert_int_equal(tb_run_store_create(rs, &b, &idb, &err), TB_OK);
    tb_metric_row rows[3] = {
        {.step = 10, .epoch = NAN, .train_loss = 3, .eval_loss = 2.0, .lr = NAN, .grad_norm = NAN, .tokens_per_s = NAN, .wall_time = NAN},
        {.step = 20, .epoch = NAN, .train_loss = 2, .eval_loss = 1.5, .lr = NAN, .grad_norm = NAN, .tokens_per_s = NAN, .wall_time = NAN},
        {.step = 30, .epoch = NAN, .train_loss = 1, .eval_loss = 1.75, .lr = NAN, .grad_norm = NAN, .tokens_per_s = NAN, .wall_time = NAN},
    };
    assert_int_equal(tb_run_store_append_metrics(rs, ida, rows, 3, &err), TB_OK);
    tb_run_info got;
    assert_int_equal(tb_run_store_get(rs, ida, &got, &err), TB_OK);
    assert_true(got.best_eval_loss == 1.5 && got.best_eval_step == 20 && got.final_eval_loss == 1.75);
    assert_true(isnan(got.tokens_per_s) && isnan(got.wall_time)); /* no such metrics either */
    free(got.config_json);
    a.id = ida;
    a.best_eval_loss = 1.25;
    a.best_eval_step = 7;
    assert_int_equal(tb_run_store_update(rs, &a, &err), TB_OK);
    tb_run_info *list;
    size_t n;
    assert_int_equal(tb_run_store_list(rs, &list, &n, &err), TB_OK);
    assert_int_equal(n, 2);
    assert_true(list[0].best_eval_loss == 1.25 && list[0].best_eval_step == 7);
    assert_true(list[0].final_eval_loss == 1.75); /* still derived */
    assert_true(isnan(list[1].best_eval_loss) && list[1].last_step == -1 && list[1].best_eval_step == -1);
    tb_run_info_free_list(list, n);
    tb_run_store_close(rs);
}

/* poll: true first, false while nothing changes, true after another connection commits. */
static void test_poll_sees_other_writers(void **state)
{
    (void)state;
    char path[512];
    db_path(path, sizeof path, "poll");
    tb_run_store *w, *r;
    tb_error err;
    assert_int_equal(tb_run_store_open(&w, path, false, &err), TB_OK);
    assert_int_equal(tb_run_store_open(&r, path, true, &err), TB_OK);
    bool changed;
    assert_int_equal(tb_run_store_poll(r, &changed, &err), TB_OK);
    assert_true(changed);
    assert_int_equal(tb_run_store_poll(r, &changed, &err), TB_OK);
    assert_false(changed);
    tb_run_info info;
    tb_run_info_init(&info);
    snprintf(info.name, sizeof info.name, "x");
    int64_t id;
    assert_int_equal(tb_run_store_create(w, &info, &id, &err), TB_OK);
    assert_int_equal(tb_run_store_poll(r, &changed, &err), TB_OK);
    assert_true(changed);
    assert_int_equal(tb_run_store_poll(r, &changed, &err), TB_OK);
    assert_false(changed);
    tb_metric_row m = {.step = 1, .epoch = NAN, .train_loss = 1, .eval_loss = NAN, .lr = NAN, .grad_norm = NAN,
                       .tokens_per_s = NAN, .wall_time = NAN};
    assert_int_equal(tb_run_store_append_metrics(w, id, &m, 1, &err), TB_OK);
    assert_int_equal(tb_run_store_poll(r, &changed, &err), TB_OK);
    assert_true(changed);
    tb_run_store_close(r);
    tb_run_store_close(w);
}

/* stale: running with a dead pid; alive pid, finished runs and unknown pids are not. */
static void test_stale_runs(void **state)
{
    (void)state;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0); /* reaped: the pid is gone */
    tb_run_info r;
    tb_run_info_init(&r);
    r.status = TB_RUN_RUNNING;
    r.pid = child;
    assert_true(tb_run_is_stale(&r));
    assert_string_equal(tb_run_display_status(&r), "stale");
    r.status = TB_RUN_FINISHED;
    assert_false(tb_run_is_stale(&r));
    assert_string_equal(tb_run_display_status(&r), "finished");
    r.status = TB_RUN_RUNNING;
    r.pid = getpid();
    assert_false(tb_run_is_stale(&r));
    assert_string_equal(tb_run_display_status(&r), "running");
    r.pid = -1;
    assert_false(tb_run_is_stale(&r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_over_derived),
        cmocka_unit_test(test_poll_sees_other_writers),
        cmocka_unit_test(test_stale_runs),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_reader_while_writer_appends),
    };
    return cmocka_run_group_tests_name("run_store", tests, setup, teardown);
}
