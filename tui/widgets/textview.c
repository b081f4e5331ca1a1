/* tunebench — text view with highlights. */
#include "tui/widgets/textview.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "tui/screen.h"
#include "tui/widgets/draw.h"

void tb_textview_set(tb_textview *v, const char *text, size_t len, const tb_span *spans, int n_spans)
{
    v->text = text;
    v->len = len;
    v->spans = spans;
    v->n_spans = n_spans;
    v->width = 0; /* layout again */
    v->top = 0;
}

void tb_textview_free(tb_textview *v)
{
    free(v->lines);
    memset(v, 0, sizeof *v);
}

int tb_textview_char(const char *s, size_t avail, size_t *bytes)
{
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *bytes = 1;
        return 1; /* ASCII, control characters included (one glyph each) */
    }
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    size_t n = mbrtowc(&wc, s, avail < MB_CUR_MAX ? avail : MB_CUR_MAX, &st);
    if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
        *bytes = 1;
        return 1;
    }
    *bytes = n;
    int w = wcwidth(wc);
    return w < 0 ? 1 : w; /* C1 controls: one replacement glyph */
}

static bool push_line(tb_textview *v, size_t off)
{
    if (v->n_lines + 1 >= v->cap_lines) {
        int ncap = v->cap_lines ? v->cap_lines * 2 : 64;
        size_t *nl = realloc(v->lines, (size_t)ncap * sizeof *nl);
        if (!nl)
            return false;
        v->lines = nl;
        v->cap_lines = ncap;
    }
    v->lines[v->n_lines++] = off;
    return true;
}

int tb_textview_layout(tb_textview *v, int width)
{
    if (width < 1)
        width = 1;
    v->n_lines = 0;
    v->width = width;
    size_t i = 0;
    if (!push_line(v, 0))
        return 0;
    int col = 0;
    size_t last_space = (size_t)-1; /* byte after the last space on this line */
    while (i < v->len) {
        if (v->text[i] == '\n') {
            i++;
            if (i < v->len && !push_line(v, i))
                return 0;
            col = 0;
            last_space = (size_t)-1;
            continue;
        }
        size_t nb;
        int cw = tb_textview_char(v->text + i, v->len - i, &nb);
        if (col + cw > width && col > 0) {
            /* Break after the last space when there is one on this line, else here. */
            size_t brk = last_space != (size_t)-1 ? last_space : i;
            if (!push_line(v, brk))
                return 0;
            /* Recount the columns already on the new line. */
            col = 0;
            for (size_t k = brk; k < i;) {
                size_t b;
                col += tb_textview_char(v->text + k, v->len - k, &b);
                k += b;
            }
            last_space = (size_t)-1;
        }
        if (v->text[i] == ' ')
            last_space = i + 1;
        col += cw;
        i += nb;
    }
    v->lines[v->n_lines] = v->len;
    return v->n_lines;
}

int tb_textview_line_of(const tb_textview *v, size_t off)
{
    int lo = 0, hi = v->n_lines - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (v->lines[mid] <= off)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static void clamp_top(tb_textview *v)
{
    int page = v->page > 0 ? v->page : 1;
    if (v->top > v->n_lines - page)
        v->top = v->n_lines - page;
    if (v->top < 0)
        v->top = 0;
}

void tb_textview_reveal(tb_textview *v, size_t off)
{
    int line = tb_textview_line_of(v, off);
    int page = v->page > 0 ? v->page : 10;
    if (line < v->top || line >= v->top + page)
        v->top = line - page / 4;
    clamp_top(v);
}

int tb_textview_key(tb_textview *v, int key)
{
    int old = v->top, page = v->page > 1 ? v->page - 1 : 1;
    switch (key) {
    case KEY_UP:
    case 'k': v->top--; break;
    case KEY_DOWN:
    case 'j': v->top++; break;
    case KEY_PPAGE: v->top -= page; break;
    case KEY_NPAGE:
    case ' ': v->top += page; break;
    case KEY_HOME:
    case 'g': v->top = 0; break;
    case KEY_END:
    case 'G': v->top = v->n_lines; break;
    default: return TB_UI_IGNORED;
    }
    clamp_top(v);
    return TB_UI_HANDLED | (v->top != old ? TB_UI_REDRAW : 0);
}

static tb_role role_at(const tb_textview *v, size_t off, tb_role base)
{
    for (int s = 0; s < v->n_spans; s++)
        if (off >= v->spans[s].off && off < v->spans[s].off + v->spans[s].len)
            return v->spans[s].role;
    return base;
}

/* The glyph for a control character: U+2400 + code (Control Pictures), ␡ for DEL. */
static void control_glyph(unsigned char c, char *out)
{
    if (!tb_term_utf8()) {
        strcpy(out, "?");
        return;
    }
    unsigned cp = c == 0x7F ? 0x2421 : 0x2400 + c;
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    out[3] = '\0';
}

void tb_textview_draw(tb_textview *v, WINDOW *win, int y, int x, int h, int w, tb_role base)
{
    if (w < 1 || h < 1)
        return;
    if (v->width != w)
        tb_textview_layout(v, w);
    v->page = h;
    clamp_top(v);
    for (int r = 0; r < h && v->top + r < v->n_lines; r++) {
        size_t a = v->lines[v->top + r], b = v->lines[v->top + r + 1];
        int col = 0;
        for (size_t i = a; i < b && col < w;) {
            if (v->text[i] == '\n')
                break;
            size_t nb;
            int cw = tb_textview_char(v->text + i, v->len - i, &nb);
            unsigned char c = (unsigned char)v->text[i];
            char glyph[8];
            if (c < 0x20 || c == 0x7F) {
                control_glyph(c, glyph);
            } else if (c == 0xC2 && nb == 2 && (unsigned char)v->text[i + 1] < 0xA0) {
                strcpy(glyph, tb_term_utf8() ? "\xEF\xBF\xBD" : "?"); /* C1 control: U+FFFD */
            } else {
                memcpy(glyph, v->text + i, nb);
                glyph[nb] = '\0';
            }
            tb_draw_text(win, y + r, x + col, w - col, role_at(v, i, base), glyph);
            col += cw;
            i += nb;
        }
    }
}
