/* tunebench — MinHash signatures over word 3-shingles and an LSH index for near duplicates.
 *
 * Broder's estimator: for K independent hash permutations, P(min over A == min over B) is
 * the Jaccard similarity J(A, B). K = 128 permutations (multiply-shift hashes of one 64-bit
 * xxh3 per shingle): the estimate's standard error at J = 0.8 is sqrt(0.8 * 0.2 / 128) = 0.035.
 * Stored per row: the low 8 bits of each minimum ("b-bit minwise hashing", Li & König 2010):
 * 128 bytes a row, and a chance match of 1/256 that the estimator removes.
 * Candidates come from LSH over the first 32 minima in 8 bands of 4: a pair at J = 0.8
 * shares a band with probability 1 - (1 - 0.8^4)^8 = 0.985 (0.89 at J = 0.7). */
#ifndef TB_VALIDATORS_MINHASH_H
#define TB_VALIDATORS_MINHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validators/hashmap.h"

#define TB_MINHASH_K 128
#define TB_MINHASH_BANDS 8
#define TB_MINHASH_BAND_ROWS 4

typedef struct tb_minhash {
    uint32_t min[TB_MINHASH_K];
    uint64_t w1, w2;   /* hashes of the previous two words (shingles run across texts) */
    int words;
    long shingles;
} tb_minhash;

/* Start a signature. */
void tb_minhash_begin(tb_minhash *mh);
/* Add a text: words are runs of letters/digits (any byte >= 0x80 counts as a letter),
 * ASCII-lowercased. */
void tb_minhash_add(tb_minhash *mh, const char *text, size_t len);
/* Close it (a text of one or two words becomes a single shingle). False when no words. */
bool tb_minhash_end(tb_minhash *mh);

/* Jaccard estimate from two 8-bit signatures, corrected for chance matches; clamped to [0,1]. */
double tb_minhash_estimate(const uint8_t *a, const uint8_t *b);

typedef struct tb_near_index {
    tb_map32 bands[TB_MINHASH_BANDS]; /* band hash → slot of the first row with it */
    uint8_t *sigs;                    /* (slots, K) */
    uint32_t *rows;                   /* (slots) row index of each slot */
    size_t n, cap;
} tb_near_index;

/* Look mh up (best candidate with estimate >= threshold → *match_row, *estimate, true),
 * then add it as `row`. *oom on allocation failure. */
bool tb_near_index_check_add(tb_near_index *ix, const tb_minhash *mh, uint32_t row, double threshold,
                             uint32_t *match_row, double *estimate, bool *oom);
void tb_near_index_free(tb_near_index *ix);
size_t tb_near_index_bytes(const tb_near_index *ix);

#endif
