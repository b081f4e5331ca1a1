/* tunebench merge — W' = W + s·B·A into a full-precision model directory, and the measured
 * logits difference between the merged model and base + adapter (engine/lora/merge.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/eval/run.h"
#include "engine/lora/adapter_set.h"
#include "engine/lora/merge.h"
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
    tb_llama *m = NULL, *merged = NULL;
    tb_lora *lo = NULL;
    float *mem = NULL, *la = NULL, *lb = NULL;
    tb_lora_pair *pairs = NULL;
    size_t n = 0;
    tb_lora_merge_info info;
    tb_llama_config cfg;
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
        st = tb_lora_host_pairs(lo, &mem, &pairs, &n, &err);
    if (st == TB_OK)
        st = tb_lora_merge_dir(mo.model, pairs, n, lo->opt.rank, lo->scale, dtype, out, &info, &err);
    int rc = TB_EXIT_USAGE;
    if (st == TB_OK) {
        printf("merged %s into %s: %zu tensors, %zu linears merged (s = %g)%s, %s, %zu other files copied\n", adapter,
               out, info.tensors, info.merged, (double)lo->scale,
               info.dequantized ? " from a 4-bit base dequantized first" : "", tb_dtype_short_name(dtype),
               info.files_copied);
        rc = TB_EXIT_OK;
        /* The check: the same tokens through the merged model and through base + adapter. */
        int64_t T = cfg.max_pos < 64 ? cfg.max_pos : 64, V = cfg.vocab_size;
        int32_t *ids = malloc((size_t)T * sizeof *ids);
        la = malloc((size_t)(T * V) * sizeof *la);
        lb = malloc((size_t)(T * V) * sizeof *lb);
        st = ids && la && lb ? TB_OK : tb_fail(&err, TB_ERR_NOMEM, "out of memory");
        for (int64_t t = 0; ids && t < T; t++)
            ids[t] = (int32_t)((t * 7919 + 13) % V); /* a fixed spread of token ids */
        if (st == TB_OK)
            st = tb_llama_load(&m, mo.model, be, &err);
        if (st == TB_OK) {
            m->lora = lo;
            st = tb_eval_logits(m, ids, T, 0, T, la, &err);
            m->lora = NULL;
        }
        if (st == TB_OK)
            st = tb_llama_load(&merged, out, be, &err);
        if (st == TB_OK)
            st = tb_eval_logits(merged, ids, T, 0, T, lb, &err);
        if (st == TB_OK) {
            double mx = 0;
            for (int64_t i = 0; i < T * V; i++)
                mx = fmax(mx, fabs((double)la[i] - lb[i]));
            printf("max |logits(merged) - logits(base + adapter)| = %.3g over %lld positions x %lld vocab (%s)\n", mx,
                   (long long)T, (long long)V, dtype == TB_DTYPE_F32 ? "f32" : "bf16 weights: rounding expected");
        } else {
            char buf[1024];
            printf("logits difference not measured: %s\n", tb_error_format(&err, buf, sizeof buf));
        }
        free(ids);
    } else {
        tb_cli_print_error("merge", &err);
    }
    free(la), free(lb), free(mem), free(pairs);
    tb_llama_free(merged);
    tb_llama_free(m);
    tb_lora_free(lo);
    tb_backend_destroy(be);
    return rc;
}
