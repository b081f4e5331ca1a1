/* The Data screen's widgets, their logic without a terminal: text wrapping and line lookup,
 * path completion on a real directory, histogram bar heights, ETA text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/screen.h"
#include "tui/widgets/histogram.h"
#include "tui/widgets/pathentry.h"
#include "tui/widgets/progress.h"
#include "tui/widgets/textview.h"

/* ---- text view ---------------------------------------------------------------------------- */

static void test_textview_wraps_at_spaces(void **state)
{
    (void)state;
    tb_textview v = {0};
    const char *text = "the quick brown fox\njumps over\n\nverylongwordwithoutspaces";
    tb_textview_set(&v, text, strlen(text), NULL, 0);
    /* width 10: "the quick " | "brown fox" | "jumps over" | "" | "verylongwo" | "rdwithouts" | "paces" */
    assert_int_equal(tb_textview_layout(&v, 10), 7);
    size_t want[] = {0, 10, 20, 31, 32, 42, 52};
    for (int i = 0; i < 7; i++)
        assert_int_equal(v.lines[i], want[i]);
    assert_int_equal(tb_textview_line_of(&v, 0), 0);
    assert_int_equal(tb_textview_line_of(&v, 12), 1);
    assert_int_equal(tb_textview_line_of(&v, 33), 4);
    assert_int_equal(tb_textview_line_of(&v, strlen(text) - 1), 6);
    /* Scrolling stops at the last page. */
    v.page = 3;
    tb_textview_key(&v, KEY_END);
    assert_int_equal(v.top, 4);
    tb_textview_reveal(&v, 0);
    assert_int_equal(v.top, 0);
    tb_textview_free(&v);
}

static void test_textview_utf8_and_controls(void **state)
{
    (void)state;
    size_t nb;
    assert_int_equal(tb_textview_char("\x07", 1, &nb), 1); /* a control is one visible glyph */
    assert_int_equal(nb, 1);
    assert_int_equal(tb_textview_char("\xC3\xA9", 2, &nb), 1);
    assert_int_equal(nb, 2);
    assert_int_equal(tb_textview_char("\xE4\xB8\xAD", 3, &nb), 2); /* 中 is two columns */
    tb_textview v = {0};
    const char *text = "\xE4\xB8\xAD\xE4\xB8\xAD\xE4\xB8\xAD"; /* six columns */
    tb_textview_set(&v, text, strlen(text), NULL, 0);
    assert_int_equal(tb_textview_layout(&v, 4), 2);
    assert_int_equal(v.lines[1], 6);
    tb_textview_free(&v);
}

/* ---- path completion ------------------------------------------------------------------------ */

static void test_path_completion(void **state)
{
    (void)state;
    char dir[] = "/tmp/tbcomplete-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[512];
    const char *files[] = {"data.jsonl", "data.csv", "notes.txt", ".hidden"};
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        FILE *f = fopen(p, "w");
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    mkdir(p, 0755);
    char in[512], out[512], matches[512];
    snprintf(in, sizeof in, "%s/da", dir);
    assert_int_equal(tb_path_complete(in, out, sizeof out, matches, sizeof matches), 2);
    snprintf(p, sizeof p, "%s/data.", dir);
    assert_string_equal(out, p); /* the common prefix */
    assert_non_null(strstr(matches, "data.csv data.jsonl"));
    snprintf(in, sizeof in, "%s/su", dir);
    assert_int_equal(tb_path_complete(in, out, sizeof out, matches, sizeof matches), 1);
    snprintf(p, sizeof p, "%s/sub/", dir);
    assert_string_equal(out, p); /* a lone directory gets its slash */
    snprintf(in, sizeof in, "%s/", dir);
    assert_int_equal(tb_path_complete(in, out, sizeof out, matches, sizeof matches), 4); /* not .hidden */
    snprintf(in, sizeof in, "%s/zz", dir);
    assert_int_equal(tb_path_complete(in, out, sizeof out, matches, sizeof matches), 0);
    assert_string_equal(out, in);
    /* The entry: typing, Ctrl-W, Tab, Enter. */
    tb_pathentry pe = {0};
    tb_pathentry_set(&pe, dir);
    tb_pathentry_key(&pe, '/');
    tb_pathentry_key(&pe, 'n');
    tb_pathentry_key(&pe, '\t');
    snprintf(p, sizeof p, "%s/notes.txt", dir);
    assert_string_equal(pe.text, p);
    tb_pathentry_key(&pe, 'W' & 0x1f);
    snprintf(p, sizeof p, "%s/", dir);
    assert_string_equal(pe.text, p);
    assert_true(tb_pathentry_key(&pe, '\n') & TB_PATH_SUBMIT);
    assert_true(tb_pathentry_key(&pe, 27) & TB_PATH_CANCEL);
    for (int i = 0; i < 4; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    rmdir(dir);
    setenv("HOME", "/home/someone", 1);
    tb_path_expand("~/x.jsonl", out, sizeof out);
    assert_string_equal(out, "/home/someone/x.jsonl");
}

/* ---- histogram, progress ---------------------------------------------------------------------- */

static void test_hist_heights_and_eta(void **state)
{
    (void)state;
    long counts[] = {0, 1, 50, 100, 25};
    int e[5];
    tb_hist_heights(counts, 5, 4, e); /* 4 rows = 32 eighths for the largest */
    assert_int_equal(e[0], 0);
    assert_int_equal(e[1], 1);  /* 0.32 eighths rounds to 0, but a count shows */
    assert_int_equal(e[2], 16);
    assert_int_equal(e[3], 32);
    assert_int_equal(e[4], 8);
    char buf[32];
    tb_eta_format(10, 0.5, buf, sizeof buf);
    assert_string_equal(buf, "10 s left");
    tb_eta_format(60, 0.25, buf, sizeof buf);
    assert_string_equal(buf, "3 min left");
    tb_eta_format(0.1, 0.5, buf, sizeof buf);
    assert_string_equal(buf, ""); /* too early to say */
    tb_eta_format(5, 1.0, buf, sizeof buf);
    assert_string_equal(buf, "");
}

int main(void)
{
    setlocale(LC_ALL, "C.UTF-8");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_textview_wraps_at_spaces),
        cmocka_unit_test(test_textview_utf8_and_controls),
        cmocka_unit_test(test_path_completion),
        cmocka_unit_test(test_hist_heights_and_eta),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
