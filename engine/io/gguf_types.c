/* tunebench — GGUF value types and ggml tensor types: names and block layouts.
 *
 * Block layouts are the sizes of ggml's block structs (ggml-common.h): e.g. block_q8_0 is
 * an f16 scale and 32 int8 values = 34 bytes per 32 elements; the K-quants use 256-element
 * super-blocks. */
#include "engine/io/gguf.h"

typedef struct ggml_layout {
    uint32_t id;
    const char *name;
    uint32_t block, bytes;
} ggml_layout;

static const ggml_layout layouts[] = {
    {TB_GGML_F32, "F32", 1, 4},
    {TB_GGML_F16, "F16", 1, 2},
    {TB_GGML_Q4_0, "Q4_0", 32, 2 + 16},
    {TB_GGML_Q4_1, "Q4_1", 32, 2 + 2 + 16},
    {TB_GGML_Q5_0, "Q5_0", 32, 2 + 4 + 16},
    {TB_GGML_Q5_1, "Q5_1", 32, 2 + 2 + 4 + 16},
    {TB_GGML_Q8_0, "Q8_0", 32, 2 + 32},
    {TB_GGML_Q8_1, "Q8_1", 32, 2 + 2 + 32},
    {TB_GGML_Q2_K, "Q2_K", 256, 16 + 64 + 2 + 2},
    {TB_GGML_Q3_K, "Q3_K", 256, 32 + 64 + 12 + 2},
    {TB_GGML_Q4_K, "Q4_K", 256, 2 + 2 + 12 + 128},
    {TB_GGML_Q5_K, "Q5_K", 256, 2 + 2 + 12 + 32 + 128},
    {TB_GGML_Q6_K, "Q6_K", 256, 128 + 64 + 16 + 2},
    {TB_GGML_Q8_K, "Q8_K", 256, 4 + 256 + 32},
    {TB_GGML_I8, "I8", 1, 1},
    {TB_GGML_I16, "I16", 1, 2},
    {TB_GGML_I32, "I32", 1, 4},
    {TB_GGML_I64, "I64", 1, 8},
    {TB_GGML_F64, "F64", 1, 8},
    {TB_GGML_BF16, "BF16", 1, 2},
};

static const ggml_layout *find_layout(uint32_t t)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (layouts[i].id == t)
            return &layouts[i];
    return NULL;
}

const char *tb_ggml_type_name(uint32_t t)
{
    const ggml_layout *l = find_layout(t);
    return l ? l->name : NULL;
}

bool tb_ggml_type_layout(uint32_t t, uint32_t *block, uint32_t *block_bytes)
{
    const ggml_layout *l = find_layout(t);
    if (!l)
        return false;
    *block = l->block;
    *block_bytes = l->bytes;
    return true;
}

const char *tb_gguf_type_name(tb_gguf_type t)
{
    static const char *const names[TB_GGUF_TYPE_COUNT] = {
        "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
    };
    return (unsigned)t < TB_GGUF_TYPE_COUNT ? names[t] : "?";
}
