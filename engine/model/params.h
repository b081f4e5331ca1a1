/* tunebench — the model's weights as trainable parameters (full fine-tuning, pretraining),
 * a model built from a config alone, and writing a model directory.
 *
 * tb_llama_params_create gathers every weight into one f32 tb_param_set under its Hugging
 * Face name (f32 master weights: bf16/f16 files are widened once), repoints the model's
 * views at it, and gives the model gradient views (m->grads) in the same layout. The
 * original (mmap'd) weights stay mapped but are no longer read. */
#ifndef TB_MODEL_PARAMS_H
#define TB_MODEL_PARAMS_H

#include "engine/model/backward.h"
#include "engine/optim/params.h"

typedef struct tb_llama_params {
    tb_param_set set;              /* values (TB_MEM_WEIGHTS), grads (TB_MEM_GRADS) */
    tb_llama_grads grads;          /* views into set.grads; m->grads points here */
} tb_llama_params;

/* Make every weight of m trainable (copying the current values). Free with
 * tb_llama_params_free BEFORE tb_llama_free. */
tb_status tb_llama_params_create(tb_llama *m, tb_llama_params *p, tb_error *err);
void tb_llama_params_free(tb_llama *m, tb_llama_params *p);

/* transformers' LlamaPreTrainedModel._init_weights: linears and the embedding ~ N(0, std)
 * (initializer_range, 0.02), biases 0, RMSNorm weights 1; seeded. */
tb_status tb_llama_params_init_random(tb_llama_params *p, uint64_t seed, double std, tb_error *err);

/* A model with the shapes of cfg and no weights yet (views empty): pair it with
 * tb_llama_params_create + tb_llama_params_init_random to train from scratch. */
tb_status tb_llama_create(tb_llama **out, const tb_llama_config *cfg, tb_backend *be, tb_error *err);

/* config.json text for cfg (the fields FORMATS.md lists), torch_dtype set to `dtype`.
 * Caller frees with free(). */
char *tb_llama_config_json(const tb_llama_config *cfg, tb_dtype dtype);

/* Write a Hugging Face model directory: DIR/config.json and DIR/model.safetensors with every
 * weight under its HF name in `dtype` (F32, BF16, F16), atomically; the tokenizer files of
 * src_dir (tokenizer.json, tokenizer_config.json, generation_config.json,
 * special_tokens_map.json; may be NULL) are copied along. Refuses non-finite weights. */
tb_status tb_llama_save(tb_llama *m, const char *dir, tb_dtype dtype, const char *src_dir, tb_error *err);

#endif
