/* tunebench — a run's plan: the data verdict, the pipeline options, steps and memory. */
#include "engine/train/plan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "validators/validate.h"

#define SHOWN_ERRORS 3

tb_status tb_train_validate_data(const tb_train_options *o, const tb_field_map *map, atomic_bool *cancel,
                                 tb_data_verdict *out, tb_error *err)
{
    memset(out, 0, sizeof *out);
    tb_validate_opts vo;
    tb_validate_opts_init(&vo);
    vo.path = o->data;
    vo.eval_path = o->eval[0] ? o->eval : NULL;
    vo.format = o->format;
    vo.map = map;
    vo.template_kind = o->template_kind;
    vo.max_findings = SHOWN_ERRORS;
    vo.cancel = cancel;
    tb_report rep;
    tb_status st = tb_validate(&vo, &rep, err);
    if (st == TB_OK) {
        out->rows = rep.rows;
        out->eval_rows = rep.eval_rows;
        out->errors = rep.by_severity[TB_SEV_ERROR];
        out->warnings = rep.by_severity[TB_SEV_WARNING];
    }
    long errors = st == TB_OK ? tb_report_errors(&rep) : 0;
    if (st == TB_OK && errors > 0) {
        char list[640] = "";
        size_t used = 0;
        int shown = 0;
        for (long i = 0; i < rep.n_findings && shown < SHOWN_ERRORS; i++) {
            const tb_finding *f = &rep.findings[i];
            if (f->severity != TB_SEV_ERROR)
                continue;
            int w = snprintf(list + used, sizeof list - used, "%s line %ld: %s: %s", shown ? ";" : "", f->line,
                             tb_check_name(f->check), f->message);
            if (w < 0 || (size_t)w >= sizeof list - used)
                break;
            used += (size_t)w;
            shown++;
        }
        st = tb_error_set(err, TB_ERR_INVALID, o->data, 0, "data",
                          "the validator found %ld error%s:%s (see tunebench validate %s; fix them, or pass "
                          "--skip-validation to train anyway)",
                          errors, errors == 1 ? "" : "s", list, o->data);
    }
    tb_report_free(&rep);
    return st;
}

tb_data_opts tb_train_data_opts(const tb_train_options *o, const tb_llama_config *cfg, const tb_field_map *map)
{
    return (tb_data_opts){
        .path = o->data,
        .eval_path = o->eval[0] ? o->eval : NULL,
        .format = o->format,
        .map = map,
        .template_kind = o->template_kind,
        .train_on_inputs = o->train_on_inputs,
        .max_len = tb_train_options_max_len(o, cfg),
        .eval_split = o->eval_split,
        .seed = o->seed,
        .packed = o->packed,
    };
}

void tb_train_plan_make(const tb_train_options *o, const tb_llama_config *cfg, tb_dtype base_dtype, int64_t n_train,
                        int64_t longest, tb_train_plan *out)
{
    memset(out, 0, sizeof *out);
    out->batches_per_epoch = (n_train + o->batch - 1) / o->batch;
    out->steps_per_epoch = (out->batches_per_epoch + o->grad_accum - 1) / o->grad_accum;
    out->total_steps = o->max_steps > 0 ? o->max_steps : (int64_t)ceil(o->epochs * (double)out->steps_per_epoch);
    if (out->total_steps < 1)
        out->total_steps = 1;
    out->warmup = tb_schedule_warmup(o->warmup_steps, o->warmup_ratio, out->total_steps);
    out->seq = longest - 1;
    tb_mem_options mo = {.batch = o->batch, .seq = out->seq, .checkpointing = o->checkpointing,
                         .base_dtype = base_dtype, .optim = TB_OPTIM_ADAMW, .rank = o->rank, .targets = o->targets};
    tb_plan_memory(cfg, o->mode, &mo, &out->mem);
}
