/* tunebench — the Vulkan backend table: backend.h's signatures onto vk_ops.h. */
#include "engine/backend/vulkan/vk_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/vulkan/vk_ops.h"

typedef struct vk_buf {
    tb_buf base;            /* first: backend.h hands out &base */
    tb_vk_buffer *dev;
} vk_buf;

typedef struct vk_backend {
    tb_backend base;        /* first */
    tb_vk_ctx *ctx;
    tb_status pending;      /* first failure since the last sync point */
    tb_error pending_err;
} vk_backend;

static vk_backend *vkb(tb_backend *be)
{
    return (vk_backend *)be;
}

/* Keep the first failure; later ops are skipped until a sync point reports it. */
static void note(vk_backend *b, tb_status st, const tb_error *err)
{
    if (st != TB_OK && b->pending == TB_OK) {
        b->pending = st;
        b->pending_err = *err;
    }
}

/* Unpack views; a buffer of another backend or a read-only output is a caller bug, kept
 * as the pending error like any other. */
static bool view(vk_backend *b, tb_view v, bool output, tb_vk_view *out, const char *op)
{
    *out = (tb_vk_view){0};
    if (!v.buf)
        return true;
    tb_error err;
    if (v.buf->be != &b->base) {
        note(b, tb_fail(&err, TB_ERR_INVALID, "%s: a buffer of backend '%s' passed to vulkan", op,
                        v.buf->be ? v.buf->be->name : "?"), &err);
        return false;
    }
    if (output && v.buf->read_only) {
        note(b, tb_fail(&err, TB_ERR_INVALID, "%s: output into a read-only buffer", op), &err);
        return false;
    }
    *out = (tb_vk_view){((vk_buf *)v.buf)->dev, v.off, v.buf->dtype};
    return true;
}

/* Declare tb_vk_view locals from tb_views; return early (error kept) when one is bad. */
#define IN(name, v) tb_vk_view name; if (!view(b, v, false, &name, __func__)) return
#define OUT(name, v) tb_vk_view name; if (!view(b, v, true, &name, __func__)) return
#define RUN(call)                                   \
    do {                                            \
        if (b->pending != TB_OK)                    \
            return;                                 \
        tb_error err_;                              \
        tb_status st_ = call;                       \
        note(b, st_, &err_);                        \
    } while (0)
#define U32(x) ((uint32_t)(x))

/* --- memory and transfers ----------------------------------------------------------- */

static tb_status make_buf(vk_backend *b, tb_buf **out, tb_dtype dtype, size_t n, tb_mem_category cat,
                          bool read_only, tb_error *err)
{
    *out = NULL;
    size_t es = tb_dtype_size(dtype);
    if (n == 0 || es == 0)
        return tb_fail(err, TB_ERR_INVALID, "buf_alloc: %zu elements of %s", n, tb_dtype_name(dtype));
    vk_buf *vb = calloc(1, sizeof *vb);
    if (!vb)
        return tb_fail(err, TB_ERR_NOMEM, "out of host memory for a buffer record");
    /* Whole 32-bit words: fills and 16-bit kernels work in words. */
    size_t bytes = (n * es + 3) & ~(size_t)3;
    tb_status st = tb_vk_buffer_create(b->ctx, bytes, tb_mem_category_name(cat), &vb->dev, err);
    if (st != TB_OK) {
        free(vb);
        return st;
    }
    vb->base = (tb_buf){.be = &b->base, .dtype = dtype, .n = n, .cat = cat, .read_only = read_only};
    *out = &vb->base;
    return TB_OK;
}

static tb_status be_buf_alloc(tb_backend *be, tb_buf **out, tb_dtype dtype, size_t n, tb_mem_category cat,
                              tb_error *err)
{
    vk_backend *b = vkb(be);
    tb_status st = make_buf(b, out, dtype, n, cat, false, err);
    if (st == TB_OK && (st = tb_vk_fill(b->ctx, ((vk_buf *)*out)->dev, 0, ((vk_buf *)*out)->dev->size, 0, err))) {
        be->ops->buf_free(be, *out);
        *out = NULL;
    }
    return st;
}

static tb_status be_buf_from_host(tb_backend *be, tb_buf **out, const void *host, tb_dtype dtype, size_t n,
                                  tb_mem_category cat, tb_error *err)
{
    vk_backend *b = vkb(be);
    tb_status st = make_buf(b, out, dtype, n, cat, true, err);
    if (st == TB_OK && (st = tb_vk_upload(b->ctx, ((vk_buf *)*out)->dev, 0, host, n * tb_dtype_size(dtype), err))) {
        be->ops->buf_free(be, *out);
        *out = NULL;
    }
    return st;
}

static void be_buf_free(tb_backend *be, tb_buf *buf)
{
    if (!buf)
        return;
    vk_backend *b = vkb(be);
    if (b->ctx->recording) {   /* pending work may use it: finish, keeping any failure */
        tb_error err;
        note(b, tb_vk_flush(b->ctx, &err), &err);
    }
    tb_vk_buffer_free(((vk_buf *)buf)->dev);
    free(buf);
}

static tb_status upload(tb_vk_ctx *ctx, tb_vk_view d, const void *host, size_t n, tb_error *err)
{
    size_t es = tb_dtype_size(d.dt);
    tb_status st = tb_vk_check("upload", "dst", d, n, err);
    return st ? st : tb_vk_upload(ctx, d.buf, d.off * es, host, n * es, err);
}

static void be_upload(tb_backend *be, tb_view dst, const void *host, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(d, dst);
    RUN(upload(b->ctx, d, host, n, &err_));
}

static tb_status take_pending(vk_backend *b, tb_error *err)
{
    tb_status st = b->pending;
    if (st != TB_OK && err)
        *err = b->pending_err;
    b->pending = TB_OK;
    return st;
}

static tb_status be_sync(tb_backend *be, tb_error *err)
{
    vk_backend *b = vkb(be);
    tb_error ferr;
    note(b, tb_vk_flush(b->ctx, &ferr), &ferr);
    return take_pending(b, err);
}

static tb_status be_download(tb_backend *be, void *host, tb_view src, size_t n, tb_error *err)
{
    vk_backend *b = vkb(be);
    tb_vk_view s;
    if (view(b, src, false, &s, "download") && b->pending == TB_OK) {
        tb_error derr;
        size_t es = tb_dtype_size(s.dt);
        tb_status st = tb_vk_check("download", "src", s, n, &derr);
        if (st == TB_OK)
            st = tb_vk_download(b->ctx, s.buf, s.off * es, host, n * es, &derr);
        note(b, st, &derr);
    }
    return take_pending(b, err);
}

static void be_destroy(tb_backend *be)
{
    if (!be)
        return;
    vk_backend *b = vkb(be);
    tb_vk_ctx_free(b->ctx);
    free(b);
}

/* --- elementwise and reductions ----------------------------------------------------- */

static void be_fill(tb_backend *be, tb_view x, float value, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(vx, x);
    RUN(tb_vk_fill_f32(b->ctx, vx, value, n, &err_));
}

static void be_copy(tb_backend *be, tb_view dst, tb_view src, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(d, dst);
    IN(s, src);
    RUN(tb_vk_copy(b->ctx, d, s, n, &err_));
}

static void be_add(tb_backend *be, tb_view out, tb_view a, tb_view c, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    IN(va, a);
    IN(vc, c);
    RUN(tb_vk_add(b->ctx, vo, va, vc, n, &err_));
}

static void be_scale(tb_backend *be, tb_view x, float alpha, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(vx, x);
    RUN(tb_vk_scale(b->ctx, vx, alpha, n, &err_));
}

static void be_axpy(tb_backend *be, tb_view y, float alpha, tb_view x, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(vy, y);
    IN(vx, x);
    RUN(tb_vk_axpy(b->ctx, vy, alpha, vx, n, &err_));
}

static void be_sum(tb_backend *be, tb_view out, tb_view x, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    IN(vx, x);
    RUN(tb_vk_sum(b->ctx, vo, vx, n, false, &err_));
}

static void be_sum_squares(tb_backend *be, tb_view out, tb_view x, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    IN(vx, x);
    RUN(tb_vk_sum(b->ctx, vo, vx, n, true, &err_));
}

static void be_clip_scale(tb_backend *be, tb_view out, tb_view sumsq, float max_norm)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    IN(vs, sumsq);
    RUN(tb_vk_clip_scale(b->ctx, vo, vs, max_norm, &err_));
}

/* --- layers --------------------------------------------------------------------------- */

static void be_embedding_forward(tb_backend *be, tb_view out, tb_view table, tb_view ids, int64_t N, int64_t D)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    IN(vt, table);
    IN(vi, ids);
    RUN(tb_vk_embedding_forward(b->ctx, vo, vt, vi, U32(N), U32(D), &err_));
}

static void be_rmsnorm_forward(tb_backend *be, tb_view out, tb_view rstd, tb_view inp, tb_view weight,
                               int64_t N, int64_t D, float eps)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    OUT(vr, rstd);
    IN(vi, inp);
    IN(vw, weight);
    RUN(tb_vk_rmsnorm_forward(b->ctx, vo, vr, vi, vw, U32(N), U32(D), eps, &err_));
}

static void be_matmul(tb_backend *be, tb_view c, tb_view a, tb_wview w, int64_t M, int64_t N, int64_t K,
                      int flags, float alpha, float beta)
{
    vk_backend *b = vkb(be);
    if (w.nf4) {
        tb_error err;
        note(b, tb_fail(&err, TB_ERR_UNSUPPORTED, "matmul: NF4 weights are not supported by the "
                        "Vulkan backend yet (QLoRA runs on --backend cpu)"), &err);
        return;
    }
    OUT(vc, c);
    IN(va, a);
    IN(vw, w.v);
    bool round_a = be->opt.precision == TB_PRECISION_BF16 && vw.dt == TB_DTYPE_BF16;
    RUN(tb_vk_matmul(b->ctx, vc, va, vw, U32(M), U32(N), U32(K), flags & TB_MM_TRANS_A,
                     flags & TB_MM_TRANS_B, round_a, alpha, beta, &err_));
}

static void be_add_bias(tb_backend *be, tb_view x, tb_view bias, int64_t N, int64_t C)
{
    vk_backend *b = vkb(be);
    OUT(vx, x);
    IN(vb, bias);
    RUN(tb_vk_add_bias(b->ctx, vx, vb, U32(N), U32(C), &err_));
}

static void be_rope_forward(tb_backend *be, tb_view x, tb_view table, int64_t B, int64_t T, int64_t nh,
                            int64_t Dh, int64_t pos0)
{
    vk_backend *b = vkb(be);
    OUT(vx, x);
    IN(vt, table);
    RUN(tb_vk_rope(b->ctx, vx, vt, U32(B), U32(T), U32(nh), U32(Dh), U32(pos0), false, &err_));
}

static tb_vk_attn_dims dims_of(const tb_attn_dims *d)
{
    return (tb_vk_attn_dims){.B = U32(d->B), .Tq = U32(d->Tq), .pos0 = U32(d->pos0), .H = U32(d->H),
                             .Hkv = U32(d->Hkv), .Dh = U32(d->Dh), .kv_stride_b = U32(d->kv_stride_b),
                             .scale = d->scale};
}

static void be_attention_forward(tb_backend *be, tb_view out, tb_view lse, tb_view q, tb_view k, tb_view v,
                                 const tb_attn_dims *d)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    OUT(vl, lse);
    IN(vq, q);
    IN(vk, k);
    IN(vv, v);
    tb_vk_attn_dims dd = dims_of(d);
    RUN(tb_vk_attention_forward(b->ctx, vo, vl, vq, vk, vv, &dd, &err_));
}

static void be_swiglu_forward(tb_backend *be, tb_view out, tb_view gate, tb_view up, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    IN(vg, gate);
    IN(vu, up);
    RUN(tb_vk_swiglu_forward(b->ctx, vo, vg, vu, n, &err_));
}

static void be_dropout_forward(tb_backend *be, tb_view out, tb_view inp, size_t n, float p, uint32_t seed)
{
    vk_backend *b = vkb(be);
    OUT(vo, out);
    IN(vi, inp);
    RUN(tb_vk_dropout(b->ctx, vo, vi, n, p, seed, false, &err_));
}

static void be_xent(tb_backend *be, tb_view loss, tb_view logits, tb_view targets, int64_t N, int64_t V,
                    float grad_scale)
{
    vk_backend *b = vkb(be);
    OUT(vl, loss);
    IN(vz, logits);   /* written only with grad_scale != 0; never a read-only buffer then */
    IN(vt, targets);
    if (grad_scale != 0.0f && !view(b, logits, true, &vz, __func__))
        return;
    RUN(tb_vk_xent(b->ctx, vl, vz, vt, U32(N), U32(V), grad_scale, &err_));
}

/* --- backward --------------------------------------------------------------------------- */

static void be_embedding_backward(tb_backend *be, tb_view dtable, tb_view dout, tb_view ids, int64_t N, int64_t D)
{
    vk_backend *b = vkb(be);
    OUT(vt, dtable);
    IN(vd, dout);
    IN(vi, ids);
    RUN(tb_vk_embedding_backward(b->ctx, vt, vd, vi, U32(N), U32(D), &err_));
}

static void be_rmsnorm_backward(tb_backend *be, tb_view dinp, tb_view dweight, tb_view dout, tb_view inp,
                                tb_view weight, tb_view rstd, int64_t N, int64_t D)
{
    vk_backend *b = vkb(be);
    OUT(vdi, dinp);
    OUT(vdw, dweight);
    IN(vd, dout);
    IN(vi, inp);
    IN(vw, weight);
    IN(vr, rstd);
    RUN(tb_vk_rmsnorm_backward(b->ctx, vdi, vdw, vd, vi, vw, vr, U32(N), U32(D), &err_));
}

static void be_bias_backward(tb_backend *be, tb_view dbias, tb_view dout, int64_t N, int64_t C)
{
    vk_backend *b = vkb(be);
    OUT(vb, dbias);
    IN(vd, dout);
    RUN(tb_vk_bias_backward(b->ctx, vb, vd, U32(N), U32(C), &err_));
}

static void be_rope_backward(tb_backend *be, tb_view dx, tb_view table, int64_t B, int64_t T, int64_t nh,
                             int64_t Dh, int64_t pos0)
{
    vk_backend *b = vkb(be);
    OUT(vx, dx);
    IN(vt, table);
    RUN(tb_vk_rope(b->ctx, vx, vt, U32(B), U32(T), U32(nh), U32(Dh), U32(pos0), true, &err_));
}

static void be_attention_backward(tb_backend *be, tb_view dq, tb_view dk, tb_view dv, tb_view dout, tb_view q,
                                  tb_view k, tb_view v, tb_view out, tb_view lse, const tb_attn_dims *d)
{
    vk_backend *b = vkb(be);
    OUT(vdq, dq);
    OUT(vdk, dk);
    OUT(vdv, dv);
    IN(vd, dout);
    IN(vq, q);
    IN(vk, k);
    IN(vv, v);
    IN(vo, out);
    IN(vl, lse);
    tb_vk_attn_dims dd = dims_of(d);
    RUN(tb_vk_attention_backward(b->ctx, vdq, vdk, vdv, vd, vq, vk, vv, vo, vl, &dd, &err_));
}

static void be_swiglu_backward(tb_backend *be, tb_view dgate, tb_view dup, tb_view dout, tb_view gate,
                               tb_view up, size_t n)
{
    vk_backend *b = vkb(be);
    OUT(vdg, dgate);
    OUT(vdu, dup);
    IN(vd, dout);
    IN(vg, gate);
    IN(vu, up);
    RUN(tb_vk_swiglu_backward(b->ctx, vdg, vdu, vd, vg, vu, n, &err_));
}

static void be_dropout_backward(tb_backend *be, tb_view dinp, tb_view dout, size_t n, float p, uint32_t seed)
{
    vk_backend *b = vkb(be);
    OUT(vi, dinp);
    IN(vd, dout);
    RUN(tb_vk_dropout(b->ctx, vi, vd, n, p, seed, true, &err_));
}

static void be_adamw(tb_backend *be, tb_view param, tb_view grad, tb_view m, tb_view v, size_t n,
                     tb_view gscale, const tb_adamw_params *p)
{
    vk_backend *b = vkb(be);
    OUT(vp, param);
    IN(vg, grad);
    OUT(vm, m);
    OUT(vv, v);
    IN(vs, gscale);
    RUN(tb_vk_adamw(b->ctx, vp, vg, vm, vv, n, vs, p->lr, p->beta1, p->beta2, p->eps, p->weight_decay,
                    p->step, &err_));
}

static const tb_backend_ops vk_ops = {
    .buf_alloc = be_buf_alloc,
    .buf_from_host = be_buf_from_host,
    .buf_free = be_buf_free,
    .upload = be_upload,
    .download = be_download,
    .sync = be_sync,
    .destroy = be_destroy,
    .fill = be_fill,
    .copy = be_copy,
    .add = be_add,
    .scale = be_scale,
    .axpy = be_axpy,
    .sum = be_sum,
    .sum_squares = be_sum_squares,
    .clip_scale = be_clip_scale,
    .embedding_forward = be_embedding_forward,
    .rmsnorm_forward = be_rmsnorm_forward,
    .matmul = be_matmul,
    .add_bias = be_add_bias,
    .rope_forward = be_rope_forward,
    .attention_forward = be_attention_forward,
    .swiglu_forward = be_swiglu_forward,
    .dropout_forward = be_dropout_forward,
    .xent_forward_backward = be_xent,
    .embedding_backward = be_embedding_backward,
    .rmsnorm_backward = be_rmsnorm_backward,
    .bias_backward = be_bias_backward,
    .rope_backward = be_rope_backward,
    .attention_backward = be_attention_backward,
    .swiglu_backward = be_swiglu_backward,
    .dropout_backward = be_dropout_backward,
    .adamw = be_adamw,
};

tb_status tb_vulkan_backend_create(tb_backend **out, const tb_backend_options *opt, tb_error *err)
{
    *out = NULL;
    tb_backend_options o = opt ? *opt : (tb_backend_options){.device = -1};
    vk_backend *b = calloc(1, sizeof *b);
    if (!b)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory creating the Vulkan backend");
    tb_status st = tb_vk_ctx_create(&b->ctx, o.device, err);
    if (st != TB_OK) {
        free(b);
        return st;
    }
    b->base.ops = &vk_ops;
    b->base.name = "vulkan";
    b->base.opt = o;
    const tb_vk_device_info *i = &b->ctx->info;
    snprintf(b->base.description, sizeof b->base.description, "vulkan: device %u %s (%s, %s)",
             i->index, i->name, tb_vk_device_type_name(i->type), i->driver);
    *out = &b->base;
    return TB_OK;
}

struct tb_vk_ctx *tb_vulkan_backend_ctx(tb_backend *be)
{
    return be && be->name && strcmp(be->name, "vulkan") == 0 ? vkb(be)->ctx : NULL;
}

int tb_vulkan_backend_device(tb_backend *be)
{
    tb_vk_ctx *ctx = tb_vulkan_backend_ctx(be);
    return ctx ? (int)ctx->info.index : -1;
}
