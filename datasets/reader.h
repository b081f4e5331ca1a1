/* tunebench — streaming dataset readers: JSONL, JSON arrays, CSV → one tb_row at a time.
 *
 * The format is sniffed from the content unless given; the row shape comes from the first
 * record that parses (or is fixed by the caller). A record that does not parse is still a
 * row (row->parse says why) so the caller reports it and the rest goes on. Memory is the
 * read window (the largest record) plus one parsed record, whatever the file size.
 *
 *   tb_reader *r;
 *   tb_reader_open(&r, "data.jsonl", NULL, &err);
 *   const tb_row *row;
 *   while (tb_reader_next(r, &row, &err) == TB_OK && row) { ... }
 *   tb_reader_close(r); */
#ifndef TB_DATASETS_READER_H
#define TB_DATASETS_READER_H

#include <stdint.h>

#include "datasets/row.h"

typedef struct tb_reader tb_reader;

typedef struct tb_reader_opts {
    tb_dataset_format format;  /* TB_FORMAT_AUTO: sniff */
    tb_row_shape shape;        /* TB_SHAPE_UNKNOWN: from the first parsed record */
    const tb_field_map *map;   /* NULL: canonical names (copied at open) */
} tb_reader_opts;

/* Open and sniff. Fails (TB_ERR_IO / TB_ERR_FORMAT, message naming the file and why) for a
 * missing or unreadable file, an empty file, UTF-16, or content that is no known format.
 * opts may be NULL. The caller frees with tb_reader_close. */
tb_status tb_reader_open(tb_reader **out, const char *path, const tb_reader_opts *opts, tb_error *err);
/* The same over a memory block that outlives the reader (tests, fuzzers). */
tb_status tb_reader_open_mem(tb_reader **out, const void *data, size_t len, const char *name,
                             const tb_reader_opts *opts, tb_error *err);
void tb_reader_close(tb_reader *r); /* NULL is fine */

/* The next row, or *row = NULL at the end. The row and everything it points to stay valid
 * until the next call. Fails only for I/O errors or out of memory. A record that fits no
 * row shape while none is known yet gets a TB_ISSUE_MISSING issue (field "") naming its
 * keys; the first such one is also kept in tb_reader_shape_problem. */
tb_status tb_reader_next(tb_reader *r, const tb_row **row, tb_error *err);

/* Jump to a record read before (its offset, line, CSV record number and row index), so the
 * next tb_reader_next returns it again. Used to show one example out of a large file. */
tb_status tb_reader_seek(tb_reader *r, int64_t offset, long line, long record, long index, tb_error *err);

tb_dataset_format tb_reader_format(const tb_reader *r);
/* "line N: why" for the first row that fit no shape, "" when none. */
const char *tb_reader_shape_problem(const tb_reader *r);
tb_row_shape tb_reader_shape(const tb_reader *r);
double tb_reader_progress(const tb_reader *r);  /* 0..1 of the bytes */
int64_t tb_reader_size(const tb_reader *r);     /* bytes, -1 when unknown */
const char *tb_reader_path(const tb_reader *r);

#endif
