/* tunebench — a LoRA adapter as a llama.cpp GGUF adapter file.
 *
 * What llama.cpp's convert_lora_to_gguf.py writes and src/llama-adapter.cpp reads
 * (FORMATS.md "GGUF LoRA adapter"):
 *   keys     general.type = "adapter", general.architecture = "llama" (Llama, Mistral) or
 *            "qwen2", adapter.type = "lora", adapter.lora.alpha (f32)
 *   tensors  blk.{i}.{attn_q,attn_k,attn_v,attn_output,ffn_gate,ffn_up,ffn_down}.weight.lora_{a,b}
 *            lora_a: torch (R, in) -> ggml ne {in, R};  lora_b: torch (out, R) -> ne {R, out}
 * llama.cpp's "llama" architecture uses the interleaved RoPE layout (dims 2i, 2i+1 pair)
 * where HF checkpoints use the half-split one (i, i + Dh/2), so convert_hf_to_gguf.py's
 * LlamaModel.permute reorders q/k rows per head: new row h*Dh + 2i + j <- old row
 * h*Dh + j*Dh/2 + i (heads H for q, Hkv for k). On a LoRA pair only B's rows move (A maps
 * the input). Qwen2 runs NEOX (half-split) RoPE in llama.cpp: no permutation.
 * llama.cpp scales by alpha / R and has no rsLoRA flag, so rsLoRA (alpha / sqrt(R)) is
 * written as alpha * sqrt(R). */
#ifndef TB_LORA_GGUF_EXPORT_H
#define TB_LORA_GGUF_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"
#include "engine/lora/pair.h"
#include "engine/lora/targets.h"
#include "engine/model/config.h"

typedef struct tb_lora_gguf_info {
    const char *arch;        /* general.architecture written */
    float alpha;             /* adapter.lora.alpha written */
    size_t n_tensors;
    bool permuted;           /* q/k lora_b rows were reordered */
} tb_lora_gguf_info;

/* "llama" or "qwen2" for cfg's model_type; NULL when llama.cpp has no matching LoRA layout
 * we write. *permute: whether q/k rows need the interleaved-RoPE permutation. */
const char *tb_lora_gguf_arch(const tb_llama_config *cfg, bool *permute);

/* GGUF tensor base name of module m in layer l: "blk.3.attn_q.weight". */
void tb_lora_gguf_name(char *buf, size_t size, int64_t layer, tb_lora_module m);

/* The permutation on rows of one q or k projection output with n_heads heads of dim Dh:
 * dst row (h*Dh + 2i + j) = src row (h*Dh + j*Dh/2 + i), cols columns each. */
void tb_lora_gguf_permute_rows(float *dst, const float *src, int64_t n_heads, int64_t Dh, int64_t cols);

/* Write pairs[0..n) of an adapter (rank R, lora_alpha, use_rslora) for the model cfg to
 * path, atomically, tensors in `type` (TB_GGML_F32, F16 or BF16). Shapes come from cfg and
 * R; a layer outside the model is refused. info may be NULL. */
tb_status tb_lora_gguf_write(const tb_llama_config *cfg, int64_t rank, double alpha, bool rslora,
                             const tb_lora_pair *pairs, size_t n, uint32_t type, const char *path,
                             tb_lora_gguf_info *info, tb_error *err);

#endif
