/* tunebench — the error record. */
#include "engine/core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void tb_error_clear(tb_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

tb_status tb_error_set(tb_error *err, tb_status st, const char *file, long line,
                       const char *field, const char *fmt, ...)
{
    if (!err)
        return st;
    err->status = st;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return st;
}

const char *tb_error_format(const tb_error *err, char *buf, size_t size)
{
    if (!size)
        return buf;
    buf[0] = '\0';
    if (!err)
        return buf;
    size_t n = 0;
#define APPEND(...)                                                         \
    do {                                                                    \
        if (n < size) {                                                     \
            int k = snprintf(buf + n, size - n, __VA_ARGS__);               \
            if (k > 0)                                                      \
                n += (size_t)k;                                             \
        }                                                                   \
    } while (0)
    if (err->file[0]) {
        APPEND("%s", err->file);
        if (err->line > 0)
            APPEND(":%ld", err->line);
        APPEND(": ");
    }
    if (err->field[0])
        APPEND("%s: ", err->field);
    APPEND("%s", err->message[0] ? err->message : tb_status_name(err->status));
#undef APPEND
    return buf;
}

const char *tb_status_name(tb_status st)
{
    switch (st) {
    case TB_OK: return "ok";
    case TB_ERR_IO: return "i/o error";
    case TB_ERR_FORMAT: return "format error";
    case TB_ERR_INVALID: return "invalid value";
    case TB_ERR_UNSUPPORTED: return "unsupported";
    case TB_ERR_NOMEM: return "out of memory";
    case TB_ERR_DEVICE: return "device error";
    case TB_ERR_NUMERIC: return "non-finite number";
    case TB_ERR_CANCELLED: return "cancelled";
    }
    return "unknown error";
}
