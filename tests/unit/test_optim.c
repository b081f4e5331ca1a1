/* AdamW and the learning-rate schedules against independent oracles: torch.optim.AdamW's
 * update written out in double precision, and transformers' schedule formulas at known
 * points (hand-computed values). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cpu_fixture.h"
#include "engine/optim/optim.h"


static void test_schedules(void **state)
{
    (void)state;
    /* total 10, warmup 2: the k-th update uses lambda(k) */
    static const struct {
        tb_schedule_kind k;
        int64_t step;
        double want;
    } pts[] = {
        {TB_SCHED_COSINE, 0, 0.0},   {TB_SCHED_COSINE, 1, 0.5},  {TB_SCHED_COSINE, 2, 1.0},
        {TB_SCHED_COSINE, 6, 0.5},   {TB_SCHED_COSINE, 10, 0.0}, {TB_SCHED_LINEAR, 2, 1.0},
        {TB_SCHED_LINEAR, 6, 0.5},   {TB_SCHED_LINEAR, 9, 0.125}, {TB_SCHED_CONSTANT, 1, 0.5},
        {TB_SCHED_CONSTANT, 7, 1.0},
    };
    for (size_t i = 0; i < sizeof pts / sizeof pts[0]; i++) {
        double got = tb_schedule_factor(pts[i].k, pts[i].step, 2, 10);
        if (fabs(got - pts[i].want) > 1e-12)
            fail_msg("%s step %lld: %.6f, want %.6f", tb_schedule_name(pts[i].k), (long long)pts[i].step, got,
                     pts[i].want);
    }
    /* HF get_warmup_steps: ceil(total * ratio) unless steps are given */
    assert_int_equal(tb_schedule_warmup(0, 0.03, 100), 3);
    assert_int_equal(tb_schedule_warmup(0, 0.03, 101), 4);
    assert_int_equal(tb_schedule_warmup(5, 0.03, 101), 5);
    tb_schedule_kind k;
    assert_true(tb_schedule_parse("constant_with_warmup", &k) && k == TB_SCHED_CONSTANT);
    assert_false(tb_schedule_parse("polynomial", &k));
}

/* Two tensors (one decaying, one not), clipping active, 5 updates at a changing lr. */
static void test_adamw_matches_torch_formula(void **state)
{
    (void)state;
    tb_param_set set = {0};
    tb_error err;
    assert_int_equal(tb_param_set_add(&set, "w", 2, 3, 5, true, &err), TB_OK);
    assert_int_equal(tb_param_set_add(&set, "norm", 1, 7, 0, false, &err), TB_OK);
    assert_int_equal(tb_param_set_add(&set, "late", 1, 2, 0, true, &err), TB_ERR_INVALID); /* decay after no-decay */
    assert_int_equal(tb_param_set_alloc(&set, be, TB_MEM_ADAPTER, true, &err), TB_OK);
    size_t n = set.total;
    float *p = calloc(n, 4), *g = calloc(n, 4);
    double *rp = calloc(n, 8), *rm = calloc(n, 8), *rv = calloc(n, 8);
    for (size_t i = 0; i < n; i++)
        rp[i] = p[i] = (float)(0.1 * sin((double)i + 1));
    be->ops->upload(be, tb_view_of(set.values), p, n);
    tb_adamw_opts o = {.lr = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1, .max_grad_norm = 0.5};
    tb_adamw a;
    assert_int_equal(tb_adamw_init(&a, &set, &o, &err), TB_OK);
    for (int t = 1; t <= 5; t++) {
        double ss = 0;
        for (size_t i = 0; i < n; i++) {
            g[i] = (float)(cos((double)(i * t)) * (t % 2 ? 1.0 : 0.05));
            ss += (double)g[i] * g[i];
        }
        be->ops->upload(be, tb_view_of(set.grads), g, n);
        double got_ss, lr = o.lr * t / 5.0;
        assert_int_equal(tb_adamw_grad_sumsq(&a, &got_ss, &err), TB_OK);
        assert_true(fabs(got_ss - ss) < 1e-5 * ss);
        tb_adamw_update(&a, lr);
        /* torch: clip_grad_norm_ then AdamW step */
        double clip = fmin(1.0, o.max_grad_norm / (sqrt(ss) + 1e-6));
        for (size_t i = 0; i < n; i++) {
            double gi = g[i] * clip, wd = i < set.n_decay ? o.weight_decay : 0;
            rp[i] *= 1 - lr * wd;
            rm[i] = o.beta1 * rm[i] + (1 - o.beta1) * gi;
            rv[i] = o.beta2 * rv[i] + (1 - o.beta2) * gi * gi;
            double mh = rm[i] / (1 - pow(o.beta1, t)), vh = rv[i] / (1 - pow(o.beta2, t));
            rp[i] -= lr * mh / (sqrt(vh) + o.eps);
        }
    }
    assert_int_equal(tb_param_set_download(&set, p, &err), TB_OK);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, fabs(p[i] - rp[i]));
    printf("# adamw/5 updates, clipping, decay + no-decay groups: max |diff| %.3g\n", worst);
    assert_true(worst < 1e-6);
    tb_adamw_free(&a);
    tb_param_set_free(&set);
    free(p), free(g), free(rp), free(rm), free(rv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_adamw_matches_torch_formula),
    };
    return cmocka_run_group_tests_name("optim", tests, cpu_setup, cpu_teardown);
}
