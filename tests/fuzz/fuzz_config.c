/* libFuzzer target: config.json parsing on arbitrary bytes never crashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    tb_llama_config cfg;
    tb_error err;
    tb_llama_config_parse(&cfg, text, "fuzz/config.json", &err);
    free(text);
    return 0;
}
