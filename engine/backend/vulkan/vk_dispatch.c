/* tunebench — recording dispatches with the barriers they need, and submitting them.
 *
 * Hazards are tracked per buffer with epochs: the stream's epoch grows at every barrier; a
 * buffer remembers the epoch of its last write and last read. An access needs a barrier
 * when the buffer was written in the current epoch (read/write after write) or is about
 * to be written after a read in it (write after read). Independent dispatches (q, k, v
 * projections) thus run without barriers between them. */
#include <stdlib.h>
#include <string.h>

#include "engine/backend/vulkan/vk_context.h"

#define SETS_PER_POOL 512
#define MAX_TIMESTAMPS 64

tb_status tb_vk_stream_init(tb_vk_ctx *ctx, tb_error *err)
{
    tb_vk_fns *fn = ctx->fn;
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
        .queueFamilyIndex = ctx->info.queue_family,
    };
    if (fn->vkCreateCommandPool(ctx->device, &pci, NULL, &ctx->cmd_pool) != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "vkCreateCommandPool failed");
    VkCommandBufferAllocateInfo cai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = ctx->cmd_pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    if (fn->vkAllocateCommandBuffers(ctx->device, &cai, &ctx->cmd) != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "vkAllocateCommandBuffers failed");
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    if (fn->vkCreateFence(ctx->device, &fci, NULL, &ctx->fence) != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "vkCreateFence failed");
    if (ctx->info.timestamp_period_ns > 0) {
        VkQueryPoolCreateInfo qci = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = MAX_TIMESTAMPS,
        };
        if (fn->vkCreateQueryPool(ctx->device, &qci, NULL, &ctx->timestamps) != VK_SUCCESS)
            ctx->timestamps = VK_NULL_HANDLE;
    }
    ctx->epoch = 1;
    return TB_OK;
}

void tb_vk_stream_free(tb_vk_ctx *ctx)
{
    tb_vk_fns *fn = ctx->fn;
    for (size_t i = 0; i < ctx->ndesc_pools; i++)
        fn->vkDestroyDescriptorPool(ctx->device, ctx->desc_pools[i], NULL);
    free(ctx->desc_pools);
    ctx->desc_pools = NULL;
    ctx->ndesc_pools = 0;
    if (ctx->timestamps)
        fn->vkDestroyQueryPool(ctx->device, ctx->timestamps, NULL);
    if (ctx->fence)
        fn->vkDestroyFence(ctx->device, ctx->fence, NULL);
    if (ctx->cmd_pool)
        fn->vkDestroyCommandPool(ctx->device, ctx->cmd_pool, NULL);
    ctx->timestamps = VK_NULL_HANDLE;
    ctx->fence = VK_NULL_HANDLE;
    ctx->cmd_pool = VK_NULL_HANDLE;
}

/* Every earlier write, compute or transfer, visible to every later access. */
static void full_barrier(tb_vk_ctx *ctx, VkPipelineStageFlags src_stage)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                         VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    ctx->fn->vkCmdPipelineBarrier(ctx->cmd, src_stage,
                                  VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                  0, 1, &mb, 0, NULL, 0, NULL);
    ctx->epoch++;
}

tb_status tb_vk_stream_begin(tb_vk_ctx *ctx, tb_error *err)
{
    if (ctx->recording)
        return TB_OK;
    VkCommandBufferBeginInfo bi = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
        .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
    };
    VkResult r = ctx->fn->vkBeginCommandBuffer(ctx->cmd, &bi);
    if (r != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "vkBeginCommandBuffer failed (%s)", tb_vk_result_name(r));
    ctx->recording = true;
    /* Writes of the previous submit are complete (we waited) but not yet made visible to
     * this one: a fence orders the host, not later device work. */
    full_barrier(ctx, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT);
    return TB_OK;
}

static bool conflicts(const tb_vk_ctx *ctx, const tb_vk_buffer *b, bool write)
{
    return b->write_epoch == ctx->epoch || (write && b->read_epoch == ctx->epoch);
}

static void mark(const tb_vk_ctx *ctx, tb_vk_buffer *b, bool write)
{
    if (write)
        b->write_epoch = ctx->epoch;
    else
        b->read_epoch = ctx->epoch;
}

void tb_vk_hazard(tb_vk_ctx *ctx, tb_vk_buffer *b, bool write)
{
    if (conflicts(ctx, b, write))
        full_barrier(ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT);
    mark(ctx, b, write);
}

static tb_status alloc_set(tb_vk_ctx *ctx, VkDescriptorSetLayout layout, VkDescriptorSet *set,
                           tb_error *err)
{
    tb_vk_fns *fn = ctx->fn;
    for (;;) {
        if (ctx->cur_desc_pool == ctx->ndesc_pools) {
            VkDescriptorPool *grown = realloc(ctx->desc_pools, (ctx->ndesc_pools + 1) * sizeof *grown);
            if (!grown)
                return tb_fail(err, TB_ERR_NOMEM, "out of host memory for descriptor pools");
            ctx->desc_pools = grown;
            VkDescriptorPoolSize size = {
                .type = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                .descriptorCount = SETS_PER_POOL * TB_VK_MAX_BINDINGS,
            };
            VkDescriptorPoolCreateInfo dci = {
                .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                .maxSets = SETS_PER_POOL,
                .poolSizeCount = 1,
                .pPoolSizes = &size,
            };
            VkResult r = fn->vkCreateDescriptorPool(ctx->device, &dci, NULL, &grown[ctx->ndesc_pools]);
            if (r != VK_SUCCESS)
                return tb_fail(err, TB_ERR_DEVICE, "vkCreateDescriptorPool failed (%s)", tb_vk_result_name(r));
            ctx->ndesc_pools++;
        }
        VkDescriptorSetAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = ctx->desc_pools[ctx->cur_desc_pool],
            .descriptorSetCount = 1,
            .pSetLayouts = &layout,
        };
        VkResult r = fn->vkAllocateDescriptorSets(ctx->device, &ai, set);
        if (r == VK_SUCCESS)
            return TB_OK;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
            return tb_fail(err, TB_ERR_DEVICE, "vkAllocateDescriptorSets failed (%s)", tb_vk_result_name(r));
        ctx->cur_desc_pool++;   /* this pool is full for this batch: take the next */
    }
}

tb_status tb_vk_dispatch(tb_vk_ctx *ctx, tb_vk_pipeline *p, const tb_vk_bind *binds,
                         const void *push, uint32_t gx, uint32_t gy, uint32_t gz, tb_error *err)
{
    if (gx == 0 || gy == 0 || gz == 0)
        return TB_OK;   /* empty tensor: nothing to do */
    if (gx > ctx->info.max_groups[0] || gy > ctx->info.max_groups[1] || gz > ctx->info.max_groups[2])
        return tb_fail(err, TB_ERR_UNSUPPORTED, "%s: %u x %u x %u workgroups exceed this device's "
                       "limit %u x %u x %u", p->name, gx, gy, gz, ctx->info.max_groups[0],
                       ctx->info.max_groups[1], ctx->info.max_groups[2]);
    tb_status st = tb_vk_stream_begin(ctx, err);
    if (st != TB_OK)
        return st;
    VkDescriptorSet set;
    if ((st = alloc_set(ctx, ctx->set_layouts[p->nbind], &set, err)) != TB_OK)
        return st;
    VkDescriptorBufferInfo infos[TB_VK_MAX_BINDINGS];
    VkWriteDescriptorSet writes[TB_VK_MAX_BINDINGS];
    bool barrier = false;
    for (uint32_t i = 0; i < p->nbind; i++) {
        infos[i] = (VkDescriptorBufferInfo){.buffer = binds[i].buf->buf, .offset = 0, .range = VK_WHOLE_SIZE};
        writes[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = &infos[i],
        };
        barrier = barrier || conflicts(ctx, binds[i].buf, binds[i].write);
    }
    tb_vk_fns *fn = ctx->fn;
    fn->vkUpdateDescriptorSets(ctx->device, p->nbind, writes, 0, NULL);
    if (barrier)
        full_barrier(ctx, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT);
    for (uint32_t i = 0; i < p->nbind; i++)
        mark(ctx, binds[i].buf, binds[i].write);
    fn->vkCmdBindPipeline(ctx->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    fn->vkCmdBindDescriptorSets(ctx->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (p->push_size)
        fn->vkCmdPushConstants(ctx->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_size, push);
    fn->vkCmdDispatch(ctx->cmd, gx, gy, gz);
    ctx->dispatches++;
    return TB_OK;
}

tb_status tb_vk_flush(tb_vk_ctx *ctx, tb_error *err)
{
    if (!ctx->recording)
        return TB_OK;
    tb_vk_fns *fn = ctx->fn;
    ctx->recording = false;
    VkResult r = fn->vkEndCommandBuffer(ctx->cmd);
    if (r == VK_SUCCESS) {
        VkSubmitInfo si = {
            .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
            .commandBufferCount = 1,
            .pCommandBuffers = &ctx->cmd,
        };
        r = fn->vkQueueSubmit(ctx->queue, 1, &si, ctx->fence);
        if (r == VK_SUCCESS)
            r = fn->vkWaitForFences(ctx->device, 1, &ctx->fence, VK_TRUE, UINT64_MAX);
        fn->vkResetFences(ctx->device, 1, &ctx->fence);
        ctx->submits++;
    }
    fn->vkResetCommandPool(ctx->device, ctx->cmd_pool, 0);
    for (size_t i = 0; i < ctx->ndesc_pools && i <= ctx->cur_desc_pool; i++)
        fn->vkResetDescriptorPool(ctx->device, ctx->desc_pools[i], 0);
    ctx->cur_desc_pool = 0;
    ctx->staging_used = 0;
    if (r != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "the Vulkan device failed running a batch (%s)%s",
                       tb_vk_result_name(r),
                       r == VK_ERROR_DEVICE_LOST ? ": device lost (driver reset or a kernel fault)" : "");
    return TB_OK;
}

tb_status tb_vk_timestamp(tb_vk_ctx *ctx, uint32_t slot, tb_error *err)
{
    if (!ctx->timestamps)
        return tb_fail(err, TB_ERR_UNSUPPORTED, "%s has no timestamps on its compute queue", ctx->info.name);
    if (slot >= MAX_TIMESTAMPS)
        return tb_fail(err, TB_ERR_INVALID, "timestamp slot %u >= %d", slot, MAX_TIMESTAMPS);
    tb_status st = tb_vk_stream_begin(ctx, err);
    if (st != TB_OK)
        return st;
    if (slot == 0)
        ctx->fn->vkCmdResetQueryPool(ctx->cmd, ctx->timestamps, 0, MAX_TIMESTAMPS);
    ctx->fn->vkCmdWriteTimestamp(ctx->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ctx->timestamps, slot);
    if (slot + 1 > ctx->ntimestamps)
        ctx->ntimestamps = slot + 1;
    return TB_OK;
}

tb_status tb_vk_timestamps_read(tb_vk_ctx *ctx, uint32_t n, double *ns, tb_error *err)
{
    if (!ctx->timestamps || n > ctx->ntimestamps)
        return tb_fail(err, TB_ERR_INVALID, "%u timestamps asked, %u written", n, ctx->ntimestamps);
    uint64_t ticks[MAX_TIMESTAMPS];
    VkResult r = ctx->fn->vkGetQueryPoolResults(ctx->device, ctx->timestamps, 0, n, sizeof ticks,
                                                ticks, sizeof ticks[0],
                                                VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
    if (r != VK_SUCCESS)
        return tb_fail(err, TB_ERR_DEVICE, "vkGetQueryPoolResults failed (%s)", tb_vk_result_name(r));
    for (uint32_t i = 0; i < n; i++)
        ns[i] = (double)ticks[i] * (double)ctx->info.timestamp_period_ns;
    return TB_OK;
}
