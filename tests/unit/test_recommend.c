/* recommend(): the efficiency rule of issue 7 on hand-worked cases. Each case names its runs
 * as (trainable params, best eval loss); the expected pick and verdicts are worked out from
 * the rule's text, not from the code. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "engine/plan/recommend.h"

#define M 1000000

static tb_recommendation rec(const tb_recommend_run *runs, size_t n)
{
    tb_recommendation r;
    tb_error err;
    assert_int_equal(tb_recommend(runs, n, &r, &err), TB_OK);
    assert_int_equal(r.n, n);
    return r;
}

static bool reasons_contain(const tb_recommendation *r, const char *text)
{
    for (size_t i = 0; i < r->n_reasons; i++)
        if (strstr(r->reasons[i], text))
            return true;
    return false;
}

/* single/(1M, 2.0): the only run is the pick and the reference. */
static void test_single_run(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "only", 1 * M, 2.0}};
    tb_recommendation r = rec(runs, 1);
    assert_int_equal(r.pick, 0);
    assert_int_equal(r.smallest, 0);
    assert_int_equal(r.entries[0].verdict, TB_REC_KEPT);
    assert_int_equal(r.entries[0].order, 0);
    assert_true(r.entries[0].param_ratio == 1.0 && r.entries[0].gain == 0.0);
    assert_int_equal(r.n_reasons, 1);
    assert_non_null(strstr(r.reasons[0], "Pick #1 \"only\""));
    assert_non_null(strstr(r.reasons[0], "the smallest run"));
    tb_recommendation_free(&r);
}

/* penalized/(1M, 2.0) vs (3M, 1.95): 3x the size for 2.5% better -> the small one. */
static void test_big_run_small_gain_penalized(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{7, "big", 3 * M, 1.95}, {3, "small", 1 * M, 2.0}};
    tb_recommendation r = rec(runs, 2);
    assert_int_equal(r.smallest, 1);
    assert_int_equal(r.pick, 1);
    assert_int_equal(r.entries[0].verdict, TB_REC_PENALIZED);
    assert_true(fabs(r.entries[0].param_ratio - 3.0) < 1e-12);
    assert_true(fabs(r.entries[0].gain - 0.025) < 1e-12);
    assert_int_equal(r.entries[0].order, 1);
    assert_true(reasons_contain(&r, "#7 \"big\": penalized: 3.0x the parameters of #3 \"small\" for only 2.5% lower"));
    assert_true(reasons_contain(&r, "Rule: a run with more than 2x"));
    tb_recommendation_free(&r);
}

/* kept/(1M, 2.0) vs (4M, 1.8): 10% better justifies 4x -> the big one. */
static void test_big_run_large_gain_kept(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "small", 1 * M, 2.0}, {2, "big", 4 * M, 1.8}};
    tb_recommendation r = rec(runs, 2);
    assert_int_equal(r.pick, 1);
    assert_int_equal(r.entries[1].verdict, TB_REC_KEPT);
    assert_non_null(strstr(r.reasons[0], "4.0x the smallest run #1 \"small\", and 10.0% lower eval loss"));
    assert_true(reasons_contain(&r, "#1 \"small\": eval loss 2.0000, 11.1% worse than the pick."));
    tb_recommendation_free(&r);
}

/* boundaries/ratio: exactly 2x is not "more than 2x"; 2x + 1 parameter is. */
static void test_ratio_boundary(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "a", 1 * M, 2.0}, {2, "b", 2 * M, 1.99}, {3, "c", 2 * M + 1, 1.98}};
    tb_recommendation r = rec(runs, 3);
    assert_int_equal(r.entries[1].verdict, TB_REC_KEPT);
    assert_int_equal(r.entries[2].verdict, TB_REC_PENALIZED);
    assert_int_equal(r.pick, 1);
    assert_true(reasons_contain(&r, "not more than 2x, so no efficiency penalty"));
    tb_recommendation_free(&r);
}

/* boundaries/gain: 4.9% better at 3x is penalized, 5.1% better is kept. */
static void test_gain_boundary(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "ref", 1 * M, 2.0}, {2, "g4.9", 3 * M, 2.0 * (1 - 0.049)},
                               {3, "g5.1", 3 * M, 2.0 * (1 - 0.051)}};
    tb_recommendation r = rec(runs, 3);
    assert_int_equal(r.entries[1].verdict, TB_REC_PENALIZED);
    assert_int_equal(r.entries[2].verdict, TB_REC_KEPT);
    assert_int_equal(r.pick, 2);
    tb_recommendation_free(&r);
}

/* ties/equal loss: fewer parameters wins; equal size too: the lower id, whatever the order. */
static void test_ties(void **state)
{
    (void)state;
    tb_recommend_run a[] = {{5, "wide", 2 * M, 1.5}, {9, "narrow", 1 * M, 1.5}};
    tb_recommendation r = rec(a, 2);
    assert_int_equal(r.pick, 1);
    assert_true(reasons_contain(&r, "#5 \"wide\": the same eval loss (1.5000) as the pick, with more"));
    tb_recommendation_free(&r);

    tb_recommend_run b[] = {{9, "later", 1 * M, 1.5}, {4, "earlier", 1 * M, 1.5}};
    r = rec(b, 2);
    assert_int_equal(r.pick, 1);
    assert_int_equal(r.smallest, 1);
    assert_int_equal(r.entries[0].order, 1);
    tb_recommendation_free(&r);
}

/* missing/(0.5M, NaN), (1M, 2.0), (3M, 1.95), (8M, Inf): runs without an eval loss are not
 * considered and are not the reference even when smaller. */
static void test_missing_eval_losses(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "tiny-no-eval", M / 2, NAN}, {2, "small", 1 * M, 2.0}, {3, "big", 3 * M, 1.95},
                               {4, "diverged", 8 * M, INFINITY}};
    tb_recommendation r = rec(runs, 4);
    assert_int_equal(r.smallest, 1);
    assert_int_equal(r.pick, 1);
    assert_int_equal(r.entries[0].verdict, TB_REC_NO_EVAL);
    assert_int_equal(r.entries[3].verdict, TB_REC_NO_EVAL);
    assert_int_equal(r.entries[0].order, -1);
    assert_int_equal(r.entries[3].order, -1);
    assert_true(isnan(r.entries[0].gain));
    assert_int_equal(r.entries[2].verdict, TB_REC_PENALIZED);
    assert_true(reasons_contain(&r, "#1 \"tiny-no-eval\": no eval loss yet; not considered."));
    assert_true(reasons_contain(&r, "#4 \"diverged\": no eval loss yet; not considered."));
    tb_recommendation_free(&r);
}

/* none/all NaN, and no runs at all: no pick, and a sentence saying why. */
static void test_no_eval_at_all(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "a", 1 * M, NAN}, {2, "b", 2 * M, NAN}};
    tb_recommendation r = rec(runs, 2);
    assert_int_equal(r.pick, -1);
    assert_int_equal(r.smallest, -1);
    assert_non_null(strstr(r.reasons[0], "No run has an eval loss yet"));
    assert_int_equal(r.n_reasons, 3);
    tb_recommendation_free(&r);

    r = rec(NULL, 0);
    assert_int_equal(r.pick, -1);
    assert_string_equal(r.reasons[0], "No runs to compare.");
    tb_recommendation_free(&r);
}

/* all penalized/(1M, 2.2), (3M, 2.15), (8M, 2.12): every larger run gains < 5% -> the
 * smallest is the pick although its eval loss is the worst. */
static void test_all_larger_runs_penalized(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "r64", 8 * M, 2.12}, {2, "r16", 3 * M, 2.15}, {3, "r4", 1 * M, 2.2}};
    tb_recommendation r = rec(runs, 3);
    assert_int_equal(r.pick, 2);
    assert_int_equal(r.entries[0].verdict, TB_REC_PENALIZED);
    assert_int_equal(r.entries[1].verdict, TB_REC_PENALIZED);
    /* Among the penalized: lower eval loss first. */
    assert_int_equal(r.entries[0].order, 1);
    assert_int_equal(r.entries[1].order, 2);
    assert_non_null(strstr(r.reasons[0], "Pick #3 \"r4\""));
    assert_true(reasons_contain(&r, "#1 \"r64\": penalized: 8.0x the parameters of #3 \"r4\" for only 3.6% lower"));
    tb_recommendation_free(&r);
}

/* worse/(1M, 2.0) vs (3M, 2.1): bigger and worse is penalized, said plainly. */
static void test_bigger_and_worse(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "a", 1 * M, 2.0}, {2, "b", 3 * M, 2.1}};
    tb_recommendation r = rec(runs, 2);
    assert_int_equal(r.pick, 0);
    assert_true(reasons_contain(&r, "for no better eval loss (2.1000 vs 2.0000)"));
    tb_recommendation_free(&r);
}

/* unsized/(?, 1.7), (1M, 2.0): an unknown parameter count competes on eval loss alone. */
static void test_unknown_params(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "a", 1 * M, 2.0}, {2, "mystery", -1, 1.7}};
    tb_recommendation r = rec(runs, 2);
    assert_int_equal(r.smallest, 0);
    assert_int_equal(r.entries[1].verdict, TB_REC_UNSIZED);
    assert_int_equal(r.pick, 1);
    assert_non_null(strstr(r.reasons[0], "judged on eval loss alone"));
    assert_true(isnan(r.entries[1].param_ratio));
    tb_recommendation_free(&r);
}

/* literal rule/(1M, 3.0), (4M, 2.0), (16M, 1.98): larger runs are compared with the smallest
 * run only, as the rule says; 16M is 34% better than 1M, so it is kept and picked. */
static void test_compared_with_smallest_only(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "r4", 1 * M, 3.0}, {2, "r16", 4 * M, 2.0}, {3, "r64", 16 * M, 1.98}};
    tb_recommendation r = rec(runs, 3);
    assert_int_equal(r.pick, 2);
    assert_int_equal(r.entries[1].verdict, TB_REC_KEPT);
    assert_int_equal(r.entries[2].verdict, TB_REC_KEPT);
    tb_recommendation_free(&r);
}

/* zero/(1M, 0.0) vs (3M, 0.0): a zero reference loss gives no NaN; equal loss at 3x is penalized. */
static void test_zero_reference_loss(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "a", 1 * M, 0.0}, {2, "b", 3 * M, 0.0}};
    tb_recommendation r = rec(runs, 2);
    assert_int_equal(r.pick, 0);
    assert_int_equal(r.entries[1].verdict, TB_REC_PENALIZED);
    assert_true(r.entries[1].gain == 0.0);
    tb_recommendation_free(&r);
}

/* equal smallest/(1M, 2.1), (1M, 2.0), (3M, 1.95): of two equally small runs the better is
 * the reference, so 3M gains 2.5% over 2.0 (penalized), not 7.1% over 2.1. */
static void test_reference_is_best_of_smallest(void **state)
{
    (void)state;
    tb_recommend_run runs[] = {{1, "s1", 1 * M, 2.1}, {2, "s2", 1 * M, 2.0}, {3, "big", 3 * M, 1.95}};
    tb_recommendation r = rec(runs, 3);
    assert_int_equal(r.smallest, 1);
    assert_int_equal(r.entries[2].verdict, TB_REC_PENALIZED);
    assert_int_equal(r.pick, 1);
    tb_recommendation_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_run),
        cmocka_unit_test(test_big_run_small_gain_penalized),
        cmocka_unit_test(test_big_run_large_gain_kept),
        cmocka_unit_test(test_ratio_boundary),
        cmocka_unit_test(test_gain_boundary),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_missing_eval_losses),
        cmocka_unit_test(test_no_eval_at_all),
        cmocka_unit_test(test_all_larger_runs_penalized),
        cmocka_unit_test(test_bigger_and_worse),
        cmocka_unit_test(test_unknown_params),
        cmocka_unit_test(test_compared_with_smallest_only),
        cmocka_unit_test(test_zero_reference_loss),
        cmocka_unit_test(test_reference_is_best_of_smallest),
    };
    return cmocka_run_group_tests_name("recommend", tests, NULL, NULL);
}
