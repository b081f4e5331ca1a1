/* Human-readable counts, bytes and durations: hand-checked values at each unit boundary. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "engine/core/units.h"

static void test_count(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(tb_format_count(-1, b, sizeof b), "-");
    assert_string_equal(tb_format_count(0, b, sizeof b), "0");
    assert_string_equal(tb_format_count(999, b, sizeof b), "999");
    assert_string_equal(tb_format_count(1000, b, sizeof b), "1.00k");
    assert_string_equal(tb_format_count(460800, b, sizeof b), "461k");
    assert_string_equal(tb_format_count(921600, b, sizeof b), "922k");
    assert_string_equal(tb_format_count(1843200, b, sizeof b), "1.84M");
    assert_string_equal(tb_format_count(134515008, b, sizeof b), "135M");
    assert_string_equal(tb_format_count(999999, b, sizeof b), "1.00M"); /* rounds up a unit, not "1000k" */
    assert_string_equal(tb_format_count(7000000000LL, b, sizeof b), "7.00B");
}

static void test_bytes(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(tb_format_bytes(-1, b, sizeof b), "-");
    assert_string_equal(tb_format_bytes(512, b, sizeof b), "512 B");
    assert_string_equal(tb_format_bytes(1536, b, sizeof b), "1.50 KiB");
    assert_string_equal(tb_format_bytes(14784921, b, sizeof b), "14.1 MiB");
    assert_string_equal(tb_format_bytes(2LL << 30, b, sizeof b), "2.00 GiB");
    assert_string_equal(tb_format_bytes((1LL << 20) - 1, b, sizeof b), "1.00 MiB");
}

static void test_duration(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(tb_format_duration(NAN, b, sizeof b), "-");
    assert_string_equal(tb_format_duration(-3, b, sizeof b), "-");
    assert_string_equal(tb_format_duration(42.4, b, sizeof b), "42s");
    assert_string_equal(tb_format_duration(187, b, sizeof b), "3m07s");
    assert_string_equal(tb_format_duration(3720, b, sizeof b), "1h02m");
    assert_string_equal(tb_format_duration(2 * 86400 + 3 * 3600 + 59, b, sizeof b), "2d03h");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_duration),
    };
    return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
