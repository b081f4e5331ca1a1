/* tunebench — the Vulkan backend: engine/backend/backend.h's op table on compute shaders.
 *
 * Ops are recorded into one command buffer and submitted at sync points (sync, download,
 * destroy), so a training step is one submit. The first failure of an enqueued op is kept
 * and reported by the next sync point, as backend.h requires. */
#ifndef TB_VK_BACKEND_H
#define TB_VK_BACKEND_H

#include "engine/backend/backend.h"

/* Open Vulkan device opt->device (-1: TUNEBENCH_VK_DEVICE, else the best one: discrete >
 * integrated > CPU). On failure *out is NULL and err says why in one line (no loader, no
 * driver, no device, device N does not exist), for `--backend auto` to print before it
 * falls back to the CPU. Destroy with tb_backend_destroy / ops->destroy. */
tb_status tb_vulkan_backend_create(tb_backend **out, const tb_backend_options *opt, tb_error *err);

/* --backend auto: a Vulkan backend on a GPU (discrete > integrated > virtual), or on the
 * device opt->device / TUNEBENCH_VK_DEVICE names (any type). Otherwise *out is NULL and
 * `why` holds one line saying why the CPU should be used instead: no loader, no driver,
 * no device, or only a CPU device (Mesa lavapipe: the CPU backend is faster than Vulkan
 * emulated on the same cores). Errors only for an explicitly named device that does not
 * exist or a TUNEBENCH_VK_DEVICE that is not a number. */
tb_status tb_vulkan_backend_auto(tb_backend **out, const tb_backend_options *opt, char *why, size_t why_size,
                                 tb_error *err);

/* What `tunebench devices` shows: up to cap devices (*count: how many exist) and the
 * loader's instance version. On failure err says why in one line. */
struct tb_vk_device_info;
tb_status tb_vulkan_devices(struct tb_vk_device_info *infos, uint32_t cap, uint32_t *count,
                            uint32_t *instance_version, tb_error *err);

/* The index (tunebench devices) of the device a Vulkan backend runs on; -1 for others. */
int tb_vulkan_backend_device(tb_backend *be);

/* The device context behind a Vulkan backend (benchmarks, tests: timestamps, counters). */
struct tb_vk_ctx *tb_vulkan_backend_ctx(tb_backend *be);

#endif
