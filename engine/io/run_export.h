/* tunebench — a run's metrics as CSV (`tunebench runs --export ID --csv`).
 *
 * Columns: run_id, run_name, step, epoch, train_loss, eval_loss, lr, grad_norm, tokens_per_s,
 * wall_time; one row per logged step; an unknown value (no eval at that step) is an empty
 * field. Numbers are written with the fewest digits that read back to the same double.
 * Fields that need quoting (the run name may hold commas, quotes, newlines) are quoted by
 * libcsv, so any RFC 4180 reader (pandas, spreadsheets) gets the values back exactly. */
#ifndef TB_IO_RUN_EXPORT_H
#define TB_IO_RUN_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "engine/core/error.h"
#include "engine/io/run_store.h"

#define TB_RUN_EXPORT_COLUMNS 10

/* The header names, in order (TB_RUN_EXPORT_COLUMNS). */
extern const char *const tb_run_export_columns[TB_RUN_EXPORT_COLUMNS];

/* Write header + rows to fp. `where` names the destination in errors ("stdout", a path). */
tb_status tb_run_export_csv(FILE *fp, const char *where, const tb_run_info *run, const tb_metric_row *rows, size_t n,
                            tb_error *err);

#endif
