/* tunebench — token counts for token_length and the token statistics.
 *
 * Exact when a tokenizer is given (--model DIR / --tokenizer FILE) and this build has the
 * engine's tokenizer (engine/tokenizer/tokenizer.h; validators/meson.build detects it);
 * otherwise an estimate, labelled as one everywhere it shows: UTF-8 bytes / 4 (the usual
 * rule of thumb for English BPE vocabularies), plus BOS/EOS. */
#ifndef TB_VALIDATORS_TOKENS_H
#define TB_VALIDATORS_TOKENS_H

#include <stdbool.h>

#include "datasets/template.h"
#include "engine/core/error.h"

typedef struct tb_token_counter {
    bool exact;
    void *tok;         /* tb_tokenizer when exact */
    char note[256];    /* how counts are made, for people */
} tb_token_counter;

/* Both paths NULL: estimate. A tokenizer that fails to load is an error (exit 2 in the CLI). */
tb_status tb_token_counter_open(tb_token_counter *tc, const char *model_dir, const char *tokenizer_path,
                                tb_error *err);
void tb_token_counter_close(tb_token_counter *tc);
/* Tokens of a rendered example (*total) and of its trained segments (*trained). */
tb_status tb_token_count(tb_token_counter *tc, const tb_rendered *r, long *total, long *trained, tb_error *err);
/* Whether exact counting is compiled in. */
bool tb_token_counter_available(void);

#endif
