/* tunebench — drawing the Train screen: the form with its verdict and memory estimate, and
 * the run (live loss plot, side panel, alarm banner, run log). Only reads the state that
 * train_screen.c collects. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/units.h"
#include "tui/screens/train_screen.h"
#include "tui/widgets/bar.h"
#include "tui/widgets/draw.h"

#define LABEL_W 17
#define SPARK_MAX 256

/* Text stays ASCII without UTF-8 (the plot's fallback too). */
static const char *sep(void) { return tb_term_utf8() ? "·" : "-"; }

/* ---- the form view ------------------------------------------------------------------------ */

static const tb_role part_roles[TB_PART_COUNT] = {TB_ROLE_SERIES1, TB_ROLE_SERIES2, TB_ROLE_SERIES3, TB_ROLE_SERIES4,
                                                  TB_ROLE_SERIES5};
static const char *const part_short[TB_PART_COUNT] = {"weights", "LoRA", "grads", "optim", "activ"};

static int draw_verdict(const train_screen *ts, WINDOW *win, int y, int x, int w, int bottom)
{
    const tb_train_assessment *a = &ts->as;
    int y0 = y;
    bool u = tb_term_utf8();
    for (int i = 0; i < a->n_refusals && y < bottom; i++) {
        char line[1300];
        snprintf(line, sizeof line, "%s %s%s%s", u ? "✗" : "x", a->refusals[i].flag, a->refusals[i].flag[0] ? ": " : "",
                 a->refusals[i].message);
        y += tb_draw_wrapped(win, y, x, w, bottom - y < 4 ? bottom - y : 4, TB_ROLE_ERROR, line);
    }
    if (a->n_refusals > 0)
        return y - y0;
    if (a->pending)
        y += tb_draw_wrapped(win, y, x, w, 2, TB_ROLE_DIM,
                             "Checking the model and the data... (Enter starts anyway: the trainer checks everything "
                             "again before it computes)");
    else
        tb_draw_textf(win, y++, x, w, TB_ROLE_GOOD, "%s Ready: Enter starts the run", u ? "✓" : "ok");
    return y - y0;
}

static int draw_facts(const train_screen *ts, WINDOW *win, int y, int x, int w)
{
    const tb_train_preflight *p = &ts->pf;
    const tb_train_options *o = &ts->opts;
    int y0 = y;
    char a[32], b[32], c[32];
    if (p->done && tb_train_preflight_model_matches(p, o) && p->model_status == TB_OK) {
        const tb_llama_config *m = &p->cfg;
        tb_draw_text(win, y, x, 8, TB_ROLE_LABEL, "Model");
        tb_draw_textf(win, y++, x + 8, w - 8, TB_ROLE_NORMAL, "D %lld, L %lld, H %lld/%lld, V %lld, %s, context %lld",
                      (long long)m->dim, (long long)m->n_layers, (long long)m->n_heads, (long long)m->n_kv_heads,
                      (long long)m->vocab_size, tb_dtype_short_name(p->base_dtype), (long long)m->max_pos);
    }
    if (p->done && tb_train_preflight_matches(p, o) && p->data_status == TB_OK) {
        const tb_data_stats *s = &p->stats;
        tb_draw_text(win, y, x, 8, TB_ROLE_LABEL, "Data");
        tb_draw_textf(win, y++, x + 8, w - 8, TB_ROLE_NORMAL, "%ld rows: %lld train / %lld eval examples",
                      p->verdict.rows + p->verdict.eval_rows, (long long)p->n_train, (long long)p->n_eval);
        tb_draw_textf(win, y++, x + 8, w - 8, TB_ROLE_NORMAL, "%s tokens (%s trained), longest %lld",
                      tb_format_count(s->tokens, a, sizeof a), tb_format_count(s->targets, b, sizeof b),
                      (long long)p->longest);
        tb_draw_textf(win, y++, x + 8, w - 8, p->verdict.warnings ? TB_ROLE_WARN : TB_ROLE_DIM,
                      "validator: no errors, %ld warning%s", p->verdict.warnings,
                      p->verdict.warnings == 1 ? "" : "s");
        if (s->truncated)
            tb_draw_textf(win, y++, x + 8, w - 8, TB_ROLE_WARN, "%ld cut at max length (%s trained tokens lost)",
                          s->truncated, tb_format_count(s->truncated_targets, c, sizeof c));
    }
    if (ts->as.has_plan) {
        const tb_train_plan *pl = &ts->as.plan;
        tb_draw_text(win, y, x, 8, TB_ROLE_LABEL, "Plan");
        if (o->max_steps > 0)
            tb_draw_textf(win, y++, x + 8, w - 8, TB_ROLE_VALUE, "%lld steps (max steps; %lld per epoch)",
                          (long long)pl->total_steps, (long long)pl->steps_per_epoch);
        else
            tb_draw_textf(win, y++, x + 8, w - 8, TB_ROLE_VALUE, "%lld steps = %g epochs x %lld steps", (long long)pl->total_steps,
                          o->epochs, (long long)pl->steps_per_epoch);
        tb_draw_textf(win, y++, x + 8, w - 8, TB_ROLE_NORMAL, "batch %lld x accum %lld; warmup %lld, %s",
                      (long long)o->batch, (long long)o->grad_accum, (long long)pl->warmup,
                      tb_schedule_name(o->schedule));
        tb_draw_textf(win, y++, x + 8, w - 8, TB_ROLE_NORMAL, "%s parameters train",
                      tb_format_count(pl->mem.trainable_params, a, sizeof a));
    }
    return y - y0;
}

static void draw_memory(const train_screen *ts, WINDOW *win, int y, int x, int w)
{
    const tb_mem_estimate *e = &ts->as.plan.mem;
    char t[32], v[32];
    tb_draw_textf(win, y++, x, w, TB_ROLE_LABEL, "Memory (calculator): batch %lld x %lld positions",
                  (long long)ts->opts.batch, (long long)ts->as.plan.seq);
    double parts[TB_PART_COUNT];
    for (int p = 0; p < TB_PART_COUNT; p++)
        parts[p] = (double)e->part[p];
    tb_format_bytes((int64_t)e->total, t, sizeof t);
    int tw = (int)strlen(t) + 1;
    tb_draw_stacked_bar(win, y, x, w - tw, parts, part_roles, TB_PART_COUNT, (double)e->total);
    tb_draw_text(win, y++, x + w - tw + 1, tw, TB_ROLE_VALUE, t);
    int lx = x;
    for (int p = 0; p < TB_PART_COUNT && lx < x + w; p++) {
        double one[TB_PART_COUNT] = {0};
        one[p] = 1;
        tb_format_bytes((int64_t)e->part[p], v, sizeof v);
        char item[64];
        snprintf(item, sizeof item, "%s %s", part_short[p], v);
        if (lx + 2 + (int)strlen(item) > x + w) {
            y++;
            lx = x;
        }
        tb_draw_stacked_bar(win, y, lx, 1, one, part_roles, TB_PART_COUNT, 1);
        lx += 3 + tb_draw_text(win, y, lx + 2, x + w - lx - 2, TB_ROLE_DIM, item);
    }
}

void tb_train_draw_form(train_screen *ts, WINDOW *win, int h, int w)
{
    int lw = w >= 120 ? 48 : w >= 100 ? 44 : 40;
    ts->form_w = lw;
    tb_form *f = &ts->tf.form;
    tb_draw_box(win, 0, 0, h, lw, TB_ROLE_BORDER, "Train settings");
    int rows = h - 4;
    tb_form_draw(f, win, 1, 1, rows, lw - 2, LABEL_W, true);
    int bad = ts->bad_field - f->scroll;
    if (ts->bad_field >= 0 && bad >= 0 && bad < rows)
        tb_draw_text(win, 1 + bad, 1, 1, TB_ROLE_ERROR, "!");
    const tb_field *sel = &ts->tf.fields[f->sel];
    if (f->error[0])
        tb_draw_wrapped(win, h - 3, 2, lw - 4, 2, TB_ROLE_ERROR, f->error);
    else if (sel->help)
        tb_draw_wrapped(win, h - 3, 2, lw - 4, 2, TB_ROLE_DIM, sel->help);

    int x0 = lw, w2 = w - lw, x = x0 + 2, iw = w2 - 4, bottom = h - 1;
    tb_draw_box(win, 0, x0, h, w2, TB_ROLE_BORDER, "Before you start");
    int y = 1;
    y += draw_verdict(ts, win, y, x, iw, bottom - 1);
    y++;
    if (y < bottom)
        y += draw_facts(ts, win, y, x, iw);
    if (ts->as.has_plan && y + 4 <= bottom) {
        y++;
        draw_memory(ts, win, y, x, iw);
    }
    if (ts->live.have && bottom - 1 > y)
        tb_draw_textf(win, bottom - 1, x, iw, TB_ROLE_DIM, "v: back to run #%lld (%s)", (long long)ts->live.prog.run_id,
                      tb_train_state_name(ts->live.prog.state));
}

/* ---- the run view --------------------------------------------------------------------------- */

static tb_role state_role(tb_train_state s)
{
    switch (s) {
    case TB_TRAIN_RUNNING: return TB_ROLE_GOOD;
    case TB_TRAIN_FINISHED: return TB_ROLE_ACCENT;
    case TB_TRAIN_PAUSED:
    case TB_TRAIN_STOPPED: return TB_ROLE_WARN;
    case TB_TRAIN_FAILED: return TB_ROLE_ERROR;
    default: return TB_ROLE_INFO;
    }
}

static void draw_header(train_screen *ts, WINDOW *win, int y, int w)
{
    const tb_train_live *l = &ts->live;
    const tb_train_progress *p = &l->prog;
    if (!l->have) {
        if (tb_train_job_phase(&ts->job) == TB_JOB_PREPARING)
            tb_draw_text(win, y, 1, w - 2, TB_ROLE_INFO,
                         "Preparing the run: loading the model, validating and tokenizing the data...");
        else
            tb_draw_text(win, y, 1, w - 2, TB_ROLE_DIM, "No run yet: fill in the form (v) and press Enter.");
        return;
    }
    int x = 1;
    x += tb_draw_textf(win, y, x, w - x - 1, TB_ROLE_TITLE, "Run #%lld ", (long long)p->run_id);
    x += tb_draw_textf(win, y, x, w - x - 1, state_role(p->state), "%s", tb_train_state_name(p->state));
    const char *what = p->message[0] && p->state >= TB_TRAIN_FINISHED ? p->message : p->run_dir;
    tb_draw_textf(win, y, x, w - x - 1, TB_ROLE_DIM, " %s %s", sep(), what);
}

static void draw_banner(const tb_alarm_banner *b, WINDOW *win, int y, int w)
{
    tb_role role = b->severe ? TB_ROLE_ERROR : TB_ROLE_WARN;
    char more[64] = "";
    if (b->more > 0)
        snprintf(more, sizeof more, " (+%ld in the run log)", b->more);
    tb_draw_fill(win, y, 0, w, TB_ROLE_SELECTED);
    int x = tb_draw_textf(win, y, 0, w, role, " %s %s ", tb_term_utf8() ? "⚠" : "!", tb_alarm_kind_label(b->kind));
    char tail[96];
    snprintf(tail, sizeof tail, "%s  a: dismiss ", more);
    int tw = tb_text_width(tail);
    tb_draw_textf(win, y, x, w - x - tw, TB_ROLE_SELECTED, " step %lld: %s", (long long)b->step, b->message);
    tb_draw_text(win, y, w - tw, tw, TB_ROLE_SELECTED, tail);
}

static void draw_chart(train_screen *ts, WINDOW *win, int y, int x, int h, int w)
{
    const tb_run_curve *c = &ts->live.curve;
    const tb_train_progress *p = &ts->live.prog;
    tb_plot_series s[2] = {
        {.name = "train", .x = c->step, .y = c->train, .n = c->n, .role = TB_ROLE_SERIES1, .glyph = '*', .smooth = true},
        {.name = "eval", .x = c->step, .y = c->eval, .n = c->n, .role = TB_ROLE_SERIES2, .glyph = 'o', .markers = true},
    };
    bool have_best = ts->live.have && isfinite(p->best_eval_loss) && p->best_eval_step >= 0;
    tb_plot_opts o = {.utf8 = tb_term_utf8() && tb_theme_is_color(), .log_y = ts->log_y,
                      .ema = ts->ema ? ts->ema_alpha : 0, .x_min = NAN, .x_max = NAN, .has_best = have_best,
                      .best_x = (double)p->best_eval_step, .best_y = p->best_eval_loss};
    char title[160], ema[32] = "", zoom[48] = "";
    double last = c->n ? c->step[c->n - 1] : 0;
    if (ts->zoom && last > (double)ts->zoom_steps) {
        o.x_min = last - (double)ts->zoom_steps;
        snprintf(zoom, sizeof zoom, " %s last %ld steps", sep(), ts->zoom_steps);
    } else if (ts->zoom) {
        snprintf(zoom, sizeof zoom, " %s last %ld steps (all so far)", sep(), ts->zoom_steps);
    }
    if (ts->ema)
        snprintf(ema, sizeof ema, " %s train EMA %.2f", sep(), ts->ema_alpha);
    snprintf(title, sizeof title, "Loss per step%s%s", ema, zoom);
    tb_draw_box(win, y, x, h, w, TB_ROLE_BORDER, title);
    tb_plot_draw(win, y + 1, x + 1, h - 2, w - 2, s, 2, &o, &ts->canvas);
    tb_draw_text(win, y + 1, x + 2, 6, TB_ROLE_DIM, "loss"); /* the y axis's name, over its labels */
}

/* The last `n` values of a column at the logged train steps (eval-only points carry the
 * previous step's lr and grad norm). */
static size_t train_points(const tb_run_curve *c, const double *col, double *out, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < c->n; i++)
        total += isfinite(c->train[i]) ? 1 : 0;
    size_t first = total > n ? total - n : 0, idx = 0, m = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (!isfinite(c->train[i]))
            continue;
        if (idx++ >= first)
            out[m++] = col[i];
    }
    return m;
}

/* "2.345", "-" before the first value */
static const char *loss_text(double v, char *buf, size_t size)
{
    if (isfinite(v))
        snprintf(buf, size, "%.4g", v);
    else
        snprintf(buf, size, "-");
    return buf;
}

static void draw_spark_row(WINDOW *win, int y, int x, int w, const char *label, double value, const tb_run_curve *c,
                           const double *col, tb_role role)
{
    static double v[SPARK_MAX];
    char num[32];
    tb_draw_text(win, y, x, 6, TB_ROLE_LABEL, label);
    tb_draw_text(win, y, x + 6, 9, TB_ROLE_VALUE, loss_text(value, num, sizeof num));
    int sw = w - 16;
    if (sw <= 0)
        return;
    size_t n = train_points(c, col, v, (size_t)(sw < SPARK_MAX ? sw : SPARK_MAX));
    tb_sparkline_draw(win, y, x + 16, sw, v, n, role, tb_term_utf8());
}

static void draw_side(train_screen *ts, WINDOW *win, int y0, int x0, int h, int w)
{
    const tb_train_live *l = &ts->live;
    const tb_train_progress *p = &l->prog;
    tb_draw_box(win, y0, x0, h, w, TB_ROLE_BORDER, "Progress");
    int x = x0 + 2, iw = w - 4, y = y0 + 1, bottom = y0 + h - 1;
    if (!l->have)
        return;
    char a[32], b[32], c[32];
    double frac = p->total_steps > 0 ? (double)p->step / (double)p->total_steps : 0;
    tb_draw_text(win, y, x, 6, TB_ROLE_LABEL, "Step");
    tb_draw_textf(win, y++, x + 6, iw - 6, TB_ROLE_VALUE, "%lld/%lld  epoch %.2f", (long long)p->step,
                  (long long)p->total_steps, p->epoch);
    int bw = iw - 6;
    tb_draw_text(win, y, x, 1, TB_ROLE_DIM, "[");
    tb_draw_bar(win, y, x + 1, bw, frac, 1.0, TB_ROLE_ACCENT);
    tb_draw_text(win, y, x + 1 + bw, 1, TB_ROLE_DIM, "]");
    tb_draw_textf(win, y++, x + bw + 2, 4, TB_ROLE_VALUE, "%3.0f%%", frac * 100);
    bool ended = p->state >= TB_TRAIN_FINISHED;
    tb_draw_text(win, y, x, 6, TB_ROLE_LABEL, "Time");
    tb_draw_textf(win, y++, x + 6, iw - 6, TB_ROLE_NORMAL, "%s  ETA %s", tb_format_duration(p->elapsed, a, sizeof a),
                  ended ? "-" : tb_format_duration(p->eta, b, sizeof b));
    tb_draw_text(win, y, x, 6, TB_ROLE_LABEL, "Tok/s");
    tb_draw_textf(win, y++, x + 6, iw - 6, TB_ROLE_NORMAL, "%s  (%s tokens)", tb_format_count((int64_t)p->tokens_per_s, a, sizeof a),
                  tb_format_count(p->tokens_seen, b, sizeof b));
    if (y >= bottom)
        return;
    tb_draw_text(win, y, x, 6, TB_ROLE_LABEL, "Loss");
    char tl[32], el[32];
    tb_draw_textf(win, y++, x + 6, iw - 6, TB_ROLE_NORMAL, "%s  eval %s", loss_text(p->train_loss, tl, sizeof tl),
                  loss_text(p->eval_loss, el, sizeof el));
    if (y < bottom && isfinite(p->best_eval_loss)) {
        tb_draw_text(win, y, x, 6, TB_ROLE_LABEL, "Best");
        tb_draw_textf(win, y++, x + 6, iw - 6, TB_ROLE_GOOD, "%.4g at step %lld", p->best_eval_loss,
                      (long long)p->best_eval_step);
    }
    if (y < bottom)
        draw_spark_row(win, y++, x, iw, "LR", p->lr, &l->curve, l->curve.lr, TB_ROLE_SERIES3);
    if (y < bottom)
        draw_spark_row(win, y++, x, iw, "Grad", p->grad_norm, &l->curve, l->curve.grad_norm, TB_ROLE_SERIES4);
    if (y < bottom) {
        tb_draw_text(win, y, x, 6, TB_ROLE_LABEL, "Mem");
        tb_draw_textf(win, y++, x + 6, iw - 6, TB_ROLE_NORMAL, "est %s", tb_format_bytes(p->mem_predicted, a, sizeof a));
    }
    if (y < bottom)
        tb_draw_textf(win, y++, x + 6, iw - 6, TB_ROLE_NORMAL, "now %s peak %s", tb_format_bytes(p->mem_current, b, sizeof b),
                      tb_format_bytes(p->mem_peak, c, sizeof c));
    if (y < bottom) {
        const char *ck = strrchr(p->last_checkpoint, '/');
        tb_draw_text(win, y, x, 6, TB_ROLE_LABEL, "Ckpt");
        tb_draw_text(win, y++, x + 6, iw - 6, TB_ROLE_NORMAL, ck ? ck + 1 : "none yet");
    }
    if (y < bottom && (p->bad_steps || p->rollbacks))
        tb_draw_textf(win, y++, x, iw, TB_ROLE_WARN, "NaN steps %lld, roll-backs %lld", (long long)p->bad_steps,
                      (long long)p->rollbacks);
}

static void draw_log(train_screen *ts, WINDOW *win, int y0, int h, int w)
{
    const tb_train_live *l = &ts->live;
    char title[64];
    snprintf(title, sizeof title, "Run log (%zu)", l->n_events);
    tb_draw_box(win, y0, 0, h, w, TB_ROLE_BORDER, title);
    int rows = h - 2;
    if (l->n_events == 0) {
        tb_draw_wrapped(win, y0 + 1, 2, w - 4, rows, TB_ROLE_DIM,
                        "Alarms show here and in a banner: overfitting, NaN/Inf with roll-back, grad-norm spikes, a "
                        "loss stuck at zero.");
        return;
    }
    size_t first = l->n_events > (size_t)rows ? l->n_events - (size_t)rows : 0;
    for (size_t i = first; i < l->n_events; i++) {
        const tb_run_event *e = &l->events[i];
        tb_role role = strcmp(e->level, "alarm") == 0 ? TB_ROLE_ERROR : strcmp(e->level, "warning") == 0 ? TB_ROLE_WARN
                                                                                                          : TB_ROLE_DIM;
        tb_draw_textf(win, y0 + 1 + (int)(i - first), 2, w - 4, role, "step %lld %s: %s", (long long)e->step, e->level,
                      e->message);
    }
}

void tb_train_draw_run(train_screen *ts, WINDOW *win, int h, int w)
{
    int y = 0;
    draw_header(ts, win, y++, w);
    if (ts->live.banner.kind != TB_ALARM_NONE)
        draw_banner(&ts->live.banner, win, y++, w);
    int log_h = h >= 34 ? 8 : 5;
    int side_w = w >= 110 ? 36 : 32;
    int ph = h - y - log_h;
    draw_chart(ts, win, y, 0, ph, w - side_w);
    draw_side(ts, win, y, w - side_w, ph, side_w);
    draw_log(ts, win, h - log_h, log_h, w);
}
