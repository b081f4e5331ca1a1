/* tunebench — tokenizer helpers: growable buffers, a block arena, UTF-8, the byte-level
 * alphabet. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "engine/tokenizer/tok_internal.h"

/* ---- buffers ----------------------------------------------------------------------- */

bool tok_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

bool tok_ids_push(tok_ids *a, int32_t id)
{
    if (a->n == a->cap && !tok_grow((void **)&a->v, &a->cap, a->n + 1, sizeof *a->v))
        return false;
    a->v[a->n++] = id;
    return true;
}

bool tok_ids_append(tok_ids *a, const int32_t *ids, size_t n)
{
    if (!n)
        return true;
    if (!tok_grow((void **)&a->v, &a->cap, a->n + n, sizeof *a->v))
        return false;
    memcpy(a->v + a->n, ids, n * sizeof *ids);
    a->n += n;
    return true;
}

bool tok_buf_append(tok_buf *b, const void *data, size_t n)
{
    /* +1 keeps room for a terminating NUL that callers may add. */
    if (!tok_grow((void **)&b->p, &b->cap, b->n + n + 1, 1))
        return false;
    if (n)
        memcpy(b->p + b->n, data, n);
    b->n += n;
    return true;
}

/* ---- arena ------------------------------------------------------------------------- */

struct tok_arena_block {
    tok_arena_block *next;
    size_t used, cap;
    char data[];
};

char *tok_arena_alloc(tok_arena *a, size_t n)
{
    tok_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > (1u << 16) ? n : (1u << 16); /* below malloc's mmap threshold */
        b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

void tok_arena_free(tok_arena *a)
{
    tok_arena_block *b = a->head;
    while (b) {
        tok_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}

/* ---- UTF-8 ------------------------------------------------------------------------- */

int tok_utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    /* Unicode Table 3-7: well-formed byte sequences (no overlongs, surrogates, > U+10FFFF). */
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (avail < 3)
            return 0;
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (avail < 4)
            return 0;
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
    }
    return 0;
}

uint32_t tok_utf8_decode(const unsigned char *s, int len)
{
    switch (len) {
    case 1: return s[0];
    case 2: return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    case 3: return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    default:
        return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
               ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
    }
}

int tok_utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Length of the maximal prefix of an ill-formed sequence at s that is still a prefix of some
 * well-formed one (at least 1): that prefix becomes one U+FFFD (Unicode "best practice"). */
static size_t invalid_prefix(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    int need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else
        return 1;
    size_t i = 1;
    if (i < avail && s[i] >= lo && s[i] <= hi) {
        i++;
        while ((int)i <= need && i < avail && (s[i] & 0xC0) == 0x80)
            i++;
    }
    return i;
}

bool tok_utf8_sanitize(const char *s, size_t n, char **out, size_t *out_n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int l = tok_utf8_len(u + i, n - i);
        if (!l)
            break;
        i += (size_t)l;
    }
    if (i == n)
        return false;
    /* Worst case: every byte becomes 3 bytes of U+FFFD. */
    char *d = malloc(3 * n + 1);
    if (!d) {
        *out = NULL;
        *out_n = 0;
        return true;
    }
    memcpy(d, s, i);
    size_t o = i;
    while (i < n) {
        int l = tok_utf8_len(u + i, n - i);
        if (l) {
            memcpy(d + o, s + i, (size_t)l);
            o += (size_t)l;
            i += (size_t)l;
        } else {
            memcpy(d + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i += invalid_prefix(u + i, n - i);
        }
    }
    d[o] = '\0';
    *out = d;
    *out_n = o;
    return true;
}

bool tok_is_space(uint32_t cp)
{
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

bool tok_is_word(uint32_t cp)
{
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
        return true;
    default:
        return cp == 0x200C || cp == 0x200D; /* Join_Control */
    }
}

uint32_t tok_utf8_last(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = n - 1;
    while (i > 0 && (u[i] & 0xC0) == 0x80 && n - i < 4)
        i--;
    int l = tok_utf8_len(u + i, n - i);
    return l ? tok_utf8_decode(u + i, l) : 0xFFFD;
}

/* ---- byte-level alphabet (GPT-2 bytes_to_unicode) ---------------------------------- */

static bool printable_byte(unsigned b)
{
    return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
}

/* The 68 bytes that are not printable map in increasing order to U+0100 + n:
 * 0x00-0x20 → n 0..32, 0x7F-0xA0 → n 33..66, 0xAD → n 67. */
uint32_t tok_bytelevel_cp(unsigned char b)
{
    if (printable_byte(b))
        return b;
    if (b <= 0x20)
        return 0x100u + b;
    if (b <= 0xA0)
        return 0x100u + 33 + (b - 0x7Fu);
    return 0x100u + 67;
}

int tok_bytelevel_byte(uint32_t cp)
{
    if (cp < 0x100)
        return printable_byte(cp) ? (int)cp : -1;
    if (cp >= 0x100 + 68)
        return -1;
    uint32_t n = cp - 0x100;
    return n < 33 ? (int)n : n < 67 ? (int)(0x7F + n - 33) : 0xAD;
}

bool tok_bytelevel_to_raw(const char *s, size_t n, tok_buf *out)
{
    const unsigned char *u = (const unsigned char *)s;
    out->n = 0;
    for (size_t i = 0; i < n;) {
        int l = tok_utf8_len(u + i, n - i);
        if (!l)
            return false;
        int b = tok_bytelevel_byte(tok_utf8_decode(u + i, l));
        if (b < 0)
            return false;
        unsigned char c = (unsigned char)b;
        if (!tok_buf_append(out, &c, 1))
            return false;
        i += (size_t)l;
    }
    return true;
}
