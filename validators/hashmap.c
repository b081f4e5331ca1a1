/* tunebench — open-addressing hash maps with linear probing. */
#include "validators/hashmap.h"

#include <stdlib.h>

__extension__ typedef unsigned __int128 u128;

static size_t slot_of(uint64_t key, size_t cap)
{
    /* fastrange over the high bits mixed with the low ones (keys are xxh3 hashes). */
    uint64_t h = key ^ (key >> 29);
    return (size_t)(((u128)h * cap) >> 64);
}

static size_t next_cap(size_t cap) { return cap < 1024 ? 1024 : cap + cap / 2; }

static bool map64_grow(tb_map64 *m)
{
    size_t ncap = next_cap(m->cap);
    uint64_t *nk = calloc(ncap, sizeof *nk);
    uint32_t *nv = malloc(ncap * sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return false;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t s = slot_of(m->keys[i], ncap);
        while (nk[s])
            s = s + 1 == ncap ? 0 : s + 1;
        nk[s] = m->keys[i];
        nv[s] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return true;
}

bool tb_map64_get_or_put(tb_map64 *m, uint64_t key, uint32_t val, uint32_t *found, bool *oom)
{
    *oom = false;
    if (key == 0)
        key = 1;
    if ((m->n + 1) * 4 > m->cap * 3 && !map64_grow(m)) {
        *oom = true;
        return false;
    }
    size_t s = slot_of(key, m->cap);
    while (m->keys[s]) {
        if (m->keys[s] == key) {
            *found = m->vals[s];
            return true;
        }
        s = s + 1 == m->cap ? 0 : s + 1;
    }
    m->keys[s] = key;
    m->vals[s] = val;
    m->n++;
    return false;
}

bool tb_map64_get(const tb_map64 *m, uint64_t key, uint32_t *val)
{
    if (m->cap == 0)
        return false;
    if (key == 0)
        key = 1;
    size_t s = slot_of(key, m->cap);
    while (m->keys[s]) {
        if (m->keys[s] == key) {
            *val = m->vals[s];
            return true;
        }
        s = s + 1 == m->cap ? 0 : s + 1;
    }
    return false;
}

void tb_map64_free(tb_map64 *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

size_t tb_map64_bytes(const tb_map64 *m) { return m->cap * (sizeof *m->keys + sizeof *m->vals); }

/* ---- 32-bit keys ----------------------------------------------------------------------- */

static uint64_t spread32(uint32_t key) { return (uint64_t)key * 0x9E3779B97F4A7C15ull; }

static bool map32_grow(tb_map32 *m)
{
    size_t ncap = next_cap(m->cap);
    uint64_t *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return false;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i])
            continue;
        size_t s = slot_of(spread32((uint32_t)(m->slots[i] >> 32)), ncap);
        while (ns[s])
            s = s + 1 == ncap ? 0 : s + 1;
        ns[s] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return true;
}

bool tb_map32_get_or_put(tb_map32 *m, uint32_t key, uint32_t val, uint32_t *found, bool *oom)
{
    *oom = false;
    if (key == 0)
        key = 1;
    if ((m->n + 1) * 4 > m->cap * 3 && !map32_grow(m)) {
        *oom = true;
        return false;
    }
    size_t s = slot_of(spread32(key), m->cap);
    while (m->slots[s]) {
        if ((uint32_t)(m->slots[s] >> 32) == key) {
            *found = (uint32_t)m->slots[s];
            return true;
        }
        s = s + 1 == m->cap ? 0 : s + 1;
    }
    m->slots[s] = (uint64_t)key << 32 | val;
    m->n++;
    return false;
}

void tb_map32_free(tb_map32 *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
}

size_t tb_map32_bytes(const tb_map32 *m) { return m->cap * sizeof *m->slots; }
