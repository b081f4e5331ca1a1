/* tunebench — several LoRA adapters on one resident base model, switched without reloading
 * the base (multi-tenant serving, the tutorial's PeftModel.load_adapter / set_adapter).
 *
 * Each adapter's A and B live in their own backend buffers next to the base weights; the
 * active one is the model's attached adapter (m->lora), so switching is a pointer swap:
 * no weight is copied, merged or re-read (BENCHMARKS.md measures it). Activations are sized
 * per forward call for the attached adapter's rank, so adapters of different ranks mix. */
#ifndef TB_LORA_ADAPTER_SET_H
#define TB_LORA_ADAPTER_SET_H

#include <stddef.h>

#include "engine/core/error.h"
#include "engine/lora/lora.h"
#include "engine/lora/pair.h"
#include "engine/model/llama.h"

typedef struct tb_adapter_slot {
    char path[4096];
    char name[160];     /* short name for tables: the folder, or "<run>/adapter" */
    tb_lora *lo;
} tb_adapter_slot;

typedef struct tb_adapter_set {
    tb_llama *m;        /* the resident base (not owned) */
    tb_adapter_slot *v;
    int n, cap;
    int active;         /* -1: the base alone */
} tb_adapter_set;

void tb_adapter_set_init(tb_adapter_set *s, tb_llama *m);
/* Detaches the active adapter from the model and frees every adapter. */
void tb_adapter_set_free(tb_adapter_set *s);

/* Load a PEFT adapter directory for the base (lenient adapter_config.json; any subset of
 * q,k,v,o,gate,up,down). *index gets its slot. Errors name the file and tensor. */
tb_status tb_adapter_set_load(tb_adapter_set *s, const char *dir, int *index, tb_error *err);
/* Attach adapter i (-1: none). */
void tb_adapter_set_activate(tb_adapter_set *s, int i);

/* "runs/7/adapter" -> "7/adapter"; "out/my-lora" -> "my-lora". */
void tb_adapter_short_name(const char *path, char *buf, size_t size);

/* An adapter's A and B on the host as pairs (for the GGUF export and the merge): *mem holds
 * every value (malloc'd, caller frees), *pairs (malloc'd) point into it. */
tb_status tb_lora_host_pairs(tb_lora *lo, float **mem, tb_lora_pair **pairs, size_t *n, tb_error *err);

#endif
