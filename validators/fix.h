/* tunebench — the cleaned copy of `--fix OUT`: exact duplicates dropped (the first copy
 * kept), whitespace around texts trimmed, placeholder inputs emptied, unparseable records
 * dropped. Always JSON Lines, written atomically (engine/core/fs.h), never over the input.
 * Internal to validators/. */
#ifndef TB_VALIDATORS_FIX_H
#define TB_VALIDATORS_FIX_H

#include "engine/core/fs.h"
#include "validators/validate.h"

typedef struct tb_fixer {
    tb_atomic_file af;
    bool open;
    const tb_field_map *map;
    tb_fix_summary *sum;
} tb_fixer;

/* Refuses (TB_ERR_INVALID) an OUT that is the input or the eval file (same inode). */
tb_status tb_fix_open(tb_fixer *fx, const char *out, const char *input, const char *eval, const tb_field_map *map,
                      tb_fix_summary *sum, tb_error *err);
/* Write one row (or count why not). The row's object is edited in place: call last. */
tb_status tb_fix_row(tb_fixer *fx, const tb_row *row, bool duplicate, tb_error *err);
tb_status tb_fix_commit(tb_fixer *fx, tb_error *err);
void tb_fix_abort(tb_fixer *fx); /* safe when not open */

#endif
