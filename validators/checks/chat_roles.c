/* tunebench — conversation structure for supervised fine-tuning (OpenAI's chat data-prep
 * checks): known roles only, at least one user and one assistant turn, the system prompt
 * first, and the assistant's reply last (a trailing user turn is never answered). */
#include <stdio.h>
#include <string.h>

#include "validators/check.h"

static void chat_roles_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    if ((row->shape != TB_SHAPE_CHAT && row->shape != TB_SHAPE_SHAREGPT) || !row->obj)
        return;
    bool sg = row->shape == TB_SHAPE_SHAREGPT;
    const char *list = tb_field_map_get(ctx->map, sg ? "conversations" : "messages");
    int users = 0, assistants = 0, turns = 0;
    const tb_text *last = NULL;
    for (int i = 0; i < row->n_texts; i++) {
        const tb_text *t = &row->texts[i];
        if (t->turn < 0)
            continue; /* ShareGPT's top-level system field */
        turns++;
        last = t;
        if (t->kind == TB_TEXT_OTHER)
            tb_vctx_emit(ctx, row, t->field, 0, 0, "turn %d has the unknown role '%s' (expected %s)", t->turn,
                         t->role ? t->role : "?", sg ? "human, gpt or system" : "user, assistant or system");
        else if (t->kind == TB_TEXT_SYSTEM && turns > 1)
            tb_vctx_emit(ctx, row, t->field, 0, 0, "a system turn at position %d; it belongs first", t->turn);
        users += t->kind == TB_TEXT_PROMPT;
        assistants += t->kind == TB_TEXT_RESPONSE;
    }
    bool list_ok = true;
    for (int i = 0; i < row->n_issues; i++)
        if (row->issues[i].kind != TB_ISSUE_UNKNOWN && strcmp(row->issues[i].field, list) == 0)
            list_ok = false; /* missing_field reports a missing list */
    if (!list_ok)
        return;
    if (turns == 0) {
        tb_vctx_emit(ctx, row, list, 0, 0, "the conversation has no turns");
        return;
    }
    if (assistants == 0)
        tb_vctx_emit(ctx, row, list, 0, 0, "no %s turn: nothing to train on", sg ? "gpt" : "assistant");
    if (users == 0)
        tb_vctx_emit(ctx, row, list, 0, 0, "no %s turn: the model would answer nobody", sg ? "human" : "user");
    if (last && last->kind != TB_TEXT_RESPONSE && assistants > 0)
        tb_vctx_emit(ctx, row, last->field, 0, 0,
                     "the last turn is '%s'; for fine-tuning a conversation ends with the %s reply",
                     last->role ? last->role : "?", sg ? "gpt" : "assistant");
}

const tb_check_class tb_check_chat_roles = {
    .name = "chat_roles",
    .severity = TB_SEV_ERROR,
    .about = "unknown roles, no assistant or no user turn, the assistant's reply not last",
    .hint = "use the roles system/user/assistant (ShareGPT: system/human/gpt) and end on the reply",
    .row = chat_roles_row,
};
