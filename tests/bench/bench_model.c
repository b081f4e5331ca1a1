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

#include "engine/core/fs.h"
#include "engine/model/generate.h"
#include "bench_util.h"

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
    tb_dtype dt = strcmp(dtype, "f32") == 0 ? TB_DTYPE_F32 : TB_DTYPE_BF16;
    if (!model) {
        tiny_spec s = {.D = 576, .F = 1536, .L = 30, .H = 9, .Hkv = 3, .V = 49152, .tied = true,
                       .dtype = dt, .seed = 7, .extra = "\"rope_theta\":100000.0"};
        model = bench_model_dir("smol135m", &s);
    }
    tb_backend_options bo = {.threads = (int)threads,
                             .precision = strcmp(precision, "bf16") == 0 ? TB_PRECISION_BF16 : TB_PRECISION_F32,
                             .device = -1};
    tb_backend *be;
    tb_llama *m;
    if (tb_backend_create(&be, backend, &bo, NULL, 0, &err) != TB_OK || tb_llama_load(&m, model, be, &err) != TB_OK)
        bench_die("bench_model", &err);
    if (profile)
        bench_profile_on(be, (long)m->cfg.vocab_size, 0);
    printf("# %s\n# model %s (%s weights) precision=%s\n", be->description, model, tb_dtype_name(m->host.embed.dtype),
           precision);
    double *times = calloc((size_t)(steps + 1), sizeof *times);
    int n = 0;
    uint64_t rng = 12345;
    if (!strcmp(mode, "forward")) {
        tb_llama_acts acts;
        if (tb_llama_acts_init(&acts, m, B, T, TB_ACTS_INFERENCE, B * T, &err) != TB_OK)
            bench_die("bench_model", &err);
        int32_t *ids = malloc((size_t)(B * T) * sizeof *ids);
        float probe;
        for (long s = 0; s < steps; s++) {
            for (long i = 0; i < B * T; i++) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                ids[i] = (int32_t)((rng >> 33) % (uint64_t)m->cfg.vocab_size);
            }
            double t0 = bench_now();
            if (tb_llama_forward(m, &acts, ids, B, T, NULL, &err) != TB_OK)
                bench_die("bench_model", &err);
            tb_llama_logits(m, &acts, 0, B * T); /* all logits, as the peer computes them */
            if (be->ops->download(be, &probe, acts.logits, 1, &err) != TB_OK)
                bench_die("bench_model", &err);
            double dt_s = bench_now() - t0;
            printf("fwd %ld time %.3f s tokens/s %.1f\n", s, dt_s, (double)(B * T) / dt_s);
            fflush(stdout);
            if (s >= warmup)
                times[n++] = dt_s;
        }
        if (profile)
            bench_profile_print((int)steps);
        double med = bench_median(times, n);
        printf("RESULT forward tag=tunebench dtype=%s precision=%s threads=%d tokens_per_step=%ld median_step_s=%.4f "
               "min_step_s=%.4f max_step_s=%.4f tokens_per_s=%.1f peak_rss_mib=%.0f\n",
               dtype, precision, be->opt.threads, B * T, med, times[0], times[n - 1], (double)(B * T) / med,
               bench_peak_rss_mib());
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
                bench_die("bench_model", &err);
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
        double med = bench_median(times, n);
        printf("RESULT generate_decode tag=tunebench dtype=%s precision=%s threads=%d tokens_per_step=1 "
               "median_step_s=%.4f min_step_s=%.4f max_step_s=%.4f tokens_per_s=%.1f peak_rss_mib=%.0f\n",
               dtype, precision, be->opt.threads, med, times[0], times[n - 1], 1.0 / med, bench_peak_rss_mib());
        printf("RESULT generate_prefill tag=tunebench prompt=%ld mean_s=%.4f tokens_per_s=%.1f\n", prompt,
               pre / n, (double)prompt / (pre / n));
        free(ids);
    }
    free(times);
    tb_llama_free(m);
    tb_backend_destroy(be);
    return 0;
}
