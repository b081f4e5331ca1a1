/* tunebench — the Data screen's state, shared by its logic (data_screen.c) and its drawing
 * (data_view.c). The validation itself is validators/validate.h, run on a worker thread so
 * a large file loads with a progress bar while the screen stays responsive. */
#ifndef TB_SCREENS_DATA_SCREEN_H
#define TB_SCREENS_DATA_SCREEN_H

#include <pthread.h>
#include <stdatomic.h>

#include "tui/screen.h"
#include "tui/widgets/pathentry.h"
#include "tui/widgets/table.h"
#include "tui/widgets/textview.h"
#include "validators/validate.h"

typedef enum { DF_PATH = 0, DF_CHECKS, DF_FINDINGS } data_focus;
typedef enum { DV_FINDINGS = 0, DV_LENGTHS } data_mode;

typedef struct data_rect {
    int y, x, h, w;
} data_rect;

typedef struct data_screen {
    tb_screen base;
    tb_pathentry path;
    data_focus focus, focus_back;
    data_mode mode;

    /* the background job (a validation, or one that also writes the --fix copy) */
    pthread_t thread;
    bool running, job_fix;
    atomic_bool done, cancel;
    _Atomic long progress_ppm, progress_rows;
    double started;
    tb_validate_opts job_opts;
    char job_path[4096], job_fix_path[4096], job_model[4096];
    tb_report job_report;
    tb_error job_err;
    tb_status job_status;

    /* the loaded result */
    bool have;
    tb_report rep;
    char status[256];
    int check_rows[TB_CHECK_MAX + 1]; /* checks table row → check (-1 = all) */
    int n_check_rows;
    tb_table checks, findings;
    tb_table_column check_cols[5], finding_cols[5]; /* widths follow the window */
    int *shown;                       /* findings table row → index in rep.findings (the filter) */
    int n_shown;
    int check_filter;                 /* -1: all checks */
    int sev_filter;                   /* -1: all severities */
    data_rect checks_at, findings_at; /* where the tables were drawn (mouse) */

    /* the example view */
    bool detail_open;
    char *detail_text;
    size_t detail_len;
    tb_span spans[64];
    int n_spans;
    tb_textview tv;
    size_t tv_reveal;                 /* byte to scroll into view on the first layout */

    /* "fix and save as..." */
    bool fix_open;
    tb_pathentry fix_path;
} data_screen;

/* data_screen.c: the finding under the findings table's cursor, -1 when none. */
int tb_data_cursor_finding(const data_screen *d);

/* data_view.c */
void tb_data_draw(data_screen *d, WINDOW *win, int h, int w);
/* Build the example text of the selected finding (re-reading its row from the file). */
void tb_data_open_detail(data_screen *d);
void tb_data_close_detail(data_screen *d);

#endif
