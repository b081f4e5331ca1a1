/* tunebench — prompting vs RAG vs fine-tuning: the decision matrix.
 *
 * Points per fact (prompting P, fine-tuning F, RAG R), from the tutorial's framework:
 *   examples < 50        P+3 F-4   too few to fine-tune; few-shot prompting instead
 *   examples 50..199     F+1       enough for a small LoRA run
 *   examples 200..999    F+2       hundreds
 *   examples >= 1000     F+3       thousands
 *   describable yes/no   P+2 / F+1
 *   base ok yes/no       P+3 F-2 / P-1 F+1
 *   iterate yes          P+2
 *   format yes           F+2
 *   specialized yes      F+2
 *   latency yes          F+2
 *   knowledge changes    R+3 F-1   fine-tuned weights would go stale
 *   citations yes        R+3
 *   large knowledge yes  R+3
 * Fine-tuning + RAG needs both sets of needs: when F >= 2, R >= 2 and fine-tuning is viable
 * it scores F + R - 2 (two systems to run); otherwise min(F, R). */
#include "engine/plan/decide.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define FT_MIN_EXAMPLES 50

static const char *const option_names[TB_DECIDE_OPTION_COUNT] = {
    "PROMPTING", "RAG", "FINE_TUNING", "FINE_TUNING_RAG",
};
static const char *const option_labels[TB_DECIDE_OPTION_COUNT] = {
    "Prompting", "RAG", "Fine-tuning", "Fine-tuning + RAG",
};

static const struct {
    const char *flag;
    const char *question;
} fact_text[TB_FACT_COUNT] = {
    [TB_FACT_EXAMPLES] = {"examples", "Labeled examples available"},
    [TB_FACT_DESCRIBABLE] = {"describable", "Task fits in a few sentences"},
    [TB_FACT_BASE_OK] = {"base-ok", "Base model already does it reasonably"},
    [TB_FACT_ITERATE] = {"iterate", "Need to iterate quickly"},
    [TB_FACT_FORMAT] = {"format", "Needs consistent format or style"},
    [TB_FACT_SPECIALIZED] = {"specialized", "Needs domain knowledge the base lacks"},
    [TB_FACT_LATENCY] = {"latency", "Latency / long-prompt cost hurts"},
    [TB_FACT_KNOWLEDGE_CHANGES] = {"knowledge-changes", "Knowledge changes frequently"},
    [TB_FACT_CITATIONS] = {"citations", "Needs citations / sources"},
    [TB_FACT_LARGE_KNOWLEDGE] = {"large-knowledge", "Knowledge too large to absorb"},
};

const char *tb_decide_option_name(tb_decide_option opt)
{
    return (unsigned)opt < TB_DECIDE_OPTION_COUNT ? option_names[opt] : "?";
}

const char *tb_decide_option_label(tb_decide_option opt)
{
    return (unsigned)opt < TB_DECIDE_OPTION_COUNT ? option_labels[opt] : "?";
}

const char *tb_decide_fact_flag(tb_decide_fact fact)
{
    return (unsigned)fact < TB_FACT_COUNT ? fact_text[fact].flag : "?";
}

const char *tb_decide_fact_question(tb_decide_fact fact)
{
    return (unsigned)fact < TB_FACT_COUNT ? fact_text[fact].question : "?";
}

void tb_decide_facts_init(tb_decide_facts *facts)
{
    facts->examples = -1;
    for (int i = 0; i < TB_FACT_COUNT; i++)
        facts->answer[i] = TB_ANSWER_UNKNOWN;
}

static void add(tb_decide_result *r, tb_decide_fact fact, int p, int f, int g, const char *fmt, long n)
{
    tb_decide_contribution *c = &r->contrib[r->n_contrib++];
    c->fact = fact;
    c->points[TB_AXIS_PROMPTING] = p;
    c->points[TB_AXIS_FINE_TUNING] = f;
    c->points[TB_AXIS_RAG] = g;
    /* fmt is one of the literals below; some take the example count. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(c->reason, sizeof c->reason, fmt, n);
#pragma GCC diagnostic pop
    r->axis[TB_AXIS_PROMPTING] += p;
    r->axis[TB_AXIS_FINE_TUNING] += f;
    r->axis[TB_AXIS_RAG] += g;
}

static bool yes(const tb_decide_facts *f, tb_decide_fact k) { return f->answer[k] == TB_ANSWER_YES; }
static bool no(const tb_decide_facts *f, tb_decide_fact k) { return f->answer[k] == TB_ANSWER_NO; }

static void collect(const tb_decide_facts *f, tb_decide_result *r)
{
    long n = f->examples;
    if (n >= 0 && n < FT_MIN_EXAMPLES)
        add(r, TB_FACT_EXAMPLES, 3, -4, 0,
            "%ld examples are too few for fine-tuning; few-shot prompting with 5-10 of them works.", n);
    else if (n >= FT_MIN_EXAMPLES && n < 200)
        add(r, TB_FACT_EXAMPLES, 0, 1, 0,
            "%ld examples are enough for a small LoRA run, though hundreds or thousands are better.", n);
    else if (n >= 200 && n < 1000)
        add(r, TB_FACT_EXAMPLES, 0, 2, 0, "%ld examples are enough to teach the model by fine-tuning.", n);
    else if (n >= 1000)
        add(r, TB_FACT_EXAMPLES, 0, 3, 0, "%ld labeled examples are fine-tuning territory.", n);

    if (yes(f, TB_FACT_DESCRIBABLE))
        add(r, TB_FACT_DESCRIBABLE, 2, 0, 0, "The task can be described in a few sentences, so a prompt can carry it.", 0);
    else if (no(f, TB_FACT_DESCRIBABLE))
        add(r, TB_FACT_DESCRIBABLE, 0, 1, 0, "The task is hard to put into words; examples teach it better than instructions.", 0);

    if (yes(f, TB_FACT_BASE_OK))
        add(r, TB_FACT_BASE_OK, 3, -2, 0, "The base model already handles this; don't fine-tune what it already does.", 0);
    else if (no(f, TB_FACT_BASE_OK))
        add(r, TB_FACT_BASE_OK, -1, 1, 0, "The base model falls short on its own, so a prompt alone is unlikely to be enough.", 0);

    if (yes(f, TB_FACT_ITERATE))
        add(r, TB_FACT_ITERATE, 2, 0, 0, "Fast iteration favours prompts: they change in seconds, training takes hours.", 0);
    if (yes(f, TB_FACT_FORMAT))
        add(r, TB_FACT_FORMAT, 0, 2, 0, "Consistent format or style is what fine-tuning bakes in best.", 0);
    if (yes(f, TB_FACT_SPECIALIZED))
        add(r, TB_FACT_SPECIALIZED, 0, 2, 0, "Specialized knowledge the base model lacks has to be taught into the weights.", 0);
    if (yes(f, TB_FACT_LATENCY))
        add(r, TB_FACT_LATENCY, 0, 2, 0, "A fine-tuned model needs no long prompt: lower latency and cost per request.", 0);
    if (yes(f, TB_FACT_KNOWLEDGE_CHANGES))
        add(r, TB_FACT_KNOWLEDGE_CHANGES, 0, -1, 3, "Knowledge that changes often would leave fine-tuned weights stale; RAG retrieves current documents.", 0);
    if (yes(f, TB_FACT_CITATIONS))
        add(r, TB_FACT_CITATIONS, 0, 0, 3, "Citations and source attribution need retrieved documents to point at.", 0);
    if (yes(f, TB_FACT_LARGE_KNOWLEDGE))
        add(r, TB_FACT_LARGE_KNOWLEDGE, 0, 0, 3, "More knowledge than fine-tuning can absorb belongs in a retrieval index.", 0);
}

/* How much a contribution supports an option (the axes that option stands on). */
static int support(const tb_decide_contribution *c, tb_decide_option opt)
{
    switch (opt) {
    case TB_DECIDE_PROMPTING: return c->points[TB_AXIS_PROMPTING];
    case TB_DECIDE_FINE_TUNING: return c->points[TB_AXIS_FINE_TUNING];
    case TB_DECIDE_RAG: return c->points[TB_AXIS_RAG];
    case TB_DECIDE_FINE_TUNING_RAG: return c->points[TB_AXIS_FINE_TUNING] + c->points[TB_AXIS_RAG];
    default: return 0;
    }
}

void tb_decide(const tb_decide_facts *facts, tb_decide_result *r)
{
    memset(r, 0, sizeof *r);
    collect(facts, r);

    int p = r->axis[TB_AXIS_PROMPTING], f = r->axis[TB_AXIS_FINE_TUNING], g = r->axis[TB_AXIS_RAG];
    bool enough = facts->examples < 0 || facts->examples >= FT_MIN_EXAMPLES;
    r->fine_tuning_viable = enough && f > 0;
    r->rag_needed = g > 0;
    r->scores[TB_DECIDE_PROMPTING] = p;
    r->scores[TB_DECIDE_FINE_TUNING] = f;
    r->scores[TB_DECIDE_RAG] = g;
    if (r->fine_tuning_viable && f >= 2 && g >= 2) {
        r->scores[TB_DECIDE_FINE_TUNING_RAG] = f + g - 2;
        snprintf(r->combine_note, sizeof r->combine_note,
                 "Both needs hold: fine-tuning (%d) + RAG (%d) - 2 for running two systems = %d.", f, g, f + g - 2);
    } else {
        r->scores[TB_DECIDE_FINE_TUNING_RAG] = f < g ? f : g;
        snprintf(r->combine_note, sizeof r->combine_note,
                 "Fine-tuning + RAG needs both sets of needs; it scores the lesser of the two (%d).",
                 f < g ? f : g);
    }

    /* Highest score wins; ties go to the cheaper option (prompting first), except that a
     * real RAG need beats prompting on a tie: a prompt cannot hold changing knowledge. */
    tb_decide_option best = TB_DECIDE_PROMPTING;
    for (int o = 1; o < TB_DECIDE_OPTION_COUNT; o++) {
        int s = r->scores[o], b = r->scores[best];
        if (s > b || (s == b && o == TB_DECIDE_RAG && best == TB_DECIDE_PROMPTING && g > 0))
            best = (tb_decide_option)o;
    }
    r->recommendation = best;

    /* Reasons: contributions that support the winner, strongest first (stable). */
    int order[TB_FACT_COUNT + 1], n = 0;
    for (int i = 0; i < r->n_contrib; i++)
        if (support(&r->contrib[i], best) > 0)
            order[n++] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && support(&r->contrib[order[j]], best) > support(&r->contrib[order[j - 1]], best); j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (int i = 0; i < n; i++)
        r->reasons[r->n_reasons++] = r->contrib[order[i]].reason;
    if (best == TB_DECIDE_FINE_TUNING_RAG)
        r->reasons[r->n_reasons++] = r->combine_note;
    if (r->n_reasons == 0)
        r->reasons[r->n_reasons++] =
            "Nothing points away from it: start with prompting and fine-tune only when you have evidence the base model can't handle the task.";
}

/* The tutorial's five scenarios (its decision matrix), answered as their descriptions say. */
#define U TB_ANSWER_UNKNOWN
#define Y TB_ANSWER_YES
#define N TB_ANSWER_NO
/* answer order: examples(unused), describable, base_ok, iterate, format, specialized,
 * latency, knowledge_changes, citations, large_knowledge */
static const tb_decide_preset presets[] = {
    {"support-bot", "Customer support bot, 30 example conversations", TB_DECIDE_PROMPTING,
     {30, {U, Y, Y, Y, U, U, U, U, U, U}}},
    {"medical-formatter", "Medical report formatter, 2000 labeled examples", TB_DECIDE_FINE_TUNING,
     {2000, {U, N, N, N, Y, Y, U, N, N, N}}},
    {"kb-qa", "Company knowledge base Q&A, docs change weekly", TB_DECIDE_RAG,
     {-1, {U, Y, U, U, N, U, U, Y, Y, U}}},
    {"code-review", "Code review assistant, 5000 PR review examples", TB_DECIDE_FINE_TUNING_RAG,
     {5000, {U, N, N, N, Y, Y, U, Y, U, U}}},
    {"ui-translation", "Translating UI strings to 3 languages", TB_DECIDE_PROMPTING,
     {-1, {U, Y, Y, U, N, N, U, N, N, N}}},
};
#undef U
#undef Y
#undef N

int tb_decide_preset_count(void) { return (int)(sizeof presets / sizeof presets[0]); }

const tb_decide_preset *tb_decide_preset_at(int i)
{
    return (i >= 0 && i < tb_decide_preset_count()) ? &presets[i] : NULL;
}

const tb_decide_preset *tb_decide_preset_find(const char *name)
{
    for (int i = 0; i < tb_decide_preset_count(); i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

tb_status tb_answer_parse(const char *text, tb_answer *out, tb_error *err)
{
    static const char *const yes_words[] = {"yes", "y", "true", "1", NULL};
    static const char *const no_words[] = {"no", "n", "false", "0", NULL};
    static const char *const unknown_words[] = {"unknown", "?", "", NULL};
    for (int i = 0; yes_words[i]; i++)
        if (strcasecmp(text, yes_words[i]) == 0)
            return (*out = TB_ANSWER_YES), TB_OK;
    for (int i = 0; no_words[i]; i++)
        if (strcasecmp(text, no_words[i]) == 0)
            return (*out = TB_ANSWER_NO), TB_OK;
    for (int i = 0; unknown_words[i]; i++)
        if (strcasecmp(text, unknown_words[i]) == 0)
            return (*out = TB_ANSWER_UNKNOWN), TB_OK;
    return tb_fail(err, TB_ERR_INVALID, "'%s' is not yes, no or unknown", text);
}

const char *tb_answer_name(tb_answer a)
{
    return a == TB_ANSWER_YES ? "yes" : a == TB_ANSWER_NO ? "no" : "?";
}
