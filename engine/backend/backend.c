/* tunebench — choose a backend by name. */
#include "engine/backend/backend.h"

#include <stdio.h>
#include <string.h>

#include "engine/backend/cpu/cpu.h"
#include "tb_config.h"

tb_status tb_backend_create(tb_backend **out, const char *name, const tb_backend_options *opt, char *notice,
                            size_t notice_size, tb_error *err)
{
    *out = NULL;
    if (notice && notice_size)
        notice[0] = '\0';
    tb_backend_options defaults = {.threads = 0, .precision = TB_PRECISION_F32, .device = -1};
    if (!opt)
        opt = &defaults;
    if (!name || strcmp(name, "cpu") == 0)
        return tb_cpu_backend_create(out, opt, err);
    /* The Vulkan backend (engine/backend/vulkan) registers here when it is built. */
    if (strcmp(name, "vulkan") == 0)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "--backend",
                            "this build has no Vulkan backend (use --backend cpu)");
    if (strcmp(name, "auto") == 0) {
        if (notice && notice_size)
            snprintf(notice, notice_size, "using the CPU: this build has no Vulkan backend");
        return tb_cpu_backend_create(out, opt, err);
    }
    return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--backend", "unknown backend '%s' (cpu, vulkan, auto)", name);
}

void tb_backend_destroy(tb_backend *be)
{
    if (be)
        be->ops->destroy(be);
}
