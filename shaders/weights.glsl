// tunebench — read-only weight buffer W whose element type is a build-time variant:
// -DW_F32, -DW_BF16 or -DW_F16. Include after choosing the binding with W_BINDING.
#if defined(W_BF16) || defined(W_F16)
layout(std430, binding = W_BINDING) readonly buffer WeightBuf { uint w_words[]; };
float load_w(uint i)
{
#if defined(W_BF16)
    return tb_bf16_at(w_words[i >> 1], i & 1u);
#else
    return tb_f16_at(w_words[i >> 1], i & 1u);
#endif
}
#else
layout(std430, binding = W_BINDING) readonly buffer WeightBuf { float w_f32[]; };
float load_w(uint i)
{
    return w_f32[i];
}
#endif
