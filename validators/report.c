/* tunebench — the validation report: findings (capped per check, counts complete), their
 * message arena, and the emit functions checks call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validators/check.h"

#define ARENA_BLOCK ((size_t)64 << 10)

struct tb_report_arena {
    struct tb_report_arena *next;
    size_t used, cap;
    char data[];
};

static char *arena_strdup(tb_report *r, const char *s)
{
    size_t n = strlen(s) + 1;
    tb_report_arena *a = r->arena;
    if (!a || a->cap - a->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        tb_report_arena *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->next = a;
        b->used = 0;
        b->cap = cap;
        r->arena = b;
        a = b;
    }
    char *p = a->data + a->used;
    memcpy(p, s, n);
    a->used += n;
    return p;
}

void tb_report_free(tb_report *r)
{
    free(r->findings);
    for (tb_report_arena *a = r->arena; a;) {
        tb_report_arena *next = a->next;
        free(a);
        a = next;
    }
    r->findings = NULL;
    r->arena = NULL;
    r->n_findings = r->cap_findings = 0;
}

long tb_report_errors(const tb_report *r) { return r->by_severity[TB_SEV_ERROR]; }

const char *tb_severity_name(tb_severity s)
{
    switch (s) {
    case TB_SEV_ERROR: return "error";
    case TB_SEV_WARNING: return "warning";
    case TB_SEV_INFO: return "info";
    case TB_SEV_COUNT: break;
    }
    return "?";
}

bool tb_severity_parse(const char *name, tb_severity *out)
{
    for (int s = 0; s < TB_SEV_COUNT; s++)
        if (strcmp(name, tb_severity_name((tb_severity)s)) == 0) {
            *out = (tb_severity)s;
            return true;
        }
    if (strcmp(name, "warn") == 0) {
        *out = TB_SEV_WARNING;
        return true;
    }
    return false;
}

const char *tb_stat_field_name(tb_stat_field f)
{
    static const char *const n[TB_STAT_COUNT] = {"instruction", "input", "output", "tokens"};
    return (unsigned)f < TB_STAT_COUNT ? n[f] : "?";
}

/* Count the row once per check: a bitmap per check, grown with the rows. */
static bool first_for_row(tb_vctx *ctx, int check, long row)
{
    if (row < 0)
        return true;
    size_t need = (size_t)row / 8 + 1;
    if (need > ctx->seen_bytes || !ctx->seen[check]) {
        size_t nb = ctx->seen_bytes;
        while (nb < need)
            nb = nb ? nb * 2 : 1024;
        for (int c = 0; c < TB_CHECK_MAX; c++) {
            if (!ctx->seen[c] && c != check)
                continue;
            unsigned char *p = realloc(ctx->seen[c], nb);
            if (!p)
                return true;
            memset(p + (ctx->seen[c] ? ctx->seen_bytes : 0), 0, nb - (ctx->seen[c] ? ctx->seen_bytes : 0));
            ctx->seen[c] = p;
        }
        ctx->seen_bytes = nb;
    }
    unsigned char bit = (unsigned char)(1u << (row % 8));
    bool first = !(ctx->seen[check][row / 8] & bit);
    ctx->seen[check][row / 8] |= bit;
    return first;
}

void tb_vctx_vemit(tb_vctx *ctx, tb_severity sev, long row, long line, long record, int64_t offset, bool in_eval,
                   const char *field, size_t span_off, size_t span_len, const char *fmt, va_list ap)
{
    tb_report *r = ctx->report;
    int c = ctx->check;
    tb_check_summary *cs = &r->checks[c];
    cs->count++;
    r->by_severity[sev]++;
    /* Eval rows are numbered apart; count them by change of row (they arrive in order). */
    if (in_eval ? row != ctx->last_eval_row[c] : first_for_row(ctx, c, row))
        cs->rows++;
    if (in_eval)
        ctx->last_eval_row[c] = row;
    long cap = ctx->opts->max_findings;
    if (cap > 0 && cs->stored >= cap)
        return;
    if (r->n_findings == r->cap_findings) {
        long ncap = r->cap_findings ? r->cap_findings * 2 : 256;
        tb_finding *nf = realloc(r->findings, (size_t)ncap * sizeof *nf);
        if (!nf) {
            ctx->oom = true;
            return;
        }
        r->findings = nf;
        r->cap_findings = ncap;
    }
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *m = arena_strdup(r, msg);
    if (!m) {
        ctx->oom = true;
        return;
    }
    tb_finding *f = &r->findings[r->n_findings++];
    f->check = c;
    f->severity = sev;
    f->row = row;
    f->line = line;
    f->record = record;
    f->offset = offset;
    f->in_eval = in_eval;
    snprintf(f->field, sizeof f->field, "%s", field ? field : "");
    f->span_off = (uint32_t)span_off;
    f->span_len = (uint32_t)span_len;
    f->message = m;
    f->seq = ctx->seq++;
    cs->stored++;
}

void tb_vctx_emit(tb_vctx *ctx, const tb_row *row, const char *field, size_t span_off, size_t span_len,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tb_vctx_vemit(ctx, tb_check_classes[ctx->check]->severity, row->index, row->line, row->record, row->offset,
                  false, field, span_off, span_len, fmt, ap);
    va_end(ap);
}

void tb_vctx_emit_sev(tb_vctx *ctx, tb_severity sev, const tb_row *row, const char *field, size_t span_off,
                      size_t span_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tb_vctx_vemit(ctx, sev, row->index, row->line, row->record, row->offset, false, field, span_off, span_len,
                  fmt, ap);
    va_end(ap);
}

void tb_vctx_emit_at(tb_vctx *ctx, long row, const char *field, size_t span_off, size_t span_len, const char *fmt,
                     ...)
{
    va_list ap;
    va_start(ap, fmt);
    const tb_rowloc *l = &ctx->locs[row];
    tb_vctx_vemit(ctx, tb_check_classes[ctx->check]->severity, row, l->line, l->record, l->offset, false, field,
                  span_off, span_len, fmt, ap);
    va_end(ap);
}

void tb_vctx_emit_eval(tb_vctx *ctx, const tb_row *eval_row, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tb_vctx_vemit(ctx, tb_check_classes[ctx->check]->severity, eval_row->index, eval_row->line, eval_row->record,
                  eval_row->offset, true, "", 0, 0, fmt, ap);
    va_end(ap);
}

long tb_vctx_line(const tb_vctx *ctx, long row)
{
    return row >= 0 && row < ctx->n_rows ? (long)ctx->locs[row].line : 0;
}

static int cmp_finding(const void *a, const void *b)
{
    const tb_finding *x = a, *y = b;
    if (x->in_eval != y->in_eval)
        return x->in_eval ? 1 : -1;
    if (x->row != y->row)
        return x->row < y->row ? -1 : 1;
    if (x->check != y->check)
        return x->check < y->check ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq; /* qsort is not stable */
}

void tb_report_sort(tb_report *r)
{
    if (r->n_findings > 1)
        qsort(r->findings, (size_t)r->n_findings, sizeof *r->findings, cmp_finding);
}
