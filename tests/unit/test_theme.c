/* Theme: NO_COLOR / monochrome terminals resolve every role to readable attributes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <curses.h>

#include "tui/theme.h"

static void test_no_color_env(void **state)
{
    (void)state;
    assert_false(tb_theme_wants_color("1", true));
    assert_false(tb_theme_wants_color("anything", true));
    assert_true(tb_theme_wants_color("", true));   /* no-color.org: empty means unset */
    assert_true(tb_theme_wants_color(NULL, true));
    assert_false(tb_theme_wants_color(NULL, false)); /* monochrome terminal */
}

static void test_mono_roles_use_no_colors(void **state)
{
    (void)state;
    for (int r = 0; r < TB_ROLE_COUNT; r++) {
        tb_role_style s = tb_theme_style((tb_role)r, false);
        assert_int_equal(s.fg, -1);
        assert_int_equal(s.bg, -1);
    }
}

static void test_mono_keeps_meaning(void **state)
{
    (void)state;
    /* Without color the selection and the active tab must still stand out, and errors
     * must look different from warnings. */
    assert_true(tb_theme_style(TB_ROLE_SELECTED, false).attrs & A_REVERSE);
    assert_true(tb_theme_style(TB_ROLE_TAB_ACTIVE, false).attrs != tb_theme_style(TB_ROLE_TAB, false).attrs);
    assert_true(tb_theme_style(TB_ROLE_ERROR, false).attrs != tb_theme_style(TB_ROLE_WARN, false).attrs);
    assert_true(tb_theme_style(TB_ROLE_ACCENT, false).attrs != 0);
    /* In color mode roles that carry meaning have a color. */
    assert_int_not_equal(tb_theme_style(TB_ROLE_ERROR, true).fg, -1);
    assert_int_not_equal(tb_theme_style(TB_ROLE_SELECTED, true).bg, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_color_env),
        cmocka_unit_test(test_mono_roles_use_no_colors),
        cmocka_unit_test(test_mono_keeps_meaning),
    };
    return cmocka_run_group_tests_name("theme", tests, NULL, NULL);
}
