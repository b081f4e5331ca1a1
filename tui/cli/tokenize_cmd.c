/* tunebench tokenize / detokenize — the tokenizer, headless. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/tokenizer/tokenizer.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"

static void usage_tokenize(FILE *out)
{
    fprintf(out,
            "usage: tunebench tokenize (--model DIR | --tokenizer FILE) (--text S | --file F)\n"
            "                          [--add-special] [--json]\n\n"
            "Prints the token ids of the text: one line per --text, or one line per line of --file\n"
            "(the line's \"\\n\" or \"\\r\\n\" is not part of it). --json prints each line as a JSON\n"
            "array. --add-special adds what the tokenizer's post-processor adds (e.g. BOS), as\n"
            "Hugging Face's add_special_tokens=True does.\n");
}

static void usage_detokenize(FILE *out)
{
    fprintf(out, "usage: tunebench detokenize (--model DIR | --tokenizer FILE) --ids 1,2,3 [--skip-special]\n\n"
                 "Prints the text of the ids (comma- or space-separated), then a newline.\n");
}

/* Loads from --model DIR or --tokenizer FILE; prints the error and returns NULL on failure. */
static tb_tokenizer *load(const char *cmd, const char *model, const char *file)
{
    tb_tokenizer *tok = NULL;
    tb_error err;
    tb_error_clear(&err);
    tb_status st = model ? tb_tokenizer_load_dir(&tok, model, &err) : tb_tokenizer_load(&tok, file, &err);
    if (st != TB_OK) {
        tb_cli_print_error(cmd, &err);
        return NULL;
    }
    return tok;
}

static bool print_ids(const tb_tokenizer *tok, const char *text, size_t len, bool special, bool json)
{
    int32_t *ids = NULL;
    size_t n = 0;
    tb_error err;
    if (tb_tokenizer_encode(tok, text, len, special, &ids, &n, &err) != TB_OK) {
        tb_cli_print_error("tokenize", &err);
        return false;
    }
    if (json)
        putchar('[');
    for (size_t i = 0; i < n; i++)
        printf(i ? (json ? ",%d" : " %d") : "%d", ids[i]);
    puts(json ? "]" : "");
    free(ids);
    return true;
}

int tb_cmd_tokenize(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"tokenizer", required_argument, 0, 't'},
        {"text", required_argument, 0, 'x'},  {"file", required_argument, 0, 'f'},
        {"json", no_argument, 0, 'j'},        {"add-special", no_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *model = NULL, *tfile = NULL, *text = NULL, *file = NULL;
    bool json = false, special = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 't': tfile = optarg; break;
        case 'x': text = optarg; break;
        case 'f': file = optarg; break;
        case 'j': json = true; break;
        case 's': special = true; break;
        case 'h': usage_tokenize(stdout); return TB_EXIT_OK;
        default: usage_tokenize(stderr); return TB_EXIT_USAGE;
        }
    }
    if (optind < argc || !model == !tfile || !text == !file) {
        fprintf(stderr, "tunebench tokenize: give one of --model/--tokenizer and one of --text/--file\n");
        usage_tokenize(stderr);
        return TB_EXIT_USAGE;
    }
    FILE *in = NULL;
    if (file && !(in = fopen(file, "rb"))) {
        fprintf(stderr, "tunebench tokenize: %s: cannot open: %s\n", file, strerror(errno));
        return TB_EXIT_USAGE;
    }
    tb_tokenizer *tok = load("tokenize", model, tfile);
    if (!tok) {
        if (in)
            fclose(in);
        return TB_EXIT_USAGE;
    }
    int rc = TB_EXIT_OK;
    if (text) {
        rc = print_ids(tok, text, strlen(text), special, json) ? TB_EXIT_OK : TB_EXIT_USAGE;
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        while (rc == TB_EXIT_OK && (len = getline(&line, &cap, in)) >= 0) {
            if (len && line[len - 1] == '\n')
                len--;
            if (len && line[len - 1] == '\r')
                len--;
            if (!print_ids(tok, line, (size_t)len, special, json))
                rc = TB_EXIT_USAGE;
        }
        if (ferror(in)) {
            fprintf(stderr, "tunebench tokenize: %s: read error: %s\n", file, strerror(errno));
            rc = TB_EXIT_USAGE;
        }
        free(line);
        fclose(in);
    }
    tb_tokenizer_free(tok);
    return rc;
}

/* "1,2, 3" or "1 2 3" → ids; false (message printed) on anything else. */
static bool parse_ids(const char *s, int32_t **ids, size_t *n)
{
    size_t cap = 16;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    if (!*ids)
        return false;
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n' || *p == '[' || *p == ']')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX) {
            fprintf(stderr, "tunebench detokenize: --ids: '%.20s' is not a token id\n", p);
            return false;
        }
        if (*n == cap) {
            int32_t *g = realloc(*ids, (cap *= 2) * sizeof *g);
            if (!g)
                return false;
            *ids = g;
        }
        (*ids)[(*n)++] = (int32_t)v;
        p = end;
    }
    return true;
}

int tb_cmd_detokenize(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"tokenizer", required_argument, 0, 't'},
        {"ids", required_argument, 0, 'i'},   {"skip-special", no_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *model = NULL, *tfile = NULL, *ids_text = NULL;
    bool skip = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 't': tfile = optarg; break;
        case 'i': ids_text = optarg; break;
        case 's': skip = true; break;
        case 'h': usage_detokenize(stdout); return TB_EXIT_OK;
        default: usage_detokenize(stderr); return TB_EXIT_USAGE;
        }
    }
    if (optind < argc || !model == !tfile || !ids_text) {
        fprintf(stderr, "tunebench detokenize: give one of --model/--tokenizer, and --ids\n");
        usage_detokenize(stderr);
        return TB_EXIT_USAGE;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    if (!parse_ids(ids_text, &ids, &n)) {
        free(ids);
        return TB_EXIT_USAGE;
    }
    tb_tokenizer *tok = load("detokenize", model, tfile);
    if (!tok) {
        free(ids);
        return TB_EXIT_USAGE;
    }
    char *text = NULL;
    tb_error err;
    int rc = TB_EXIT_OK;
    if (tb_tokenizer_decode(tok, ids, n, skip, &text, &err) != TB_OK) {
        tb_cli_print_error("detokenize", &err);
        rc = TB_EXIT_USAGE;
    } else {
        puts(text);
    }
    free(text);
    free(ids);
    tb_tokenizer_free(tok);
    return rc;
}
