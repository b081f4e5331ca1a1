/* tunebench — quantization modes and target weights (quant.h). */
#include "engine/quant/quant.h"

#include <string.h>

bool tb_quant_mode_parse(const char *s, tb_quant_mode *out)
{
    static const struct { const char *name; tb_quant_mode mode; } modes[] = {
        {"none", TB_QUANT_NONE}, {"nf4", TB_QUANT_NF4}, {"nf4-dq", TB_QUANT_NF4_DQ}, {"nf4dq", TB_QUANT_NF4_DQ},
    };
    for (size_t i = 0; s && i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(s, modes[i].name) == 0)
            return (*out = modes[i].mode), true;
    return false;
}

const char *tb_quant_mode_name(tb_quant_mode m)
{
    switch (m) {
    case TB_QUANT_NONE: return "none";
    case TB_QUANT_NF4: return "nf4";
    case TB_QUANT_NF4_DQ: return "nf4-dq";
    }
    return "?";
}

bool tb_quant_is_target(const char *name)
{
    static const char *const suffixes[] = {
        ".self_attn.q_proj.weight", ".self_attn.k_proj.weight", ".self_attn.v_proj.weight",
        ".self_attn.o_proj.weight", ".mlp.gate_proj.weight",    ".mlp.up_proj.weight",
        ".mlp.down_proj.weight",
    };
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len > sl && strcmp(name + len - sl, suffixes[i]) == 0)
            return true;
    }
    return false;
}
