/* tunebench — merge with its logits check, GGUF export (engine/eval/ship.h). */
#include "engine/eval/ship.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eval/run.h"
#include "engine/lora/adapter_set.h"

/* The check: the same tokens through base + lo and through the merged model. */
static tb_status measure(tb_llama *base, tb_lora *lo, const char *out, tb_backend *be, tb_ship_merge_result *res,
                         tb_error *err)
{
    int64_t T = base->cfg.max_pos < 64 ? base->cfg.max_pos : 64, V = base->cfg.vocab_size;
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    float *la = malloc((size_t)(T * V) * sizeof *la), *lb = malloc((size_t)(T * V) * sizeof *lb);
    tb_llama *merged = NULL;
    tb_status st = ids && la && lb ? TB_OK : tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int64_t t = 0; ids && t < T; t++)
        ids[t] = (int32_t)((t * 7919 + 13) % V); /* a fixed spread of token ids */
    if (st == TB_OK) {
        tb_lora *was = base->lora;
        base->lora = lo;
        st = tb_eval_logits(base, ids, T, 0, T, la, err);
        base->lora = was;
    }
    if (st == TB_OK)
        st = tb_llama_load(&merged, out, be, err);
    if (st == TB_OK)
        st = tb_eval_logits(merged, ids, T, 0, T, lb, err);
    if (st == TB_OK) {
        res->max_diff = 0;
        for (int64_t i = 0; i < T * V; i++)
            res->max_diff = fmax(res->max_diff, fabs((double)la[i] - lb[i]));
        res->measured = true;
        res->positions = T, res->vocab = V;
    }
    tb_llama_free(merged);
    free(ids), free(la), free(lb);
    return st;
}

tb_status tb_ship_merge(const char *model_dir, tb_lora *lo, tb_llama *base, tb_backend *be, tb_dtype dtype,
                        const char *out, tb_ship_merge_result *res, tb_error *err)
{
    memset(res, 0, sizeof *res);
    float *mem;
    tb_lora_pair *pairs;
    size_t n;
    tb_status st = tb_lora_host_pairs(lo, &mem, &pairs, &n, err);
    if (st != TB_OK)
        return st;
    st = tb_lora_merge_dir(model_dir, pairs, n, lo->opt.rank, lo->scale, dtype, out, &res->info, err);
    free(mem), free(pairs);
    if (st != TB_OK)
        return st;
    tb_llama *loaded = NULL;
    tb_error cerr;
    tb_error_clear(&cerr);
    tb_status cst = base ? TB_OK : tb_llama_load(&loaded, model_dir, be, &cerr);
    if (cst == TB_OK)
        cst = measure(base ? base : loaded, lo, out, be, res, &cerr);
    if (cst != TB_OK)
        tb_error_format(&cerr, res->why_not, sizeof res->why_not);
    tb_llama_free(loaded);
    return TB_OK;
}

tb_status tb_ship_export(const tb_llama_config *cfg, tb_lora *lo, uint32_t ggml_type, const char *path,
                         tb_lora_gguf_info *info, tb_error *err)
{
    float *mem;
    tb_lora_pair *pairs;
    size_t n;
    tb_status st = tb_lora_host_pairs(lo, &mem, &pairs, &n, err);
    if (st != TB_OK)
        return st;
    st = tb_lora_gguf_write(cfg, lo->opt.rank, lo->opt.alpha, lo->opt.rslora, pairs, n, ggml_type, path, info, err);
    free(mem), free(pairs);
    return st;
}
