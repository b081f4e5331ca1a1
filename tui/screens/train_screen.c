/* tunebench — the Train screen (F4): start a run from a form, watch it train.
 *
 * The form maps to tb_train_options (tui/train_form.c); every change is assessed at once
 * with the engine's own checks, and a preflight on a worker thread (model directory,
 * tokenizer, validator, tokenized data) supplies the model- and data-dependent refusals and
 * the memory the calculator predicts for these settings. Enter starts the run on another
 * worker (tui/train_job.c); each tick collects its progress, new points and events, and the
 * run view (train_view.c) draws them. The run writes the same run store the Runs screen
 * reads, so it appears there live and stays there. */
#include "tui/screens/train_screen.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/app.h"
#include "tui/screens/screens.h"

#define ZOOM_MIN 10
#define ZOOM_DEFAULT 100

static const tb_key_help keys[] = {
    {"Enter", "form: start the run with these settings", "Start"},
    {"e", "form: edit the selected field (Enter confirms, Esc cancels)", "Edit"},
    {"←/→/Space", "form: change a choice, step a number", NULL},
    {"v", "switch between the form and the run", "Form/Run"},
    {"p", "run: pause / resume", "Pause"},
    {"x", "run: stop (finishes the step, writes a checkpoint and the adapter)", "Stop"},
    {"c", "run: save a checkpoint now", "Save"},
    {"o", "run: show the run folder", "Folder"},
    {"s", "run: EMA smoothing of the train loss on / off", "EMA"},
    {"-/+", "run: less / more smoothing", NULL},
    {"l", "run: log scale for the loss axis", "Log"},
    {"z", "run: zoom to the last N steps / whole run", "Zoom"},
    {"[/]", "run: zoom to fewer / more steps", NULL},
    {"a", "run: dismiss the alarm banner (the run log keeps it)", NULL},
    {0},
};

/* ---- the form's assessment and its preflight ------------------------------------------ */

static void *preflight_main(void *arg)
{
    train_screen *ts = arg;
    tb_train_preflight_run(&ts->pf_opts, &ts->pf_cancel, &ts->pf_out);
    atomic_store(&ts->pf_done, true);
    return NULL;
}

/* Start a preflight for the form's inputs when the last one is for other inputs; a running
 * one for stale inputs is cancelled and restarted when it ends (on_tick). */
static void preflight_maybe_start(train_screen *ts)
{
    if (!ts->opts_ok)
        return;
    if (ts->pf_running) {
        if (!tb_train_preflight_matches(&ts->pf_key, &ts->opts))
            atomic_store(&ts->pf_cancel, true);
        return;
    }
    if (ts->pf.done && tb_train_preflight_matches(&ts->pf, &ts->opts))
        return;
    ts->pf_opts = ts->opts;
    tb_train_preflight_set_key(&ts->pf_key, &ts->opts);
    atomic_store(&ts->pf_done, false);
    atomic_store(&ts->pf_cancel, false);
    if (pthread_create(&ts->pf_thread, NULL, preflight_main, ts) == 0)
        ts->pf_running = true;
}

static void reassess(train_screen *ts)
{
    tb_error_clear(&ts->opts_err);
    ts->opts_ok = tb_train_form_get(&ts->tf, ts->base.app->session.runs_dir, &ts->opts, &ts->opts_err) == TB_OK;
    if (ts->opts_ok) {
        tb_train_assess(&ts->opts, &ts->pf, &ts->as);
    } else {
        memset(&ts->as, 0, sizeof ts->as);
        ts->as.n_refusals = 1;
        snprintf(ts->as.refusals[0].flag, sizeof ts->as.refusals[0].flag, "%s", ts->opts_err.field);
        snprintf(ts->as.refusals[0].message, sizeof ts->as.refusals[0].message, "%s", ts->opts_err.message);
    }
    ts->bad_field = ts->as.n_refusals ? tb_train_form_field_of(ts->as.refusals[0].flag) : -1;
    preflight_maybe_start(ts);
}

static void form_changed(train_screen *ts, int field)
{
    tb_train_form_changed(&ts->tf, field);
    reassess(ts);
}

static bool preflight_collect(train_screen *ts)
{
    if (!ts->pf_running || !atomic_load(&ts->pf_done))
        return false;
    pthread_join(ts->pf_thread, NULL);
    ts->pf_running = false;
    if (ts->pf_out.data_status != TB_ERR_CANCELLED)
        ts->pf = ts->pf_out;
    reassess(ts); /* starts the next one when the inputs moved on */
    return true;
}

/* The Data screen's dataset becomes the form's, once, when it changes. */
static bool take_session_data(train_screen *ts)
{
    const char *d = ts->base.app->session.data_path;
    if (strcmp(d, ts->seen_data) == 0 || ts->tf.form.editing)
        return false;
    snprintf(ts->seen_data, sizeof ts->seen_data, "%s", d);
    tb_train_form_take_data(&ts->tf, d, ts->base.app->session.eval_path);
    form_changed(ts, TF_DATA);
    return true;
}

/* ---- the run ----------------------------------------------------------------------------- */

static void show_refusals(train_screen *ts)
{
    char text[2048];
    size_t used = (size_t)snprintf(text, sizeof text, "The trainer would refuse these settings:");
    for (int i = 0; i < ts->as.n_refusals && used < sizeof text; i++) {
        const tb_train_refusal *r = &ts->as.refusals[i];
        used += (size_t)snprintf(text + used, sizeof text - used, "\n- %s%s%s", r->flag, r->flag[0] ? ": " : "",
                                 r->message);
    }
    tb_app_error(ts->base.app, "Cannot start the run", "%s", text);
}

static void start_run(train_screen *ts)
{
    if (tb_train_job_busy(&ts->job)) {
        tb_app_error(ts->base.app, "A run is going", "Run #%lld is still training: one run at a time. Stop it (v, then x) "
                     "or wait for it to finish.", (long long)ts->live.prog.run_id);
        return;
    }
    reassess(ts);
    if (ts->as.n_refusals > 0) {
        show_refusals(ts);
        return;
    }
    tb_error err;
    tb_train_live_reset(&ts->live);
    if (tb_train_job_start(&ts->job, &ts->opts, &err) != TB_OK) {
        tb_app_error(ts->base.app, "Cannot start the run", "%s", err.message);
        return;
    }
    ts->ended_seen = false;
    ts->view = TV_RUN;
}

/* The worker ended: take the last reading, free the trainer, say how it went. */
static void run_ended(train_screen *ts)
{
    tb_train_job_collect(&ts->job, &ts->live);
    tb_train_job_finish(&ts->job);
    ts->ended_seen = true;
    char msg[2048];
    if (ts->job.create_status != TB_OK) {
        ts->view = TV_FORM;
        tb_app_error(ts->base.app, "Cannot start the run", "%s", tb_error_format(&ts->job.err, msg, sizeof msg));
    } else if (ts->job.run_status != TB_OK) {
        tb_app_error(ts->base.app, "Training failed", "%s\n\nThe run log and the Runs screen (F5) keep what it did.",
                     tb_error_format(&ts->job.err, msg, sizeof msg));
    }
}

static void do_stop(void *ctx)
{
    train_screen *ts = ctx;
    tb_train_job_request(&ts->job, TB_REQ_STOP);
}

static void ask_stop(train_screen *ts)
{
    tb_job_phase ph = tb_train_job_phase(&ts->job);
    if (ph != TB_JOB_PREPARING && ph != TB_JOB_TRAINING)
        return;
    char text[512];
    snprintf(text, sizeof text,
             "Stop run #%lld? The trainer finishes its step, writes a checkpoint and the adapter, then stops. "
             "tunebench train --resume %s continues it.",
             (long long)ts->live.prog.run_id, ts->live.prog.run_dir[0] ? ts->live.prog.run_dir : "RUNS/ID");
    tb_dialog_confirm(&ts->base.app->dialog, "Stop the run?", text, do_stop, ts);
}

static void show_folder(train_screen *ts)
{
    const tb_train_progress *p = &ts->live.prog;
    if (!ts->live.have) {
        tb_app_info(ts->base.app, "Run folder", "The run has no folder yet (it is still loading).");
        return;
    }
    char abs[PATH_MAX];
    const char *dir = realpath(p->run_dir, abs) ? abs : p->run_dir;
    tb_app_info(ts->base.app, "Run folder",
                "%s\n\nconfig.json, checkpoints/, and at the end adapter/ (PEFT) or model/.\nLast checkpoint: %s\n"
                "Adapter: %s\nResume: tunebench train --resume %s",
                dir, p->last_checkpoint[0] ? p->last_checkpoint : "none yet",
                p->adapter_path[0] ? p->adapter_path : "written when the run ends", p->run_dir);
}

/* ---- screen class ------------------------------------------------------------------------ */

static tb_screen *create(tb_app *app)
{
    train_screen *ts = calloc(1, sizeof *ts);
    if (!ts)
        return NULL;
    ts->base.cls = &tb_train_screen_class;
    ts->base.app = app;
    tb_train_form_init(&ts->tf, &app->session);
    tb_error err;
    if (app->session.train_settings[0] && tb_train_form_load(&ts->tf, app->session.train_settings, &err) != TB_OK) {
        char msg[1024];
        tb_app_error(app, "Cannot read the Train settings", "%s", tb_error_format(&err, msg, sizeof msg));
    }
    snprintf(ts->seen_data, sizeof ts->seen_data, "%s", app->session.data_path);
    tb_train_job_init(&ts->job);
    ts->ema_alpha = 0.6;
    ts->zoom_steps = ZOOM_DEFAULT;
    ts->bad_field = -1;
    reassess(ts);
    return &ts->base;
}

static void destroy(tb_screen *s)
{
    train_screen *ts = (train_screen *)s;
    if (ts->pf_running) {
        atomic_store(&ts->pf_cancel, true);
        pthread_join(ts->pf_thread, NULL);
    }
    tb_train_job_destroy(&ts->job); /* a live run stops with a checkpoint first */
    tb_train_live_free(&ts->live);
    tb_plot_canvas_free(&ts->canvas);
    free(ts);
}

static void enter(tb_screen *s) { take_session_data((train_screen *)s); }

static int on_tick(tb_screen *s)
{
    train_screen *ts = (train_screen *)s;
    bool changed = preflight_collect(ts);
    if (tb_train_job_busy(&ts->job)) {
        changed |= tb_train_job_collect(&ts->job, &ts->live);
        if (tb_train_job_phase(&ts->job) == TB_JOB_ENDED && !ts->ended_seen) {
            run_ended(ts);
            changed = true;
        }
        if (tb_train_job_phase(&ts->job) == TB_JOB_PREPARING)
            changed = true; /* the elapsed time while loading */
    }
    return changed ? TB_UI_REDRAW : TB_UI_IGNORED;
}

static bool busy(tb_screen *s)
{
    train_screen *ts = (train_screen *)s;
    tb_job_phase ph = tb_train_job_phase(&ts->job);
    return ph == TB_JOB_PREPARING || ph == TB_JOB_TRAINING;
}

static int form_key(train_screen *ts, int key)
{
    tb_form *f = &ts->tf.form;
    if (!f->editing) {
        switch (key) {
        case '\n':
        case '\r':
        case KEY_ENTER: start_run(ts); return TB_UI_HANDLED | TB_UI_REDRAW;
        case 'e': key = '\n'; break; /* the form widget edits on Enter */
        case 'v':
            if (ts->live.have || tb_train_job_busy(&ts->job))
                ts->view = TV_RUN;
            return TB_UI_HANDLED | TB_UI_REDRAW;
        default: break;
        }
    }
    int sel = f->sel;
    int flags = tb_form_key(f, key);
    if (flags & TB_FORM_CHANGED)
        form_changed(ts, sel);
    return flags & ~TB_FORM_CHANGED;
}

static int run_key(train_screen *ts, int key)
{
    switch (key) {
    case 'p':
        tb_train_job_request(&ts->job, ts->live.prog.state == TB_TRAIN_PAUSED ? TB_REQ_RESUME : TB_REQ_PAUSE);
        break;
    case 'x': ask_stop(ts); break;
    case 'c': tb_train_job_request(&ts->job, TB_REQ_SAVE); break;
    case 'o': show_folder(ts); break;
    case 's': ts->ema = !ts->ema; break;
    case '-': ts->ema_alpha = ts->ema_alpha > 0.15 ? ts->ema_alpha - 0.1 : 0.05; ts->ema = true; break;
    case '+':
    case '=': ts->ema_alpha = ts->ema_alpha < 0.85 ? ts->ema_alpha + 0.1 : 0.95; ts->ema = true; break;
    case 'l': ts->log_y = !ts->log_y; break;
    case 'z': ts->zoom = !ts->zoom; break;
    case '[': ts->zoom_steps = ts->zoom_steps / 2 > ZOOM_MIN ? ts->zoom_steps / 2 : ZOOM_MIN; ts->zoom = true; break;
    case ']': ts->zoom_steps = ts->zoom_steps < LONG_MAX / 2 ? ts->zoom_steps * 2 : ts->zoom_steps; ts->zoom = true; break;
    case 'a': tb_alarm_banner_dismiss(&ts->live.banner); break;
    case 'v':
    case '\n':
    case '\r':
    case KEY_ENTER: ts->view = TV_FORM; break;
    default: return TB_UI_IGNORED;
    }
    return TB_UI_HANDLED | TB_UI_REDRAW;
}

static int on_key(tb_screen *s, int key)
{
    train_screen *ts = (train_screen *)s;
    return ts->view == TV_FORM ? form_key(ts, key) : run_key(ts, key);
}

static int on_mouse(tb_screen *s, const MEVENT *ev, int y, int x)
{
    train_screen *ts = (train_screen *)s;
    (void)ev;
    /* the form rows: body height (LINES - 2) less the box and the help lines */
    if (ts->view == TV_FORM && x < ts->form_w && y >= 1 && y - 1 < LINES - 6 && tb_form_click(&ts->tf.form, y - 1))
        return TB_UI_HANDLED | TB_UI_REDRAW;
    return TB_UI_IGNORED;
}

static bool text_input(tb_screen *s) { return ((train_screen *)s)->tf.form.editing; }

static void draw(tb_screen *s, WINDOW *win, int h, int w)
{
    train_screen *ts = (train_screen *)s;
    if (ts->view == TV_FORM)
        tb_train_draw_form(ts, win, h, w);
    else
        tb_train_draw_run(ts, win, h, w);
}

const tb_screen_class tb_train_screen_class = {
    .name = "Train",
    .fkey = 4,
    .keys = keys,
    .create = create,
    .destroy = destroy,
    .enter = enter,
    .on_key = on_key,
    .on_mouse = on_mouse,
    .on_tick = on_tick,
    .busy = busy,
    .text_input = text_input,
    .draw = draw,
};
