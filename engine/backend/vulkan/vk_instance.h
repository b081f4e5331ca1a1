/* tunebench — the Vulkan instance, validation layers, and what each physical device offers.
 *
 * Validation: TUNEBENCH_VK_VALIDATION=1 enables VK_LAYER_KHRONOS_validation and counts every
 * warning or error it reports (printed to stderr as they come); the test suite asserts the
 * count stays zero. Asking for validation where the layer is missing is an error, so a CI
 * run cannot pass without it silently. */
#ifndef TB_VK_INSTANCE_H
#define TB_VK_INSTANCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/backend/vulkan/vk_loader.h"

typedef struct tb_vk_instance {
    tb_vk_fns fn;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    bool validation;
    _Atomic int messages;           /* validation warnings + errors seen */
} tb_vk_instance;

typedef struct tb_vk_device_info {
    uint32_t index;                 /* position in vkEnumeratePhysicalDevices */
    char name[256];
    char driver[256];               /* "llvmpipe (Mesa 22.3.6 ...)" */
    VkPhysicalDeviceType type;
    uint32_t api_version;
    uint32_t vendor_id;
    uint64_t device_local_bytes;    /* largest DEVICE_LOCAL heap */
    uint32_t subgroup_size;
    bool fp16, int8;                /* shaderFloat16, shaderInt8 */
    bool memory_budget;             /* VK_EXT_memory_budget */
    uint32_t max_shared_bytes;      /* maxComputeSharedMemorySize */
    uint32_t max_invocations;       /* maxComputeWorkGroupInvocations */
    uint32_t max_groups[3];         /* maxComputeWorkGroupCount */
    uint64_t max_storage_range;     /* maxStorageBufferRange */
    uint64_t max_alloc_bytes;       /* maxMemoryAllocationSize */
    float timestamp_period_ns;      /* 0 when the compute queue has no timestamps */
    uint32_t queue_family;          /* a compute-capable family */
    bool usable;                    /* Vulkan >= 1.2 with a compute queue */
    char unusable_why[128];
} tb_vk_device_info;

/* Open the loader, create an instance (validation per env). On failure everything is
 * released and err says why in one line ("no Vulkan loader ...", "no Vulkan driver ..."). */
tb_status tb_vk_instance_create(tb_vk_instance *vi, tb_error *err);
void tb_vk_instance_free(tb_vk_instance *vi);   /* partial objects are fine */

/* Describe up to cap physical devices; *count is how many exist. */
tb_status tb_vk_instance_devices(tb_vk_instance *vi, VkPhysicalDevice *phys,
                                 tb_vk_device_info *infos, uint32_t cap, uint32_t *count,
                                 tb_error *err);

/* "discrete", "integrated", "virtual", "cpu", "other". */
const char *tb_vk_device_type_name(VkPhysicalDeviceType t);

/* Which device to use: requested >= 0 names one (TB_ERR_INVALID when it does not exist
 * or cannot run our kernels); requested < 0 takes the best usable one: discrete >
 * integrated > virtual > CPU, the first listed among equals. TB_ERR_DEVICE when none. */
tb_status tb_vk_device_pick(const tb_vk_device_info *infos, uint32_t count, int requested,
                            uint32_t *out, tb_error *err);

#endif
