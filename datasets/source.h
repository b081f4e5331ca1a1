/* tunebench — a buffered byte source over a file or a memory block, for the dataset readers.
 *
 * Streaming is the point: a 1 GB file is read through a window that grows only to the
 * largest single record (a line, a JSON array element), so memory follows records, not the
 * file. The source counts newlines as bytes are consumed, so every record knows its line.
 * The window is writable: readers repair invalid UTF-8 in place before parsing. */
#ifndef TB_DATASETS_SOURCE_H
#define TB_DATASETS_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"

/* Lines longer than this are skipped with a finding instead of growing the window further. */
#define TB_SOURCE_MAX_RECORD ((size_t)256 << 20)

typedef struct tb_source {
    int fd;                 /* -1 for a memory source */
    const char *mem;        /* memory source (not owned) */
    size_t mem_len, mem_pos;
    char name[512];         /* path, or a label for memory sources; used in messages */
    char *buf;              /* window: bytes [start, end) are unread */
    size_t cap, start, end;
    int64_t buf_offset;     /* file offset of buf[0] */
    int64_t size;           /* total bytes, -1 when unknown (pipes) */
    long line;              /* 1-based line of buf[start] */
    bool eof;               /* nothing more to read beyond end */
    bool had_bom;           /* a UTF-8 byte order mark was skipped */
} tb_source;

/* Open a file ("-" is not special). Fails with TB_ERR_IO naming the file. */
tb_status tb_source_open_file(tb_source *src, const char *path, tb_error *err);
/* A memory block of len bytes that outlives the source; name labels messages. */
tb_status tb_source_open_mem(tb_source *src, const void *data, size_t len, const char *name, tb_error *err);
void tb_source_close(tb_source *src); /* safe on a zeroed or closed source */

/* Rewind to a byte offset known to start a line (a record's offset), with its line number. */
tb_status tb_source_seek(tb_source *src, int64_t offset, long line, tb_error *err);

/* Make at least `want` unread bytes available (fewer only at end of input). Grows the window
 * when needed. Returns the available count via *avail. */
tb_status tb_source_fill(tb_source *src, size_t want, size_t *avail, tb_error *err);

static inline char *tb_source_peek(tb_source *src) { return src->buf + src->start; }
static inline size_t tb_source_avail(const tb_source *src) { return src->end - src->start; }
static inline int64_t tb_source_offset(const tb_source *src) { return src->buf_offset + (int64_t)src->start; }

/* Consume n bytes (n <= avail), counting their newlines. */
void tb_source_consume(tb_source *src, size_t n);

/* One line of the input, without its terminator ("\n" or "\r\n"). */
typedef struct tb_line {
    char *text;        /* into the window: valid until the next read; NULL at the end of input */
    size_t len;
    long lineno;       /* 1-based */
    int64_t offset;    /* of its first byte */
    bool crlf;         /* it ended with \r\n */
    bool too_long;     /* over TB_SOURCE_MAX_RECORD: consumed, text NULL, len its length */
} tb_line;

tb_status tb_source_read_line(tb_source *src, tb_line *line, tb_error *err);

/* First bytes of the input (after a BOM), for format sniffing; does not consume. */
tb_status tb_source_head(tb_source *src, size_t want, const char **head, size_t *len, tb_error *err);

/* Fraction of the input consumed, for progress bars; 0 when the size is unknown. */
double tb_source_progress(const tb_source *src);

#endif
