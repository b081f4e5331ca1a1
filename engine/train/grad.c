/* tunebench — gradients of one sequence. */
#include "engine/train/grad.h"

#include <stdlib.h>

#include "engine/io/safetensors.h"

tb_status tb_grad_sequence(tb_llama *m, const int32_t *ids, int64_t T, double *loss, tb_error *err)
{
    if (T < 2)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "ids", "need at least 2 tokens (one to predict)");
    int32_t *targets = malloc((size_t)T * sizeof *targets);
    if (!targets)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int64_t t = 0; t + 1 < T; t++)
        targets[t] = ids[t + 1];
    targets[T - 1] = -1;
    tb_llama_acts a;
    tb_llama_bwd g = {0};
    tb_status st = tb_llama_acts_init(&a, m, 1, T, TB_ACTS_SAVE, tb_llama_logit_rows(&m->cfg, T), err);
    if (st == TB_OK)
        st = tb_llama_bwd_init(&g, m, &a, err);
    if (st == TB_OK)
        st = tb_llama_forward(m, &a, ids, 1, T, NULL, err);
    if (st == TB_OK) {
        tb_llama_loss_reset(m, &g);
        st = tb_llama_loss(m, &a, &g, targets, 1.0f / (float)(T - 1), err);
    }
    if (st == TB_OK)
        st = tb_llama_backward(m, &a, &g, err);
    double sum = 0;
    if (st == TB_OK)
        st = tb_llama_loss_read(m, &g, &sum, err);
    *loss = sum / (double)(T - 1);
    tb_llama_bwd_free(&g, m->be);
    tb_llama_acts_free(&a);
    free(targets);
    return st;
}

tb_status tb_grad_write(const char *path, double loss, tb_param_set *set, tb_error *err)
{
    float *host = malloc(set->total * sizeof *host);
    tb_st_write *w = calloc(set->n + 1, sizeof *w);
    tb_status st = host && w ? set->be->ops->download(set->be, host, tb_view_of(set->grads), set->total, err)
                             : tb_fail(err, TB_ERR_NOMEM, "out of memory");
    float l = (float)loss;
    if (st == TB_OK) {
        w[0] = (tb_st_write){"loss", TB_DTYPE_F32, 0, {0}, &l};
        for (size_t i = 0; i < set->n; i++) {
            const tb_param *p = &set->p[i];
            w[i + 1] = (tb_st_write){p->name, TB_DTYPE_F32, p->ndim, {p->shape[0], p->shape[1]}, host + p->off};
        }
        const char *meta[] = {"format", "pt"};
        st = tb_safetensors_write(path, w, set->n + 1, meta, 1, err);
    }
    free(host);
    free(w);
    return st;
}
