/* tunebench — format inconsistencies: whitespace around texts (at once), and after the pass
 * the rows that break the dataset's own majority convention: final periods on plain-sentence
 * outputs, CRLF vs LF line ends (of the file and inside texts), leading phrasing markers on
 * instructions ("Question:", "### Instruction:"). The tutorial: "if some have trailing
 * whitespace, others have special tokens, and a few use different instruction phrasing, the
 * model learns noise instead of patterns". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validators/check.h"
#include "validators/regex.h"

/* A minority is flagged when it is at most this share of the rows that show either way. */
#define MINORITY_SHARE 0.2
#define MIN_MAJORITY 5

typedef struct row_list {
    uint32_t *rows;
    int32_t *turns; /* the text's turn (chat) or -1 */
    size_t n, cap;
} row_list;

enum { L_PERIOD, L_NO_PERIOD, L_CRLF_LINE, L_LF_LINE, L_CRLF_TEXT, L_LF_TEXT, L_MARKER, L_NO_MARKER, L_COUNT };

typedef struct format_state {
    row_list lists[L_COUNT];
    tb_regex marker;
    bool oom;
} format_state;

static void list_add(format_state *s, int l, long row, int turn)
{
    row_list *rl = &s->lists[l];
    if (rl->n == rl->cap) {
        size_t ncap = rl->cap ? rl->cap * 2 : 256;
        uint32_t *nr = realloc(rl->rows, ncap * sizeof *nr);
        int32_t *nt = nr ? realloc(rl->turns, ncap * sizeof *nt) : NULL;
        if (nr)
            rl->rows = nr;
        if (!nt) {
            s->oom = true;
            return;
        }
        rl->turns = nt;
        rl->cap = ncap;
    }
    rl->rows[rl->n] = (uint32_t)row;
    rl->turns[rl->n] = turn;
    rl->n++;
}

static tb_status format_init(void **state, const tb_validate_opts *opts, tb_error *err)
{
    (void)opts;
    format_state *s = calloc(1, sizeof *s);
    if (!s)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    tb_status st = tb_regex_compile(&s->marker,
                                    "^\\s*(?:#{1,4}\\s*)?(?:instruction|question|task|prompt|query|input|human|user|q)"
                                    "\\s*\\d*\\s*[:\\x{FF1A}]",
                                    PCRE2_CASELESS, err);
    if (st != TB_OK) {
        free(s);
        return st;
    }
    *state = s;
    return TB_OK;
}

static void format_destroy(void *state)
{
    format_state *s = state;
    if (!s)
        return;
    for (int l = 0; l < L_COUNT; l++) {
        free(s->lists[l].rows);
        free(s->lists[l].turns);
    }
    tb_regex_free(&s->marker);
    free(s);
}

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static bool lower(char c) { return c >= 'a' && c <= 'z'; }

/* A plain one-paragraph sentence, where a final period is a matter of convention: starts with
 * a capital, at least six words, no quotes, hashtags, code or tables, and ends in a period or
 * in a lowercase word (not a name, number, symbol or URL). Returns 1 period, 0 none, -1 n/a. */
static int final_period(const char *s, size_t n)
{
    while (n && is_ws(s[n - 1]))
        n--;
    size_t a = 0;
    while (a < n && is_ws(s[a]))
        a++;
    if (n - a < 2 || !(s[a] >= 'A' && s[a] <= 'Z'))
        return -1;
    int words = 0;
    for (size_t i = a; i < n; i++) {
        char c = s[i];
        if (c == '\n' || c == '"' || c == '#' || c == '`' || c == '|' || c == '*' || c == '/')
            return -1;
        if (!is_ws(c) && (i == a || is_ws(s[i - 1])))
            words++;
    }
    if (words < 6)
        return -1;
    if (s[n - 1] == '.')
        return (n >= 2 && s[n - 2] == '.') ? -1 : 1; /* an ellipsis is a style of its own */
    size_t w = n;
    while (w > a && !is_ws(s[w - 1]))
        w--;
    for (size_t i = w; i < n; i++)
        if (!lower(s[i]))
            return -1;
    return 0;
}

/* A text's place, kept in 4 bytes: the turn for conversations, -(kind + 2) otherwise. */
static int32_t text_ref(const tb_text *t) { return t->turn >= 0 ? t->turn : -((int32_t)t->kind + 2); }

static void format_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    format_state *s = state;
    if (row->parse == TB_PARSE_JSON || !row->obj)
        return;
    if (ctx->report->format == TB_FORMAT_JSONL)
        list_add(s, row->crlf ? L_CRLF_LINE : L_LF_LINE, row->index, -1);
    const tb_text *last_resp = NULL;
    for (int i = 0; i < row->n_texts; i++) {
        const tb_text *t = &row->texts[i];
        if (t->len == 0 || tb_is_blank(t->text, t->len))
            continue;
        size_t lead = 0, trail = 0;
        while (lead < t->len && is_ws(t->text[lead]))
            lead++;
        while (trail < t->len && is_ws(t->text[t->len - 1 - trail]))
            trail++;
        if (lead || trail) {
            char ex[48];
            size_t off = lead ? 0 : t->len - trail, n = lead ? lead : trail;
            tb_excerpt(ex, sizeof ex, t->text, off, n, 12);
            tb_vctx_emit(ctx, row, t->field, off, n, "%s %s with whitespace (\"%s\")%s", t->field,
                         lead ? "starts" : "ends", ex, lead && trail ? " and also ends with some" : "");
        }
        const char *cr = memchr(t->text, '\r', t->len);
        if (cr && cr + 1 < t->text + t->len && cr[1] == '\n')
            list_add(s, L_CRLF_TEXT, row->index, text_ref(t));
        else if (memchr(t->text, '\n', t->len))
            list_add(s, L_LF_TEXT, row->index, text_ref(t));
        if (t->kind == TB_TEXT_RESPONSE)
            last_resp = t;
        if (t->kind == TB_TEXT_PROMPT && row->shape != TB_SHAPE_CHAT && row->shape != TB_SHAPE_SHAREGPT) {
            size_t ms, me;
            list_add(s, tb_regex_find(&s->marker, t->text, t->len, 0, &ms, &me) ? L_MARKER : L_NO_MARKER, row->index,
                     text_ref(t));
        }
    }
    if (last_resp) {
        int p = final_period(last_resp->text, last_resp->len);
        if (p >= 0)
            list_add(s, p ? L_PERIOD : L_NO_PERIOD, row->index, text_ref(last_resp));
    }
    if (s->oom)
        ctx->oom = true;
}

static void ref_field(const tb_vctx *ctx, int32_t ref, char *out, size_t size)
{
    tb_row_shape shape = ctx->report->shape;
    if (ref == -1) {
        out[0] = '\0';
    } else if (ref >= 0) {
        bool sg = shape == TB_SHAPE_SHAREGPT;
        snprintf(out, size, "%s[%d].%s", tb_field_map_get(ctx->map, sg ? "conversations" : "messages"), (int)ref,
                 tb_field_map_get(ctx->map, sg ? "value" : "content"));
    } else {
        tb_text_kind k = (tb_text_kind)(-ref - 2);
        bool pc = shape == TB_SHAPE_PROMPT_COMPLETION;
        const char *canon = k == TB_TEXT_INPUT ? "input"
                            : k == TB_TEXT_RESPONSE ? (pc ? "completion" : "output")
                            : k == TB_TEXT_SYSTEM ? "system"
                                                  : (pc ? "prompt" : "instruction");
        snprintf(out, size, "%s", tb_field_map_get(ctx->map, canon));
    }
}

typedef struct side {
    int list;
    const char *self;   /* said of one row when it is the minority */
    const char *group;  /* said of the others when they are the majority */
} side;

/* Emit the minority of two lists when it is small enough to be a slip, not a style. */
static void minority(tb_vctx *ctx, format_state *s, side a, side b)
{
    const row_list *la = &s->lists[a.list], *lb = &s->lists[b.list];
    if (la->n == 0 || lb->n == 0)
        return;
    bool a_few = la->n <= lb->n;
    const row_list *few = a_few ? la : lb, *many = a_few ? lb : la;
    side fs = a_few ? a : b, ms = a_few ? b : a;
    size_t total = la->n + lb->n;
    if (many->n < MIN_MAJORITY || (double)few->n > MINORITY_SHARE * (double)total)
        return;
    for (size_t i = 0; i < few->n; i++) {
        char field[64];
        ref_field(ctx, few->turns[i], field, sizeof field);
        tb_vctx_emit_at(ctx, few->rows[i], field, 0, 0, "%s, while %zu of %zu %s", fs.self, many->n, total, ms.group);
    }
}

static void format_finish(void *state, tb_vctx *ctx)
{
    format_state *s = state;
    minority(ctx, s, (side){L_PERIOD, "the output ends with a period", "plain-sentence outputs end with one"},
             (side){L_NO_PERIOD, "the output ends without a period", "plain-sentence outputs end without one"});
    minority(ctx, s, (side){L_CRLF_LINE, "the line ends with CRLF (\\r\\n)", "lines end with CRLF"},
             (side){L_LF_LINE, "the line ends with LF (\\n)", "lines end with LF"});
    minority(ctx, s, (side){L_CRLF_TEXT, "the text breaks lines with CRLF (\\r\\n)", "multi-line texts use CRLF"},
             (side){L_LF_TEXT, "the text breaks lines with LF (\\n)", "multi-line texts use LF"});
    minority(ctx, s,
             (side){L_MARKER, "the instruction starts with a marker like \"Question:\"", "instructions start with one"},
             (side){L_NO_MARKER, "the instruction starts without a marker like \"Question:\"",
                    "instructions start without one"});
}

const tb_check_class tb_check_format_inconsistent = {
    .name = "format_inconsistent",
    .severity = TB_SEV_WARNING,
    .about = "whitespace around texts, or a row that breaks the dataset's own convention (final period, "
             "line ends, instruction markers)",
    .hint = "make every example follow one convention; --fix trims the whitespace",
    .init = format_init,
    .row = format_row,
    .finish = format_finish,
    .destroy = format_destroy,
};
