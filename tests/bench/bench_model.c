/* Benchmark: forward (prefill) tokens/s at batch B x T and greedy decode tokens/s at
 * batch 1 with a KV cache, for a model directory or a random model of the SmolLM2-135M
 * shape (D 576, L 30, H 9, Hkv 3, F 1536, V 49152, tied) written once to /tmp.
 * Prints RESULT lines in the format of ../shared/bench/torch_lora_bench.py.
 *
 *   bench_model --mode forward|generate [--batch 4 --seq 512] [--prompt 128 --gen 64]
 *               [--steps 4 --warmup 1] [--dtype bf16|f32] [--precision f32|bf16]
 *               [--threads N] [--model DIR] [--profile 1] [--backend cpu|vulkan|auto] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "engine/core/fs.h"
#include "engine/model/generate.h"
#include "tiny_model.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* --profile: a copy of the op table whose entries time the real ones (bench only). */
static const tb_backend_ops *real;
static double t_mm_w, t_mm_head, t_attn, t_norm, t_rope, t_swiglu, t_other;
#define TIMED(acc, call)                                                                   \
    do {                                                                                   \
        double t0_ = now();                                                                \
        call;                                                                              \
        acc += now() - t0_;                                                                \
    } while (0)
static void p_matmul(tb_backend *be, tb_view c, tb_view a, tb_wview b, int64_t M, int64_t N, int64_t K, int f,
                     float al, float bt)
{
    if (N > 10000)
        TIMED(t_mm_head, real->matmul(be, c, a, b, M, N, K, f, al, bt));
    else
        TIMED(t_mm_w, real->matmul(be, c, a, b, M, N, K, f, al, bt));
}
static void p_attn(tb_backend *be, tb_view o, tb_view l, tb_view q, tb_view k, tb_view v, const tb_attn_dims *d)
{
    TIMED(t_attn, real->attention_forward(be, o, l, q, k, v, d));
}
static void p_norm(tb_backend *be, tb_view o, tb_view r, tb_view i, tb_view w, int64_t N, int64_t D, float e)
{
    TIMED(t_norm, real->rmsnorm_forward(be, o, r, i, w, N, D, e));
}
static void p_rope(tb_backend *be, tb_view x, tb_view t, int64_t B, int64_t T, int64_t nh, int64_t Dh, int64_t p0)
{
    TIMED(t_rope, real->rope_forward(be, x, t, B, T, nh, Dh, p0));
}
static void p_swiglu(tb_backend *be, tb_view o, tb_view g, tb_view u, size_t n)
{
    TIMED(t_swiglu, real->swiglu_forward(be, o, g, u, n));
}
static void p_copy(tb_backend *be, tb_view d, tb_view s, size_t n) { TIMED(t_other, real->copy(be, d, s, n)); }
static void p_emb(tb_backend *be, tb_view o, tb_view t, tb_view i, int64_t N, int64_t D)
{
    TIMED(t_other, real->embedding_forward(be, o, t, i, N, D));
}
static tb_backend_ops profiled;
static void profile_on(tb_backend *be)
{
    real = be->ops;
    profiled = *real;
    profiled.matmul = p_matmul, profiled.attention_forward = p_attn, profiled.rmsnorm_forward = p_norm;
    profiled.rope_forward = p_rope, profiled.swiglu_forward = p_swiglu, profiled.copy = p_copy;
    profiled.embedding_forward = p_emb;
    be->ops = &profiled;
}
static void profile_print(int steps)
{
    printf("# profile per step: layer matmuls %.3f s, lm_head %.3f s, attention %.3f s, rmsnorm %.3f s, "
           "rope %.3f s, swiglu %.3f s, other %.3f s\n", t_mm_w / steps, t_mm_head / steps, t_attn / steps,
           t_norm / steps, t_rope / steps, t_swiglu / steps, t_other / steps);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static _Noreturn void die(const tb_error *err)
{
    char buf[1024];
    fprintf(stderr, "bench_model: %s\n", tb_error_format(err, buf, sizeof buf));
    exit(2);
}

int main(int argc, char **argv)
{
    const char *mode = "forward", *model = NULL, *dtype = "bf16", *precision = "f32", *backend = "cpu";
    long B = 4, T = 512, prompt = 128, gen = 64, steps = 4, warmup = 1, threads = 0, profile = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--mode")) mode = v;
        else if (!strcmp(k, "--model")) model = v;
        else if (!strcmp(k, "--dtype")) dtype = v;
        else if (!strcmp(k, "--precision")) precision = v;
        else if (!strcmp(k, "--batch")) B = atol(v);
        else if (!strcmp(k, "--seq")) T = atol(v);
        else if (!strcmp(k, "--prompt")) prompt = atol(v);
        else if (!strcmp(k, "--gen")) gen = atol(v);
        else if (!strcmp(k, "--steps")) steps = atol(v);
        else if (!strcmp(k, "--warmup")) warmup = atol(v);
        else if (!strcmp(k, "--threads")) threads = atol(v);
        else if (!strcmp(k, "--profile")) profile = atol(v);
        else if (!strcmp(k, "--backend")) backend = v;
        else {
            fprintf(stderr, "bench_model: unknown flag %s\n", k);
            return 2;
        }
    }
    tb_error err;
    char dir[256];
    tb_dtype dt = strcmp(dtype, "f32") == 0 ? TB_DTYPE_F32 : TB_DTYPE_BF16;
    if (!model) {
        snprintf(dir, sizeof dir, "/tmp/tunebench-bench-smol135m-%s", tb_dtype_short_name(dt));
        char cfg[300];
        snprintf(cfg, sizeof cfg, "%s/model.safetensors", dir);
        if (!tb_path_exists(cfg)) {
            fprintf(stderr, "bench_model: writing a random SmolLM2-135M-shaped model to %s\n", dir);
            tiny_spec s = {.D = 576, .F = 1536, .L = 30, .H = 9, .Hkv = 3, .V = 49152, .tied = true,
                           .dtype = dt, .seed = 7, .extra = "\"rope_theta\":100000.0"};
            if (tiny_model_write(dir, &s) != 0) {
                fprintf(stderr, "bench_model: cannot write %s\n", dir);
                return 2;
            }
        }
        model = dir;
    }
    tb_backend_options bo = {.threads = (int)threads,
                             .precision = strcmp(precision, "bf16") == 0 ? TB_PRECISION_BF16 : TB_PRECISION_F32,
                             .device = -1};
    tb_backend *be;
    tb_llama *m;
    if (tb_backend_create(&be, backend, &bo, NULL, 0, &err) != TB_OK || tb_llama_load(&m, model, be, &err) != TB_OK)
        die(&err);
    if (profile)
        profile_on(be);
    printf("# %s\n# model %s (%s weights) precision=%s\n", be->description, model, tb_dtype_name(m->host.embed.dtype),
           precision);
    double *times = calloc((size_t)(steps + 1), sizeof *times);
    int n = 0;
    uint64_t rng = 12345;
    if (!strcmp(mode, "forward")) {
        tb_llama_acts acts;
        if (tb_llama_acts_init(&acts, m, B, T, false, B * T, &err) != TB_OK)
            die(&err);
        int32_t *ids = malloc((size_t)(B * T) * sizeof *ids);
        float probe;
        for (long s = 0; s < steps; s++) {
            for (long i = 0; i < B * T; i++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                ids[i] = (int32_t)((rng >> 33) % (uint64_t)m->cfg.vocab_size);
            }
            double t0 = now();
            if (tb_llama_forward(m, &acts, ids, B, T, NULL, &err) != TB_OK)
                die(&err);
            tb_llama_logits(m, &acts, 0, B * T); /* all logits, as the peer computes them */
            if (be->ops->download(be, &probe, acts.logits, 1, &err) != TB_OK)
                die(&err);
            double dt_s = now() - t0;
            printf("fwd %ld time %.3f s tokens/s %.1f\n", s, dt_s, (double)(B * T) / dt_s);
            fflush(stdout);
            if (s >= warmup)
                times[n++] = dt_s;
        }
        if (profile)
            profile_print((int)steps);
        qsort(times, (size_t)n, sizeof *times, cmp_d);
        double med = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
        printf("RESULT forward tag=tunebench dtype=%s precision=%s threads=%d tokens_per_step=%ld median_step_s=%.4f "
               "min_step_s=%.4f max_step_s=%.4f tokens_per_s=%.1f peak_rss_mib=%.0f\n",
               dtype, precision, be->opt.threads, B * T, med, times[0], times[n - 1], (double)(B * T) / med,
               peak_rss_mib());
        free(ids);
        tb_llama_acts_free(&acts);
    } else {
        int32_t *ids = malloc((size_t)prompt * sizeof *ids);
        double pre = 0;
        for (long s = 0; s < steps; s++) {
            for (long i = 0; i < prompt; i++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                ids[i] = (int32_t)((rng >> 33) % (uint64_t)m->cfg.vocab_size);
            }
            tb_generate_opts o = {.sampler = {0, 0, 1, 1, 0}, .max_new = gen};
            tb_generate_result r;
            if (tb_llama_generate(m, ids, prompt, &o, &r, &err) != TB_OK)
                die(&err);
            double tps = (double)(r.n - 1) / r.decode_s;
            printf("gen %ld prefill %.3f s (%.1f tok/s) decode %.3f s (%.1f tok/s)\n", s, r.prefill_s,
                   (double)prompt / r.prefill_s, r.decode_s, tps);
            fflush(stdout);
            if (s >= warmup) {
                times[n++] = r.decode_s / (double)(r.n - 1);
                pre += r.prefill_s;
            }
            free(r.ids);
        }
        qsort(times, (size_t)n, sizeof *times, cmp_d);
        double med = n % 2 ? times[n / 2] : (times[n / 2 - 1] + times[n / 2]) / 2;
        printf("RESULT generate_decode tag=tunebench dtype=%s precision=%s threads=%d tokens_per_step=1 "
               "median_step_s=%.4f min_step_s=%.4f max_step_s=%.4f tokens_per_s=%.1f peak_rss_mib=%.0f\n",
               dtype, precision, be->opt.threads, med, times[0], times[n - 1], 1.0 / med, peak_rss_mib());
        printf("RESULT generate_prefill tag=tunebench prompt=%ld mean_s=%.4f tokens_per_s=%.1f\n", prompt,
               pre / n, (double)prompt / (pre / n));
        free(ids);
    }
    free(times);
    tb_llama_free(m);
    tb_backend_destroy(be);
    return 0;
}
