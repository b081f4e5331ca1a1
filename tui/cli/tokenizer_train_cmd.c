/* tunebench tokenizer-train — a byte-level BPE tokenizer from a text corpus. */
#include <getopt.h>
#include <stdio.h>

#include "engine/tokenizer/train.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench tokenizer-train --corpus FILE --vocab-size N --out tokenizer.json\n"
            "                                 [--min-frequency N]\n\n"
            "Learns a GPT-2 style byte-level BPE tokenizer (GPT-2 pre-split regex, 256-byte\n"
            "alphabet, merges by pair frequency) and writes a Hugging Face tokenizer.json.\n"
            "Ids 0 and 1 are the special tokens <|endoftext|> (bos/eos) and <|pad|>; N counts them\n"
            "and the 256 byte tokens. Pairs seen fewer than --min-frequency times (default 2)\n"
            "are never merged, so a small corpus can end below N.\n");
}

int tb_cmd_tokenizer_train(int argc, char **argv)
{
    static const struct option opts[] = {
        {"corpus", required_argument, 0, 'c'},        {"vocab-size", required_argument, 0, 'v'},
        {"out", required_argument, 0, 'o'},           {"min-frequency", required_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},                {0, 0, 0, 0},
    };
    const char *corpus = NULL, *out = NULL;
    long vocab = 0, minf = 2;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': corpus = optarg; break;
        case 'o': out = optarg; break;
        case 'v':
            if (!tb_cli_parse_long("tokenizer-train", "--vocab-size", optarg, 258, 1 << 22, &vocab))
                return TB_EXIT_USAGE;
            break;
        case 'f':
            if (!tb_cli_parse_long("tokenizer-train", "--min-frequency", optarg, 1, 1L << 40, &minf))
                return TB_EXIT_USAGE;
            break;
        case 'h': usage(stdout); return TB_EXIT_OK;
        default: usage(stderr); return TB_EXIT_USAGE;
        }
    }
    if (optind < argc || !corpus || !out || !vocab) {
        fprintf(stderr, "tunebench tokenizer-train: --corpus, --vocab-size and --out are required\n");
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    tb_bpe_train_opts o = {(int32_t)vocab, minf};
    tb_bpe_train_stats st;
    tb_error err;
    tb_error_clear(&err);
    if (tb_bpe_train_file(corpus, &o, out, &st, &err) != TB_OK) {
        tb_cli_print_error("tokenizer-train", &err);
        return TB_EXIT_USAGE;
    }
    printf("%s: vocab %d (%d merges) from %lld bytes, %lld pre-tokens, %lld distinct, in %.1f s\n", out,
           st.vocab_size, st.merges, (long long)st.bytes, (long long)st.words, (long long)st.unique_words,
           st.seconds);
    return TB_EXIT_OK;
}
