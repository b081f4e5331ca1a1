/* tunebench — named trainable tensors on a backend. */
#include "engine/optim/params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

tb_status tb_param_set_add(tb_param_set *s, const char *name, int ndim, int64_t d0, int64_t d1, bool decay,
                           tb_error *err)
{
    if (decay && s->n > 0 && !s->p[s->n - 1].decay)
        return tb_fail(err, TB_ERR_INVALID, "%s: decaying tensors must be declared first", name);
    if (s->values)
        return tb_fail(err, TB_ERR_INVALID, "%s: the parameter set is already allocated", name);
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 32;
        tb_param *np = realloc(s->p, ncap * sizeof *np);
        if (!np)
            return tb_fail(err, TB_ERR_NOMEM, "out of memory");
        s->p = np;
        s->cap = ncap;
    }
    tb_param *p = &s->p[s->n];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    if (!p->name)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    p->ndim = ndim;
    p->shape[0] = d0;
    p->shape[1] = ndim > 1 ? d1 : 0;
    p->n = (size_t)d0 * (size_t)(ndim > 1 ? d1 : 1);
    /* 16-float alignment: every tensor starts on a cache line */
    p->off = s->total;
    s->total += (p->n + 15) / 16 * 16;
    p->decay = decay;
    if (decay)
        s->n_decay = s->total;
    s->n++;
    return TB_OK;
}

tb_status tb_param_set_alloc(tb_param_set *s, tb_backend *be, tb_mem_category cat, bool grads, tb_error *err)
{
    s->be = be;
    if (s->total == 0)
        return tb_fail(err, TB_ERR_INVALID, "nothing to train: the parameter set is empty");
    tb_status st = be->ops->buf_alloc(be, &s->values, TB_DTYPE_F32, s->total, cat, err);
    if (st == TB_OK && grads)
        st = be->ops->buf_alloc(be, &s->grads, TB_DTYPE_F32, s->total, TB_MEM_GRADS, err);
    return st;
}

void tb_param_set_free(tb_param_set *s)
{
    if (!s)
        return;
    if (s->be) {
        s->be->ops->buf_free(s->be, s->values);
        s->be->ops->buf_free(s->be, s->grads);
    }
    for (size_t i = 0; i < s->n; i++)
        free(s->p[i].name);
    free(s->p);
    memset(s, 0, sizeof *s);
}

long tb_param_set_find(const tb_param_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->p[i].name, name) == 0)
            return (long)i;
    return -1;
}

void tb_param_set_zero_grads(tb_param_set *s)
{
    if (s->grads)
        s->be->ops->fill(s->be, tb_view_of(s->grads), 0.0f, s->total);
}

tb_status tb_param_set_download(tb_param_set *s, float *host, tb_error *err)
{
    return s->be->ops->download(s->be, host, tb_view_of(s->values), s->total, err);
}

bool tb_floats_finite(const float *x, size_t n, size_t *bad)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) {
            if (bad)
                *bad = i;
            return false;
        }
    return true;
}
