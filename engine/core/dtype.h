/* tunebench — element types of stored tensors and the scalar conversions.
 *
 * Base weights stay in their stored dtype (DESIGN.md §3); conversion to f32 happens per
 * tile. bf16 is the top half of an f32 (round-to-nearest-even when narrowing); f16 is IEEE
 * binary16. */
#ifndef TB_CORE_DTYPE_H
#define TB_CORE_DTYPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef enum tb_dtype {
    TB_DTYPE_F32 = 0,
    TB_DTYPE_F16,
    TB_DTYPE_BF16,
    TB_DTYPE_F64,
    TB_DTYPE_I8,
    TB_DTYPE_U8,
    TB_DTYPE_I16,
    TB_DTYPE_U16,
    TB_DTYPE_I32,
    TB_DTYPE_U32,
    TB_DTYPE_I64,
    TB_DTYPE_U64,
    TB_DTYPE_BOOL,
    TB_DTYPE_NF4,      /* 4-bit NormalFloat codes + block scales (engine/quant) */
    TB_DTYPE_COUNT
} tb_dtype;

/* Bytes per element (NF4: 0, it is not byte-addressable; see engine/quant). */
size_t tb_dtype_size(tb_dtype t);
/* safetensors name ("F32", "BF16", ...); NF4 has none ("NF4" for messages). */
const char *tb_dtype_name(tb_dtype t);
/* Parse a safetensors dtype name; false when unknown (F8 variants are unknown to us). */
bool tb_dtype_parse(const char *name, tb_dtype *out);
/* Short CLI name ("f32", "bf16", "f16") parse and print. */
bool tb_dtype_parse_short(const char *name, tb_dtype *out);
const char *tb_dtype_short_name(tb_dtype t);

static inline float tb_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint16_t tb_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)   /* NaN: keep it a (quiet) NaN */
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);       /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float tb_f16_to_f32(uint16_t h);
uint16_t tb_f32_to_f16(float f);

/* n elements of src (dtype t) to f32. t must be F32, F16 or BF16. */
void tb_convert_to_f32(float *dst, const void *src, tb_dtype t, size_t n);
/* n f32 to dst (dtype t: F32, F16 or BF16). */
void tb_convert_from_f32(void *dst, tb_dtype t, const float *src, size_t n);

#endif
