/* tunebench — empty outputs and placeholder inputs (AlpacaDataCleaned's list). */
#include <stdio.h>

#include "validators/check.h"

static void empty_output_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    for (int i = 0; i < row->n_texts; i++) {
        const tb_text *t = &row->texts[i];
        if (t->kind != TB_TEXT_RESPONSE || !tb_is_empty_output(t->text, t->len))
            continue;
        char ex[64];
        tb_excerpt(ex, sizeof ex, t->text, 0, t->len, 24);
        if (tb_is_blank(t->text, t->len))
            tb_vctx_emit(ctx, row, t->field, 0, t->len, "%s is %s", t->field, t->len ? "only whitespace" : "empty");
        else
            tb_vctx_emit(ctx, row, t->field, 0, t->len, "%s is \"%s\": nothing to learn", t->field, ex);
    }
}

const tb_check_class tb_check_empty_output = {
    .name = "empty_output",
    .severity = TB_SEV_ERROR,
    .about = "an output (assistant turn) that is empty, whitespace, \"N/A\" or \"<No Output>\"",
    .hint = "write the answer or drop the row: the model learns to answer with nothing",
    .row = empty_output_row,
};

static void placeholder_input_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    const tb_text *t = tb_row_find(row, TB_TEXT_INPUT);
    if (!t || !tb_is_placeholder_input(t->text, t->len))
        return;
    char ex[64];
    tb_excerpt(ex, sizeof ex, t->text, 0, t->len, 24);
    tb_vctx_emit(ctx, row, t->field, 0, t->len, "%s is \"%s\", a stand-in for no input", t->field, ex);
}

const tb_check_class tb_check_placeholder_input = {
    .name = "placeholder_input",
    .severity = TB_SEV_WARNING,
    .about = "an input that says there is no input (<noinput>, No input, N/A)",
    .hint = "leave the input empty so the template drops the Input block (--fix does this)",
    .row = placeholder_input_row,
};
