/* tunebench — row shapes, the field map, and extracting a row's texts from a JSON object. */
#include "datasets/row.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const canon_names[] = {
    "instruction", "input", "output", "prompt", "completion", "messages",
    "conversations", "system", "role", "content", "from", "value", NULL,
};

tb_status tb_field_map_parse(tb_field_map *map, const char *spec, tb_error *err)
{
    memset(map, 0, sizeof *map);
    const char *p = spec;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        char pair[128];
        if (n == 0 || n >= sizeof pair)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--map", "empty or overlong pair in '%s'", spec);
        memcpy(pair, p, n);
        pair[n] = '\0';
        char *eq = strchr(pair, '=');
        if (!eq || eq == pair || !eq[1])
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--map",
                                "'%s' is not CANONICAL=COLUMN (e.g. instruction=question)", pair);
        *eq = '\0';
        bool known = false;
        for (int i = 0; canon_names[i]; i++)
            known |= strcmp(canon_names[i], pair) == 0;
        if (!known)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--map",
                                "unknown field '%s' (one of instruction, input, output, prompt, completion, "
                                "messages, conversations, system, role, content, from, value)", pair);
        if (map->n >= TB_MAP_MAX)
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--map", "more than %d pairs", TB_MAP_MAX);
        if (strlen(eq + 1) >= sizeof map->column[0])
            return tb_error_set(err, TB_ERR_INVALID, NULL, 0, "--map", "column name '%s' is too long", eq + 1);
        snprintf(map->canon[map->n], sizeof map->canon[0], "%s", pair);
        snprintf(map->column[map->n], sizeof map->column[0], "%s", eq + 1);
        map->n++;
        p += n + (comma ? 1 : 0);
    }
    return TB_OK;
}

const char *tb_field_map_get(const tb_field_map *map, const char *canon)
{
    if (map)
        for (int i = 0; i < map->n; i++)
            if (strcmp(map->canon[i], canon) == 0)
                return map->column[i];
    return canon;
}

const char *tb_shape_name(tb_row_shape shape)
{
    switch (shape) {
    case TB_SHAPE_ALPACA: return "alpaca";
    case TB_SHAPE_CHAT: return "chat";
    case TB_SHAPE_SHAREGPT: return "sharegpt";
    case TB_SHAPE_PROMPT_COMPLETION: return "prompt_completion";
    case TB_SHAPE_UNKNOWN: break;
    }
    return "unknown";
}

const char *tb_format_name(tb_dataset_format format)
{
    switch (format) {
    case TB_FORMAT_JSONL: return "jsonl";
    case TB_FORMAT_JSON: return "json";
    case TB_FORMAT_CSV: return "csv";
    case TB_FORMAT_AUTO: break;
    }
    return "auto";
}

bool tb_format_parse(const char *name, tb_dataset_format *out)
{
    static const struct { const char *name; tb_dataset_format f; } t[] = {
        {"jsonl", TB_FORMAT_JSONL}, {"json", TB_FORMAT_JSON}, {"csv", TB_FORMAT_CSV}, {"auto", TB_FORMAT_AUTO},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].name, name) == 0) {
            *out = t[i].f;
            return true;
        }
    return false;
}

static bool has(const json_t *obj, const tb_field_map *map, const char *canon)
{
    return json_object_get(obj, tb_field_map_get(map, canon)) != NULL;
}

tb_row_shape tb_shape_detect(const json_t *obj, const tb_field_map *map)
{
    if (!json_is_object(obj))
        return TB_SHAPE_UNKNOWN;
    if (has(obj, map, "messages"))
        return TB_SHAPE_CHAT;
    if (has(obj, map, "conversations"))
        return TB_SHAPE_SHAREGPT;
    if (has(obj, map, "prompt") && has(obj, map, "completion"))
        return TB_SHAPE_PROMPT_COMPLETION;
    if (has(obj, map, "instruction") || has(obj, map, "output"))
        return TB_SHAPE_ALPACA;
    return TB_SHAPE_UNKNOWN;
}

void tb_row_add_issue(tb_row *row, tb_row_issue_kind kind, const char *field, const char *fmt, ...)
{
    if (row->n_issues == row->cap_issues) {
        int ncap = row->cap_issues ? row->cap_issues * 2 : 8;
        tb_row_issue *ni = realloc(row->issues, (size_t)ncap * sizeof *ni);
        if (!ni)
            return; /* dropping an issue under memory pressure beats failing the whole run */
        row->issues = ni;
        row->cap_issues = ncap;
    }
    tb_row_issue *is = &row->issues[row->n_issues++];
    is->kind = kind;
    snprintf(is->field, sizeof is->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(is->detail, sizeof is->detail, fmt, ap);
    va_end(ap);
}

static tb_text *add_text(tb_row *row, tb_text_kind kind, const json_t *str, const char *field)
{
    if (row->n_texts == row->cap_texts) {
        int ncap = row->cap_texts ? row->cap_texts * 2 : 8;
        tb_text *nt = realloc(row->texts, (size_t)ncap * sizeof *nt);
        if (!nt)
            return NULL;
        row->texts = nt;
        row->cap_texts = ncap;
    }
    tb_text *t = &row->texts[row->n_texts++];
    t->kind = kind;
    t->text = json_string_value(str);
    t->len = json_string_length(str);
    snprintf(t->field, sizeof t->field, "%s", field);
    t->role = NULL;
    t->turn = -1;
    return t;
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "a value";
}

/* A string field: a text when present and a string; an issue otherwise (when required). */
static void string_field(tb_row *row, const json_t *obj, const char *name, tb_text_kind kind, bool required)
{
    const json_t *v = json_object_get(obj, name);
    if (!v || json_is_null(v)) {
        if (required)
            tb_row_add_issue(row, TB_ISSUE_MISSING, name, "'%s' is %s", name, v ? "null" : "missing");
        return;
    }
    if (!json_is_string(v)) {
        /* Numbers in CSV-born JSON are common; still not a string the template can use. */
        tb_row_add_issue(row, TB_ISSUE_TYPE, name, "'%s' is %s, expected a string", name, json_type_name(v));
        return;
    }
    add_text(row, kind, v, name);
}

static bool in_list(const char *key, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(key, names[i]) == 0)
            return true;
    return false;
}

/* Keys outside `known` are reported; "id" is metadata every shape may carry. */
static void unknown_keys(tb_row *row, json_t *obj, const char *const *known, int n, const char *prefix)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        (void)v;
        if (strcmp(key, "id") == 0 || in_list(key, known, n))
            continue;
        char field[64];
        snprintf(field, sizeof field, "%s%s", prefix, key);
        tb_row_add_issue(row, TB_ISSUE_UNKNOWN, field, "'%s' is not a field of this format and is ignored", field);
    }
}

static tb_text_kind chat_kind(const char *role, tb_row_shape shape)
{
    if (shape == TB_SHAPE_SHAREGPT) {
        if (strcmp(role, "human") == 0 || strcmp(role, "user") == 0)
            return TB_TEXT_PROMPT;
        if (strcmp(role, "gpt") == 0 || strcmp(role, "assistant") == 0)
            return TB_TEXT_RESPONSE;
    } else {
        if (strcmp(role, "user") == 0)
            return TB_TEXT_PROMPT;
        if (strcmp(role, "assistant") == 0)
            return TB_TEXT_RESPONSE;
    }
    if (strcmp(role, "system") == 0)
        return TB_TEXT_SYSTEM;
    return TB_TEXT_OTHER;
}

static void extract_turns(tb_row *row, json_t *obj, tb_row_shape shape, const tb_field_map *map)
{
    bool sgpt = shape == TB_SHAPE_SHAREGPT;
    const char *list = tb_field_map_get(map, sgpt ? "conversations" : "messages");
    const char *rk = tb_field_map_get(map, sgpt ? "from" : "role");
    const char *ck = tb_field_map_get(map, sgpt ? "value" : "content");
    const char *sk = tb_field_map_get(map, "system");
    /* ShareGPT files (FastChat) may carry the system prompt as a top-level field. */
    const json_t *sys = sgpt ? json_object_get(obj, sk) : NULL;
    if (sys && json_is_string(sys))
        add_text(row, TB_TEXT_SYSTEM, sys, sk);
    else if (sys && !json_is_null(sys))
        tb_row_add_issue(row, TB_ISSUE_TYPE, sk, "'%s' is %s, expected a string", sk, json_type_name(sys));
    const char *known_top[] = {list, sgpt ? sk : NULL};
    unknown_keys(row, obj, known_top, 2, "");

    json_t *turns = json_object_get(obj, list);
    if (!turns || json_is_null(turns)) {
        tb_row_add_issue(row, TB_ISSUE_MISSING, list, "'%s' is missing", list);
        return;
    }
    if (!json_is_array(turns)) {
        tb_row_add_issue(row, TB_ISSUE_TYPE, list, "'%s' is %s, expected a list of turns", list,
                         json_type_name(turns));
        return;
    }
    const char *known_turn[] = {rk, ck, "name", "weight"};
    size_t i;
    json_t *t;
    json_array_foreach(turns, i, t) {
        char field[64];
        if (!json_is_object(t)) {
            snprintf(field, sizeof field, "%s[%zu]", list, i);
            tb_row_add_issue(row, TB_ISSUE_TYPE, field, "turn %zu is %s, expected an object", i, json_type_name(t));
            continue;
        }
        const json_t *role = json_object_get(t, rk), *content = json_object_get(t, ck);
        if (!role || !json_is_string(role)) {
            snprintf(field, sizeof field, "%s[%zu].%s", list, i, rk);
            tb_row_add_issue(row, role && !json_is_null(role) ? TB_ISSUE_TYPE : TB_ISSUE_MISSING, field,
                             "turn %zu has no '%s' string", i, rk);
            continue;
        }
        snprintf(field, sizeof field, "%s[%zu].%s", list, i, ck);
        if (!content || json_is_null(content)) {
            tb_row_add_issue(row, TB_ISSUE_MISSING, field, "turn %zu has no '%s'", i, ck);
            continue;
        }
        if (!json_is_string(content)) {
            tb_row_add_issue(row, TB_ISSUE_TYPE, field, "turn %zu '%s' is %s, expected a string", i, ck,
                             json_type_name(content));
            continue;
        }
        tb_text *tx = add_text(row, chat_kind(json_string_value(role), shape), content, field);
        if (tx) {
            tx->role = json_string_value(role);
            tx->turn = (int)i;
        }
        char prefix[64];
        snprintf(prefix, sizeof prefix, "%s[%zu].", list, i);
        unknown_keys(row, t, known_turn, 4, prefix);
    }
}

tb_status tb_row_extract(tb_row *row, json_t *obj, tb_row_shape shape, const tb_field_map *map)
{
    row->obj = obj;
    row->shape = shape;
    if (!json_is_object(obj)) {
        row->parse = TB_PARSE_JSON;
        snprintf(row->parse_message, sizeof row->parse_message, "the record is %s, expected an object",
                 json_type_name(obj));
        return TB_OK;
    }
    switch (shape) {
    case TB_SHAPE_ALPACA: {
        const char *in = tb_field_map_get(map, "instruction"), *ip = tb_field_map_get(map, "input"),
                   *out = tb_field_map_get(map, "output");
        string_field(row, obj, in, TB_TEXT_PROMPT, true);
        string_field(row, obj, ip, TB_TEXT_INPUT, false); /* optional: many alpaca sets omit it */
        string_field(row, obj, out, TB_TEXT_RESPONSE, true);
        const char *known[] = {in, ip, out};
        unknown_keys(row, obj, known, 3, "");
        break;
    }
    case TB_SHAPE_PROMPT_COMPLETION: {
        const char *p = tb_field_map_get(map, "prompt"), *c = tb_field_map_get(map, "completion");
        string_field(row, obj, p, TB_TEXT_PROMPT, true);
        string_field(row, obj, c, TB_TEXT_RESPONSE, true);
        const char *known[] = {p, c};
        unknown_keys(row, obj, known, 2, "");
        break;
    }
    case TB_SHAPE_CHAT:
    case TB_SHAPE_SHAREGPT:
        extract_turns(row, obj, shape, map);
        break;
    case TB_SHAPE_UNKNOWN:
        break;
    }
    return TB_OK;
}

void tb_row_reset(tb_row *row)
{
    row->obj = NULL;
    row->n_texts = 0;
    row->n_issues = 0;
    row->parse = TB_PARSE_OK;
    row->parse_message[0] = '\0';
    row->bad_utf8 = 0;
    row->bad_utf8_at = 0;
    row->bad_utf8_field[0] = '\0';
    row->crlf = false;
    row->record = 0;
    row->bytes = 0;
}

void tb_row_free(tb_row *row)
{
    free(row->texts);
    free(row->issues);
    row->texts = NULL;
    row->issues = NULL;
    row->n_texts = row->cap_texts = row->n_issues = row->cap_issues = 0;
}

const tb_text *tb_row_find(const tb_row *row, tb_text_kind kind)
{
    for (int i = 0; i < row->n_texts; i++)
        if (row->texts[i].kind == kind)
            return &row->texts[i];
    return NULL;
}
