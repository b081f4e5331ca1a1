/* Benchmark: LoRA training steps (forward, loss, backward, clipping, AdamW: what
 * tb_trainer_step runs) on a random model of the peer's shape, with the same FLOP count
 * and RESULT line as ../shared/bench/torch_lora_bench.py, so tests/bench/train_bench.sh can
 * alternate the two. Also: the sgemm peak of this backend measured in the same process
 * (for MFU), the calculator's memory prediction next to the engine's accounted peak, and
 * with --profile 1 a per-op profile.
 *
 *   bench_train [--dim 256 --layers 8 --heads 8 --kv-heads 4 --ffn 688 --vocab 2048]
 *               [--seq 256 --batch 8 --rank 16 --alpha 32 --targets q,k,v,o]
 *               [--steps 8 --warmup 2] [--dtype f32|bf16] [--precision f32|bf16] [--threads N]
 *               [--checkpointing 1] [--untied 1] [--profile 1] [--peak 1] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "engine/core/rng.h"
#include "engine/model/backward.h"
#include "engine/optim/optim.h"
#include "engine/plan/memory.h"

/* GFLOP/s of an M=N=K=2048 f32 matmul through the backend (its pool, OpenBLAS inside). */
static double sgemm_peak(tb_backend *be)
{
    int64_t n = 2048;
    tb_buf *a, *b, *c;
    tb_error err;
    if (be->ops->buf_alloc(be, &a, TB_DTYPE_F32, (size_t)(n * n), TB_MEM_SCRATCH, &err) != TB_OK ||
        be->ops->buf_alloc(be, &b, TB_DTYPE_F32, (size_t)(n * n), TB_MEM_SCRATCH, &err) != TB_OK ||
        be->ops->buf_alloc(be, &c, TB_DTYPE_F32, (size_t)(n * n), TB_MEM_SCRATCH, &err) != TB_OK)
        bench_die("bench_train", &err);
    be->ops->fill(be, tb_view_of(a), 0.5f, (size_t)(n * n));
    be->ops->fill(be, tb_view_of(b), 0.25f, (size_t)(n * n));
    double best = 0;
    for (int i = 0; i < 6; i++) {
        double t0 = bench_now();
        be->ops->matmul(be, tb_view_of(c), tb_view_of(a), tb_wdense(tb_view_of(b)), n, n, n, TB_MM_TRANS_B, 1, 0);
        be->ops->sync(be, &err);
        double g = 2.0 * (double)n * (double)n * (double)n / (bench_now() - t0) / 1e9;
        best = g > best ? g : best;
    }
    be->ops->buf_free(be, a), be->ops->buf_free(be, b), be->ops->buf_free(be, c);
    return best;
}

int main(int argc, char **argv)
{
    long D = 256, L = 8, H = 8, Hkv = 4, F = 688, V = 2048, T = 256, B = 8, R = 16, steps = 8, warmup = 2;
    long threads = 2, profile = 0, peak = 1, ckpt = 0, untied = 0;
    double alpha = 32;
    const char *targets = "q,k,v,o", *dtype = "f32", *precision = "f32";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        long *lp = !strcmp(k, "--dim") ? &D : !strcmp(k, "--layers") ? &L : !strcmp(k, "--heads") ? &H
                 : !strcmp(k, "--kv-heads") ? &Hkv : !strcmp(k, "--ffn") ? &F : !strcmp(k, "--vocab") ? &V
                 : !strcmp(k, "--seq") ? &T : !strcmp(k, "--batch") ? &B : !strcmp(k, "--rank") ? &R
                 : !strcmp(k, "--steps") ? &steps : !strcmp(k, "--warmup") ? &warmup : !strcmp(k, "--threads") ? &threads
                 : !strcmp(k, "--profile") ? &profile : !strcmp(k, "--peak") ? &peak
                 : !strcmp(k, "--checkpointing") ? &ckpt : !strcmp(k, "--untied") ? &untied : NULL;
        if (lp)
            *lp = atol(v);
        else if (!strcmp(k, "--alpha"))
            alpha = atof(v);
        else if (!strcmp(k, "--targets"))
            targets = v;
        else if (!strcmp(k, "--dtype"))
            dtype = v;
        else if (!strcmp(k, "--precision"))
            precision = v;
        else {
            fprintf(stderr, "bench_train: unknown flag %s\n", k);
            return 2;
        }
    }
    tb_error err;
    tb_dtype dt = strcmp(dtype, "bf16") == 0 || strcmp(dtype, "bfloat16") == 0 ? TB_DTYPE_BF16 : TB_DTYPE_F32;
    char tag[128];
    snprintf(tag, sizeof tag, "train-d%ld-l%ld-f%ld-v%ld%s", D, L, F, V, untied ? "-untied" : "");
    tiny_spec spec = {.D = D, .F = F, .L = L, .H = H, .Hkv = Hkv, .V = V, .tied = !untied, .dtype = dt, .seed = 7};
    const char *dir = bench_model_dir(tag, &spec);
    tb_backend_options bo = {.threads = (int)threads,
                             .precision = strcmp(precision, "bf16") == 0 ? TB_PRECISION_BF16 : TB_PRECISION_F32,
                             .device = -1};
    tb_backend *be;
    tb_llama *m;
    if (tb_backend_create(&be, "cpu", &bo, NULL, 0, &err) != TB_OK)
        bench_die("bench_train", &err);
    double peak_gflops = peak ? sgemm_peak(be) : 0;
    if (tb_llama_load(&m, dir, be, &err) != TB_OK)
        bench_die("bench_train", &err);
    tb_lora_targets tg;
    if (tb_lora_targets_parse(targets, &tg, &err) != TB_OK)
        bench_die("bench_train", &err);
    tb_lora_opts lo_opts = {.rank = R, .alpha = alpha, .targets = tg};
    tb_lora *lo;
    tb_llama_acts a;
    tb_llama_bwd g;
    tb_adamw opt;
    tb_adamw_opts ao = {.lr = 1e-4, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .max_grad_norm = 1.0};
    if (tb_lora_create(&lo, &m->cfg, &lo_opts, be, true, &err) != TB_OK || tb_lora_init_weights(lo, 1, &err) != TB_OK)
        bench_die("bench_train", &err);
    m->lora = lo;
    lo->train = true;
    int64_t N = B * T;
    if (tb_llama_acts_init(&a, m, B, T, ckpt ? TB_ACTS_CHECKPOINT : TB_ACTS_SAVE, tb_llama_logit_rows(&m->cfg, N),
                           &err) != TB_OK ||
        tb_llama_bwd_init(&g, m, &a, &err) != TB_OK || tb_adamw_init(&opt, &lo->params, &ao, &err) != TB_OK)
        bench_die("bench_train", &err);
    /* random tokens, every position trained, the same batch each step (as the peer) */
    int32_t *ids = malloc((size_t)N * sizeof *ids), *targets_ = malloc((size_t)N * sizeof *targets_);
    tb_rng r;
    tb_rng_seed(&r, 1);
    for (int64_t i = 0; i < N; i++)
        ids[i] = (int32_t)tb_rng_below(&r, (uint64_t)V), targets_[i] = (int32_t)tb_rng_below(&r, (uint64_t)V);
    /* FLOPs per step, the peer's formula: 4 P_frozen T + 6 P_lora T + 12 L seq d_attn T */
    int64_t qd = H * (D / H), kvd = Hkv * (D / H);
    double P_frozen = (double)L * (double)(D * qd + 2 * D * kvd + qd * D + 3 * D * F) + (double)V * (double)D;
    double P_lora = 0;
    for (size_t i = 0; i < lo->params.n; i++)
        P_lora += (double)lo->params.p[i].n;
    double flops = 4 * P_frozen * (double)N + 6 * P_lora * (double)N + 12.0 * (double)L * (double)T * (double)D * (double)N;
    printf("# %s\n# model %s: D=%ld L=%ld H=%ld Hkv=%ld F=%ld V=%ld, %s weights, precision %s, LoRA r=%ld %s, "
           "batch %ld x seq %ld%s\n",
           be->description, dir, D, L, H, Hkv, F, V, tb_dtype_name(dt), precision, R, targets, B, T,
           ckpt ? ", gradient checkpointing" : "");
    if (peak)
        printf("# sgemm peak (2048^3 through the backend, %ld threads): %.1f GFLOP/s\n", threads, peak_gflops);
    tb_mem_reset_peak();
    double *times = calloc((size_t)steps, sizeof *times);
    int n = 0;
    for (long s = 0; s < steps; s++) {
        if (profile && s == warmup)
            bench_profile_on(be, V, R);
        double t0 = bench_now(), sumsq, loss;
        lo->seed = (uint32_t)s;
        tb_llama_loss_reset(m, &g);
        if (tb_llama_forward(m, &a, ids, B, T, NULL, &err) != TB_OK ||
            tb_llama_loss(m, &a, &g, targets_, 1.0f / (float)N, &err) != TB_OK ||
            tb_llama_backward(m, &a, &g, &err) != TB_OK || tb_llama_loss_read(m, &g, &loss, &err) != TB_OK ||
            tb_adamw_grad_sumsq(&opt, &sumsq, &err) != TB_OK)
            bench_die("bench_train", &err);
        tb_adamw_update(&opt, 1e-4);
        tb_param_set_zero_grads(&lo->params);
        if (be->ops->sync(be, &err) != TB_OK)
            bench_die("bench_train", &err);
        double dt_s = bench_now() - t0;
        printf("step %ld loss %.4f time %.3f s tokens/s %.1f rss %.0f MiB\n", s, loss / (double)N, dt_s,
               (double)N / dt_s, bench_peak_rss_mib());
        fflush(stdout);
        if (s >= warmup)
            times[n++] = dt_s;
    }
    if (profile)
        bench_profile_print(n);
    tb_mem_stats ms;
    tb_mem_get_stats(&ms);
    tb_mem_options mo = {.batch = B, .seq = T, .checkpointing = ckpt != 0, .base_dtype = dt, .rank = R, .targets = tg};
    tb_mem_estimate me;
    tb_plan_memory(&m->cfg, TB_TRAIN_LORA, &mo, &me);
    printf("# memory: engine peak %.1f MiB (accounted: weights %.1f, activations %.1f, adapter+grads+optimizer %.1f, "
           "scratch %.1f), calculator %.1f MiB (activations %.1f)\n",
           (double)ms.total_peak / 1048576.0, (double)ms.peak[TB_MEM_WEIGHTS] / 1048576.0,
           (double)ms.peak[TB_MEM_ACTIVATIONS] / 1048576.0,
           (double)(ms.peak[TB_MEM_ADAPTER] + ms.peak[TB_MEM_GRADS] + ms.peak[TB_MEM_OPTIMIZER]) / 1048576.0,
           (double)ms.peak[TB_MEM_SCRATCH] / 1048576.0, (double)me.total / 1048576.0,
           (double)me.part[TB_PART_ACTIVATIONS] / 1048576.0);
    double lo_t = times[0], hi_t = times[0];
    for (int i = 0; i < n; i++)
        lo_t = fmin(lo_t, times[i]), hi_t = fmax(hi_t, times[i]);
    double med = bench_median(times, n), gf = flops / med / 1e9;
    printf("RESULT train tag=tunebench dtype=%s precision=%s threads=%ld tokens_per_step=%ld median_step_s=%.4f "
           "min_step_s=%.4f max_step_s=%.4f tokens_per_s=%.1f peak_rss_mib=%.0f gflop_per_step=%.1f "
           "achieved_gflops=%.1f",
           dtype, precision, threads, (long)N, med, lo_t, hi_t, (double)N / med, bench_peak_rss_mib(), flops / 1e9, gf);
    if (peak)
        printf(" mfu=%.3f (peak %.1f)", gf / peak_gflops, peak_gflops);
    printf("\n");
    free(times), free(ids), free(targets_);
    m->lora = NULL;
    tb_adamw_free(&opt);
    tb_llama_bwd_free(&g, be);
    tb_llama_acts_free(&a);
    tb_lora_free(lo);
    tb_llama_free(m);
    tb_backend_destroy(be);
    return 0;
}
