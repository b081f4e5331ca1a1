/* Vulkan causal GQA attention against the oracle backend (which builds the full probability
 * matrix the obvious way): forward output and log-sum-exp, backward dq, dk, dv; odd lengths,
 * one token, grouped heads, head dims that are not multiples of the lanes, a KV cache
 * (pos0 > 0, batch stride larger than the keys). */
#include <math.h>
#include <stdlib.h>

#include "tests/vulkan/vk_test_util.h"

enum { P_B, P_T, P_POS0, P_H, P_HKV, P_DH, P_TMAX };

static void run_attention(void **state)
{
    const vkt_case *c = *state;
    VKT_NEED();
    tb_attn_dims d = {.B = c->p[P_B], .Tq = c->p[P_T], .pos0 = c->p[P_POS0], .H = c->p[P_H],
                      .Hkv = c->p[P_HKV], .Dh = c->p[P_DH]};
    int64_t Tmax = c->p[P_TMAX] ? c->p[P_TMAX] : d.pos0 + d.Tq;
    d.kv_stride_b = Tmax * d.Hkv * d.Dh;
    d.scale = 1.0f / sqrtf((float)d.Dh);
    size_t nq = (size_t)(d.B * d.Tq * d.H * d.Dh), nkv = (size_t)(d.B * d.kv_stride_b);
    size_t nstat = (size_t)(d.B * d.H * d.Tq);
    float *q = vkt_rand(nq, 101, 2.0f), *k = vkt_rand(nkv, 102, 2.0f), *v = vkt_rand(nkv, 103, 1.0f);
    float *dout = vkt_rand(nq, 104, 1.0f), *filler = vkt_rand(nkv, 105, 1.0f);
    vkt_tensor tq = vkt_new(TB_DTYPE_F32, nq, q), tk = vkt_new(TB_DTYPE_F32, nkv, k);
    vkt_tensor tv = vkt_new(TB_DTYPE_F32, nkv, v), tdo = vkt_new(TB_DTYPE_F32, nq, dout);
    vkt_tensor out = vkt_new(TB_DTYPE_F32, nq, NULL), lse = vkt_new(TB_DTYPE_F32, nstat, NULL);
    vkt_tensor dq = vkt_new(TB_DTYPE_F32, nq, NULL);
    /* dk, dv are "=" for the Tk positions written; a cache's other positions stay as they
     * were, so start those from data rather than NaN. */
    bool cache = c->p[P_TMAX] != 0;
    vkt_tensor dk = vkt_new(TB_DTYPE_F32, nkv, cache ? filler : NULL);
    vkt_tensor dv = vkt_new(TB_DTYPE_F32, nkv, cache ? filler : NULL);
    VKT_BOTH(be->ops->attention_forward(be, out.v[i], lse.v[i], tq.v[i], tk.v[i], tv.v[i], &d));
    VKT_BOTH(be->ops->attention_backward(be, dq.v[i], dk.v[i], dv.v[i], tdo.v[i], tq.v[i], tk.v[i], tv.v[i],
                                         out.v[i], lse.v[i], &d));
    /* (Head dims are few on purpose: each is its own pipeline, compiled on first use.)
     * Online softmax in f32 against a double two-pass softmax: ~1e-13. */
    vkt_expect("attention out", &out, 1e-11);
    vkt_expect("attention lse", &lse, 1e-11);
    vkt_expect("attention dq", &dq, 1e-10);
    vkt_expect("attention dk", &dk, 1e-10);
    vkt_expect("attention dv", &dv, 1e-10);
    /* Inference form: no lse. */
    vkt_tensor out2 = vkt_new(TB_DTYPE_F32, nq, NULL);
    VKT_BOTH(be->ops->attention_forward(be, out2.v[i], TB_VIEW_NONE, tq.v[i], tk.v[i], tv.v[i], &d));
    vkt_expect("attention out (no lse)", &out2, 1e-11);
    vkt_tensor *all[] = {&tq, &tk, &tv, &tdo, &out, &lse, &dq, &dk, &dv, &out2};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        vkt_free(all[i]);
    free(q);
    free(k);
    free(v);
    free(dout);
    free(filler);
}

int main(void)
{
    static const int shapes[][7] = {
        /* B, Tq, pos0, H, Hkv, Dh, Tmax (0: contiguous) */
        {1, 1, 0, 1, 1, 8, 0},
        {2, 7, 0, 4, 2, 8, 0},
        {1, 33, 0, 3, 1, 8, 0},
        {1, 19, 0, 2, 2, 6, 0},
        {2, 3, 5, 2, 2, 8, 12},
        {1, 1, 9, 4, 1, 8, 16},
        {1, 40, 0, 2, 2, 64, 0},
        {1, 20, 0, 2, 1, 128, 0},
    };
    vkt_case cases[16];
    size_t n = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        const int *p = shapes[s];
        vkt_case *c = vkt_add(cases, &n, 16, run_attention, "attention/B=%d,Tq=%d,pos0=%d,H=%d,Hkv=%d,Dh=%d%s",
                              p[0], p[1], p[2], p[3], p[4], p[5], p[6] ? ",cache" : "");
        for (int i = 0; i < 7; i++)
            c->p[i] = p[i];
    }
    return vkt_run("vk_attention", cases, n);
}
