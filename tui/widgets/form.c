/* tunebench — form fields. */
#include "tui/widgets/form.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/screen.h"
#include "tui/widgets/draw.h"

#define KEY_ESC 27

static bool selectable(const tb_field *fd) { return fd->kind != TB_FIELD_HEADING && !fd->disabled; }

void tb_form_init(tb_form *f, tb_field *fields, int n)
{
    memset(f, 0, sizeof *f);
    f->fields = fields;
    f->n = n;
    while (f->sel < n - 1 && !selectable(&fields[f->sel]))
        f->sel++;
}

void tb_field_format(const tb_field *fd, char *buf, size_t size)
{
    switch (fd->kind) {
    case TB_FIELD_CHOICE:
        snprintf(buf, size, "%s", (fd->choice >= 0 && fd->choice < fd->n_choices) ? fd->choices[fd->choice] : "?");
        break;
    case TB_FIELD_INT:
        if (fd->unknown_ok && fd->ival < 0)
            snprintf(buf, size, "?");
        else
            snprintf(buf, size, "%ld", fd->ival);
        break;
    case TB_FIELD_REAL:
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(buf, size, fd->dfmt ? fd->dfmt : "%g", fd->dval);
#pragma GCC diagnostic pop
        break;
    case TB_FIELD_TEXT:
        snprintf(buf, size, "%s", fd->text);
        break;
    case TB_FIELD_HEADING:
        buf[0] = '\0';
        break;
    }
}

static void move_sel(tb_form *f, int dir)
{
    int i = f->sel;
    for (;;) {
        i += dir;
        if (i < 0 || i >= f->n)
            return;
        if (selectable(&f->fields[i])) {
            f->sel = i;
            return;
        }
    }
}

static int step(tb_field *fd, int dir)
{
    switch (fd->kind) {
    case TB_FIELD_CHOICE:
        if (fd->n_choices <= 0)
            return 0;
        fd->choice = (fd->choice + dir + fd->n_choices) % fd->n_choices;
        return TB_FORM_CHANGED;
    case TB_FIELD_INT: {
        long s = fd->istep > 0 ? fd->istep : 1;
        long v = (fd->unknown_ok && fd->ival < 0) ? (dir > 0 ? fd->imin : -1) : fd->ival + dir * s;
        if (fd->unknown_ok && v < fd->imin && dir < 0)
            v = -1;
        else if (v < fd->imin)
            v = fd->imin;
        if (v > fd->imax)
            v = fd->imax;
        if (v == fd->ival)
            return 0;
        fd->ival = v;
        return TB_FORM_CHANGED;
    }
    case TB_FIELD_REAL: {
        double s = fd->dstep > 0 ? fd->dstep : 1;
        double v = fd->dval + dir * s;
        v = v < fd->dmin ? fd->dmin : v > fd->dmax ? fd->dmax : v;
        if (v == fd->dval)
            return 0;
        fd->dval = v;
        return TB_FORM_CHANGED;
    }
    default:
        return 0;
    }
}

static void start_edit(tb_form *f, const char *initial)
{
    f->editing = true;
    f->error[0] = '\0';
    snprintf(f->edit, sizeof f->edit, "%s", initial);
    f->edit_len = strlen(f->edit);
}

/* Validate and store the edit buffer; false (and f->error) when refused. */
static bool commit_edit(tb_form *f)
{
    tb_field *fd = &f->fields[f->sel];
    const char *s = f->edit;
    if (fd->kind == TB_FIELD_INT) {
        if (fd->unknown_ok && (s[0] == '\0' || strcmp(s, "?") == 0)) {
            fd->ival = -1;
            return true;
        }
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || end == s || *end) {
            snprintf(f->error, sizeof f->error, "%s: '%s' is not a whole number", fd->label, s);
            return false;
        }
        if (v < fd->imin || v > fd->imax) {
            snprintf(f->error, sizeof f->error, "%s: must be between %ld and %ld", fd->label, fd->imin, fd->imax);
            return false;
        }
        fd->ival = v;
    } else if (fd->kind == TB_FIELD_REAL) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v)) {
            snprintf(f->error, sizeof f->error, "%s: '%s' is not a number", fd->label, s);
            return false;
        }
        if (v < fd->dmin || v > fd->dmax) {
            snprintf(f->error, sizeof f->error, "%s: must be between %g and %g", fd->label, fd->dmin, fd->dmax);
            return false;
        }
        fd->dval = v;
    } else if (fd->kind == TB_FIELD_TEXT) {
        snprintf(fd->text, sizeof fd->text, "%s", s);
    }
    return true;
}

int tb_form_key(tb_form *f, int key)
{
    if (f->n == 0)
        return TB_UI_IGNORED;
    tb_field *fd = &f->fields[f->sel];
    if (f->editing) {
        switch (key) {
        case '\n':
        case '\r':
        case KEY_ENTER:
            if (!commit_edit(f))
                return TB_UI_HANDLED | TB_UI_REDRAW;
            f->editing = false;
            f->error[0] = '\0';
            return TB_UI_HANDLED | TB_UI_REDRAW | TB_FORM_CHANGED;
        case KEY_ESC:
            f->editing = false;
            f->error[0] = '\0';
            return TB_UI_HANDLED | TB_UI_REDRAW;
        case KEY_BACKSPACE:
        case 127:
        case 8:
            /* Drop one UTF-8 character. */
            while (f->edit_len > 0 && (f->edit[f->edit_len - 1] & 0xC0) == 0x80)
                f->edit_len--;
            if (f->edit_len > 0)
                f->edit_len--;
            f->edit[f->edit_len] = '\0';
            return TB_UI_HANDLED | TB_UI_REDRAW;
        default:
            if (key >= 32 && key < 256 && key != 127 && f->edit_len + 1 < sizeof f->edit) {
                f->edit[f->edit_len++] = (char)key;
                f->edit[f->edit_len] = '\0';
            }
            /* Everything else is swallowed while editing (no stray screen switches). */
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
    }
    switch (key) {
    case KEY_UP:
    case 'k':
        move_sel(f, -1);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_DOWN:
    case 'j':
        move_sel(f, 1);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_HOME:
        f->sel = 0;
        move_sel(f, 1), move_sel(f, -1);
        if (!selectable(&f->fields[f->sel]))
            move_sel(f, 1);
        return TB_UI_HANDLED | TB_UI_REDRAW;
    case KEY_LEFT:
    case 'h':
        return TB_UI_HANDLED | TB_UI_REDRAW | step(fd, -1);
    case KEY_RIGHT:
    case 'l':
    case ' ':
        return TB_UI_HANDLED | TB_UI_REDRAW | step(fd, 1);
    case '\n':
    case '\r':
    case KEY_ENTER:
        if (fd->kind == TB_FIELD_CHOICE)
            return TB_UI_HANDLED | TB_UI_REDRAW | step(fd, 1);
        if (fd->kind == TB_FIELD_INT || fd->kind == TB_FIELD_REAL || fd->kind == TB_FIELD_TEXT) {
            char buf[1024];
            tb_field_format(fd, buf, sizeof buf);
            start_edit(f, strcmp(buf, "?") == 0 ? "" : buf);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        return TB_UI_IGNORED;
    default:
        if ((fd->kind == TB_FIELD_INT && isdigit(key)) ||
            (fd->kind == TB_FIELD_REAL && (isdigit(key) || key == '.' || key == '-'))) {
            char first[2] = {(char)key, 0};
            start_edit(f, first);
            return TB_UI_HANDLED | TB_UI_REDRAW;
        }
        return TB_UI_IGNORED;
    }
}

void tb_form_draw(tb_form *f, WINDOW *win, int y, int x, int h, int w, int label_w, bool focused)
{
    /* scroll is view state: keep the selection visible */
    if (f->sel < f->scroll)
        f->scroll = f->sel;
    if (f->sel >= f->scroll + h)
        f->scroll = f->sel - h + 1;
    for (int row = 0; row < h && f->scroll + row < f->n; row++) {
        int i = f->scroll + row;
        const tb_field *fd = &f->fields[i];
        if (fd->kind == TB_FIELD_HEADING) {
            tb_draw_text(win, y + row, x, w, TB_ROLE_LABEL, fd->label);
            continue;
        }
        bool sel = focused && i == f->sel;
        tb_draw_fill(win, y + row, x, w, sel ? TB_ROLE_SELECTED : TB_ROLE_NORMAL);
        tb_draw_text(win, y + row, x + 1, label_w - 1, sel ? TB_ROLE_SELECTED : (fd->disabled ? TB_ROLE_DIM : TB_ROLE_NORMAL),
                     fd->label);
        char val[1100];
        if (sel && f->editing)
            snprintf(val, sizeof val, "%s_", f->edit);
        else if (fd->kind == TB_FIELD_CHOICE)
            snprintf(val, sizeof val, "< %s >", (fd->choice >= 0 && fd->choice < fd->n_choices) ? fd->choices[fd->choice] : "?");
        else
            tb_field_format(fd, val, sizeof val);
        int vx = x + label_w, vw = w - label_w - 1;
        int tw = tb_text_width(val);
        /* A long value takes room from a short label first (right-aligned)... */
        if (tw > vw && tb_text_width(fd->label) + 2 + tw <= w - 1) {
            vx = x + w - 1 - tw;
            vw = tw;
            tb_draw_fill(win, y + row, vx - 1, vw + 1, sel ? TB_ROLE_SELECTED : TB_ROLE_NORMAL);
        }
        /* ...and long text (paths) shows its tail, the part that tells files apart. */
        tb_draw_text_tail(win, y + row, vx, vw, sel ? TB_ROLE_SELECTED : (fd->disabled ? TB_ROLE_DIM : TB_ROLE_VALUE),
                          val);
    }
}

bool tb_form_click(tb_form *f, int row)
{
    int i = f->scroll + row;
    if (i < 0 || i >= f->n || !selectable(&f->fields[i]))
        return false;
    f->sel = i;
    f->editing = false;
    return true;
}
