/* Dataset readers: JSONL, JSON arrays, CSV; malformed records, BOMs, CRLF, empty files, a
 * 10 MB line, row shapes and the field map. Every row must say its file line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/reader.h"
#include "datasets/reader_impl.h"
#include "vtest.h"

static tb_reader *open_mem(const char *text, tb_dataset_format fmt)
{
    tb_reader *r = NULL;
    tb_error err;
    tb_reader_opts o = {.format = fmt};
    assert_int_equal(tb_reader_open_mem(&r, text, strlen(text), "mem", &o, &err), TB_OK);
    return r;
}

static const tb_row *next_row(tb_reader *r)
{
    const tb_row *row = NULL;
    tb_error err;
    assert_int_equal(tb_reader_next(r, &row, &err), TB_OK);
    return row;
}

static const char *text_of(const tb_row *row, const char *field)
{
    for (int i = 0; i < row->n_texts; i++)
        if (strcmp(row->texts[i].field, field) == 0)
            return row->texts[i].text;
    return NULL;
}

static void test_jsonl_lines_and_bad_line(void **state)
{
    (void)state;
    tb_reader *r = open_mem("{\"instruction\":\"a\",\"output\":\"b\"}\n"
                            "{\"instruction\": broken\n"
                            "\n"
                            "{\"instruction\":\"c\",\"input\":\"x\",\"output\":\"d\"}\n",
                            TB_FORMAT_AUTO);
    assert_int_equal(tb_reader_format(r), TB_FORMAT_JSONL);
    const tb_row *row = next_row(r);
    assert_int_equal(row->line, 1);
    assert_int_equal(row->index, 0);
    assert_string_equal(text_of(row, "output"), "b");
    assert_int_equal(tb_reader_shape(r), TB_SHAPE_ALPACA);
    row = next_row(r);
    assert_int_equal(row->line, 2);
    assert_int_equal(row->parse, TB_PARSE_JSON);
    assert_non_null(strstr(row->parse_message, "invalid JSON"));
    row = next_row(r); /* the blank line 3 is skipped, line 4 still knows its number */
    assert_int_equal(row->line, 4);
    assert_int_equal(row->index, 2);
    assert_int_equal(row->offset, 33 + 23 + 1); /* three lines of 33, 23 and 1 bytes before it */
    assert_string_equal(text_of(row, "input"), "x");
    assert_null(next_row(r));
    tb_reader_close(r);
}

static void test_jsonl_bom_crlf_last_line_without_newline(void **state)
{
    (void)state;
    tb_reader *r = open_mem("\xEF\xBB\xBF{\"instruction\":\"a\",\"output\":\"b\"}\r\n"
                            "{\"instruction\":\"c\",\"output\":\"d\"}",
                            TB_FORMAT_AUTO);
    assert_int_equal(tb_reader_format(r), TB_FORMAT_JSONL);
    const tb_row *row = next_row(r);
    assert_true(row->crlf);
    assert_int_equal(row->offset, 3); /* after the BOM */
    assert_string_equal(text_of(row, "output"), "b");
    row = next_row(r);
    assert_false(row->crlf);
    assert_int_equal(row->line, 2);
    assert_string_equal(text_of(row, "output"), "d");
    assert_null(next_row(r));
    tb_reader_close(r);
}

static void test_empty_and_blank_files(void **state)
{
    (void)state;
    const char *cases[] = {"", "   \n\n  \t\n", "\xEF\xBB\xBF"};
    for (size_t i = 0; i < 3; i++) {
        tb_reader *r = NULL;
        tb_error err;
        assert_int_equal(tb_reader_open_mem(&r, cases[i], strlen(cases[i]), "empty", NULL, &err), TB_ERR_FORMAT);
        assert_non_null(strstr(err.message, "empty"));
        assert_null(r);
    }
}

static void test_utf16_and_binary_refused(void **state)
{
    (void)state;
    tb_reader *r = NULL;
    tb_error err;
    assert_int_equal(tb_reader_open_mem(&r, "\xFF\xFE{\0\"\0", 6, "u16", NULL, &err), TB_ERR_FORMAT);
    assert_non_null(strstr(err.message, "UTF-16"));
    assert_int_equal(tb_reader_open_mem(&r, "plain text, not data\n", 21, "txt.csv", NULL, &err), TB_OK);
    tb_reader_close(r); /* a comma: sniffed as CSV with a header; rows decide later */
    assert_int_equal(tb_reader_open_mem(&r, "just words\n", 11, "txt", NULL, &err), TB_ERR_FORMAT);
    assert_non_null(strstr(err.message, "not a dataset"));
}

static void test_jsonl_10mb_line(void **state)
{
    (void)state;
    size_t big = 10u << 20;
    char *text = malloc(big + 128);
    int n = sprintf(text, "{\"instruction\":\"long\",\"output\":\"");
    memset(text + n, 'x', big);
    strcpy(text + n + big, "\"}\n{\"instruction\":\"s\",\"output\":\"t\"}\n");
    tb_reader *r = NULL;
    tb_error err;
    assert_int_equal(tb_reader_open_mem(&r, text, strlen(text), "big", NULL, &err), TB_OK);
    const tb_row *row = next_row(r);
    assert_int_equal(row->parse, TB_PARSE_OK);
    assert_int_equal(row->texts[1].len, big);
    row = next_row(r);
    assert_int_equal(row->line, 2);
    assert_string_equal(text_of(row, "output"), "t");
    tb_reader_close(r);
    free(text);
}

static void test_invalid_utf8_repaired(void **state)
{
    (void)state;
    tb_reader *r = open_mem("{\"instruction\":\"caf\xE9\",\"output\":\"ok\"}\n", TB_FORMAT_AUTO);
    const tb_row *row = next_row(r);
    assert_int_equal(row->parse, TB_PARSE_OK);
    assert_int_equal(row->bad_utf8, 1);
    assert_int_equal(row->bad_utf8_at, 19);
    assert_string_equal(text_of(row, "instruction"), "caf?");
    tb_reader_close(r);
}

static void test_json_array_lines_and_errors(void **state)
{
    (void)state;
    tb_reader *r = open_mem("[\n  {\"instruction\": \"a\",\n   \"output\": \"b\"},\n  {\"instruction\": \"c\", \"output\": "
                            "\"d\"},\n  [1, 2],\n  {\"instruction\": \"e\" \"output\": 1}\n]\n",
                            TB_FORMAT_AUTO);
    assert_int_equal(tb_reader_format(r), TB_FORMAT_JSON);
    const tb_row *row = next_row(r);
    assert_int_equal(row->line, 2);
    assert_string_equal(text_of(row, "output"), "b");
    row = next_row(r);
    assert_int_equal(row->line, 4);
    row = next_row(r);
    assert_int_equal(row->line, 5);
    assert_int_equal(row->parse, TB_PARSE_JSON); /* an array is not a row */
    row = next_row(r);
    assert_int_equal(row->line, 6);
    assert_int_equal(row->parse, TB_PARSE_JSON); /* missing comma: cannot go on */
    assert_non_null(strstr(row->parse_message, "line 6"));
    assert_null(next_row(r));
    tb_reader_close(r);

    r = open_mem("[{\"instruction\":\"a\",\"output\":\"b\"},\n{\"instruction\":\"c\"", TB_FORMAT_AUTO);
    row = next_row(r);
    assert_int_equal(row->parse, TB_PARSE_OK);
    row = next_row(r);
    assert_int_equal(row->parse, TB_PARSE_JSON); /* truncated element */
    assert_int_equal(row->line, 2);
    assert_null(next_row(r));
    tb_reader_close(r);
}

static void test_json_array_bad_utf8_and_seek(void **state)
{
    (void)state;
    const char *text = "[{\"instruction\":\"a\",\"output\":\"b\"},\n {\"instruction\":\"\xC3\x28x\",\"output\":\"d\"}]";
    tb_reader *r = open_mem(text, TB_FORMAT_JSON);
    const tb_row *row = next_row(r);
    row = next_row(r);
    assert_int_equal(row->parse, TB_PARSE_OK);
    assert_int_equal(row->bad_utf8, 1);
    assert_string_equal(text_of(row, "instruction"), "?(x");
    int64_t off = row->offset;
    long line = row->line;
    assert_null(next_row(r));
    tb_error err;
    assert_int_equal(tb_reader_seek(r, off, line, 0, 1, &err), TB_OK);
    row = next_row(r);
    assert_int_equal(row->index, 1);
    assert_int_equal(row->line, 2);
    assert_string_equal(text_of(row, "output"), "d");
    tb_reader_close(r);
}

static void test_csv_quotes_newlines_crlf(void **state)
{
    (void)state;
    const char *text = "instruction,input,output\r\n"
                       "\"Say \"\"hi\"\"\",,\"Hello,\r\nworld\"\r\n"
                       "\r\n"
                       "Plain,  spaced  ,x\r\n"
                       "\"broken\"quote,a,b\r\n"
                       "Short,row\r\n"
                       "Last,in,\"end\"";
    tb_reader *r = open_mem(text, TB_FORMAT_AUTO);
    assert_int_equal(tb_reader_format(r), TB_FORMAT_CSV);
    const tb_row *row = next_row(r);
    assert_int_equal(row->line, 2);
    assert_int_equal(row->record, 1);
    assert_string_equal(text_of(row, "instruction"), "Say \"hi\"");
    assert_string_equal(text_of(row, "output"), "Hello,\r\nworld");
    row = next_row(r); /* blank line 4 skipped */
    assert_int_equal(row->line, 5);
    assert_int_equal(row->record, 2);
    assert_string_equal(text_of(row, "input"), "  spaced  "); /* spaces kept for the checks */
    row = next_row(r);
    assert_int_equal(row->line, 6);
    assert_int_equal(row->parse, TB_PARSE_CSV);
    row = next_row(r);
    assert_int_equal(row->line, 7);
    assert_int_equal(row->parse, TB_PARSE_CSV);
    assert_non_null(strstr(row->parse_message, "2 fields"));
    row = next_row(r);
    assert_int_equal(row->line, 8);
    assert_int_equal(row->record, 5);
    assert_string_equal(text_of(row, "output"), "end");
    assert_null(next_row(r));
    tb_reader_close(r);
}

static void test_csv_header_only_and_bom(void **state)
{
    (void)state;
    tb_reader *r = open_mem("\xEF\xBB\xBFinstruction,output\n", TB_FORMAT_AUTO);
    assert_int_equal(tb_reader_format(r), TB_FORMAT_CSV);
    assert_string_equal(r->header[0], "instruction"); /* no BOM glued to the first column */
    assert_null(next_row(r));
    tb_reader_close(r);
}

static void test_csv_equals_jsonl_example(void **state)
{
    (void)state;
    tb_reader *a, *b;
    tb_error err;
    assert_int_equal(tb_reader_open(&a, vt_source("datasets/examples/alpaca_clean.jsonl"), NULL, &err), TB_OK);
    assert_int_equal(tb_reader_open(&b, vt_source("datasets/examples/alpaca_clean.csv"), NULL, &err), TB_OK);
    int rows = 0;
    for (;;) {
        const tb_row *x = next_row(a), *y = next_row(b);
        if (!x || !y) {
            assert_true(!x && !y);
            break;
        }
        assert_int_equal(x->n_texts, y->n_texts);
        for (int i = 0; i < x->n_texts; i++) {
            assert_string_equal(x->texts[i].field, y->texts[i].field);
            assert_int_equal(x->texts[i].len, y->texts[i].len);
            assert_memory_equal(x->texts[i].text, y->texts[i].text, x->texts[i].len);
        }
        rows++;
    }
    assert_int_equal(rows, 20);
    tb_reader_close(a);
    tb_reader_close(b);
}

static void test_chat_and_sharegpt_shapes(void **state)
{
    (void)state;
    tb_reader *r = open_mem("{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"u\"},"
                            "{\"role\":\"assistant\",\"content\":\"a\",\"weight\":1},{\"role\":\"bot\",\"content\":\"?\"},"
                            "{\"role\":\"user\"},{\"content\":\"x\"},{\"role\":\"user\",\"content\":5,\"mood\":1}]}\n",
                            TB_FORMAT_AUTO);
    const tb_row *row = next_row(r);
    assert_int_equal(row->shape, TB_SHAPE_CHAT);
    assert_int_equal(row->n_texts, 4);
    assert_int_equal(row->texts[0].kind, TB_TEXT_SYSTEM);
    assert_int_equal(row->texts[2].kind, TB_TEXT_RESPONSE);
    assert_int_equal(row->texts[3].kind, TB_TEXT_OTHER);
    assert_string_equal(row->texts[3].role, "bot");
    assert_string_equal(row->texts[3].field, "messages[3].content");
    /* turn 4 has no content, turn 5 no role, turn 6 a number: three issues, no unknown "weight" */
    int missing = 0, type = 0, unknown = 0;
    for (int i = 0; i < row->n_issues; i++) {
        missing += row->issues[i].kind == TB_ISSUE_MISSING;
        type += row->issues[i].kind == TB_ISSUE_TYPE;
        unknown += row->issues[i].kind == TB_ISSUE_UNKNOWN;
    }
    assert_int_equal(missing, 2);
    assert_int_equal(type, 1);
    assert_int_equal(unknown, 0); /* turn 6 is skipped whole, its "mood" with it */
    tb_reader_close(r);

    r = open_mem("{\"id\":\"x\",\"system\":\"Be brief.\",\"conversations\":[{\"from\":\"human\",\"value\":\"hi\"},"
                 "{\"from\":\"gpt\",\"value\":\"hello\"}]}\n",
                 TB_FORMAT_AUTO);
    row = next_row(r);
    assert_int_equal(row->shape, TB_SHAPE_SHAREGPT);
    assert_int_equal(row->n_issues, 0); /* id and system are known */
    assert_int_equal(row->n_texts, 3);
    assert_int_equal(row->texts[0].kind, TB_TEXT_SYSTEM);
    assert_int_equal(row->texts[0].turn, -1);
    assert_int_equal(row->texts[2].kind, TB_TEXT_RESPONSE);
    tb_reader_close(r);
}

static void test_field_map(void **state)
{
    (void)state;
    tb_field_map map;
    tb_error err;
    assert_int_equal(tb_field_map_parse(&map, "instruction=question,output=answer", &err), TB_OK);
    assert_string_equal(tb_field_map_get(&map, "output"), "answer");
    assert_string_equal(tb_field_map_get(&map, "input"), "input");
    assert_int_equal(tb_field_map_parse(&map, "instrution=q", &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "instrution"));
    assert_int_equal(tb_field_map_parse(&map, "output", &err), TB_ERR_INVALID);
    assert_int_equal(tb_field_map_parse(&map, "instruction=question,output=answer", &err), TB_OK);

    const char *text = "question,answer,source\nWhat is 2+2?,4,quiz\n";
    tb_reader *r = NULL;
    tb_reader_opts o = {.map = &map};
    assert_int_equal(tb_reader_open_mem(&r, text, strlen(text), "m.csv", &o, &err), TB_OK);
    const tb_row *row = next_row(r);
    assert_int_equal(row->shape, TB_SHAPE_ALPACA);
    assert_string_equal(text_of(row, "answer"), "4");
    assert_int_equal(row->n_issues, 1);
    assert_string_equal(row->issues[0].field, "source");
    tb_reader_close(r);
}

static void test_unknown_shape_reported_then_found(void **state)
{
    (void)state;
    tb_reader *r = open_mem("{\"text\":\"hello\",\"meta\":1}\n{}\n{\"instruction\":\"a\",\"output\":\"b\"}\n",
                            TB_FORMAT_AUTO);
    const tb_row *row = next_row(r); /* fits no shape: an issue, not a failure */
    assert_int_equal(row->n_issues, 1);
    assert_int_equal(row->issues[0].kind, TB_ISSUE_MISSING);
    assert_non_null(strstr(row->issues[0].detail, "'text'"));
    assert_non_null(strstr(row->issues[0].detail, "--map"));
    assert_int_equal(tb_reader_shape(r), TB_SHAPE_UNKNOWN);
    row = next_row(r);
    assert_non_null(strstr(row->issues[0].detail, "(none)"));
    row = next_row(r); /* the first alpaca row decides */
    assert_int_equal(tb_reader_shape(r), TB_SHAPE_ALPACA);
    assert_int_equal(row->n_issues, 0);
    assert_non_null(strstr(tb_reader_shape_problem(r), "line 1:"));
    tb_reader_close(r);
}

/* Streaming: 40 MB of rows go through a window that stays at a couple of MiB. */
static void test_memory_is_bounded_by_records(void **state)
{
    (void)state;
    size_t n = 40u << 20, used = 0;
    char *text = malloc(n + 256);
    long rows = 0;
    while (used < n)
        used += (size_t)sprintf(text + used, "{\"instruction\":\"row %ld\",\"output\":\"%0200ld\"}\n", rows, rows),
            rows++;
    tb_reader *r = NULL;
    tb_error err;
    assert_int_equal(tb_reader_open_mem(&r, text, used, "stream", NULL, &err), TB_OK);
    long seen = 0;
    while (next_row(r))
        seen++;
    assert_int_equal(seen, rows);
    assert_true(r->src.cap <= (4u << 20));
    tb_reader_close(r);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl_lines_and_bad_line),
        cmocka_unit_test(test_jsonl_bom_crlf_last_line_without_newline),
        cmocka_unit_test(test_empty_and_blank_files),
        cmocka_unit_test(test_utf16_and_binary_refused),
        cmocka_unit_test(test_jsonl_10mb_line),
        cmocka_unit_test(test_invalid_utf8_repaired),
        cmocka_unit_test(test_json_array_lines_and_errors),
        cmocka_unit_test(test_json_array_bad_utf8_and_seek),
        cmocka_unit_test(test_csv_quotes_newlines_crlf),
        cmocka_unit_test(test_csv_header_only_and_bom),
        cmocka_unit_test(test_csv_equals_jsonl_example),
        cmocka_unit_test(test_chat_and_sharegpt_shapes),
        cmocka_unit_test(test_field_map),
        cmocka_unit_test(test_unknown_shape_reported_then_found),
        cmocka_unit_test(test_memory_is_bounded_by_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
