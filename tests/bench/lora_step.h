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

/* Allocate weights, adapters, optimizer state and activations for s on be. */
tb_status lora_step_init(lora_step **out, tb_backend *be, const lora_shape *s, tb_error *err);
/* Enqueue one step; *loss (mean over tokens) is downloaded, the only readback. */
tb_status lora_step_run(lora_step *st, int step, float *loss, tb_error *err);
void lora_step_free(lora_step *st);
/* BENCHMARKING.md's FLOPs per step: 4 P_frozen T + 6 P_lora T + 12 L seq d_attn T. */
double lora_step_flops(const lora_shape *s);

#endif
