/* tunebench — horizontal bars and meters (eighth-block resolution in UTF-8, '#' else). */
#ifndef TB_WIDGETS_BAR_H
#define TB_WIDGETS_BAR_H

#include <curses.h>

#include "tui/theme.h"

/* A bar of value/max of w columns at (y, x); values <= 0 draw nothing. */
void tb_draw_bar(WINDOW *win, int y, int x, int w, double value, double max, tb_role role);

/* Stacked bar: parts[i]/total of w columns, each in roles[i]; glyphs differ per part in
 * monochrome so the parts stay apart. */
void tb_draw_stacked_bar(WINDOW *win, int y, int x, int w, const double *parts, const tb_role *roles, int n,
                         double total);

#endif
