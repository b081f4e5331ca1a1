/* tunebench — one Vulkan device opened for compute: the state the other vk_* files share.
 *
 * Internal to engine/backend/vulkan: the rest of the engine sees only the backend table.
 * Single-threaded: one context is driven by one thread (the training worker).
 *
 * Work is enqueued into one command buffer (the stream) and submitted at sync points
 * (tb_vk_flush, a download): a training step is one submit. Uploads are copied into a
 * host-visible staging buffer at once, so the caller may reuse its memory on return. */
#ifndef TB_VK_CONTEXT_H
#define TB_VK_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/backend/vulkan/vk_instance.h"

#define TB_VK_MAX_BINDINGS 8
#define TB_VK_MAX_SPEC 8

typedef struct tb_vk_ctx tb_vk_ctx;

typedef struct tb_vk_buffer {
    tb_vk_ctx *ctx;
    VkBuffer buf;
    VkDeviceMemory mem;
    size_t size;            /* bytes asked for */
    size_t alloc_size;      /* bytes taken from the heap (accounted as TB_MEM_DEVICE) */
    uint64_t write_epoch;   /* stream epoch of the last write, for barriers */
    uint64_t read_epoch;    /* stream epoch of the last read */
} tb_vk_buffer;

typedef struct tb_vk_pipeline {
    char name[64];
    uint32_t spec[TB_VK_MAX_SPEC];
    uint32_t nspec;
    uint32_t nbind;
    uint32_t push_size;
    VkPipelineLayout layout;
    VkPipeline pipeline;
} tb_vk_pipeline;

/* Matmul tile shapes (specialization constants), chosen per device at context creation. */
typedef struct tb_vk_tile {
    uint32_t bm, bn, bk, tm, tn;
} tb_vk_tile;

struct tb_vk_ctx {
    tb_vk_instance vi;
    tb_vk_fns *fn;                  /* = &vi.fn */
    tb_vk_device_info info;
    VkPhysicalDevice phys;
    VkDevice device;
    VkQueue queue;
    VkPhysicalDeviceMemoryProperties mem_props;
    uint32_t type_device;           /* memory type for buffers */
    uint32_t type_staging;          /* host-visible, coherent */
    uint32_t heap_device;
    int64_t bytes_in_use;           /* device bytes we hold */

    tb_vk_buffer staging;           /* host-visible ring for uploads and downloads */
    void *staging_map;
    size_t staging_used;            /* bytes of the ring this batch uses */

    VkDescriptorSetLayout set_layouts[TB_VK_MAX_BINDINGS + 1];   /* by binding count */
    tb_vk_pipeline **pipes;
    size_t npipes, cap_pipes;

    tb_vk_tile tile_big;            /* large M and N */
    tb_vk_tile tile_skinny;         /* N (or M) <= 32: LoRA ranks */

    VkCommandPool cmd_pool;
    VkCommandBuffer cmd;
    VkFence fence;
    bool recording;
    uint64_t epoch;                 /* bumped at every barrier */
    VkDescriptorPool *desc_pools;   /* created so far; reset after each submit */
    size_t ndesc_pools, cur_desc_pool;
    uint64_t dispatches;            /* since creation, for tests and benchmarks */
    uint64_t submits;

    tb_vk_buffer *scratch[3];       /* tb_vk_scratch slots */

    VkQueryPool timestamps;         /* NULL when the queue has none */
    uint32_t ntimestamps;
};

/* Open device `requested` (< 0: TUNEBENCH_VK_DEVICE if set, else the best one). On
 * failure *out is NULL and err holds one line saying why (no loader, no driver, no
 * device, ...). */
tb_status tb_vk_ctx_create(tb_vk_ctx **out, int requested, tb_error *err);
void tb_vk_ctx_free(tb_vk_ctx *ctx);   /* NULL is fine; waits for the device */

/* Validation messages seen so far (0 when validation is off). */
int tb_vk_ctx_validation_messages(const tb_vk_ctx *ctx);

/* --- memory (vk_memory.c) ------------------------------------------------------------ */

/* A device-local buffer of `size` bytes for `what` (named in errors). Out of device memory
 * is TB_ERR_NOMEM with the bytes asked for and available. Free with tb_vk_buffer_free. */
tb_status tb_vk_buffer_create(tb_vk_ctx *ctx, size_t size, const char *what,
                              tb_vk_buffer **out, tb_error *err);
void tb_vk_buffer_free(tb_vk_buffer *b);   /* NULL is fine; waits for pending work */

/* Enqueue a copy of host bytes into b at offset (the bytes are staged now). */
tb_status tb_vk_upload(tb_vk_ctx *ctx, tb_vk_buffer *b, size_t offset, const void *src,
                       size_t size, tb_error *err);
/* Flush, then copy bytes of b into host memory. */
tb_status tb_vk_download(tb_vk_ctx *ctx, tb_vk_buffer *b, size_t offset, void *dst,
                         size_t size, tb_error *err);
/* Enqueue a device copy of size bytes (no alignment needed). */
tb_status tb_vk_copy_bytes(tb_vk_ctx *ctx, tb_vk_buffer *dst, size_t dst_off, tb_vk_buffer *src,
                           size_t src_off, size_t size, tb_error *err);
/* Enqueue: fill size bytes at offset with a 32-bit pattern (both multiples of 4). */
tb_status tb_vk_fill(tb_vk_ctx *ctx, tb_vk_buffer *b, size_t offset, size_t size,
                     uint32_t pattern, tb_error *err);
/* Bytes of device memory this device could still give us (budget where the driver
 * reports one, else heap size minus what we hold). */
uint64_t tb_vk_available_bytes(tb_vk_ctx *ctx);

/* --- pipelines (vk_pipeline.c) -------------------------------------------------------- */

/* The pipeline of embedded kernel `name` with these specialization constants (ids 0..n-1),
 * created on first use and cached for the context's life. */
tb_status tb_vk_pipeline_get(tb_vk_ctx *ctx, const char *name, uint32_t nbind,
                             uint32_t push_size, const uint32_t *spec, uint32_t nspec,
                             tb_vk_pipeline **out, tb_error *err);
void tb_vk_pipelines_free(tb_vk_ctx *ctx);
/* Pick tile_big / tile_skinny from the device's limits (TUNEBENCH_VK_MATMUL_TILE overrides the
 * big one as "BMxBNxBKxTMxTN", for tuning). */
void tb_vk_choose_tiles(tb_vk_ctx *ctx);

/* --- recording and submission (vk_dispatch.c) ----------------------------------------- */

typedef struct tb_vk_bind {
    tb_vk_buffer *buf;
    bool write;
} tb_vk_bind;

/* Enqueue one dispatch of groups[0..2] workgroups; inserts the barrier a hazard on any
 * binding needs (read after write, write after read or write). */
tb_status tb_vk_dispatch(tb_vk_ctx *ctx, tb_vk_pipeline *p, const tb_vk_bind *binds,
                         const void *push, uint32_t gx, uint32_t gy, uint32_t gz, tb_error *err);
/* Submit what is enqueued and wait for it. */
tb_status tb_vk_flush(tb_vk_ctx *ctx, tb_error *err);
/* The command buffer, begun if needed (vk_memory.c records copies into it). */
tb_status tb_vk_stream_begin(tb_vk_ctx *ctx, tb_error *err);
/* Record a barrier before an access to b when an earlier one in this batch conflicts. */
void tb_vk_hazard(tb_vk_ctx *ctx, tb_vk_buffer *b, bool write);
void tb_vk_stream_free(tb_vk_ctx *ctx);
tb_status tb_vk_stream_init(tb_vk_ctx *ctx, tb_error *err);

/* Timestamps (benchmarks): enqueue a write of slot i (< 64); read them after a flush, in ns.
 * TB_ERR_UNSUPPORTED when the queue has no timestamps. */
tb_status tb_vk_timestamp(tb_vk_ctx *ctx, uint32_t slot, tb_error *err);
tb_status tb_vk_timestamps_read(tb_vk_ctx *ctx, uint32_t n, double *ns, tb_error *err);

#endif
