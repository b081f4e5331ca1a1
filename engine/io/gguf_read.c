/* tunebench — GGUF reader: the whole file mapped read-only, parsed with a bounds-checked
 * cursor, every count and length checked against the bytes that remain before anything is
 * allocated for it (a 40-byte file cannot ask for 2^60 tensors). Layout: engine/io/gguf.h. */
#include "engine/io/gguf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct kv_store {
    tb_gguf_kv pub;           /* first: tb_gguf_kv_at hands out &store->pub */
    char *key, *str;
    char **arr_str;
    uint64_t *arr_len;
} kv_store;

typedef struct tensor_store {
    tb_gguf_tensor pub;
    char *name;
} tensor_store;

struct tb_gguf {
    char *path;
    void *map;
    size_t len;
    uint32_t version, alignment;
    uint64_t data_off;
    kv_store *kv;
    size_t n_kv;
    tensor_store *t;
    size_t n_t;
    size_t *kv_by_key, *t_by_name; /* indices sorted by name, for bsearch */
};

/* ------------------------------------------------------------------ cursor */

typedef struct cur {
    const uint8_t *p;
    size_t len, pos;
    const char *path;
    tb_error *err;
} cur;

static bool take(cur *c, uint64_t n, const uint8_t **out)
{
    if (n > c->len - c->pos)
        return false;
    *out = c->p + c->pos;
    c->pos += (size_t)n;
    return true;
}

static uint64_t le(const uint8_t *b, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static bool get_uint(cur *c, int n, uint64_t *v)
{
    const uint8_t *b;
    if (!take(c, (uint64_t)n, &b))
        return false;
    *v = le(b, n);
    return true;
}

static tb_status past_end(cur *c, const char *field, const char *what)
{
    return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, field,
                        "%s at byte %zu runs past the end of the file (%zu bytes)", what, c->pos, c->len);
}

/* A GGUF string: u64 length, then the bytes. Copied NUL-terminated into *out (malloc'd). */
static tb_status get_string(cur *c, char **out, uint64_t *n, const char *field, const char *what)
{
    uint64_t len;
    const uint8_t *b;
    if (!get_uint(c, 8, &len) || !take(c, len, &b))
        return past_end(c, field, what);
    *out = malloc((size_t)len + 1);
    if (!*out)
        return tb_error_set(c->err, TB_ERR_NOMEM, c->path, 0, field, "out of memory");
    memcpy(*out, b, (size_t)len);
    (*out)[len] = '\0';
    if (n)
        *n = len;
    return TB_OK;
}

/* Bytes of one fixed-size value; 0 for string / array / unknown. */
static int scalar_size(uint32_t t)
{
    switch (t) {
    case TB_GGUF_UINT8: case TB_GGUF_INT8: case TB_GGUF_BOOL: return 1;
    case TB_GGUF_UINT16: case TB_GGUF_INT16: return 2;
    case TB_GGUF_UINT32: case TB_GGUF_INT32: case TB_GGUF_FLOAT32: return 4;
    case TB_GGUF_UINT64: case TB_GGUF_INT64: case TB_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

static void set_scalar(tb_gguf_kv *kv, uint32_t t, uint64_t raw)
{
    int bits = scalar_size(t) * 8;
    switch (t) {
    case TB_GGUF_INT8: case TB_GGUF_INT16: case TB_GGUF_INT32: case TB_GGUF_INT64: {
        uint64_t sign = 1ull << (bits - 1);
        kv->i = bits == 64 ? (int64_t)raw : (int64_t)((raw ^ sign) - sign);
        kv->f = (double)kv->i;
        break;
    }
    case TB_GGUF_FLOAT32: {
        uint32_t u = (uint32_t)raw;
        float f;
        memcpy(&f, &u, sizeof f);
        kv->f = f;
        break;
    }
    case TB_GGUF_FLOAT64: memcpy(&kv->f, &raw, sizeof kv->f); break;
    default: kv->u = raw; kv->f = (double)raw; break;
    }
}

/* ------------------------------------------------------------------ key/value pairs */

static bool key_ok(const char *k, uint64_t n)
{
    if (n == 0 || n > 65535)
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (k[i] < 0x20 || k[i] > 0x7e)
            return false;
    return true;
}

static tb_status read_array(cur *c, kv_store *s)
{
    const char *key = s->key;
    uint64_t et, n;
    if (!get_uint(c, 4, &et) || !get_uint(c, 8, &n))
        return past_end(c, key, "array header");
    if (et == TB_GGUF_ARRAY)
        return tb_error_set(c->err, TB_ERR_UNSUPPORTED, c->path, 0, key, "arrays of arrays are not supported");
    if (et >= TB_GGUF_TYPE_COUNT)
        return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, key, "unknown array element type %llu",
                            (unsigned long long)et);
    s->pub.arr_type = (tb_gguf_type)et;
    s->pub.arr_n = n;
    int sz = scalar_size((uint32_t)et);
    if (sz) {
        const uint8_t *b;
        if (n > (c->len - c->pos) / (uint64_t)sz || !take(c, n * (uint64_t)sz, &b))
            return past_end(c, key, "array data");
        if (et == TB_GGUF_BOOL)
            for (uint64_t i = 0; i < n; i++)
                if (b[i] > 1)
                    return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, key, "bool element %llu is %u, not 0 or 1",
                                        (unsigned long long)i, b[i]);
        s->pub.arr_data = b;
        return TB_OK;
    }
    /* strings: each needs at least its 8-byte length */
    if (n > (c->len - c->pos) / 8)
        return past_end(c, key, "array of strings");
    s->arr_str = calloc(n ? n : 1, sizeof *s->arr_str);
    s->arr_len = calloc(n ? n : 1, sizeof *s->arr_len);
    if (!s->arr_str || !s->arr_len)
        return tb_error_set(c->err, TB_ERR_NOMEM, c->path, 0, key, "out of memory");
    for (uint64_t i = 0; i < n; i++) {
        tb_status st = get_string(c, &s->arr_str[i], &s->arr_len[i], key, "array string");
        if (st != TB_OK)
            return st;
    }
    s->pub.arr_str = (const char *const *)s->arr_str;
    s->pub.arr_str_len = s->arr_len;
    return TB_OK;
}

static tb_status read_kv(cur *c, kv_store *s, uint64_t index)
{
    char what[64];
    snprintf(what, sizeof what, "key %llu", (unsigned long long)index);
    uint64_t klen;
    tb_status st = get_string(c, &s->key, &klen, NULL, what);
    if (st != TB_OK)
        return st;
    s->pub.key = s->key;
    if (!key_ok(s->key, klen))
        return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, NULL,
                            "%s: a key must be 1 to 65535 bytes of printable ASCII", what);
    uint64_t t;
    if (!get_uint(c, 4, &t))
        return past_end(c, s->key, "value type");
    if (t >= TB_GGUF_TYPE_COUNT)
        return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, s->key, "unknown value type %llu", (unsigned long long)t);
    s->pub.type = (tb_gguf_type)t;
    if (t == TB_GGUF_STRING) {
        if ((st = get_string(c, &s->str, &s->pub.len, s->key, "string value")) != TB_OK)
            return st;
        s->pub.str = s->str;
        return TB_OK;
    }
    if (t == TB_GGUF_ARRAY)
        return read_array(c, s);
    uint64_t raw;
    if (!get_uint(c, scalar_size((uint32_t)t), &raw))
        return past_end(c, s->key, "value");
    if (t == TB_GGUF_BOOL && raw > 1)
        return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, s->key, "bool value is %llu, not 0 or 1",
                            (unsigned long long)raw);
    set_scalar(&s->pub, (uint32_t)t, raw);
    return TB_OK;
}

/* ------------------------------------------------------------------ tensor infos */

static tb_status read_tensor(cur *c, tensor_store *s, uint64_t index)
{
    char what[64];
    snprintf(what, sizeof what, "tensor %llu name", (unsigned long long)index);
    uint64_t nlen;
    tb_status st = get_string(c, &s->name, &nlen, NULL, what);
    if (st != TB_OK)
        return st;
    tb_gguf_tensor *t = &s->pub;
    t->name = s->name;
    if (nlen == 0 || nlen >= TB_GGUF_MAX_NAME || strlen(s->name) != nlen)
        return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, NULL,
                            "tensor %llu: a name must be 1 to %d bytes without NULs", (unsigned long long)index,
                            TB_GGUF_MAX_NAME - 1);
    uint64_t nd, ty, off;
    if (!get_uint(c, 4, &nd))
        return past_end(c, t->name, "dimension count");
    if (nd < 1 || nd > TB_GGUF_MAX_DIMS)
        return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, t->name, "%llu dimensions (1 to %d allowed)",
                            (unsigned long long)nd, TB_GGUF_MAX_DIMS);
    t->n_dims = (uint32_t)nd;
    for (int d = 0; d < TB_GGUF_MAX_DIMS; d++)
        t->ne[d] = 1;
    uint64_t count = 1;
    bool overflow = false;
    for (uint64_t d = 0; d < nd; d++) {
        uint64_t v;
        if (!get_uint(c, 8, &v))
            return past_end(c, t->name, "dimensions");
        if (v > (uint64_t)INT64_MAX)
            return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, t->name, "ne[%llu] = %llu is negative as int64",
                                (unsigned long long)d, (unsigned long long)v);
        t->ne[d] = (int64_t)v;
        if (v && count > UINT64_MAX / v)
            overflow = true;
        count *= v;
    }
    if (!get_uint(c, 4, &ty) || !get_uint(c, 8, &off))
        return past_end(c, t->name, "type and offset");
    uint32_t block, bbytes;
    if (ty > UINT32_MAX || !tb_ggml_type_layout((uint32_t)ty, &block, &bbytes))
        return tb_error_set(c->err, TB_ERR_UNSUPPORTED, c->path, 0, t->name, "unknown ggml type %llu",
                            (unsigned long long)ty);
    t->type = (uint32_t)ty;
    if (t->ne[0] % block)
        return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, t->name,
                            "ne[0] = %lld is not a multiple of %s's block of %u", (long long)t->ne[0],
                            tb_ggml_type_name(t->type), block);
    uint64_t blocks = count / block;
    if (overflow || (blocks && bbytes > UINT64_MAX / blocks))
        return tb_error_set(c->err, TB_ERR_FORMAT, c->path, 0, t->name, "dimensions overflow 64 bits");
    t->bytes = blocks * bbytes;
    t->offset = off;
    return TB_OK;
}

/* ------------------------------------------------------------------ open */

static int cmp_kv(const void *a, const void *b, void *ctx)
{
    const kv_store *s = ctx;
    return strcmp(s[*(const size_t *)a].key, s[*(const size_t *)b].key);
}

static int cmp_tensor(const void *a, const void *b, void *ctx)
{
    const tensor_store *s = ctx;
    return strcmp(s[*(const size_t *)a].name, s[*(const size_t *)b].name);
}

static int cmp_offset(const void *a, const void *b, void *ctx)
{
    const tensor_store *s = ctx;
    uint64_t x = s[*(const size_t *)a].pub.offset, y = s[*(const size_t *)b].pub.offset;
    return x < y ? -1 : x > y;
}

static tb_status check_alignment(tb_gguf *g, tb_error *err)
{
    g->alignment = TB_GGUF_DEFAULT_ALIGNMENT;
    const tb_gguf_kv *a = tb_gguf_find_kv(g, "general.alignment");
    if (!a)
        return TB_OK;
    if (a->type != TB_GGUF_UINT32)
        return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, "general.alignment", "must be a u32, not %s",
                            tb_gguf_type_name(a->type));
    if (a->u == 0 || (a->u & (a->u - 1)))
        return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, "general.alignment", "%llu is not a power of two",
                            (unsigned long long)a->u);
    g->alignment = (uint32_t)a->u;
    return TB_OK;
}

/* Data section: aligned offsets, inside the file, no two tensors sharing bytes. */
static tb_status place_tensors(tb_gguf *g, size_t *order, tb_error *err)
{
    uint64_t avail = g->len - g->data_off;
    for (size_t i = 0; i < g->n_t; i++) {
        tb_gguf_tensor *t = &g->t[i].pub;
        if (t->offset % g->alignment)
            return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, t->name, "data offset %llu is not a multiple of %u",
                                (unsigned long long)t->offset, g->alignment);
        if (t->offset > avail || t->bytes > avail - t->offset)
            return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, t->name,
                                "data [%llu, +%llu) runs past the end of the file (%llu data bytes)",
                                (unsigned long long)t->offset, (unsigned long long)t->bytes,
                                (unsigned long long)avail);
        t->data = (const uint8_t *)g->map + g->data_off + t->offset;
        order[i] = i;
    }
    qsort_r(order, g->n_t, sizeof *order, cmp_offset, g->t);
    for (size_t i = 1; i < g->n_t; i++) {
        const tb_gguf_tensor *p = &g->t[order[i - 1]].pub, *q = &g->t[order[i]].pub;
        if (p->bytes && q->bytes && p->offset + p->bytes > q->offset)
            return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, q->name, "data overlaps tensor '%s'", p->name);
    }
    return TB_OK;
}

static tb_status parse(tb_gguf *g, tb_error *err)
{
    cur c = {g->map, g->len, 0, g->path, err};
    const uint8_t *magic;
    if (!take(&c, 4, &magic) || memcmp(magic, "GGUF", 4) != 0)
        return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, NULL, "not a GGUF file (the first 4 bytes are not \"GGUF\")");
    uint64_t v, n_t, n_kv;
    if (!get_uint(&c, 4, &v) || !get_uint(&c, 8, &n_t) || !get_uint(&c, 8, &n_kv))
        return past_end(&c, NULL, "header");
    g->version = (uint32_t)v;
    if (v != TB_GGUF_VERSION)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, g->path, 0, NULL, "GGUF version %llu%s (only version 3 is read)",
                            (unsigned long long)v, (v & 0xffff) == 0 ? ", a big-endian file" : "");
    /* Smallest possible records: a kv is 8 + 1 + 4 + 1 bytes, a tensor info 8 + 1 + 4 + 8 + 4 + 8. */
    if (n_kv > (c.len - c.pos) / 14 || n_t > (c.len - c.pos) / 33)
        return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, NULL,
                            "header claims %llu keys and %llu tensors: more than a %zu-byte file can hold",
                            (unsigned long long)n_kv, (unsigned long long)n_t, c.len);
    g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
    g->kv_by_key = calloc(n_kv ? n_kv : 1, sizeof *g->kv_by_key);
    g->t = calloc(n_t ? n_t : 1, sizeof *g->t);
    g->t_by_name = calloc(n_t ? n_t : 1, sizeof *g->t_by_name);
    if (!g->kv || !g->kv_by_key || !g->t || !g->t_by_name)
        return tb_error_set(err, TB_ERR_NOMEM, g->path, 0, NULL, "out of memory");
    tb_status st;
    for (uint64_t i = 0; i < n_kv; i++) {
        g->n_kv = (size_t)i + 1;
        if ((st = read_kv(&c, &g->kv[i], i)) != TB_OK)
            return st;
        g->kv_by_key[i] = (size_t)i;
    }
    qsort_r(g->kv_by_key, g->n_kv, sizeof *g->kv_by_key, cmp_kv, g->kv);
    for (size_t i = 1; i < g->n_kv; i++)
        if (strcmp(g->kv[g->kv_by_key[i - 1]].key, g->kv[g->kv_by_key[i]].key) == 0)
            return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, g->kv[g->kv_by_key[i]].key, "duplicate key");
    if ((st = check_alignment(g, err)) != TB_OK)
        return st;
    for (uint64_t i = 0; i < n_t; i++) {
        g->n_t = (size_t)i + 1;
        if ((st = read_tensor(&c, &g->t[i], i)) != TB_OK)
            return st;
        g->t_by_name[i] = (size_t)i;
    }
    qsort_r(g->t_by_name, g->n_t, sizeof *g->t_by_name, cmp_tensor, g->t);
    for (size_t i = 1; i < g->n_t; i++)
        if (strcmp(g->t[g->t_by_name[i - 1]].name, g->t[g->t_by_name[i]].name) == 0)
            return tb_error_set(err, TB_ERR_FORMAT, g->path, 0, g->t[g->t_by_name[i]].name, "duplicate tensor name");
    uint64_t pad = (g->alignment - c.pos % g->alignment) % g->alignment;
    g->data_off = c.pos + pad;
    if (g->n_t == 0)
        return TB_OK; /* nothing is read past the infos, padding or not */
    if (g->data_off > g->len)
        return past_end(&c, NULL, "padding before the tensor data");
    size_t *order = malloc(g->n_t * sizeof *order);
    if (!order)
        return tb_error_set(err, TB_ERR_NOMEM, g->path, 0, NULL, "out of memory");
    st = place_tensors(g, order, err);
    free(order);
    return st;
}

tb_status tb_gguf_open(tb_gguf **out, const char *path, tb_error *err)
{
    *out = NULL;
    tb_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->path = strdup(path))) {
        free(g);
        return tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory");
    }
    tb_status st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        st = tb_error_set(err, TB_ERR_IO, path, 0, NULL, "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = tb_error_set(err, TB_ERR_IO, path, 0, NULL, "not a regular file");
        goto fail;
    }
    if (sb.st_size < 24) {
        st = tb_error_set(err, TB_ERR_FORMAT, path, 0, NULL, "file is %lld bytes, too short for a GGUF header",
                          (long long)sb.st_size);
        goto fail;
    }
    g->len = (size_t)sb.st_size;
    void *map = mmap(NULL, g->len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        st = tb_error_set(err, TB_ERR_IO, path, 0, NULL, "cannot map: %s", strerror(errno));
        goto fail;
    }
    g->map = map;
    close(fd);
    fd = -1;
    if ((st = parse(g, err)) != TB_OK)
        goto fail;
    *out = g;
    return TB_OK;
fail:
    if (fd >= 0)
        close(fd);
    tb_gguf_close(g);
    return st;
}

void tb_gguf_close(tb_gguf *g)
{
    if (!g)
        return;
    if (g->map)
        munmap(g->map, g->len);
    for (size_t i = 0; g->kv && i < g->n_kv; i++) {
        kv_store *s = &g->kv[i];
        free(s->key);
        free(s->str);
        for (uint64_t k = 0; s->arr_str && k < s->pub.arr_n; k++)
            free(s->arr_str[k]);
        free(s->arr_str);
        free(s->arr_len);
    }
    for (size_t i = 0; g->t && i < g->n_t; i++)
        free(g->t[i].name);
    free(g->kv);
    free(g->kv_by_key);
    free(g->t);
    free(g->t_by_name);
    free(g->path);
    free(g);
}

/* ------------------------------------------------------------------ access */

uint32_t tb_gguf_version(const tb_gguf *g) { return g->version; }
uint32_t tb_gguf_alignment(const tb_gguf *g) { return g->alignment; }
uint64_t tb_gguf_data_offset(const tb_gguf *g) { return g->data_off; }
size_t tb_gguf_kv_count(const tb_gguf *g) { return g->n_kv; }
size_t tb_gguf_tensor_count(const tb_gguf *g) { return g->n_t; }

const tb_gguf_kv *tb_gguf_kv_at(const tb_gguf *g, size_t i) { return i < g->n_kv ? &g->kv[i].pub : NULL; }
const tb_gguf_tensor *tb_gguf_tensor_at(const tb_gguf *g, size_t i) { return i < g->n_t ? &g->t[i].pub : NULL; }

const tb_gguf_kv *tb_gguf_find_kv(const tb_gguf *g, const char *key)
{
    size_t lo = 0, hi = g->n_kv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(key, g->kv[g->kv_by_key[mid]].key);
        if (c == 0)
            return &g->kv[g->kv_by_key[mid]].pub;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const tb_gguf_tensor *tb_gguf_find_tensor(const tb_gguf *g, const char *name)
{
    size_t lo = 0, hi = g->n_t;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, g->t[g->t_by_name[mid]].name);
        if (c == 0)
            return &g->t[g->t_by_name[mid]].pub;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *tb_gguf_get_str(const tb_gguf *g, const char *key)
{
    const tb_gguf_kv *kv = tb_gguf_find_kv(g, key);
    return kv && kv->type == TB_GGUF_STRING ? kv->str : NULL;
}

bool tb_gguf_get_f32(const tb_gguf *g, const char *key, float *out)
{
    const tb_gguf_kv *kv = tb_gguf_find_kv(g, key);
    if (!kv || kv->type != TB_GGUF_FLOAT32)
        return false;
    *out = (float)kv->f;
    return true;
}

bool tb_gguf_get_u32(const tb_gguf *g, const char *key, uint32_t *out)
{
    const tb_gguf_kv *kv = tb_gguf_find_kv(g, key);
    if (!kv || kv->type != TB_GGUF_UINT32)
        return false;
    *out = (uint32_t)kv->u;
    return true;
}
