/* libFuzzer target: the GGUF reader on arbitrary bytes must return an error or a consistent
 * file, never crash or read out of bounds (run under ASan). */
#include <stdint.h>

#include "engine/io/gguf.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfd(data, size, path, sizeof path);
    if (fd < 0)
        return 0;
    tb_gguf *g;
    tb_error err;
    if (tb_gguf_open(&g, path, &err) == TB_OK) {
        /* Touch every byte the reader hands out: ASan catches a bad span. */
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < tb_gguf_tensor_count(g); i++) {
            const tb_gguf_tensor *t = tb_gguf_tensor_at(g, i);
            const uint8_t *p = t->data;
            for (uint64_t k = 0; k < t->bytes; k++)
                sink ^= p[k];
            if (tb_gguf_find_tensor(g, t->name) != t)
                __builtin_trap();
        }
        for (size_t i = 0; i < tb_gguf_kv_count(g); i++) {
            const tb_gguf_kv *kv = tb_gguf_kv_at(g, i);
            if (tb_gguf_find_kv(g, kv->key) != kv)
                __builtin_trap();
            if (kv->type == TB_GGUF_STRING)
                for (uint64_t k = 0; k < kv->len; k++)
                    sink ^= (uint8_t)kv->str[k];
            if (kv->type == TB_GGUF_ARRAY && kv->arr_data) {
                const uint8_t *p = kv->arr_data;
                sink ^= kv->arr_n ? p[0] : 0;
            }
            if (kv->type == TB_GGUF_ARRAY && kv->arr_str)
                for (uint64_t k = 0; k < kv->arr_n; k++)
                    sink ^= kv->arr_str_len[k] ? (uint8_t)kv->arr_str[k][kv->arr_str_len[k] - 1] : 0;
        }
        (void)sink;
        tb_gguf_close(g);
    }
    close(fd);
    return 0;
}
