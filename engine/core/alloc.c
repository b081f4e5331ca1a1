/* tunebench — the accounting allocator. */
#include "engine/core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define TB_ALIGN 64

/* The header sits in the 64 bytes before the pointer handed out, so alignment holds. */
typedef struct alloc_header {
    size_t size;
    int cat;
    uint32_t magic;
} alloc_header;

#define ALLOC_MAGIC 0x7b7ea110u

static _Atomic int64_t g_current[TB_MEM_COUNT];
static _Atomic int64_t g_peak[TB_MEM_COUNT];
static _Atomic int64_t g_total_current;
static _Atomic int64_t g_total_peak;

static void raise_peak(_Atomic int64_t *peak, int64_t value)
{
    int64_t old = atomic_load(peak);
    while (value > old && !atomic_compare_exchange_weak(peak, &old, value)) {
    }
}

void tb_mem_account(tb_mem_category cat, int64_t delta)
{
    if ((int)cat < 0 || cat >= TB_MEM_COUNT)
        cat = TB_MEM_OTHER;
    int64_t now = atomic_fetch_add(&g_current[cat], delta) + delta;
    raise_peak(&g_peak[cat], now);
    if (cat != TB_MEM_DEVICE) {
        int64_t total = atomic_fetch_add(&g_total_current, delta) + delta;
        raise_peak(&g_total_peak, total);
    }
}

void *tb_alloc(size_t size, tb_mem_category cat)
{
    if (size == 0 || size > SIZE_MAX - 2 * TB_ALIGN)
        return NULL;
    size_t padded = (size + TB_ALIGN - 1) / TB_ALIGN * TB_ALIGN;
    unsigned char *base = aligned_alloc(TB_ALIGN, padded + TB_ALIGN);
    if (!base)
        return NULL;
    memset(base + TB_ALIGN, 0, size);
    alloc_header *h = (alloc_header *)base;
    h->size = size;
    h->cat = (int)cat;
    h->magic = ALLOC_MAGIC;
    tb_mem_account(cat, (int64_t)size);
    return base + TB_ALIGN;
}

void tb_free(void *ptr)
{
    if (!ptr)
        return;
    unsigned char *base = (unsigned char *)ptr - TB_ALIGN;
    alloc_header *h = (alloc_header *)base;
    if (h->magic != ALLOC_MAGIC)
        abort(); /* not ours, or double free: fail loudly, never corrupt counters */
    h->magic = 0;
    tb_mem_account((tb_mem_category)h->cat, -(int64_t)h->size);
    free(base);
}

size_t tb_alloc_size(const void *ptr)
{
    if (!ptr)
        return 0;
    const alloc_header *h = (const alloc_header *)((const unsigned char *)ptr - TB_ALIGN);
    return h->size;
}

void tb_mem_get_stats(tb_mem_stats *out)
{
    for (int i = 0; i < TB_MEM_COUNT; i++) {
        out->current[i] = atomic_load(&g_current[i]);
        out->peak[i] = atomic_load(&g_peak[i]);
    }
    out->total_current = atomic_load(&g_total_current);
    out->total_peak = atomic_load(&g_total_peak);
}

void tb_mem_reset_peak(void)
{
    for (int i = 0; i < TB_MEM_COUNT; i++)
        atomic_store(&g_peak[i], atomic_load(&g_current[i]));
    atomic_store(&g_total_peak, atomic_load(&g_total_current));
}

const char *tb_mem_category_name(tb_mem_category cat)
{
    static const char *const names[TB_MEM_COUNT] = {
        "weights", "adapter", "gradients", "optimizer", "activations", "scratch", "device", "other",
    };
    return ((int)cat >= 0 && cat < TB_MEM_COUNT) ? names[cat] : "other";
}
