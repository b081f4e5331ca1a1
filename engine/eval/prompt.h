/* tunebench — a typed prompt as the model saw prompts in training: the dataset template's
 * prompt part (everything before the first trained segment) around the user's text, so an
 * adapter trained on alpaca rows is asked in alpaca form. */
#ifndef TB_EVAL_PROMPT_H
#define TB_EVAL_PROMPT_H

#include <stdint.h>

#include "datasets/template.h"
#include "engine/core/error.h"
#include "engine/tokenizer/tokenizer.h"

/* The ids of the prompt for `text` under `kind` (ALPACA: an instruction row; CHATML/LLAMA3:
 * one user turn; PLAIN: the text as is), BOS first when the template wants it. *ids is
 * malloc'd (caller frees). */
tb_status tb_eval_prompt_ids(const tb_tokenizer *tok, tb_template_kind kind, const char *text, int32_t **ids,
                             int64_t *n, tb_error *err);

#endif
