/* tunebench — a progress bar with a percentage and an estimated time left. */
#ifndef TB_WIDGETS_PROGRESS_H
#define TB_WIDGETS_PROGRESS_H

#include <curses.h>
#include <stddef.h>

/* "12 s left", "3 min left", "" while there is too little to go on (under 1% or 0.5 s in). */
void tb_eta_format(double elapsed_s, double fraction, char *buf, size_t size);

/* [██████▌     ]  45%  12 s left  label — one row of w columns at (y, x). */
void tb_draw_progress(WINDOW *win, int y, int x, int w, double fraction, double elapsed_s, const char *label);

#endif
