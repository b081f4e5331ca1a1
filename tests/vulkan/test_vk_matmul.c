/* Vulkan matmul against the oracle backend: every transpose combination, f32/bf16/f16
 * weights read in place, the bf16 compute precision, alpha/beta, shapes that are not
 * multiples of any tile (1 row, odd sizes, rank-sized sides that pick the skinny tile, few
 * tiles over a long K that split K). */
#include <stdlib.h>

#include "engine/backend/vulkan/vk_backend.h"
#include "engine/backend/vulkan/vk_context.h"
#include "tests/vulkan/vk_test_util.h"

enum { P_TA, P_TB, P_DT, P_M, P_N, P_K, P_BETA, P_PREC };

/* p[7] packs precision (bit 0) and "use the GPU tile shapes" (bit 1). */
#define GPU_TILES 2

static void run_matmul(void **state)
{
    const vkt_case *c = *state;
    vkt_set_precision(c->p[P_PREC] & 1 ? TB_PRECISION_BF16 : TB_PRECISION_F32);
    VKT_NEED();
    /* The tile shapes a GPU gets (vk_pipeline.c), exercised on whatever device runs this. */
    tb_vk_ctx *ctx = tb_vulkan_backend_ctx(vkt_be(1));
    tb_vk_tile big = ctx->tile_big, skinny = ctx->tile_skinny;
    if (c->p[P_PREC] & GPU_TILES) {
        ctx->tile_big = (tb_vk_tile){128, 128, 8, 8, 8};
        ctx->tile_skinny = (tb_vk_tile){64, 16, 16, 4, 2};
    }
    int M = c->p[P_M], N = c->p[P_N], K = c->p[P_K];
    tb_dtype dt = (tb_dtype)c->p[P_DT];
    int flags = (c->p[P_TA] ? TB_MM_TRANS_A : 0) | (c->p[P_TB] ? TB_MM_TRANS_B : 0);
    float *a = vkt_rand((size_t)M * K, 1, 1.0f), *b = vkt_rand((size_t)K * N, 2, 1.0f);
    float *c0 = vkt_rand((size_t)M * N, 3, 1.0f);
    float beta = c->p[P_BETA] ? 0.5f : 0.0f;
    vkt_tensor ta = vkt_new(TB_DTYPE_F32, (size_t)M * K, a), tb = vkt_new(dt, (size_t)K * N, b);
    /* beta == 0 must ignore C entirely: start it as NaN then. */
    vkt_tensor tc = vkt_new(TB_DTYPE_F32, (size_t)M * N, beta != 0.0f ? c0 : NULL);
    VKT_BOTH(be->ops->matmul(be, tc.v[i], ta.v[i], tb_wdense(tb.v[i]), M, N, K, flags, 0.75f, beta));
    ctx->tile_big = big;
    ctx->tile_skinny = skinny;
    /* f32 products, only the summation order differs: 1e-10 holds with margin for K <= 2048.
     * The bf16 precision: Vulkan always rounds A to bf16 (backend.h); the CPU does on its
     * oneDNN path only (M >= 16, oneDNN built) and multiplies in f32 elsewhere. The two
     * differ by A's rounding, at most 2^-8 relative per element (bf16 keeps 8 significant
     * bits): NMSE <= 2^-16 ~ 1.5e-5 (seen: 7e-6); 3e-5 bounds it. */
    vkt_expect(c->name, &tc, c->p[P_PREC] & 1 ? 3e-5 : 1e-10);
    vkt_free(&ta);
    vkt_free(&tb);
    vkt_free(&tc);
    free(a);
    free(b);
    free(c0);
}

static void run_errors(void **state)
{
    (void)state;
    vkt_set_precision(TB_PRECISION_F32);
    VKT_NEED();
    tb_backend *be = vkt_be(1);
    vkt_tensor t = vkt_new(TB_DTYPE_F32, 16, NULL);
    /* A view past the end is refused at the next sync point, naming the operand. */
    be->ops->matmul(be, t.v[1], t.v[1], tb_wdense(t.v[1]), 100, 4, 4, 0, 1.0f, 0.0f);
    tb_error err;
    assert_int_equal(be->ops->sync(be, &err), TB_ERR_INVALID);
    assert_string_equal(err.field, "A");
    /* NF4 is issue 10: refused, not faked. */
    be->ops->matmul(be, t.v[1], t.v[1], (tb_wview){t.v[1], (const struct tb_nf4_weight *)1}, 4, 4, 1, 0, 1, 0);
    assert_int_equal(be->ops->sync(be, &err), TB_ERR_UNSUPPORTED);
    /* The error is reported once; the backend works again after it. */
    assert_int_equal(be->ops->sync(be, &err), TB_OK);
    vkt_free(&t);
}

int main(void)
{
    static const int shapes[][3] = {
        {1, 1, 1}, {1, 37, 19}, {7, 5, 3}, {33, 65, 17}, {70, 129, 40}, {100, 16, 64},
        {16, 100, 64}, {130, 67, 150}, {16, 100, 1100}, {100, 16, 2048},
    };
    static const struct { const char *name; tb_dtype dt; } dts[] = {
        {"f32", TB_DTYPE_F32}, {"f16", TB_DTYPE_F16}, {"bf16", TB_DTYPE_BF16},
    };
    vkt_case cases[96];
    size_t n = 0;
    for (int prec = 0; prec < 2; prec++)
        for (int d = 0; d < 3; d++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    /* 16-bit weights are B of forward (nt) and input-gradient (nn) products;
                     * the bf16 precision only changes bf16 weights. */
                    if ((d > 0 && ta) || (prec && dts[d].dt != TB_DTYPE_BF16))
                        continue;
                    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
                        /* Every shape for plain f32; the others skip the rank-sized ones
                         * (only f32 LoRA products use those tiles), keeping lavapipe's
                         * first-use shader compiles (~0.3 s each) few. */
                        if ((d > 0 || prec) && (s == 2 || s == 4 || s == 5 || s == 6 || s >= 8))
                            continue;
                        vkt_case *c = vkt_add(cases, &n, 96, run_matmul, "matmul_%c%c_%s%s/M=%d,N=%d,K=%d%s",
                                              ta ? 't' : 'n', tb ? 't' : 'n', dts[d].name,
                                              prec ? ",precision=bf16" : "", shapes[s][0], shapes[s][1],
                                              shapes[s][2], s % 3 == 1 || s == 9 ? ",beta=0.5" : "");
                        c->p[P_TA] = ta;
                        c->p[P_TB] = tb;
                        c->p[P_DT] = (int)dts[d].dt;
                        c->p[P_M] = shapes[s][0];
                        c->p[P_N] = shapes[s][1];
                        c->p[P_K] = shapes[s][2];
                        c->p[P_BETA] = s % 3 == 1 || s == 9;
                        c->p[P_PREC] = prec;
                    }
                }
    static const int gpu[][5] = {{0, 1, 130, 67, 150}, {1, 0, 100, 16, 64}, {0, 1, 16, 100, 64}, {0, 1, 100, 16, 64}};
    for (size_t s = 0; s < sizeof gpu / sizeof *gpu; s++) {
        vkt_case *c = vkt_add(cases, &n, 96, run_matmul, "matmul_%c%c_f32/M=%d,N=%d,K=%d,tiles=gpu",
                              gpu[s][0] ? 't' : 'n', gpu[s][1] ? 't' : 'n', gpu[s][2], gpu[s][3], gpu[s][4]);
        c->p[P_TA] = gpu[s][0];
        c->p[P_TB] = gpu[s][1];
        c->p[P_DT] = (int)TB_DTYPE_F32;
        c->p[P_M] = gpu[s][2];
        c->p[P_N] = gpu[s][3];
        c->p[P_K] = gpu[s][4];
        c->p[P_PREC] = GPU_TILES;
    }
    vkt_add(cases, &n, 96, run_errors, "matmul/overrun and NF4 refused at sync");
    return vkt_run("vk_matmul", cases, n);
}
