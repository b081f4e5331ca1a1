/* tunebench — what the engine's training step keeps in memory for backward.
 *
 * The engine's forward is an llm.c-style flat list of layer calls that saves what each
 * mirrored backward needs (DESIGN.md §3). The table follows the backend contract
 * (engine/backend/backend.h): rmsnorm_backward needs the norm's input and rstd; the
 * linears (their weight gradient in full FT, LoRA's dA) need their input; RoPE runs in
 * place, so q and k are kept rotated; attention keeps its output and the (B, H, T)
 * log-sum-exps, never a T x T matrix; swiglu_backward needs gate and up; the fused
 * cross-entropy overwrites the logits with their gradient; dropout masks are regenerated
 * from a seed. Until the engine measures its real peak this is the design's statement of
 * what it keeps; adjust it here and the calculator, the CLI and the screens follow. */
#include "engine/plan/activations.h"

/* name, shape, d q kv f v h one lora, kept under checkpointing */
static const tb_act_tensor layer_tensors[] = {
    {"layer input (residual stream)", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, true},
    {"attention RMSNorm output", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, false},
    {"attention RMSNorm 1/rms", "(B, T)", 0, 0, 0, 0, 0, 0, 1, 0, false},
    {"q after RoPE", "(B, T, Q)", 0, 1, 0, 0, 0, 0, 0, 0, false},
    {"k after RoPE", "(B, T, KV)", 0, 0, 1, 0, 0, 0, 0, 0, false},
    {"v", "(B, T, KV)", 0, 0, 1, 0, 0, 0, 0, 0, false},
    /* attention_forward keeps one log-sum-exp per score row instead of the probabilities. */
    {"attention log-sum-exp", "(B, H, T)", 0, 0, 0, 0, 0, 1, 0, 0, false},
    {"attention output (o_proj input)", "(B, T, Q)", 0, 1, 0, 0, 0, 0, 0, 0, false},
    {"residual after attention", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, false},
    {"MLP RMSNorm output", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, false},
    {"MLP RMSNorm 1/rms", "(B, T)", 0, 0, 0, 0, 0, 0, 1, 0, false},
    {"gate_proj output", "(B, T, F)", 0, 0, 0, 1, 0, 0, 0, 0, false},
    {"up_proj output", "(B, T, F)", 0, 0, 0, 1, 0, 0, 0, 0, false},
    {"SwiGLU output (down_proj input)", "(B, T, F)", 0, 0, 0, 1, 0, 0, 0, 0, false},
    /* dA needs x (saved above) and dh; dB needs h = A·x, kept per targeted module. */
    {"LoRA A·x, per targeted module", "(B, T, R)", 0, 0, 0, 0, 0, 0, 0, 1, false},
};

static const tb_act_tensor head_tensors[] = {
    {"last layer output", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, true},
    {"final RMSNorm output", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, true},
    {"final RMSNorm 1/rms", "(B, T)", 0, 0, 0, 0, 0, 0, 1, 0, true},
    /* Fused softmax + cross-entropy writes dlogits over the logits. */
    {"logits, then their gradient", "(B, T, V)", 0, 0, 0, 0, 1, 0, 0, 0, true},
    {"token ids, targets, per-token loss", "(B, T) x 3", 0, 0, 0, 0, 0, 0, 3, 0, true},
};

#define COUNT(a) (int)(sizeof(a) / sizeof((a)[0]))

const tb_act_tensor *tb_act_layer_tensors(int *n)
{
    *n = COUNT(layer_tensors);
    return layer_tensors;
}

const tb_act_tensor *tb_act_head_tensors(int *n)
{
    *n = COUNT(head_tensors);
    return head_tensors;
}

uint64_t tb_act_tensor_elems(const tb_act_tensor *t, const tb_llama_config *cfg, const tb_act_shape *s)
{
    uint64_t B = (uint64_t)s->batch, T = (uint64_t)s->seq;
    uint64_t lora = s->rank > 0 ? (uint64_t)t->lora * (uint64_t)s->rank * (uint64_t)s->n_targets : 0;
    uint64_t per_token = (uint64_t)t->d * (uint64_t)cfg->dim + (uint64_t)t->q * (uint64_t)tb_llama_q_dim(cfg) +
                         (uint64_t)t->kv * (uint64_t)tb_llama_kv_dim(cfg) + (uint64_t)t->f * (uint64_t)cfg->ffn_dim +
                         (uint64_t)t->v * (uint64_t)cfg->vocab_size + (uint64_t)t->h * (uint64_t)cfg->n_heads +
                         (uint64_t)t->one + lora;
    return B * T * per_token;
}

static uint64_t sum_bytes(const tb_act_tensor *t, int n, const tb_llama_config *cfg, const tb_act_shape *s,
                          bool only_ckpt)
{
    uint64_t e = 0;
    for (int i = 0; i < n; i++)
        if (!only_ckpt || t[i].ckpt_kept)
            e += tb_act_tensor_elems(&t[i], cfg, s);
    return e * TB_ACT_ELEM_BYTES;
}

void tb_act_estimate(const tb_llama_config *cfg, const tb_act_shape *s, tb_act_breakdown *out)
{
    uint64_t L = (uint64_t)cfg->n_layers;
    out->layer_bytes = sum_bytes(layer_tensors, COUNT(layer_tensors), cfg, s, false);
    if (s->checkpointing) {
        /* Keep each layer's input; backward recomputes one layer at a time. */
        uint64_t kept = sum_bytes(layer_tensors, COUNT(layer_tensors), cfg, s, true);
        out->layers_bytes = L * kept + out->layer_bytes;
    } else {
        out->layers_bytes = L * out->layer_bytes;
    }
    out->head_bytes = sum_bytes(head_tensors, COUNT(head_tensors), cfg, s, false);
    /* Backward: the gradients of one layer's activations (reused layer after layer) plus
     * the residual-stream gradient and the one being accumulated, (B, T, D) each. */
    uint64_t BTD = (uint64_t)s->batch * (uint64_t)s->seq * (uint64_t)cfg->dim;
    out->grad_bytes = out->layer_bytes + 2 * BTD * TB_ACT_ELEM_BYTES;
    out->total = out->layers_bytes + out->head_bytes + out->grad_bytes;
}

const char *tb_act_model_summary(void)
{
    return "activations are f32 (engine/backend/backend.h); each layer keeps its input, both RMSNorm outputs "
           "and 1/rms, q and k after RoPE, v, the attention output and its (B,H,T) log-sum-exps (no TxT "
           "matrix), the residual, gate, up and SwiGLU outputs, and A·x (B,T,R) per LoRA target; after the "
           "last layer the final norm and the (B,T,V) logits, whose gradient overwrites them; backward holds "
           "one layer of activation gradients and two (B,T,D) residual gradients; checkpointing keeps only "
           "each layer's input and recomputes one layer at a time";
}
