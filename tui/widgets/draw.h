/* tunebench — drawing primitives every widget uses: text clipped to a width (UTF-8 aware),
 * wrapped paragraphs, boxes. All take a theme role, never a raw color. */
#ifndef TB_WIDGETS_DRAW_H
#define TB_WIDGETS_DRAW_H

#include <curses.h>
#include <stdbool.h>

#include "tui/theme.h"

/* Display columns of a UTF-8 string (invalid bytes count 1). */
int tb_text_width(const char *s);
/* Bytes of s that fit in `cols` display columns. */
size_t tb_text_fit(const char *s, int cols);

/* Text at (y, x), clipped to w columns. Returns columns written. */
int tb_draw_text(WINDOW *win, int y, int x, int w, tb_role role, const char *s);
int tb_draw_textf(WINDOW *win, int y, int x, int w, tb_role role, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Text in w columns keeping its end (a path, a line being typed): when too wide its head
 * gives way to "…". Returns columns written. */
int tb_draw_text_tail(WINDOW *win, int y, int x, int w, tb_role role, const char *s);
/* Fill w columns of row y from x with spaces in a role. */
void tb_draw_fill(WINDOW *win, int y, int x, int w, tb_role role);
/* Word-wrapped paragraph in a w-column, at most max_lines rows (the last one ends with
 * "…" when cut). Returns rows used. With max_lines <= 0 only counts rows. */
int tb_draw_wrapped(WINDOW *win, int y, int x, int w, int max_lines, tb_role role, const char *s);
/* A box with an optional title in the top border. */
void tb_draw_box(WINDOW *win, int y, int x, int h, int w, tb_role role, const char *title);
/* Whether the terminal takes UTF-8 (box/braille glyphs) — from the locale. */
bool tb_term_utf8(void);

#endif
