/* tunebench test tool — fill a run store the way trainers do, through the run-store API
 * (the schema has one owner: engine/io/run_store.c).
 *
 *   runs_fixture init DB                     an empty store
 *   runs_fixture populate DB                 six runs: four LoRA ranks, a diverged full
 *                                            fine-tune, a crashed (stale) run
 *   runs_fixture grow DB NAME STEPS MS [K]   a live trainer: one step every MS ms, an eval
 *                                            every K steps (default 20), then "finished"
 *
 * The numbers are made up but shaped like SmolLM2-135M LoRA runs (q,k,v,o targets: 115,200
 * trainable parameters per rank); each run's last (or chosen) eval is exactly its best eval
 * loss so tests can name the values. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/io/run_store.h"

#define PER_RANK 115200LL
#define NO_VALUE ((double)NAN)

typedef struct spec {
    const char *name, *mode;
    int rank;
    double lr;
    int64_t params;
    int steps, total;        /* logged steps; planned steps */
    double start, best;      /* first train loss; best eval loss */
    int best_at;             /* eval step of the best; later evals rise (overfitting); 0 = last */
    tb_run_status status;
    int nan_after;           /* > 0: train loss NaN from this step on, no evals (diverged) */
    bool dead_pid;           /* running, trainer gone: stale */
    double tokens_per_s;
} spec;

static const spec runs[] = {
    {"smol-r4", "lora", 4, 2e-4, 4 * PER_RANK, 300, 300, 3.10, 1.912, 0, TB_RUN_FINISHED, 0, false, 5210},
    {"smol-r8", "lora", 8, 2e-4, 8 * PER_RANK, 300, 300, 3.08, 1.874, 0, TB_RUN_FINISHED, 0, false, 5105},
    {"smol-r16", "lora", 16, 2e-4, 16 * PER_RANK, 300, 300, 3.05, 1.861, 0, TB_RUN_FINISHED, 0, false, 4980},
    {"smol-r64", "lora", 64, 1e-4, 64 * PER_RANK, 300, 300, 3.02, 1.850, 200, TB_RUN_FINISHED, 0, false, 4410},
    {"full-ft", "full", -1, 2e-5, 134515008LL, 140, 300, 3.00, NAN, 0, TB_RUN_FAILED, 121, false, 610},
    {"smol-r32-crashed", "lora", 32, 2e-4, 32 * PER_RANK, 150, 300, 3.06, 1.900, 0, TB_RUN_RUNNING, 0, true, 4700},
};

enum { EVAL_EVERY = 50 };

static int die(const char *what, const tb_error *err)
{
    char buf[2048];
    fprintf(stderr, "runs_fixture: %s: %s\n", what, tb_error_format(err, buf, sizeof buf));
    return 1;
}

/* Train loss: exponential decay toward the run's floor, with a small deterministic wobble. */
static double train_loss(const spec *s, int step)
{
    double floor_ = s->best - 0.08;
    return floor_ + (s->start - floor_) * exp(-step / 60.0) + 0.03 * sin(step * 1.7 + s->rank);
}

/* Eval loss at an eval step: decreasing to exactly `best` at best_at, rising after it. */
static double eval_loss(const spec *s, int step, int best_at)
{
    if (step == best_at)
        return s->best;
    double decay = 0.6 * (exp(-step / 80.0) - exp(-best_at / 80.0));
    return step < best_at ? s->best + decay : s->best + 0.0001 * (step - best_at);
}

static pid_t dead_pid(void)
{
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    waitpid(p, NULL, 0);
    return p;
}

static int add_run(tb_run_store *rs, const spec *s, double started)
{
    tb_error err;
    tb_run_info r;
    tb_run_info_init(&r);
    snprintf(r.name, sizeof r.name, "%s", s->name);
    snprintf(r.mode, sizeof r.mode, "%s", s->mode);
    r.status = TB_RUN_RUNNING;
    r.rank = s->rank;
    r.alpha = s->rank > 0 ? 2.0 * s->rank : NO_VALUE;
    r.lr = s->lr;
    r.epochs = 3;
    r.batch = 16;
    r.total_steps = s->total;
    r.trainable_params = s->params;
    r.started = started;
    r.pid = s->dead_pid ? dead_pid() : getpid();
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"rank\": %d, \"lr\": %g, \"mode\": \"%s\"}", s->rank, s->lr, s->mode);
    r.config_json = cfg;
    if (tb_run_store_create(rs, &r, &r.id, &err) != TB_OK)
        return die("create", &err);
    snprintf(r.run_dir, sizeof r.run_dir, "runs/%lld", (long long)r.id);

    int last_eval = s->steps - s->steps % EVAL_EVERY;
    int best_at = s->best_at ? s->best_at : last_eval;
    tb_metric_row *rows = calloc((size_t)s->steps, sizeof *rows);
    if (!rows)
        return 1;
    for (int i = 0; i < s->steps; i++) {
        int step = i + 1;
        bool nan = s->nan_after > 0 && step >= s->nan_after;
        rows[i] = (tb_metric_row){
            .step = step, .epoch = 3.0 * step / s->total,
            .train_loss = nan ? NO_VALUE : s->nan_after > 0 ? train_loss(s, step) + step / 200.0 : train_loss(s, step),
            .eval_loss = s->nan_after == 0 && step % EVAL_EVERY == 0 ? eval_loss(s, step, best_at) : NO_VALUE,
            .lr = s->lr * (step < 10 ? step / 10.0 : 0.5 * (1 + cos(M_PI * step / s->total))),
            .grad_norm = nan ? NO_VALUE : 1.0 + 0.5 * exp(-step / 50.0), .tokens_per_s = s->tokens_per_s,
            .wall_time = step * 1800.0 / s->tokens_per_s};
    }
    tb_status st = tb_run_store_append_metrics(rs, r.id, rows, (size_t)s->steps, &err);
    double wall = rows[s->steps - 1].wall_time;
    free(rows);
    if (st != TB_OK)
        return die("metrics", &err);
    if (s->nan_after > 0) {
        tb_run_event ev = {.step = s->nan_after, .time = 0};
        snprintf(ev.level, sizeof ev.level, "alarm");
        snprintf(ev.message, sizeof ev.message, "NaN loss at step %d; rolled back 3 times, stopping", s->nan_after);
        if (tb_run_store_add_event(rs, r.id, &ev, &err) != TB_OK)
            return die("event", &err);
    }
    if (s->status == TB_RUN_RUNNING)
        return tb_run_store_update(rs, &r, &err) == TB_OK ? 0 : die("update", &err); /* no summary yet */
    /* The trainer's end-of-run summary. */
    r.status = s->status;
    r.ended = started + wall;
    r.wall_time = wall;
    r.tokens_per_s = s->tokens_per_s;
    r.peak_mem_bytes = (int64_t)(1.2e9 + (double)s->params * 16);
    if (s->status == TB_RUN_FINISHED) {
        r.best_eval_loss = s->best;
        r.best_eval_step = best_at;
        r.final_eval_loss = eval_loss(s, last_eval, best_at);
        r.adapter_bytes = s->params * 4 + 1024; /* f32 tensors + safetensors header */
        snprintf(r.adapter_path, sizeof r.adapter_path, "runs/%lld/adapter", (long long)r.id);
    }
    return tb_run_store_update(rs, &r, &err) == TB_OK ? 0 : die("summary", &err);
}

static int populate(const char *db)
{
    tb_run_store *rs;
    tb_error err;
    if (tb_run_store_open(&rs, db, false, &err) != TB_OK)
        return die("open", &err);
    int rc = 0;
    for (size_t i = 0; i < sizeof runs / sizeof runs[0] && rc == 0; i++)
        rc = add_run(rs, &runs[i], 1736500000.0 + 3600.0 * (double)i);
    tb_run_store_close(rs);
    return rc;
}

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

static int grow(const char *db, const char *name, int steps, int ms, int every)
{
    tb_run_store *rs;
    tb_error err;
    if (tb_run_store_open(&rs, db, false, &err) != TB_OK)
        return die("open", &err);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    spec s = {name, "lora", 8, 2e-4, 8 * PER_RANK, steps, steps, 3.0, 1.95, 0, TB_RUN_RUNNING, 0, false, 5000};
    tb_run_info r;
    tb_run_info_init(&r);
    snprintf(r.name, sizeof r.name, "%s", name);
    snprintf(r.mode, sizeof r.mode, "lora");
    r.status = TB_RUN_RUNNING;
    r.rank = 8;
    r.alpha = 16;
    r.lr = 2e-4;
    r.epochs = 1;
    r.batch = 4;
    r.total_steps = steps;
    r.trainable_params = s.params;
    r.pid = getpid();
    r.started = (double)time(NULL);
    if (tb_run_store_create(rs, &r, &r.id, &err) != TB_OK)
        return die("create", &err);
    int step = 1;
    for (; step <= steps && !stop; step++) {
        tb_metric_row m = {.step = step, .epoch = (double)step / steps, .train_loss = train_loss(&s, step),
                           .eval_loss = step % every == 0 ? s.best + 2.0 / step : NO_VALUE, .lr = 2e-4, .grad_norm = 1,
                           .tokens_per_s = 5000, .wall_time = step * ms / 1000.0};
        if (tb_run_store_append_metrics(rs, r.id, &m, 1, &err) != TB_OK)
            return die("append", &err);
        usleep((useconds_t)ms * 1000);
    }
    tb_status st = tb_run_store_set_status(rs, r.id, stop ? TB_RUN_STOPPED : TB_RUN_FINISHED, &err);
    tb_run_store_close(rs);
    return st == TB_OK ? 0 : die("finish", &err);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "init") == 0) {
        tb_run_store *rs;
        tb_error err;
        if (tb_run_store_open(&rs, argv[2], false, &err) != TB_OK)
            return die("open", &err);
        tb_run_store_close(rs);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "populate") == 0)
        return populate(argv[2]);
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "grow") == 0)
        return grow(argv[2], argv[3], atoi(argv[4]), atoi(argv[5]), argc == 7 ? atoi(argv[6]) : 20);
    fprintf(stderr, "usage: runs_fixture init DB | populate DB | grow DB NAME STEPS MS [EVAL_EVERY]\n");
    return 2;
}
