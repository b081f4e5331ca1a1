/* tunebench — helpers for the Vulkan kernel suites. */
#include "tests/vulkan/vk_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static tb_vk_ctx *g_ctx;
static int g_tried;

tb_vk_ctx *vkt_ctx(void)
{
    if (!g_tried) {
        g_tried = 1;
        tb_error err;
        tb_error_clear(&err);
        if (tb_vk_ctx_create(&g_ctx, -1, &err) != TB_OK) {
            print_message("# no Vulkan device: %s\n", err.message);
            g_ctx = NULL;
        }
    }
    return g_ctx;
}

int vkt_teardown(void **state)
{
    (void)state;
    int msgs = tb_vk_ctx_validation_messages(g_ctx);
    tb_vk_ctx_free(g_ctx);
    g_ctx = NULL;
    g_tried = 0;
    if (msgs) {
        print_message("# %d validation messages\n", msgs);
        return -1;
    }
    return 0;
}

void vkt_fill(float *x, size_t n, uint32_t seed, float scale)
{
    uint32_t s = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        x[i] = scale * ((float)(s >> 8) / 8388608.0f - 1.0f);
    }
}

void vkt_ok(tb_status st, const tb_error *err)
{
    if (st != TB_OK) {
        char buf[1024];
        fail_msg("%s", tb_error_format(err, buf, sizeof buf));
    }
}

tb_vk_buffer *vkt_buf(tb_vk_ctx *ctx, const void *src, size_t bytes)
{
    size_t total = bytes + VKT_CANARY_BYTES;
    unsigned char *host = malloc(total);
    assert_non_null(host);
    for (size_t i = 0; i + 4 <= total; i += 4)
        memcpy(host + i, &(uint32_t){VKT_CANARY_WORD}, 4);
    if (src)
        memcpy(host, src, bytes);
    tb_error err;
    tb_vk_buffer *b = NULL;
    vkt_ok(tb_vk_buffer_create(ctx, total, "test buffer", &b, &err), &err);
    vkt_ok(tb_vk_upload(ctx, b, 0, host, total, &err), &err);
    free(host);
    return b;
}

void vkt_read(tb_vk_ctx *ctx, tb_vk_buffer *b, void *dst, size_t bytes)
{
    size_t total = bytes + VKT_CANARY_BYTES;
    unsigned char *host = malloc(total);
    assert_non_null(host);
    tb_error err;
    vkt_ok(tb_vk_download(ctx, b, 0, host, total, &err), &err);
    /* The canary starts at the first whole word after the data. */
    for (size_t i = (bytes + 3) & ~(size_t)3; i + 4 <= total; i += 4) {
        uint32_t w;
        memcpy(&w, host + i, 4);
        if (w != VKT_CANARY_WORD) {
            free(host);
            fail_msg("canary overwritten %zu bytes past the end (0x%08x)", i - bytes, w);
        }
    }
    if (dst)
        memcpy(dst, host, bytes);
    free(host);
}

void vkt_expect(const char *what, const float *got, const float *want, size_t n, double max_nmse)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]))
            fail_msg("%s: element %zu is %g", what, i, (double)got[i]);
        double d = (double)got[i] - (double)want[i];
        num += d * d;
        den += (double)want[i] * (double)want[i];
    }
    double nmse = den > 0 ? num / den : num;
    if (!(nmse <= max_nmse))
        fail_msg("%s: normalized MSE %.3g > %.3g", what, nmse, max_nmse);
}

int vkt_run(const char *group, vkt_case *cases, size_t n)
{
    struct CMUnitTest *tests = calloc(n, sizeof *tests);
    assert_non_null(tests);
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].name;
        tests[i].test_func = cases[i].fn;
        tests[i].initial_state = &cases[i];
    }
    int rc = _cmocka_run_group_tests(group, tests, n, NULL, vkt_teardown);
    free(tests);
    return rc;
}
