/* tunebench — user rules (--rules FILE): one per line
 *
 *     severity field /pattern/flags message
 *
 * severity: error | warning | info. field: instruction (or prompt, user), input, output (or
 * completion, assistant, response), system, any, or a field name exactly as in the file.
 * pattern: PCRE2 between slashes ("\/" for a slash inside); flags: i m s x u. Blank lines and
 * lines starting with '#' are skipped. A bad line fails the run, naming file and line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "validators/check.h"
#include "validators/regex.h"

typedef struct rule {
    tb_severity severity;
    int kind;            /* tb_text_kind, or -1 any, or -2 literal field */
    char field[64];
    tb_regex re;
    char message[256];
    long line;
} rule;

typedef struct rules_state {
    rule *rules;
    int n;
} rules_state;

static void rules_destroy(void *state)
{
    rules_state *s = state;
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        tb_regex_free(&s->rules[i].re);
    free(s->rules);
    free(s);
}

static int field_kind(const char *f)
{
    static const struct { const char *name; int kind; } t[] = {
        {"instruction", TB_TEXT_PROMPT}, {"prompt", TB_TEXT_PROMPT}, {"user", TB_TEXT_PROMPT},
        {"input", TB_TEXT_INPUT},        {"output", TB_TEXT_RESPONSE}, {"completion", TB_TEXT_RESPONSE},
        {"assistant", TB_TEXT_RESPONSE}, {"response", TB_TEXT_RESPONSE}, {"system", TB_TEXT_SYSTEM},
        {"any", -1}, {"*", -1},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, f) == 0)
            return t[i].kind;
    return -2;
}

static char *next_word(char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
    char *w = *p;
    while (**p && **p != ' ' && **p != '\t')
        (*p)++;
    if (**p)
        *(*p)++ = '\0';
    return w;
}

static tb_status parse_line(rule *r, char *p, const char *path, long line, tb_error *err)
{
    memset(r, 0, sizeof *r);
    r->line = line;
    char *sev = next_word(&p);
    if (!tb_severity_parse(sev, &r->severity))
        return tb_error_set(err, TB_ERR_INVALID, path, line, "severity",
                            "'%s' is not a severity (error, warning or info)", sev);
    char *field = next_word(&p);
    if (!*field)
        return tb_error_set(err, TB_ERR_INVALID, path, line, "field", "missing the field after the severity");
    r->kind = field_kind(field);
    snprintf(r->field, sizeof r->field, "%s", field);
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '/')
        return tb_error_set(err, TB_ERR_INVALID, path, line, "pattern",
                            "expected /pattern/flags after the field (e.g. /\\bTODO\\b/i)");
    char pat[1024];
    size_t n = 0;
    p++;
    for (; *p && *p != '/'; p++) {
        if (*p == '\\' && p[1] == '/')
            p++; /* "\/" is a slash inside the pattern */
        else if (*p == '\\' && p[1] && n + 2 < sizeof pat)
            pat[n++] = *p++;
        if (n + 1 < sizeof pat)
            pat[n++] = *p;
    }
    pat[n] = '\0';
    if (*p != '/')
        return tb_error_set(err, TB_ERR_INVALID, path, line, "pattern", "the pattern has no closing '/'");
    p++;
    uint32_t flags = 0;
    for (; *p && *p != ' ' && *p != '\t'; p++) {
        switch (*p) {
        case 'i': flags |= PCRE2_CASELESS; break;
        case 'm': flags |= PCRE2_MULTILINE; break;
        case 's': flags |= PCRE2_DOTALL; break;
        case 'x': flags |= PCRE2_EXTENDED; break;
        case 'u': flags |= PCRE2_UCP; break;
        default:
            return tb_error_set(err, TB_ERR_INVALID, path, line, "flags", "unknown flag '%c' (use i, m, s, x, u)", *p);
        }
    }
    while (*p == ' ' || *p == '\t')
        p++;
    snprintf(r->message, sizeof r->message, "%s", *p ? p : "matches the rule's pattern");
    tb_status st = tb_regex_compile(&r->re, pat, flags, err);
    if (st != TB_OK) {
        char msg[sizeof err->message];
        snprintf(msg, sizeof msg, "%s", err->message);
        return tb_error_set(err, TB_ERR_INVALID, path, line, "pattern", "%s", msg);
    }
    return TB_OK;
}

static tb_status rules_init(void **state, const tb_validate_opts *opts, tb_error *err)
{
    *state = NULL;
    if (!opts->rules_path)
        return TB_OK;
    char *text;
    tb_status st = tb_read_file(opts->rules_path, &text, NULL, err);
    if (st != TB_OK)
        return st;
    rules_state *s = calloc(1, sizeof *s);
    if (!s) {
        free(text);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    long line = 0;
    for (char *p = text, *next; p && *p; p = next) {
        line++;
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r')
            p[--len] = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        rule *nr = realloc(s->rules, (size_t)(s->n + 1) * sizeof *nr);
        if (!nr) {
            st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
            break;
        }
        s->rules = nr;
        st = parse_line(&s->rules[s->n], p, opts->rules_path, line, err);
        if (st != TB_OK)
            break;
        s->n++;
    }
    free(text);
    if (st == TB_OK && s->n == 0)
        st = tb_error_set(err, TB_ERR_INVALID, opts->rules_path, 0, NULL,
                          "no rules in the file (one per line: severity field /pattern/flags message)");
    if (st != TB_OK) {
        rules_destroy(s);
        return st;
    }
    *state = s;
    return TB_OK;
}

static void rules_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    rules_state *s = state;
    if (!s)
        return;
    for (int k = 0; k < s->n; k++) {
        rule *r = &s->rules[k];
        for (int i = 0; i < row->n_texts; i++) {
            const tb_text *t = &row->texts[i];
            if (r->kind == -2 ? strcmp(t->field, r->field) != 0 : (r->kind >= 0 && (int)t->kind != r->kind))
                continue;
            size_t ms, me;
            if (!tb_regex_find(&r->re, t->text, t->len, 0, &ms, &me))
                continue;
            char ex[96];
            tb_excerpt(ex, sizeof ex, t->text, ms, me - ms, 60);
            tb_vctx_emit_sev(ctx, r->severity, row, t->field, ms, me - ms, "rule (line %ld): %s (\"%s\" in %s)",
                             r->line, r->message, ex, t->field);
        }
    }
}

const tb_check_class tb_check_rule = {
    .name = "rule",
    .severity = TB_SEV_WARNING,
    .about = "a user rule from --rules FILE matched (each rule sets its own severity)",
    .hint = "see the rule's message",
    .init = rules_init,
    .row = rules_row,
    .destroy = rules_destroy,
};
