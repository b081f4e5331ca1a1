/* Benchmark: several LoRA adapters on one resident base, switched without reloading it.
 * Measures, on a random model of the SmolLM2-135M shape (bf16 weights, written once to
 * /tmp) with 4 rank-16 q,k,v,o adapters: loading the base again (what a switch costs
 * without hot-swapping, with a warm page cache: the peer), loading one adapter, switching the active adapter, and a 64-token
 * forward right after a switch vs. one without a switch (the switch leaves no hidden cost).
 * Prints RESULT lines; medians with [min-max].
 *
 *   bench_hotswap [--runs 5] [--switches 100000] [--threads N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "engine/core/fs.h"
#include "engine/eval/run.h"
#include "engine/lora/adapter_set.h"

#define N_ADAPTERS 4
#define T 64

static void stats(const char *what, double *v, int n, double scale, const char *unit)
{
    double lo = v[0], hi = v[0];
    for (int i = 1; i < n; i++)
        lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
    double med = bench_median(v, n);
    printf("RESULT %s median %.3f %s [%.3f-%.3f] n=%d\n", what, med * scale, unit, lo * scale, hi * scale, n);
}

int main(int argc, char **argv)
{
    long runs = 5, switches = 100000, threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs")) runs = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--switches")) switches = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atol(argv[i + 1]);
    }
    tiny_spec s = {.D = 576, .F = 1536, .L = 30, .H = 9, .Hkv = 3, .V = 49152, .tied = true,
                   .dtype = TB_DTYPE_BF16, .seed = 7, .extra = "\"rope_theta\":100000.0"};
    const char *dir = bench_model_dir("smol135m", &s);
    tb_error err;
    tb_backend_options bo = {.threads = (int)threads, .precision = TB_PRECISION_F32, .device = -1};
    tb_backend *be;
    if (tb_backend_create(&be, "cpu", &bo, NULL, 0, &err) != TB_OK)
        bench_die("bench_hotswap", &err);
    printf("# %s\n# model %s (SmolLM2-135M shape, bf16), %d adapters r16 q,k,v,o\n", be->description, dir, N_ADAPTERS);

    /* the peer: loading the base again (mmap + bind + rope tables; page cache warm) */
    double *t_base = calloc((size_t)runs, sizeof *t_base);
    tb_llama *m = NULL;
    for (long r = 0; r < runs; r++) {
        tb_llama_free(m);
        double t0 = bench_now();
        if (tb_llama_load(&m, dir, be, &err) != TB_OK)
            bench_die("bench_hotswap", &err);
        t_base[r] = bench_now() - t0;
    }

    /* adapters: random A and B (B non-zero), saved as PEFT and loaded back */
    char adir[N_ADAPTERS][256];
    tb_adapter_set set;
    tb_adapter_set_init(&set, m);
    double t_adapter[N_ADAPTERS];
    uint32_t seed = 1;
    for (int i = 0; i < N_ADAPTERS; i++) {
        snprintf(adir[i], sizeof adir[i], "/tmp/tb_bench_hotswap/a%d", i);
        tb_lora_opts o = {.rank = 16, .alpha = 32, .targets = TB_LORA_TARGETS_QKVO};
        tb_lora *lo;
        if (tb_lora_create(&lo, &m->cfg, &o, be, false, &err) != TB_OK)
            bench_die("bench_hotswap", &err);
        float *v = malloc(lo->params.total * sizeof *v);
        for (size_t k = 0; k < lo->params.total; k++) {
            seed = seed * 1664525u + 1013904223u;
            v[k] = (float)((seed >> 8) & 0xffff) / 65536.0f * 0.02f - 0.01f;
        }
        be->ops->upload(be, tb_view_of(lo->params.values), v, lo->params.total);
        if (be->ops->sync(be, &err) != TB_OK || tb_lora_save_peft(lo, adir[i], dir, TB_DTYPE_F32, NULL, &err) != TB_OK)
            bench_die("bench_hotswap", &err);
        tb_lora_free(lo);
        free(v);
        double t0 = bench_now();
        if (tb_adapter_set_load(&set, adir[i], NULL, &err) != TB_OK)
            bench_die("bench_hotswap", &err);
        t_adapter[i] = bench_now() - t0;
    }

    /* switching: batches of `switches` activations, cycling through the adapters */
    double *t_switch = calloc((size_t)runs, sizeof *t_switch);
    for (long r = 0; r < runs; r++) {
        double t0 = bench_now();
        for (long k = 0; k < switches; k++)
            tb_adapter_set_activate(&set, (int)(k % N_ADAPTERS));
        t_switch[r] = (bench_now() - t0) / (double)switches;
    }

    /* a forward right after a switch vs. on the same adapter */
    int32_t ids[T];
    for (int t = 0; t < T; t++)
        ids[t] = (t * 31 + 7) % 49152;
    float *logits = malloc((size_t)49152 * sizeof *logits);
    double *t_same = calloc((size_t)runs, sizeof *t_same), *t_after = calloc((size_t)runs, sizeof *t_after);
    for (long r = 0; r < runs; r++) {
        tb_adapter_set_activate(&set, 0);
        double t0 = bench_now();
        if (tb_eval_logits(m, ids, T, T - 1, 1, logits, &err) != TB_OK)
            bench_die("bench_hotswap", &err);
        t_same[r] = bench_now() - t0;
        tb_adapter_set_activate(&set, (int)(1 + r % (N_ADAPTERS - 1)));
        t0 = bench_now();
        if (tb_eval_logits(m, ids, T, T - 1, 1, logits, &err) != TB_OK)
            bench_die("bench_hotswap", &err);
        t_after[r] = bench_now() - t0;
    }
    stats("load_base", t_base, (int)runs, 1e3, "ms");
    stats("load_adapter", t_adapter, N_ADAPTERS, 1e3, "ms");
    stats("switch_adapter", t_switch, (int)runs, 1e9, "ns");
    stats("forward_T64_same_adapter", t_same, (int)runs, 1e3, "ms");
    stats("forward_T64_after_switch", t_after, (int)runs, 1e3, "ms");
    double base_med = bench_median(t_base, (int)runs), sw_med = bench_median(t_switch, (int)runs);
    printf("RESULT ratio reload_base/switch %.3g\n", base_med / sw_med);
    printf("RESULT peak_rss %.1f MiB\n", bench_peak_rss_mib());
    free(logits), free(t_base), free(t_switch), free(t_same), free(t_after);
    tb_adapter_set_free(&set);
    tb_llama_free(m);
    tb_backend_destroy(be);
    return 0;
}
