/* tunebench — open a Vulkan device for compute: pick it, create it, find memory types. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/vulkan/vk_context.h"

#define MAX_DEVICES 16

/* TUNEBENCH_VK_DEVICE when requested < 0 and the variable is set; -1 for "best". */
static tb_status requested_index(int requested, int *out, tb_error *err)
{
    *out = requested;
    const char *env = getenv("TUNEBENCH_VK_DEVICE");
    if (requested >= 0 || !env || !env[0])
        return TB_OK;
    char *end = NULL;
    long v = strtol(env, &end, 10);
    if (*end || v < 0 || v > 255)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "TUNEBENCH_VK_DEVICE",
                            "'%s' is not a device number (tunebench devices lists them)", env);
    *out = (int)v;
    return TB_OK;
}

/* First memory type allowed by bits that has every flag of want. */
static int find_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits,
                     VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++)
        if ((bits & (1u << i)) && (mp->memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

static tb_status open_device(tb_vk_ctx *ctx, tb_error *err)
{
    tb_vk_fns *fn = ctx->fn;
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = ctx->info.queue_family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    const char *exts[1];
    uint32_t next = 0;
    if (ctx->info.memory_budget)
        exts[next++] = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = next,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = fn->vkCreateDevice(ctx->phys, &dci, NULL, &ctx->device);
    if (r != VK_SUCCESS) {
        ctx->device = VK_NULL_HANDLE;
        return tb_fail(err, TB_ERR_DEVICE, "vkCreateDevice failed on %s (%s)", ctx->info.name,
                       tb_vk_result_name(r));
    }
    fn->vkGetDeviceQueue(ctx->device, ctx->info.queue_family, 0, &ctx->queue);
    fn->vkGetPhysicalDeviceMemoryProperties(ctx->phys, &ctx->mem_props);
    return TB_OK;
}

/* Memory types: probe with a small storage buffer for the bits buffers may use. */
static tb_status choose_memory(tb_vk_ctx *ctx, tb_error *err)
{
    tb_vk_fns *fn = ctx->fn;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = 256,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkBuffer probe;
    if (fn->vkCreateBuffer(ctx->device, &bci, NULL, &probe) != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "vkCreateBuffer failed on %s", ctx->info.name);
    VkMemoryRequirements req;
    fn->vkGetBufferMemoryRequirements(ctx->device, probe, &req);
    fn->vkDestroyBuffer(ctx->device, probe, NULL);
    int dev = find_type(&ctx->mem_props, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
    if (dev < 0)
        dev = find_type(&ctx->mem_props, req.memoryTypeBits, 0);
    /* Cached host memory makes downloads fast; coherent spares us flush/invalidate. */
    int host = find_type(&ctx->mem_props, req.memoryTypeBits,
                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                         VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    if (host < 0)
        host = find_type(&ctx->mem_props, req.memoryTypeBits,
                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    if (dev < 0 || host < 0)
        return tb_fail(err, TB_ERR_DEVICE, "%s offers no memory type usable for storage buffers",
                       ctx->info.name);
    ctx->type_device = (uint32_t)dev;
    ctx->type_staging = (uint32_t)host;
    ctx->heap_device = ctx->mem_props.memoryTypes[dev].heapIndex;
    return TB_OK;
}

tb_status tb_vk_ctx_create(tb_vk_ctx **out, int requested, tb_error *err)
{
    *out = NULL;
    int want;
    tb_status st = requested_index(requested, &want, err);
    if (st != TB_OK)
        return st;
    tb_vk_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory opening Vulkan");
    ctx->fn = &ctx->vi.fn;
    st = tb_vk_instance_create(&ctx->vi, err);
    if (st != TB_OK)
        goto fail;
    VkPhysicalDevice phys[MAX_DEVICES];
    tb_vk_device_info infos[MAX_DEVICES];
    uint32_t count = 0, pick = 0;
    st = tb_vk_instance_devices(&ctx->vi, phys, infos, MAX_DEVICES, &count, err);
    if (st != TB_OK)
        goto fail;
    if (count > MAX_DEVICES)
        count = MAX_DEVICES;
    st = tb_vk_device_pick(infos, count, want, &pick, err);
    if (st != TB_OK)
        goto fail;
    ctx->phys = phys[pick];
    ctx->info = infos[pick];
    if ((st = open_device(ctx, err)) != TB_OK || (st = choose_memory(ctx, err)) != TB_OK ||
        (st = tb_vk_stream_init(ctx, err)) != TB_OK)
        goto fail;
    tb_vk_choose_tiles(ctx);
    *out = ctx;
    return TB_OK;
fail:
    tb_vk_ctx_free(ctx);
    return st;
}

void tb_vk_ctx_free(tb_vk_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->device) {
        for (size_t i = 0; i < sizeof ctx->scratch / sizeof *ctx->scratch; i++)
            tb_vk_buffer_free(ctx->scratch[i]);
        ctx->fn->vkDeviceWaitIdle(ctx->device);
        tb_vk_stream_free(ctx);
        tb_vk_pipelines_free(ctx);
        if (ctx->staging.buf) {
            ctx->fn->vkUnmapMemory(ctx->device, ctx->staging.mem);
            ctx->fn->vkDestroyBuffer(ctx->device, ctx->staging.buf, NULL);
            ctx->fn->vkFreeMemory(ctx->device, ctx->staging.mem, NULL);
        }
        ctx->fn->vkDestroyDevice(ctx->device, NULL);
    }
    tb_vk_instance_free(&ctx->vi);
    free(ctx);
}

int tb_vk_ctx_validation_messages(const tb_vk_ctx *ctx)
{
    return ctx ? atomic_load(&ctx->vi.messages) : 0;
}
