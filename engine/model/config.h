/* tunebench — the Llama-family model description, from a Hugging Face config.json.
 *
 * One struct serves the calculator (engine/plan) and the engine (engine/model). Field
 * facts: ../shared/reference/FORMATS.md. Dimension vocabulary (STYLE.md rule 2):
 * D model dim, F ffn dim, L layers, H heads, Hkv kv heads, Dh head dim, V vocab. */
#ifndef TB_MODEL_CONFIG_H
#define TB_MODEL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/dtype.h"
#include "engine/core/error.h"

typedef enum tb_rope_type {
    TB_ROPE_DEFAULT = 0,
    TB_ROPE_LLAMA3,     /* transformers _compute_llama3_parameters */
} tb_rope_type;

#define TB_MAX_EOS 8

typedef struct tb_llama_config {
    char architecture[64];   /* "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM" */
    char model_type[32];     /* "llama", "mistral", "qwen2" */
    int64_t dim;             /* D  hidden_size */
    int64_t ffn_dim;         /* F  intermediate_size */
    int64_t n_layers;        /* L  num_hidden_layers */
    int64_t n_heads;         /* H  num_attention_heads */
    int64_t n_kv_heads;      /* Hkv num_key_value_heads (default H) */
    int64_t head_dim;        /* Dh head_dim (default D / H) */
    int64_t vocab_size;      /* V */
    int64_t max_pos;         /* max_position_embeddings */
    int64_t sliding_window;  /* 0 = none; Mistral's window (attention equals full causal for T <= it) */
    double rms_eps;          /* rms_norm_eps */
    double rope_theta;
    tb_rope_type rope_type;
    double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int64_t rope_orig_max_pos;
    bool tie_embeddings;     /* tie_word_embeddings: lm_head shares embed_tokens */
    bool qkv_bias;           /* Qwen2: q/k/v projections carry a bias */
    int64_t bos_id;          /* -1 when unknown */
    int64_t eos_ids[TB_MAX_EOS];
    int n_eos;
    tb_dtype torch_dtype;    /* stored dtype the config announces (F32 when absent) */
    /* bitsandbytes 4-bit checkpoints (quantization_config) */
    bool bnb_4bit;
    bool bnb_double_quant;
    char bnb_quant_type[8];  /* "nf4" / "fp4" */
} tb_llama_config;

/* Parse config.json text. `path` is only used in messages. Unsupported architectures and
 * fields in use (MoE, sliding window for Qwen2, other rope scalings, MLP / o_proj bias,
 * activations other than silu) are refused with a message naming them; missing or bad
 * values name the field. */
tb_status tb_llama_config_parse(tb_llama_config *cfg, const char *json_text, const char *path, tb_error *err);
/* Read and parse a file. */
tb_status tb_llama_config_load(tb_llama_config *cfg, const char *path, tb_error *err);
/* Check the numbers (positive, head dims consistent); used by parse and by presets. */
tb_status tb_llama_config_validate(const tb_llama_config *cfg, const char *path, tb_error *err);

/* Derived widths. */
static inline int64_t tb_llama_q_dim(const tb_llama_config *c) { return c->n_heads * c->head_dim; }
static inline int64_t tb_llama_kv_dim(const tb_llama_config *c) { return c->n_kv_heads * c->head_dim; }

/* Rows of logits the engine computes at once (engine/model/backward.c): the (rows, V) block
 * stays near 64 MB however long the batch of N rows, at least one row and at most N. The
 * memory model (engine/plan/activations.c) counts the same block. */
static inline int64_t tb_llama_logit_rows(const tb_llama_config *c, int64_t N)
{
    int64_t rows = ((int64_t)1 << 24) / (c->vocab_size > 0 ? c->vocab_size : 1);
    rows = rows < 1 ? 1 : rows;
    return rows < N ? rows : N;
}

#endif
