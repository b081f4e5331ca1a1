/* The Train screen's form and preflight: the fields start at Engine II's defaults and map
 * to the options `tunebench train` takes; every flag a refusal can name maps to a field;
 * alpha and lr follow their defaults until set; the preflight's plan (steps, memory) equals
 * what the trainer itself computes for the same settings (the trainer is the oracle); model,
 * data and rank refusals come out as the trainer words them. */
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
#include "engine/train/trainer.h"
#include "tui/train_form.h"
#include "tui/train_preflight.h"
#include "vtest.h"

static char model[1024], data[1024], flawed[1024], work[256];

static void form_for(tb_train_form *tf, const char *m, const char *d)
{
    tb_session s;
    memset(&s, 0, sizeof s);
    snprintf(s.model_dir, sizeof s.model_dir, "%s", m);
    snprintf(s.data_path, sizeof s.data_path, "%s", d);
    tb_train_form_init(tf, &s);
}

static tb_train_options get(const tb_train_form *tf)
{
    tb_train_options o;
    tb_error err;
    if (tb_train_form_get(tf, work, &o, &err) != TB_OK)
        fail_msg("form_get: %s: %s", err.field, err.message);
    return o;
}

/* form/defaults: the fields say what tb_train_options_init says (lr and alpha resolved),
 * except the screen's per-step logging and a 10% eval split when there is no eval file. */
static void test_defaults_are_engine_defaults(void **state)
{
    (void)state;
    tb_train_form tf;
    form_for(&tf, "M", "D.jsonl");
    tb_train_options o = get(&tf), e;
    tb_train_options_init(&e);
    assert_string_equal(o.model, "M");
    assert_string_equal(o.data, "D.jsonl");
    assert_string_equal(o.out, work);
    assert_int_equal(o.mode, e.mode);
    assert_int_equal(o.rank, e.rank);
    assert_true(o.alpha == tb_train_options_alpha(&e));
    assert_int_equal(o.targets, e.targets);
    assert_true(o.dropout == e.dropout);
    assert_true(o.lr == tb_train_options_lr(&e));
    assert_int_equal(o.schedule, e.schedule);
    assert_true(o.warmup_ratio == e.warmup_ratio);
    assert_true(o.epochs == e.epochs);
    assert_int_equal(o.max_steps, e.max_steps);
    assert_int_equal(o.batch, e.batch);
    assert_int_equal(o.grad_accum, e.grad_accum);
    assert_int_equal(o.max_len, e.max_len);
    assert_int_equal(o.checkpointing, e.checkpointing);
    assert_int_equal(o.group_by_length, e.group_by_length);
    assert_int_equal(o.eval_steps, e.eval_steps);
    assert_int_equal(o.save_steps, e.save_steps);
    assert_int_equal(o.seed, e.seed);
    assert_string_equal(o.backend, e.backend);
    assert_int_equal(o.logging_steps, 1);
    assert_true(o.eval_split == 0.1);
    /* the rest of the struct: untouched defaults (same JSON once the screen's choices are
     * copied over) */
    e.lr = o.lr, e.alpha = o.alpha, e.logging_steps = o.logging_steps, e.eval_split = o.eval_split;
    snprintf(e.model, sizeof e.model, "M");
    snprintf(e.data, sizeof e.data, "D.jsonl");
    snprintf(e.out, sizeof e.out, "%s", work);
    char *a = tb_train_options_to_json(&o), *b = tb_train_options_to_json(&e);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* form/eval file: an eval file turns the split off (and its field) */
static void test_eval_file_disables_split(void **state)
{
    (void)state;
    tb_session s;
    memset(&s, 0, sizeof s);
    snprintf(s.model_dir, sizeof s.model_dir, "M");
    snprintf(s.eval_path, sizeof s.eval_path, "E.jsonl");
    tb_train_form tf;
    tb_train_form_init(&tf, &s);
    tb_train_options o = get(&tf);
    assert_string_equal(o.eval, "E.jsonl");
    assert_true(o.eval_split == 0);
    assert_true(tf.fields[TF_EVAL_SPLIT].disabled);
    tb_error err;
    assert_int_equal(tb_train_options_check(&o, &err), TB_ERR_INVALID); /* no data: but not the split */
    assert_string_equal(err.field, "data");
    /* another dataset from the Data screen: the session's eval file goes, the split comes */
    tb_train_form_take_data(&tf, "other.jsonl", s.eval_path);
    tb_train_form_changed(&tf, TF_DATA);
    o = get(&tf);
    assert_string_equal(o.data, "other.jsonl");
    assert_string_equal(o.eval, "");
    assert_true(o.eval_split == 0.1);
    assert_false(tf.fields[TF_EVAL_SPLIT].disabled);
    /* an eval file the user typed stays */
    snprintf(tf.fields[TF_EVAL].text, sizeof tf.fields[TF_EVAL].text, "mine.jsonl");
    tb_train_form_take_data(&tf, "third.jsonl", s.eval_path);
    assert_string_equal(get(&tf).eval, "mine.jsonl");
}

/* form/round trip: non-default settings survive set -> get */
static void test_round_trip(void **state)
{
    (void)state;
    tb_train_form tf;
    form_for(&tf, "M", "D");
    tb_train_options o;
    tb_train_options_init(&o);
    snprintf(o.model, sizeof o.model, "model-dir");
    snprintf(o.data, sizeof o.data, "train.csv");
    snprintf(o.name, sizeof o.name, "my run");
    o.rank = 8, o.alpha = 5, o.dropout = 0.05, o.lr = 1e-3, o.targets = TB_LORA_TARGETS_ALL;
    o.schedule = TB_SCHED_LINEAR, o.warmup_ratio = 0.1, o.epochs = 2, o.max_steps = 123, o.batch = 2;
    o.grad_accum = 8, o.max_len = 128, o.checkpointing = true, o.group_by_length = false;
    o.eval_split = 0.2, o.eval_steps = 7;
    o.logging_steps = 3, o.save_steps = 40, o.seed = 7;
    snprintf(o.backend, sizeof o.backend, "auto");
    tb_train_form_set(&tf, &o);
    tb_train_options g = get(&tf);
    snprintf(o.out, sizeof o.out, "%s", work);
    char *a = tb_train_options_to_json(&o), *b = tb_train_options_to_json(&g);
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* full mode: LoRA fields off, mode maps back */
    o.mode = TB_TRAIN_FULL;
    tb_train_form_set(&tf, &o);
    assert_int_equal(tb_train_form_mode(&tf), TB_TRAIN_FULL);
    assert_true(tf.fields[TF_RANK].disabled && tf.fields[TF_TARGETS].disabled);
    assert_int_equal(get(&tf).mode, TB_TRAIN_FULL);
}

/* form/follow: alpha = 2r and lr = the mode's default until the user sets them */
static void test_follow_defaults(void **state)
{
    (void)state;
    tb_train_form tf;
    form_for(&tf, "M", "D");
    tf.fields[TF_RANK].ival = 64;
    tb_train_form_changed(&tf, TF_RANK);
    assert_true(tf.fields[TF_ALPHA].dval == 128);
    tf.fields[TF_ALPHA].dval = 10; /* set by hand: stays */
    tb_train_form_changed(&tf, TF_ALPHA);
    tf.fields[TF_RANK].ival = 8;
    tb_train_form_changed(&tf, TF_RANK);
    assert_true(tf.fields[TF_ALPHA].dval == 10);
    tf.fields[TF_MODE].choice = 3; /* full */
    tb_train_form_changed(&tf, TF_MODE);
    assert_true(fabs(tf.fields[TF_LR].dval - 5e-5) < 1e-15);
    assert_true(tf.fields[TF_DROPOUT].disabled);
    tf.fields[TF_LR].dval = 1e-3;
    tf.fields[TF_MODE].choice = 0;
    tb_train_form_changed(&tf, TF_MODE);
    assert_true(tf.fields[TF_LR].dval == 1e-3);
    assert_false(tf.fields[TF_DROPOUT].disabled);
}

/* form/targets: a list that does not parse is refused as --targets */
static void test_targets_refused(void **state)
{
    (void)state;
    tb_train_form tf;
    form_for(&tf, "M", "D");
    snprintf(tf.fields[TF_TARGETS].text, sizeof tf.fields[TF_TARGETS].text, "q,bogus");
    tb_train_options o;
    tb_error err;
    assert_int_not_equal(tb_train_form_get(&tf, NULL, &o, &err), TB_OK);
    assert_string_equal(err.field, "targets");
    assert_non_null(strstr(err.message, "bogus"));
    assert_int_equal(tb_train_form_field_of(err.field), TF_TARGETS);
}

/* form/refusal fields: each setting tb_train_options_check refuses names a form field */
static void test_every_refusal_has_a_field(void **state)
{
    (void)state;
    static const char *const cases[] = {"model", "data", "rank", "dropout", "targets", "lr", "epochs", "batch",
                                        "grad-accum", "eval-split", "warmup-ratio", "max-len", "logging-steps",
                                        "eval-steps", "save-steps"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb_train_options o;
        tb_train_options_init(&o);
        snprintf(o.model, sizeof o.model, "M");
        snprintf(o.data, sizeof o.data, "D");
        const char *c = cases[i];
        if (!strcmp(c, "model")) o.model[0] = '\0';
        if (!strcmp(c, "data")) o.data[0] = '\0';
        if (!strcmp(c, "rank")) o.rank = 0;
        if (!strcmp(c, "dropout")) o.dropout = 1;
        if (!strcmp(c, "targets")) o.targets = 0;
        if (!strcmp(c, "lr")) o.lr = 2;
        if (!strcmp(c, "epochs")) o.epochs = 0;
        if (!strcmp(c, "batch")) o.batch = 0;
        if (!strcmp(c, "grad-accum")) o.grad_accum = 0;
        if (!strcmp(c, "eval-split")) o.eval_split = 0.9;
        if (!strcmp(c, "warmup-ratio")) o.warmup_ratio = 1.5;
        if (!strcmp(c, "max-len")) o.max_len = 1;
        if (!strcmp(c, "logging-steps")) o.logging_steps = 0;
        if (!strcmp(c, "eval-steps")) o.eval_steps = -1;
        if (!strcmp(c, "save-steps")) o.save_steps = -1;
        tb_error err;
        assert_int_equal(tb_train_options_check(&o, &err), TB_ERR_INVALID);
        if (strcmp(err.field, c) != 0)
            fail_msg("refusal/%s: the check named '%s'", c, err.field);
        if (tb_train_form_field_of(err.field) < 0)
            fail_msg("refusal/%s: no form field", c);
    }
}

/* form/load: a settings file's keys win, the rest stay; alpha follows a rank the file sets;
 * a run's config.json loads its "settings"; bad files are refused naming file and key */
static void test_load_settings(void **state)
{
    (void)state;
    tb_train_form tf;
    form_for(&tf, "M", "D");
    char path[300];
    snprintf(path, sizeof path, "%s/settings.json", work);
    FILE *f = fopen(path, "w");
    fputs("{\"learning_rate\": 0.001, \"rank\": 8, \"eval_steps\": 20, \"target_modules\": \"all-linear\"}", f);
    fclose(f);
    tb_error err;
    assert_int_equal(tb_train_form_load(&tf, path, &err), TB_OK);
    tb_train_options o = get(&tf);
    assert_true(o.lr == 1e-3);
    assert_int_equal(o.rank, 8);
    assert_true(o.alpha == 16);
    assert_int_equal(o.eval_steps, 20);
    assert_int_equal(o.targets, TB_LORA_TARGETS_ALL);
    assert_string_equal(o.model, "M");         /* not in the file: kept */
    assert_int_equal(o.logging_steps, 1);      /* the screen's choice: kept */
    assert_true(o.eval_split == 0.1);

    /* a run's config.json: its settings */
    tb_train_options r;
    tb_train_options_init(&r);
    snprintf(r.model, sizeof r.model, "run-model");
    r.mode = TB_TRAIN_FULL, r.batch = 2, r.seed = 9;
    char *js = tb_train_options_to_json(&r);
    f = fopen(path, "w");
    fprintf(f, "{\"run_id\": 3, \"settings\": %s}", js);
    fclose(f);
    free(js);
    assert_int_equal(tb_train_form_load(&tf, path, &err), TB_OK);
    o = get(&tf);
    assert_string_equal(o.model, "run-model");
    assert_int_equal(o.mode, TB_TRAIN_FULL);
    assert_int_equal(o.batch, 2);
    assert_int_equal(o.seed, 9);
    assert_true(o.lr == 5e-5);

    f = fopen(path, "w");
    fputs("{\"max_steps\": \"many\"}", f);
    fclose(f);
    assert_int_equal(tb_train_form_load(&tf, path, &err), TB_ERR_FORMAT);
    assert_string_equal(err.field, "max_steps");
    assert_non_null(strstr(err.file, "settings.json"));
    f = fopen(path, "w");
    fputs("[1, 2", f);
    fclose(f);
    assert_int_equal(tb_train_form_load(&tf, path, &err), TB_ERR_FORMAT);
    f = fopen(path, "w");
    fputs("{\"mode\": \"superlora\"}", f);
    fclose(f);
    assert_int_not_equal(tb_train_form_load(&tf, path, &err), TB_OK);
    assert_string_equal(err.field, "mode");
    assert_int_equal(get(&tf).batch, 2); /* a refused file changes nothing */
    f = fopen(path, "w");
    fputs("{\"mode\": \"qlora_dq\"}", f); /* QLoRA is offered: NF4 + double quantization */
    fclose(f);
    assert_int_equal(tb_train_form_load(&tf, path, &err), TB_OK);
    assert_int_equal(tb_train_form_mode(&tf), TB_TRAIN_QLORA_DQ);
    assert_false(tf.fields[TF_RANK].disabled);
}

static void preflight(tb_train_preflight *p, const tb_train_options *o) { tb_train_preflight_run(o, NULL, p); }

/* preflight/plan: steps, seq and memory equal the trainer's for the same settings, for LoRA
 * and full mode, with and without a max-len cut */
static void test_plan_equals_trainer(void **state)
{
    (void)state;
    static const struct {
        tb_train_mode mode;
        int64_t max_len, max_steps, batch, accum;
        double epochs;
    } cases[] = {
        {TB_TRAIN_LORA, 0, 0, 4, 4, 3},
        {TB_TRAIN_LORA, 64, 0, 2, 1, 1.5},
        {TB_TRAIN_FULL, 0, 7, 3, 2, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tb_train_form tf;
        form_for(&tf, model, data);
        tb_train_options o = get(&tf);
        o.mode = cases[i].mode, o.max_len = cases[i].max_len, o.max_steps = cases[i].max_steps;
        o.batch = cases[i].batch, o.grad_accum = cases[i].accum, o.epochs = cases[i].epochs;
        o.be.threads = 1, o.save_steps = 0;
        tb_train_preflight p;
        preflight(&p, &o);
        tb_train_assessment a;
        tb_train_assess(&o, &p, &a);
        if (a.n_refusals)
            fail_msg("plan/%zu: refused: %s: %s", i, a.refusals[0].flag, a.refusals[0].message);
        assert_false(a.pending);
        assert_true(a.has_plan);
        tb_trainer *t;
        tb_error err;
        if (tb_trainer_create(&t, &o, NULL, NULL, NULL, &err) != TB_OK)
            fail_msg("create: %s: %s", err.field, err.message);
        tb_train_progress tp;
        tb_trainer_progress(t, &tp);
        printf("# plan/%s max_len=%lld batch=%lld accum=%lld: %lld steps, seq %lld, %lld trainable, predicted %lld B "
               "(trainer: %lld steps, %lld trainable, %lld B)\n",
               tb_train_mode_name(o.mode), (long long)o.max_len, (long long)o.batch, (long long)o.grad_accum,
               (long long)a.plan.total_steps, (long long)a.plan.seq, (long long)a.plan.mem.trainable_params,
               (long long)a.plan.mem.total, (long long)tp.total_steps, (long long)tp.trainable_params,
               (long long)tp.mem_predicted);
        assert_int_equal(a.plan.total_steps, tp.total_steps);
        assert_int_equal((int64_t)a.plan.mem.total, tp.mem_predicted);
        assert_int_equal(a.plan.mem.trainable_params, tp.trainable_params);
        assert_int_equal(p.stats.tokens, tb_trainer_data_stats(t)->tokens);
        tb_trainer_free(t);
    }
}

/* preflight/refusals: the model's shapes, a missing model, a dataset with validator errors */
static void test_refusals(void **state)
{
    (void)state;
    tb_train_form tf;
    form_for(&tf, model, data);
    tb_train_options o = get(&tf);
    tb_train_preflight p;
    preflight(&p, &o);
    tb_train_assessment a;

    o.rank = 64; /* k/v project 32 -> 16 on this model */
    tb_train_assess(&o, &p, &a);
    assert_int_equal(a.n_refusals, 1);
    assert_string_equal(a.refusals[0].flag, "rank");
    assert_non_null(strstr(a.refusals[0].message, "rank 64 is impossible"));
    assert_false(a.has_plan);
    o.rank = 16;

    /* another dataset: the old preflight says nothing about it (pending), the new one refuses */
    snprintf(o.data, sizeof o.data, "%s", flawed);
    tb_train_assess(&o, &p, &a);
    assert_true(a.pending);
    assert_int_equal(a.n_refusals, 0);
    preflight(&p, &o);
    tb_train_assess(&o, &p, &a);
    assert_false(a.pending);
    assert_int_equal(a.n_refusals, 1);
    assert_string_equal(a.refusals[0].flag, "data");
    assert_non_null(strstr(a.refusals[0].message, "the validator found"));
    assert_int_equal(tb_train_form_field_of(a.refusals[0].flag), TF_DATA);
    /* the trainer refuses it with the same words */
    tb_trainer *t;
    tb_error err;
    o.be.threads = 1;
    assert_int_equal(tb_trainer_create(&t, &o, NULL, NULL, NULL, &err), TB_ERR_INVALID);
    assert_non_null(strstr(a.refusals[0].message, err.message));

    /* no model there: the model refusal, listed with a bad batch */
    snprintf(o.model, sizeof o.model, "%s/nowhere", work);
    o.batch = 0;
    preflight(&p, &o);
    tb_train_assess(&o, &p, &a);
    assert_int_equal(a.n_refusals, 3);
    assert_string_equal(a.refusals[0].flag, "batch");
    assert_string_equal(a.refusals[1].flag, "model");
    assert_string_equal(a.refusals[2].flag, "data"); /* still the flawed file */

    /* a model directory without a tokenizer */
    o.batch = 4;
    snprintf(o.model, sizeof o.model, "%s", vt_source("tests/reference/llama/llama_gqa_f32"));
    snprintf(o.data, sizeof o.data, "%s", data);
    preflight(&p, &o);
    tb_train_assess(&o, &p, &a);
    assert_int_equal(a.n_refusals, 1);
    assert_int_equal(tb_train_form_field_of(a.refusals[0].flag), TF_MODEL);
    assert_non_null(strstr(a.refusals[0].message, "tokenizer"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(model, sizeof model, "%s", vt_source("tests/reference/llama/llama_vocab320_f32"));
    snprintf(data, sizeof data, "%s", vt_source("datasets/examples/alpaca_clean.jsonl"));
    snprintf(flawed, sizeof flawed, "%s", vt_source("datasets/examples/flawed.jsonl"));
    snprintf(work, sizeof work, "/tmp/tb-train-form.%d", (int)getpid());
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
        cmocka_unit_test(test_defaults_are_engine_defaults),
        cmocka_unit_test(test_eval_file_disables_split),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_follow_defaults),
        cmocka_unit_test(test_targets_refused),
        cmocka_unit_test(test_every_refusal_has_a_field),
        cmocka_unit_test(test_load_settings),
        cmocka_unit_test(test_plan_equals_trainer),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("train_form", tests, setup, teardown);
}
