/* tunebench — the tokenizer's tables: string → id, merge pair → (rank, id), the BPE word
 * cache, the added-token trie. Open addressing with linear probing; strings hashed with
 * xxhash (XXH3). */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "engine/tokenizer/tok_internal.h"

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

/* ---- string → id ------------------------------------------------------------------- */

static uint32_t hash32(const char *s, size_t n)
{
    return (uint32_t)XXH3_64bits(s, n);
}

bool tok_strmap_init(tok_strmap *m, size_t expected)
{
    size_t cap = pow2_at_least(expected * 2 + 1);
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->count = 0;
    return m->slots != NULL;
}

void tok_strmap_free(tok_strmap *m)
{
    free(m->slots);
    m->slots = NULL;
}

int32_t tok_strmap_get(const tok_strmap *m, const tok_str *keys, const char *s, size_t n)
{
    if (!m->slots)
        return -1;
    uint32_t h = hash32(s, n);
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t v = m->slots[i];
        if (!v)
            return -1;
        if ((uint32_t)(v >> 32) != h)
            continue;
        int32_t id = (int32_t)(uint32_t)v - 1;
        if (keys[id].n == n && memcmp(keys[id].p, s, n) == 0)
            return id;
    }
}

static bool strmap_grow(tok_strmap *m, const tok_str *keys)
{
    size_t cap = (m->mask + 1) * 2;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i <= m->mask; i++) {
        uint64_t v = m->slots[i];
        if (!v)
            continue;
        size_t j = (size_t)(v >> 32) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = v;
    }
    (void)keys;
    free(m->slots);
    m->slots = slots;
    m->mask = cap - 1;
    return true;
}

bool tok_strmap_put(tok_strmap *m, const tok_str *keys, int32_t id)
{
    if ((m->count + 1) * 2 > m->mask + 1 && !strmap_grow(m, keys))
        return false;
    const tok_str *k = &keys[id];
    uint32_t h = hash32(k->p, k->n);
    uint64_t v = ((uint64_t)h << 32) | (uint32_t)(id + 1);
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        uint64_t cur = m->slots[i];
        if (!cur) {
            m->slots[i] = v;
            m->count++;
            return true;
        }
        if ((uint32_t)(cur >> 32) == h) {
            const tok_str *o = &keys[(int32_t)(uint32_t)cur - 1];
            if (o->n == k->n && memcmp(o->p, k->p, k->n) == 0) {
                m->slots[i] = v;
                return true;
            }
        }
    }
}

/* ---- merge pairs ------------------------------------------------------------------- */

static size_t pair_hash(uint64_t key)
{
    /* Fibonacci hashing of the packed pair: cheap and spreads consecutive ids. */
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20);
}

bool tok_mergemap_init(tok_mergemap *m, size_t expected)
{
    size_t cap = pow2_at_least(expected * 2 + 1);
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->slots)
        return false;
    for (size_t i = 0; i < cap; i++)
        m->slots[i].key = UINT64_MAX;
    m->mask = cap - 1;
    m->count = 0;
    return true;
}

void tok_mergemap_free(tok_mergemap *m)
{
    free(m->slots);
    m->slots = NULL;
}

const tok_merge_entry *tok_mergemap_get(const tok_mergemap *m, int32_t a, int32_t b)
{
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    for (size_t i = pair_hash(key) & m->mask;; i = (i + 1) & m->mask) {
        const tok_merge_entry *e = &m->slots[i];
        if (e->key == key)
            return e;
        if (e->key == UINT64_MAX)
            return NULL;
    }
}

bool tok_mergemap_put(tok_mergemap *m, int32_t a, int32_t b, uint32_t rank, int32_t new_id)
{
    if ((m->count + 1) * 2 > m->mask + 1) {
        tok_mergemap bigger;
        if (!tok_mergemap_init(&bigger, (m->mask + 1)))
            return false;
        for (size_t i = 0; i <= m->mask; i++) {
            tok_merge_entry *e = &m->slots[i];
            if (e->key != UINT64_MAX)
                tok_mergemap_put(&bigger, (int32_t)(e->key >> 32), (int32_t)(uint32_t)e->key, e->rank, e->new_id);
        }
        free(m->slots);
        *m = bigger;
    }
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    for (size_t i = pair_hash(key) & m->mask;; i = (i + 1) & m->mask) {
        tok_merge_entry *e = &m->slots[i];
        if (e->key == key || e->key == UINT64_MAX) {
            if (e->key == UINT64_MAX)
                m->count++;
            /* A repeated pair: the later line wins, as HF's HashMap collect does. */
            e->key = key;
            e->rank = rank;
            e->new_id = new_id;
            return true;
        }
    }
}

/* ---- BPE cache --------------------------------------------------------------------- */

enum { CACHE_SLOTS = 1 << 16, CACHE_KEY_BYTES = 1 << 21, CACHE_IDS = 1 << 18 };

bool tok_cache_init(tok_cache *c)
{
    memset(c, 0, sizeof *c);
    c->slots = calloc(CACHE_SLOTS, sizeof *c->slots);
    c->keys = malloc(CACHE_KEY_BYTES);
    c->ids = malloc(CACHE_IDS * sizeof *c->ids);
    if (!c->slots || !c->keys || !c->ids || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->slots);
        free(c->keys);
        free(c->ids);
        return false;
    }
    c->mask = CACHE_SLOTS - 1;
    c->keys_cap = CACHE_KEY_BYTES;
    c->ids_cap = CACHE_IDS;
    return true;
}

void tok_cache_free(tok_cache *c)
{
    if (!c->slots)
        return;
    pthread_mutex_destroy(&c->lock);
    free(c->slots);
    free(c->keys);
    free(c->ids);
    c->slots = NULL;
}

const int32_t *tok_cache_get(tok_cache *c, const char *key, size_t len, uint32_t *n)
{
    uint64_t tag = XXH3_64bits(key, len) | 1;
    for (size_t i = tag & c->mask;; i = (i + 1) & c->mask) {
        tok_cache_slot *s = &c->slots[i];
        /* Acquire pairs with the release in put: the slot's fields and arena bytes written
         * before publication are visible once the tag is. */
        uint64_t t = atomic_load_explicit(&s->tag, memory_order_acquire);
        if (!t)
            return NULL;
        if (t == tag && s->key_len == len && memcmp(c->keys + s->key_off, key, len) == 0) {
            *n = s->n_ids;
            return c->ids + s->ids_off;
        }
    }
}

void tok_cache_put(tok_cache *c, const char *key, size_t len, const int32_t *ids, uint32_t n)
{
    if (atomic_load_explicit(&c->full, memory_order_relaxed))
        return;
    uint64_t tag = XXH3_64bits(key, len) | 1;
    pthread_mutex_lock(&c->lock);
    if (c->count * 2 >= CACHE_SLOTS || c->keys_used + len > c->keys_cap || c->ids_used + n > c->ids_cap) {
        atomic_store_explicit(&c->full, true, memory_order_relaxed);
        pthread_mutex_unlock(&c->lock);
        return;
    }
    size_t i = tag & c->mask;
    for (;; i = (i + 1) & c->mask) {
        tok_cache_slot *s = &c->slots[i];
        uint64_t t = atomic_load_explicit(&s->tag, memory_order_relaxed);
        if (!t)
            break;
        if (t == tag && s->key_len == len && memcmp(c->keys + s->key_off, key, len) == 0) {
            pthread_mutex_unlock(&c->lock); /* another thread got there first */
            return;
        }
    }
    tok_cache_slot *s = &c->slots[i];
    memcpy(c->keys + c->keys_used, key, len);
    memcpy(c->ids + c->ids_used, ids, n * sizeof *ids);
    s->key_off = (uint32_t)c->keys_used;
    s->key_len = (uint32_t)len;
    s->ids_off = (uint32_t)c->ids_used;
    s->n_ids = n;
    c->keys_used += len;
    c->ids_used += n;
    c->count++;
    atomic_store_explicit(&s->tag, tag, memory_order_release);
    pthread_mutex_unlock(&c->lock);
}

/* ---- added-token trie -------------------------------------------------------------- */

static int32_t trie_new_node(tok_trie *t, unsigned char byte)
{
    if (!tok_grow((void **)&t->nodes, &t->cap, t->n + 1, sizeof *t->nodes))
        return -1;
    tok_trie_node *nd = &t->nodes[t->n];
    nd->first_child = nd->next_sibling = nd->added = -1;
    nd->byte = byte;
    return (int32_t)t->n++;
}

bool tok_trie_insert(tok_trie *t, const char *s, size_t n, int32_t added_index)
{
    if (!n)
        return true; /* HF skips empty contents */
    if (!t->n && trie_new_node(t, 0) < 0)
        return false;
    int32_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char b = (unsigned char)s[i];
        int32_t child = t->nodes[cur].first_child;
        while (child >= 0 && t->nodes[child].byte != b)
            child = t->nodes[child].next_sibling;
        if (child < 0) {
            child = trie_new_node(t, b);
            if (child < 0)
                return false;
            t->nodes[child].next_sibling = t->nodes[cur].first_child;
            t->nodes[cur].first_child = child;
        }
        cur = child;
    }
    /* The first token with this content keeps the match (later duplicates add nothing). */
    if (t->nodes[cur].added < 0)
        t->nodes[cur].added = added_index;
    t->first_byte[(unsigned char)s[0] >> 3] |= (uint8_t)(1u << ((unsigned char)s[0] & 7));
    return true;
}

void tok_trie_free(tok_trie *t)
{
    free(t->nodes);
    memset(t, 0, sizeof *t);
}
