/* tunebench — the workbench loop: frame (header tabs, footer keys), overlays, routing. */
#include "tui/app.h"

#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/theme.h"
#include "tui/widgets/draw.h"

#define TICK_MS 100
#define KEY_ESC 27
#define KEY_TAB 9

static const tb_key_help global_keys[] = {
    {"F1..F6", "switch screen", NULL},
    {"Tab/S-Tab", "next / previous screen", NULL},
    {"?", "this help", "Help"},
    {"q, F10", "quit (asks first when a job runs)", "Quit"},
    {0},
};

/* ---- dialogs for screens ------------------------------------------------------------ */

void tb_app_error(tb_app *app, const char *title, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tb_dialog_show(&app->dialog, TB_DIALOG_ERROR, title, text);
}

void tb_app_info(tb_app *app, const char *title, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tb_dialog_show(&app->dialog, TB_DIALOG_INFO, title, text);
}

tb_screen *tb_app_screen_by_fkey(tb_app *app, int fkey)
{
    for (int i = 0; i < app->n_screens; i++)
        if (app->screens[i]->cls->fkey == fkey)
            return app->screens[i];
    return NULL;
}

bool tb_app_has_fkey(const tb_app *app, int fkey)
{
    for (int i = 0; i < app->n_screens; i++)
        if (app->screens[i]->cls->fkey == fkey)
            return true;
    return false;
}

static void activate(tb_app *app, int index)
{
    if (index < 0 || index >= app->n_screens)
        return;
    app->active = index;
    tb_screen *s = app->screens[index];
    if (s->cls->enter)
        s->cls->enter(s);
}

bool tb_app_goto_fkey(tb_app *app, int fkey)
{
    for (int i = 0; i < app->n_screens; i++)
        if (app->screens[i]->cls->fkey == fkey) {
            activate(app, i);
            return true;
        }
    return false;
}

static bool any_busy(tb_app *app)
{
    for (int i = 0; i < app->n_screens; i++) {
        tb_screen *s = app->screens[i];
        if (s->cls->busy && s->cls->busy(s))
            return true;
    }
    return false;
}

static void do_quit(void *ctx) { ((tb_app *)ctx)->quit = true; }

static void request_quit(tb_app *app)
{
    if (any_busy(app))
        tb_dialog_confirm(&app->dialog, "Quit?", "A job is running. Quit anyway? Runs started here stop with a checkpoint.",
                          do_quit, app);
    else
        app->quit = true;
}

/* ---- drawing ------------------------------------------------------------------------ */

/* Tab geometry, shared by drawing and mouse hit-testing. */
static int tab_x(const tb_app *app, int i)
{
    int x = 11; /* after " tunebench " */
    for (int k = 0; k < i; k++)
        x += (int)strlen(app->screens[k]->cls->name) + 6;
    return x;
}

static void draw_header(tb_app *app, int w)
{
    tb_draw_fill(stdscr, 0, 0, w, TB_ROLE_HEADER);
    tb_draw_text(stdscr, 0, 0, w, TB_ROLE_TITLE, " tunebench ");
    for (int i = 0; i < app->n_screens; i++) {
        char label[64];
        snprintf(label, sizeof label, " F%d %s ", app->screens[i]->cls->fkey, app->screens[i]->cls->name);
        tb_draw_text(stdscr, 0, tab_x(app, i), w - tab_x(app, i), i == app->active ? TB_ROLE_TAB_ACTIVE : TB_ROLE_TAB,
                     label);
    }
}

static int footer_width(const tb_key_help *keys)
{
    int n = 0;
    for (const tb_key_help *k = keys; k && k->key; k++)
        if (k->footer)
            n += tb_text_width(k->key) + tb_text_width(k->footer) + 2;
    return n;
}

static int draw_footer_keys(const tb_key_help *keys, int y, int x, int end)
{
    for (const tb_key_help *k = keys; k && k->key; k++) {
        if (!k->footer)
            continue;
        int need = tb_text_width(k->key) + tb_text_width(k->footer) + 2;
        if (x + need > end)
            break;
        x += tb_draw_text(stdscr, y, x, end - x, TB_ROLE_FKEY, k->key);
        x += tb_draw_textf(stdscr, y, x, end - x, TB_ROLE_FKEY_LABEL, " %s ", k->footer);
    }
    return x;
}

/* Screen keys from the left, the global ones (help, quit) always at the right end. */
static void draw_footer(tb_app *app, int y, int w)
{
    tb_draw_fill(stdscr, y, 0, w, TB_ROLE_FKEY_LABEL);
    int gw = footer_width(global_keys);
    draw_footer_keys(app->screens[app->active]->cls->keys, y, 0, w - gw);
    draw_footer_keys(global_keys, y, w - gw, w);
}

static int draw_key_list(const tb_key_help *keys, int y, int x, int w, int maxy)
{
    for (const tb_key_help *k = keys; k && k->key && y < maxy; k++, y++) {
        tb_draw_text(stdscr, y, x, 14, TB_ROLE_DIALOG_TITLE, k->key);
        tb_draw_text(stdscr, y, x + 14, w - 14, TB_ROLE_DIALOG, k->what);
    }
    return y;
}

static void draw_help(tb_app *app, int h, int w)
{
    const tb_screen_class *cls = app->screens[app->active]->cls;
    int n = 0;
    for (const tb_key_help *k = cls->keys; k && k->key; k++)
        n++;
    int bh = n + 9, bw = 64;
    if (bh > h - 2)
        bh = h - 2;
    int y = (h - bh) / 2, x = (w - bw) / 2;
    for (int r = 0; r < bh; r++)
        tb_draw_fill(stdscr, y + r, x, bw, TB_ROLE_DIALOG);
    tb_draw_box(stdscr, y, x, bh, bw, TB_ROLE_DIALOG, NULL);
    char title[96];
    snprintf(title, sizeof title, " Help: %s screen ", cls->name);
    tb_draw_text(stdscr, y, x + 2, bw - 4, TB_ROLE_DIALOG_TITLE, title);
    int row = draw_key_list(cls->keys, y + 2, x + 2, bw - 4, y + bh - 1);
    row++;
    tb_draw_text(stdscr, row++, x + 2, bw - 4, TB_ROLE_DIALOG_TITLE, "Everywhere");
    draw_key_list(global_keys, row, x + 2, bw - 4, y + bh - 1);
    tb_draw_text(stdscr, y + bh - 1, x + bw - 24, 22, TB_ROLE_DIALOG_TITLE, " any key closes ");
}

static void draw_too_small(int h, int w)
{
    char msg[128];
    snprintf(msg, sizeof msg, "Terminal is %dx%d: enlarge to at least %dx%d", w, h, TB_MIN_COLS, TB_MIN_ROWS);
    int y = h / 2, x = (w - (int)strlen(msg)) / 2;
    if (x < 0)
        x = 0;
    tb_draw_wrapped(stdscr, y > 0 ? y - 1 : 0, x, w - x, h, TB_ROLE_WARN, msg);
    if (h > 2)
        tb_draw_text(stdscr, h - 1, 0, w, TB_ROLE_DIM, "q quits");
}

static void draw_frame(tb_app *app)
{
    int h, w;
    getmaxyx(stdscr, h, w);
    werase(stdscr);
    if (h < TB_MIN_ROWS || w < TB_MIN_COLS) {
        draw_too_small(h, w);
    } else {
        draw_header(app, w);
        draw_footer(app, h - 1, w);
        /* The body is a subwindow so screens draw in their own coordinates. */
        WINDOW *body = derwin(stdscr, h - 2, w, 1, 0);
        if (body) {
            tb_screen *s = app->screens[app->active];
            s->cls->draw(s, body, h - 2, w);
            delwin(body);
        }
        if (app->help_open)
            draw_help(app, h, w);
        tb_dialog_draw(&app->dialog, stdscr, h, w);
    }
    wnoutrefresh(stdscr);
    doupdate();
    app->frames++;
}

/* ---- events ------------------------------------------------------------------------- */

static int global_key(tb_app *app, int key)
{
    if (key >= KEY_F(1) && key <= KEY_F(9)) {
        tb_app_goto_fkey(app, key - KEY_F(1) + 1);
        return TB_UI_REDRAW;
    }
    switch (key) {
    case KEY_TAB:
        activate(app, (app->active + 1) % app->n_screens);
        return TB_UI_REDRAW;
    case KEY_BTAB:
        activate(app, (app->active + app->n_screens - 1) % app->n_screens);
        return TB_UI_REDRAW;
    case '?':
        app->help_open = true;
        return TB_UI_REDRAW;
    case 'q':
    case 'Q':
    case KEY_F(10):
        request_quit(app);
        return TB_UI_REDRAW;
    default:
        return TB_UI_IGNORED;
    }
}

static int mouse_event(tb_app *app)
{
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return TB_UI_IGNORED;
    if (ev.y == 0) {
        for (int i = 0; i < app->n_screens; i++) {
            int x0 = tab_x(app, i), x1 = tab_x(app, i + 1);
            if (ev.x >= x0 && ev.x < x1) {
                activate(app, i);
                return TB_UI_REDRAW;
            }
        }
        return TB_UI_IGNORED;
    }
    tb_screen *s = app->screens[app->active];
    if (s->cls->on_mouse && ev.y >= 1 && ev.y < LINES - 1)
        return s->cls->on_mouse(s, &ev, ev.y - 1, ev.x);
    return TB_UI_IGNORED;
}

static int route_key(tb_app *app, int key)
{
    if (key == KEY_RESIZE)
        return TB_UI_REDRAW;
    bool too_small = LINES < TB_MIN_ROWS || COLS < TB_MIN_COLS;
    if (app->dialog.open)
        return tb_dialog_key(&app->dialog, key);
    if (app->help_open) {
        app->help_open = false;
        return TB_UI_REDRAW;
    }
    if (too_small) {
        if (key == 'q' || key == 'Q' || key == KEY_F(10))
            request_quit(app);
        return TB_UI_REDRAW;
    }
    if (key == KEY_MOUSE)
        return mouse_event(app);
    tb_screen *s = app->screens[app->active];
    int flags = s->cls->on_key ? s->cls->on_key(s, key) : TB_UI_IGNORED;
    if (flags & TB_UI_QUIT) {
        request_quit(app);
        flags |= TB_UI_REDRAW;
    }
    if (flags & TB_UI_HANDLED)
        return flags;
    return flags | global_key(app, key);
}

static int tick(tb_app *app)
{
    int flags = 0;
    for (int i = 0; i < app->n_screens; i++) {
        tb_screen *s = app->screens[i];
        if (s->cls->on_tick) {
            int f = s->cls->on_tick(s);
            if (i == app->active)
                flags |= f;
        }
    }
    return flags;
}

/* ---- life cycle --------------------------------------------------------------------- */

static void free_screens(tb_app *app)
{
    for (int i = 0; i < app->n_screens; i++)
        if (app->screens[i])
            app->screens[i]->cls->destroy(app->screens[i]);
    app->n_screens = 0;
}

int tb_app_run(const tb_app_options *opts)
{
    static tb_app app; /* large (session paths); one per process */
    memset(&app, 0, sizeof app);
    tb_session_defaults(&app.session, !(opts && opts->no_demo));
    if (opts && opts->model_dir)
        snprintf(app.session.model_dir, sizeof app.session.model_dir, "%s", opts->model_dir);
    if (opts && opts->data_path)
        snprintf(app.session.data_path, sizeof app.session.data_path, "%s", opts->data_path);
    if (opts && opts->runs_dir)
        snprintf(app.session.runs_dir, sizeof app.session.runs_dir, "%s", opts->runs_dir);
    if (opts && (opts->model_dir || opts->data_path))
        app.session.train_settings[0] = '\0'; /* the demo's settings are for the demo's model and data */
    if (opts && opts->data_path)
        app.session.eval_path[0] = '\0'; /* and its held-out words are for its training file */

    for (int i = 0; tb_screen_classes[i] && app.n_screens < TB_MAX_SCREENS; i++) {
        tb_screen *s = tb_screen_classes[i]->create(&app);
        if (!s) {
            free_screens(&app);
            fprintf(stderr, "tunebench: cannot create the %s screen (out of memory)\n", tb_screen_classes[i]->name);
            return 1;
        }
        app.screens[app.n_screens++] = s;
    }

    setlocale(LC_ALL, "");
    if (!initscr()) {
        free_screens(&app);
        fprintf(stderr, "tunebench: cannot initialize the terminal (is TERM set?)\n");
        return 1;
    }
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    curs_set(0);
    set_escdelay(25);
    mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
    mouseinterval(0);
    app.color = tb_theme_wants_color(getenv("NO_COLOR"), has_colors());
    tb_theme_setup(app.color);
    wtimeout(stdscr, TICK_MS);
    activate(&app, 0);

    bool redraw = true;
    while (!app.quit) {
        if (redraw) {
            draw_frame(&app);
            redraw = false;
            if (opts && opts->max_frames > 0 && app.frames >= opts->max_frames)
                break;
        }
        int key = wgetch(stdscr);
        int flags = key == ERR ? tick(&app) : route_key(&app, key);
        if (flags & TB_UI_REDRAW)
            redraw = true;
        if (opts && opts->max_frames > 0 && key == ERR)
            redraw = true; /* smoke runs draw every tick */
    }
    /* Curses goes down before anything is printed (STYLE.md rule 8). */
    endwin();
    free_screens(&app);
    return 0;
}
