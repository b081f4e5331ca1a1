/* tunebench — the accounting allocator.
 *
 * DESIGN.md §3 "Memory": every engine buffer goes through here so the workbench can show
 * predicted vs. actually allocated bytes, per category. Thread-safe (atomic counters).
 * Memory is 64-byte aligned (cache lines, AVX-512 loads). */
#ifndef TB_CORE_ALLOC_H
#define TB_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

typedef enum tb_mem_category {
    TB_MEM_WEIGHTS = 0,   /* base model weights held in RAM (not mmap'd) */
    TB_MEM_ADAPTER,       /* LoRA A/B (trainable parameters) */
    TB_MEM_GRADS,         /* parameter gradients */
    TB_MEM_OPTIMIZER,     /* AdamW moments */
    TB_MEM_ACTIVATIONS,   /* saved activations and their gradients */
    TB_MEM_SCRATCH,       /* per-step temporaries */
    TB_MEM_DEVICE,        /* device (GPU) memory, accounted by the backend */
    TB_MEM_OTHER,
    TB_MEM_COUNT
} tb_mem_category;

typedef struct tb_mem_stats {
    int64_t current[TB_MEM_COUNT];
    int64_t peak[TB_MEM_COUNT];
    int64_t total_current;  /* host categories only (all but TB_MEM_DEVICE) */
    int64_t total_peak;
} tb_mem_stats;

/* Zeroed, 64-byte aligned; NULL on failure (or size 0). Free with tb_free. */
void *tb_alloc(size_t size, tb_mem_category cat);
void tb_free(void *ptr);               /* NULL is fine */
size_t tb_alloc_size(const void *ptr); /* bytes asked for at tb_alloc */

/* Account memory not obtained from tb_alloc (device buffers, mmap'd copies). */
void tb_mem_account(tb_mem_category cat, int64_t delta_bytes);

void tb_mem_get_stats(tb_mem_stats *out);
void tb_mem_reset_peak(void);
const char *tb_mem_category_name(tb_mem_category cat);

#endif
