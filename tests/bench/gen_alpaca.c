/* tunebench bench — synthetic alpaca JSONL of a given size, deterministic (fixed seed).
 *
 *   gen_alpaca OUT.jsonl MEGABYTES
 *
 * Rows look like Alpaca: a templated instruction, an input a third of the time, an output of
 * 20-250 words of pronounceable made-up words with sentence punctuation, numbers, now and
 * then a Markdown list. About 1% exact duplicates and 1% near duplicates, so every check has
 * work; otherwise clean (the benchmark measures speed, not findings). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int rnd(int n) { return (int)(next() % (uint64_t)n); }

static const char *const onset[] = {"b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w",
                                    "st", "tr", "pl", "gr", "ch", "sh", "th", "br", "cl"};
static const char *const nucleus[] = {"a", "e", "i", "o", "u", "ea", "ou", "ai", "io"};
static const char *const coda[] = {"", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ck"};

#define VOCAB 4000
static char vocab[VOCAB][24];

static void make_vocab(void)
{
    for (int i = 0; i < VOCAB; i++) {
        int syl = 1 + rnd(3);
        vocab[i][0] = '\0';
        for (int s = 0; s < syl; s++) {
            strcat(vocab[i], onset[rnd(24)]);
            strcat(vocab[i], nucleus[rnd(9)]);
            strcat(vocab[i], coda[rnd(11)]);
        }
    }
}

/* Zipf-ish word choice: frequent words are frequent. */
static const char *word(void)
{
    int r = rnd(VOCAB);
    return vocab[(int)((uint64_t)r * (uint64_t)r / VOCAB)];
}

static size_t sentence(char *out, int words, bool cap)
{
    size_t n = 0;
    for (int w = 0; w < words; w++) {
        const char *x = word();
        n += (size_t)sprintf(out + n, "%s%s", w ? " " : "", x);
        if (w == 0 && cap && out[0] >= 'a' && out[0] <= 'z')
            out[0] = (char)(out[0] - 32);
        if (w > 2 && w < words - 1 && rnd(12) == 0)
            n += (size_t)sprintf(out + n, ",");
        if (rnd(40) == 0)
            n += (size_t)sprintf(out + n, " %d", rnd(2000));
    }
    out[n++] = '.';
    out[n] = '\0';
    return n;
}

static const char *const verbs[] = {"Explain", "Describe", "Summarize", "List", "Write", "Give", "Classify",
                                    "Rewrite", "Translate", "Generate", "Compare", "Identify"};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_alpaca OUT.jsonl MEGABYTES\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    make_vocab();
    long long target = atoll(argv[2]) * 1000000LL, written = 0;
    static char ins[1024], inp[4096], out[16384], line[32768], prev[32768];
    long rows = 0;
    while (written < target) {
        int kind = rnd(100);
        if (kind == 0 && rows > 0) { /* exact duplicate of the previous row */
            fputs(prev, f);
            written += (long long)strlen(prev);
            rows++;
            continue;
        }
        char s[512];
        sentence(s, 4 + rnd(10), false);
        s[strlen(s) - 1] = '\0';
        snprintf(ins, sizeof ins, "%s %s the %s of %s.", verbs[rnd(12)], rnd(2) ? "briefly" : "in detail", word(), s);
        inp[0] = '\0';
        if (rnd(3) == 0)
            sentence(inp, 8 + rnd(40), true);
        size_t n = 0;
        int paragraphs = 1 + rnd(3);
        for (int p = 0; p < paragraphs; p++) {
            if (p)
                n += (size_t)sprintf(out + n, "\\n\\n");
            if (rnd(6) == 0) {
                for (int i = 1; i <= 3 + rnd(4); i++) {
                    n += (size_t)sprintf(out + n, "%s%d. ", i > 1 ? "\\n" : "", i);
                    n += sentence(out + n, 4 + rnd(8), true);
                }
            } else {
                int sentences = 1 + rnd(5);
                for (int k = 0; k < sentences; k++) {
                    if (k)
                        out[n++] = ' ';
                    n += sentence(out + n, 5 + rnd(18), true);
                }
            }
        }
        out[n] = '\0';
        int len = snprintf(line, sizeof line, "{\"instruction\": \"%s\", \"input\": \"%s\", \"output\": \"%s\"}\n", ins,
                           inp, out);
        if (kind == 1 && rows > 0) { /* near duplicate: the previous row with one instruction word changed */
            strcpy(line, prev);
            char *sp = strstr(line, " the ");
            if (sp)
                sp[5] = sp[5] == 'q' ? 'z' : 'q';
            len = (int)strlen(line);
        }
        fputs(line, f);
        memcpy(prev, line, (size_t)len + 1);
        written += len;
        rows++;
    }
    fclose(f);
    fprintf(stderr, "gen_alpaca: %ld rows, %lld bytes\n", rows, written);
    return 0;
}
