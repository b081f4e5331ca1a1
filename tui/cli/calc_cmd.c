/* tunebench calc — the LoRA calculator, headless. The numbers come from engine/plan/calc.c,
 * the same call the Calc screen makes. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/plan/calc.h"
#include "engine/plan/presets.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"

#define CMD "calc"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench calc (--config FILE | --model DIR | --preset NAME) [--rank R] [--ranks LIST]\n"
            "                      [--targets LIST] [--alpha A] [--dtype f32|bf16|f16] [--batch B] [--seq T]\n"
            "                      [--checkpointing] [--budget-mb X | --budget-mib X] [--base-dtype f32|bf16|f16]\n"
            "                      [--optim adamw|adamw8bit] [--json]\n"
            "       tunebench calc --list\n\n"
            "  --config FILE     a Hugging Face config.json (Llama, Mistral, Qwen2)\n"
            "  --model DIR       a model directory holding config.json\n"
            "  --preset NAME     a built-in model (see --list)\n"
            "  --rank R          LoRA rank for the counts and the memory table (default 16)\n"
            "  --ranks LIST      ranks of the sweep table (default 4,8,16,32,64)\n"
            "  --targets LIST    q,k,v,o,gate,up,down (or *_proj names) or all-linear (default q,k,v,o)\n"
            "  --alpha A         LoRA alpha; reported with its scale alpha/r (default 2r)\n"
            "  --dtype D         adapter file dtype for the budget and the sweep (default bf16)\n"
            "  --batch B --seq T activations for B sequences of T tokens (default 4 x 512)\n"
            "  --checkpointing   gradient checkpointing on\n"
            "  --budget-mb X     highest rank whose adapter file fits in X MB (10^6 bytes)\n"
            "  --budget-mib X    the same in MiB (2^20 bytes)\n"
            "  --base-dtype D    stored dtype of the frozen base (default: the config's torch_dtype)\n"
            "  --optim O         adamw (f32 moments, the engine's) or adamw8bit (bitsandbytes-style estimate)\n");
}

static void list_presets(void)
{
    for (int i = 0; i < tb_model_preset_count(); i++) {
        const tb_model_preset *p = tb_model_preset_at(i);
        char n[32];
        tb_plan_format_thousands(tb_plan_base_params(&p->cfg), n, sizeof n);
        printf("%-16s %-36s %15s params\n", p->name, p->hub_repo, n);
    }
}

static double mb(uint64_t b) { return (double)b / 1e6; }
static double gb(double b) { return b / 1e9; }

static void print_model(const char *name, const tb_llama_config *c)
{
    printf("Model:    %s (%s)\n", name, c->architecture);
    printf("          D=%lld F=%lld L=%lld H=%lld Hkv=%lld Dh=%lld V=%lld, %s embeddings%s, weights %s\n",
           (long long)c->dim, (long long)c->ffn_dim, (long long)c->n_layers, (long long)c->n_heads,
           (long long)c->n_kv_heads, (long long)c->head_dim, (long long)c->vocab_size,
           c->tie_embeddings ? "tied" : "untied", c->qkv_bias ? ", q/k/v bias" : "", tb_dtype_short_name(c->torch_dtype));
}

static void print_text(const char *name, const tb_calc_input *in, const tb_calc_result *r)
{
    char tg[64], n1[32], n2[32];
    tb_lora_targets_format(in->targets, tg, sizeof tg);
    print_model(name, &in->cfg);
    printf("LoRA:     r=%lld, alpha=%g (scale %.4g), targets %s\n\n", (long long)in->rank, in->alpha,
           in->alpha / (double)in->rank, tg);
    printf("%s\n\n", r->peft_line);

    printf("Per module, all %lld layers:\n", (long long)in->cfg.n_layers);
    printf("  %-10s %7s %7s %14s %15s\n", "module", "in", "out", "params/layer", "params");
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++) {
        if (!((in->targets >> m) & 1u))
            continue;
        tb_plan_format_thousands(r->count.per_layer[m], n1, sizeof n1);
        tb_plan_format_thousands(r->count.total[m], n2, sizeof n2);
        printf("  %-10s %7lld %7lld %14s %15s\n", tb_lora_module_name((tb_lora_module)m), (long long)r->count.in[m],
               (long long)r->count.out[m], n1, n2);
    }
    tb_plan_format_thousands(r->count.base_params, n1, sizeof n1);
    printf("  model alone: %s params (PEFT's all params without LoRA)\n\n", n1);

    printf("Adapter file (adapter_model.safetensors, PEFT layout):\n");
    for (int d = 0; d < TB_CALC_DTYPE_COUNT; d++) {
        tb_plan_format_thousands((int64_t)r->adapter_bytes[d], n1, sizeof n1);
        printf("  %-5s %15s bytes  (%.2f MB)\n", tb_dtype_short_name(tb_calc_dtypes[d]), n1, mb(r->adapter_bytes[d]));
    }
    if (r->has_budget) {
        const tb_budget_result *b = &r->budget;
        tb_plan_format_thousands((int64_t)b->budget_bytes, n1, sizeof n1);
        printf("\nBudget:   %s bytes, %s adapter: ", n1, tb_dtype_short_name(in->adapter_dtype));
        if (b->rank == 0) {
            tb_plan_format_thousands((int64_t)b->rank1_bytes, n2, sizeof n2);
            printf("no rank fits (rank 1 already needs %s bytes)\n", n2);
        } else {
            tb_plan_format_thousands((int64_t)b->bytes, n2, sizeof n2);
            printf("highest rank %lld (%s bytes)%s\n", (long long)b->rank, n2,
                   b->capped ? "; capped at the smallest side of a targeted matrix" : "");
        }
    }

    printf("\nMemory for training (batch %lld x seq %lld, checkpointing %s), GB = 10^9 bytes:\n",
           (long long)in->mem.batch, (long long)in->mem.seq, in->mem.checkpointing ? "on" : "off");
    printf("  %-13s", "");
    for (int p = 0; p < TB_PART_COUNT; p++)
        printf(" %11s", tb_mem_part_label((tb_mem_part)p));
    printf(" %9s\n", "Total");
    for (int m = 0; m < TB_TRAIN_MODE_COUNT; m++) {
        printf("  %-13s", tb_train_mode_label((tb_train_mode)m));
        for (int p = 0; p < TB_PART_COUNT; p++)
            printf(" %11.3f", gb((double)r->mem[m].part[p]));
        printf(" %9.3f\n", gb((double)r->mem[m].total));
    }
    printf("  NF4 linears: %.4f bits/weight, %.4f with double quantization\n",
           r->mem[TB_TRAIN_QLORA].quantized_bits, r->mem[TB_TRAIN_QLORA_DQ].quantized_bits);

    printf("\nRank sweep (targets %s, %s adapter; > = highest rank within the budget, * = --rank):\n", tg,
           tb_dtype_short_name(in->adapter_dtype));
    printf("   %6s %14s %10s %12s %14s %16s\n", "rank", "params", "% of full", "adapter MB", "LoRA total GB",
           "saves vs full GB");
    for (int i = 0; i < r->n_rows; i++) {
        const tb_calc_rank_row *w = &r->rows[i];
        tb_plan_format_thousands(w->trainable, n1, sizeof n1);
        printf(" %c%c%6lld %14s %10.4f %12.2f %14.3f %16.3f\n", w->budget_best ? '>' : ' ', w->chosen ? '*' : ' ',
               (long long)w->rank, n1, w->percent_of_full, mb(w->adapter_bytes), gb((double)w->lora_total),
               gb((double)w->savings_vs_full));
    }
    printf("\nAssumptions:\n");
    for (int i = 0; i < r->n_assumptions; i++)
        printf("  - %s\n", r->assumptions[i]);
}

static json_t *json_u64(uint64_t v) { return json_integer((json_int_t)v); }

static void print_json(const char *name, const char *source, const tb_calc_input *in, const tb_calc_result *r)
{
    char tg[64];
    json_t *root = json_object();
    const tb_llama_config *c = &in->cfg;
    json_object_set_new(root, "model",
                        json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:b, s:s}", "name", name,
                                  "source", source, "architecture", c->architecture, "hidden_size", (json_int_t)c->dim,
                                  "intermediate_size", (json_int_t)c->ffn_dim, "num_hidden_layers",
                                  (json_int_t)c->n_layers, "num_attention_heads", (json_int_t)c->n_heads,
                                  "num_key_value_heads", (json_int_t)c->n_kv_heads, "head_dim", (json_int_t)c->head_dim,
                                  "vocab_size", (json_int_t)c->vocab_size, "tie_word_embeddings", c->tie_embeddings,
                                  "qkv_bias", c->qkv_bias, "weights_dtype", tb_dtype_short_name(in->mem.base_dtype)));
    json_object_set_new(root, "rank", json_integer(in->rank));
    json_object_set_new(root, "alpha", json_real(in->alpha));
    json_object_set_new(root, "scale", json_real(in->alpha / (double)in->rank));
    json_t *targets = json_array();
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
        if ((in->targets >> m) & 1u)
            json_array_append_new(targets, json_string(tb_lora_module_name((tb_lora_module)m)));
    json_object_set_new(root, "targets", targets);
    tb_lora_targets_format(in->targets, tg, sizeof tg);
    json_object_set_new(root, "targets_short", json_string(tg));
    json_object_set_new(root, "dtype", json_string(tb_dtype_short_name(in->adapter_dtype)));
    json_object_set_new(root, "total_params", json_integer(r->count.base_params));
    json_object_set_new(root, "trainable_params", json_integer(r->count.trainable));
    json_object_set_new(root, "all_params", json_integer(r->count.all_params));
    json_object_set_new(root, "trainable_percent", json_real(r->count.trainable_percent));
    json_object_set_new(root, "peft_line", json_string(r->peft_line));
    json_t *mods = json_array();
    for (int m = 0; m < TB_LORA_MODULE_COUNT; m++)
        if ((in->targets >> m) & 1u)
            json_array_append_new(mods, json_pack("{s:s, s:I, s:I, s:I, s:I}", "module",
                                                  tb_lora_module_name((tb_lora_module)m), "in", (json_int_t)r->count.in[m],
                                                  "out", (json_int_t)r->count.out[m], "params_per_layer",
                                                  (json_int_t)r->count.per_layer[m], "params", (json_int_t)r->count.total[m]));
    json_object_set_new(root, "modules", mods);
    json_t *ab = json_object();
    for (int d = 0; d < TB_CALC_DTYPE_COUNT; d++)
        json_object_set_new(ab, tb_dtype_short_name(tb_calc_dtypes[d]), json_u64(r->adapter_bytes[d]));
    json_object_set_new(root, "adapter_bytes", ab);
    json_t *mem = json_object();
    for (int m = 0; m < TB_TRAIN_MODE_COUNT; m++) {
        const tb_mem_estimate *e = &r->mem[m];
        json_t *o = json_object();
        for (int p = 0; p < TB_PART_COUNT; p++) {
            char key[48];
            snprintf(key, sizeof key, "%s_bytes", tb_mem_part_name((tb_mem_part)p));
            json_object_set_new(o, key, json_u64(e->part[p]));
        }
        json_object_set_new(o, "total_bytes", json_u64(e->total));
        json_object_set_new(o, "trainable_params", json_integer(e->trainable_params));
        json_object_set_new(o, "activations_detail",
                            json_pack("{s:o, s:o, s:o, s:o}", "per_layer_bytes", json_u64(e->act.layer_bytes),
                                      "layers_bytes", json_u64(e->act.layers_bytes), "head_bytes",
                                      json_u64(e->act.head_bytes), "gradient_bytes", json_u64(e->act.grad_bytes)));
        if (m == TB_TRAIN_QLORA || m == TB_TRAIN_QLORA_DQ) {
            json_object_set_new(o, "nf4_bytes", json_u64(e->quantized_bytes));
            json_object_set_new(o, "nf4_bits_per_weight", json_real(e->quantized_bits));
        }
        json_object_set_new(mem, tb_train_mode_name((tb_train_mode)m), o);
    }
    json_object_set_new(root, "memory", mem);
    json_object_set_new(root, "batch", json_integer(in->mem.batch));
    json_object_set_new(root, "seq", json_integer(in->mem.seq));
    json_object_set_new(root, "checkpointing", json_boolean(in->mem.checkpointing));
    json_object_set_new(root, "optimizer", json_string(in->mem.optim == TB_OPTIM_ADAMW_8BIT ? "adamw8bit" : "adamw"));
    if (r->has_budget) {
        const tb_budget_result *b = &r->budget;
        json_object_set_new(root, "max_rank_for_budget", b->rank > 0 ? json_integer(b->rank) : json_null());
        json_object_set_new(root, "budget",
                            json_pack("{s:o, s:o, s:o, s:I, s:b}", "budget_bytes", json_u64(b->budget_bytes),
                                      "adapter_bytes", b->rank > 0 ? json_u64(b->bytes) : json_null(), "rank1_bytes",
                                      json_u64(b->rank1_bytes), "max_rank", (json_int_t)b->max_rank, "capped",
                                      b->capped));
    } else {
        json_object_set_new(root, "max_rank_for_budget", json_null());
    }
    json_t *rows = json_array();
    for (int i = 0; i < r->n_rows; i++) {
        const tb_calc_rank_row *w = &r->rows[i];
        json_array_append_new(rows, json_pack("{s:I, s:I, s:f, s:o, s:o, s:I, s:b, s:b}", "rank", (json_int_t)w->rank,
                                              "trainable_params", (json_int_t)w->trainable, "percent_of_full",
                                              w->percent_of_full, "adapter_bytes", json_u64(w->adapter_bytes),
                                              "lora_total_bytes", json_u64(w->lora_total), "savings_vs_full_bytes",
                                              (json_int_t)w->savings_vs_full, "budget_best", w->budget_best, "chosen",
                                              w->chosen));
    }
    json_object_set_new(root, "ranks", rows);
    json_t *as = json_array();
    for (int i = 0; i < r->n_assumptions; i++)
        json_array_append_new(as, json_string(r->assumptions[i]));
    json_object_set_new(root, "assumptions", as);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(root);
}

static bool parse_dtype(const char *flag, const char *text, tb_dtype *out)
{
    if (tb_dtype_parse_short(text, out) && (*out == TB_DTYPE_F32 || *out == TB_DTYPE_BF16 || *out == TB_DTYPE_F16))
        return true;
    fprintf(stderr, "tunebench " CMD ": %s: '%s' is not one of f32, bf16, f16\n", flag, text);
    return false;
}

/* Where the model comes from: exactly one of --config, --model, --preset. */
static bool load_model(const char *config, const char *model, const char *preset, tb_llama_config *cfg, char *name,
                       size_t name_size, char *source, size_t source_size)
{
    int given = (config != NULL) + (model != NULL) + (preset != NULL);
    if (given != 1) {
        fprintf(stderr, "tunebench " CMD ": %s\n",
                given ? "give only one of --config, --model, --preset"
                      : "give the model: --config FILE, --model DIR or --preset NAME (see --list)");
        return false;
    }
    if (preset) {
        const tb_model_preset *p = tb_model_preset_find(preset);
        if (!p) {
            fprintf(stderr, "tunebench " CMD ": --preset: unknown preset '%s' (see --list)\n", preset);
            return false;
        }
        *cfg = p->cfg;
        snprintf(name, name_size, "%s", p->name);
        snprintf(source, source_size, "%s", p->hub_repo);
        return true;
    }
    char path[4096];
    if (model && !tb_path_join(path, sizeof path, model, "config.json")) {
        fprintf(stderr, "tunebench " CMD ": --model: path too long\n");
        return false;
    }
    const char *file = config ? config : path;
    tb_error err;
    tb_error_clear(&err);
    if (tb_llama_config_load(cfg, file, &err) != TB_OK) {
        tb_cli_print_error(CMD, &err);
        return false;
    }
    snprintf(name, name_size, "%s", config ? config : model);
    snprintf(source, source_size, "%s", file);
    return true;
}

int tb_cmd_calc(int argc, char **argv)
{
    enum { O_CONFIG = 1000, O_MODEL, O_PRESET, O_LIST, O_RANK, O_RANKS, O_TARGETS, O_ALPHA, O_DTYPE, O_BATCH, O_SEQ,
           O_CKPT, O_BUDGET_MB, O_BUDGET_MIB, O_BASE_DTYPE, O_OPTIM, O_JSON, O_HELP };
    static const struct option opts[] = {
        {"config", required_argument, NULL, O_CONFIG}, {"model", required_argument, NULL, O_MODEL},
        {"preset", required_argument, NULL, O_PRESET}, {"list", no_argument, NULL, O_LIST},
        {"rank", required_argument, NULL, O_RANK},     {"ranks", required_argument, NULL, O_RANKS},
        {"targets", required_argument, NULL, O_TARGETS}, {"alpha", required_argument, NULL, O_ALPHA},
        {"dtype", required_argument, NULL, O_DTYPE},   {"batch", required_argument, NULL, O_BATCH},
        {"seq", required_argument, NULL, O_SEQ},       {"checkpointing", no_argument, NULL, O_CKPT},
        {"budget-mb", required_argument, NULL, O_BUDGET_MB}, {"budget-mib", required_argument, NULL, O_BUDGET_MIB},
        {"base-dtype", required_argument, NULL, O_BASE_DTYPE}, {"optim", required_argument, NULL, O_OPTIM},
        {"json", no_argument, NULL, O_JSON},           {"help", no_argument, NULL, O_HELP},
        {0},
    };
    tb_calc_input in;
    tb_calc_input_defaults(&in);
    const char *config = NULL, *model = NULL, *preset = NULL, *budget_flag = NULL;
    bool json = false, alpha_set = false, base_set = false;
    tb_dtype base_dtype = TB_DTYPE_BF16;
    double budget = 0, alpha = 0;
    tb_error err;
    tb_error_clear(&err);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        long v;
        switch (c) {
        case O_CONFIG: config = optarg; break;
        case O_MODEL: model = optarg; break;
        case O_PRESET: preset = optarg; break;
        case O_LIST: list_presets(); return TB_EXIT_OK;
        case O_HELP: usage(stdout); return TB_EXIT_OK;
        case O_JSON: json = true; break;
        case O_CKPT: in.mem.checkpointing = true; break;
        case O_RANK:
            if (!tb_cli_parse_long(CMD, "--rank", optarg, 1, 65536, &v))
                return TB_EXIT_USAGE;
            in.rank = v;
            break;
        case O_RANKS:
            if (tb_calc_parse_ranks(optarg, in.ranks, &in.n_ranks, &err) != TB_OK) {
                fprintf(stderr, "tunebench " CMD ": --ranks: %s\n", err.message);
                return TB_EXIT_USAGE;
            }
            break;
        case O_TARGETS:
            if (tb_lora_targets_parse(optarg, &in.targets, &err) != TB_OK) {
                fprintf(stderr, "tunebench " CMD ": --targets: %s\n", err.message);
                return TB_EXIT_USAGE;
            }
            break;
        case O_ALPHA:
            if (!tb_cli_parse_double(CMD, "--alpha", optarg, 1e-6, 1e6, &alpha))
                return TB_EXIT_USAGE;
            alpha_set = true;
            break;
        case O_DTYPE:
            if (!parse_dtype("--dtype", optarg, &in.adapter_dtype))
                return TB_EXIT_USAGE;
            break;
        case O_BASE_DTYPE:
            if (!parse_dtype("--base-dtype", optarg, &base_dtype))
                return TB_EXIT_USAGE;
            base_set = true;
            break;
        case O_BATCH:
            if (!tb_cli_parse_long(CMD, "--batch", optarg, 1, 65536, &v))
                return TB_EXIT_USAGE;
            in.mem.batch = v;
            break;
        case O_SEQ:
            if (!tb_cli_parse_long(CMD, "--seq", optarg, 1, 16777216, &v))
                return TB_EXIT_USAGE;
            in.mem.seq = v;
            break;
        case O_BUDGET_MB:
        case O_BUDGET_MIB:
            if (budget_flag) {
                fprintf(stderr, "tunebench " CMD ": give one budget (--budget-mb or --budget-mib)\n");
                return TB_EXIT_USAGE;
            }
            budget_flag = c == O_BUDGET_MB ? "--budget-mb" : "--budget-mib";
            if (!tb_cli_parse_double(CMD, budget_flag, optarg, 0, 1e12, &budget))
                return TB_EXIT_USAGE;
            in.has_budget = true;
            /* Budgets are whole bytes: 0.5 MB is 500000 bytes. */
            in.budget_bytes = (uint64_t)floor(budget * (c == O_BUDGET_MB ? 1e6 : 1048576.0));
            break;
        case O_OPTIM:
            if (strcmp(optarg, "adamw") == 0) {
                in.mem.optim = TB_OPTIM_ADAMW;
            } else if (strcmp(optarg, "adamw8bit") == 0) {
                in.mem.optim = TB_OPTIM_ADAMW_8BIT;
            } else {
                fprintf(stderr, "tunebench " CMD ": --optim: '%s' is not adamw or adamw8bit\n", optarg);
                return TB_EXIT_USAGE;
            }
            break;
        default:
            fprintf(stderr, "tunebench " CMD ": unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tunebench " CMD ": unexpected argument '%s'\n", argv[optind]);
        return TB_EXIT_USAGE;
    }
    char name[4096], source[4096];
    if (!load_model(config, model, preset, &in.cfg, name, sizeof name, source, sizeof source))
        return TB_EXIT_USAGE;
    in.mem.base_dtype = base_set ? base_dtype
                        : (in.cfg.torch_dtype == TB_DTYPE_F16 || in.cfg.torch_dtype == TB_DTYPE_BF16) ? in.cfg.torch_dtype
                                                                                                       : TB_DTYPE_F32;
    in.alpha = alpha_set ? alpha : 2.0 * (double)in.rank;
    tb_calc_result r;
    if (tb_calc_run(&in, &r, source, &err) != TB_OK) {
        /* Our own fields are flags here; config.json fields keep their names. */
        static const char *const flags[] = {"rank", "ranks", "targets", "batch", "seq", "dtype"};
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            if (strcmp(err.field, flags[i]) == 0) {
                fprintf(stderr, "tunebench " CMD ": --%s: %s\n", flags[i], err.message);
                return TB_EXIT_USAGE;
            }
        tb_cli_print_error(CMD, &err);
        return TB_EXIT_USAGE;
    }
    if (json)
        print_json(name, source, &in, &r);
    else
        print_text(name, &in, &r);
    return TB_EXIT_OK;
}
