/* tunebench — NF4 weights as backend buffers (nf4_weight.h). */
#include "engine/quant/nf4_weight.h"

#include <string.h>

static tb_status wrap(tb_nf4_weight *w, tb_buf **out, const void *host, tb_dtype dt, int64_t n, tb_error *err)
{
    return w->be->ops->buf_from_host(w->be, out, host, dt, (size_t)n, TB_MEM_WEIGHTS, err);
}

tb_status tb_nf4_weight_create(tb_nf4_weight *out, tb_backend *be, const tb_nf4 *q, tb_error *err)
{
    memset(out, 0, sizeof *out);
    out->host = q;
    out->be = be;
    tb_status st = wrap(out, &out->codes, q->codes, TB_DTYPE_U8, (q->n + 1) / 2, err);
    if (st == TB_OK && !tb_nf4_is_double_quant(q))
        st = wrap(out, &out->absmax, q->absmax, TB_DTYPE_F32, q->n_blocks, err);
    if (st == TB_OK && tb_nf4_is_double_quant(q)) {
        st = wrap(out, &out->qabsmax, q->qabsmax, TB_DTYPE_U8, q->n_blocks, err);
        if (st == TB_OK)
            st = wrap(out, &out->nested_absmax, q->nested_absmax, TB_DTYPE_F32, q->n_nested, err);
        if (st == TB_OK)
            st = wrap(out, &out->nested_map, q->nested_map, TB_DTYPE_F32, 256, err);
    }
    if (st != TB_OK)
        tb_nf4_weight_free(out);
    return st;
}

void tb_nf4_weight_free(tb_nf4_weight *w)
{
    if (!w || !w->be) {
        if (w)
            memset(w, 0, sizeof *w);
        return;
    }
    tb_buf *bufs[] = {w->codes, w->absmax, w->qabsmax, w->nested_absmax, w->nested_map};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        w->be->ops->buf_free(w->be, bufs[i]);
    memset(w, 0, sizeof *w);
}
