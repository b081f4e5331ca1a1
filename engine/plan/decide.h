/* tunebench — prompting vs RAG vs fine-tuning: the decision matrix.
 *
 * A pure function from facts about a task to a recommendation, a score per option and the
 * reasons. It follows the framework of the tutorial (../shared/reference): prompting for
 * few examples / describable tasks / capable base models / fast iteration; fine-tuning for
 * hundreds+ examples with format, specialized knowledge or latency needs; RAG for changing
 * knowledge, citations or more knowledge than weights can absorb; both needs at once give
 * fine-tuning + RAG. Every point of every score comes from one fact, so the screen can
 * show exactly why. */
#ifndef TB_PLAN_DECIDE_H
#define TB_PLAN_DECIDE_H

#include <stdbool.h>

#include "engine/core/error.h"

typedef enum tb_decide_option {
    TB_DECIDE_PROMPTING = 0,
    TB_DECIDE_RAG,
    TB_DECIDE_FINE_TUNING,
    TB_DECIDE_FINE_TUNING_RAG,
    TB_DECIDE_OPTION_COUNT
} tb_decide_option;

/* A yes/no fact that may be unanswered; unanswered facts contribute nothing. */
typedef enum tb_answer { TB_ANSWER_UNKNOWN = -1, TB_ANSWER_NO = 0, TB_ANSWER_YES = 1 } tb_answer;

typedef enum tb_decide_fact {
    TB_FACT_EXAMPLES = 0,      /* labeled examples available (count) */
    TB_FACT_DESCRIBABLE,       /* task fits in a few sentences */
    TB_FACT_BASE_OK,           /* base model already does it reasonably */
    TB_FACT_ITERATE,           /* needs to iterate quickly */
    TB_FACT_FORMAT,            /* needs consistent format or style */
    TB_FACT_SPECIALIZED,       /* domain knowledge the base model lacks */
    TB_FACT_LATENCY,           /* lower latency / long-prompt cost hurts */
    TB_FACT_KNOWLEDGE_CHANGES, /* knowledge changes frequently */
    TB_FACT_CITATIONS,         /* needs sources / attribution */
    TB_FACT_LARGE_KNOWLEDGE,   /* more knowledge than fine-tuning can absorb */
    TB_FACT_COUNT
} tb_decide_fact;

typedef struct tb_decide_facts {
    long examples;                  /* -1 = unknown */
    tb_answer answer[TB_FACT_COUNT]; /* index by tb_decide_fact; [TB_FACT_EXAMPLES] unused */
} tb_decide_facts;

/* The three need axes; fine-tuning + RAG is derived from the fine-tuning and RAG axes. */
enum { TB_AXIS_PROMPTING = 0, TB_AXIS_FINE_TUNING, TB_AXIS_RAG, TB_AXIS_COUNT };

typedef struct tb_decide_contribution {
    tb_decide_fact fact;
    int points[TB_AXIS_COUNT];  /* added to prompting, fine-tuning, RAG */
    char reason[200];           /* one sentence */
} tb_decide_contribution;

typedef struct tb_decide_result {
    tb_decide_option recommendation;
    int scores[TB_DECIDE_OPTION_COUNT];
    int axis[TB_AXIS_COUNT];
    bool fine_tuning_viable;   /* enough examples (>= 50) and a positive fine-tuning need */
    bool rag_needed;
    tb_decide_contribution contrib[TB_FACT_COUNT + 1];
    int n_contrib;
    /* Reasons that led to the recommendation, most important first, then counterpoints. */
    const char *reasons[TB_FACT_COUNT + 2];
    int n_reasons;
    char combine_note[200];    /* how fine-tuning + RAG was scored */
} tb_decide_result;

typedef struct tb_decide_preset {
    const char *name;      /* CLI name, e.g. "support-bot" */
    const char *scenario;  /* the tutorial's wording */
    tb_decide_option expected;
    tb_decide_facts facts;
} tb_decide_preset;

/* All facts unknown. */
void tb_decide_facts_init(tb_decide_facts *facts);
/* Decide. Never fails: unknown facts simply do not count. */
void tb_decide(const tb_decide_facts *facts, tb_decide_result *out);

const char *tb_decide_option_name(tb_decide_option opt);   /* "FINE_TUNING_RAG" */
const char *tb_decide_option_label(tb_decide_option opt);  /* "Fine-tuning + RAG" */
const char *tb_decide_fact_flag(tb_decide_fact fact);      /* "knowledge-changes" */
const char *tb_decide_fact_question(tb_decide_fact fact);  /* form wording */

int tb_decide_preset_count(void);
const tb_decide_preset *tb_decide_preset_at(int index);
const tb_decide_preset *tb_decide_preset_find(const char *name);

/* Parse "yes"/"no"/"y"/"n"/"true"/"false"/"1"/"0"/"unknown"/"?". */
tb_status tb_answer_parse(const char *text, tb_answer *out, tb_error *err);
const char *tb_answer_name(tb_answer a);

#endif
