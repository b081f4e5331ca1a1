/* tunebench — a Hugging Face model directory: config.json plus single or sharded
 * safetensors weights, all mmap'd (zero-copy; weights stay in their stored dtype).
 *
 * Format facts: ../shared/reference/FORMATS.md ("Hugging Face model directory"). Binding the
 * tensors to the Llama layout (names, shapes) is engine/model/weights.h's job; this module
 * only answers "which file holds tensor X, and where are its bytes". */
#ifndef TB_IO_HF_MODEL_H
#define TB_IO_HF_MODEL_H

#include <stddef.h>

#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/model/config.h"

typedef struct tb_hf_model tb_hf_model;

/* Open DIR: DIR/config.json, then DIR/model.safetensors or, when absent,
 * DIR/model.safetensors.index.json and every shard it names. Every tensor the index maps
 * must exist in its shard. Errors name the file (and tensor / field). */
tb_status tb_hf_model_open(tb_hf_model **out, const char *dir, tb_error *err);
void tb_hf_model_close(tb_hf_model *m); /* NULL is fine; invalidates every tensor pointer */

const tb_llama_config *tb_hf_model_config(const tb_hf_model *m);
const char *tb_hf_model_dir(const tb_hf_model *m);

/* The tensor called `name`, NULL when the model has none. *file (may be NULL) gets the
 * path of the safetensors file holding it, for messages. The data stays valid until close. */
const tb_st_tensor *tb_hf_model_find(const tb_hf_model *m, const char *name, const char **file);

/* All tensors, shard by shard (for listing / counting). */
size_t tb_hf_model_tensor_count(const tb_hf_model *m);
const tb_st_tensor *tb_hf_model_tensor_at(const tb_hf_model *m, size_t i, const char **file);

#endif
