/* tunebench — form fields: choices, numbers with validation, text.
 *
 * Keys: ↑/↓ (k/j) move; ←/→ (h/l) or Space cycle a choice or step a number; Enter edits a
 * number or text (Enter again confirms, Esc cancels); digits on a number field start
 * editing with that digit. A value out of range is refused with a message in form->error
 * and the field stays in edit mode. */
#ifndef TB_WIDGETS_FORM_H
#define TB_WIDGETS_FORM_H

#include <curses.h>
#include <stdbool.h>

typedef enum tb_field_kind {
    TB_FIELD_CHOICE = 0, /* one of choices[] */
    TB_FIELD_INT,        /* long in [imin, imax]; unknown_ok: empty = -1 shown "?" */
    TB_FIELD_REAL,       /* double in [dmin, dmax] */
    TB_FIELD_TEXT,       /* free text (paths) */
    TB_FIELD_HEADING,    /* a section title, not selectable */
} tb_field_kind;

typedef struct tb_field {
    tb_field_kind kind;
    const char *label;
    const char *help;          /* one line shown when selected */
    /* choice */
    const char *const *choices;
    int n_choices;
    int choice;
    /* int */
    long ival, imin, imax, istep;
    bool unknown_ok;
    /* real */
    double dval, dmin, dmax, dstep;
    const char *dfmt;          /* printf format, "%g" when NULL */
    /* text */
    char text[1024];
    bool disabled;             /* shown dim, not editable */
} tb_field;

typedef struct tb_form {
    tb_field *fields;
    int n;
    int sel;                   /* selected field */
    int scroll;                /* first field drawn */
    bool editing;
    char edit[1024];
    size_t edit_len;
    char error[200];           /* last validation message, "" when none */
} tb_form;

/* Flags from tb_form_key, on top of TB_UI_* */
enum { TB_FORM_CHANGED = 1 << 8 };

void tb_form_init(tb_form *f, tb_field *fields, int n);
/* Handle a key; returns TB_UI_* flags | TB_FORM_CHANGED when a value changed. */
int tb_form_key(tb_form *f, int key);
/* Draw in the window rectangle; label column label_w wide. */
void tb_form_draw(tb_form *f, WINDOW *win, int y, int x, int h, int w, int label_w, bool focused);
/* The field's value as text ("yes", "16", "?"). */
void tb_field_format(const tb_field *fd, char *buf, size_t size);
/* Select a field by mouse row (relative to the form's y); returns true if one was hit. */
bool tb_form_click(tb_form *f, int row);

#endif
