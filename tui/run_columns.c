/* tunebench — the columns of the Runs table. */
#include "tui/run_columns.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/units.h"

const tb_table_column tb_run_columns[TB_RUN_COL_COUNT] = {
    [TB_RUN_COL_ID] = {"#", 3, true},
    [TB_RUN_COL_NAME] = {"name", 16, false},
    [TB_RUN_COL_STATUS] = {"status", 8, false},
    [TB_RUN_COL_BEST_EVAL] = {"best eval", 9, true},
    [TB_RUN_COL_FINAL_EVAL] = {"final eval", 10, true},
    [TB_RUN_COL_PARAMS] = {"params", 6, true},
    [TB_RUN_COL_STEP] = {"step", 9, true},
    [TB_RUN_COL_MODE] = {"mode", 5, false},
    [TB_RUN_COL_RANK] = {"rank", 4, true},
    [TB_RUN_COL_ALPHA] = {"alpha", 5, true},
    [TB_RUN_COL_LR] = {"lr", 6, true},
    [TB_RUN_COL_EPOCHS] = {"epochs", 6, true},
    [TB_RUN_COL_BATCH] = {"batch", 5, true},
    [TB_RUN_COL_TOKENS_S] = {"tok/s", 6, true},
    [TB_RUN_COL_WALL] = {"wall", 6, true},
    [TB_RUN_COL_PEAK_MEM] = {"peak mem", 9, true},
    [TB_RUN_COL_ADAPTER] = {"adapter", 9, true},
};

static const char *const keys[TB_RUN_COL_COUNT] = {
    "id", "name", "status", "best_eval", "final_eval", "params", "step", "mode", "rank",
    "alpha", "lr", "epochs", "batch", "tokens_per_s", "wall", "peak_mem", "adapter",
};

const char *tb_run_col_key(tb_run_col c) { return (unsigned)c < TB_RUN_COL_COUNT ? keys[c] : "?"; }

bool tb_run_col_parse(const char *key, tb_run_col *out)
{
    for (int c = 0; c < TB_RUN_COL_COUNT; c++)
        if (strcmp(key, keys[c]) == 0)
            return (*out = (tb_run_col)c), true;
    return false;
}

void tb_run_col_keys(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; c < TB_RUN_COL_COUNT && used < size; c++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", c ? ", " : "", keys[c]);
}

/* 2e-4, 1.5e-4; plain %g from 0.01 up. */
static void format_lr(double v, char *buf, size_t size)
{
    if (!(v > 0) || !isfinite(v)) {
        snprintf(buf, size, "-");
        return;
    }
    if (v >= 0.01) {
        snprintf(buf, size, "%g", v);
        return;
    }
    int e = (int)floor(log10(v));
    double m = v / pow(10, e);
    if (m >= 9.95) { /* 9.99e-5 rounds to 1e-4 */
        m /= 10;
        e++;
    }
    if (fabs(m - round(m)) < 0.05)
        snprintf(buf, size, "%.0fe%d", m, e);
    else
        snprintf(buf, size, "%.1fe%d", m, e);
}

/* digits < 0: %g; else fixed with that many decimals. */
static void format_real(double v, int digits, char *buf, size_t size)
{
    if (!isfinite(v))
        snprintf(buf, size, "-");
    else if (digits < 0)
        snprintf(buf, size, "%g", v);
    else
        snprintf(buf, size, "%.*f", digits, v);
}

static void format_int(int64_t v, char *buf, size_t size)
{
    if (v >= 0)
        snprintf(buf, size, "%lld", (long long)v);
    else
        snprintf(buf, size, "-");
}

void tb_run_col_text(const tb_run_info *r, tb_run_col c, char *buf, size_t size)
{
    switch (c) {
    case TB_RUN_COL_ID: format_int(r->id, buf, size); return;
    case TB_RUN_COL_NAME: snprintf(buf, size, "%s", r->name); return;
    case TB_RUN_COL_STATUS: snprintf(buf, size, "%s", tb_run_display_status(r)); return;
    case TB_RUN_COL_BEST_EVAL: format_real(r->best_eval_loss, 4, buf, size); return;
    case TB_RUN_COL_FINAL_EVAL: format_real(r->final_eval_loss, 4, buf, size); return;
    case TB_RUN_COL_PARAMS: tb_format_count(r->trainable_params, buf, size); return;
    case TB_RUN_COL_STEP:
        if (r->last_step < 0)
            snprintf(buf, size, "-");
        else if (r->total_steps > 0)
            snprintf(buf, size, "%lld/%lld", (long long)r->last_step, (long long)r->total_steps);
        else
            snprintf(buf, size, "%lld", (long long)r->last_step);
        return;
    case TB_RUN_COL_MODE: snprintf(buf, size, "%s", r->mode[0] ? r->mode : "-"); return;
    case TB_RUN_COL_RANK: format_int(r->rank, buf, size); return;
    case TB_RUN_COL_ALPHA: format_real(r->alpha, -1, buf, size); return;
    case TB_RUN_COL_LR: format_lr(r->lr, buf, size); return;
    case TB_RUN_COL_EPOCHS: format_real(r->epochs, -1, buf, size); return;
    case TB_RUN_COL_BATCH: format_int(r->batch, buf, size); return;
    case TB_RUN_COL_TOKENS_S:
        if (isfinite(r->tokens_per_s) && r->tokens_per_s >= 0)
            tb_format_count((int64_t)llround(r->tokens_per_s), buf, size);
        else
            snprintf(buf, size, "-");
        return;
    case TB_RUN_COL_WALL: tb_format_duration(r->wall_time, buf, size); return;
    case TB_RUN_COL_PEAK_MEM: tb_format_bytes(r->peak_mem_bytes, buf, size); return;
    case TB_RUN_COL_ADAPTER: tb_format_bytes(r->adapter_bytes, buf, size); return;
    case TB_RUN_COL_COUNT: break;
    }
    snprintf(buf, size, "?");
}

/* The number a numeric column sorts by; NaN when unknown. */
static double sort_value(const tb_run_info *r, tb_run_col c)
{
    switch (c) {
    case TB_RUN_COL_ID: return (double)r->id;
    case TB_RUN_COL_BEST_EVAL: return r->best_eval_loss;
    case TB_RUN_COL_FINAL_EVAL: return r->final_eval_loss;
    case TB_RUN_COL_PARAMS: return r->trainable_params >= 0 ? (double)r->trainable_params : (double)NAN;
    case TB_RUN_COL_STEP: return r->last_step >= 0 ? (double)r->last_step : (double)NAN;
    case TB_RUN_COL_RANK: return r->rank >= 0 ? (double)r->rank : (double)NAN;
    case TB_RUN_COL_ALPHA: return r->alpha;
    case TB_RUN_COL_LR: return r->lr;
    case TB_RUN_COL_EPOCHS: return r->epochs;
    case TB_RUN_COL_BATCH: return r->batch >= 0 ? (double)r->batch : (double)NAN;
    case TB_RUN_COL_TOKENS_S: return r->tokens_per_s;
    case TB_RUN_COL_WALL: return r->wall_time;
    case TB_RUN_COL_PEAK_MEM: return r->peak_mem_bytes >= 0 ? (double)r->peak_mem_bytes : (double)NAN;
    case TB_RUN_COL_ADAPTER: return r->adapter_bytes >= 0 ? (double)r->adapter_bytes : (double)NAN;
    default: return NAN;
    }
}

static bool text_column(tb_run_col c) { return c == TB_RUN_COL_NAME || c == TB_RUN_COL_STATUS || c == TB_RUN_COL_MODE; }

bool tb_run_col_missing(const tb_run_info *r, tb_run_col c)
{
    if (c == TB_RUN_COL_MODE)
        return r->mode[0] == '\0';
    return !text_column(c) && !isfinite(sort_value(r, c));
}

int tb_run_col_compare(const tb_run_info *a, const tb_run_info *b, tb_run_col c)
{
    int d = 0;
    if (c == TB_RUN_COL_NAME)
        d = strcmp(a->name, b->name);
    else if (c == TB_RUN_COL_STATUS)
        d = strcmp(tb_run_display_status(a), tb_run_display_status(b));
    else if (c == TB_RUN_COL_MODE)
        d = strcmp(a->mode, b->mode);
    else {
        double x = sort_value(a, c), y = sort_value(b, c);
        d = (x > y) - (x < y);
    }
    return d;
}

tb_role tb_run_status_role(const tb_run_info *r)
{
    if (tb_run_is_stale(r))
        return TB_ROLE_WARN;
    switch (r->status) {
    case TB_RUN_RUNNING: return TB_ROLE_GOOD;
    case TB_RUN_FAILED: return TB_ROLE_ERROR;
    case TB_RUN_FINISHED: return TB_ROLE_NORMAL;
    default: return TB_ROLE_DIM;
    }
}

/* ---- table source ------------------------------------------------------------------- */

static void src_cell(void *ctx, int row, int col, char *buf, size_t size, tb_role *role)
{
    const tb_run_info *r = &((tb_run_rows *)ctx)->runs[row];
    tb_run_col_text(r, (tb_run_col)col, buf, size);
    if (col == TB_RUN_COL_STATUS)
        *role = tb_run_status_role(r);
    else if (col == TB_RUN_COL_ID)
        *role = TB_ROLE_DIM;
}

static int src_compare(void *ctx, int a, int b, int col)
{
    const tb_run_rows *rows = ctx;
    return tb_run_col_compare(&rows->runs[a], &rows->runs[b], (tb_run_col)col);
}

static bool src_missing(void *ctx, int row, int col)
{
    return tb_run_col_missing(&((tb_run_rows *)ctx)->runs[row], (tb_run_col)col);
}

tb_table_source tb_run_table_source(tb_run_rows *rows)
{
    return (tb_table_source){.ctx = rows, .cell = src_cell, .compare = src_compare, .missing = src_missing};
}
