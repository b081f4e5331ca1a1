/* tunebench — PCRE2 pattern checks from AlpacaDataCleaned's list of defects: another
 * instruction merged into an output, prompts about URLs or attachments the model never sees,
 * and unfilled placeholders. Each pattern was run against the real Alpaca and ShareGPT
 * samples in ../shared/fixtures: Markdown headings, "####" answer lines, recipes with an
 * "Instructions:" heading and template code must not fire. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validators/check.h"
#include "validators/regex.h"

/* ---- merged_instruction --------------------------------------------------------------- */

/* A line that opens another task: "Instruction:", "2. Instruction:", "Instruction 3:",
 * "### Instruction:", or a leaked template marker "### Input:" / "### Response:". The
 * singular with a colon right after it (or after a number) keeps "Instructions:" headings
 * of recipes and plain "## Title" headings out. */
static const char merged_pattern[] =
    "(?m)^[ \\t]*(?:\\d{1,3}[.)][ \\t]*)?(?:(?:#{1,6}[ \\t]*)?Instruction(?:[ \\t]*\\d{1,3})?[ \\t]*:"
    "|#{2,6}[ \\t]*(?:Input|Response)[ \\t]*:)";

typedef struct regex_state {
    tb_regex re[6];
    int n;
} regex_state;

static tb_status compile_all(void **state, const char *const *patterns, const uint32_t *flags, int n, tb_error *err)
{
    regex_state *s = calloc(1, sizeof *s);
    if (!s)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        tb_status st = tb_regex_compile(&s->re[i], patterns[i], flags[i], err);
        if (st != TB_OK) {
            for (int k = 0; k < i; k++)
                tb_regex_free(&s->re[k]);
            free(s);
            return st;
        }
    }
    s->n = n;
    *state = s;
    return TB_OK;
}

static void regex_destroy(void *state)
{
    regex_state *s = state;
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        tb_regex_free(&s->re[i]);
    free(s);
}

static tb_status merged_init(void **state, const tb_validate_opts *opts, tb_error *err)
{
    (void)opts;
    const char *p[] = {merged_pattern};
    const uint32_t f[] = {PCRE2_CASELESS};
    return compile_all(state, p, f, 1, err);
}

static void merged_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    regex_state *s = state;
    for (int i = 0; i < row->n_texts; i++) {
        const tb_text *t = &row->texts[i];
        size_t ms, me;
        if (t->kind != TB_TEXT_RESPONSE || !tb_regex_find(&s->re[0], t->text, t->len, 0, &ms, &me))
            continue;
        /* Report the whole line that opens the merged task. */
        const char *eol = memchr(t->text + ms, '\n', t->len - ms);
        size_t end = eol ? (size_t)(eol - t->text) : t->len;
        char ex[96];
        tb_excerpt(ex, sizeof ex, t->text, ms, end - ms, 60);
        tb_vctx_emit(ctx, row, t->field, ms, end - ms, "another task starts inside %s at byte %zu: \"%s\"", t->field,
                     ms, ex);
    }
}

const tb_check_class tb_check_merged_instruction = {
    .name = "merged_instruction",
    .severity = TB_SEV_ERROR,
    .about = "another \"Instruction:\" block (or a leaked ### Input/Response marker) inside an output",
    .hint = "split it into separate examples or cut the output where the next task begins",
    .init = merged_init,
    .row = merged_row,
    .destroy = regex_destroy,
};

/* ---- url_reference -------------------------------------------------------------------- */

enum { U_URL, U_ACCESS, U_ATTACHED, U_MEDIA, U_DOC, U_FILENAME };

static const char *const url_patterns[] = {
    /* U_URL */ "\\bhttps?://[^\\s<>\"'`)\\]]+|\\bwww\\.[a-z0-9-]+(?:\\.[a-z0-9-]+)+",
    /* U_ACCESS: asks to go and get the content behind the link ("summarize https://...",
     * "the article at www...."); tasks about the URL string itself (extract the domain,
     * shorten it) do not match */
    ("(?:\\b(?:summari[sz]e|read|visit|open|watch|listen to|view|look at|check out|browse|go to|review|"
    "analy[sz]e|describe|according to|based on)\\b[^.\\n]{0,40}?"
    "|\\b(?:article|page|web ?page|website|site|video|post|blog|paper|report|thread|tweet|repo(?:sitory)?|link)"
    "\\s*(?:at|on|here|below)?\\s*:?\\s*)(?:https?://|www\\.)"),
    /* U_ATTACHED: an attachment, whatever the wording around it */
    ("\\b(?:attached|enclosed|uploaded)\\s+(?:\\w+\\s+)?(?:image|picture|photo|photograph|file|document|pdf|"
    "screenshot|video|audio|spreadsheet|chart|graph|diagram|recording|attachment)s?\\b"),
    /* U_MEDIA: "this / the following photo": a picture no text model can see */
    ("\\b(?:this|these|the following|the given|the above|the below|the provided|the attached|my)\\s+"
    "(?:image|picture|photo|photograph|screenshot|video|video clip|audio clip|audio|recording|gif)s?\\b"),
    /* U_DOC: "this document / the following file" with nothing given in the input */
    ("\\b(?:this|the following|the given|the provided|the above|the attached)\\s+"
    "(?:file|document|pdf|spreadsheet|excel file|web ?page|website|link|url)s?\\b"),
    /* U_FILENAME: an input that is just a media or document file name */
    ("^\\s*[\\w./\\\\-]+\\.(?:jpe?g|png|gif|bmp|webp|tiff?|svg|mp[34]|wav|mov|avi|pdf|docx?|xlsx?|pptx?|csv|zip)"
    "\\s*$"),
};
static const uint32_t url_flags[] = {PCRE2_CASELESS, PCRE2_CASELESS, PCRE2_CASELESS,
                                     PCRE2_CASELESS, PCRE2_CASELESS, PCRE2_CASELESS};

static tb_status url_init(void **state, const tb_validate_opts *opts, tb_error *err)
{
    (void)opts;
    return compile_all(state, url_patterns, url_flags, 6, err);
}

static void url_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    regex_state *s = state;
    const tb_text *input = tb_row_find(row, TB_TEXT_INPUT);
    bool input_empty = !input || tb_is_blank(input->text, input->len);
    for (int i = 0; i < row->n_texts; i++) {
        const tb_text *t = &row->texts[i];
        if (t->kind != TB_TEXT_PROMPT && t->kind != TB_TEXT_INPUT)
            continue;
        size_t ms, me;
        const char *why = NULL;
        if (tb_regex_find(&s->re[U_ACCESS], t->text, t->len, 0, &ms, &me)) {
            size_t us, ue;
            if (tb_regex_find(&s->re[U_URL], t->text, t->len, ms, &us, &ue)) {
                ms = us;
                me = ue;
            }
            why = "asks about a web page the model cannot open";
        } else if (tb_regex_find(&s->re[U_ATTACHED], t->text, t->len, 0, &ms, &me)) {
            why = "refers to an attachment the model never sees";
        } else if (tb_regex_find(&s->re[U_MEDIA], t->text, t->len, 0, &ms, &me) &&
                   (input_empty || t->kind == TB_TEXT_INPUT ||
                    tb_regex_find(&s->re[U_FILENAME], input->text, input->len, 0, &(size_t){0}, &(size_t){0}))) {
            why = "refers to a picture, video or sound a text model cannot see";
        } else if (t->kind == TB_TEXT_PROMPT && input_empty && row->shape == TB_SHAPE_ALPACA &&
                   tb_regex_find(&s->re[U_DOC], t->text, t->len, 0, &ms, &me)) {
            why = "refers to a document, but the input is empty";
        } else if (t->kind == TB_TEXT_INPUT && tb_regex_find(&s->re[U_FILENAME], t->text, t->len, 0, &ms, &me)) {
            why = "is only a file name; the file itself is not in the data";
        }
        if (!why)
            continue;
        char ex[96];
        tb_excerpt(ex, sizeof ex, t->text, ms, me - ms, 60);
        tb_vctx_emit(ctx, row, t->field, ms, me - ms, "%s %s: \"%s\"", t->field, why, ex);
    }
}

const tb_check_class tb_check_url_reference = {
    .name = "url_reference",
    .severity = TB_SEV_WARNING,
    .about = "an instruction or input about a URL, an attached picture or a file the model will never see",
    .hint = "put the content itself in the input, or drop the row: the model learns to invent it",
    .init = url_init,
    .row = url_row,
    .destroy = regex_destroy,
};

/* ---- placeholder_text ----------------------------------------------------------------- */

enum { P_BRACKET, P_MUSTACHE, P_TEMPLATE_CODE };

static const char *const ph_patterns[] = {
    /* P_BRACKET: [TODO], [TBD: ...], [PLACEHOLDER], [FIXME] */
    "\\[\\s*(?:TODO|TBD|FIXME|PLACEHOLDER|INSERT[ _]HERE)\\s*(?::[^\\]\\n]{0,80})?\\]",
    /* P_MUSTACHE: {{name}} a generator forgot to fill */
    "\\{\\{\\s*[A-Za-z_][A-Za-z0-9_.]*\\s*\\}\\}",
    /* P_TEMPLATE_CODE: signs that the text is template code, where {{name}} is legitimate */
    ("\\{%|\\{\\{[#/>^]|<[a-zA-Z][a-zA-Z0-9-]*[\\s>/]|\\b(?:jinja|handlebars|mustache|liquid|angular|vue|django|"
    "flask|twig|template)\\b|```"),
};
static const uint32_t ph_flags[] = {PCRE2_CASELESS, 0, PCRE2_CASELESS};

static tb_status ph_init(void **state, const tb_validate_opts *opts, tb_error *err)
{
    (void)opts;
    return compile_all(state, ph_patterns, ph_flags, 3, err);
}

/* Inside `inline code` on the same line (an odd number of backticks before it). */
static bool in_inline_code(const char *s, size_t at)
{
    size_t ticks = 0;
    for (size_t i = at; i > 0 && s[i - 1] != '\n'; i--)
        ticks += s[i - 1] == '`';
    return ticks % 2 == 1;
}

static void placeholder_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    regex_state *s = state;
    /* Template code anywhere in the example (a Jinja question, an HTML answer) makes {{x}}
     * part of the lesson, not a leftover. */
    int code = -1;
    for (int i = 0; i < row->n_texts; i++) {
        const tb_text *t = &row->texts[i];
        size_t ms, me;
        if (tb_regex_find(&s->re[P_BRACKET], t->text, t->len, 0, &ms, &me)) {
            char ex[96];
            tb_excerpt(ex, sizeof ex, t->text, ms, me - ms, 60);
            tb_vctx_emit(ctx, row, t->field, ms, me - ms, "%s holds the placeholder \"%s\"", t->field, ex);
            continue;
        }
        size_t pos = 0;
        while (tb_regex_find(&s->re[P_MUSTACHE], t->text, t->len, pos, &ms, &me)) {
            pos = me;
            if (in_inline_code(t->text, ms))
                continue;
            if (code < 0) {
                code = 0;
                for (int k = 0; k < row->n_texts && !code; k++)
                    code = tb_regex_find(&s->re[P_TEMPLATE_CODE], row->texts[k].text, row->texts[k].len, 0,
                                         &(size_t){0}, &(size_t){0});
            }
            if (code)
                break;
            char ex[96];
            tb_excerpt(ex, sizeof ex, t->text, ms, me - ms, 60);
            tb_vctx_emit(ctx, row, t->field, ms, me - ms, "%s holds an unrendered template variable \"%s\"", t->field,
                         ex);
            break;
        }
    }
}

const tb_check_class tb_check_placeholder_text = {
    .name = "placeholder_text",
    .severity = TB_SEV_ERROR,
    .about = "[TODO], [PLACEHOLDER] or an unrendered {{variable}} left in the text",
    .hint = "fill in the text or drop the row; the model would learn to write placeholders",
    .init = ph_init,
    .row = placeholder_row,
    .destroy = regex_destroy,
};
