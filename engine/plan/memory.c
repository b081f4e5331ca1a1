/* tunebench — training memory estimates. */
#include "engine/plan/memory.h"

#include <string.h>

#include "engine/plan/lora_params.h"

#define NF4_BLOCK 64       /* values per absmax */
#define NF4_DQ_BLOCK 256   /* absmax values per fp32 scale under double quantization */
#define ADAM8_BLOCK 256    /* bitsandbytes blockwise 8-bit optimizer block */

static uint64_t ceil_div(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

uint64_t tb_plan_nf4_bytes(int64_t n, bool double_quant)
{
    if (n <= 0)
        return 0;
    uint64_t blocks = ceil_div((uint64_t)n, NF4_BLOCK);
    uint64_t codes = ceil_div((uint64_t)n, 2);
    if (!double_quant)
        return codes + 4 * blocks;
    return codes + blocks + 4 * ceil_div(blocks, NF4_DQ_BLOCK) + 4;
}

double tb_plan_nf4_bits(bool double_quant)
{
    return double_quant ? 4.0 + 8.0 / NF4_BLOCK + 32.0 / (NF4_BLOCK * NF4_DQ_BLOCK) : 4.0 + 32.0 / NF4_BLOCK;
}

uint64_t tb_plan_optimizer_bytes(int64_t n, tb_optim_kind optim)
{
    if (n <= 0)
        return 0;
    if (optim == TB_OPTIM_ADAMW_8BIT)
        return 2 * ((uint64_t)n + 4 * ceil_div((uint64_t)n, ADAM8_BLOCK));
    return 2 * 4 * (uint64_t)n;
}

/* Weights of the frozen base with the seven linears stored as NF4. */
static void qlora_weights(const tb_llama_config *cfg, bool dq, size_t base_elem, tb_mem_estimate *out)
{
    uint64_t q = 0;
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
        int64_t in, o;
        tb_lora_module_shape(cfg, (tb_lora_module)m, &in, &o);
        q += tb_plan_nf4_bytes(in * o, dq) * (uint64_t)cfg->n_layers;
    }
    int64_t linear = tb_plan_linear_params(cfg);
    uint64_t rest = (uint64_t)(tb_plan_base_params(cfg) - linear) * base_elem;
    out->quantized_bytes = q;
    out->quantized_bits = linear > 0 ? 8.0 * (double)q / (double)linear : 0;
    out->part[TB_PART_WEIGHTS] = q + rest;
}

void tb_plan_memory(const tb_llama_config *cfg, tb_train_mode mode, const tb_mem_options *opt, tb_mem_estimate *out)
{
    memset(out, 0, sizeof *out);
    out->mode = mode;
    size_t base_elem = tb_dtype_size(opt->base_dtype);
    if (base_elem == 0)
        base_elem = 4;
    int64_t base = tb_plan_base_params(cfg);
    tb_act_shape as = {.batch = opt->batch, .seq = opt->seq, .checkpointing = opt->checkpointing};
    if (mode == TB_TRAIN_FULL) {
        out->trainable_params = base;
        out->part[TB_PART_WEIGHTS] = 4 * (uint64_t)base;
        out->part[TB_PART_GRADS] = 4 * (uint64_t)base;
        out->part[TB_PART_OPTIMIZER] = tb_plan_optimizer_bytes(base, opt->optim);
    } else {
        tb_lora_count c;
        tb_plan_lora_count(cfg, opt->targets, opt->rank, &c);
        out->trainable_params = c.trainable;
        if (mode == TB_TRAIN_LORA)
            out->part[TB_PART_WEIGHTS] = (uint64_t)base * base_elem;
        else
            qlora_weights(cfg, mode == TB_TRAIN_QLORA_DQ, base_elem, out);
        out->part[TB_PART_LORA] = 4 * (uint64_t)c.trainable;
        out->part[TB_PART_GRADS] = 4 * (uint64_t)c.trainable;
        out->part[TB_PART_OPTIMIZER] = tb_plan_optimizer_bytes(c.trainable, opt->optim);
        as.rank = opt->rank;
        as.n_targets = tb_lora_targets_count(opt->targets);
    }
    tb_act_estimate(cfg, &as, &out->act);
    out->part[TB_PART_ACTIVATIONS] = out->act.total;
    for (int p = 0; p < TB_PART_COUNT; p++)
        out->total += out->part[p];
}

tb_mem_category tb_mem_part_category(tb_mem_part p)
{
    static const tb_mem_category map[TB_PART_COUNT] = {TB_MEM_WEIGHTS, TB_MEM_ADAPTER, TB_MEM_GRADS, TB_MEM_OPTIMIZER,
                                                       TB_MEM_ACTIVATIONS};
    return p < TB_PART_COUNT ? map[p] : TB_MEM_OTHER;
}

const char *tb_mem_part_name(tb_mem_part p)
{
    static const char *const names[TB_PART_COUNT] = {"weights", "lora", "gradients", "optimizer", "activations"};
    return p < TB_PART_COUNT ? names[p] : "?";
}

const char *tb_mem_part_label(tb_mem_part p)
{
    static const char *const labels[TB_PART_COUNT] = {"Weights", "LoRA A/B", "Gradients", "Optimizer",
                                                      "Activations"};
    return p < TB_PART_COUNT ? labels[p] : "?";
}

const char *tb_train_mode_name(tb_train_mode m)
{
    static const char *const names[TB_TRAIN_MODE_COUNT] = {"full", "lora", "qlora", "qlora_dq"};
    return m < TB_TRAIN_MODE_COUNT ? names[m] : "?";
}

const char *tb_train_mode_label(tb_train_mode m)
{
    static const char *const labels[TB_TRAIN_MODE_COUNT] = {"Full FT", "LoRA", "QLoRA nf4", "QLoRA nf4+dq"};
    return m < TB_TRAIN_MODE_COUNT ? labels[m] : "?";
}

int tb_plan_memory_assumptions(const tb_mem_options *opt, const char **out, int max)
{
    static const char *const base_dtype[] = {
        "LoRA and QLoRA keep the frozen base in its stored dtype (f32) and convert per matmul tile",
        "LoRA and QLoRA keep the frozen base in its stored dtype (bf16) and convert per matmul tile",
        "LoRA and QLoRA keep the frozen base in its stored dtype (f16) and convert per matmul tile",
    };
    int n = 0;
#define ADD(s) \
    do {       \
        if (n < max) \
            out[n++] = (s); \
    } while (0)
    ADD("predicted for tunebench's own CPU/Vulkan training step (DESIGN.md section 3), not for a generic GPU "
        "framework; checked against the engine's measured peak on SmolLM2-135M's shape: LoRA and QLoRA within "
        "0.4% of what it allocated, peak RSS within 1.3% (BENCHMARKS.md)");
    ADD(tb_act_model_summary());
    ADD("full fine-tuning: f32 master weights, f32 gradients for every weight, AdamW moments");
    ADD(opt->base_dtype == TB_DTYPE_F32 ? base_dtype[0] : opt->base_dtype == TB_DTYPE_F16 ? base_dtype[2] : base_dtype[1]);
    ADD("LoRA A/B, their gradients and AdamW moments are f32");
    ADD(opt->optim == TB_OPTIM_ADAMW_8BIT
            ? "8-bit AdamW: 1 byte per moment plus an fp32 scale per 256 values (bitsandbytes blockwise); the "
              "engine itself trains with f32 moments"
            : "AdamW: two f32 moments per trainable parameter");
    ADD("QLoRA: q,k,v,o,gate,up,down in NF4, 64-value blocks with an fp32 absmax = 4.5 bits/weight; double "
        "quantization: 8-bit absmax plus an fp32 scale per 256 blocks = 4.127 bits/weight; embeddings, norms and "
        "lm_head stay in the stored dtype");
    ADD("not counted: process and library overhead (code, OpenBLAS and Vulkan buffers, tokenizer, dataset) and "
        "the CPU backend's per-thread working tiles (about 2 MB per thread: a widened weight panel, or 2x64xT "
        "floats in attention backward)");
#undef ADD
    return n;
}
