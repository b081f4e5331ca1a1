/* tunebench — NF4 weights from safetensors: bitsandbytes 4-bit checkpoints and quantize-at-load.
 *
 * A pre-quantized Hugging Face "-bnb-4bit" checkpoint (transformers + bitsandbytes
 * Params4bit serialization, FORMATS.md "QLoRA NF4") stores each quantized linear P as
 *   P.weight                               U8 [(n+1)//2, 1]  packed codes, high nibble first
 *   P.weight.absmax                        U8 [blocks] with double quantization, F32 without
 *   P.weight.nested_absmax                 F32 [ceil(blocks/256)]        (double quant only)
 *   P.weight.nested_quant_map              F32 [256]                     (double quant only)
 *   P.weight.quant_map                     F32 [16]   the NF4 code
 *   P.weight.quant_state.bitsandbytes__nf4 U8 bytes of a JSON object: quant_type, blocksize,
 *       dtype, shape [out, in], and with double quant nested_blocksize, nested_dtype,
 *       nested_offset (bitsandbytes functional.py QuantState.as_dict(packed=True)).
 * Its weights load as stored (no re-quantization): codes and 8-bit absmax point into the
 * file's mapping, the small fp32 arrays are copied (they may sit unaligned in the file).
 *
 * The parts-level functions take tensor records and need no file; the file-level ones
 * (nf4_load.c) look the companions up by name in an open safetensors file or model
 * directory (engine/io). */
#ifndef TB_QUANT_NF4_BNB_H
#define TB_QUANT_NF4_BNB_H

#include <stdbool.h>

#include "engine/io/hf_model.h"
#include "engine/io/safetensors.h"
#include "engine/quant/nf4.h"

#define TB_NF4_BNB_STATE_SUFFIX ".quant_state.bitsandbytes__nf4"

/* The tensors of one bitsandbytes 4-bit weight; nested_* are NULL without double quant. */
typedef struct tb_nf4_bnb_parts {
    const tb_st_tensor *weight;           /* P.weight */
    const tb_st_tensor *absmax;           /* P.weight.absmax */
    const tb_st_tensor *quant_map;        /* P.weight.quant_map */
    const tb_st_tensor *nested_absmax;    /* P.weight.nested_absmax */
    const tb_st_tensor *nested_quant_map; /* P.weight.nested_quant_map */
    const tb_st_tensor *quant_state;      /* P.weight.quant_state.bitsandbytes__nf4 */
} tb_nf4_bnb_parts;

/* Build *out from the parts, checking every size, the JSON, the code map and that all
 * scales are finite. `file` names the checkpoint in errors (may be NULL); err->field names
 * the offending tensor. out->codes (and out->qabsmax) point into the tensors' data: keep
 * that memory alive until tb_nf4_free(out). */
tb_status tb_nf4_from_bnb(tb_nf4 *out, const tb_nf4_bnb_parts *parts, const char *file, tb_error *err);

/* Quantize-at-load: an F32, BF16 or F16 tensor of 1 or 2 dimensions to NF4 (nf4-dq with
 * double_quant). out owns its storage. */
tb_status tb_nf4_from_tensor(tb_nf4 *out, const tb_st_tensor *t, bool double_quant, const char *file,
                             tb_error *err);

/* --- file level (nf4_load.c) ------------------------------------------------------------ */

/* Where tensors come from: one safetensors file, or a (possibly sharded) model directory,
 * whose shards may split a weight from its companions. find returns NULL when absent and
 * sets *file (for messages) when found. */
typedef struct tb_nf4_source {
    const void *src;
    const tb_st_tensor *(*find)(const void *src, const char *name, const char **file);
    const char *path;  /* for "missing" messages */
} tb_nf4_source;

tb_nf4_source tb_nf4_source_safetensors(const tb_safetensors *st);
tb_nf4_source tb_nf4_source_hf_model(const tb_hf_model *m);

/* True when src holds `weight_name` in bitsandbytes 4-bit layout (its quant_state companion
 * for nf4 or fp4 is present). */
bool tb_nf4_bnb_present(tb_nf4_source src, const char *weight_name);

/* Load the bitsandbytes 4-bit weight `weight_name` ("model.layers.0.mlp.up_proj.weight").
 * Close the file/model only after tb_nf4_free(out). fp4 is refused (TB_ERR_UNSUPPORTED). */
tb_status tb_nf4_load_bnb(tb_nf4 *out, tb_nf4_source src, const char *weight_name, tb_error *err);

/* What the model loader calls for a target linear weight (tb_quant_is_target): a
 * bitsandbytes 4-bit tensor loads as stored; an F32/BF16/F16 tensor is quantized at load
 * (nf4-dq when double_quant). */
tb_status tb_nf4_load(tb_nf4 *out, tb_nf4_source src, const char *weight_name, bool double_quant, tb_error *err);

#endif
