/* tunebench — device buffers, the staging ring, uploads and downloads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/vulkan/vk_context.h"
#include "engine/core/alloc.h"
#include "engine/core/units.h"

#define STAGING_BYTES ((size_t)32 << 20)

/* TUNEBENCH_VK_MEMORY_LIMIT (MiB): use at most this much device memory, e.g. on a GPU
 * shared with other jobs. 0 when unset. */
static uint64_t memory_limit(void)
{
    const char *env = getenv("TUNEBENCH_VK_MEMORY_LIMIT");
    return env && env[0] ? strtoull(env, NULL, 10) << 20 : 0;
}

static uint64_t driver_available(tb_vk_ctx *ctx)
{
    uint32_t h = ctx->heap_device;
    if (ctx->info.memory_budget) {
        VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 mp2 = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2, .pNext = &budget};
        ctx->fn->vkGetPhysicalDeviceMemoryProperties2(ctx->phys, &mp2);
        if (budget.heapBudget[h])
            return budget.heapBudget[h] > budget.heapUsage[h] ? budget.heapBudget[h] - budget.heapUsage[h] : 0;
    }
    uint64_t heap = ctx->mem_props.memoryHeaps[h].size;
    return heap > (uint64_t)ctx->bytes_in_use ? heap - (uint64_t)ctx->bytes_in_use : 0;
}

uint64_t tb_vk_available_bytes(tb_vk_ctx *ctx)
{
    uint64_t avail = driver_available(ctx), limit = memory_limit();
    if (limit) {
        uint64_t left = limit > (uint64_t)ctx->bytes_in_use ? limit - (uint64_t)ctx->bytes_in_use : 0;
        avail = left < avail ? left : avail;
    }
    return avail;
}

static tb_status no_memory(tb_vk_ctx *ctx, size_t size, const char *what, tb_error *err)
{
    char a[32], b[32];
    uint64_t avail = tb_vk_available_bytes(ctx);
    return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, what,
                        "out of device memory on %s: asked for %zu bytes (%s), %llu bytes (%s) "
                        "available; try a smaller batch or sequence length, or --backend cpu",
                        ctx->info.name, size, tb_format_bytes((int64_t)size, a, sizeof a),
                        (unsigned long long)avail, tb_format_bytes((int64_t)avail, b, sizeof b));
}

/* A buffer + memory of type `type`; *alloc_size is what the driver charged. */
static tb_status make_buffer(tb_vk_ctx *ctx, size_t size, uint32_t type, const char *what,
                             tb_vk_buffer *b, tb_error *err)
{
    tb_vk_fns *fn = ctx->fn;
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        /* Round up to whole words: 16-bit data is read as 32-bit words (common.glsl). */
        .size = (size + 15) & ~(size_t)15,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |
                 VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = fn->vkCreateBuffer(ctx->device, &bci, NULL, &b->buf);
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY) {
        b->buf = VK_NULL_HANDLE;
        return no_memory(ctx, size, what, err);
    }
    if (r != VK_SUCCESS) {
        b->buf = VK_NULL_HANDLE;
        return tb_error_set(err, TB_ERR_DEVICE, NULL, 0, what, "vkCreateBuffer of %zu bytes failed (%s)",
                            size, tb_vk_result_name(r));
    }
    VkMemoryRequirements req;
    fn->vkGetBufferMemoryRequirements(ctx->device, b->buf, &req);
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = type,
    };
    r = fn->vkAllocateMemory(ctx->device, &mai, NULL, &b->mem);
    if (r != VK_SUCCESS) {
        b->mem = VK_NULL_HANDLE;
        fn->vkDestroyBuffer(ctx->device, b->buf, NULL);
        b->buf = VK_NULL_HANDLE;
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
            return no_memory(ctx, size, what, err);
        return tb_error_set(err, TB_ERR_DEVICE, NULL, 0, what, "vkAllocateMemory of %zu bytes failed (%s)",
                            size, tb_vk_result_name(r));
    }
    fn->vkBindBufferMemory(ctx->device, b->buf, b->mem, 0);
    b->ctx = ctx;
    b->size = size;
    b->alloc_size = req.size;
    return TB_OK;
}

tb_status tb_vk_buffer_create(tb_vk_ctx *ctx, size_t size, const char *what,
                              tb_vk_buffer **out, tb_error *err)
{
    *out = NULL;
    if (!what)
        what = "buffer";
    if (size == 0)
        size = 4;   /* an empty tensor still needs a valid binding */
    /* Kernels bind whole buffers; a larger one cannot be seen by a shader at all. */
    if (size > tb_vk_available_bytes(ctx))
        return no_memory(ctx, size, what, err);
    if (size > ctx->info.max_storage_range || size > ctx->info.max_alloc_bytes) {
        char a[32], b[32];
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, what,
                            "%zu bytes (%s) exceed what one buffer can hold on %s "
                            "(maxStorageBufferRange %s)", size, tb_format_bytes((int64_t)size, a, sizeof a),
                            ctx->info.name, tb_format_bytes((int64_t)ctx->info.max_storage_range, b, sizeof b));
    }
    tb_vk_buffer *b = calloc(1, sizeof *b);
    if (!b)
        return tb_fail(err, TB_ERR_NOMEM, "out of host memory for a buffer record");
    tb_status st = make_buffer(ctx, size, ctx->type_device, what, b, err);
    if (st != TB_OK) {
        free(b);
        return st;
    }
    ctx->bytes_in_use += (int64_t)b->alloc_size;
    tb_mem_account(TB_MEM_DEVICE, (int64_t)b->alloc_size);
    *out = b;
    return TB_OK;
}

void tb_vk_buffer_free(tb_vk_buffer *b)
{
    if (!b)
        return;
    tb_vk_ctx *ctx = b->ctx;
    /* Pending commands may still use it: finish them first (freeing is rare, at teardown). */
    if (ctx->recording)
        tb_vk_flush(ctx, NULL);
    ctx->fn->vkDestroyBuffer(ctx->device, b->buf, NULL);
    ctx->fn->vkFreeMemory(ctx->device, b->mem, NULL);
    ctx->bytes_in_use -= (int64_t)b->alloc_size;
    tb_mem_account(TB_MEM_DEVICE, -(int64_t)b->alloc_size);
    free(b);
}

static tb_status staging_ready(tb_vk_ctx *ctx, tb_error *err)
{
    if (ctx->staging.buf)
        return TB_OK;
    tb_status st = make_buffer(ctx, STAGING_BYTES, ctx->type_staging, "staging buffer",
                               &ctx->staging, err);
    if (st != TB_OK)
        return st;
    VkResult r = ctx->fn->vkMapMemory(ctx->device, ctx->staging.mem, 0, VK_WHOLE_SIZE, 0,
                                      &ctx->staging_map);
    if (r != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "vkMapMemory of the staging buffer failed (%s)",
                       tb_vk_result_name(r));
    return TB_OK;
}

static tb_status check_range(const tb_vk_buffer *b, size_t offset, size_t size, tb_error *err)
{
    if (offset > b->size || size > b->size - offset)
        return tb_fail(err, TB_ERR_INVALID, "copy of %zu bytes at offset %zu overruns a "
                       "buffer of %zu bytes", size, offset, b->size);
    return TB_OK;
}

static void record_copy(tb_vk_ctx *ctx, VkBuffer src, size_t src_off, VkBuffer dst,
                        size_t dst_off, size_t size)
{
    VkBufferCopy region = {.srcOffset = src_off, .dstOffset = dst_off, .size = size};
    ctx->fn->vkCmdCopyBuffer(ctx->cmd, src, dst, 1, &region);
}

tb_status tb_vk_upload(tb_vk_ctx *ctx, tb_vk_buffer *b, size_t offset, const void *src,
                       size_t size, tb_error *err)
{
    tb_status st = check_range(b, offset, size, err);
    if (st != TB_OK || (st = staging_ready(ctx, err)) != TB_OK)
        return st;
    const unsigned char *p = src;
    while (size > 0) {
        if (ctx->staging_used >= STAGING_BYTES && (st = tb_vk_flush(ctx, err)) != TB_OK)
            return st;
        size_t n = STAGING_BYTES - ctx->staging_used;
        if (n > size)
            n = size;
        if ((st = tb_vk_stream_begin(ctx, err)) != TB_OK)
            return st;
        memcpy((unsigned char *)ctx->staging_map + ctx->staging_used, p, n);
        tb_vk_hazard(ctx, b, true);
        record_copy(ctx, ctx->staging.buf, ctx->staging_used, b->buf, offset, n);
        /* Copy offsets need no alignment, but keep the ring 16-byte aligned anyway. */
        ctx->staging_used += (n + 15) & ~(size_t)15;
        p += n;
        offset += n;
        size -= n;
    }
    return TB_OK;
}

tb_status tb_vk_download(tb_vk_ctx *ctx, tb_vk_buffer *b, size_t offset, void *dst,
                         size_t size, tb_error *err)
{
    tb_status st = check_range(b, offset, size, err);
    if (st != TB_OK || (st = staging_ready(ctx, err)) != TB_OK)
        return st;
    unsigned char *p = dst;
    while (size > 0) {
        if ((st = tb_vk_flush(ctx, err)) != TB_OK || (st = tb_vk_stream_begin(ctx, err)) != TB_OK)
            return st;
        size_t n = size < STAGING_BYTES ? size : STAGING_BYTES;
        tb_vk_hazard(ctx, b, false);
        record_copy(ctx, b->buf, offset, ctx->staging.buf, 0, n);
        VkMemoryBarrier mb = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
            .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
            .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
        };
        ctx->fn->vkCmdPipelineBarrier(ctx->cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                                      VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
        if ((st = tb_vk_flush(ctx, err)) != TB_OK)
            return st;
        memcpy(p, ctx->staging_map, n);
        p += n;
        offset += n;
        size -= n;
    }
    return TB_OK;
}

tb_status tb_vk_fill(tb_vk_ctx *ctx, tb_vk_buffer *b, size_t offset, size_t size,
                     uint32_t pattern, tb_error *err)
{
    tb_status st = check_range(b, offset, size, err);
    if (st != TB_OK)
        return st;
    if ((offset | size) & 3)
        return tb_fail(err, TB_ERR_INVALID, "fill of %zu bytes at %zu: both must be multiples of 4",
                       size, offset);
    if (size == 0)
        return TB_OK;
    if ((st = tb_vk_stream_begin(ctx, err)) != TB_OK)
        return st;
    tb_vk_hazard(ctx, b, true);
    ctx->fn->vkCmdFillBuffer(ctx->cmd, b->buf, offset, size, pattern);
    return TB_OK;
}

tb_status tb_vk_copy_bytes(tb_vk_ctx *ctx, tb_vk_buffer *dst, size_t dst_off, tb_vk_buffer *src,
                           size_t src_off, size_t size, tb_error *err)
{
    tb_status st;
    if ((st = check_range(dst, dst_off, size, err)) || (st = check_range(src, src_off, size, err)))
        return st;
    if (size == 0)
        return TB_OK;
    if ((st = tb_vk_stream_begin(ctx, err)) != TB_OK)
        return st;
    /* Overlapping regions of one buffer are invalid for vkCmdCopyBuffer. */
    if (dst == src && dst_off < src_off + size && src_off < dst_off + size)
        return tb_fail(err, TB_ERR_INVALID, "copy between overlapping regions of one buffer");
    tb_vk_hazard(ctx, src, false);
    tb_vk_hazard(ctx, dst, true);
    record_copy(ctx, src->buf, src_off, dst->buf, dst_off, size);
    return TB_OK;
}
