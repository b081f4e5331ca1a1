/* tunebench — small text helpers shared by the checks. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "validators/check.h"

static bool ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool tb_is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!ws(s[i]))
            return false;
    return true;
}

bool tb_trimmed_equals_ci(const char *s, size_t n, const char *word)
{
    size_t a = 0, b = n;
    while (a < b && ws(s[a]))
        a++;
    while (b > a && ws(s[b - 1]))
        b--;
    size_t w = strlen(word);
    return b - a == w && strncasecmp(s + a, word, w) == 0;
}

void tb_excerpt(char *out, size_t size, const char *s, size_t off, size_t len, size_t max)
{
    size_t o = 0;
    if (size == 0)
        return;
    for (size_t i = 0; i < len && o + 4 < size; i++) {
        unsigned char c = (unsigned char)s[off + i];
        if (i >= max) {
            /* Cut on a character boundary, then mark it. */
            while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80)
                o--;
            if (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0xC0)
                o--;
            if (o + 4 < size) {
                memcpy(out + o, "...", 3);
                o += 3;
            }
            break;
        }
        if (c == '\n') {
            if (o + 4 >= size)
                break;
            memcpy(out + o, "\\n", 2);
            o += 2;
        } else if (c == '\r' || c == '\t') {
            if (o + 4 >= size)
                break;
            out[o++] = '\\';
            out[o++] = c == '\r' ? 'r' : 't';
        } else if (c < 0x20 || c == 0x7F) {
            if (o + 6 >= size)
                break;
            o += (size_t)snprintf(out + o, size - o, "\\x%02X", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
}

bool tb_is_placeholder_input(const char *s, size_t n)
{
    /* The AlpacaDataCleaned list of "no input" stand-ins; "N/A" too. */
    static const char *const words[] = {"<noinput>", "<no input>", "no input", "no input.", "noinput", "n/a",
                                        "<n/a>", "none."};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (tb_trimmed_equals_ci(s, n, words[i]))
            return true;
    return false;
}

bool tb_is_empty_output(const char *s, size_t n)
{
    static const char *const words[] = {"n/a", "<no output>", "<nooutput>", "no output", "<n/a>"};
    if (tb_is_blank(s, n))
        return true;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (tb_trimmed_equals_ci(s, n, words[i]))
            return true;
    return false;
}
