/* tunebench — pre-tokenizers (HF src/pre_tokenizers/): split a segment into pieces that BPE
 * sees one at a time. Steps run depth-first: each piece of step k goes through step k+1
 * before the next piece of step k, so no list of all pieces of a long text is kept.
 *
 * Splitting follows HF's NormalizedString::split: the pattern's matches and the gaps
 * between them cover the piece; `invert` swaps which is which; the behavior decides what
 * happens to matches (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous);
 * empty pieces are dropped. */
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tok_internal.h"

enum { MAX_DEPTH = 16 };

typedef struct range {
    size_t a, b;
    bool match;
} range;

typedef struct ranges {
    range *v;
    size_t n, cap;
} ranges;

typedef struct pt_ctx {
    const tb_tokenizer *tok;
    tok_piece_fn emit;
    void *emit_ctx;
    ranges scratch[MAX_DEPTH];
    pcre2_match_data *md;
    tok_arena arena; /* rewritten text (Metaspace, prefix spaces) */
    bool failed;
} pt_ctx;

static bool ranges_push(ranges *r, size_t a, size_t b, bool match)
{
    if (!tok_grow((void **)&r->v, &r->cap, r->n + 1, sizeof *r->v))
        return false;
    r->v[r->n++] = (range){a, b, match};
    return true;
}

/* Matches of re in s[0..n) and the gaps between them (HF Pattern::find_matches). */
static bool find_matches(pt_ctx *c, const pcre2_code *re, const char *s, size_t n, ranges *out)
{
    out->n = 0;
    size_t prev = 0, pos = 0;
    while (pos <= n) {
        int rc = pcre2_match(re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, c->md, NULL);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT) /* the interpreter keeps its frames on the heap */
            rc = pcre2_match(re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, c->md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0)
            return false;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
        size_t ms = ov[0], me = ov[1];
        if (prev != ms && !ranges_push(out, prev, ms, false))
            return false;
        if (!ranges_push(out, ms, me, true))
            return false;
        prev = me;
        if (me > ms) {
            pos = me;
        } else { /* empty match: step over one char so the search moves on */
            if (me >= n)
                break;
            int l = tok_utf8_len((const unsigned char *)s + me, n - me);
            pos = me + (size_t)(l ? l : 1);
        }
    }
    if (prev != n && !ranges_push(out, prev, n, false))
        return false;
    return true;
}

/* Literal one-char delimiter (Metaspace). */
static bool find_char(const char *s, size_t n, const char *ch, size_t cl, ranges *out)
{
    out->n = 0;
    size_t prev = 0;
    for (size_t i = 0; i + cl <= n;) {
        if (memcmp(s + i, ch, cl) == 0) {
            if (prev != i && !ranges_push(out, prev, i, false))
                return false;
            if (!ranges_push(out, i, i + cl, true))
                return false;
            i += cl;
            prev = i;
        } else
            i++;
    }
    if (prev != n && !ranges_push(out, prev, n, false))
        return false;
    return true;
}

/* Rewrites r in place into the kept pieces (match flag reused as "keep"). */
static void apply_behavior(ranges *r, tok_split_behavior beh, bool invert)
{
    if (invert)
        for (size_t i = 0; i < r->n; i++)
            r->v[i].match = !r->v[i].match;
    size_t o = 0;
    bool prev_match = false;
    switch (beh) {
    case TOK_SPLIT_ISOLATED:
        for (size_t i = 0; i < r->n; i++)
            r->v[i].match = true;
        return;
    case TOK_SPLIT_REMOVED:
        for (size_t i = 0; i < r->n; i++)
            if (!r->v[i].match)
                r->v[o++] = (range){r->v[i].a, r->v[i].b, true};
        r->n = o;
        return;
    case TOK_SPLIT_MERGED_PREV:
    case TOK_SPLIT_CONTIGUOUS:
        for (size_t i = 0; i < r->n; i++) {
            range x = r->v[i];
            /* MergedWithPrevious: a match joins the piece before it (unless that is a match
             * too); Contiguous: neighbours of the same kind join. */
            bool join = o > 0 && (beh == TOK_SPLIT_MERGED_PREV ? x.match && !prev_match : x.match == prev_match);
            if (join)
                r->v[o - 1].b = x.b;
            else
                r->v[o++] = (range){x.a, x.b, true};
            prev_match = x.match;
        }
        r->n = o;
        return;
    case TOK_SPLIT_MERGED_NEXT: {
        /* Walk backwards: a match joins the piece after it unless that one is a match too. */
        size_t w = r->n; /* output grows downward from the end */
        for (size_t i = r->n; i-- > 0;) {
            range x = r->v[i];
            if (x.match && !prev_match && w < r->n)
                r->v[w].a = x.a;
            else
                r->v[--w] = (range){x.a, x.b, true};
            prev_match = x.match;
        }
        memmove(r->v, r->v + w, (r->n - w) * sizeof *r->v);
        r->n -= w;
        return;
    }
    }
}

static void run_step(pt_ctx *c, size_t k, const char *s, size_t n, bool at_start);

static void run_ranges(pt_ctx *c, size_t k, const char *s, ranges *r, bool at_start)
{
    for (size_t i = 0; i < r->n && !c->failed; i++)
        if (r->v[i].b > r->v[i].a)
            run_step(c, k + 1, s + r->v[i].a, r->v[i].b - r->v[i].a, at_start && r->v[i].a == 0);
}

static char *prepend(pt_ctx *c, const char *pre, size_t pl, const char *s, size_t n)
{
    char *d = tok_arena_alloc(&c->arena, pl + n);
    if (d) {
        memcpy(d, pre, pl);
        memcpy(d + pl, s, n);
    }
    return d;
}

static void run_step(pt_ctx *c, size_t k, const char *s, size_t n, bool at_start)
{
    if (k == c->tok->n_pres) {
        if (!c->emit(c->emit_ctx, s, n))
            c->failed = true;
        return;
    }
    const tok_pre *st = &c->tok->pres[k];
    ranges *r = &c->scratch[k];
    switch (st->kind) {
    case TOK_PRE_SPLIT:
        if (!find_matches(c, st->re, s, n, r)) {
            c->failed = true;
            return;
        }
        apply_behavior(r, st->behavior, st->invert);
        break;
    case TOK_PRE_BYTELEVEL:
        if (st->add_prefix_space && s[0] != ' ') {
            s = prepend(c, " ", 1, s, n);
            if (!s) {
                c->failed = true;
                return;
            }
            n++;
        }
        if (!st->re) {
            run_step(c, k + 1, s, n, at_start);
            return;
        }
        if (!find_matches(c, st->re, s, n, r)) {
            c->failed = true;
            return;
        }
        apply_behavior(r, TOK_SPLIT_ISOLATED, false);
        break;
    case TOK_PRE_METASPACE: {
        size_t rl = (size_t)st->repl_len, spaces = 0;
        for (size_t i = 0; i < n; i++)
            spaces += s[i] == ' ';
        bool pre = st->prepend == TOK_PREPEND_ALWAYS || (st->prepend == TOK_PREPEND_FIRST && at_start);
        /* HF tests "starts with the replacement" after spaces became replacements. */
        if (pre && (s[0] == ' ' || (n >= rl && memcmp(s, st->repl, rl) == 0)))
            pre = false;
        if (spaces || pre) {
            char *d = tok_arena_alloc(&c->arena, n + spaces * rl + rl);
            if (!d) {
                c->failed = true;
                return;
            }
            size_t o = 0;
            if (pre) {
                memcpy(d, st->repl, rl);
                o = rl;
            }
            for (size_t i = 0; i < n; i++) {
                if (s[i] == ' ') {
                    memcpy(d + o, st->repl, rl);
                    o += rl;
                } else
                    d[o++] = s[i];
            }
            s = d;
            n = o;
        }
        if (!st->split) {
            run_step(c, k + 1, s, n, at_start);
            return;
        }
        if (!find_char(s, n, st->repl, rl, r)) {
            c->failed = true;
            return;
        }
        apply_behavior(r, TOK_SPLIT_MERGED_NEXT, false);
        break;
    }
    }
    /* Recursion reuses scratch[k] only after this loop, so iterating it here is safe. */
    run_ranges(c, k, s, r, at_start);
}

bool tok_pretokenize(const tb_tokenizer *tok, const char *s, size_t n, bool at_start, tok_piece_fn emit, void *ctx)
{
    if (!n)
        return true;
    if (!tok->n_pres)
        return emit(ctx, s, n);
    if (tok->n_pres > MAX_DEPTH)
        return false;
    pt_ctx c;
    memset(&c, 0, sizeof c);
    c.tok = tok;
    c.emit = emit;
    c.emit_ctx = ctx;
    c.md = pcre2_match_data_create(1, NULL);
    if (!c.md)
        return false;
    run_step(&c, 0, s, n, at_start);
    pcre2_match_data_free(c.md);
    for (size_t i = 0; i < MAX_DEPTH; i++)
        free(c.scratch[i].v);
    tok_arena_free(&c.arena);
    return !c.failed;
}
