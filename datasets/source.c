/* tunebench — buffered byte source for the dataset readers. */
#include "datasets/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK ((size_t)1 << 20) /* read granularity: 1 MiB keeps syscalls rare */

static tb_status skip_bom(tb_source *src, tb_error *err);

static tb_status init_common(tb_source *src, const char *name, tb_error *err)
{
    snprintf(src->name, sizeof src->name, "%s", name);
    /* A small memory block needs no 1 MiB window (fuzzers open thousands a second). */
    src->cap = src->fd < 0 && src->mem_len + 1 < CHUNK ? (src->mem_len + 1 < 4096 ? 4096 : src->mem_len + 1) : CHUNK;
    src->buf = malloc(src->cap);
    if (!src->buf)
        return tb_error_set(err, TB_ERR_NOMEM, name, 0, NULL, "out of memory for the read buffer");
    src->line = 1;
    return skip_bom(src, err);
}

tb_status tb_source_open_file(tb_source *src, const char *path, tb_error *err)
{
    memset(src, 0, sizeof *src);
    src->fd = -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "%s",
                            S_ISDIR(st.st_mode) ? "is a directory, not a dataset file" : "cannot stat");
    }
    src->fd = fd;
    src->size = S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    tb_status s = init_common(src, path, err);
    if (s != TB_OK)
        tb_source_close(src);
    return s;
}

tb_status tb_source_open_mem(tb_source *src, const void *data, size_t len, const char *name, tb_error *err)
{
    memset(src, 0, sizeof *src);
    src->fd = -1;
    src->mem = data;
    src->mem_len = len;
    src->size = (int64_t)len;
    tb_status s = init_common(src, name ? name : "(memory)", err);
    if (s != TB_OK)
        tb_source_close(src);
    return s;
}

void tb_source_close(tb_source *src)
{
    if (src->fd >= 0)
        close(src->fd);
    src->fd = -1;
    free(src->buf);
    src->buf = NULL;
    src->cap = src->start = src->end = 0;
}

/* Read more bytes after end; returns bytes read (0 at end of input). */
static tb_status read_more(tb_source *src, size_t *got, tb_error *err)
{
    *got = 0;
    size_t room = src->cap - src->end;
    if (room == 0 || src->eof)
        return TB_OK;
    if (src->fd < 0) {
        size_t n = src->mem_len - src->mem_pos;
        if (n > room)
            n = room;
        memcpy(src->buf + src->end, src->mem + src->mem_pos, n);
        src->mem_pos += n;
        src->end += n;
        *got = n;
        if (src->mem_pos == src->mem_len)
            src->eof = true;
        return TB_OK;
    }
    for (;;) {
        ssize_t n = read(src->fd, src->buf + src->end, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return tb_error_set(err, TB_ERR_IO, src->name, src->line, NULL, "read failed: %s", strerror(errno));
        if (n == 0)
            src->eof = true;
        src->end += (size_t)n;
        *got = (size_t)n;
        return TB_OK;
    }
}

tb_status tb_source_fill(tb_source *src, size_t want, size_t *avail, tb_error *err)
{
    while (src->end - src->start < want && !src->eof) {
        /* Slide unread bytes to the front before growing. */
        if (src->start > 0 && src->cap - src->end < CHUNK) {
            size_t n = src->end - src->start;
            memmove(src->buf, src->buf + src->start, n);
            src->buf_offset += (int64_t)src->start;
            src->start = 0;
            src->end = n;
        }
        /* Grow when, after sliding, less than a quarter of the window is free. */
        if (src->cap - src->end < src->cap / 4 || src->cap < want) {
            size_t ncap = src->cap * 2;
            while (ncap < want)
                ncap *= 2;
            char *nb = realloc(src->buf, ncap);
            if (!nb)
                return tb_error_set(err, TB_ERR_NOMEM, src->name, src->line, NULL,
                                    "out of memory growing the read buffer to %zu MiB", ncap >> 20);
            src->buf = nb;
            src->cap = ncap;
        }
        size_t got;
        tb_status s = read_more(src, &got, err);
        if (s != TB_OK)
            return s;
    }
    if (avail)
        *avail = src->end - src->start;
    return TB_OK;
}

void tb_source_consume(tb_source *src, size_t n)
{
    const char *p = src->buf + src->start, *e = p + n;
    while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
        src->line++;
        p++;
    }
    src->start += n;
}

static tb_status skip_bom(tb_source *src, tb_error *err)
{
    size_t avail;
    tb_status s = tb_source_fill(src, 4, &avail, err);
    if (s != TB_OK)
        return s;
    const unsigned char *p = (const unsigned char *)tb_source_peek(src);
    if (avail >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        src->start += 3;
        src->had_bom = true;
    } else if (avail >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
        return tb_error_set(err, TB_ERR_FORMAT, src->name, 1, NULL,
                            "the file is UTF-16; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)");
    }
    return TB_OK;
}

tb_status tb_source_seek(tb_source *src, int64_t offset, long line, tb_error *err)
{
    if (src->fd >= 0) {
        if (lseek(src->fd, (off_t)offset, SEEK_SET) < 0)
            return tb_error_set(err, TB_ERR_IO, src->name, line, NULL, "seek failed: %s", strerror(errno));
    } else {
        if (offset < 0 || (size_t)offset > src->mem_len)
            return tb_error_set(err, TB_ERR_INVALID, src->name, line, NULL, "offset %lld is past the end",
                                (long long)offset);
        src->mem_pos = (size_t)offset;
    }
    src->start = src->end = 0;
    src->buf_offset = offset;
    src->line = line;
    src->eof = false;
    return TB_OK;
}

tb_status tb_source_read_line(tb_source *src, tb_line *line, tb_error *err)
{
    *line = (tb_line){.lineno = src->line, .offset = tb_source_offset(src)};
    size_t scanned = 0;
    for (;;) {
        char *p = tb_source_peek(src);
        size_t avail = tb_source_avail(src);
        char *nl = memchr(p + scanned, '\n', avail - scanned);
        if (nl) {
            size_t n = (size_t)(nl - p);
            line->crlf = n > 0 && p[n - 1] == '\r';
            line->text = p;
            line->len = line->crlf ? n - 1 : n;
            src->start += n + 1;
            src->line++;
            return TB_OK;
        }
        scanned = avail;
        if (src->eof) {
            if (avail == 0)
                return TB_OK;
            line->text = p;
            line->len = avail;
            src->start = src->end;
            return TB_OK;
        }
        if (avail >= TB_SOURCE_MAX_RECORD) {
            /* Too long to hold: skip to the next newline without keeping the bytes. */
            size_t total = avail;
            src->start = src->end;
            for (;;) {
                size_t got;
                tb_status s = tb_source_fill(src, 1, &got, err);
                if (s != TB_OK)
                    return s;
                if (got == 0)
                    break;
                char *q = memchr(tb_source_peek(src), '\n', got);
                if (q) {
                    size_t n = (size_t)(q - tb_source_peek(src));
                    total += n;
                    src->start += n + 1;
                    src->line++;
                    break;
                }
                total += got;
                src->start = src->end;
            }
            line->too_long = true;
            line->len = total;
            return TB_OK;
        }
        size_t want = avail + (avail < CHUNK ? CHUNK : avail);
        tb_status s = tb_source_fill(src, want, NULL, err);
        if (s != TB_OK)
            return s;
    }
}

tb_status tb_source_head(tb_source *src, size_t want, const char **head, size_t *len, tb_error *err)
{
    size_t avail;
    tb_status s = tb_source_fill(src, want, &avail, err);
    if (s != TB_OK)
        return s;
    *head = tb_source_peek(src);
    *len = avail < want ? avail : want;
    return TB_OK;
}

double tb_source_progress(const tb_source *src)
{
    if (src->size <= 0)
        return 0;
    double p = (double)tb_source_offset(src) / (double)src->size;
    return p > 1 ? 1 : p;
}
