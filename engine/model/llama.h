/* tunebench — the Llama-family model on a backend: weights, activations, KV cache, and
 * the forward pass as a flat per-layer call list (llm.c style).
 *
 * Dimension vocabulary (STYLE.md): B batch, T time, N = B*T rows, D model dim, F ffn dim,
 * L layers, H heads, Hkv kv heads, Dh head dim, V vocab. q width H*Dh, kv width Hkv*Dh.
 * Everything here is backend-neutral: tensors are tb_view/tb_wview into backend buffers.
 *
 * Training (engine/train) builds on exactly this: tb_llama_acts with save = true keeps
 * every tensor the backward pass needs, per layer; the layer weights are plain views, so
 * LoRA / full fine-tuning can add or replace them. */
#ifndef TB_MODEL_LLAMA_H
#define TB_MODEL_LLAMA_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/backend/backend.h"
#include "engine/io/hf_model.h"
#include "engine/lora/lora.h"
#include "engine/model/config.h"
#include "engine/model/weights.h"

typedef struct tb_llama_layer {
    tb_view attn_norm, mlp_norm;      /* (D) */
    tb_wview wq;                      /* (H*Dh, D)   [out, in] */
    tb_wview wk, wv;                  /* (Hkv*Dh, D) */
    tb_wview wo;                      /* (D, H*Dh) */
    tb_view bq, bk, bv;               /* (H*Dh) (Hkv*Dh) (Hkv*Dh); TB_VIEW_NONE without q/k/v bias */
    tb_wview wgate, wup;              /* (F, D) */
    tb_wview wdown;                   /* (D, F) */
} tb_llama_layer;

typedef struct tb_llama {
    tb_llama_config cfg;
    tb_backend *be;                   /* not owned */
    tb_view embed;                    /* (V, D) */
    tb_view final_norm;               /* (D) */
    tb_wview lm_head;                 /* (V, D); the embedding itself when tied */
    tb_llama_layer *layers;           /* (L) */
    /* Training (engine/model/params.c, engine/lora): an attached adapter that forward and
     * backward apply (not owned; attach before tb_llama_acts_init), and in full
     * fine-tuning the weights' gradients (owned by the trainable parameter set). */
    tb_lora *lora;
    struct tb_llama_grads *grads;
    tb_buf *rope;                     /* (P, Dh): row p = cos(p * inv_freq) then sin(p * inv_freq) */
    int64_t rope_positions;           /* P */
    float *inv_freq;                  /* (Dh/2) host copy, llama3 scaling applied */
    /* what backs the views: */
    tb_hf_model *hf;                  /* mmap'd safetensors (NULL for models built otherwise) */
    tb_llama_host_weights host;
    tb_buf **bufs;                    /* weight buffers made from host memory */
    size_t n_bufs;
    int64_t mapped_bytes;             /* of those, accounted as TB_MEM_WEIGHTS */
} tb_llama;

/* Load a Hugging Face model directory onto `be` (weights stay in the stored dtype; the CPU
 * backend reads the mapping in place). Errors name the file and tensor. */
tb_status tb_llama_load(tb_llama **out, const char *dir, tb_backend *be, tb_error *err);
void tb_llama_free(tb_llama *m); /* NULL is fine; call before destroying the backend */

/* HF inv_freq (Dh/2 values, f32 arithmetic as transformers computes it, llama3 scaling). */
void tb_llama_inv_freq(const tb_llama_config *cfg, float *inv_freq);
/* Make the rope table cover positions [0, P). */
tb_status tb_llama_rope_reserve(tb_llama *m, int64_t P, tb_error *err);

/* ------------------------------------------------------------------ activations */

/* One layer's tensors. Inference shares one set between layers; gradient checkpointing
 * keeps x_in per layer and shares the rest (backward recomputes a layer into it). */
typedef struct tb_llama_layer_acts {
    tb_view x_in;      /* (N, D) residual stream entering the layer */
    tb_view ln1;       /* (N, D) input_layernorm output */
    tb_view rstd1;     /* (N) */
    tb_view q;         /* (N, H*Dh) after RoPE */
    tb_view k, v;      /* (N, Hkv*Dh) k after RoPE (unused with a KV cache: the cache holds them) */
    tb_view att;       /* (N, H*Dh) attention output, before o_proj */
    tb_view lse;       /* (B, H, T) attention log-sum-exp */
    tb_view x_mid;     /* (N, D) residual stream after attention */
    tb_view ln2;       /* (N, D) post_attention_layernorm output */
    tb_view rstd2;     /* (N) */
    tb_view gate, up;  /* (N, F) projections */
    tb_view hmlp;      /* (N, F) silu(gate) * up */
    tb_view lora_h[TB_LORA_MODULE_COUNT]; /* (N, R) A·x per targeted module (attached adapter) */
} tb_llama_layer_acts;

typedef enum tb_acts_mode {
    TB_ACTS_INFERENCE = 0,       /* one shared set of temporaries; nothing kept for backward */
    TB_ACTS_SAVE,                /* every layer's tensors kept for backward */
    TB_ACTS_CHECKPOINT,          /* gradient checkpointing: layer inputs kept, one layer recomputed */
} tb_acts_mode;

typedef struct tb_llama_acts {
    int64_t B, T;                /* capacity: forward runs any T' <= T */
    tb_acts_mode mode;
    bool save;                   /* mode != TB_ACTS_INFERENCE */
    int64_t logit_rows;          /* rows of `logits` */
    int64_t lora_rank;           /* R of the adapter the views were sized for, 0 without one */
    tb_buf *mem;                 /* every F32 view below lives in this one buffer */
    tb_buf *ids;                 /* (B, T) I32 token ids */
    tb_llama_layer_acts *layers; /* (L) */
    tb_view x_out;               /* (N, D) residual stream after the last layer */
    tb_view lnf;                 /* (N, D) final norm output: the lm_head's input */
    tb_view rstdf;               /* (N) */
    tb_view logits;              /* (logit_rows, V) */
    tb_view lora_xd;             /* (N, max in) dropped adapter input (training with dropout) */
    int64_t Bcur, Tcur, pos0;    /* the batch the last forward ran */
    tb_backend *be;
} tb_llama_acts;

/* Allocate activations for batches up to (B, T), with room for logit_rows rows of logits.
 * Everything is allocated here once (TB_MEM_ACTIVATIONS): the forward pass allocates nothing.
 * An adapter attached to m (m->lora) gets its A·x views here. */
tb_status tb_llama_acts_init(tb_llama_acts *a, const tb_llama *m, int64_t B, int64_t T, tb_acts_mode mode,
                             int64_t logit_rows, tb_error *err);
void tb_llama_acts_free(tb_llama_acts *a);

/* ------------------------------------------------------------------ KV cache */

typedef struct tb_kv_cache {
    int64_t B, Tmax;   /* capacity */
    int64_t len;       /* positions filled (the next token's position) */
    tb_buf *mem;
    tb_view *k, *v;    /* (L) each (B, Tmax, Hkv*Dh) F32 */
} tb_kv_cache;

tb_status tb_kv_cache_init(tb_kv_cache *c, const tb_llama *m, int64_t B, int64_t Tmax, tb_error *err);
void tb_kv_cache_free(tb_kv_cache *c, tb_backend *be);

/* ------------------------------------------------------------------ forward */

/* Run the layers on ids (B, T) (host, row-major) and the final norm: fills a->lnf. With a
 * cache, the tokens sit at positions cache->len .. cache->len + T - 1, their k/v are
 * appended and cache->len advances; without one, positions start at 0. Ids outside
 * [0, V) are refused (field "ids"). Enqueues only: sync or download to see results. */
tb_status tb_llama_forward(tb_llama *m, tb_llama_acts *a, const int32_t *ids, int64_t B, int64_t T,
                           tb_kv_cache *cache, tb_error *err);

/* Layer l alone, from a->layers[l].x_in: writes its saved tensors and adds its output to
 * next (N, D) (a copy of the residual plus the MLP), or, with next TB_VIEW_NONE, stops
 * after the tensors backward needs (gradient checkpointing's recompute). */
void tb_llama_layer_forward(tb_llama *m, tb_llama_acts *a, int64_t l, int64_t B, int64_t T, int64_t pos0,
                            tb_kv_cache *cache, tb_view next);

/* a->logits[0 .. rows) (rows, V) = lm_head(lnf rows row0 .. row0 + rows) (rows <= logit_rows). */
void tb_llama_logits(const tb_llama *m, tb_llama_acts *a, int64_t row0, int64_t rows);

#endif
