/* The whole-model backward pass against finite differences (f32 forward, losses summed in
 * f64 by the checker): LoRA gradients (every target, rank 3, non-zero B, with and without
 * dropout) and full fine-tuning gradients of every weight, on tiny random models with GQA,
 * tied and untied heads and q/k/v bias. Also: a fresh adapter is an exact no-op, gradient
 * checkpointing gives the same gradients, and two micro-batches equal one batch. */
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
#include "engine/core/rng.h"
#include "engine/model/params.h"
#include "tiny_model.h"

#pragma GCC diagnostic ignored "-Wdouble-promotion"


#define SPEC(d, f, l, h, hkv, dh, v, tied_, bias_, dt, sd)                                               \
    {.D = (d), .F = (f), .L = (l), .H = (h), .Hkv = (hkv), .Dh = (dh), .V = (v), .tied = (tied_), .bias = (bias_), \
     .dtype = (dt), .seed = (sd)}

typedef struct fixture {
    char dir[128];
    tb_llama *m;
    tb_lora *lo;
    tb_llama_params full;
    bool is_full;
    tb_llama_acts a;
    tb_llama_bwd g;
    int64_t B, T;
    int32_t *ids, *targets;
    int64_t ntok;
} fixture;

static void setup_model(fixture *f, const tiny_spec *spec, const char *name)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tb-bwd-%s.%d", name, (int)getpid());
    assert_int_equal(tiny_model_write(f->dir, spec), 0);
    tb_error err;
    if (tb_llama_load(&f->m, f->dir, be, &err) != TB_OK)
        fail_msg("%s", err.message);
}

static void setup_batch(fixture *f, int64_t B, int64_t T, tb_acts_mode mode, uint64_t seed)
{
    tb_error err;
    f->B = B, f->T = T;
    f->ids = malloc((size_t)(B * T) * sizeof *f->ids);
    f->targets = malloc((size_t)(B * T) * sizeof *f->targets);
    tb_rng r;
    tb_rng_seed(&r, seed);
    int64_t V = f->m->cfg.vocab_size;
    f->ntok = 0;
    for (int64_t i = 0; i < B * T; i++) {
        f->ids[i] = (int32_t)tb_rng_below(&r, (uint64_t)V);
        /* a third of the targets masked, like a prompt */
        f->targets[i] = i % 3 == 1 ? -1 : (int32_t)tb_rng_below(&r, (uint64_t)V);
        f->ntok += f->targets[i] >= 0;
    }
    assert_int_equal(tb_llama_acts_init(&f->a, f->m, B, T, mode, tb_llama_logit_rows(&f->m->cfg, B * T), &err), TB_OK);
    assert_int_equal(tb_llama_bwd_init(&f->g, f->m, &f->a, &err), TB_OK);
}

static void teardown_fixture(fixture *f)
{
    tb_llama_bwd_free(&f->g, be);
    tb_llama_acts_free(&f->a);
    if (f->is_full)
        tb_llama_params_free(f->m, &f->full);
    tb_lora_free(f->lo);
    tb_llama_free(f->m);
    free(f->ids);
    free(f->targets);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
}

/* Mean loss over unmasked targets, per-token losses summed in double. */
static double loss_f64(fixture *f)
{
    tb_error err;
    int64_t N = f->B * f->T;
    assert_int_equal(tb_llama_forward(f->m, &f->a, f->ids, f->B, f->T, NULL, &err), TB_OK);
    tb_llama_loss_reset(f->m, &f->g);
    assert_int_equal(tb_llama_loss(f->m, &f->a, &f->g, f->targets, 0.0f, &err), TB_OK);
    assert_true(f->a.logit_rows >= N);
    float *rows = malloc((size_t)N * sizeof *rows);
    assert_int_equal(be->ops->download(be, rows, f->g.loss_rows, (size_t)N, &err), TB_OK);
    double s = 0;
    for (int64_t i = 0; i < N; i++)
        s += rows[i];
    free(rows);
    return s / (double)f->ntok;
}

/* Gradients of the mean loss into set's grads. */
static void grads(fixture *f, tb_param_set *set)
{
    tb_error err;
    tb_param_set_zero_grads(set);
    assert_int_equal(tb_llama_forward(f->m, &f->a, f->ids, f->B, f->T, NULL, &err), TB_OK);
    tb_llama_loss_reset(f->m, &f->g);
    assert_int_equal(tb_llama_loss(f->m, &f->a, &f->g, f->targets, 1.0f / (float)f->ntok, &err), TB_OK);
    assert_int_equal(tb_llama_backward(f->m, &f->a, &f->g, &err), TB_OK);
    assert_int_equal(be->ops->sync(be, &err), TB_OK);
}

static float *download_all(tb_buf *b, size_t n)
{
    float *h = malloc(n * sizeof *h);
    tb_error err;
    assert_int_equal(be->ops->download(be, h, tb_view_of(b), n, &err), TB_OK);
    return h;
}

/* For every tensor of the set: the directional derivative along a random unit direction
 * against the central difference (L(p + eps u) - L(p - eps u)) / 2 eps. */
static void check_directional(fixture *f, tb_param_set *set, const char *name, double eps, double tol)
{
    grads(f, set);
    float *g = download_all(set->grads, set->total), *p0 = download_all(set->values, set->total);
    float *p = malloc(set->total * sizeof *p);
    tb_rng r;
    tb_rng_seed(&r, 7);
    double worst = 0;
    const char *worst_name = "";
    for (size_t t = 0; t < set->n; t++) {
        const tb_param *tp = &set->p[t];
        /* u: the gradient's own direction plus an equal-length random one, so the derivative
         * is large against the f32 noise of the loss and still tests a direction the
         * gradient does not choose. */
        double *u = malloc(tp->n * sizeof *u), rn = 0, gn = 0, norm = 0, an = 0;
        for (size_t i = 0; i < tp->n; i++) {
            u[i] = tb_rng_normal(&r);
            rn += u[i] * u[i];
            gn += (double)g[tp->off + i] * g[tp->off + i];
        }
        rn = sqrt(rn), gn = sqrt(gn) > 0 ? sqrt(gn) : 1;
        for (size_t i = 0; i < tp->n; i++)
            u[i] = u[i] / rn + g[tp->off + i] / gn, norm += u[i] * u[i];
        norm = sqrt(norm);
        for (size_t i = 0; i < tp->n; i++)
            u[i] /= norm, an += u[i] * g[tp->off + i];
        /* central differences at eps and eps/2, Richardson-combined: O(eps^4) truncation */
        double l[4];
        for (int k = 0; k < 4; k++) {
            double h = (k & 1 ? -1 : 1) * (k < 2 ? eps : eps / 2);
            memcpy(p, p0, set->total * sizeof *p);
            for (size_t i = 0; i < tp->n; i++)
                p[tp->off + i] = (float)(p0[tp->off + i] + h * u[i]);
            be->ops->upload(be, tb_view_of(set->values), p, set->total);
            l[k] = loss_f64(f);
        }
        double d1 = (l[0] - l[1]) / (2 * eps), d2 = (l[2] - l[3]) / eps;
        double fd = (4 * d2 - d1) / 3;
        /* the loss is f32: about 1e-6 of noise, amplified ~3/eps by the differences */
        double rel = fabs(fd - an) / (fabs(fd) + 3e-6 / eps);
        if (rel > worst)
            worst = rel, worst_name = tp->name;
        if (!(rel < tol))
            fail_msg("%s: %s: directional derivative %.6g, finite difference %.6g (rel %.2g)", name, tp->name, an, fd,
                     rel);
        free(u);
    }
    be->ops->upload(be, tb_view_of(set->values), p0, set->total);
    printf("# %-52s %zu tensors, worst rel err %.2g (%s)\n", name, set->n, worst, worst_name);
    free(g), free(p0), free(p);
}

static void attach_lora(fixture *f, int64_t R, double dropout, bool rslora)
{
    tb_error err;
    tb_lora_opts o = {.rank = R, .alpha = 2.0 * (double)R, .dropout = dropout, .rslora = rslora,
                      .targets = TB_LORA_TARGETS_ALL};
    assert_int_equal(tb_lora_create(&f->lo, &f->m->cfg, &o, be, true, &err), TB_OK);
    assert_int_equal(tb_lora_init_weights(f->lo, 11, &err), TB_OK);
    /* non-zero B so every path carries signal */
    tb_param_set *s = &f->lo->params;
    float *h = download_all(s->values, s->total);
    tb_rng r;
    tb_rng_seed(&r, 5);
    for (size_t t = 1; t < s->n; t += 2)
        for (size_t i = 0; i < s->p[t].n; i++)
            h[s->p[t].off + i] = (float)(0.2 * tb_rng_normal(&r));
    be->ops->upload(be, tb_view_of(s->values), h, s->total);
    free(h);
    f->lo->train = true;
    f->lo->seed = 1234;
    f->m->lora = f->lo;
}

static void test_fd_lora(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        tiny_spec spec;
        double dropout;
        bool rslora;
    } cases[] = {
        {"lora/gqa,untied,D=16,L=2,R=3", SPEC(16, 24, 2, 4, 2, 0, 40, false, false, TB_DTYPE_F32, 3), 0.0, false},
        {"lora/tied,bias,D=16,L=2,R=3,rslora", SPEC(16, 24, 2, 4, 2, 0, 40, true, true, TB_DTYPE_F32, 4), 0.0, true},
        {"lora/mqa,dropout=0.2,D=12,L=2,R=3", SPEC(12, 20, 2, 3, 1, 0, 30, false, false, TB_DTYPE_F32, 5), 0.2, false},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        fixture f;
        setup_model(&f, &cases[c].spec, "lora");
        attach_lora(&f, 3, cases[c].dropout, cases[c].rslora);
        setup_batch(&f, 2, 7, TB_ACTS_SAVE, 3 + c);
        check_directional(&f, &f.lo->params, cases[c].name, 1e-2, 2e-3);
        teardown_fixture(&f);
    }
}

static void test_fd_full(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        tiny_spec spec;
    } cases[] = {
        {"full/gqa,untied,D=16,L=2", SPEC(16, 24, 2, 4, 2, 0, 40, false, false, TB_DTYPE_F32, 6)},
        {"full/tied,bias,D=16,L=2", SPEC(16, 24, 2, 4, 2, 0, 40, true, true, TB_DTYPE_F32, 7)},
        {"full/bf16 file (f32 master),Dh=6", SPEC(12, 20, 2, 2, 1, 6, 30, false, false, TB_DTYPE_BF16, 8)},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        fixture f;
        tb_error err;
        setup_model(&f, &cases[c].spec, "full");
        assert_int_equal(tb_llama_params_create(f.m, &f.full, &err), TB_OK);
        f.is_full = true;
        setup_batch(&f, 2, 6, TB_ACTS_SAVE, 9 + c);
        check_directional(&f, &f.full.set, cases[c].name, 3e-2, 2e-3);
        teardown_fixture(&f);
    }
}

/* B = 0: logits with the adapter equal those without, bit for bit. */
static void test_fresh_adapter_is_noop(void **state)
{
    (void)state;
    tiny_spec spec = SPEC(16, 24, 2, 4, 2, 0, 40, false, true, TB_DTYPE_F32, 12);
    fixture f;
    tb_error err;
    setup_model(&f, &spec, "noop");
    int64_t T = 9, V = 40;
    int32_t ids[9] = {1, 5, 7, 30, 2, 8, 17, 39, 0};
    float *lg[2];
    for (int with = 0; with < 2; with++) {
        if (with) {
            tb_lora_opts o = {.rank = 4, .alpha = 8, .targets = TB_LORA_TARGETS_ALL};
            assert_int_equal(tb_lora_create(&f.lo, &f.m->cfg, &o, be, false, &err), TB_OK);
            assert_int_equal(tb_lora_init_weights(f.lo, 3, &err), TB_OK);
            f.m->lora = f.lo;
        }
        tb_llama_acts a;
        assert_int_equal(tb_llama_acts_init(&a, f.m, 1, T, TB_ACTS_INFERENCE, T, &err), TB_OK);
        assert_int_equal(tb_llama_forward(f.m, &a, ids, 1, T, NULL, &err), TB_OK);
        tb_llama_logits(f.m, &a, 0, T);
        lg[with] = download_all(a.mem, a.logits.off + (size_t)(T * V)) ;
        memmove(lg[with], lg[with] + a.logits.off, (size_t)(T * V) * sizeof(float));
        tb_llama_acts_free(&a);
    }
    assert_memory_equal(lg[0], lg[1], (size_t)(T * V) * sizeof(float));
    printf("# lora/fresh adapter R=4, all-linear, T=9: logits bit-identical\n");
    free(lg[0]), free(lg[1]);
    teardown_fixture(&f);
}

static double max_rel(const float *a, const float *b, size_t n)
{
    double scale = 0, d = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++)
        d = fmax(d, fabs((double)a[i] - b[i]) / scale);
    return d;
}

/* Checkpointing recomputes each layer: gradients equal the saved-activations run to 1e-6. */
static void test_checkpointing_same_grads(void **state)
{
    (void)state;
    tiny_spec spec = SPEC(16, 24, 3, 4, 2, 0, 40, false, true, TB_DTYPE_F32, 13);
    for (int full = 0; full < 2; full++) {
        float *gr[2];
        size_t n = 0;
        for (int ck = 0; ck < 2; ck++) {
            fixture f;
            tb_error err;
            setup_model(&f, &spec, "ckpt");
            tb_param_set *set;
            if (full) {
                assert_int_equal(tb_llama_params_create(f.m, &f.full, &err), TB_OK);
                f.is_full = true;
                set = &f.full.set;
            } else {
                attach_lora(&f, 4, 0.1, false);
                set = &f.lo->params;
            }
            setup_batch(&f, 3, 8, ck ? TB_ACTS_CHECKPOINT : TB_ACTS_SAVE, 21);
            grads(&f, set);
            n = set->total;
            gr[ck] = download_all(set->grads, n);
            teardown_fixture(&f);
        }
        double d = max_rel(gr[1], gr[0], n);
        printf("# checkpointing/%s,L=3,B=3,T=8: max rel diff %.3g\n", full ? "full" : "lora+dropout", d);
        assert_true(d <= 1e-6);
        free(gr[0]), free(gr[1]);
    }
}

/* Gradient accumulation: micro-batches of 1 row each, scaled by the total token count, add
 * up to the gradient of the 2-row batch. */
static void test_accumulation_equals_batch(void **state)
{
    (void)state;
    tiny_spec spec = SPEC(16, 24, 2, 4, 2, 0, 40, false, false, TB_DTYPE_F32, 14);
    fixture f;
    tb_error err;
    setup_model(&f, &spec, "accum");
    attach_lora(&f, 2, 0.0, false);
    setup_batch(&f, 2, 8, TB_ACTS_SAVE, 31);
    tb_param_set *set = &f.lo->params;
    grads(&f, set);
    float *big = download_all(set->grads, set->total);
    tb_param_set_zero_grads(set);
    for (int64_t b = 0; b < 2; b++) {
        assert_int_equal(tb_llama_forward(f.m, &f.a, f.ids + b * 8, 1, 8, NULL, &err), TB_OK);
        assert_int_equal(tb_llama_loss(f.m, &f.a, &f.g, f.targets + b * 8, 1.0f / (float)f.ntok, &err), TB_OK);
        assert_int_equal(tb_llama_backward(f.m, &f.a, &f.g, &err), TB_OK);
    }
    float *acc = download_all(set->grads, set->total);
    double d = max_rel(acc, big, set->total);
    printf("# accumulation/2 micro-batches of 1x8 vs one 2x8 batch: max rel diff %.3g\n", d);
    assert_true(d < 1e-5);
    /* targets outside the vocabulary are refused */
    f.targets[3] = 40;
    assert_int_equal(tb_llama_forward(f.m, &f.a, f.ids, 2, 8, NULL, &err), TB_OK);
    assert_int_equal(tb_llama_loss(f.m, &f.a, &f.g, f.targets, 1.0f, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "targets");
    free(big), free(acc);
    teardown_fixture(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd_lora),
        cmocka_unit_test(test_fd_full),
        cmocka_unit_test(test_fresh_adapter_is_noop),
        cmocka_unit_test(test_checkpointing_same_grads),
        cmocka_unit_test(test_accumulation_equals_batch),
    };
    return cmocka_run_group_tests_name("backward", tests, cpu_setup, cpu_teardown);
}
