/* What watching costs: the same training run (the Train screen's worker, tui/train_job.c)
 * with nothing attached, and with the Train screen's run view attached the way the
 * workbench attaches it (every 1/fps s: collect progress, new points and events, draw the
 * whole view, doupdate to a real curses screen whose output goes to /dev/null), run
 * alternately. Prints tokens/s per run, medians [min-max] per mode, the overhead, and what
 * one frame costs (so how many redraws per second are possible).
 *
 *   bench_train_ui [--model DIR] [--data FILE] [--steps N] [--rounds R] [--fps F] [--threads T]
 *
 * Without --model: a random model of BENCHMARKING.md's DEMO shape (dim 256, 8 layers, vocab
 * 2048) with the 320-token reference tokenizer; data: datasets/examples/alpaca_clean.jsonl. */
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "engine/core/fs.h"
#include "tb_config.h"
#include "tui/screens/train_screen.h"
#include "tui/theme.h"

#define MAX_ROUNDS 32
#define MAX_FRAMES 100000

static double frame_ms[MAX_FRAMES];
static int n_frames;
static double ui_cpu_s, proc_cpu_s; /* attached runs: the UI thread's CPU time, the process's */

static double cpu_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* One run; attached: draw the run view at fps. Returns training tokens/s. */
static double one_run(const tb_train_options *o, bool attached, double fps)
{
    train_screen *ts = calloc(1, sizeof *ts);
    tb_train_job_init(&ts->job);
    tb_train_live_reset(&ts->live);
    ts->ema_alpha = 0.6;
    ts->zoom_steps = 100;
    tb_error err;
    if (tb_train_job_start(&ts->job, o, &err) != TB_OK)
        bench_die("bench_train_ui", &err);
    double period = 1.0 / fps;
    double proc0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
    while (tb_train_job_phase(&ts->job) != TB_JOB_ENDED) {
        double t0 = bench_now(), c0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
        if (attached) {
            tb_train_job_collect(&ts->job, &ts->live);
            werase(stdscr);
            tb_train_draw_run(ts, stdscr, LINES - 2, COLS);
            wnoutrefresh(stdscr);
            doupdate();
            if (n_frames < MAX_FRAMES)
                frame_ms[n_frames++] = (bench_now() - t0) * 1e3;
            ui_cpu_s += cpu_s(CLOCK_THREAD_CPUTIME_ID) - c0;
        }
        double left = period - (bench_now() - t0);
        if (left > 0)
            usleep((useconds_t)(left * 1e6));
    }
    if (attached)
        proc_cpu_s += cpu_s(CLOCK_PROCESS_CPUTIME_ID) - proc0;
    tb_train_job_collect(&ts->job, &ts->live);
    tb_train_job_finish(&ts->job);
    if (ts->job.create_status != TB_OK || ts->job.run_status != TB_OK)
        bench_die("bench_train_ui", &ts->job.err);
    double tps = ts->live.prog.tokens_per_s;
    tb_train_job_destroy(&ts->job);
    tb_train_live_free(&ts->live);
    tb_plot_canvas_free(&ts->canvas);
    free(ts);
    return tps;
}

/* Median ms of one frame of the run view with a synthetic curve of n steps (eval every 50),
 * the part of a frame that grows with the run. */
static double frame_cost(size_t n)
{
    train_screen *ts = calloc(1, sizeof *ts);
    tb_train_job_init(&ts->job);
    ts->ema = true, ts->ema_alpha = 0.6;
    tb_train_live *l = &ts->live;
    l->have = true;
    l->prog.state = TB_TRAIN_RUNNING;
    l->prog.step = (int64_t)n, l->prog.total_steps = (int64_t)(2 * n);
    l->prog.best_eval_loss = 1.5, l->prog.best_eval_step = 50;
    tb_metric_row *rows = malloc(n * sizeof *rows);
    for (size_t i = 0; i < n; i++)
        rows[i] = (tb_metric_row){(int64_t)i, 0, 3.0 / (1 + 0.01 * (double)i) + 0.1 * (double)(i % 7), i % 50 ? NAN : 2.0,
                                  2e-4, 0.5 + 0.01 * (double)(i % 13), 1e4, (double)i};
    bool changed;
    tb_run_curve_merge(&l->curve, rows, n, &changed);
    free(rows);
    double ms[200];
    for (int k = 0; k < 200; k++) {
        double t0 = bench_now();
        werase(stdscr);
        tb_train_draw_run(ts, stdscr, LINES - 2, COLS);
        wnoutrefresh(stdscr);
        doupdate();
        ms[k] = (bench_now() - t0) * 1e3;
    }
    tb_train_job_destroy(&ts->job);
    tb_train_live_free(l);
    tb_plot_canvas_free(&ts->canvas);
    free(ts);
    return bench_median(ms, 200);
}

static void summary(const char *name, double *v, int n, double *median)
{
    double lo = v[0], hi = v[0];
    for (int i = 1; i < n; i++)
        lo = v[i] < lo ? v[i] : lo, hi = v[i] > hi ? v[i] : hi;
    *median = bench_median(v, n);
    printf("  %-10s %9.1f tokens/s [%.1f-%.1f]\n", name, *median, lo, hi);
}

int main(int argc, char **argv)
{
    const char *model = NULL, *data = TB_SOURCE_ROOT "/datasets/examples/alpaca_clean.jsonl";
    long steps = 200, rounds = 3, threads = 2;
    double fps = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--data")) data = argv[i + 1];
        else if (!strcmp(argv[i], "--steps")) steps = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--rounds")) rounds = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--fps")) fps = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atol(argv[i + 1]);
        else {
            fprintf(stderr, "usage: bench_train_ui [--model DIR] [--data FILE] [--steps N] [--rounds R] [--fps F] "
                            "[--threads T]\n");
            return 2;
        }
    }
    if (rounds < 1 || rounds > MAX_ROUNDS || steps < 1 || fps <= 0)
        return 2;
    if (!model) {
        tiny_spec spec = {.D = 256, .F = 688, .L = 8, .H = 8, .Hkv = 4, .V = 2048, .dtype = TB_DTYPE_F32, .seed = 7};
        model = bench_model_dir("demo-ui", &spec);
        char dst[512];
        snprintf(dst, sizeof dst, "%s/tokenizer.json", model);
        if (!tb_path_exists(dst)) {
            char cmd[1200];
            snprintf(cmd, sizeof cmd, "cp '%s/tests/reference/llama/llama_vocab320_f32/tokenizer.json' '%s'",
                     TB_SOURCE_ROOT, dst);
            if (system(cmd) != 0)
                return 2;
        }
    }
    char out[64];
    snprintf(out, sizeof out, "/tmp/tb-bench-train-ui.%d", (int)getpid());
    tb_train_options o;
    tb_train_options_init(&o);
    snprintf(o.model, sizeof o.model, "%s", model);
    snprintf(o.data, sizeof o.data, "%s", data);
    snprintf(o.out, sizeof o.out, "%s", out);
    o.max_steps = steps, o.batch = 4, o.grad_accum = 1, o.logging_steps = 1, o.eval_split = 0.1, o.eval_steps = 50;
    o.save_steps = 0, o.be.threads = (int)threads;

    /* A real curses screen (what the workbench draws into), written to /dev/null. */
    setenv("LINES", "30", 1);
    setenv("COLUMNS", "100", 1);
    FILE *devnull_out = fopen("/dev/null", "w"), *devnull_in = fopen("/dev/null", "r");
    SCREEN *scr = newterm("xterm-256color", devnull_out, devnull_in);
    if (!scr) {
        fprintf(stderr, "bench_train_ui: no terminfo for xterm-256color\n");
        return 2;
    }
    set_term(scr);
    tb_theme_setup(has_colors());

    printf("# bench_train_ui: %s, %s, %ld steps (batch 4, logged every step), %ld threads, view %dx%d at %.0f fps, "
           "%ld rounds, commit %s\n",
           model, data, steps, threads, COLS, LINES, fps, rounds, TB_VERSION);
    fflush(stdout);
    one_run(&o, false, fps); /* warm-up: page cache, allocator */
    double bare[MAX_ROUNDS], ui[MAX_ROUNDS];
    for (long r = 0; r < rounds; r++) {
        /* alternate which goes first, so drift hits both */
        bool ui_first = r % 2;
        double a = one_run(&o, ui_first, fps), b = one_run(&o, !ui_first, fps);
        bare[r] = ui_first ? b : a;
        ui[r] = ui_first ? a : b;
        printf("round %ld: bare %.1f  ui %.1f tokens/s\n", r + 1, bare[r], ui[r]);
        fflush(stdout);
    }
    double f10k = frame_cost(10000), f100k = frame_cost(100000);
    endwin();
    delscreen(scr);
    fclose(devnull_out);
    fclose(devnull_in);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_train_ui: could not remove %s\n", out);

    /* Per-round ratios: each pair ran back to back, so slow drift in the machine's load
     * cancels within a pair. */
    double ratio[MAX_ROUNDS];
    for (long r = 0; r < rounds; r++)
        ratio[r] = ui[r] / bare[r];
    double mr = bench_median(ratio, (int)rounds);
    double mb, mu;
    printf("| mode | tokens/s median [min-max] |\n");
    summary("bare", bare, (int)rounds, &mb);
    summary("ui", ui, (int)rounds, &mu);
    printf("  paired ui/bare ratio: median %.4f [%.4f-%.4f]\n", mr, ratio[0], ratio[rounds - 1]);
    double f_med = bench_median(frame_ms, n_frames), f_max = frame_ms[n_frames - 1]; /* sorted by the median */
    printf("  the UI thread's CPU time: %.3f s of the process's %.1f s while attached (%.3f%%)\n", ui_cpu_s, proc_cpu_s,
           100 * ui_cpu_s / proc_cpu_s);
    printf("RESULT train_ui bare=%.1f ui=%.1f ratio=%.4f paired_ratio=%.4f overhead_pct=%.2f ui_cpu_pct=%.3f frames=%d frame_ms_median=%.3f "
           "frame_ms_max=%.3f possible_fps=%.0f frame_ms_10k_steps=%.3f frame_ms_100k_steps=%.3f\n",
           mb, mu, mu / mb, mr, (1 - mr) * 100, 100 * ui_cpu_s / proc_cpu_s, n_frames, f_med, f_max, 1e3 / f_med, f10k, f100k);
    return 0;
}
