/* tunebench — LoRA adapter -> llama.cpp GGUF adapter. Facts: engine/lora/gguf_export.h. */
#include "engine/lora/gguf_export.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/dtype.h"
#include "engine/io/gguf.h"

static const char *const gguf_names[TB_LORA_MODULE_COUNT] = {
    "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down",
};

const char *tb_lora_gguf_arch(const tb_llama_config *cfg, bool *permute)
{
    /* convert_hf_to_gguf.py: LlamaForCausalLM and MistralForCausalLM are LlamaModel
     * (arch "llama", q/k permuted); Qwen2ForCausalLM is Qwen2Model (NEOX rope, as stored). */
    if (strcmp(cfg->model_type, "llama") == 0 || strcmp(cfg->model_type, "mistral") == 0) {
        *permute = true;
        return "llama";
    }
    if (strcmp(cfg->model_type, "qwen2") == 0) {
        *permute = false;
        return "qwen2";
    }
    *permute = false;
    return NULL;
}

void tb_lora_gguf_name(char *buf, size_t size, int64_t layer, tb_lora_module m)
{
    snprintf(buf, size, "blk.%lld.%s.weight", (long long)layer, m < TB_LORA_MODULE_COUNT ? gguf_names[m] : "?");
}

void tb_lora_gguf_permute_rows(float *dst, const float *src, int64_t n_heads, int64_t Dh, int64_t cols)
{
    int64_t half = Dh / 2;
    for (int64_t h = 0; h < n_heads; h++)
        for (int64_t j = 0; j < 2; j++)
            for (int64_t i = 0; i < half; i++)
                memcpy(dst + (h * Dh + 2 * i + j) * cols, src + (h * Dh + j * half + i) * cols,
                       (size_t)cols * sizeof *dst);
}

/* Bytes of n f32 values stored as `type`. */
static size_t stored_size(uint32_t type, size_t n) { return n * (type == TB_GGML_F32 ? 4 : 2); }

static void store(void *dst, uint32_t type, const float *src, size_t n)
{
    tb_convert_from_f32(dst, type == TB_GGML_F32 ? TB_DTYPE_F32 : type == TB_GGML_F16 ? TB_DTYPE_F16 : TB_DTYPE_BF16,
                        src, n);
}

tb_status tb_lora_gguf_write(const tb_llama_config *cfg, int64_t rank, double alpha, bool rslora,
                             const tb_lora_pair *pairs, size_t n, uint32_t type, const char *path,
                             tb_lora_gguf_info *info, tb_error *err)
{
    bool permute;
    const char *arch = tb_lora_gguf_arch(cfg, &permute);
    if (!arch)
        return tb_error_set(err, TB_ERR_UNSUPPORTED, NULL, 0, "model_type",
                            "'%s': no llama.cpp LoRA layout for this architecture (llama, mistral, qwen2)",
                            cfg->model_type);
    if (type != TB_GGML_F32 && type != TB_GGML_F16 && type != TB_GGML_BF16)
        return tb_fail(err, TB_ERR_INVALID, "GGUF adapters are written in f32, f16 or bf16");
    if (rank < 1 || !(alpha > 0))
        return tb_fail(err, TB_ERR_INVALID, "rank %lld and alpha %g: both must be positive", (long long)rank, alpha);
    float gguf_alpha = (float)(rslora ? alpha * sqrt((double)rank) : alpha);
    tb_gguf_writer *w = NULL;
    tb_status st = tb_gguf_writer_create(&w, err);
    /* Everything converted lives in one block that outlives the writer's write. */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t in, out;
        tb_lora_module_shape(cfg, pairs[i].module, &in, &out);
        total += stored_size(type, (size_t)(rank * (in + out)));
    }
    unsigned char *block = malloc(total ? total : 1);
    float *scratch = NULL;
    if (st == TB_OK && !block)
        st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
    if (st == TB_OK) st = tb_gguf_set_str(w, "general.type", "adapter", err);
    if (st == TB_OK) st = tb_gguf_set_str(w, "general.architecture", arch, err);
    if (st == TB_OK) st = tb_gguf_set_str(w, "adapter.type", "lora", err);
    if (st == TB_OK) st = tb_gguf_set_f32(w, "adapter.lora.alpha", gguf_alpha, err);
    unsigned char *at = block;
    bool any_permuted = false;
    for (size_t i = 0; i < n && st == TB_OK; i++) {
        const tb_lora_pair *p = &pairs[i];
        char base[64], name[80];
        if (p->layer < 0 || p->layer >= cfg->n_layers || p->module >= TB_LORA_MODULE_COUNT) {
            st = tb_fail(err, TB_ERR_INVALID, "pair %zu: layer %lld / module %d is not in the model", i,
                         (long long)p->layer, (int)p->module);
            break;
        }
        int64_t in, out;
        tb_lora_module_shape(cfg, p->module, &in, &out);
        tb_lora_gguf_name(base, sizeof base, p->layer, p->module);
        /* lora_a: torch (R, in) is ggml ne {in, R}: the same bytes. */
        store(at, type, p->a, (size_t)(rank * in));
        snprintf(name, sizeof name, "%s.lora_a", base);
        int64_t ne_a[2] = {in, rank}, ne_b[2] = {rank, out};
        if ((st = tb_gguf_add_tensor(w, name, type, 2, ne_a, at, err)) != TB_OK)
            break;
        at += stored_size(type, (size_t)(rank * in));
        const float *b = p->b;
        bool rope = permute && (p->module == TB_LORA_Q || p->module == TB_LORA_K);
        if (rope) {
            free(scratch);
            if (!(scratch = malloc((size_t)(out * rank) * sizeof *scratch))) {
                st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
                break;
            }
            int64_t heads = p->module == TB_LORA_Q ? cfg->n_heads : cfg->n_kv_heads;
            tb_lora_gguf_permute_rows(scratch, p->b, heads, cfg->head_dim, rank);
            b = scratch;
            any_permuted = true;
        }
        store(at, type, b, (size_t)(rank * out));
        snprintf(name, sizeof name, "%s.lora_b", base);
        if ((st = tb_gguf_add_tensor(w, name, type, 2, ne_b, at, err)) != TB_OK)
            break;
        at += stored_size(type, (size_t)(rank * out));
    }
    if (st == TB_OK)
        st = tb_gguf_writer_write(w, path, err);
    if (st == TB_OK && info) {
        info->arch = arch;
        info->alpha = gguf_alpha;
        info->n_tensors = 2 * n;
        info->permuted = any_permuted;
    }
    free(scratch);
    free(block);
    tb_gguf_writer_free(w);
    return st;
}
