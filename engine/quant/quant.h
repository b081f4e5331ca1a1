/* tunebench — which base weights QLoRA quantizes, and how (`--quant none|nf4|nf4-dq`).
 *
 * QLoRA quantizes the linear weights of every layer (q, k, v, o, gate, up, down); the
 * embeddings, the norms and lm_head stay in their stored precision (FORMATS.md, "QLoRA NF4";
 * the QLoRA paper and transformers' bitsandbytes integration skip lm_head). */
#ifndef TB_QUANT_QUANT_H
#define TB_QUANT_QUANT_H

#include <stdbool.h>

typedef enum tb_quant_mode {
    TB_QUANT_NONE = 0, /* base weights as stored (f32/bf16/f16) */
    TB_QUANT_NF4,      /* NF4 codes + fp32 absmax per 64 values: 4.5 bits per weight */
    TB_QUANT_NF4_DQ,   /* NF4 + double-quantized absmax: about 4.127 bits per weight */
} tb_quant_mode;

/* "none", "nf4", "nf4-dq" (also "nf4dq"); false for anything else. */
bool tb_quant_mode_parse(const char *s, tb_quant_mode *out);
const char *tb_quant_mode_name(tb_quant_mode m);

/* True for the weight of a quantized linear: "...self_attn.{q,k,v,o}_proj.weight" or
 * "...mlp.{gate,up,down}_proj.weight" (not biases, norms, embeddings, lm_head). */
bool tb_quant_is_target(const char *tensor_name);

#endif
