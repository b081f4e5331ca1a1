/* tunebench — before/after evaluation report: summaries, text and JSON (engine/eval/report.h). */
#include "engine/eval/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tb_status tb_eval_report_init(tb_eval_report *r, int n_sides, const char *const *names, int64_t n_examples,
                              tb_error *err)
{
    memset(r, 0, sizeof *r);
    r->n_sides = n_sides;
    r->n_examples = n_examples;
    r->threshold = TB_EVAL_REGRESSION_THRESHOLD;
    size_t ns = (size_t)(n_sides > 0 ? n_sides : 1), ne = (size_t)(n_examples > 0 ? n_examples : 1);
    r->side_names = calloc(ns, sizeof *r->side_names);
    r->ex = calloc(ne, sizeof *r->ex);
    r->cells = calloc(ne * ns, sizeof *r->cells);
    r->sum = calloc(ns, sizeof *r->sum);
    r->general_ppl = calloc(ns, sizeof *r->general_ppl);
    r->reg = calloc(ns, sizeof *r->reg);
    if (!r->side_names || !r->ex || !r->cells || !r->sum || !r->general_ppl || !r->reg) {
        tb_eval_report_free(r);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    for (int s = 0; s < n_sides; s++) {
        r->general_ppl[s] = NAN;
        if (!(r->side_names[s] = strdup(names[s]))) {
            tb_eval_report_free(r);
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < (size_t)n_examples * ns; i++)
        r->cells[i].len_ratio = NAN;
    return TB_OK;
}

void tb_eval_report_free(tb_eval_report *r)
{
    if (!r)
        return;
    for (int s = 0; r->side_names && s < r->n_sides; s++)
        free(r->side_names[s]);
    for (int64_t e = 0; r->ex && e < r->n_examples; e++)
        free(r->ex[e].prompt), free(r->ex[e].reference);
    for (int64_t i = 0; r->cells && i < r->n_examples * r->n_sides; i++)
        free(r->cells[i].generated);
    free(r->side_names);
    free(r->ex);
    free(r->cells);
    free(r->sum);
    free(r->general_ppl);
    free(r->reg);
    free(r->data_path), free(r->model_path), free(r->general_path), free(r->judge_cmd);
    memset(r, 0, sizeof *r);
}

void tb_eval_cell_set_generation(tb_eval_cell *c, char *generated, const char *reference)
{
    free(c->generated);
    c->generated = generated;
    c->exact = tb_eval_exact_match(generated, reference);
    c->len_ratio = tb_eval_length_ratio(generated, reference);
}

void tb_eval_report_finish(tb_eval_report *r, double threshold)
{
    r->threshold = threshold;
    for (int s = 0; s < r->n_sides; s++) {
        tb_eval_summary *sum = &r->sum[s];
        memset(sum, 0, sizeof *sum);
        for (int64_t e = 0; e < r->n_examples; e++) {
            const tb_eval_cell *c = tb_eval_report_cell(r, e, s);
            sum->n++;
            if (c->tokens > 0)
                tb_eval_summary_add_loss(sum, c->nll, c->tokens);
            if (c->generated)
                tb_eval_summary_add_generation(sum, c->exact, c->len_ratio);
            if (c->judged && c->judge.ok) {
                int sc[3] = {c->judge.accuracy, c->judge.completeness, c->judge.format};
                tb_eval_summary_add_judge(sum, sc);
            }
        }
        if (s > 0)
            tb_eval_regression_check(&r->reg[s], r->general_ppl[0], r->general_ppl[s], threshold);
    }
}

double tb_eval_cell_metric(const tb_eval_cell *c, tb_eval_metric m)
{
    switch (m) {
    case TB_METRIC_LOSS: return c->tokens > 0 ? c->nll / (double)c->tokens : NAN;
    case TB_METRIC_PERPLEXITY: return tb_eval_perplexity(c->nll, c->tokens);
    case TB_METRIC_EXACT: return c->generated ? (c->exact ? 1.0 : 0.0) : NAN;
    case TB_METRIC_LEN_RATIO: return c->generated ? c->len_ratio : NAN;
    case TB_METRIC_JUDGE_ACCURACY: return c->judged && c->judge.ok ? c->judge.accuracy : NAN;
    case TB_METRIC_JUDGE_COMPLETENESS: return c->judged && c->judge.ok ? c->judge.completeness : NAN;
    case TB_METRIC_JUDGE_FORMAT: return c->judged && c->judge.ok ? c->judge.format : NAN;
    default: return NAN;
    }
}

bool tb_eval_report_has_metric(const tb_eval_report *r, tb_eval_metric m)
{
    if (m >= TB_METRIC_JUDGE_ACCURACY)
        return r->judge_cmd != NULL;
    for (int s = 0; s < r->n_sides; s++)
        if (!isnan(tb_eval_summary_metric(&r->sum[s], m)))
            return true;
    return false;
}

/* ------------------------------------------------------------------ text */

static void print_value(FILE *out, double v, int width)
{
    if (isnan(v))
        fprintf(out, " %*s", width, "n/a");
    else
        fprintf(out, " %*.2f", width, v);
}

/* One preview line: newlines shown as spaces, at most max characters (bytes kept whole
 * UTF-8 sequences: cut only before a lead byte). */
static void print_preview(FILE *out, const char *s, size_t max)
{
    size_t n = 0, chars = 0;
    while (s[n] && chars < max) {
        n++;
        while ((s[n] & 0xC0) == 0x80)
            n++;
        chars++;
    }
    for (size_t i = 0; i < n; i++)
        fputc(s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i], out);
    if (s[n])
        fputs("...", out);
}

/* "metric  side0  side1  delta1  side2  delta2 ..." */
static void print_header(FILE *out, const tb_eval_report *r, const char *first)
{
    fprintf(out, "%-20s", first);
    for (int s = 0; s < r->n_sides; s++) {
        fprintf(out, " %10.10s", r->side_names[s]);
        if (s > 0)
            fprintf(out, " %8s", "delta");
    }
    fputc('\n', out);
    int width = 20 + 11 * r->n_sides + 9 * (r->n_sides - 1);
    for (int i = 0; i < width; i++)
        fputc('-', out);
    fputc('\n', out);
}

static void print_row(FILE *out, const tb_eval_report *r, tb_eval_metric m, const double *v)
{
    fprintf(out, "%-20s", tb_eval_metric_name(m));
    for (int s = 0; s < r->n_sides; s++) {
        print_value(out, v[s], 10);
        if (s > 0) {
            char d[32];
            tb_eval_format_delta(d, sizeof d, v[0], v[s], 2);
            fprintf(out, " %8s", d);
        }
    }
    fputc('\n', out);
}

void tb_eval_report_print(const tb_eval_report *r, FILE *out)
{
    fprintf(out, "Evaluation on %lld examples of %s", (long long)r->n_examples, r->data_path ? r->data_path : "?");
    if (r->model_path)
        fprintf(out, " (model %s)", r->model_path);
    fprintf(out, "\n\n");
    print_header(out, r, "metric");
    double *v = malloc((size_t)r->n_sides * sizeof *v);
    if (!v)
        return;
    for (int m = 0; m < TB_METRIC_COUNT; m++) {
        if (!tb_eval_report_has_metric(r, (tb_eval_metric)m))
            continue;
        for (int s = 0; s < r->n_sides; s++)
            v[s] = tb_eval_summary_metric(&r->sum[s], (tb_eval_metric)m);
        print_row(out, r, (tb_eval_metric)m, v);
    }
    if (r->judge_cmd)
        fprintf(out, "judge: %s; command: %s\n", TB_JUDGE_LABEL, r->judge_cmd);
    if (r->general_path) {
        fprintf(out, "\nRegression check on general text (%s):\n", r->general_path);
        fprintf(out, "  %s: perplexity %.2f\n", r->side_names[0], r->general_ppl[0]);
        for (int s = 1; s < r->n_sides; s++)
            fprintf(out, "  %s: %s\n", r->side_names[s], r->reg[s].message);
    }
    for (int64_t e = 0; e < r->n_examples; e++) {
        const tb_eval_example *x = &r->ex[e];
        fprintf(out, "\n#%lld", (long long)e + 1);
        if (x->line)
            fprintf(out, " (line %ld)", x->line);
        fputc(' ', out);
        print_preview(out, x->prompt ? x->prompt : "", 70);
        fprintf(out, "\n  %-10.10s ", "reference");
        print_preview(out, x->reference ? x->reference : "", 80);
        fputc('\n', out);
        for (int s = 0; s < r->n_sides; s++) {
            const tb_eval_cell *c = &r->cells[e * r->n_sides + s];
            if (!c->generated)
                continue;
            fprintf(out, "  %-10.10s ", r->side_names[s]);
            print_preview(out, c->generated, 80);
            fputc('\n', out);
        }
        for (int m = 0; m < TB_METRIC_COUNT; m++) {
            if (!tb_eval_report_has_metric(r, (tb_eval_metric)m))
                continue;
            for (int s = 0; s < r->n_sides; s++)
                v[s] = tb_eval_cell_metric(&r->cells[e * r->n_sides + s], (tb_eval_metric)m);
            fputs("  ", out);
            print_row(out, r, (tb_eval_metric)m, v);
        }
        for (int s = 0; r->judge_cmd && s < r->n_sides; s++) {
            const tb_eval_cell *c = &r->cells[e * r->n_sides + s];
            if (c->judged && !c->judge.ok)
                fprintf(out, "  judge (%s): unscored: %s\n", r->side_names[s], c->judge.why);
        }
    }
    free(v);
}

/* ------------------------------------------------------------------ JSON */

static json_t *num(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }
static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

json_t *tb_eval_report_json(const tb_eval_report *r)
{
    json_t *root = json_object();
    json_object_set_new(root, "data", str_or_null(r->data_path));
    json_object_set_new(root, "model", str_or_null(r->model_path));
    json_object_set_new(root, "examples_n", json_integer(r->n_examples));
    json_t *sides = json_array();
    for (int s = 0; s < r->n_sides; s++) {
        json_t *o = json_object(), *sum = json_object(), *delta = json_object();
        json_object_set_new(o, "name", json_string(r->side_names[s]));
        for (int m = 0; m < TB_METRIC_COUNT; m++) {
            if (!tb_eval_report_has_metric(r, (tb_eval_metric)m))
                continue;
            double v = tb_eval_summary_metric(&r->sum[s], (tb_eval_metric)m);
            json_object_set_new(sum, tb_eval_metric_key((tb_eval_metric)m), num(v));
            if (s > 0)
                json_object_set_new(delta, tb_eval_metric_key((tb_eval_metric)m),
                                    num(v - tb_eval_summary_metric(&r->sum[0], (tb_eval_metric)m)));
        }
        json_object_set_new(sum, "exact_matches", json_integer(r->sum[s].exact));
        json_object_set_new(sum, "generated", json_integer(r->sum[s].generated));
        json_object_set_new(sum, "trained_tokens", json_integer(r->sum[s].tokens));
        json_object_set_new(o, "summary", sum);
        if (s > 0)
            json_object_set_new(o, "delta", delta);
        else
            json_decref(delta);
        if (r->general_path) {
            json_object_set_new(o, "general_perplexity", num(r->general_ppl[s]));
            if (s > 0) {
                json_t *g = json_object();
                json_object_set_new(g, "change", num(r->reg[s].change));
                json_object_set_new(g, "threshold", json_real(r->threshold));
                json_object_set_new(g, "warn", json_boolean(r->reg[s].warn));
                json_object_set_new(g, "message", json_string(r->reg[s].message));
                json_object_set_new(o, "regression", g);
            }
        }
        json_array_append_new(sides, o);
    }
    json_object_set_new(root, "sides", sides);
    if (r->general_path)
        json_object_set_new(root, "general", json_string(r->general_path));
    if (r->judge_cmd) {
        json_t *j = json_object();
        json_object_set_new(j, "label", json_string(TB_JUDGE_LABEL));
        json_object_set_new(j, "command", json_string(r->judge_cmd));
        json_object_set_new(root, "judge", j);
    }
    json_t *exs = json_array();
    for (int64_t e = 0; e < r->n_examples; e++) {
        json_t *o = json_object(), *cs = json_array();
        json_object_set_new(o, "line", json_integer(r->ex[e].line));
        json_object_set_new(o, "prompt", str_or_null(r->ex[e].prompt));
        json_object_set_new(o, "reference", str_or_null(r->ex[e].reference));
        for (int s = 0; s < r->n_sides; s++) {
            const tb_eval_cell *c = &r->cells[e * r->n_sides + s];
            json_t *co = json_object();
            json_object_set_new(co, "side", json_string(r->side_names[s]));
            for (int m = 0; m <= TB_METRIC_LEN_RATIO; m++)
                if (tb_eval_report_has_metric(r, (tb_eval_metric)m))
                    json_object_set_new(co, tb_eval_metric_key((tb_eval_metric)m), num(tb_eval_cell_metric(c, (tb_eval_metric)m)));
            json_object_set_new(co, "generated", str_or_null(c->generated));
            if (c->judged) {
                json_t *j = json_object();
                if (c->judge.ok) {
                    json_object_set_new(j, "accuracy", json_integer(c->judge.accuracy));
                    json_object_set_new(j, "completeness", json_integer(c->judge.completeness));
                    json_object_set_new(j, "format", json_integer(c->judge.format));
                } else {
                    json_object_set_new(j, "error", json_string(c->judge.why));
                }
                json_object_set_new(co, "judge", j);
            }
            json_array_append_new(cs, co);
        }
        json_object_set_new(o, "sides", cs);
        json_array_append_new(exs, o);
    }
    json_object_set_new(root, "examples", exs);
    return root;
}
