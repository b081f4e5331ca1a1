/* tunebench — a run's metrics as CSV. */
#include "engine/io/run_export.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *const tb_run_export_columns[TB_RUN_EXPORT_COLUMNS] = {
    "run_id", "run_name", "step", "epoch", "train_loss", "eval_loss", "lr", "grad_norm", "tokens_per_s", "wall_time",
};

/* A field: as is when a reader cannot misread it, else quoted by libcsv. */
static void put_field(FILE *fp, const char *text, bool first)
{
    if (!first)
        fputc(',', fp);
    size_t n = strlen(text);
    bool quote = strpbrk(text, ",\"\r\n") != NULL || (n > 0 && (text[0] == ' ' || text[n - 1] == ' '));
    if (quote)
        csv_fwrite(fp, text, n);
    else
        fputs(text, fp);
}

/* Shortest of %.15g / %.17g that reads back as the same double; "" when unknown. */
static void format_real(double v, char *buf, size_t size)
{
    if (!isfinite(v)) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, size, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, size, "%.17g", v);
}

tb_status tb_run_export_csv(FILE *fp, const char *where, const tb_run_info *run, const tb_metric_row *rows, size_t n,
                            tb_error *err)
{
    for (int c = 0; c < TB_RUN_EXPORT_COLUMNS; c++)
        put_field(fp, tb_run_export_columns[c], c == 0);
    fputs("\r\n", fp); /* RFC 4180 line ends */
    char id[32];
    snprintf(id, sizeof id, "%lld", (long long)run->id);
    for (size_t i = 0; i < n; i++) {
        const tb_metric_row *m = &rows[i];
        char step[32], f[7][40];
        snprintf(step, sizeof step, "%lld", (long long)m->step);
        const double vals[7] = {m->epoch, m->train_loss, m->eval_loss, m->lr, m->grad_norm, m->tokens_per_s,
                                m->wall_time};
        put_field(fp, id, true);
        put_field(fp, run->name, false);
        put_field(fp, step, false);
        for (int k = 0; k < 7; k++) {
            format_real(vals[k], f[k], sizeof f[k]);
            put_field(fp, f[k], false);
        }
        fputs("\r\n", fp);
    }
    if (fflush(fp) != 0 || ferror(fp))
        return tb_error_set(err, TB_ERR_IO, where, 0, NULL, "cannot write the CSV: %s", strerror(errno));
    return TB_OK;
}
