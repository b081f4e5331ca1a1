/* tunebench tests — helpers for the dataset and validator suites: temporary files, running a
 * validation, finding findings. Header-only (static) so each suite stays one file. */
#ifndef TB_TESTS_VTEST_H
#define TB_TESTS_VTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validators/validate.h"

/* Write text to a fresh temporary file named like the suffix; returns its malloc'd path. */
static inline char *vt_tmpfile(const char *text, size_t len, const char *suffix)
{
    char tmpl[256];
    snprintf(tmpl, sizeof tmpl, "/tmp/tbtest-XXXXXX%s", suffix);
    int fd = mkstemps(tmpl, (int)strlen(suffix));
    if (fd < 0)
        return NULL;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    return strdup(tmpl);
}

static inline char *vt_tmp(const char *text, const char *suffix) { return vt_tmpfile(text, strlen(text), suffix); }

/* Validate text (written to a temp file) with default options plus the given tweaks. */
static inline tb_status vt_validate_opts(const char *text, const char *suffix, tb_validate_opts *o, tb_report *rep,
                                         tb_error *err)
{
    char *path = vt_tmp(text, suffix);
    o->path = path;
    o->max_findings = 0;
    tb_status s = tb_validate(o, rep, err);
    unlink(path);
    free(path);
    return s;
}

static inline tb_status vt_validate(const char *text, tb_report *rep)
{
    tb_validate_opts o;
    tb_validate_opts_init(&o);
    tb_error err;
    return vt_validate_opts(text, ".jsonl", &o, rep, &err);
}

/* Lines (1-based) where `check` fired, as a "2,5,9" string: easy to compare in asserts. */
static inline const char *vt_lines(const tb_report *rep, const char *check)
{
    static char buf[1024];
    int c = tb_check_find(check);
    size_t n = 0;
    buf[0] = '\0';
    long last = -1;
    for (long i = 0; i < rep->n_findings; i++) {
        const tb_finding *f = &rep->findings[i];
        if (f->check != c || f->line == last)
            continue;
        last = f->line;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%ld", n ? "," : "", f->line);
        if (n >= sizeof buf)
            break;
    }
    return buf;
}

/* Total findings of every check. */
static inline long vt_total(const tb_report *rep)
{
    long t = 0;
    for (int c = 0; c < tb_check_count(); c++)
        t += rep->checks[c].count;
    return t;
}

/* The first finding of a check, NULL when none. */
static inline const tb_finding *vt_first(const tb_report *rep, const char *check)
{
    int c = tb_check_find(check);
    for (long i = 0; i < rep->n_findings; i++)
        if (rep->findings[i].check == c)
            return &rep->findings[i];
    return NULL;
}

/* <source root>/rel, from TB_SOURCE_ROOT (meson sets it). */
static inline const char *vt_source(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("TB_SOURCE_ROOT");
    snprintf(buf, sizeof buf, "%s/%s", root ? root : ".", rel);
    return buf;
}

/* The shared fixtures directory (TB_SHARED_DIR, else <source root>/../shared, else
 * /work/shared); NULL when absent, so suites can skip. */
static inline const char *vt_shared(const char *rel)
{
    static char buf[4096];
    const char *env = getenv("TB_SHARED_DIR");
    const char *root = getenv("TB_SOURCE_ROOT");
    const char *cands[3] = {env, NULL, "/work/shared"};
    char alt[4096];
    if (root) {
        snprintf(alt, sizeof alt, "%s/../shared", root);
        cands[1] = alt;
    }
    for (int i = 0; i < 3; i++) {
        if (!cands[i] || !cands[i][0])
            continue;
        snprintf(buf, sizeof buf, "%s/%s", cands[i], rel);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    return NULL;
}

#endif
