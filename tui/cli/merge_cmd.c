/* tunebench merge — W' = W + s·B·A into a full-precision model directory, and the measured
 * logits difference between the merged model and base + adapter (engine/lora/merge.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/eval/ship.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"
#include "tui/cli/model_opts.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: tunebench merge --model DIR --adapter DIR --out DIR [--dtype f32|bf16]\n\n"
                 "Merges the adapter into a full-precision copy of the model (a 4-bit base is dequantized\n"
                 "first) and writes a complete Hugging Face model directory. Then it runs the merged model\n"
                 "and base + adapter on the same tokens and reports the largest logits difference.\n" TB_CLI_MODEL_USAGE);
}

int tb_cmd_merge(int argc, char **argv)
{
    enum { OPT_ADAPTER = 1, OPT_OUT, OPT_DTYPE, OPT_HELP };
    const struct option opts[] = {
        TB_CLI_MODEL_OPTIONS,
        {"adapter", required_argument, NULL, OPT_ADAPTER},
        {"out", required_argument, NULL, OPT_OUT},
        {"dtype", required_argument, NULL, OPT_DTYPE},
        {"help", no_argument, NULL, OPT_HELP},
        {0},
    };
    tb_cli_model_opts mo;
    tb_cli_model_opts_init(&mo);
    const char *adapter = NULL, *out = NULL;
    tb_dtype dtype = TB_DTYPE_F32;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        bool handled;
        if (!tb_cli_model_opt("merge", c, optarg, &mo, &handled))
            return TB_EXIT_USAGE;
        if (handled)
            continue;
        switch (c) {
        case OPT_ADAPTER: adapter = optarg; break;
        case OPT_OUT: out = optarg; break;
        case OPT_DTYPE:
            if (!tb_dtype_parse_short(optarg, &dtype) || (dtype != TB_DTYPE_F32 && dtype != TB_DTYPE_BF16)) {
                fprintf(stderr, "tunebench merge: --dtype: '%s' is not f32 or bf16 (never 4-bit: merging into NF4 "
                                "codes would lose the adapter)\n", optarg);
                return TB_EXIT_USAGE;
            }
            break;
        case OPT_HELP: usage(stdout); return TB_EXIT_OK;
        default:
            fprintf(stderr, "tunebench merge: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
    }
    if (optind < argc || !mo.model || !adapter || !out) {
        fprintf(stderr, "tunebench merge: %s\n", optind < argc ? "unexpected argument" : "--model, --adapter and --out are required");
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    tb_error err;
    tb_error_clear(&err);
    tb_backend *be = NULL;
    tb_lora *lo = NULL;
    tb_llama_config cfg;
    tb_ship_merge_result res;
    char cfgpath[4096], notice[256];
    /* Only the config is needed to merge (a 4-bit base is read tensor by tensor); the base is
     * loaded afterwards for the logits check. */
    tb_path_join(cfgpath, sizeof cfgpath, mo.model, "config.json");
    tb_status st = tb_llama_config_load(&cfg, cfgpath, &err);
    if (st == TB_OK)
        st = tb_backend_create(&be, mo.backend, &mo.be, notice, sizeof notice, &err);
    if (st == TB_OK)
        st = tb_lora_load_peft(&lo, adapter, &cfg, be, false, &err);
    if (st == TB_OK)
        st = tb_ship_merge(mo.model, lo, NULL, be, dtype, out, &res, &err);
    int rc = TB_EXIT_USAGE;
    if (st == TB_OK) {
        const tb_lora_merge_info *in = &res.info;
        printf("merged %s into %s: %zu tensors, %zu linears merged (s = %g)%s, %s, %zu other files copied\n", adapter,
               out, in->tensors, in->merged, (double)lo->scale,
               in->dequantized ? " from a 4-bit base dequantized first" : "", tb_dtype_short_name(dtype),
               in->files_copied);
        if (res.measured)
            printf("max |logits(merged) - logits(base + adapter)| = %.3g over %lld positions x %lld vocab (%s)\n",
                   res.max_diff, (long long)res.positions, (long long)res.vocab,
                   dtype == TB_DTYPE_F32 ? "f32" : "bf16 weights: rounding expected");
        else
            printf("logits difference not measured: %s\n", res.why_not);
        rc = TB_EXIT_OK;
    } else {
        tb_cli_print_error("merge", &err);
    }
    tb_lora_free(lo);
    tb_backend_destroy(be);
    return rc;
}
