/* tunebench — length outliers (after the pass, against the dataset's own statistics) and
 * examples longer than the model's context (token_length). */
#include <stdio.h>

#include "validators/check.h"

/* Tutorial rule: beyond mean ± 2σ. Lengths are heavily skewed (a few long answers are
 * normal), so a row must also lie beyond Tukey's outer fence, 3 IQR past the quartiles, and
 * (for templated data, where the spread is tiny) at least twice or at most half the median:
 * together they flag the extreme rows and leave the long tail of ordinary data alone. */
static bool outlier(double v, const tb_length_stats *st, bool *high)
{
    double iqr = st->p75 - st->p25;
    *high = v > st->mean;
    if (*high)
        return v > st->mean + 2 * st->stddev && v > st->p75 + 3 * iqr && v >= 2 * st->median;
    return v < st->mean - 2 * st->stddev && v < st->p25 - 3 * iqr && v <= st->median / 2;
}

static const char *field_label(const tb_vctx *ctx, tb_stat_field f, bool *chat)
{
    tb_row_shape shape = ctx->report->shape;
    *chat = shape == TB_SHAPE_CHAT || shape == TB_SHAPE_SHAREGPT;
    if (*chat)
        return "";
    if (shape == TB_SHAPE_PROMPT_COMPLETION)
        return tb_field_map_get(ctx->map, f == TB_STAT_OUTPUT ? "completion" : "prompt");
    return tb_field_map_get(ctx->map, f == TB_STAT_OUTPUT ? "output" : "instruction");
}

static void length_outlier_finish(void *state, tb_vctx *ctx)
{
    (void)state;
    static const tb_stat_field fields[] = {TB_STAT_INSTRUCTION, TB_STAT_OUTPUT};
    const tb_length_stats *st[2] = {&ctx->report->stats[TB_STAT_INSTRUCTION], &ctx->report->stats[TB_STAT_OUTPUT]};
    for (long r = 0; r < ctx->n_rows; r++) {
        for (int k = 0; k < 2; k++) {
            if (st[k]->n < 10 || !(st[k]->stddev > 0))
                continue; /* too few rows for statistics to mean anything */
            uint32_t v = ctx->lens[fields[k]][r];
            bool high, chat;
            if (v == TB_LEN_ABSENT || !outlier(v, st[k], &high))
                continue;
            const char *field = field_label(ctx, fields[k], &chat);
            const char *what = chat ? (k ? "the assistant turns" : "the user turns") : field;
            double z = (v - st[k]->mean) / st[k]->stddev;
            tb_vctx_emit_at(ctx, r, field, 0, 0,
                            "%s %s %u characters, %.1f sigma %s the mean of %.0f (middle half %.0f-%.0f): %s",
                            what, chat ? "total" : "is", v, high ? z : -z, high ? "above" : "below", st[k]->mean,
                            st[k]->p25, st[k]->p75,
                            high ? "check it is one example, not several merged or a runaway generation"
                                 : "check it is complete");
        }
    }
}

const tb_check_class tb_check_length_outlier = {
    .name = "length_outlier",
    .severity = TB_SEV_WARNING,
    .about = "an instruction or output far longer or shorter than the rest (2 sigma, 3 IQR, 2x the median)",
    .hint = "look at it: merged examples, truncated answers and pasted documents show up here",
    .finish = length_outlier_finish,
};

static void token_length_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    long max = ctx->opts->max_tokens;
    long n = ctx->facts.len[TB_STAT_TOKENS];
    if (max <= 0 || !ctx->facts.renderable || ctx->facts.len[TB_STAT_TOKENS] == TB_LEN_ABSENT || n <= max)
        return;
    long cut = n - max, trained = ctx->facts.trained_tokens;
    long lost = cut < trained ? cut : trained;
    bool exact = ctx->report->tokens_exact;
    char consequence[160];
    if (cut >= trained)
        snprintf(consequence, sizeof consequence, "the prompt alone fills the context: nothing of the response is trained");
    else
        snprintf(consequence, sizeof consequence, "truncation cuts %s%ld of the %ld response tokens", exact ? "" : "about ",
                 lost, trained);
    tb_vctx_emit(ctx, row, "", 0, 0, "%s%ld tokens%s, over --max-tokens %ld: %s", exact ? "" : "about ", n,
                 exact ? "" : " (estimate: bytes/4)", max, consequence);
}

const tb_check_class tb_check_token_length = {
    .name = "token_length",
    .severity = TB_SEV_WARNING,
    .about = "an example longer than --max-tokens once rendered with the prompt template",
    .hint = "shorten or split it, or raise the sequence length; truncation cuts the end of the answer",
    .row = token_length_row,
};
