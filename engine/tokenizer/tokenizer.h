/* tunebench — Hugging Face tokenizer.json tokenizers (BPE: byte-level and SentencePiece-style
 * with byte fallback), producing exactly the ids of the Hugging Face `tokenizers` library.
 *
 * CONTRACT HEADER: written before its implementation so that the engine (generation, data
 * pipeline) and the validators (token_length) can code against it. Implemented in
 * engine/tokenizer/. Format facts: ../shared/reference/FORMATS.md ("tokenizer.json"). */
#ifndef TB_TOKENIZER_H
#define TB_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"

typedef struct tb_tokenizer tb_tokenizer;

/* Load tokenizer.json. bos/eos come from the file's post-processor / added tokens only. */
tb_status tb_tokenizer_load(tb_tokenizer **out, const char *tokenizer_json_path, tb_error *err);
/* Load DIR/tokenizer.json and take bos/eos/pad from DIR/tokenizer_config.json,
 * generation_config.json and config.json (in that order of preference). */
tb_status tb_tokenizer_load_dir(tb_tokenizer **out, const char *model_dir, tb_error *err);
/* Load from tokenizer.json text in memory; name is used in error messages. */
tb_status tb_tokenizer_load_buffer(tb_tokenizer **out, const char *json, size_t len, const char *name,
                                   tb_error *err);
void tb_tokenizer_free(tb_tokenizer *tok); /* NULL is fine */

/* Encode UTF-8 text (len bytes; invalid UTF-8 has defined behaviour, never a crash).
 * add_special: as HF `add_special_tokens=True` (the post-processor's BOS etc.).
 * *ids is malloc'd (caller frees with free()); *n its length. */
tb_status tb_tokenizer_encode(const tb_tokenizer *tok, const char *text, size_t len, bool add_special,
                              int32_t **ids, size_t *n, tb_error *err);
/* Decode ids to malloc'd NUL-terminated UTF-8 (caller frees); skip_special drops special tokens. */
tb_status tb_tokenizer_decode(const tb_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special,
                              char **text, tb_error *err);

/* The same, with the byte length (decoded text may contain NUL bytes); len may be NULL. */
tb_status tb_tokenizer_decode_bytes(const tb_tokenizer *tok, const int32_t *ids, size_t n, bool skip_special,
                                    char **text, size_t *len, tb_error *err);

int32_t tb_tokenizer_vocab_size(const tb_tokenizer *tok);
int32_t tb_tokenizer_bos(const tb_tokenizer *tok);  /* -1 when none */
int32_t tb_tokenizer_eos(const tb_tokenizer *tok);  /* -1 when none */
int32_t tb_tokenizer_pad(const tb_tokenizer *tok);  /* -1 when none */
/* Token id of an exact token string (e.g. "<|endoftext|>"), -1 when absent. */
int32_t tb_tokenizer_token_id(const tb_tokenizer *tok, const char *token);
/* The token's vocabulary string (not decoded), NULL for out-of-range ids. */
const char *tb_tokenizer_token_str(const tb_tokenizer *tok, int32_t id);
bool tb_tokenizer_is_special(const tb_tokenizer *tok, int32_t id);

#endif
