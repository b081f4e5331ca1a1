/* tunebench fuzz — drive one reader over libFuzzer's input, and what a row feeds directly:
 * shapes, the duplicate key, the prompt templates (MinHash and the checks run in
 * fuzz_validate). Any crash, leak, or sanitizer report is a bug; bad input must only ever
 * become findings. */
#ifndef TB_FUZZ_COMMON_H
#define TB_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "datasets/reader.h"
#include "datasets/template.h"
#include "validators/check.h"

static inline void fuzz_reader(const uint8_t *data, size_t size, tb_dataset_format format)
{
    tb_reader *r = NULL;
    tb_error err;
    tb_reader_opts o = {.format = format};
    if (tb_reader_open_mem(&r, data, size, "fuzz", &o, &err) != TB_OK)
        return;
    tb_rendered rend = {0};
    const tb_row *row;
    int n = 0;
    while (tb_reader_next(r, &row, &err) == TB_OK && row && n++ < 10000) {
        uint64_t key;
        (void)tb_row_key(row, &key);
        for (int i = 0; i < row->n_texts; i++)
            (void)tb_is_placeholder_input(row->texts[i].text, row->texts[i].len);
        for (int k = TB_TEMPLATE_AUTO; k <= TB_TEMPLATE_PLAIN; k++)
            (void)tb_template_render((tb_template_kind)k, row, k == TB_TEMPLATE_CHATML, &rend, &err);
    }
    tb_rendered_free(&rend);
    tb_reader_close(r);
}

/* The input as a file the readers can open: a memfd, its path in *path. Returns the fd (close
 * it after), -1 when it cannot be made. */
static inline int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t path_size)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return -1;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    snprintf(path, path_size, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
