/* tunebench fuzz — the jsonl reader (TB_FORMAT_JSONL). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader(data, size, TB_FORMAT_JSONL);
    return 0;
}
