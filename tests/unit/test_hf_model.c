/* Hugging Face model directories: single and sharded weights, tied embeddings, q/k/v bias,
 * and refusals that name the file and tensor. */
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
#include "engine/io/hf_model.h"
#include "engine/model/weights.h"
#include "tiny_model.h"

static char g_dir[256];

static const char *model_dir(const char *name, const tiny_spec *s)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", g_dir, name);
    assert_int_equal(tiny_model_write(buf, s), 0);
    return buf;
}

static const tiny_spec base = {.D = 16, .F = 24, .L = 2, .H = 4, .Hkv = 2, .V = 32, .dtype = TB_DTYPE_F32, .seed = 1};

static void check_open(const char *dir, const tiny_spec *s)
{
    tb_hf_model *m;
    tb_error err;
    tb_status st = tb_hf_model_open(&m, dir, &err);
    if (st != TB_OK)
        fail_msg("%s: %s", err.file, err.message);
    tb_llama_host_weights w;
    st = tb_llama_host_weights_bind(&w, m, &err);
    if (st != TB_OK)
        fail_msg("%s: %s: %s", err.file, err.field, err.message);
    assert_int_equal(w.n_layers, s->L);
    assert_int_equal(w.embed.dtype, s->dtype);
    assert_int_equal(w.embed.rows, s->V);
    assert_int_equal(w.embed.cols, s->D);
    assert_int_equal(w.final_norm.cols, s->D);
    int64_t Dh = s->Dh ? s->Dh : s->D / s->H;
    assert_int_equal(w.layers[1].wk.rows, s->Hkv * Dh);
    assert_int_equal(w.layers[1].wo.cols, s->H * Dh);
    assert_int_equal(w.layers[0].wdown.cols, s->F);
    if (s->tied)
        assert_ptr_equal(w.lm_head.data, w.embed.data);
    else
        assert_ptr_not_equal(w.lm_head.data, w.embed.data);
    if (s->bias) {
        assert_non_null(w.layers[0].bq.data);
        assert_int_equal(w.layers[0].bv.cols, s->Hkv * Dh);
    } else {
        assert_null(w.layers[0].bq.data);
    }
    /* zero-copy: data points into the mapping of the file that holds it */
    const char *file;
    const tb_st_tensor *t = tb_hf_model_find(m, "model.layers.1.mlp.up_proj.weight", &file);
    assert_ptr_equal(t->data, w.layers[1].wup.data);
    assert_string_equal(file, w.layers[1].wup.file);
    size_t want = 2 + (s->tied ? 0 : 1) + (size_t)s->L * (9 + (s->bias ? 3 : 0));
    assert_int_equal(tb_hf_model_tensor_count(m), want);
    assert_non_null(tb_hf_model_tensor_at(m, want - 1, NULL));
    assert_null(tb_hf_model_tensor_at(m, want, NULL));
    tb_llama_host_weights_free(&w);
    tb_hf_model_close(m);
}

static void test_single_untied_f32(void **state)
{
    (void)state;
    check_open(model_dir("single", &base), &base);
}

static void test_sharded_tied_bias_bf16_headdim(void **state)
{
    (void)state;
    tiny_spec s = base;
    s.tied = true;
    s.bias = true;
    s.dtype = TB_DTYPE_BF16;
    s.shards = 3;
    s.Dh = 6; /* odd head dim: H*Dh != D */
    const char *dir = model_dir("sharded", &s);
    char p[600];
    snprintf(p, sizeof p, "%s/model-00003-of-00003.safetensors", dir);
    assert_true(tb_path_exists(p));
    check_open(dir, &s);
}

static void expect_refusal(const char *name, const tiny_spec *s, tb_status want, const char *field,
                           const char *file_suffix, const char *needle)
{
    const char *dir = model_dir(name, s);
    tb_hf_model *m = NULL;
    tb_error err;
    tb_error_clear(&err);
    tb_status st = tb_hf_model_open(&m, dir, &err);
    if (st == TB_OK) {
        tb_llama_host_weights w;
        st = tb_llama_host_weights_bind(&w, m, &err);
        if (st == TB_OK)
            tb_llama_host_weights_free(&w);
        tb_hf_model_close(m);
    }
    size_t fl = strlen(err.file), sl = strlen(file_suffix);
    if (st != want || strcmp(err.field, field) != 0 || fl < sl || strcmp(err.file + fl - sl, file_suffix) != 0 ||
        !strstr(err.message, needle))
        fail_msg("%s: status %d file '%s' field '%s' message '%s'", name, st, err.file, err.field, err.message);
}

static void test_refusals(void **state)
{
    (void)state;
    tiny_spec s = base;
    s.skip = "model.layers.1.self_attn.v_proj.weight";
    expect_refusal("missing", &s, TB_ERR_FORMAT, "model.layers.1.self_attn.v_proj.weight", "missing", "missing");
    s = base;
    s.reshape = "model.layers.0.mlp.down_proj.weight";
    expect_refusal("reshaped", &s, TB_ERR_FORMAT, "model.layers.0.mlp.down_proj.weight", "model.safetensors",
                   "shape [17, 24] does not match config.json (expected [16, 24])");
    s = base;
    s.skip = "lm_head.weight";
    expect_refusal("no-head", &s, TB_ERR_FORMAT, "lm_head.weight", "no-head", "missing");
    s = base;
    s.bias = true;
    s.skip = "model.layers.0.self_attn.k_proj.bias";
    expect_refusal("no-bias", &s, TB_ERR_FORMAT, "model.layers.0.self_attn.k_proj.bias", "no-bias", "missing");
    s = base;
    s.extra = "\"hidden_act\":\"gelu\"";
    expect_refusal("gelu", &s, TB_ERR_UNSUPPORTED, "hidden_act", "config.json", "gelu");
    s = base;
    s.extra = "\"quantization_config\":{\"quant_method\":\"bitsandbytes\",\"load_in_4bit\":true,"
              "\"bnb_4bit_quant_type\":\"fp4\"}"; /* NF4 checkpoints load: tests/unit/test_qlora.c */
    expect_refusal("bnb-fp4", &s, TB_ERR_UNSUPPORTED, "quantization_config.bnb_4bit_quant_type", "config.json", "fp4");

    /* no weights at all; pickle only; not a directory; broken index */
    tb_hf_model *m;
    tb_error err;
    const char *dir = model_dir("noweights", &base);
    char p[600];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    unlink(p);
    assert_int_equal(tb_hf_model_open(&m, dir, &err), TB_ERR_IO);
    assert_non_null(strstr(err.message, "no model.safetensors"));
    snprintf(p, sizeof p, "%s/pytorch_model.bin", dir);
    tb_atomic_write(p, "x", 1, &err);
    assert_int_equal(tb_hf_model_open(&m, dir, &err), TB_ERR_IO);
    assert_non_null(strstr(err.message, "pytorch_model.bin"));
    assert_int_equal(tb_hf_model_open(&m, p, &err), TB_ERR_IO);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    tb_atomic_write(p, "{\"weight_map\":{\"a\":\"../etc/passwd\"}}", 36, &err);
    assert_int_equal(tb_hf_model_open(&m, dir, &err), TB_ERR_FORMAT);
    assert_string_equal(err.field, "a");
    tb_atomic_write(p, "{\"weight_map\":{\"a\":\"model.safetensors\"}}", 40, &err);
    assert_int_equal(tb_hf_model_open(&m, dir, &err), TB_ERR_IO); /* shard file missing */
    /* a shard that lacks a tensor the index promises */
    tiny_spec sh = base;
    sh.shards = 2;
    dir = model_dir("badindex", &sh);
    snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
    char *idx;
    size_t len;
    tb_read_file(p, &idx, &len, &err);
    char *fixed = malloc(len + 64);
    snprintf(fixed, len + 64, "{\"weight_map\":{\"ghost\":\"model-00001-of-00002.safetensors\",%s",
             strstr(idx, "\"weight_map\":{") + strlen("\"weight_map\":{"));
    tb_atomic_write(p, fixed, strlen(fixed), &err);
    free(idx);
    free(fixed);
    assert_int_equal(tb_hf_model_open(&m, dir, &err), TB_ERR_FORMAT);
    assert_string_equal(err.field, "ghost");
    assert_non_null(strstr(err.file, "model-00001-of-00002.safetensors"));
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tb-hf-test.%ld", (long)getpid());
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
        cmocka_unit_test(test_single_untied_f32),
        cmocka_unit_test(test_sharded_tied_bias_bf16_headdim),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests_name("hf_model", tests, setup, teardown);
}
