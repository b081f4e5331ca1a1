/* tunebench — the real trainer, timed (trainer_bench.h). */
#include "trainer_bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"
#include "engine/core/rng.h"
#include "engine/train/trainer.h"

typedef struct collect {
    double tps[256], loss[256];
    int n, warmup;
} collect;

static void on_update(void *ctx, const tb_train_update *u)
{
    collect *c = ctx;
    if (u->kind != TB_UPD_LOG || c->n >= 256)
        return;
    c->loss[c->n] = u->metric->train_loss;
    c->tps[c->n++] = u->metric->tokens_per_s;
}

/* Plain text of about `bytes` bytes: words drawn from a fixed list, documents of 40-200
 * words separated by blank lines. */
static int write_text(const char *path, size_t bytes)
{
    static const char *const words[] = {"the", "model", "learns", "a", "river", "of", "stone", "and", "light",
                                        "under", "green", "paper", "music", "garden", "window", "silver", "cloud",
                                        "table", "engine", "runs", "fast", "slow", "data", "token", "weight"};
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    tb_rng r;
    tb_rng_seed(&r, 17);
    size_t written = 0;
    while (written < bytes) {
        int n = 40 + (int)tb_rng_below(&r, 160);
        for (int i = 0; i < n; i++) {
            const char *w = words[tb_rng_below(&r, sizeof words / sizeof *words)];
            written += (size_t)fprintf(f, "%s%s", i ? " " : "", w);
        }
        written += (size_t)fprintf(f, ".\n\n");
    }
    return fclose(f) == 0 ? 0 : -1;
}

int trainer_bench_run(const trainer_shape *s, const char *backend, const tb_backend_options *opt,
                      const char *tokenizer, int warmup, int steps, trainer_result *out)
{
    memset(out, 0, sizeof *out);
    tiny_spec spec = {.D = s->D, .F = s->F, .L = s->L, .H = s->H, .Hkv = s->Hkv, .V = s->V, .tied = true,
                      .dtype = s->dtype, .seed = 7};
    char tag[128];
    snprintf(tag, sizeof tag, "train-d%lld-l%lld-f%lld-v%lld", (long long)s->D, (long long)s->L, (long long)s->F,
             (long long)s->V);
    const char *dir = bench_model_dir(tag, &spec); /* bench_train's model of the same shape */
    char work[256], text[300];
    snprintf(work, sizeof work, "/tmp/tunebench-trainer-bench-%d", (int)getpid());
    snprintf(text, sizeof text, "%s.txt", work);
    /* ~2 bytes a token with a small byte-level BPE: twice what the steps need */
    if (write_text(text, (size_t)((warmup + steps) * s->B * (s->T + 1)) * 4) != 0) {
        fprintf(stderr, "trainer_bench: cannot write %s\n", text);
        return -1;
    }
    tb_train_options o;
    tb_train_options_init(&o);
    snprintf(o.model, sizeof o.model, "%s", dir);
    snprintf(o.tokenizer, sizeof o.tokenizer, "%s", tokenizer);
    snprintf(o.data, sizeof o.data, "%s", text);
    snprintf(o.out, sizeof o.out, "%s", work);
    snprintf(o.backend, sizeof o.backend, "%s", backend);
    o.be = *opt;
    o.mode = s->quant == TB_QUANT_NF4 ? TB_TRAIN_QLORA : s->quant == TB_QUANT_NF4_DQ ? TB_TRAIN_QLORA_DQ : TB_TRAIN_LORA;
    o.rank = s->R;
    tb_error err;
    if (tb_lora_targets_parse(s->targets, &o.targets, &err) != TB_OK)
        bench_die("trainer_bench", &err);
    o.packed = true;
    o.max_len = s->T + 1; /* blocks of T + 1 tokens: T predictions each */
    o.batch = s->B, o.grad_accum = 1;
    o.max_steps = warmup + steps;
    o.logging_steps = 1, o.eval_steps = 0, o.save_steps = 0;
    o.warmup_ratio = 0, o.lr = 1e-4;
    collect c = {.warmup = warmup};
    tb_trainer *t;
    tb_mem_reset_peak();
    if (tb_trainer_create(&t, &o, NULL, on_update, &c, &err) != TB_OK || tb_trainer_run(t, &err) != TB_OK)
        bench_die("trainer_bench", &err);
    tb_mem_stats ms;
    tb_mem_get_stats(&ms);
    tb_trainer_free(t);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", work, text);
    if (system(cmd) != 0)
        fprintf(stderr, "trainer_bench: could not remove %s\n", work);
    if (c.n <= warmup) {
        fprintf(stderr, "trainer_bench: %d logged steps, fewer than the warm-up\n", c.n);
        return -1;
    }
    double v[256];
    int n = 0;
    for (int i = warmup; i < c.n; i++)
        v[n++] = c.tps[i];
    out->steps = n;
    out->tokens_per_s = bench_median(v, n); /* sorts v */
    out->min_tps = v[0], out->max_tps = v[n - 1];
    out->loss_first = c.loss[0], out->loss_last = c.loss[c.n - 1];
    out->host_peak_mib = (double)ms.total_peak / 1048576.0;
    out->device_peak_mib = (double)ms.peak[TB_MEM_DEVICE] / 1048576.0;
    printf("RESULT trainer %s backend=%s dtype=%s quant=%s targets=%s tokens_per_step=%lld steps=%d "
           "tokens_per_s=%.1f min=%.1f max=%.1f loss_first=%.4f loss_last=%.4f host_peak_mib=%.1f "
           "device_peak_mib=%.1f\n",
           s->tag, backend, tb_dtype_short_name(s->dtype), tb_quant_mode_name(s->quant), s->targets,
           (long long)(s->B * s->T), n, out->tokens_per_s, out->min_tps, out->max_tps, out->loss_first,
           out->loss_last, out->host_peak_mib, out->device_peak_mib);
    fflush(stdout);
    return 0;
}
