/* tunebench — horizontal bars. */
#include "tui/widgets/bar.h"

#include <math.h>

#include "tui/widgets/draw.h"

static const char *const eighths[9] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"};

void tb_draw_bar(WINDOW *win, int y, int x, int w, double value, double max, tb_role role)
{
    if (w <= 0 || !(value > 0) || !(max > 0))
        return;
    double frac = value / max;
    if (frac > 1)
        frac = 1;
    bool utf8 = tb_term_utf8();
    int units = (int)lround(frac * w * (utf8 ? 8 : 1));
    int full = utf8 ? units / 8 : units;
    int rest = utf8 ? units % 8 : 0;
    if (full == 0 && rest == 0)
        rest = utf8 ? 1 : 0, full = utf8 ? 0 : 1; /* any positive value shows */
    wattrset(win, tb_theme_attr(role));
    wmove(win, y, x);
    for (int i = 0; i < full; i++)
        waddstr(win, utf8 ? eighths[8] : "#");
    if (rest)
        waddstr(win, eighths[rest]);
    wattrset(win, tb_theme_attr(TB_ROLE_NORMAL));
}

void tb_draw_stacked_bar(WINDOW *win, int y, int x, int w, const double *parts, const tb_role *roles, int n,
                         double total)
{
    if (w <= 0 || !(total > 0))
        return;
    static const char *const mono_glyphs[] = {"#", "=", "+", ":", ".", "%"};
    bool utf8 = tb_term_utf8();
    bool color = tb_theme_is_color();
    double acc = 0;
    int col = 0;
    for (int i = 0; i < n; i++) {
        acc += parts[i] > 0 ? parts[i] : 0;
        int end = (int)lround(acc / total * w);
        if (end > w)
            end = w;
        wattrset(win, tb_theme_attr(roles[i]));
        for (; col < end; col++)
            mvwaddstr(win, y, x + col, color ? (utf8 ? "█" : "#") : mono_glyphs[i % 6]);
    }
    wattrset(win, tb_theme_attr(TB_ROLE_NORMAL));
}
