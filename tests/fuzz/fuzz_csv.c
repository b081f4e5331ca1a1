/* tunebench fuzz — the csv reader (TB_FORMAT_CSV). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader(data, size, TB_FORMAT_CSV);
    return 0;
}
