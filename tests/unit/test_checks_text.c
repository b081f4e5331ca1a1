/* Per-row checks: fixtures with defects at known lines, and near misses that must not fire
 * (lines named in each case). Structure, content, patterns, PII, chat roles, control chars. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "vtest.h"

#define ROW(ins, inp, out) "{\"instruction\":\"" ins "\",\"input\":\"" inp "\",\"output\":\"" out "\"}\n"

static tb_report run(const char *text)
{
    tb_report rep;
    assert_int_equal(vt_validate(text, &rep), TB_OK);
    return rep;
}

static void test_structure_checks(void **state)
{
    (void)state;
    tb_report rep = run(ROW("A.", "", "b.")                                    /* 1 */
                        "{\"instruction\": \"x\", \"output\": }\n"              /* 2 invalid_json */
                        "{\"instruction\":\"A2.\",\"output\":\"b.\",\"lang\":\"en\"}\n" /* 3 unknown_field */
                        "{\"instruction\":\"A3.\"}\n"                           /* 4 missing_field */
                        "{\"instruction\":\"A4.\",\"output\":null}\n"           /* 5 missing_field */
                        "{\"instruction\":\"A5.\",\"output\":42}\n"             /* 6 missing_field (type) */
                        "{\"id\":7,\"instruction\":\"A6.\",\"output\":\"ok.\"}\n" /* 7 near miss: id is metadata */
                        "{\"instruction\":\"caf\xE9.\",\"output\":\"b.\"}\n");  /* 8 invalid_utf8 */
    assert_string_equal(vt_lines(&rep, "invalid_json"), "2");
    assert_string_equal(vt_lines(&rep, "unknown_field"), "3");
    assert_string_equal(vt_lines(&rep, "missing_field"), "4,5,6");
    assert_string_equal(vt_lines(&rep, "invalid_utf8"), "8");
    assert_string_equal(vt_first(&rep, "unknown_field")->field, "lang");
    assert_string_equal(vt_first(&rep, "missing_field")->field, "output");
    assert_int_equal(rep.rows, 8);
    assert_int_equal(rep.parsed_rows, 7);
    tb_report_free(&rep);
}

static void test_empty_output_and_placeholder_input(void **state)
{
    (void)state;
    tb_report rep = run(ROW("Q1.", "", "")                   /* 1 empty */
                        ROW("Q2.", "", "   \\n ")             /* 2 whitespace */
                        ROW("Q3.", "", "N/A")                 /* 3 */
                        ROW("Q4.", "", "<No Output>")         /* 4 */
                        ROW("Q5.", "", "None")                /* 5 near miss: a real answer */
                        ROW("Q6.", "<noinput>", "x.")         /* 6 placeholder */
                        ROW("Q7.", "No input", "x.")          /* 7 */
                        ROW("Q8.", " N/A ", "x.")             /* 8 */
                        ROW("Q9.", "No input was given to the parser.", "x.") /* 9 near miss */
                        ROW("Q10.", "noinput", "x."));        /* 10 */
    assert_string_equal(vt_lines(&rep, "empty_output"), "1,2,3,4");
    assert_string_equal(vt_lines(&rep, "placeholder_input"), "6,7,8,10");
    tb_report_free(&rep);
}

static void test_merged_instruction(void **state)
{
    (void)state;
    tb_report rep = run(
        ROW("Write a poem.", "", "Roses bloom.\\n\\n2. Instruction: Write a story about a dog.") /* 1 */
        ROW("Explain X.", "", "X is a letter.\\n### Instruction:\\nExplain Y.")                 /* 2 */
        ROW("Summarize.", "", "Done.\\n\\n### Response:\\nMore text.")                           /* 3 leaked marker */
        ROW("Write a recipe.", "", "## Pancakes\\n\\nIngredients:\\n- flour\\n\\nInstructions:\\n1. Mix.") /* 4 near miss */
        ROW("Solve 6*7.", "", "6 times 7 is 42.\\n#### 42")                                     /* 5 near miss */
        ROW("Describe DNA.", "", "DNA carries the genetic instructions of life.")               /* 6 near miss */
        ROW("Give steps.", "", "Follow the instructions: first this, then that.")                /* 7 near miss */
        ROW("Write a title.", "", "# Instruction manuals\\nA heading about manuals."));          /* 8 near miss */
    assert_string_equal(vt_lines(&rep, "merged_instruction"), "1,2,3");
    const tb_finding *f = vt_first(&rep, "merged_instruction");
    assert_string_equal(f->field, "output");
    assert_int_equal(f->span_off, 14); /* the line "2. Instruction: ..." */
    tb_report_free(&rep);
}

static void test_url_reference(void **state)
{
    (void)state;
    tb_report rep = run(
        ROW("Summarize the article at https://example.org/news/42", "", "It says things.")  /* 1 */
        ROW("Describe the attached image.", "", "A cat.")                                 /* 2 */
        ROW("What is shown in this photo?", "", "A beach.")                                /* 3 */
        ROW("Describe the picture.", "holiday.jpg", "A beach.")                             /* 4 */
        ROW("Extract the domain from the URL.", "https://www.example.com/path", "example.com") /* 5 near miss */
        ROW("Describe a photo of a beach at sunset.", "", "Golden light.")                 /* 6 near miss */
        ROW("Summarize this document.", "Bees pollinate plants.", "Bees help plants.")      /* 7 near miss: given */
        ROW("Summarize this document.", "", "I cannot see it.")                            /* 8 document, no input */
        ROW("Explain how photo printing works.", "", "Ink on paper."));                   /* 9 near miss */
    assert_string_equal(vt_lines(&rep, "url_reference"), "1,2,3,4,8");
    tb_report_free(&rep);
}

static void test_placeholder_text(void **state)
{
    (void)state;
    tb_report rep = run(
        ROW("Write a greeting.", "", "Hello [TODO]")                                       /* 1 */
        ROW("Name it.", "", "It is called [PLACEHOLDER: product name].")                   /* 2 */
        ROW("Translate {{sentence}} into French.", "", "Bonjour.")                         /* 3 */
        ROW("Write a Jinja template greeting.", "", "Hello {{ name }}!")                   /* 4 near miss: template code */
        ROW("Show a Vue binding.", "", "Use `{{message}}` in the markup.")                 /* 5 near miss: inline code */
        ROW("Write a cover letter.", "", "Dear [Hiring Manager], I am applying.")          /* 6 near miss */
        ROW("Reply in JSON.", "", "{{\\n  \\\"answer\\\": 4\\n}}")                          /* 7 near miss */
        ROW("Write HTML.", "", "<p>{{title}}</p>"));                                       /* 8 near miss: markup */
    assert_string_equal(vt_lines(&rep, "placeholder_text"), "1,2,3");
    tb_report_free(&rep);
}

static void test_control_chars(void **state)
{
    (void)state;
    tb_report rep = run(ROW("Beep.", "", "Bell \\u0007 here.")                /* 1 */
                        ROW("Color.", "", "\\u001b[31mred\\u001b[0m")          /* 2 */
                        ROW("C1.", "", "x\\u0085y")                            /* 3 C1 */
                        ROW("Tabs.", "", "a\\tb\\nc\\r\\nd")                   /* 4 near miss */
                        ROW("Nul.", "", "a\\u0000b"));                         /* 5 NUL */
    assert_string_equal(vt_lines(&rep, "control_chars"), "1,2,3,5");
    assert_non_null(strstr(vt_first(&rep, "control_chars")->message, "U+0007"));
    tb_report_free(&rep);
}

static void test_pii(void **state)
{
    (void)state;
    tb_report rep = run(
        ROW("Contact?", "", "Write to maria.schmidt@posteo.de today.")                      /* 1 email */
        ROW("Contact?", "", "Write to jane.doe@example.com or janedoe@email.com.")          /* 2 near miss */
        ROW("Call?", "", "Call +49 30 9875 4321 after nine.")                                /* 3 phone */
        ROW("Call?", "", "Call (123) 456-7890 or 555-0142.")                                 /* 4 near miss */
        ROW("Key?", "", "export OPENAI_API_KEY=sk-Zq8Rr2LmT0vW4yXc7bN1pQ5sK9dF3gH6jA2eU8iO") /* 5 key */
        ROW("Key?", "", "export OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxx")                 /* 6 near miss */
        ROW("Pay?", "", "Card 4539 1488 0343 6467 expires soon.")                            /* 7 card */
        ROW("Pay?", "", "Test card 4111 1111 1111 1111; also 4539 1488 0343 6468.")          /* 8 near miss */
        ROW("Bank?", "", "IBAN DE44 5001 0517 5407 3249 31 please.")                          /* 9 IBAN */
        ROW("Bank?", "", "Example GB82 WEST 1234 5698 7654 32 and DE44 5001 0517 5407 3249 32.") /* 10 near miss */
        ROW("Count?", "", "About 10 000 000 000 stars; dated 2021-07-26 at 12:30.")           /* 11 near miss */
        ROW("Math?", "", "16(16-10)(16-14)(16-8) = 1536 and 3.14159265358979."));           /* 12 near miss */
    assert_string_equal(vt_lines(&rep, "pii"), "1,3,5,7,9");
    /* Findings never repeat the secret in full. */
    for (long i = 0; i < rep.n_findings; i++) {
        assert_null(strstr(rep.findings[i].message, "maria.schmidt"));
        assert_null(strstr(rep.findings[i].message, "9875 4321"));
        assert_null(strstr(rep.findings[i].message, "Zq8Rr2Lm"));
        assert_null(strstr(rep.findings[i].message, "1488 0343"));
    }
    tb_report_free(&rep);
}

static void test_chat_roles(void **state)
{
    (void)state;
    tb_report rep = run(
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello.\"}]}\n" /* 1 ok */
        "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"bot\",\"content\":\"Hello.\"}]}\n" /* 2 role, no asst */
        "{\"messages\":[{\"role\":\"assistant\",\"content\":\"Hello.\"}]}\n"                                  /* 3 no user */
        "{\"messages\":[{\"role\":\"user\",\"content\":\"A\"},{\"role\":\"assistant\",\"content\":\"B.\"},"
        "{\"role\":\"user\",\"content\":\"C\"}]}\n"                                                           /* 4 last user */
        "{\"messages\":[]}\n"                                                                                 /* 5 empty */
        "{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"A\"},"
        "{\"role\":\"assistant\",\"content\":\"B.\"}]}\n");                                                   /* 6 ok */
    assert_string_equal(vt_lines(&rep, "chat_roles"), "2,3,4,5");
    assert_int_equal(rep.checks[tb_check_find("chat_roles")].count, 5); /* line 2: unknown role + no assistant */
    tb_report_free(&rep);
}

static void test_registry_names_are_stable(void **state)
{
    (void)state;
    static const char *const names[] = {
        "missing_field", "unknown_field", "empty_output", "placeholder_input", "dup_exact", "dup_near",
        "length_outlier", "format_inconsistent", "merged_instruction", "url_reference", "placeholder_text",
        "control_chars", "invalid_utf8", "pii", "chat_roles", "token_length", "leakage", "rule",
    };
    static const tb_severity sev[] = {
        TB_SEV_ERROR, TB_SEV_WARNING, TB_SEV_ERROR, TB_SEV_WARNING, TB_SEV_ERROR, TB_SEV_WARNING,
        TB_SEV_WARNING, TB_SEV_WARNING, TB_SEV_ERROR, TB_SEV_WARNING, TB_SEV_ERROR,
        TB_SEV_WARNING, TB_SEV_ERROR, TB_SEV_WARNING, TB_SEV_ERROR, TB_SEV_WARNING, TB_SEV_ERROR, TB_SEV_WARNING,
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int c = tb_check_find(names[i]);
        assert_true(c >= 0);
        assert_int_equal(tb_check_severity(c), sev[i]);
        assert_true(strlen(tb_check_hint(c)) > 10);
    }
    assert_int_equal(tb_check_find("nope"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure_checks),
        cmocka_unit_test(test_empty_output_and_placeholder_input),
        cmocka_unit_test(test_merged_instruction),
        cmocka_unit_test(test_url_reference),
        cmocka_unit_test(test_placeholder_text),
        cmocka_unit_test(test_control_chars),
        cmocka_unit_test(test_pii),
        cmocka_unit_test(test_chat_roles),
        cmocka_unit_test(test_registry_names_are_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
