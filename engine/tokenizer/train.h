/* tunebench — training a byte-level BPE tokenizer from a text corpus (GPT-2 style: the GPT-2
 * pre-split regex via PCRE2, the 256-byte alphabet, merges by pair frequency), written as a
 * Hugging Face tokenizer.json (merges as pairs) that tb_tokenizer_load and HF `tokenizers`
 * both read. Special tokens: <|endoftext|> (id 0, bos and eos) and <|pad|> (id 1). */
#ifndef TB_TOKENIZER_TRAIN_H
#define TB_TOKENIZER_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"

typedef struct tb_bpe_train_opts {
    int32_t vocab_size;    /* total ids: 2 specials + 256 bytes + merges; at least 258 */
    int64_t min_frequency; /* a pair seen fewer times is never merged (HF default 2); 0 → 2 */
} tb_bpe_train_opts;

typedef struct tb_bpe_train_stats {
    int64_t bytes;         /* corpus bytes */
    int64_t words;         /* pre-tokens (regex pieces) */
    int64_t unique_words;
    int32_t merges;        /* merges learned (fewer than asked when pairs run out) */
    int32_t vocab_size;    /* ids in the written vocabulary */
    double seconds;
} tb_bpe_train_stats;

/* Train on text (len bytes; invalid UTF-8 is replaced by U+FFFD first). *json: malloc'd
 * tokenizer.json text (caller frees). stats may be NULL. */
tb_status tb_bpe_train(const char *text, size_t len, const tb_bpe_train_opts *opts, char **json,
                       tb_bpe_train_stats *stats, tb_error *err);

/* Read corpus_path, train, write out_path atomically. */
tb_status tb_bpe_train_file(const char *corpus_path, const tb_bpe_train_opts *opts, const char *out_path,
                            tb_bpe_train_stats *stats, tb_error *err);

#endif
