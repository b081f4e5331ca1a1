/* tunebench — semantic colors. */
#include "tui/theme.h"

#include <curses.h>

typedef struct role_def {
    short fg, bg;
    int color_attrs;   /* extra attributes in color mode */
    int mono_attrs;    /* attributes in monochrome mode */
} role_def;

/* -1 = terminal default (use_default_colors). Monochrome keeps meaning with attributes:
 * selection and tabs reverse, warnings bold, errors bold+underline, dim text dim. */
static const role_def roles[TB_ROLE_COUNT] = {
    [TB_ROLE_NORMAL] = {-1, -1, 0, 0},
    [TB_ROLE_TITLE] = {COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD},
    [TB_ROLE_HEADER] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [TB_ROLE_TAB] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [TB_ROLE_TAB_ACTIVE] = {COLOR_WHITE, COLOR_BLUE, A_BOLD, A_BOLD | A_UNDERLINE},
    [TB_ROLE_FKEY] = {-1, -1, A_BOLD, A_BOLD},
    [TB_ROLE_FKEY_LABEL] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [TB_ROLE_SELECTED] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [TB_ROLE_LABEL] = {COLOR_CYAN, -1, 0, 0},
    [TB_ROLE_VALUE] = {-1, -1, A_BOLD, A_BOLD},
    [TB_ROLE_DIM] = {-1, -1, A_DIM, A_DIM},
    [TB_ROLE_GOOD] = {COLOR_GREEN, -1, A_BOLD, A_BOLD},
    [TB_ROLE_WARN] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [TB_ROLE_ERROR] = {COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [TB_ROLE_INFO] = {COLOR_BLUE, -1, A_BOLD, 0},
    [TB_ROLE_ACCENT] = {COLOR_GREEN, -1, A_BOLD, A_BOLD | A_REVERSE},
    [TB_ROLE_BORDER] = {COLOR_BLUE, -1, 0, 0},
    [TB_ROLE_DIALOG] = {COLOR_WHITE, COLOR_BLUE, 0, A_REVERSE},
    [TB_ROLE_DIALOG_TITLE] = {COLOR_YELLOW, COLOR_BLUE, A_BOLD, A_REVERSE | A_BOLD},
    [TB_ROLE_SERIES1] = {COLOR_CYAN, -1, A_BOLD, 0},
    [TB_ROLE_SERIES2] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [TB_ROLE_SERIES3] = {COLOR_GREEN, -1, A_BOLD, 0},
    [TB_ROLE_SERIES4] = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD},
    [TB_ROLE_SERIES5] = {COLOR_RED, -1, A_BOLD, 0},
    [TB_ROLE_SERIES6] = {COLOR_BLUE, -1, A_BOLD, A_BOLD},
};

static bool g_color;
static int g_attr[TB_ROLE_COUNT];

bool tb_theme_wants_color(const char *no_color_env, bool terminal_has_colors)
{
    if (no_color_env && no_color_env[0])
        return false;
    return terminal_has_colors;
}

tb_role_style tb_theme_style(tb_role role, bool color)
{
    tb_role_style s = {-1, -1, 0};
    if ((unsigned)role >= TB_ROLE_COUNT)
        return s;
    if (color) {
        s.fg = roles[role].fg;
        s.bg = roles[role].bg;
        s.attrs = roles[role].color_attrs;
    } else {
        s.attrs = roles[role].mono_attrs;
    }
    return s;
}

void tb_theme_setup(bool color)
{
    g_color = color;
    if (color) {
        start_color();
        use_default_colors();
    }
    for (int r = 0; r < TB_ROLE_COUNT; r++) {
        tb_role_style s = tb_theme_style((tb_role)r, color);
        int attr = s.attrs;
        if (color && (s.fg != -1 || s.bg != -1)) {
            init_pair((short)(r + 1), s.fg, s.bg);
            attr |= (int)COLOR_PAIR(r + 1);
        }
        g_attr[r] = attr;
    }
}

bool tb_theme_is_color(void) { return g_color; }

int tb_theme_attr(tb_role role)
{
    return (unsigned)role < TB_ROLE_COUNT ? g_attr[role] : 0;
}
