/* tunebench — the reader's insides, shared by reader.c (sniffing, JSONL, JSON arrays) and
 * csv_reader.c. Not a public header. */
#ifndef TB_DATASETS_READER_IMPL_H
#define TB_DATASETS_READER_IMPL_H

#include <csv.h>

#include "datasets/reader.h"
#include "datasets/source.h"

typedef struct tb_csv_field {
    size_t off, len;  /* into csv_buf */
} tb_csv_field;

struct tb_reader {
    tb_source src;
    char path[4096];
    tb_field_map map;
    bool has_map;
    tb_dataset_format format;
    tb_row_shape shape;
    bool shape_fixed;
    char shape_problem[512]; /* the first row that fit no shape while none was known */
    tb_row row;
    json_t *obj;           /* the current record, freed on the next call */
    long next_index;
    bool done;
    bool produced;         /* this call began a row (start_row / tb_reader_begin_row) */

    /* JSON array */
    bool array_open;

    /* CSV: fields of the record being assembled, header names, finished records */
    struct csv_parser csv;
    bool csv_ready;
    char *csv_buf;         /* field bytes of the current record */
    size_t csv_len, csv_cap;
    tb_csv_field *fields;
    size_t n_fields, cap_fields;
    char **header;
    size_t n_header;
    bool record_done;      /* cb2 fired for the record being assembled */
    bool in_record;        /* bytes of a record have been fed */
    long record_line;      /* line where the record started */
    int64_t record_offset;
    long next_record;
    bool csv_failed;       /* libcsv reported a parse error for this record */
    size_t csv_too_long;   /* the record's line was over TB_SOURCE_MAX_RECORD (its length) */
    void *csv_queue;       /* completed records waiting (csv_reader.c) */
};

/* Begin the row this call returns (CSV uses it too). */
void tb_reader_begin_row(tb_reader *r, long line, int64_t offset, size_t bytes, bool counts);
/* Extract the current object into r->row (shape detected on first use). */
tb_status tb_reader_take_object(tb_reader *r, json_t *obj, tb_error *err);

tb_status tb_csv_open(tb_reader *r, tb_error *err);
tb_status tb_csv_next(tb_reader *r, tb_error *err);
void tb_csv_close(tb_reader *r);
tb_status tb_csv_restart(tb_reader *r, tb_error *err);

#endif
