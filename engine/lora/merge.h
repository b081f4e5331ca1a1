/* tunebench — merge a LoRA adapter into a full-precision copy of its base model.
 *
 * W' = W + s·B·A (FORMATS.md "PEFT LoRA adapter") for every adapted linear, computed in f32
 * from the base weight as stored (F32, BF16, F16) or, for a bitsandbytes 4-bit base,
 * dequantized from its NF4 codes first: never merged into 4-bit codes. Every other tensor is
 * carried over converted to the output dtype (f32 or bf16). The result is a complete Hugging
 * Face model directory: config.json (torch_dtype set, quantization_config removed),
 * model.safetensors, and every other file of the base directory (tokenizer.json,
 * tokenizer_config.json, generation_config.json, ...) copied, weights files excepted.
 *
 * Atomic as a directory: everything is written into "<out>.tmp-<pid>" (each file fsync'd),
 * then renamed to <out>; a crash leaves no half-written <out>. <out> must not exist (or be
 * an empty directory). The whole output model is held in memory once while writing. */
#ifndef TB_LORA_MERGE_H
#define TB_LORA_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/core/dtype.h"
#include "engine/core/error.h"
#include "engine/lora/pair.h"

typedef struct tb_lora_merge_info {
    size_t tensors;        /* written */
    size_t merged;         /* linears that got s·B·A */
    size_t dequantized;    /* 4-bit linears dequantized */
    size_t files_copied;
    uint64_t bytes;        /* model.safetensors size */
} tb_lora_merge_info;

/* scale: s (alpha / R, or alpha / sqrt(R) for rsLoRA). R is the pairs' rank. out_dtype:
 * TB_DTYPE_F32 or TB_DTYPE_BF16. info may be NULL. */
tb_status tb_lora_merge_dir(const char *model_dir, const tb_lora_pair *pairs, size_t n, int64_t rank, float scale,
                            tb_dtype out_dtype, const char *out_dir, tb_lora_merge_info *info, tb_error *err);

#endif
