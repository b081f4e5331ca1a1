/* libFuzzer target: the safetensors reader on arbitrary bytes must return an error or a
 * consistent file, never crash or read out of bounds (run under ASan). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz.safetensors", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    tb_safetensors *st;
    tb_error err;
    if (tb_safetensors_open(&st, path, &err) == TB_OK) {
        /* Touch every byte the reader claims is tensor data: ASan catches a bad span. */
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < tb_safetensors_count(st); i++) {
            const tb_st_tensor *t = tb_safetensors_at(st, i);
            const uint8_t *p = t->data;
            for (uint64_t k = 0; k < t->end - t->begin; k++)
                sink ^= p[k];
            if (tb_safetensors_find(st, t->name) != t)
                __builtin_trap();
        }
        (void)sink;
        tb_safetensors_metadata(st, "format");
        tb_safetensors_close(st);
    }
    close(fd);
    return 0;
}
