/* tunebench — which Vulkan devices exist, and whether `--backend auto` should use one. */
#include <stdio.h>
#include <stdlib.h>

#include "engine/backend/vulkan/vk_backend.h"
#include "engine/backend/vulkan/vk_instance.h"

#define MAX_DEVICES 16

tb_status tb_vulkan_devices(tb_vk_device_info *infos, uint32_t cap, uint32_t *count,
                            uint32_t *instance_version, tb_error *err)
{
    *count = 0;
    tb_vk_instance vi;
    tb_status st = tb_vk_instance_create(&vi, err);
    if (st != TB_OK)
        return st;
    if (instance_version && vi.fn.vkEnumerateInstanceVersion(instance_version) != VK_SUCCESS)
        *instance_version = 0;
    st = tb_vk_instance_devices(&vi, NULL, infos, cap, count, err);
    tb_vk_instance_free(&vi);
    return st;
}

static bool is_gpu(VkPhysicalDeviceType t)
{
    return t == VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU || t == VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU ||
           t == VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU;
}

tb_status tb_vulkan_backend_auto(tb_backend **out, const tb_backend_options *opt, char *why, size_t why_size,
                                 tb_error *err)
{
    *out = NULL;
    if (why_size)
        why[0] = '\0';
    tb_backend_options o = opt ? *opt : (tb_backend_options){.device = -1};
    const char *env = getenv("TUNEBENCH_VK_DEVICE");
    bool named = o.device >= 0 || (env && env[0]);
    tb_vk_device_info infos[MAX_DEVICES];
    uint32_t count = 0;
    tb_error lerr;
    if (tb_vulkan_devices(infos, MAX_DEVICES, &count, NULL, &lerr) != TB_OK) {
        snprintf(why, why_size, "using the CPU: %s", lerr.message);
        return TB_OK;
    }
    if (count > MAX_DEVICES)
        count = MAX_DEVICES;
    if (!named) {
        uint32_t pick;
        if (tb_vk_device_pick(infos, count, -1, &pick, &lerr) != TB_OK) {
            snprintf(why, why_size, "using the CPU: %s", lerr.message);
            return TB_OK;
        }
        if (!is_gpu(infos[pick].type)) {
            snprintf(why, why_size, "using the CPU: the only Vulkan device is %s, a CPU device (the CPU "
                     "backend is faster; --backend vulkan forces it)", infos[pick].name);
            return TB_OK;
        }
        o.device = (int)pick;
    }
    tb_status st = tb_vulkan_backend_create(out, &o, err);
    if (st == TB_OK || named)
        return st;   /* a device the user named must work, or the error says why */
    snprintf(why, why_size, "using the CPU: %s", err->message);
    tb_error_clear(err);
    return TB_OK;
}
