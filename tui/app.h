/* tunebench — the workbench: one screen-manager loop (htop style).
 *
 * All curses state lives in app.c (and the widgets it calls while drawing). The loop reads
 * a key or times out every 100 ms (a tick), routes the event (dialog > help > screen >
 * global keys), and draws one frame with a single doupdate() when any handler asked. */
#ifndef TB_TUI_APP_H
#define TB_TUI_APP_H

#include <stdbool.h>

#include "tui/screen.h"
#include "tui/session.h"
#include "tui/widgets/dialog.h"

#define TB_MIN_COLS 80
#define TB_MIN_ROWS 24
#define TB_MAX_SCREENS 8

struct tb_app {
    tb_session session;
    tb_screen *screens[TB_MAX_SCREENS];
    int n_screens;
    int active;
    bool help_open;
    tb_dialog dialog;
    bool quit;
    bool color;
    long frames;            /* frames drawn (the smoke run counts them) */
};

typedef struct tb_app_options {
    const char *model_dir;  /* override the session defaults; NULL keeps them */
    const char *data_path;
    const char *runs_dir;   /* the runs folder (runs/tunebench.db); NULL keeps "runs" */
    bool no_demo;           /* start without the bundled demo's model, data and settings */
    long max_frames;        /* > 0: exit after this many frames (headless smoke runs) */
} tb_app_options;

/* Run the workbench until the user quits. Returns the process exit status. */
int tb_app_run(const tb_app_options *opts);

/* For screens: show a dialog; switch to the screen with F-key n (false if absent). */
void tb_app_error(tb_app *app, const char *title, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tb_app_info(tb_app *app, const char *title, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool tb_app_goto_fkey(tb_app *app, int fkey);
bool tb_app_has_fkey(const tb_app *app, int fkey);
tb_screen *tb_app_screen_by_fkey(tb_app *app, int fkey);

#endif
