/* tunebench — the columns of the Runs table, shared by the Runs screen (F5) and `tunebench
 * runs`: one definition of what each column shows, how it sorts and its --sort key, so the
 * screen and the CLI cannot drift apart. */
#ifndef TB_TUI_RUN_COLUMNS_H
#define TB_TUI_RUN_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/io/run_store.h"
#include "tui/theme.h"
#include "tui/widgets/table.h"

typedef enum tb_run_col {
    TB_RUN_COL_ID = 0,
    TB_RUN_COL_NAME,
    TB_RUN_COL_STATUS,
    TB_RUN_COL_BEST_EVAL,
    TB_RUN_COL_FINAL_EVAL,
    TB_RUN_COL_PARAMS,
    TB_RUN_COL_STEP,
    TB_RUN_COL_MODE,
    TB_RUN_COL_RANK,
    TB_RUN_COL_ALPHA,
    TB_RUN_COL_LR,
    TB_RUN_COL_EPOCHS,
    TB_RUN_COL_BATCH,
    TB_RUN_COL_TOKENS_S,
    TB_RUN_COL_WALL,
    TB_RUN_COL_PEAK_MEM,
    TB_RUN_COL_ADAPTER,
    TB_RUN_COL_COUNT
} tb_run_col;

/* Titles, widths, alignment (table widget columns). # and name stay when scrolling. */
extern const tb_table_column tb_run_columns[TB_RUN_COL_COUNT];
#define TB_RUN_COLS_FROZEN 2

/* --sort keys: "id", "name", "status", "best_eval", ... */
const char *tb_run_col_key(tb_run_col c);
bool tb_run_col_parse(const char *key, tb_run_col *out);
/* "id, name, ..." for usage messages. */
void tb_run_col_keys(char *buf, size_t size);

/* Cell text ("-" when unknown) and ordering (ascending; unknown cells are "missing"). */
void tb_run_col_text(const tb_run_info *r, tb_run_col c, char *buf, size_t size);
int tb_run_col_compare(const tb_run_info *a, const tb_run_info *b, tb_run_col c);
bool tb_run_col_missing(const tb_run_info *r, tb_run_col c);
/* Status color: running good, stale warn, failed error, finished normal, others dim. */
tb_role tb_run_status_role(const tb_run_info *r);

/* A table source over a run list (ctx = rows; the list may be replaced between calls). */
typedef struct tb_run_rows {
    tb_run_info *runs;
    size_t n;
} tb_run_rows;
tb_table_source tb_run_table_source(tb_run_rows *rows);

#endif
