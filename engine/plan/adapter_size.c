/* tunebench — PEFT adapter file sizes and rank-for-budget. */
#include "engine/plan/adapter_size.h"

#include <string.h>

#include "engine/io/safetensors.h"

tb_status tb_plan_adapter_bytes(const tb_llama_config *cfg, tb_lora_targets targets, int64_t rank, tb_dtype dtype,
                                uint64_t *bytes, tb_error *err)
{
    *bytes = 0;
    if (dtype != TB_DTYPE_F32 && dtype != TB_DTYPE_BF16 && dtype != TB_DTYPE_F16)
        return tb_fail(err, TB_ERR_INVALID, "adapter dtype must be f32, bf16 or f16");
    if ((targets & TB_LORA_TARGETS_ALL) == 0)
        return tb_fail(err, TB_ERR_INVALID, "no target modules chosen");
    tb_lora_layout layout;
    tb_status st = tb_lora_layout_build(&layout, cfg, targets, rank, dtype, err);
    if (st != TB_OK)
        return st;
    *bytes = tb_safetensors_file_size(layout.tensors, layout.n, tb_peft_adapter_meta, 1);
    tb_lora_layout_free(&layout);
    if (*bytes == 0)
        return tb_fail(err, TB_ERR_NOMEM, "could not lay out the adapter header (out of memory)");
    return TB_OK;
}

tb_status tb_plan_max_rank_for_budget(const tb_llama_config *cfg, tb_lora_targets targets, tb_dtype dtype,
                                      uint64_t budget_bytes, tb_budget_result *out, tb_error *err)
{
    memset(out, 0, sizeof *out);
    out->budget_bytes = budget_bytes;
    out->max_rank = tb_lora_max_rank(cfg, targets);
    if (out->max_rank <= 0)
        return tb_fail(err, TB_ERR_INVALID, "no target modules chosen");
    tb_status st = tb_plan_adapter_bytes(cfg, targets, 1, dtype, &out->rank1_bytes, err);
    if (st != TB_OK || out->rank1_bytes > budget_bytes)
        return st;
    uint64_t top;
    if ((st = tb_plan_adapter_bytes(cfg, targets, out->max_rank, dtype, &top, err)) != TB_OK)
        return st;
    if (top <= budget_bytes) {
        /* Everything up to min(in, out) fits; say whether the budget would allow more. */
        uint64_t beyond;
        out->rank = out->max_rank;
        out->bytes = top;
        if ((st = tb_plan_adapter_bytes(cfg, targets, out->max_rank + 1, dtype, &beyond, err)) != TB_OK)
            return st;
        out->capped = beyond <= budget_bytes;
        return TB_OK;
    }
    /* Invariant: size(lo) <= budget < size(hi). */
    int64_t lo = 1, hi = out->max_rank;
    uint64_t lo_bytes = out->rank1_bytes;
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        uint64_t b;
        if ((st = tb_plan_adapter_bytes(cfg, targets, mid, dtype, &b, err)) != TB_OK)
            return st;
        if (b <= budget_bytes)
            lo = mid, lo_bytes = b;
        else
            hi = mid;
    }
    out->rank = lo;
    out->bytes = lo_bytes;
    return TB_OK;
}
