/* tunebench — a set of named trainable f32 tensors on a backend, with their gradients.
 *
 * One abstraction for everything the optimizer, the checkpoint writer and the NaN guard
 * walk over: LoRA's A/B (engine/lora) and, in full fine-tuning, every weight of the model
 * (engine/model/params.c). Values and gradients each live in ONE backend buffer, tensor
 * after tensor in the order they were added, so "every gradient" is one contiguous range
 * (one sum_squares, one fill) and "every value" one download for a checkpoint.
 *
 * Tensors that take weight decay come first (Hugging Face decays every weight but biases
 * and norm weights): [0, n_decay) decays, [n_decay, total) does not. */
#ifndef TB_OPTIM_PARAMS_H
#define TB_OPTIM_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/backend/backend.h"

typedef struct tb_param {
    char *name;           /* Hugging Face / PEFT tensor name (owned) */
    int ndim;             /* 1 or 2 */
    int64_t shape[2];     /* torch shape: [out, in] or [n] */
    size_t off, n;        /* elements into values / grads */
    bool decay;
} tb_param;

typedef struct tb_param_set {
    tb_backend *be;       /* not owned */
    tb_param *p;
    size_t n, cap;
    size_t total;         /* elements of every tensor */
    size_t n_decay;       /* elements of the tensors that decay (they come first) */
    tb_buf *values;       /* (total) F32, TB_MEM_ADAPTER (LoRA) or TB_MEM_WEIGHTS (full) */
    tb_buf *grads;        /* (total) F32, TB_MEM_GRADS; NULL until allocated */
} tb_param_set;

/* Declare a tensor (before tb_param_set_alloc). Decaying tensors must all be declared
 * before the first non-decaying one. */
tb_status tb_param_set_add(tb_param_set *s, const char *name, int ndim, int64_t d0, int64_t d1, bool decay,
                           tb_error *err);
/* Allocate values (category cat) and, with grads, the zeroed gradients. */
tb_status tb_param_set_alloc(tb_param_set *s, tb_backend *be, tb_mem_category cat, bool grads, tb_error *err);
void tb_param_set_free(tb_param_set *s); /* zeroed or partial sets are fine */

static inline tb_view tb_param_value(const tb_param_set *s, size_t i) { return (tb_view){s->values, s->p[i].off}; }
static inline tb_view tb_param_grad(const tb_param_set *s, size_t i)
{
    return s->grads ? (tb_view){s->grads, s->p[i].off} : TB_VIEW_NONE;
}
/* Index of a tensor by name, -1 when absent. */
long tb_param_set_find(const tb_param_set *s, const char *name);

/* Zero every gradient (enqueued). */
void tb_param_set_zero_grads(tb_param_set *s);

/* Download every value (total floats) into host; sync point. */
tb_status tb_param_set_download(tb_param_set *s, float *host, tb_error *err);
/* Write host (total floats in the set's layout: values, a gradient or a moment) as an F32
 * safetensors file with one tensor per parameter named prefix + name, atomically. */
tb_status tb_param_set_save(const tb_param_set *s, const float *host, const char *path, const char *prefix,
                            tb_error *err);
/* Read such a file into the buffer dst (total floats, the set's layout): every tensor must be
 * there with its shape (F32, BF16 or F16); errors name the file and tensor. */
tb_status tb_param_set_load(const tb_param_set *s, tb_buf *dst, const char *path, const char *prefix, tb_error *err);

/* True when every one of n floats is finite; *bad gets the first offending index. */
bool tb_floats_finite(const float *x, size_t n, size_t *bad);

#endif
