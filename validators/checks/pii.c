/* tunebench — personal data and secrets: e-mail addresses, phone numbers, API keys and
 * tokens, IBANs (mod-97 checked) and card numbers (Luhn checked), found with PCRE2.
 *
 * Documentation stand-ins are not personal data and are left alone: example.com and the
 * other reserved domains (RFC 2606), John/Jane Doe, 555 and 123-456-7890 phone numbers, the
 * card and IBAN numbers payment docs publish for testing, keys with EXAMPLE or xxxx in them.
 * Findings mask what they found: a report must not spread the secret further. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "validators/check.h"
#include "validators/regex.h"

enum { R_EMAIL, R_PHONE, R_KEY, R_IBAN, R_CARD, R_COUNT };

static const char *const patterns[R_COUNT] = {
    "[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}\\b",
    /* not inside a longer run of digit groups (card numbers, IBANs, big numbers) */
    ("(?<![\\w+\\-./])(?<!\\d[ .-])(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{2,4}\\)[ .-]?|\\d{2,4}[ .-])\\d{3,4}[ .-]\\d{3,5}"
    "(?![\\w\\-/]|[ .-]?\\d)"),
    ("\\b(?:sk-(?:proj-|live-|test-|ant-)?[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}"
    "|AKIA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|hf_[A-Za-z0-9]{30,}"
    "|glpat-[A-Za-z0-9_-]{20})\\b|-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"
    "|\\bBearer\\s+[A-Za-z0-9._~+/-]{20,}=*"),
    "\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\\b",
    "(?<![\\d-])(?:\\d[ -]?){12,18}\\d(?![\\d-])",
};

typedef struct pii_state {
    tb_regex re[R_COUNT];
} pii_state;

static tb_status pii_init(void **state, const tb_validate_opts *opts, tb_error *err)
{
    (void)opts;
    pii_state *s = calloc(1, sizeof *s);
    if (!s)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    for (int i = 0; i < R_COUNT; i++) {
        tb_status st = tb_regex_compile(&s->re[i], patterns[i], 0, err);
        if (st != TB_OK) {
            for (int k = 0; k < i; k++)
                tb_regex_free(&s->re[k]);
            free(s);
            return st;
        }
    }
    *state = s;
    return TB_OK;
}

static void pii_destroy(void *state)
{
    pii_state *s = state;
    if (!s)
        return;
    for (int i = 0; i < R_COUNT; i++)
        tb_regex_free(&s->re[i]);
    free(s);
}

/* Digits of s[a, b) into out (at most size-1), returns their count. */
static size_t digits_of(const char *s, size_t a, size_t b, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = a; i < b; i++)
        if (isdigit((unsigned char)s[i])) {
            if (n + 1 < size)
                out[n] = s[i];
            n++;
        }
    out[n < size ? n : size - 1] = '\0';
    return n;
}

static bool ci_contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(s + i, needle, k) == 0)
            return true;
    return false;
}

/* ---- stand-ins ---------------------------------------------------------------------- */

static bool ends_with_ci(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && strncasecmp(s + n - k, suffix, k) == 0;
}

static bool placeholder_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at)
        return false;
    size_t ln = (size_t)(at - s);
    const char *dom = at + 1;
    size_t dn = n - ln - 1;
    static const char *const domains[] = {"example.com", "example.org", "example.net", ".example", ".test",
                                          ".invalid", ".localhost", "domain.com", "yourdomain.com",
                                          "yourcompany.com", "company.com", "email.com"};
    for (size_t i = 0; i < sizeof domains / sizeof domains[0]; i++)
        if (ends_with_ci(dom, dn, domains[i]) &&
            (dn == strlen(domains[i]) || domains[i][0] == '.' || dom[dn - strlen(domains[i]) - 1] == '.'))
            return true;
    static const char *const locals[] = {"johndoe", "janedoe", "john.doe", "jane.doe", "john_doe", "jane_doe",
                                         "jdoe", "yourname", "your.name", "your_name", "youremail", "your.email",
                                         "username", "user", "someone", "name", "test", "example"};
    for (size_t i = 0; i < sizeof locals / sizeof locals[0]; i++)
        if (ln == strlen(locals[i]) && strncasecmp(s, locals[i], ln) == 0)
            return true;
    return false;
}

static bool placeholder_phone(const char *digits, size_t n)
{
    if (strstr(digits, "1234567") || strstr(digits, "0000000"))
        return true;
    /* NANP: 555 as the exchange (or area code) is reserved for fiction. */
    if (n >= 10) {
        const char *local = digits + n - 10;
        if (strncmp(local, "555", 3) == 0 || strncmp(local + 3, "555", 3) == 0)
            return true;
    }
    return false;
}

static bool luhn(const char *digits, size_t n)
{
    int sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = digits[n - 1 - i] - '0';
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

/* Issuer prefixes of the big networks: Visa, Mastercard, Amex, Discover, JCB, Diners. */
static bool card_prefix(const char *d, size_t n)
{
    int p2 = (d[0] - '0') * 10 + (d[1] - '0');
    int p4 = p2 * 100 + (d[2] - '0') * 10 + (d[3] - '0');
    if (d[0] == '4')
        return n == 13 || n == 16 || n == 19;
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
        return n == 16;
    if (p2 == 34 || p2 == 37)
        return n == 15;
    if (p4 == 6011 || p2 == 65 || (p4 >= 3528 && p4 <= 3589))
        return n >= 16;
    if (p2 == 36 || p2 == 38 || (p4 >= 3000 && p4 <= 3059))
        return n == 14;
    return false;
}

static bool test_card(const char *d)
{
    static const char *const cards[] = {"4111111111111111", "4242424242424242", "4012888888881881",
                                        "5555555555554444", "5105105105105100", "378282246310005",
                                        "371449635398431", "6011111111111117", "4000056655665556",
                                        "5200828282828210", "4000000000000002", "30569309025904"};
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++)
        if (strcmp(d, cards[i]) == 0)
            return true;
    return false;
}

/* ISO 13616: move the first four characters to the end, letters → 10..35, mod 97 == 1. */
static bool iban_valid(const char *s, size_t a, size_t b, char *compact, size_t size)
{
    size_t n = 0;
    for (size_t i = a; i < b; i++)
        if (s[i] != ' ' && n + 1 < size)
            compact[n++] = s[i];
    compact[n] = '\0';
    if (n < 15 || n > 34)
        return false;
    int rem = 0;
    for (size_t k = 0; k < n; k++) {
        char c = compact[(k + 4) % n];
        int v = isdigit((unsigned char)c) ? c - '0' : c - 'A' + 10;
        rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
    }
    return rem == 1;
}

static bool fake_key(const char *s, size_t n)
{
    if (ci_contains(s, n, "xxxx") || ci_contains(s, n, "example") || ci_contains(s, n, "your") ||
        ci_contains(s, n, "...") || ci_contains(s, n, "<"))
        return true;
    /* A long run of one character is a redaction, not a key. */
    for (size_t i = 0; i + 8 <= n; i++) {
        size_t k = 1;
        while (k < 8 && s[i + k] == s[i])
            k++;
        if (k == 8)
            return true;
    }
    return false;
}

/* ---- the check ---------------------------------------------------------------------- */

static void emit(tb_vctx *ctx, const tb_row *row, const tb_text *t, size_t ms, size_t me, const char *what,
                 const char *shown)
{
    tb_vctx_emit(ctx, row, t->field, ms, me - ms, "%s holds %s (%s)", t->field, what, shown);
}

static void scan(pii_state *s, tb_vctx *ctx, const tb_row *row, const tb_text *t)
{
    const char *x = t->text;
    size_t n = t->len, ms, me, pos;
    char d[64], shown[80];
    if (memchr(x, '@', n))
        for (pos = 0; tb_regex_find(&s->re[R_EMAIL], x, n, pos, &ms, &me); pos = me)
            if (!placeholder_email(x + ms, me - ms)) {
                const char *at = memchr(x + ms, '@', me - ms);
                snprintf(shown, sizeof shown, "%c***%.*s", x[ms], (int)(me - (size_t)(at - x)), at);
                emit(ctx, row, t, ms, me, "an e-mail address", shown);
            }
    for (pos = 0; tb_regex_find(&s->re[R_KEY], x, n, pos, &ms, &me); pos = me)
        if (!fake_key(x + ms, me - ms)) {
            snprintf(shown, sizeof shown, "%.*s***", (int)((me - ms) < 6 ? me - ms : 6), x + ms);
            emit(ctx, row, t, ms, me, "what looks like an API key, token or private key", shown);
        }
    /* Number-shaped PII needs at least 9 digits in the text: most texts have fewer. */
    size_t digits = 0;
    for (size_t i = 0; i < n && digits < 9; i++)
        digits += isdigit((unsigned char)x[i]) != 0;
    if (digits < 9)
        return;
    size_t card_end = 0;
    for (pos = 0; tb_regex_find(&s->re[R_CARD], x, n, pos, &ms, &me); pos = me) {
        size_t k = digits_of(x, ms, me, d, sizeof d);
        if (k >= 13 && k <= 19 && card_prefix(d, k) && luhn(d, k) && !test_card(d)) {
            snprintf(shown, sizeof shown, "ending %s", d + k - 4);
            emit(ctx, row, t, ms, me, "a payment card number (Luhn valid)", shown);
            card_end = me;
        }
    }
    for (pos = 0; tb_regex_find(&s->re[R_IBAN], x, n, pos, &ms, &me); pos = me) {
        char iban[40];
        if (iban_valid(x, ms, me, iban, sizeof iban) && strcmp(iban, "GB82WEST12345698765432") != 0 &&
            strcmp(iban, "DE89370400440532013000") != 0) {
            snprintf(shown, sizeof shown, "%.4s***", iban);
            emit(ctx, row, t, ms, me, "an IBAN (checksum valid)", shown);
        }
    }
    for (pos = 0; tb_regex_find(&s->re[R_PHONE], x, n, pos, &ms, &me); pos = me) {
        if (ms < card_end)
            continue;
        size_t k = digits_of(x, ms, me, d, sizeof d);
        if (k < 10 || k > 15 || placeholder_phone(d, k))
            continue;
        /* Groups of exactly three after the first are thousands separators: a number. */
        bool thousands = true;
        size_t run = 0;
        bool first = true;
        for (size_t i = ms; i <= me; i++) {
            if (i < me && isdigit((unsigned char)x[i])) {
                run++;
            } else if (run) {
                if (!first && run != 3)
                    thousands = false;
                first = false;
                run = 0;
            }
        }
        if (thousands)
            continue;
        snprintf(shown, sizeof shown, "ending %s", d + k - 2);
        emit(ctx, row, t, ms, me, "a phone number", shown);
    }
}

static void pii_row(void *state, tb_vctx *ctx, const tb_row *row)
{
    for (int i = 0; i < row->n_texts; i++)
        scan(state, ctx, row, &row->texts[i]);
}

const tb_check_class tb_check_pii = {
    .name = "pii",
    .severity = TB_SEV_WARNING,
    .about = "e-mail addresses, phone numbers, API keys and tokens, IBANs, card numbers (Luhn)",
    .hint = "replace real personal data and secrets with stand-ins (jane.doe@example.com) or drop the row",
    .init = pii_init,
    .row = pii_row,
    .destroy = pii_destroy,
};
