/* Prompt templates: exact text (DESIGN.md §4, Meta's llama3 and ChatML formats) and which
 * segments are trained. The expected strings are written out by hand from the formats. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/reader.h"
#include "datasets/template.h"

static tb_reader *g_reader;

static const tb_row *row_of(const char *jsonl)
{
    tb_reader_close(g_reader);
    tb_error err;
    assert_int_equal(tb_reader_open_mem(&g_reader, jsonl, strlen(jsonl), "t", NULL, &err), TB_OK);
    const tb_row *row;
    assert_int_equal(tb_reader_next(g_reader, &row, &err), TB_OK);
    assert_non_null(row);
    return row;
}

/* Concatenate trained text; EOS shown as "<EOS>". */
static const char *trained(const tb_rendered *r)
{
    static char buf[4096];
    size_t n = 0;
    for (int i = 0; i < r->n_segs; i++) {
        const tb_segment *s = &r->segs[i];
        if (!s->trained)
            continue;
        if (s->kind == TB_SEG_EOS) {
            memcpy(buf + n, "<EOS>", 5);
            n += 5;
        } else {
            memcpy(buf + n, r->text + s->off, s->len);
            n += s->len;
        }
    }
    buf[n] = '\0';
    return buf;
}

/* Segments must tile the text with no gap or overlap. */
static void assert_tiles(const tb_rendered *r)
{
    size_t at = 0;
    for (int i = 0; i < r->n_segs; i++) {
        assert_int_equal(r->segs[i].off, at);
        at += r->segs[i].len;
    }
    assert_int_equal(at, r->len);
    assert_int_equal(strlen(r->text), r->len);
}

static void test_alpaca_with_and_without_input(void **state)
{
    (void)state;
    tb_rendered r = {0};
    tb_error err;
    const tb_row *row = row_of("{\"instruction\":\"Add.\",\"input\":\"2 and 3\",\"output\":\"5\"}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_AUTO, row, false, &r, &err), TB_OK);
    assert_int_equal(r.kind, TB_TEMPLATE_ALPACA);
    assert_string_equal(r.text, "### Instruction:\nAdd.\n\n### Input:\n2 and 3\n\n### Response:\n5");
    assert_string_equal(trained(&r), "5<EOS>");
    assert_true(r.add_bos);
    assert_tiles(&r);
    assert_int_equal(r.segs[r.n_segs - 1].kind, TB_SEG_EOS);

    row = row_of("{\"instruction\":\"Say hi.\",\"input\":\"\",\"output\":\"Hi!\"}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_ALPACA, row, false, &r, &err), TB_OK);
    assert_string_equal(r.text, "### Instruction:\nSay hi.\n\n### Response:\nHi!");
    assert_string_equal(trained(&r), "Hi!<EOS>");
    assert_int_equal(r.n_segs, 3); /* prompt, response, EOS */
    assert_int_equal(tb_rendered_trained_bytes(&r), 3);

    assert_int_equal(tb_template_render(TB_TEMPLATE_ALPACA, row, true, &r, &err), TB_OK);
    assert_string_equal(trained(&r), "### Instruction:\nSay hi.\n\n### Response:\nHi!<EOS>");
    tb_rendered_free(&r);
}

static void test_chatml_multi_turn(void **state)
{
    (void)state;
    tb_rendered r = {0};
    tb_error err;
    const tb_row *row = row_of("{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                               "{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello.\"},"
                               "{\"role\":\"user\",\"content\":\"Bye\"},{\"role\":\"assistant\",\"content\":\"Bye!\"}]}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_AUTO, row, false, &r, &err), TB_OK);
    assert_int_equal(r.kind, TB_TEMPLATE_CHATML);
    assert_string_equal(r.text, "<|im_start|>system\nBe brief.<|im_end|>\n"
                                "<|im_start|>user\nHi<|im_end|>\n"
                                "<|im_start|>assistant\nHello.<|im_end|>\n"
                                "<|im_start|>user\nBye<|im_end|>\n"
                                "<|im_start|>assistant\nBye!<|im_end|>\n");
    /* Every assistant reply and its end-of-turn token is trained, nothing else. */
    assert_string_equal(trained(&r), "Hello.<|im_end|>Bye!<|im_end|>");
    assert_false(r.add_bos);
    assert_tiles(&r);
    tb_rendered_free(&r);
}

static void test_llama3_sharegpt_trimmed(void **state)
{
    (void)state;
    tb_rendered r = {0};
    tb_error err;
    const tb_row *row = row_of("{\"system\":\"Sys\",\"conversations\":[{\"from\":\"human\",\"value\":\"  Q? \"},"
                               "{\"from\":\"gpt\",\"value\":\"A.\\n\"}]}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_LLAMA3, row, false, &r, &err), TB_OK);
    assert_string_equal(r.text, "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nSys<|eot_id|>"
                                "<|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|>"
                                "<|start_header_id|>assistant<|end_header_id|>\n\nA.<|eot_id|>");
    assert_string_equal(trained(&r), "A.<|eot_id|>");
    assert_false(r.add_bos); /* the text carries <|begin_of_text|> */
    assert_tiles(&r);
    tb_rendered_free(&r);
}

static void test_alpaca_row_in_chat_template(void **state)
{
    (void)state;
    tb_rendered r = {0};
    tb_error err;
    const tb_row *row = row_of("{\"instruction\":\"Translate.\",\"input\":\"Hallo\",\"output\":\"Hello\"}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_CHATML, row, false, &r, &err), TB_OK);
    assert_string_equal(r.text, "<|im_start|>user\nTranslate.\n\nHallo<|im_end|>\n"
                                "<|im_start|>assistant\nHello<|im_end|>\n");
    assert_string_equal(trained(&r), "Hello<|im_end|>");
    tb_rendered_free(&r);
}

static void test_plain_prompt_completion(void **state)
{
    (void)state;
    tb_rendered r = {0};
    tb_error err;
    const tb_row *row = row_of("{\"prompt\":\"2+2=\",\"completion\":\" 4\"}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_AUTO, row, false, &r, &err), TB_OK);
    assert_int_equal(r.kind, TB_TEMPLATE_PLAIN);
    assert_string_equal(r.text, "2+2= 4");
    assert_string_equal(trained(&r), " 4<EOS>");
    tb_rendered_free(&r);
}

static void test_refusals(void **state)
{
    (void)state;
    tb_rendered r = {0};
    tb_error err;
    const tb_row *row = row_of("{\"instruction\":\"No answer here.\"}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_AUTO, row, false, &r, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "no output"));
    row = row_of("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Yo\"}]}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_ALPACA, row, false, &r, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "chatml"));
    row = row_of("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}\n");
    assert_int_equal(tb_template_render(TB_TEMPLATE_AUTO, row, false, &r, &err), TB_ERR_INVALID);
    tb_template_kind k;
    assert_true(tb_template_parse("llama3", &k));
    assert_int_equal(k, TB_TEMPLATE_LLAMA3);
    assert_false(tb_template_parse("vicuna", &k));
    tb_rendered_free(&r);
}

static int teardown(void **state)
{
    (void)state;
    tb_reader_close(g_reader);
    g_reader = NULL;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alpaca_with_and_without_input),
        cmocka_unit_test(test_chatml_multi_turn),
        cmocka_unit_test(test_llama3_sharegpt_trimmed),
        cmocka_unit_test(test_alpaca_row_in_chat_template),
        cmocka_unit_test(test_plain_prompt_completion),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
