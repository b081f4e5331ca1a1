/* tunebench — the Eval screen (F6): ask the model, watch the answer stream in.
 *
 * Type a prompt (wrapped in the training template, alpaca by default) and see the tokens of
 * every side (the base model, then each loaded adapter) stream into panes side by side.
 * Generation runs on the worker thread (tui/eval_worker.c), which owns the resident model:
 * the UI copies a snapshot of the text on each tick that brought news, so typing, resizing
 * and Esc (stop) stay instant while a model decodes. Sampling settings are a form (s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/app.h"
#include "tui/eval_worker.h"
#include "tui/screens/screens.h"
#include "tui/widgets/draw.h"
#include "tui/widgets/form.h"
#include "tui/widgets/textview.h"

#define KEY_ESC 27
#define KEY_CTRL_U 21

enum { F_TEMPLATE = 0, F_TEMP, F_TOPK, F_TOPP, F_REP, F_MAXNEW, F_SEED, N_FIELDS };
static const char *const template_choices[] = {"alpaca", "chatml", "raw text"};

typedef enum { FOCUS_PANES = 0, FOCUS_PROMPT, FOCUS_SETTINGS } eval_focus;

typedef struct pane {
    char *text;                /* snapshot of the side's text */
    size_t len, cap;
    char title[300];
    tb_textview tv;
} pane;

typedef struct eval_screen {
    tb_screen base;
    tb_eval_worker w;
    bool worker_ok;
    char worker_error[512];
    eval_focus focus;
    char prompt[2048];
    size_t prompt_len;
    tb_field fields[N_FIELDS];
    tb_form form;
    pane panes[TB_EW_MAX_SIDES];
    int n_panes;
    char status[256], model_info[256], model_dir[4096];
    bool loaded, busy;
} eval_screen;

static const tb_key_help keys[] = {
    {"i, Enter", "type a prompt; Enter generates from the base and every adapter", "Prompt"},
    {"g", "generate again with the same prompt", "Generate"},
    {"s", "sampling settings: template, temperature, top-k, top-p, max new tokens, seed", "Settings"},
    {"Esc", "stop the generation; leave the prompt or settings", "Stop"},
    {"↑/↓ PgUp/PgDn", "scroll the panes", NULL},
    {"Ctrl-U", "clear the prompt (while typing)", NULL},
    {0},
};

/* ------------------------------------------------------------------ settings */

static void init_fields(eval_screen *e)
{
    tb_field *f = e->fields;
    f[F_TEMPLATE] = (tb_field){.kind = TB_FIELD_CHOICE, .label = "Prompt template", .choices = template_choices,
                               .n_choices = 3, .help = "wrap the prompt as the adapter saw prompts in training"};
    f[F_TEMP] = (tb_field){.kind = TB_FIELD_REAL, .label = "Temperature", .dval = 0, .dmin = 0, .dmax = 5,
                           .dstep = 0.1, .dfmt = "%.2f", .help = "0 = greedy (the same answer every time)"};
    f[F_TOPK] = (tb_field){.kind = TB_FIELD_INT, .label = "Top-k", .ival = 0, .imin = 0, .imax = 100000, .istep = 5,
                           .help = "keep the k most likely tokens (0: all)"};
    f[F_TOPP] = (tb_field){.kind = TB_FIELD_REAL, .label = "Top-p", .dval = 1, .dmin = 0.01, .dmax = 1, .dstep = 0.05,
                           .dfmt = "%.2f", .help = "keep the smallest set of tokens with this much probability"};
    f[F_REP] = (tb_field){.kind = TB_FIELD_REAL, .label = "Repetition penalty", .dval = 1, .dmin = 0.5, .dmax = 3,
                          .dstep = 0.05, .dfmt = "%.2f", .help = "> 1 discourages repeating tokens (1: off)"};
    f[F_MAXNEW] = (tb_field){.kind = TB_FIELD_INT, .label = "Max new tokens", .ival = 64, .imin = 1, .imax = 4096,
                             .istep = 16, .help = "stop after this many tokens (or at end of sequence)"};
    f[F_SEED] = (tb_field){.kind = TB_FIELD_INT, .label = "Seed", .ival = 0, .imin = 0, .imax = 2147483647, .istep = 1,
                           .help = "sampling seed: the same seed gives the same text"};
    tb_form_init(&e->form, e->fields, N_FIELDS);
}

static tb_ew_settings settings_of(const eval_screen *e)
{
    const tb_field *f = e->fields;
    return (tb_ew_settings){
        .sampler = {(float)f[F_TEMP].dval, (int)f[F_TOPK].ival, (float)f[F_TOPP].dval, (float)f[F_REP].dval,
                    (uint64_t)f[F_SEED].ival},
        .max_new = f[F_MAXNEW].ival,
        .template_kind = f[F_TEMPLATE].choice,
    };
}

/* ------------------------------------------------------------------ worker state */

/* Copy what the worker posted. */
static void snapshot(eval_screen *e)
{
    tb_eval_worker *w = &e->w;
    pthread_mutex_lock(&w->mu);
    e->n_panes = w->n_sides;
    for (int i = 0; i < w->n_sides; i++) {
        pane *p = &e->panes[i];
        const tb_ew_side *s = &w->sides[i];
        if (s->len + 1 > p->cap) {
            size_t cap = s->len + 1024;
            char *g = realloc(p->text, cap);
            if (!g)
                continue;
            p->text = g, p->cap = cap;
        }
        if (s->len)
            memcpy(p->text, s->text, s->len);
        p->len = s->len;
        p->text[p->len] = '\0';
        if (s->tokens > 1 && s->seconds > 0)
            snprintf(p->title, sizeof p->title, "%s  %lld tok, %.1f tok/s%s", s->name, (long long)s->tokens,
                     (double)(s->tokens - 1) / s->seconds, s->running ? " ..." : "");
        else
            snprintf(p->title, sizeof p->title, "%s%s", s->name, s->running ? " ..." : "");
    }
    snprintf(e->status, sizeof e->status, "%s", w->status);
    snprintf(e->model_info, sizeof e->model_info, "%s", w->model_info);
    e->loaded = w->model_loaded;
    e->busy = w->busy;
    char error[sizeof w->error];
    snprintf(error, sizeof error, "%s", w->error);
    w->error[0] = '\0';
    pthread_mutex_unlock(&w->mu);
    if (error[0])
        tb_app_error(e->base.app, "Eval", "%s", error);
    for (int i = 0; i < e->n_panes; i++) { /* new text, same scroll position */
        int top = e->panes[i].tv.top;
        tb_textview_set(&e->panes[i].tv, e->panes[i].text, e->panes[i].len, NULL, 0);
        e->panes[i].tv.top = top;
    }
}

static void start_generation(eval_screen *e)
{
    if (!e->worker_ok) {
        tb_app_error(e->base.app, "Eval", "%s", e->worker_error);
        return;
    }
    if (!e->loaded) {
        tb_app_error(e->base.app, "No model",
                     e->model_dir[0] ? "The model is still loading (or failed to load): see the status line."
                                     : "Start the workbench with --model DIR to generate text here.");
        return;
    }
    if (e->prompt_len == 0) {
        e->focus = FOCUS_PROMPT;
        return;
    }
    tb_ew_settings s = settings_of(e);
    if (!tb_eval_worker_generate(&e->w, e->prompt, &s))
        snprintf(e->status, sizeof e->status, "busy: Esc stops the running generation");
    /* follow the new text from its start */
    for (int i = 0; i < TB_EW_MAX_SIDES; i++)
        e->panes[i].tv.top = 0;
}

/* ------------------------------------------------------------------ keys */

static int prompt_key(eval_screen *e, int key)
{
    switch (key) {
    case KEY_ESC: e->focus = FOCUS_PANES; return TB_UI_HANDLED | TB_UI_REDRAW;
    case '\n':
    case '\r':
    case KEY_ENTER:
        e->focus = FOCUS_PANES;
        start_generation(e);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_BACKSPACE:
    case 127:
    case 8:
        while (e->prompt_len > 0) { /* a whole UTF-8 character */
            unsigned char c = (unsigned char)e->prompt[--e->prompt_len];
            if ((c & 0xC0) != 0x80)
                break;
        }
        e->prompt[e->prompt_len] = '\0';
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_CTRL_U:
        e->prompt_len = 0;
        e->prompt[0] = '\0';
        return TB_UI_HANDLED | TB_UI_REDRAW;
    default:
        if (key >= 32 && key < 256 && key != 127 && e->prompt_len + 1 < sizeof e->prompt) {
            e->prompt[e->prompt_len++] = (char)key;
            e->prompt[e->prompt_len] = '\0';
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        return TB_UI_HANDLED;
    }
}

static int on_key(tb_screen *s, int key)
{
    eval_screen *e = (eval_screen *)s;
    if (e->focus == FOCUS_PROMPT)
        return prompt_key(e, key);
    if (e->focus == FOCUS_SETTINGS) {
        if ((key == KEY_ESC || key == 's') && !e->form.editing) {
            e->focus = FOCUS_PANES;
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        int f = tb_form_key(&e->form, key);
        return f ? (f | TB_UI_HANDLED | TB_UI_REDRAW) & ~TB_FORM_CHANGED : TB_UI_IGNORED;
    }
    switch (key) {
    case 'i':
    case '\n':
    case '\r':
    case KEY_ENTER: e->focus = FOCUS_PROMPT; return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'g': start_generation(e); return TB_UI_HANDLED | TB_UI_REDRAW;
    case 's': e->focus = FOCUS_SETTINGS; return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_ESC:
        if (e->busy) {
            atomic_store(&e->w.cancel, true);
            snprintf(e->status, sizeof e->status, "stopping ...");
        }
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_UP:
    case KEY_DOWN:
    case KEY_PPAGE:
    case KEY_NPAGE:
    case KEY_HOME:
    case KEY_END: {
        int f = 0;
        for (int i = 0; i < e->n_panes; i++)
            f |= tb_textview_key(&e->panes[i].tv, key);
        return f | TB_UI_HANDLED | TB_UI_REDRAW;
    }
    default: return TB_UI_IGNORED;
    }
}

static bool text_input(tb_screen *s)
{
    eval_screen *e = (eval_screen *)s;
    return e->focus == FOCUS_PROMPT || (e->focus == FOCUS_SETTINGS && e->form.editing);
}

static int on_tick(tb_screen *s)
{
    eval_screen *e = (eval_screen *)s;
    if (!e->worker_ok || !atomic_exchange(&e->w.dirty, false))
        return 0;
    snapshot(e);
    return TB_UI_REDRAW;
}

static bool busy(tb_screen *s)
{
    eval_screen *e = (eval_screen *)s;
    return e->worker_ok && tb_eval_worker_busy(&e->w);
}

static void enter(tb_screen *s)
{
    eval_screen *e = (eval_screen *)s;
    const char *md = e->base.app->session.model_dir;
    if (!e->worker_ok || !md[0] || (strcmp(md, e->model_dir) == 0))
        return;
    if (tb_eval_worker_load(&e->w, md))
        snprintf(e->model_dir, sizeof e->model_dir, "%s", md);
}

/* ------------------------------------------------------------------ drawing */

static void draw_settings_line(eval_screen *e, WINDOW *win, int y, int w)
{
    const tb_field *f = e->fields;
    tb_draw_textf(win, y, 1, w - 2, TB_ROLE_DIM,
                  "%s  temperature %.2f  top-k %ld  top-p %.2f  repetition %.2f  max new %ld  seed %ld",
                  template_choices[f[F_TEMPLATE].choice], f[F_TEMP].dval, f[F_TOPK].ival, f[F_TOPP].dval,
                  f[F_REP].dval, f[F_MAXNEW].ival, f[F_SEED].ival);
}

static void draw_panes(eval_screen *e, WINDOW *win, int y, int h, int w)
{
    if (e->n_panes == 0) {
        tb_draw_box(win, y, 0, h, w, TB_ROLE_BORDER, "Output");
        const char *msg = !e->model_dir[0] ? "No model: start the workbench with --model DIR (a Hugging Face model "
                                             "directory with tokenizer.json) to generate here."
                                           : "Loading the model ...";
        tb_draw_wrapped(win, y + 1, 2, w - 4, h - 2, TB_ROLE_DIM, msg);
        return;
    }
    int pw = w / e->n_panes;
    for (int i = 0; i < e->n_panes; i++) {
        pane *p = &e->panes[i];
        int x = i * pw, ww = i == e->n_panes - 1 ? w - x : pw;
        tb_draw_box(win, y, x, h, ww, TB_ROLE_BORDER, p->title);
        int lines = tb_textview_layout(&p->tv, ww - 2);
        /* follow the tail while text streams in, unless scrolled up */
        if (e->busy && lines > h - 2)
            p->tv.top = lines - (h - 2);
        if (p->len == 0)
            tb_draw_text(win, y + 1, x + 1, ww - 2, TB_ROLE_DIM, e->busy ? "" : "(nothing generated yet)");
        else
            tb_textview_draw(&p->tv, win, y + 1, x + 1, h - 2, ww - 2, TB_ROLE_NORMAL);
    }
}

static void draw(tb_screen *s, WINDOW *win, int h, int w)
{
    eval_screen *e = (eval_screen *)s;
    int x = tb_draw_text(win, 0, 1, w - 2, TB_ROLE_LABEL, "Model ");
    if (e->model_dir[0])
        tb_draw_textf(win, 0, 1 + x, w - 2 - x, TB_ROLE_VALUE, "%s%s%s%s", e->model_dir, e->model_info[0] ? "  (" : "",
                      e->model_info, e->model_info[0] ? ")" : "");
    else
        tb_draw_text(win, 0, 1 + x, w - 2 - x, TB_ROLE_DIM, "none (start with --model DIR)");
    /* prompt box */
    bool typing = e->focus == FOCUS_PROMPT;
    tb_draw_box(win, 1, 0, 3, w, typing ? TB_ROLE_ACCENT : TB_ROLE_BORDER,
                typing ? "Prompt: Enter generates, Esc leaves" : "Prompt (i to type)");
    const char *shown = e->prompt;
    int avail = w - 5;
    while (tb_text_width(shown) > avail - 1 && *shown) /* keep the end visible */
        shown++;
    tb_draw_text(win, 2, 1, 2, TB_ROLE_ACCENT, "> ");
    int pw = tb_draw_text(win, 2, 3, avail, e->prompt_len ? TB_ROLE_VALUE : TB_ROLE_DIM,
                          e->prompt_len ? shown : (typing ? "" : "type a question or an instruction"));
    if (typing)
        tb_draw_text(win, 2, 3 + (e->prompt_len ? pw : 0), 1, TB_ROLE_SELECTED, " ");
    int body_h = h - 6;
    if (e->focus == FOCUS_SETTINGS) {
        tb_draw_box(win, 4, 0, body_h, w, TB_ROLE_ACCENT, "Sampling settings: Esc or s returns");
        int fw = w - 4 > 60 ? 60 : w - 4;
        tb_form_draw(&e->form, win, 5, 2, body_h - 4, fw, 22, true);
        const tb_field *sel = &e->fields[e->form.sel];
        tb_draw_wrapped(win, 4 + body_h - 2, 2, w - 4, 1, e->form.error[0] ? TB_ROLE_ERROR : TB_ROLE_DIM,
                        e->form.error[0] ? e->form.error : (sel->help ? sel->help : ""));
    } else {
        draw_panes(e, win, 4, body_h, w);
    }
    draw_settings_line(e, win, h - 2, w);
    tb_draw_text(win, h - 1, 1, w - 2, e->busy ? TB_ROLE_INFO : TB_ROLE_DIM, e->status);
}

/* ------------------------------------------------------------------ class */

static tb_screen *create(tb_app *app)
{
    eval_screen *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->base.cls = &tb_eval_screen_class;
    e->base.app = app;
    init_fields(e);
    tb_error err;
    tb_error_clear(&err);
    e->worker_ok = tb_eval_worker_start(&e->w, &err) == TB_OK;
    if (!e->worker_ok)
        snprintf(e->worker_error, sizeof e->worker_error, "%s", err.message);
    return &e->base;
}

static void destroy(tb_screen *s)
{
    eval_screen *e = (eval_screen *)s;
    if (e->worker_ok)
        tb_eval_worker_stop(&e->w);
    for (int i = 0; i < TB_EW_MAX_SIDES; i++) {
        free(e->panes[i].text);
        tb_textview_free(&e->panes[i].tv);
    }
    free(e);
}

const tb_screen_class tb_eval_screen_class = {
    .name = "Eval",
    .fkey = 6,
    .keys = keys,
    .create = create,
    .destroy = destroy,
    .enter = enter,
    .on_key = on_key,
    .on_tick = on_tick,
    .busy = busy,
    .text_input = text_input,
    .draw = draw,
};
