/* tunebench — element types and conversions. */
#include "engine/core/dtype.h"

#include <math.h>
#include <strings.h>

static const struct {
    const char *name, *short_name;
    size_t size;
} info[TB_DTYPE_COUNT] = {
    [TB_DTYPE_F32] = {"F32", "f32", 4},   [TB_DTYPE_F16] = {"F16", "f16", 2},
    [TB_DTYPE_BF16] = {"BF16", "bf16", 2}, [TB_DTYPE_F64] = {"F64", "f64", 8},
    [TB_DTYPE_I8] = {"I8", "i8", 1},       [TB_DTYPE_U8] = {"U8", "u8", 1},
    [TB_DTYPE_I16] = {"I16", "i16", 2},    [TB_DTYPE_U16] = {"U16", "u16", 2},
    [TB_DTYPE_I32] = {"I32", "i32", 4},    [TB_DTYPE_U32] = {"U32", "u32", 4},
    [TB_DTYPE_I64] = {"I64", "i64", 8},    [TB_DTYPE_U64] = {"U64", "u64", 8},
    [TB_DTYPE_BOOL] = {"BOOL", "bool", 1}, [TB_DTYPE_NF4] = {"NF4", "nf4", 0},
};

size_t tb_dtype_size(tb_dtype t) { return (unsigned)t < TB_DTYPE_COUNT ? info[t].size : 0; }
const char *tb_dtype_name(tb_dtype t) { return (unsigned)t < TB_DTYPE_COUNT ? info[t].name : "?"; }
const char *tb_dtype_short_name(tb_dtype t) { return (unsigned)t < TB_DTYPE_COUNT ? info[t].short_name : "?"; }

bool tb_dtype_parse(const char *name, tb_dtype *out)
{
    for (int i = 0; i < TB_DTYPE_COUNT; i++)
        if (i != TB_DTYPE_NF4 && strcmp(info[i].name, name) == 0)
            return (*out = (tb_dtype)i), true;
    return false;
}

bool tb_dtype_parse_short(const char *name, tb_dtype *out)
{
    static const struct { const char *n; tb_dtype t; } aliases[] = {
        {"f32", TB_DTYPE_F32}, {"float32", TB_DTYPE_F32}, {"fp32", TB_DTYPE_F32},
        {"bf16", TB_DTYPE_BF16}, {"bfloat16", TB_DTYPE_BF16},
        {"f16", TB_DTYPE_F16}, {"float16", TB_DTYPE_F16}, {"fp16", TB_DTYPE_F16},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(aliases[i].n, name) == 0)
            return (*out = aliases[i].t), true;
    return false;
}

float tb_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: normalize */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400u));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t tb_f32_to_f16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t absu = u & 0x7fffffffu;
    if (absu > 0x7f800000u)
        return (uint16_t)(sign | 0x7e00u);
    if (absu >= 0x477ff000u) /* rounds to >= 65520: infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (absu < 0x38800000u) { /* below the smallest normal: subnormal, round to nearest even */
        float a;
        memcpy(&a, &absu, sizeof a);
        /* a * 2^24 in [0, 1024): rint rounds half to even in the default mode */
        return (uint16_t)(sign | (uint16_t)rintf(a * 16777216.0f));
    }
    uint32_t rounded = absu + 0xfffu + ((absu >> 13) & 1u);
    return (uint16_t)(sign | (uint16_t)(((rounded >> 13) - ((127 - 15) << 10)) & 0x7fffu));
}

void tb_convert_to_f32(float *dst, const void *src, tb_dtype t, size_t n)
{
    if (t == TB_DTYPE_F32) {
        memcpy(dst, src, n * sizeof(float));
    } else if (t == TB_DTYPE_BF16) {
        const uint16_t *s = src;
        for (size_t i = 0; i < n; i++)
            dst[i] = tb_bf16_to_f32(s[i]);
    } else if (t == TB_DTYPE_F16) {
        const uint16_t *s = src;
        for (size_t i = 0; i < n; i++)
            dst[i] = tb_f16_to_f32(s[i]);
    }
}

void tb_convert_from_f32(void *dst, tb_dtype t, const float *src, size_t n)
{
    if (t == TB_DTYPE_F32) {
        memcpy(dst, src, n * sizeof(float));
    } else if (t == TB_DTYPE_BF16) {
        uint16_t *d = dst;
        for (size_t i = 0; i < n; i++)
            d[i] = tb_f32_to_bf16(src[i]);
    } else if (t == TB_DTYPE_F16) {
        uint16_t *d = dst;
        for (size_t i = 0; i < n; i++)
            d[i] = tb_f32_to_f16(src[i]);
    }
}
