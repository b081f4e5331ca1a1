/* tunebench — byte-level BPE training (see train.h).
 *
 * 1. Split the corpus with the GPT-2 regex and count each distinct piece ("word").
 * 2. Count adjacent symbol pairs over the distinct words, weighted by word count, and
 *    remember which words hold each pair.
 * 3. Repeatedly take the most frequent pair (ties: the smaller pair of ids), give it a new
 *    id, and rewrite only the words that hold it, adjusting the counts of the pairs around
 *    each occurrence (incremental, as HF's BpeTrainer: no recount of the corpus per merge).
 *    A max-heap holds (count, pair) entries; an entry whose count is stale is re-pushed with
 *    the current count when popped. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#include "engine/core/fs.h"
#include "engine/tokenizer/tok_internal.h"
#include "engine/tokenizer/train.h"

enum { N_SPECIAL = 2, FIRST_BYTE_ID = N_SPECIAL, FIRST_MERGE_ID = N_SPECIAL + 256 };

/* GPT-2's pre-split regex, as HF's ByteLevel pre-tokenizer writes it. */
static const char gpt2_regex[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/* ---- distinct words ---------------------------------------------------------------- */

typedef struct word {
    const char *p;      /* into the corpus */
    uint32_t len;       /* bytes */
    uint32_t sym_off;   /* symbols in the pool */
    uint32_t nsym;
    int64_t count;
} word;

typedef struct words {
    word *v;
    size_t n, cap;
    uint32_t *slots; /* index + 1; 0 empty */
    size_t mask;
} words;

static bool words_add(words *w, const char *p, size_t len)
{
    if ((w->n + 1) * 2 > w->mask + 1) {
        size_t cap = (w->mask + 1) * 2;
        uint32_t *s = calloc(cap, sizeof *s);
        if (!s)
            return false;
        for (size_t i = 0; i <= w->mask; i++) {
            if (!w->slots[i])
                continue;
            const word *x = &w->v[w->slots[i] - 1];
            size_t j = (size_t)XXH3_64bits(x->p, x->len) & (cap - 1);
            while (s[j])
                j = (j + 1) & (cap - 1);
            s[j] = w->slots[i];
        }
        free(w->slots);
        w->slots = s;
        w->mask = cap - 1;
    }
    size_t i = (size_t)XXH3_64bits(p, len) & w->mask;
    for (; w->slots[i]; i = (i + 1) & w->mask) {
        word *x = &w->v[w->slots[i] - 1];
        if (x->len == len && memcmp(x->p, p, len) == 0) {
            x->count++;
            return true;
        }
    }
    if (!tok_grow((void **)&w->v, &w->cap, w->n + 1, sizeof *w->v))
        return false;
    w->v[w->n] = (word){p, (uint32_t)len, 0, 0, 1};
    w->slots[i] = (uint32_t)++w->n;
    return true;
}

/* ---- pairs ------------------------------------------------------------------------- */

typedef struct pair_info {
    uint64_t key;    /* (a << 32) | b */
    int64_t count;
    uint32_t *where; /* word indices holding the pair (may repeat or be stale) */
    size_t nwhere, cap;
} pair_info;

typedef struct pairs {
    pair_info *v;
    size_t n, cap;
    uint32_t *slots; /* index + 1 */
    size_t mask;
} pairs;

static size_t pair_slot(uint64_t key, size_t mask)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
}

/* Index of the pair's record, created when absent; -1 on allocation failure. */
static int64_t pair_get(pairs *ps, uint64_t key)
{
    if ((ps->n + 1) * 2 > ps->mask + 1) {
        size_t cap = (ps->mask + 1) * 2;
        uint32_t *s = calloc(cap, sizeof *s);
        if (!s)
            return -1;
        for (size_t i = 0; i <= ps->mask; i++) {
            if (!ps->slots[i])
                continue;
            size_t j = pair_slot(ps->v[ps->slots[i] - 1].key, cap - 1);
            while (s[j])
                j = (j + 1) & (cap - 1);
            s[j] = ps->slots[i];
        }
        free(ps->slots);
        ps->slots = s;
        ps->mask = cap - 1;
    }
    size_t i = pair_slot(key, ps->mask);
    for (; ps->slots[i]; i = (i + 1) & ps->mask)
        if (ps->v[ps->slots[i] - 1].key == key)
            return ps->slots[i] - 1;
    if (!tok_grow((void **)&ps->v, &ps->cap, ps->n + 1, sizeof *ps->v))
        return -1;
    ps->v[ps->n] = (pair_info){key, 0, NULL, 0, 0};
    ps->slots[i] = (uint32_t)++ps->n;
    return (int64_t)ps->n - 1;
}

static bool where_add(pair_info *p, uint32_t w)
{
    if (p->nwhere && p->where[p->nwhere - 1] == w)
        return true;
    if (!tok_grow((void **)&p->where, &p->cap, p->nwhere + 1, sizeof *p->where))
        return false;
    p->where[p->nwhere++] = w;
    return true;
}

/* ---- max-heap of (count, pair) ----------------------------------------------------- */

typedef struct hent {
    int64_t count;
    uint64_t key;
} hent;

typedef struct heap {
    hent *v;
    size_t n, cap;
} heap;

static bool before(hent a, hent b)
{
    return a.count != b.count ? a.count > b.count : a.key < b.key;
}

static bool heap_push(heap *h, hent e)
{
    if (!tok_grow((void **)&h->v, &h->cap, h->n + 1, sizeof *h->v))
        return false;
    size_t i = h->n++;
    while (i > 0 && before(e, h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = e;
    return true;
}

static hent heap_pop(heap *h)
{
    hent top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h->v[c + 1], h->v[c]))
            c++;
        if (!before(h->v[c], last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

/* ---- training ---------------------------------------------------------------------- */

typedef struct trainer {
    words w;
    uint32_t *pool;   /* symbols of all words */
    pairs ps;
    heap h;
    uint32_t *stamp;  /* per word: last merge that rewrote it (dedupes where lists) */
    int64_t *touched; /* pair indices changed by the current merge */
    size_t ntouched, touched_cap;
    uint32_t (*merges)[2];
    int32_t nmerges;
    size_t merges_cap;
    tok_str *raw;     /* per id: the bytes it stands for (specials: their text) */
    int32_t nids;
    tok_strmap map;   /* raw bytes → id: two merges spelling the same bytes share an id */
    tok_arena arena;
} trainer;

static bool add_count(trainer *t, uint32_t a, uint32_t b, int64_t delta, uint32_t w)
{
    int64_t i = pair_get(&t->ps, ((uint64_t)a << 32) | b);
    if (i < 0)
        return false;
    pair_info *p = &t->ps.v[i];
    p->count += delta;
    if (delta > 0 && !where_add(p, w))
        return false;
    if (!tok_grow((void **)&t->touched, &t->touched_cap, t->ntouched + 1, sizeof *t->touched))
        return false;
    t->touched[t->ntouched++] = i;
    return true;
}

/* Replace each non-overlapping (a, b) in word wi, left to right, by id; adjust neighbours. */
static bool merge_word(trainer *t, uint32_t wi, uint32_t a, uint32_t b, uint32_t id)
{
    word *w = &t->w.v[wi];
    uint32_t *s = t->pool + w->sym_off;
    uint32_t n = w->nsym, o = 0;
    int64_t c = w->count;
    for (uint32_t i = 0; i < n;) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
            if (o > 0 && (!add_count(t, s[o - 1], a, -c, wi) || !add_count(t, s[o - 1], id, c, wi)))
                return false;
            if (i + 2 < n && (!add_count(t, b, s[i + 2], -c, wi) || !add_count(t, id, s[i + 2], c, wi)))
                return false;
            s[o++] = id;
            i += 2;
        } else {
            s[o++] = s[i++];
        }
    }
    w->nsym = o;
    return true;
}

static tb_status count_words(trainer *t, const char *text, size_t len, tb_bpe_train_stats *st, tb_error *err)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)gpt2_regex, sizeof gpt2_regex - 1, PCRE2_UTF | PCRE2_UCP, &code, &off,
                                   NULL);
    if (!re)
        return tb_fail(err, TB_ERR_INVALID, "GPT-2 regex does not compile");
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    tb_status status = md ? TB_OK : TB_ERR_NOMEM;
    t->w.slots = calloc(1024, sizeof *t->w.slots);
    t->w.mask = 1023;
    if (!t->w.slots)
        status = TB_ERR_NOMEM;
    size_t pos = 0;
    while (status == TB_OK && pos < len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)text, len, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
            rc = pcre2_match(re, (PCRE2_SPTR)text, len, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            status = tb_fail(err, TB_ERR_INVALID, "regex match failed at byte %zu (PCRE2 error %d)", pos, rc);
            break;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        /* Every alternative consumes a char, so pieces tile the text. */
        if (ov[1] <= pos)
            break;
        if (ov[1] - ov[0] > UINT32_MAX / 2 || !words_add(&t->w, text + ov[0], ov[1] - ov[0]))
            status = TB_ERR_NOMEM;
        st->words++;
        pos = ov[1];
    }
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    if (status == TB_ERR_NOMEM)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory counting words");
    st->unique_words = (int64_t)t->w.n;
    return status;
}

static tb_status init_pairs(trainer *t, tb_error *err)
{
    size_t total = 0;
    for (size_t i = 0; i < t->w.n; i++)
        total += t->w.v[i].len;
    t->pool = malloc((total ? total : 1) * sizeof *t->pool);
    t->stamp = calloc(t->w.n ? t->w.n : 1, sizeof *t->stamp);
    t->ps.slots = calloc(4096, sizeof *t->ps.slots);
    t->ps.mask = 4095;
    if (!t->pool || !t->stamp || !t->ps.slots)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    size_t off = 0;
    for (uint32_t i = 0; i < t->w.n; i++) {
        word *w = &t->w.v[i];
        w->sym_off = (uint32_t)off;
        w->nsym = w->len;
        for (uint32_t k = 0; k < w->len; k++)
            t->pool[off + k] = FIRST_BYTE_ID + (unsigned char)w->p[k];
        for (uint32_t k = 0; k + 1 < w->len; k++)
            if (!add_count(t, t->pool[off + k], t->pool[off + k + 1], w->count, i))
                return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        off += w->len;
    }
    t->ntouched = 0;
    for (size_t i = 0; i < t->ps.n; i++)
        if (!heap_push(&t->h, (hent){t->ps.v[i].count, t->ps.v[i].key}))
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    return TB_OK;
}

static const char *const specials[N_SPECIAL] = {"<|endoftext|>", "<|pad|>"};

static bool add_id(trainer *t, const char *p, size_t n)
{
    char *d = tok_arena_alloc(&t->arena, n + 1);
    if (!d)
        return false;
    memcpy(d, p, n);
    d[n] = '\0';
    t->raw[t->nids] = (tok_str){d, (uint32_t)n};
    /* Specials are not byte strings a merge can make: keep them out of the map. */
    if (t->nids >= N_SPECIAL && !tok_strmap_put(&t->map, t->raw, t->nids))
        return false;
    t->nids++;
    return true;
}

static tb_status learn(trainer *t, int32_t vocab_size, int64_t min_freq, tb_error *err)
{
    t->raw = calloc((size_t)vocab_size, sizeof *t->raw);
    if (!t->raw || !tok_strmap_init(&t->map, (size_t)vocab_size))
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int i = 0; i < N_SPECIAL; i++)
        if (!add_id(t, specials[i], strlen(specials[i])))
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int b = 0; b < 256; b++)
        if (!add_id(t, (const char *)&(unsigned char){(unsigned char)b}, 1))
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    tok_buf cat = {0};
    tb_status st = TB_OK;
    while (st == TB_OK && t->nids < vocab_size && t->h.n) {
        hent top = heap_pop(&t->h);
        int64_t pi = pair_get(&t->ps, top.key);
        if (pi < 0) {
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
            break;
        }
        int64_t now = t->ps.v[pi].count;
        if (now != top.count) {
            if (now > 0 && !heap_push(&t->h, (hent){now, top.key}))
                st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
            continue;
        }
        if (now < min_freq)
            break;
        uint32_t a = (uint32_t)(top.key >> 32), b = (uint32_t)top.key;
        cat.n = 0;
        if (!tok_buf_append(&cat, t->raw[a].p, t->raw[a].n) || !tok_buf_append(&cat, t->raw[b].p, t->raw[b].n)) {
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
            break;
        }
        int32_t id = tok_strmap_get(&t->map, t->raw, cat.p, cat.n);
        if (id < 0) {
            id = t->nids;
            if (!add_id(t, cat.p, cat.n)) {
                st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
                break;
            }
        }
        if (!tok_grow((void **)&t->merges, &t->merges_cap, (size_t)t->nmerges + 1, sizeof *t->merges)) {
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
            break;
        }
        t->merges[t->nmerges][0] = a;
        t->merges[t->nmerges][1] = b;
        t->nmerges++;
        /* Take the word list out: merge_word may append to other pairs' lists (and realloc
         * the pair table), never to this pair's, whose count ends at zero. */
        uint32_t *where = t->ps.v[pi].where;
        size_t nwhere = t->ps.v[pi].nwhere;
        t->ps.v[pi].where = NULL;
        t->ps.v[pi].nwhere = t->ps.v[pi].cap = 0;
        t->ntouched = 0;
        for (size_t k = 0; k < nwhere && st == TB_OK; k++) {
            uint32_t wi = where[k];
            if (t->stamp[wi] == (uint32_t)t->nmerges)
                continue;
            t->stamp[wi] = (uint32_t)t->nmerges;
            if (!merge_word(t, wi, a, b, (uint32_t)id))
                st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        }
        free(where);
        pi = pair_get(&t->ps, top.key);
        t->ps.v[pi].count = 0;
        for (size_t k = 0; st == TB_OK && k < t->ntouched; k++) {
            pair_info *p = &t->ps.v[t->touched[k]];
            if (p->count > 0 && p->key != top.key && !heap_push(&t->h, (hent){p->count, p->key}))
                st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        }
    }
    free(cat.p);
    return st;
}

static void trainer_free(trainer *t)
{
    for (size_t i = 0; i < t->ps.n; i++)
        free(t->ps.v[i].where);
    free(t->ps.v);
    free(t->ps.slots);
    free(t->w.v);
    free(t->w.slots);
    free(t->pool);
    free(t->stamp);
    free(t->touched);
    free(t->h.v);
    free(t->merges);
    free(t->raw);
    tok_strmap_free(&t->map);
    tok_arena_free(&t->arena);
}

/* tok_train_json.c */
char *tok_train_json(const tok_str *raw, int32_t nids, int32_t n_special, const uint32_t (*merges)[2],
                     int32_t nmerges);

tb_status tb_bpe_train(const char *text, size_t len, const tb_bpe_train_opts *opts, char **json,
                       tb_bpe_train_stats *stats, tb_error *err)
{
    *json = NULL;
    tb_bpe_train_stats st = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (opts->vocab_size < FIRST_MERGE_ID)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "vocab-size", "%d is below %d (2 special tokens + 256 "
                            "bytes)", opts->vocab_size, FIRST_MERGE_ID);
    char *clean = NULL;
    size_t clean_n = 0;
    if (tok_utf8_sanitize(text, len, &clean, &clean_n)) {
        if (!clean)
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        text = clean;
        len = clean_n;
    }
    trainer t;
    memset(&t, 0, sizeof t);
    st.bytes = (int64_t)len;
    tb_status s = count_words(&t, text, len, &st, err);
    if (s == TB_OK)
        s = init_pairs(&t, err);
    if (s == TB_OK)
        s = learn(&t, opts->vocab_size, opts->min_frequency > 0 ? opts->min_frequency : 2, err);
    if (s == TB_OK) {
        *json = tok_train_json(t.raw, t.nids, N_SPECIAL, (const uint32_t(*)[2])t.merges, t.nmerges);
        if (!*json)
            s = tb_fail(err, TB_ERR_NOMEM, "out of memory writing tokenizer.json");
    }
    st.merges = t.nmerges;
    st.vocab_size = t.nids;
    trainer_free(&t);
    free(clean);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
    if (stats)
        *stats = st;
    return s;
}

tb_status tb_bpe_train_file(const char *corpus_path, const tb_bpe_train_opts *opts, const char *out_path,
                            tb_bpe_train_stats *stats, tb_error *err)
{
    char *text = NULL;
    size_t len = 0;
    tb_status s = tb_read_file(corpus_path, &text, &len, err);
    if (s != TB_OK)
        return s;
    if (!len) {
        free(text);
        return tb_error_set(err, TB_ERR_INVALID, corpus_path, 0, NULL, "the corpus is empty");
    }
    char *json = NULL;
    s = tb_bpe_train(text, len, opts, &json, stats, err);
    free(text);
    if (s == TB_OK)
        s = tb_atomic_write(out_path, json, strlen(json), err);
    free(json);
    return s;
}
