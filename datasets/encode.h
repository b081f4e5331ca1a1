/* tunebench — a rendered example (datasets/template.h) to token ids and its loss mask.
 *
 * Segment by segment with the engine's tokenizer (no special tokens inside texts), the
 * tokenizer's BOS in front when the template asks for it, an EOS segment becoming the EOS
 * id; every token carries its segment's trained flag. The trainer's data pipeline and the
 * validator's exact token counts both go through here, so they count the same tokens. */
#ifndef TB_DATASETS_ENCODE_H
#define TB_DATASETS_ENCODE_H

#include <stdint.h>

#include "datasets/template.h"
#include "engine/tokenizer/tokenizer.h"

typedef struct tb_encoded {
    int32_t *ids;        /* (n) */
    uint8_t *trained;    /* (n) 1: the loss counts this token */
    size_t n, cap;
    size_t n_trained;
    size_t missing_eos;  /* EOS segments the tokenizer had no id for (written as -1) */
} tb_encoded;

/* Encode r into out (reused between calls; zero it once, free with tb_encoded_free). An EOS
 * the tokenizer does not have becomes id -1 and is counted in missing_eos. */
tb_status tb_rendered_encode(const tb_tokenizer *tok, const tb_rendered *r, tb_encoded *out, tb_error *err);
void tb_encoded_free(tb_encoded *e);

#endif
