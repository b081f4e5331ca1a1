/* bitsandbytes 4-bit checkpoint tensors -> tb_nf4: a hand-built -bnb-4bit layout from the
 * golden reference (dequant must give bitsandbytes' bits), unaligned fp32 companions, every
 * malformed part refused with the tensor named; quantize-at-load; --quant modes; targets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/quant/nf4_bnb.h"
#include "engine/quant/quant.h"
#include "nf4_golden.h"

static nf4_golden golden;
static const char *const W = "model.layers.0.mlp.down_proj.weight";

/* The six records of one weight over one byte arena; fp32 arrays placed one byte off
 * alignment on purpose (a safetensors file guarantees nothing better). */
typedef struct bnb_fixture {
    uint8_t arena[1 << 18];
    size_t used;
    char names[6][160];
    char json[512];
    tb_st_tensor t[6]; /* weight, absmax, quant_map, nested_absmax, nested_quant_map, quant_state */
    tb_nf4_bnb_parts parts;
} bnb_fixture;

static const tb_st_tensor *put(bnb_fixture *f, int i, const char *suffix, tb_dtype dt, int ndim, int64_t d0,
                               int64_t d1, const void *data, size_t bytes)
{
    f->used = (f->used + 8) | 1; /* odd offset: unaligned */
    assert_true(f->used + bytes <= sizeof f->arena);
    memcpy(f->arena + f->used, data, bytes);
    snprintf(f->names[i], sizeof f->names[i], "%s%s", W, suffix);
    f->t[i] = (tb_st_tensor){.name = f->names[i], .dtype = dt, .ndim = ndim, .shape = {d0, d1},
                             .begin = f->used, .end = f->used + bytes, .data = f->arena + f->used};
    f->used += bytes;
    return &f->t[i];
}

static void build(bnb_fixture *f, const nf4_golden_case *c, bool dq)
{
    memset(f, 0, sizeof *f);
    size_t n = (size_t)c->n, nb = (size_t)c->blocks;
    f->parts.weight = put(f, 0, "", TB_DTYPE_U8, 2, (int64_t)(n + 1) / 2, 1, c->packed, (n + 1) / 2);
    f->parts.quant_map = put(f, 2, ".quant_map", TB_DTYPE_F32, 1, 16, 0, golden.code, sizeof golden.code);
    if (dq) {
        f->parts.absmax = put(f, 1, ".absmax", TB_DTYPE_U8, 1, (int64_t)nb, 0, c->qabsmax, nb);
        f->parts.nested_absmax = put(f, 3, ".nested_absmax", TB_DTYPE_F32, 1, c->nested, 0, c->nested_absmax,
                                     (size_t)c->nested * 4);
        f->parts.nested_quant_map = put(f, 4, ".nested_quant_map", TB_DTYPE_F32, 1, 256, 0, golden.dynamic_map,
                                        sizeof golden.dynamic_map);
        /* json.dumps of QuantState.as_dict(packed=True); the offset is the fp32 value's double */
        snprintf(f->json, sizeof f->json,
                 "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [%lld, %lld], "
                 "\"nested_blocksize\": 256, \"nested_dtype\": \"float32\", \"nested_offset\": %.17g}",
                 (long long)c->rows, (long long)c->cols, (double)c->offset);
    } else {
        f->parts.absmax = put(f, 1, ".absmax", TB_DTYPE_F32, 1, (int64_t)nb, 0, c->absmax, nb * 4);
        snprintf(f->json, sizeof f->json,
                 "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [%lld, %lld]}",
                 (long long)c->rows, (long long)c->cols);
    }
    f->parts.quant_state = put(f, 5, TB_NF4_BNB_STATE_SUFFIX, TB_DTYPE_U8, 1, (int64_t)strlen(f->json), 0,
                               f->json, strlen(f->json));
}

static const nf4_golden_case *golden_case(const char *prefix)
{
    for (int i = 0; i < golden.n_cases; i++)
        if (strncmp(golden.cases[i].name, prefix, strlen(prefix)) == 0 && golden.cases[i].dequant)
            return &golden.cases[i];
    fail_msg("golden case %s missing", prefix);
    return NULL;
}

static void expect_golden_dequant(const tb_nf4 *w, const float *want, int64_t n)
{
    float *got = malloc((size_t)n * sizeof(float));
    assert_non_null(got);
    tb_nf4_dequant_range(w, 0, n, got);
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&got[i], &want[i], 4) != 0)
            fail_msg("dequant[%lld] = %a, bitsandbytes %a", (long long)i, (double)got[i], (double)want[i]);
    free(got);
}

static void test_bnb_double_quant(void **state)
{
    (void)state;
    static bnb_fixture f;
    for (int k = 0; k < 2; k++) { /* rows=64,cols=64 and the odd n=259 case */
        const nf4_golden_case *c = golden_case(k == 0 ? "randn/" : "partial/");
        build(&f, c, true);
        tb_nf4 w;
        tb_error err;
        assert_int_equal(tb_nf4_from_bnb(&w, &f.parts, "ckpt/model.safetensors", &err), TB_OK);
        assert_int_equal(w.rows, c->rows);
        assert_int_equal(w.cols, c->cols);
        assert_int_equal(w.dtype, TB_DTYPE_BF16);
        assert_true(tb_nf4_is_double_quant(&w));
        assert_ptr_equal(w.codes, f.parts.weight->data); /* zero-copy: codes stay in the file */
        expect_golden_dequant(&w, c->dequant_dq, c->n);
        tb_nf4_free(&w);
    }
}

static void test_bnb_plain(void **state)
{
    (void)state;
    static bnb_fixture f;
    const nf4_golden_case *c = golden_case("zero_blocks/");
    build(&f, c, false);
    tb_nf4 w;
    tb_error err;
    assert_int_equal(tb_nf4_from_bnb(&w, &f.parts, NULL, &err), TB_OK);
    assert_false(tb_nf4_is_double_quant(&w));
    assert_int_equal(w.dtype, TB_DTYPE_F16);
    expect_golden_dequant(&w, c->dequant, c->n);
    tb_nf4_free(&w);
}

/* Break one thing in a valid fixture; the load must fail with `want`, naming `field`. */
static void expect_refused(bnb_fixture *f, tb_status want, const char *field_suffix, const char *msg_part)
{
    tb_nf4 w;
    tb_error err;
    tb_error_clear(&err);
    assert_int_equal(tb_nf4_from_bnb(&w, &f->parts, "ckpt.safetensors", &err), want);
    char field[200];
    snprintf(field, sizeof field, "%s%s", W, field_suffix);
    assert_string_equal(err.field, field);
    assert_string_equal(err.file, "ckpt.safetensors");
    if (msg_part && !strstr(err.message, msg_part))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, msg_part);
    assert_null(w.owned);
}

static void test_bnb_refusals(void **state)
{
    (void)state;
    static bnb_fixture f;
    const nf4_golden_case *c = golden_case("randn/");

    build(&f, c, true);
    f.t[0].end -= 1; /* one byte short of the packed codes */
    expect_refused(&f, TB_ERR_FORMAT, "", "bytes");

    build(&f, c, true);
    float fp4[16] = {0, 0.0625f, 8, 12, 4, 6, 2, 3, -0.0f, -0.0625f, -8, -12, -4, -6, -2, -3};
    memcpy(f.arena + f.t[2].begin, fp4, sizeof fp4);
    expect_refused(&f, TB_ERR_FORMAT, ".quant_map", "NF4 code");

    build(&f, c, true);
    f.parts.nested_absmax = NULL;
    expect_refused(&f, TB_ERR_FORMAT, ".nested_absmax", "missing");

    build(&f, c, true);
    f.parts.absmax = NULL;
    expect_refused(&f, TB_ERR_FORMAT, "", "absmax");

    build(&f, c, true);
    f.t[1].end -= 1; /* 8-bit absmax one short */
    f.t[1].shape[0] -= 1;
    expect_refused(&f, TB_ERR_FORMAT, ".absmax", "8-bit scales");

    static const struct { const char *json; tb_status st; const char *part; } bad[] = {
        {"{\"quant_type\": \"fp4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [64, 64]}",
         TB_ERR_UNSUPPORTED, "NF4"},
        {"{\"quant_type\": \"nf4\", \"blocksize\": 48, \"dtype\": \"float16\", \"shape\": [64, 64]}", TB_ERR_FORMAT,
         "blocksize"},
        {"{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"int8\", \"shape\": [64, 64]}", TB_ERR_FORMAT,
         "dtype"},
        {"{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [64, -1]}", TB_ERR_FORMAT,
         "shape"},
        {"{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [64, 64], "
         "\"nested_offset\": \"x\", \"nested_blocksize\": 256}", TB_ERR_FORMAT, "nested_offset"},
        {"{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [64, 64]}", TB_ERR_FORMAT,
         "lacks nested_offset"}, /* U8 absmax without the nested state */
        {"[1, 2]", TB_ERR_FORMAT, "JSON object"},
        {"{\"quant_type\": ", TB_ERR_FORMAT, "JSON object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        build(&f, c, true);
        size_t len = strlen(bad[i].json);
        memcpy(f.arena + f.t[5].begin, bad[i].json, len);
        f.t[5].end = f.t[5].begin + len;
        f.t[5].shape[0] = (int64_t)len;
        const char *field = strcmp(bad[i].part, "lacks nested_offset") == 0 ? ".absmax" : TB_NF4_BNB_STATE_SUFFIX;
        expect_refused(&f, bad[i].st, field, bad[i].part);
    }

    /* a NaN scale in an F32 absmax */
    const nf4_golden_case *z = golden_case("zero_blocks/");
    build(&f, z, false);
    float nan = NAN;
    memcpy(f.arena + f.t[1].begin + 4, &nan, 4);
    expect_refused(&f, TB_ERR_NUMERIC, ".absmax", "not finite");
}

static void test_from_tensor(void **state)
{
    (void)state;
    /* quantize-at-load from a BF16 tensor equals quantizing the same bits directly */
    uint16_t h[3 * 128];
    for (int i = 0; i < 3 * 128; i++)
        h[i] = tb_f32_to_bf16(sinf((float)i * 0.37f) * 0.03f);
    tb_st_tensor t = {.name = "model.layers.1.self_attn.q_proj.weight", .dtype = TB_DTYPE_BF16, .ndim = 2,
                      .shape = {3, 128}, .begin = 0, .end = sizeof h, .data = h};
    tb_nf4 a, b;
    tb_error err;
    assert_int_equal(tb_nf4_from_tensor(&a, &t, true, "m.safetensors", &err), TB_OK);
    assert_int_equal(tb_nf4_quantize(&b, h, TB_DTYPE_BF16, 3, 128, true, "x", &err), TB_OK);
    assert_int_equal(a.dtype, TB_DTYPE_BF16);
    assert_memory_equal(a.codes, b.codes, 3 * 64);
    assert_memory_equal(a.qabsmax, b.qabsmax, 6);
    tb_nf4_free(&a);
    tb_nf4_free(&b);

    t.ndim = 3;
    t.shape[2] = 1;
    assert_int_equal(tb_nf4_from_tensor(&a, &t, false, "m.safetensors", &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "model.layers.1.self_attn.q_proj.weight");
    t.ndim = 2;
    t.dtype = TB_DTYPE_I32;
    assert_int_equal(tb_nf4_from_tensor(&a, &t, false, "m.safetensors", &err), TB_ERR_UNSUPPORTED);
    assert_string_equal(err.file, "m.safetensors");
}

static void test_modes_and_targets(void **state)
{
    (void)state;
    tb_quant_mode m;
    assert_true(tb_quant_mode_parse("nf4", &m) && m == TB_QUANT_NF4);
    assert_true(tb_quant_mode_parse("nf4-dq", &m) && m == TB_QUANT_NF4_DQ);
    assert_true(tb_quant_mode_parse("none", &m) && m == TB_QUANT_NONE);
    assert_false(tb_quant_mode_parse("int8", &m));
    assert_false(tb_quant_mode_parse(NULL, &m));
    assert_string_equal(tb_quant_mode_name(TB_QUANT_NF4_DQ), "nf4-dq");

    static const char *const yes[] = {
        "model.layers.0.self_attn.q_proj.weight", "model.layers.29.self_attn.k_proj.weight",
        "model.layers.3.self_attn.v_proj.weight", "model.layers.3.self_attn.o_proj.weight",
        "model.layers.3.mlp.gate_proj.weight",    "model.layers.3.mlp.up_proj.weight",
        "model.layers.3.mlp.down_proj.weight",
    };
    static const char *const no[] = {
        "model.embed_tokens.weight", "lm_head.weight", "model.norm.weight",
        "model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.bias",
        "model.layers.0.mlp.down_proj.weight.absmax", ".mlp.up_proj.weight",
    };
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(tb_quant_is_target(yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (tb_quant_is_target(no[i]))
            fail_msg("%s must stay unquantized", no[i]);
}

int main(void)
{
    char why[600];
    if (!nf4_golden_load(&golden, why, sizeof why)) {
        printf("not ok 1 - golden file: %s\n", why);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bnb_double_quant),
        cmocka_unit_test(test_bnb_plain),
        cmocka_unit_test(test_bnb_refusals),
        cmocka_unit_test(test_from_tensor),
        cmocka_unit_test(test_modes_and_targets),
    };
    int rc = cmocka_run_group_tests_name("nf4_bnb", tests, NULL, NULL);
    nf4_golden_free(&golden);
    return rc;
}
