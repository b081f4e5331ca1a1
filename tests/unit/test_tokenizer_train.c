/* Tokenizer training: the incremental trainer learns exactly the merges of a naive trainer
 * that recounts every pair of the corpus before each merge (the textbook definition), and
 * the written tokenizer.json loads in our loader and round-trips. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/tokenizer/tok_internal.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/train.h"

enum { MAXTOK = 600, MAXSYM = 16 };

static uint32_t rng = 777;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* ---- the naive trainer ------------------------------------------------------------- */

typedef struct nword {
    int sym[MAXSYM];
    int n;
    int count;
} nword;

static char tokstr[MAXTOK][64];
static int ntok;

static int tok_of(const char *s)
{
    for (int i = 2; i < ntok; i++)
        if (!strcmp(tokstr[i], s))
            return i;
    snprintf(tokstr[ntok], sizeof tokstr[ntok], "%s", s);
    return ntok++;
}

/* Returns the number of merges; merges[k] = {a, b} ids. Same tie rule as the trainer: most
 * frequent, then the smallest (a, b). */
static int naive_train(nword *w, int nw, int vocab, int (*merges)[2])
{
    ntok = 2 + 256;
    for (int b = 0; b < 256; b++) {
        tokstr[2 + b][0] = (char)b;
        tokstr[2 + b][1] = '\0';
    }
    int nm = 0;
    static long count[MAXTOK][MAXTOK];
    while (ntok < vocab) {
        memset(count, 0, sizeof count);
        for (int i = 0; i < nw; i++)
            for (int k = 0; k + 1 < w[i].n; k++)
                count[w[i].sym[k]][w[i].sym[k + 1]] += w[i].count;
        long best = 0;
        int ba = -1, bb = -1;
        for (int a = 0; a < ntok; a++)
            for (int b = 0; b < ntok; b++)
                if (count[a][b] > best) {
                    best = count[a][b];
                    ba = a;
                    bb = b;
                }
        if (best < 2)
            break;
        char cat[128];
        snprintf(cat, sizeof cat, "%s%s", tokstr[ba], tokstr[bb]);
        int id = tok_of(cat);
        merges[nm][0] = ba;
        merges[nm][1] = bb;
        nm++;
        for (int i = 0; i < nw; i++) {
            int o = 0;
            for (int k = 0; k < w[i].n;) {
                if (k + 1 < w[i].n && w[i].sym[k] == ba && w[i].sym[k + 1] == bb) {
                    w[i].sym[o++] = id;
                    k += 2;
                } else
                    w[i].sym[o++] = w[i].sym[k++];
            }
            w[i].n = o;
        }
    }
    return nm;
}

static void test_train_vs_naive(void **state)
{
    (void)state;
    /* Words over a 4-letter alphabet, single spaces: the GPT-2 regex makes each " word" one
     * piece, which the naive trainer can form by hand. */
    enum { NWORDS = 3000 };
    char *text = malloc(NWORDS * 10);
    size_t len = 0;
    nword *w = calloc(NWORDS, sizeof *w);
    int nw = 0;
    for (int i = 0; i < NWORDS; i++) {
        char piece[12];
        int pl = 0;
        if (i)
            piece[pl++] = ' ';
        int wl = 1 + (int)(rnd() % 6);
        for (int k = 0; k < wl; k++)
            piece[pl++] = "abcd"[(rnd() % 7) % 4]; /* skewed: a and b more frequent */
        memcpy(text + len, piece, (size_t)pl);
        len += (size_t)pl;
        int found = -1;
        for (int j = 0; j < nw && found < 0; j++) {
            if (w[j].n != pl)
                continue;
            int k = 0;
            while (k < pl && w[j].sym[k] == 2 + (unsigned char)piece[k])
                k++;
            if (k == pl)
                found = j;
        }
        if (found >= 0) {
            w[found].count++;
            continue;
        }
        for (int k = 0; k < pl; k++)
            w[nw].sym[k] = 2 + (unsigned char)piece[k];
        w[nw].n = pl;
        w[nw].count = 1;
        nw++;
    }
    int want[MAXTOK][2];
    int nm = naive_train(w, nw, 330, want);
    assert_true(nm >= 60);

    tb_bpe_train_opts o = {330, 2};
    tb_bpe_train_stats st;
    char *json;
    tb_error err;
    assert_int_equal(tb_bpe_train(text, len, &o, &json, &st, &err), TB_OK);
    assert_int_equal(st.words, NWORDS);
    assert_int_equal(st.unique_words, nw);
    assert_int_equal(st.merges, nm);
    json_t *root = json_loads(json, 0, NULL);
    json_t *merges = json_object_get(json_object_get(root, "model"), "merges");
    assert_int_equal(json_array_size(merges), (size_t)nm);
    tok_buf a = {0}, b = {0};
    for (int k = 0; k < nm; k++) {
        json_t *m = json_array_get(merges, (size_t)k);
        assert_true(tok_bytelevel_to_raw(json_string_value(json_array_get(m, 0)),
                                         json_string_length(json_array_get(m, 0)), &a));
        assert_true(tok_bytelevel_to_raw(json_string_value(json_array_get(m, 1)),
                                         json_string_length(json_array_get(m, 1)), &b));
        assert_int_equal(a.n, strlen(tokstr[want[k][0]]));
        assert_memory_equal(a.p, tokstr[want[k][0]], a.n);
        assert_int_equal(b.n, strlen(tokstr[want[k][1]]));
        assert_memory_equal(b.p, tokstr[want[k][1]], b.n);
    }
    free(a.p);
    free(b.p);
    json_decref(root);

    /* Our loader reads it; encoding the corpus round-trips and compresses it. */
    tb_tokenizer *tok;
    assert_int_equal(tb_tokenizer_load_buffer(&tok, json, strlen(json), "trained", &err), TB_OK);
    assert_int_equal(tb_tokenizer_vocab_size(tok), st.vocab_size);
    assert_int_equal(tb_tokenizer_bos(tok), 0);
    assert_int_equal(tb_tokenizer_eos(tok), 0);
    assert_int_equal(tb_tokenizer_pad(tok), 1);
    int32_t *ids;
    size_t n;
    assert_int_equal(tb_tokenizer_encode(tok, text, len, false, &ids, &n, &err), TB_OK);
    assert_true(n < len / 2);
    char *back;
    size_t blen;
    assert_int_equal(tb_tokenizer_decode_bytes(tok, ids, n, false, &back, &blen, &err), TB_OK);
    assert_int_equal(blen, len);
    assert_memory_equal(back, text, len);
    free(back);
    free(ids);
    /* Special tokens in text become their ids. */
    assert_int_equal(tb_tokenizer_encode(tok, "ab<|endoftext|><|pad|>", 22, false, &ids, &n, &err), TB_OK);
    assert_int_equal(ids[n - 2], 0);
    assert_int_equal(ids[n - 1], 1);
    free(ids);
    tb_tokenizer_free(tok);
    free(json);
    free(text);
    free(w);
}

static void test_train_bad_options(void **state)
{
    (void)state;
    tb_bpe_train_opts o = {100, 2};
    char *json = NULL;
    tb_error err;
    assert_int_equal(tb_bpe_train("abc", 3, &o, &json, NULL, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "vocab-size");
    assert_null(json);
    /* A corpus too small for the vocabulary stops early, with what it has. */
    o.vocab_size = 5000;
    tb_bpe_train_stats st;
    assert_int_equal(tb_bpe_train("abab abab \xFF", 11, &o, &json, &st, &err), TB_OK);
    assert_true(st.vocab_size < 270);
    tb_tokenizer *tok;
    assert_int_equal(tb_tokenizer_load_buffer(&tok, json, strlen(json), "small", &err), TB_OK);
    tb_tokenizer_free(tok);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        {"train/3000 words, vocab 330: merges = naive recount trainer", test_train_vs_naive, NULL, NULL, NULL},
        {"train/vocab < 258 refused; tiny corpus stops early", test_train_bad_options, NULL, NULL, NULL},
    };
    return cmocka_run_group_tests_name("tokenizer_train", tests, NULL, NULL);
}
