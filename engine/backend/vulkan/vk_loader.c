/* tunebench — the Vulkan loader, opened at run time. */
#include "engine/backend/vulkan/vk_loader.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static const char *const loader_names[] = {
#if defined(__APPLE__)
    "libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib",
#else
    "libvulkan.so.1", "libvulkan.so",
#endif
};

tb_status tb_vk_loader_open(tb_vk_fns *fn, tb_error *err)
{
    memset(fn, 0, sizeof *fn);
    const char *forced = getenv("TUNEBENCH_VK_LOADER");
    if (forced && forced[0]) {
        fn->lib = dlopen(forced, RTLD_NOW | RTLD_LOCAL);
    } else {
        for (size_t i = 0; !fn->lib && i < sizeof loader_names / sizeof *loader_names; i++)
            fn->lib = dlopen(loader_names[i], RTLD_NOW | RTLD_LOCAL);
    }
    if (!fn->lib)
        return tb_fail(err, TB_ERR_DEVICE, "no Vulkan loader (%s not found; install libvulkan1)",
                       forced && forced[0] ? forced : loader_names[0]);
    /* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
    *(void **)&fn->vkGetInstanceProcAddr = dlsym(fn->lib, "vkGetInstanceProcAddr");
    if (!fn->vkGetInstanceProcAddr) {
        tb_vk_loader_close(fn);
        return tb_fail(err, TB_ERR_DEVICE, "the Vulkan loader has no vkGetInstanceProcAddr");
    }
#define LOAD_GLOBAL(name) fn->name = (PFN_##name)fn->vkGetInstanceProcAddr(NULL, #name);
    TB_VK_GLOBAL_FNS(LOAD_GLOBAL)
#undef LOAD_GLOBAL
    if (!fn->vkCreateInstance || !fn->vkEnumerateInstanceVersion) {
        tb_vk_loader_close(fn);
        return tb_fail(err, TB_ERR_DEVICE, "the Vulkan loader is older than Vulkan 1.1");
    }
    return TB_OK;
}

tb_status tb_vk_loader_load_instance(tb_vk_fns *fn, VkInstance instance, int debug, tb_error *err)
{
#define LOAD(name)                                                                   \
    fn->name = (PFN_##name)fn->vkGetInstanceProcAddr(instance, #name);               \
    if (!fn->name)                                                                   \
        return tb_fail(err, TB_ERR_DEVICE, "the Vulkan loader lacks %s", #name);
    TB_VK_INSTANCE_FNS(LOAD)
    TB_VK_DEVICE_FNS(LOAD)
    if (debug) {
        TB_VK_DEBUG_FNS(LOAD)
    }
#undef LOAD
    return TB_OK;
}

void tb_vk_loader_close(tb_vk_fns *fn)
{
    if (fn->lib)
        dlclose(fn->lib);
    memset(fn, 0, sizeof *fn);
}

const char *tb_vk_result_name(VkResult r)
{
    switch (r) {
#define NAME(x) case x: return #x;
    NAME(VK_SUCCESS) NAME(VK_NOT_READY) NAME(VK_TIMEOUT) NAME(VK_INCOMPLETE)
    NAME(VK_ERROR_OUT_OF_HOST_MEMORY) NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    NAME(VK_ERROR_INITIALIZATION_FAILED) NAME(VK_ERROR_DEVICE_LOST)
    NAME(VK_ERROR_MEMORY_MAP_FAILED) NAME(VK_ERROR_LAYER_NOT_PRESENT)
    NAME(VK_ERROR_EXTENSION_NOT_PRESENT) NAME(VK_ERROR_FEATURE_NOT_PRESENT)
    NAME(VK_ERROR_INCOMPATIBLE_DRIVER) NAME(VK_ERROR_TOO_MANY_OBJECTS)
    NAME(VK_ERROR_FORMAT_NOT_SUPPORTED) NAME(VK_ERROR_FRAGMENTED_POOL)
    NAME(VK_ERROR_OUT_OF_POOL_MEMORY) NAME(VK_ERROR_UNKNOWN)
#undef NAME
    default: return "VkResult(unknown)";
    }
}
