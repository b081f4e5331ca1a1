/* Several adapters on one resident base: switching A -> B -> A gives A's logits again (bit
 * for bit), B's differ, none gives the base's; an adapter written by another tool (PEFT-style
 * config with keys we do not know, a subset of targets, bf16 tensors, rsLoRA) loads; and
 * base + adapter equals the merged model (tb_lora_merge_dir, checked against f64 in
 * test_lora_merge) to 1e-4 in f32, for our adapters and the foreign one. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/eval/run.h"
#include "engine/io/safetensors.h"
#include "engine/lora/adapter_set.h"
#include "engine/lora/merge.h"
#include "tiny_model.h"

#define T 12
static char g_dir[256];
static tb_backend *be;
static const tiny_spec spec = {.D = 32, .F = 48, .L = 2, .H = 4, .Hkv = 2, .V = 64, .dtype = TB_DTYPE_F32, .seed = 3};
static const int32_t ids[T] = {1, 5, 9, 33, 2, 60, 17, 8, 8, 41, 0, 12};

static const char *path(const char *name)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static float frand(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

/* An adapter with random A and B (B non-zero, so it changes the output), saved as PEFT. */
static void save_random_adapter(tb_llama *m, const char *dir, tb_lora_targets targets, int64_t rank, uint32_t seed)
{
    tb_lora_opts o = {.rank = rank, .alpha = 2.0 * (double)rank, .targets = targets};
    tb_lora *lo;
    tb_error err;
    assert_int_equal(tb_lora_create(&lo, &m->cfg, &o, be, false, &err), TB_OK);
    float *v = malloc(lo->params.total * sizeof *v);
    for (size_t i = 0; i < lo->params.total; i++)
        v[i] = 0.3f * frand(&seed);
    be->ops->upload(be, tb_view_of(lo->params.values), v, lo->params.total);
    assert_int_equal(be->ops->sync(be, &err), TB_OK);
    assert_int_equal(tb_lora_save_peft(lo, dir, path("base"), TB_DTYPE_F32, NULL, &err), TB_OK);
    tb_lora_free(lo);
    free(v);
}

/* A "foreign" adapter: the keys PEFT 0.13 writes (several we ignore), q and v only, rsLoRA,
 * bf16 tensors, written by hand. */
static void write_foreign_adapter(const tb_llama_config *c, const char *dir)
{
    tb_error err;
    assert_int_equal(tb_mkdirs(dir, &err), TB_OK);
    char cfg[2048];
    snprintf(cfg, sizeof cfg,
             "{\"alpha_pattern\": {}, \"auto_mapping\": null, \"base_model_name_or_path\": \"meta-llama/x\","
             " \"bias\": \"none\", \"eva_config\": null, \"exclude_modules\": null, \"fan_in_fan_out\": false,"
             " \"inference_mode\": true, \"init_lora_weights\": true, \"layer_replication\": null,"
             " \"layers_pattern\": null, \"layers_to_transform\": null, \"loftq_config\": {}, \"lora_alpha\": 8,"
             " \"lora_bias\": false, \"lora_dropout\": 0.05, \"megatron_config\": null, \"megatron_core\": \"megatron.core\","
             " \"modules_to_save\": null, \"peft_type\": \"LORA\", \"r\": 4, \"rank_pattern\": {}, \"revision\": null,"
             " \"target_modules\": [\"v_proj\", \"q_proj\"], \"task_type\": \"CAUSAL_LM\", \"use_dora\": false,"
             " \"use_rslora\": true}");
    char p[1200];
    snprintf(p, sizeof p, "%s/adapter_config.json", dir);
    assert_int_equal(tb_atomic_write(p, cfg, strlen(cfg), &err), TB_OK);
    tb_lora_layout lay;
    assert_int_equal(tb_lora_layout_build(&lay, c, (1u << TB_LORA_Q) | (1u << TB_LORA_V), 4, TB_DTYPE_BF16, &err), TB_OK);
    uint32_t s = 77;
    void **bufs = calloc(lay.n, sizeof *bufs);
    for (size_t i = 0; i < lay.n; i++) {
        size_t n = (size_t)(lay.tensors[i].shape[0] * lay.tensors[i].shape[1]);
        float *f = malloc(n * sizeof *f);
        for (size_t k = 0; k < n; k++)
            f[k] = 0.4f * frand(&s);
        bufs[i] = malloc(n * 2);
        tb_convert_from_f32(bufs[i], TB_DTYPE_BF16, f, n);
        lay.tensors[i].data = bufs[i];
        free(f);
    }
    snprintf(p, sizeof p, "%s/adapter_model.safetensors", dir);
    assert_int_equal(tb_safetensors_write(p, lay.tensors, lay.n, tb_peft_adapter_meta, 1, &err), TB_OK);
    for (size_t i = 0; i < lay.n; i++)
        free(bufs[i]);
    free(bufs);
    tb_lora_layout_free(&lay);
}

static float *logits(tb_llama *m)
{
    float *out = malloc((size_t)(T * m->cfg.vocab_size) * sizeof *out);
    tb_error err;
    assert_int_equal(tb_eval_logits(m, ids, T, 0, T, out, &err), TB_OK);
    return out;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double mx = 0;
    for (size_t i = 0; i < n; i++)
        mx = fmax(mx, fabs((double)a[i] - b[i]));
    return mx;
}

static tb_llama *load(const char *dir)
{
    tb_llama *m;
    tb_error err;
    if (tb_llama_load(&m, dir, be, &err) != TB_OK)
        fail_msg("%s: %s", dir, err.message);
    return m;
}

static void test_hot_swap_a_b_a(void **state)
{
    (void)state;
    tb_llama *m = load(path("base"));
    size_t n = (size_t)(T * m->cfg.vocab_size);
    save_random_adapter(m, path("A"), TB_LORA_TARGETS_QKVO, 4, 11);
    save_random_adapter(m, path("B"), TB_LORA_TARGETS_ALL, 8, 22); /* another rank and targets */
    tb_adapter_set set;
    tb_adapter_set_init(&set, m);
    tb_error err;
    int ia, ib;
    assert_int_equal(tb_adapter_set_load(&set, path("A"), &ia, &err), TB_OK);
    assert_int_equal(tb_adapter_set_load(&set, path("B"), &ib, &err), TB_OK);
    float *base = logits(m);
    tb_adapter_set_activate(&set, ia);
    float *a1 = logits(m);
    tb_adapter_set_activate(&set, ib);
    float *b = logits(m);
    tb_adapter_set_activate(&set, ia);
    float *a2 = logits(m);
    tb_adapter_set_activate(&set, -1);
    float *base2 = logits(m);
    assert_memory_equal(a1, a2, n * sizeof *a1);     /* A -> B -> A: A's logits, bit for bit */
    assert_memory_equal(base, base2, n * sizeof *a1); /* detaching restores the base */
    assert_true(max_diff(a1, b, n) > 1e-3);           /* and the adapters do differ */
    assert_true(max_diff(a1, base, n) > 1e-3);
    /* each equals its merged model */
    const char *which[2] = {"A", "B"};
    float *got[2] = {a1, b};
    for (int k = 0; k < 2; k++) {
        float *mem;
        tb_lora_pair *pairs;
        size_t np;
        tb_lora *lo = set.v[k].lo;
        assert_int_equal(tb_lora_host_pairs(lo, &mem, &pairs, &np, &err), TB_OK);
        char out[300];
        snprintf(out, sizeof out, "merged_%s", which[k]);
        assert_int_equal(tb_lora_merge_dir(path("base"), pairs, np, lo->opt.rank, lo->scale, TB_DTYPE_F32, path(out),
                                           NULL, &err),
                         TB_OK);
        tb_llama *mm = load(path(out));
        float *lm = logits(mm);
        double d = max_diff(got[k], lm, n);
        if (d >= 1e-4)
            fail_msg("adapter %s: max |merged - base+adapter| = %g", which[k], d);
        free(lm);
        tb_llama_free(mm);
        free(mem), free(pairs);
    }
    free(base), free(base2), free(a1), free(a2), free(b);
    tb_adapter_set_free(&set);
    assert_null(m->lora);
    tb_llama_free(m);
}

static void test_foreign_peft_adapter(void **state)
{
    (void)state;
    tb_llama *m = load(path("base"));
    size_t n = (size_t)(T * m->cfg.vocab_size);
    write_foreign_adapter(&m->cfg, path("foreign"));
    tb_adapter_set set;
    tb_adapter_set_init(&set, m);
    tb_error err;
    int i;
    if (tb_adapter_set_load(&set, path("foreign"), &i, &err) != TB_OK)
        fail_msg("%s: %s: %s", err.file, err.field, err.message);
    tb_lora *lo = set.v[i].lo;
    assert_int_equal(lo->opt.rank, 4);
    assert_int_equal(lo->opt.targets, (1u << TB_LORA_Q) | (1u << TB_LORA_V));
    assert_true(lo->opt.rslora);
    assert_true(fabs(lo->scale - 8.0 / 2.0) < 1e-6); /* alpha / sqrt(r) */
    assert_string_equal(set.v[i].name, "foreign");
    tb_adapter_set_activate(&set, i);
    float *got = logits(m);
    float *mem;
    tb_lora_pair *pairs;
    size_t np;
    assert_int_equal(tb_lora_host_pairs(lo, &mem, &pairs, &np, &err), TB_OK);
    assert_int_equal(np, 4); /* q and v in 2 layers */
    assert_int_equal(tb_lora_merge_dir(path("base"), pairs, np, 4, lo->scale, TB_DTYPE_F32, path("merged_foreign"), NULL,
                                       &err),
                     TB_OK);
    tb_llama *mm = load(path("merged_foreign"));
    float *want = logits(mm);
    assert_true(max_diff(got, want, n) < 1e-4);
    free(got), free(want), free(mem), free(pairs);
    tb_llama_free(mm);
    tb_adapter_set_free(&set);
    tb_llama_free(m);
}

static void test_short_names_and_refusals(void **state)
{
    (void)state;
    char b[160];
    tb_adapter_short_name("runs/7/adapter", b, sizeof b);
    assert_string_equal(b, "7/adapter");
    tb_adapter_short_name("out/my-lora/", b, sizeof b);
    assert_string_equal(b, "my-lora");
    tb_adapter_short_name("adapter", b, sizeof b);
    assert_string_equal(b, "adapter");
    tb_llama *m = load(path("base"));
    tb_adapter_set set;
    tb_adapter_set_init(&set, m);
    tb_error err;
    assert_int_not_equal(tb_adapter_set_load(&set, path("nope"), NULL, &err), TB_OK);
    assert_non_null(strstr(err.file, "nope"));
    assert_int_equal(set.n, 0);
    tb_adapter_set_free(&set);
    tb_llama_free(m);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tb_adapters_XXXXXX");
    tb_error err;
    tb_backend_options o = {.threads = 2, .precision = TB_PRECISION_F32};
    return mkdtemp(g_dir) && tiny_model_write(path("base"), &spec) == 0 &&
                   tb_backend_create(&be, "cpu", &o, NULL, 0, &err) == TB_OK
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    tb_backend_destroy(be);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hot_swap_a_b_a),
        cmocka_unit_test(test_foreign_peft_adapter),
        cmocka_unit_test(test_short_names_and_refusals),
    };
    return cmocka_run_group_tests_name("adapter_set", tests, setup, teardown);
}
