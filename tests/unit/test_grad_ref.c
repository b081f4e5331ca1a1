/* Loss and gradients against an independent implementation: tests/reference/llama_ref.py
 * (plain PyTorch, autograd) writes PEFT adapters with non-zero B for tiny random models
 * (GQA, MQA + tied head + rsLoRA, Qwen2 q/k/v bias, head_dim 6) and the loss and gradient
 * of every adapter tensor for one sequence (labels = next token), and for two models the
 * gradient of every base weight (full fine-tuning). Relative error (max |diff| / max |ref|
 * per tensor) must stay below 1e-4.
 * Regenerate: /usr/bin/python3 tests/reference/llama_ref.py --out tests/reference/llama */
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

#include "cpu_fixture.h"
#include "engine/core/fs.h"

#include "engine/io/safetensors.h"
#include "engine/model/params.h"
#include "engine/train/grad.h"

#pragma GCC diagnostic ignored "-Wdouble-promotion"

static const struct {
    const char *name;
    bool full;
} cases[] = {
    {"llama_gqa_f32", true}, {"llama_tied_mqa_f32", true}, {"qwen2_bias_f32", false}, {"llama_headdim6_f32", false},
};

static char root[1024];

static double rel_err(const float *got, const float *ref, size_t n)
{
    double scale = 0, d = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(ref[i]));
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)got[i] - ref[i]);
        if (isnan(x))
            return INFINITY;
        d = fmax(d, x);
    }
    return d / (scale > 0 ? scale : 1);
}

/* Every tensor of set against the golden's `prefix + name`; returns the worst error. */
static double compare(const char *what, tb_safetensors *gold, tb_param_set *set, const char *prefix)
{
    float *host = malloc(set->total * sizeof *host);
    tb_error err;
    assert_int_equal(be->ops->download(be, host, tb_view_of(set->grads), set->total, &err), TB_OK);
    double worst = 0;
    for (size_t i = 0; i < set->n; i++) {
        char key[256];
        snprintf(key, sizeof key, "%s%s", prefix, set->p[i].name);
        const tb_st_tensor *t = tb_safetensors_find(gold, key);
        if (!t)
            fail_msg("%s: golden has no %s", what, key);
        assert_int_equal((int64_t)(t->end - t->begin), (int64_t)(set->p[i].n * 4));
        double e = rel_err(host + set->p[i].off, t->data, set->p[i].n);
        if (!(e < 1e-4))
            fail_msg("%s: %s: relative error %.3g", what, key, e);
        worst = fmax(worst, e);
    }
    free(host);
    return worst;
}

static void test_reference_gradients(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char dir[1200], path[1300];
        snprintf(dir, sizeof dir, "%s/%s", root, cases[c].name);
        snprintf(path, sizeof path, "%s/grad_golden.safetensors", dir);
        tb_safetensors *gold, *ids_file;
        tb_error err;
        if (tb_safetensors_open(&gold, path, &err) != TB_OK)
            fail_msg("%s: %s", path, err.message);
        assert_string_equal(tb_safetensors_metadata(gold, "magic"), "tunebench-grad-golden");
        assert_string_equal(tb_safetensors_metadata(gold, "version"), "1");
        snprintf(path, sizeof path, "%s/golden.safetensors", dir);
        assert_int_equal(tb_safetensors_open(&ids_file, path, &err), TB_OK);
        const tb_st_tensor *ids = tb_safetensors_find(ids_file, "ids");
        int64_t T = ids->shape[0];

        tb_llama *m;
        assert_int_equal(tb_llama_load(&m, dir, be, &err), TB_OK);
        tb_lora *lo;
        snprintf(path, sizeof path, "%s/adapter", dir);
        if (tb_lora_load_peft(&lo, path, &m->cfg, be, true, &err) != TB_OK)
            fail_msg("%s: %s: %s", err.file, err.field, err.message);
        m->lora = lo;
        double loss;
        assert_int_equal(tb_grad_sequence(m, ids->data, T, &loss, &err), TB_OK);
        double ref = *(const float *)tb_safetensors_find(gold, "loss")->data;
        double le = fabs(loss - ref) / fabs(ref);
        double ge = compare(cases[c].name, gold, &lo->params, "");
        printf("# lora/%-20s T=%lld r=%lld %zu tensors: loss rel err %.2g, worst gradient rel err %.2g\n",
               cases[c].name, (long long)T, (long long)lo->opt.rank, lo->params.n, le, ge);
        assert_true(le < 1e-5);
        m->lora = NULL;
        tb_lora_free(lo);
        if (cases[c].full) {
            tb_llama_params p;
            assert_int_equal(tb_llama_params_create(m, &p, &err), TB_OK);
            assert_int_equal(tb_grad_sequence(m, ids->data, T, &loss, &err), TB_OK);
            ref = *(const float *)tb_safetensors_find(gold, "full_loss")->data;
            le = fabs(loss - ref) / fabs(ref);
            ge = compare(cases[c].name, gold, &p.set, "full.");
            printf("# full/%-20s T=%lld %zu tensors: loss rel err %.2g, worst gradient rel err %.2g\n", cases[c].name,
                   (long long)T, p.set.n, le, ge);
            assert_true(le < 1e-5);
            tb_llama_params_free(m, &p);
        }
        tb_llama_free(m);
        tb_safetensors_close(ids_file);
        tb_safetensors_close(gold);
    }
}

/* PEFT directories written here load back to the same values; broken ones are refused with
 * the file and key named. */
static void test_peft_roundtrip_and_errors(void **state)
{
    (void)state;
    char dir[1200], out[128], cmd[512];
    snprintf(dir, sizeof dir, "%s/llama_gqa_f32", root);
    snprintf(out, sizeof out, "/tmp/tb-peft.%d", (int)getpid());
    tb_llama *m;
    tb_lora *lo, *back;
    tb_error err;
    assert_int_equal(tb_llama_load(&m, dir, be, &err), TB_OK);
    snprintf(cmd, sizeof cmd, "%s/adapter", dir);
    assert_int_equal(tb_lora_load_peft(&lo, cmd, &m->cfg, be, false, &err), TB_OK);
    int64_t bytes;
    assert_int_equal(tb_lora_save_peft(lo, out, "tiny", TB_DTYPE_F32, &bytes, &err), TB_OK);
    assert_int_equal(tb_lora_load_peft(&back, out, &m->cfg, be, false, &err), TB_OK);
    float *a = malloc(lo->params.total * 4), *b = malloc(lo->params.total * 4);
    assert_int_equal(tb_param_set_download(&lo->params, a, &err), TB_OK);
    assert_int_equal(tb_param_set_download(&back->params, b, &err), TB_OK);
    assert_memory_equal(a, b, lo->params.total * 4);
    assert_true(back->opt.rank == 4 && back->opt.alpha == 8.0 && back->opt.targets == TB_LORA_TARGETS_ALL);
    tb_lora_free(back);
    /* a NaN is never written */
    a[5] = NAN;
    be->ops->upload(be, tb_view_of(lo->params.values), a, lo->params.total);
    snprintf(cmd, sizeof cmd, "%s/nan", out);
    assert_int_equal(tb_lora_save_peft(lo, cmd, "tiny", TB_DTYPE_F32, NULL, &err), TB_ERR_NUMERIC);
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), "/adapter_model.safetensors");
    assert_false(tb_path_exists(cmd));
    /* a rank the model cannot have, and a missing tensor */
    snprintf(cmd, sizeof cmd, "sed -i 's/\"r\": 4/\"r\": 40/' %s/adapter_config.json", out);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(tb_lora_load_peft(&back, out, &m->cfg, be, false, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "rank");
    snprintf(cmd, sizeof cmd, "sed -i 's/\"r\": 40/\"r\": 4/; s/\"down_proj\"/\"down_proj\", \"lm_head\"/' %s/adapter_config.json", out);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(tb_lora_load_peft(&back, out, &m->cfg, be, false, &err), TB_ERR_UNSUPPORTED);
    assert_string_equal(err.field, "target_modules");
    free(a), free(b);
    tb_lora_free(lo);
    tb_llama_free(m);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    const char *src = getenv("TB_SOURCE_ROOT");
    snprintf(root, sizeof root, "%s/tests/reference/llama", src ? src : ".");
    return cpu_setup(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_gradients),
        cmocka_unit_test(test_peft_roundtrip_and_errors),
    };
    return cmocka_run_group_tests_name("grad_ref", tests, setup, cpu_teardown);
}
