/* tunebench — LoRA target modules: names, shapes, the target-list syntax and PEFT's
 * tensor layout.
 *
 * The one vocabulary for "which linears get an adapter", shared by the calculator
 * (engine/plan), the trainer and the adapter reader/writer. PEFT key names and shapes:
 * ../shared/reference/FORMATS.md ("PEFT LoRA adapter"). */
#ifndef TB_LORA_TARGETS_H
#define TB_LORA_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "engine/core/dtype.h"
#include "engine/core/error.h"
#include "engine/io/safetensors.h"
#include "engine/model/config.h"

typedef enum tb_lora_module {
    TB_LORA_Q = 0,  /* self_attn.q_proj  (H*Dh, D)   */
    TB_LORA_K,      /* self_attn.k_proj  (Hkv*Dh, D) */
    TB_LORA_V,      /* self_attn.v_proj  (Hkv*Dh, D) */
    TB_LORA_O,      /* self_attn.o_proj  (D, H*Dh)   */
    TB_LORA_GATE,   /* mlp.gate_proj     (F, D)      */
    TB_LORA_UP,     /* mlp.up_proj       (F, D)      */
    TB_LORA_DOWN,   /* mlp.down_proj     (D, F)      */
    TB_LORA_MODULE_COUNT
} tb_lora_module;

/* A set of modules: bit (1u << module). */
typedef unsigned tb_lora_targets;
#define TB_LORA_TARGETS_QKVO 0x0Fu
#define TB_LORA_TARGETS_ALL 0x7Fu

const char *tb_lora_module_name(tb_lora_module m);   /* "q_proj" */
const char *tb_lora_module_short(tb_lora_module m);  /* "q" */
const char *tb_lora_module_block(tb_lora_module m);  /* "self_attn" or "mlp" */

/* in and out features of the module's linear (torch weight shape is [out, in]). */
void tb_lora_module_shape(const tb_llama_config *cfg, tb_lora_module m, int64_t *in, int64_t *out);

/* "q,k,v,o", "q_proj,v_proj", "all-linear" (also "all"); case and spaces ignored.
 * Errors name the bad entry in err->message (err->field is left to the caller). */
tb_status tb_lora_targets_parse(const char *text, tb_lora_targets *out, tb_error *err);
/* "q,k,v,o" or "all-linear"; "" for the empty set. */
void tb_lora_targets_format(tb_lora_targets t, char *buf, size_t size);
int tb_lora_targets_count(tb_lora_targets t);

/* Largest rank that still means something for these targets: min over targeted modules of
 * min(in, out). 0 for an empty set. */
int64_t tb_lora_max_rank(const tb_llama_config *cfg, tb_lora_targets t);

/* "base_model.model.model.layers.{layer}.{block}.{name}.lora_{A|B}.weight" */
void tb_lora_peft_key(char *buf, size_t size, int64_t layer, tb_lora_module m, char a_or_b);

/* PEFT's adapter_model.safetensors metadata: {"format": "pt"}. */
extern const char *const tb_peft_adapter_meta[2];

/* The tensors of a PEFT adapter: for every layer and targeted module, lora_A [R, in] and
 * lora_B [out, R] in `dtype`, data pointers NULL. The list owns its names; free with
 * tb_lora_layout_free (which takes a partial or zeroed layout). */
typedef struct tb_lora_layout {
    tb_st_write *tensors;
    size_t n;
    char *names;   /* one block holding every name */
} tb_lora_layout;

tb_status tb_lora_layout_build(tb_lora_layout *out, const tb_llama_config *cfg, tb_lora_targets t, int64_t rank,
                               tb_dtype dtype, tb_error *err);
void tb_lora_layout_free(tb_lora_layout *layout);

#endif
