/* tunebench — safetensors: mmap'd zero-copy reader and atomic writer.
 *
 * Reader: the whole file is mapped read-only; tensor data pointers point into the mapping.
 * Validation follows the reference reader (huggingface/safetensors tensor.rs
 * read_metadata/validate): header length in range and <= 100 MB, UTF-8 JSON object starting
 * with '{', dtypes known, shape x dtype size == span, spans contiguous from 0 with no holes
 * or overlaps, last end == data buffer size.
 *
 * Writer: byte-identical to the reference `prepare` + `serialize`: tensors sorted by dtype
 * alignment descending (the reference Dtype enum order), then by name; offsets assigned in
 * that order; compact JSON with "__metadata__" first and per-tensor keys dtype, shape,
 * data_offsets; header padded with spaces to a multiple of 8. */
#include "engine/io/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/core/fs.h"

struct tb_safetensors {
    char *path;
    void *map;                  /* whole file, mapped read-only */
    size_t map_len;
    tb_st_tensor *tensors;      /* (n) ordered by data offset */
    size_t n;
    size_t *by_name;            /* (n) indices into tensors, sorted by name, for bsearch */
    char **names;               /* (n) owned name strings; tensors[i].name points at one */
    char **meta;                /* (2 * n_meta) key, value, ... */
    size_t n_meta;
};

/* ------------------------------------------------------------------ reader */

static int cmp_offset(const void *a, const void *b)
{
    const tb_st_tensor *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_name_index(const void *a, const void *b, void *ctx)
{
    const tb_st_tensor *t = ctx;
    return strcmp(t[*(const size_t *)a].name, t[*(const size_t *)b].name);
}

static tb_status parse_metadata(tb_safetensors *st, json_t *meta, tb_error *err)
{
    if (!json_is_object(meta))
        return tb_error_set(err, TB_ERR_FORMAT, st->path, 0, "__metadata__", "must be an object of strings");
    size_t n = json_object_size(meta);
    st->meta = calloc(2 * n + 1, sizeof *st->meta);
    if (!st->meta)
        return tb_error_set(err, TB_ERR_NOMEM, st->path, 0, NULL, "out of memory reading the header");
    const char *key;
    json_t *v;
    json_object_foreach(meta, key, v) {
        if (!json_is_string(v))
            return tb_error_set(err, TB_ERR_FORMAT, st->path, 0, "__metadata__",
                                "value of '%s' must be a string", key);
        st->meta[2 * st->n_meta] = strdup(key);
        st->meta[2 * st->n_meta + 1] = strdup(json_string_value(v));
        st->n_meta++;
        if (!st->meta[2 * st->n_meta - 2] || !st->meta[2 * st->n_meta - 1])
            return tb_error_set(err, TB_ERR_NOMEM, st->path, 0, NULL, "out of memory reading the header");
    }
    return TB_OK;
}

/* One tensor entry: {"dtype":..., "shape":[...], "data_offsets":[b, e]}. */
static tb_status parse_tensor(tb_safetensors *st, tb_st_tensor *t, const char *name, json_t *info,
                              tb_error *err)
{
#define BAD(...) tb_error_set(err, TB_ERR_FORMAT, st->path, 0, name, __VA_ARGS__)
    if (!json_is_object(info))
        return BAD("tensor entry must be an object");
    const char *dt = json_string_value(json_object_get(info, "dtype"));
    if (!dt)
        return BAD("missing \"dtype\"");
    if (!tb_dtype_parse(dt, &t->dtype))
        return tb_error_set(err, TB_ERR_UNSUPPORTED, st->path, 0, name, "dtype '%s' is not supported", dt);
    json_t *shape = json_object_get(info, "shape");
    if (!json_is_array(shape))
        return BAD("missing \"shape\" array");
    if (json_array_size(shape) > TB_ST_MAX_DIMS)
        return BAD("%zu dimensions (at most %d supported)", json_array_size(shape), TB_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(shape);
    uint64_t count = 1;
    bool overflow = false;
    for (int d = 0; d < t->ndim; d++) {
        json_t *v = json_array_get(shape, (size_t)d);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return BAD("shape[%d] must be a non-negative integer", d);
        t->shape[d] = json_integer_value(v);
        uint64_t dim = (uint64_t)t->shape[d];
        if (dim && count > UINT64_MAX / dim)
            overflow = true;
        count *= dim;
    }
    json_t *off = json_object_get(info, "data_offsets");
    json_t *b = json_array_get(off, 0), *e = json_array_get(off, 1);
    if (!json_is_array(off) || json_array_size(off) != 2 || !json_is_integer(b) || !json_is_integer(e) ||
        json_integer_value(b) < 0 || json_integer_value(e) < 0)
        return BAD("\"data_offsets\" must be [begin, end] with non-negative integers");
    t->begin = (uint64_t)json_integer_value(b);
    t->end = (uint64_t)json_integer_value(e);
    if (t->end < t->begin)
        return BAD("data_offsets [%llu, %llu] end before begin", (unsigned long long)t->begin,
                   (unsigned long long)t->end);
    size_t esize = tb_dtype_size(t->dtype);
    if (overflow || (count && esize > UINT64_MAX / count))
        return BAD("shape is too large (element count overflows)");
    if (count * esize != t->end - t->begin)
        return BAD("shape x dtype size is %llu bytes but data_offsets span %llu",
                   (unsigned long long)(count * esize), (unsigned long long)(t->end - t->begin));
    char *copy = strdup(name);
    st->names[st->n] = copy;
    t->name = copy;
    return copy ? TB_OK : tb_error_set(err, TB_ERR_NOMEM, st->path, 0, NULL, "out of memory");
#undef BAD
}

static tb_status parse_header(tb_safetensors *st, const char *text, size_t len, uint64_t data_len, tb_error *err)
{
    if (len == 0 || text[0] != '{')
        return tb_error_set(err, TB_ERR_FORMAT, st->path, 0, NULL, "header does not start with '{' (not a safetensors file?)");
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return tb_error_set(err, TB_ERR_FORMAT, st->path, 0, NULL, "header is not valid JSON: %s (at byte %d)",
                            jerr.text, jerr.position);
    tb_status s = TB_OK;
    if (!json_is_object(root)) {
        s = tb_error_set(err, TB_ERR_FORMAT, st->path, 0, NULL, "header is not a JSON object");
        goto done;
    }
    size_t n = json_object_size(root);
    st->tensors = calloc(n + 1, sizeof *st->tensors);
    st->by_name = calloc(n + 1, sizeof *st->by_name);
    st->names = calloc(n + 1, sizeof *st->names);
    if (!st->tensors || !st->by_name || !st->names) {
        s = tb_error_set(err, TB_ERR_NOMEM, st->path, 0, NULL, "out of memory reading the header");
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0)
            s = parse_metadata(st, v, err);
        else if ((s = parse_tensor(st, &st->tensors[st->n], key, v, err)) == TB_OK)
            st->n++;
        if (s != TB_OK)
            goto done;
    }
    /* Spans must tile [0, data_len) exactly: sorted by begin, each starts where the last ended. */
    qsort(st->tensors, st->n, sizeof *st->tensors, cmp_offset);
    uint64_t at = 0;
    for (size_t i = 0; i < st->n; i++) {
        tb_st_tensor *t = &st->tensors[i];
        if (t->begin != at) {
            s = tb_error_set(err, TB_ERR_FORMAT, st->path, 0, t->name,
                             t->begin < at ? "data_offsets [%llu, %llu] overlap the previous tensor (ends at %llu)"
                                           : "data_offsets [%llu, %llu] leave a hole after the previous tensor (ends at %llu)",
                             (unsigned long long)t->begin, (unsigned long long)t->end, (unsigned long long)at);
            goto done;
        }
        if (t->end > data_len) {
            s = tb_error_set(err, TB_ERR_FORMAT, st->path, 0, t->name,
                             "data_offsets end %llu is past the data buffer (%llu bytes; file truncated?)",
                             (unsigned long long)t->end, (unsigned long long)data_len);
            goto done;
        }
        at = t->end;
    }
    if (at != data_len) {
        s = tb_error_set(err, TB_ERR_FORMAT, st->path, 0, NULL,
                         "tensors cover %llu bytes but the data buffer holds %llu (trailing bytes)",
                         (unsigned long long)at, (unsigned long long)data_len);
        goto done;
    }
    for (size_t i = 0; i < st->n; i++)
        st->by_name[i] = i;
    qsort_r(st->by_name, st->n, sizeof *st->by_name, cmp_name_index, st->tensors);
done:
    json_decref(root);
    return s;
}

tb_status tb_safetensors_open(tb_safetensors **out, const char *path, tb_error *err)
{
    *out = NULL;
    tb_safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory");
    }
    tb_status s = TB_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0) {
        s = tb_error_set(err, TB_ERR_IO, path, 0, NULL, "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        s = tb_error_set(err, TB_ERR_IO, path, 0, NULL, "not a regular file");
        goto fail;
    }
    if (sb.st_size < 8) {
        s = tb_error_set(err, TB_ERR_FORMAT, path, 0, NULL, "file is %lld bytes, too short for a safetensors header",
                         (long long)sb.st_size);
        goto fail;
    }
    st->map_len = (size_t)sb.st_size;
    void *map = mmap(NULL, st->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        st->map_len = 0;
        s = tb_error_set(err, TB_ERR_IO, path, 0, NULL, "cannot map: %s", strerror(errno));
        goto fail;
    }
    st->map = map;
    close(fd);
    fd = -1;
    uint64_t hlen = 0;
    const unsigned char *bytes = st->map;
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | bytes[i];
    if (hlen > TB_ST_MAX_HEADER) {
        s = tb_error_set(err, TB_ERR_FORMAT, path, 0, NULL, "header length %llu exceeds the 100 MB limit",
                         (unsigned long long)hlen);
        goto fail;
    }
    if (hlen > st->map_len - 8) {
        s = tb_error_set(err, TB_ERR_FORMAT, path, 0, NULL, "header length %llu runs past the end of the file (%zu bytes)",
                         (unsigned long long)hlen, st->map_len);
        goto fail;
    }
    if ((s = parse_header(st, (const char *)bytes + 8, (size_t)hlen, st->map_len - 8 - hlen, err)) != TB_OK)
        goto fail;
    const unsigned char *data = bytes + 8 + hlen;
    for (size_t i = 0; i < st->n; i++)
        st->tensors[i].data = data + st->tensors[i].begin;
    *out = st;
    return TB_OK;
fail:
    if (fd >= 0)
        close(fd);
    tb_safetensors_close(st);
    return s;
}

void tb_safetensors_close(tb_safetensors *st)
{
    if (!st)
        return;
    if (st->map)
        munmap(st->map, st->map_len);
    for (size_t i = 0; st->names && i < st->n; i++)
        free(st->names[i]);
    free(st->names);
    for (size_t i = 0; i < 2 * st->n_meta; i++)
        free(st->meta[i]);
    free(st->meta);
    free(st->tensors);
    free(st->by_name);
    free(st->path);
    free(st);
}

size_t tb_safetensors_count(const tb_safetensors *st) { return st->n; }
const char *tb_safetensors_path(const tb_safetensors *st) { return st->path; }

const tb_st_tensor *tb_safetensors_at(const tb_safetensors *st, size_t i)
{
    return i < st->n ? &st->tensors[i] : NULL;
}

const tb_st_tensor *tb_safetensors_find(const tb_safetensors *st, const char *name)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, st->tensors[st->by_name[mid]].name);
        if (c == 0)
            return &st->tensors[st->by_name[mid]];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *tb_safetensors_metadata(const tb_safetensors *st, const char *key)
{
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta[2 * i], key) == 0)
            return st->meta[2 * i + 1];
    return NULL;
}

/* ------------------------------------------------------------------ writer */

/* Position of a dtype in the reference `Dtype` enum (declared "in increasing alignment
 * order"); the writer sorts by it descending. F8 variants sit between I8 and I16 there and
 * are absent here, which leaves the relative order of the others unchanged. */
static int dtype_rank(tb_dtype t)
{
    switch (t) {
    case TB_DTYPE_BOOL: return 0;
    case TB_DTYPE_U8: return 1;
    case TB_DTYPE_I8: return 2;
    case TB_DTYPE_I16: return 5;
    case TB_DTYPE_U16: return 6;
    case TB_DTYPE_F16: return 7;
    case TB_DTYPE_BF16: return 8;
    case TB_DTYPE_I32: return 9;
    case TB_DTYPE_U32: return 10;
    case TB_DTYPE_F32: return 11;
    case TB_DTYPE_F64: return 12;
    case TB_DTYPE_I64: return 13;
    case TB_DTYPE_U64: return 14;
    default: return -1;
    }
}

typedef struct write_sort_ctx {
    const tb_st_write *w;
} write_sort_ctx;

static int cmp_write(const void *a, const void *b, void *ctx)
{
    const tb_st_write *w = ((const write_sort_ctx *)ctx)->w;
    const tb_st_write *x = &w[*(const size_t *)a], *y = &w[*(const size_t *)b];
    int rx = dtype_rank(x->dtype), ry = dtype_rank(y->dtype);
    if (rx != ry)
        return ry - rx;
    return strcmp(x->name, y->name); /* Rust String Ord: bytewise, as strcmp */
}

static int cmp_meta(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcmp(x[0], y[0]);
}

static uint64_t write_bytes(const tb_st_write *t)
{
    uint64_t count = 1;
    for (int d = 0; d < t->ndim; d++)
        count *= (uint64_t)t->shape[d];
    return count * tb_dtype_size(t->dtype);
}

/* The header JSON, padded, and the write order. Returns TB_OK and fills *hdr (malloc'd,
 * *hlen bytes, a multiple of 8) and order[n]. */
static tb_status build_header(const tb_st_write *tensors, size_t n, const char *const *meta, size_t n_meta,
                              size_t *order, char **hdr, size_t *hlen, uint64_t *data_len, const char *path,
                              tb_error *err)
{
    *hdr = NULL;
    for (size_t i = 0; i < n; i++) {
        const tb_st_write *t = &tensors[i];
        if (!t->name || dtype_rank(t->dtype) < 0 || t->ndim < 0 || t->ndim > TB_ST_MAX_DIMS)
            return tb_error_set(err, TB_ERR_INVALID, path, 0, t->name,
                                "cannot write: missing name, dtype %s or %d dimensions", tb_dtype_name(t->dtype), t->ndim);
        if (strcmp(t->name, "__metadata__") == 0)
            return tb_error_set(err, TB_ERR_INVALID, path, 0, t->name, "reserved name");
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0)
                return tb_error_set(err, TB_ERR_INVALID, path, 0, t->name, "negative dimension");
        order[i] = i;
    }
    write_sort_ctx ctx = {tensors};
    qsort_r(order, n, sizeof *order, cmp_write, &ctx);

    json_t *root = json_object();
    tb_status s = TB_OK;
    if (n_meta) {
        /* The reference keeps metadata in a HashMap (unordered); sorting by key makes our
         * output deterministic and equal to theirs for the usual single {"format": "pt"}. */
        const char **sorted = malloc(2 * n_meta * sizeof *sorted);
        json_t *m = json_object();
        if (!sorted || !m) {
            free(sorted);
            json_decref(m);
            json_decref(root);
            return tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory");
        }
        memcpy(sorted, meta, 2 * n_meta * sizeof *sorted);
        qsort(sorted, n_meta, 2 * sizeof *sorted, cmp_meta);
        for (size_t i = 0; i < n_meta && s == TB_OK; i++) {
            json_t *v = json_string(sorted[2 * i + 1]);
            if (!sorted[2 * i] || !v || json_object_set_new(m, sorted[2 * i], v) != 0)
                s = tb_error_set(err, TB_ERR_INVALID, path, 0, "__metadata__",
                                 "metadata key/value is missing or not valid UTF-8");
        }
        free(sorted);
        json_object_set_new(root, "__metadata__", m);
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n && s == TB_OK; i++) {
        const tb_st_write *t = &tensors[order[i]];
        uint64_t len = write_bytes(t);
        json_t *shape = json_array();
        for (int d = 0; d < t->ndim; d++)
            json_array_append_new(shape, json_integer(t->shape[d]));
        if (json_object_get(root, t->name)) {
            json_decref(shape);
            s = tb_error_set(err, TB_ERR_INVALID, path, 0, t->name, "duplicate tensor name");
            break;
        }
        json_t *info = json_pack("{s:s, s:o, s:[I, I]}", "dtype", tb_dtype_name(t->dtype), "shape", shape,
                                 "data_offsets", (json_int_t)off, (json_int_t)(off + len));
        if (!info || json_object_set_new(root, t->name, info) != 0)
            s = tb_error_set(err, TB_ERR_INVALID, path, 0, t->name, "tensor name is not valid UTF-8");
        off += len;
    }
    *data_len = off;
    if (s == TB_OK) {
        char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (!text) {
            s = tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory");
        } else {
            size_t len = strlen(text), padded = (len + 7) / 8 * 8;
            *hdr = malloc(padded);
            if (*hdr) {
                memcpy(*hdr, text, len);
                memset(*hdr + len, ' ', padded - len);
                *hlen = padded;
            } else {
                s = tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory");
            }
            free(text);
        }
    }
    json_decref(root);
    return s;
}

tb_status tb_safetensors_write(const char *path, const tb_st_write *tensors, size_t n, const char *const *meta,
                               size_t n_meta, tb_error *err)
{
    size_t *order = malloc((n + 1) * sizeof *order);
    if (!order)
        return tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory");
    char *hdr;
    size_t hlen = 0;
    uint64_t data_len;
    tb_status s = build_header(tensors, n, meta, n_meta, order, &hdr, &hlen, &data_len, path, err);
    if (s != TB_OK) {
        free(order);
        return s;
    }
    tb_atomic_file af;
    if ((s = tb_atomic_file_open(&af, path, err)) != TB_OK)
        goto done;
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    bool ok = fwrite(len8, 1, 8, af.fp) == 8 && fwrite(hdr, 1, hlen, af.fp) == hlen;
    for (size_t i = 0; i < n && ok; i++) {
        const tb_st_write *t = &tensors[order[i]];
        size_t len = (size_t)write_bytes(t);
        if (len && !t->data) {
            tb_atomic_file_abort(&af);
            s = tb_error_set(err, TB_ERR_INVALID, path, 0, t->name, "no data given");
            goto done;
        }
        ok = !len || fwrite(t->data, 1, len, af.fp) == len;
    }
    if (!ok) {
        int saved = errno;
        tb_atomic_file_abort(&af);
        s = tb_error_set(err, TB_ERR_IO, path, 0, NULL, "write failed: %s", strerror(saved));
        goto done;
    }
    s = tb_atomic_file_commit(&af, err);
done:
    free(hdr);
    free(order);
    return s;
}

uint64_t tb_safetensors_file_size(const tb_st_write *tensors, size_t n, const char *const *meta, size_t n_meta)
{
    size_t *order = malloc((n + 1) * sizeof *order);
    char *hdr = NULL;
    size_t hlen = 0;
    uint64_t data_len = 0, size = 0;
    if (order && build_header(tensors, n, meta, n_meta, order, &hdr, &hlen, &data_len, NULL, NULL) == TB_OK)
        size = 8 + hlen + data_len;
    free(hdr);
    free(order);
    return size;
}

void tb_safetensors_release(const tb_st_tensor *t)
{
    long page = sysconf(_SC_PAGESIZE);
    if (!t || !t->data || page <= 0)
        return;
    uintptr_t lo = ((uintptr_t)t->data + (uintptr_t)page - 1) & ~((uintptr_t)page - 1);
    uintptr_t hi = ((uintptr_t)t->data + (uintptr_t)(t->end - t->begin)) & ~((uintptr_t)page - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED); /* advice only: a failure changes nothing */
}
