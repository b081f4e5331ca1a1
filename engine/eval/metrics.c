/* tunebench — evaluation metrics (definitions: engine/eval/metrics.h). */
#include "engine/eval/metrics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "datasets/utf8.h"

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* [*b, *e) of s without surrounding whitespace. */
static void strip(const char *s, const char **b, const char **e)
{
    const char *end = s + strlen(s);
    while (s < end && is_space(*s))
        s++;
    while (end > s && is_space(end[-1]))
        end--;
    *b = s, *e = end;
}

bool tb_eval_exact_match(const char *generated, const char *reference)
{
    const char *gb, *ge, *rb, *re;
    strip(generated, &gb, &ge);
    strip(reference, &rb, &re);
    return ge - gb == re - rb && memcmp(gb, rb, (size_t)(ge - gb)) == 0;
}

double tb_eval_length_ratio(const char *generated, const char *reference)
{
    double g = (double)tb_utf8_chars(generated, strlen(generated));
    double r = (double)tb_utf8_chars(reference, strlen(reference));
    double hi = g > r ? g : r;
    return (g < r ? g : r) / (hi > 1 ? hi : 1);
}

double tb_eval_perplexity(double nll_sum, int64_t tokens)
{
    return tokens > 0 ? exp(nll_sum / (double)tokens) : NAN;
}

/* ------------------------------------------------------------------ summary */

void tb_eval_summary_add_loss(tb_eval_summary *s, double nll_sum, int64_t tokens)
{
    s->nll_sum += nll_sum;
    s->tokens += tokens;
}

void tb_eval_summary_add_generation(tb_eval_summary *s, bool exact, double len_ratio)
{
    s->generated++;
    s->exact += exact;
    s->len_ratio_sum += len_ratio;
}

void tb_eval_summary_add_judge(tb_eval_summary *s, const int scores[3])
{
    for (int k = 0; k < 3; k++)
        s->judge_sum[k] += scores[k];
    s->judged++;
}

double tb_eval_summary_loss(const tb_eval_summary *s) { return s->tokens ? s->nll_sum / (double)s->tokens : NAN; }
double tb_eval_summary_perplexity(const tb_eval_summary *s) { return tb_eval_perplexity(s->nll_sum, s->tokens); }
double tb_eval_summary_exact_rate(const tb_eval_summary *s) { return s->generated ? (double)s->exact / (double)s->generated : NAN; }
double tb_eval_summary_len_ratio(const tb_eval_summary *s) { return s->generated ? s->len_ratio_sum / (double)s->generated : NAN; }

double tb_eval_summary_judge(const tb_eval_summary *s, int which)
{
    return s->judged && which >= 0 && which < 3 ? s->judge_sum[which] / (double)s->judged : NAN;
}

static const struct {
    const char *name, *key;
    bool lower_better;
} metric_info[TB_METRIC_COUNT] = {
    {"loss", "loss", true},
    {"perplexity", "perplexity", true},
    {"exact match", "exact_match", false},
    {"length ratio", "length_ratio", false},
    {"judge accuracy", "judge_accuracy", false},
    {"judge completeness", "judge_completeness", false},
    {"judge format", "judge_format", false},
};

const char *tb_eval_metric_name(tb_eval_metric m) { return m < TB_METRIC_COUNT ? metric_info[m].name : "?"; }
const char *tb_eval_metric_key(tb_eval_metric m) { return m < TB_METRIC_COUNT ? metric_info[m].key : "?"; }
bool tb_eval_metric_lower_is_better(tb_eval_metric m) { return m < TB_METRIC_COUNT && metric_info[m].lower_better; }

double tb_eval_summary_metric(const tb_eval_summary *s, tb_eval_metric m)
{
    switch (m) {
    case TB_METRIC_LOSS: return tb_eval_summary_loss(s);
    case TB_METRIC_PERPLEXITY: return tb_eval_summary_perplexity(s);
    case TB_METRIC_EXACT: return tb_eval_summary_exact_rate(s);
    case TB_METRIC_LEN_RATIO: return tb_eval_summary_len_ratio(s);
    case TB_METRIC_JUDGE_ACCURACY: return tb_eval_summary_judge(s, 0);
    case TB_METRIC_JUDGE_COMPLETENESS: return tb_eval_summary_judge(s, 1);
    case TB_METRIC_JUDGE_FORMAT: return tb_eval_summary_judge(s, 2);
    default: return NAN;
    }
}

void tb_eval_format_delta(char *buf, size_t size, double base, double other, int decimals)
{
    if (isnan(base) || isnan(other)) {
        snprintf(buf, size, "n/a");
        return;
    }
    double d = other - base;
    /* What prints as zero is zero: no "+0.00" / "-0.00". */
    double unit = pow(10.0, -decimals) / 2;
    if (fabs(d) < unit)
        d = 0;
    snprintf(buf, size, d > 0 ? "+%.*f" : "%.*f", decimals, d);
}

/* ------------------------------------------------------------------ regression */

void tb_eval_regression_check(tb_eval_regression *r, double ppl_before, double ppl_after, double threshold)
{
    memset(r, 0, sizeof *r);
    r->ppl_before = ppl_before, r->ppl_after = ppl_after, r->threshold = threshold;
    if (!(ppl_before > 0) || isnan(ppl_after)) {
        r->change = NAN;
        snprintf(r->message, sizeof r->message, "general-text perplexity could not be measured");
        return;
    }
    r->change = ppl_after / ppl_before - 1;
    r->warn = r->change > threshold;
    if (r->warn)
        snprintf(r->message, sizeof r->message,
                 "WARNING: general-text perplexity rose %.1f%% (%.2f -> %.2f), past the %.0f%% threshold: the "
                 "adapter learned the task and forgot the rest (fewer epochs, lower rank or lr, or mix general "
                 "data in)",
                 100 * r->change, ppl_before, ppl_after, 100 * threshold);
    else
        snprintf(r->message, sizeof r->message, "general text: perplexity %.2f -> %.2f (%+.1f%%), within the %.0f%% threshold",
                 ppl_before, ppl_after, 100 * r->change, 100 * threshold);
}
