/* tunebench — the LoRA calculator, one call. */
#include "engine/plan/calc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const tb_dtype tb_calc_dtypes[TB_CALC_DTYPE_COUNT] = {TB_DTYPE_F32, TB_DTYPE_BF16, TB_DTYPE_F16};

void tb_calc_input_defaults(tb_calc_input *in)
{
    memset(in, 0, sizeof *in);
    in->rank = 16;
    in->alpha = 32;
    in->targets = TB_LORA_TARGETS_QKVO;
    in->adapter_dtype = TB_DTYPE_BF16;
    static const int64_t sweep[] = {4, 8, 16, 32, 64};
    for (int i = 0; i < 5; i++)
        in->ranks[i] = sweep[i];
    in->n_ranks = 5;
    in->mem.batch = 4;
    in->mem.seq = 512;
    in->mem.base_dtype = TB_DTYPE_BF16;
    in->mem.optim = TB_OPTIM_ADAMW;
}

tb_status tb_calc_parse_ranks(const char *text, int64_t *ranks, int *n, tb_error *err)
{
    *n = 0;
    const char *p = text ? text : "";
    for (;;) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (end == p || errno || v < 1 || v > 65536 || (*end != ',' && *end != '\0'))
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "ranks",
                                "'%s' is not a comma-separated list of ranks between 1 and 65536", text ? text : "");
        if (*n == TB_CALC_MAX_RANKS)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "ranks", "at most %d ranks", TB_CALC_MAX_RANKS);
        ranks[(*n)++] = v;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    return TB_OK;
}

static tb_status check_input(const tb_calc_input *in, const char *source, tb_error *err)
{
    tb_status st = tb_llama_config_validate(&in->cfg, source, err);
    if (st != TB_OK)
        return st;
    if ((in->targets & TB_LORA_TARGETS_ALL) == 0)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "targets", "choose at least one target module");
    int64_t max_rank = tb_lora_max_rank(&in->cfg, in->targets);
    if (in->rank < 1 || in->rank > max_rank)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "rank",
                            "must be between 1 and %lld (the smallest side of a targeted matrix)", (long long)max_rank);
    if (in->n_ranks < 0 || in->n_ranks > TB_CALC_MAX_RANKS)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "ranks", "at most %d ranks", TB_CALC_MAX_RANKS);
    for (int i = 0; i < in->n_ranks; i++)
        if (in->ranks[i] < 1)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "ranks", "ranks must be positive");
    if (in->mem.batch < 1 || in->mem.batch > 65536)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "batch", "must be between 1 and 65536");
    if (in->mem.seq < 1 || in->mem.seq > 16777216)
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "seq", "must be between 1 and 16777216");
    if (tb_dtype_size(in->adapter_dtype) == 0 || (in->adapter_dtype != TB_DTYPE_F32 &&
                                                 in->adapter_dtype != TB_DTYPE_BF16 && in->adapter_dtype != TB_DTYPE_F16))
        return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "dtype", "adapter dtype must be f32, bf16 or f16");
    return TB_OK;
}

static tb_status add_row(const tb_calc_input *in, tb_calc_result *out, int64_t rank, tb_error *err)
{
    for (int i = 0; i < out->n_rows; i++)
        if (out->rows[i].rank == rank)
            return TB_OK;
    tb_calc_rank_row *row = &out->rows[out->n_rows++];
    memset(row, 0, sizeof *row);
    row->rank = rank;
    tb_lora_count c;
    tb_plan_lora_count(&in->cfg, in->targets, rank, &c);
    row->trainable = c.trainable;
    row->percent_of_full = c.percent_of_full;
    tb_status st = tb_plan_adapter_bytes(&in->cfg, in->targets, rank, in->adapter_dtype, &row->adapter_bytes, err);
    if (st != TB_OK)
        return st;
    tb_mem_options mo = in->mem;
    mo.rank = rank;
    mo.targets = in->targets;
    tb_mem_estimate lora;
    tb_plan_memory(&in->cfg, TB_TRAIN_LORA, &mo, &lora);
    row->lora_total = lora.total;
    row->savings_vs_full = (int64_t)out->mem[TB_TRAIN_FULL].total - (int64_t)lora.total;
    row->chosen = rank == in->rank;
    return TB_OK;
}

static int cmp_rows(const void *a, const void *b)
{
    int64_t x = ((const tb_calc_rank_row *)a)->rank, y = ((const tb_calc_rank_row *)b)->rank;
    return (x > y) - (x < y);
}

tb_status tb_calc_run(const tb_calc_input *in, tb_calc_result *out, const char *source, tb_error *err)
{
    memset(out, 0, sizeof *out);
    tb_status st = check_input(in, source, err);
    if (st != TB_OK)
        return st;
    tb_plan_lora_count(&in->cfg, in->targets, in->rank, &out->count);
    tb_plan_peft_line(out->count.trainable, out->count.all_params, out->peft_line, sizeof out->peft_line);
    for (int d = 0; d < TB_CALC_DTYPE_COUNT; d++)
        if ((st = tb_plan_adapter_bytes(&in->cfg, in->targets, in->rank, tb_calc_dtypes[d], &out->adapter_bytes[d],
                                        err)) != TB_OK)
            return st;
    tb_mem_options mo = in->mem;
    mo.rank = in->rank;
    mo.targets = in->targets;
    for (int m = 0; m < TB_TRAIN_MODE_COUNT; m++)
        tb_plan_memory(&in->cfg, (tb_train_mode)m, &mo, &out->mem[m]);
    out->has_budget = in->has_budget;
    if (in->has_budget &&
        (st = tb_plan_max_rank_for_budget(&in->cfg, in->targets, in->adapter_dtype, in->budget_bytes, &out->budget,
                                          err)) != TB_OK)
        return st;
    /* The sweep, the chosen rank and the budget's best rank, each once, in rank order. */
    for (int i = 0; i < in->n_ranks; i++)
        if ((st = add_row(in, out, in->ranks[i], err)) != TB_OK)
            return st;
    if ((st = add_row(in, out, in->rank, err)) != TB_OK)
        return st;
    if (out->has_budget && out->budget.rank > 0 && (st = add_row(in, out, out->budget.rank, err)) != TB_OK)
        return st;
    qsort(out->rows, (size_t)out->n_rows, sizeof out->rows[0], cmp_rows);
    for (int i = 0; i < out->n_rows; i++)
        out->rows[i].budget_best = out->has_budget && out->rows[i].rank == out->budget.rank;
    out->n_assumptions = tb_plan_memory_assumptions(&mo, out->assumptions, TB_CALC_MAX_ASSUMPTIONS);
    return TB_OK;
}
