/* tunebench — the report as the JSON document of `tunebench validate --json`:
 *   {"rows": N, "format": "...", "summary": {"check": count, ...}, "stats": {...},
 *    "findings": [{"check", "severity", "row", "line", "field", "message", ...}], ...} */
#include <jansson.h>
#include <math.h>

#include "validators/check.h"

static json_t *num(double v) { return json_real(round(v * 100) / 100); }

static json_t *stats_json(const tb_length_stats *s)
{
    if (s->n == 0)
        return json_null();
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "n", (json_int_t)s->n, "min", num(s->min), "p10",
                     num(s->p10), "median", num(s->median), "p90", num(s->p90), "max", num(s->max), "mean",
                     num(s->mean), "stddev", num(s->stddev));
}

json_t *tb_report_to_json(const tb_report *r)
{
    json_t *root = json_object();
    json_object_set_new(root, "file", json_string(r->path));
    json_object_set_new(root, "rows", json_integer(r->rows));
    json_object_set_new(root, "format", json_string(tb_format_name(r->format)));
    json_object_set_new(root, "shape", json_string(tb_shape_name(r->shape)));
    json_object_set_new(root, "errors", json_integer(r->by_severity[TB_SEV_ERROR]));
    json_object_set_new(root, "warnings", json_integer(r->by_severity[TB_SEV_WARNING]));

    json_t *summary = json_object(), *checks = json_object();
    long listed = 0, total = 0;
    for (int c = 0; c < tb_check_count(); c++) {
        const tb_check_summary *cs = &r->checks[c];
        json_object_set_new(summary, tb_check_name(c), json_integer(cs->count));
        bool eval = c == tb_check_find("leakage");
        long base = eval ? r->eval_rows : r->rows;
        json_object_set_new(checks, tb_check_name(c),
                            json_pack("{s:s, s:I, s:I, s:o, s:s}", "severity",
                                      tb_severity_name(tb_check_severity(c)), "count", (json_int_t)cs->count, "rows",
                                      (json_int_t)cs->rows, "share", num(base ? (double)cs->rows / (double)base : 0),
                                      "hint", tb_check_hint(c)));
        listed += cs->stored;
        total += cs->count;
    }
    json_object_set_new(root, "summary", summary);
    json_object_set_new(root, "checks", checks);

    json_t *stats = json_object();
    json_object_set_new(stats, "unit", json_string("characters"));
    for (int f = 0; f < TB_STAT_COUNT; f++) {
        json_t *s = stats_json(&r->stats[f]);
        if (f == TB_STAT_TOKENS && json_is_object(s)) {
            json_object_set_new(s, "estimate", json_boolean(!r->tokens_exact));
            json_object_set_new(s, "note", json_string(r->token_note));
        }
        json_object_set_new(stats, tb_stat_field_name((tb_stat_field)f), s);
    }
    json_object_set_new(root, "stats", stats);

    json_t *findings = json_array();
    for (long i = 0; i < r->n_findings; i++) {
        const tb_finding *f = &r->findings[i];
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "check", tb_check_name(f->check), "severity",
                              tb_severity_name(f->severity), "row", (json_int_t)f->row, "line", (json_int_t)f->line,
                              "field", f->field, "message", f->message);
        if (f->record)
            json_object_set_new(o, "record", json_integer(f->record));
        if (f->in_eval)
            json_object_set_new(o, "file", json_string(r->eval_path));
        json_object_set_new(o, "hint", json_string(tb_check_hint(f->check)));
        json_array_append_new(findings, o);
    }
    json_object_set_new(root, "findings", findings);
    json_object_set_new(root, "omitted", json_integer(total - listed));
    if (r->eval_path[0])
        json_object_set_new(root, "eval", json_pack("{s:s, s:I}", "file", r->eval_path, "rows", (json_int_t)r->eval_rows));
    if (r->fix.done)
        json_object_set_new(root, "fix",
                            json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "file", r->fix.path, "written",
                                      (json_int_t)r->fix.written, "dropped_duplicates",
                                      (json_int_t)r->fix.dropped_duplicates, "dropped_unparseable",
                                      (json_int_t)r->fix.dropped_unparseable, "trimmed_fields",
                                      (json_int_t)r->fix.trimmed_fields, "emptied_inputs",
                                      (json_int_t)r->fix.emptied_inputs));
    return root;
}
