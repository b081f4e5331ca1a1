/* Eval measurements on the reference tiny models against PyTorch's logits and greedy tokens
 * (tests/reference/llama/<case>/golden.safetensors, made by tests/reference/llama_ref.py):
 * masked response NLL, plain-text NLL windows, greedy generation as text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/backend.h"
#include "engine/eval/run.h"
#include "engine/io/safetensors.h"
#include "engine/tokenizer/stream.h"

static tb_backend *be;
static char root[1024];

typedef struct golden {
    tb_safetensors *st;
    const int32_t *ids, *greedy;
    const float *logits;
    int64_t T, V, G;
} golden;

static void load(const char *name, golden *g, tb_llama **m)
{
    char path[1200];
    tb_error err;
    snprintf(path, sizeof path, "%s/%s/golden.safetensors", root, name);
    if (tb_safetensors_open(&g->st, path, &err) != TB_OK)
        fail_msg("%s: %s", path, err.message);
    const tb_st_tensor *ids = tb_safetensors_find(g->st, "ids"), *lg = tb_safetensors_find(g->st, "logits"),
                       *gr = tb_safetensors_find(g->st, "greedy");
    g->ids = ids->data, g->logits = lg->data, g->greedy = gr->data;
    g->T = ids->shape[0], g->V = lg->shape[1], g->G = gr->shape[0];
    snprintf(path, sizeof path, "%s/%s", root, name);
    if (tb_llama_load(m, path, be, &err) != TB_OK)
        fail_msg("%s: %s", path, err.message);
}

/* The oracle: -log softmax of PyTorch's logits, f64. */
static double ref_nll(const golden *g, int64_t t, int32_t target)
{
    const float *row = g->logits + t * g->V;
    double mx = row[0], s = 0;
    for (int64_t v = 1; v < g->V; v++)
        mx = row[v] > mx ? row[v] : mx;
    for (int64_t v = 0; v < g->V; v++)
        s += exp(row[v] - mx);
    return mx + log(s) - row[target];
}

static void test_masked_nll_matches_pytorch(void **state)
{
    (void)state;
    static const char *const cases[] = {"llama_gqa_f32", "qwen2_bias_f32", "llama3_rope_f32"};
    for (size_t c = 0; c < 3; c++) {
        golden g;
        tb_llama *m;
        load(cases[c], &g, &m);
        /* prompt = the first 9 tokens, response the rest, then one masked hole at 15 */
        uint8_t trained[64] = {0};
        for (int64_t i = 9; i < g.T; i++)
            trained[i] = i != 15;
        double want = 0;
        int64_t want_n = 0;
        for (int64_t t = 0; t + 1 < g.T; t++)
            if (trained[t + 1])
                want += ref_nll(&g, t, g.ids[t + 1]), want_n++;
        double nll;
        int64_t n;
        tb_error err;
        assert_int_equal(tb_eval_nll(m, g.ids, trained, g.T, &nll, &n, &err), TB_OK);
        assert_int_equal(n, want_n);
        if (fabs(nll - want) > 1e-4 * fabs(want))
            fail_msg("%s/T=%lld: nll %.8f, PyTorch %.8f", cases[c], (long long)g.T, nll, want);
        assert_int_equal(tb_eval_prompt_len(trained, g.T), 9);
        /* plain text: every token after the first; one window = the same as trained NULL */
        double all = 0;
        for (int64_t t = 0; t + 1 < g.T; t++)
            all += ref_nll(&g, t, g.ids[t + 1]);
        assert_int_equal(tb_eval_text_nll(m, g.ids, g.T, g.T, &nll, &n, &err), TB_OK);
        assert_int_equal(n, g.T - 1);
        assert_true(fabs(nll - all) <= 1e-4 * fabs(all));
        /* windows of 10: 24 tokens -> 10 + 10 + 4, targets 9 + 9 + 3; the first window's NLL
         * is PyTorch's on the same positions (causal: later tokens cannot change it) */
        assert_int_equal(tb_eval_text_nll(m, g.ids, g.T, 10, &nll, &n, &err), TB_OK);
        assert_int_equal(n, 21);
        double first = 0, w;
        int64_t k;
        for (int64_t t = 0; t < 9; t++)
            first += ref_nll(&g, t, g.ids[t + 1]);
        assert_int_equal(tb_eval_nll(m, g.ids, NULL, 10, &w, &k, &err), TB_OK);
        assert_true(fabs(w - first) <= 1e-4 * fabs(first));
        uint8_t none[64] = {0};
        assert_int_equal(tb_eval_nll(m, g.ids, none, g.T, &nll, &n, &err), TB_OK);
        assert_int_equal(n, 0);
        assert_true(nll == 0);
        tb_llama_free(m);
        tb_safetensors_close(g.st);
    }
}

static void test_greedy_text_equals_pytorch_tokens(void **state)
{
    (void)state;
    golden g;
    tb_llama *m;
    load("llama_vocab320_f32", &g, &m);
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/llama_vocab320_f32", root);
    tb_tokenizer *tok;
    tb_error err;
    assert_int_equal(tb_tokenizer_load_dir(&tok, dir, &err), TB_OK);
    tb_generate_opts o = {.sampler = {.temperature = 0, .top_p = 1, .repetition_penalty = 1}, .max_new = g.G};
    char *text;
    assert_int_equal(tb_eval_generate_text(m, tok, g.ids, g.T, &o, &text, &err), TB_OK);
    /* PyTorch's greedy ids, decoded; generation stops early only at an EOS */
    int64_t n = 0;
    while (n < g.G && g.greedy[n] != tb_tokenizer_eos(tok))
        n++;
    char *want;
    assert_int_equal(tb_tokenizer_decode(tok, g.greedy, (size_t)n, true, &want, &err), TB_OK);
    assert_string_equal(text, want);
    free(text);
    free(want);
    tb_tokenizer_free(tok);
    tb_llama_free(m);
    tb_safetensors_close(g.st);
}

/* Streaming detokenization: the pieces, each final (no U+FFFD from a character split across
 * tokens), concatenate to the decode of the whole sequence. */
static void test_detok_stream_pieces_concatenate(void **state)
{
    (void)state;
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/llama_vocab320_f32", root);
    tb_tokenizer *tok;
    tb_error err;
    assert_int_equal(tb_tokenizer_load_dir(&tok, dir, &err), TB_OK);
    const char *text = "h\xc3\xa9llo \xe2\x86\x92 \xe4\xb8\x96\xe7\x95\x8c, caf\xc3\xa9!";
    int32_t *ids;
    size_t n;
    assert_int_equal(tb_tokenizer_encode(tok, text, strlen(text), false, &ids, &n, &err), TB_OK);
    assert_true(n > 10); /* a 320-token vocabulary splits the characters into byte tokens */
    tb_detok_stream ds = {0};
    char out[256] = "";
    size_t held = 0;
    for (size_t i = 0; i < n; i++) {
        char *piece;
        size_t len;
        assert_int_equal(tb_detok_stream_push(&ds, tok, ids[i], &piece, &len, &err), TB_OK);
        if (!piece) {
            held++;
            continue;
        }
        assert_null(strstr(piece, "\xef\xbf\xbd"));
        strncat(out, piece, sizeof out - strlen(out) - 1);
        free(piece);
    }
    char *rest;
    size_t len;
    assert_int_equal(tb_detok_stream_flush(&ds, tok, &rest, &len, &err), TB_OK);
    if (rest)
        strncat(out, rest, sizeof out - strlen(out) - 1);
    free(rest);
    assert_true(held > 0); /* some token did end inside a character */
    assert_string_equal(out, text);
    tb_detok_stream_free(&ds);
    free(ids);
    tb_tokenizer_free(tok);
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("TB_SOURCE_ROOT");
    snprintf(root, sizeof root, "%s/tests/reference/llama", src ? src : ".");
    tb_error err;
    tb_backend_options o = {.threads = 2, .precision = TB_PRECISION_F32};
    return tb_backend_create(&be, "cpu", &o, NULL, 0, &err) == TB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tb_backend_destroy(be);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masked_nll_matches_pytorch),
        cmocka_unit_test(test_greedy_text_equals_pytorch_tokens),
        cmocka_unit_test(test_detok_stream_pieces_concatenate),
    };
    return cmocka_run_group_tests_name("eval_run", tests, setup, teardown);
}
