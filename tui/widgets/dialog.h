/* tunebench — modal dialogs: errors, information, yes/no questions.
 * Errors in the TUI are dialogs, never a message printed over the screen. */
#ifndef TB_WIDGETS_DIALOG_H
#define TB_WIDGETS_DIALOG_H

#include <curses.h>
#include <stdbool.h>

typedef enum tb_dialog_kind { TB_DIALOG_INFO = 0, TB_DIALOG_ERROR, TB_DIALOG_CONFIRM } tb_dialog_kind;

typedef struct tb_dialog {
    bool open;
    tb_dialog_kind kind;
    char title[128];
    char text[2048];
    void (*on_yes)(void *ctx);   /* CONFIRM: called on y/Enter */
    void *ctx;
} tb_dialog;

void tb_dialog_show(tb_dialog *d, tb_dialog_kind kind, const char *title, const char *text);
void tb_dialog_confirm(tb_dialog *d, const char *title, const char *text, void (*on_yes)(void *), void *ctx);
/* Modal: every key goes here while open. Returns TB_UI_* flags. */
int tb_dialog_key(tb_dialog *d, int key);
void tb_dialog_draw(const tb_dialog *d, WINDOW *win, int h, int w);

#endif
