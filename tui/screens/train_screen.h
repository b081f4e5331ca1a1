/* tunebench — the Train screen's state, shared by its logic (train_screen.c) and its
 * drawing (train_view.c).
 *
 * Two views: the form (settings, the preflight's verdict and the memory estimate) and the
 * run (live plot, side panel, alarm banner, run log). The preflight and the run each have
 * their own worker thread; the UI thread collects from both on every tick. */
#ifndef TB_SCREENS_TRAIN_SCREEN_H
#define TB_SCREENS_TRAIN_SCREEN_H

#include <pthread.h>
#include <stdatomic.h>

#include "tui/screen.h"
#include "tui/train_form.h"
#include "tui/train_job.h"
#include "tui/train_preflight.h"
#include "tui/widgets/plot.h"

typedef enum { TV_FORM = 0, TV_RUN } train_view;

typedef struct train_screen {
    tb_screen base;
    train_view view;
    tb_train_form tf;
    char seen_data[4096];            /* the session's dataset when the form last took it */

    /* the form's options and the assessment of them (every change) */
    tb_train_options opts;
    bool opts_ok;                    /* the fields parse (targets) */
    tb_error opts_err;
    tb_train_assessment as;
    int bad_field;                   /* the first refusal's field, -1 none */

    /* the preflight worker */
    pthread_t pf_thread;
    bool pf_running;
    atomic_bool pf_done, pf_cancel;
    tb_train_options pf_opts;        /* its input (worker reads) */
    tb_train_preflight pf_key;       /* its input as a key (UI reads while it runs) */
    tb_train_preflight pf_out;       /* its output (worker writes) */
    tb_train_preflight pf;           /* the last finished result (UI reads) */

    /* the run */
    tb_train_job job;
    tb_train_live live;
    bool ended_seen;                 /* the end of the current run was reported */

    /* the plot */
    bool ema, log_y, zoom;
    double ema_alpha;
    long zoom_steps;                 /* z: the last N steps */
    tb_plot_canvas canvas;
    int form_w;                      /* the form box's width as last drawn (mouse) */
} train_screen;

/* train_view.c */
void tb_train_draw_form(train_screen *ts, WINDOW *win, int h, int w);
void tb_train_draw_run(train_screen *ts, WINDOW *win, int h, int w);

#endif
