/* tunebench — braille/ASCII line plots. */
#include "tui/widgets/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/widgets/draw.h"

/* Unicode braille: bit for the dot at (column 0..1, row 0..3) of a cell. */
static const uint8_t braille_bit[2][4] = {{0, 1, 2, 6}, {3, 4, 5, 7}};

bool tb_plot_canvas_resize(tb_plot_canvas *c, int w, int h)
{
    if (w < 1 || h < 1)
        return false;
    if (c->w == w && c->h == h && c->dots)
        return true;
    size_t n = (size_t)w * (size_t)h;
    uint8_t *d = realloc(c->dots, n);
    char *a = d ? realloc(c->ascii, n) : NULL;
    int8_t *s = a ? realloc(c->series, n) : NULL;
    if (d)
        c->dots = d;
    if (a)
        c->ascii = a;
    if (s)
        c->series = s;
    if (!d || !a || !s)
        return false;
    c->w = w;
    c->h = h;
    return true;
}

void tb_plot_canvas_free(tb_plot_canvas *c)
{
    free(c->dots);
    free(c->ascii);
    free(c->series);
    memset(c, 0, sizeof *c);
}

void tb_plot_ema(const double *y, size_t n, double alpha, double *out)
{
    double s = 0, weight = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            out[i] = (double)NAN;
            continue;
        }
        s = alpha * s + (1 - alpha) * y[i];
        weight = alpha * weight + (1 - alpha);
        out[i] = s / weight; /* debias: early values are not pulled toward 0 */
    }
}

static bool usable(double y, bool log_y) { return isfinite(y) && (!log_y || y > 0); }

static double ty(double y, bool log_y) { return log_y ? log10(y) : y; }

/* Range of the visible data, in transformed units. */
static void data_range(tb_plot_canvas *c, const tb_plot_series *s, int n, const double *const *ys,
                       const tb_plot_opts *o, double *lo, double *hi)
{
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = ys[k][i];
            if (!isfinite(x) || !usable(y, o->log_y))
                continue;
            if (!isnan(o->x_min) && x < o->x_min)
                continue;
            if (!isnan(o->x_max) && x > o->x_max)
                continue;
            if (x < xlo) xlo = x;
            if (x > xhi) xhi = x;
            double t = ty(y, o->log_y);
            if (t < ylo) ylo = t;
            if (t > yhi) yhi = t;
        }
    c->empty = !(xlo <= xhi);
    if (c->empty)
        return;
    if (!isnan(o->x_min) && o->x_min < xlo)
        xlo = o->x_min;
    if (!isnan(o->x_max) && o->x_max > xhi)
        xhi = o->x_max;
    if (xhi == xlo) { /* one point (or one step): centre it */
        xlo -= 1;
        xhi += 1;
    }
    if (yhi == ylo) { /* flat: give it a band so it is drawn mid-height */
        double pad = fabs(ylo) > 1e-12 ? fabs(ylo) * 0.1 : 1.0;
        if (o->log_y)
            pad = 0.5;
        ylo -= pad;
        yhi += pad;
    } else { /* a little headroom */
        double pad = (yhi - ylo) * 0.05;
        ylo -= pad;
        yhi += pad;
    }
    c->x_lo = xlo;
    c->x_hi = xhi;
    *lo = ylo;
    *hi = yhi;
}

static void set_pixel(tb_plot_canvas *c, int px, int py, int series, char glyph)
{
    if (px < 0 || py < 0 || px >= c->w * 2 || py >= c->h * 4)
        return;
    int cx = px / 2, cy = py / 4;
    size_t i = (size_t)cy * (size_t)c->w + (size_t)cx;
    c->dots[i] |= (uint8_t)(1u << braille_bit[px % 2][py % 4]);
    c->ascii[i] = glyph;
    c->series[i] = (int8_t)series;
}

static void line(tb_plot_canvas *c, int x0, int y0, int x1, int y1, int series, char glyph)
{
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
    int dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
    int e = dx + dy;
    for (;;) {
        set_pixel(c, x0, y0, series, glyph);
        if (x0 == x1 && y0 == y1)
            break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

void tb_plot_render(tb_plot_canvas *c, const tb_plot_series *s, int n, const tb_plot_opts *o)
{
    size_t cells = (size_t)c->w * (size_t)c->h;
    memset(c->dots, 0, cells);
    memset(c->ascii, 0, cells);
    memset(c->series, -1, cells);
    if (n > TB_PLOT_MAX_SERIES)
        n = TB_PLOT_MAX_SERIES;

    /* Smoothed copies where asked. */
    double *smooth[TB_PLOT_MAX_SERIES] = {0};
    const double *ys[TB_PLOT_MAX_SERIES];
    for (int k = 0; k < n; k++) {
        ys[k] = s[k].y;
        if (s[k].smooth && o->ema > 0 && o->ema < 1 && s[k].n > 0 && (smooth[k] = malloc(s[k].n * sizeof(double)))) {
            tb_plot_ema(s[k].y, s[k].n, o->ema, smooth[k]);
            ys[k] = smooth[k];
        }
    }
    double lo = 0, hi = 1;
    data_range(c, s, n, ys, o, &lo, &hi);
    if (!c->empty) {
        c->y_lo = o->log_y ? pow(10, lo) : lo;
        c->y_hi = o->log_y ? pow(10, hi) : hi;
        int W = c->w * 2, H = c->h * 4;
        for (int k = 0; k < n; k++) {
            bool have_prev = false;
            int px0 = 0, py0 = 0;
            for (size_t i = 0; i < s[k].n; i++) {
                double x = s[k].x[i], y = ys[k][i];
                bool in = isfinite(x) && usable(y, o->log_y) && !(x < c->x_lo) && !(x > c->x_hi);
                if (!in) {
                    have_prev = false; /* a gap, not a line through it */
                    continue;
                }
                int px = (int)lround((x - c->x_lo) / (c->x_hi - c->x_lo) * (W - 1));
                int py = (int)lround((1.0 - (ty(y, o->log_y) - lo) / (hi - lo)) * (H - 1));
                if (s[k].markers) {
                    /* a 2x2 dot cluster: a sparse series stays visible between lines */
                    set_pixel(c, px, py, k, s[k].glyph);
                    set_pixel(c, px + 1, py, k, s[k].glyph);
                    set_pixel(c, px, py + 1, k, s[k].glyph);
                    set_pixel(c, px + 1, py + 1, k, s[k].glyph);
                }
                if (have_prev)
                    line(c, px0, py0, px, py, k, s[k].glyph);
                else
                    set_pixel(c, px, py, k, s[k].glyph);
                have_prev = true;
                px0 = px;
                py0 = py;
            }
        }
        if (o->has_best && isfinite(o->best_x) && usable(o->best_y, o->log_y) && o->best_x >= c->x_lo &&
            o->best_x <= c->x_hi) {
            int px = (int)lround((o->best_x - c->x_lo) / (c->x_hi - c->x_lo) * (W - 1));
            int py = (int)lround((1.0 - (ty(o->best_y, o->log_y) - lo) / (hi - lo)) * (H - 1));
            size_t i = (size_t)(py / 4) * (size_t)c->w + (size_t)(px / 2);
            c->series[i] = -2;
            c->ascii[i] = '@';
        }
    }
    for (int k = 0; k < n; k++)
        free(smooth[k]);
}

void tb_plot_format_value(double v, char *buf, size_t size)
{
    double a = fabs(v);
    if (!isfinite(v))
        snprintf(buf, size, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    else if (a == 0)
        snprintf(buf, size, "0");
    else if (a >= 1e5)
        snprintf(buf, size, "%.2g", v);
    else if (a >= 1000)
        snprintf(buf, size, "%.1fk", v / 1000);
    else if (a >= 10)
        snprintf(buf, size, "%.1f", v);
    else if (a >= 0.01)
        snprintf(buf, size, "%.3f", v);
    else
        snprintf(buf, size, "%.0e", v);
}

static void put_braille(WINDOW *win, int y, int x, uint8_t bits)
{
    /* U+2800 + bits, as UTF-8 (3 bytes) */
    unsigned cp = 0x2800u + bits;
    char s[4] = {(char)(0xE0 | (cp >> 12)), (char)(0x80 | ((cp >> 6) & 0x3F)), (char)(0x80 | (cp & 0x3F)), 0};
    mvwaddstr(win, y, x, s);
}

static const tb_role best_role = TB_ROLE_GOOD;

void tb_plot_draw(WINDOW *win, int y, int x, int h, int w, const tb_plot_series *s, int n, const tb_plot_opts *o,
                  tb_plot_canvas *canvas)
{
    const int axis_w = 8;            /* y labels + tick column */
    int ph = h - 3, pw = w - axis_w; /* legend row on top, two rows of x axis below */
    if (ph < 2 || pw < 4 || !tb_plot_canvas_resize(canvas, pw, ph))
        return;
    tb_plot_render(canvas, s, n, o);

    /* Legend. */
    int lx = x + axis_w;
    for (int k = 0; k < n && lx < x + w; k++) {
        if (!s[k].name)
            continue;
        char mark[8];
        snprintf(mark, sizeof mark, o->utf8 ? "━ " : "%c ", s[k].glyph);
        lx += tb_draw_text(win, y, lx, x + w - lx, s[k].role, mark);
        lx += tb_draw_textf(win, y, lx, x + w - lx, TB_ROLE_NORMAL, "%s%s  ", s[k].name,
                            s[k].smooth && o->ema > 0 && !o->terse_legend ? " (smoothed)" : "");
    }
    if (o->has_best && lx < x + w)
        lx += tb_draw_textf(win, y, lx, x + w - lx, best_role, "%s best", o->utf8 ? "◆" : "@");
    if (o->log_y && lx < x + w)
        tb_draw_text(win, y, lx + 2, x + w - lx - 2, TB_ROLE_DIM, "[log y]");

    if (canvas->empty) {
        tb_draw_text(win, y + 1 + ph / 2, x + axis_w + 2, pw - 2, TB_ROLE_DIM, "waiting for the first point…");
        return;
    }
    /* Y axis: top, middle, bottom labels. */
    char buf[32];
    for (int r = 0; r < ph; r++)
        tb_draw_text(win, y + 1 + r, x + axis_w - 1, 1, TB_ROLE_DIM, o->utf8 ? "┤" : "|");
    double mid = o->log_y ? sqrt(canvas->y_lo * canvas->y_hi) : (canvas->y_lo + canvas->y_hi) / 2;
    double labels[3] = {canvas->y_hi, mid, canvas->y_lo};
    int rows[3] = {0, (ph - 1) / 2, ph - 1};
    for (int i = 0; i < 3; i++) {
        tb_plot_format_value(labels[i], buf, sizeof buf);
        tb_draw_textf(win, y + 1 + rows[i], x, axis_w - 1, TB_ROLE_DIM, "%6s", buf);
    }
    /* Canvas. */
    for (int r = 0; r < ph; r++)
        for (int col = 0; col < pw; col++) {
            size_t i = (size_t)r * (size_t)pw + (size_t)col;
            int k = canvas->series[i];
            if (k == -1)
                continue;
            if (k == -2) {
                tb_draw_text(win, y + 1 + r, x + axis_w + col, 1, best_role, o->utf8 ? "◆" : "@");
                continue;
            }
            wattrset(win, tb_theme_attr(s[k].role));
            if (o->utf8)
                put_braille(win, y + 1 + r, x + axis_w + col, canvas->dots[i]);
            else
                mvwaddch(win, y + 1 + r, x + axis_w + col, (chtype)(unsigned char)canvas->ascii[i]);
            wattrset(win, tb_theme_attr(TB_ROLE_NORMAL));
        }
    /* X axis: first, middle, last step. */
    int ay = y + 1 + ph;
    wattrset(win, tb_theme_attr(TB_ROLE_DIM));
    for (int col = 0; col < pw; col++)
        mvwaddstr(win, ay, x + axis_w + col, o->utf8 ? "─" : "-");
    wattrset(win, tb_theme_attr(TB_ROLE_NORMAL));
    char l0[32], l1[32], l2[32];
    tb_plot_format_value(canvas->x_lo, l0, sizeof l0);
    tb_plot_format_value((canvas->x_lo + canvas->x_hi) / 2, l1, sizeof l1);
    tb_plot_format_value(canvas->x_hi, l2, sizeof l2);
    tb_draw_text(win, ay + 1, x + axis_w, 12, TB_ROLE_DIM, l0);
    tb_draw_text(win, ay + 1, x + axis_w + pw / 2 - (int)strlen(l1) / 2, 12, TB_ROLE_DIM, l1);
    tb_draw_textf(win, ay + 1, x + axis_w + pw - (int)strlen(l2) - 5, 12, TB_ROLE_DIM, "%s step", l2);
}

void tb_sparkline_draw(WINDOW *win, int y, int x, int w, const double *v, size_t n, tb_role role, bool utf8)
{
    static const char *const blocks[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ascii[8] = {'_', '.', '-', '~', '=', '+', '*', '#'};
    if (w <= 0 || n == 0)
        return;
    size_t first = n > (size_t)w ? n - (size_t)w : 0;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = first; i < n; i++)
        if (isfinite(v[i])) {
            if (v[i] < lo) lo = v[i];
            if (v[i] > hi) hi = v[i];
        }
    if (!(lo <= hi))
        return;
    wattrset(win, tb_theme_attr(role));
    for (size_t i = first; i < n; i++) {
        int col = (int)(i - first);
        if (!isfinite(v[i])) {
            mvwaddstr(win, y, x + col, "!");
            continue;
        }
        int level = hi > lo ? (int)lround((v[i] - lo) / (hi - lo) * 7) : 3;
        if (utf8)
            mvwaddstr(win, y, x + col, blocks[level]);
        else
            mvwaddch(win, y, x + col, (chtype)ascii[level]);
    }
    wattrset(win, tb_theme_attr(TB_ROLE_NORMAL));
}
