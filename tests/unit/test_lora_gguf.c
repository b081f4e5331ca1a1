/* GGUF LoRA export: every key and tensor re-read with the project's GGUF reader; q/k lora_b
 * rows in llama.cpp's interleaved-RoPE order, checked two ways: index by index against the
 * reshape/swapaxes definition of convert_hf_to_gguf.py's permute, and by meaning: attention
 * scores under HF's half-split RoPE on the original rows equal those under interleaved RoPE
 * on the exported rows (GQA, several positions). rsLoRA alpha folding, bf16, Qwen2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/dtype.h"
#include "engine/io/gguf.h"
#include "engine/lora/gguf_export.h"

#define L 2
#define R 3
static char g_dir[256];

static void tiny_config(tb_llama_config *c, const char *type)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model_type, sizeof c->model_type, "%s", type);
    c->dim = 16, c->ffn_dim = 24, c->n_layers = L, c->n_heads = 4, c->n_kv_heads = 2, c->head_dim = 6;
    c->vocab_size = 32, c->rope_theta = 10000;
}

static uint32_t g_seed = 12345;
static float rnd(void)
{
    g_seed = g_seed * 1664525u + 1013904223u;
    return (float)((g_seed >> 8) & 0xffff) / 32768.0f - 1.0f;
}

typedef struct adapter {
    float *a[L][TB_LORA_MODULE_COUNT], *b[L][TB_LORA_MODULE_COUNT];
    tb_lora_pair pairs[L * TB_LORA_MODULE_COUNT];
    size_t n;
} adapter;

static void make_adapter(adapter *ad, const tb_llama_config *c)
{
    ad->n = 0;
    for (int l = 0; l < L; l++)
        for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
            int64_t in, out;
            tb_lora_module_shape(c, (tb_lora_module)m, &in, &out);
            ad->a[l][m] = malloc((size_t)(R * in) * sizeof(float));
            ad->b[l][m] = malloc((size_t)(out * R) * sizeof(float));
            for (int64_t i = 0; i < R * in; i++)
                ad->a[l][m][i] = rnd();
            for (int64_t i = 0; i < out * R; i++)
                ad->b[l][m][i] = rnd();
            ad->pairs[ad->n++] = (tb_lora_pair){l, (tb_lora_module)m, ad->a[l][m], ad->b[l][m]};
        }
}

static void free_adapter(adapter *ad)
{
    for (int l = 0; l < L; l++)
        for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
            free(ad->a[l][m]), free(ad->b[l][m]);
}

/* The row a numpy reshape(n_head, 2, Dh/2, cols).swapaxes(1, 2).reshape(rows, cols) puts at
 * position `row`: element (h, i, j) of the swapped array sits at h*Dh + i*2 + j and came
 * from (h, j, i) of the reshaped one = row h*Dh + j*(Dh/2) + i. */
static int64_t permuted_source(int64_t row, int64_t Dh)
{
    int64_t h = row / Dh, rem = row % Dh, i = rem / 2, j = rem % 2;
    return h * Dh + j * (Dh / 2) + i;
}

static void check_file(const char *path, const tb_llama_config *c, const adapter *ad, bool permute, float alpha,
                       uint32_t type)
{
    tb_gguf *g;
    tb_error err;
    assert_int_equal(tb_gguf_open(&g, path, &err), TB_OK);
    assert_int_equal(tb_gguf_kv_count(g), 4);
    assert_string_equal(tb_gguf_get_str(g, "general.type"), "adapter");
    assert_string_equal(tb_gguf_get_str(g, "general.architecture"), permute ? "llama" : "qwen2");
    assert_string_equal(tb_gguf_get_str(g, "adapter.type"), "lora");
    float got_alpha;
    assert_true(tb_gguf_get_f32(g, "adapter.lora.alpha", &got_alpha));
    assert_true(got_alpha == alpha);
    assert_int_equal(tb_gguf_tensor_count(g), 2 * L * TB_LORA_MODULE_COUNT);
    static const char *const names[] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};
    for (int l = 0; l < L; l++)
        for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
            int64_t in, out;
            tb_lora_module_shape(c, (tb_lora_module)m, &in, &out);
            char name[80];
            snprintf(name, sizeof name, "blk.%d.%s.weight.lora_a", l, names[m]);
            const tb_gguf_tensor *ta = tb_gguf_find_tensor(g, name);
            assert_non_null(ta);
            assert_int_equal(ta->type, type);
            assert_int_equal(ta->n_dims, 2);
            assert_int_equal(ta->ne[0], in);
            assert_int_equal(ta->ne[1], R);
            snprintf(name, sizeof name, "blk.%d.%s.weight.lora_b", l, names[m]);
            const tb_gguf_tensor *tbb = tb_gguf_find_tensor(g, name);
            assert_non_null(tbb);
            assert_int_equal(tbb->ne[0], R);
            assert_int_equal(tbb->ne[1], out);
            for (int64_t i = 0; i < R * in; i++) {
                float want = ad->a[l][m][i], v;
                if (type == TB_GGML_F32) {
                    memcpy(&v, (const char *)ta->data + 4 * i, 4);
                } else {
                    uint16_t h;
                    memcpy(&h, (const char *)ta->data + 2 * i, 2);
                    v = tb_bf16_to_f32(h);
                    want = tb_bf16_to_f32(tb_f32_to_bf16(want));
                }
                assert_true(v == want);
            }
            bool rope = permute && (m == TB_LORA_Q || m == TB_LORA_K);
            for (int64_t row = 0; row < out; row++)
                for (int64_t k = 0; k < R; k++) {
                    int64_t src = rope ? permuted_source(row, c->head_dim) : row;
                    float want = ad->b[l][m][src * R + k], v;
                    if (type == TB_GGML_F32) {
                        memcpy(&v, (const char *)tbb->data + 4 * (row * R + k), 4);
                    } else {
                        uint16_t h;
                        memcpy(&h, (const char *)tbb->data + 2 * (row * R + k), 2);
                        v = tb_bf16_to_f32(h);
                        want = tb_bf16_to_f32(tb_f32_to_bf16(want));
                    }
                    assert_true(v == want);
                }
        }
    tb_gguf_close(g);
}

static void test_llama_f32_every_key_and_tensor(void **state)
{
    (void)state;
    tb_llama_config c;
    tiny_config(&c, "llama");
    adapter ad;
    make_adapter(&ad, &c);
    char path[300];
    snprintf(path, sizeof path, "%s/a.gguf", g_dir);
    tb_lora_gguf_info info;
    tb_error err;
    assert_int_equal(tb_lora_gguf_write(&c, R, 6.0, false, ad.pairs, ad.n, TB_GGML_F32, path, &info, &err), TB_OK);
    assert_string_equal(info.arch, "llama");
    assert_true(info.permuted);
    assert_int_equal(info.n_tensors, 2 * ad.n);
    check_file(path, &c, &ad, true, 6.0f, TB_GGML_F32);
    free_adapter(&ad);
}

static void test_rslora_alpha_folded_bf16(void **state)
{
    (void)state;
    tb_llama_config c;
    tiny_config(&c, "mistral");
    adapter ad;
    make_adapter(&ad, &c);
    char path[300];
    snprintf(path, sizeof path, "%s/rs.gguf", g_dir);
    tb_error err;
    assert_int_equal(tb_lora_gguf_write(&c, R, 8.0, true, ad.pairs, ad.n, TB_GGML_BF16, path, NULL, &err), TB_OK);
    /* llama.cpp scales by alpha / R: alpha * sqrt(R) / R = alpha / sqrt(R), rsLoRA's scale. */
    check_file(path, &c, &ad, true, (float)(8.0 * sqrt(3.0)), TB_GGML_BF16);
    free_adapter(&ad);
}

static void test_qwen2_not_permuted(void **state)
{
    (void)state;
    tb_llama_config c;
    tiny_config(&c, "qwen2");
    adapter ad;
    make_adapter(&ad, &c);
    char path[300];
    snprintf(path, sizeof path, "%s/q.gguf", g_dir);
    tb_error err;
    tb_lora_gguf_info info;
    assert_int_equal(tb_lora_gguf_write(&c, R, 16.0, false, ad.pairs, ad.n, TB_GGML_F32, path, &info, &err), TB_OK);
    assert_false(info.permuted);
    check_file(path, &c, &ad, false, 16.0f, TB_GGML_F32);
    free_adapter(&ad);
}

static void test_refusals(void **state)
{
    (void)state;
    tb_llama_config c;
    tiny_config(&c, "gemma");
    adapter ad;
    make_adapter(&ad, &c);
    char path[300];
    snprintf(path, sizeof path, "%s/x.gguf", g_dir);
    tb_error err;
    assert_int_equal(tb_lora_gguf_write(&c, R, 8, false, ad.pairs, ad.n, TB_GGML_F32, path, NULL, &err),
                     TB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "gemma"));
    tiny_config(&c, "llama");
    ad.pairs[0].layer = L; /* past the model */
    assert_int_equal(tb_lora_gguf_write(&c, R, 8, false, ad.pairs, ad.n, TB_GGML_F32, path, NULL, &err), TB_ERR_INVALID);
    ad.pairs[0].layer = 0;
    assert_int_equal(tb_lora_gguf_write(&c, R, 8, false, ad.pairs, ad.n, TB_GGML_Q8_0, path, NULL, &err), TB_ERR_INVALID);
    free_adapter(&ad);
}

/* ------------------------------------------------------------------ RoPE meaning */

/* HF: dim d pairs with d + Dh/2 (rotate_half); ggml "llama" rope: dim 2i pairs with 2i+1. */
static void rope_half(double *x, int64_t Dh, int64_t pos, double theta)
{
    for (int64_t i = 0; i < Dh / 2; i++) {
        double f = pos * pow(theta, -2.0 * (double)i / (double)Dh), c = cos(f), s = sin(f);
        double a = x[i], b = x[i + Dh / 2];
        x[i] = a * c - b * s;
        x[i + Dh / 2] = b * c + a * s;
    }
}

static void rope_interleaved(double *x, int64_t Dh, int64_t pos, double theta)
{
    for (int64_t i = 0; i < Dh / 2; i++) {
        double f = pos * pow(theta, -2.0 * (double)i / (double)Dh), c = cos(f), s = sin(f);
        double a = x[2 * i], b = x[2 * i + 1];
        x[2 * i] = a * c - b * s;
        x[2 * i + 1] = b * c + a * s;
    }
}

/* y (out) = B (out, R) (A (R, in) x) */
static void lora_apply(double *y, const float *a, const float *b, const double *x, int64_t in, int64_t out)
{
    double h[R];
    for (int r = 0; r < R; r++) {
        h[r] = 0;
        for (int64_t k = 0; k < in; k++)
            h[r] += (double)a[r * in + k] * x[k];
    }
    for (int64_t o = 0; o < out; o++) {
        y[o] = 0;
        for (int r = 0; r < R; r++)
            y[o] += (double)b[o * R + r] * h[r];
    }
}

static void test_permuted_rows_give_same_attention_scores(void **state)
{
    (void)state;
    tb_llama_config c;
    tiny_config(&c, "llama");
    adapter ad;
    make_adapter(&ad, &c);
    char path[300];
    snprintf(path, sizeof path, "%s/s.gguf", g_dir);
    tb_error err;
    assert_int_equal(tb_lora_gguf_write(&c, R, 6.0, false, ad.pairs, ad.n, TB_GGML_F32, path, NULL, &err), TB_OK);
    tb_gguf *g;
    assert_int_equal(tb_gguf_open(&g, path, &err), TB_OK);
    const float *bq = tb_gguf_find_tensor(g, "blk.1.attn_q.weight.lora_b")->data;
    const float *bk = tb_gguf_find_tensor(g, "blk.1.attn_k.weight.lora_b")->data;
    int64_t D = c.dim, Dh = c.head_dim, H = c.n_heads, Hkv = c.n_kv_heads;
    double x1[16], x2[16], q[24], k[12], q2[24], k2[12];
    for (int i = 0; i < D; i++)
        x1[i] = rnd(), x2[i] = rnd();
    static const int64_t pos[][2] = {{0, 0}, {5, 2}, {17, 11}, {40, 39}};
    for (size_t t = 0; t < sizeof pos / sizeof pos[0]; t++) {
        lora_apply(q, ad.a[1][TB_LORA_Q], ad.b[1][TB_LORA_Q], x1, D, H * Dh);
        lora_apply(k, ad.a[1][TB_LORA_K], ad.b[1][TB_LORA_K], x2, D, Hkv * Dh);
        lora_apply(q2, ad.a[1][TB_LORA_Q], bq, x1, D, H * Dh);
        lora_apply(k2, ad.a[1][TB_LORA_K], bk, x2, D, Hkv * Dh);
        for (int64_t h = 0; h < H; h++)
            rope_half(q + h * Dh, Dh, pos[t][0], c.rope_theta), rope_interleaved(q2 + h * Dh, Dh, pos[t][0], c.rope_theta);
        for (int64_t h = 0; h < Hkv; h++)
            rope_half(k + h * Dh, Dh, pos[t][1], c.rope_theta), rope_interleaved(k2 + h * Dh, Dh, pos[t][1], c.rope_theta);
        for (int64_t h = 0; h < H; h++) {
            int64_t kh = h / (H / Hkv);
            double s1 = 0, s2 = 0;
            for (int64_t d = 0; d < Dh; d++)
                s1 += q[h * Dh + d] * k[kh * Dh + d], s2 += q2[h * Dh + d] * k2[kh * Dh + d];
            if (fabs(s1 - s2) > 1e-5 * (1 + fabs(s1)))
                fail_msg("pos (%lld, %lld) head %lld: score %.9g (HF) vs %.9g (GGUF)", (long long)pos[t][0],
                         (long long)pos[t][1], (long long)h, s1, s2);
        }
    }
    tb_gguf_close(g);
    free_adapter(&ad);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/tb_lora_gguf_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
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
        cmocka_unit_test(test_llama_f32_every_key_and_tensor),
        cmocka_unit_test(test_rslora_alpha_folded_bf16),
        cmocka_unit_test(test_qwen2_not_permuted),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_permuted_rows_give_same_attention_scores),
    };
    return cmocka_run_group_tests_name("lora_gguf", tests, setup, teardown);
}
