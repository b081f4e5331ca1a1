/* tunebench — the activation memory model of the engine's training step.
 *
 * THE place to adjust when the engine's measured peak disagrees with the prediction: the
 * table in activations.c lists every tensor the forward pass keeps for backward, per layer
 * and after the last layer, with its shape as coefficients of the dimensions. Everything
 * else (checkpointing, gradient buffers) is derived from that table. Shapes use the
 * dimension vocabulary of STYLE.md: B batch, T time, D, Q = H*Dh, KV = Hkv*Dh, F, V, H, R. */
#ifndef TB_PLAN_ACTIVATIONS_H
#define TB_PLAN_ACTIVATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/model/config.h"

/* One saved tensor: elements = rows*(d*D + q*Q + kv*KV + f*F + v*V + h*H + one + lora*R*targets),
 * rows = B*T, or for `block` tensors the rows of one logits block (tb_llama_logit_rows). */
typedef struct tb_act_tensor {
    const char *name;
    const char *shape;          /* for people: "(B, T, D)" */
    int d, q, kv, f, v, h, one, lora;
    bool ckpt_kept;             /* kept for every layer under gradient checkpointing */
    bool block;                 /* sized by the logits block, not by B*T */
} tb_act_tensor;

typedef struct tb_act_shape {
    int64_t batch, seq;         /* B, T */
    int64_t rank;               /* R; 0 = full fine-tuning (no LoRA intermediates) */
    int n_targets;              /* targeted modules per layer */
    bool checkpointing;
} tb_act_shape;

typedef struct tb_act_breakdown {
    uint64_t layer_bytes;       /* one layer's saved tensors */
    uint64_t layers_bytes;      /* kept through the step: L layers, or L checkpoints + one recomputed layer */
    uint64_t head_bytes;        /* after the last layer: final norm, logits (their gradient overwrites them), ids */
    uint64_t grad_bytes;        /* activation gradients alive during backward (one layer's, reused) */
    uint64_t total;
} tb_act_breakdown;

/* Bytes per saved element: the engine computes and saves activations in f32. */
#define TB_ACT_ELEM_BYTES 4

const tb_act_tensor *tb_act_layer_tensors(int *n);  /* the per-layer table */
const tb_act_tensor *tb_act_head_tensors(int *n);   /* after the last layer */
const tb_act_tensor *tb_act_grad_tensors(int *n);   /* backward's activation gradients */
uint64_t tb_act_tensor_elems(const tb_act_tensor *t, const tb_llama_config *cfg, const tb_act_shape *s);

void tb_act_estimate(const tb_llama_config *cfg, const tb_act_shape *s, tb_act_breakdown *out);

/* One sentence describing the model, for the assumptions list. */
const char *tb_act_model_summary(void);

#endif
