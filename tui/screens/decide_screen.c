/* tunebench — the Decide screen: prompting vs RAG vs fine-tuning.
 * Form on the left; live recommendation, scores as bars and reasons on the right. The
 * logic is engine/plan/decide.c, shared with `tunebench decide`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/plan/decide.h"
#include "tui/app.h"
#include "tui/screens/screens.h"
#include "tui/widgets/bar.h"
#include "tui/widgets/draw.h"
#include "tui/widgets/form.h"

enum { F_PRESET = 0, F_EXAMPLES, F_FACT0 }; /* F_FACT0 + k-1 holds fact k (k >= 1) */
#define N_FIELDS (F_FACT0 + TB_FACT_COUNT - 1)

static const char *const answer_choices[] = {"?", "yes", "no"};

typedef struct decide_screen {
    tb_screen base;
    tb_field fields[N_FIELDS];
    tb_form form;
    const char *preset_choices[16];
    tb_decide_facts facts;
    tb_decide_result result;
} decide_screen;

static const tb_key_help keys[] = {
    {"↑/↓", "move between questions", NULL},
    {"←/→/Space", "change the answer", "Change"},
    {"y/n/u", "answer yes / no / unknown", "Answer"},
    {"Enter", "edit the number of examples", NULL},
    {"p", "next preset scenario", "Preset"},
    {"r", "reset all answers to unknown", "Reset"},
    {0},
};

static int answer_to_choice(tb_answer a) { return a == TB_ANSWER_YES ? 1 : a == TB_ANSWER_NO ? 2 : 0; }
static tb_answer choice_to_answer(int c) { return c == 1 ? TB_ANSWER_YES : c == 2 ? TB_ANSWER_NO : TB_ANSWER_UNKNOWN; }

static void facts_to_fields(decide_screen *d)
{
    d->fields[F_EXAMPLES].ival = d->facts.examples;
    for (int f = 1; f < TB_FACT_COUNT; f++)
        d->fields[F_FACT0 + f - 1].choice = answer_to_choice(d->facts.answer[f]);
}

static void fields_to_facts(decide_screen *d)
{
    d->facts.examples = d->fields[F_EXAMPLES].ival;
    for (int f = 1; f < TB_FACT_COUNT; f++)
        d->facts.answer[f] = choice_to_answer(d->fields[F_FACT0 + f - 1].choice);
}

static bool facts_equal(const tb_decide_facts *a, const tb_decide_facts *b)
{
    if (a->examples != b->examples)
        return false;
    for (int f = 1; f < TB_FACT_COUNT; f++)
        if (a->answer[f] != b->answer[f])
            return false;
    return true;
}

static void recompute(decide_screen *d)
{
    /* The preset field says "(custom)" once the answers leave the chosen scenario. */
    int p = d->fields[F_PRESET].choice;
    if (p > 0 && !facts_equal(&tb_decide_preset_at(p - 1)->facts, &d->facts))
        d->fields[F_PRESET].choice = 0;
    tb_decide(&d->facts, &d->result);
}

static void apply_preset(decide_screen *d, int choice)
{
    d->fields[F_PRESET].choice = choice;
    if (choice > 0) {
        d->facts = tb_decide_preset_at(choice - 1)->facts;
        facts_to_fields(d);
    }
    recompute(d);
}

static tb_screen *create(tb_app *app)
{
    decide_screen *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->base.cls = &tb_decide_screen_class;
    d->base.app = app;
    int np = tb_decide_preset_count();
    d->preset_choices[0] = "(custom)";
    for (int i = 0; i < np && i < 15; i++)
        d->preset_choices[i + 1] = tb_decide_preset_at(i)->name;
    d->fields[F_PRESET] = (tb_field){.kind = TB_FIELD_CHOICE, .label = "Scenario preset",
                                     .help = "one of the tutorial's five scenarios",
                                     .choices = d->preset_choices, .n_choices = np + 1};
    d->fields[F_EXAMPLES] = (tb_field){.kind = TB_FIELD_INT, .label = "Labeled examples available",
                                       .imin = 0, .imax = 1000000000L, .istep = 10, .unknown_ok = true, .ival = -1};
    for (int f = 1; f < TB_FACT_COUNT; f++)
        d->fields[F_FACT0 + f - 1] = (tb_field){.kind = TB_FIELD_CHOICE,
                                                .label = tb_decide_fact_question((tb_decide_fact)f),
                                                .choices = answer_choices, .n_choices = 3};
    tb_form_init(&d->form, d->fields, N_FIELDS);
    /* Open on the first scenario so a newcomer sees a worked answer at once. */
    apply_preset(d, 1);
    return &d->base;
}

static void destroy(tb_screen *s) { free(s); }

static int on_key(tb_screen *s, int key)
{
    decide_screen *d = (decide_screen *)s;
    tb_field *sel = &d->fields[d->form.sel];
    if (!d->form.editing) {
        if (key == 'p') {
            apply_preset(d, d->fields[F_PRESET].choice % tb_decide_preset_count() + 1);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        if (key == 'r') {
            tb_decide_facts_init(&d->facts);
            facts_to_fields(d);
            d->fields[F_PRESET].choice = 0;
            recompute(d);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        if (d->form.sel >= F_FACT0 && (key == 'y' || key == 'n' || key == 'u')) {
            sel->choice = key == 'y' ? 1 : key == 'n' ? 2 : 0;
            fields_to_facts(d);
            recompute(d);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
    }
    int flags = tb_form_key(&d->form, key);
    if (flags & TB_FORM_CHANGED) {
        if (d->form.sel == F_PRESET) {
            apply_preset(d, d->fields[F_PRESET].choice);
        } else {
            fields_to_facts(d);
            recompute(d);
        }
    }
    return flags & ~TB_FORM_CHANGED;
}

static int on_mouse(tb_screen *s, const MEVENT *ev, int y, int x)
{
    decide_screen *d = (decide_screen *)s;
    (void)ev;
    if (x < 50 && y >= 2 && tb_form_click(&d->form, y - 2))
        return TB_UI_HANDLED | TB_UI_REDRAW;
    return TB_UI_IGNORED;
}

static bool text_input(tb_screen *s) { return ((decide_screen *)s)->form.editing; }

static const tb_role option_roles[TB_DECIDE_OPTION_COUNT] = {
    TB_ROLE_SERIES1, TB_ROLE_SERIES2, TB_ROLE_SERIES3, TB_ROLE_SERIES4,
};

static void draw_result(decide_screen *d, WINDOW *win, int y0, int x0, int h, int w)
{
    const tb_decide_result *r = &d->result;
    tb_draw_box(win, y0, x0, h, w, TB_ROLE_BORDER, "Recommendation");
    int x = x0 + 2, iw = w - 4, y = y0 + 1;
    tb_draw_textf(win, y++, x, iw, TB_ROLE_ACCENT, " %s ", tb_decide_option_label(r->recommendation));
    y++;
    int maxs = 1;
    for (int o = 0; o < TB_DECIDE_OPTION_COUNT; o++)
        if (r->scores[o] > maxs)
            maxs = r->scores[o];
    /* Narrow panels use short option names so the bars keep some room. */
    static const char *const short_names[TB_DECIDE_OPTION_COUNT] = {"Prompting", "RAG", "Fine-tuning", "FT + RAG"};
    int lab = iw >= 44 ? 18 : 11;
    for (int o = 0; o < TB_DECIDE_OPTION_COUNT; o++) {
        bool best = o == (int)r->recommendation;
        tb_role role = best ? TB_ROLE_VALUE : TB_ROLE_NORMAL;
        tb_draw_textf(win, y, x, lab + 1, role, "%s%-*s", best ? ">" : " ", lab,
                      lab == 18 ? tb_decide_option_label((tb_decide_option)o) : short_names[o]);
        tb_draw_textf(win, y, x + lab + 1, 4, role, "%3d", r->scores[o]);
        tb_draw_bar(win, y, x + lab + 6, iw - lab - 6, r->scores[o], maxs, option_roles[o]);
        y++;
    }
    y++;
    int hint_y = y0 + h - 3;   /* two rows for the "next" hint above the border */
    int bottom = hint_y;       /* first row the reasons may not use */
    tb_draw_text(win, y++, x, iw, TB_ROLE_LABEL, "Why");
    for (int i = 0; i < r->n_reasons && y < bottom; i++) {
        tb_draw_text(win, y, x, 2, TB_ROLE_DIM, "-");
        y += tb_draw_wrapped(win, y, x + 2, iw - 2, bottom - y, TB_ROLE_NORMAL, r->reasons[i]);
    }
    /* The contribution of each fact, when there is room: P / FT / RAG points. */
    if (y + 3 < bottom && r->n_contrib > 0) {
        y++;
        tb_draw_textf(win, y++, x, iw, TB_ROLE_LABEL, "%-24s %4s %4s %4s", "points per fact", "P", "FT", "RAG");
        for (int i = 0; i < r->n_contrib && y < bottom; i++) {
            const tb_decide_contribution *c = &r->contrib[i];
            tb_draw_textf(win, y++, x, iw, TB_ROLE_DIM, "%-24s %+4d %+4d %+4d", tb_decide_fact_flag(c->fact),
                          c->points[TB_AXIS_PROMPTING], c->points[TB_AXIS_FINE_TUNING], c->points[TB_AXIS_RAG]);
        }
    }
    const char *next = tb_app_has_fkey(d->base.app, 2) ? "Next: validate your data (F2 Data)"
                                                       : "Next: validate your data (tunebench validate FILE)";
    tb_draw_wrapped(win, hint_y, x, iw, 2, TB_ROLE_INFO, next);
}

static void draw(tb_screen *s, WINDOW *win, int h, int w)
{
    decide_screen *d = (decide_screen *)s;
    int lw = w >= 110 ? 56 : 50;
    tb_draw_box(win, 0, 0, h, lw, TB_ROLE_BORDER, "What do you know about the task?");
    tb_form_draw(&d->form, win, 2, 1, h - 6, lw - 2, lw - 11, true);
    const tb_field *sel = &d->fields[d->form.sel];
    if (d->form.error[0])
        tb_draw_wrapped(win, h - 3, 2, lw - 4, 2, TB_ROLE_ERROR, d->form.error);
    else if (d->form.sel == F_EXAMPLES)
        tb_draw_wrapped(win, h - 3, 2, lw - 4, 2, TB_ROLE_DIM, "Type a number, Enter to confirm; empty or ? = unknown.");
    else if (sel->help)
        tb_draw_wrapped(win, h - 3, 2, lw - 4, 2, TB_ROLE_DIM, sel->help);
    else
        tb_draw_wrapped(win, h - 3, 2, lw - 4, 2, TB_ROLE_DIM, "Unanswered (?) facts count for nothing.");
    draw_result(d, win, 0, lw, h, w - lw);
}

const tb_screen_class tb_decide_screen_class = {
    .name = "Decide",
    .fkey = 1,
    .keys = keys,
    .create = create,
    .destroy = destroy,
    .on_key = on_key,
    .on_mouse = on_mouse,
    .text_input = text_input,
    .draw = draw,
};
