/* Evaluation metrics on toy cases worked by hand (the tutorial's definitions), the delta
 * format, the regression threshold, and the LLM judge against real commands: scores in both
 * reply styles, garbage, a failing command, a hanging one (killed at the timeout), one that
 * never reads its input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/eval/judge.h"
#include "engine/eval/metrics.h"
#include "engine/eval/report.h"

static void test_exact_match_strips(void **state)
{
    (void)state;
    assert_true(tb_eval_exact_match("  Paris\n", "Paris"));
    assert_true(tb_eval_exact_match("", " \t\n"));
    assert_false(tb_eval_exact_match("paris", "Paris"));   /* case counts, as in Python */
    assert_false(tb_eval_exact_match("Par is", "Paris"));  /* inner whitespace counts */
    assert_false(tb_eval_exact_match("Paris.", "Paris"));
}

static void test_length_ratio_chars(void **state)
{
    (void)state;
    /* min(len)/max(len): 3 / 6 */
    assert_true(tb_eval_length_ratio("abc", "abcdef") == 0.5);
    assert_true(tb_eval_length_ratio("abcdef", "abc") == 0.5);
    /* code points, not bytes: "héllo" is 5 characters (6 bytes) */
    assert_true(tb_eval_length_ratio("h\xc3\xa9llo", "hello") == 1.0);
    assert_true(tb_eval_length_ratio("", "") == 0.0);       /* max(..., 1): 0 / 1 */
    assert_true(tb_eval_length_ratio("", "abcd") == 0.0);
}

static void test_perplexity_and_summary(void **state)
{
    (void)state;
    /* 4 tokens, each p = 1/2: nll = 4 ln 2, perplexity 2 */
    assert_true(fabs(tb_eval_perplexity(4 * log(2.0), 4) - 2.0) < 1e-12);
    assert_true(isnan(tb_eval_perplexity(1.0, 0)));
    tb_eval_summary s = {0};
    assert_true(isnan(tb_eval_summary_loss(&s)));
    assert_true(isnan(tb_eval_summary_exact_rate(&s)));
    /* token-weighted: (1.0*2 + 4.0*6) / 8 = 3.25, not the mean of per-example means (1.0, 4.0) */
    tb_eval_summary_add_loss(&s, 2.0, 2);
    tb_eval_summary_add_loss(&s, 24.0, 6);
    assert_true(fabs(tb_eval_summary_loss(&s) - 3.25) < 1e-12);
    assert_true(fabs(tb_eval_summary_perplexity(&s) - exp(3.25)) < 1e-9);
    tb_eval_summary_add_generation(&s, true, 1.0);
    tb_eval_summary_add_generation(&s, false, 0.5);
    tb_eval_summary_add_generation(&s, false, 0.0);
    assert_true(fabs(tb_eval_summary_exact_rate(&s) - 1.0 / 3) < 1e-12);
    assert_true(fabs(tb_eval_summary_len_ratio(&s) - 0.5) < 1e-12);
    assert_true(isnan(tb_eval_summary_judge(&s, 0)));
    int a[3] = {5, 3, 4}, b[3] = {2, 3, 1};
    tb_eval_summary_add_judge(&s, a);
    tb_eval_summary_add_judge(&s, b);
    assert_true(tb_eval_summary_metric(&s, TB_METRIC_JUDGE_ACCURACY) == 3.5);
    assert_true(tb_eval_summary_metric(&s, TB_METRIC_JUDGE_COMPLETENESS) == 3.0);
    assert_true(tb_eval_summary_metric(&s, TB_METRIC_JUDGE_FORMAT) == 2.5);
    assert_true(tb_eval_metric_lower_is_better(TB_METRIC_LOSS));
    assert_false(tb_eval_metric_lower_is_better(TB_METRIC_EXACT));
}

static void test_delta_format_tutorial_arrow(void **state)
{
    (void)state;
    char buf[32];
    tb_eval_format_delta(buf, sizeof buf, 0.5, 0.75, 2);
    assert_string_equal(buf, "+0.25");
    tb_eval_format_delta(buf, sizeof buf, 0.75, 0.5, 2);
    assert_string_equal(buf, "-0.25");
    tb_eval_format_delta(buf, sizeof buf, 0.5, 0.5, 2);
    assert_string_equal(buf, "0.00");
    tb_eval_format_delta(buf, sizeof buf, 1.0, 1.001, 2); /* rounds to zero: no "+0.00" */
    assert_string_equal(buf, "0.00");
    tb_eval_format_delta(buf, sizeof buf, NAN, 1.0, 2);
    assert_string_equal(buf, "n/a");
}

static void test_regression_threshold(void **state)
{
    (void)state;
    tb_eval_regression r;
    tb_eval_regression_check(&r, 10.0, 10.9, 0.10);
    assert_false(r.warn);
    assert_true(fabs(r.change - 0.09) < 1e-12);
    tb_eval_regression_check(&r, 10.0, 11.5, 0.10);
    assert_true(r.warn);
    assert_non_null(strstr(r.message, "WARNING"));
    assert_non_null(strstr(r.message, "15.0%"));
    tb_eval_regression_check(&r, 10.0, 8.0, 0.10); /* better is never a warning */
    assert_false(r.warn);
    tb_eval_regression_check(&r, NAN, 8.0, 0.10);
    assert_false(r.warn);
    assert_true(isnan(r.change));
}

/* ------------------------------------------------------------------ judge */

static void test_judge_prompt_has_both_texts(void **state)
{
    (void)state;
    char *p = tb_judge_prompt("REF TEXT", "OUT TEXT");
    assert_non_null(strstr(p, "Reference answer: REF TEXT\n"));
    assert_non_null(strstr(p, "Model output: OUT TEXT\n"));
    assert_non_null(strstr(p, "Return 3 scores as: accuracy,completeness,format"));
    free(p);
}

static void test_judge_parse(void **state)
{
    (void)state;
    tb_judge_scores s;
    assert_true(tb_judge_parse("4,3,5", &s));
    assert_int_equal(s.accuracy, 4);
    assert_int_equal(s.completeness, 3);
    assert_int_equal(s.format, 5);
    assert_true(tb_judge_parse("Thinking... maybe 1,1,1? Final answer: 5, 4 ,2.", &s)); /* the last one */
    assert_int_equal(s.accuracy, 5);
    assert_int_equal(s.completeness, 4);
    assert_int_equal(s.format, 2);
    assert_true(tb_judge_parse("Accuracy: 2/5\nCompleteness - 3\nFORMAT: 1", &s));
    assert_int_equal(s.accuracy, 2);
    assert_int_equal(s.completeness, 3);
    assert_int_equal(s.format, 1);
    assert_false(tb_judge_parse("14,3,52", &s));   /* not three scores */
    assert_false(tb_judge_parse("6,7,8", &s));     /* out of range */
    assert_false(tb_judge_parse("4.5,3,2", &s));   /* not whole */
    assert_false(tb_judge_parse("I liked it.", &s));
    assert_false(tb_judge_parse("", &s));
    assert_false(s.ok);
    assert_non_null(strstr(s.why, "no scores"));
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_judge_commands(void **state)
{
    (void)state;
    tb_judge_scores s;
    tb_judge_score("cat >/dev/null; echo '4,2,5'", "ref", "out", 10, &s);
    assert_true(s.ok);
    assert_int_equal(s.accuracy, 4);
    assert_int_equal(s.completeness, 2);
    assert_int_equal(s.format, 5);
    /* the command sees the prompt on stdin */
    tb_judge_score("grep -q 'Reference answer: the ref' && echo 3,3,3", "the ref", "out", 10, &s);
    assert_true(s.ok);
    assert_int_equal(s.format, 3);
    tb_judge_score("cat", "ref", "out", 10, &s); /* echoes the prompt: no scores in it */
    assert_false(s.ok);
    tb_judge_score("head -c 2000 /dev/urandom", "ref", "out", 10, &s); /* garbage */
    assert_false(s.ok);
    tb_judge_score("exit 3", "ref", "out", 10, &s);
    assert_false(s.ok);
    assert_non_null(strstr(s.why, "status 3"));
    tb_judge_score("/nonexistent/judge-binary", "ref", "out", 10, &s);
    assert_false(s.ok);
    assert_non_null(strstr(s.why, "127"));
    double t0 = secs();
    tb_judge_score("sleep 30; echo 5,5,5", "ref", "out", 0.3, &s);
    double took = secs() - t0;
    assert_false(s.ok);
    assert_non_null(strstr(s.why, "timed out"));
    assert_true(took < 5.0);
    /* a child that keeps stdout open in the background is killed with its group */
    t0 = secs();
    tb_judge_score("(sleep 30 &) ; echo 1,2,3", "ref", "out", 0.5, &s);
    assert_true(secs() - t0 < 5.0);
    /* a large prompt to a command that never reads stdin: no SIGPIPE, scores still read */
    char *big = malloc(1 << 20);
    memset(big, 'x', (1 << 20) - 1);
    big[(1 << 20) - 1] = '\0';
    tb_judge_score("echo 2,2,2", big, "out", 10, &s);
    free(big);
    assert_true(s.ok);
    assert_int_equal(s.accuracy, 2);
}


/* ------------------------------------------------------------------ report */

static char *dup(const char *s)
{
    char *p = malloc(strlen(s) + 1);
    strcpy(p, s);
    return p;
}

/* 2 examples x (base, adapter): base gets neither right, the adapter one exactly. */
static void test_report_two_sides(void **state)
{
    (void)state;
    tb_eval_report r;
    tb_error err;
    const char *names[2] = {"base", "ft"};
    assert_int_equal(tb_eval_report_init(&r, 2, names, 2, &err), TB_OK);
    r.data_path = dup("eval.jsonl");
    r.general_path = dup("general.txt");
    r.ex[0] = (tb_eval_example){dup("Capital of France?"), dup("Paris"), 1};
    r.ex[1] = (tb_eval_example){dup("2+2?"), dup("4"), 2};
    /* losses: base 2 tokens nll 4 and 1 token nll 3 -> 7/3; ft 2 tokens nll 1 and 1 token nll 0.5 -> 0.5 */
    *tb_eval_report_cell(&r, 0, 0) = (tb_eval_cell){.nll = 4, .tokens = 2};
    *tb_eval_report_cell(&r, 1, 0) = (tb_eval_cell){.nll = 3, .tokens = 1};
    *tb_eval_report_cell(&r, 0, 1) = (tb_eval_cell){.nll = 1, .tokens = 2};
    *tb_eval_report_cell(&r, 1, 1) = (tb_eval_cell){.nll = 0.5, .tokens = 1};
    tb_eval_cell_set_generation(tb_eval_report_cell(&r, 0, 0), dup("London, I think"), "Paris");
    tb_eval_cell_set_generation(tb_eval_report_cell(&r, 1, 0), dup("five"), "4");
    tb_eval_cell_set_generation(tb_eval_report_cell(&r, 0, 1), dup("Paris\n"), "Paris");
    tb_eval_cell_set_generation(tb_eval_report_cell(&r, 1, 1), dup("44"), "4");
    r.general_ppl[0] = 20, r.general_ppl[1] = 30;
    tb_eval_report_finish(&r, 0.10);
    assert_true(fabs(tb_eval_summary_loss(&r.sum[0]) - 7.0 / 3) < 1e-12);
    assert_true(fabs(tb_eval_summary_loss(&r.sum[1]) - 0.5) < 1e-12);
    assert_true(tb_eval_summary_exact_rate(&r.sum[0]) == 0.0);
    assert_true(tb_eval_summary_exact_rate(&r.sum[1]) == 0.5);
    /* base ratios 5/15 and 1/4; ft 5/6 (len() does not strip) and 1/2 */
    assert_true(fabs(tb_eval_summary_len_ratio(&r.sum[0]) - (5.0 / 15 + 0.25) / 2) < 1e-12);
    assert_true(fabs(tb_eval_summary_len_ratio(&r.sum[1]) - (5.0 / 6 + 0.5) / 2) < 1e-12);
    assert_true(r.reg[1].warn); /* 20 -> 30 is +50% */
    assert_false(tb_eval_report_has_metric(&r, TB_METRIC_JUDGE_ACCURACY));

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    tb_eval_report_print(&r, f);
    fclose(f);
    assert_non_null(strstr(text, "Evaluation on 2 examples of eval.jsonl"));
    assert_non_null(strstr(text, "exact match                0.00       0.50    +0.50"));
    assert_non_null(strstr(text, "loss                       2.33       0.50    -1.83"));
    assert_non_null(strstr(text, "WARNING: general-text perplexity rose 50.0%"));
    assert_non_null(strstr(text, "#1 (line 1) Capital of France?"));
    assert_non_null(strstr(text, "  ft         Paris \n")); /* newline shown as a space */
    assert_non_null(strstr(text, "  exact match                0.00       1.00    +1.00"));
    free(text);

    json_t *j = tb_eval_report_json(&r);
    json_t *s1 = json_array_get(json_object_get(j, "sides"), 1);
    assert_true(json_real_value(json_object_get(json_object_get(s1, "summary"), "exact_match")) == 0.5);
    assert_true(fabs(json_real_value(json_object_get(json_object_get(s1, "delta"), "loss")) - (0.5 - 7.0 / 3)) < 1e-12);
    assert_true(json_is_true(json_object_get(json_object_get(s1, "regression"), "warn")));
    json_t *e0 = json_array_get(json_object_get(j, "examples"), 0);
    json_t *c01 = json_array_get(json_object_get(e0, "sides"), 1);
    assert_string_equal(json_string_value(json_object_get(c01, "generated")), "Paris\n");
    assert_true(json_real_value(json_object_get(c01, "exact_match")) == 1.0);
    assert_null(json_object_get(j, "judge"));
    json_decref(j);
    tb_eval_report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_match_strips),
        cmocka_unit_test(test_length_ratio_chars),
        cmocka_unit_test(test_perplexity_and_summary),
        cmocka_unit_test(test_delta_format_tutorial_arrow),
        cmocka_unit_test(test_regression_threshold),
        cmocka_unit_test(test_judge_prompt_has_both_texts),
        cmocka_unit_test(test_judge_parse),
        cmocka_unit_test(test_judge_commands),
        cmocka_unit_test(test_report_two_sides),
    };
    return cmocka_run_group_tests_name("eval_metrics", tests, NULL, NULL);
}
