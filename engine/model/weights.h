/* tunebench — the Llama weight table on the host: every tensor of the model bound by its
 * Hugging Face name, shape-checked, pointing into the mmap'd safetensors (zero-copy, in
 * the stored dtype: F32, BF16 or F16).
 *
 * Dimension vocabulary (STYLE.md): D model dim, F ffn dim, L layers, H heads, Hkv kv heads,
 * Dh head dim, V vocab. Matrices are torch [out, in] row-major. */
#ifndef TB_MODEL_WEIGHTS_H
#define TB_MODEL_WEIGHTS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/dtype.h"
#include "engine/core/error.h"
#include "engine/io/hf_model.h"

typedef struct tb_host_tensor {
    const void *data;      /* into the mapping; NULL when the tensor is absent (optional ones)
                              or stored as bitsandbytes 4-bit (bnb4) */
    tb_dtype dtype;        /* F32, BF16 or F16 */
    bool bnb4;             /* a -bnb-4bit weight: load it with engine/quant's tb_nf4_load */
    int64_t rows, cols;    /* [out, in]; vectors: rows 1 */
    const char *name;      /* HF name (owned by the file object) */
    const char *file;      /* safetensors path, for messages */
} tb_host_tensor;

typedef struct tb_llama_host_layer {
    tb_host_tensor attn_norm;                 /* [D] */
    tb_host_tensor wq, wk, wv, wo;            /* [H*Dh, D] [Hkv*Dh, D] [Hkv*Dh, D] [D, H*Dh] */
    tb_host_tensor bq, bk, bv;                /* [H*Dh] [Hkv*Dh] [Hkv*Dh], data NULL without qkv bias */
    tb_host_tensor mlp_norm;                  /* [D] */
    tb_host_tensor wgate, wup, wdown;         /* [F, D] [F, D] [D, F] */
} tb_llama_host_layer;

typedef struct tb_llama_host_weights {
    tb_host_tensor embed;       /* [V, D] */
    tb_host_tensor final_norm;  /* [D] */
    tb_host_tensor lm_head;     /* [V, D]; equals embed when tie_word_embeddings */
    tb_llama_host_layer *layers; /* (L) malloc'd; tb_llama_host_weights_free releases it */
    int64_t n_layers;
} tb_llama_host_weights;

/* Bind every tensor the config calls for. Missing tensors, wrong shapes and unsupported
 * dtypes are refused with the file and tensor named. Extra tensors are ignored. A linear
 * stored in bitsandbytes 4-bit layout (a -bnb-4bit checkpoint) is bound with bnb4 set and
 * no data; its shape is checked when it is loaded (engine/model/llama.c). */
tb_status tb_llama_host_weights_bind(tb_llama_host_weights *w, const tb_hf_model *m, tb_error *err);
void tb_llama_host_weights_free(tb_llama_host_weights *w);

#endif
