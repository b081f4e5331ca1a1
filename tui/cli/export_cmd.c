/* tunebench export — a PEFT adapter as a llama.cpp GGUF LoRA adapter (engine/lora/gguf_export.h). */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/backend/backend.h"
#include "engine/core/fs.h"
#include "engine/io/gguf.h"
#include "engine/eval/ship.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench export --adapter DIR --gguf OUT.gguf [--model DIR] [--dtype f32|f16|bf16]\n\n"
            "Writes the PEFT adapter in DIR as a GGUF LoRA adapter for llama.cpp (llama-cli --lora OUT.gguf).\n"
            "The base model's config.json gives the head layout; it is read from --model DIR, or from the\n"
            "adapter's base_model_name_or_path when that is a local directory. Tensors: f32 by default.\n");
}

/* The base model directory: --model, else adapter_config.json's base_model_name_or_path. */
static bool base_dir(const char *adapter, const char *model, char *out, size_t size)
{
    if (model) {
        snprintf(out, size, "%s", model);
        return true;
    }
    char path[4096];
    tb_path_join(path, sizeof path, adapter, "adapter_config.json");
    json_t *cfg = json_load_file(path, 0, NULL);
    const char *base = json_string_value(json_object_get(cfg, "base_model_name_or_path"));
    char cfgpath[4096];
    bool ok = base && base[0] && tb_path_join(cfgpath, sizeof cfgpath, base, "config.json") && tb_path_exists(cfgpath);
    if (ok)
        snprintf(out, size, "%s", base);
    json_decref(cfg);
    return ok;
}

int tb_cmd_export(int argc, char **argv)
{
    enum { OPT_ADAPTER = 1, OPT_GGUF, OPT_MODEL, OPT_DTYPE, OPT_HELP };
    const struct option opts[] = {
        {"adapter", required_argument, NULL, OPT_ADAPTER}, {"gguf", required_argument, NULL, OPT_GGUF},
        {"model", required_argument, NULL, OPT_MODEL},     {"dtype", required_argument, NULL, OPT_DTYPE},
        {"help", no_argument, NULL, OPT_HELP},             {0},
    };
    const char *adapter = NULL, *out = NULL, *model = NULL;
    uint32_t type = TB_GGML_F32;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ADAPTER: adapter = optarg; break;
        case OPT_GGUF: out = optarg; break;
        case OPT_MODEL: model = optarg; break;
        case OPT_DTYPE:
            if (strcmp(optarg, "f32") == 0)
                type = TB_GGML_F32;
            else if (strcmp(optarg, "f16") == 0)
                type = TB_GGML_F16;
            else if (strcmp(optarg, "bf16") == 0)
                type = TB_GGML_BF16;
            else {
                fprintf(stderr, "tunebench export: --dtype: '%s' is not f32, f16 or bf16\n", optarg);
                return TB_EXIT_USAGE;
            }
            break;
        case OPT_HELP: usage(stdout); return TB_EXIT_OK;
        default:
            fprintf(stderr, "tunebench export: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
    }
    if (optind < argc || !adapter || !out) {
        fprintf(stderr, "tunebench export: %s\n", optind < argc ? "unexpected argument" : "--adapter and --gguf are required");
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    char base[4096], cfgpath[4096];
    if (!base_dir(adapter, model, base, sizeof base)) {
        fprintf(stderr, "tunebench export: the base model's config.json is needed for the head layout: give --model DIR "
                        "(adapter_config.json's base_model_name_or_path is no local directory)\n");
        return TB_EXIT_USAGE;
    }
    tb_error err;
    tb_error_clear(&err);
    tb_llama_config cfg;
    tb_backend *be = NULL;
    tb_lora *lo = NULL;
    tb_lora_gguf_info info;
    tb_backend_options bo = {.threads = 1, .precision = TB_PRECISION_F32, .device = -1};
    tb_path_join(cfgpath, sizeof cfgpath, base, "config.json");
    tb_status st = tb_llama_config_load(&cfg, cfgpath, &err);
    if (st == TB_OK)
        st = tb_backend_create(&be, "cpu", &bo, NULL, 0, &err);
    if (st == TB_OK)
        st = tb_lora_load_peft(&lo, adapter, &cfg, be, false, &err);
    if (st == TB_OK)
        st = tb_ship_export(&cfg, lo, type, out, &info, &err);
    int rc = TB_EXIT_OK;
    if (st == TB_OK) {
        printf("wrote %s: %zu tensors (%zu adapted linears, rank %lld), general.architecture %s, adapter.lora.alpha %g%s%s\n",
               out, info.n_tensors, info.n_tensors / 2, (long long)lo->opt.rank, info.arch, (double)info.alpha,
               lo->opt.rslora ? " (rsLoRA: alpha x sqrt(r))" : "",
               info.permuted ? "; q/k lora_b rows in llama.cpp's interleaved RoPE order" : "");
    } else {
        tb_cli_print_error("export", &err);
        rc = TB_EXIT_USAGE;
    }
    tb_lora_free(lo);
    tb_backend_destroy(be);
    return rc;
}
