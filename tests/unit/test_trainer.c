/* The trainer end to end on a tiny model (the 320-token reference model and its tokenizer):
 * a 200-step LoRA run lowers train and eval loss and its saved adapter reloads to the same
 * logits; resume replays an uninterrupted run's losses to 1e-6; NaN steps are skipped and
 * rolled back, divergence fails without writing NaN; pause/save/stop requests from another
 * thread; full fine-tuning from a random init on packed text; the health detectors on
 * made-up curves; settings refused with the flag named. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_logits.h"
#include "engine/core/fs.h"
#include "engine/model/params.h"
#include "engine/train/health.h"
#include "engine/train/trainer.h"
#include "vtest.h"

static char model[1024], work[256], data[512];

/* 160 rows of a learnable task: repeat the input word twice. */
static void write_dataset(const char *path)
{
    static const char *const words[] = {"red", "blue", "green", "model", "engine", "river", "stone", "light",
                                        "cloud", "paper", "music", "table", "garden", "window", "silver", "orange"};
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 160; i++) {
        const char *w = words[(i * 7) % 16], *v = words[(i * 3 + 1) % 16];
        fprintf(f, "{\"instruction\": \"Repeat the words.\", \"input\": \"%s %s %d\", \"output\": \"%s %s, %s %s.\"}\n",
                w, v, i, w, v, w, v);
    }
    fclose(f);
}

static void base_opts(tb_train_options *o, const char *out)
{
    tb_train_options_init(o);
    snprintf(o->model, sizeof o->model, "%s", model);
    snprintf(o->data, sizeof o->data, "%s", data);
    snprintf(o->out, sizeof o->out, "%s", out);
    o->be.threads = 2;
    o->batch = 4, o->grad_accum = 2;
    o->logging_steps = 1;
    o->eval_split = 0.1;
    o->lr = 3e-3;
    o->rank = 8;
    o->save_steps = 0;
}

static tb_trainer *create(const tb_train_options *o, const char *resume)
{
    tb_trainer *t;
    tb_error err;
    if (tb_trainer_create(&t, o, resume, NULL, NULL, &err) != TB_OK)
        fail_msg("create: %s: %s: %s", err.file, err.field, err.message);
    return t;
}

static void run_ok(tb_trainer *t)
{
    tb_error err;
    if (tb_trainer_run(t, &err) != TB_OK)
        fail_msg("run: %s", err.message);
}

static void test_lora_200_steps(void **state)
{
    (void)state;
    char out[300];
    snprintf(out, sizeof out, "%s/r200", work);
    tb_train_options o;
    base_opts(&o, out);
    o.max_steps = 200;
    o.logging_steps = 10;
    o.eval_steps = 50;
    o.dropout = 0.05;
    tb_trainer *t = create(&o, NULL);
    run_ok(t);
    tb_train_progress p;
    tb_trainer_progress(t, &p);
    assert_int_equal(p.state, TB_TRAIN_FINISHED);
    tb_train_metric m[64];
    size_t n = tb_trainer_metrics(t, -1, m, 64);
    double first_train = NAN, last_train = NAN, first_eval = NAN, last_eval = NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isnan(m[i].train_loss))
            last_train = m[i].train_loss, first_train = isnan(first_train) ? m[i].train_loss : first_train;
        if (!isnan(m[i].eval_loss))
            last_eval = m[i].eval_loss, first_eval = isnan(first_eval) ? m[i].eval_loss : first_eval;
    }
    printf("# lora/200 steps, r=8, dropout 0.05: train %.3f -> %.3f, eval %.3f (step 0) -> %.3f, %.0f tokens/s\n",
           first_train, last_train, first_eval, last_eval, p.tokens_per_s);
    assert_int_equal(m[0].step, 0); /* the baseline eval */
    assert_true(last_train < 0.8 * first_train);
    assert_true(last_eval < 0.8 * first_eval);
    assert_true(fabs(p.eval_loss - last_eval) < 1e-12);
    /* memory: measured peak within 10% of the calculator's prediction */
    printf("# lora/memory: peak %.2f MB, predicted %.2f MB\n", (double)p.mem_peak / 1e6, (double)p.mem_predicted / 1e6);
    assert_true(fabs((double)p.mem_peak - (double)p.mem_predicted) < 0.1 * (double)p.mem_predicted);

    /* the written adapter reloads to the trained model's logits */
    int32_t ids[12] = {0, 37, 37, 37, 34, 75, 112, 117, 118, 116, 119, 101};
    float *mine = model_logits(tb_trainer_model(t), ids, 1, 12, false);
    tb_backend *be;
    tb_llama *m2;
    tb_lora *lo;
    tb_error err;
    tb_backend_options bo = {.threads = 2};
    assert_int_equal(tb_backend_create(&be, "cpu", &bo, NULL, 0, &err), TB_OK);
    assert_int_equal(tb_llama_load(&m2, model, be, &err), TB_OK);
    assert_int_equal(tb_lora_load_peft(&lo, p.adapter_path, &m2->cfg, be, false, &err), TB_OK);
    m2->lora = lo;
    float *back = model_logits(m2, ids, 1, 12, false);
    double d = 0;
    for (int i = 0; i < 12 * 320; i++)
        d = fmax(d, fabs((double)mine[i] - back[i]));
    printf("# lora/reloaded adapter: max |logit diff| %.3g\n", d);
    assert_true(d < 1e-6);
    /* and the adapter is not a no-op any more */
    m2->lora = NULL;
    float *base = model_logits(m2, ids, 1, 12, false);
    d = 0;
    for (int i = 0; i < 12 * 320; i++)
        d = fmax(d, fabs((double)base[i] - back[i]));
    assert_true(d > 1e-2);
    free(mine), free(back), free(base);
    tb_lora_free(lo);
    tb_llama_free(m2);
    tb_backend_destroy(be);
    tb_trainer_free(t);
}

/* Stop at step 20 (a checkpoint is written), resume, finish: every logged loss equals the
 * uninterrupted run's to 1e-6. Dropout on, so the masks must replay too. */
typedef struct stopper {
    tb_trainer *t;
    int64_t at;
} stopper;
static void stop_at(void *ctx, const tb_train_update *u)
{
    stopper *s = ctx;
    if (u->kind == TB_UPD_LOG && u->metric->step == s->at)
        tb_trainer_request(s->t, TB_REQ_STOP);
}

static void test_resume_exact(void **state)
{
    (void)state;
    char outa[300], outb[300];
    snprintf(outa, sizeof outa, "%s/ra", work);
    snprintf(outb, sizeof outb, "%s/rb", work);
    tb_train_options o;
    base_opts(&o, outa);
    o.max_steps = 40;
    o.eval_steps = 10;
    o.dropout = 0.1;
    o.checkpointing = true;
    tb_trainer *a = create(&o, NULL);
    run_ok(a);
    tb_train_metric ma[128], mb[128];
    size_t na = tb_trainer_metrics(a, -1, ma, 128);
    tb_trainer_free(a);

    snprintf(o.out, sizeof o.out, "%s", outb);
    stopper s = {NULL, 20};
    tb_trainer *b;
    tb_error err;
    assert_int_equal(tb_trainer_create(&b, &o, NULL, stop_at, &s, &err), TB_OK);
    s.t = b;
    run_ok(b);
    tb_train_progress p;
    tb_trainer_progress(b, &p);
    assert_int_equal(p.state, TB_TRAIN_STOPPED);
    assert_int_equal(p.step, 20);
    char run_dir[1024];
    snprintf(run_dir, sizeof run_dir, "%s", p.run_dir);
    tb_trainer_free(b);
    char ck[1100];
    snprintf(ck, sizeof ck, "%s/checkpoints/step-20/trainer_state.json", run_dir);
    assert_true(tb_path_exists(ck));

    tb_train_options o2;
    tb_train_options_init(&o2);
    b = create(&o2, run_dir);
    tb_trainer_progress(b, &p);
    assert_int_equal(p.step, 20);
    run_ok(b);
    size_t nb = tb_trainer_metrics(b, 20, mb, 128);
    tb_trainer_progress(b, &p);
    assert_int_equal(p.state, TB_TRAIN_FINISHED);
    tb_trainer_free(b);
    double worst = 0;
    size_t compared = 0;
    for (size_t i = 0; i < nb; i++)
        for (size_t k = 0; k < na; k++)
            if (ma[k].step == mb[i].step) {
                if (!isnan(ma[k].train_loss))
                    worst = fmax(worst, fabs(ma[k].train_loss - mb[i].train_loss)), compared++;
                if (!isnan(ma[k].eval_loss))
                    worst = fmax(worst, fabs(ma[k].eval_loss - mb[i].eval_loss)), compared++;
            }
    printf("# resume/stop at 20 of 40, dropout 0.1, checkpointing: %zu losses after resume, max |diff| %.3g\n",
           compared, worst);
    assert_true(compared >= 22);
    assert_true(worst <= 1e-6);
    /* the run store has one run per folder, finished, and every step logged */
    tb_run_store *rs;
    char db[400];
    snprintf(db, sizeof db, "%s/tunebench.db", outb);
    assert_int_equal(tb_run_store_open(&rs, db, true, &err), TB_OK);
    tb_run_info *runs;
    size_t n;
    assert_int_equal(tb_run_store_list(rs, &runs, &n, &err), TB_OK);
    assert_int_equal(n, 1);
    assert_int_equal(runs[0].status, TB_RUN_FINISHED);
    assert_int_equal(runs[0].last_step, 40);
    assert_int_equal(runs[0].trainable_params, 2 * 8 * (32 + 32 + 32 + 16 + 32 + 16 + 32 + 32));
    tb_metric_row *rows;
    size_t nr;
    assert_int_equal(tb_run_store_metrics(rs, runs[0].id, -1, &rows, &nr, &err), TB_OK);
    assert_int_equal(nr, 41); /* 0 (eval) .. 40 */
    /* the same seed and threads give the same run: steps 1..20 of b equal a's too */
    double before = 0;
    for (size_t i = 0; i < nr; i++)
        for (size_t k = 0; k < na; k++)
            if (ma[k].step == rows[i].step && rows[i].step <= 20 && !isnan(ma[k].train_loss))
                before = fmax(before, fabs(ma[k].train_loss - rows[i].train_loss));
    printf("# determinism/same seed, 2 threads, steps 1..20: max |diff| %.3g\n", before);
    assert_true(before == 0);
    free(rows);
    tb_run_info_free_list(runs, n);
    tb_run_store_close(rs);
}

static void test_nan_rollback_and_divergence(void **state)
{
    (void)state;
    char out[300];
    snprintf(out, sizeof out, "%s/nan", work);
    tb_train_options o;
    base_opts(&o, out);
    o.max_steps = 12;
    o.eval_split = 0;
    o.fault_nan_step = 5, o.fault_nan_count = 3;
    tb_trainer *t = create(&o, NULL);
    run_ok(t);
    tb_train_progress p;
    tb_trainer_progress(t, &p);
    assert_int_equal(p.state, TB_TRAIN_FINISHED);
    assert_int_equal(p.bad_steps, 3);
    assert_int_equal(p.rollbacks, 1);
    tb_run_event ev[16];
    size_t ne = tb_trainer_events(t, 0, ev, 16);
    bool alarm = false;
    for (size_t i = 0; i < ne; i++)
        alarm |= strcmp(ev[i].level, "alarm") == 0 && strstr(ev[i].message, "rolled back") != NULL;
    assert_true(alarm);
    tb_trainer_free(t);
    /* NaN forever: the run fails after three roll-backs and writes no adapter */
    o.fault_nan_step = 2, o.fault_nan_count = 1000, o.max_steps = 30;
    t = create(&o, NULL);
    tb_error err;
    assert_int_equal(tb_trainer_run(t, &err), TB_ERR_NUMERIC);
    tb_trainer_progress(t, &p);
    assert_int_equal(p.state, TB_TRAIN_FAILED);
    assert_string_equal(p.adapter_path, "");
    char adapter[1100];
    snprintf(adapter, sizeof adapter, "%s/adapter", p.run_dir);
    assert_false(tb_path_exists(adapter));
    printf("# nan/3 poisoned steps: skipped, 1 roll-back, finished; poisoned forever: %s\n", err.message);
    tb_trainer_free(t);
}

static void *runner(void *arg)
{
    tb_error err;
    tb_trainer_run(arg, &err);
    return NULL;
}

static void wait_state(tb_trainer *t, tb_train_state s)
{
    tb_train_progress p;
    for (int i = 0; i < 2000; i++) {
        tb_trainer_progress(t, &p);
        if (p.state == s)
            return;
        usleep(5000);
    }
    fail_msg("state %s never came (now %s)", tb_train_state_name(s), tb_train_state_name(p.state));
}

static void test_requests_from_another_thread(void **state)
{
    (void)state;
    char out[300];
    snprintf(out, sizeof out, "%s/req", work);
    tb_train_options o;
    base_opts(&o, out);
    o.max_steps = 1000000; /* stopped by request */
    tb_trainer *t = create(&o, NULL);
    pthread_t th;
    tb_trainer_request(t, TB_REQ_PAUSE);
    pthread_create(&th, NULL, runner, t);
    wait_state(t, TB_TRAIN_PAUSED);
    tb_train_progress p;
    tb_trainer_progress(t, &p);
    int64_t at = p.step;
    usleep(50000);
    tb_trainer_progress(t, &p);
    assert_int_equal(p.step, at); /* paused means no steps */
    tb_trainer_request(t, TB_REQ_SAVE);
    tb_trainer_request(t, TB_REQ_RESUME);
    for (int i = 0; i < 2000 && !p.last_checkpoint[0]; i++, usleep(5000))
        tb_trainer_progress(t, &p);
    assert_true(p.last_checkpoint[0] != '\0');
    tb_train_metric m[8];
    assert_true(tb_trainer_metrics(t, -1, m, 8) > 0);
    tb_trainer_request(t, TB_REQ_STOP);
    pthread_join(th, NULL);
    tb_trainer_progress(t, &p);
    assert_int_equal(p.state, TB_TRAIN_STOPPED);
    assert_non_null(strstr(p.message, "--resume"));
    assert_true(p.adapter_path[0] != '\0');
    printf("# requests/pause, save, resume, stop from another thread: stopped at step %lld, %s\n", (long long)p.step,
           p.last_checkpoint);
    tb_trainer_free(t);
}

static void test_full_from_scratch_packed(void **state)
{
    (void)state;
    char out[300], text[300], cfg[300];
    snprintf(out, sizeof out, "%s/full", work);
    snprintf(text, sizeof text, "%s/corpus.txt", work);
    snprintf(cfg, sizeof cfg, "%s/config.json", model);
    FILE *f = fopen(text, "w");
    for (int i = 0; i < 60; i++)
        fprintf(f, "The engine runs a model. The model learns the words.\nRed, blue and green.\n\n");
    fclose(f);
    tb_train_options o;
    tb_train_options_init(&o);
    snprintf(o.init_config, sizeof o.init_config, "%s", cfg);
    snprintf(o.tokenizer, sizeof o.tokenizer, "%s", model);
    snprintf(o.data, sizeof o.data, "%s", text);
    snprintf(o.out, sizeof o.out, "%s", out);
    o.mode = TB_TRAIN_FULL;
    o.packed = true;
    o.max_len = 32;
    o.lr = 3e-3;
    o.max_steps = 60;
    o.batch = 4, o.grad_accum = 1;
    o.logging_steps = 5;
    o.eval_split = 0.1;
    o.eval_steps = 30;
    o.weight_decay = 0.01;
    o.save_dtype = TB_DTYPE_BF16;
    o.be.threads = 2;
    tb_trainer *t = create(&o, NULL);
    run_ok(t);
    tb_train_metric m[64];
    size_t n = tb_trainer_metrics(t, -1, m, 64);
    double first = NAN, last = NAN;
    for (size_t i = 0; i < n; i++)
        if (!isnan(m[i].train_loss))
            last = m[i].train_loss, first = isnan(first) ? m[i].train_loss : first;
    tb_train_progress p;
    tb_trainer_progress(t, &p);
    printf("# full/from scratch (N(0,0.02)), packed text, 60 steps: train %.3f -> %.3f, eval %.3f; model %s\n",
           first, last, p.eval_loss, p.adapter_path);
    assert_true(first > 5.0 && last < 0.5 * first); /* log(320) = 5.77 at the start */
    /* the written model is a Hugging Face directory the engine loads (bf16 as asked) */
    tb_backend *be;
    tb_llama *m2;
    tb_error err;
    tb_backend_options bo = {.threads = 2};
    assert_int_equal(tb_backend_create(&be, "cpu", &bo, NULL, 0, &err), TB_OK);
    if (tb_llama_load(&m2, p.adapter_path, be, &err) != TB_OK)
        fail_msg("%s: %s", err.file, err.message);
    assert_int_equal(m2->embed.buf->dtype, TB_DTYPE_BF16);
    char tokp[1100];
    snprintf(tokp, sizeof tokp, "%s/tokenizer.json", p.adapter_path);
    assert_true(tb_path_exists(tokp));
    int32_t ids[6] = {0, 37, 40, 41, 80, 90};
    float *a = model_logits(tb_trainer_model(t), ids, 1, 6, false), *b = model_logits(m2, ids, 1, 6, false);
    double d = 0;
    for (int i = 0; i < 6 * 320; i++)
        d = fmax(d, fabs((double)a[i] - b[i]));
    assert_true(d < 0.15); /* bf16 rounding of the saved weights */
    free(a), free(b);
    tb_llama_free(m2);
    tb_backend_destroy(be);
    tb_trainer_free(t);
}

static void test_settings_refused(void **state)
{
    (void)state;
    tb_train_options o;
    tb_trainer *t;
    tb_error err;
    char out[300];
    snprintf(out, sizeof out, "%s/bad", work);
    base_opts(&o, out);
    o.rank = 64; /* the model is 32 wide, k/v 16 */
    assert_int_equal(tb_trainer_create(&t, &o, NULL, NULL, NULL, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "rank");
    assert_non_null(strstr(err.message, "min(in, out) = 16"));
    base_opts(&o, out);
    o.lr = 2;
    assert_int_equal(tb_train_options_check(&o, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "lr");
    base_opts(&o, out);
    o.early_stopping_patience = 2, o.eval_split = 0;
    assert_int_equal(tb_train_options_check(&o, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "early-stopping-patience");
    base_opts(&o, out);
    o.max_len = 1000; /* the model's context is 256 */
    assert_int_equal(tb_trainer_create(&t, &o, NULL, NULL, NULL, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "max-len");
    base_opts(&o, out);
    snprintf(o.data, sizeof o.data, "%s", vt_source("datasets/examples/flawed.jsonl"));
    assert_int_equal(tb_trainer_create(&t, &o, NULL, NULL, NULL, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "validator found 3 errors"));
    assert_non_null(strstr(err.message, "dup_exact"));
    /* nothing was created for refused runs */
    char db[400];
    snprintf(db, sizeof db, "%s/tunebench.db", out);
    assert_false(tb_path_exists(db));
}

static void test_health_detectors(void **state)
{
    (void)state;
    tb_health h;
    char msg[512];
    tb_health_init(&h, 3, 2, 0.0);
    /* eval falls, then rises 3 times while train falls: one alarm */
    double ev[] = {2.0, 1.8, 1.7, 1.75, 1.8, 1.9, 2.0}, tr[] = {2.1, 1.9, 1.7, 1.6, 1.5, 1.4, 1.3};
    int flags[7];
    for (int i = 0; i < 7; i++)
        flags[i] = tb_health_eval(&h, (i + 1) * 10, ev[i], tr[i], msg, sizeof msg);
    assert_true(flags[0] & TB_HEALTH_BEST);
    assert_true(flags[2] & TB_HEALTH_BEST);
    assert_false(flags[3] & TB_HEALTH_OVERFIT);
    assert_true(flags[4] & TB_HEALTH_STOP); /* patience 2: two evals without improvement */
    assert_true(flags[5] & TB_HEALTH_OVERFIT);
    assert_false(flags[6] & TB_HEALTH_OVERFIT); /* once per rise */
    assert_int_equal(h.best_step, 30);
    /* rising eval with rising train loss is not overfitting */
    tb_health_init(&h, 2, 0, 0.0);
    for (int i = 0; i < 5; i++)
        assert_false(tb_health_eval(&h, i, 1.0 + i, 1.0 + i, msg, sizeof msg) & TB_HEALTH_OVERFIT);
    /* a grad-norm spike after the warm-up; NaN is not judged here */
    tb_health_init(&h, 3, 0, 0.0);
    for (int i = 0; i < 12; i++)
        assert_false(tb_health_grad(&h, i, 1.0 + 0.01 * i, msg, sizeof msg));
    assert_false(tb_health_grad(&h, 12, NAN, msg, sizeof msg));
    assert_true(tb_health_grad(&h, 13, 50.0, msg, sizeof msg));
    assert_non_null(strstr(msg, "spike"));
    /* loss stuck at zero: once, after 5 logging steps */
    int alarms = 0;
    for (int i = 0; i < 9; i++)
        alarms += tb_health_train(&h, i, 1e-6, msg, sizeof msg);
    assert_int_equal(alarms, 1);
}

static int setup(void **state)
{
    (void)state;
    snprintf(model, sizeof model, "%s", vt_source("tests/reference/llama/llama_vocab320_f32"));
    snprintf(work, sizeof work, "/tmp/tb-trainer.%d", (int)getpid());
    snprintf(data, sizeof data, "%s/repeat.jsonl", work);
    tb_error err;
    if (tb_mkdirs(work, &err) != TB_OK)
        return -1;
    write_dataset(data);
    return 0;
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
        cmocka_unit_test(test_lora_200_steps),
        cmocka_unit_test(test_resume_exact),
        cmocka_unit_test(test_nan_rollback_and_divergence),
        cmocka_unit_test(test_requests_from_another_thread),
        cmocka_unit_test(test_full_from_scratch_packed),
        cmocka_unit_test(test_settings_refused),
        cmocka_unit_test(test_health_detectors),
    };
    return cmocka_run_group_tests_name("trainer", tests, setup, teardown);
}
