/* tunebench logits — run the model on a token sequence and write its logits (a debugging
 * tool, and the hook for reference tests against other implementations). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/io/safetensors.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"
#include "tui/cli/model_opts.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: tunebench logits --model DIR --ids 1,2,3,... --out FILE.safetensors [options]\n\n"
                 "Writes the float32 tensor \"logits\" [T, V]: the model's logits at every position.\n\n"
                 "Options:\n" TB_CLI_MODEL_USAGE);
}

int tb_cmd_logits(int argc, char **argv)
{
    enum { OPT_IDS = 1, OPT_OUT, OPT_HELP };
    const struct option opts[] = {
        TB_CLI_MODEL_OPTIONS,
        {"ids", required_argument, NULL, OPT_IDS},
        {"out", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    tb_cli_model_opts mo;
    tb_cli_model_opts_init(&mo);
    const char *ids_text = NULL, *out = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool handled;
        if (!tb_cli_model_opt("logits", c, optarg, &mo, &handled))
            return TB_EXIT_USAGE;
        if (handled)
            continue;
        if (c == OPT_IDS) {
            ids_text = optarg;
        } else if (c == OPT_OUT) {
            out = optarg;
        } else if (c == OPT_HELP) {
            usage(stdout);
            return TB_EXIT_OK;
        } else {
            fprintf(stderr, "tunebench logits: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
    }
    if (optind < argc || !ids_text || !out || !mo.model) {
        fprintf(stderr, "tunebench logits: %s\n",
                optind < argc ? "unexpected argument" : "--model, --ids and --out are required");
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    int32_t *ids;
    int64_t T;
    if (!tb_cli_parse_ids("logits", "--ids", ids_text, &ids, &T))
        return TB_EXIT_USAGE;
    tb_backend *be;
    tb_llama *m;
    if (!tb_cli_open_model("logits", &mo, &be, &m)) {
        free(ids);
        return TB_EXIT_USAGE;
    }
    int rc = TB_EXIT_USAGE;
    int64_t V = m->cfg.vocab_size;
    float *host = malloc((size_t)(T * V) * sizeof *host);
    tb_llama_acts acts;
    tb_error err;
    tb_error_clear(&err);
    tb_status st = host ? tb_llama_acts_init(&acts, m, 1, T, TB_ACTS_INFERENCE, T, &err)
                        : tb_error_set(&err, TB_ERR_NOMEM, NULL, 0, NULL, "out of memory for %lld x %lld logits",
                                       (long long)T, (long long)V);
    if (st == TB_OK) {
        st = tb_llama_forward(m, &acts, ids, 1, T, NULL, &err);
        if (st == TB_OK) {
            tb_llama_logits(m, &acts, 0, T);
            st = be->ops->download(be, host, acts.logits, (size_t)(T * V), &err);
        }
        tb_llama_acts_free(&acts);
    }
    if (st == TB_OK) {
        tb_st_write t = {"logits", TB_DTYPE_F32, 2, {T, V}, host};
        const char *meta[] = {"format", "pt"};
        st = tb_safetensors_write(out, &t, 1, meta, 1, &err);
    }
    if (st == TB_OK)
        rc = TB_EXIT_OK;
    else
        tb_cli_print_error("logits", &err);
    free(host);
    free(ids);
    tb_llama_free(m);
    tb_backend_destroy(be);
    return rc;
}
