/* tunebench eval — before/after evaluation of adapters on held-out data (engine/eval). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/eval/evaluate.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"
#include "tui/cli/model_opts.h"

#define MAX_ADAPTERS 8

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench eval --model DIR [--adapter DIR]... --data FILE [options]\n\n"
            "The base model and base + each adapter on the same held-out examples: response loss and\n"
            "perplexity (masked as in training), exact match and length ratio of greedy generations,\n"
            "a per-example table with the generations side by side and the delta per metric.\n\n"
            "Options:\n"
            "  --adapter DIR               a PEFT adapter directory (repeatable; compared with the base)\n"
            "  --general FILE              plain text for the regression check (perplexity before/after)\n"
            "  --regression-threshold X    warn when general-text perplexity rises more than X (0.10)\n"
            "  --judge-cmd CMD             LLM-as-judge: pipe each judge prompt to CMD (sh -c), read\n"
            "                              \"accuracy,completeness,format\" scores 1-5 from its output\n"
            "  --judge-timeout S           seconds per judge call before it is killed (120)\n"
            "  --max-new N                 greedy tokens per example (128; 0: loss only)\n"
            "  --max-len N                 tokens per example at most (1024)\n"
            "  --limit N                   the first N examples only\n"
            "  --template alpaca|chatml|llama3|plain   (default: by the rows' shape, as in training)\n"
            "  --json                      the report as JSON\n" TB_CLI_MODEL_USAGE);
}

int tb_cmd_eval(int argc, char **argv)
{
    enum { OPT_ADAPTER = 1, OPT_DATA, OPT_GENERAL, OPT_THRESH, OPT_JUDGE, OPT_JUDGE_TO, OPT_MAXNEW, OPT_MAXLEN,
           OPT_LIMIT, OPT_TEMPLATE, OPT_JSON, OPT_HELP };
    const struct option opts[] = {
        TB_CLI_MODEL_OPTIONS,
        {"adapter", required_argument, NULL, OPT_ADAPTER},
        {"data", required_argument, NULL, OPT_DATA},
        {"general", required_argument, NULL, OPT_GENERAL},
        {"regression-threshold", required_argument, NULL, OPT_THRESH},
        {"judge-cmd", required_argument, NULL, OPT_JUDGE},
        {"judge-timeout", required_argument, NULL, OPT_JUDGE_TO},
        {"max-new", required_argument, NULL, OPT_MAXNEW},
        {"max-len", required_argument, NULL, OPT_MAXLEN},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"template", required_argument, NULL, OPT_TEMPLATE},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    tb_cli_model_opts mo;
    tb_cli_model_opts_init(&mo);
    const char *adapters[MAX_ADAPTERS], *data = NULL, *general = NULL;
    int n_adapters = 0;
    bool json = false;
    long max_len = 1024, limit = 0;
    tb_template_kind kind = TB_TEMPLATE_AUTO;
    tb_eval_opts eo;
    tb_eval_opts_init(&eo);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool handled, ok = true;
        long v;
        if (!tb_cli_model_opt("eval", c, optarg, &mo, &handled))
            return TB_EXIT_USAGE;
        if (handled)
            continue;
        switch (c) {
        case OPT_ADAPTER:
            if (n_adapters == MAX_ADAPTERS) {
                fprintf(stderr, "tunebench eval: --adapter: at most %d adapters\n", MAX_ADAPTERS);
                return TB_EXIT_USAGE;
            }
            adapters[n_adapters++] = optarg;
            break;
        case OPT_DATA: data = optarg; break;
        case OPT_GENERAL: general = optarg; break;
        case OPT_THRESH: ok = tb_cli_parse_double("eval", "--regression-threshold", optarg, 0, 100, &eo.threshold); break;
        case OPT_JUDGE: eo.judge_cmd = optarg; break;
        case OPT_JUDGE_TO: ok = tb_cli_parse_double("eval", "--judge-timeout", optarg, 0.1, 86400, &eo.judge_timeout_s); break;
        case OPT_MAXNEW:
            ok = tb_cli_parse_long("eval", "--max-new", optarg, 0, 1 << 20, &v);
            eo.max_new = v;
            break;
        case OPT_MAXLEN: ok = tb_cli_parse_long("eval", "--max-len", optarg, 2, 1 << 24, &max_len); break;
        case OPT_LIMIT: ok = tb_cli_parse_long("eval", "--limit", optarg, 1, 1L << 40, &limit); break;
        case OPT_TEMPLATE:
            if (!tb_template_parse(optarg, &kind)) {
                fprintf(stderr, "tunebench eval: --template: '%s' is not alpaca, chatml, llama3 or plain\n", optarg);
                return TB_EXIT_USAGE;
            }
            break;
        case OPT_JSON: json = true; break;
        case OPT_HELP: usage(stdout); return TB_EXIT_OK;
        default:
            fprintf(stderr, "tunebench eval: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
        if (!ok)
            return TB_EXIT_USAGE;
    }
    if (optind < argc || !mo.model || !data) {
        fprintf(stderr, "tunebench eval: %s\n", optind < argc ? "unexpected argument" : "--model and --data are required");
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    if (eo.judge_cmd && eo.max_new == 0) {
        fprintf(stderr, "tunebench eval: --judge-cmd needs generations: --max-new must be > 0\n");
        return TB_EXIT_USAGE;
    }
    tb_backend *be;
    tb_llama *m;
    if (!tb_cli_open_model("eval", &mo, &be, &m))
        return TB_EXIT_USAGE;
    int rc = TB_EXIT_USAGE;
    tb_error err;
    tb_error_clear(&err);
    tb_tokenizer *tok = NULL;
    tb_adapter_set set;
    tb_adapter_set_init(&set, m);
    tb_eval_items items = {0};
    tb_eval_report rep;
    memset(&rep, 0, sizeof rep);
    int32_t *gen_ids = NULL;
    tb_status st = tb_tokenizer_load_dir(&tok, mo.model, &err);
    for (int i = 0; i < n_adapters && st == TB_OK; i++)
        st = tb_adapter_set_load(&set, adapters[i], NULL, &err);
    if (st == TB_OK)
        st = tb_eval_items_load(&items, data, tok, kind, max_len, limit, &err);
    if (st == TB_OK && general) {
        st = tb_eval_text_ids(general, tok, &gen_ids, &eo.n_general, &err);
        eo.general = gen_ids;
        eo.window = max_len < m->cfg.max_pos ? max_len : m->cfg.max_pos;
    }
    if (st == TB_OK && (items.skipped || items.truncated))
        fprintf(stderr, "tunebench eval: %ld rows skipped%s%s, %ld examples cut at %ld tokens\n", items.skipped,
                items.skipped ? " (first: " : "", items.skipped ? items.first_skip : "", items.truncated, max_len);
    if (st == TB_OK)
        st = tb_eval_run(&set, tok, &items, &eo, &rep, &err);
    if (st == TB_OK) {
        rep.data_path = strdup(data);
        rep.model_path = strdup(mo.model);
        rep.general_path = general ? strdup(general) : NULL;
        if (json) {
            json_t *j = tb_eval_report_json(&rep);
            char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
            if (text)
                puts(text);
            free(text);
            json_decref(j);
        } else {
            tb_eval_report_print(&rep, stdout);
        }
        rc = TB_EXIT_OK;
    } else {
        tb_cli_print_error("eval", &err);
    }
    tb_eval_report_free(&rep);
    free(gen_ids);
    tb_eval_items_free(&items);
    tb_adapter_set_free(&set);
    tb_tokenizer_free(tok);
    tb_llama_free(m);
    tb_backend_destroy(be);
    return rc;
}
