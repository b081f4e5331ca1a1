/* Tokenizer internals and behaviour that need no downloaded file: the merge loop against a
 * naive oracle, long words (not quadratic), invalid UTF-8, the byte-level alphabet, loader
 * errors naming the field, model directories, round trips, concurrent encodes. The fixture
 * tests/tokenizer/data/gpt2_style.json is a committed byte-level BPE. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/core/fs.h"
#include "engine/tokenizer/tok_internal.h"
#include "engine/tokenizer/tokenizer.h"

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static tb_tokenizer *fixture(void)
{
    const char *root = getenv("TB_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/tokenizer/data/gpt2_style.json", root ? root : ".");
    tb_tokenizer *tok = NULL;
    tb_error err;
    assert_int_equal(tb_tokenizer_load(&tok, path, &err), TB_OK);
    return tok;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* decode(ids) must be exactly want[0..wn). */
static void expect_decodes_to(const tb_tokenizer *tok, const int32_t *ids, size_t nid, const char *want, size_t wn)
{
    char *back;
    size_t blen;
    tb_error err;
    assert_int_equal(tb_tokenizer_decode_bytes(tok, ids, nid, false, &back, &blen, &err), TB_OK);
    assert_int_equal(blen, wn);
    assert_memory_equal(back, want, wn);
    free(back);
}

/* ---- the merge loop vs the textbook definition ------------------------------------- */

/* Repeatedly merge the adjacent pair with the lowest rank (leftmost on ties), recomputing
 * from scratch each time: O(n^2) but obviously BPE. */
static size_t naive_merge(const tok_mergemap *mm, int32_t *s, size_t n)
{
    for (;;) {
        size_t best = SIZE_MAX;
        uint32_t best_rank = UINT32_MAX;
        for (size_t i = 0; i + 1 < n; i++) {
            const tok_merge_entry *e = tok_mergemap_get(mm, s[i], s[i + 1]);
            if (e && e->rank < best_rank) {
                best_rank = e->rank;
                best = i;
            }
        }
        if (best == SIZE_MAX)
            return n;
        s[best] = tok_mergemap_get(mm, s[best], s[best + 1])->new_id;
        memmove(s + best + 1, s + best + 2, (n - best - 2) * sizeof *s);
        n--;
    }
}

static void test_merge_vs_naive(void **state)
{
    (void)state;
    /* Alphabet 0..5; 60 merges building ids 6..65, each from two earlier ids: a proper BPE
     * merge table (one result per pair, results unique). */
    for (int trial = 0; trial < 20; trial++) {
        tok_mergemap mm;
        assert_true(tok_mergemap_init(&mm, 64));
        int32_t next = 6;
        for (uint32_t r = 0; r < 60; r++) {
            int32_t a = (int32_t)(rnd() % (uint32_t)next), b = (int32_t)(rnd() % (uint32_t)next);
            if (tok_mergemap_get(&mm, a, b))
                continue;
            assert_true(tok_mergemap_put(&mm, a, b, r, next++));
        }
        for (int w = 0; w < 50; w++) {
            size_t n = 1 + rnd() % 300;
            int32_t x[300], y[300];
            for (size_t i = 0; i < n; i++)
                x[i] = y[i] = (int32_t)(rnd() % (trial % 2 ? 2 : 6));
            size_t nx = tok_bpe_merge(&mm, x, n), ny = naive_merge(&mm, y, n);
            assert_int_equal(nx, ny);
            assert_memory_equal(x, y, nx * sizeof *x);
        }
        tok_mergemap_free(&mm);
    }
}

/* ---- long words -------------------------------------------------------------------- */

static void test_long_word_not_quadratic(void **state)
{
    (void)state;
    tb_tokenizer *tok = fixture();
    /* One pre-token of 1 MB (letters only: one regex piece). A quadratic merge loop needs
     * ~10^12 steps here; the heap needs ~10^7. */
    size_t n = 1 << 20;
    char *text = malloc(n);
    for (size_t i = 0; i < n; i++)
        text[i] = "theresandon"[rnd() % 11];
    int32_t *ids;
    size_t nid;
    tb_error err;
    double t0 = now_s();
    assert_int_equal(tb_tokenizer_encode(tok, text, n, false, &ids, &nid, &err), TB_OK);
    double dt = now_s() - t0;
    assert_true(nid > 1000 && nid < n);
    assert_true(dt < 10.0); /* ~0.3 s here; generous for ASan on 2 cores */
    expect_decodes_to(tok, ids, nid, text, n);
    free(ids);
    free(text);
    tb_tokenizer_free(tok);
}

/* ---- UTF-8 ------------------------------------------------------------------------- */

static void expect_sanitized(const char *in, size_t n, const char *want)
{
    char *out = NULL;
    size_t on = 0;
    bool changed = tok_utf8_sanitize(in, n, &out, &on);
    if (!changed) {
        assert_int_equal(n, strlen(want));
        assert_memory_equal(in, want, n);
        return;
    }
    assert_int_equal(on, strlen(want));
    assert_memory_equal(out, want, on);
    free(out);
}

#define FFFD "\xEF\xBF\xBD"

static void test_utf8_sanitize(void **state)
{
    (void)state;
    /* Expected values: Unicode 15 §3.9 "U+FFFD substitution of maximal subparts" (Table 3-8)
     * and the WHATWG Encoding Standard's UTF-8 decoder. */
    expect_sanitized("abc", 3, "abc");
    expect_sanitized("caf\xC3\xA9", 5, "caf\xC3\xA9");
    expect_sanitized("\xC3\x28", 2, FFFD "(");
    expect_sanitized("\xF0\x9F\x98", 3, FFFD);
    expect_sanitized("\xE2\x82 x", 4, FFFD " x");
    expect_sanitized("\xED\xA0\x80", 3, FFFD FFFD FFFD);         /* surrogate */
    expect_sanitized("\xC0\xAF", 2, FFFD FFFD);                 /* overlong */
    expect_sanitized("\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD); /* > U+10FFFF */
    expect_sanitized("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", 13,
                     "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d"); /* Table 3-8's example */
    expect_sanitized("\xFF", 1, FFFD);
}

static void test_bytelevel_alphabet(void **state)
{
    (void)state;
    /* GPT-2 bytes_to_unicode: printable bytes map to themselves, space → Ġ (U+0120),
     * newline → Ċ (U+010A), 0x00 → Ā (U+0100), 0xAD → U+0143 (the last). */
    assert_int_equal(tok_bytelevel_cp(' '), 0x120);
    assert_int_equal(tok_bytelevel_cp('\n'), 0x10A);
    assert_int_equal(tok_bytelevel_cp(0), 0x100);
    assert_int_equal(tok_bytelevel_cp(0xAD), 0x143);
    assert_int_equal(tok_bytelevel_cp('A'), 'A');
    assert_int_equal(tok_bytelevel_cp(0xFF), 0xFF);
    bool seen[0x144] = {false};
    for (int b = 0; b < 256; b++) {
        uint32_t cp = tok_bytelevel_cp((unsigned char)b);
        assert_true(cp < 0x144);
        assert_false(seen[cp]);
        seen[cp] = true;
        assert_int_equal(tok_bytelevel_byte(cp), b);
    }
    assert_int_equal(tok_bytelevel_byte(0x144), -1);
    assert_int_equal(tok_bytelevel_byte(0x20), -1);
}

/* ---- loader errors ----------------------------------------------------------------- */

static void expect_load_error(const char *json, tb_status want, const char *field, long line)
{
    tb_tokenizer *tok = (tb_tokenizer *)1;
    tb_error err;
    tb_error_clear(&err);
    assert_int_equal(tb_tokenizer_load_buffer(&tok, json, strlen(json), "bad/tokenizer.json", &err), want);
    assert_null(tok);
    assert_string_equal(err.file, "bad/tokenizer.json");
    if (field)
        assert_string_equal(err.field, field);
    if (line)
        assert_true(err.line >= line); /* jansson reports where it gave up */
    assert_true(err.message[0] != '\0');
}

#define MODEL(v, m) "{\"model\":{\"type\":\"BPE\",\"vocab\":" v ",\"merges\":" m "}"

static void test_load_errors(void **state)
{
    (void)state;
    expect_load_error("{\n\"model\": [1,\n", TB_ERR_FORMAT, "", 2);
    expect_load_error("{\"version\":\"1.0\"}", TB_ERR_FORMAT, "model", 0);
    expect_load_error("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", TB_ERR_UNSUPPORTED, "model.type", 0);
    expect_load_error(MODEL("{\"a\":0,\"b\":1,\"ab\":2}", "[\"a c\"]") "}", TB_ERR_FORMAT, "model.merges[0]", 0);
    expect_load_error(MODEL("{\"a\":0,\"b\":1}", "[\"a b\"]") "}", TB_ERR_FORMAT, "model.merges[0]", 0);
    expect_load_error(MODEL("{\"a\":0,\"b\":1,\"ab\":2}", "[\"a b c\"]") "}", TB_ERR_FORMAT, "model.merges[0]", 0);
    expect_load_error(MODEL("{\"a\":0,\"b\":1,\"ab\":2}", "[[\"a\"]]") "}", TB_ERR_FORMAT, "model.merges[0]", 0);
    expect_load_error(MODEL("{\"a\":-1}", "[]") "}", TB_ERR_FORMAT, "model.vocab", 0);
    expect_load_error(MODEL("{\"a\":2000000000}", "[]") "}", TB_ERR_FORMAT, "model.vocab", 0);
    expect_load_error(MODEL("{\"a\":0,\"b\":0}", "[]") "}", TB_ERR_FORMAT, "model.vocab", 0);
    expect_load_error(MODEL("{\"a\":0}", "[]") ",\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},"
                      "\"behavior\":\"Isolated\"}}", TB_ERR_FORMAT, "pre_tokenizer.pattern", 0);
    expect_load_error(MODEL("{\"a\":0}", "[]") ",\"pre_tokenizer\":{\"type\":\"BertPreTokenizer\"}}",
                      TB_ERR_UNSUPPORTED, "pre_tokenizer.type", 0);
    expect_load_error(MODEL("{\"a\":0}", "[]") ",\"normalizer\":{\"type\":\"Precompiled\"}}", TB_ERR_UNSUPPORTED,
                      "normalizer.type", 0);
    expect_load_error(MODEL("{\"a\":0}", "[]") ",\"decoder\":{\"type\":\"WordPiece\"}}", TB_ERR_UNSUPPORTED,
                      "decoder.type", 0);
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"dropout\":0.1,\"vocab\":{\"a\":0},\"merges\":[]}}",
                      TB_ERR_UNSUPPORTED, "model.dropout", 0);
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"vocab\":{\"a\":0},\"merges\":[]}}",
                      TB_ERR_FORMAT, "model.unk_token", 0);
    expect_load_error(MODEL("{\"a\":0}", "[]") ",\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":"
                      "[{\"SpecialToken\":{\"id\":\"<s>\"}},{\"Sequence\":{\"id\":\"A\"}}],\"special_tokens\":{}}}",
                      TB_ERR_FORMAT, "post_processor.special_tokens", 0);
    /* A missing file names the file. */
    tb_tokenizer *tok;
    tb_error err;
    assert_int_not_equal(tb_tokenizer_load(&tok, "/nonexistent/tokenizer.json", &err), TB_OK);
    assert_string_equal(err.file, "/nonexistent/tokenizer.json");
}

/* A minimal SentencePiece-style BPE: unk handling and byte fallback on a hand-checked case. */
static void test_unk_and_byte_fallback(void **state)
{
    (void)state;
    /* "c" is unknown: no byte tokens for it, so it becomes <unk> (fused: "cc" → one);
     * "é" (C3 A9) has both byte tokens, so it falls back to <0xC3> <0xA9>. */
    const char *json = "{\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,"
                       "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"ab\":3,\"<0xC3>\":4,\"<0xA9>\":5},\"merges\":[\"a b\"]},"
                       "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"}]}}";
    tb_tokenizer *tok;
    tb_error err;
    assert_int_equal(tb_tokenizer_load_buffer(&tok, json, strlen(json), "t", &err), TB_OK);
    int32_t *ids;
    size_t n;
    assert_int_equal(tb_tokenizer_encode(tok, "abccab\xC3\xA9", 8, false, &ids, &n, &err), TB_OK);
    int32_t want[] = {3, 0, 3, 4, 5};
    assert_int_equal(n, 5);
    assert_memory_equal(ids, want, sizeof want);
    char *text;
    assert_int_equal(tb_tokenizer_decode(tok, ids, n, false, &text, &err), TB_OK);
    assert_string_equal(text, "ab<unk>ab\xC3\xA9");
    free(text);
    free(ids);
    int32_t bad = 99;
    assert_int_equal(tb_tokenizer_decode(tok, &bad, 1, false, &text, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "ids");
    tb_tokenizer_free(tok);
}

/* ---- round trips ------------------------------------------------------------------- */

static void test_roundtrip_random(void **state)
{
    (void)state;
    tb_tokenizer *tok = fixture();
    static const uint32_t pool[] = {'a', 'Z', ' ', '\n', '\t', '\r', '0', '9', '\'', '.', 0xE9, 0x3B1, 0x4E2D, 0x1F600,
                                    0x200B, 0x3000, 0x10FFFF, 0x7F, 0};
    for (int t = 0; t < 200; t++) {
        char text[4096];
        size_t n = 0, len = 1 + rnd() % 200;
        for (size_t i = 0; i < len; i++)
            n += (size_t)tok_utf8_encode(pool[rnd() % (sizeof pool / sizeof *pool)], text + n);
        int32_t *ids;
        size_t nid;
        tb_error err;
        assert_int_equal(tb_tokenizer_encode(tok, text, n, false, &ids, &nid, &err), TB_OK);
        expect_decodes_to(tok, ids, nid, text, n);
        free(ids);
    }
    /* Invalid UTF-8 decodes to the sanitized text. */
    for (int t = 0; t < 100; t++) {
        char text[300];
        size_t n = 1 + rnd() % 300;
        for (size_t i = 0; i < n; i++)
            text[i] = (char)(rnd() & 0xFF);
        int32_t *ids;
        size_t nid;
        tb_error err;
        assert_int_equal(tb_tokenizer_encode(tok, text, n, false, &ids, &nid, &err), TB_OK);
        char *clean = NULL;
        size_t cn = n;
        const char *want = tok_utf8_sanitize(text, n, &clean, &cn) ? clean : text;
        expect_decodes_to(tok, ids, nid, want, cn);
        free(clean);
        free(ids);
    }
    tb_tokenizer_free(tok);
}

/* ---- specials and model directories ------------------------------------------------ */

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tb_error err;
    assert_int_equal(tb_atomic_write(path, text, strlen(text), &err), TB_OK);
}

static void test_load_dir(void **state)
{
    (void)state;
    tb_tokenizer *tok = fixture();
    /* From the file alone: the trained tokenizer's names. */
    assert_int_equal(tb_tokenizer_bos(tok), 0);
    assert_int_equal(tb_tokenizer_eos(tok), 0);
    assert_int_equal(tb_tokenizer_pad(tok), 1);
    assert_true(tb_tokenizer_is_special(tok, 0));
    assert_false(tb_tokenizer_is_special(tok, 300));
    assert_int_equal(tb_tokenizer_token_id(tok, "<|endoftext|>"), 0);
    assert_string_equal(tb_tokenizer_token_str(tok, 2 + ' '), "\xC4\xA0"); /* Ġ */
    assert_null(tb_tokenizer_token_str(tok, 1000));
    tb_tokenizer_free(tok);

    char dir[] = "/tmp/tb_tokdir_XXXXXX";
    assert_non_null(mkdtemp(dir));
    const char *root = getenv("TB_SOURCE_ROOT");
    char src[4096], *json;
    size_t len;
    tb_error err;
    snprintf(src, sizeof src, "%s/tests/tokenizer/data/gpt2_style.json", root ? root : ".");
    assert_int_equal(tb_read_file(src, &json, &len, &err), TB_OK);
    write_file(dir, "tokenizer.json", json);
    free(json);
    /* tokenizer_config names eos (object form); generation_config gives pad by id; config.json's
     * bos is used since nothing earlier names one. LlamaTokenizer adds bos and eos. The
     * 1e30 integer is what transformers writes for model_max_length. */
    write_file(dir, "tokenizer_config.json", "{\"tokenizer_class\":\"LlamaTokenizer\",\"add_eos_token\":true,"
                                             "\"eos_token\":{\"content\":\"<|pad|>\"},\"pad_token\":null,"
                                             "\"model_max_length\": 1000000000000000019884624838656}");
    write_file(dir, "generation_config.json", "{\"pad_token_id\": 5, \"eos_token_id\": [7, 8]}");
    write_file(dir, "config.json", "{\"bos_token_id\": 3}");
    assert_int_equal(tb_tokenizer_load_dir(&tok, dir, &err), TB_OK);
    assert_int_equal(tb_tokenizer_eos(tok), 1);
    assert_int_equal(tb_tokenizer_pad(tok), 5);
    assert_int_equal(tb_tokenizer_bos(tok), 3);
    int32_t *ids;
    size_t n;
    assert_int_equal(tb_tokenizer_encode(tok, "hi", 2, true, &ids, &n, &err), TB_OK);
    assert_true(n >= 3);
    assert_int_equal(ids[0], 3);
    assert_int_equal(ids[n - 1], 1);
    free(ids);
    tb_tokenizer_free(tok);
    /* A name that is not a token is an error naming the file and field. */
    write_file(dir, "tokenizer_config.json", "{\"eos_token\":\"</nope>\"}");
    assert_int_equal(tb_tokenizer_load_dir(&tok, dir, &err), TB_ERR_FORMAT);
    assert_string_equal(err.field, "eos_token");
    assert_non_null(strstr(err.file, "tokenizer_config.json"));
    char path[4096];
    static const char *const names[] = {"tokenizer.json", "tokenizer_config.json", "generation_config.json",
                                        "config.json"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    assert_int_equal(tb_tokenizer_load_dir(&tok, dir, &err), TB_ERR_IO);
    assert_non_null(strstr(err.file, "tokenizer.json"));
    rmdir(dir);
}

/* ---- threads share the word cache -------------------------------------------------- */

typedef struct thread_arg {
    const tb_tokenizer *tok;
    const char *text;
    size_t len;
    int32_t *ids;
    size_t n;
} thread_arg;

static void *encode_thread(void *p)
{
    thread_arg *a = p;
    tb_error err;
    for (int r = 0; r < 3; r++) {
        free(a->ids);
        if (tb_tokenizer_encode(a->tok, a->text, a->len, false, &a->ids, &a->n, &err) != TB_OK)
            a->ids = NULL;
    }
    return NULL;
}

static void test_concurrent_encode(void **state)
{
    (void)state;
    tb_tokenizer *tok = fixture();
    size_t len = 200000;
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++)
        text[i] = "abcdefghij    .,\n"[rnd() % 17];
    int32_t *ref;
    size_t nref;
    tb_error err;
    assert_int_equal(tb_tokenizer_encode(tok, text, len, false, &ref, &nref, &err), TB_OK);
    tb_tokenizer_free(tok);
    tok = fixture(); /* a cold cache, filled by both threads at once */
    thread_arg a[2] = {{tok, text, len, NULL, 0}, {tok, text, len, NULL, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, encode_thread, &a[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_non_null(a[i].ids);
        assert_int_equal(a[i].n, nref);
        assert_memory_equal(a[i].ids, ref, nref * sizeof *ref);
        free(a[i].ids);
    }
    free(ref);
    free(text);
    tb_tokenizer_free(tok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"bpe_merge/heap vs naive, 20 tables x 50 words of n<=300", test_merge_vs_naive, NULL, NULL, NULL},
        {"encode/one 1 MB word in < 10 s, decode inverts", test_long_word_not_quadratic, NULL, NULL, NULL},
        {"utf8/U+FFFD per maximal subpart, 10 cases", test_utf8_sanitize, NULL, NULL, NULL},
        {"bytelevel/256-byte alphabet is a bijection", test_bytelevel_alphabet, NULL, NULL, NULL},
        {"load/18 bad files: status, file and field", test_load_errors, NULL, NULL, NULL},
        {"bpe/unk fused + byte fallback, 8 bytes -> 5 ids", test_unk_and_byte_fallback, NULL, NULL, NULL},
        {"roundtrip/200 UTF-8 texts + 100 byte strings", test_roundtrip_random, NULL, NULL, NULL},
        {"load_dir/bos,eos,pad precedence + Llama add_eos", test_load_dir, NULL, NULL, NULL},
        {"encode/2 threads x 200 kB on one cold cache", test_concurrent_encode, NULL, NULL, NULL},
    };
    return cmocka_run_group_tests_name("tokenizer", tests, NULL, NULL);
}
