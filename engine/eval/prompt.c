/* tunebench — typed prompts in the training template (engine/eval/prompt.h). */
#include "engine/eval/prompt.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/row.h"

/* A row holding the prompt and a placeholder response: the template renders the prompt part
 * exactly as for a training row; the response segment marks where it ends. */
static json_t *make_row(tb_template_kind kind, const char *text, tb_row_shape *shape)
{
    json_t *o = json_object();
    if (kind == TB_TEMPLATE_CHATML || kind == TB_TEMPLATE_LLAMA3) {
        json_t *msgs = json_array(), *u = json_object(), *a = json_object();
        json_object_set_new(u, "role", json_string("user"));
        json_object_set_new(u, "content", json_string(text));
        json_object_set_new(a, "role", json_string("assistant"));
        json_object_set_new(a, "content", json_string("x"));
        json_array_append_new(msgs, u);
        json_array_append_new(msgs, a);
        json_object_set_new(o, "messages", msgs);
        *shape = TB_SHAPE_CHAT;
    } else if (kind == TB_TEMPLATE_PLAIN) {
        json_object_set_new(o, "prompt", json_string(text));
        json_object_set_new(o, "completion", json_string("x"));
        *shape = TB_SHAPE_PROMPT_COMPLETION;
    } else {
        json_object_set_new(o, "instruction", json_string(text));
        json_object_set_new(o, "input", json_string(""));
        json_object_set_new(o, "output", json_string("x"));
        *shape = TB_SHAPE_ALPACA;
    }
    return o;
}

tb_status tb_eval_prompt_ids(const tb_tokenizer *tok, tb_template_kind kind, const char *text, int32_t **ids,
                             int64_t *n, tb_error *err)
{
    *ids = NULL;
    *n = 0;
    if (kind == TB_TEMPLATE_AUTO)
        kind = TB_TEMPLATE_ALPACA;
    tb_row_shape shape;
    json_t *obj = make_row(kind, text, &shape);
    tb_row row;
    memset(&row, 0, sizeof row);
    row.file = "prompt";
    row.line = 1;
    tb_rendered r;
    memset(&r, 0, sizeof r);
    tb_status st = obj ? tb_row_extract(&row, obj, shape, NULL) : tb_fail(err, TB_ERR_NOMEM, "out of memory");
    if (st == TB_OK)
        st = tb_template_render(kind, &row, false, &r, err);
    if (st == TB_OK) {
        size_t end = r.len;
        for (int i = 0; i < r.n_segs; i++)
            if (r.segs[i].trained) {
                end = r.segs[i].off;
                break;
            }
        int32_t *body = NULL;
        size_t nb = 0;
        st = tb_tokenizer_encode(tok, r.text, end, false, &body, &nb, err);
        int32_t bos = r.add_bos ? tb_tokenizer_bos(tok) : -1;
        if (st == TB_OK && !(*ids = malloc((nb + 1) * sizeof **ids)))
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        if (st == TB_OK) {
            if (bos >= 0)
                (*ids)[(*n)++] = bos;
            memcpy(*ids + *n, body, nb * sizeof *body);
            *n += (int64_t)nb;
        }
        free(body);
    }
    tb_rendered_free(&r);
    tb_row_free(&row);
    json_decref(obj);
    return st;
}
