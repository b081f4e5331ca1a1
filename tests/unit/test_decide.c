/* Decision matrix: the tutorial's five scenarios and edge cases. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "engine/plan/decide.h"

static void test_presets_match_tutorial(void **state)
{
    (void)state;
    assert_int_equal(tb_decide_preset_count(), 5);
    static const struct { const char *name; tb_decide_option want; } cases[] = {
        {"support-bot", TB_DECIDE_PROMPTING},
        {"medical-formatter", TB_DECIDE_FINE_TUNING},
        {"kb-qa", TB_DECIDE_RAG},
        {"code-review", TB_DECIDE_FINE_TUNING_RAG},
        {"ui-translation", TB_DECIDE_PROMPTING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const tb_decide_preset *p = tb_decide_preset_find(cases[i].name);
        assert_non_null(p);
        tb_decide_result r;
        tb_decide(&p->facts, &r);
        assert_int_equal(r.recommendation, cases[i].want);
        assert_int_equal(p->expected, cases[i].want);
        assert_true(r.n_reasons > 0);
    }
}

static void test_unknown_everything_starts_with_prompting(void **state)
{
    (void)state;
    tb_decide_facts f;
    tb_decide_facts_init(&f);
    tb_decide_result r;
    tb_decide(&f, &r);
    assert_int_equal(r.recommendation, TB_DECIDE_PROMPTING);
    assert_int_equal(r.n_contrib, 0);
    for (int o = 0; o < TB_DECIDE_OPTION_COUNT; o++)
        assert_int_equal(r.scores[o], 0);
    assert_int_equal(r.n_reasons, 1); /* the "start with prompting" default reason */
}

static void test_few_examples_block_fine_tuning(void **state)
{
    (void)state;
    tb_decide_facts f;
    tb_decide_facts_init(&f);
    f.examples = 49;
    f.answer[TB_FACT_FORMAT] = TB_ANSWER_YES;
    f.answer[TB_FACT_SPECIALIZED] = TB_ANSWER_YES;
    f.answer[TB_FACT_CITATIONS] = TB_ANSWER_YES;
    tb_decide_result r;
    tb_decide(&f, &r);
    assert_false(r.fine_tuning_viable);
    assert_int_not_equal(r.recommendation, TB_DECIDE_FINE_TUNING_RAG);
    assert_int_equal(r.recommendation, TB_DECIDE_RAG);
    /* 50 is the boundary where fine-tuning becomes possible. */
    f.examples = 50;
    tb_decide(&f, &r);
    assert_true(r.fine_tuning_viable);
}

static void test_scores_are_sums_of_contributions(void **state)
{
    (void)state;
    for (int i = 0; i < tb_decide_preset_count(); i++) {
        tb_decide_result r;
        tb_decide(&tb_decide_preset_at(i)->facts, &r);
        int sum[TB_AXIS_COUNT] = {0};
        for (int c = 0; c < r.n_contrib; c++)
            for (int a = 0; a < TB_AXIS_COUNT; a++)
                sum[a] += r.contrib[c].points[a];
        assert_int_equal(sum[TB_AXIS_PROMPTING], r.scores[TB_DECIDE_PROMPTING]);
        assert_int_equal(sum[TB_AXIS_FINE_TUNING], r.scores[TB_DECIDE_FINE_TUNING]);
        assert_int_equal(sum[TB_AXIS_RAG], r.scores[TB_DECIDE_RAG]);
        /* The winner has the highest score. */
        for (int o = 0; o < TB_DECIDE_OPTION_COUNT; o++)
            assert_true(r.scores[r.recommendation] >= r.scores[o]);
    }
}

static void test_rag_beats_prompting_on_tie(void **state)
{
    (void)state;
    tb_decide_facts f;
    tb_decide_facts_init(&f);
    f.examples = 10;                                   /* P+3 */
    f.answer[TB_FACT_KNOWLEDGE_CHANGES] = TB_ANSWER_YES; /* R+3 */
    tb_decide_result r;
    tb_decide(&f, &r);
    assert_int_equal(r.scores[TB_DECIDE_PROMPTING], r.scores[TB_DECIDE_RAG]);
    assert_int_equal(r.recommendation, TB_DECIDE_RAG);
}

static void test_both_needs_give_ft_rag(void **state)
{
    (void)state;
    tb_decide_facts f;
    tb_decide_facts_init(&f);
    f.examples = 3000;
    f.answer[TB_FACT_FORMAT] = TB_ANSWER_YES;
    f.answer[TB_FACT_CITATIONS] = TB_ANSWER_YES;
    tb_decide_result r;
    tb_decide(&f, &r);
    assert_int_equal(r.recommendation, TB_DECIDE_FINE_TUNING_RAG);
    assert_int_equal(r.scores[TB_DECIDE_FINE_TUNING_RAG], 5 + 3 - 2);
    /* The combination note is among the reasons. */
    int found = 0;
    for (int i = 0; i < r.n_reasons; i++)
        found |= strstr(r.reasons[i], "two systems") != NULL;
    assert_true(found);
}

static void test_answer_parse(void **state)
{
    (void)state;
    tb_answer a;
    tb_error err;
    assert_int_equal(tb_answer_parse("YES", &a, &err), TB_OK);
    assert_int_equal(a, TB_ANSWER_YES);
    assert_int_equal(tb_answer_parse("n", &a, &err), TB_OK);
    assert_int_equal(a, TB_ANSWER_NO);
    assert_int_equal(tb_answer_parse("unknown", &a, &err), TB_OK);
    assert_int_equal(a, TB_ANSWER_UNKNOWN);
    assert_int_equal(tb_answer_parse("maybe", &a, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "maybe"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_match_tutorial),
        cmocka_unit_test(test_unknown_everything_starts_with_prompting),
        cmocka_unit_test(test_few_examples_block_fine_tuning),
        cmocka_unit_test(test_scores_are_sums_of_contributions),
        cmocka_unit_test(test_rag_beats_prompting_on_tie),
        cmocka_unit_test(test_both_needs_give_ft_rag),
        cmocka_unit_test(test_answer_parse),
    };
    return cmocka_run_group_tests_name("decide", tests, NULL, NULL);
}
