/* LoRA merge into a model directory: every merged linear equals W + s·B·A computed in f64 by
 * the test, every other tensor carries over, the directory is complete (config dtype, copied
 * tokenizer files, no temporary left), bf16 output, an NF4 (bitsandbytes layout) base
 * dequantized before merging, refusals (existing --out, a layer the model lacks). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/core/fs.h"
#include "engine/io/safetensors.h"
#include "engine/lora/merge.h"
#include "engine/quant/nf4.h"
#include "tiny_model.h"

#define R 3
static char g_dir[256];
static const tiny_spec spec = {.D = 16, .F = 24, .L = 2, .H = 4, .Hkv = 2, .V = 32, .dtype = TB_DTYPE_BF16, .seed = 7};
static const struct {
    int64_t layer;
    tb_lora_module m;
} adapted[] = {{0, TB_LORA_Q}, {0, TB_LORA_V}, {1, TB_LORA_V}, {1, TB_LORA_DOWN}};
#define N_ADAPTED 4

static const char *path_in(const char *dir, const char *name)
{
    static char buf[2][1024];
    static int k;
    k ^= 1;
    snprintf(buf[k], sizeof buf[k], "%s/%s/%s", g_dir, dir, name);
    return buf[k];
}

static float frand(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

typedef struct adapter {
    float *a[N_ADAPTED], *b[N_ADAPTED];
    tb_lora_pair pairs[N_ADAPTED];
} adapter;

static void make_adapter(adapter *ad, const tb_llama_config *cfg)
{
    uint32_t s = 99;
    for (int i = 0; i < N_ADAPTED; i++) {
        int64_t in, out;
        tb_lora_module_shape(cfg, adapted[i].m, &in, &out);
        ad->a[i] = malloc((size_t)(R * in) * sizeof(float));
        ad->b[i] = malloc((size_t)(out * R) * sizeof(float));
        for (int64_t k = 0; k < R * in; k++)
            ad->a[i][k] = frand(&s);
        for (int64_t k = 0; k < out * R; k++)
            ad->b[i][k] = frand(&s);
        ad->pairs[i] = (tb_lora_pair){adapted[i].layer, adapted[i].m, ad->a[i], ad->b[i]};
    }
}

static void free_adapter(adapter *ad)
{
    for (int i = 0; i < N_ADAPTED; i++)
        free(ad->a[i]), free(ad->b[i]);
}

static void base_config(tb_llama_config *c)
{
    tb_error err;
    assert_int_equal(tb_llama_config_load(c, path_in("base", "config.json"), &err), TB_OK);
}

static int adapted_index(const char *name)
{
    for (int i = 0; i < N_ADAPTED; i++) {
        char want[128];
        snprintf(want, sizeof want, "model.layers.%lld.%s.%s.weight", (long long)adapted[i].layer,
                 tb_lora_module_block(adapted[i].m), tb_lora_module_name(adapted[i].m));
        if (strcmp(want, name) == 0)
            return i;
    }
    return -1;
}

/* out[r][c] = W[r][c] + s * sum_k B[r][k] A[k][c], f64 */
static double merged_value(const float *w, const adapter *ad, int i, int64_t r, int64_t c, int64_t in, double s)
{
    double acc = 0;
    for (int k = 0; k < R; k++)
        acc += (double)ad->b[i][r * R + k] * ad->a[i][k * in + c];
    return (double)w[r * in + c] + s * acc;
}

static void test_merge_f32_and_bf16(void **state)
{
    (void)state;
    tb_llama_config cfg;
    base_config(&cfg);
    adapter ad;
    make_adapter(&ad, &cfg);
    float s = 16.0f / R;
    tb_error err;
    tb_lora_merge_info info;
    for (int bf = 0; bf < 2; bf++) {
        const char *out = bf ? "merged_bf16" : "merged";
        char out_dir[512];
        snprintf(out_dir, sizeof out_dir, "%s/%s", g_dir, out);
        assert_int_equal(tb_lora_merge_dir(path_in("base", ""), ad.pairs, N_ADAPTED, R, s,
                                           bf ? TB_DTYPE_BF16 : TB_DTYPE_F32, out_dir, &info, &err),
                         TB_OK);
        assert_int_equal(info.merged, N_ADAPTED);
        assert_int_equal(info.files_copied, 2); /* tokenizer.json, generation_config.json */
        tb_safetensors *base, *m;
        assert_int_equal(tb_safetensors_open(&base, path_in("base", "model.safetensors"), &err), TB_OK);
        assert_int_equal(tb_safetensors_open(&m, path_in(out, "model.safetensors"), &err), TB_OK);
        assert_int_equal(tb_safetensors_count(m), tb_safetensors_count(base));
        assert_int_equal(info.tensors, tb_safetensors_count(base));
        for (size_t t = 0; t < tb_safetensors_count(base); t++) {
            const tb_st_tensor *bt = tb_safetensors_at(base, t), *mt = tb_safetensors_find(m, bt->name);
            assert_non_null(mt);
            assert_int_equal(mt->dtype, bf ? TB_DTYPE_BF16 : TB_DTYPE_F32);
            assert_int_equal(mt->ndim, bt->ndim);
            int64_t cnt = 1, in = bt->ndim == 2 ? bt->shape[1] : bt->shape[0];
            for (int d = 0; d < bt->ndim; d++)
                cnt *= bt->shape[d];
            float *w = malloc((size_t)cnt * sizeof *w), *got = malloc((size_t)cnt * sizeof *got);
            tb_convert_to_f32(w, bt->data, bt->dtype, (size_t)cnt);
            tb_convert_to_f32(got, mt->data, mt->dtype, (size_t)cnt);
            int i = adapted_index(bt->name);
            for (int64_t k = 0; k < cnt; k++) {
                double want = i >= 0 ? merged_value(w, &ad, i, k / in, k % in, in, s) : (double)w[k];
                if (bf)
                    want = tb_bf16_to_f32(tb_f32_to_bf16((float)want));
                double tol = bf ? 1e-2 * fabs(want) + 1e-6 : 1e-6 * (1 + fabs(want));
                if (fabs(got[k] - want) > tol)
                    fail_msg("%s[%lld]: %.9g, want %.9g (%s)", bt->name, (long long)k, got[k], want, out);
            }
            free(w), free(got);
        }
        tb_safetensors_close(base);
        tb_safetensors_close(m);
        tb_llama_config mc;
        assert_int_equal(tb_llama_config_load(&mc, path_in(out, "config.json"), &err), TB_OK);
        assert_int_equal(mc.torch_dtype, bf ? TB_DTYPE_BF16 : TB_DTYPE_F32);
        assert_int_equal(mc.dim, cfg.dim);
        char *a, *b;
        size_t la, lb;
        assert_int_equal(tb_read_file(path_in("base", "tokenizer.json"), &a, &la, &err), TB_OK);
        assert_int_equal(tb_read_file(path_in(out, "tokenizer.json"), &b, &lb, &err), TB_OK);
        assert_int_equal(la, lb);
        assert_memory_equal(a, b, la);
        free(a), free(b);
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out_dir, (long)getpid());
        assert_false(tb_path_exists(tmp));
    }
    /* refusals: an existing directory, a layer the model does not have */
    char out_dir[512];
    snprintf(out_dir, sizeof out_dir, "%s/merged", g_dir);
    assert_int_equal(tb_lora_merge_dir(path_in("base", ""), ad.pairs, N_ADAPTED, R, s, TB_DTYPE_F32, out_dir, NULL, &err),
                     TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "already exists"));
    ad.pairs[3].layer = 5;
    snprintf(out_dir, sizeof out_dir, "%s/merged_bad", g_dir);
    assert_int_equal(tb_lora_merge_dir(path_in("base", ""), ad.pairs, N_ADAPTED, R, s, TB_DTYPE_F32, out_dir, NULL, &err),
                     TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "layer 5"));
    assert_false(tb_path_exists(out_dir));
    free_adapter(&ad);
}

/* ------------------------------------------------------------------ NF4 base */

/* The base's linears in bitsandbytes nf4 layout (no double quantization), the rest as is. */
static void write_bnb_base(tb_nf4 *q, int *nq)
{
    tb_error err;
    tb_safetensors *base;
    assert_int_equal(tb_safetensors_open(&base, path_in("base", "model.safetensors"), &err), TB_OK);
    size_t n = tb_safetensors_count(base);
    tb_st_write *w = calloc(n * 6, sizeof *w);
    char (*names)[160] = calloc(n * 6, sizeof *names);
    char (*states)[256] = calloc(n, sizeof *states);
    static const float *code = tb_nf4_code;
    size_t k = 0;
    *nq = 0;
    for (size_t i = 0; i < n; i++) {
        const tb_st_tensor *t = tb_safetensors_at(base, i);
        if (!strstr(t->name, "_proj.weight")) {
            w[k++] = (tb_st_write){t->name, t->dtype, t->ndim, {t->shape[0], t->shape[1]}, t->data};
            continue;
        }
        tb_nf4 *qq = &q[(*nq)++];
        assert_int_equal(tb_nf4_quantize(qq, t->data, t->dtype, t->shape[0], t->shape[1], false, t->name, &err), TB_OK);
        snprintf(names[k], 160, "%s", t->name);
        w[k] = (tb_st_write){names[k], TB_DTYPE_U8, 2, {(qq->n + 1) / 2, 1}, qq->codes};
        k++;
        snprintf(names[k], 160, "%s.absmax", t->name);
        w[k] = (tb_st_write){names[k], TB_DTYPE_F32, 1, {qq->n_blocks}, qq->absmax};
        k++;
        snprintf(names[k], 160, "%s.quant_map", t->name);
        w[k] = (tb_st_write){names[k], TB_DTYPE_F32, 1, {16}, code};
        k++;
        int len = snprintf(states[*nq - 1], 256,
                           "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", \"shape\": [%lld, %lld]}",
                           (long long)t->shape[0], (long long)t->shape[1]);
        snprintf(names[k], 160, "%s.quant_state.bitsandbytes__nf4", t->name);
        w[k] = (tb_st_write){names[k], TB_DTYPE_U8, 1, {len}, states[*nq - 1]};
        k++;
    }
    assert_int_equal(tb_mkdirs(path_in("bnb", ""), &err), TB_OK);
    assert_int_equal(tb_safetensors_write(path_in("bnb", "model.safetensors"), w, k, tb_peft_adapter_meta, 1, &err), TB_OK);
    tb_safetensors_close(base);
    char *cfg;
    size_t len;
    assert_int_equal(tb_read_file(path_in("base", "config.json"), &cfg, &len, &err), TB_OK);
    json_t *o = json_loads(cfg, 0, NULL);
    json_object_set_new(o, "quantization_config",
                        json_pack("{s:s, s:b, s:s, s:b}", "quant_method", "bitsandbytes", "load_in_4bit", 1,
                                  "bnb_4bit_quant_type", "nf4", "bnb_4bit_use_double_quant", 0));
    char *text = json_dumps(o, 0);
    assert_int_equal(tb_atomic_write(path_in("bnb", "config.json"), text, strlen(text), &err), TB_OK);
    free(text), free(cfg);
    json_decref(o);
    free(w), free(names), free(states);
}

static void test_merge_from_nf4_base(void **state)
{
    (void)state;
    tb_nf4 q[16];
    int nq;
    write_bnb_base(q, &nq);
    tb_llama_config cfg;
    base_config(&cfg);
    adapter ad;
    make_adapter(&ad, &cfg);
    tb_error err;
    tb_lora_merge_info info;
    char out_dir[512];
    snprintf(out_dir, sizeof out_dir, "%s/merged_nf4", g_dir);
    float s = 2.0f;
    if (tb_lora_merge_dir(path_in("bnb", ""), ad.pairs, N_ADAPTED, R, s, TB_DTYPE_F32, out_dir, &info, &err) != TB_OK)
        fail_msg("%s: %s: %s", err.file, err.field, err.message);
    assert_int_equal(info.dequantized, 14); /* 7 linears x 2 layers */
    assert_int_equal(info.merged, N_ADAPTED);
    tb_safetensors *m;
    assert_int_equal(tb_safetensors_open(&m, path_in("merged_nf4", "model.safetensors"), &err), TB_OK);
    assert_null(tb_safetensors_find(m, "model.layers.0.self_attn.q_proj.weight.absmax")); /* companions gone */
    int qi = 0;
    tb_safetensors *base;
    assert_int_equal(tb_safetensors_open(&base, path_in("base", "model.safetensors"), &err), TB_OK);
    for (size_t t = 0; t < tb_safetensors_count(base); t++) {
        const tb_st_tensor *bt = tb_safetensors_at(base, t);
        if (!strstr(bt->name, "_proj.weight"))
            continue;
        const tb_nf4 *w4 = &q[qi++];
        const tb_st_tensor *mt = tb_safetensors_find(m, bt->name);
        assert_non_null(mt);
        assert_int_equal(mt->ndim, 2);
        assert_int_equal(mt->shape[0], w4->rows);
        assert_int_equal(mt->shape[1], w4->cols);
        float *w = malloc((size_t)w4->n * sizeof *w);
        tb_nf4_dequant_range_ref(w4, 0, w4->n, w); /* the oracle: the reference dequantizer */
        const float *got = mt->data;
        int i = adapted_index(bt->name);
        for (int64_t k = 0; k < w4->n; k++) {
            double want = i >= 0 ? merged_value(w, &ad, i, k / w4->cols, k % w4->cols, w4->cols, s) : (double)w[k];
            if (fabs(got[k] - want) > 1e-6 * (1 + fabs(want)))
                fail_msg("%s[%lld]: %.9g, want %.9g", bt->name, (long long)k, got[k], want);
        }
        free(w);
    }
    tb_safetensors_close(base);
    tb_safetensors_close(m);
    tb_llama_config mc;
    assert_int_equal(tb_llama_config_load(&mc, path_in("merged_nf4", "config.json"), &err), TB_OK);
    assert_false(mc.bnb_4bit);
    for (int k = 0; k < nq; k++)
        tb_nf4_free(&q[k]);
    free_adapter(&ad);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tb_merge_XXXXXX");
    if (!mkdtemp(g_dir) || tiny_model_write(path_in("base", ""), &spec) != 0)
        return -1;
    tb_error err;
    const char *tok = "{\"version\":\"1.0\",\"model\":{\"type\":\"BPE\",\"vocab\":{}}}";
    return tb_atomic_write(path_in("base", "tokenizer.json"), tok, strlen(tok), &err) == TB_OK &&
                   tb_atomic_write(path_in("base", "generation_config.json"), "{}", 2, &err) == TB_OK
               ? 0
               : -1;
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
        cmocka_unit_test(test_merge_f32_and_bf16),
        cmocka_unit_test(test_merge_from_nf4_base),
    };
    return cmocka_run_group_tests_name("lora_merge", tests, setup, teardown);
}
