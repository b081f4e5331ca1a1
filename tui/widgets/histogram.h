/* tunebench — a vertical bar histogram (eighth blocks in UTF-8, '#' otherwise) with the count
 * scale on the left and the bin range under it. Bins come from validators/stats.h. */
#ifndef TB_WIDGETS_HISTOGRAM_H
#define TB_WIDGETS_HISTOGRAM_H

#include <curses.h>

#include "tui/theme.h"
#include "validators/stats.h"

/* Height of each bin's bar in eighths of a row for a plot `rows` tall, scaled so the largest
 * count fills it; a non-zero count gets at least one eighth. Pure: the drawing's arithmetic. */
void tb_hist_heights(const long *counts, int n, int rows, int *eighths);

/* Draw h rows x w columns at (y, x): bars, then one row of axis labels. title on top. */
void tb_draw_histogram(WINDOW *win, int y, int x, int h, int w, const tb_histogram *hist, const char *title,
                       tb_role role);

#endif
