/* A whole LoRA training step on Vulkan against the oracle backend: the benchmark proxy
 * (tests/bench/lora_step.c: forward with adapters, fused softmax + cross-entropy, backward,
 * grad-norm clipping, AdamW; one submit and one metrics readback per step) for 5 steps
 * from the same random model. Losses, gradient norms and every adapter weight must agree
 * to 1e-4 relative: issue 9's end-to-end check, until the engine's trainer (issue 6)
 * exists. */
#include <math.h>
#include <stdlib.h>

#include "tests/bench/lora_step.h"
#include "tests/vulkan/vk_test_util.h"

enum { P_SHAPE };

static const lora_shape shapes[] = {
    {"tiny q,k,v,o f32", 64, 2, 4, 2, 172, 512, 32, 2, 8, true, TB_DTYPE_F32},
    {"tiny all-linear f32", 64, 2, 4, 2, 172, 512, 32, 2, 8, false, TB_DTYPE_F32},
    {"tiny q,k,v,o bf16", 64, 2, 4, 4, 172, 512, 17, 3, 4, true, TB_DTYPE_BF16},
};

static void run_steps(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    const lora_shape *s = &shapes[c->p[P_SHAPE]];
    lora_step *st[2];
    tb_error err;
    for (int i = 0; i < 2; i++)
        if (lora_step_init(&st[i], vkt_be(i), s, &err) != TB_OK)
            fail_msg("init on %s: %s", vkt_be(i)->name, err.message);
    float loss[2][5], gnorm[2][5];
    for (int step = 1; step <= 5; step++)
        for (int i = 0; i < 2; i++)
            if (lora_step_run(st[i], step, &loss[i][step - 1], &gnorm[i][step - 1], &err) != TB_OK)
                fail_msg("step %d on %s: %s", step, vkt_be(i)->name, err.message);
    for (int k = 0; k < 5; k++) {
        print_message("# step %d loss: oracle %.7f vulkan %.7f; grad norm %.7g vs %.7g\n", k + 1, (double)loss[0][k],
                      (double)loss[1][k], (double)gnorm[0][k], (double)gnorm[1][k]);
        if (!(fabsf(loss[1][k] - loss[0][k]) <= 1e-4f * fabsf(loss[0][k])))
            fail_msg("step %d: loss %.7f vs %.7f", k + 1, (double)loss[1][k], (double)loss[0][k]);
        /* AdamW hides a gradient's scale from the weights; the norm does not. */
        if (!(fabsf(gnorm[1][k] - gnorm[0][k]) <= 1e-4f * fabsf(gnorm[0][k])))
            fail_msg("step %d: gradient norm %.7g vs %.7g", k + 1, (double)gnorm[1][k], (double)gnorm[0][k]);
    }
    if (!(loss[0][4] < loss[0][0]))
        fail_msg("the oracle's loss did not fall (%.7f -> %.7f): the test would prove nothing", (double)loss[0][0],
                 (double)loss[0][4]);
    size_t n[2], cap = 1 << 20;
    float *w[2] = {malloc(cap * sizeof(float)), malloc(cap * sizeof(float))};
    for (int i = 0; i < 2; i++)
        if (lora_step_adapters(st[i], w[i], cap, &n[i], &err) != TB_OK)
            fail_msg("adapters: %s", err.message);
    assert_int_equal(n[0], n[1]);
    /* Relative to the adapter's scale: AdamW moves every weight by ~lr per step. */
    double maxabs = 0, maxdiff = 0;
    for (size_t i = 0; i < n[0]; i++) {
        maxabs = fmax(maxabs, fabs((double)w[0][i]));
        maxdiff = fmax(maxdiff, fabs((double)w[1][i] - (double)w[0][i]));
    }
    print_message("# %zu adapter weights, max |diff| %.3g, max |w| %.3g\n", n[0], maxdiff, maxabs);
    if (!(maxdiff <= 1e-4 * maxabs))
        fail_msg("adapters differ by %.3g (max |w| %.3g)", maxdiff, maxabs);
    free(w[0]);
    free(w[1]);
    lora_step_free(st[0]);
    lora_step_free(st[1]);
}

int main(void)
{
    vkt_case cases[4];
    size_t n = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const lora_shape *s = &shapes[i];
        vkt_add(cases, &n, 4, run_steps, "lora_step x5/%s,D=%lld,L=%lld,H=%lld,Hkv=%lld,F=%lld,V=%lld,B=%lld,T=%lld,R=%lld",
                s->name, (long long)s->D, (long long)s->L, (long long)s->H, (long long)s->Hkv, (long long)s->F,
                (long long)s->V, (long long)s->B, (long long)s->T, (long long)s->R)->p[P_SHAPE] = (int)i;
    }
    return vkt_run("vk_train", cases, n);
}
