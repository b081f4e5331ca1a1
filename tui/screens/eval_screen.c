/* tunebench — the Eval screen (F6): did the adapter help, and ship it.
 *
 * Generate: type a prompt (wrapped in the training template, alpaca by default) and see the
 * tokens of every side (the base model, then each loaded adapter, switched on the resident
 * base) stream into panes side by side. Results: the before/after evaluation of
 * engine/eval (the same report `tunebench eval` prints) on the session's eval data.
 * Actions on the selected adapter: merge into a full-precision copy, export GGUF, copy its
 * path. Everything that touches the model runs on the worker thread (tui/eval_worker.c);
 * the UI copies snapshots on the ticks that brought news, so it stays responsive. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "tui/app.h"
#include "tui/eval_worker.h"
#include "tui/screens/screens.h"
#include "tui/widgets/draw.h"
#include "tui/widgets/form.h"
#include "tui/widgets/pathentry.h"
#include "tui/widgets/textview.h"

#define KEY_ESC 27
#define KEY_CTRL_U 21

enum { F_TEMPLATE = 0, F_TEMP, F_TOPK, F_TOPP, F_REP, F_MAXNEW, F_SEED, N_FIELDS };
static const char *const template_choices[] = {"alpaca", "chatml", "raw text"};

typedef enum { FOCUS_PANES = 0, FOCUS_PROMPT, FOCUS_SETTINGS, FOCUS_ADAPTER } eval_focus;
typedef enum { VIEW_GENERATE = 0, VIEW_RESULTS } eval_view;

#define EVAL_LIMIT 20    /* examples the screen evaluates (the CLI has --limit) */
#define EVAL_MAX_NEW 64

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
    eval_view view;
    tb_pathentry adapter_path;
    int sel;                   /* selected adapter (0-based) for merge / export / copy */
    char side_path[TB_EW_MAX_SIDES][4096];
    char *report;              /* the last evaluation, as text */
    size_t report_len;
    tb_textview report_tv;
    tb_span report_spans[8];   /* the regression warnings, in the warning color */
    int n_report_spans;
    char pending_merge[4096];  /* merge target awaiting confirmation */
} eval_screen;

static const tb_key_help keys[] = {
    {"i, Enter", "type a prompt; Enter generates from the base and every adapter", "Prompt"},
    {"g", "generate again with the same prompt", "Gen"},
    {"a", "load a PEFT adapter onto the resident base (another pane)", "Adapter"},
    {"e", "evaluate base vs adapters on the session's eval data (before/after table)", "Eval"},
    {"v", "view: generation panes / evaluation results", "View"},
    {"1..4", "select the adapter the actions below act on", NULL},
    {"m", "merge the selected adapter into a full-precision copy of the base", "Merge"},
    {"x", "export the selected adapter as a GGUF LoRA adapter for llama.cpp", "GGUF"},
    {"c", "copy the selected adapter's PEFT path (terminal clipboard, OSC 52)", "Copy"},
    {"s", "sampling settings: template, temperature, top-k, top-p, max new tokens, seed", "Settings"},
    {"Esc", "stop the running job; leave the prompt or settings", NULL},
    {"↑/↓ PgUp/PgDn", "scroll the panes or the results", NULL},
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
        snprintf(e->side_path[i], sizeof e->side_path[i], "%s", s->path);
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
    char error[sizeof w->error], info[sizeof w->info], title[sizeof w->info_title];
    snprintf(error, sizeof error, "%s", w->error);
    snprintf(info, sizeof info, "%s", w->info);
    snprintf(title, sizeof title, "%s", w->info_title);
    w->error[0] = w->info[0] = '\0';
    bool new_report = w->report_new && w->report_text;
    if (new_report) {
        free(e->report);
        e->report = malloc(w->report_len + 1);
        if (e->report) {
            memcpy(e->report, w->report_text, w->report_len);
            e->report[w->report_len] = '\0';
            e->report_len = w->report_len;
        }
        w->report_new = false;
    }
    pthread_mutex_unlock(&w->mu);
    if (new_report && e->report) {
        e->n_report_spans = 0;
        for (const char *p = e->report; (p = strstr(p, "WARNING:")) && e->n_report_spans < 8;) {
            const char *end = strchr(p, '\n');
            size_t len = end ? (size_t)(end - p) : strlen(p);
            e->report_spans[e->n_report_spans++] = (tb_span){(size_t)(p - e->report), len, TB_ROLE_WARN};
            p += len;
        }
        tb_textview_set(&e->report_tv, e->report, e->report_len, e->report_spans, e->n_report_spans);
        e->view = VIEW_RESULTS;
    }
    if (error[0])
        tb_app_error(e->base.app, "Eval", "%s", error);
    else if (info[0])
        tb_app_info(e->base.app, title, "%s", info);
    if (e->sel >= e->n_panes - 1)
        e->sel = e->n_panes > 1 ? e->n_panes - 2 : 0;
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

/* ------------------------------------------------------------------ actions */

static bool have_adapter(eval_screen *e)
{
    if (e->n_panes > 1)
        return true;
    tb_app_error(e->base.app, "No adapter", "Load a PEFT adapter first: press a and give its directory (for a run: "
                                            "runs/<id>/adapter).");
    return false;
}

static void start_eval(eval_screen *e)
{
    const tb_session *ss = &e->base.app->session;
    const char *data = ss->eval_path[0] ? ss->eval_path : ss->data_path;
    if (!e->loaded) {
        tb_app_error(e->base.app, "No model", "Start the workbench with --model DIR to evaluate here.");
        return;
    }
    if (!data[0]) {
        tb_app_error(e->base.app, "No data", "Load a dataset on F2 Data (or start with --data FILE): its rows are the "
                                             "held-out examples.");
        return;
    }
    /* The regression sample: general.txt next to the data, when there is one. */
    char general[4096] = "", dir[4096];
    snprintf(dir, sizeof dir, "%s", data);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (!tb_path_join(general, sizeof general, slash ? dir : ".", "general.txt") || !tb_path_exists(general))
        general[0] = '\0';
    if (!tb_eval_worker_evaluate(&e->w, data, general[0] ? general : NULL, EVAL_LIMIT, EVAL_MAX_NEW))
        snprintf(e->status, sizeof e->status, "busy: Esc stops the running job");
}

static void do_merge(void *ctx)
{
    eval_screen *e = ctx;
    if (!tb_eval_worker_merge(&e->w, e->sel, e->pending_merge))
        snprintf(e->status, sizeof e->status, "busy: Esc stops the running job");
}

static void start_merge(eval_screen *e)
{
    if (!have_adapter(e))
        return;
    const char *ap = e->side_path[e->sel + 1];
    snprintf(e->pending_merge, sizeof e->pending_merge, "%s-merged", ap);
    for (int k = 2; tb_path_exists(e->pending_merge) && k < 100; k++)
        snprintf(e->pending_merge, sizeof e->pending_merge, "%s-merged-%d", ap, k);
    char text[8300];
    snprintf(text, sizeof text,
             "Merge %s into a full-precision (f32) copy of the base?\n\nWrites a complete model directory to %s "
             "and checks its logits against base + adapter.",
             e->panes[e->sel + 1].title, e->pending_merge);
    tb_dialog_confirm(&e->base.app->dialog, "Merge adapter", text, do_merge, e);
}

static void start_export(eval_screen *e)
{
    if (!have_adapter(e))
        return;
    char out[4200];
    snprintf(out, sizeof out, "%s.gguf", e->side_path[e->sel + 1]);
    if (!tb_eval_worker_export(&e->w, e->sel, out))
        snprintf(e->status, sizeof e->status, "busy: Esc stops the running job");
}

/* Base64 for the OSC 52 clipboard sequence. */
static void base64(const char *in, char *out, size_t size)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n && o + 5 < size; i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? (unsigned char)in[i + 2] : 0);
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

static void copy_path(eval_screen *e)
{
    if (!have_adapter(e))
        return;
    const char *p = e->side_path[e->sel + 1];
    char enc[6000];
    base64(p, enc, sizeof enc);
    /* OSC 52: terminals that allow it put the text on the clipboard (tmux: set-clipboard on). */
    printf("\033]52;c;%s\a", enc);
    fflush(stdout);
    tb_app_info(e->base.app, "Adapter path",
                "%s\n\nSent to the terminal clipboard (OSC 52; where the terminal allows it). The directory is a "
                "PEFT adapter: PeftModel.from_pretrained(base, \"%s\") loads it.",
                p, p);
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
    if (e->focus == FOCUS_ADAPTER) {
        int f = tb_pathentry_key(&e->adapter_path, key);
        if (f & TB_PATH_SUBMIT) {
            char dir[4096];
            tb_path_expand(e->adapter_path.text, dir, sizeof dir);
            e->focus = FOCUS_PANES;
            if (!e->loaded)
                tb_app_error(e->base.app, "No model", "Load a base model first (start with --model DIR).");
            else if (!tb_eval_worker_load_adapter(&e->w, dir))
                snprintf(e->status, sizeof e->status, "busy: Esc stops the running job");
        } else if (f & TB_PATH_CANCEL) {
            e->focus = FOCUS_PANES;
        }
        return (f & ~(TB_PATH_SUBMIT | TB_PATH_CANCEL)) | TB_UI_HANDLED | TB_UI_REDRAW;
    }
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
    case 'g':
        e->view = VIEW_GENERATE;
        start_generation(e);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'a':
        tb_pathentry_set(&e->adapter_path, "");
        e->focus = FOCUS_ADAPTER;
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'e': start_eval(e); return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'v': e->view = e->view == VIEW_GENERATE ? VIEW_RESULTS : VIEW_GENERATE; return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'm': start_merge(e); return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'x': start_export(e); return TB_UI_HANDLED | TB_UI_REDRAW;
    case 'c': copy_path(e); return TB_UI_HANDLED | TB_UI_REDRAW;
    case '1':
    case '2':
    case '3':
    case '4':
        if (key - '1' < e->n_panes - 1)
            e->sel = key - '1';
        return TB_UI_HANDLED | TB_UI_REDRAW;
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
        if (e->view == VIEW_RESULTS)
            return tb_textview_key(&e->report_tv, key) | TB_UI_HANDLED | TB_UI_REDRAW;
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
    return e->focus == FOCUS_PROMPT || e->focus == FOCUS_ADAPTER || (e->focus == FOCUS_SETTINGS && e->form.editing);
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
        bool selected = i > 0 && i - 1 == e->sel && e->n_panes > 2;
        char title[320];
        if (i > 0 && e->n_panes > 2) /* the number that selects it */
            snprintf(title, sizeof title, "%d %s", i, p->title);
        else
            snprintf(title, sizeof title, "%s", p->title);
        tb_draw_box(win, y, x, h, ww, selected ? TB_ROLE_ACCENT : TB_ROLE_BORDER, title);
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
    if (e->model_dir[0]) {
        /* The model's shape matters more than where it lives: a long directory loses its
         * head, never the "(llama, 2 layers, ...)" after it. */
        char info[300] = "";
        if (e->model_info[0])
            snprintf(info, sizeof info, "  (%s)", e->model_info);
        int avail = w - 2 - x, iw = tb_text_width(info);
        int dw = avail - iw < 12 ? avail : avail - iw;
        int dx = tb_draw_text_tail(win, 0, 1 + x, dw, TB_ROLE_VALUE, e->model_dir);
        tb_draw_text(win, 0, 1 + x + dx, avail - dx, TB_ROLE_VALUE, info);
    } else
        tb_draw_text(win, 0, 1 + x, w - 2 - x, TB_ROLE_DIM, "none (start with --model DIR)");
    /* prompt box */
    bool typing = e->focus == FOCUS_PROMPT;
    tb_draw_box(win, 1, 0, 3, w, typing ? TB_ROLE_ACCENT : TB_ROLE_BORDER,
                typing ? "Prompt: Enter generates, Esc leaves" : "Prompt (i to type)");
    int avail = w - 5;
    tb_draw_text(win, 2, 1, 2, TB_ROLE_ACCENT, "> ");
    int pw = 0;
    if (e->prompt_len) /* the end stays visible: it is where typing happens */
        pw = tb_draw_text_tail(win, 2, 3, avail - 1, TB_ROLE_VALUE, e->prompt);
    else if (!typing)
        tb_draw_text(win, 2, 3, avail, TB_ROLE_DIM, "type a question or an instruction");
    if (typing)
        tb_draw_text(win, 2, 3 + pw, 1, TB_ROLE_SELECTED, " ");
    int body_h = h - 6;
    if (e->focus == FOCUS_ADAPTER) {
        tb_draw_box(win, 1, 0, 3, w, TB_ROLE_ACCENT, "Adapter directory: Tab completes, Enter loads, Esc cancels");
        tb_draw_fill(win, 2, 1, w - 2, TB_ROLE_NORMAL);
        tb_pathentry_draw(&e->adapter_path, win, 2, 1, w - 2, true);
    }
    if (e->focus == FOCUS_SETTINGS) {
        tb_draw_box(win, 4, 0, body_h, w, TB_ROLE_ACCENT, "Sampling settings: Esc or s returns");
        int fw = w - 4 > 60 ? 60 : w - 4;
        tb_form_draw(&e->form, win, 5, 2, body_h - 4, fw, 22, true);
        const tb_field *sel = &e->fields[e->form.sel];
        tb_draw_wrapped(win, 4 + body_h - 2, 2, w - 4, 1, e->form.error[0] ? TB_ROLE_ERROR : TB_ROLE_DIM,
                        e->form.error[0] ? e->form.error : (sel->help ? sel->help : ""));
    } else if (e->view == VIEW_RESULTS) {
        tb_draw_box(win, 4, 0, body_h, w, TB_ROLE_BORDER, "Before / after (v: back to generation)");
        if (!e->report) {
            tb_draw_wrapped(win, 5, 2, w - 4, body_h - 2, TB_ROLE_DIM,
                            "No evaluation yet: press e to evaluate the base and every loaded adapter on the session's "
                            "eval data (the first 20 examples, 64 greedy tokens each).");
        } else {
            tb_textview_layout(&e->report_tv, w - 2);
            tb_textview_draw(&e->report_tv, win, 5, 1, body_h - 2, w - 2, TB_ROLE_NORMAL);
        }
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
    tb_textview_free(&e->report_tv);
    free(e->report);
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
