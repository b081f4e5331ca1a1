/* tunebench — CPU layer kernels (cpu_layers.c): the non-matmul, non-attention ops of the
 * op table, forward and backward. Semantics: engine/backend/backend.h. */
#ifndef TB_BACKEND_CPU_LAYERS_H
#define TB_BACKEND_CPU_LAYERS_H

#include "engine/backend/backend.h"

void cpu_embedding_forward(tb_backend *be, tb_view out, tb_view table, tb_view ids, int64_t N, int64_t D);
void cpu_embedding_backward(tb_backend *be, tb_view dtable, tb_view dout, tb_view ids, int64_t N, int64_t D);
void cpu_rmsnorm_forward(tb_backend *be, tb_view out, tb_view rstd, tb_view inp, tb_view weight, int64_t N,
                         int64_t D, float eps);
void cpu_rmsnorm_backward(tb_backend *be, tb_view dinp, tb_view dweight, tb_view dout, tb_view inp, tb_view weight,
                          tb_view rstd, int64_t N, int64_t D);
void cpu_add_bias(tb_backend *be, tb_view x, tb_view bias, int64_t N, int64_t C);
void cpu_bias_backward(tb_backend *be, tb_view dbias, tb_view dout, int64_t N, int64_t C);
void cpu_rope_forward(tb_backend *be, tb_view x, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh,
                      int64_t pos0);
void cpu_rope_backward(tb_backend *be, tb_view dx, tb_view table, int64_t B, int64_t T, int64_t nh, int64_t Dh,
                       int64_t pos0);
void cpu_swiglu_forward(tb_backend *be, tb_view out, tb_view gate, tb_view up, size_t n);
void cpu_swiglu_backward(tb_backend *be, tb_view dgate, tb_view dup, tb_view dout, tb_view gate, tb_view up,
                         size_t n);
void cpu_dropout_forward(tb_backend *be, tb_view out, tb_view inp, size_t n, float p, uint32_t seed);
void cpu_dropout_backward(tb_backend *be, tb_view dinp, tb_view dout, size_t n, float p, uint32_t seed);
void cpu_xent_forward_backward(tb_backend *be, tb_view loss, tb_view logits, tb_view targets, int64_t N, int64_t V,
                               float grad_scale);

#endif
