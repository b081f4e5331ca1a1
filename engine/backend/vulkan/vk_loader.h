/* tunebench — the Vulkan loader, opened at run time.
 *
 * The binary never links libvulkan: a machine without the loader still runs tunebench on
 * the CPU (DESIGN.md §3). Entry points live in a table per instance, loaded through
 * vkGetInstanceProcAddr; device-level ones go through the loader's dispatch, which serves
 * every device of that instance. */
#ifndef TB_VK_LOADER_H
#define TB_VK_LOADER_H

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include "engine/core/error.h"

#define TB_VK_GLOBAL_FNS(X)                                                          \
    X(vkCreateInstance) X(vkEnumerateInstanceVersion) X(vkEnumerateInstanceLayerProperties) \
    X(vkEnumerateInstanceExtensionProperties)

#define TB_VK_INSTANCE_FNS(X)                                                       \
    X(vkDestroyInstance) X(vkEnumeratePhysicalDevices) X(vkGetPhysicalDeviceProperties) \
    X(vkGetPhysicalDeviceProperties2) X(vkGetPhysicalDeviceFeatures2)               \
    X(vkGetPhysicalDeviceMemoryProperties) X(vkGetPhysicalDeviceMemoryProperties2)  \
    X(vkGetPhysicalDeviceQueueFamilyProperties) X(vkEnumerateDeviceExtensionProperties) \
    X(vkCreateDevice)

/* Present only when VK_EXT_debug_utils was enabled (validation on). */
#define TB_VK_DEBUG_FNS(X) X(vkCreateDebugUtilsMessengerEXT) X(vkDestroyDebugUtilsMessengerEXT)

#define TB_VK_DEVICE_FNS(X)                                                         \
    X(vkDestroyDevice) X(vkGetDeviceQueue) X(vkDeviceWaitIdle)                      \
    X(vkCreateBuffer) X(vkDestroyBuffer) X(vkGetBufferMemoryRequirements)           \
    X(vkAllocateMemory) X(vkFreeMemory) X(vkBindBufferMemory) X(vkMapMemory)        \
    X(vkUnmapMemory) X(vkFlushMappedMemoryRanges) X(vkInvalidateMappedMemoryRanges) \
    X(vkCreateShaderModule) X(vkDestroyShaderModule)                                \
    X(vkCreateDescriptorSetLayout) X(vkDestroyDescriptorSetLayout)                  \
    X(vkCreatePipelineLayout) X(vkDestroyPipelineLayout)                            \
    X(vkCreateComputePipelines) X(vkDestroyPipeline)                                \
    X(vkCreateDescriptorPool) X(vkDestroyDescriptorPool) X(vkResetDescriptorPool)   \
    X(vkAllocateDescriptorSets) X(vkUpdateDescriptorSets)                           \
    X(vkCreateCommandPool) X(vkDestroyCommandPool) X(vkAllocateCommandBuffers)      \
    X(vkResetCommandPool) X(vkBeginCommandBuffer) X(vkEndCommandBuffer)             \
    X(vkCmdBindPipeline) X(vkCmdBindDescriptorSets) X(vkCmdPushConstants)           \
    X(vkCmdDispatch) X(vkCmdPipelineBarrier) X(vkCmdCopyBuffer) X(vkCmdFillBuffer)  \
    X(vkCmdResetQueryPool) X(vkCmdWriteTimestamp)                                   \
    X(vkQueueSubmit) X(vkCreateFence) X(vkDestroyFence) X(vkWaitForFences)          \
    X(vkResetFences) X(vkCreateQueryPool) X(vkDestroyQueryPool) X(vkGetQueryPoolResults)

#define TB_VK_FN_FIELD(name) PFN_##name name;

typedef struct tb_vk_fns {
    void *lib;                                   /* dlopen handle */
    PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr;
    TB_VK_GLOBAL_FNS(TB_VK_FN_FIELD)
    TB_VK_INSTANCE_FNS(TB_VK_FN_FIELD)
    TB_VK_DEBUG_FNS(TB_VK_FN_FIELD)
    TB_VK_DEVICE_FNS(TB_VK_FN_FIELD)
} tb_vk_fns;

/* Open the loader (env TUNEBENCH_VK_LOADER overrides the library path; tests use it to simulate
 * a machine without one) and fill the global entry points. TB_ERR_DEVICE with a message
 * naming the library when it cannot be opened. */
tb_status tb_vk_loader_open(tb_vk_fns *fn, tb_error *err);
/* Fill the instance- and device-level entry points; debug ones only when debug is set.
 * TB_ERR_DEVICE naming the first one missing. */
tb_status tb_vk_loader_load_instance(tb_vk_fns *fn, VkInstance instance, int debug, tb_error *err);
void tb_vk_loader_close(tb_vk_fns *fn);

/* "VK_ERROR_OUT_OF_DEVICE_MEMORY" and the like. */
const char *tb_vk_result_name(VkResult r);

#endif
