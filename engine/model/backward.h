/* tunebench — the loss and the backward pass of the Llama family: the forward's flat call
 * list in reverse (llm.c style), one mirrored *_backward per forward op.
 *
 * What gets gradients: the adapter attached to the model (m->lora: its A and B) and, in
 * full fine-tuning, every weight (m->grads, engine/model/params.h). Frozen weights get no
 * weight-gradient work at all. Gradients ACCUMULATE, so micro-batches add up; the caller
 * zeroes them per optimizer step. Dimension vocabulary: N = B*T rows, D, F, V, R. */
#ifndef TB_MODEL_BACKWARD_H
#define TB_MODEL_BACKWARD_H

#include "engine/model/llama.h"

/* Gradient views mirroring the weights (full fine-tuning), F32. */
typedef struct tb_llama_layer_grads {
    tb_view attn_norm, mlp_norm;     /* (D) */
    tb_view wq, wk, wv, wo;          /* (H*Dh, D) (Hkv*Dh, D) (Hkv*Dh, D) (D, H*Dh) */
    tb_view bq, bk, bv;              /* (H*Dh) (Hkv*Dh) (Hkv*Dh); TB_VIEW_NONE without bias */
    tb_view wgate, wup, wdown;       /* (F, D) (F, D) (D, F) */
} tb_llama_layer_grads;

typedef struct tb_llama_grads {
    tb_view embed;                   /* (V, D) */
    tb_view final_norm;              /* (D) */
    tb_view lm_head;                 /* (V, D); equals embed when tied (both paths accumulate) */
    tb_llama_layer_grads *layers;    /* (L) */
} tb_llama_grads;

/* Activation gradients and loss buffers for batches up to (B, T): one layer's worth, reused
 * layer after layer (TB_MEM_ACTIVATIONS). */
typedef struct tb_llama_bwd {
    int64_t B, T;
    tb_buf *mem;                     /* every F32 view below */
    tb_buf *targets;                 /* (B*T) I32, -1 = masked */
    tb_view dres;                    /* (N, D) gradient of the residual stream */
    tb_view dln;                     /* (N, D) gradient of a norm's output (the final norm's first) */
    tb_view xn;                      /* (N, D) a norm's output, recomputed (the forward does not keep it) */
    tb_view dq, datt;                /* (N, H*Dh) */
    tb_view dk, dv;                  /* (N, Hkv*Dh) */
    tb_view dhmlp, dgate, dup;       /* (N, F) */
    tb_view dh;                      /* (N, R) adapter scratch */
    tb_view loss_rows;               /* (logit_rows) per-token loss of one chunk */
    tb_view loss_sum;                /* (1) sum of per-token losses, accumulated */
} tb_llama_bwd;

tb_status tb_llama_bwd_init(tb_llama_bwd *g, const tb_llama *m, const tb_llama_acts *a, tb_error *err);
void tb_llama_bwd_free(tb_llama_bwd *g, tb_backend *be);

/* Loss of the batch the last forward ran (a->lnf): targets (Bcur*Tcur) host I32, -1 masked.
 * Adds the per-token cross-entropies' sum to g->loss_sum (zero it with tb_llama_loss_reset).
 * grad_scale != 0 makes the loss grad_scale * sum: writes g->dln = its gradient w.r.t. lnf
 * and accumulates the LM head's gradient in full fine-tuning. Targets outside [-1, V) are
 * refused (field "targets"). */
tb_status tb_llama_loss(tb_llama *m, tb_llama_acts *a, tb_llama_bwd *g, const int32_t *targets, float grad_scale,
                        tb_error *err);
void tb_llama_loss_reset(tb_llama *m, tb_llama_bwd *g);
/* Sync point: the accumulated loss sum. */
tb_status tb_llama_loss_read(tb_llama *m, tb_llama_bwd *g, double *sum, tb_error *err);

/* Backward from g->dln (tb_llama_loss with grad_scale != 0) through the final norm and
 * every layer, in reverse; gradient checkpointing recomputes each layer first. Enqueues. */
tb_status tb_llama_backward(tb_llama *m, tb_llama_acts *a, tb_llama_bwd *g, tb_error *err);

#endif
