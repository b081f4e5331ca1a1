/* tunebench — files: atomic writes, whole-file reads, directories. */
#include "engine/core/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool tb_path_join(char *out, size_t size, const char *dir, const char *name)
{
    size_t dl = strlen(dir);
    int n = (dl && dir[dl - 1] == '/') ? snprintf(out, size, "%s%s", dir, name)
                                       : snprintf(out, size, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < size;
}

bool tb_path_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

bool tb_path_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

tb_status tb_fsync_dir(const char *dir, tb_error *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return tb_error_set(err, TB_ERR_IO, dir, 0, NULL, "cannot open directory: %s", strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    /* Some filesystems refuse fsync on directories (EINVAL); the rename is still done. */
    if (rc != 0 && saved != EINVAL)
        return tb_error_set(err, TB_ERR_IO, dir, 0, NULL, "fsync failed: %s", strerror(saved));
    return TB_OK;
}

tb_status tb_mkdirs(const char *path, tb_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return tb_error_set(err, TB_ERR_INVALID, path, 0, NULL, "path too long");
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return tb_error_set(err, TB_ERR_IO, buf, 0, NULL, "cannot create directory: %s",
                                strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return tb_error_set(err, TB_ERR_IO, buf, 0, NULL, "cannot create directory: %s", strerror(errno));
    if (!tb_path_is_dir(buf))
        return tb_error_set(err, TB_ERR_IO, buf, 0, NULL, "exists and is not a directory");
    return TB_OK;
}

tb_status tb_atomic_file_open(tb_atomic_file *af, const char *path, tb_error *err)
{
    memset(af, 0, sizeof *af);
    if (snprintf(af->path, sizeof af->path, "%s", path) >= (int)sizeof af->path ||
        snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof af->tmp)
        return tb_error_set(err, TB_ERR_INVALID, path, 0, NULL, "path too long");
    int fd = open(af->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return tb_error_set(err, TB_ERR_IO, af->tmp, 0, NULL, "cannot create: %s", strerror(errno));
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        close(fd);
        unlink(af->tmp);
        return tb_error_set(err, TB_ERR_IO, af->tmp, 0, NULL, "cannot open: %s", strerror(errno));
    }
    return TB_OK;
}

void tb_atomic_file_abort(tb_atomic_file *af)
{
    if (af->fp) {
        fclose(af->fp);
        af->fp = NULL;
        unlink(af->tmp);
    }
}

tb_status tb_atomic_file_commit(tb_atomic_file *af, tb_error *err)
{
    if (!af->fp)
        return tb_error_set(err, TB_ERR_IO, af->path, 0, NULL, "file is not open");
    int failed = ferror(af->fp) || fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0;
    int saved = errno;
    if (fclose(af->fp) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    af->fp = NULL;
    if (failed) {
        unlink(af->tmp);
        return tb_error_set(err, TB_ERR_IO, af->path, 0, NULL, "write failed: %s", strerror(saved));
    }
    if (rename(af->tmp, af->path) != 0) {
        saved = errno;
        unlink(af->tmp);
        return tb_error_set(err, TB_ERR_IO, af->path, 0, NULL, "rename failed: %s", strerror(saved));
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", af->path);
    return tb_fsync_dir(dirname(dir), err);
}

tb_status tb_atomic_write(const char *path, const void *data, size_t len, tb_error *err)
{
    tb_atomic_file af;
    tb_status st = tb_atomic_file_open(&af, path, err);
    if (st != TB_OK)
        return st;
    if (len && fwrite(data, 1, len, af.fp) != len) {
        int saved = errno;
        tb_atomic_file_abort(&af);
        return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "write failed: %s", strerror(saved));
    }
    return tb_atomic_file_commit(&af, err);
}

tb_status tb_read_file(const char *path, char **data, size_t *len, tb_error *err)
{
    *data = NULL;
    if (len)
        *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "cannot open: %s", strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(fp);
        return tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory reading file");
    }
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap) {
            if (ferror(fp)) {
                int saved = errno;
                free(buf);
                fclose(fp);
                return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "read failed: %s", strerror(saved));
            }
            break;
        }
        char *grown = realloc(buf, cap * 2 + 1);
        if (!grown) {
            free(buf);
            fclose(fp);
            return tb_error_set(err, TB_ERR_NOMEM, path, 0, NULL, "out of memory reading file");
        }
        buf = grown;
        cap *= 2;
    }
    fclose(fp);
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return TB_OK;
}
