/* tunebench — line plots in the terminal: braille dots (2x4 per cell) or ASCII.
 *
 * collect()/draw() split (btop): tb_plot_render() turns series into a canvas of cells — pure,
 * unit-tested without a terminal — and tb_plot_draw() only puts the canvas on a window.
 * Handles what live training curves throw at it: one point, two points, NaN/Inf (gaps),
 * log-y with non-positive values (skipped), EMA smoothing, a best-step marker, zoom. */
#ifndef TB_WIDGETS_PLOT_H
#define TB_WIDGETS_PLOT_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tui/theme.h"

#define TB_PLOT_MAX_SERIES 12 /* e.g. six runs overlaid, each a train line + eval dots */

typedef struct tb_plot_series {
    const char *name;      /* legend text; NULL = not in the legend (a run's second series) */
    const double *x;       /* (n) steps, increasing */
    const double *y;       /* (n) values; NaN/Inf = gap */
    size_t n;
    tb_role role;          /* color */
    char glyph;            /* ASCII mode / monochrome legend mark ('*', '+', 'o') */
    bool smooth;           /* apply the EMA option to this series */
    bool markers;          /* draw each point as a dot cluster (sparse series like eval) */
} tb_plot_series;

typedef struct tb_plot_opts {
    bool utf8;             /* braille when true, ASCII glyphs when false */
    bool log_y;            /* log10 scale; non-positive values are skipped */
    double ema;            /* 0 = off; else smoothing factor in (0,1): s = a*s + (1-a)*y (TensorBoard style, debiased) */
    double x_min, x_max;   /* NaN = from the data (zoom sets x_min) */
    bool has_best;         /* mark (best_x, best_y) */
    double best_x, best_y;
    bool terse_legend;     /* no " (smoothed)" per series: the caller says it once (a title) */
} tb_plot_opts;

/* The rendered plot area: cells of w x h, each with a braille dot mask (or ASCII glyph) and
 * the role of the series drawn last in it. */
typedef struct tb_plot_canvas {
    int w, h;
    uint8_t *dots;         /* (h, w) braille bits, bit k = dot k in Unicode order */
    char *ascii;           /* (h, w) ASCII glyph or 0 */
    int8_t *series;        /* (h, w) index of the series owning the cell, -1 empty, -2 best marker */
    double y_lo, y_hi;     /* value range shown (in data units, not log) */
    double x_lo, x_hi;
    bool empty;            /* nothing plottable */
} tb_plot_canvas;

/* Allocate/resize a canvas (reuse across frames). */
bool tb_plot_canvas_resize(tb_plot_canvas *c, int w, int h);
void tb_plot_canvas_free(tb_plot_canvas *c);

/* Render series into the canvas. */
void tb_plot_render(tb_plot_canvas *c, const tb_plot_series *s, int n, const tb_plot_opts *o);

/* EMA of y (gaps stay gaps, debiased like TensorBoard) into out (n). */
void tb_plot_ema(const double *y, size_t n, double alpha, double *out);

/* "1.23", "12.3k", "1e-4": axis labels that fit in 6 columns. */
void tb_plot_format_value(double v, char *buf, size_t size);

/* Draw a whole chart (axes, labels, legend, canvas) in the rectangle. */
void tb_plot_draw(WINDOW *win, int y, int x, int h, int w, const tb_plot_series *s, int n, const tb_plot_opts *o,
                  tb_plot_canvas *canvas);

/* A one-row sparkline of the last w values (▁..█ or ASCII). */
void tb_sparkline_draw(WINDOW *win, int y, int x, int w, const double *v, size_t n, tb_role role, bool utf8);

#endif
