/* tunebench — evaluation metrics: did the adapter help, did it break anything?
 *
 * The tutorial's evaluate_fine_tuned / before_after_comparison (../shared/reference/
 * fine-tuning-tutorial.txt), as pure functions over numbers and strings:
 *   exact match     generated.strip() == expected.strip()
 *   length ratio    min(len(g), len(e)) / max(len(g), len(e), 1)   (characters: code points)
 *   loss            mean cross-entropy over the trained (response) tokens, masked as in
 *                   training; perplexity = exp(loss)
 *   delta           adapter - base, printed "+0.25" / "-0.25" / "0.00"
 * and the regression check on general text ("learned the task, forgot the rest"): the
 * general-text perplexity after vs before, with a warning past a relative threshold. */
#ifndef TB_EVAL_METRICS_H
#define TB_EVAL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Python's str.strip() on ASCII whitespace, then byte equality. */
bool tb_eval_exact_match(const char *generated, const char *reference);
/* Code points (invalid UTF-8 bytes count one each). */
double tb_eval_length_ratio(const char *generated, const char *reference);
/* exp(nll_sum / tokens); NaN when tokens is 0. */
double tb_eval_perplexity(double nll_sum, int64_t tokens);

/* One side's totals over the examples. Add examples with tb_eval_summary_add. */
typedef struct tb_eval_summary {
    int64_t n;              /* examples */
    double nll_sum;         /* over every trained token of every example */
    int64_t tokens;         /* trained tokens */
    int64_t exact;          /* exact matches */
    double len_ratio_sum;
    int64_t generated;      /* examples with a generation (exact / ratio are over these) */
    double judge_sum[3];    /* accuracy, completeness, format */
    int64_t judged;         /* examples the judge scored */
} tb_eval_summary;

void tb_eval_summary_add_loss(tb_eval_summary *s, double nll_sum, int64_t tokens);
void tb_eval_summary_add_generation(tb_eval_summary *s, bool exact, double len_ratio);
void tb_eval_summary_add_judge(tb_eval_summary *s, const int scores[3]);
double tb_eval_summary_loss(const tb_eval_summary *s);       /* token-weighted mean; NaN without tokens */
double tb_eval_summary_perplexity(const tb_eval_summary *s);
double tb_eval_summary_exact_rate(const tb_eval_summary *s); /* in [0, 1]; NaN without generations */
double tb_eval_summary_len_ratio(const tb_eval_summary *s);
double tb_eval_summary_judge(const tb_eval_summary *s, int which); /* mean 1..5; NaN when none */

/* "+0.25", "-0.25", "0.00" (the tutorial's arrow: '+' only when the delta is positive);
 * "n/a" when either side is NaN. */
void tb_eval_format_delta(char *buf, size_t size, double base, double other, int decimals);

/* Whether a lower value is better (loss, perplexity) or a higher one (exact, ratio, judge). */
typedef enum tb_eval_metric {
    TB_METRIC_LOSS = 0,
    TB_METRIC_PERPLEXITY,
    TB_METRIC_EXACT,
    TB_METRIC_LEN_RATIO,
    TB_METRIC_JUDGE_ACCURACY,
    TB_METRIC_JUDGE_COMPLETENESS,
    TB_METRIC_JUDGE_FORMAT,
    TB_METRIC_COUNT
} tb_eval_metric;

const char *tb_eval_metric_name(tb_eval_metric m);   /* "loss", "exact match", ... */
const char *tb_eval_metric_key(tb_eval_metric m);    /* JSON key: "loss", "exact_match", ... */
bool tb_eval_metric_lower_is_better(tb_eval_metric m);
double tb_eval_summary_metric(const tb_eval_summary *s, tb_eval_metric m);

/* ------------------------------------------------------------------ regression */

#define TB_EVAL_REGRESSION_THRESHOLD 0.10 /* default: warn past +10% general-text perplexity */

typedef struct tb_eval_regression {
    double ppl_before, ppl_after;
    double change;          /* after / before - 1 */
    double threshold;
    bool warn;              /* change > threshold */
    char message[256];      /* one line, for people */
} tb_eval_regression;

void tb_eval_regression_check(tb_eval_regression *r, double ppl_before, double ppl_after, double threshold);

#endif
