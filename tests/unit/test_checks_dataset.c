/* Checks that compare rows with each other or with the whole dataset: duplicates, near
 * duplicates, length outliers, format conventions, token length, leakage, user rules, --fix. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/reader.h"
#include "vtest.h"

#define ROW(ins, inp, out) "{\"instruction\":\"" ins "\",\"input\":\"" inp "\",\"output\":\"" out "\"}\n"

/* n filler rows with distinct instructions and medium outputs ending with a period. */
static char *filler(int n, int first)
{
    static const char *const words[] = {"river", "mountain", "bread", "engine", "violin", "garden", "planet",
                                        "ladder", "window", "copper", "forest", "lantern"};
    char *buf = malloc((size_t)n * 400 + 1);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = first; i < first + n; i++)
        used += (size_t)sprintf(buf + used,
                                ROW("Describe the %s number %d in a few words.", "",
                                    "The %s number %d is a fine example of its kind and it is well known in town."),
                                words[i % 12], i, words[(i * 7) % 12], i);
    return buf;
}

static char *concat(const char *a, const char *b)
{
    char *s = malloc(strlen(a) + strlen(b) + 1);
    strcpy(s, a);
    strcat(s, b);
    return s;
}

static void test_dup_exact(void **state)
{
    (void)state;
    tb_report rep;
    assert_int_equal(vt_validate(ROW("What is 2+2?", "", "4.")                 /* 1 */
                                 ROW("what is  2+2? ", "", "Four.")             /* 2 dup of 1 (case, spaces) */
                                 ROW("What is 2+2?", "in base 3", "11.")        /* 3 near miss: other input */
                                 ROW("WHAT IS 2+2?", "", "4.")                  /* 4 dup of 1 again */
                                 ROW("What is 2+3?", "", "5."),                 /* 5 near miss */
                                 &rep),
                     TB_OK);
    assert_string_equal(vt_lines(&rep, "dup_exact"), "2,4");
    assert_non_null(strstr(vt_first(&rep, "dup_exact")->message, "row 0 (line 1)"));
    assert_string_equal(vt_lines(&rep, "dup_near"), ""); /* exact ones are not near ones too */
    tb_report_free(&rep);

    /* Conversations: paraphrased replies to one question are not duplicates; a repeat is. */
    assert_int_equal(vt_validate("{\"messages\":[{\"role\":\"user\",\"content\":\"Who are you?\"},"
                                 "{\"role\":\"assistant\",\"content\":\"I am a helpful model.\"}]}\n"
                                 "{\"messages\":[{\"role\":\"user\",\"content\":\"Who are you?\"},"
                                 "{\"role\":\"assistant\",\"content\":\"An assistant made by a small lab.\"}]}\n"
                                 "{\"messages\":[{\"role\":\"user\",\"content\":\"who are you?\"},"
                                 "{\"role\":\"assistant\",\"content\":\"I am a helpful  model.\"}]}\n",
                                 &rep),
                     TB_OK);
    assert_string_equal(vt_lines(&rep, "dup_exact"), "3");
    tb_report_free(&rep);
}

static void test_dup_near(void **state)
{
    (void)state;
    const char *base = "The committee met on Tuesday to review the budget for the new library, and after a long "
                       "discussion the members agreed to fund the children's reading room, the archive and the "
                       "evening lectures for another three years.";
    char text[4096];
    snprintf(text, sizeof text,
             ROW("Summarize the meeting.", "%s", "They funded the library.")                       /* 1 */
             ROW("Summarize the meeting briefly.", "%s", "They funded the library.")              /* 2 near */
             ROW("Summarize the news.", "A storm closed the harbour and the ferries stayed in port all day.",
                 "A storm stopped the ferries."),                                                 /* 3 miss */
             base, base);
    /* Row 2 differs from row 1 by one word of the instruction: of their 45 and 46 word
     * 3-grams 43 are shared (J = 43/48 = 0.90); row 3 shares none. */
    tb_report rep;
    assert_int_equal(vt_validate(text, &rep), TB_OK);
    assert_string_equal(vt_lines(&rep, "dup_near"), "2");
    tb_report_free(&rep);

    /* A higher threshold than their similarity: nothing. */
    tb_validate_opts o;
    tb_validate_opts_init(&o);
    o.near_threshold = 0.97;
    tb_error err;
    assert_int_equal(vt_validate_opts(text, ".jsonl", &o, &rep, &err), TB_OK);
    assert_string_equal(vt_lines(&rep, "dup_near"), "");
    tb_report_free(&rep);
}

static void test_length_outlier(void **state)
{
    (void)state;
    char *rows = filler(24, 0);
    char longout[8192];
    char body[6000];
    size_t n = 0;
    while (n < 4000)
        n += (size_t)sprintf(body + n, "This sentence repeats %zu times. ", n);
    snprintf(longout, sizeof longout, ROW("Describe the kettle number 76 in a few words.", "", "%s"), body);
    char *text = concat(rows, longout); /* line 25 */
    /* line 26: a short output, but the long one makes sigma large: not beyond 2 sigma */
    char *text2 = concat(text, ROW("Describe the kettle number 77 in words.", "", "Ok."));
    tb_report rep;
    assert_int_equal(vt_validate(text2, &rep), TB_OK);
    assert_string_equal(vt_lines(&rep, "length_outlier"), "25");
    assert_string_equal(vt_first(&rep, "length_outlier")->field, "output");
    assert_int_equal(rep.stats[TB_STAT_OUTPUT].n, 26);
    assert_true(rep.stats[TB_STAT_OUTPUT].max > 4000);
    tb_report_free(&rep);
    /* The same rows without the long one: nothing is an outlier. */
    assert_int_equal(vt_validate(rows, &rep), TB_OK);
    assert_int_equal(rep.checks[tb_check_find("length_outlier")].count, 0);
    tb_report_free(&rep);
    free(rows);
    free(text);
    free(text2);
}

static void test_format_inconsistent(void **state)
{
    (void)state;
    char *rows = filler(20, 0);
    char *t1 = concat(rows, ROW("Describe the river number 99 in a few words.", "",
                                "The river number 99 is long and it flows into the sea"));      /* 21: no period */
    char *t2 = concat(t1, ROW("Describe the bread number 98 in a few words. ", "", "Crusty bread is good.")); /* 22 */
    char *t3 = concat(t2, ROW("Question: describe the lamp number 97.", "", "The lamp is bright and old too.")); /* 23 */
    tb_report rep;
    assert_int_equal(vt_validate(t3, &rep), TB_OK);
    assert_string_equal(vt_lines(&rep, "format_inconsistent"), "21,22,23");
    tb_report_free(&rep);

    /* Mixed line ends: one CRLF line among LF lines. */
    char *crlf = concat(rows, "{\"instruction\":\"Last one.\",\"output\":\"Done here.\"}\r\n");
    assert_int_equal(vt_validate(crlf, &rep), TB_OK);
    assert_string_equal(vt_lines(&rep, "format_inconsistent"), "21");
    assert_non_null(strstr(vt_first(&rep, "format_inconsistent")->message, "CRLF"));
    tb_report_free(&rep);
    free(rows);
    free(t1);
    free(t2);
    free(t3);
    free(crlf);
}

static void test_token_length(void **state)
{
    (void)state;
    char out[2100];
    memset(out, 'a', 2000);
    out[2000] = '\0';
    char text[4096];
    snprintf(text, sizeof text, ROW("Short.", "", "Fine.") ROW("Long.", "", "%s"), out);
    tb_validate_opts o;
    tb_validate_opts_init(&o);
    o.max_tokens = 256;
    tb_report rep;
    tb_error err;
    assert_int_equal(vt_validate_opts(text, ".jsonl", &o, &rep, &err), TB_OK);
    assert_string_equal(vt_lines(&rep, "token_length"), "2");
    const tb_finding *f = vt_first(&rep, "token_length");
    /* 2000 bytes of output = 500 estimated tokens + EOS; the prompt part ~10: ~255 cut. */
    assert_non_null(strstr(f->message, "estimate"));
    assert_false(rep.tokens_exact);
    assert_true(rep.stats[TB_STAT_TOKENS].max > 500);
    tb_report_free(&rep);
    o.max_tokens = 0; /* off */
    assert_int_equal(vt_validate_opts(text, ".jsonl", &o, &rep, &err), TB_OK);
    assert_string_equal(vt_lines(&rep, "token_length"), "");
    tb_report_free(&rep);
}

static void test_leakage(void **state)
{
    (void)state;
    char *eval = vt_tmp(ROW("Capital of Peru?", "", "Lima.")                /* eval 1: not in train */
                        ROW("what is the capital of  FRANCE?", "", "Paris!") /* eval 2: leaks train row 1 */
                        ROW("Largest ocean?", "", "Pacific."),               /* eval 3: leaks train row 2 */
                        ".jsonl");
    tb_validate_opts o;
    tb_validate_opts_init(&o);
    o.eval_path = eval;
    tb_report rep;
    tb_error err;
    assert_int_equal(vt_validate_opts(ROW("Name a river.", "", "Nile.") ROW("What is the capital of France?", "", "Paris.")
                                          ROW("Largest ocean?", "", "The Pacific."),
                                      ".jsonl", &o, &rep, &err),
                     TB_OK);
    assert_string_equal(vt_lines(&rep, "leakage"), "2,3");
    const tb_finding *f = vt_first(&rep, "leakage");
    assert_true(f->in_eval);
    assert_int_equal(rep.eval_rows, 3);
    assert_int_equal(rep.checks[tb_check_find("leakage")].rows, 2);
    tb_report_free(&rep);
    unlink(eval);
    free(eval);

    o.eval_path = "/nonexistent/eval.jsonl"; /* unusable eval file: fails before the pass */
    assert_int_equal(vt_validate_opts(ROW("a", "", "b"), ".jsonl", &o, &rep, &err), TB_ERR_IO);
    assert_non_null(strstr(err.file, "eval.jsonl"));
    tb_report_free(&rep);
}

static void test_rules(void **state)
{
    (void)state;
    char *rules = vt_tmp("# house style\n"
                         "error output /\\bas an ai\\b/i No AI disclaimers in answers\n"
                         "info instruction /^please/i Polite prefix\n"
                         "warning any /https?:\\/\\/internal\\./ Internal links leak\n",
                         ".rules");
    tb_validate_opts o;
    tb_validate_opts_init(&o);
    o.rules_path = rules;
    tb_report rep;
    tb_error err;
    assert_int_equal(vt_validate_opts(ROW("Please help.", "", "As an AI, I cannot.") /* 1: two rules */
                                          ROW("Help me.", "", "Sure, see http://internal.corp/x")   /* 2 */
                                          ROW("Help.", "", "Sure."),                                 /* 3 */
                                      ".jsonl", &o, &rep, &err),
                     TB_OK);
    assert_string_equal(vt_lines(&rep, "rule"), "1,2");
    assert_int_equal(rep.checks[tb_check_find("rule")].count, 3);
    assert_int_equal(rep.by_severity[TB_SEV_ERROR], 1);
    assert_int_equal(rep.by_severity[TB_SEV_INFO], 1);
    tb_report_free(&rep);
    unlink(rules);
    free(rules);

    const char *bad[] = {"fatal output /x/ m\n", "error output x m\n", "error output /x/q m\n", "error output /(/ m\n",
                         "# nothing\n"};
    for (size_t i = 0; i < 5; i++) {
        rules = vt_tmp(bad[i], ".rules");
        o.rules_path = rules;
        assert_int_equal(vt_validate_opts(ROW("a", "", "b"), ".jsonl", &o, &rep, &err), TB_ERR_INVALID);
        assert_string_equal(err.file, rules);
        tb_report_free(&rep);
        unlink(rules);
        free(rules);
    }
}

static void test_fix_writes_clean_copy(void **state)
{
    (void)state;
    char *in = vt_tmp(ROW("Q1 ", "<noinput>", " A1.") ROW("q1", "", "dup.") "not json\n" ROW("Q2", "", "A2."), ".jsonl");
    char out[300];
    snprintf(out, sizeof out, "%s.fixed.jsonl", in);
    tb_validate_opts o;
    tb_validate_opts_init(&o);
    o.path = in;
    o.fix_path = out;
    tb_report rep;
    tb_error err;
    assert_int_equal(tb_validate(&o, &rep, &err), TB_OK);
    assert_true(rep.fix.done);
    assert_int_equal(rep.fix.written, 2);
    assert_int_equal(rep.fix.dropped_duplicates, 1);
    assert_int_equal(rep.fix.dropped_unparseable, 1);
    assert_int_equal(rep.fix.trimmed_fields, 2);
    assert_int_equal(rep.fix.emptied_inputs, 1);
    tb_report_free(&rep);
    /* The copy validates clean. */
    o.path = out;
    o.fix_path = NULL;
    assert_int_equal(tb_validate(&o, &rep, &err), TB_OK);
    assert_int_equal(vt_total(&rep), 0);
    assert_int_equal(rep.rows, 2);
    tb_report_free(&rep);
    /* Never over the input. */
    o.path = in;
    o.fix_path = in;
    assert_int_equal(tb_validate(&o, &rep, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "input"));
    tb_report_free(&rep);
    unlink(out);
    unlink(in);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dup_exact),
        cmocka_unit_test(test_dup_near),
        cmocka_unit_test(test_length_outlier),
        cmocka_unit_test(test_format_inconsistent),
        cmocka_unit_test(test_token_length),
        cmocka_unit_test(test_leakage),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_fix_writes_clean_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
