/* Vulkan matmul against a double-precision reference: every transpose combination,
 * f32/bf16/f16 weights, the fused LoRA epilogue, views with offsets and strides, shapes
 * that are not multiples of any tile (1 row, odd sizes, rank-sized sides). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/vulkan/vk_test_util.h"

enum { P_TA, P_TB, P_DT, P_LORA, P_M, P_N, P_K, P_VIEW };

/* Round f32 weights through the stored dtype so the reference sees what the kernel reads. */
static void store_weights(const float *w, size_t n, tb_dtype dt, void *dst, float *as_read)
{
    tb_convert_from_f32(dst, dt, w, n);
    tb_convert_to_f32(as_read, dst, dt, n);
}

static void run_matmul(void **state)
{
    const vkt_case *c = *state;
    VKT_CTX(ctx);
    bool ta = c->p[P_TA], tb = c->p[P_TB], lora = c->p[P_LORA], view = c->p[P_VIEW];
    tb_dtype dt = (tb_dtype)c->p[P_DT];
    uint32_t M = (uint32_t)c->p[P_M], N = (uint32_t)c->p[P_N], K = (uint32_t)c->p[P_K], R = 5;
    /* A view: operands sit at an offset inside wider rows. */
    uint32_t pad = view ? 3 : 0, off = view ? 7 : 0;
    uint32_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
    size_t na = off + (size_t)(ta ? K : M) * lda, nb = off + (size_t)(tb ? N : K) * ldb;
    size_t nc = off + (size_t)M * ldc;
    float *a = malloc(na * 4), *b = malloc(nb * 4), *bread = malloc(nb * 4);
    float *c0 = malloc(nc * 4), *want = malloc(nc * 4), *got = malloc(nc * 4);
    float *h = malloc((size_t)M * R * 4), *l = malloc((size_t)N * R * 4);
    void *bstore = malloc(nb * 4);
    vkt_fill(a, na, 1, 1.0f);
    vkt_fill(b, nb, 2, 1.0f);
    vkt_fill(c0, nc, 3, 1.0f);
    vkt_fill(h, (size_t)M * R, 4, 1.0f);
    vkt_fill(l, (size_t)N * R, 5, 1.0f);
    store_weights(b, nb, dt, bstore, bread);
    float alpha = 0.75f, beta = view ? 0.5f : 0.0f, ls = 2.0f;
    memcpy(want, c0, nc * 4);
    for (uint32_t m = 0; m < M; m++)
        for (uint32_t n = 0; n < N; n++) {
            double s = 0;
            for (uint32_t k = 0; k < K; k++)
                s += (double)a[off + (ta ? k * lda + m : m * lda + k)] *
                     (double)bread[off + (tb ? n * ldb + k : k * ldb + n)];
            double v = (double)alpha * s + (double)beta * (double)c0[off + m * ldc + n];
            if (lora) {
                double t = 0;   /* L stored (N,R) when trans_b, else (R,N) */
                for (uint32_t r = 0; r < R; r++)
                    t += (double)h[m * R + r] * (double)l[tb ? n * R + r : r * N + n];
                v += (double)ls * t;
            }
            want[off + m * ldc + n] = (float)v;
        }

    tb_vk_buffer *ba = vkt_buf(ctx, a, na * 4), *bb = vkt_buf(ctx, bstore, nb * tb_dtype_size(dt));
    tb_vk_buffer *bc = vkt_buf(ctx, c0, nc * 4);
    tb_vk_buffer *bh = lora ? vkt_buf(ctx, h, (size_t)M * R * 4) : NULL;
    tb_vk_buffer *bl = lora ? vkt_buf(ctx, l, (size_t)N * R * 4) : NULL;
    tb_vk_matmul_args args = {
        .M = M, .N = N, .K = K,
        .a = ba, .a_off = off, .lda = lda, .trans_a = ta,
        .b = bb, .b_off = off, .ldb = ldb, .trans_b = tb, .b_dtype = dt,
        .c = bc, .c_off = off, .ldc = ldc,
        .alpha = alpha, .beta = beta,
        .lora_h = bh, .lora_l = bl, .R = R, .lora_trans = tb, .lora_scale = ls,
    };
    tb_error err;
    vkt_ok(tb_vk_matmul(ctx, &args, &err), &err);
    vkt_read(ctx, bc, got, nc * 4);
    /* f32 math, different summation order: 1e-10 holds with margin for K <= 300. */
    vkt_expect(c->name, got, want, nc, 1e-10);
    tb_vk_buffer_free(ba);
    tb_vk_buffer_free(bb);
    tb_vk_buffer_free(bc);
    tb_vk_buffer_free(bh);
    tb_vk_buffer_free(bl);
    free(a); free(b); free(bread); free(c0); free(want); free(got); free(h); free(l); free(bstore);
}

static void run_bad_shape(void **state)
{
    (void)state;
    VKT_CTX(ctx);
    float x[16] = {0};
    tb_vk_buffer *a = vkt_buf(ctx, x, sizeof x), *b = vkt_buf(ctx, x, sizeof x);
    tb_vk_matmul_args args = {.M = 100, .N = 4, .K = 4, .a = a, .b = b, .c = b, .b_dtype = TB_DTYPE_F32, .alpha = 1};
    tb_error err;
    tb_error_clear(&err);
    assert_int_equal(tb_vk_matmul(ctx, &args, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "elements"));
    args.M = 4;
    args.b_dtype = TB_DTYPE_NF4;
    assert_int_equal(tb_vk_matmul(ctx, &args, &err), TB_ERR_UNSUPPORTED);
    tb_vk_buffer_free(a);
    tb_vk_buffer_free(b);
}

int main(void)
{
    static const int shapes[][3] = {
        {1, 1, 1}, {1, 37, 19}, {7, 5, 3}, {33, 65, 17}, {70, 129, 40}, {100, 16, 64},
        {16, 100, 64}, {130, 67, 150},
    };
    static const char *dts[] = {"f32", "f16", "bf16"};
    static const tb_dtype dtv[] = {TB_DTYPE_F32, TB_DTYPE_F16, TB_DTYPE_BF16};
    vkt_case cases[128];
    size_t n = 0;
    for (int lora = 0; lora < 2; lora++)
        for (int d = 0; d < 3; d++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    if ((d > 0 || lora) && ta)
                        continue;   /* no such kernel: weight gradients are f32 */
                    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
                        /* Every shape for plain f32; the others skip the rank-sized
                         * shapes (only f32 LoRA products use those tiles), which keeps
                         * lavapipe's first-use shader compiles (~0.3 s each) few. */
                        if ((d > 0 || lora) && (s == 2 || s == 4 || s == 5 || s == 6))
                            continue;
                        vkt_case *c = &cases[n++];
                        int view = (int)(s == 3 || s == 7);
                        snprintf(c->name, sizeof c->name, "matmul%s_%c%c_%s/M=%d,N=%d,K=%d%s",
                                 lora ? "_lora" : "", ta ? 't' : 'n', tb ? 't' : 'n', dts[d],
                                 shapes[s][0], shapes[s][1], shapes[s][2], view ? ",view" : "");
                        c->fn = run_matmul;
                        c->p[P_TA] = ta;
                        c->p[P_TB] = tb;
                        c->p[P_DT] = (int)dtv[d];
                        c->p[P_LORA] = lora;
                        c->p[P_M] = shapes[s][0];
                        c->p[P_N] = shapes[s][1];
                        c->p[P_K] = shapes[s][2];
                        c->p[P_VIEW] = view;
                    }
                }
    vkt_case *c = &cases[n++];
    snprintf(c->name, sizeof c->name, "matmul/bad shapes refused");
    c->fn = run_bad_shape;
    return vkt_run("vk_matmul", cases, n);
}
