/* tunebench — open-addressing hash maps for the streaming checks: 64-bit keys → 32-bit row
 * indices (exact duplicates, leakage) and 32-bit keys → 32-bit rows (MinHash bands).
 *
 * Memory is what "bounded by the number of unique hashes" means in practice: 12 or 8 bytes
 * per slot, grown by 1.5x at 3/4 load (not 2x: at a million rows the slack matters). Keys
 * are already hashes, so the slot is the key scaled onto the table (Lemire's fastrange). */
#ifndef TB_VALIDATORS_HASHMAP_H
#define TB_VALIDATORS_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tb_map64 {
    uint64_t *keys;   /* 0 = empty slot (key 0 is stored as 1) */
    uint32_t *vals;
    size_t cap, n;
} tb_map64;

typedef struct tb_map32 {
    uint64_t *slots;  /* key << 32 | value; 0 = empty (key 0 is stored as 1) */
    size_t cap, n;
} tb_map32;

/* Insert key → val unless the key is present. Returns true and sets *found to the existing
 * value when it was present. Fails (returns false, *oom = true) only when growing fails. */
bool tb_map64_get_or_put(tb_map64 *m, uint64_t key, uint32_t val, uint32_t *found, bool *oom);
bool tb_map64_get(const tb_map64 *m, uint64_t key, uint32_t *val);
void tb_map64_free(tb_map64 *m);
size_t tb_map64_bytes(const tb_map64 *m);

bool tb_map32_get_or_put(tb_map32 *m, uint32_t key, uint32_t val, uint32_t *found, bool *oom);
void tb_map32_free(tb_map32 *m);
size_t tb_map32_bytes(const tb_map32 *m);

#endif
