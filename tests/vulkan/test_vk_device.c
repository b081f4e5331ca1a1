/* Vulkan device handling: the choice among devices (discrete > integrated > virtual > CPU,
 * explicit indices), the loader missing, the validation switch catching a planted error,
 * uploads larger than the staging ring, device memory accounting, timestamps. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/vulkan/vk_context.h"
#include "engine/core/alloc.h"

static tb_vk_device_info fake(VkPhysicalDeviceType type, bool usable, uint32_t index)
{
    tb_vk_device_info d;
    memset(&d, 0, sizeof d);
    d.type = type;
    d.usable = usable;
    d.index = index;
    snprintf(d.name, sizeof d.name, "fake %u", index);
    if (!usable)
        snprintf(d.unusable_why, sizeof d.unusable_why, "Vulkan 1.1 < 1.2");
    return d;
}

static void test_pick(void **state)
{
    (void)state;
    tb_vk_device_info d[4] = {
        fake(VK_PHYSICAL_DEVICE_TYPE_CPU, true, 0), fake(VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU, true, 1),
        fake(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, false, 2), fake(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, true, 3),
    };
    uint32_t pick;
    tb_error err;
    assert_int_equal(tb_vk_device_pick(d, 4, -1, &pick, &err), TB_OK);
    assert_int_equal(pick, 3);   /* the usable discrete GPU, not the first one listed */
    assert_int_equal(tb_vk_device_pick(d, 3, -1, &pick, &err), TB_OK);
    assert_int_equal(pick, 1);   /* integrated beats the CPU device */
    assert_int_equal(tb_vk_device_pick(d, 1, -1, &pick, &err), TB_OK);
    assert_int_equal(pick, 0);   /* lavapipe alone is still a device */
    assert_int_equal(tb_vk_device_pick(d, 4, 0, &pick, &err), TB_OK);
    assert_int_equal(pick, 0);   /* an explicit index wins over the ranking */
    assert_int_equal(tb_vk_device_pick(d, 4, 2, &pick, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "cannot run tunebench: Vulkan 1.1 < 1.2"));
    assert_int_equal(tb_vk_device_pick(d, 4, 4, &pick, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "--device");
    assert_int_equal(tb_vk_device_pick(d, 0, -1, &pick, &err), TB_ERR_DEVICE);
    assert_string_equal(err.message, "no Vulkan device found");
    tb_vk_device_info none[1] = {fake(VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU, false, 0)};
    assert_int_equal(tb_vk_device_pick(none, 1, -1, &pick, &err), TB_ERR_DEVICE);
}

static void test_no_loader(void **state)
{
    (void)state;
    setenv("TUNEBENCH_VK_LOADER", "/nonexistent/libvulkan.so.1", 1);
    tb_vk_ctx *ctx = (tb_vk_ctx *)1;
    tb_error err;
    assert_int_equal(tb_vk_ctx_create(&ctx, -1, &err), TB_ERR_DEVICE);
    unsetenv("TUNEBENCH_VK_LOADER");
    assert_null(ctx);
    assert_string_equal(err.message, "no Vulkan loader (/nonexistent/libvulkan.so.1 not found; install libvulkan1)");
}

static tb_vk_ctx *open_or_skip(void)
{
    tb_vk_ctx *ctx;
    tb_error err;
    if (tb_vk_ctx_create(&ctx, -1, &err) != TB_OK) {
        print_message("# no Vulkan device: %s\n", err.message);
        skip();
    }
    return ctx;
}

/* The switch really turns validation on: a planted invalid call is reported. */
static void test_validation_catches(void **state)
{
    (void)state;
    const char *was = getenv("TUNEBENCH_VK_VALIDATION");
    setenv("TUNEBENCH_VK_VALIDATION", "1", 1);
    tb_vk_ctx *ctx;
    tb_error err;
    tb_status st = tb_vk_ctx_create(&ctx, -1, &err);
    if (!was)
        unsetenv("TUNEBENCH_VK_VALIDATION");
    if (st != TB_OK) {
        /* In the validation run (the variable was set for the whole suite) a missing
         * layer fails; elsewhere it only skips this case. */
        if (was)
            fail_msg("%s", err.message);
        print_message("# validation unavailable: %s\n", err.message);
        skip();
    }
    assert_int_equal(tb_vk_ctx_validation_messages(ctx), 0);
    print_message("# a planted error follows (zero-sized buffer)\n");
    VkBufferCreateInfo bad = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = 0,
                              .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    VkBuffer buf = VK_NULL_HANDLE;
    if (ctx->fn->vkCreateBuffer(ctx->device, &bad, NULL, &buf) == VK_SUCCESS && buf)
        ctx->fn->vkDestroyBuffer(ctx->device, buf, NULL);
    assert_true(tb_vk_ctx_validation_messages(ctx) > 0);
    tb_vk_ctx_free(ctx);
}

/* 40 MiB through a 32 MiB staging ring: chunked, in order, byte for byte. */
static void test_big_upload(void **state)
{
    (void)state;
    tb_vk_ctx *ctx = open_or_skip();
    size_t n = (size_t)40 << 20;
    unsigned char *src = malloc(n), *dst = malloc(n);
    for (size_t i = 0; i < n; i++)
        src[i] = (unsigned char)(i * 2654435761u >> 24);
    tb_mem_stats before, during;
    tb_mem_get_stats(&before);
    tb_vk_buffer *b;
    tb_error err;
    assert_int_equal(tb_vk_buffer_create(ctx, n, "big", &b, &err), TB_OK);
    tb_mem_get_stats(&during);
    /* device bytes are accounted as TB_MEM_DEVICE, not as host memory */
    assert_true(during.current[TB_MEM_DEVICE] - before.current[TB_MEM_DEVICE] >= (int64_t)n);
    assert_int_equal(during.total_current - before.total_current, 0);
    assert_int_equal(tb_vk_upload(ctx, b, 0, src, n, &err), TB_OK);
    assert_int_equal(tb_vk_download(ctx, b, 0, dst, n, &err), TB_OK);
    assert_memory_equal(src, dst, n);
    assert_int_equal(tb_vk_download(ctx, b, n - 3, dst, 4, &err), TB_ERR_INVALID);
    tb_vk_buffer_free(b);
    tb_mem_get_stats(&during);
    assert_int_equal(during.current[TB_MEM_DEVICE], before.current[TB_MEM_DEVICE]);
    free(src);
    free(dst);
    int msgs = tb_vk_ctx_validation_messages(ctx);
    tb_vk_ctx_free(ctx);
    assert_int_equal(msgs, 0);
}

static void test_timestamps(void **state)
{
    (void)state;
    tb_vk_ctx *ctx = open_or_skip();
    tb_error err;
    if (tb_vk_timestamp(ctx, 0, &err) == TB_ERR_UNSUPPORTED) {
        tb_vk_ctx_free(ctx);
        skip();
    }
    tb_vk_buffer *b;
    assert_int_equal(tb_vk_buffer_create(ctx, 1 << 20, "t", &b, &err), TB_OK);
    assert_int_equal(tb_vk_fill(ctx, b, 0, 1 << 20, 7, &err), TB_OK);
    assert_int_equal(tb_vk_timestamp(ctx, 1, &err), TB_OK);
    assert_int_equal(tb_vk_flush(ctx, &err), TB_OK);
    double ns[2];
    assert_int_equal(tb_vk_timestamps_read(ctx, 2, ns, &err), TB_OK);
    assert_true(ns[1] >= ns[0]);
    tb_vk_buffer_free(b);
    tb_vk_ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_no_loader),
        cmocka_unit_test(test_validation_catches),
        cmocka_unit_test(test_big_upload),
        cmocka_unit_test(test_timestamps),
    };
    return cmocka_run_group_tests_name("vk_device", tests, NULL, NULL);
}
