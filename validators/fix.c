/* tunebench — writing the cleaned dataset of --fix. */
#include "validators/fix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "validators/check.h"

static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return a && b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

tb_status tb_fix_open(tb_fixer *fx, const char *out, const char *input, const char *eval, const tb_field_map *map,
                      tb_fix_summary *sum, tb_error *err)
{
    memset(fx, 0, sizeof *fx);
    if (same_file(out, input) || same_file(out, eval))
        return tb_error_set(err, TB_ERR_INVALID, out, 0, "--fix",
                            "is the %s file; write the cleaned copy to a new file", same_file(out, input) ? "input" : "eval");
    tb_status s = tb_atomic_file_open(&fx->af, out, err);
    if (s != TB_OK)
        return s;
    fx->open = true;
    fx->map = map;
    fx->sum = sum;
    memset(sum, 0, sizeof *sum);
    snprintf(sum->path, sizeof sum->path, "%s", out);
    return TB_OK;
}

static bool ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Trim obj[key] when it is a string with whitespace around it; empty it when it is a
 * placeholder input. */
static void clean_string(tb_fixer *fx, json_t *obj, const char *key, bool is_input)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return;
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (is_input && n > 0 && tb_is_placeholder_input(s, n)) {
        json_object_set_new(obj, key, json_string(""));
        fx->sum->emptied_inputs++;
        return;
    }
    size_t a = 0, b = n;
    while (a < b && ws(s[a]))
        a++;
    while (b > a && ws(s[b - 1]))
        b--;
    if (a == 0 && b == n)
        return;
    json_object_set_new(obj, key, json_stringn(s + a, b - a));
    fx->sum->trimmed_fields++;
}

tb_status tb_fix_row(tb_fixer *fx, const tb_row *row, bool duplicate, tb_error *err)
{
    if (!fx->open)
        return TB_OK;
    json_t *obj = row->obj;
    if (!obj || !json_is_object(obj) || row->parse == TB_PARSE_JSON) {
        fx->sum->dropped_unparseable++;
        return TB_OK;
    }
    if (duplicate) {
        fx->sum->dropped_duplicates++;
        return TB_OK;
    }
    const tb_field_map *m = fx->map;
    switch (row->shape) {
    case TB_SHAPE_ALPACA:
        clean_string(fx, obj, tb_field_map_get(m, "instruction"), false);
        clean_string(fx, obj, tb_field_map_get(m, "input"), true);
        clean_string(fx, obj, tb_field_map_get(m, "output"), false);
        break;
    case TB_SHAPE_PROMPT_COMPLETION:
        clean_string(fx, obj, tb_field_map_get(m, "prompt"), false);
        clean_string(fx, obj, tb_field_map_get(m, "completion"), false);
        break;
    case TB_SHAPE_CHAT:
    case TB_SHAPE_SHAREGPT: {
        bool sg = row->shape == TB_SHAPE_SHAREGPT;
        if (sg)
            clean_string(fx, obj, tb_field_map_get(m, "system"), false);
        json_t *turns = json_object_get(obj, tb_field_map_get(m, sg ? "conversations" : "messages"));
        size_t i;
        json_t *t;
        json_array_foreach(turns, i, t) {
            if (json_is_object(t))
                clean_string(fx, t, tb_field_map_get(m, sg ? "value" : "content"), false);
        }
        break;
    }
    case TB_SHAPE_UNKNOWN:
        break;
    }
    if (json_dumpf(obj, fx->af.fp, JSON_COMPACT) != 0 || fputc('\n', fx->af.fp) == EOF)
        return tb_error_set(err, TB_ERR_IO, fx->sum->path, 0, "--fix", "write failed: %s", strerror(errno));
    fx->sum->written++;
    return TB_OK;
}

tb_status tb_fix_commit(tb_fixer *fx, tb_error *err)
{
    if (!fx->open)
        return TB_OK;
    fx->open = false;
    tb_status s = tb_atomic_file_commit(&fx->af, err);
    if (s == TB_OK)
        fx->sum->done = true;
    return s;
}

void tb_fix_abort(tb_fixer *fx)
{
    if (fx->open)
        tb_atomic_file_abort(&fx->af);
    fx->open = false;
}
