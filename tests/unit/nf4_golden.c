/* Reader for the NF4 golden file (see nf4_golden.h). Layout after the text header that ends
 * with "END\n" (little-endian): u32 cases; f32 code[16]; f32 map[256]; per case: u32 name
 * length, name; u32 dtype (0 f32, 1 bf16, 2 f16), i64 rows, i64 cols, u32 has_dequant;
 * input; packed; absmax; f32 offset; qabsmax; nested_absmax; absmax_dq; [dequant,
 * dequant_dq]. */
#include "nf4_golden.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "tb_config.h"

typedef struct reader {
    const uint8_t *p, *end;
    bool ok;
} reader;

static void *take(reader *r, size_t bytes)
{
    if (!r->ok || (size_t)(r->end - r->p) < bytes) {
        r->ok = false;
        return NULL;
    }
    void *out = malloc(bytes ? bytes : 1);
    if (!out) {
        r->ok = false;
        return NULL;
    }
    memcpy(out, r->p, bytes);
    r->p += bytes;
    return out;
}

static uint64_t take_u(reader *r, size_t bytes)
{
    uint64_t v = 0;
    if (!r->ok || (size_t)(r->end - r->p) < bytes) {
        r->ok = false;
        return 0;
    }
    memcpy(&v, r->p, bytes); /* little-endian host (x86-64, aarch64) */
    r->p += bytes;
    return v;
}

bool nf4_golden_load(nf4_golden *g, char *why, size_t why_size)
{
    memset(g, 0, sizeof *g);
    const char *root = getenv("TB_SOURCE_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/reference/nf4_golden.bin", root && root[0] ? root : TB_SOURCE_ROOT);
    char *data;
    size_t len;
    tb_error err;
    if (tb_read_file(path, &data, &len, &err) != TB_OK) {
        snprintf(why, why_size, "%s: %s", path, err.message);
        return false;
    }
    const char *end = strstr(data, "\nEND\n");
    if (strncmp(data, "TBNF4GOLD 1\n", 12) != 0 || !end) {
        snprintf(why, why_size, "%s: not a version-1 NF4 golden file", path);
        free(data);
        return false;
    }
    reader r = {(const uint8_t *)end + 5, (const uint8_t *)data + len, true};
    g->n_cases = (int)take_u(&r, 4);
    float *code = take(&r, sizeof g->code), *map = take(&r, sizeof g->dynamic_map);
    if (code && map) {
        memcpy(g->code, code, sizeof g->code);
        memcpy(g->dynamic_map, map, sizeof g->dynamic_map);
    }
    free(code);
    free(map);
    g->cases = calloc((size_t)(g->n_cases > 0 ? g->n_cases : 1), sizeof *g->cases);
    for (int i = 0; r.ok && g->cases && i < g->n_cases; i++) {
        nf4_golden_case *c = &g->cases[i];
        size_t nl = (size_t)take_u(&r, 4);
        char *name = take(&r, nl);
        if (name)
            snprintf(c->name, sizeof c->name, "%.*s", (int)nl, name);
        free(name);
        static const tb_dtype dts[] = {TB_DTYPE_F32, TB_DTYPE_BF16, TB_DTYPE_F16};
        uint64_t dt = take_u(&r, 4);
        c->dtype = dts[dt < 3 ? dt : 0];
        c->rows = (int64_t)take_u(&r, 8);
        c->cols = (int64_t)take_u(&r, 8);
        bool with_dequant = take_u(&r, 4) != 0;
        c->n = c->rows * c->cols;
        c->blocks = (c->n + 63) / 64;
        c->nested = (c->blocks + 255) / 256;
        size_t n = (size_t)c->n, nb = (size_t)c->blocks;
        c->input = take(&r, n * tb_dtype_size(c->dtype));
        c->packed = take(&r, (n + 1) / 2);
        c->absmax = take(&r, nb * 4);
        c->offset = 0;
        float *off = take(&r, 4);
        if (off)
            c->offset = *off;
        free(off);
        c->qabsmax = take(&r, nb);
        c->nested_absmax = take(&r, (size_t)c->nested * 4);
        c->absmax_dq = take(&r, nb * 4);
        if (with_dequant) {
            c->dequant = take(&r, n * 4);
            c->dequant_dq = take(&r, n * 4);
        }
    }
    free(data);
    if (!r.ok || !g->cases || r.p != r.end) {
        snprintf(why, why_size, "%s: truncated or malformed", path);
        nf4_golden_free(g);
        return false;
    }
    return true;
}

void nf4_golden_free(nf4_golden *g)
{
    for (int i = 0; g->cases && i < g->n_cases; i++) {
        nf4_golden_case *c = &g->cases[i];
        free(c->input);
        free(c->packed);
        free(c->absmax);
        free(c->qabsmax);
        free(c->nested_absmax);
        free(c->absmax_dq);
        free(c->dequant);
        free(c->dequant_dq);
    }
    free(g->cases);
    memset(g, 0, sizeof *g);
}
