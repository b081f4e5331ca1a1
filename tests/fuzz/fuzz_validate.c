/* tunebench fuzz — the whole validator (sniffing, every check, statistics, the JSON report)
 * over one input; the bytes reach it as a file through a memfd. */
#include <jansson.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        tb_validate_opts o;
        tb_validate_opts_init(&o);
        o.path = path;
        o.max_tokens = 64;
        tb_report rep;
        tb_error err;
        if (tb_validate(&o, &rep, &err) == TB_OK) {
            json_t *j = tb_report_to_json(&rep);
            json_decref(j);
        }
        tb_report_free(&rep);
    }
    close(fd);
    return 0;
}
