/* tunebench — benchmark proxy of one LoRA training step, written only against backend.h.
 *
 * The op sequence of a Llama LoRA step (forward, fused softmax + xent, backward, grad-norm
 * clipping, AdamW on the adapters) on random weights, so a backend's training speed can be
 * measured before the engine's trainer (issue 6) exists. It is a measuring stick, not the
 * trainer: no data, no checkpoints, no model files. Runs on any backend of the table. */
#ifndef TB_BENCH_LORA_STEP_H
#define TB_BENCH_LORA_STEP_H

#include "engine/backend/backend.h"

typedef struct lora_shape {
    const char *name;
    int64_t D, L, H, Hkv, F, V, T, B, R;
    bool qkvo_only;       /* targets q,k,v,o (else all seven linears) */
    tb_dtype wdtype;      /* base weights F32 or BF16 */
} lora_shape;

typedef struct lora_step lora_step;

/* Allocate weights, adapters, optimizer state and activations for s on be. The random
 * weights depend only on s, so two backends start from the same model. */
tb_status lora_step_init(lora_step **out, tb_backend *be, const lora_shape *s, tb_error *err);
/* Enqueue one step; its metrics, the only readback: *loss (mean over tokens) and
 * *grad_norm (the adapters' gradient norm before clipping). */
tb_status lora_step_run(lora_step *st, int step, float *loss, float *grad_norm, tb_error *err);
void lora_step_free(lora_step *st);
/* Every adapter (each targeted layer's A then B, layer by layer) into out[0 .. *n); at most
 * cap floats (*n is the total even when larger). A sync point. */
tb_status lora_step_adapters(lora_step *st, float *out, size_t cap, size_t *n, tb_error *err);
/* BENCHMARKING.md's FLOPs per step: 4 P_frozen T + 6 P_lora T + 12 L seq d_attn T. */
double lora_step_flops(const lora_shape *s);

#endif
