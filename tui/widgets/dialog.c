/* tunebench — modal dialogs. */
#include "tui/widgets/dialog.h"

#include <stdio.h>
#include <string.h>

#include "tui/screen.h"
#include "tui/widgets/draw.h"

void tb_dialog_show(tb_dialog *d, tb_dialog_kind kind, const char *title, const char *text)
{
    memset(d, 0, sizeof *d);
    d->open = true;
    d->kind = kind;
    snprintf(d->title, sizeof d->title, "%s", title);
    snprintf(d->text, sizeof d->text, "%s", text);
}

void tb_dialog_confirm(tb_dialog *d, const char *title, const char *text, void (*on_yes)(void *), void *ctx)
{
    tb_dialog_show(d, TB_DIALOG_CONFIRM, title, text);
    d->on_yes = on_yes;
    d->ctx = ctx;
}

int tb_dialog_key(tb_dialog *d, int key)
{
    if (!d->open)
        return TB_UI_IGNORED;
    if (d->kind == TB_DIALOG_CONFIRM) {
        if (key == 'y' || key == 'Y' || key == '\n' || key == '\r' || key == KEY_ENTER) {
            d->open = false;
            if (d->on_yes)
                d->on_yes(d->ctx);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        if (key == 'n' || key == 'N' || key == 27 || key == 'q') {
            d->open = false;
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        return TB_UI_HANDLED;
    }
    if (key == '\n' || key == '\r' || key == KEY_ENTER || key == 27 || key == ' ' || key == 'q') {
        d->open = false;
        return TB_UI_HANDLED | TB_UI_REDRAW;
    }
    return TB_UI_HANDLED;
}

void tb_dialog_draw(const tb_dialog *d, WINDOW *win, int h, int w)
{
    if (!d->open)
        return;
    int bw = w - 8 < 64 ? w - 8 : 64;
    if (bw < 20)
        bw = w;
    int text_rows = tb_draw_wrapped(win, 0, 0, bw - 4, 0, TB_ROLE_DIALOG, d->text);
    int max_rows = h - 6;
    if (text_rows > max_rows)
        text_rows = max_rows;
    int bh = text_rows + 5;
    int y = (h - bh) / 2, x = (w - bw) / 2;
    for (int r = 0; r < bh; r++)
        tb_draw_fill(win, y + r, x, bw, TB_ROLE_DIALOG);
    tb_role border = d->kind == TB_DIALOG_ERROR ? TB_ROLE_ERROR : TB_ROLE_DIALOG_TITLE;
    wattrset(win, tb_theme_attr(TB_ROLE_DIALOG));
    tb_draw_box(win, y, x, bh, bw, TB_ROLE_DIALOG, NULL);
    char title[160];
    snprintf(title, sizeof title, " %s%s ", d->kind == TB_DIALOG_ERROR ? "Error: " : "", d->title);
    tb_draw_text(win, y, x + 2, bw - 4, border, title);
    tb_draw_wrapped(win, y + 2, x + 2, bw - 4, text_rows, TB_ROLE_DIALOG, d->text);
    const char *hint = d->kind == TB_DIALOG_CONFIRM ? "[y] yes   [n] no" : "[Enter] OK";
    tb_draw_text(win, y + bh - 2, x + bw - 2 - tb_text_width(hint), bw - 4, TB_ROLE_DIALOG_TITLE, hint);
}
