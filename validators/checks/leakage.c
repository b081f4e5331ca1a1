/* tunebench — train/eval leakage: a row of --eval FILE whose duplicate key (normalized
 * instruction + input, or the whole conversation) is also a training row's. Runs after the
 * training pass, streaming the eval file against the training keys already in memory. */
#include <stdio.h>

#include "datasets/reader.h"
#include "validators/check.h"

static void leakage_finish(void *state, tb_vctx *ctx)
{
    (void)state;
    const char *path = ctx->opts->eval_path;
    if (!path)
        return;
    tb_reader_opts ro = {.format = TB_FORMAT_AUTO, .map = ctx->map};
    tb_reader *r;
    tb_error err;
    tb_error_clear(&err);
    if (tb_reader_open(&r, path, &ro, &err) != TB_OK) {
        ctx->eval_error = err;
        return;
    }
    const tb_row *row;
    while (tb_reader_next(r, &row, &err) == TB_OK && row) {
        ctx->report->eval_rows++;
        uint64_t key;
        uint32_t first;
        if (!row->obj || !tb_row_key(row, &key) || !tb_map64_get(&ctx->keys, key, &first))
            continue;
        tb_vctx_emit_eval(ctx, row, "eval row %ld (line %ld of %s) repeats training row %u (line %ld)", row->index,
                          row->line, path, first, tb_vctx_line(ctx, first));
    }
    if (err.status != TB_OK)
        ctx->eval_error = err;
    tb_reader_close(r);
}

const tb_check_class tb_check_leakage = {
    .name = "leakage",
    .severity = TB_SEV_ERROR,
    .about = "a row of the --eval file that is also in the training data",
    .hint = "remove it from one of the two sets, or eval scores measure memory instead of skill",
    .finish = leakage_finish,
};
