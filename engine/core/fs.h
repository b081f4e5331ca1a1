/* tunebench — files: atomic writes, whole-file reads, directories.
 *
 * Every write of a model, adapter, checkpoint or dataset goes through tb_atomic_file:
 * data goes to "<path>.tmp.<pid>" in the same directory, is fsync'd, renamed over the
 * target, and the directory is fsync'd, so a crash leaves either the old or the new file,
 * never a torn one. */
#ifndef TB_CORE_FS_H
#define TB_CORE_FS_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/core/error.h"

typedef struct tb_atomic_file {
    FILE *fp;          /* write here between open and commit/abort */
    char path[4096];   /* final path */
    char tmp[4096];    /* temporary path in the same directory */
} tb_atomic_file;

tb_status tb_atomic_file_open(tb_atomic_file *af, const char *path, tb_error *err);
/* Flush, fsync, rename over path, fsync the directory. Closes af either way. */
tb_status tb_atomic_file_commit(tb_atomic_file *af, tb_error *err);
/* Close and remove the temporary file; safe on a closed or zeroed af. */
void tb_atomic_file_abort(tb_atomic_file *af);
/* Whole buffer to path, atomically. */
tb_status tb_atomic_write(const char *path, const void *data, size_t len, tb_error *err);

/* Read a whole file into a malloc'd, NUL-terminated buffer (caller frees with free()).
 * *len gets the byte count (without the NUL); len may be NULL. */
tb_status tb_read_file(const char *path, char **data, size_t *len, tb_error *err);

/* mkdir -p; mode 0755. */
tb_status tb_mkdirs(const char *path, tb_error *err);
bool tb_path_exists(const char *path);
bool tb_path_is_dir(const char *path);
/* fsync a directory (after renames inside it). */
tb_status tb_fsync_dir(const char *dir, tb_error *err);
/* "dir/name" into out; returns false when it does not fit. */
bool tb_path_join(char *out, size_t size, const char *dir, const char *name);

#endif
