/* tunebench — helpers for the Vulkan kernel suites: one shared context, seeded inputs,
 * guarded device buffers (a canary region after every buffer that must come back
 * unchanged), and normalized-MSE comparison with NaN/Inf checks.
 *
 * Cases are named with their shapes ("matmul_nt_f32/M=7,N=5,K=3"); every suite skips (TAP
 * "# SKIP") when no Vulkan device exists. */
#ifndef TB_TESTS_VK_TEST_UTIL_H
#define TB_TESTS_VK_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/backend/vulkan/vk_ops.h"

#define VKT_CANARY_BYTES 256u
#define VKT_CANARY_WORD 0xCAFEBABEu

/* The suite's context (created on first use), or NULL after printing why none exists. */
tb_vk_ctx *vkt_ctx(void);
/* cmocka group teardown: checks validation stayed silent, frees the context. */
int vkt_teardown(void **state);
/* Skip the calling test when no device exists. */
#define VKT_CTX(name)                 \
    tb_vk_ctx *name = vkt_ctx();      \
    if (!name)                        \
        skip()

/* n uniform floats in [-scale, scale), from seed (xorshift: the same on every machine). */
void vkt_fill(float *x, size_t n, uint32_t seed, float scale);
/* A guarded buffer: `bytes` of data (copied from src, or the canary word when src is
 * NULL) followed by VKT_CANARY_BYTES of canary. */
tb_vk_buffer *vkt_buf(tb_vk_ctx *ctx, const void *src, size_t bytes);
/* Download `bytes` into dst (may be NULL) and fail the test when the canary after them
 * changed. */
void vkt_read(tb_vk_ctx *ctx, tb_vk_buffer *b, void *dst, size_t bytes);
/* Assert normalized MSE sum((got-want)^2) / sum(want^2) <= max_nmse and every got finite. */
void vkt_expect(const char *what, const float *got, const float *want, size_t n, double max_nmse);
/* Fail the test when a tb_status is not TB_OK, printing the error. */
void vkt_ok(tb_status st, const tb_error *err);

/* The case table of a suite: name (with shapes) + parameters, run by cmocka. */
typedef struct vkt_case {
    char name[96];
    void (*fn)(void **state);
    int p[8];        /* shape parameters, meaning per suite */
} vkt_case;

/* Run cases[0..n) as one cmocka group named group; returns cmocka's exit status. */
int vkt_run(const char *group, vkt_case *cases, size_t n);

#endif
