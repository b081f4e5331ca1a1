/* tunebench — drawing primitives. */
#include "tui/widgets/draw.h"

#include <langinfo.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

bool tb_term_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* Decode one character: its byte length and display width (invalid bytes: 1, 1). */
static size_t next_char(const char *s, int *width)
{
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *width = 1;
        return 1;
    }
    int w = wcwidth(wc);
    *width = w < 0 ? 1 : w;
    return n;
}

int tb_text_width(const char *s)
{
    int total = 0;
    while (*s) {
        int w;
        s += next_char(s, &w);
        total += w;
    }
    return total;
}

size_t tb_text_fit(const char *s, int cols)
{
    size_t bytes = 0;
    int used = 0;
    while (s[bytes]) {
        int w;
        size_t n = next_char(s + bytes, &w);
        if (used + w > cols)
            break;
        used += w;
        bytes += n;
    }
    return bytes;
}

int tb_draw_text(WINDOW *win, int y, int x, int w, tb_role role, const char *s)
{
    if (w <= 0 || !s)
        return 0;
    size_t n = tb_text_fit(s, w);
    wattrset(win, tb_theme_attr(role));
    mvwaddnstr(win, y, x, s, (int)n);
    wattrset(win, tb_theme_attr(TB_ROLE_NORMAL));
    char tmp[1024];
    if (n < sizeof tmp) {
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        return tb_text_width(tmp);
    }
    return w;
}

int tb_draw_textf(WINDOW *win, int y, int x, int w, tb_role role, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return tb_draw_text(win, y, x, w, role, buf);
}

int tb_draw_text_tail(WINDOW *win, int y, int x, int w, tb_role role, const char *s)
{
    if (w <= 0 || !s)
        return 0;
    int width = tb_text_width(s);
    if (width <= w)
        return tb_draw_text(win, y, x, w, role, s);
    /* Drop whole characters from the head until the rest fits beside the mark. */
    const char *p = s;
    while (*p && width > w - 1) {
        int cw;
        p += next_char(p, &cw);
        width -= cw;
    }
    int m = tb_draw_text(win, y, x, 1, role, tb_term_utf8() ? "…" : "~");
    return m + tb_draw_text(win, y, x + m, w - m, role, p);
}

void tb_draw_fill(WINDOW *win, int y, int x, int w, tb_role role)
{
    if (w <= 0)
        return;
    wattrset(win, tb_theme_attr(role));
    mvwhline(win, y, x, ' ', w);
    wattrset(win, tb_theme_attr(TB_ROLE_NORMAL));
}

int tb_draw_wrapped(WINDOW *win, int y, int x, int w, int max_lines, tb_role role, const char *s)
{
    if (w <= 0)
        return 0;
    int rows = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        /* Longest prefix that fits, broken at a space when there is one. */
        size_t fit = tb_text_fit(p, w);
        const char *nl = memchr(p, '\n', fit);
        size_t take = fit;
        if (nl) {
            take = (size_t)(nl - p);
        } else if (p[fit] != '\0') {
            size_t sp = fit;
            while (sp > 0 && p[sp] != ' ')
                sp--;
            if (sp > 0)
                take = sp;
        }
        if (max_lines > 0) {
            if (rows == max_lines - 1 && p[take] != '\0' && !(nl && p[take + 1] == '\0')) {
                /* Last allowed row and text remains: cut with an ellipsis. */
                char buf[1024];
                size_t cut = tb_text_fit(p, w - 1);
                if (nl && (size_t)(nl - p) < cut)
                    cut = (size_t)(nl - p); /* never print the newline itself */
                if (cut > sizeof buf - 8)
                    cut = sizeof buf - 8;
                memcpy(buf, p, cut);
                strcpy(buf + cut, tb_term_utf8() ? "…" : "~");
                tb_draw_text(win, y + rows, x, w, role, buf);
                return rows + 1;
            }
            char buf[1024];
            size_t n = take < sizeof buf - 1 ? take : sizeof buf - 1;
            memcpy(buf, p, n);
            buf[n] = '\0';
            tb_draw_text(win, y + rows, x, w, role, buf);
        }
        rows++;
        p += take;
        if (*p == '\n')
            p++;
    }
    return rows;
}

void tb_draw_box(WINDOW *win, int y, int x, int h, int w, tb_role role, const char *title)
{
    if (h < 2 || w < 2)
        return;
    /* Unicode box drawing in UTF-8 terminals (ACS line mode is not rendered by every
     * terminal multiplexer); plain ASCII otherwise. */
    bool u = tb_term_utf8();
    const char *hl = u ? "─" : "-", *vl = u ? "│" : "|";
    wattrset(win, tb_theme_attr(role));
    mvwaddstr(win, y, x, u ? "┌" : "+");
    mvwaddstr(win, y, x + w - 1, u ? "┐" : "+");
    mvwaddstr(win, y + h - 1, x, u ? "└" : "+");
    mvwaddstr(win, y + h - 1, x + w - 1, u ? "┘" : "+");
    for (int i = 1; i < w - 1; i++) {
        mvwaddstr(win, y, x + i, hl);
        mvwaddstr(win, y + h - 1, x + i, hl);
    }
    for (int i = 1; i < h - 1; i++) {
        mvwaddstr(win, y + i, x, vl);
        mvwaddstr(win, y + i, x + w - 1, vl);
    }
    wattrset(win, tb_theme_attr(TB_ROLE_NORMAL));
    if (title && title[0] && w > 6) {
        char buf[256];
        snprintf(buf, sizeof buf, " %s ", title);
        tb_draw_text(win, y, x + 2, w - 4, TB_ROLE_LABEL, buf);
    }
}
