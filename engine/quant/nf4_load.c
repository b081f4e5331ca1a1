/* tunebench — NF4 weights from an open safetensors file (nf4_bnb.h, file level). */
#include <stdio.h>
#include <string.h>

#include "engine/quant/nf4_bnb.h"

/* name + suffix, or NULL when it does not fit (names are short; 512 is plenty). */
static const tb_st_tensor *companion(const tb_safetensors *st, const char *name, const char *suffix)
{
    char key[512];
    if (snprintf(key, sizeof key, "%s%s", name, suffix) >= (int)sizeof key)
        return NULL;
    return tb_safetensors_find(st, key);
}

bool tb_nf4_bnb_present(const tb_safetensors *st, const char *weight_name)
{
    return companion(st, weight_name, TB_NF4_BNB_STATE_SUFFIX) ||
           companion(st, weight_name, ".quant_state.bitsandbytes__fp4");
}

tb_status tb_nf4_load_bnb(tb_nf4 *out, const tb_safetensors *st, const char *weight_name, tb_error *err)
{
    memset(out, 0, sizeof *out);
    const char *file = tb_safetensors_path(st);
    if (companion(st, weight_name, ".quant_state.bitsandbytes__fp4"))
        return tb_error_set(err, TB_ERR_UNSUPPORTED, file, 0, weight_name,
                            "is an FP4 bitsandbytes weight; tunebench reads NF4 4-bit checkpoints only");
    tb_nf4_bnb_parts p = {
        .weight = tb_safetensors_find(st, weight_name),
        .absmax = companion(st, weight_name, ".absmax"),
        .quant_map = companion(st, weight_name, ".quant_map"),
        .nested_absmax = companion(st, weight_name, ".nested_absmax"),
        .nested_quant_map = companion(st, weight_name, ".nested_quant_map"),
        .quant_state = companion(st, weight_name, TB_NF4_BNB_STATE_SUFFIX),
    };
    if (!p.weight)
        return tb_error_set(err, TB_ERR_FORMAT, file, 0, weight_name, "is missing from the checkpoint");
    return tb_nf4_from_bnb(out, &p, file, err);
}

tb_status tb_nf4_load(tb_nf4 *out, const tb_safetensors *st, const char *weight_name, bool double_quant,
                      tb_error *err)
{
    memset(out, 0, sizeof *out);
    if (tb_nf4_bnb_present(st, weight_name))
        return tb_nf4_load_bnb(out, st, weight_name, err);
    const tb_st_tensor *t = tb_safetensors_find(st, weight_name);
    if (!t)
        return tb_error_set(err, TB_ERR_FORMAT, tb_safetensors_path(st), 0, weight_name,
                            "is missing from the checkpoint");
    return tb_nf4_from_tensor(out, t, double_quant, tb_safetensors_path(st), err);
}
