/* tunebench — the BPE model on one piece (HF models/bpe/model.rs merge_word, word.rs
 * merge_all): initial symbols (chars, or bytes for byte-level models; <0xXX> byte fallback;
 * unk), then merges lowest rank first.
 *
 * The merge loop keeps the symbols in a linked list and candidate pairs in a min-heap keyed
 * (rank, position): O(n log n) in the piece length, where re-scanning for the best pair
 * after each merge would be O(n^2) — a 100 kB SentencePiece "word" (Llama-2 has no
 * pre-tokenizer, so a whole text is one piece) stays fast. A stale heap entry (its pair
 * changed since it was pushed) is recognised, as in HF, by the pair's current merge result
 * no longer being the entry's. Results of short pieces are cached (HF: pieces < 256 bytes). */
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tok_internal.h"

enum { CACHE_MAX_LEN = 256, STACK_SYMS = 128 };

typedef struct heap_ent {
    uint64_t key; /* (rank << 32) | pos: lowest rank first, then leftmost */
    int32_t new_id;
} heap_ent;

static void heap_push(heap_ent *h, size_t *n, heap_ent e)
{
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].key <= e.key)
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = e;
}

static heap_ent heap_pop(heap_ent *h, size_t *n)
{
    heap_ent top = h[0], last = h[--(*n)];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m)
            break;
        if (c + 1 < m && h[c + 1].key < h[c].key)
            c++;
        if (last.key <= h[c].key)
            break;
        h[i] = h[c];
        i = c;
    }
    if (m)
        h[i] = last;
    return top;
}

static void push_pair(const tok_mergemap *mm, heap_ent *h, size_t *hn, const int32_t *syms, int32_t left,
                      int32_t right)
{
    const tok_merge_entry *e = tok_mergemap_get(mm, syms[left], syms[right]);
    if (e)
        heap_push(h, hn, (heap_ent){((uint64_t)e->rank << 32) | (uint32_t)left, e->new_id});
}

size_t tok_bpe_merge(const tok_mergemap *mm, int32_t *syms, size_t n)
{
    if (n < 2)
        return n;
    if (n == 2) {
        const tok_merge_entry *e = tok_mergemap_get(mm, syms[0], syms[1]);
        if (!e)
            return 2;
        syms[0] = e->new_id;
        return 1;
    }
    int32_t st_next[STACK_SYMS], st_prev[STACK_SYMS];
    heap_ent st_heap[2 * STACK_SYMS];
    int32_t *next = st_next, *prev = st_prev;
    heap_ent *heap = st_heap;
    /* Each merge pushes at most 2 entries, and there are at most n - 1 merges. */
    size_t heap_cap = 3 * n;
    if (n > STACK_SYMS) {
        next = malloc(n * sizeof *next);
        prev = malloc(n * sizeof *prev);
        heap = malloc(heap_cap * sizeof *heap);
        if (!next || !prev || !heap) {
            free(next);
            free(prev);
            free(heap);
            return 0;
        }
    }
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        next[i] = i + 1 < n ? (int32_t)(i + 1) : -1;
        prev[i] = (int32_t)i - 1;
    }
    for (size_t i = 0; i + 1 < n; i++)
        push_pair(mm, heap, &hn, syms, (int32_t)i, (int32_t)(i + 1));
    while (hn) {
        heap_ent top = heap_pop(heap, &hn);
        int32_t pos = (int32_t)(uint32_t)top.key;
        if (syms[pos] < 0) /* merged into its left neighbour */
            continue;
        int32_t nx = next[pos];
        if (nx < 0)
            continue;
        const tok_merge_entry *e = tok_mergemap_get(mm, syms[pos], syms[nx]);
        if (!e || e->new_id != top.new_id)
            continue;
        syms[pos] = top.new_id;
        syms[nx] = -1;
        next[pos] = next[nx];
        if (next[nx] >= 0)
            prev[next[nx]] = pos;
        if (prev[pos] >= 0)
            push_pair(mm, heap, &hn, syms, prev[pos], pos);
        if (next[pos] >= 0)
            push_pair(mm, heap, &hn, syms, pos, next[pos]);
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (syms[i] >= 0)
            syms[o++] = syms[i];
    if (next != st_next) {
        free(next);
        free(prev);
        free(heap);
    }
    return o;
}

/* Initial symbols, with HF's unk rules: an unknown char becomes unk_token (consecutive ones
 * fused when fuse_unk), or is dropped when there is no unk_token. A pending unk is flushed
 * only by a char found in the vocabulary (byte-fallback symbols do not flush it, as in HF). */
typedef struct sym_builder {
    tok_ids *v;
    int32_t unk_id;
    bool fuse;
    bool pending;
} sym_builder;

static bool sb_known(sym_builder *b, const int32_t *ids, size_t k, bool flush)
{
    if (flush && b->pending) {
        if (!tok_ids_push(b->v, b->unk_id))
            return false;
        b->pending = false;
    }
    return tok_ids_append(b->v, ids, k);
}

static bool sb_unknown(sym_builder *b)
{
    if (b->unk_id < 0)
        return true;
    if (b->pending && !b->fuse && !tok_ids_push(b->v, b->unk_id))
        return false;
    b->pending = true;
    return true;
}

static bool initial_symbols(const tb_tokenizer *tok, const char *s, size_t n, tok_ids *syms)
{
    sym_builder b = {syms, tok->unk_id, tok->fuse_unk, false};
    const unsigned char *u = (const unsigned char *)s;
    if (tok->byte_level) {
        for (size_t i = 0; i < n; i++) {
            unsigned k = tok->byte_nsyms[u[i]];
            bool ok = !k ? sb_unknown(&b) : sb_known(&b, tok->byte_syms[u[i]], k, !tok->byte_fb[u[i]]);
            if (!ok)
                return false;
        }
    } else {
        for (size_t i = 0; i < n;) {
            int l = tok_utf8_len(u + i, n - i);
            if (!l)
                l = 1; /* cannot happen: input is sanitized */
            int32_t id = tok_strmap_get(&tok->raw_map, tok->raw, s + i, (size_t)l);
            bool ok;
            if (id >= 0) {
                ok = sb_known(&b, &id, 1, true);
            } else {
                int32_t fb[4];
                int k = 0;
                if (tok->byte_fallback)
                    for (; k < l && tok->fallback_id[u[i + (size_t)k]] >= 0; k++)
                        fb[k] = tok->fallback_id[u[i + (size_t)k]];
                ok = tok->byte_fallback && k == l ? sb_known(&b, fb, (size_t)l, false) : sb_unknown(&b);
            }
            if (!ok)
                return false;
            i += (size_t)l;
        }
    }
    if (b.pending && !tok_ids_push(syms, b.unk_id))
        return false;
    return true;
}

/* BPE of one word, cached when short. */
static bool bpe_word(const tb_tokenizer *tok, const char *s, size_t n, tok_ids *out)
{
    bool cacheable = n < CACHE_MAX_LEN;
    if (cacheable) {
        uint32_t k;
        const int32_t *hit = tok_cache_get(tok->cache, s, n, &k);
        if (hit)
            return tok_ids_append(out, hit, k);
    }
    size_t base = out->n;
    if (!initial_symbols(tok, s, n, out))
        return false;
    size_t k = out->n - base;
    size_t m = tok_bpe_merge(&tok->merges, out->v + base, k);
    if (k && !m)
        return false; /* allocation failed inside the merge loop */
    out->n = base + m;
    if (cacheable)
        tok_cache_put(tok->cache, s, n, out->v + base, (uint32_t)m);
    return true;
}

bool tok_bpe_piece(const tb_tokenizer *tok, const char *s, size_t n, tok_ids *out)
{
    if (!n)
        return true;
    /* HF looks the whole piece up, before any cut (model.rs tokenize_with_cache). */
    if (tok->ignore_merges) {
        int32_t id = tok_strmap_get(&tok->raw_map, tok->raw, s, n);
        if (id >= 0)
            return tok_ids_push(out, id);
    }
    size_t sl = (size_t)tok->sp_split_len;
    if (!sl || n < CACHE_MAX_LEN)
        return bpe_word(tok, s, n, out);
    /* Cut before each separator that follows another char (see sp_split). */
    size_t start = 0;
    for (const char *p = s + 1; (p = memmem(p, n - (size_t)(p - s), tok->sp_split, sl)); p += sl) {
        size_t at = (size_t)(p - s);
        if (at >= sl && memcmp(s + at - sl, tok->sp_split, sl) == 0)
            continue; /* a run of separators stays together */
        if (at > start && !bpe_word(tok, s + start, at - start, out))
            return false;
        start = at;
    }
    return bpe_word(tok, s + start, n - start, out);
}
