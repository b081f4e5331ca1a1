/* tunebench — LoRA parameters and the adapter's forward/backward around a frozen linear. */
#include "engine/lora/lora.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/rng.h"

tb_status tb_lora_check(const tb_llama_config *cfg, const tb_lora_opts *o, tb_error *err)
{
    int64_t max = tb_lora_max_rank(cfg, o->targets);
    if (tb_lora_targets_count(o->targets & TB_LORA_TARGETS_ALL) == 0)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "targets", "no target module given");
    if (o->rank < 1 || o->rank > max)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "rank",
                            "rank %lld is impossible for these targets: it must be between 1 and %lld, the smallest "
                            "side of a targeted matrix (min(in, out))",
                            (long long)o->rank, (long long)max);
    if (!(o->alpha > 0) || !isfinite(o->alpha))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "alpha", "alpha must be a positive number");
    if (!(o->dropout >= 0 && o->dropout < 1))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "dropout", "dropout must be in [0, 1)");
    return TB_OK;
}

tb_status tb_lora_create(tb_lora **out, const tb_llama_config *cfg, const tb_lora_opts *o, tb_backend *be,
                         bool grads, tb_error *err)
{
    *out = NULL;
    tb_status st = tb_lora_check(cfg, o, err);
    if (st != TB_OK)
        return st;
    tb_lora *lo = calloc(1, sizeof *lo);
    size_t slots = (size_t)cfg->n_layers * TB_LORA_MODULE_COUNT * 2;
    if (!lo || !(lo->index = malloc(slots * sizeof *lo->index))) {
        free(lo);
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    }
    lo->opt = *o;
    lo->cfg = *cfg;
    lo->scale = (float)(o->rslora ? o->alpha / sqrt((double)o->rank) : o->alpha / (double)o->rank);
    for (size_t i = 0; i < slots; i++)
        lo->index[i] = -1;
    tb_lora_layout lay;
    if ((st = tb_lora_layout_build(&lay, cfg, o->targets, o->rank, TB_DTYPE_F32, err)) != TB_OK)
        goto fail;
    /* layout order: layer, module, A then B */
    size_t k = 0;
    for (int64_t l = 0; l < cfg->n_layers && st == TB_OK; l++)
        for (int m = 0; m < TB_LORA_MODULE_COUNT && st == TB_OK; m++) {
            if (!((o->targets >> m) & 1u))
                continue;
            for (int ab = 0; ab < 2 && st == TB_OK; ab++, k++) {
                const tb_st_write *w = &lay.tensors[k];
                lo->index[(l * TB_LORA_MODULE_COUNT + m) * 2 + ab] = (long)lo->params.n;
                st = tb_param_set_add(&lo->params, w->name, 2, w->shape[0], w->shape[1], true, err);
            }
        }
    tb_lora_layout_free(&lay);
    if (st == TB_OK)
        st = tb_param_set_alloc(&lo->params, be, TB_MEM_ADAPTER, grads, err);
    if (st != TB_OK)
        goto fail;
    *out = lo;
    return TB_OK;
fail:
    tb_lora_free(lo);
    return st;
}

void tb_lora_free(tb_lora *lo)
{
    if (!lo)
        return;
    tb_param_set_free(&lo->params);
    free(lo->index);
    free(lo);
}

tb_status tb_lora_init_weights(tb_lora *lo, uint64_t seed, tb_error *err)
{
    tb_param_set *ps = &lo->params;
    float *host = calloc(ps->total, sizeof *host);
    if (!host)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    tb_rng rng;
    tb_rng_seed(&rng, seed);
    for (int64_t l = 0; l < lo->cfg.n_layers; l++)
        for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
            long a = lo->index[(l * TB_LORA_MODULE_COUNT + m) * 2];
            if (a < 0)
                continue;
            const tb_param *p = &ps->p[a];
            /* kaiming_uniform_(a=sqrt(5)): gain sqrt(2/6), bound sqrt(3) gain / sqrt(fan_in) = 1/sqrt(in) */
            double bound = 1.0 / sqrt((double)p->shape[1]);
            for (size_t i = 0; i < p->n; i++)
                host[p->off + i] = (float)((2.0 * tb_rng_uniform(&rng) - 1.0) * bound);
        }
    ps->be->ops->upload(ps->be, tb_view_of(ps->values), host, ps->total);
    free(host);
    return ps->be->ops->sync(ps->be, err);
}

static tb_view slot(const tb_lora *lo, int64_t l, tb_lora_module m, int ab, bool grad)
{
    long i = lo->index[(l * TB_LORA_MODULE_COUNT + m) * 2 + ab];
    if (i < 0)
        return TB_VIEW_NONE;
    return grad ? tb_param_grad(&lo->params, (size_t)i) : tb_param_value(&lo->params, (size_t)i);
}

tb_view tb_lora_a(const tb_lora *lo, int64_t l, tb_lora_module m) { return slot(lo, l, m, 0, false); }
tb_view tb_lora_b(const tb_lora *lo, int64_t l, tb_lora_module m) { return slot(lo, l, m, 1, false); }
tb_view tb_lora_da(const tb_lora *lo, int64_t l, tb_lora_module m) { return slot(lo, l, m, 0, true); }
tb_view tb_lora_db(const tb_lora *lo, int64_t l, tb_lora_module m) { return slot(lo, l, m, 1, true); }

/* One dropout stream per (micro-batch seed, layer, module): PEFT gives every adapted
 * linear its own nn.Dropout, so q, k and v see different masks of the same input. */
static uint32_t stream(const tb_lora *lo, int64_t l, tb_lora_module m)
{
    return tb_hash32(lo->seed ^ tb_hash32((uint32_t)(l * TB_LORA_MODULE_COUNT + m) + 0x9e3779b9u));
}

static bool dropping(const tb_lora *lo) { return lo->train && lo->opt.dropout > 0; }

void tb_lora_forward(const tb_lora *lo, int64_t l, tb_lora_module m, tb_view y, tb_view x, tb_view h, tb_view xd,
                     int64_t N)
{
    tb_backend *be = lo->params.be;
    const tb_backend_ops *op = be->ops;
    int64_t in, out, R = lo->opt.rank;
    tb_lora_module_shape(&lo->cfg, m, &in, &out);
    if (dropping(lo)) {
        op->dropout_forward(be, xd, x, (size_t)(N * in), (float)lo->opt.dropout, stream(lo, l, m));
        x = xd;
    }
    op->matmul(be, h, x, tb_wdense(tb_lora_a(lo, l, m)), N, R, in, TB_MM_TRANS_B, 1.0f, 0.0f);        /* (N, R) */
    if (!tb_view_null(y))
        op->matmul(be, y, h, tb_wdense(tb_lora_b(lo, l, m)), N, out, R, TB_MM_TRANS_B, lo->scale, 1.0f); /* (N, out) */
}

void tb_lora_backward(const tb_lora *lo, int64_t l, tb_lora_module m, tb_view dx, tb_view dy, tb_view x, tb_view h,
                      tb_view dh, tb_view xd, int64_t N)
{
    tb_backend *be = lo->params.be;
    const tb_backend_ops *op = be->ops;
    int64_t in, out, R = lo->opt.rank;
    tb_lora_module_shape(&lo->cfg, m, &in, &out);
    float s = lo->scale;
    bool drop = dropping(lo);
    /* dB (out, R) += s dy^T h */
    op->matmul(be, tb_lora_db(lo, l, m), dy, tb_wdense(h), out, R, N, TB_MM_TRANS_A, s, 1.0f);
    /* dh (N, R) = s dy B */
    op->matmul(be, dh, dy, tb_wdense(tb_lora_b(lo, l, m)), N, R, out, 0, s, 0.0f);
    tb_view xin = x;
    if (drop) { /* the forward's mask, regenerated from its seed */
        op->dropout_forward(be, xd, x, (size_t)(N * in), (float)lo->opt.dropout, stream(lo, l, m));
        xin = xd;
    }
    /* dA (R, in) += dh^T drop(x) */
    op->matmul(be, tb_lora_da(lo, l, m), dh, tb_wdense(xin), R, in, N, TB_MM_TRANS_A, 1.0f, 1.0f);
    if (tb_view_null(dx))
        return;
    if (drop) { /* dx += mask / (1 - p) * (dh A) */
        op->matmul(be, xd, dh, tb_wdense(tb_lora_a(lo, l, m)), N, in, R, 0, 1.0f, 0.0f);
        op->dropout_backward(be, dx, xd, (size_t)(N * in), (float)lo->opt.dropout, stream(lo, l, m));
    } else {
        op->matmul(be, dx, dh, tb_wdense(tb_lora_a(lo, l, m)), N, in, R, 0, 1.0f, 1.0f);
    }
}
