/* tunebench grad — one forward/backward on a token sequence with a PEFT adapter (or, with
 * --full, every base weight trainable): writes the loss and every gradient under its key
 * name, so reference tests can compare against other implementations. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model/params.h"
#include "engine/train/grad.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"
#include "tui/cli/model_opts.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: tunebench grad --model DIR (--adapter DIR | --full) --ids 1,2,3,... --out FILE.safetensors\n\n"
                 "Labels are the next token at every position; the loss is their mean cross-entropy.\n"
                 "Writes \"loss\" (F32 scalar) and the F32 gradient of every adapter tensor under its PEFT key\n"
                 "(--full: of every base weight under its Hugging Face name).\n\n"
                 "Options:\n"
                 "  --adapter DIR               a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors)\n"
                 "  --full                      gradients of the base weights instead (full fine-tuning)\n" TB_CLI_MODEL_USAGE);
}

int tb_cmd_grad(int argc, char **argv)
{
    enum { OPT_IDS = 1, OPT_OUT, OPT_ADAPTER, OPT_FULL, OPT_HELP };
    const struct option opts[] = {
        TB_CLI_MODEL_OPTIONS,
        {"ids", required_argument, NULL, OPT_IDS},
        {"out", required_argument, NULL, OPT_OUT},
        {"adapter", required_argument, NULL, OPT_ADAPTER},
        {"full", no_argument, NULL, OPT_FULL},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    tb_cli_model_opts mo;
    tb_cli_model_opts_init(&mo);
    const char *ids_text = NULL, *out = NULL, *adapter = NULL;
    bool full = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool handled;
        if (!tb_cli_model_opt("grad", c, optarg, &mo, &handled))
            return TB_EXIT_USAGE;
        if (handled)
            continue;
        switch (c) {
        case OPT_IDS: ids_text = optarg; break;
        case OPT_OUT: out = optarg; break;
        case OPT_ADAPTER: adapter = optarg; break;
        case OPT_FULL: full = true; break;
        case OPT_HELP: usage(stdout); return TB_EXIT_OK;
        default:
            fprintf(stderr, "tunebench grad: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
    }
    if (optind < argc || !ids_text || !out || !mo.model || (!adapter) == (!full)) {
        fprintf(stderr, "tunebench grad: %s\n",
                optind < argc             ? "unexpected argument"
                : adapter && full         ? "--adapter and --full exclude each other"
                : !adapter && !full && ids_text && out && mo.model ? "--adapter DIR (or --full) is required"
                                          : "--model, --ids and --out are required");
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    int32_t *ids;
    int64_t T;
    if (!tb_cli_parse_ids("grad", "--ids", ids_text, &ids, &T))
        return TB_EXIT_USAGE;
    tb_backend *be;
    tb_llama *m;
    if (!tb_cli_open_model("grad", &mo, &be, &m)) {
        free(ids);
        return TB_EXIT_USAGE;
    }
    tb_error err;
    tb_error_clear(&err);
    tb_lora *lo = NULL;
    tb_llama_params full_params = {0};
    tb_param_set *set = NULL;
    tb_status st;
    if (adapter) {
        st = tb_lora_load_peft(&lo, adapter, &m->cfg, be, true, &err);
        if (st == TB_OK) {
            m->lora = lo;
            set = &lo->params;
        }
    } else {
        st = tb_llama_params_create(m, &full_params, &err);
        set = &full_params.set;
    }
    double loss = 0;
    int rc = st == TB_OK ? TB_EXIT_OK : TB_EXIT_USAGE; /* the adapter could not be used */
    if (st == TB_OK && (st = tb_grad_sequence(m, ids, T, &loss, &err)) != TB_OK)
        rc = st == TB_ERR_INVALID ? TB_EXIT_USAGE : 1; /* e.g. ids outside the vocabulary */
    if (st == TB_OK && (st = tb_grad_write(out, loss, set, &err)) != TB_OK)
        rc = 1;
    if (st == TB_OK)
        printf("loss %.6f\n", loss);
    else
        tb_cli_print_error("grad", &err);
    m->lora = NULL;
    tb_lora_free(lo);
    tb_llama_params_free(m, &full_params);
    tb_llama_free(m);
    tb_backend_destroy(be);
    free(ids);
    return rc;
}
