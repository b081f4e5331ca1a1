/* tunebench — parameter counts with PEFT's conventions. */
#include "engine/plan/lora_params.h"

#include <stdio.h>
#include <string.h>

int64_t tb_plan_linear_params(const tb_llama_config *cfg)
{
    int64_t per_layer = 0;
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
        int64_t in, out;
        tb_lora_module_shape(cfg, (tb_lora_module)m, &in, &out);
        per_layer += in * out;
    }
    return cfg->n_layers * per_layer;
}

int64_t tb_plan_base_params(const tb_llama_config *cfg)
{
    int64_t D = cfg->dim;
    /* Two RMSNorm weights per layer; Qwen2's q/k/v carry a bias of their out width. */
    int64_t per_layer = 2 * D + (cfg->qkv_bias ? tb_llama_q_dim(cfg) + 2 * tb_llama_kv_dim(cfg) : 0);
    int64_t embed = cfg->vocab_size * D * (cfg->tie_embeddings ? 1 : 2);
    return embed + D + cfg->n_layers * per_layer + tb_plan_linear_params(cfg);
}

void tb_plan_lora_count(const tb_llama_config *cfg, tb_lora_targets targets, int64_t rank, tb_lora_count *out)
{
    memset(out, 0, sizeof *out);
    out->rank = rank;
    out->targets = targets & TB_LORA_TARGETS_ALL;
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
        tb_lora_module_shape(cfg, (tb_lora_module)m, &out->in[m], &out->out[m]);
        if ((out->targets >> m) & 1u) {
            out->per_layer[m] = rank * (out->in[m] + out->out[m]); /* A (R, in) + B (out, R) */
            out->total[m] = out->per_layer[m] * cfg->n_layers;
            out->trainable += out->total[m];
        }
    }
    out->base_params = tb_plan_base_params(cfg);
    out->all_params = out->base_params + out->trainable;
    out->trainable_percent = out->all_params > 0 ? 100.0 * (double)out->trainable / (double)out->all_params : 0;
    out->percent_of_full = out->base_params > 0 ? 100.0 * (double)out->trainable / (double)out->base_params : 0;
}

void tb_plan_format_thousands(int64_t v, char *buf, size_t size)
{
    char digits[32];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = snprintf(digits, sizeof digits, "%llu", u);
    char tmp[48];
    size_t k = 0;
    if (v < 0)
        tmp[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            tmp[k++] = ',';
        tmp[k++] = digits[i];
    }
    tmp[k] = '\0';
    snprintf(buf, size, "%s", tmp);
}

void tb_plan_peft_line(int64_t trainable, int64_t all_params, char *buf, size_t size)
{
    char t[48], a[48];
    tb_plan_format_thousands(trainable, t, sizeof t);
    tb_plan_format_thousands(all_params, a, sizeof a);
    /* Python's :.4f and C's %.4f both round the exact binary value half-to-even. */
    double pct = all_params > 0 ? 100.0 * (double)trainable / (double)all_params : 0.0;
    snprintf(buf, size, "trainable params: %s || all params: %s || trainable%%: %.4f", t, a, pct);
}
