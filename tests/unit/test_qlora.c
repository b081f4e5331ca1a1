/* QLoRA on the CPU backend: the NF4 matmul against a double-precision product with the
 * dequantized weight (forward y = x W^T and input gradient dx = dy W, partial blocks, 1 row,
 * tiny tiles, alpha/beta, a NaN-filled output with beta 0); the model with its linears
 * quantized at load against the same model written densely with the dequantized weights
 * (logits, and LoRA gradients through every backward matmul); a hand-built -bnb-4bit
 * checkpoint (bitsandbytes' tensor layout and quantization_config) loaded end to end,
 * bit-identical to quantize-at-load; NaN/Inf weights refused by name; what QLoRA cannot do
 * (weight gradients, full fine-tuning, saving) refused with a message. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model_logits.h"
#include "engine/core/fs.h"
#include "engine/io/hf_model.h"
#include "engine/model/params.h"
#include "engine/quant/nf4_weight.h"
#include "engine/quant/quant8.h"
#include "engine/quant/tiled_matmul.h"
#include "engine/train/grad.h"
#include "engine/train/trainer.h"
#include "cpu_fixture.h"
#include "tiny_model.h"

static char g_dir[256];

static float *rand_floats(size_t n, uint64_t seed, float scale)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        x[i] = scale * ((float)((s >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f);
    }
    return x;
}

/* ------------------------------------------------------------------ the matmul */

typedef struct mm_case {
    int64_t M, out, in;
    bool dq, fwd;
    float beta;
    size_t budget; /* tile budget in floats, 0: default */
} mm_case;

static void run_mm(const mm_case *c)
{
    char name[160];
    snprintf(name, sizeof name, "nf4_matmul_cpu/%s/M=%lld,out=%lld,in=%lld,%s,beta=%g%s", c->fwd ? "xWt" : "dyW",
             (long long)c->M, (long long)c->out, (long long)c->in, c->dq ? "nf4-dq" : "nf4", (double)c->beta,
             c->budget ? ",tiny tiles" : "");
    tb_error err;
    float *w32 = rand_floats((size_t)(c->out * c->in), 11 + (uint64_t)c->in, 0.05f);
    tb_nf4 q;
    assert_int_equal(tb_nf4_quantize(&q, w32, TB_DTYPE_F32, c->out, c->in, c->dq, "w", &err), TB_OK);
    float *wd = malloc((size_t)(c->out * c->in) * sizeof *wd); /* the oracle's weight: dequant(W) */
    assert_int_equal(tb_nf4_dequantize(&q, wd, TB_DTYPE_F32, &err), TB_OK);
    tb_nf4_weight nw;
    assert_int_equal(tb_nf4_weight_create(&nw, be, &q, &err), TB_OK);
    int64_t K = c->fwd ? c->in : c->out, N = c->fwd ? c->out : c->in;
    float *a = rand_floats((size_t)(c->M * K), 7, 1.0f), *c0 = rand_floats((size_t)(c->M * N), 9, 1.0f);
    tb_buf *ba, *bc;
    assert_int_equal(be->ops->buf_alloc(be, &ba, TB_DTYPE_F32, (size_t)(c->M * K), TB_MEM_SCRATCH, &err), TB_OK);
    assert_int_equal(be->ops->buf_alloc(be, &bc, TB_DTYPE_F32, (size_t)(c->M * N), TB_MEM_SCRATCH, &err), TB_OK);
    be->ops->upload(be, tb_view_of(ba), a, (size_t)(c->M * K));
    if (c->beta != 0.0f)
        be->ops->upload(be, tb_view_of(bc), c0, (size_t)(c->M * N));
    else
        be->ops->fill(be, tb_view_of(bc), NAN, (size_t)(c->M * N)); /* beta 0 ignores C */
    tb_tiled_set_budget(c->budget);
    be->ops->matmul(be, tb_view_of(bc), tb_view_of(ba), tb_wnf4(&nw), c->M, N, K, c->fwd ? TB_MM_TRANS_B : 0, 0.75f,
                    c->beta);
    float *got = malloc((size_t)(c->M * N) * sizeof *got);
    assert_int_equal(be->ops->download(be, got, tb_view_of(bc), (size_t)(c->M * N), &err), TB_OK);
    tb_tiled_set_budget(0);
    double num = 0, den = 0;
    for (int64_t m = 0; m < c->M; m++)
        for (int64_t n = 0; n < N; n++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++) /* W [out, in]: forward reads W[n, k], backward W[k, n] */
                s += (double)a[m * K + k] * (double)(c->fwd ? wd[n * c->in + k] : wd[k * c->in + n]);
            double ref = 0.75 * s + (c->beta != 0.0f ? (double)c->beta * c0[m * N + n] : 0.0);
            double g = got[m * N + n];
            if (!isfinite(g))
                fail_msg("%s: C[%lld, %lld] = %g", name, (long long)m, (long long)n, g);
            num += (g - ref) * (g - ref), den += ref * ref;
        }
    /* Same f32 products as the oracle; only the f32 summation order differs (K <= 1536):
     * normalized MSE ~1e-14 seen, 1e-10 bounds it. */
    double nmse = num / den;
    printf("# %-64s nmse %.2g\n", name, nmse);
    if (!(nmse < 1e-10))
        fail_msg("%s: normalized MSE %.3g", name, nmse);
    be->ops->buf_free(be, ba);
    be->ops->buf_free(be, bc);
    tb_nf4_weight_free(&nw);
    tb_nf4_free(&q);
    free(w32), free(wd), free(a), free(c0), free(got);
}

static void test_matmul(void **state)
{
    (void)state;
    static const mm_case cases[] = {
        {1, 7, 64, false, true, 0, 0},      {1, 7, 64, true, false, 0, 0},
        {5, 33, 100, true, true, 0.5f, 0},  {5, 33, 100, false, false, 0.5f, 0}, /* partial blocks, rows cross them */
        {64, 192, 576, true, true, 0, 0},   {64, 192, 576, true, false, 1.0f, 0}, /* threaded panels */
        {300, 130, 256, false, true, 0, 0}, {300, 130, 256, true, false, 0, 0},
        {3, 1536, 576, true, true, 0, 0},   {3, 576, 1536, true, false, 0, 0},   /* decode-like rows */
        {40, 96, 320, true, true, 0.5f, 4096}, {40, 96, 320, true, false, 0, 4096}, /* many tiles per panel */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        run_mm(&cases[i]);
}

static void test_matmul_refused(void **state)
{
    (void)state;
    tb_error err;
    float w[4 * 64];
    for (int i = 0; i < 4 * 64; i++)
        w[i] = sinf((float)i);
    tb_nf4 q;
    assert_int_equal(tb_nf4_quantize(&q, w, TB_DTYPE_F32, 4, 64, true, "w", &err), TB_OK);
    tb_nf4_weight nw;
    assert_int_equal(tb_nf4_weight_create(&nw, be, &q, &err), TB_OK);
    tb_buf *b;
    assert_int_equal(be->ops->buf_alloc(be, &b, TB_DTYPE_F32, 4096, TB_MEM_SCRATCH, &err), TB_OK);
    /* a weight gradient of a frozen NF4 base */
    be->ops->matmul(be, tb_view_of(b), tb_view_of(b), tb_wnf4(&nw), 4, 64, 3, TB_MM_TRANS_A, 1, 1);
    assert_int_equal(be->ops->sync(be, &err), TB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "frozen"));
    /* shapes that are not the weight's */
    be->ops->matmul(be, tb_view_of(b), tb_view_of(b), tb_wnf4(&nw), 2, 64, 4, TB_MM_TRANS_B, 1, 0);
    assert_int_equal(be->ops->sync(be, &err), TB_ERR_INVALID);
    assert_non_null(strstr(err.message, "[4, 64]"));
    assert_int_equal(be->ops->sync(be, &err), TB_OK);
    be->ops->buf_free(be, b);
    tb_nf4_weight_free(&nw);
    tb_nf4_free(&q);
}

/* ------------------------------------------------------------------ model directories */

static const tiny_spec SPEC = {.D = 64, .F = 160, .L = 2, .H = 4, .Hkv = 2, .V = 96, .dtype = TB_DTYPE_BF16, .seed = 9};

static const char *path_in(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, name);
    return buf[k];
}

static void copy_config(const char *from, const char *to, const char *extra)
{
    char p[600], *text;
    tb_error err;
    snprintf(p, sizeof p, "%s/config.json", from);
    assert_int_equal(tb_read_file(p, &text, NULL, &err), TB_OK);
    if (extra) { /* before the closing brace */
        char *end = strrchr(text, '}');
        assert_non_null(end);
        *end = '\0';
        char *full = malloc(strlen(text) + strlen(extra) + 4);
        sprintf(full, "%s,%s}", text, extra);
        free(text);
        text = full;
    }
    snprintf(p, sizeof p, "%s/config.json", to);
    assert_int_equal(tb_mkdirs(to, &err), TB_OK);
    assert_int_equal(tb_atomic_write(p, text, strlen(text), &err), TB_OK);
    free(text);
}

/* Rewrite `src` (one model.safetensors) into `dst`: the target linears either as dense F32
 * holding dequant(quantize(W)) (bnb false: the oracle model) or in bitsandbytes' 4-bit
 * layout (bnb true), everything else as stored. */
static void rewrite(const char *src, const char *dst, bool dq, bool bnb)
{
    char p[600];
    tb_error err;
    snprintf(p, sizeof p, "%s/model.safetensors", src);
    tb_safetensors *st;
    assert_int_equal(tb_safetensors_open(&st, p, &err), TB_OK);
    size_t n = tb_safetensors_count(st);
    tb_st_write *w = calloc(6 * n, sizeof *w);
    void **keep = calloc(6 * n, sizeof *keep);
    tb_nf4 *qs = calloc(n, sizeof *qs);
    char (*names)[160] = calloc(6 * n, sizeof *names);
    size_t nw = 0, nk = 0;
    for (size_t i = 0; i < n; i++) {
        const tb_st_tensor *t = tb_safetensors_at(st, i);
        if (!tb_quant_is_target(t->name)) {
            w[nw++] = (tb_st_write){t->name, t->dtype, t->ndim, {t->shape[0], t->shape[1]}, t->data};
            continue;
        }
        int64_t rows = t->shape[0], cols = t->shape[1], cnt = rows * cols;
        tb_nf4 *q = &qs[i];
        assert_int_equal(tb_nf4_quantize(q, t->data, t->dtype, rows, cols, dq, t->name, &err), TB_OK);
        if (!bnb) {
            float *f = malloc((size_t)cnt * sizeof *f);
            assert_int_equal(tb_nf4_dequantize(q, f, TB_DTYPE_F32, &err), TB_OK);
            keep[nk++] = f;
            w[nw++] = (tb_st_write){t->name, TB_DTYPE_F32, 2, {rows, cols}, f};
            continue;
        }
#define NAME(suffix) (snprintf(names[nw], sizeof names[nw], "%s%s", t->name, suffix), names[nw])
        w[nw] = (tb_st_write){NAME(""), TB_DTYPE_U8, 2, {(cnt + 1) / 2, 1}, q->codes};
        nw++;
        w[nw] = (tb_st_write){NAME(".quant_map"), TB_DTYPE_F32, 1, {16}, tb_nf4_code};
        nw++;
        char *json = malloc(512);
        keep[nk++] = json;
        if (dq) {
            w[nw] = (tb_st_write){NAME(".absmax"), TB_DTYPE_U8, 1, {q->n_blocks}, q->qabsmax};
            nw++;
            w[nw] = (tb_st_write){NAME(".nested_absmax"), TB_DTYPE_F32, 1, {q->n_nested}, q->nested_absmax};
            nw++;
            w[nw] = (tb_st_write){NAME(".nested_quant_map"), TB_DTYPE_F32, 1, {256}, tb_quant8_dynamic_map};
            nw++;
            snprintf(json, 512,
                     "{\"quant_type\": \"nf4\", \"absmax/offset\": null, \"blocksize\": 64, \"dtype\": \"bfloat16\", "
                     "\"shape\": [%lld, %lld], \"nested_blocksize\": 256, \"nested_dtype\": \"float32\", "
                     "\"nested_offset\": %.17g}",
                     (long long)rows, (long long)cols, (double)q->offset);
        } else {
            w[nw] = (tb_st_write){NAME(".absmax"), TB_DTYPE_F32, 1, {q->n_blocks}, q->absmax};
            nw++;
            snprintf(json, 512, "{\"quant_type\": \"nf4\", \"blocksize\": 64, \"dtype\": \"bfloat16\", "
                                "\"shape\": [%lld, %lld]}", (long long)rows, (long long)cols);
        }
        w[nw] = (tb_st_write){NAME(".quant_state.bitsandbytes__nf4"), TB_DTYPE_U8, 1, {(int64_t)strlen(json)}, json};
        nw++;
#undef NAME
    }
    copy_config(src, dst,
                bnb ? (dq ? "\"quantization_config\":{\"quant_method\":\"bitsandbytes\",\"load_in_4bit\":true,"
                            "\"bnb_4bit_quant_type\":\"nf4\",\"bnb_4bit_use_double_quant\":true}"
                          : "\"quantization_config\":{\"quant_method\":\"bitsandbytes\",\"load_in_4bit\":true,"
                            "\"bnb_4bit_quant_type\":\"nf4\",\"bnb_4bit_use_double_quant\":false}")
                    : NULL);
    snprintf(p, sizeof p, "%s/model.safetensors", dst);
    const char *meta[] = {"format", "pt"};
    assert_int_equal(tb_safetensors_write(p, w, nw, meta, 1, &err), TB_OK);
    for (size_t i = 0; i < n; i++)
        tb_nf4_free(&qs[i]);
    for (size_t i = 0; i < nk; i++)
        free(keep[i]);
    free(qs), free(keep), free(w), free(names);
    tb_safetensors_close(st);
}

static tb_llama *load(const char *dir, tb_quant_mode q)
{
    tb_llama *m;
    tb_error err;
    if (tb_llama_load_quant(&m, dir, be, q, &err) != TB_OK)
        fail_msg("%s: %s: %s", err.file, err.field, err.message);
    return m;
}

static const int32_t IDS[] = {3, 17, 95, 40, 41, 7, 0, 66, 12, 80, 5, 5, 59};
enum { T = sizeof IDS / sizeof IDS[0] };

static float *logits(tb_llama *m) { return model_logits(m, IDS, 1, T, false); }

static double max_rel(const float *a, const float *b, size_t n)
{
    double d = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double x = fabs((double)a[i] - (double)b[i]);
        if (isnan(x))
            return (double)INFINITY;
        d = x > d ? x : d;
        mx = fabs((double)b[i]) > mx ? fabs((double)b[i]) : mx;
    }
    return d / mx;
}

static int group_setup(void **state)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/tb_qlora_%d", (int)getpid());
    if (tiny_model_write(path_in("bf16"), &SPEC) != 0)
        return -1;
    return cpu_setup(state);
}

static int group_teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", g_dir);
    if (system(cmd) != 0)
        return -1;
    return cpu_teardown(state);
}

/* Quantize-at-load equals the dense model holding the dequantized weights. */
static void test_model_logits(void **state)
{
    (void)state;
    for (int dq = 0; dq < 2; dq++) {
        const char *dense = path_in(dq ? "dense-dq" : "dense-nf4");
        rewrite(path_in("bf16"), dense, dq, false);
        tb_llama *q = load(path_in("bf16"), dq ? TB_QUANT_NF4_DQ : TB_QUANT_NF4), *d = load(dense, TB_QUANT_NONE);
        assert_int_equal(q->quant, dq ? TB_QUANT_NF4_DQ : TB_QUANT_NF4);
        assert_int_equal(q->n_nf4, 7 * SPEC.L);
        assert_int_equal(d->n_nf4, 0);
        assert_non_null(q->layers[1].wdown.nf4);
        assert_null(q->lm_head.nf4); /* embeddings, norms and lm_head stay as stored */
        assert_int_equal(q->embed.buf->dtype, TB_DTYPE_BF16);
        assert_int_equal(q->layers[0].attn_norm.buf->dtype, TB_DTYPE_BF16);
        int64_t bytes = 0;
        for (int64_t i = 0; i < 7 * SPEC.L; i++)
            bytes += (int64_t)tb_nf4_storage_bytes(&q->nf4[i]);
        assert_int_equal(q->nf4_bytes, bytes);
        float *lq = logits(q), *ld = logits(d);
        double r = max_rel(lq, ld, (size_t)(T * SPEC.V));
        printf("# qlora_model/logits,%s,T=%d: max |diff| / max |logit| %.2g\n", dq ? "nf4-dq" : "nf4", T, r);
        assert_true(r < 1e-5); /* the same products in another summation order */
        free(lq), free(ld);
        tb_llama_free(q);
        tb_llama_free(d);
    }
}

/* LoRA gradients through a quantized base (every input-gradient matmul reads NF4) equal the
 * dense dequantized model's. */
static void test_model_grads(void **state)
{
    (void)state;
    tb_llama *q = load(path_in("bf16"), TB_QUANT_NF4_DQ), *d = load(path_in("dense-dq"), TB_QUANT_NONE);
    tb_lora_opts lo = {.rank = 4, .alpha = 8, .targets = TB_LORA_TARGETS_ALL};
    tb_lora *la, *lb;
    tb_error err;
    assert_int_equal(tb_lora_create(&la, &q->cfg, &lo, be, true, &err), TB_OK);
    assert_int_equal(tb_lora_create(&lb, &d->cfg, &lo, be, true, &err), TB_OK);
    float *v = rand_floats(la->params.total, 5, 0.1f); /* B non-zero too: every path carries gradient */
    be->ops->upload(be, tb_view_of(la->params.values), v, la->params.total);
    be->ops->upload(be, tb_view_of(lb->params.values), v, lb->params.total);
    q->lora = la, d->lora = lb;
    double loss_q, loss_d;
    assert_int_equal(tb_grad_sequence(q, IDS, T, &loss_q, &err), TB_OK);
    assert_int_equal(tb_grad_sequence(d, IDS, T, &loss_d, &err), TB_OK);
    size_t n = la->params.total;
    float *gq = malloc(n * sizeof *gq), *gd = malloc(n * sizeof *gd);
    assert_int_equal(be->ops->download(be, gq, tb_view_of(la->params.grads), n, &err), TB_OK);
    assert_int_equal(be->ops->download(be, gd, tb_view_of(lb->params.grads), n, &err), TB_OK);
    double r = max_rel(gq, gd, n);
    printf("# qlora_model/lora grads,nf4-dq,all-linear,r=4: loss %.6f vs %.6f, max rel diff %.2g\n", loss_q, loss_d, r);
    assert_true(fabs(loss_q - loss_d) < 1e-5 * fabs(loss_d));
    assert_true(r < 1e-4);
    q->lora = d->lora = NULL;
    tb_lora_free(la);
    tb_lora_free(lb);
    free(v), free(gq), free(gd);
    tb_llama_free(q);
    tb_llama_free(d);
}

/* Overwrite 4-byte element idx of tensor `name` in DIR/model.safetensors with v; the
 * tensor's dtype must be `want` unless that is TB_DTYPE_COUNT. */
static void poke_raw(const char *dir, const char *name, tb_dtype want, int64_t idx, float v)
{
    char p[600];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    tb_safetensors *st;
    tb_error err;
    assert_int_equal(tb_safetensors_open(&st, p, &err), TB_OK);
    const tb_st_tensor *t = tb_safetensors_find(st, name);
    assert_non_null(t);
    if (want != TB_DTYPE_COUNT)
        assert_int_equal(t->dtype, want);
    uint64_t hlen = 0;
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    assert_true(pread(fd, &hlen, 8, 0) == 8);
    assert_true(pwrite(fd, &v, 4, (off_t)(8 + hlen + t->begin + 4 * (uint64_t)idx)) == 4);
    close(fd);
    tb_safetensors_close(st);
}

/* A hand-built -bnb-4bit checkpoint loads as stored and computes bit for bit what
 * quantize-at-load computes. */
static void test_bnb_checkpoint(void **state)
{
    (void)state;
    for (int dq = 0; dq < 2; dq++) {
        const char *dir = path_in(dq ? "bnb-dq" : "bnb-nf4");
        rewrite(path_in("bf16"), dir, dq, true);
        tb_llama *b = load(dir, TB_QUANT_NONE), *q = load(path_in("bf16"), dq ? TB_QUANT_NF4_DQ : TB_QUANT_NF4);
        assert_true(b->cfg.bnb_4bit);
        assert_int_equal(b->quant, dq ? TB_QUANT_NF4_DQ : TB_QUANT_NF4);
        assert_int_equal(b->n_nf4, 7 * SPEC.L);
        assert_int_equal(b->nf4_bytes, q->nf4_bytes);
        float *lb = logits(b), *lq = logits(q);
        assert_memory_equal(lb, lq, (size_t)(T * SPEC.V) * sizeof(float));
        printf("# qlora_model/bnb checkpoint,%s: logits bit-identical to quantize-at-load\n", dq ? "nf4-dq" : "nf4");
        free(lb), free(lq);
        tb_llama_free(b);
        /* --quant on a pre-quantized checkpoint changes nothing: as stored */
        b = load(dir, dq ? TB_QUANT_NF4 : TB_QUANT_NF4_DQ);
        assert_int_equal(b->quant, dq ? TB_QUANT_NF4_DQ : TB_QUANT_NF4);
        tb_llama_free(b);
        tb_llama_free(q);
    }
    /* a broken companion is named */
    poke_raw(path_in("bnb-dq"), "model.layers.1.mlp.up_proj.weight.nested_absmax", TB_DTYPE_COUNT, 0, INFINITY);
    tb_error err;
    tb_llama *m;
    assert_int_equal(tb_llama_load(&m, path_in("bnb-dq"), be, &err), TB_ERR_NUMERIC);
    assert_string_equal(err.field, "model.layers.1.mlp.up_proj.weight.nested_absmax");
}

/* Overwrite element idx of tensor `name` (F32 model) with v. */
static void poke(const char *dir, const char *name, int64_t idx, float v) { poke_raw(dir, name, TB_DTYPE_F32, idx, v); }

static void test_nonfinite_refused(void **state)
{
    (void)state;
    tiny_spec s = SPEC;
    s.dtype = TB_DTYPE_F32;
    const float bad[2] = {NAN, -INFINITY};
    for (int i = 0; i < 2; i++) {
        const char *dir = path_in(i ? "inf" : "nan");
        assert_int_equal(tiny_model_write(dir, &s), 0);
        poke(dir, "model.layers.1.self_attn.k_proj.weight", 64 * 5 + 3, bad[i]);
        tb_llama *m;
        tb_error err;
        tb_error_clear(&err);
        assert_int_equal(tb_llama_load_quant(&m, dir, be, TB_QUANT_NF4_DQ, &err), TB_ERR_NUMERIC);
        assert_null(m);
        assert_string_equal(err.field, "model.layers.1.self_attn.k_proj.weight");
        assert_non_null(strstr(err.message, i ? "Inf" : "NaN"));
        assert_non_null(strstr(err.message, "[5, 3]"));
        assert_non_null(strstr(err.file, "model.safetensors"));
        printf("# qlora_model/%s refused: %s: %s\n", i ? "Inf" : "NaN", err.field, err.message);
    }
}

static void test_quantized_limits(void **state)
{
    (void)state;
    tb_llama *m = load(path_in("bf16"), TB_QUANT_NF4);
    tb_llama_params p;
    tb_error err;
    assert_int_equal(tb_llama_params_create(m, &p, &err), TB_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.message, "NF4"));
    assert_int_equal(tb_llama_save(m, path_in("saved"), TB_DTYPE_F32, NULL, &err), TB_ERR_UNSUPPORTED);
    tb_llama_free(m);
}

/* LoRA asked on a -bnb-4bit checkpoint trains QLoRA of the checkpoint's kind (an info event
 * says so); full fine-tuning on it is refused, naming --mode. */
static void test_trainer_bnb(void **state)
{
    (void)state;
    const char *root = getenv("TB_SOURCE_ROOT");
    if (!root)
        skip();
    char src[600], p[700], q[700];
    snprintf(src, sizeof src, "%s/tests/reference/llama/llama_vocab320_f32", root);
    const char *dir = path_in("bnb-vocab320");
    rewrite(src, dir, true, true);
    char *tok;
    size_t len;
    tb_error err;
    snprintf(p, sizeof p, "%s/tokenizer.json", src);
    snprintf(q, sizeof q, "%s/tokenizer.json", dir);
    assert_int_equal(tb_read_file(p, &tok, &len, &err), TB_OK);
    assert_int_equal(tb_atomic_write(q, tok, len, &err), TB_OK);
    free(tok);
    tb_train_options o;
    tb_train_options_init(&o);
    snprintf(o.model, sizeof o.model, "%s", dir);
    snprintf(o.data, sizeof o.data, "%s/datasets/examples/alpaca_clean.jsonl", root);
    snprintf(o.out, sizeof o.out, "%s", path_in("runs"));
    o.be.threads = 2, o.batch = 2, o.grad_accum = 1, o.max_steps = 2, o.save_steps = 0, o.eval_steps = 0;
    tb_trainer *t;
    if (tb_trainer_create(&t, &o, NULL, NULL, NULL, &err) != TB_OK)
        fail_msg("%s: %s", err.field, err.message);
    assert_int_equal(tb_trainer_options(t)->mode, TB_TRAIN_QLORA_DQ);
    tb_run_event ev[8];
    size_t n = tb_trainer_events(t, 0, ev, 8);
    assert_true(n >= 1);
    assert_non_null(strstr(ev[0].message, "pre-quantized nf4-dq checkpoint"));
    assert_int_equal(tb_trainer_run(t, &err), TB_OK);
    tb_trainer_free(t);
    o.mode = TB_TRAIN_FULL;
    assert_int_equal(tb_trainer_create(&t, &o, NULL, NULL, NULL, &err), TB_ERR_UNSUPPORTED);
    assert_string_equal(err.field, "mode");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_matmul_refused),
        cmocka_unit_test(test_model_logits),
        cmocka_unit_test(test_model_grads),
        cmocka_unit_test(test_bnb_checkpoint),
        cmocka_unit_test(test_nonfinite_refused),
        cmocka_unit_test(test_quantized_limits),
        cmocka_unit_test(test_trainer_bnb),
    };
    return cmocka_run_group_tests_name("qlora", tests, group_setup, group_teardown);
}
