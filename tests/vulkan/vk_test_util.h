/* tunebench — helpers for the Vulkan kernel suites (ggml test-backend-ops style): every op
 * runs on two backends through backend.h's table, the oracle (index 0: the CPU backend)
 * and Vulkan (1), on the same inputs; outputs are compared by normalized MSE with NaN/Inf
 * checks, and every tensor sits inside a larger buffer between canary regions (before and
 * after) that must come back unchanged. Outputs an op fully overwrites ("=") start as NaN, so a missed
 * element shows.
 *
 * Cases are named with their shapes ("matmul_nt_f32/M=7,N=5,K=3"); suites skip (TAP
 * "# SKIP") when no Vulkan device exists. */
#ifndef TB_TESTS_VK_TEST_UTIL_H
#define TB_TESTS_VK_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/backend/backend.h"

#define VKT_LEAD 3      /* canary elements before each view (odd: unaligned offsets) */
#define VKT_TAIL 61     /* canary elements after it */

/* Backend i (0 oracle, 1 vulkan); NULL when Vulkan is unavailable (vkt_ready). */
tb_backend *vkt_be(int i);
bool vkt_ready(void);
/* Skip the calling test when there is no Vulkan device. */
#define VKT_NEED()       \
    if (!vkt_ready())    \
        skip()
/* Run `body` once per backend with `be` (and index i) bound. */
#define VKT_BOTH(body)                        \
    for (int i = 0; i < 2; i++) {             \
        tb_backend *be = vkt_be(i);           \
        body;                                 \
    }
/* Use a TB_PRECISION_BF16 pair of backends from now on (matmul's bf16 path). */
void vkt_set_precision(tb_precision p);
/* cmocka group teardown: validation must have stayed silent; frees the backends. */
int vkt_teardown(void **state);

typedef struct vkt_tensor {
    tb_dtype dt;
    size_t n;
    tb_buf *buf[2];
    tb_view v[2];       /* the tensor: VKT_LEAD elements into buf */
} vkt_tensor;

/* A tensor of n elements on both backends. vals: n floats converted to dt, or (dt I32) n
 * int32_t; NULL: NaN (F32) or all ones (16-bit), for outputs the op must overwrite. */
vkt_tensor vkt_new(tb_dtype dt, size_t n, const void *vals);
void vkt_free(vkt_tensor *t);
/* Sync both backends (failing the test on an error), check canaries around t on both, and
 * compare t's elements: normalized MSE sum((vk - ref)^2) / sum(ref^2) <= max_nmse, every
 * Vulkan element finite. */
void vkt_expect(const char *what, const vkt_tensor *t, double max_nmse);
/* Sync, check canaries, and require t's bytes to be identical on both backends. */
void vkt_expect_bits(const char *what, const vkt_tensor *t);
/* Both backends' sync status must be `want`; returns the Vulkan error message. */
const char *vkt_sync_expect(tb_status want);

/* n uniform floats in [-scale, scale) from seed (xorshift: the same on every machine). */
void vkt_fill(float *x, size_t n, uint32_t seed, float scale);
/* A fresh seeded array (free it). */
float *vkt_rand(size_t n, uint32_t seed, float scale);

/* The case table of a suite: name (with shapes) + parameters, run by cmocka. */
typedef struct vkt_case {
    char name[96];
    void (*fn)(void **state);
    int p[8];        /* shape parameters, meaning per suite */
} vkt_case;

/* Append a case; returns it for its parameters. */
vkt_case *vkt_add(vkt_case *cases, size_t *n, size_t cap, void (*fn)(void **), const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Run cases[0..n) as one cmocka group; returns cmocka's exit status. */
int vkt_run(const char *group, vkt_case *cases, size_t n);

#endif
