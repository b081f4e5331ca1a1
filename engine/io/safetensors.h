/* tunebench — safetensors: mmap'd zero-copy reader and atomic writer.
 *
 * Format facts: ../shared/reference/FORMATS.md ("safetensors"). The writer produces the
 * same bytes as the reference Python/Rust `safetensors.save_file` (compact JSON header,
 * "__metadata__" first, tensors ordered as the reference orders them, header padded with
 * spaces to a multiple of 8), so a size computed here equals the size of a file PEFT
 * writes. tb_safetensors_file_size() computes that size without writing; the calculator
 * (engine/plan) uses it for exact adapter sizes.
 *
 * CONTRACT HEADER: written before its implementation so that the calculator, the engine and
 * the adapters agree on one API. Implemented in engine/io/safetensors.c. */
#ifndef TB_IO_SAFETENSORS_H
#define TB_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/core/dtype.h"
#include "engine/core/error.h"

#define TB_ST_MAX_DIMS 8
#define TB_ST_MAX_HEADER 100000000u /* reference limit: header at most 100 MB */

typedef struct tb_st_tensor {
    const char *name;               /* owned by the file object */
    tb_dtype dtype;
    int ndim;
    int64_t shape[TB_ST_MAX_DIMS];
    uint64_t begin, end;            /* data_offsets, relative to the data buffer */
    const void *data;               /* reader: points into the mapping (read-only) */
} tb_st_tensor;

typedef struct tb_safetensors tb_safetensors; /* an open, validated, mmap'd file */

/* Open and validate (header length within the file and <= 100 MB, JSON object, dtypes
 * known, shape x dtype size == span, offsets in range, no overlaps, buffer fully covered).
 * Errors name the file and, where there is one, the tensor (err->field). */
tb_status tb_safetensors_open(tb_safetensors **out, const char *path, tb_error *err);
void tb_safetensors_close(tb_safetensors *st);   /* NULL is fine */

size_t tb_safetensors_count(const tb_safetensors *st);
const tb_st_tensor *tb_safetensors_at(const tb_safetensors *st, size_t i);
const tb_st_tensor *tb_safetensors_find(const tb_safetensors *st, const char *name); /* NULL if absent */
const char *tb_safetensors_metadata(const tb_safetensors *st, const char *key);     /* NULL if absent */
const char *tb_safetensors_path(const tb_safetensors *st);

/* A tensor's mapped bytes are not needed for now: the whole pages inside t's data are
 * dropped from the process (madvise MADV_DONTNEED on the read-only mapping); reading them
 * again faults them back in from the file. Quantize-at-load calls it after each weight so
 * the full-precision weights are never resident together. */
void tb_safetensors_release(const tb_st_tensor *t);

/* One tensor to write. `data` may be NULL for tb_safetensors_file_size. */
typedef struct tb_st_write {
    const char *name;
    tb_dtype dtype;
    int ndim;
    int64_t shape[TB_ST_MAX_DIMS];
    const void *data;               /* shape-product * dtype-size bytes */
} tb_st_write;

/* Metadata as key/value pairs: meta[0] key, meta[1] value, ..., n_meta pairs. */
tb_status tb_safetensors_write(const char *path, const tb_st_write *tensors, size_t n, const char *const *meta,
                               size_t n_meta, tb_error *err);
/* Exact size in bytes of the file tb_safetensors_write would produce. */
uint64_t tb_safetensors_file_size(const tb_st_write *tensors, size_t n, const char *const *meta, size_t n_meta);

#endif
