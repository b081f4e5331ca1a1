/* Loading NF4 weights: a hand-built bitsandbytes -bnb-4bit layout from the golden reference
 * (dequant must give bitsandbytes' bits) as tensor records with unaligned fp32 companions,
 * as a safetensors file and as a sharded model directory; every malformed part refused
 * with the tensor named; quantize-at-load (tensor, file, model directory); --quant modes;
 * targets; the backend matmul operand (tb_nf4_weight) on a fake backend. */
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
#include "engine/quant/nf4_bnb.h"
#include "engine/quant/nf4_weight.h"
#include "engine/quant/quant.h"
#include "nf4_golden.h"
#include "tiny_model.h"

static nf4_golden golden;
static const char *const W = "model.layers.0.mlp.down_proj.weight";

/* The six records of one weight over one byte arena; fp32 arrays placed one byte off
 * alignment on purpose (a safetensors file guarantees nothing better). */
typedef struct bnb_fixture {
    uint8_t arena[1 << 18];
    size_t used;
    const char *weight;
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
    snprintf(f->names[i], sizeof f->names[i], "%s%s", f->weight, suffix);
    f->t[i] = (tb_st_tensor){.name = f->names[i], .dtype = dt, .ndim = ndim, .shape = {d0, d1},
                             .begin = f->used, .end = f->used + bytes, .data = f->arena + f->used};
    f->used += bytes;
    return &f->t[i];
}

static void build_named(bnb_fixture *f, const nf4_golden_case *c, bool dq, const char *weight)
{
    memset(f, 0, sizeof *f);
    f->weight = weight;
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

static void build(bnb_fixture *f, const nf4_golden_case *c, bool dq) { build_named(f, c, dq, W); }

/* The fixture's records as safetensors writes (data stays in the fixture). */
static size_t to_writes(const bnb_fixture *f, tb_st_write *out)
{
    size_t n = 0;
    for (int i = 0; i < 6; i++) {
        const tb_st_tensor *t = &f->t[i];
        if (!t->name)
            continue;
        out[n] = (tb_st_write){.name = t->name, .dtype = t->dtype, .ndim = t->ndim, .data = t->data};
        memcpy(out[n].shape, t->shape, sizeof t->shape);
        n++;
    }
    return n;
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
        {"{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [1099511627776, "
         "1099511627776]}", TB_ERR_FORMAT, "too large"},
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

/* ---- file level: one safetensors file, and a sharded model directory --------------------- */

static char g_dir[256];

static const char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    return buf;
}

static void test_file_bnb(void **state)
{
    (void)state;
    static bnb_fixture fa, fb;
    const nf4_golden_case *cdq = golden_case("randn/"), *cplain = golden_case("zero_blocks/");
    build_named(&fa, cdq, true, "model.layers.0.self_attn.q_proj.weight");
    build_named(&fb, cplain, false, "model.layers.0.self_attn.k_proj.weight");
    tb_st_write wr[16];
    size_t n = to_writes(&fa, wr);
    n += to_writes(&fb, wr + n);
    /* an fp4 weight (only its state matters) and a plain bf16 target */
    static const char fp4_json[] = "{\"quant_type\": \"fp4\", \"blocksize\": 64, \"dtype\": \"float16\", \"shape\": [2, 64]}";
    uint8_t fp4_codes[64] = {0};
    wr[n++] = (tb_st_write){"model.layers.0.self_attn.v_proj.weight", TB_DTYPE_U8, 2, {64, 1}, fp4_codes};
    wr[n++] = (tb_st_write){"model.layers.0.self_attn.v_proj.weight.quant_state.bitsandbytes__fp4", TB_DTYPE_U8, 1,
                            {(int64_t)strlen(fp4_json)}, fp4_json};
    uint16_t h[4 * 128];
    for (int i = 0; i < 4 * 128; i++)
        h[i] = tb_f32_to_bf16(cosf((float)i) * 0.02f);
    wr[n++] = (tb_st_write){"model.layers.0.self_attn.o_proj.weight", TB_DTYPE_BF16, 2, {4, 128}, h};
    tb_error err;
    const char *path = tmp_path("bnb.safetensors");
    assert_int_equal(tb_safetensors_write(path, wr, n, NULL, 0, &err), TB_OK);

    tb_safetensors *st;
    assert_int_equal(tb_safetensors_open(&st, path, &err), TB_OK);
    tb_nf4_source src = tb_nf4_source_safetensors(st);
    tb_nf4 w;
    assert_true(tb_nf4_bnb_present(src, "model.layers.0.self_attn.q_proj.weight"));
    assert_false(tb_nf4_bnb_present(src, "model.layers.0.self_attn.o_proj.weight"));
    assert_int_equal(tb_nf4_load(&w, src, "model.layers.0.self_attn.q_proj.weight", false, &err), TB_OK);
    assert_true(tb_nf4_is_double_quant(&w)); /* as stored, whatever the mode asked */
    expect_golden_dequant(&w, cdq->dequant_dq, cdq->n);
    tb_nf4_free(&w);
    assert_int_equal(tb_nf4_load(&w, src, "model.layers.0.self_attn.k_proj.weight", true, &err), TB_OK);
    expect_golden_dequant(&w, cplain->dequant, cplain->n);
    tb_nf4_free(&w);

    tb_nf4 direct;
    assert_int_equal(tb_nf4_load(&w, src, "model.layers.0.self_attn.o_proj.weight", true, &err), TB_OK);
    assert_int_equal(tb_nf4_quantize(&direct, h, TB_DTYPE_BF16, 4, 128, true, "o", &err), TB_OK);
    assert_memory_equal(w.codes, direct.codes, 4 * 64);
    assert_memory_equal(w.qabsmax, direct.qabsmax, 8);
    tb_nf4_free(&w);
    tb_nf4_free(&direct);

    tb_error_clear(&err);
    assert_int_equal(tb_nf4_load(&w, src, "model.layers.0.self_attn.v_proj.weight", false, &err), TB_ERR_UNSUPPORTED);
    assert_string_equal(err.field, "model.layers.0.self_attn.v_proj.weight");
    assert_string_equal(err.file, path);
    assert_int_equal(tb_nf4_load(&w, src, "model.layers.9.mlp.up_proj.weight", false, &err), TB_ERR_FORMAT);
    assert_string_equal(err.field, "model.layers.9.mlp.up_proj.weight");
    tb_safetensors_close(st);
}

static void test_sharded_bnb(void **state)
{
    (void)state;
    /* config.json from the tiny-model helper, then our own shards: the weight and its
     * absmax in one, the nested state and the JSON in the other (HF shards split anywhere). */
    char dir[400];
    snprintf(dir, sizeof dir, "%s/sharded", g_dir);
    tiny_spec spec = {.D = 64, .F = 128, .L = 1, .H = 2, .Hkv = 1, .V = 64, .dtype = TB_DTYPE_F32, .seed = 3};
    assert_int_equal(tiny_model_write(dir, &spec), 0);
    char p[512];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    assert_int_equal(unlink(p), 0);

    static bnb_fixture f;
    const nf4_golden_case *c = golden_case("partial/");
    build_named(&f, c, true, "model.layers.0.mlp.up_proj.weight");
    tb_st_write wr[6];
    size_t n = to_writes(&f, wr); /* weight, absmax, quant_map | nested_absmax, nested_quant_map, quant_state */
    tb_error err;
    snprintf(p, sizeof p, "%s/model-00001-of-00002.safetensors", dir);
    assert_int_equal(tb_safetensors_write(p, wr, 3, NULL, 0, &err), TB_OK);
    snprintf(p, sizeof p, "%s/model-00002-of-00002.safetensors", dir);
    assert_int_equal(tb_safetensors_write(p, wr + 3, n - 3, NULL, 0, &err), TB_OK);
    char index[2048];
    int len = snprintf(index, sizeof index, "{\"metadata\": {\"total_size\": 1}, \"weight_map\": {");
    for (size_t i = 0; i < n; i++)
        len += snprintf(index + len, sizeof index - (size_t)len, "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
                        i ? ", " : "", wr[i].name, i < 3 ? 1 : 2);
    len += snprintf(index + len, sizeof index - (size_t)len, "}}");
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    assert_int_equal(tb_atomic_write(p, index, (size_t)len, &err), TB_OK);

    tb_hf_model *m;
    assert_int_equal(tb_hf_model_open(&m, dir, &err), TB_OK);
    tb_nf4 w;
    assert_int_equal(tb_nf4_load(&w, tb_nf4_source_hf_model(m), "model.layers.0.mlp.up_proj.weight", false, &err),
                     TB_OK);
    expect_golden_dequant(&w, c->dequant_dq, c->n);
    tb_nf4_free(&w);
    tb_hf_model_close(m);
}

static void test_quantize_tiny_model(void **state)
{
    (void)state;
    /* Quantize-at-load over a model directory: every target linear, BF16 weights. */
    char dir[400];
    snprintf(dir, sizeof dir, "%s/tiny-bf16", g_dir);
    tiny_spec spec = {.D = 64, .F = 192, .L = 2, .H = 4, .Hkv = 2, .V = 96, .dtype = TB_DTYPE_BF16, .seed = 5};
    assert_int_equal(tiny_model_write(dir, &spec), 0);
    tb_hf_model *m;
    tb_error err;
    assert_int_equal(tb_hf_model_open(&m, dir, &err), TB_OK);
    int targets = 0;
    for (size_t i = 0; i < tb_hf_model_tensor_count(m); i++) {
        const tb_st_tensor *t = tb_hf_model_tensor_at(m, i, NULL);
        if (!tb_quant_is_target(t->name))
            continue;
        tb_nf4 w, direct;
        assert_int_equal(tb_nf4_load(&w, tb_nf4_source_hf_model(m), t->name, true, &err), TB_OK);
        assert_int_equal(tb_nf4_quantize(&direct, t->data, t->dtype, t->shape[0], t->shape[1], true, t->name, &err),
                         TB_OK);
        assert_int_equal(w.rows, t->shape[0]);
        assert_int_equal(w.cols, t->shape[1]);
        assert_memory_equal(w.codes, direct.codes, (size_t)(w.n + 1) / 2);
        tb_nf4_free(&w);
        tb_nf4_free(&direct);
        targets++;
    }
    assert_int_equal(targets, 2 * 7);
    tb_hf_model_close(m);
}

/* ---- the backend operand ----------------------------------------------------------------- */

/* A backend that only wraps host memory: records what tb_nf4_weight_create asks for. */
typedef struct fake_buf { tb_buf base; const void *host; } fake_buf;
static int fake_live, fake_fail_at, fake_calls;

static tb_status fake_from_host(tb_backend *be, tb_buf **out, const void *host, tb_dtype dtype, size_t n,
                                tb_mem_category cat, tb_error *err)
{
    if (++fake_calls == fake_fail_at)
        return tb_fail(err, TB_ERR_NOMEM, "fake backend: out of memory");
    fake_buf *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->base = (tb_buf){be, dtype, n, cat, true};
    b->host = host;
    fake_live++;
    *out = &b->base;
    return TB_OK;
}

static void fake_free(tb_backend *be, tb_buf *buf)
{
    (void)be;
    if (buf) {
        fake_live--;
        free(buf);
    }
}

static void test_backend_weight(void **state)
{
    (void)state;
    static const tb_backend_ops ops = {.buf_from_host = fake_from_host, .buf_free = fake_free};
    tb_backend be = {.ops = &ops, .name = "fake"};
    const nf4_golden_case *c = golden_case("randn/");
    tb_nf4 q;
    tb_error err;
    assert_int_equal(tb_nf4_quantize(&q, c->input, c->dtype, c->rows, c->cols, true, "w", &err), TB_OK);
    tb_nf4_weight w;
    fake_calls = 0;
    fake_fail_at = 0;
    assert_int_equal(tb_nf4_weight_create(&w, &be, &q, &err), TB_OK);
    assert_int_equal(fake_live, 4);
    assert_int_equal(w.codes->n, (size_t)(c->n + 1) / 2);
    assert_int_equal(w.qabsmax->dtype, TB_DTYPE_U8);
    assert_int_equal(w.nested_absmax->n, 1);
    assert_int_equal(w.nested_map->n, 256);
    assert_ptr_equal(((fake_buf *)(void *)w.codes)->host, q.codes);
    assert_null(w.absmax);
    tb_wview wv = tb_wnf4(&w);
    assert_ptr_equal(wv.nf4, &w);
    assert_true(tb_view_null(wv.v));
    tb_nf4_weight_free(&w);
    assert_int_equal(fake_live, 0);
    /* a failure half way leaves nothing behind */
    fake_calls = 0;
    fake_fail_at = 3;
    assert_int_equal(tb_nf4_weight_create(&w, &be, &q, &err), TB_ERR_NOMEM);
    assert_int_equal(fake_live, 0);
    assert_null(w.codes);
    tb_nf4_free(&q);
}

static int setup_dir(void **state)
{
    (void)state;
    tb_error err;
    snprintf(g_dir, sizeof g_dir, "/tmp/tb-nf4-test.%ld", (long)getpid());
    return tb_mkdirs(g_dir, &err) == TB_OK ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
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
        cmocka_unit_test(test_file_bnb),
        cmocka_unit_test(test_sharded_bnb),
        cmocka_unit_test(test_quantize_tiny_model),
        cmocka_unit_test(test_backend_weight),
    };
    int rc = cmocka_run_group_tests_name("nf4_bnb", tests, setup_dir, remove_dir);
    nf4_golden_free(&golden);
    return rc;
}
