/* tunebench — GGUF writer: keys and tensor infos in the order they were added, alignment 32,
 * each tensor's data padded with zeros to the alignment (as gguf-py's GGUFWriter and ggml's
 * gguf_write_to_file lay it out). Written through tb_atomic_file. Layout: engine/io/gguf.h. */
#include "engine/io/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"

typedef struct wkv {
    char *key;
    tb_gguf_type type;
    uint64_t raw;            /* scalars, little-endian bits */
    char *str;               /* STRING */
    char **strs;             /* ARRAY of STRING */
    size_t n;
} wkv;

typedef struct wtensor {
    char *name;
    uint32_t type, n_dims;
    int64_t ne[TB_GGUF_MAX_DIMS];
    uint64_t bytes;
    const void *data;
} wtensor;

struct tb_gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
};

tb_status tb_gguf_writer_create(tb_gguf_writer **out, tb_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? TB_OK : tb_fail(err, TB_ERR_NOMEM, "out of memory");
}

void tb_gguf_writer_free(tb_gguf_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].str);
        for (size_t k = 0; w->kv[i].strs && k < w->kv[i].n; k++)
            free(w->kv[i].strs[k]);
        free(w->kv[i].strs);
    }
    for (size_t i = 0; i < w->n_t; i++)
        free(w->t[i].name);
    free(w->kv);
    free(w->t);
    free(w);
}

/* A new entry for key (checked, unique) in *out. */
static tb_status new_kv(tb_gguf_writer *w, const char *key, tb_gguf_type type, wkv **out, tb_error *err)
{
    size_t n = strlen(key);
    bool ok = n > 0 && n <= 65535;
    for (size_t i = 0; ok && i < n; i++)
        ok = key[i] >= 0x20 && key[i] <= 0x7e;
    if (!ok)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, key, "a GGUF key must be 1 to 65535 bytes of printable ASCII");
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[i].key, key) == 0)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, key, "key set twice");
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? 2 * w->cap_kv : 16;
        wkv *g = realloc(w->kv, cap * sizeof *g);
        if (!g)
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        w->kv = g, w->cap_kv = cap;
    }
    wkv *kv = &w->kv[w->n_kv];
    memset(kv, 0, sizeof *kv);
    if (!(kv->key = strdup(key)))
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    kv->type = type;
    w->n_kv++;
    *out = kv;
    return TB_OK;
}

static tb_status set_raw(tb_gguf_writer *w, const char *key, tb_gguf_type type, uint64_t raw, tb_error *err)
{
    wkv *kv;
    tb_status st = new_kv(w, key, type, &kv, err);
    if (st == TB_OK)
        kv->raw = raw;
    return st;
}

tb_status tb_gguf_set_u32(tb_gguf_writer *w, const char *key, uint32_t v, tb_error *err)
{
    return set_raw(w, key, TB_GGUF_UINT32, v, err);
}

tb_status tb_gguf_set_i32(tb_gguf_writer *w, const char *key, int32_t v, tb_error *err)
{
    return set_raw(w, key, TB_GGUF_INT32, (uint32_t)v, err);
}

tb_status tb_gguf_set_u64(tb_gguf_writer *w, const char *key, uint64_t v, tb_error *err)
{
    return set_raw(w, key, TB_GGUF_UINT64, v, err);
}

tb_status tb_gguf_set_bool(tb_gguf_writer *w, const char *key, bool v, tb_error *err)
{
    return set_raw(w, key, TB_GGUF_BOOL, v ? 1 : 0, err);
}

tb_status tb_gguf_set_f32(tb_gguf_writer *w, const char *key, float v, tb_error *err)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return set_raw(w, key, TB_GGUF_FLOAT32, u, err);
}

tb_status tb_gguf_set_str(tb_gguf_writer *w, const char *key, const char *value, tb_error *err)
{
    wkv *kv;
    tb_status st = new_kv(w, key, TB_GGUF_STRING, &kv, err);
    if (st != TB_OK)
        return st;
    if (!(kv->str = strdup(value)))
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    return TB_OK;
}

tb_status tb_gguf_set_str_array(tb_gguf_writer *w, const char *key, const char *const *values, size_t n,
                                tb_error *err)
{
    wkv *kv;
    tb_status st = new_kv(w, key, TB_GGUF_ARRAY, &kv, err);
    if (st != TB_OK)
        return st;
    if (!(kv->strs = calloc(n ? n : 1, sizeof *kv->strs)))
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++, kv->n++)
        if (!(kv->strs[i] = strdup(values[i])))
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    return TB_OK;
}

tb_status tb_gguf_add_tensor(tb_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                             const int64_t *ne, const void *data, tb_error *err)
{
    size_t len = strlen(name);
    if (len == 0 || len >= TB_GGUF_MAX_NAME)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, name, "a GGUF tensor name must be 1 to %d bytes",
                            TB_GGUF_MAX_NAME - 1);
    uint32_t block, bbytes;
    if (!tb_ggml_type_layout(type, &block, &bbytes))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, name, "unknown ggml type %u", type);
    if (n_dims < 1 || n_dims > TB_GGUF_MAX_DIMS)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, name, "%u dimensions (1 to 4)", n_dims);
    uint64_t count = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] < 0 || (ne[d] && count > UINT64_MAX / (uint64_t)ne[d]))
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, name, "bad dimension ne[%u] = %lld", d, (long long)ne[d]);
        count *= (uint64_t)ne[d];
    }
    if (ne[0] % block)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, name, "ne[0] = %lld is not a multiple of the block (%u)",
                            (long long)ne[0], block);
    for (size_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, name, "tensor added twice");
    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? 2 * w->cap_t : 64;
        wtensor *g = realloc(w->t, cap * sizeof *g);
        if (!g)
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        w->t = g, w->cap_t = cap;
    }
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name)))
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < TB_GGUF_MAX_DIMS; d++)
        t->ne[d] = d < n_dims ? ne[d] : 1;
    t->bytes = count / block * bbytes;
    t->data = data;
    w->n_t++;
    return TB_OK;
}

/* ------------------------------------------------------------------ serialization */

static void put_uint(FILE *fp, uint64_t v, int n)
{
    unsigned char b[8];
    for (int i = 0; i < n; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    fwrite(b, 1, (size_t)n, fp);
}

static void put_str(FILE *fp, const char *s)
{
    size_t n = strlen(s);
    put_uint(fp, n, 8);
    fwrite(s, 1, n, fp);
}

static int scalar_bytes(tb_gguf_type t)
{
    return t == TB_GGUF_BOOL ? 1 : t == TB_GGUF_UINT64 ? 8 : 4;
}

static uint64_t pad_to(uint64_t n) { return (TB_GGUF_DEFAULT_ALIGNMENT - n % TB_GGUF_DEFAULT_ALIGNMENT) % TB_GGUF_DEFAULT_ALIGNMENT; }

static void put_zeros(FILE *fp, uint64_t n)
{
    static const unsigned char z[TB_GGUF_DEFAULT_ALIGNMENT];
    fwrite(z, 1, (size_t)n, fp);
}

tb_status tb_gguf_writer_write(const tb_gguf_writer *w, const char *path, tb_error *err)
{
    tb_atomic_file af;
    tb_status st = tb_atomic_file_open(&af, path, err);
    if (st != TB_OK)
        return st;
    FILE *fp = af.fp;
    fwrite("GGUF", 1, 4, fp);
    put_uint(fp, TB_GGUF_VERSION, 4);
    put_uint(fp, w->n_t, 8);
    put_uint(fp, w->n_kv, 8);
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kv[i];
        put_str(fp, kv->key);
        put_uint(fp, kv->type, 4);
        if (kv->type == TB_GGUF_STRING) {
            put_str(fp, kv->str);
        } else if (kv->type == TB_GGUF_ARRAY) {
            put_uint(fp, TB_GGUF_STRING, 4);
            put_uint(fp, kv->n, 8);
            for (size_t k = 0; k < kv->n; k++)
                put_str(fp, kv->strs[k]);
        } else {
            put_uint(fp, kv->raw, scalar_bytes(kv->type));
        }
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        put_str(fp, t->name);
        put_uint(fp, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++)
            put_uint(fp, (uint64_t)t->ne[d], 8);
        put_uint(fp, t->type, 4);
        put_uint(fp, off, 8);
        off += t->bytes + pad_to(t->bytes);
    }
    long pos = ftell(fp);
    if (pos < 0) {
        tb_atomic_file_abort(&af);
        return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "cannot tell the write position");
    }
    put_zeros(fp, pad_to((uint64_t)pos));
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        if (t->bytes && fwrite(t->data, 1, (size_t)t->bytes, fp) != t->bytes)
            break;
        put_zeros(fp, pad_to(t->bytes));
    }
    if (ferror(fp)) {
        tb_atomic_file_abort(&af);
        return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "write failed");
    }
    return tb_atomic_file_commit(&af, err);
}
