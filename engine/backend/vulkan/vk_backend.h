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

/* The device context behind a Vulkan backend (benchmarks, tests: timestamps, counters). */
struct tb_vk_ctx *tb_vulkan_backend_ctx(tb_backend *be);

#endif
