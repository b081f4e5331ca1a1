/* tunebench — added (and special) tokens: found in the text before it is split, as HF's
 * AddedVocabulary::find_matches does (leftmost-longest; single_word, lstrip, rstrip). */
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tok_internal.h"

static bool segs_push(tok_segs *o, size_t start, size_t end, int32_t id)
{
    if (!tok_grow((void **)&o->v, &o->cap, o->n + 1, sizeof *o->v))
        return false;
    o->v[o->n++] = (tok_seg){start, end, id};
    return true;
}

/* Longest added token starting at s[i], as an index into tok->added, or -1. */
static int32_t longest_at(const tok_trie *t, const char *s, size_t n, size_t i, size_t *end)
{
    int32_t best = -1;
    int32_t cur = 0;
    for (size_t j = i; j < n; j++) {
        unsigned char b = (unsigned char)s[j];
        int32_t child = t->nodes[cur].first_child;
        while (child >= 0 && t->nodes[child].byte != b)
            child = t->nodes[child].next_sibling;
        if (child < 0)
            break;
        cur = child;
        if (t->nodes[cur].added >= 0) {
            best = t->nodes[cur].added;
            *end = j + 1;
        }
    }
    return best;
}

static uint32_t first_cp(const char *s, size_t n)
{
    int l = tok_utf8_len((const unsigned char *)s, n);
    return l ? tok_utf8_decode((const unsigned char *)s, l) : 0xFFFD;
}

bool tok_added_split(const tb_tokenizer *tok, const tok_trie *t, const char *s, size_t n, tok_segs *out)
{
    size_t done = 0; /* end of the last emitted segment */
    if (t->n) {
        for (size_t i = 0; i < n;) {
            unsigned char b = (unsigned char)s[i];
            size_t end = 0;
            int32_t k = -1;
            if (t->first_byte[b >> 3] & (1u << (b & 7)))
                k = longest_at(t, s, n, i, &end);
            if (k < 0) {
                i++;
                continue;
            }
            const tok_added *a = &tok->added[k];
            size_t start = i, stop = end;
            if (a->single_word) {
                bool left_ok = start == 0 || !tok_is_word(tok_utf8_last(s, start));
                bool right_ok = stop == n || !tok_is_word(first_cp(s + stop, n - stop));
                if (!left_ok || !right_ok) {
                    i = end; /* the matcher moves past a discarded match, as HF's does */
                    continue;
                }
            }
            if (a->lstrip) {
                while (start > done) {
                    size_t p = start - 1;
                    while (p > done && ((unsigned char)s[p] & 0xC0) == 0x80)
                        p--;
                    if (!tok_is_space(first_cp(s + p, start - p)))
                        break;
                    start = p;
                }
            }
            if (a->rstrip) {
                while (stop < n) {
                    int l = tok_utf8_len((const unsigned char *)s + stop, n - stop);
                    if (!l || !tok_is_space(tok_utf8_decode((const unsigned char *)s + stop, l)))
                        break;
                    stop += (size_t)l;
                }
            }
            if (done < start && !segs_push(out, done, start, -1))
                return false;
            if (!segs_push(out, start, stop, a->id))
                return false;
            done = stop;
            i = stop;
        }
    }
    if (done < n && !segs_push(out, done, n, -1))
        return false;
    return true;
}
