/* tunebench — MinHash + LSH for near-duplicate rows. */
#include "validators/minhash.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/core/rng.h"

/* Multiply-shift permutations h_k(x) = (a_k x + b_k) >> 32 with fixed odd a_k: the same
 * text gives the same signature in every run (findings are reproducible). splitmix64
 * seeds them. */
static uint64_t perm_a[TB_MINHASH_K], perm_b[TB_MINHASH_K];
static bool perms_ready;

static void init_perms(void)
{
    if (perms_ready)
        return;
    uint64_t s = 0x74756e65ull; /* "tune" */
    for (int k = 0; k < TB_MINHASH_K; k++) {
        perm_a[k] = tb_splitmix64(&s) | 1;
        perm_b[k] = tb_splitmix64(&s);
    }
    perms_ready = true;
}

void tb_minhash_begin(tb_minhash *mh)
{
    init_perms();
    memset(mh->min, 0xFF, sizeof mh->min);
    mh->w1 = mh->w2 = 0;
    mh->words = 0;
    mh->shingles = 0;
}

/* The hot loop (a quarter of a validation's time). With GCC on x86-64 it is also built for
 * AVX-512 (64-bit multiplies in vector registers) and picked at run time: 4x faster there. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "default")))
#endif
static void add_shingle(tb_minhash *mh, uint64_t x)
{
    for (int k = 0; k < TB_MINHASH_K; k++) {
        uint32_t v = (uint32_t)((perm_a[k] * x + perm_b[k]) >> 32);
        if (v < mh->min[k])
            mh->min[k] = v;
    }
    mh->shingles++;
}

static bool word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

void tb_minhash_add(tb_minhash *mh, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    char word[64];
    while (i < len) {
        while (i < len && !word_byte(s[i]))
            i++;
        if (i >= len)
            break;
        size_t n = 0;
        uint64_t h = 0;
        bool long_word = false;
        size_t start = i;
        while (i < len && word_byte(s[i])) {
            if (n < sizeof word) {
                unsigned char c = s[i];
                word[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            } else {
                long_word = true;
            }
            i++;
        }
        /* Words over 64 bytes (base64, hashes) are hashed whole, lowercase or not. */
        h = long_word ? XXH3_64bits(s + start, i - start) : XXH3_64bits(word, n);
        if (mh->words >= 2) {
            uint64_t tri[3] = {mh->w2, mh->w1, h};
            add_shingle(mh, XXH3_64bits(tri, sizeof tri));
        }
        mh->w2 = mh->w1;
        mh->w1 = h;
        mh->words++;
    }
}

bool tb_minhash_end(tb_minhash *mh)
{
    if (mh->words == 0)
        return false;
    if (mh->words < 3) {
        uint64_t pair[2] = {mh->w2, mh->w1};
        add_shingle(mh, XXH3_64bits(pair, sizeof pair));
    }
    return true;
}

double tb_minhash_estimate(const uint8_t *a, const uint8_t *b)
{
    int same = 0;
    for (int k = 0; k < TB_MINHASH_K; k++)
        same += a[k] == b[k];
    /* E[match] = J + (1 - J) / 256  →  J = (m - 1/256) / (1 - 1/256) */
    double m = (double)same / TB_MINHASH_K;
    double j = (m - 1.0 / 256) / (1.0 - 1.0 / 256);
    return j < 0 ? 0 : j > 1 ? 1 : j;
}

static bool ensure_slots(tb_near_index *ix)
{
    if (ix->n < ix->cap)
        return true;
    size_t ncap = ix->cap ? ix->cap + ix->cap / 2 : 1024;
    uint8_t *ns = realloc(ix->sigs, ncap * TB_MINHASH_K);
    if (!ns)
        return false;
    ix->sigs = ns;
    uint32_t *nr = realloc(ix->rows, ncap * sizeof *nr);
    if (!nr)
        return false;
    ix->rows = nr;
    ix->cap = ncap;
    return true;
}

bool tb_near_index_check_add(tb_near_index *ix, const tb_minhash *mh, uint32_t row, double threshold,
                             uint32_t *match_row, double *estimate, bool *oom)
{
    *oom = false;
    if (!ensure_slots(ix)) {
        *oom = true;
        return false;
    }
    uint32_t slot = (uint32_t)ix->n;
    uint8_t *sig = ix->sigs + (size_t)slot * TB_MINHASH_K;
    for (int k = 0; k < TB_MINHASH_K; k++)
        sig[k] = (uint8_t)mh->min[k];
    bool hit = false;
    double best = -1;
    for (int b = 0; b < TB_MINHASH_BANDS; b++) {
        uint32_t key = (uint32_t)XXH3_64bits(mh->min + b * TB_MINHASH_BAND_ROWS, TB_MINHASH_BAND_ROWS * sizeof(uint32_t));
        uint32_t other;
        bool o;
        if (tb_map32_get_or_put(&ix->bands[b], key, slot, &other, &o)) {
            double est = tb_minhash_estimate(sig, ix->sigs + (size_t)other * TB_MINHASH_K);
            if (est >= threshold && est > best) {
                best = est;
                *match_row = ix->rows[other];
                hit = true;
            }
        } else if (o) {
            *oom = true;
            return false;
        }
    }
    ix->rows[slot] = row;
    ix->n++;
    if (hit)
        *estimate = best;
    return hit;
}

void tb_near_index_free(tb_near_index *ix)
{
    for (int b = 0; b < TB_MINHASH_BANDS; b++)
        tb_map32_free(&ix->bands[b]);
    free(ix->sigs);
    free(ix->rows);
    memset(ix, 0, sizeof *ix);
}

size_t tb_near_index_bytes(const tb_near_index *ix)
{
    size_t n = ix->cap * (TB_MINHASH_K + sizeof *ix->rows);
    for (int b = 0; b < TB_MINHASH_BANDS; b++)
        n += tb_map32_bytes(&ix->bands[b]);
    return n;
}
