/* tunebench — detokenizing a token stream as it is generated: after each token, the text
 * that became final. A multi-byte character split over tokens decodes to U+FFFD until its
 * last byte arrives, so a tail ending in U+FFFD is held back until the next token (or the
 * flush). Used by the Eval screen's streaming panes; `tunebench generate` does the same. */
#ifndef TB_TOKENIZER_STREAM_H
#define TB_TOKENIZER_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "engine/tokenizer/tokenizer.h"

typedef struct tb_detok_stream {
    int32_t *ids;      /* every token so far */
    size_t n, cap;
    size_t emitted;    /* bytes of decoded text handed out */
} tb_detok_stream;

/* Add token id; *text (malloc'd, caller frees; NULL when nothing new) gets the new final text,
 * *len its bytes. Special tokens decode to nothing. */
tb_status tb_detok_stream_push(tb_detok_stream *s, const tb_tokenizer *tok, int32_t id, char **text, size_t *len,
                               tb_error *err);
/* Whatever was held back (an unfinished character at the end), the same way. */
tb_status tb_detok_stream_flush(tb_detok_stream *s, const tb_tokenizer *tok, char **text, size_t *len, tb_error *err);
void tb_detok_stream_free(tb_detok_stream *s);

#endif
