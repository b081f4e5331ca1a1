/* CSV export: read back with libcsv's parser (the oracle for quoting), every value exact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <csv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/io/run_export.h"

enum { MAX_ROWS = 8 };

typedef struct parsed {
    char cell[MAX_ROWS][TB_RUN_EXPORT_COLUMNS][128];
    int cols[MAX_ROWS];
    int row;
} parsed;

static void on_field(void *s, size_t len, void *data)
{
    parsed *p = data;
    if (p->row < MAX_ROWS && p->cols[p->row] < TB_RUN_EXPORT_COLUMNS) {
        int c = p->cols[p->row];
        snprintf(p->cell[p->row][c], sizeof p->cell[p->row][c], "%.*s", (int)len, s ? (const char *)s : "");
    }
    if (p->row < MAX_ROWS)
        p->cols[p->row]++;
}

static void on_row(int c, void *data)
{
    (void)c;
    ((parsed *)data)->row++;
}

static void parse(const char *text, size_t len, parsed *p)
{
    memset(p, 0, sizeof *p);
    struct csv_parser cp;
    assert_int_equal(csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI), 0);
    assert_int_equal(csv_parse(&cp, text, len, on_field, on_row, p), len);
    assert_int_equal(csv_fini(&cp, on_field, on_row, p), 0);
    csv_free(&cp);
}

/* rows=3, name with comma, quote and newline: 4 records of 10 fields, values exact. */
static void test_round_trip_through_libcsv(void **state)
{
    (void)state;
    tb_run_info run;
    tb_run_info_init(&run);
    run.id = 42;
    snprintf(run.name, sizeof run.name, "r16, \"wide\"\nv2");
    tb_metric_row rows[3] = {
        {.step = 1, .epoch = 0.1, .train_loss = 2.0 / 3.0, .eval_loss = NAN, .lr = 2e-4, .grad_norm = 1.25,
         .tokens_per_s = 5123.5, .wall_time = 0.75},
        {.step = 2, .epoch = 0.2, .train_loss = 0.1 + 0.2, .eval_loss = 1.875, .lr = 1.9999999999999998e-4,
         .grad_norm = INFINITY, .tokens_per_s = NAN, .wall_time = 1.5},
        {.step = 1000000, .epoch = 3, .train_loss = 1e-300, .eval_loss = NAN, .lr = 0, .grad_norm = NAN,
         .tokens_per_s = 1e9, .wall_time = 86400},
    };
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    tb_error err;
    assert_int_equal(tb_run_export_csv(fp, "memory", &run, rows, 3, &err), TB_OK);
    fclose(fp);
    parsed *p = calloc(1, sizeof *p);
    parse(buf, len, p);
    assert_int_equal(p->row, 4);
    for (int r = 0; r < 4; r++)
        assert_int_equal(p->cols[r], TB_RUN_EXPORT_COLUMNS);
    for (int c = 0; c < TB_RUN_EXPORT_COLUMNS; c++)
        assert_string_equal(p->cell[0][c], tb_run_export_columns[c]);
    for (int r = 0; r < 3; r++) {
        const tb_metric_row *m = &rows[r];
        assert_string_equal(p->cell[r + 1][0], "42");
        assert_string_equal(p->cell[r + 1][1], run.name);
        assert_int_equal(strtoll(p->cell[r + 1][2], NULL, 10), m->step);
        const double want[7] = {m->epoch, m->train_loss, m->eval_loss, m->lr, m->grad_norm, m->tokens_per_s,
                                m->wall_time};
        for (int k = 0; k < 7; k++) {
            const char *cell = p->cell[r + 1][3 + k];
            if (!isfinite(want[k]))
                assert_string_equal(cell, ""); /* unknown / non-finite: empty field */
            else
                assert_true(strtod(cell, NULL) == want[k]);
        }
    }
    /* Short numbers stay short: 0.1 is "0.1", not 0.10000000000000001. */
    assert_string_equal(p->cell[1][3], "0.1");
    /* The plain fields are not quoted; the name is. */
    assert_non_null(strstr(buf, "\r\n42,\"r16, \"\"wide\"\"\nv2\",1,0.1,"));
    free(p);
    free(buf);
}

/* rows=0: just the header. */
static void test_empty_run(void **state)
{
    (void)state;
    tb_run_info run;
    tb_run_info_init(&run);
    run.id = 1;
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    tb_error err;
    assert_int_equal(tb_run_export_csv(fp, "memory", &run, NULL, 0, &err), TB_OK);
    fclose(fp);
    assert_string_equal(buf, "run_id,run_name,step,epoch,train_loss,eval_loss,lr,grad_norm,tokens_per_s,wall_time\r\n");
    free(buf);
}

/* A full disk is reported, not ignored (/dev/full fails every write). */
static void test_write_error(void **state)
{
    (void)state;
    FILE *fp = fopen("/dev/full", "w");
    if (!fp)
        skip();
    tb_run_info run;
    tb_run_info_init(&run);
    tb_error err;
    assert_int_equal(tb_run_export_csv(fp, "/dev/full", &run, NULL, 0, &err), TB_ERR_IO);
    assert_string_equal(err.file, "/dev/full");
    fclose(fp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_through_libcsv),
        cmocka_unit_test(test_empty_run),
        cmocka_unit_test(test_write_error),
    };
    return cmocka_run_group_tests_name("run_export", tests, NULL, NULL);
}
