/* tunebench — the Vulkan instance, validation layers, and what each physical device offers. */
#include "engine/backend/vulkan/vk_instance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VALIDATION_LAYER "VK_LAYER_KHRONOS_validation"

static bool env_on(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] && strcmp(v, "0") != 0;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
    (void)type;
    tb_vk_instance *vi = user;
    if (sev & (VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
               VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)) {
        atomic_fetch_add(&vi->messages, 1);
        fprintf(stderr, "tunebench vulkan validation: %s\n",
                data && data->pMessage ? data->pMessage : "(no message)");
    }
    return VK_FALSE;
}

static bool has_layer(tb_vk_fns *fn, const char *name)
{
    uint32_t n = 0;
    if (fn->vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return false;
    VkLayerProperties *props = calloc(n, sizeof *props);
    bool found = false;
    if (props && fn->vkEnumerateInstanceLayerProperties(&n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(props[i].layerName, name) == 0;
    free(props);
    return found;
}

tb_status tb_vk_instance_create(tb_vk_instance *vi, tb_error *err)
{
    memset(vi, 0, sizeof *vi);
    tb_status st = tb_vk_loader_open(&vi->fn, err);
    if (st != TB_OK)
        return st;
    uint32_t version = 0;
    if (vi->fn.vkEnumerateInstanceVersion(&version) != VK_SUCCESS ||
        version < VK_API_VERSION_1_2) {
        st = tb_fail(err, TB_ERR_DEVICE, "the Vulkan loader supports %u.%u; tunebench needs 1.2",
                     VK_API_VERSION_MAJOR(version), VK_API_VERSION_MINOR(version));
        goto fail;
    }
    vi->validation = env_on("TUNEBENCH_VK_VALIDATION");
    if (vi->validation && !has_layer(&vi->fn, VALIDATION_LAYER)) {
        st = tb_fail(err, TB_ERR_DEVICE, "TUNEBENCH_VK_VALIDATION is set but %s is not installed "
                     "(Debian: vulkan-validationlayers)", VALIDATION_LAYER);
        goto fail;
    }
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "tunebench",
        .pEngineName = "tunebench",
        .apiVersion = VK_API_VERSION_1_2,
    };
    const char *layers[] = {VALIDATION_LAYER};
    const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkDebugUtilsMessengerCreateInfoEXT dbg = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = vi,
    };
    VkInstanceCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = vi->validation ? &dbg : NULL,   /* also covers create/destroy itself */
        .pApplicationInfo = &app,
        .enabledLayerCount = vi->validation ? 1u : 0u,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = vi->validation ? 1u : 0u,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vi->fn.vkCreateInstance(&ci, NULL, &vi->instance);
    if (r != VK_SUCCESS) {
        st = tb_fail(err, TB_ERR_DEVICE, "no Vulkan driver: vkCreateInstance failed (%s)",
                     tb_vk_result_name(r));
        vi->instance = VK_NULL_HANDLE;
        goto fail;
    }
    st = tb_vk_loader_load_instance(&vi->fn, vi->instance, vi->validation, err);
    if (st != TB_OK)
        goto fail;
    if (vi->validation &&
        vi->fn.vkCreateDebugUtilsMessengerEXT(vi->instance, &dbg, NULL, &vi->messenger) != VK_SUCCESS) {
        st = tb_fail(err, TB_ERR_DEVICE, "could not install the validation message callback");
        goto fail;
    }
    return TB_OK;
fail:
    tb_vk_instance_free(vi);
    return st;
}

void tb_vk_instance_free(tb_vk_instance *vi)
{
    if (!vi)
        return;
    if (vi->messenger && vi->fn.vkDestroyDebugUtilsMessengerEXT)
        vi->fn.vkDestroyDebugUtilsMessengerEXT(vi->instance, vi->messenger, NULL);
    if (vi->instance && vi->fn.vkDestroyInstance)
        vi->fn.vkDestroyInstance(vi->instance, NULL);
    tb_vk_loader_close(&vi->fn);
    vi->instance = VK_NULL_HANDLE;
    vi->messenger = VK_NULL_HANDLE;
}

static bool has_device_ext(tb_vk_instance *vi, VkPhysicalDevice pd, const char *name)
{
    uint32_t n = 0;
    if (vi->fn.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, NULL) != VK_SUCCESS || !n)
        return false;
    VkExtensionProperties *props = calloc(n, sizeof *props);
    bool found = false;
    if (props && vi->fn.vkEnumerateDeviceExtensionProperties(pd, NULL, &n, props) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++)
            found = strcmp(props[i].extensionName, name) == 0;
    free(props);
    return found;
}

static void describe(tb_vk_instance *vi, VkPhysicalDevice pd, uint32_t index, tb_vk_device_info *d)
{
    memset(d, 0, sizeof *d);
    d->index = index;
    VkPhysicalDeviceProperties p;
    vi->fn.vkGetPhysicalDeviceProperties(pd, &p);
    snprintf(d->name, sizeof d->name, "%s", p.deviceName);
    d->type = p.deviceType;
    d->api_version = p.apiVersion;
    d->vendor_id = p.vendorID;
    d->max_shared_bytes = p.limits.maxComputeSharedMemorySize;
    d->max_invocations = p.limits.maxComputeWorkGroupInvocations;
    memcpy(d->max_groups, p.limits.maxComputeWorkGroupCount, sizeof d->max_groups);
    d->max_storage_range = p.limits.maxStorageBufferRange;
    d->max_alloc_bytes = UINT64_MAX;
    d->usable = true;
    if (p.apiVersion < VK_API_VERSION_1_2) {
        d->usable = false;
        snprintf(d->unusable_why, sizeof d->unusable_why, "Vulkan %u.%u < 1.2",
                 VK_API_VERSION_MAJOR(p.apiVersion), VK_API_VERSION_MINOR(p.apiVersion));
    } else {
        /* 1.1/1.2 core structs are valid to chain only on a 1.2 device. */
        VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
        VkPhysicalDeviceMaintenance3Properties m3 = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &drv};
        VkPhysicalDeviceSubgroupProperties sg = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = &m3};
        VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sg};
        vi->fn.vkGetPhysicalDeviceProperties2(pd, &p2);
        d->subgroup_size = sg.subgroupSize;
        d->max_alloc_bytes = m3.maxMemoryAllocationSize;
        snprintf(d->driver, sizeof d->driver, "%s%s%s%s", drv.driverName,
                 drv.driverInfo[0] ? " (" : "", drv.driverInfo, drv.driverInfo[0] ? ")" : "");
        VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES};
        VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f12};
        vi->fn.vkGetPhysicalDeviceFeatures2(pd, &f2);
        d->fp16 = f12.shaderFloat16;
        d->int8 = f12.shaderInt8;
        d->memory_budget = has_device_ext(vi, pd, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    }
    VkPhysicalDeviceMemoryProperties mp;
    vi->fn.vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    for (uint32_t h = 0; h < mp.memoryHeapCount; h++)
        if ((mp.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            mp.memoryHeaps[h].size > d->device_local_bytes)
            d->device_local_bytes = mp.memoryHeaps[h].size;

    uint32_t nq = 0;
    vi->fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties *q = calloc(nq ? nq : 1, sizeof *q);
    bool found = false;
    if (q) {
        vi->fn.vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, q);
        /* Prefer a compute-only family (async compute on discrete GPUs), else any. */
        for (int pass = 0; pass < 2 && !found; pass++)
            for (uint32_t i = 0; i < nq && !found; i++) {
                bool compute = q[i].queueFlags & VK_QUEUE_COMPUTE_BIT;
                bool graphics = q[i].queueFlags & VK_QUEUE_GRAPHICS_BIT;
                if (compute && (pass == 1 || !graphics)) {
                    found = true;
                    d->queue_family = i;
                    if (q[i].timestampValidBits)
                        d->timestamp_period_ns = p.limits.timestampPeriod;
                }
            }
        free(q);
    }
    if (!found && d->usable) {
        d->usable = false;
        snprintf(d->unusable_why, sizeof d->unusable_why, "no compute queue");
    }
}

tb_status tb_vk_instance_devices(tb_vk_instance *vi, VkPhysicalDevice *phys,
                                 tb_vk_device_info *infos, uint32_t cap, uint32_t *count,
                                 tb_error *err)
{
    uint32_t n = 0;
    VkResult r = vi->fn.vkEnumeratePhysicalDevices(vi->instance, &n, NULL);
    if (r != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "vkEnumeratePhysicalDevices failed (%s)",
                       tb_vk_result_name(r));
    *count = n;
    if (n == 0 || cap == 0)
        return TB_OK;
    VkPhysicalDevice *all = calloc(n, sizeof *all);
    if (!all)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory listing Vulkan devices");
    r = vi->fn.vkEnumeratePhysicalDevices(vi->instance, &n, all);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(all);
        return tb_fail(err, TB_ERR_DEVICE, "vkEnumeratePhysicalDevices failed (%s)",
                       tb_vk_result_name(r));
    }
    for (uint32_t i = 0; i < n && i < cap; i++) {
        if (phys)
            phys[i] = all[i];
        describe(vi, all[i], i, &infos[i]);
    }
    free(all);
    return TB_OK;
}

const char *tb_vk_device_type_name(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 0;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 1;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 3;
    default: return 4;
    }
}

tb_status tb_vk_device_pick(const tb_vk_device_info *infos, uint32_t count, int requested,
                            uint32_t *out, tb_error *err)
{
    if (requested >= 0) {
        if ((uint32_t)requested >= count)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--device",
                                "Vulkan device %d does not exist (%u found; tunebench devices lists them)",
                                requested, count);
        if (!infos[requested].usable)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--device",
                                "Vulkan device %d (%s) cannot run tunebench: %s", requested,
                                infos[requested].name, infos[requested].unusable_why);
        *out = (uint32_t)requested;
        return TB_OK;
    }
    int best = -1;
    for (uint32_t i = 0; i < count; i++)
        if (infos[i].usable && (best < 0 || type_rank(infos[i].type) < type_rank(infos[best].type)))
            best = (int)i;
    if (best < 0 && count == 0)
        return tb_fail(err, TB_ERR_DEVICE, "no Vulkan device found");
    if (best < 0)
        return tb_fail(err, TB_ERR_DEVICE, "no usable Vulkan device (%u found, none with "
                       "Vulkan 1.2 compute)", count);
    *out = (uint32_t)best;
    return TB_OK;
}
