/* tunebench — prompt templates with loss-mask segments. */
#include "datasets/template.h"

#include <stdlib.h>
#include <string.h>

tb_template_kind tb_template_default(tb_row_shape shape)
{
    switch (shape) {
    case TB_SHAPE_CHAT:
    case TB_SHAPE_SHAREGPT: return TB_TEMPLATE_CHATML;
    case TB_SHAPE_PROMPT_COMPLETION: return TB_TEMPLATE_PLAIN;
    default: return TB_TEMPLATE_ALPACA;
    }
}

static const char *const names[] = {"auto", "alpaca", "chatml", "llama3", "plain"};

const char *tb_template_name(tb_template_kind kind)
{
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "auto";
}

bool tb_template_parse(const char *name, tb_template_kind *out)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], name) == 0) {
            *out = (tb_template_kind)i;
            return true;
        }
    return false;
}

/* ---- building ------------------------------------------------------------------------ */

static bool push_seg(tb_rendered *r, tb_segment_kind kind, size_t off, size_t len, bool trained)
{
    /* Neighbouring text with the same flag is one segment: fewer tokenizer calls later. */
    if (kind == TB_SEG_TEXT && r->n_segs > 0) {
        tb_segment *last = &r->segs[r->n_segs - 1];
        if (last->kind == TB_SEG_TEXT && last->trained == trained && last->off + last->len == off) {
            last->len += len;
            return true;
        }
    }
    if (r->n_segs == r->cap_segs) {
        int ncap = r->cap_segs ? r->cap_segs * 2 : 16;
        tb_segment *ns = realloc(r->segs, (size_t)ncap * sizeof *ns);
        if (!ns)
            return false;
        r->segs = ns;
        r->cap_segs = ncap;
    }
    r->segs[r->n_segs++] = (tb_segment){kind, off, len, trained};
    return true;
}

static bool emit(tb_rendered *r, const char *s, size_t n, bool trained)
{
    if (n == 0)
        return true;
    if (r->len + n + 1 > r->cap) {
        size_t ncap = r->cap ? r->cap : 256;
        while (ncap < r->len + n + 1)
            ncap *= 2;
        char *nt = realloc(r->text, ncap);
        if (!nt)
            return false;
        r->text = nt;
        r->cap = ncap;
    }
    memcpy(r->text + r->len, s, n);
    size_t off = r->len;
    r->len += n;
    r->text[r->len] = '\0';
    return push_seg(r, TB_SEG_TEXT, off, n, trained);
}

static bool emits(tb_rendered *r, const char *s, bool trained) { return emit(r, s, strlen(s), trained); }
static bool emit_text(tb_rendered *r, const tb_text *t, bool trained) { return emit(r, t->text, t->len, trained); }
static bool emit_eos(tb_rendered *r) { return push_seg(r, TB_SEG_EOS, r->len, 0, true); }

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static bool emit_trimmed(tb_rendered *r, const tb_text *t, bool trained)
{
    size_t a = 0, b = t->len;
    while (a < b && is_space(t->text[a]))
        a++;
    while (b > a && is_space(t->text[b - 1]))
        b--;
    return emit(r, t->text + a, b - a, trained);
}

/* ---- templates ----------------------------------------------------------------------- */

static bool render_alpaca(tb_rendered *r, const tb_text *ins, const tb_text *in, const tb_text *out, bool all)
{
    bool ok = emits(r, "### Instruction:\n", all) && (!ins || emit_text(r, ins, all));
    if (in && in->len > 0)
        ok = ok && emits(r, "\n\n### Input:\n", all) && emit_text(r, in, all);
    return ok && emits(r, "\n\n### Response:\n", all) && emit_text(r, out, true) && emit_eos(r);
}

static bool render_plain(tb_rendered *r, const tb_text *prompt, const tb_text *out, bool all)
{
    return (!prompt || emit_text(r, prompt, all)) && emit_text(r, out, true) && emit_eos(r);
}

static const char *chat_role(const tb_text *t)
{
    switch (t->kind) {
    case TB_TEXT_SYSTEM: return "system";
    case TB_TEXT_PROMPT:
    case TB_TEXT_INPUT: return "user";
    case TB_TEXT_RESPONSE: return "assistant";
    case TB_TEXT_OTHER: break;
    }
    return t->role ? t->role : "user";
}

/* One turn; alpaca rows join instruction and input into one user turn. */
static bool render_turn(tb_rendered *r, tb_template_kind kind, const char *role, const tb_text *a, const tb_text *b,
                        bool all)
{
    bool assistant = strcmp(role, "assistant") == 0;
    bool trained = assistant || all;
    bool llama3 = kind == TB_TEMPLATE_LLAMA3;
    bool ok = llama3 ? emits(r, "<|start_header_id|>", all) && emits(r, role, all) &&
                           emits(r, "<|end_header_id|>\n\n", all)
                     : emits(r, "<|im_start|>", all) && emits(r, role, all) && emits(r, "\n", all);
    ok = ok && (llama3 ? emit_trimmed(r, a, trained) : emit_text(r, a, trained));
    if (b && b->len > 0)
        ok = ok && emits(r, "\n\n", trained) && (llama3 ? emit_trimmed(r, b, trained) : emit_text(r, b, trained));
    /* The end-of-turn token after an assistant reply is what teaches the model to stop. */
    ok = ok && emits(r, llama3 ? "<|eot_id|>" : "<|im_end|>", trained);
    return ok && (llama3 || emits(r, "\n", all));
}

static bool render_chat(tb_rendered *r, tb_template_kind kind, const tb_row *row, bool all)
{
    bool ok = kind != TB_TEMPLATE_LLAMA3 || emits(r, "<|begin_of_text|>", all);
    if (row->shape == TB_SHAPE_CHAT || row->shape == TB_SHAPE_SHAREGPT) {
        for (int i = 0; ok && i < row->n_texts; i++)
            ok = render_turn(r, kind, chat_role(&row->texts[i]), &row->texts[i], NULL, all);
        return ok;
    }
    const tb_text *p = tb_row_find(row, TB_TEXT_PROMPT), *in = tb_row_find(row, TB_TEXT_INPUT),
                  *out = tb_row_find(row, TB_TEXT_RESPONSE);
    static const tb_text empty = {.kind = TB_TEXT_PROMPT, .text = "", .len = 0, .turn = -1};
    return ok && render_turn(r, kind, "user", p ? p : &empty, in, all) &&
           render_turn(r, kind, "assistant", out, NULL, all);
}

tb_status tb_template_render(tb_template_kind kind, const tb_row *row, bool train_on_inputs, tb_rendered *out,
                             tb_error *err)
{
    out->len = 0;
    out->n_segs = 0;
    if (out->text)
        out->text[0] = '\0';
    if (kind == TB_TEMPLATE_AUTO)
        kind = tb_template_default(row->shape);
    out->kind = kind;
    /* Chat templates are complete texts (HF apply_chat_template: ChatML adds no BOS, llama3
     * writes <|begin_of_text|> itself); plain prompts get the tokenizer's BOS. */
    out->add_bos = kind == TB_TEMPLATE_ALPACA || kind == TB_TEMPLATE_PLAIN;
    bool chat = row->shape == TB_SHAPE_CHAT || row->shape == TB_SHAPE_SHAREGPT;
    const tb_text *resp = tb_row_find(row, TB_TEXT_RESPONSE);
    if (!resp)
        return tb_error_set(err, TB_ERR_INVALID, row->file, row->line, NULL,
                            chat ? "the conversation has no assistant turn to train on"
                                 : "the row has no output to train on");
    bool ok;
    switch (kind) {
    case TB_TEMPLATE_CHATML:
    case TB_TEMPLATE_LLAMA3:
        ok = render_chat(out, kind, row, train_on_inputs);
        break;
    case TB_TEMPLATE_PLAIN:
    case TB_TEMPLATE_ALPACA:
        if (chat)
            return tb_error_set(err, TB_ERR_INVALID, row->file, row->line, NULL,
                                "the %s template is for single-turn rows; use chatml or llama3 for conversations",
                                tb_template_name(kind));
        ok = kind == TB_TEMPLATE_ALPACA
                 ? render_alpaca(out, tb_row_find(row, TB_TEXT_PROMPT), tb_row_find(row, TB_TEXT_INPUT), resp,
                                 train_on_inputs)
                 : render_plain(out, tb_row_find(row, TB_TEXT_PROMPT), resp, train_on_inputs);
        break;
    default:
        return tb_error_set(err, TB_ERR_INVALID, row->file, row->line, NULL, "unknown template %d", (int)kind);
    }
    if (!ok)
        return tb_error_set(err, TB_ERR_NOMEM, row->file, row->line, NULL, "out of memory rendering the prompt");
    return TB_OK;
}

void tb_rendered_free(tb_rendered *r)
{
    free(r->text);
    free(r->segs);
    memset(r, 0, sizeof *r);
}

size_t tb_rendered_trained_bytes(const tb_rendered *r)
{
    size_t n = 0;
    for (int i = 0; i < r->n_segs; i++)
        if (r->segs[i].trained)
            n += r->segs[i].len;
    return n;
}
