/* tunebench — structural checks: records that do not parse, bad bytes, missing and unknown
 * fields, control characters. The readers find most of these; here they become findings. */
#include <stdio.h>
#include <string.h>

#include "validators/check.h"

static void invalid_json_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    if (row->parse == TB_PARSE_JSON)
        tb_vctx_emit(ctx, row, "", 0, 0, "%s", row->parse_message);
}

const tb_check_class tb_check_invalid_json = {
    .name = "invalid_json",
    .severity = TB_SEV_ERROR,
    .about = "a line (or array element) that is not valid JSON, or not a JSON object",
    .hint = "fix or delete the line; every other line is still checked",
    .row = invalid_json_row,
};

static void invalid_csv_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    if (row->parse == TB_PARSE_CSV)
        tb_vctx_emit(ctx, row, "", 0, 0, "%s", row->parse_message);
}

const tb_check_class tb_check_invalid_csv = {
    .name = "invalid_csv",
    .severity = TB_SEV_ERROR,
    .about = "a CSV record with broken quoting or a different number of fields than the header",
    .hint = "quote fields that contain commas, quotes or newlines (\"\" for a quote inside)",
    .row = invalid_csv_row,
};

static void invalid_utf8_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    if (row->bad_utf8 == 0)
        return;
    tb_vctx_emit(ctx, row, row->bad_utf8_field, 0, 0,
                 "%zu byte%s of invalid UTF-8 (first at byte %zu of the record), read as '?'", row->bad_utf8,
                 row->bad_utf8 == 1 ? "" : "s", row->bad_utf8_at);
}

const tb_check_class tb_check_invalid_utf8 = {
    .name = "invalid_utf8",
    .severity = TB_SEV_ERROR,
    .about = "bytes that are not UTF-8 (often Latin-1 or Windows-1252 text)",
    .hint = "re-encode the file as UTF-8 (iconv -f WINDOWS-1252 -t UTF-8)",
    .row = invalid_utf8_row,
};

static void missing_field_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    for (int i = 0; i < row->n_issues; i++)
        if (row->issues[i].kind != TB_ISSUE_UNKNOWN)
            tb_vctx_emit(ctx, row, row->issues[i].field, 0, 0, "%s", row->issues[i].detail);
}

const tb_check_class tb_check_missing_field = {
    .name = "missing_field",
    .severity = TB_SEV_ERROR,
    .about = "a field the row shape needs is absent, null or not a string",
    .hint = "add the field, or map your column to it with --map (e.g. --map output=answer)",
    .row = missing_field_row,
};

static void unknown_field_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    for (int i = 0; i < row->n_issues; i++)
        if (row->issues[i].kind == TB_ISSUE_UNKNOWN)
            tb_vctx_emit(ctx, row, row->issues[i].field, 0, 0, "%s", row->issues[i].detail);
}

const tb_check_class tb_check_unknown_field = {
    .name = "unknown_field",
    .severity = TB_SEV_WARNING,
    .about = "a field that is not part of the row shape: training never sees it",
    .hint = "drop it, or --map it if it holds the instruction, input or output",
    .row = unknown_field_row,
};

/* C0 controls other than tab/newline/CR, DEL, and C1 controls (U+0080..U+009F, bytes
 * C2 80..C2 9F in UTF-8): stray escape codes and mojibake leftovers. */
static size_t find_control(const char *s, size_t n, size_t *clen)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
            *clen = 1;
            return i;
        }
        if (c == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) {
            *clen = 2;
            return i;
        }
    }
    return n;
}

static void control_chars_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    (void)state;
    for (int i = 0; i < row->n_texts; i++) {
        const tb_text *t = &row->texts[i];
        size_t clen, at = find_control(t->text, t->len, &clen);
        if (at == t->len)
            continue;
        size_t count = 0, k = at, first = at;
        while (k < t->len) {
            count++;
            k += clen;
            k += find_control(t->text + k, t->len - k, &clen);
        }
        unsigned code = clen == 1 ? (unsigned char)t->text[first] : (unsigned char)t->text[first + 1];
        tb_vctx_emit(ctx, row, t->field, first, clen, "%zu control character%s (first: U+%04X at byte %zu)", count,
                     count == 1 ? "" : "s", code, first);
    }
}

const tb_check_class tb_check_control_chars = {
    .name = "control_chars",
    .severity = TB_SEV_WARNING,
    .about = "control characters other than tab and newline (escape codes, NUL, C1 controls)",
    .hint = "strip them; they are usually leftovers of terminal output or a broken encoding",
    .row = control_chars_row,
};
