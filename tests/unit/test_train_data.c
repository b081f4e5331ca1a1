/* The training data pipeline on real files with a real tokenizer (the 320-token reference
 * model's tokenizer.json): loss masks, truncation reports, refusals that name the cause,
 * the eval split, length-grouped batches padded to their longest example, packing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/train/data.h"
#include "vtest.h"

static tb_tokenizer *tok;
static char alpaca[4096];

static tb_data_opts opts(const char *path)
{
    tb_data_opts o = {.path = path, .max_len = 1024, .seed = 42};
    return o;
}

static void test_response_only_mask(void **state)
{
    (void)state;
    tb_train_data d, all;
    tb_error err;
    tb_data_opts o = opts(alpaca);
    assert_int_equal(tb_train_data_load(&d, &o, tok, &err), TB_OK);
    assert_int_equal(d.stats.rows, 20);
    assert_int_equal(d.train.n, 20);
    assert_int_equal(d.eval.n, 0);
    assert_int_equal(d.stats.truncated, 0);
    o.train_on_inputs = true;
    assert_int_equal(tb_train_data_load(&all, &o, tok, &err), TB_OK);
    assert_int_equal(all.train.tokens, d.train.tokens);
    for (int64_t i = 0; i < d.train.n; i++) {
        int64_t n = tb_token_set_len(&d.train, i), a = d.train.start[i];
        /* prompt masked: the first token after BOS is not trained, the last (EOS) is */
        assert_int_equal(d.train.ids[a], tb_tokenizer_bos(tok));
        assert_false(d.train.trained[a + 1]);
        assert_true(d.train.trained[a + n - 1]);
        assert_int_equal(d.train.ids[a + n - 1], tb_tokenizer_eos(tok));
        assert_true(d.train.targets[i] > 0 && d.train.targets[i] < n - 1);
        assert_int_equal(all.train.targets[i], n - 1); /* --train-on-inputs: every position */
        assert_int_equal(d.train.line[i], i + 1);
    }
    printf("# data/alpaca_clean.jsonl: 20 examples, %lld tokens, %lld trained (response only), %lld with inputs\n",
           (long long)d.stats.tokens, (long long)d.stats.targets, (long long)all.stats.targets);
    tb_train_data_free(&d);
    tb_train_data_free(&all);
}

static void test_truncation_reported_and_refused(void **state)
{
    (void)state;
    tb_train_data d;
    tb_error err;
    tb_data_opts o = opts(alpaca);
    o.max_len = 100;
    assert_int_equal(tb_train_data_load(&d, &o, tok, &err), TB_OK);
    assert_true(d.stats.truncated > 0 && d.stats.truncated_targets > 0);
    for (int64_t i = 0; i < d.train.n; i++)
        assert_true(tb_token_set_len(&d.train, i) <= 100);
    char line[1024];
    tb_data_stats_format(&d.stats, line, sizeof line);
    printf("# data/max-len 100: %s\n", line);
    assert_non_null(strstr(line, "cut at --max-len"));
    tb_train_data_free(&d);
    /* so short that no response survives: refused, naming --max-len */
    o.max_len = 6;
    assert_int_equal(tb_train_data_load(&d, &o, tok, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "nothing would be trained"));
    assert_non_null(strstr(err.message, "--max-len 6"));
    tb_train_data_free(&d);
    /* rows without any response */
    char *p = vt_tmp("{\"instruction\": \"a\"}\n{\"instruction\": \"b\"}\n", ".jsonl");
    o = opts(p);
    assert_int_equal(tb_train_data_load(&d, &o, tok, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "nothing would be trained"));
    assert_non_null(strstr(err.message, "no output to train on"));
    tb_train_data_free(&d);
    unlink(p);
    free(p);
}

static void test_eval_split_deterministic(void **state)
{
    (void)state;
    tb_train_data a, b, c;
    tb_error err;
    tb_data_opts o = opts(alpaca);
    o.eval_split = 0.1;
    assert_int_equal(tb_train_data_load(&a, &o, tok, &err), TB_OK);
    assert_int_equal(tb_train_data_load(&b, &o, tok, &err), TB_OK);
    o.seed = 7;
    assert_int_equal(tb_train_data_load(&c, &o, tok, &err), TB_OK);
    assert_int_equal(a.eval.n, 2);
    assert_int_equal(a.train.n, 18);
    assert_memory_equal(a.eval.line, b.eval.line, 2 * sizeof(long));
    assert_true(a.eval.line[0] != c.eval.line[0] || a.eval.line[1] != c.eval.line[1]);
    for (int i = 0; i < 2; i++) /* held out rows are not trained on */
        for (int64_t j = 0; j < a.train.n; j++)
            assert_true(a.train.line[j] != a.eval.line[i]);
    tb_train_data_free(&a);
    tb_train_data_free(&b);
    tb_train_data_free(&c);
    o.eval_split = 0.6;
    assert_int_equal(tb_train_data_load(&a, &o, tok, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "eval-split");
    tb_train_data_free(&a);
}

static void test_length_grouped_batches(void **state)
{
    (void)state;
    tb_train_data d;
    tb_error err;
    tb_data_opts o = opts(alpaca);
    assert_int_equal(tb_train_data_load(&d, &o, tok, &err), TB_OK);
    int64_t longest = 0;
    for (int64_t i = 0; i < d.train.n; i++)
        longest = tb_token_set_len(&d.train, i) > longest ? tb_token_set_len(&d.train, i) : longest;
    tb_batch_plan p, q, r;
    assert_int_equal(tb_batch_plan_make(&p, &d.train, 3, 1, 0, true, true, &err), TB_OK);
    assert_int_equal(tb_batch_plan_make(&q, &d.train, 3, 1, 0, true, true, &err), TB_OK);
    assert_int_equal(tb_batch_plan_make(&r, &d.train, 3, 1, 1, true, true, &err), TB_OK);
    assert_memory_equal(p.idx, q.idx, 20 * sizeof(int64_t));
    tb_batch_plan_free(&q);
    tb_batch_plan_free(&r);
    /* each epoch its own order (20 examples fit one megabatch, so compare ungrouped plans) */
    assert_int_equal(tb_batch_plan_make(&q, &d.train, 3, 1, 0, true, false, &err), TB_OK);
    assert_int_equal(tb_batch_plan_make(&r, &d.train, 3, 1, 1, true, false, &err), TB_OK);
    assert_memory_not_equal(q.idx, r.idx, 20 * sizeof(int64_t));
    tb_batch_plan_free(&q);
    assert_int_equal(tb_batch_count(&p), 7);
    int seen[20] = {0};
    int32_t ids[3 * 1024], tg[3 * 1024];
    int64_t padded = 0, total = 0, targets = 0;
    for (int64_t b = 0; b < tb_batch_count(&p); b++) {
        int64_t rows, T, nt;
        tb_batch_fill(&d.train, &p, b, 0, ids, tg, &rows, &T, &nt);
        int64_t lmax = 0;
        for (int64_t k = 0; k < rows; k++) {
            int64_t e = p.idx[b * 3 + k], len = tb_token_set_len(&d.train, e) - 1;
            seen[e]++;
            lmax = len > lmax ? len : lmax;
            for (int64_t t = len; t < T; t++)
                assert_int_equal(tg[k * T + t], -1); /* padding is masked */
            padded += T - len;
        }
        assert_int_equal(T, lmax); /* padded to the batch's longest, not to max_len */
        if (b == 0)
            assert_int_equal(T, longest - 1); /* the longest batch first */
        total += rows * T;
        targets += nt;
    }
    for (int i = 0; i < 20; i++)
        assert_int_equal(seen[i], 1);
    assert_int_equal(targets, d.stats.targets);
    printf("# data/batches of 3, length-grouped: %lld of %lld positions are padding\n", (long long)padded,
           (long long)total);
    tb_batch_plan_free(&p), tb_batch_plan_free(&q), tb_batch_plan_free(&r);
    tb_train_data_free(&d);
}

static void test_packed_text(void **state)
{
    (void)state;
    char *p = vt_tmp("The engine runs a model.\nIt learns.\n\nA second document\nwith two lines.\n\n\nThird.\n",
                     ".txt");
    tb_train_data d;
    tb_error err;
    tb_data_opts o = opts(p);
    o.packed = true;
    o.max_len = 8;
    assert_int_equal(tb_train_data_load(&d, &o, tok, &err), TB_OK);
    assert_true(d.train.n >= 2);
    int eos = 0;
    for (int64_t i = 0; i < d.train.n; i++) {
        assert_int_equal(tb_token_set_len(&d.train, i), 8);
        assert_int_equal(d.train.targets[i], 7);
    }
    for (int64_t t = 0; t < d.train.tokens; t++)
        eos += d.train.ids[t] == tb_tokenizer_eos(tok);
    assert_true(eos >= 2); /* documents end with EOS */
    tb_train_data_free(&d);
    o.max_len = 4096;
    assert_int_equal(tb_train_data_load(&d, &o, tok, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "fewer than one block"));
    tb_train_data_free(&d);
    unlink(p);
    free(p);
}

static int setup(void **state)
{
    (void)state;
    tb_error err;
    snprintf(alpaca, sizeof alpaca, "%s", vt_source("datasets/examples/alpaca_clean.jsonl"));
    return tb_tokenizer_load_dir(&tok, vt_source("tests/reference/llama/llama_vocab320_f32"), &err) == TB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tb_tokenizer_free(tok);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_response_only_mask),
        cmocka_unit_test(test_truncation_reported_and_refused),
        cmocka_unit_test(test_eval_split_deterministic),
        cmocka_unit_test(test_length_grouped_batches),
        cmocka_unit_test(test_packed_text),
    };
    return cmocka_run_group_tests_name("train_data", tests, setup, teardown);
}
