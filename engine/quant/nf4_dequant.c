/* tunebench — NF4 dequantization: the scalar oracle, the block kernels and whole tensors. */
#include <string.h>

#include "engine/quant/nf4.h"
#include "engine/quant/nf4_kernels.h"

void tb_nf4_dequant_range_ref(const tb_nf4 *w, int64_t start, int64_t count, float *out)
{
    for (int64_t i = 0; i < count; i++) {
        int64_t e = start + i;
        uint8_t byte = w->codes[e >> 1];
        uint8_t q = (e & 1) ? (byte & 0x0f) : (byte >> 4);
        out[i] = tb_nf4_code[q] * tb_nf4_block_scale(w, e / w->blocksize);
    }
}

/* Portable kernel: the 16 scaled code values of a block, then two table reads per byte. */
static void dequant_c(const uint8_t *codes, const float *scales, int64_t nblocks, int64_t bs, float *out)
{
    for (int64_t b = 0; b < nblocks; b++) {
        float t[16];
        for (int i = 0; i < 16; i++)
            t[i] = tb_nf4_code[i] * scales[b];
        for (int64_t k = 0; k < bs / 2; k++) {
            uint8_t byte = codes[k];
            out[2 * k] = t[byte >> 4];
            out[2 * k + 1] = t[byte & 0x0f];
        }
        codes += bs / 2;
        out += bs;
    }
}

/* The kernel in use: best available unless a test or benchmark forced one. Written only
 * by tb_nf4_use_kernel (tests, benchmarks; not thread-safe), read by every dequant. */
static tb_nf4_kernel_fn forced;
static const char *forced_name;

static tb_nf4_kernel_fn pick_kernel(const char **name)
{
    tb_nf4_kernel_fn k;
    if (forced) {
        *name = forced_name;
        return forced;
    }
    if ((k = tb_nf4_kernel_avx512())) {
        *name = "avx512";
        return k;
    }
    if ((k = tb_nf4_kernel_avx2())) {
        *name = "avx2";
        return k;
    }
    *name = "c";
    return dequant_c;
}

bool tb_nf4_use_kernel(const char *name)
{
    tb_nf4_kernel_fn k = NULL;
    if (!name) {
        forced = NULL;
        return true;
    }
    if (strcmp(name, "c") == 0)
        k = dequant_c;
    else if (strcmp(name, "avx2") == 0)
        k = tb_nf4_kernel_avx2();
    else if (strcmp(name, "avx512") == 0)
        k = tb_nf4_kernel_avx512();
    if (!k)
        return false;
    forced = k;
    forced_name = name[0] == 'c' ? "c" : name[4] == '5' ? "avx512" : "avx2";
    return true;
}

const char *tb_nf4_kernel_name(void)
{
    const char *name;
    pick_kernel(&name);
    return name;
}

/* Whole blocks [b, b + nb) through the kernel, 64 scales at a time. */
static void dequant_blocks(const tb_nf4 *w, tb_nf4_kernel_fn kern, int64_t b, int64_t nb, float *out)
{
    enum { CHUNK = 64 };
    float scales[CHUNK];
    const int64_t bs = w->blocksize;
    while (nb > 0) {
        int64_t k = nb < CHUNK ? nb : CHUNK;
        for (int64_t i = 0; i < k; i++)
            scales[i] = tb_nf4_block_scale(w, b + i);
        kern(w->codes + b * bs / 2, scales, k, bs, out);
        out += k * bs;
        b += k;
        nb -= k;
    }
}

void tb_nf4_dequant_range(const tb_nf4 *w, int64_t start, int64_t count, float *out)
{
    const int64_t bs = w->blocksize, end = start + count;
    if (bs % 32 != 0) { /* a layout our kernels do not cover: the oracle is still right */
        tb_nf4_dequant_range_ref(w, start, count, out);
        return;
    }
    /* Head up to the first block boundary, whole blocks through the kernel, then the tail. */
    int64_t head_end = (start + bs - 1) / bs * bs;
    if (head_end > end)
        head_end = end;
    tb_nf4_dequant_range_ref(w, start, head_end - start, out);
    out += head_end - start;
    start = head_end;
    const char *name;
    int64_t full = (end - start) / bs;
    dequant_blocks(w, pick_kernel(&name), start / bs, full, out);
    out += full * bs;
    start += full * bs;
    tb_nf4_dequant_range_ref(w, start, end - start, out);
}

void tb_nf4_dequant_tile(const tb_nf4 *w, int64_t r0, int64_t nr, int64_t c0, int64_t nc, float *tile)
{
    const int64_t bs = w->blocksize;
    if (bs % 32 == 0 && w->cols % bs == 0 && c0 % bs == 0 && nc % bs == 0) {
        /* Every row slice is whole blocks: straight to the kernel, no head or tail. */
        const char *name;
        tb_nf4_kernel_fn kern = pick_kernel(&name);
        for (int64_t r = 0; r < nr; r++)
            dequant_blocks(w, kern, ((r0 + r) * w->cols + c0) / bs, nc / bs, tile + r * nc);
        return;
    }
    for (int64_t r = 0; r < nr; r++)
        tb_nf4_dequant_range(w, (r0 + r) * w->cols + c0, nc, tile + r * nc);
}

tb_status tb_nf4_dequantize(const tb_nf4 *w, void *dst, tb_dtype dtype, tb_error *err)
{
    if (dtype == TB_DTYPE_F32) {
        tb_nf4_dequant_range(w, 0, w->n, dst);
        return TB_OK;
    }
    if (dtype != TB_DTYPE_BF16 && dtype != TB_DTYPE_F16)
        return tb_fail(err, TB_ERR_UNSUPPORTED, "NF4 dequantizes to F32, BF16 or F16, not %s", tb_dtype_name(dtype));
    /* Through fp32 a chunk at a time, then rounded to nearest even (bitsandbytes' CPU and
     * CUDA kernels round the fp32 product the same way). */
    enum { CHUNK = 4096 };
    float buf[CHUNK];
    uint16_t *d = dst;
    for (int64_t e = 0; e < w->n; e += CHUNK) {
        int64_t len = w->n - e < CHUNK ? w->n - e : CHUNK;
        tb_nf4_dequant_range(w, e, len, buf);
        tb_convert_from_f32(d + e, dtype, buf, (size_t)len);
    }
    return TB_OK;
}
