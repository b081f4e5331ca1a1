/* tunebench — NF4 weights from an open safetensors file or model directory (nf4_bnb.h). */
#include <stdio.h>
#include <string.h>

#include "engine/quant/nf4_bnb.h"

static const tb_st_tensor *find_st(const void *src, const char *name, const char **file)
{
    const tb_st_tensor *t = tb_safetensors_find(src, name);
    if (t && file)
        *file = tb_safetensors_path(src);
    return t;
}

static const tb_st_tensor *find_hf(const void *src, const char *name, const char **file)
{
    return tb_hf_model_find(src, name, file);
}

tb_nf4_source tb_nf4_source_safetensors(const tb_safetensors *st)
{
    return (tb_nf4_source){st, find_st, tb_safetensors_path(st)};
}

tb_nf4_source tb_nf4_source_hf_model(const tb_hf_model *m) { return (tb_nf4_source){m, find_hf, tb_hf_model_dir(m)}; }

/* name + suffix; NULL when absent or when the name does not fit (names are short). */
static const tb_st_tensor *companion(tb_nf4_source s, const char *name, const char *suffix, const char **file)
{
    char key[512];
    if (snprintf(key, sizeof key, "%s%s", name, suffix) >= (int)sizeof key)
        return NULL;
    return s.find(s.src, key, file);
}

bool tb_nf4_bnb_present(tb_nf4_source s, const char *weight_name)
{
    return companion(s, weight_name, TB_NF4_BNB_STATE_SUFFIX, NULL) ||
           companion(s, weight_name, ".quant_state.bitsandbytes__fp4", NULL);
}

tb_status tb_nf4_load_bnb(tb_nf4 *out, tb_nf4_source s, const char *weight_name, tb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *file = s.path;
    if (companion(s, weight_name, ".quant_state.bitsandbytes__fp4", &file))
        return tb_error_set(err, TB_ERR_UNSUPPORTED, file, 0, weight_name,
                            "is an FP4 bitsandbytes weight; tunebench reads NF4 4-bit checkpoints only");
    tb_nf4_bnb_parts p = {.weight = s.find(s.src, weight_name, &file)};
    if (!p.weight)
        return tb_error_set(err, TB_ERR_FORMAT, s.path, 0, weight_name, "is missing from the checkpoint");
    /* Errors name the weight's file; a companion may sit in another shard. */
    p.absmax = companion(s, weight_name, ".absmax", NULL);
    p.quant_map = companion(s, weight_name, ".quant_map", NULL);
    p.nested_absmax = companion(s, weight_name, ".nested_absmax", NULL);
    p.nested_quant_map = companion(s, weight_name, ".nested_quant_map", NULL);
    p.quant_state = companion(s, weight_name, TB_NF4_BNB_STATE_SUFFIX, NULL);
    return tb_nf4_from_bnb(out, &p, file, err);
}

tb_status tb_nf4_load(tb_nf4 *out, tb_nf4_source s, const char *weight_name, bool double_quant, tb_error *err)
{
    memset(out, 0, sizeof *out);
    if (tb_nf4_bnb_present(s, weight_name))
        return tb_nf4_load_bnb(out, s, weight_name, err);
    const char *file = s.path;
    const tb_st_tensor *t = s.find(s.src, weight_name, &file);
    if (!t)
        return tb_error_set(err, TB_ERR_FORMAT, s.path, 0, weight_name, "is missing from the checkpoint");
    return tb_nf4_from_tensor(out, t, double_quant, file, err);
}
