/* tunebench — status codes and the error record every library function fills.
 *
 * STYLE.md rule 5: library code returns a tb_status and fills a tb_error; only main()
 * exits. The error names the file, line and field so a person can act on it. */
#ifndef TB_CORE_ERROR_H
#define TB_CORE_ERROR_H

#include <stddef.h>

typedef enum tb_status {
    TB_OK = 0,
    TB_ERR_IO,          /* open/read/write/rename failed */
    TB_ERR_FORMAT,      /* input is not what it claims to be (bad JSON, bad header) */
    TB_ERR_INVALID,     /* a value is out of range or inconsistent (bad flag, bad config) */
    TB_ERR_UNSUPPORTED, /* valid input we deliberately do not handle (MoE, sliding window) */
    TB_ERR_NOMEM,       /* allocation failed, host or device */
    TB_ERR_DEVICE,      /* GPU / driver failure */
    TB_ERR_NUMERIC,     /* NaN/Inf where a finite number is required */
    TB_ERR_CANCELLED,   /* stopped on request (SIGINT, UI stop) */
} tb_status;

typedef struct tb_error {
    tb_status status;
    char file[512];     /* path the problem is in, "" when none */
    long line;          /* 1-based line (or record) number, 0 when none */
    char field[128];    /* field / tensor / flag name, "" when none */
    char message[768];  /* what is wrong and, where we know it, what to do */
} tb_error;

/* Clear err (may be NULL). */
void tb_error_clear(tb_error *err);

/* Fill err (may be NULL) and return st. file/field may be NULL. */
tb_status tb_error_set(tb_error *err, tb_status st, const char *file, long line,
                       const char *field, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Shorthand when only a message is known. */
#define tb_fail(err, st, ...) tb_error_set((err), (st), NULL, 0, NULL, __VA_ARGS__)

/* "file:line: field: message" with the empty parts left out. Returns buf. */
const char *tb_error_format(const tb_error *err, char *buf, size_t size);

/* Short name of a status ("io error", "format error", ...). */
const char *tb_status_name(tb_status st);

#endif
