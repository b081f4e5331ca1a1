/* tunebench — the model-side measurements of an evaluation: response loss of one tokenized
 * example, perplexity of plain text, greedy generation as text. Whatever adapter is attached
 * to the model when these run is what gets measured (the caller switches sides).
 *
 * Loss: the example runs through the model once; position t predicts ids[t + 1] and counts
 * when trained[t + 1] is set (the response tokens, as in training: Hugging Face's labels
 * shifted by one with -100 on the prompt). The log-softmax is taken on the host in f64 from
 * the downloaded logits, so it is independent of the training kernels it checks. */
#ifndef TB_EVAL_RUN_H
#define TB_EVAL_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/error.h"
#include "engine/model/generate.h"
#include "engine/model/llama.h"
#include "engine/tokenizer/tokenizer.h"

/* Logits (rows, V) of positions row0 .. row0 + rows - 1 after a forward of ids (T tokens,
 * batch 1) with whatever adapter is attached, into out (host). */
tb_status tb_eval_logits(tb_llama *m, const int32_t *ids, int64_t T, int64_t row0, int64_t rows, float *out,
                        tb_error *err);

/* NLL summed over the trained targets of ids (n tokens); trained NULL: every token after the
 * first is a target. *tokens gets the number of targets. */
tb_status tb_eval_nll(tb_llama *m, const int32_t *ids, const uint8_t *trained, int64_t n, double *nll,
                      int64_t *tokens, tb_error *err);

/* Plain text cut into windows of `window` tokens (each window a fresh context, all its
 * tokens after the first predicted): summed NLL and targets. */
tb_status tb_eval_text_nll(tb_llama *m, const int32_t *ids, int64_t n, int64_t window, double *nll, int64_t *tokens,
                           tb_error *err);

/* Tokens before the first trained one (the generation prompt); n when none is trained. */
int64_t tb_eval_prompt_len(const uint8_t *trained, int64_t n);

/* Generate after prompt with sampler settings o->sampler (temperature 0: greedy) up to
 * o->max_new tokens, stopping at the model's and the tokenizer's EOS; the new text
 * (special tokens dropped) in *text (malloc'd). on_token/token_ctx in o stream the ids. */
tb_status tb_eval_generate_text(tb_llama *m, const tb_tokenizer *tok, const int32_t *prompt, int64_t n_prompt,
                                const tb_generate_opts *o, char **text, tb_error *err);

#endif
