/* tunebench — choose a backend by name. */
#include "engine/backend/backend.h"

#include <stdio.h>
#include <string.h>

#include "engine/backend/cpu/cpu.h"
#include "tb_config.h"
#if TB_HAVE_VULKAN
#include "engine/backend/vulkan/vk_backend.h"
#endif

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
#if TB_HAVE_VULKAN
    if (strcmp(name, "vulkan") == 0)
        return tb_vulkan_backend_create(out, opt, err);
    if (strcmp(name, "auto") == 0) {
        /* A GPU when one is usable; else the CPU, and `notice` says why in one line. */
        char why[256];
        tb_status st = tb_vulkan_backend_auto(out, opt, why, sizeof why, err);
        if (st != TB_OK || *out)
            return st;
        if (notice && notice_size)
            snprintf(notice, notice_size, "%s", why);
        return tb_cpu_backend_create(out, opt, err);
    }
#else
    if (strcmp(name, "vulkan") == 0)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "--backend",
                            "this build has no Vulkan backend (use --backend cpu)");
    if (strcmp(name, "auto") == 0) {
        if (notice && notice_size)
            snprintf(notice, notice_size, "using the CPU: this build has no Vulkan backend");
        return tb_cpu_backend_create(out, opt, err);
    }
#endif
    return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--backend", "unknown backend '%s' (cpu, vulkan, auto)", name);
}

void tb_backend_destroy(tb_backend *be)
{
    if (be)
        be->ops->destroy(be);
}
