/* tunebench — exact duplicates (normalized key, computed by the driver) and near duplicates
 * (MinHash over word 3-shingles of the whole example, LSH candidates; minhash.h). */
#include <stdio.h>
#include <stdlib.h>

#include "validators/check.h"
#include "validators/minhash.h"

static const char *key_words(tb_row_shape shape)
{
    switch (shape) {
    case TB_SHAPE_CHAT:
    case TB_SHAPE_SHAREGPT: return "the same conversation";
    case TB_SHAPE_PROMPT_COMPLETION: return "the same prompt";
    default: return "the same instruction and input";
    }
}

static void dup_exact_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    long first = ctx->facts.dup_of;
    if (first < 0)
        return;
    /* Point at the prompt (the key's first part); a conversation is the whole row. */
    const tb_text *p = tb_row_find(row, TB_TEXT_PROMPT);
    bool chat = row->shape == TB_SHAPE_CHAT || row->shape == TB_SHAPE_SHAREGPT;
    tb_vctx_emit(ctx, row, p && !chat ? p->field : "", 0, 0, "%s as row %ld (line %ld), ignoring case and whitespace",
                 key_words(row->shape), first, tb_vctx_line(ctx, first));
}

const tb_check_class tb_check_dup_exact = {
    .name = "dup_exact",
    .severity = TB_SEV_ERROR,
    .about = "the same instruction + input as an earlier row (whitespace and case ignored)",
    .hint = "keep one copy (--fix drops the later ones); repeated prompts with different answers teach noise",
    .row = dup_exact_row,
};

typedef struct near_state {
    tb_near_index ix;
    double threshold;
} near_state;

static tb_status near_init(void **state, const tb_validate_opts *opts, tb_error *err)
{
    near_state *s = calloc(1, sizeof *s);
    if (!s)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    s->threshold = opts->near_threshold;
    *state = s;
    return TB_OK;
}

static void near_destroy(void *state)
{
    near_state *s = state;
    if (!s)
        return;
    tb_near_index_free(&s->ix);
    free(s);
}

static void dup_near_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    near_state *s = state;
    if (row->n_texts == 0 || ctx->facts.dup_of >= 0)
        return; /* exact duplicates are dup_exact's */
    tb_minhash mh;
    tb_minhash_begin(&mh);
    for (int i = 0; i < row->n_texts; i++)
        tb_minhash_add(&mh, row->texts[i].text, row->texts[i].len);
    if (!tb_minhash_end(&mh))
        return;
    uint32_t other;
    double est;
    bool oom;
    if (tb_near_index_check_add(&s->ix, &mh, (uint32_t)row->index, s->threshold, &other, &est, &oom))
        tb_vctx_emit(ctx, row, "", 0, 0,
                     "near duplicate of row %u (line %ld): about %.0f%% of their word 3-grams are shared "
                     "(MinHash estimate, threshold %.0f%%)",
                     other, tb_vctx_line(ctx, other), est * 100, s->threshold * 100);
    if (oom)
        ctx->oom = true;
}

const tb_check_class tb_check_dup_near = {
    .name = "dup_near",
    .severity = TB_SEV_WARNING,
    .about = "an example whose words mostly repeat an earlier one (Jaccard >= --near-threshold, 0.8)",
    .hint = "keep the most useful variant; many near copies make the model memorize them",
    .init = near_init,
    .row = dup_near_row,
    .destroy = near_destroy,
};
