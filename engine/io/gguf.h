/* tunebench — GGUF v3 files (ggml / llama.cpp): a strict mmap'd reader and an atomic writer.
 *
 * Format (ggml docs/gguf.md, ggml/include/gguf.h), little-endian throughout:
 *   "GGUF" u32 version=3, u64 n_tensors, u64 n_kv,
 *   n_kv x  { string key, u32 type, value }          string = u64 length + bytes (no NUL)
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
 *   padding to the alignment, then the tensor data; every offset is relative to the start of
 *   the data and a multiple of the alignment (general.alignment, u32, default 32).
 * ne[] is in ggml order: ne[0] is the fastest-varying (contiguous) dimension, i.e. the
 * reversed torch shape (a torch [out, in] matrix is ne = {in, out}).
 *
 * The reader refuses anything malformed with a message naming the file and the key or
 * tensor: wrong magic or version, counts or lengths running past the file, unknown value or
 * tensor types, nested arrays, duplicate keys or tensor names, bad alignment, misaligned or
 * overlapping or out-of-file tensor data, dimension products that overflow. It never reads
 * outside the mapping (fuzzed: tests/fuzz/fuzz_gguf.c). */
#ifndef TB_IO_GGUF_H
#define TB_IO_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"

#define TB_GGUF_VERSION 3
#define TB_GGUF_DEFAULT_ALIGNMENT 32
#define TB_GGUF_MAX_DIMS 4   /* GGML_MAX_DIMS */
#define TB_GGUF_MAX_NAME 64  /* GGML_MAX_NAME, including the NUL: names are at most 63 bytes */

/* Metadata value types (gguf_type). */
typedef enum tb_gguf_type {
    TB_GGUF_UINT8 = 0,
    TB_GGUF_INT8 = 1,
    TB_GGUF_UINT16 = 2,
    TB_GGUF_INT16 = 3,
    TB_GGUF_UINT32 = 4,
    TB_GGUF_INT32 = 5,
    TB_GGUF_FLOAT32 = 6,
    TB_GGUF_BOOL = 7,
    TB_GGUF_STRING = 8,
    TB_GGUF_ARRAY = 9,
    TB_GGUF_UINT64 = 10,
    TB_GGUF_INT64 = 11,
    TB_GGUF_FLOAT64 = 12,
    TB_GGUF_TYPE_COUNT
} tb_gguf_type;

/* Tensor element types (ggml_type ids; the ones whose block layout we know). */
typedef enum tb_ggml_type {
    TB_GGML_F32 = 0,
    TB_GGML_F16 = 1,
    TB_GGML_Q4_0 = 2,
    TB_GGML_Q4_1 = 3,
    TB_GGML_Q5_0 = 6,
    TB_GGML_Q5_1 = 7,
    TB_GGML_Q8_0 = 8,
    TB_GGML_Q8_1 = 9,
    TB_GGML_Q2_K = 10,
    TB_GGML_Q3_K = 11,
    TB_GGML_Q4_K = 12,
    TB_GGML_Q5_K = 13,
    TB_GGML_Q6_K = 14,
    TB_GGML_Q8_K = 15,
    TB_GGML_I8 = 24,
    TB_GGML_I16 = 25,
    TB_GGML_I32 = 26,
    TB_GGML_I64 = 27,
    TB_GGML_F64 = 28,
    TB_GGML_BF16 = 30,
} tb_ggml_type;

const char *tb_gguf_type_name(tb_gguf_type t);     /* "f32", "string", ...; "?" when unknown */
const char *tb_ggml_type_name(uint32_t t);         /* "F32", "Q8_0", ...; NULL when unknown */
/* Elements per block and bytes per block; false for an unknown type. */
bool tb_ggml_type_layout(uint32_t t, uint32_t *block, uint32_t *block_bytes);

/* ------------------------------------------------------------------ reader */

typedef struct tb_gguf_kv {
    const char *key;          /* NUL-terminated copy (owned by the file object) */
    tb_gguf_type type;
    /* scalars: the value widened (u for unsigned and bool, i for signed, f for floats) */
    uint64_t u;
    int64_t i;
    double f;
    /* STRING: NUL-terminated copy; len excludes the NUL (the string may hold NULs itself) */
    const char *str;
    uint64_t len;
    /* ARRAY: element type and count; fixed-size elements stay in the mapping (little-endian,
     * possibly unaligned: read with memcpy), string elements are copied. */
    tb_gguf_type arr_type;
    uint64_t arr_n;
    const void *arr_data;
    const char *const *arr_str;
    const uint64_t *arr_str_len;
} tb_gguf_kv;

typedef struct tb_gguf_tensor {
    const char *name;         /* owned by the file object */
    uint32_t type;            /* tb_ggml_type */
    uint32_t n_dims;
    int64_t ne[TB_GGUF_MAX_DIMS]; /* ggml order; unused dims are 1 */
    uint64_t offset;          /* relative to the data section */
    uint64_t bytes;
    const void *data;         /* into the mapping (read-only) */
} tb_gguf_tensor;

typedef struct tb_gguf tb_gguf;

tb_status tb_gguf_open(tb_gguf **out, const char *path, tb_error *err);
void tb_gguf_close(tb_gguf *g); /* NULL is fine */

uint32_t tb_gguf_version(const tb_gguf *g);
uint32_t tb_gguf_alignment(const tb_gguf *g);
uint64_t tb_gguf_data_offset(const tb_gguf *g);   /* file offset of the data section */
size_t tb_gguf_kv_count(const tb_gguf *g);
const tb_gguf_kv *tb_gguf_kv_at(const tb_gguf *g, size_t i);        /* file order */
const tb_gguf_kv *tb_gguf_find_kv(const tb_gguf *g, const char *key); /* NULL if absent */
size_t tb_gguf_tensor_count(const tb_gguf *g);
const tb_gguf_tensor *tb_gguf_tensor_at(const tb_gguf *g, size_t i);  /* file order */
const tb_gguf_tensor *tb_gguf_find_tensor(const tb_gguf *g, const char *name);

/* Typed look-ups: NULL / false when the key is absent or has another type. */
const char *tb_gguf_get_str(const tb_gguf *g, const char *key);
bool tb_gguf_get_f32(const tb_gguf *g, const char *key, float *out);
bool tb_gguf_get_u32(const tb_gguf *g, const char *key, uint32_t *out);

/* ------------------------------------------------------------------ writer */

/* Collects keys and tensors, then writes the file in one go. Tensor data is not copied:
 * it must stay valid until tb_gguf_writer_write returns. */
typedef struct tb_gguf_writer tb_gguf_writer;

tb_status tb_gguf_writer_create(tb_gguf_writer **out, tb_error *err);
void tb_gguf_writer_free(tb_gguf_writer *w); /* NULL is fine */

/* Keys must be non-empty printable ASCII and unique (a duplicate is refused). */
tb_status tb_gguf_set_str(tb_gguf_writer *w, const char *key, const char *value, tb_error *err);
tb_status tb_gguf_set_u32(tb_gguf_writer *w, const char *key, uint32_t value, tb_error *err);
tb_status tb_gguf_set_i32(tb_gguf_writer *w, const char *key, int32_t value, tb_error *err);
tb_status tb_gguf_set_u64(tb_gguf_writer *w, const char *key, uint64_t value, tb_error *err);
tb_status tb_gguf_set_f32(tb_gguf_writer *w, const char *key, float value, tb_error *err);
tb_status tb_gguf_set_bool(tb_gguf_writer *w, const char *key, bool value, tb_error *err);
/* An array of n strings. */
tb_status tb_gguf_set_str_array(tb_gguf_writer *w, const char *key, const char *const *values, size_t n,
                                tb_error *err);

/* A tensor: ne in ggml order (n_dims in [1, 4]), type one of the known ggml types, data
 * holding exactly its bytes (ne[0] a multiple of the type's block). Names are unique and at
 * most 63 bytes. */
tb_status tb_gguf_add_tensor(tb_gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                             const int64_t *ne, const void *data, tb_error *err);

/* Write atomically (temp + fsync + rename). Alignment 32; every tensor's data is padded
 * with zeros to it, as gguf-py and ggml write it. */
tb_status tb_gguf_writer_write(const tb_gguf_writer *w, const char *path, tb_error *err);

#endif
