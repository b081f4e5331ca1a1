/* tunebench — one dataset row, whatever the file looked like: its texts (instruction, input,
 * output, or chat turns) with the field names as written in the file, where it came from
 * (file, line, CSV record, byte offset), and what was wrong with its structure.
 *
 * Row shapes (DESIGN.md §4): alpaca {instruction, input, output}; chat {messages: [{role,
 * content}]} (OpenAI roles system/user/assistant); ShareGPT {conversations: [{from, value}]}
 * (human/gpt/system, optional top-level "system"); prompt/completion. A field map renames
 * columns: "instruction=question,output=answer". */
#ifndef TB_DATASETS_ROW_H
#define TB_DATASETS_ROW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/error.h"

typedef enum tb_dataset_format {
    TB_FORMAT_AUTO = 0, /* sniffed from the content */
    TB_FORMAT_JSONL,
    TB_FORMAT_JSON,     /* one JSON array of objects */
    TB_FORMAT_CSV,      /* RFC 4180 with a header row */
} tb_dataset_format;

typedef enum tb_row_shape {
    TB_SHAPE_UNKNOWN = 0,
    TB_SHAPE_ALPACA,
    TB_SHAPE_CHAT,      /* OpenAI messages */
    TB_SHAPE_SHAREGPT,  /* conversations / from / value */
    TB_SHAPE_PROMPT_COMPLETION,
} tb_row_shape;

/* What a text is for: the template puts PROMPT/INPUT/SYSTEM in the prompt and trains on
 * RESPONSE. OTHER is a chat turn with a role we do not know. */
typedef enum tb_text_kind {
    TB_TEXT_SYSTEM = 0,
    TB_TEXT_PROMPT,     /* instruction, user turn, prompt */
    TB_TEXT_INPUT,      /* alpaca input */
    TB_TEXT_RESPONSE,   /* output, assistant turn, completion */
    TB_TEXT_OTHER,
} tb_text_kind;

typedef struct tb_text {
    tb_text_kind kind;
    const char *text;   /* valid UTF-8 (readers repair bad bytes), NUL-terminated */
    size_t len;         /* bytes; may contain NULs (JSON "\u0000") */
    char field[64];     /* as in the file: "output", "question", "messages[2].content" */
    const char *role;   /* chat: the role as written ("gpt"); NULL for other shapes */
    int turn;           /* chat: index in the turn list; -1 otherwise */
} tb_text;

typedef enum tb_row_issue_kind {
    TB_ISSUE_MISSING = 0, /* a required field is absent or null */
    TB_ISSUE_TYPE,        /* present with the wrong JSON type */
    TB_ISSUE_UNKNOWN,     /* a field the shape does not know (ignored in training) */
} tb_row_issue_kind;

typedef struct tb_row_issue {
    tb_row_issue_kind kind;
    char field[64];
    char detail[192];
} tb_row_issue;

typedef enum tb_parse_error {
    TB_PARSE_OK = 0,
    TB_PARSE_JSON,      /* the record is not valid JSON (or not an object) */
    TB_PARSE_CSV,       /* malformed CSV record */
} tb_parse_error;

typedef struct tb_row {
    const char *file;   /* path as given */
    long index;         /* 0-based, counting every record, unparseable ones included */
    long line;          /* 1-based line where the record starts */
    long record;        /* CSV: 1-based data record (header not counted); 0 otherwise */
    int64_t offset;     /* byte offset of the record (seek here to read it again) */
    size_t bytes;       /* raw size of the record */
    bool crlf;          /* JSONL: the line ended with \r\n */
    tb_row_shape shape;
    json_t *obj;        /* the parsed record (borrowed; valid until the next row); NULL when unparseable */

    tb_parse_error parse;
    char parse_message[256];

    size_t bad_utf8;    /* invalid bytes replaced with '?' */
    size_t bad_utf8_at; /* offset of the first one within the record */
    char bad_utf8_field[64]; /* field holding it when known (CSV), else "" */

    tb_text *texts;
    int n_texts, cap_texts;
    tb_row_issue *issues;
    int n_issues, cap_issues;
} tb_row;

/* ---- field map ("--map instruction=question,output=answer") ------------------------ */

#define TB_MAP_MAX 16
typedef struct tb_field_map {
    int n;
    char canon[TB_MAP_MAX][32];   /* instruction, input, output, prompt, completion, messages,
                                     conversations, system, role, content, from, value */
    char column[TB_MAP_MAX][64];  /* the name in the file */
} tb_field_map;

/* Parse "a=b,c=d"; unknown canonical names and malformed pairs fail with the pair named. */
tb_status tb_field_map_parse(tb_field_map *map, const char *spec, tb_error *err);
/* The file's name for a canonical field (the canonical name when unmapped; map may be NULL). */
const char *tb_field_map_get(const tb_field_map *map, const char *canon);

/* ---- rows ----------------------------------------------------------------------------- */

const char *tb_shape_name(tb_row_shape shape);        /* "alpaca", "chat", "sharegpt", ... */
const char *tb_format_name(tb_dataset_format format); /* "jsonl", "json", "csv", "auto" */
bool tb_format_parse(const char *name, tb_dataset_format *out);

/* The shape an object has under the map, TB_SHAPE_UNKNOWN when none fits. */
tb_row_shape tb_shape_detect(const json_t *obj, const tb_field_map *map);

/* Fill row->texts and row->issues from obj for the given shape. Keeps location fields. */
tb_status tb_row_extract(tb_row *row, json_t *obj, tb_row_shape shape, const tb_field_map *map);
/* Forget the texts/issues/parse state of the previous record (keeps the arrays). */
void tb_row_reset(tb_row *row);
void tb_row_free(tb_row *row); /* the arrays; not obj */

/* First text of a kind, NULL when absent. */
const tb_text *tb_row_find(const tb_row *row, tb_text_kind kind);
/* Add an issue (used by extraction and by readers). */
void tb_row_add_issue(tb_row *row, tb_row_issue_kind kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
