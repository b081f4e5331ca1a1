/* GGUF: the writer's bytes against a file laid out by hand from the spec (ggml docs/gguf.md),
 * a round trip of every value type, and the reader's rejections, one malformation each. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/core/fs.h"
#include "engine/io/gguf.h"

static char g_dir[256];

static const char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    return buf;
}

/* ------------------------------------------------------------------ hand-made bytes */

typedef struct bytes {
    unsigned char b[4096];
    size_t n;
} bytes;

static void u(bytes *b, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

static void s(bytes *b, const char *str)
{
    u(b, strlen(str), 8);
    memcpy(b->b + b->n, str, strlen(str));
    b->n += strlen(str);
}

static void pad(bytes *b)
{
    while (b->n % 32)
        b->b[b->n++] = 0;
}

/* general.architecture = "llama", adapter.lora.alpha = 16.0f, one F32 tensor "w" ne {2, 3}. */
static void reference_file(bytes *b, const float *w)
{
    b->n = 0;
    memcpy(b->b, "GGUF", 4);
    b->n = 4;
    u(b, 3, 4);
    u(b, 1, 8); /* tensors */
    u(b, 2, 8); /* kv */
    s(b, "general.architecture");
    u(b, 8, 4);
    s(b, "llama");
    s(b, "adapter.lora.alpha");
    u(b, 6, 4);
    u(b, 0x41800000u, 4); /* 16.0f */
    s(b, "w");
    u(b, 2, 4);
    u(b, 2, 8);
    u(b, 3, 8);
    u(b, 0, 4); /* F32 */
    u(b, 0, 8); /* offset */
    pad(b);
    memcpy(b->b + b->n, w, 6 * sizeof *w);
    b->n += 6 * sizeof *w;
    pad(b);
}

static void write_bytes(const char *path, const bytes *b)
{
    tb_error err;
    assert_int_equal(tb_atomic_write(path, b->b, b->n, &err), TB_OK);
}

static void test_writer_bytes_equal_spec_layout(void **state)
{
    (void)state;
    const float w[6] = {1, 2, 3, 4, 5, -6};
    bytes want;
    reference_file(&want, w);
    tb_gguf_writer *gw;
    tb_error err;
    assert_int_equal(tb_gguf_writer_create(&gw, &err), TB_OK);
    assert_int_equal(tb_gguf_set_str(gw, "general.architecture", "llama", &err), TB_OK);
    assert_int_equal(tb_gguf_set_f32(gw, "adapter.lora.alpha", 16.0f, &err), TB_OK);
    int64_t ne[2] = {2, 3};
    assert_int_equal(tb_gguf_add_tensor(gw, "w", TB_GGML_F32, 2, ne, w, &err), TB_OK);
    const char *p = tmp_path("ref.gguf");
    assert_int_equal(tb_gguf_writer_write(gw, p, &err), TB_OK);
    tb_gguf_writer_free(gw);
    char *got;
    size_t len;
    assert_int_equal(tb_read_file(p, &got, &len, &err), TB_OK);
    assert_int_equal(len, want.n);
    assert_memory_equal(got, want.b, want.n);
    free(got);
}

static void test_round_trip_types(void **state)
{
    (void)state;
    tb_gguf_writer *gw;
    tb_error err;
    assert_int_equal(tb_gguf_writer_create(&gw, &err), TB_OK);
    const char *names[3] = {"a", "", "ccc"};
    assert_int_equal(tb_gguf_set_str(gw, "s", "hello", &err), TB_OK);
    assert_int_equal(tb_gguf_set_u32(gw, "u32", 4000000000u, &err), TB_OK);
    assert_int_equal(tb_gguf_set_i32(gw, "i32", -7, &err), TB_OK);
    assert_int_equal(tb_gguf_set_u64(gw, "u64", 1ull << 40, &err), TB_OK);
    assert_int_equal(tb_gguf_set_f32(gw, "f32", 0.25f, &err), TB_OK);
    assert_int_equal(tb_gguf_set_bool(gw, "b", true, &err), TB_OK);
    assert_int_equal(tb_gguf_set_str_array(gw, "arr", names, 3, &err), TB_OK);
    assert_int_equal(tb_gguf_set_u32(gw, "u32", 1, &err), TB_ERR_INVALID); /* twice */
    float a[3 * 5], bq[4 * 3];
    uint16_t h[64];
    for (int i = 0; i < 15; i++)
        a[i] = (float)i * 0.5f;
    for (int i = 0; i < 12; i++)
        bq[i] = -(float)i;
    for (int i = 0; i < 64; i++)
        h[i] = (uint16_t)(i * 977);
    int64_t ne_a[2] = {5, 3}, ne_b[2] = {3, 4}, ne_h[1] = {64};
    assert_int_equal(tb_gguf_add_tensor(gw, "blk.0.attn_q.weight.lora_a", TB_GGML_F32, 2, ne_a, a, &err), TB_OK);
    assert_int_equal(tb_gguf_add_tensor(gw, "blk.0.attn_q.weight.lora_b", TB_GGML_F32, 2, ne_b, bq, &err), TB_OK);
    assert_int_equal(tb_gguf_add_tensor(gw, "h", TB_GGML_F16, 1, ne_h, h, &err), TB_OK);
    assert_int_equal(tb_gguf_add_tensor(gw, "h", TB_GGML_F16, 1, ne_h, h, &err), TB_ERR_INVALID);
    int64_t ne_q[1] = {33};
    assert_int_equal(tb_gguf_add_tensor(gw, "q", TB_GGML_Q8_0, 1, ne_q, h, &err), TB_ERR_INVALID);
    const char *p = tmp_path("rt.gguf");
    assert_int_equal(tb_gguf_writer_write(gw, p, &err), TB_OK);
    tb_gguf_writer_free(gw);

    tb_gguf *g;
    assert_int_equal(tb_gguf_open(&g, p, &err), TB_OK);
    assert_int_equal(tb_gguf_version(g), 3);
    assert_int_equal(tb_gguf_alignment(g), 32);
    assert_int_equal(tb_gguf_data_offset(g) % 32, 0);
    assert_int_equal(tb_gguf_kv_count(g), 7);
    assert_string_equal(tb_gguf_kv_at(g, 0)->key, "s"); /* file order kept */
    assert_string_equal(tb_gguf_get_str(g, "s"), "hello");
    uint32_t u32;
    assert_true(tb_gguf_get_u32(g, "u32", &u32));
    assert_int_equal(u32, 4000000000u);
    assert_int_equal(tb_gguf_find_kv(g, "i32")->i, -7);
    assert_int_equal(tb_gguf_find_kv(g, "u64")->u, 1ull << 40);
    float f;
    assert_true(tb_gguf_get_f32(g, "f32", &f));
    assert_true(f == 0.25f);
    assert_false(tb_gguf_get_f32(g, "s", &f)); /* wrong type */
    assert_int_equal(tb_gguf_find_kv(g, "b")->u, 1);
    const tb_gguf_kv *arr = tb_gguf_find_kv(g, "arr");
    assert_int_equal(arr->type, TB_GGUF_ARRAY);
    assert_int_equal(arr->arr_type, TB_GGUF_STRING);
    assert_int_equal(arr->arr_n, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(arr->arr_str[i], names[i]);
    assert_null(tb_gguf_find_kv(g, "nope"));
    assert_int_equal(tb_gguf_tensor_count(g), 3);
    const tb_gguf_tensor *t = tb_gguf_find_tensor(g, "blk.0.attn_q.weight.lora_a");
    assert_non_null(t);
    assert_int_equal(t->n_dims, 2);
    assert_int_equal(t->ne[0], 5);
    assert_int_equal(t->ne[1], 3);
    assert_int_equal(t->ne[2], 1);
    assert_int_equal(t->bytes, sizeof a);
    assert_memory_equal(t->data, a, sizeof a);
    t = tb_gguf_find_tensor(g, "blk.0.attn_q.weight.lora_b");
    assert_int_equal(t->offset % 32, 0);
    assert_memory_equal(t->data, bq, sizeof bq);
    t = tb_gguf_find_tensor(g, "h");
    assert_int_equal(t->type, TB_GGML_F16);
    assert_memory_equal(t->data, h, sizeof h);
    tb_gguf_close(g);
}

/* ------------------------------------------------------------------ rejections */

static void expect_reject(const bytes *b, const char *name, const char *needle)
{
    const char *p = tmp_path(name);
    write_bytes(p, b);
    tb_gguf *g = NULL;
    tb_error err;
    tb_error_clear(&err);
    tb_status st = tb_gguf_open(&g, p, &err);
    if (st == TB_OK)
        fail_msg("%s: accepted", name);
    assert_null(g);
    char msg[2048];
    tb_error_format(&err, msg, sizeof msg);
    if (!strstr(msg, needle))
        fail_msg("%s: message '%s' lacks '%s'", name, msg, needle);
    assert_non_null(strstr(msg, p)); /* the file is named */
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    const float w[6] = {1, 2, 3, 4, 5, 6};
    bytes ok, b;
    reference_file(&ok, w);

    b = ok;
    b.b[0] = 'X';
    expect_reject(&b, "magic.gguf", "not a GGUF file");
    b = ok;
    b.b[4] = 2;
    expect_reject(&b, "v2.gguf", "version 2");
    b = ok;
    b.b[4] = 0, b.b[7] = 3;
    expect_reject(&b, "bigendian.gguf", "big-endian");
    b = ok;
    b.n = 20;
    expect_reject(&b, "short.gguf", "too short");
    b = ok;
    b.b[8 + 7] = 0x10; /* tensor count 2^60 */
    expect_reject(&b, "count.gguf", "more than");
    b = ok;
    b.n = 100; /* cut inside the second key's value */
    expect_reject(&b, "cut.gguf", "runs past the end");
    b = ok;
    b.b[24 + 8 + 20] = 13; /* value type of the first key */
    expect_reject(&b, "vtype.gguf", "unknown value type 13");
    b = ok;
    b.b[24 + 8 + 3] = 1; /* "general.architecture" -> a control byte in the key */
    expect_reject(&b, "key.gguf", "printable ASCII");
    /* the second key renamed to the first's length-prefix-compatible duplicate: rebuild */
    bytes d = {.n = 0};
    memcpy(d.b, "GGUF", 4);
    d.n = 4;
    u(&d, 3, 4), u(&d, 0, 8), u(&d, 2, 8);
    s(&d, "a"), u(&d, 4, 4), u(&d, 1, 4);
    s(&d, "a"), u(&d, 4, 4), u(&d, 2, 4);
    expect_reject(&d, "dupkey.gguf", "duplicate key");
    d.n = 0;
    memcpy(d.b, "GGUF", 4);
    d.n = 4;
    u(&d, 3, 4), u(&d, 0, 8), u(&d, 1, 8);
    s(&d, "general.alignment"), u(&d, 4, 4), u(&d, 24, 4);
    expect_reject(&d, "align.gguf", "not a power of two");
    d.n = 0;
    memcpy(d.b, "GGUF", 4);
    d.n = 4;
    u(&d, 3, 4), u(&d, 0, 8), u(&d, 1, 8);
    s(&d, "nest"), u(&d, 9, 4), u(&d, 9, 4), u(&d, 0, 8);
    expect_reject(&d, "nested.gguf", "arrays of arrays");
    d.n = 0;
    memcpy(d.b, "GGUF", 4);
    d.n = 4;
    u(&d, 3, 4), u(&d, 0, 8), u(&d, 1, 8);
    s(&d, "arr"), u(&d, 9, 4), u(&d, 4, 4), u(&d, 1ull << 40, 8);
    expect_reject(&d, "arrlen.gguf", "array data");
    d.n = 0;
    memcpy(d.b, "GGUF", 4);
    d.n = 4;
    u(&d, 3, 4), u(&d, 0, 8), u(&d, 1, 8);
    s(&d, "flag"), u(&d, 7, 4), u(&d, 2, 1);
    expect_reject(&d, "bool.gguf", "not 0 or 1");

    /* tensor info: offsets into the record after the two keys */
    size_t ti = 24 + (8 + 20 + 4 + 8 + 5) + (8 + 18 + 4 + 4);
    b = ok;
    b.b[ti + 8 + 1] = 5; /* n_dims 5 */
    expect_reject(&b, "ndims.gguf", "5 dimensions");
    b = ok;
    b.b[ti + 8 + 1 + 4 + 16] = 99; /* ggml type */
    expect_reject(&b, "ttype.gguf", "unknown ggml type 99");
    b = ok;
    b.b[ti + 8 + 1 + 4 + 16 + 4] = 8; /* offset 8: misaligned */
    expect_reject(&b, "misaligned.gguf", "not a multiple of 32");
    b = ok;
    b.b[ti + 8 + 1 + 4 + 16 + 4] = 32; /* offset 32: data past the end */
    expect_reject(&b, "pastend.gguf", "runs past the end");
    b = ok;
    b.b[ti + 8 + 1 + 4 + 8 + 7] = 0x80; /* ne[1] negative */
    expect_reject(&b, "negdim.gguf", "negative");
    b = ok;
    b.b[ti + 8 + 1 + 4 + 16] = 8; /* Q8_0 with ne[0] = 2 */
    expect_reject(&b, "block.gguf", "not a multiple of Q8_0's block");
    b = ok;
    b.b[ti + 8] = 0; /* name "w" -> a NUL byte */
    expect_reject(&b, "tname.gguf", "without NULs");

    /* two tensors: same name, then overlapping data */
    for (int k = 0; k < 2; k++) {
        d.n = 0;
        memcpy(d.b, "GGUF", 4);
        d.n = 4;
        u(&d, 3, 4), u(&d, 2, 8), u(&d, 0, 8);
        s(&d, "x"), u(&d, 1, 4), u(&d, 8, 8), u(&d, 0, 4), u(&d, 0, 8);
        s(&d, k ? "y" : "x"), u(&d, 1, 4), u(&d, 8, 8), u(&d, 0, 4), u(&d, 0, 8);
        pad(&d);
        memset(d.b + d.n, 0, 64);
        d.n += 64;
        expect_reject(&d, k ? "overlap.gguf" : "duptensor.gguf", k ? "overlaps" : "duplicate tensor name");
    }
    /* the good file passes, and every truncation of it fails cleanly */
    write_bytes(tmp_path("ok.gguf"), &ok);
    tb_gguf *g;
    tb_error err;
    assert_int_equal(tb_gguf_open(&g, tmp_path("ok.gguf"), &err), TB_OK);
    tb_gguf_close(g);
    for (size_t n = 0; n + 8 < ok.n; n++) { /* the last 8 bytes are padding */
        b = ok;
        b.n = n;
        write_bytes(tmp_path("trunc.gguf"), &b);
        assert_int_not_equal(tb_gguf_open(&g, tmp_path("trunc.gguf"), &err), TB_OK);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tb_gguf_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer_bytes_equal_spec_layout),
        cmocka_unit_test(test_round_trip_types),
        cmocka_unit_test(test_rejects_malformed),
    };
    return cmocka_run_group_tests_name("gguf", tests, setup, teardown);
}
