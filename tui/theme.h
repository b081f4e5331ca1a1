/* tunebench — semantic colors (STYLE.md rule 8: colors only through this table).
 *
 * Screens ask for a role ("warning", "selected"), never a color pair. With NO_COLOR set
 * or on a monochrome terminal every role maps to plain attributes (bold, reverse,
 * underline) chosen so the UI stays readable. */
#ifndef TB_TUI_THEME_H
#define TB_TUI_THEME_H

#include <stdbool.h>

typedef enum tb_role {
    TB_ROLE_NORMAL = 0,
    TB_ROLE_TITLE,        /* app name in the header */
    TB_ROLE_HEADER,       /* header bar background */
    TB_ROLE_TAB,          /* inactive tab */
    TB_ROLE_TAB_ACTIVE,   /* the current screen's tab */
    TB_ROLE_FKEY,         /* key name in the footer ("F1") */
    TB_ROLE_FKEY_LABEL,   /* its label */
    TB_ROLE_SELECTED,     /* selected row / focused field */
    TB_ROLE_LABEL,        /* form labels, column headers */
    TB_ROLE_VALUE,        /* values the user set */
    TB_ROLE_DIM,          /* secondary text */
    TB_ROLE_GOOD,
    TB_ROLE_WARN,
    TB_ROLE_ERROR,
    TB_ROLE_INFO,
    TB_ROLE_ACCENT,       /* the recommendation, the highlighted result */
    TB_ROLE_BORDER,
    TB_ROLE_DIALOG,
    TB_ROLE_DIALOG_TITLE,
    TB_ROLE_SERIES1,      /* plot series / bar colors, distinct in color mode */
    TB_ROLE_SERIES2,
    TB_ROLE_SERIES3,
    TB_ROLE_SERIES4,
    TB_ROLE_SERIES5,
    TB_ROLE_SERIES6,
    TB_ROLE_COUNT
} tb_role;

/* Color or monochrome: NO_COLOR set to a non-empty value (no-color.org) or a terminal
 * without colors gives monochrome. Pure; testable without a terminal. */
bool tb_theme_wants_color(const char *no_color_env, bool terminal_has_colors);

/* Set up the table for the chosen mode (after initscr; init_pair only in color mode). */
void tb_theme_setup(bool color);
bool tb_theme_is_color(void);

/* Curses attributes (pair + bold/reverse...) for a role in the current mode. */
int tb_theme_attr(tb_role role);

/* What a role resolves to in a mode, for tests: fg/bg (-1 default) and attributes. */
typedef struct tb_role_style {
    short fg, bg;
    int attrs;
} tb_role_style;
tb_role_style tb_theme_style(tb_role role, bool color);

#endif
