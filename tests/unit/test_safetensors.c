/* safetensors: byte-identity with the reference writer, round trips, and every rejection.
 *
 * The expected bytes of the reference cases are the published vectors of
 * huggingface/safetensors safetensors/src/tensor.rs (tests test_serialization, test_empty,
 * test_serialization_forced_alignement); the multi-dtype order case is derived by hand from
 * that file's `prepare` (sort by dtype alignment descending, then name). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/core/fs.h"
#include "engine/io/safetensors.h"

static char g_dir[256];

static const char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    return buf;
}

static unsigned char *read_all(const char *path, size_t *len)
{
    char *data;
    tb_error err;
    assert_int_equal(tb_read_file(path, &data, len, &err), TB_OK);
    return (unsigned char *)data;
}

static void assert_file_bytes(const char *path, const unsigned char *want, size_t want_len)
{
    size_t len;
    unsigned char *got = read_all(path, &len);
    assert_int_equal(len, want_len);
    assert_memory_equal(got, want, want_len);
    free(got);
}

static const float six[6] = {0, 1, 2, 3, 4, 5};

/* tensor.rs test_serialization: "attn.0" F32 [1,2,3] = 0..5 */
static void test_reference_serialization(void **state)
{
    (void)state;
    static const unsigned char want[] = {
        64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
        116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
        58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
        101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
        0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64};
    tb_st_write t = {"attn.0", TB_DTYPE_F32, 3, {1, 2, 3}, six};
    tb_error err;
    const char *p = tmp_path("ref1.safetensors");
    assert_int_equal(tb_safetensors_write(p, &t, 1, NULL, 0, &err), TB_OK);
    assert_file_bytes(p, want, sizeof want);
    assert_int_equal(tb_safetensors_file_size(&t, 1, NULL, 0), sizeof want);
}

/* tensor.rs test_serialization_forced_alignement: "attn0" F32 [1,1,2,3], 7 pad spaces. */
static void test_reference_forced_alignment(void **state)
{
    (void)state;
    static const unsigned char want[] = {
        72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
        121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
        91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
        115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
        32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
        160, 64};
    tb_st_write t = {"attn0", TB_DTYPE_F32, 4, {1, 1, 2, 3}, six};
    tb_error err;
    const char *p = tmp_path("ref2.safetensors");
    assert_int_equal(tb_safetensors_write(p, &t, 1, NULL, 0, &err), TB_OK);
    assert_file_bytes(p, want, sizeof want);
}

/* tensor.rs test_empty: no tensors, with and without {"framework": "pt"}. */
static void test_reference_empty(void **state)
{
    (void)state;
    static const unsigned char want0[] = {8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32};
    static const unsigned char want1[] = {
        40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
        95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
        116, 34, 125, 125, 32, 32, 32, 32, 32};
    tb_error err;
    const char *p = tmp_path("empty.safetensors");
    assert_int_equal(tb_safetensors_write(p, NULL, 0, NULL, 0, &err), TB_OK);
    assert_file_bytes(p, want0, sizeof want0);
    const char *meta[] = {"framework", "pt"};
    assert_int_equal(tb_safetensors_write(p, NULL, 0, meta, 1, &err), TB_OK);
    assert_file_bytes(p, want1, sizeof want1);
    assert_int_equal(tb_safetensors_file_size(NULL, 0, meta, 1), sizeof want1);
    tb_safetensors *st;
    assert_int_equal(tb_safetensors_open(&st, p, &err), TB_OK);
    assert_int_equal(tb_safetensors_count(st), 0);
    assert_string_equal(tb_safetensors_metadata(st, "framework"), "pt");
    tb_safetensors_close(st);
}

/* Order: F32 (a, a2) before BF16 (z) before U8 (b), whatever order they are given in; the
 * metadata keys come out sorted. Expected header written out by hand. */
static void test_dtype_order_and_metadata(void **state)
{
    (void)state;
    uint8_t u8[3] = {7, 8, 9};
    uint16_t bf[2] = {0x3f80, 0x4000};
    float f1 = 1.5f, f2 = -2.0f;
    tb_st_write ts[] = {
        {"b", TB_DTYPE_U8, 1, {3}, u8},
        {"z", TB_DTYPE_BF16, 2, {1, 2}, bf},
        {"a2", TB_DTYPE_F32, 0, {0}, &f2},
        {"a", TB_DTYPE_F32, 1, {1}, &f1},
    };
    const char *meta[] = {"format", "pt", "base", "x"};
    const char *hdr = "{\"__metadata__\":{\"base\":\"x\",\"format\":\"pt\"},"
                      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"a2\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]},"
                      "\"z\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[8,12]},"
                      "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[12,15]}}";
    size_t hl = strlen(hdr), padded = (hl + 7) / 8 * 8;
    unsigned char want[512];
    memset(want, ' ', sizeof want);
    for (int i = 0; i < 8; i++)
        want[i] = (unsigned char)(padded >> (8 * i));
    memcpy(want + 8, hdr, hl);
    unsigned char *d = want + 8 + padded;
    memcpy(d, &f1, 4);
    memcpy(d + 4, &f2, 4);
    memcpy(d + 8, bf, 4);
    memcpy(d + 12, u8, 3);
    size_t want_len = 8 + padded + 15;
    tb_error err;
    const char *p = tmp_path("order.safetensors");
    assert_int_equal(tb_safetensors_write(p, ts, 4, meta, 2, &err), TB_OK);
    assert_file_bytes(p, want, want_len);
    assert_int_equal(tb_safetensors_file_size(ts, 4, meta, 2), want_len);
}

static void test_round_trip(void **state)
{
    (void)state;
    float w[12];
    for (int i = 0; i < 12; i++)
        w[i] = (float)i * 0.25f - 1.0f;
    uint16_t h[5] = {1, 2, 3, 4, 5};
    int32_t ids[4] = {-1, 0, 1, 1 << 30};
    tb_st_write ts[] = {
        {"model.layers.0.mlp.up_proj.weight", TB_DTYPE_F32, 2, {3, 4}, w},
        {"half", TB_DTYPE_F16, 1, {5}, h},
        {"ids", TB_DTYPE_I32, 2, {2, 2}, ids},
        {"empty", TB_DTYPE_F32, 2, {0, 4}, NULL},
    };
    const char *meta[] = {"format", "pt"};
    tb_error err;
    const char *p = tmp_path("rt.safetensors");
    assert_int_equal(tb_safetensors_write(p, ts, 4, meta, 1, &err), TB_OK);
    tb_safetensors *st;
    assert_int_equal(tb_safetensors_open(&st, p, &err), TB_OK);
    assert_int_equal(tb_safetensors_count(st), 4);
    assert_string_equal(tb_safetensors_path(st), p);
    for (size_t i = 0; i < 4; i++) {
        const tb_st_tensor *t = tb_safetensors_find(st, ts[i].name);
        assert_non_null(t);
        assert_int_equal(t->dtype, ts[i].dtype);
        assert_int_equal(t->ndim, ts[i].ndim);
        for (int k = 0; k < t->ndim; k++)
            assert_int_equal(t->shape[k], ts[i].shape[k]);
        if (t->end > t->begin)
            assert_memory_equal(t->data, ts[i].data, t->end - t->begin);
    }
    /* at() walks in data order, offsets contiguous */
    uint64_t at = 0;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(tb_safetensors_at(st, i)->begin, at);
        at = tb_safetensors_at(st, i)->end;
    }
    assert_null(tb_safetensors_at(st, 4));
    assert_null(tb_safetensors_find(st, "nope"));
    assert_null(tb_safetensors_find(st, ""));
    assert_string_equal(tb_safetensors_metadata(st, "format"), "pt");
    assert_null(tb_safetensors_metadata(st, "other"));
    tb_safetensors_close(st);
    tb_safetensors_close(NULL);
}

static void test_writer_rejects(void **state)
{
    (void)state;
    float x = 0;
    tb_error err;
    tb_st_write dup[] = {{"a", TB_DTYPE_F32, 1, {1}, &x}, {"a", TB_DTYPE_F16, 1, {1}, &x}};
    assert_int_equal(tb_safetensors_write(tmp_path("w.safetensors"), dup, 2, NULL, 0, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "a");
    tb_st_write nodata = {"n", TB_DTYPE_F32, 1, {1}, NULL};
    assert_int_equal(tb_safetensors_write(tmp_path("w.safetensors"), &nodata, 1, NULL, 0, &err), TB_ERR_INVALID);
    tb_st_write nf4 = {"q", TB_DTYPE_NF4, 1, {2}, &x};
    assert_int_equal(tb_safetensors_write(tmp_path("w.safetensors"), &nf4, 1, NULL, 0, &err), TB_ERR_INVALID);
    assert_int_equal(tb_safetensors_file_size(&nf4, 1, NULL, 0), 0);
    tb_st_write reserved = {"__metadata__", TB_DTYPE_F32, 1, {1}, &x};
    assert_int_equal(tb_safetensors_write(tmp_path("w.safetensors"), &reserved, 1, NULL, 0, &err), TB_ERR_INVALID);
    assert_false(tb_path_exists(tmp_path("w.safetensors"))); /* nothing half-written */
}

/* A file from a raw header text and `data_len` zero bytes of data; hlen_override != 0
 * writes that header length instead of the true one. */
static const char *raw_file(const char *name, const char *header, size_t data_len, uint64_t hlen_override)
{
    const char *p = tmp_path(name);
    size_t hl = strlen(header);
    uint64_t n = hlen_override ? hlen_override : hl;
    size_t total = 8 + hl + data_len;
    unsigned char *buf = calloc(1, total + 1);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(n >> (8 * i));
    memcpy(buf + 8, header, hl);
    tb_error err;
    assert_int_equal(tb_atomic_write(p, buf, total, &err), TB_OK);
    free(buf);
    return p;
}

static void expect_reject(const char *name, const char *header, size_t data_len, uint64_t hlen,
                          tb_status want, const char *field, const char *needle)
{
    const char *p = raw_file(name, header, data_len, hlen);
    tb_safetensors *st = (tb_safetensors *)1;
    tb_error err;
    tb_error_clear(&err);
    tb_status got = tb_safetensors_open(&st, p, &err);
    if (got != want || strcmp(err.field, field) != 0 || !strstr(err.message, needle))
        fail_msg("%s: got status %d field '%s' message '%s'", name, got, err.field, err.message);
    assert_null(st);
    assert_string_equal(err.file, p);
}

#define T1 "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}"

static void test_reader_rejects(void **state)
{
    (void)state;
    tb_safetensors *st;
    tb_error err;
    /* control: the good file opens */
    assert_int_equal(tb_safetensors_open(&st, raw_file("good", T1, 8, 0), &err), TB_OK);
    tb_safetensors_close(st);

    assert_int_equal(tb_safetensors_open(&st, tmp_path("missing.safetensors"), &err), TB_ERR_IO);
    assert_int_equal(tb_safetensors_open(&st, g_dir, &err), TB_ERR_IO);
    tb_atomic_write(tmp_path("short"), "abc", 3, &err);
    assert_int_equal(tb_safetensors_open(&st, tmp_path("short"), &err), TB_ERR_FORMAT);

    expect_reject("hlen-past-end", T1, 8, 1000, TB_ERR_FORMAT, "", "past the end");
    expect_reject("hlen-huge", T1, 8, (uint64_t)1 << 62, TB_ERR_FORMAT, "", "100 MB");
    expect_reject("hlen-100mb", T1, 8, TB_ST_MAX_HEADER + 1ull, TB_ERR_FORMAT, "", "100 MB");
    expect_reject("not-brace", " {}", 0, 0, TB_ERR_FORMAT, "", "start with '{'");
    expect_reject("bad-json", "{\"t\":", 0, 0, TB_ERR_FORMAT, "", "not valid JSON");
    expect_reject("trailing-garbage", "{} x", 0, 0, TB_ERR_FORMAT, "", "not valid JSON");
    expect_reject("dup-key", "{\"t\":{},\"t\":{}}", 0, 0, TB_ERR_FORMAT, "", "not valid JSON");
    expect_reject("entry-not-object", "{\"t\":3}", 0, 0, TB_ERR_FORMAT, "t", "must be an object");
    expect_reject("no-dtype", "{\"t\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, 0, TB_ERR_FORMAT, "t", "dtype");
    expect_reject("unknown-dtype", "{\"t\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, 0,
                  TB_ERR_UNSUPPORTED, "t", "F8_E4M3");
    expect_reject("no-shape", "{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, 0, TB_ERR_FORMAT, "t", "shape");
    expect_reject("neg-shape", "{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, 0,
                  TB_ERR_FORMAT, "t", "shape[0]");
    expect_reject("float-shape", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8, 0,
                  TB_ERR_FORMAT, "t", "shape[0]");
    expect_reject("too-many-dims",
                  "{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 1, 0,
                  TB_ERR_FORMAT, "t", "dimensions");
    expect_reject("overflow-shape",
                  "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,8]}}", 8,
                  0, TB_ERR_FORMAT, "t", "overflow");
    expect_reject("bad-offsets", "{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, 0,
                  TB_ERR_FORMAT, "t", "data_offsets");
    expect_reject("end-before-begin", "{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8, 0,
                  TB_ERR_FORMAT, "t", "end before begin");
    expect_reject("span-mismatch", "{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, 0,
                  TB_ERR_FORMAT, "t", "12 bytes but data_offsets span 8");
    expect_reject("out-of-range", T1, 4, 0, TB_ERR_FORMAT, "t", "past the data buffer");
    expect_reject("overlap",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                  12, 0, TB_ERR_FORMAT, "b", "overlap");
    expect_reject("hole",
                  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[12,20]}}",
                  20, 0, TB_ERR_FORMAT, "b", "hole");
    expect_reject("trailing-bytes", T1, 12, 0, TB_ERR_FORMAT, "", "trailing");
    expect_reject("meta-not-object", "{\"__metadata__\":[1]}", 0, 0, TB_ERR_FORMAT, "__metadata__", "object");
    expect_reject("meta-not-string", "{\"__metadata__\":{\"k\":1}}", 0, 0, TB_ERR_FORMAT, "__metadata__", "'k'");
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tb-st-test.%ld", (long)getpid());
    tb_error err;
    return tb_mkdirs(g_dir, &err) == TB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_serialization),
        cmocka_unit_test(test_reference_forced_alignment),
        cmocka_unit_test(test_reference_empty),
        cmocka_unit_test(test_dtype_order_and_metadata),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_writer_rejects),
        cmocka_unit_test(test_reader_rejects),
    };
    return cmocka_run_group_tests_name("safetensors", tests, setup, teardown);
}
