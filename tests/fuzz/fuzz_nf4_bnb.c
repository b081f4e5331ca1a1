/* libFuzzer target: NF4 loading (bitsandbytes 4-bit layout and quantize-at-load) from an
 * arbitrary safetensors file must return an error or a weight whose every code and scale
 * lies inside the file, never crash or read out of bounds (run under ASan). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/io/safetensors.h"
#include "engine/quant/nf4_bnb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(const tb_nf4 *w)
{
    if (w->n > (1 << 22))
        return;
    float *out = malloc((size_t)w->n * sizeof(float));
    if (!out)
        return;
    tb_nf4_dequant_range(w, 0, w->n, out); /* reads every code and scale */
    free(out);
}

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
        tb_nf4_source src = tb_nf4_source_safetensors(st);
        size_t sl = strlen(TB_NF4_BNB_STATE_SUFFIX);
        for (size_t i = 0; i < tb_safetensors_count(st); i++) {
            const tb_st_tensor *t = tb_safetensors_at(st, i);
            char name[512];
            size_t len = strlen(t->name);
            tb_nf4 w;
            if (len > sl && len - sl < sizeof name && strcmp(t->name + len - sl, TB_NF4_BNB_STATE_SUFFIX) == 0) {
                memcpy(name, t->name, len - sl);
                name[len - sl] = '\0';
                if (tb_nf4_load(&w, src, name, true, &err) == TB_OK) {
                    exercise(&w);
                    tb_nf4_free(&w);
                }
            } else if (tb_nf4_load(&w, src, t->name, (i & 1) != 0, &err) == TB_OK) {
                exercise(&w);
                tb_nf4_free(&w);
            }
        }
        tb_safetensors_close(st);
    }
    close(fd);
    return 0;
}
