/* tunebench — progress bar with ETA. */
#include "tui/widgets/progress.h"

#include <stdio.h>

#include "tui/widgets/bar.h"
#include "tui/widgets/draw.h"

void tb_eta_format(double elapsed_s, double fraction, char *buf, size_t size)
{
    buf[0] = '\0';
    if (fraction < 0.01 || elapsed_s < 0.5 || fraction >= 1)
        return;
    /* Constant rate so far: left = elapsed * (1 - f) / f. */
    double left = elapsed_s * (1 - fraction) / fraction;
    if (left < 60)
        snprintf(buf, size, "%.0f s left", left < 1 ? 1 : left);
    else if (left < 3600)
        snprintf(buf, size, "%.0f min left", left / 60);
    else
        snprintf(buf, size, "%.1f h left", left / 3600);
}

void tb_draw_progress(WINDOW *win, int y, int x, int w, double fraction, double elapsed_s, const char *label)
{
    if (fraction < 0)
        fraction = 0;
    if (fraction > 1)
        fraction = 1;
    char eta[32], tail[256];
    tb_eta_format(elapsed_s, fraction, eta, sizeof eta);
    snprintf(tail, sizeof tail, " %3.0f%%  %s  %s", fraction * 100, eta, label ? label : "");
    int bw = w / 3;
    if (bw < 10)
        bw = 10;
    tb_draw_text(win, y, x, 1, TB_ROLE_DIM, "[");
    tb_draw_fill(win, y, x + 1, bw, TB_ROLE_NORMAL);
    tb_draw_bar(win, y, x + 1, bw, fraction, 1.0, TB_ROLE_ACCENT);
    tb_draw_text(win, y, x + 1 + bw, 1, TB_ROLE_DIM, "]");
    tb_draw_text(win, y, x + bw + 2, w - bw - 2, TB_ROLE_NORMAL, tail);
}
