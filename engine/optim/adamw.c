/* tunebench — AdamW over a parameter set, with global-norm clipping on the device. */
#include <math.h>
#include <string.h>

#include "engine/optim/optim.h"

tb_status tb_adamw_init(tb_adamw *a, tb_param_set *params, const tb_adamw_opts *opt, tb_error *err)
{
    memset(a, 0, sizeof *a);
    a->opt = *opt;
    a->params = params;
    tb_backend *be = params->be;
    tb_status st = be->ops->buf_alloc(be, &a->m, TB_DTYPE_F32, params->total, TB_MEM_OPTIMIZER, err);
    if (st == TB_OK)
        st = be->ops->buf_alloc(be, &a->v, TB_DTYPE_F32, params->total, TB_MEM_OPTIMIZER, err);
    if (st == TB_OK)
        st = be->ops->buf_alloc(be, &a->scalars, TB_DTYPE_F32, 16, TB_MEM_OPTIMIZER, err);
    if (st != TB_OK)
        tb_adamw_free(a);
    return st;
}

void tb_adamw_free(tb_adamw *a)
{
    if (!a || !a->params)
        return;
    tb_backend *be = a->params->be;
    be->ops->buf_free(be, a->m);
    be->ops->buf_free(be, a->v);
    be->ops->buf_free(be, a->scalars);
    memset(a, 0, sizeof *a);
}

tb_status tb_adamw_grad_sumsq(tb_adamw *a, double *sumsq, tb_error *err)
{
    tb_backend *be = a->params->be;
    tb_view s = tb_view_of(a->scalars);
    be->ops->fill(be, s, 0.0f, 1);
    be->ops->sum_squares(be, s, tb_view_of(a->params->grads), a->params->total);
    float v;
    tb_status st = be->ops->download(be, &v, s, 1, err);
    *sumsq = (double)v;
    return st;
}

void tb_adamw_update(tb_adamw *a, double lr)
{
    tb_param_set *ps = a->params;
    tb_backend *be = ps->be;
    tb_view gscale = TB_VIEW_NONE;
    if (a->opt.max_grad_norm > 0) {
        gscale = tb_view_at(tb_view_of(a->scalars), 1);
        be->ops->clip_scale(be, gscale, tb_view_of(a->scalars), (float)a->opt.max_grad_norm);
    }
    a->t++;
    tb_adamw_params p = {(float)lr, (float)a->opt.beta1, (float)a->opt.beta2, (float)a->opt.eps,
                         (float)a->opt.weight_decay, a->t};
    if (ps->n_decay > 0)
        be->ops->adamw(be, tb_view_of(ps->values), tb_view_of(ps->grads), tb_view_of(a->m), tb_view_of(a->v),
                       ps->n_decay, gscale, &p);
    if (ps->total > ps->n_decay) {
        p.weight_decay = 0.0f;
        size_t o = ps->n_decay;
        be->ops->adamw(be, (tb_view){ps->values, o}, (tb_view){ps->grads, o}, (tb_view){a->m, o},
                       (tb_view){a->v, o}, ps->total - o, gscale, &p);
    }
}
