/* The bundled examples and the real-world fixtures: flawed.jsonl has exactly its 5 defects,
 * the clean files none, and real Alpaca / ShareGPT data raise no false alarms (the counts of
 * the true findings in them are pinned and explained below). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vtest.h"

static tb_status validate_path(const char *path, tb_report *rep)
{
    tb_validate_opts o;
    tb_validate_opts_init(&o);
    o.path = path;
    o.max_findings = 0;
    tb_error err;
    return tb_validate(&o, rep, &err);
}

/* The tutorial's exercise: 30 examples, 5 with deliberate defects (make_examples.py). */
static void test_flawed_has_exactly_five(void **state)
{
    (void)state;
    tb_report rep;
    assert_int_equal(validate_path(vt_source("datasets/examples/flawed.jsonl"), &rep), TB_OK);
    assert_int_equal(rep.rows, 30);
    static const struct { const char *check; long row; tb_severity sev; } want[] = {
        {"missing_field", 7, TB_SEV_ERROR},
        {"dup_exact", 12, TB_SEV_ERROR},
        {"empty_output", 18, TB_SEV_ERROR},
        {"length_outlier", 23, TB_SEV_WARNING},
        {"format_inconsistent", 27, TB_SEV_WARNING},
    };
    assert_int_equal(rep.n_findings, 5);
    assert_int_equal(vt_total(&rep), 5);
    for (int i = 0; i < 5; i++) {
        const tb_finding *f = &rep.findings[i];
        assert_string_equal(tb_check_name(f->check), want[i].check);
        assert_int_equal(f->row, want[i].row);
        assert_int_equal(f->line, want[i].row + 1);
        assert_int_equal(f->severity, want[i].sev);
    }
    assert_int_equal(tb_report_errors(&rep), 3);
    tb_report_free(&rep);
}

static void test_clean_examples_have_none(void **state)
{
    (void)state;
    const char *files[] = {"datasets/examples/alpaca_clean.jsonl", "datasets/examples/alpaca_clean.csv",
                           "datasets/examples/chat_clean.jsonl"};
    const tb_row_shape shapes[] = {TB_SHAPE_ALPACA, TB_SHAPE_ALPACA, TB_SHAPE_CHAT};
    for (int i = 0; i < 3; i++) {
        tb_report rep;
        assert_int_equal(validate_path(vt_source(files[i]), &rep), TB_OK);
        if (vt_total(&rep) != 0)
            print_message("%s: %s\n", files[i], rep.findings[0].message);
        assert_int_equal(vt_total(&rep), 0);
        assert_int_equal(rep.shape, shapes[i]);
        tb_report_free(&rep);
    }
}

static const char *fixture(const char *name)
{
    const char *p = vt_shared(name);
    if (!p)
        print_message("fixture %s not found (TB_SHARED_DIR)\n", name);
    return p;
}

/* First 1,000 rows of the cleaned Alpaca data. True findings, checked by hand:
 * - dup_exact row 51 repeats row 38 (the same Berlin context and question);
 * - dup_near row 100 shares the 1,000-word dye-sublimation context of row 92;
 * - format_inconsistent: 4 instructions end with "\n";
 * - length_outlier: 14 instructions are pasted context passages of 447-2,220 characters
 *   (median 54): extreme by every rule, and worth a look.
 * Everything else (Markdown, "Instructions:" recipe headings, code, a résumé with
 * janedoe@email.com and (123) 456-7890, "{{ ... }}" JSON examples) must stay quiet. */
static void test_alpaca_fixture(void **state)
{
    (void)state;
    const char *path = fixture("fixtures/alpaca_data_cleaned_1000.json");
    if (!path)
        skip();
    tb_report rep;
    assert_int_equal(validate_path(path, &rep), TB_OK);
    assert_int_equal(rep.rows, 1000);
    assert_int_equal(rep.format, TB_FORMAT_JSON);
    assert_int_equal(rep.shape, TB_SHAPE_ALPACA);
    for (int c = 0; c < tb_check_count(); c++) {
        const char *n = tb_check_name(c);
        long want = strcmp(n, "dup_exact") == 0             ? 1
                    : strcmp(n, "dup_near") == 0            ? 1
                    : strcmp(n, "format_inconsistent") == 0 ? 4
                    : strcmp(n, "length_outlier") == 0      ? 14
                                                            : 0;
        if (rep.checks[c].count != want)
            print_message("%s: %ld findings, want %ld\n", n, rep.checks[c].count, want);
        assert_int_equal(rep.checks[c].count, want);
    }
    const tb_finding *f = vt_first(&rep, "dup_exact");
    assert_int_equal(f->row, 51);
    assert_non_null(strstr(f->message, "row 38"));
    assert_int_equal(vt_first(&rep, "dup_near")->row, 100);
    tb_report_free(&rep);
}

/* 500 FastChat identity conversations, only some with a "system" field (schema drift that
 * must not be reported). It is paraphrase augmentation by design: many conversations share
 * most of their words (185 rows have an earlier one with exact Jaccard >= 0.8, computed
 * with Python sets; the MinHash estimate flags about 220). No other check may fire. */
static void test_sharegpt_fixture(void **state)
{
    (void)state;
    const char *path = fixture("fixtures/dummy_conversation_with_system.json");
    if (!path)
        skip();
    tb_report rep;
    assert_int_equal(validate_path(path, &rep), TB_OK);
    assert_int_equal(rep.rows, 500);
    assert_int_equal(rep.shape, TB_SHAPE_SHAREGPT);
    for (int c = 0; c < tb_check_count(); c++)
        if (strcmp(tb_check_name(c), "dup_near") != 0)
            assert_int_equal(rep.checks[c].count, 0);
    long near = rep.checks[tb_check_find("dup_near")].count;
    assert_true(near >= 150 && near <= 260);
    tb_report_free(&rep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flawed_has_exactly_five),
        cmocka_unit_test(test_clean_examples_have_none),
        cmocka_unit_test(test_alpaca_fixture),
        cmocka_unit_test(test_sharegpt_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
