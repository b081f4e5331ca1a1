/* tunebench — model presets. Each entry carries the fields of the model's config.json as
 * published on the Hugging Face hub (repository named in the entry); tests check every
 * preset with tb_llama_config_validate and its parameter count against published counts. */
#include "engine/plan/presets.h"

#include <string.h>

/* Llama 3.x long-context rope scaling (rope_scaling.rope_type "llama3"). */
#define LLAMA3_ROPE(f) \
    .rope_theta = 500000.0, .rope_type = TB_ROPE_LLAMA3, .rope_factor = (f), .rope_low_freq_factor = 1.0, \
    .rope_high_freq_factor = 4.0, .rope_orig_max_pos = 8192

static const tb_model_preset presets[] = {
    /* https://huggingface.co/HuggingFaceTB/SmolLM2-135M/blob/main/config.json */
    {"smollm2-135m", "HuggingFaceTB/SmolLM2-135M",
     {.architecture = "LlamaForCausalLM", .model_type = "llama", .dim = 576, .ffn_dim = 1536, .n_layers = 30,
      .n_heads = 9, .n_kv_heads = 3, .head_dim = 64, .vocab_size = 49152, .max_pos = 8192, .rms_eps = 1e-5,
      .rope_theta = 100000.0, .tie_embeddings = true, .bos_id = 0, .eos_ids = {0}, .n_eos = 1,
      .torch_dtype = TB_DTYPE_BF16}},
    /* https://huggingface.co/HuggingFaceTB/SmolLM2-360M/blob/main/config.json */
    {"smollm2-360m", "HuggingFaceTB/SmolLM2-360M",
     {.architecture = "LlamaForCausalLM", .model_type = "llama", .dim = 960, .ffn_dim = 2560, .n_layers = 32,
      .n_heads = 15, .n_kv_heads = 5, .head_dim = 64, .vocab_size = 49152, .max_pos = 8192, .rms_eps = 1e-5,
      .rope_theta = 100000.0, .tie_embeddings = true, .bos_id = 0, .eos_ids = {0}, .n_eos = 1,
      .torch_dtype = TB_DTYPE_BF16}},
    /* https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0/blob/main/config.json */
    {"tinyllama-1.1b", "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
     {.architecture = "LlamaForCausalLM", .model_type = "llama", .dim = 2048, .ffn_dim = 5632, .n_layers = 22,
      .n_heads = 32, .n_kv_heads = 4, .head_dim = 64, .vocab_size = 32000, .max_pos = 2048, .rms_eps = 1e-5,
      .rope_theta = 10000.0, .tie_embeddings = false, .bos_id = 1, .eos_ids = {2}, .n_eos = 1,
      .torch_dtype = TB_DTYPE_BF16}},
    /* https://huggingface.co/Qwen/Qwen2.5-0.5B/blob/main/config.json (q/k/v bias: Qwen2) */
    {"qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B",
     {.architecture = "Qwen2ForCausalLM", .model_type = "qwen2", .dim = 896, .ffn_dim = 4864, .n_layers = 24,
      .n_heads = 14, .n_kv_heads = 2, .head_dim = 64, .vocab_size = 151936, .max_pos = 32768, .rms_eps = 1e-6,
      .rope_theta = 1000000.0, .tie_embeddings = true, .qkv_bias = true, .bos_id = 151643, .eos_ids = {151643},
      .n_eos = 1, .torch_dtype = TB_DTYPE_BF16}},
    /* https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/config.json (head_dim 64 given) */
    {"llama-3.2-1b", "meta-llama/Llama-3.2-1B",
     {.architecture = "LlamaForCausalLM", .model_type = "llama", .dim = 2048, .ffn_dim = 8192, .n_layers = 16,
      .n_heads = 32, .n_kv_heads = 8, .head_dim = 64, .vocab_size = 128256, .max_pos = 131072, .rms_eps = 1e-5,
      LLAMA3_ROPE(32.0), .tie_embeddings = true, .bos_id = 128000, .eos_ids = {128001}, .n_eos = 1,
      .torch_dtype = TB_DTYPE_BF16}},
    /* https://huggingface.co/meta-llama/Llama-3.2-3B/blob/main/config.json (head_dim 128 given) */
    {"llama-3.2-3b", "meta-llama/Llama-3.2-3B",
     {.architecture = "LlamaForCausalLM", .model_type = "llama", .dim = 3072, .ffn_dim = 8192, .n_layers = 28,
      .n_heads = 24, .n_kv_heads = 8, .head_dim = 128, .vocab_size = 128256, .max_pos = 131072, .rms_eps = 1e-5,
      LLAMA3_ROPE(32.0), .tie_embeddings = true, .bos_id = 128000, .eos_ids = {128001}, .n_eos = 1,
      .torch_dtype = TB_DTYPE_BF16}},
    /* https://huggingface.co/meta-llama/Llama-3.1-8B/blob/main/config.json */
    {"llama-3.1-8b", "meta-llama/Llama-3.1-8B",
     {.architecture = "LlamaForCausalLM", .model_type = "llama", .dim = 4096, .ffn_dim = 14336, .n_layers = 32,
      .n_heads = 32, .n_kv_heads = 8, .head_dim = 128, .vocab_size = 128256, .max_pos = 131072, .rms_eps = 1e-5,
      LLAMA3_ROPE(8.0), .tie_embeddings = false, .bos_id = 128000, .eos_ids = {128001}, .n_eos = 1,
      .torch_dtype = TB_DTYPE_BF16}},
    /* https://huggingface.co/mistralai/Mistral-7B-v0.1/blob/main/config.json */
    {"mistral-7b", "mistralai/Mistral-7B-v0.1",
     {.architecture = "MistralForCausalLM", .model_type = "mistral", .dim = 4096, .ffn_dim = 14336, .n_layers = 32,
      .n_heads = 32, .n_kv_heads = 8, .head_dim = 128, .vocab_size = 32000, .max_pos = 32768,
      .sliding_window = 4096, .rms_eps = 1e-5, .rope_theta = 10000.0, .tie_embeddings = false, .bos_id = 1,
      .eos_ids = {2}, .n_eos = 1, .torch_dtype = TB_DTYPE_BF16}},
    /* https://huggingface.co/meta-llama/Llama-2-7b-hf/blob/main/config.json (multi-head: kv heads = heads) */
    {"llama-2-7b", "meta-llama/Llama-2-7b-hf",
     {.architecture = "LlamaForCausalLM", .model_type = "llama", .dim = 4096, .ffn_dim = 11008, .n_layers = 32,
      .n_heads = 32, .n_kv_heads = 32, .head_dim = 128, .vocab_size = 32000, .max_pos = 4096, .rms_eps = 1e-5,
      .rope_theta = 10000.0, .tie_embeddings = false, .bos_id = 1, .eos_ids = {2}, .n_eos = 1,
      .torch_dtype = TB_DTYPE_F16}},
};

int tb_model_preset_count(void) { return (int)(sizeof presets / sizeof presets[0]); }

const tb_model_preset *tb_model_preset_at(int index)
{
    return index >= 0 && index < tb_model_preset_count() ? &presets[index] : NULL;
}

const tb_model_preset *tb_model_preset_find(const char *name)
{
    for (int i = 0; name && i < tb_model_preset_count(); i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}
