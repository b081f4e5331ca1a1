/* tunebench — histogram widget. */
#include "tui/widgets/histogram.h"

#include <stdio.h>
#include <string.h>

#include "tui/widgets/draw.h"

void tb_hist_heights(const long *counts, int n, int rows, int *eighths)
{
    long max = 0;
    for (int i = 0; i < n; i++)
        if (counts[i] > max)
            max = counts[i];
    for (int i = 0; i < n; i++) {
        if (max == 0 || counts[i] == 0) {
            eighths[i] = 0;
            continue;
        }
        /* Round to nearest eighth: (count * rows * 8 + max/2) / max. */
        long e = (counts[i] * rows * 8 + max / 2) / max;
        eighths[i] = e < 1 ? 1 : (int)e;
    }
}

static void short_num(double v, char *buf, size_t size)
{
    if (v >= 1e6)
        snprintf(buf, size, "%.1fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, size, "%.0fk", v / 1e3);
    else
        snprintf(buf, size, "%.0f", v);
}

void tb_draw_histogram(WINDOW *win, int y, int x, int h, int w, const tb_histogram *hist, const char *title,
                       tb_role role)
{
    static const char *const blocks[9] = {" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    if (h < 4 || w < 12)
        return;
    tb_draw_text(win, y, x, w, TB_ROLE_LABEL, title);
    int rows = h - 2, n = hist->n_bins;
    if (n <= 0 || hist->total == 0) {
        tb_draw_text(win, y + 1, x, w, TB_ROLE_DIM, "no values");
        return;
    }
    long max = 0;
    for (int i = 0; i < n; i++)
        if (hist->counts[i] > max)
            max = hist->counts[i];
    char ymax[16];
    short_num((double)max, ymax, sizeof ymax);
    int axis = (int)strlen(ymax) + 1;
    int plot_w = w - axis;
    int per = plot_w / n > 0 ? plot_w / n : 1; /* columns per bin */
    if (n * per > plot_w)
        n = plot_w / per;
    int e[TB_HIST_MAX_BINS];
    tb_hist_heights(hist->counts, n, rows, e);
    tb_draw_text(win, y + 1, x, axis, TB_ROLE_DIM, ymax);
    tb_draw_text(win, y + rows, x, axis, TB_ROLE_DIM, "0");
    bool utf8 = tb_term_utf8();
    for (int b = 0; b < n; b++) {
        for (int r = 0; r < rows; r++) {
            int level = e[b] - (rows - 1 - r) * 8; /* eighths left for this row, from the bottom */
            const char *g = level >= 8 ? (utf8 ? blocks[8] : "#") : level > 0 ? (utf8 ? blocks[level] : (level >= 4 ? "#" : ".")) : NULL;
            if (!g)
                continue;
            for (int c = 0; c < per - (per > 2 ? 1 : 0); c++)
                tb_draw_text(win, y + 1 + r, x + axis + b * per + c, 1, role, g);
        }
    }
    char lo[16], hi[16], label[64];
    short_num(hist->edges[0], lo, sizeof lo);
    short_num(hist->edges[hist->n_bins], hi, sizeof hi);
    tb_draw_text(win, y + h - 1, x + axis, plot_w, TB_ROLE_DIM, lo);
    snprintf(label, sizeof label, "%s%s", hist->log_scale ? "log scale  " : "", hi);
    int lw = tb_text_width(label);
    tb_draw_text(win, y + h - 1, x + axis + n * per - lw, lw, TB_ROLE_DIM, label);
}
