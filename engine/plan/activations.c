/* tunebench — what the engine's training step keeps in memory for backward.
 *
 * The engine's forward is an llm.c-style flat list of layer calls that saves what each
 * mirrored backward needs (DESIGN.md §3). The table follows the backend contract
 * (engine/backend/backend.h): rmsnorm_backward needs the norm's input and rstd; the
 * linears (their weight gradient in full FT, LoRA's dA) need their input; RoPE runs in
 * place, so q and k are kept rotated; attention keeps its output and the (B, H, T)
 * log-sum-exps, never a T x T matrix; swiglu_backward needs gate and up; the LM head and
 * the fused cross-entropy work one block of rows at a time (tb_llama_logit_rows, ~64 MB of
 * logits) whose gradient overwrites it; dropout masks are regenerated from a seed.
 * Checked against the engine's accounted peak (tests/unit/test_trainer.c, bench_train):
 * these are the buffers tb_llama_acts_init and tb_llama_bwd_init allocate. Not counted:
 * LoRA dropout's scratch (B, T, widest targeted input) when dropout > 0. */
#include "engine/plan/activations.h"

/* name, shape, d q kv f v h one lora, kept under checkpointing */
static const tb_act_tensor layer_tensors[] = {
    {"layer input (residual stream)", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, true, false},
    {"attention RMSNorm 1/rms", "(B, T)", 0, 0, 0, 0, 0, 0, 1, 0, false, false},
    {"q after RoPE", "(B, T, Q)", 0, 1, 0, 0, 0, 0, 0, 0, false, false},
    {"k after RoPE", "(B, T, KV)", 0, 0, 1, 0, 0, 0, 0, 0, false, false},
    {"v", "(B, T, KV)", 0, 0, 1, 0, 0, 0, 0, 0, false, false},
    /* attention_forward keeps one log-sum-exp per score row instead of the probabilities. */
    {"attention log-sum-exp", "(B, H, T)", 0, 0, 0, 0, 0, 1, 0, 0, false, false},
    {"attention output (o_proj input)", "(B, T, Q)", 0, 1, 0, 0, 0, 0, 0, 0, false, false},
    {"residual after attention", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, false, false},
    {"MLP RMSNorm 1/rms", "(B, T)", 0, 0, 0, 0, 0, 0, 1, 0, false, false},
    {"gate_proj output", "(B, T, F)", 0, 0, 0, 1, 0, 0, 0, 0, false, false},
    {"up_proj output", "(B, T, F)", 0, 0, 0, 1, 0, 0, 0, 0, false, false},
    /* dA needs x (saved above) and dh; dB needs h = A·x, kept per targeted module. */
    {"LoRA A·x, per targeted module", "(B, T, R)", 0, 0, 0, 0, 0, 0, 0, 1, false, false},
};

static const tb_act_tensor head_tensors[] = {
    /* One (B, T, D) and one (B, T, F) for every layer: the norm outputs and the SwiGLU output
     * are not kept per layer; backward recomputes them from the layer input, the residual
     * and gate/up. */
    {"RMSNorm output, shared by the layers", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, true, false},
    {"SwiGLU output, shared by the layers", "(B, T, F)", 0, 0, 0, 1, 0, 0, 0, 0, true, false},
    {"last layer output", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, true, false},
    {"final RMSNorm output", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, true, false},
    {"final RMSNorm 1/rms", "(B, T)", 0, 0, 0, 0, 0, 0, 1, 0, true, false},
    {"token ids and targets", "(B, T) x 2", 0, 0, 0, 0, 0, 0, 2, 0, true, false},
    /* The LM head runs block by block; the fused softmax + cross-entropy writes each block's
     * gradient over its logits. */
    {"logits of one block, then their gradient", "(rows, V)", 0, 0, 0, 0, 1, 0, 0, 0, true, true},
    {"per-token loss of one block", "(rows)", 0, 0, 0, 0, 0, 0, 1, 0, true, true},
};

/* Backward holds one layer's activation gradients, reused layer after layer. */
static const tb_act_tensor grad_tensors[] = {
    {"residual-stream gradient", "(B, T, D)", 1, 0, 0, 0, 0, 0, 0, 0, true, false},
    {"norm-output gradient, recomputed norm output", "(B, T, D) x 2", 2, 0, 0, 0, 0, 0, 0, 0, true, false},
    {"q and attention-output gradients", "(B, T, Q) x 2", 0, 2, 0, 0, 0, 0, 0, 0, true, false},
    {"k and v gradients", "(B, T, KV) x 2", 0, 0, 2, 0, 0, 0, 0, 0, true, false},
    {"SwiGLU, gate and up gradients", "(B, T, F) x 3", 0, 0, 0, 3, 0, 0, 0, 0, true, false},
    {"LoRA dh scratch", "(B, T, R)", 0, 0, 0, 0, 0, 0, 0, 1, true, false},
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

const tb_act_tensor *tb_act_grad_tensors(int *n)
{
    *n = COUNT(grad_tensors);
    return grad_tensors;
}

uint64_t tb_act_tensor_elems(const tb_act_tensor *t, const tb_llama_config *cfg, const tb_act_shape *s)
{
    uint64_t rows = (uint64_t)s->batch * (uint64_t)s->seq;
    if (t->block)
        rows = (uint64_t)tb_llama_logit_rows(cfg, (int64_t)rows);
    uint64_t lora = s->rank > 0 ? (uint64_t)t->lora * (uint64_t)s->rank * (uint64_t)s->n_targets : 0;
    uint64_t per_token = (uint64_t)t->d * (uint64_t)cfg->dim + (uint64_t)t->q * (uint64_t)tb_llama_q_dim(cfg) +
                         (uint64_t)t->kv * (uint64_t)tb_llama_kv_dim(cfg) + (uint64_t)t->f * (uint64_t)cfg->ffn_dim +
                         (uint64_t)t->v * (uint64_t)cfg->vocab_size + (uint64_t)t->h * (uint64_t)cfg->n_heads +
                         (uint64_t)t->one + lora;
    return rows * per_token;
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
        /* Each layer's input kept; one shared set of everything else, recomputed per layer. */
        uint64_t kept = sum_bytes(layer_tensors, COUNT(layer_tensors), cfg, s, true);
        out->layers_bytes = L * kept + out->layer_bytes - kept;
    } else {
        out->layers_bytes = L * out->layer_bytes;
    }
    out->head_bytes = sum_bytes(head_tensors, COUNT(head_tensors), cfg, s, false);
    /* one dh scratch serves every target */
    tb_act_shape one = *s;
    one.n_targets = s->n_targets > 0 ? 1 : 0;
    out->grad_bytes = sum_bytes(grad_tensors, COUNT(grad_tensors), cfg, &one, false);
    out->total = out->layers_bytes + out->head_bytes + out->grad_bytes;
}

const char *tb_act_model_summary(void)
{
    return "activations are f32 (engine/backend/backend.h); each layer keeps its input, both RMSNorms' 1/rms, q and "
           "k after RoPE, v, the attention output and its (B,H,T) log-sum-exps (no TxT matrix), the residual, gate "
           "and up, and A·x (B,T,R) per LoRA target; the norm and SwiGLU outputs are recomputed in backward (one "
           "shared buffer each); after the last layer the final norm, and the logits one ~64 MB block of rows at a "
           "time (their gradient overwrites them); backward holds one layer of activation gradients; "
           "checkpointing keeps only each layer's input and recomputes one layer at a time; checked against the "
           "engine's measured peak";
}
