/* tunebench — the registry of checks, in the order reports list them. The names are stable:
 * JSON output, tests and CI scripts use them. */
#include <string.h>

#include "validators/check.h"

extern const tb_check_class tb_check_invalid_json, tb_check_invalid_csv, tb_check_invalid_utf8,
    tb_check_missing_field, tb_check_unknown_field, tb_check_empty_output, tb_check_placeholder_input,
    tb_check_dup_exact, tb_check_dup_near, tb_check_length_outlier, tb_check_format_inconsistent,
    tb_check_merged_instruction, tb_check_url_reference, tb_check_placeholder_text, tb_check_control_chars,
    tb_check_pii, tb_check_chat_roles, tb_check_token_length, tb_check_leakage, tb_check_rule;

const tb_check_class *const tb_check_classes[] = {
    &tb_check_invalid_json,
    &tb_check_invalid_csv,
    &tb_check_invalid_utf8,
    &tb_check_missing_field,
    &tb_check_unknown_field,
    &tb_check_empty_output,
    &tb_check_placeholder_input,
    &tb_check_dup_exact,
    &tb_check_dup_near,
    &tb_check_length_outlier,
    &tb_check_format_inconsistent,
    &tb_check_merged_instruction,
    &tb_check_url_reference,
    &tb_check_placeholder_text,
    &tb_check_control_chars,
    &tb_check_pii,
    &tb_check_chat_roles,
    &tb_check_token_length,
    &tb_check_leakage,
    &tb_check_rule,
    NULL,
};

int tb_check_count(void)
{
    int n = 0;
    while (tb_check_classes[n])
        n++;
    return n;
}

const char *tb_check_name(int c) { return c >= 0 && c < tb_check_count() ? tb_check_classes[c]->name : "?"; }
tb_severity tb_check_severity(int c) { return c >= 0 && c < tb_check_count() ? tb_check_classes[c]->severity : TB_SEV_INFO; }
const char *tb_check_hint(int c) { return c >= 0 && c < tb_check_count() ? tb_check_classes[c]->hint : ""; }
const char *tb_check_about(int c) { return c >= 0 && c < tb_check_count() ? tb_check_classes[c]->about : ""; }

int tb_check_find(const char *name)
{
    for (int c = 0; tb_check_classes[c]; c++)
        if (strcmp(tb_check_classes[c]->name, name) == 0)
            return c;
    return -1;
}
