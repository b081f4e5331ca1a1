/* tunebench generate — text (or token ids) from a prompt, streamed as it is produced. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/template.h"
#include "engine/eval/prompt.h"
#include "engine/lora/lora.h"
#include "engine/model/generate.h"
#include "tb_config.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"
#include "tui/cli/model_opts.h"
#if TB_HAVE_TOKENIZER
#include "engine/tokenizer/tokenizer.h"
#endif

#define MAX_STOP 8

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench generate --model DIR (--prompt TEXT | --ids 1,2,3) [options]\n\n"
            "Options:\n"
            "  --adapter DIR               apply a PEFT LoRA adapter (e.g. runs/1/adapter)\n"
            "  --max-new N                 tokens to generate at most (default 64)\n"
            "  --temperature T             0 = greedy (default); > 0 samples\n"
            "  --top-k K                   keep the K most likely tokens (default 0: all)\n"
            "  --top-p P                   keep the smallest set with probability >= P (default 1)\n"
            "  --repetition-penalty R      penalise tokens already seen (default 1: off)\n"
            "  --seed S                    sampling seed (default 0)\n"
            "  --stop STR                  stop once the text ends with STR (repeatable)\n"
            "  --template alpaca|chatml|llama3|plain\n"
            "                              ask as training asked: the prompt is an instruction (alpaca)\n"
            "                              or a user turn, in the template's prompt part, BOS as the\n"
            "                              trainer adds it (default: the prompt's bytes as they are)\n"
            "  --stats                     print prefill and decode speed to stderr\n" TB_CLI_MODEL_USAGE
            "\nWith --ids the output is the generated ids, comma-separated; with --prompt, the text.\n");
}

typedef struct stream {
#if TB_HAVE_TOKENIZER
    const tb_tokenizer *tok;
#endif
    int32_t *ids;          /* generated so far */
    size_t n, cap, printed; /* printed: bytes of decoded text already written */
} stream;

#if TB_HAVE_TOKENIZER
static char *decode_ids(void *ctx, const int32_t *ids, size_t n)
{
    stream *s = ctx;
    char *text = NULL;
    tb_error err;
    if (tb_tokenizer_decode(s->tok, ids, n, true, &text, &err) != TB_OK)
        return NULL;
    return text;
}
#endif

/* Print each token as it comes: the ids, or the new text (held back while the text ends in
 * an incomplete UTF-8 sequence, which decodes to U+FFFD until its last byte arrives). */
static bool on_token(void *ctx, int32_t tok)
{
    stream *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        int32_t *g = realloc(s->ids, cap * sizeof *g);
        if (!g)
            return false;
        s->ids = g, s->cap = cap;
    }
    s->ids[s->n++] = tok;
#if TB_HAVE_TOKENIZER
    if (s->tok) {
        char *text = decode_ids(s, s->ids, s->n);
        if (text) {
            size_t len = strlen(text);
            bool partial = len >= 3 && memcmp(text + len - 3, "\xef\xbf\xbd", 3) == 0;
            if (!partial && len > s->printed) {
                fwrite(text + s->printed, 1, len - s->printed, stdout);
                s->printed = len;
            }
            free(text);
        }
        fflush(stdout);
        return true;
    }
#endif
    printf("%s%d", s->n > 1 ? "," : "", tok);
    fflush(stdout);
    return true;
}

int tb_cmd_generate(int argc, char **argv)
{
    enum { OPT_PROMPT = 1, OPT_IDS, OPT_MAX_NEW, OPT_TEMP, OPT_TOPK, OPT_TOPP, OPT_REP, OPT_SEED, OPT_STOP,
           OPT_STATS, OPT_ADAPTER, OPT_TEMPLATE, OPT_HELP };
    const struct option opts[] = {
        TB_CLI_MODEL_OPTIONS,
        {"prompt", required_argument, NULL, OPT_PROMPT},
        {"ids", required_argument, NULL, OPT_IDS},
        {"max-new", required_argument, NULL, OPT_MAX_NEW},
        {"temperature", required_argument, NULL, OPT_TEMP},
        {"top-k", required_argument, NULL, OPT_TOPK},
        {"top-p", required_argument, NULL, OPT_TOPP},
        {"repetition-penalty", required_argument, NULL, OPT_REP},
        {"seed", required_argument, NULL, OPT_SEED},
        {"stop", required_argument, NULL, OPT_STOP},
        {"stats", no_argument, NULL, OPT_STATS},
        {"adapter", required_argument, NULL, OPT_ADAPTER},
        {"template", required_argument, NULL, OPT_TEMPLATE},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    tb_cli_model_opts mo;
    tb_cli_model_opts_init(&mo);
    const char *prompt = NULL, *ids_text = NULL, *adapter = NULL, *stop[MAX_STOP];
    int n_stop = 0;
    bool stats = false, templated = false;
    tb_template_kind kind = TB_TEMPLATE_PLAIN;
    long max_new = 64, top_k = 0, seed = 0;
    double temp = 0, top_p = 1, rep = 1;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool handled, ok = true;
        if (!tb_cli_model_opt("generate", c, optarg, &mo, &handled))
            return TB_EXIT_USAGE;
        if (handled)
            continue;
        switch (c) {
        case OPT_PROMPT: prompt = optarg; break;
        case OPT_IDS: ids_text = optarg; break;
        case OPT_MAX_NEW: ok = tb_cli_parse_long("generate", "--max-new", optarg, 0, 1000000, &max_new); break;
        case OPT_TEMP: ok = tb_cli_parse_double("generate", "--temperature", optarg, 0, 100, &temp); break;
        case OPT_TOPK: ok = tb_cli_parse_long("generate", "--top-k", optarg, 0, 1L << 30, &top_k); break;
        case OPT_TOPP: ok = tb_cli_parse_double("generate", "--top-p", optarg, 1e-6, 1, &top_p); break;
        case OPT_REP: ok = tb_cli_parse_double("generate", "--repetition-penalty", optarg, 1e-3, 1e3, &rep); break;
        case OPT_SEED: ok = tb_cli_parse_long("generate", "--seed", optarg, 0, 0x7fffffffL, &seed); break;
        case OPT_STOP:
            if (n_stop == MAX_STOP || !optarg[0]) {
                fprintf(stderr, "tunebench generate: --stop: at most %d non-empty stop strings\n", MAX_STOP);
                return TB_EXIT_USAGE;
            }
            stop[n_stop++] = optarg;
            break;
        case OPT_STATS: stats = true; break;
        case OPT_ADAPTER: adapter = optarg; break;
        case OPT_TEMPLATE:
            if (!tb_template_parse(optarg, &kind)) {
                fprintf(stderr, "tunebench generate: --template: '%s' is not alpaca, chatml, llama3 or plain\n",
                        optarg);
                return TB_EXIT_USAGE;
            }
            templated = true;
            break;
        case OPT_HELP: usage(stdout); return TB_EXIT_OK;
        default:
            fprintf(stderr, "tunebench generate: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
        if (!ok)
            return TB_EXIT_USAGE;
    }
    if (optind < argc || !mo.model || (!prompt == !ids_text)) {
        fprintf(stderr, "tunebench generate: %s\n",
                optind < argc ? "unexpected argument" : "--model and one of --prompt or --ids are required");
        usage(stderr);
        return TB_EXIT_USAGE;
    }
#if !TB_HAVE_TOKENIZER
    if (prompt || n_stop) {
        fprintf(stderr, "tunebench generate: %s needs the tokenizer, which this build does not have yet: "
                        "pass token ids with --ids\n", prompt ? "--prompt" : "--stop");
        return TB_EXIT_USAGE;
    }
#endif
    tb_backend *be;
    tb_llama *m;
    if (!tb_cli_open_model("generate", &mo, &be, &m))
        return TB_EXIT_USAGE;
    int rc = TB_EXIT_USAGE;
    tb_error err;
    tb_error_clear(&err);
    stream s = {0};
    tb_lora *lo = NULL; /* attached to m while generating; m does not own it */
    if (adapter) {
        if (tb_lora_load_peft(&lo, adapter, &m->cfg, be, false, &err) != TB_OK) {
            tb_cli_print_error("generate", &err);
            tb_llama_free(m);
            tb_backend_destroy(be);
            return TB_EXIT_USAGE;
        }
        m->lora = lo;
    }
    int32_t *ids = NULL, eos[TB_MAX_EOS + 1];
    int64_t n_ids = 0;
    int n_eos = 0;
    for (int i = 0; i < m->cfg.n_eos; i++)
        eos[n_eos++] = (int32_t)m->cfg.eos_ids[i];
#if TB_HAVE_TOKENIZER
    tb_tokenizer *tok = NULL;
    if (prompt || n_stop) {
        if (tb_tokenizer_load_dir(&tok, mo.model, &err) != TB_OK)
            goto done;
        s.tok = tok;
        if (tb_tokenizer_eos(tok) >= 0)
            eos[n_eos++] = tb_tokenizer_eos(tok);
    }
    if (prompt && templated) { /* the same prompt ids the Eval screen and tunebench eval use */
        if (tb_eval_prompt_ids(tok, kind, prompt, &ids, &n_ids, &err) != TB_OK)
            goto done;
    } else if (prompt) {
        size_t n = 0;
        if (tb_tokenizer_encode(tok, prompt, strlen(prompt), true, &ids, &n, &err) != TB_OK)
            goto done;
        n_ids = (int64_t)n;
    }
#endif
    if (ids_text && !tb_cli_parse_ids("generate", "--ids", ids_text, &ids, &n_ids))
        goto done_quiet;
    if (n_ids == 0) {
        tb_error_set(&err, TB_ERR_INVALID, NULL, 0, "--prompt", "the prompt encodes to no tokens");
        goto done;
    }
    tb_generate_opts go = {
        .sampler = {(float)temp, (int)top_k, (float)top_p, (float)rep, (uint64_t)seed},
        .max_new = max_new, .eos = eos, .n_eos = n_eos, .stop = stop, .n_stop = n_stop,
        .on_token = on_token, .token_ctx = &s,
    };
#if TB_HAVE_TOKENIZER
    if (tok) {
        go.decode = decode_ids;
        go.decode_ctx = &s;
    }
#endif
    tb_generate_result res;
    if (tb_llama_generate(m, ids, n_ids, &go, &res, &err) != TB_OK)
        goto done;
#if TB_HAVE_TOKENIZER
    if (tok && s.n) { /* what was held back for an unfinished UTF-8 sequence */
        char *text = decode_ids(&s, s.ids, s.n);
        if (text && strlen(text) > s.printed)
            fputs(text + s.printed, stdout);
        free(text);
    }
#endif
    printf("\n");
    if (stats) {
        static const char *const why[] = {"max-new reached", "end of sequence", "stop string", "stopped"};
        fprintf(stderr, "prompt %lld tokens in %.3f s (%.1f tokens/s); %lld new tokens, decode %.1f tokens/s; %s\n",
                (long long)n_ids, res.prefill_s, (double)n_ids / (res.prefill_s > 0 ? res.prefill_s : 1e-9),
                (long long)res.n, res.n > 1 && res.decode_s > 0 ? (double)(res.n - 1) / res.decode_s : 0.0,
                why[res.reason]);
        fprintf(stderr, "%s\n", be->description);
    }
    free(res.ids);
    rc = TB_EXIT_OK;
done:
    if (rc != TB_EXIT_OK)
        tb_cli_print_error("generate", &err);
done_quiet:
#if TB_HAVE_TOKENIZER
    tb_tokenizer_free(tok);
#endif
    free(s.ids);
    free(ids);
    m->lora = NULL;
    tb_lora_free(lo);
    tb_llama_free(m);
    tb_backend_destroy(be);
    return rc;
}
