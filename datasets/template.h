/* tunebench — prompt templates: a row → the text the model sees, cut into segments that are
 * trained (the loss counts them) or not (the prompt, masked).
 *
 * Pure: no tokenizer here. The training pipeline tokenizes segment by segment and carries
 * each segment's flag onto its tokens (the loss mask); an EOS segment has no text and stands
 * for the tokenizer's EOS id. DESIGN.md §4:
 *   alpaca  "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n" + {output} + EOS
 *           (the Input block is left out when the input is empty)
 *   chatml  "<|im_start|>{role}\n{content}<|im_end|>\n" per turn; trained: assistant content + <|im_end|>
 *   llama3  "<|begin_of_text|>" then "<|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>"
 *           per turn (content trimmed, as Meta's template does); trained: assistant content + <|eot_id|>
 *   plain   {prompt} + {completion} + EOS (prompt/completion rows)
 * add_bos: alpaca and plain texts want the tokenizer's BOS in front; chat texts do not.
 * Every assistant turn of a conversation is trained, not only the last. */
#ifndef TB_DATASETS_TEMPLATE_H
#define TB_DATASETS_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "datasets/row.h"
#include "engine/core/error.h"

typedef enum tb_template_kind {
    TB_TEMPLATE_AUTO = 0, /* the default for the row's shape (tb_template_default) */
    TB_TEMPLATE_ALPACA,
    TB_TEMPLATE_CHATML,
    TB_TEMPLATE_LLAMA3,
    TB_TEMPLATE_PLAIN,
} tb_template_kind;

typedef enum tb_segment_kind {
    TB_SEG_TEXT = 0,
    TB_SEG_EOS,           /* no text: the tokenizer's EOS token goes here */
} tb_segment_kind;

typedef struct tb_segment {
    tb_segment_kind kind;
    size_t off, len;      /* bytes of tb_rendered.text (len 0 for EOS) */
    bool trained;         /* counted by the loss */
} tb_segment;

typedef struct tb_rendered {
    char *text;           /* NUL-terminated; segments cover it end to end */
    size_t len, cap;
    tb_segment *segs;
    int n_segs, cap_segs;
    bool add_bos;         /* prepend the tokenizer's BOS (false when the text carries it) */
    tb_template_kind kind; /* the template used (AUTO resolved) */
} tb_rendered;

/* Alpaca for alpaca rows, chatml for chat/ShareGPT, plain for prompt/completion. */
tb_template_kind tb_template_default(tb_row_shape shape);
const char *tb_template_name(tb_template_kind kind);
bool tb_template_parse(const char *name, tb_template_kind *out);

/* Render a row. out is reused between calls (zero it once; free with tb_rendered_free).
 * train_on_inputs marks every segment trained (DESIGN.md §3 --train-on-inputs).
 * Fails with TB_ERR_INVALID when the row has no response to train on or when the template
 * does not fit the shape (alpaca template for a conversation). */
tb_status tb_template_render(tb_template_kind kind, const tb_row *row, bool train_on_inputs, tb_rendered *out,
                             tb_error *err);
void tb_rendered_free(tb_rendered *r);

/* Bytes of trained text (EOS not counted), for statistics. */
size_t tb_rendered_trained_bytes(const tb_rendered *r);

#endif
