/* tunebench — the project's seeded random numbers: splitmix64 for seeding and hashing
 * seeds together, xoshiro256** for streams. Deterministic on every platform, so a seed
 * reproduces initializations, shuffles and samples exactly. */
#ifndef TB_CORE_RNG_H
#define TB_CORE_RNG_H

#include <math.h>
#include <stdint.h>

static inline uint64_t tb_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

typedef struct tb_rng {
    uint64_t s[4];       /* xoshiro256** state */
} tb_rng;

static inline void tb_rng_seed(tb_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = tb_splitmix64(&seed);
}

static inline uint64_t tb_rng_next(tb_rng *r)
{
#define TB_ROTL_(x, k) (((x) << (k)) | ((x) >> (64 - (k))))
    uint64_t *s = r->s, out = TB_ROTL_(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = TB_ROTL_(s[3], 45);
#undef TB_ROTL_
    return out;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double tb_rng_uniform(tb_rng *r) { return (double)(tb_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); }

/* Uniform integer in [0, n), n > 0 (rejection: exactly uniform). */
static inline uint64_t tb_rng_below(tb_rng *r, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n, x;
    do
        x = tb_rng_next(r);
    while (x >= limit);
    return x % n;
}

/* Standard normal (Box-Muller; one value per call, the pair's second one dropped). */
static inline double tb_rng_normal(tb_rng *r)
{
    double u = tb_rng_uniform(r), v = tb_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

/* A seed derived from a base seed and up to three counters (step, micro-batch, ...). */
static inline uint64_t tb_seed_mix(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t x = seed;
    uint64_t h = tb_splitmix64(&x) ^ a;
    h = tb_splitmix64(&h) ^ b;
    h = tb_splitmix64(&h) ^ c;
    return tb_splitmix64(&h);
}

#endif
