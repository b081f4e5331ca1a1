/* tunebench — helpers for the Vulkan kernel suites. */
#include "tests/vulkan/vk_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/vulkan/vk_backend.h"
#include "engine/backend/vulkan/vk_context.h"

static tb_backend *g_be[2];
static int g_tried;
static tb_precision g_precision = TB_PRECISION_F32;

static void open_backends(void)
{
    if (g_tried)
        return;
    g_tried = 1;
    tb_backend_options opt = {.device = -1, .precision = g_precision};
    tb_error err;
    tb_error_clear(&err);
    if (tb_vulkan_backend_create(&g_be[1], &opt, &err) != TB_OK) {
        /* A validation run must not pass by skipping: a missing layer is a failure. */
        if (getenv("TUNEBENCH_VK_VALIDATION") && strstr(err.message, "TUNEBENCH_VK_VALIDATION"))
            fail_msg("%s", err.message);
        print_message("# no Vulkan device: %s\n", err.message);
        return;
    }
    if (tb_backend_create(&g_be[0], "cpu", &opt, NULL, 0, &err) != TB_OK)
        fail_msg("the CPU backend (the oracle) failed: %s", err.message);
}

static void close_backends(void)
{
    for (int i = 0; i < 2; i++) {
        if (g_be[i])
            g_be[i]->ops->destroy(g_be[i]);
        g_be[i] = NULL;
    }
    g_tried = 0;
}

bool vkt_ready(void)
{
    open_backends();
    return g_be[1] != NULL;
}

tb_backend *vkt_be(int i)
{
    open_backends();
    return g_be[i];
}

void vkt_set_precision(tb_precision p)
{
    if (p != g_precision) {
        close_backends();
        g_precision = p;
    }
}

int vkt_teardown(void **state)
{
    (void)state;
    int msgs = tb_vk_ctx_validation_messages(tb_vulkan_backend_ctx(g_be[1]));
    close_backends();
    if (msgs) {
        print_message("# %d Vulkan validation messages (see stderr)\n", msgs);
        return -1;
    }
    return 0;
}

static void fail_err(const char *what, const tb_error *err)
{
    char buf[1024];
    fail_msg("%s: %s", what, tb_error_format(err, buf, sizeof buf));
}

/* The canary element of dtype dt, as bytes. */
static void canary(tb_dtype dt, unsigned char *out)
{
    uint32_t w = 0xCAFEBABEu;
    memcpy(out, &w, tb_dtype_size(dt));
}

vkt_tensor vkt_new(tb_dtype dt, size_t n, const void *vals)
{
    vkt_tensor t = {.dt = dt, .n = n};
    size_t es = tb_dtype_size(dt), total = VKT_LEAD + n + VKT_TAIL;
    unsigned char *host = malloc(total * es);
    assert_non_null(host);
    for (size_t i = 0; i < total; i++)
        canary(dt, host + i * es);
    unsigned char *view = host + VKT_LEAD * es;
    if (vals && dt == TB_DTYPE_I32)
        memcpy(view, vals, n * es);
    else if (vals)
        tb_convert_from_f32(view, dt, vals, n);
    else
        for (size_t i = 0; i < n; i++) {
            float f = dt == TB_DTYPE_F32 ? NAN : 1.0f;
            if (dt == TB_DTYPE_I32)
                memset(view + i * es, 0, es);
            else
                tb_convert_from_f32(view + i * es, dt, &f, 1);
        }
    for (int i = 0; i < 2; i++) {
        tb_backend *be = vkt_be(i);
        tb_error err;
        if (be->ops->buf_alloc(be, &t.buf[i], dt, total, TB_MEM_SCRATCH, &err) != TB_OK)
            fail_err("buf_alloc", &err);
        be->ops->upload(be, (tb_view){t.buf[i], 0}, host, total);
        t.v[i] = (tb_view){t.buf[i], VKT_LEAD};
    }
    free(host);
    return t;
}

void vkt_free(vkt_tensor *t)
{
    for (int i = 0; i < 2; i++)
        if (t->buf[i])
            vkt_be(i)->ops->buf_free(vkt_be(i), t->buf[i]);
    memset(t, 0, sizeof *t);
}

const char *vkt_sync_expect(tb_status want)
{
    static tb_error err;
    for (int i = 0; i < 2; i++) {
        tb_error_clear(&err);
        tb_status st = vkt_be(i)->ops->sync(vkt_be(i), &err);
        if (st != want) {
            char buf[1024];
            fail_msg("%s backend sync: got status %d, want %d (%s)", vkt_be(i)->name, (int)st, (int)want,
                     tb_error_format(&err, buf, sizeof buf));
        }
    }
    return err.message;
}

/* The whole buffer of t on backend i, canaries checked; returns the tensor's bytes' base. */
static unsigned char *fetch_raw(const vkt_tensor *t, int i, const char *what)
{
    tb_backend *be = vkt_be(i);
    size_t es = tb_dtype_size(t->dt), total = VKT_LEAD + t->n + VKT_TAIL;
    unsigned char *host = malloc(total * es), want[8];
    tb_error err;
    if (be->ops->download(be, host, (tb_view){t->buf[i], 0}, total, &err) != TB_OK)
        fail_err(what, &err);
    canary(t->dt, want);
    for (size_t j = 0; j < total; j++) {
        if (j == VKT_LEAD)
            j += t->n;
        if (j < total && memcmp(host + j * es, want, es) != 0)
            fail_msg("%s: %s backend overwrote the canary %s the tensor (element %td)", what, be->name,
                     j < VKT_LEAD ? "before" : "after", (ptrdiff_t)j - VKT_LEAD);
    }
    return host;
}

void vkt_expect_bits(const char *what, const vkt_tensor *t)
{
    vkt_sync_expect(TB_OK);
    size_t es = tb_dtype_size(t->dt);
    unsigned char *ref = fetch_raw(t, 0, what), *got = fetch_raw(t, 1, what);
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(ref + (VKT_LEAD + i) * es, got + (VKT_LEAD + i) * es, es) != 0) {
            uint32_t r = 0, g = 0;
            memcpy(&r, ref + (VKT_LEAD + i) * es, es);
            memcpy(&g, got + (VKT_LEAD + i) * es, es);
            free(ref);
            free(got);
            fail_msg("%s: element %zu is 0x%x, reference 0x%x", what, i, g, r);
        }
    free(ref);
    free(got);
}

/* Elements of t on backend i as floats (canaries checked). */
static float *fetch(const vkt_tensor *t, int i, const char *what)
{
    size_t es = tb_dtype_size(t->dt);
    unsigned char *host = fetch_raw(t, i, what);
    float *out = malloc((t->n ? t->n : 1) * sizeof *out);
    if (t->dt == TB_DTYPE_I32)
        for (size_t j = 0; j < t->n; j++)
            out[j] = (float)((const int32_t *)(host + VKT_LEAD * es))[j];
    else
        tb_convert_to_f32(out, host + VKT_LEAD * es, t->dt, t->n);
    free(host);
    return out;
}

void vkt_expect(const char *what, const vkt_tensor *t, double max_nmse)
{
    vkt_sync_expect(TB_OK);
    float *ref = fetch(t, 0, what), *got = fetch(t, 1, what);
    double num = 0, den = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!isfinite(got[i]) && isfinite(ref[i]))
            fail_msg("%s: element %zu is %g (reference %g)", what, i, (double)got[i], (double)ref[i]);
        double d = (double)got[i] - (double)ref[i];
        num += d * d;
        den += (double)ref[i] * (double)ref[i];
    }
    double nmse = den > 0 ? num / den : num;
    free(ref);
    free(got);
    if (!(nmse <= max_nmse))
        fail_msg("%s: normalized MSE %.3g > %.3g", what, nmse, max_nmse);
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

float *vkt_rand(size_t n, uint32_t seed, float scale)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    vkt_fill(x, n, seed, scale);
    return x;
}

vkt_case *vkt_add(vkt_case *cases, size_t *n, size_t cap, void (*fn)(void **), const char *fmt, ...)
{
    if (*n >= cap) {
        fprintf(stderr, "vkt_add: more than %zu cases\n", cap);
        abort();
    }
    vkt_case *c = &cases[(*n)++];
    memset(c, 0, sizeof *c);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->name, sizeof c->name, fmt, ap);
    va_end(ap);
    c->fn = fn;
    return c;
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
