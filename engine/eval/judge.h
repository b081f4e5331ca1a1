/* tunebench — LLM-as-judge through any local command (optional, off by default).
 *
 * The tutorial's llm_judge_eval prompt (reference + output, "Return 3 scores as:
 * accuracy,completeness,format") goes to the command's standard input; its standard output
 * is searched for the three scores 1-5. The command runs under /bin/sh -c in its own
 * process group, its stderr discarded, and is killed (the whole group) when it runs past the
 * timeout. A command that fails, hangs or prints something without three scores makes that
 * example "unscored" with the reason; it never stops the evaluation. */
#ifndef TB_EVAL_JUDGE_H
#define TB_EVAL_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/core/error.h"

#define TB_JUDGE_LABEL "LLM-as-judge (scores 1-5 from an external command, not a measurement)"
#define TB_JUDGE_MAX_OUTPUT (64 * 1024) /* bytes of stdout kept */

typedef struct tb_judge_scores {
    int accuracy, completeness, format; /* 1..5 when ok */
    bool ok;
    char why[160];                      /* when not ok: what went wrong */
} tb_judge_scores;

/* The judge prompt (malloc'd; caller frees). */
char *tb_judge_prompt(const char *reference, const char *output);

/* Find the scores in a judge's reply: the last "a,b,c" of digits 1-5 (spaces allowed), or
 * else "accuracy ... N", "completeness ... N", "format ... N" labels (case ignored). */
bool tb_judge_parse(const char *text, tb_judge_scores *out);

/* Run cmd with stdin = input; *out gets its stdout (malloc'd, NUL-terminated, at most
 * TB_JUDGE_MAX_OUTPUT bytes). Errors: TB_ERR_IO (could not start, exit status != 0, killed
 * by a signal), TB_ERR_CANCELLED (timed out; the process group was killed). */
tb_status tb_judge_exec(const char *cmd, const char *input, double timeout_s, char **out, tb_error *err);

/* Prompt, run, parse: always fills *scores (ok false with the reason on any failure). */
void tb_judge_score(const char *cmd, const char *reference, const char *output, double timeout_s,
                    tb_judge_scores *scores);

#endif
