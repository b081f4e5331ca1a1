/* tunebench — one forward/backward on a single sequence, for reference tests and
 * `tunebench grad`: labels are the next token at every position (Hugging Face's causal LM
 * loss with labels = input_ids), the loss their mean. */
#ifndef TB_TRAIN_GRAD_H
#define TB_TRAIN_GRAD_H

#include "engine/model/backward.h"
#include "engine/optim/params.h"

/* ids (T >= 2). Gradients ACCUMULATE into what trains on m (m->lora's grads, or m->grads in
 * full fine-tuning): zero them first. *loss gets the mean cross-entropy. */
tb_status tb_grad_sequence(tb_llama *m, const int32_t *ids, int64_t T, double *loss, tb_error *err);

/* Write `loss` (F32 scalar) and every tensor's gradient of set under its name (F32) to an
 * safetensors file, atomically. */
tb_status tb_grad_write(const char *path, double loss, tb_param_set *set, tb_error *err);

#endif
