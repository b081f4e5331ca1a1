/* The Llama forward pass against an independent reference: tiny random models and their
 * logits from tests/reference/llama_ref.py (plain PyTorch written from transformers'
 * modeling_llama / modeling_qwen2), committed as golden files with a magic/version header.
 * Regenerate: /usr/bin/python3 tests/reference/llama_ref.py --out tests/reference/llama
 *
 * Also: greedy generation equals the reference's, the KV-cache path equals the full
 * recompute, batching equals single sequences, and saving activations changes nothing. */
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

#include "model_logits.h"
#include "engine/io/safetensors.h"
#include "engine/model/generate.h"
#include "engine/model/llama.h"
#include "tiny_model.h"

static const char *const cases[] = {
    "llama_gqa_f32", "llama_tied_mqa_f32", "qwen2_bias_f32", "llama_headdim6_f32", "llama3_rope_f32", "llama_gqa_bf16",
};
enum { NCASES = sizeof cases / sizeof cases[0] };

static tb_backend *be_f32, *be_bf16;
static char root[1024];

typedef struct golden {
    tb_safetensors *st;
    const int32_t *ids, *greedy;
    const float *logits, *logits_bf16in;
    int64_t T, V, G;
} golden;

static void load_golden(golden *g, const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s/golden.safetensors", root, name);
    tb_error err;
    if (tb_safetensors_open(&g->st, path, &err) != TB_OK)
        fail_msg("%s: %s", path, err.message);
    const char *magic = tb_safetensors_metadata(g->st, "magic"), *ver = tb_safetensors_metadata(g->st, "version");
    assert_non_null(magic);
    assert_string_equal(magic, "tunebench-llama-golden");
    assert_string_equal(ver, "1");
    const tb_st_tensor *ids = tb_safetensors_find(g->st, "ids"), *lg = tb_safetensors_find(g->st, "logits"),
                       *gr = tb_safetensors_find(g->st, "greedy"), *lb = tb_safetensors_find(g->st, "logits_bf16in");
    assert_non_null(ids);
    assert_non_null(lg);
    assert_non_null(gr);
    g->ids = ids->data, g->logits = lg->data, g->greedy = gr->data;
    g->logits_bf16in = lb ? lb->data : NULL;
    g->T = ids->shape[0], g->V = lg->shape[1], g->G = gr->shape[0];
}

static tb_llama *load_model(tb_backend *be, const char *name)
{
    char dir[1200];
    snprintf(dir, sizeof dir, name[0] == '/' ? "%s%s" : "%s/%s", name[0] == '/' ? "" : root, name);
    tb_llama *m;
    tb_error err;
    if (tb_llama_load(&m, dir, be, &err) != TB_OK)
        fail_msg("%s: %s: %s", err.file, err.field, err.message);
    return m;
}

static double max_diff(const float *a, const float *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - (double)b[i]);
        if (isnan(x))
            return (double)INFINITY; /* fmax would skip a NaN */
        d = x > d ? x : d;
    }
    return d;
}

static void check(const char *what, const char *name, double got, double tol)
{
    printf("# %-44s %-20s max |diff| %.3g (tolerance %.0e)\n", what, name, got, tol);
    if (!(got < tol))
        fail_msg("%s %s: max |diff| %.6g >= %.0e", what, name, got, tol);
}

static void test_reference_logits(void **state)
{
    (void)state;
    for (int c = 0; c < NCASES; c++) {
        golden g;
        load_golden(&g, cases[c]);
        tb_llama *m = load_model(be_f32, cases[c]);
        assert_int_equal(m->cfg.vocab_size, g.V);
        float *lg = model_logits(m, g.ids, 1, g.T, false);
        check("logits vs reference, f32 compute", cases[c], max_diff(lg, g.logits, (size_t)(g.T * g.V)), 1e-4);
        free(lg);
        tb_llama_free(m);
        if (g.logits_bf16in) { /* bf16 weights in bf16 precision: oneDNN with bf16 activations */
            m = load_model(be_bf16, cases[c]);
            lg = model_logits(m, g.ids, 1, g.T, false);
            if (be_bf16->opt.precision == TB_PRECISION_BF16)
                check("logits vs bf16-input reference, bf16", cases[c],
                      max_diff(lg, g.logits_bf16in, (size_t)(g.T * g.V)), 2e-3);
            else /* no oneDNN bf16 on this CPU: the backend says it computes in f32 */
                check("logits vs f32 reference, bf16 asked, f32 run", cases[c],
                      max_diff(lg, g.logits, (size_t)(g.T * g.V)), 1e-4);
            check("logits vs f32 reference, bf16 compute", cases[c], max_diff(lg, g.logits, (size_t)(g.T * g.V)), 5e-2);
            free(lg);
            tb_llama_free(m);
        }
        tb_safetensors_close(g.st);
    }
}

static void test_greedy_generation(void **state)
{
    (void)state;
    for (int c = 0; c < NCASES; c++) {
        golden g;
        load_golden(&g, cases[c]);
        tb_llama *m = load_model(be_f32, cases[c]);
        tb_generate_opts o = {.sampler = {0, 0, 1, 1, 0}, .max_new = g.G};
        tb_generate_result r;
        tb_error err;
        assert_int_equal(tb_llama_generate(m, g.ids, g.T, &o, &r, &err), TB_OK);
        assert_int_equal(r.n, g.G);
        assert_int_equal(r.reason, TB_STOP_LENGTH);
        for (int64_t i = 0; i < g.G; i++)
            if (r.ids[i] != g.greedy[i])
                fail_msg("greedy %s: token %lld is %d, reference %d", cases[c], (long long)i, r.ids[i], g.greedy[i]);
        /* eos stops before emitting: make the 3rd reference token an eos */
        int32_t eos = g.greedy[2];
        o.eos = &eos, o.n_eos = 1;
        free(r.ids);
        assert_int_equal(tb_llama_generate(m, g.ids, g.T, &o, &r, &err), TB_OK);
        assert_int_equal(r.reason, TB_STOP_EOS);
        assert_true(r.n <= 2);
        free(r.ids);
        tb_llama_free(m);
        tb_safetensors_close(g.st);
    }
}

/* Prefill 10 tokens into the cache, then one token at a time: every position's logits equal
 * the full forward's. */
static void test_kv_cache_matches_full(void **state)
{
    (void)state;
    for (int c = 0; c < NCASES; c++) {
        golden g;
        load_golden(&g, cases[c]);
        tb_llama *m = load_model(be_f32, cases[c]);
        float *full = model_logits(m, g.ids, 1, g.T, false);
        tb_llama_acts a;
        tb_kv_cache kv;
        tb_error err;
        int64_t V = g.V, P = 10;
        assert_int_equal(tb_llama_acts_init(&a, m, 1, P, TB_ACTS_INFERENCE, P, &err), TB_OK);
        assert_int_equal(tb_kv_cache_init(&kv, m, 1, g.T, &err), TB_OK);
        float *row = malloc((size_t)(P * V) * sizeof *row);
        double worst = 0;
        assert_int_equal(tb_llama_forward(m, &a, g.ids, 1, P, &kv, &err), TB_OK);
        tb_llama_logits(m, &a, 0, P);
        assert_int_equal(m->be->ops->download(m->be, row, a.logits, (size_t)(P * V), &err), TB_OK);
        worst = max_diff(row, full, (size_t)(P * V));
        for (int64_t t = P; t < g.T; t++) {
            assert_int_equal(tb_llama_forward(m, &a, g.ids + t, 1, 1, &kv, &err), TB_OK);
            tb_llama_logits(m, &a, 0, 1);
            assert_int_equal(m->be->ops->download(m->be, row, a.logits, (size_t)V, &err), TB_OK);
            worst = fmax(worst, max_diff(row, full + t * V, (size_t)V));
        }
        assert_int_equal(kv.len, g.T);
        /* a full cache refuses more */
        assert_int_equal(tb_llama_forward(m, &a, g.ids, 1, 1, &kv, &err), TB_ERR_INVALID);
        check("KV cache decode vs full forward", cases[c], worst, 5e-5);
        free(row);
        free(full);
        tb_kv_cache_free(&kv, m->be);
        tb_llama_acts_free(&a);
        tb_llama_free(m);
        tb_safetensors_close(g.st);
    }
}

/* B=2 (the sequence and its reverse) equals two B=1 runs; save=true equals save=false. */
static void test_batch_and_saved_activations(void **state)
{
    (void)state;
    golden g;
    load_golden(&g, "llama_gqa_f32");
    tb_llama *m = load_model(be_f32, "llama_gqa_f32");
    int64_t T = g.T, V = g.V;
    int32_t *ids = malloc((size_t)(2 * T) * sizeof *ids);
    for (int64_t t = 0; t < T; t++)
        ids[t] = g.ids[t], ids[T + t] = g.ids[T - 1 - t];
    float *both = model_logits(m, ids, 2, T, true);
    float *one = model_logits(m, ids, 1, T, false), *two = model_logits(m, ids + T, 1, T, false);
    check("batch row 0 vs single, saved activations", "B=2,T=24", max_diff(both, one, (size_t)(T * V)), 1e-5);
    check("batch row 1 vs single, saved activations", "B=2,T=24", max_diff(both + T * V, two, (size_t)(T * V)), 1e-5);
    /* bad ids are refused with the field named */
    tb_llama_acts a;
    tb_error err;
    assert_int_equal(tb_llama_acts_init(&a, m, 1, 2, TB_ACTS_INFERENCE, 2, &err), TB_OK);
    int32_t bad[2] = {1, (int32_t)V};
    assert_int_equal(tb_llama_forward(m, &a, bad, 1, 2, NULL, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "ids");
    assert_int_equal(tb_llama_forward(m, &a, bad, 1, 3, NULL, &err), TB_ERR_INVALID); /* over capacity */
    tb_llama_acts_free(&a);
    free(ids), free(both), free(one), free(two);
    tb_llama_free(m);
    tb_safetensors_close(g.st);
}

/* Mistral's sliding window: within it full causal attention is the same thing; beyond it
 * the forward pass refuses instead of computing something else. */
static void test_sliding_window_refused_beyond(void **state)
{
    (void)state;
    char dir[64];
    snprintf(dir, sizeof dir, "/tmp/tb-llama-swa.%d", (int)getpid());
    tiny_spec s = {.D = 16, .F = 24, .L = 1, .H = 2, .Hkv = 1, .V = 40, .dtype = TB_DTYPE_F32, .seed = 3,
                   .arch = "MistralForCausalLM", .extra = "\"sliding_window\":8"};
    assert_int_equal(tiny_model_write(dir, &s), 0);
    tb_llama *m = load_model(be_f32, dir);
    tb_llama_acts a;
    tb_error err;
    int32_t ids[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    assert_int_equal(tb_llama_acts_init(&a, m, 1, 9, TB_ACTS_INFERENCE, 9, &err), TB_OK);
    assert_int_equal(tb_llama_forward(m, &a, ids, 1, 8, NULL, &err), TB_OK);
    assert_int_equal(tb_llama_forward(m, &a, ids, 1, 9, NULL, &err), TB_ERR_UNSUPPORTED);
    assert_string_equal(err.field, "sliding_window");
    tb_llama_acts_free(&a);
    tb_llama_free(m);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* Sampling: top-k 1 and tiny top-p are greedy; a seed reproduces; repetition penalty
 * changes an otherwise repeated choice. */
static void test_sampler(void **state)
{
    (void)state;
    float logits[6] = {1.0f, 3.0f, 2.9f, -1.0f, 0.5f, 2.0f};
    tb_sampler s;
    tb_error err;
    tb_sampler_opts o = {.temperature = 1.0f, .top_k = 1, .top_p = 1.0f, .repetition_penalty = 1.0f, .seed = 5};
    assert_int_equal(tb_sampler_init(&s, &o, 6, &err), TB_OK);
    for (int i = 0; i < 20; i++)
        assert_int_equal(tb_sampler_next(&s, logits), 1);
    tb_sampler_free(&s);
    o.top_k = 0, o.top_p = 0.3f; /* p(1) = 0.38 of the mass: alone it covers 0.3 */
    assert_int_equal(tb_sampler_init(&s, &o, 6, &err), TB_OK);
    for (int i = 0; i < 20; i++)
        assert_int_equal(tb_sampler_next(&s, logits), 1);
    tb_sampler_free(&s);
    /* top-k 2 only ever picks 1 or 2; same seed, same draws */
    int32_t first[50];
    o.top_k = 2, o.top_p = 1.0f;
    for (int rep = 0; rep < 2; rep++) {
        assert_int_equal(tb_sampler_init(&s, &o, 6, &err), TB_OK);
        int ones = 0;
        for (int i = 0; i < 50; i++) {
            int32_t t = tb_sampler_next(&s, logits);
            assert_true(t == 1 || t == 2);
            ones += t == 1;
            if (rep == 0)
                first[i] = t;
            else
                assert_int_equal(t, first[i]);
        }
        assert_true(ones > 10 && ones < 40); /* 0.525 vs 0.475 */
        tb_sampler_free(&s);
    }
    /* greedy with repetition penalty 2: token 1 seen -> 3/2 = 1.5 < 2.9: picks 2 */
    o = (tb_sampler_opts){.temperature = 0.0f, .top_p = 1.0f, .repetition_penalty = 2.0f};
    assert_int_equal(tb_sampler_init(&s, &o, 6, &err), TB_OK);
    int32_t seen = 1;
    tb_sampler_observe(&s, &seen, 1);
    assert_int_equal(tb_sampler_next(&s, logits), 2);
    tb_sampler_free(&s);
    o.temperature = -1.0f;
    assert_int_equal(tb_sampler_init(&s, &o, 6, &err), TB_ERR_INVALID);
}

static int setup(void **state)
{
    (void)state;
    const char *src = getenv("TB_SOURCE_ROOT");
    snprintf(root, sizeof root, "%s/tests/reference/llama", src ? src : ".");
    tb_error err;
    tb_backend_options o = {.threads = 2, .precision = TB_PRECISION_F32};
    if (tb_backend_create(&be_f32, "cpu", &o, NULL, 0, &err) != TB_OK)
        return -1;
    o.precision = TB_PRECISION_BF16;
    return tb_backend_create(&be_bf16, "cpu", &o, NULL, 0, &err) == TB_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tb_backend_destroy(be_f32);
    tb_backend_destroy(be_bf16);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_logits),
        cmocka_unit_test(test_greedy_generation),
        cmocka_unit_test(test_kv_cache_matches_full),
        cmocka_unit_test(test_batch_and_saved_activations),
        cmocka_unit_test(test_sliding_window_refused_beyond),
        cmocka_unit_test(test_sampler),
    };
    return cmocka_run_group_tests_name("llama", tests, setup, teardown);
}
