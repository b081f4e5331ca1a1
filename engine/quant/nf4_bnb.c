/* tunebench — NF4 from bitsandbytes' 4-bit tensors and from plain float tensors (nf4_bnb.h). */
#include "engine/quant/nf4_bnb.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/alloc.h"

#define FAIL(st, t, ...) tb_error_set(err, (st), file, 0, (t) ? (t)->name : NULL, __VA_ARGS__)

static uint64_t span(const tb_st_tensor *t) { return t->end - t->begin; }

static int64_t numel(const tb_st_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

/* The quant_state JSON, as bitsandbytes QuantState.as_dict(packed=True) writes it. */
typedef struct bnb_state {
    int64_t blocksize, nested_blocksize;
    int64_t shape[2];
    int ndim;
    tb_dtype dtype;
    bool nested;
    double offset;
} bnb_state;

static tb_status parse_state(bnb_state *s, const tb_st_tensor *t, const char *file, tb_error *err)
{
    memset(s, 0, sizeof *s);
    if (t->dtype != TB_DTYPE_U8 && t->dtype != TB_DTYPE_I8)
        return FAIL(TB_ERR_FORMAT, t, "must be U8 bytes of a JSON object, not %s", tb_dtype_name(t->dtype));
    json_error_t jerr;
    json_t *root = json_loadb(t->data, (size_t)span(t), 0, &jerr);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return FAIL(TB_ERR_FORMAT, t, "is not a JSON object (%s)", root ? "another JSON value" : jerr.text);
    }
    tb_status st = TB_ERR_FORMAT;
    const char *qt = json_string_value(json_object_get(root, "quant_type"));
    json_t *bs = json_object_get(root, "blocksize"), *shape = json_object_get(root, "shape");
    const char *dt = json_string_value(json_object_get(root, "dtype"));
    if (!qt) {
        FAIL(st, t, "quant_type is missing");
    } else if (strcmp(qt, "nf4") != 0) {
        FAIL(st = TB_ERR_UNSUPPORTED, t, "quant_type \"%s\": tunebench reads NF4 4-bit checkpoints only", qt);
    } else if (!json_is_integer(bs) || json_integer_value(bs) < 32 || json_integer_value(bs) > 4096 ||
               (json_integer_value(bs) & (json_integer_value(bs) - 1))) {
        FAIL(st, t, "blocksize must be a power of two from 32 to 4096 (bitsandbytes' choices)");
    } else if (!dt || !tb_dtype_parse_short(dt, &s->dtype)) {
        FAIL(st, t, "dtype \"%s\" is not float32, bfloat16 or float16", dt ? dt : "(missing)");
    } else if (!json_is_array(shape) || json_array_size(shape) < 1 || json_array_size(shape) > 2) {
        FAIL(st, t, "shape must be [out, in]");
    } else {
        s->blocksize = json_integer_value(bs);
        s->ndim = (int)json_array_size(shape);
        st = TB_OK;
        for (int i = 0; i < s->ndim && st == TB_OK; i++) {
            json_t *d = json_array_get(shape, (size_t)i);
            s->shape[i] = json_is_integer(d) ? json_integer_value(d) : 0;
            if (s->shape[i] <= 0 || s->shape[i] > ((int64_t)1 << 40))
                st = FAIL(TB_ERR_FORMAT, t, "shape[%d] must be a positive integer", i);
        }
        if (st == TB_OK && s->ndim == 2 && s->shape[0] > ((int64_t)1 << 48) / s->shape[1])
            st = FAIL(TB_ERR_FORMAT, t, "shape [%lld, %lld] is too large", (long long)s->shape[0],
                      (long long)s->shape[1]);
        json_t *off = json_object_get(root, "nested_offset"), *nbs = json_object_get(root, "nested_blocksize");
        s->nested = off && !json_is_null(off);
        if (st == TB_OK && s->nested) {
            s->offset = json_number_value(off);
            s->nested_blocksize = json_is_integer(nbs) ? json_integer_value(nbs) : 0;
            if (!json_is_number(off) || !isfinite(s->offset) || fabs(s->offset) > 3.4e38)
                st = FAIL(TB_ERR_FORMAT, t, "nested_offset must be a finite number");
            else if (s->nested_blocksize <= 0 || s->nested_blocksize > (1 << 20))
                st = FAIL(TB_ERR_FORMAT, t, "nested_blocksize must be a positive integer");
        }
    }
    json_decref(root);
    return st;
}

/* An F32 tensor of exactly `count` finite values, copied to dst (the file may hold it
 * unaligned). A missing one is named after the weight: "<weight><suffix>". */
static tb_status copy_f32(float *dst, const tb_st_tensor *t, const tb_st_tensor *weight, const char *suffix,
                          int64_t count, const char *file, tb_error *err)
{
    if (!t) {
        char name[512];
        snprintf(name, sizeof name, "%s%s", weight->name, suffix);
        return tb_error_set(err, TB_ERR_FORMAT, file, 0, name, "is missing (bitsandbytes 4-bit layout)");
    }
    if (t->dtype != TB_DTYPE_F32 || numel(t) != count)
        return FAIL(TB_ERR_FORMAT, t, "must be F32 with %lld values (has %s, %lld)", (long long)count,
                    tb_dtype_name(t->dtype), (long long)numel(t));
    memcpy(dst, t->data, (size_t)count * sizeof(float));
    for (int64_t i = 0; i < count; i++)
        if (!isfinite(dst[i]))
            return FAIL(TB_ERR_NUMERIC, t, "value %lld is not finite", (long long)i);
    return TB_OK;
}

tb_status tb_nf4_from_bnb(tb_nf4 *out, const tb_nf4_bnb_parts *p, const char *file, tb_error *err)
{
    memset(out, 0, sizeof *out);
    if (!p->weight || !p->quant_state)
        return tb_error_set(err, TB_ERR_FORMAT, file, 0, p->weight ? p->weight->name : NULL,
                            "%s is missing (bitsandbytes 4-bit layout)", p->weight ? "quant_state" : "weight");
    bnb_state s;
    tb_status st = parse_state(&s, p->quant_state, file, err);
    if (st != TB_OK)
        return st;

    tb_nf4 w = {.rows = s.ndim == 2 ? s.shape[0] : 1, .cols = s.shape[s.ndim - 1], .blocksize = s.blocksize,
                .dtype = s.dtype};
    w.n = w.rows * w.cols;
    w.n_blocks = (w.n + w.blocksize - 1) / w.blocksize;
    /* Packed storage may be another dtype (quant_storage); what matters is the bytes. */
    if (span(p->weight) != (uint64_t)(w.n + 1) / 2)
        return FAIL(TB_ERR_FORMAT, p->weight, "holds %llu bytes; shape [%lld, %lld] packs into %lld",
                    (unsigned long long)span(p->weight), (long long)w.rows, (long long)w.cols,
                    (long long)((w.n + 1) / 2));
    w.codes = p->weight->data;
    if (!p->absmax)
        return tb_error_set(err, TB_ERR_FORMAT, file, 0, p->weight->name, "absmax is missing");
    if (s.nested != (p->absmax->dtype == TB_DTYPE_U8))
        return FAIL(TB_ERR_FORMAT, p->absmax, "is %s but quant_state %s nested_offset", tb_dtype_name(p->absmax->dtype),
                    s.nested ? "has" : "lacks");

    float code[16];
    size_t owned_floats = 16 + (s.nested ? 256 + (size_t)((w.n_blocks + s.nested_blocksize - 1) / s.nested_blocksize)
                                         : (size_t)w.n_blocks);
    float *buf = tb_alloc(owned_floats * sizeof(float), TB_MEM_WEIGHTS);
    if (!buf)
        return FAIL(TB_ERR_NOMEM, p->weight, "out of memory for the block scales");
    w.owned = buf;
    if ((st = copy_f32(code, p->quant_map, p->weight, ".quant_map", 16, file, err)) != TB_OK)
        goto fail;
    if (memcmp(code, tb_nf4_code, sizeof code) != 0) {
        st = FAIL(TB_ERR_FORMAT, p->quant_map, "is not the NF4 code of bitsandbytes get_4bit_type(\"nf4\")");
        goto fail;
    }
    if (s.nested) {
        w.nested_blocksize = s.nested_blocksize;
        w.n_nested = (w.n_blocks + w.nested_blocksize - 1) / w.nested_blocksize;
        w.offset = (float)s.offset; /* bitsandbytes wrote the fp32 offset's exact double */
        float *map = buf + 16, *nested = map + 256;
        if ((st = copy_f32(map, p->nested_quant_map, p->weight, ".nested_quant_map", 256, file, err)) != TB_OK ||
            (st = copy_f32(nested, p->nested_absmax, p->weight, ".nested_absmax", w.n_nested, file, err)) != TB_OK)
            goto fail;
        if (numel(p->absmax) != w.n_blocks || span(p->absmax) != (uint64_t)w.n_blocks) {
            st = FAIL(TB_ERR_FORMAT, p->absmax, "must hold %lld 8-bit scales", (long long)w.n_blocks);
            goto fail;
        }
        w.nested_map = map;
        w.nested_absmax = nested;
        w.qabsmax = p->absmax->data;
    } else {
        float *absmax = buf + 16;
        if ((st = copy_f32(absmax, p->absmax, p->weight, ".absmax", w.n_blocks, file, err)) != TB_OK)
            goto fail;
        w.absmax = absmax;
    }
    *out = w;
    return TB_OK;
fail:
    tb_nf4_free(&w);
    return st;
}

tb_status tb_nf4_from_tensor(tb_nf4 *out, const tb_st_tensor *t, bool double_quant, const char *file,
                             tb_error *err)
{
    memset(out, 0, sizeof *out);
    if (t->ndim < 1 || t->ndim > 2)
        return FAIL(TB_ERR_INVALID, t, "NF4 quantizes 1-D or 2-D weights; this one has %d dimensions", t->ndim);
    int64_t rows = t->ndim == 2 ? t->shape[0] : 1, cols = t->shape[t->ndim - 1];
    tb_status st = tb_nf4_quantize(out, t->data, t->dtype, rows, cols, double_quant, t->name, err);
    if (st != TB_OK && err && file)
        snprintf(err->file, sizeof err->file, "%s", file);
    return st;
}
