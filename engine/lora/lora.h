/* tunebench — LoRA adapters on a backend: parameters, the adapter's forward and backward
 * around a frozen linear, PEFT adapter files.
 *
 * Math (FORMATS.md "PEFT LoRA adapter"): y = W x + s · B(A(dropout(x))), s = alpha / R
 * (rsLoRA: alpha / sqrt(R)); A (R, in) kaiming-uniform (a = sqrt(5): U(-1/sqrt(in),
 * 1/sqrt(in))), B (out, R) zero, so a fresh adapter is an exact no-op. Dimension
 * vocabulary: N rows (B*T), R rank, in/out the linear's features.
 *
 * Parameters live in a tb_param_set (engine/optim/params.h) in the order of
 * tb_lora_layout_build (layer, module, A then B) under their PEFT key names, so the
 * optimizer, checkpoints and the adapter writer share one list. */
#ifndef TB_LORA_LORA_H
#define TB_LORA_LORA_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/backend/backend.h"
#include "engine/lora/targets.h"
#include "engine/model/config.h"
#include "engine/optim/params.h"

typedef struct tb_lora_opts {
    int64_t rank;             /* R */
    double alpha;             /* lora_alpha */
    double dropout;           /* lora_dropout, in [0, 1) */
    bool rslora;              /* use_rslora: s = alpha / sqrt(R) */
    tb_lora_targets targets;
} tb_lora_opts;

typedef struct tb_lora {
    tb_lora_opts opt;
    tb_llama_config cfg;      /* the model it adapts (shapes) */
    float scale;              /* s */
    tb_param_set params;      /* PEFT-named A and B; grads allocated for training */
    long *index;              /* (L * 7 * 2): tensor index of A / B per layer and module, -1 untargeted */
    /* Dropout: active only while training; the masks of one micro-batch come from `seed`
     * (the trainer sets it per micro-batch), one stream per layer and module. */
    bool train;
    uint32_t seed;
} tb_lora;

/* Rank must be in [1, tb_lora_max_rank]; alpha > 0; dropout in [0, 1); targets non-empty. */
tb_status tb_lora_check(const tb_llama_config *cfg, const tb_lora_opts *o, tb_error *err);
/* Allocate A and B (F32, TB_MEM_ADAPTER) and, with grads, their gradients. Values are zero:
 * call tb_lora_init_weights or load them. */
tb_status tb_lora_create(tb_lora **out, const tb_llama_config *cfg, const tb_lora_opts *o, tb_backend *be,
                         bool grads, tb_error *err);
void tb_lora_free(tb_lora *lo); /* NULL is fine */
/* PEFT init: A ~ U(-1/sqrt(in), 1/sqrt(in)) from a seeded generator, B = 0. */
tb_status tb_lora_init_weights(tb_lora *lo, uint64_t seed, tb_error *err);

/* Whether layer l's module m carries an adapter. */
static inline bool tb_lora_has(const tb_lora *lo, int64_t l, tb_lora_module m)
{
    return lo && lo->index[(l * TB_LORA_MODULE_COUNT + m) * 2] >= 0;
}
tb_view tb_lora_a(const tb_lora *lo, int64_t l, tb_lora_module m);   /* (R, in) */
tb_view tb_lora_b(const tb_lora *lo, int64_t l, tb_lora_module m);   /* (out, R) */
tb_view tb_lora_da(const tb_lora *lo, int64_t l, tb_lora_module m);  /* (R, in) gradient */
tb_view tb_lora_db(const tb_lora *lo, int64_t l, tb_lora_module m);  /* (out, R) gradient */

/* The adapter's part of a linear's forward: y (N, out) += s B (A (drop(x))), x (N, in).
 * h (N, R) = A drop(x) is saved for backward. xd (N, in) is scratch for the dropped input
 * (unused, may be TB_VIEW_NONE, without dropout). y TB_VIEW_NONE computes h only (gradient
 * checkpointing's recompute needs h, not the layer's output). */
void tb_lora_forward(const tb_lora *lo, int64_t l, tb_lora_module m, tb_view y, tb_view x, tb_view h, tb_view xd,
                     int64_t N);
/* Mirror: dB += s dy^T h; dh = s dy B; dA += dh^T drop(x); dx (N, in) += drop'(dh A) unless
 * dx is TB_VIEW_NONE. dh (N, R) and xd (N, in) are scratch. */
void tb_lora_backward(const tb_lora *lo, int64_t l, tb_lora_module m, tb_view dx, tb_view dy, tb_view x, tb_view h,
                      tb_view dh, tb_view xd, int64_t N);

/* ------------------------------------------------------------------ PEFT files */

/* Write DIR/adapter_config.json (the conservative key set of FORMATS.md) and
 * DIR/adapter_model.safetensors (PEFT keys and shapes, `dtype` F32/BF16/F16, metadata
 * {"format":"pt"}); both atomic. Refuses (TB_ERR_NUMERIC) to write a non-finite value.
 * *bytes (may be NULL) gets the safetensors file size. */
tb_status tb_lora_save_peft(tb_lora *lo, const char *dir, const char *base_model, tb_dtype dtype, int64_t *bytes,
                            tb_error *err);
/* Read a PEFT adapter directory for the model described by cfg: adapter_config.json read
 * leniently (unknown keys ignored; r, lora_alpha, target_modules required), tensors in
 * F32/BF16/F16. Shapes must match the model; a targeted module without its tensors is an
 * error naming the key. rank_pattern / alpha_pattern with entries are refused. */
tb_status tb_lora_load_peft(tb_lora **out, const char *dir, const tb_llama_config *cfg, tb_backend *be, bool grads,
                            tb_error *err);
/* Read only adapter_config.json into o. */
tb_status tb_lora_read_config(const char *dir, tb_lora_opts *o, tb_error *err);

#endif
