/* tunebench — the Calc screen: rank, adapter size, budget and training memory.
 * Form on the left; on the right PEFT's count line, adapter sizes, the rank table with the
 * budget's best rank highlighted, and stacked memory bars for full FT vs LoRA vs QLoRA.
 * The numbers come from engine/plan/calc.c, the same call `tunebench calc` makes; every
 * keystroke recomputes (a number being typed counts as soon as it parses). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/plan/calc.h"
#include "engine/plan/presets.h"
#include "tui/app.h"
#include "tui/screens/screens.h"
#include "tui/widgets/bar.h"
#include "tui/widgets/draw.h"
#include "tui/widgets/form.h"

enum {
    F_MODEL = 0, F_PATH, F_H_LORA, F_RANK, F_ALPHA, F_DTYPE, F_H_TARGETS, F_T0,
    F_H_TRAIN = F_T0 + TB_LORA_MODULE_COUNT, F_BATCH, F_SEQ, F_CKPT, F_BUDGET, F_UNIT, N_FIELDS
};

#define MAX_MODELS 24

static const char *const check_choices[] = {"[ ]", "[x]"};
static const char *const dtype_choices[] = {"f32", "bf16", "f16"};
static const char *const onoff_choices[] = {"off", "on"};
static const char *const unit_choices[] = {"MB", "MiB"};

typedef struct calc_screen {
    tb_screen base;
    tb_field fields[N_FIELDS];
    tb_form form;
    char target_labels[TB_LORA_MODULE_COUNT][24];
    const char *model_choices[MAX_MODELS];
    int n_presets;             /* choices [0, n_presets) are presets; then "config.json" */
    tb_llama_config file_cfg;  /* the config.json loaded from the path field */
    bool file_ok;
    char file_name[256];
    char file_error[512];      /* why the path field's config.json was refused */
    tb_calc_input in;
    tb_calc_result res;
    bool ok;                   /* res is valid */
    char error[512];           /* why not, when !ok */
} calc_screen;

static const tb_key_help keys[] = {
    {"↑/↓", "move between fields", NULL},
    {"←/→/Space", "change a choice, step a number, tick a target", "Change"},
    {"Enter", "type a number or the config.json path", NULL},
    {"p", "next model preset", "Preset"},
    {"t", "targets: all linear layers / q,k,v,o", "Targets"},
    {"a", "show the assumptions behind the memory numbers", "Assumptions"},
    {0},
};

static bool is_file_choice(const calc_screen *c) { return c->fields[F_MODEL].choice == c->n_presets; }

/* A number field's value, or the number being typed into it when that parses. */
static double field_number(const calc_screen *c, int i)
{
    const tb_field *f = &c->fields[i];
    double v = f->kind == TB_FIELD_INT ? (double)f->ival : f->dval;
    if (c->form.editing && c->form.sel == i) {
        char *end;
        errno = 0;
        double t = strtod(c->form.edit, &end);
        double lo = f->kind == TB_FIELD_INT ? (double)f->imin : f->dmin;
        double hi = f->kind == TB_FIELD_INT ? (double)f->imax : f->dmax;
        if (end != c->form.edit && *end == '\0' && !errno && isfinite(t) && t >= lo && t <= hi &&
            (f->kind != TB_FIELD_INT || t == floor(t)))
            v = t;
    }
    return v;
}

static void recompute(calc_screen *c)
{
    tb_calc_input *in = &c->in;
    tb_calc_input_defaults(in);
    c->ok = false;
    const char *source;
    if (is_file_choice(c)) {
        if (!c->file_ok) {
            snprintf(c->error, sizeof c->error, "%s",
                     c->file_error[0] ? c->file_error : "Enter the path of a config.json (or a model directory) above.");
            return;
        }
        in->cfg = c->file_cfg;
        source = c->file_name;
    } else {
        const tb_model_preset *p = tb_model_preset_at(c->fields[F_MODEL].choice);
        in->cfg = p->cfg;
        source = p->hub_repo;
    }
    in->mem.base_dtype = in->cfg.torch_dtype == TB_DTYPE_F16 || in->cfg.torch_dtype == TB_DTYPE_BF16
                             ? in->cfg.torch_dtype : TB_DTYPE_F32;
    in->rank = (int64_t)field_number(c, F_RANK);
    in->alpha = field_number(c, F_ALPHA);
    in->adapter_dtype = tb_calc_dtypes[c->fields[F_DTYPE].choice];
    in->targets = 0;
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
        if (c->fields[F_T0 + m].choice)
            in->targets |= 1u << m;
    in->mem.batch = (int64_t)field_number(c, F_BATCH);
    in->mem.seq = (int64_t)field_number(c, F_SEQ);
    in->mem.checkpointing = c->fields[F_CKPT].choice == 1;
    double budget = field_number(c, F_BUDGET);
    in->has_budget = budget > 0;
    in->budget_bytes = (uint64_t)floor(budget * (c->fields[F_UNIT].choice ? 1048576.0 : 1e6));
    tb_error err;
    tb_error_clear(&err);
    if (tb_calc_run(in, &c->res, source, &err) != TB_OK) {
        char buf[1024];
        snprintf(c->error, sizeof c->error, "%s", tb_error_format(&err, buf, sizeof buf));
        return;
    }
    c->ok = true;
}

/* Read the path field: a config.json, or a directory holding one. */
static void load_file(calc_screen *c)
{
    const char *text = c->fields[F_PATH].text;
    char path[4096];
    c->file_ok = false;
    c->file_error[0] = '\0';
    if (!text[0])
        return;
    if (tb_path_is_dir(text)) {
        if (!tb_path_join(path, sizeof path, text, "config.json"))
            return;
    } else {
        snprintf(path, sizeof path, "%s", text);
    }
    tb_error err;
    tb_error_clear(&err);
    if (tb_llama_config_load(&c->file_cfg, path, &err) != TB_OK) {
        tb_error_format(&err, c->file_error, sizeof c->file_error);
        tb_app_error(c->base.app, "Cannot use this config.json", "%s", c->file_error);
        return;
    }
    c->file_ok = true;
    snprintf(c->file_name, sizeof c->file_name, "%s", path);
}

static void sync_path_field(calc_screen *c) { c->fields[F_PATH].disabled = !is_file_choice(c); }

static tb_screen *create(tb_app *app)
{
    calc_screen *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base.cls = &tb_calc_screen_class;
    c->base.app = app;
    c->n_presets = tb_model_preset_count();
    if (c->n_presets > MAX_MODELS - 1)
        c->n_presets = MAX_MODELS - 1;
    for (int i = 0; i < c->n_presets; i++)
        c->model_choices[i] = tb_model_preset_at(i)->name;
    c->model_choices[c->n_presets] = "config.json file";
    tb_field *f = c->fields;
    f[F_MODEL] = (tb_field){.kind = TB_FIELD_CHOICE, .label = "Model", .choices = c->model_choices,
                            .n_choices = c->n_presets + 1, .help = "a preset from its published config.json, or your own"};
    f[F_PATH] = (tb_field){.kind = TB_FIELD_TEXT, .label = "Config", .help = "path of a config.json or a model directory"};
    f[F_H_LORA] = (tb_field){.kind = TB_FIELD_HEADING, .label = "LoRA"};
    f[F_RANK] = (tb_field){.kind = TB_FIELD_INT, .label = "Rank r", .ival = 16, .imin = 1, .imax = 65536, .istep = 4,
                           .help = "rank of A (r x in) and B (out x r)"};
    f[F_ALPHA] = (tb_field){.kind = TB_FIELD_REAL, .label = "Alpha", .dval = 32, .dmin = 0.001, .dmax = 1e6, .dstep = 8,
                            .help = "scale = alpha / r; does not change sizes"};
    f[F_DTYPE] = (tb_field){.kind = TB_FIELD_CHOICE, .label = "Adapter dtype", .choices = dtype_choices, .n_choices = 3,
                            .choice = 1, .help = "dtype of adapter_model.safetensors (budget and table)"};
    f[F_H_TARGETS] = (tb_field){.kind = TB_FIELD_HEADING, .label = "Targets"};
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
        snprintf(c->target_labels[m], sizeof c->target_labels[m], "  %s", tb_lora_module_name((tb_lora_module)m));
        f[F_T0 + m] = (tb_field){.kind = TB_FIELD_CHOICE, .label = c->target_labels[m], .choices = check_choices,
                                 .n_choices = 2, .choice = m < 4, .help = "Space ticks; t toggles all linear layers"};
    }
    f[F_H_TRAIN] = (tb_field){.kind = TB_FIELD_HEADING, .label = "Training and budget"};
    f[F_BATCH] = (tb_field){.kind = TB_FIELD_INT, .label = "Batch", .ival = 4, .imin = 1, .imax = 65536, .istep = 1};
    f[F_SEQ] = (tb_field){.kind = TB_FIELD_INT, .label = "Seq length", .ival = 512, .imin = 1, .imax = 16777216,
                          .istep = 128};
    f[F_CKPT] = (tb_field){.kind = TB_FIELD_CHOICE, .label = "Checkpointing", .choices = onoff_choices, .n_choices = 2,
                           .help = "keep layer inputs only, recompute in backward"};
    f[F_BUDGET] = (tb_field){.kind = TB_FIELD_REAL, .label = "Budget", .dval = 0, .dmin = 0, .dmax = 1e9, .dstep = 10,
                             .help = "adapter file budget; 0 = none"};
    f[F_UNIT] = (tb_field){.kind = TB_FIELD_CHOICE, .label = "Budget unit", .choices = unit_choices, .n_choices = 2,
                           .help = "MB = 10^6 bytes, MiB = 2^20 bytes"};
    /* Open on the session's model when it has a config.json (the bundled demo), else the
     * smallest preset. */
    char path[4096];
    if (app->session.model_dir[0] && tb_path_join(path, sizeof path, app->session.model_dir, "config.json") &&
        tb_path_exists(path)) {
        snprintf(f[F_PATH].text, sizeof f[F_PATH].text, "%s", app->session.model_dir);
        f[F_MODEL].choice = c->n_presets;
        load_file(c);
    }
    sync_path_field(c);
    tb_form_init(&c->form, c->fields, N_FIELDS);
    recompute(c);
    return &c->base;
}

static void destroy(tb_screen *s) { free(s); }

static void show_assumptions(calc_screen *c)
{
    char text[2048];
    size_t used = (size_t)snprintf(text, sizeof text, "(tunebench calc prints them in full)\n");
    for (int i = 0; c->ok && i < c->res.n_assumptions && used < sizeof text; i++) {
        int w = snprintf(text + used, sizeof text - used, "- %s\n", c->res.assumptions[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (!c->ok)
        snprintf(text, sizeof text, "%s", c->error);
    tb_app_info(c->base.app, "Assumptions behind the memory numbers", "%s", text);
}

static int on_key(tb_screen *s, int key)
{
    calc_screen *c = (calc_screen *)s;
    if (!c->form.editing) {
        if (key == 'p') {
            c->fields[F_MODEL].choice = is_file_choice(c) ? 0 : (c->fields[F_MODEL].choice + 1) % c->n_presets;
            sync_path_field(c);
            recompute(c);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        if (key == 't') {
            bool all = true;
            for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
                all = all && c->fields[F_T0 + m].choice;
            for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
                c->fields[F_T0 + m].choice = all ? m < 4 : 1;
            recompute(c);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        if (key == 'a') {
            show_assumptions(c);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
    }
    int sel = c->form.sel;
    int flags = tb_form_key(&c->form, key);
    if ((flags & TB_FORM_CHANGED) && sel == F_PATH)
        load_file(c);
    if (sel == F_MODEL)
        sync_path_field(c);
    if (flags & (TB_FORM_CHANGED | TB_UI_REDRAW))
        recompute(c);
    return flags & ~TB_FORM_CHANGED;
}

static int on_mouse(tb_screen *s, const MEVENT *ev, int y, int x)
{
    calc_screen *c = (calc_screen *)s;
    (void)ev;
    if (x < 34 && y >= 1 && tb_form_click(&c->form, y - 1))
        return TB_UI_HANDLED | TB_UI_REDRAW;
    return TB_UI_IGNORED;
}

static bool text_input(tb_screen *s) { return ((calc_screen *)s)->form.editing; }

/* ---- the result pane ------------------------------------------------------------ */

static const tb_role part_roles[TB_PART_COUNT] = {TB_ROLE_SERIES1, TB_ROLE_SERIES2, TB_ROLE_SERIES3, TB_ROLE_SERIES4,
                                                  TB_ROLE_SERIES5};

/* 13.6M, 540.7K, 8.04B */
static void short_count(int64_t v, char *buf, size_t size)
{
    if (v >= 1000000000)
        snprintf(buf, size, "%.2fB", (double)v / 1e9);
    else if (v >= 1000000)
        snprintf(buf, size, "%.1fM", (double)v / 1e6);
    else if (v >= 1000)
        snprintf(buf, size, "%.1fK", (double)v / 1e3);
    else
        snprintf(buf, size, "%lld", (long long)v);
}

static void short_bytes(double b, char *buf, size_t size)
{
    if (b >= 1e9)
        snprintf(buf, size, "%.2f GB", b / 1e9);
    else if (b >= 1e6)
        snprintf(buf, size, "%.2f MB", b / 1e6);
    else
        snprintf(buf, size, "%.1f kB", b / 1e3);
}

static int draw_budget(const calc_screen *c, WINDOW *win, int y, int x, int iw)
{
    const tb_calc_result *r = &c->res;
    char a[32], b[32];
    if (!r->has_budget) {
        tb_draw_text(win, y, x, iw, TB_ROLE_DIM, "Budget: none (type one to find the best rank)");
        return 1;
    }
    short_bytes((double)r->budget.budget_bytes, a, sizeof a);
    if (r->budget.rank == 0) {
        short_bytes((double)r->budget.rank1_bytes, b, sizeof b);
        tb_draw_textf(win, y, x, iw, TB_ROLE_WARN, "Budget %s: no rank fits (r=1 needs %s)", a, b);
        return 1;
    }
    short_bytes((double)r->budget.bytes, b, sizeof b);
    tb_draw_textf(win, y, x, iw, TB_ROLE_ACCENT, "Budget %s (%s): best rank %lld, %s%s", a,
                  tb_dtype_short_name(c->in.adapter_dtype), (long long)r->budget.rank, b,
                  r->budget.capped ? " (capped)" : "");
    return 1;
}

static int draw_rank_table(const calc_screen *c, WINDOW *win, int y, int x, int iw, int max_rows)
{
    const tb_calc_result *r = &c->res;
    int y0 = y;
    tb_draw_textf(win, y++, x, iw, TB_ROLE_LABEL, "  %5s %7s %6s %9s %8s", "rank", "params", "%full", "adapt MB",
                  "saves GB");
    for (int i = 0; i < r->n_rows && y - y0 < max_rows; i++) {
        const tb_calc_rank_row *w = &r->rows[i];
        char p[16];
        short_count(w->trainable, p, sizeof p);
        tb_role role = w->budget_best ? TB_ROLE_ACCENT : w->chosen ? TB_ROLE_VALUE : TB_ROLE_NORMAL;
        if (w->budget_best)
            tb_draw_fill(win, y, x, iw, role);
        tb_draw_textf(win, y++, x, iw, role, "%c%c%5lld %7s %6.3f %9.2f %8.1f", w->budget_best ? '>' : ' ',
                      w->chosen ? '*' : ' ', (long long)w->rank, p, w->percent_of_full, (double)w->adapter_bytes / 1e6,
                      (double)w->savings_vs_full / 1e9);
    }
    return y - y0;
}

static int draw_memory(const calc_screen *c, WINDOW *win, int y, int x, int iw)
{
    const tb_calc_result *r = &c->res;
    int y0 = y;
    tb_draw_textf(win, y++, x, iw, TB_ROLE_LABEL, "Memory, batch %lld x seq %lld, ckpt %s", (long long)c->in.mem.batch,
                  (long long)c->in.mem.seq, c->in.mem.checkpointing ? "on" : "off");
    double max = 0;
    for (int m = 0; m < TB_TRAIN_MODE_COUNT; m++)
        if ((double)r->mem[m].total > max)
            max = (double)r->mem[m].total;
    int lab = 12, tot = 9, bw = iw - lab - tot - 2;
    for (int m = 0; m < TB_TRAIN_MODE_COUNT; m++) {
        const tb_mem_estimate *e = &r->mem[m];
        double parts[TB_PART_COUNT];
        for (int p = 0; p < TB_PART_COUNT; p++)
            parts[p] = (double)e->part[p];
        char t[32];
        short_bytes((double)e->total, t, sizeof t);
        tb_draw_text(win, y, x, lab, TB_ROLE_NORMAL, tb_train_mode_label((tb_train_mode)m));
        /* Same scale for all four bars, so they compare side by side. */
        int w = max > 0 ? (int)lround((double)e->total / max * bw) : 0;
        tb_draw_stacked_bar(win, y, x + lab + 1, w > 0 ? w : 1, parts, part_roles, TB_PART_COUNT, (double)e->total);
        tb_draw_textf(win, y++, x + iw - tot, tot, TB_ROLE_VALUE, "%*s", tot, t);
    }
    /* Legend: one cell of each part drawn by the same widget, so the glyphs match in
     * monochrome too. */
    int lx = x;
    for (int p = 0; p < TB_PART_COUNT && lx < x + iw; p++) {
        double one[TB_PART_COUNT] = {0};
        one[p] = 1;
        tb_draw_stacked_bar(win, y, lx, 1, one, part_roles, TB_PART_COUNT, 1);
        static const char *const shortl[TB_PART_COUNT] = {"weights", "LoRA", "grads", "optim", "activ"};
        lx += 2 + tb_draw_text(win, y, lx + 1, x + iw - lx - 1, TB_ROLE_DIM, shortl[p]);
    }
    y++;
    return y - y0;
}

/* The parts in numbers (GB), when the pane is wide and tall enough. */
static void draw_parts_table(const calc_screen *c, WINDOW *win, int y, int x, int iw)
{
    static const char *const heads[TB_PART_COUNT] = {"weights", "LoRA", "grads", "optim", "activ"};
    int col = (iw - 12) / (TB_PART_COUNT + 1);
    if (col > 8)
        col = 8;
    tb_draw_text(win, y, x, 12, TB_ROLE_LABEL, "GB");
    for (int p = 0; p <= TB_PART_COUNT; p++)
        tb_draw_textf(win, y, x + 12 + p * col, col, TB_ROLE_LABEL, "%*s", col, p < TB_PART_COUNT ? heads[p] : "total");
    for (int m = 0; m < TB_TRAIN_MODE_COUNT; m++) {
        const tb_mem_estimate *e = &c->res.mem[m];
        tb_draw_text(win, y + 1 + m, x, 12, TB_ROLE_NORMAL, tb_train_mode_label((tb_train_mode)m));
        for (int p = 0; p <= TB_PART_COUNT; p++)
            tb_draw_textf(win, y + 1 + m, x + 12 + p * col, col, p < TB_PART_COUNT ? TB_ROLE_NORMAL : TB_ROLE_VALUE,
                          "%*.*f", col, (p < TB_PART_COUNT ? e->part[p] : e->total) < 10e9 ? 2 : 1,
                          (double)(p < TB_PART_COUNT ? e->part[p] : e->total) / 1e9);
    }
}

static void draw_result(calc_screen *c, WINDOW *win, int y0, int x0, int h, int w)
{
    char title[128];
    snprintf(title, sizeof title, "%s",
             is_file_choice(c) ? (c->file_ok ? c->file_name : "config.json") : tb_model_preset_at(c->fields[F_MODEL].choice)->hub_repo);
    tb_draw_box(win, y0, x0, h, w, TB_ROLE_BORDER, title);
    int x = x0 + 2, iw = w - 4, y = y0 + 1, bottom = y0 + h - 1;
    if (!c->ok) {
        tb_draw_wrapped(win, y, x, iw, bottom - y, TB_ROLE_ERROR, c->error);
        return;
    }
    const tb_llama_config *m = &c->in.cfg;
    tb_draw_textf(win, y++, x, iw, TB_ROLE_DIM, "D %lld  F %lld  L %lld  H %lld/%lld  Dh %lld  V %lld%s%s",
                  (long long)m->dim, (long long)m->ffn_dim, (long long)m->n_layers, (long long)m->n_heads,
                  (long long)m->n_kv_heads, (long long)m->head_dim, (long long)m->vocab_size,
                  m->tie_embeddings ? "  tied" : "", m->qkv_bias ? "  bias" : "");
    y += tb_draw_wrapped(win, y, x, iw, 3, TB_ROLE_VALUE, c->res.peft_line);
    char a[32], b[32], d[32];
    short_bytes((double)c->res.adapter_bytes[TB_CALC_F32], a, sizeof a);
    short_bytes((double)c->res.adapter_bytes[TB_CALC_BF16], b, sizeof b);
    short_bytes((double)c->res.adapter_bytes[TB_CALC_F16], d, sizeof d);
    tb_draw_textf(win, y++, x, iw, TB_ROLE_NORMAL, "Adapter: f32 %s  bf16 %s  f16 %s", a, b, d);
    y += draw_budget(c, win, y, x, iw);
    /* The memory block needs 6 rows at the bottom; the table takes what is left. */
    int mem_rows = 6, room = bottom - y - mem_rows - 1;
    if (room >= 2) {
        y++;
        y += draw_rank_table(c, win, y, x, iw, room - 1);
    }
    int table_y = bottom - mem_rows - 6;
    if (iw >= 48 && table_y > y)
        draw_parts_table(c, win, table_y, x, iw);
    y = bottom - mem_rows;
    if (y > y0 + 4)
        draw_memory(c, win, y, x, iw);
}

static void draw(tb_screen *s, WINDOW *win, int h, int w)
{
    calc_screen *c = (calc_screen *)s;
    int lw = w >= 110 ? 42 : w >= 96 ? 38 : 34;
    tb_draw_box(win, 0, 0, h, lw, TB_ROLE_BORDER, "LoRA settings");
    tb_form_draw(&c->form, win, 1, 1, h - 4, lw - 2, lw >= 38 ? 17 : 16, true);
    const tb_field *sel = &c->fields[c->form.sel];
    if (c->form.error[0])
        tb_draw_wrapped(win, h - 3, 2, lw - 4, 2, TB_ROLE_ERROR, c->form.error);
    else if (sel->help)
        tb_draw_wrapped(win, h - 3, 2, lw - 4, 2, TB_ROLE_DIM, sel->help);
    draw_result(c, win, 0, lw, h, w - lw);
}

const tb_screen_class tb_calc_screen_class = {
    .name = "Calc",
    .fkey = 3,
    .keys = keys,
    .create = create,
    .destroy = destroy,
    .on_key = on_key,
    .on_mouse = on_mouse,
    .text_input = text_input,
    .draw = draw,
};
