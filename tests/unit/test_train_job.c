/* The Train screen's run machinery without a terminal: a run on a worker thread watched by
 * polling (the curve grows point by point, pause holds the step, save-now writes a
 * checkpoint, stop ends it with a checkpoint, and the run store the Runs screen reads holds
 * the same points); a refused start; the alarm banner on the engine's own messages (the
 * health detectors' and the trainer's NaN roll-back). */
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

#include "engine/core/fs.h"
#include "engine/train/health.h"
#include "tui/train_alarms.h"
#include "tui/train_job.h"
#include "vtest.h"

static char model[1024], data[1024], work[256];

static void opts(tb_train_options *o)
{
    tb_train_options_init(o);
    snprintf(o->model, sizeof o->model, "%s", model);
    snprintf(o->data, sizeof o->data, "%s", data);
    o->be.threads = 1;
    o->batch = 2, o->grad_accum = 1, o->rank = 4, o->lr = 5e-3;
    o->logging_steps = 1, o->eval_split = 0.1, o->eval_steps = 5, o->save_steps = 0;
    o->max_steps = 1000000; /* until stopped */
    o->warmup_ratio = 0;
}

/* Poll like the screen's tick until cond(live) or 20 s. */
static bool poll_until(tb_train_job *j, tb_train_live *l, bool (*cond)(const tb_train_live *, int64_t), int64_t arg)
{
    for (int i = 0; i < 2000; i++) {
        tb_train_job_collect(j, l);
        if (cond(l, arg))
            return true;
        usleep(10000);
    }
    return false;
}

static bool has_points(const tb_train_live *l, int64_t n) { return (int64_t)l->curve.n >= n; }
static bool in_state(const tb_train_live *l, int64_t s) { return l->have && l->prog.state == (tb_train_state)s; }
static bool has_checkpoint(const tb_train_live *l, int64_t s) { (void)s; return l->prog.last_checkpoint[0] != 0; }
static bool ended(tb_train_job *j) { return tb_train_job_phase(j) == TB_JOB_ENDED; }

/* A job on fresh state, started with o (runs under work/sub). */
static void start(tb_train_job *j, tb_train_live *l, tb_train_options *o, const char *sub)
{
    char out[300];
    snprintf(out, sizeof out, "%s/%s", work, sub);
    snprintf(o->out, sizeof o->out, "%s", out);
    tb_train_job_init(j);
    memset(l, 0, sizeof *l);
    tb_train_live_reset(l);
    tb_error err;
    assert_int_equal(tb_train_job_start(j, o, &err), TB_OK);
}

/* Wait for the worker to end, take the last reading, join. */
static void run_to_end(tb_train_job *j, tb_train_live *l)
{
    for (int i = 0; i < 2000 && !ended(j); i++)
        usleep(10000);
    assert_true(ended(j));
    tb_train_job_collect(j, l);
    tb_train_job_finish(j);
}

/* job/run: start, grow, pause, save, stop; the store has the run and its points */
static void test_run_pause_save_stop(void **state)
{
    (void)state;
    tb_train_options o;
    opts(&o);
    tb_train_job j;
    tb_train_live l;
    start(&j, &l, &o, "runs");
    assert_true(tb_train_job_busy(&j));
    tb_error err;
    assert_int_equal(tb_train_job_start(&j, &o, &err), TB_ERR_INVALID); /* one at a time */
    assert_true(poll_until(&j, &l, has_points, 20));
    assert_true(l.curve.step[0] == 0 && isfinite(l.curve.eval[0])); /* the baseline eval */
    /* steps arrive one by one, each with a train loss, lr and grad norm */
    for (size_t i = 1; i < 20; i++) {
        assert_true(l.curve.step[i] == (double)i);
        assert_true(isfinite(l.curve.train[i]) && l.curve.lr[i] > 0 && isfinite(l.curve.grad_norm[i]));
    }
    assert_true(isfinite(l.curve.eval[5]) && isfinite(l.curve.eval[10])); /* joined into their steps */

    tb_train_job_request(&j, TB_REQ_PAUSE);
    assert_true(poll_until(&j, &l, in_state, TB_TRAIN_PAUSED));
    int64_t paused_at = l.prog.step;
    usleep(200000);
    tb_train_job_collect(&j, &l);
    assert_int_equal(l.prog.step, paused_at);
    tb_train_job_request(&j, TB_REQ_RESUME);
    assert_true(poll_until(&j, &l, has_points, (int64_t)l.curve.n + 5));

    tb_train_job_request(&j, TB_REQ_SAVE);
    assert_true(poll_until(&j, &l, has_checkpoint, 0));
    assert_true(tb_path_is_dir(l.prog.last_checkpoint));

    tb_train_job_request(&j, TB_REQ_STOP);
    run_to_end(&j, &l);
    assert_false(tb_train_job_busy(&j));
    assert_int_equal(tb_train_job_phase(&j), TB_JOB_IDLE);
    assert_int_equal(l.prog.state, TB_TRAIN_STOPPED);
    assert_int_equal(j.create_status, TB_OK);
    assert_int_equal(j.run_status, TB_OK);
    printf("# job/stopped at step %lld with %zu points, checkpoint %s\n", (long long)l.prog.step, l.curve.n,
           l.prog.last_checkpoint);

    /* the run store (what the Runs screen reads) has the run, stopped, with every point */
    char db[400];
    snprintf(db, sizeof db, "%s/tunebench.db", o.out);
    tb_run_store *rs;
    assert_int_equal(tb_run_store_open(&rs, db, true, &err), TB_OK);
    tb_run_info ri;
    assert_int_equal(tb_run_store_get(rs, l.prog.run_id, &ri, &err), TB_OK);
    assert_int_equal(ri.status, TB_RUN_STOPPED);
    free(ri.config_json);
    tb_metric_row *rows;
    size_t n;
    assert_int_equal(tb_run_store_metrics(rs, l.prog.run_id, -1, &rows, &n, &err), TB_OK);
    assert_int_equal(n, l.curve.n);
    for (size_t i = 0; i < n; i++)
        assert_true(rows[i].step == (int64_t)l.curve.step[i]);
    free(rows);
    tb_run_store_close(rs);

    /* the job starts again after finish */
    o.max_steps = 3;
    tb_train_live_reset(&l);
    assert_int_equal(tb_train_job_start(&j, &o, &err), TB_OK);
    run_to_end(&j, &l);
    assert_int_equal(l.prog.state, TB_TRAIN_FINISHED);
    assert_int_equal(l.prog.step, 3);
    tb_train_live_free(&l);
    tb_train_job_destroy(&j);
}

/* job/refused: a bad model fails in create; the job ends without a trainer */
static void test_refused_start(void **state)
{
    (void)state;
    tb_train_options o;
    opts(&o);
    snprintf(o.model, sizeof o.model, "%s/no-such-model", work);
    tb_train_job j;
    tb_train_live l;
    start(&j, &l, &o, "refused");
    run_to_end(&j, &l);
    assert_false(l.have);
    assert_int_not_equal(j.create_status, TB_OK);
    printf("# job/refused: %s: %s: %s\n", j.err.file, j.err.field, j.err.message);
    assert_non_null(strstr(j.err.file, "no-such-model"));
    tb_train_job_destroy(&j);
}

/* job/destroy: destroying a live job stops the run with a checkpoint (quitting the UI) */
static void test_destroy_stops(void **state)
{
    (void)state;
    tb_train_options o;
    opts(&o);
    tb_train_job j;
    tb_train_live l;
    start(&j, &l, &o, "quit");
    assert_true(poll_until(&j, &l, has_points, 3));
    int64_t id = l.prog.run_id;
    tb_train_job_destroy(&j);
    tb_error err;
    char db[400];
    snprintf(db, sizeof db, "%s/tunebench.db", o.out);
    tb_run_store *rs;
    assert_int_equal(tb_run_store_open(&rs, db, true, &err), TB_OK);
    tb_run_info ri;
    assert_int_equal(tb_run_store_get(rs, id, &ri, &err), TB_OK);
    assert_int_equal(ri.status, TB_RUN_STOPPED);
    free(ri.config_json);
    tb_run_store_close(rs);
    tb_train_live_free(&l);
}

static tb_run_event event(const char *level, int64_t step, const char *msg)
{
    tb_run_event e = {.step = step};
    snprintf(e.level, sizeof e.level, "%s", level);
    snprintf(e.message, sizeof e.message, "%s", msg);
    return e;
}

/* alarms/classify: the health detectors' own messages get their labels */
static void test_classify_engine_messages(void **state)
{
    (void)state;
    char msg[512];
    tb_health h;
    tb_health_init(&h, 2, 0, 0);
    /* overfitting: eval up twice while train goes down */
    int f = 0;
    double evals[] = {2.0, 2.1, 2.2}, trains[] = {1.5, 1.4, 1.3};
    for (int i = 0; i < 3; i++)
        f |= tb_health_eval(&h, i * 10, evals[i], trains[i], msg, sizeof msg);
    assert_true(f & TB_HEALTH_OVERFIT);
    assert_int_equal(tb_alarm_classify(msg), TB_ALARM_OVERFIT);
    /* a grad-norm spike */
    for (int i = 0; i < 20; i++)
        tb_health_grad(&h, i, 1.0, msg, sizeof msg);
    assert_true(tb_health_grad(&h, 21, 100.0, msg, sizeof msg));
    assert_int_equal(tb_alarm_classify(msg), TB_ALARM_GRAD_SPIKE);
    /* a loss stuck at zero */
    bool z = false;
    for (int i = 0; i < 10 && !z; i++)
        z = tb_health_train(&h, i, 0.0, msg, sizeof msg);
    assert_true(z);
    assert_int_equal(tb_alarm_classify(msg), TB_ALARM_ZERO_LOSS);
    assert_int_equal(tb_alarm_classify("early stopping: no eval improvement"), TB_ALARM_OTHER);
}

/* alarms/nan: a run with poisoned steps logs skips and a roll-back; the banner shows NaN/Inf */
static void test_nan_rollback_banner(void **state)
{
    (void)state;
    tb_train_options o;
    opts(&o);
    o.max_steps = 12;
    o.fault_nan_step = 4, o.fault_nan_count = 3; /* three bad steps in a row: roll back */
    tb_train_job j;
    tb_train_live l;
    start(&j, &l, &o, "nan");
    run_to_end(&j, &l);
    assert_int_equal(l.prog.state, TB_TRAIN_FINISHED);
    long skips = 0, rollbacks = 0;
    for (size_t i = 0; i < l.n_events; i++) {
        tb_alarm_kind k = tb_alarm_classify(l.events[i].message);
        skips += k == TB_ALARM_NAN && strcmp(l.events[i].level, "warning") == 0;
        rollbacks += k == TB_ALARM_NAN && strcmp(l.events[i].level, "alarm") == 0;
    }
    assert_int_equal(skips, 3);
    assert_int_equal(rollbacks, 1);
    assert_int_equal(l.banner.kind, TB_ALARM_NAN);
    assert_true(l.banner.severe);
    assert_non_null(strstr(l.banner.message, "rolled back"));
    assert_int_equal(l.banner.alarms, 1);
    assert_int_equal(l.banner.warnings, 3);
    tb_train_live_free(&l);
    tb_train_job_destroy(&j);
}

/* alarms/banner: alarms replace, warnings wait behind an unread alarm, info never shows,
 * dismiss clears until the next one */
static void test_banner_state(void **state)
{
    (void)state;
    tb_alarm_banner b;
    tb_alarm_banner_reset(&b);
    tb_run_event info = event("info", 1, "no checkpoint: starting from step 0");
    assert_false(tb_alarm_banner_feed(&b, &info));
    assert_int_equal(b.kind, TB_ALARM_NONE);
    tb_run_event spike = event("warning", 5, "grad-norm spike at step 5: 9 is 12x the running norm 0.7");
    assert_true(tb_alarm_banner_feed(&b, &spike));
    assert_int_equal(b.kind, TB_ALARM_GRAD_SPIKE);
    assert_false(b.severe);
    tb_run_event over = event("alarm", 50, "overfitting: eval loss rose for 3 evals (1.2 -> 1.4)");
    tb_alarm_banner_feed(&b, &over);
    assert_int_equal(b.kind, TB_ALARM_OVERFIT);
    assert_true(b.severe);
    assert_int_equal(b.step, 50);
    assert_int_equal(b.more, 1);
    tb_alarm_banner_feed(&b, &spike); /* behind the unread alarm */
    assert_int_equal(b.kind, TB_ALARM_OVERFIT);
    assert_int_equal(b.more, 2);
    tb_alarm_banner_dismiss(&b);
    assert_int_equal(b.kind, TB_ALARM_NONE);
    assert_int_equal(b.more, 0);
    tb_alarm_banner_feed(&b, &spike); /* shows again once dismissed */
    assert_int_equal(b.kind, TB_ALARM_GRAD_SPIKE);
    assert_int_equal(b.more, 0);
    assert_int_equal(b.alarms, 1);
    assert_int_equal(b.warnings, 3);
    assert_string_equal(tb_alarm_kind_label(TB_ALARM_ZERO_LOSS), "LOSS AT ZERO");
}

static int setup(void **state)
{
    (void)state;
    snprintf(model, sizeof model, "%s", vt_source("tests/reference/llama/llama_vocab320_f32"));
    snprintf(data, sizeof data, "%s", vt_source("datasets/examples/alpaca_clean.jsonl"));
    snprintf(work, sizeof work, "/tmp/tb-train-job.%d", (int)getpid());
    tb_error err;
    return tb_mkdirs(work, &err) == TB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_pause_save_stop),
        cmocka_unit_test(test_refused_start),
        cmocka_unit_test(test_destroy_stops),
        cmocka_unit_test(test_classify_engine_messages),
        cmocka_unit_test(test_nan_rollback_banner),
        cmocka_unit_test(test_banner_state),
    };
    return cmocka_run_group_tests_name("train_job", tests, setup, teardown);
}
