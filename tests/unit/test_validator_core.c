/* The validator's building blocks against independent truth: MinHash estimates vs exact
 * Jaccard of the same shingle sets, percentiles vs numpy's "linear" values, hash maps vs a
 * plain array, UTF-8 validation vs the Unicode standard's table 3-7 examples. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/utf8.h"
#include "validators/hashmap.h"
#include "validators/minhash.h"
#include "validators/stats.h"

/* Texts made of distinct words w0..w(n-1): word 3-shingles are consecutive triples, so the
 * exact Jaccard of two such texts is countable by hand. */
static void words_text(char *buf, int from, int to)
{
    size_t n = 0;
    for (int i = from; i < to; i++)
        n += (size_t)sprintf(buf + n, "w%d ", i);
}

static double estimate(const char *a, const char *b)
{
    tb_minhash ma, mb;
    tb_minhash_begin(&ma);
    tb_minhash_add(&ma, a, strlen(a));
    tb_minhash_end(&ma);
    tb_minhash_begin(&mb);
    tb_minhash_add(&mb, b, strlen(b));
    tb_minhash_end(&mb);
    uint8_t sa[TB_MINHASH_K], sb[TB_MINHASH_K];
    for (int k = 0; k < TB_MINHASH_K; k++) {
        sa[k] = (uint8_t)ma.min[k];
        sb[k] = (uint8_t)mb.min[k];
    }
    return tb_minhash_estimate(sa, sb);
}

static void test_minhash_vs_exact_jaccard(void **state)
{
    (void)state;
    static char a[8192], b[8192];
    /* words 0..199 vs s..s+199: shingles 198 each, shared 198 - s: J = (198-s)/(198+s). */
    const int shifts[] = {0, 10, 22, 50, 100, 198};
    for (size_t i = 0; i < sizeof shifts / sizeof shifts[0]; i++) {
        int s = shifts[i];
        words_text(a, 0, 200);
        words_text(b, s, 200 + s);
        double exact = (198.0 - s) / (198.0 + s);
        double est = estimate(a, b);
        /* 4 standard errors of a 128-permutation estimate, plus the 8-bit correction slack */
        double tol = 4 * sqrt(exact * (1 - exact) / TB_MINHASH_K) + 0.02;
        if (fabs(est - exact) > tol)
            print_message("shift=%d exact=%.3f est=%.3f\n", s, exact, est);
        assert_true(fabs(est - exact) <= tol);
    }
    /* Case and punctuation do not make words different. */
    assert_true(estimate("The Quick, brown fox jumps!", "the quick brown FOX jumps") > 0.99);
}

static void test_near_index_finds_candidates(void **state)
{
    (void)state;
    tb_near_index ix = {0};
    static char buf[8192];
    uint32_t match;
    double est;
    bool oom;
    /* 300 unrelated texts, then one that repeats text 123 with a few words changed. */
    for (int i = 0; i < 300; i++) {
        words_text(buf, i * 1000, i * 1000 + 80);
        tb_minhash mh;
        tb_minhash_begin(&mh);
        tb_minhash_add(&mh, buf, strlen(buf));
        tb_minhash_end(&mh);
        assert_false(tb_near_index_check_add(&ix, &mh, (uint32_t)i, 0.8, &match, &est, &oom));
    }
    words_text(buf, 123000 + 2, 123000 + 80); /* J = 76/78 of text 123's shingles... */
    tb_minhash mh;
    tb_minhash_begin(&mh);
    tb_minhash_add(&mh, buf, strlen(buf));
    tb_minhash_end(&mh);
    assert_true(tb_near_index_check_add(&ix, &mh, 300, 0.8, &match, &est, &oom));
    assert_int_equal(match, 123);
    assert_true(est > 0.85);
    tb_near_index_free(&ix);
}

static void test_percentiles_match_numpy(void **state)
{
    (void)state;
    /* numpy.percentile([3, 1, 4, 1, 5, 9, 2, 6], [10, 25, 50, 75, 90]) (numpy 1.24) =
     * [1.0, 1.75, 3.5, 5.25, 6.9]; mean 3.875; np.std 2.5708... */
    uint32_t v[] = {3, 1, 4, 1, 5, 9, 2, 6, TB_LEN_ABSENT};
    tb_length_stats s;
    assert_true(tb_length_stats_compute(v, 9, NULL, &s));
    assert_int_equal(s.n, 8);
    assert_float_equal(s.p10, 1.0, 1e-9);
    assert_float_equal(s.p25, 1.75, 1e-9);
    assert_float_equal(s.median, 3.5, 1e-9);
    assert_float_equal(s.p75, 5.25, 1e-9);
    assert_float_equal(s.p90, 6.9, 1e-9);
    assert_float_equal(s.mean, 3.875, 1e-9);
    assert_float_equal(s.stddev, 2.5708704751503917, 1e-9);
    assert_float_equal(s.min, 1, 0);
    assert_float_equal(s.max, 9, 0);

    uint32_t none[] = {TB_LEN_ABSENT, TB_LEN_ABSENT};
    assert_true(tb_length_stats_compute(none, 2, NULL, &s));
    assert_int_equal(s.n, 0);
}

static void test_histogram_counts_everything(void **state)
{
    (void)state;
    uint32_t v[1000];
    for (int i = 0; i < 1000; i++)
        v[i] = (uint32_t)(i * i % 5000 + 1);
    v[7] = TB_LEN_ABSENT;
    tb_length_stats s;
    tb_length_stats_compute(v, 1000, NULL, &s);
    tb_histogram h;
    tb_histogram_build(v, 1000, 20, &s, &h);
    long total = 0;
    for (int b = 0; b < h.n_bins; b++) {
        total += h.counts[b];
        assert_true(h.edges[b] <= h.edges[b + 1]);
    }
    assert_int_equal(total, 999);
    assert_int_equal(h.total, 999);
    assert_true(h.log_scale); /* 1..4999 spans far more than 20x */
    /* Each value lies in its bin's edges. */
    for (int i = 0; i < 1000; i += 37) {
        if (v[i] == TB_LEN_ABSENT)
            continue;
        int b = 0;
        while (b < h.n_bins - 1 && v[i] >= h.edges[b + 1])
            b++;
        assert_true(v[i] >= h.edges[b]);
    }
}

static void test_maps_against_array(void **state)
{
    (void)state;
    enum { N = 50000 };
    tb_map64 m = {0};
    tb_map32 m32 = {0};
    bool oom;
    uint32_t got;
    for (uint32_t i = 0; i < N; i++) {
        uint64_t key = (uint64_t)i * 0x9E3779B97F4A7C15ull; /* key 0 included (i = 0) */
        assert_false(tb_map64_get_or_put(&m, key, i, &got, &oom));
        assert_false(tb_map32_get_or_put(&m32, (uint32_t)(key >> 32) ^ i, i, &got, &oom));
    }
    for (uint32_t i = 0; i < N; i += 7) {
        uint64_t key = (uint64_t)i * 0x9E3779B97F4A7C15ull;
        assert_true(tb_map64_get(&m, key, &got));
        assert_int_equal(got, i);
        assert_true(tb_map64_get_or_put(&m, key, 999999, &got, &oom));
        assert_int_equal(got, i); /* the first value stays */
    }
    assert_false(tb_map64_get(&m, 12345, &got));
    assert_int_equal(m.n, N);
    assert_true(m.n * 4 <= m.cap * 3);
    tb_map64_free(&m);
    tb_map32_free(&m32);
}

static void test_utf8_table_3_7(void **state)
{
    (void)state;
    static const struct { const char *s; size_t len, valid; } cases[] = {
        {"plain ascii", 11, 11},
        {"\xC3\xA9t\xC3\xA9", 5, 5},            /* été */
        {"\xE2\x82\xAC", 3, 3},                 /* € */
        {"\xF0\x9F\x98\x80", 4, 4},             /* U+1F600 */
        {"a\xC0\xAF", 3, 1},                    /* overlong '/' */
        {"a\xE0\x80\xAF", 4, 1},                /* overlong */
        {"a\xED\xA0\x80", 4, 1},                /* surrogate U+D800 */
        {"a\xF4\x90\x80\x80", 5, 1},            /* > U+10FFFF */
        {"ab\xE2\x82", 4, 2},                   /* truncated */
        {"\x80", 1, 0},                         /* lone continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(tb_utf8_valid_prefix(cases[i].s, cases[i].len), cases[i].valid);
    char buf[] = "ok\xFF\xFEok\xE2\x82";
    size_t first = 99;
    assert_int_equal(tb_utf8_repair(buf, 8, &first, true), 2); /* the cut tail may continue */
    assert_int_equal(first, 2);
    assert_memory_equal(buf, "ok??ok\xE2\x82", 8);
    assert_int_equal(tb_utf8_repair(buf, 8, &first, false), 2);
    assert_int_equal(tb_utf8_chars("\xC3\xA9t\xC3\xA9", 5), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minhash_vs_exact_jaccard),
        cmocka_unit_test(test_near_index_finds_candidates),
        cmocka_unit_test(test_percentiles_match_numpy),
        cmocka_unit_test(test_histogram_counts_everything),
        cmocka_unit_test(test_maps_against_array),
        cmocka_unit_test(test_utf8_table_3_7),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
