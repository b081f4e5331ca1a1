/* tunebench — NF4 quantization and double quantization (see nf4.h).
 *
 * Every step mirrors bitsandbytes' reference backend (bitsandbytes/backends/default/ops.py,
 * quantize_4bit) in fp32; the comments say where a cheaper-looking variant would change
 * bits. */
#include "engine/quant/nf4.h"

#include <math.h>
#include <string.h>

#include "engine/core/alloc.h"
#include "engine/quant/quant8.h"

const float tb_nf4_code[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f,
};

/* Index of the code nearest to s in [-1, 1] by fp32 distance, the lower one on a tie, 0 for
 * NaN (torch.argmin over |s - code|). The codes ascend, so the answer is the last code <= s
 * or the one after it. */
static inline uint8_t nf4_nearest(float s)
{
    int j = 0;
    for (int i = 1; i < 16; i++)
        j += tb_nf4_code[i] <= s;
    if (j < 15 && fabsf(s - tb_nf4_code[j + 1]) < fabsf(s - tb_nf4_code[j]))
        j++;
    return (uint8_t)j;
}

/* Codes of one block x (len <= blocksize) into bytes starting at an even element. */
static float quantize_block(uint8_t *bytes, const float *x, int64_t len)
{
    float amax = 0.0f;
    for (int64_t i = 0; i < len; i++) {
        float a = fabsf(x[i]);
        if (a > amax)
            amax = a;
    }
    /* Reciprocal then product, as the reference: x / absmax would differ in the last bit
     * and move codes that sit near a midpoint. absmax 0 gives inf and 0 * inf = NaN: code 0,
     * the reference's answer for an all-zero block. */
    float r = 1.0f / amax;
    for (int64_t i = 0; i < len; i += 2) {
        float s0 = x[i] * r;
        s0 = s0 > 1.0f ? 1.0f : s0 < -1.0f ? -1.0f : s0;
        uint8_t lo = 7; /* the pad element of an odd count is 0.0: code 7 */
        if (i + 1 < len) {
            float s1 = x[i + 1] * r;
            s1 = s1 > 1.0f ? 1.0f : s1 < -1.0f ? -1.0f : s1;
            lo = nf4_nearest(s1);
        }
        bytes[i / 2] = (uint8_t)(nf4_nearest(s0) << 4 | lo);
    }
    return amax;
}

/* offset = mean(absmax) as torch computes it on the CPU (sum, then divide by the count in
 * fp32). The sum is taken in double and rounded once, which matches torch's cascade sum
 * whenever that is correctly rounded (asserted for every golden case). */
static float absmax_mean(const float *absmax, int64_t n)
{
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)absmax[i];
    return (float)sum / (float)n;
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

tb_status tb_nf4_quantize(tb_nf4 *out, const void *src, tb_dtype src_dtype, int64_t rows, int64_t cols,
                          bool double_quant, const char *name, tb_error *err)
{
    memset(out, 0, sizeof *out);
    if (!name)
        name = "";
    if (src_dtype != TB_DTYPE_F32 && src_dtype != TB_DTYPE_BF16 && src_dtype != TB_DTYPE_F16)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, name,
                            "NF4 quantizes F32, BF16 or F16 weights, not %s", tb_dtype_name(src_dtype));
    if (rows <= 0 || cols <= 0 || rows > INT64_MAX / cols)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, name, "bad shape [%lld, %lld] for NF4",
                            (long long)rows, (long long)cols);

    tb_nf4 w = {.rows = rows, .cols = cols, .n = rows * cols, .blocksize = TB_NF4_BLOCK, .dtype = src_dtype};
    w.n_blocks = ceil_div(w.n, w.blocksize);
    size_t code_bytes = (size_t)(w.n + 1) / 2, code_span = (code_bytes + 63) & ~(size_t)63;
    size_t scale_bytes;
    if (double_quant) {
        w.nested_blocksize = TB_NF4_NESTED_BLOCK;
        w.n_nested = ceil_div(w.n_blocks, w.nested_blocksize);
        scale_bytes = (((size_t)w.n_blocks + 63) & ~(size_t)63) + (size_t)w.n_nested * sizeof(float);
    } else {
        scale_bytes = (size_t)w.n_blocks * sizeof(float);
    }
    uint8_t *buf = tb_alloc(code_span + scale_bytes, TB_MEM_WEIGHTS);
    float *absmax = double_quant ? tb_alloc((size_t)w.n_blocks * sizeof(float), TB_MEM_SCRATCH)
                                 : (float *)(void *)(buf + code_span);
    if (!buf || !absmax) {
        tb_free(buf);
        if (double_quant)
            tb_free(absmax);
        return tb_error_set(err, TB_ERR_NOMEM, NULL, 0, name, "out of memory quantizing %lld values to NF4",
                            (long long)w.n);
    }
    w.owned = buf;
    w.codes = buf;

    size_t esize = tb_dtype_size(src_dtype);
    float x[TB_NF4_BLOCK];
    for (int64_t b = 0; b < w.n_blocks; b++) {
        int64_t e0 = b * w.blocksize, len = w.n - e0 < w.blocksize ? w.n - e0 : w.blocksize;
        tb_convert_to_f32(x, (const uint8_t *)src + (size_t)e0 * esize, src_dtype, (size_t)len);
        for (int64_t i = 0; i < len; i++) {
            if (!isfinite(x[i])) {
                int64_t e = e0 + i;
                tb_error_set(err, TB_ERR_NUMERIC, NULL, 0, name,
                             "element [%lld, %lld] of %s is %s; NF4 needs finite weights (check the checkpoint)",
                             (long long)(e / cols), (long long)(e % cols), name[0] ? name : "the weight",
                             isnan(x[i]) ? "NaN" : "Inf");
                if (double_quant)
                    tb_free(absmax);
                tb_nf4_free(&w);
                return TB_ERR_NUMERIC;
            }
        }
        absmax[b] = quantize_block(buf + e0 / 2, x, len);
    }

    if (!double_quant) {
        w.absmax = absmax;
    } else {
        uint8_t *qabsmax = buf + code_span;
        float *nested = (float *)(void *)(qabsmax + (((size_t)w.n_blocks + 63) & ~(size_t)63));
        w.offset = absmax_mean(absmax, w.n_blocks);
        for (int64_t b = 0; b < w.n_blocks; b++)
            absmax[b] -= w.offset;
        tb_quant8_quantize(qabsmax, nested, absmax, w.n_blocks, w.nested_blocksize, tb_quant8_dynamic_map);
        tb_free(absmax);
        w.qabsmax = qabsmax;
        w.nested_absmax = nested;
        w.nested_map = tb_quant8_dynamic_map;
    }
    *out = w;
    return TB_OK;
}

void tb_nf4_free(tb_nf4 *w)
{
    if (!w)
        return;
    tb_free(w->owned);
    memset(w, 0, sizeof *w);
}

float tb_nf4_block_scale(const tb_nf4 *w, int64_t b)
{
    if (!w->qabsmax)
        return w->absmax[b];
    /* map[q] * nested, rounded to fp32, then + offset, rounded again: bitsandbytes'
     * dequantize_blockwise followed by `absmax += offset`. A fused multiply-add would round
     * once and change bits; -std=c11 keeps GCC's -ffp-contract=off, and the golden test
     * (dequantized absmax) catches a build that fuses. */
    float a = tb_quant8_value(w->qabsmax[b], w->nested_absmax[b / w->nested_blocksize], w->nested_map);
    float s = a + w->offset;
    return s;
}

uint64_t tb_nf4_storage_bytes(const tb_nf4 *w)
{
    uint64_t bytes = (uint64_t)(w->n + 1) / 2;
    if (w->qabsmax)
        bytes += (uint64_t)w->n_blocks + (uint64_t)w->n_nested * sizeof(float) + sizeof(float);
    else
        bytes += (uint64_t)w->n_blocks * sizeof(float);
    return bytes;
}

uint64_t tb_nf4_bnb_bytes(const tb_nf4 *w)
{
    uint64_t bytes = tb_nf4_storage_bytes(w) + 16 * sizeof(float);  /* quant_map */
    if (w->qabsmax)
        bytes += 256 * sizeof(float) - sizeof(float); /* nested_quant_map; the offset is in the JSON */
    return bytes;
}
