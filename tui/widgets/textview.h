/* tunebench — a scrolling text view with highlighted spans (the Data screen's example view).
 *
 * Text is wrapped at spaces to the view width (long words are cut), '\n' breaks lines, and
 * control characters show as visible glyphs (␇, ␛, ␉ ...; "?" without UTF-8) so the thing a
 * finding points at can be seen. Spans are byte ranges of the text drawn in a role. */
#ifndef TB_WIDGETS_TEXTVIEW_H
#define TB_WIDGETS_TEXTVIEW_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>

#include "tui/theme.h"

typedef struct tb_span {
    size_t off, len;
    tb_role role;
} tb_span;

typedef struct tb_textview {
    const char *text;     /* not owned; must outlive the view's use */
    size_t len;
    const tb_span *spans; /* sorted by off, not owned */
    int n_spans;
    size_t *lines;        /* (n_lines + 1) byte offset where each visual line starts; last = len */
    int n_lines, cap_lines;
    int width;            /* the width the layout is for */
    int top;              /* first visual line shown */
    int page;             /* rows shown last time */
} tb_textview;

void tb_textview_set(tb_textview *v, const char *text, size_t len, const tb_span *spans, int n_spans);
void tb_textview_free(tb_textview *v);
/* Wrap for a width; returns the number of visual lines (0 when out of memory). */
int tb_textview_layout(tb_textview *v, int width);
/* Visual line holding byte `off` (after layout). */
int tb_textview_line_of(const tb_textview *v, size_t off);
/* Scroll so the line holding `off` is visible, a few lines from the top. */
void tb_textview_reveal(tb_textview *v, size_t off);
int tb_textview_key(tb_textview *v, int key); /* ↑↓ PgUp PgDn Home End: TB_UI_* flags */
void tb_textview_draw(tb_textview *v, WINDOW *win, int y, int x, int h, int w, tb_role base);

/* Display width of the character at s (a control character shows as one glyph); *bytes
 * gets its length. Exposed for tests. */
int tb_textview_char(const char *s, size_t avail, size_t *bytes);

#endif
