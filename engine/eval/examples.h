/* tunebench — held-out examples for an evaluation: dataset rows rendered with the training
 * template and tokenized exactly as the trainer does (datasets/encode.h), so the loss is
 * measured on the same response tokens training counted. Each example also keeps its
 * prompt text (instruction + input, or the user turn) and its reference response for the
 * per-example table; the generation prompt is the tokens before the first trained one.
 *
 * Multi-turn conversations: the loss covers every assistant turn (as in training); the
 * generation is compared with the first assistant reply. */
#ifndef TB_EVAL_EXAMPLES_H
#define TB_EVAL_EXAMPLES_H

#include <stdint.h>

#include "datasets/template.h"
#include "engine/core/error.h"
#include "engine/tokenizer/tokenizer.h"

typedef struct tb_eval_item {
    int32_t *ids;          /* (n) prompt + response (+ EOS) */
    uint8_t *trained;      /* (n) */
    int64_t n;
    int64_t prompt_len;    /* tokens before the first trained one */
    char *prompt;          /* for people */
    char *reference;       /* the expected response */
    long line;
} tb_eval_item;

typedef struct tb_eval_items {
    tb_eval_item *v;
    int64_t n, cap;
    long skipped;          /* rows without a response, unparseable, or cut to nothing */
    char first_skip[512];
    long truncated;        /* examples cut at max_len */
} tb_eval_items;

/* Read up to `limit` examples (0: all) of path, template `kind` (AUTO: by shape), at most
 * max_len tokens each. Fails when the file cannot be read or yields no example. */
tb_status tb_eval_items_load(tb_eval_items *out, const char *path, const tb_tokenizer *tok, tb_template_kind kind,
                             int64_t max_len, int64_t limit, tb_error *err);
void tb_eval_items_free(tb_eval_items *s);

/* A plain-text file (the regression sample) to ids, BOS first when the tokenizer has one. */
tb_status tb_eval_text_ids(const char *path, const tb_tokenizer *tok, int32_t **ids, int64_t *n, tb_error *err);

#endif
