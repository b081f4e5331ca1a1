/* tunebench — the screen object model (htop style: a class struct of function pointers).
 *
 * A screen embeds `tb_screen` as its first member. Handlers return TB_UI_* flags; the app
 * loop redraws once per frame when any handler asked for it. Screens collect data apart
 * from drawing (STYLE.md rule 8): draw() only reads state. */
#ifndef TB_TUI_SCREEN_H
#define TB_TUI_SCREEN_H

#include <curses.h>
#include <stdbool.h>

typedef enum tb_ui_flags {
    TB_UI_IGNORED = 0,      /* not mine: let the app try its global keys */
    TB_UI_HANDLED = 1 << 0, /* consumed */
    TB_UI_REDRAW = 1 << 1,  /* state changed, draw a new frame */
    TB_UI_QUIT = 1 << 2,    /* leave the workbench (asks first if a job runs) */
} tb_ui_flags;

typedef struct tb_key_help {
    const char *key;   /* "Enter", "←/→", "s" */
    const char *what;  /* "start the run" (the help overlay) */
    const char *footer; /* short label for the footer bar; NULL = not in the footer */
} tb_key_help;

typedef struct tb_app tb_app;
typedef struct tb_screen tb_screen;

typedef struct tb_screen_class {
    const char *name;        /* tab label */
    int fkey;                /* F-key that selects it (fixed per screen: F1 Decide .. F6 Eval) */
    const tb_key_help *keys; /* this screen's keys, terminated by {0}; for `?` and the footer */
    tb_screen *(*create)(tb_app *app);
    void (*destroy)(tb_screen *s);
    /* Optional handlers (NULL = nothing to do). */
    void (*enter)(tb_screen *s);                    /* became the active screen */
    int (*on_key)(tb_screen *s, int key);           /* flags */
    int (*on_mouse)(tb_screen *s, const MEVENT *ev, int body_y, int body_x); /* in body coords */
    int (*on_tick)(tb_screen *s);                   /* ~10/s, all screens; REDRAW if new data */
    bool (*busy)(tb_screen *s);                     /* a job runs: quitting asks first */
    bool (*text_input)(tb_screen *s);               /* typing into a field: printable keys are mine */
    void (*draw)(tb_screen *s, WINDOW *win, int h, int w); /* the body window, h x w */
} tb_screen_class;

struct tb_screen {
    const tb_screen_class *cls;
    tb_app *app;
};

/* The registry of screens (tui/screens/registry.c), in tab order, terminated by NULL. */
extern const tb_screen_class *const tb_screen_classes[];

#endif
