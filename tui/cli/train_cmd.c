/* tunebench train — fine-tune (LoRA or full) on the CPU: a progress line per logging step,
 * checkpoints, the adapter at the end. The flags fill tb_train_options (engine/train),
 * the same struct the Train screen's form fills. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/train/trainer.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"

/* The command the person typed ("train", or "pretrain", which runs this one with its
 * defaults): messages name it. */
static const char *cmd_name = "train";

static tb_trainer *g_trainer;

static void on_signal(int sig)
{
    (void)sig;
    if (g_trainer)
        tb_trainer_request(g_trainer, TB_REQ_STOP); /* an atomic store: safe here */
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench train --model DIR --data FILE [options]\n"
            "       tunebench train --resume RUNS/ID\n\n"
            "Fine-tunes a Llama-family model. Defaults follow Hugging Face TrainingArguments.\n\n"
            "What:\n"
            "  --model DIR                Hugging Face model directory (config.json, safetensors, tokenizer.json)\n"
            "  --data FILE                JSONL / JSON / CSV dataset (alpaca, chat, prompt/completion rows)\n"
            "  --eval FILE | --eval-split F  held-out data for the eval loss (F in (0, 0.5], e.g. 0.1)\n"
            "  --out DIR                  runs folder (default runs): runs/<id>/, runs/tunebench.db\n"
            "  --name TEXT                the run's name in `tunebench runs`\n"
            "  --mode lora|qlora|full     LoRA adapters (default), QLoRA (LoRA on an NF4 base), or every weight\n"
            "  --quant nf4|nf4-dq         QLoRA's base storage (--mode qlora: nf4-dq); q,k,v,o,gate,up,down\n"
            "                             quantized at load; a -bnb-4bit checkpoint trains as QLoRA as stored\n"
            "  --resume RUNS/ID           continue a stopped or interrupted run from its last checkpoint\n"
            "LoRA:\n"
            "  --rank R (16)  --alpha A (2R)  --dropout P (0)  --rslora  --targets q,k,v,o|all-linear\n"
            "Data:\n"
            "  --template alpaca|chatml|llama3|plain   (by row shape)   --train-on-inputs   --max-len N\n"
            "  --format jsonl|json|csv  --map instruction=col,...  --no-group-by-length  --skip-validation\n"
            "  --packed                   plain text, packed into --max-len blocks (pretraining)\n"
            "  --init-config FILE --tokenizer DIR|FILE   start from random weights (with --mode full)\n"
            "Optimization:\n"
            "  --lr X (2e-4 LoRA, 5e-5 full)  --schedule constant|linear|cosine (cosine)\n"
            "  --warmup-ratio X (0.03)  --warmup-steps N  --weight-decay X (0)  --max-grad-norm X (1.0)\n"
            "  --epochs X (3)  --max-steps N  --batch N (4)  --grad-accum N (4)  --checkpointing\n"
            "  --seed N (42)\n"
            "Cadence:\n"
            "  --logging-steps N (10)  --eval-steps N (50)  --save-steps N (500)  --save-total-limit N (2)\n"
            "  --early-stopping-patience N (0: off)  --early-stopping-threshold X\n"
            "Engine:\n"
            "  --backend cpu|vulkan|auto  --device N  --threads N  --precision f32|bf16  --save-dtype f32|bf16|f16\n\n"
            "Exit: 0 finished or stopped (Ctrl-C checkpoints first), 1 training failed, 2 unusable input.\n");
}

enum {
    O_MODEL = 1, O_DATA, O_EVAL, O_OUT, O_NAME, O_MODE, O_RESUME, O_RANK, O_ALPHA, O_DROPOUT, O_RSLORA, O_TARGETS,
    O_TEMPLATE, O_TRAIN_ON_INPUTS, O_MAX_LEN, O_FORMAT, O_MAP, O_NO_GROUP, O_SKIP_VALIDATION, O_PACKED, O_INIT_CONFIG,
    O_TOKENIZER, O_LR, O_SCHEDULE, O_WARMUP_RATIO, O_WARMUP_STEPS, O_WEIGHT_DECAY, O_MAX_GRAD_NORM, O_EPOCHS,
    O_MAX_STEPS, O_BATCH, O_GRAD_ACCUM, O_CHECKPOINTING, O_SEED, O_LOGGING, O_EVAL_STEPS, O_SAVE_STEPS, O_SAVE_LIMIT,
    O_PATIENCE, O_THRESHOLD, O_EVAL_SPLIT, O_BACKEND, O_THREADS, O_PRECISION, O_SAVE_DTYPE, O_QUIET, O_HELP,
    O_FAULT_NAN, O_FAULT_KILL, O_QUANT, O_DEVICE,
};

static const struct option opts[] = {
    {"model", required_argument, NULL, O_MODEL}, {"data", required_argument, NULL, O_DATA},
    {"eval", required_argument, NULL, O_EVAL}, {"out", required_argument, NULL, O_OUT},
    {"name", required_argument, NULL, O_NAME}, {"mode", required_argument, NULL, O_MODE},
    {"resume", required_argument, NULL, O_RESUME}, {"rank", required_argument, NULL, O_RANK},
    {"alpha", required_argument, NULL, O_ALPHA}, {"dropout", required_argument, NULL, O_DROPOUT},
    {"rslora", no_argument, NULL, O_RSLORA}, {"targets", required_argument, NULL, O_TARGETS},
    {"template", required_argument, NULL, O_TEMPLATE}, {"train-on-inputs", no_argument, NULL, O_TRAIN_ON_INPUTS},
    {"max-len", required_argument, NULL, O_MAX_LEN}, {"format", required_argument, NULL, O_FORMAT},
    {"map", required_argument, NULL, O_MAP}, {"no-group-by-length", no_argument, NULL, O_NO_GROUP},
    {"skip-validation", no_argument, NULL, O_SKIP_VALIDATION}, {"packed", no_argument, NULL, O_PACKED},
    {"init-config", required_argument, NULL, O_INIT_CONFIG}, {"tokenizer", required_argument, NULL, O_TOKENIZER},
    {"lr", required_argument, NULL, O_LR}, {"learning-rate", required_argument, NULL, O_LR},
    {"schedule", required_argument, NULL, O_SCHEDULE}, {"lr-scheduler", required_argument, NULL, O_SCHEDULE},
    {"warmup-ratio", required_argument, NULL, O_WARMUP_RATIO}, {"warmup-steps", required_argument, NULL, O_WARMUP_STEPS},
    {"weight-decay", required_argument, NULL, O_WEIGHT_DECAY}, {"max-grad-norm", required_argument, NULL, O_MAX_GRAD_NORM},
    {"epochs", required_argument, NULL, O_EPOCHS}, {"max-steps", required_argument, NULL, O_MAX_STEPS},
    {"batch", required_argument, NULL, O_BATCH}, {"grad-accum", required_argument, NULL, O_GRAD_ACCUM},
    {"checkpointing", no_argument, NULL, O_CHECKPOINTING}, {"seed", required_argument, NULL, O_SEED},
    {"logging-steps", required_argument, NULL, O_LOGGING}, {"eval-steps", required_argument, NULL, O_EVAL_STEPS},
    {"save-steps", required_argument, NULL, O_SAVE_STEPS}, {"save-total-limit", required_argument, NULL, O_SAVE_LIMIT},
    {"early-stopping-patience", required_argument, NULL, O_PATIENCE},
    {"early-stopping-threshold", required_argument, NULL, O_THRESHOLD},
    {"eval-split", required_argument, NULL, O_EVAL_SPLIT}, {"backend", required_argument, NULL, O_BACKEND},
    {"threads", required_argument, NULL, O_THREADS}, {"precision", required_argument, NULL, O_PRECISION},
    {"save-dtype", required_argument, NULL, O_SAVE_DTYPE}, {"quiet", no_argument, NULL, O_QUIET},
    {"quant", required_argument, NULL, O_QUANT}, {"device", required_argument, NULL, O_DEVICE},
    {"help", no_argument, NULL, O_HELP},
    /* tests of crash safety and NaN handling (not in --help) */
    {"fault-nan-step", required_argument, NULL, O_FAULT_NAN}, {"fault-kill-checkpoint", required_argument, NULL, O_FAULT_KILL},
    {0},
};

static bool copy(const char *flag, char *dst, size_t size, const char *arg)
{
    if (strlen(arg) >= size) {
        fprintf(stderr, "tunebench %s: %s: too long\n", cmd_name, flag);
        return false;
    }
    snprintf(dst, size, "%s", arg);
    return true;
}

#define LONG(flag, lo, hi, dst)                                                \
    do {                                                                       \
        long v_;                                                               \
        if (!tb_cli_parse_long(cmd_name, flag, optarg, lo, hi, &v_))           \
            return false;                                                      \
        (dst) = v_;                                                            \
    } while (0)
#define DBL(flag, lo, hi, dst)                                                 \
    do {                                                                       \
        if (!tb_cli_parse_double(cmd_name, flag, optarg, lo, hi, &(dst)))      \
            return false;                                                      \
    } while (0)

static bool parse_opt(int c, tb_train_options *o, const char **resume, bool *quiet, tb_quant_mode *quant,
                      bool *quant_given)
{
    tb_error err;
    switch (c) {
    case O_MODEL: return copy("--model", o->model, sizeof o->model, optarg);
    case O_DATA: return copy("--data", o->data, sizeof o->data, optarg);
    case O_EVAL: return copy("--eval", o->eval, sizeof o->eval, optarg);
    case O_OUT: return copy("--out", o->out, sizeof o->out, optarg);
    case O_NAME: return copy("--name", o->name, sizeof o->name, optarg);
    case O_INIT_CONFIG: return copy("--init-config", o->init_config, sizeof o->init_config, optarg);
    case O_TOKENIZER: return copy("--tokenizer", o->tokenizer, sizeof o->tokenizer, optarg);
    case O_MAP: return copy("--map", o->map, sizeof o->map, optarg);
    case O_BACKEND: return copy("--backend", o->backend, sizeof o->backend, optarg);
    case O_RESUME: *resume = optarg; return true;
    case O_MODE:
        if (strcmp(optarg, "lora") == 0)
            o->mode = TB_TRAIN_LORA;
        else if (strcmp(optarg, "full") == 0)
            o->mode = TB_TRAIN_FULL;
        else if (strcmp(optarg, "qlora") == 0)
            o->mode = TB_TRAIN_QLORA_DQ; /* the QLoRA paper's storage unless --quant nf4 */
        else {
            fprintf(stderr, "tunebench %s: --mode: '%s' is not lora, qlora or full\n", cmd_name, optarg);
            return false;
        }
        return true;
    case O_QUANT:
        if (!tb_quant_mode_parse(optarg, quant)) {
            fprintf(stderr, "tunebench %s: --quant: '%s' is not none, nf4 or nf4-dq\n", cmd_name, optarg);
            return false;
        }
        *quant_given = true;
        return true;
    case O_RANK: LONG("--rank", 1, 65536, o->rank); return true;
    case O_ALPHA: DBL("--alpha", 1e-9, 1e9, o->alpha); return true;
    case O_DROPOUT: DBL("--dropout", 0, 0.999, o->dropout); return true;
    case O_RSLORA: o->rslora = true; return true;
    case O_TARGETS:
        if (tb_lora_targets_parse(optarg, &o->targets, &err) != TB_OK) {
            fprintf(stderr, "tunebench %s: --targets: %s\n", cmd_name, err.message);
            return false;
        }
        return true;
    case O_TEMPLATE:
        if (!tb_template_parse(optarg, &o->template_kind)) {
            fprintf(stderr, "tunebench %s: --template: '%s' is not alpaca, chatml, llama3 or plain\n", cmd_name,
                    optarg);
            return false;
        }
        return true;
    case O_FORMAT:
        if (!tb_format_parse(optarg, &o->format)) {
            fprintf(stderr, "tunebench %s: --format: '%s' is not jsonl, json or csv\n", cmd_name, optarg);
            return false;
        }
        return true;
    case O_SCHEDULE:
        if (!tb_schedule_parse(optarg, &o->schedule)) {
            fprintf(stderr, "tunebench %s: --schedule: '%s' is not constant, linear or cosine\n", cmd_name,
                    optarg);
            return false;
        }
        return true;
    case O_SAVE_DTYPE:
        if (!tb_dtype_parse_short(optarg, &o->save_dtype) ||
            (o->save_dtype != TB_DTYPE_F32 && o->save_dtype != TB_DTYPE_BF16 && o->save_dtype != TB_DTYPE_F16)) {
            fprintf(stderr, "tunebench %s: --save-dtype: '%s' is not f32, bf16 or f16\n", cmd_name, optarg);
            return false;
        }
        return true;
    case O_PRECISION:
        if (strcmp(optarg, "f32") && strcmp(optarg, "bf16")) {
            fprintf(stderr, "tunebench %s: --precision: '%s' is not f32 or bf16\n", cmd_name, optarg);
            return false;
        }
        o->be.precision = strcmp(optarg, "bf16") == 0 ? TB_PRECISION_BF16 : TB_PRECISION_F32;
        return true;
    case O_TRAIN_ON_INPUTS: o->train_on_inputs = true; return true;
    case O_NO_GROUP: o->group_by_length = false; return true;
    case O_SKIP_VALIDATION: o->skip_validation = true; return true;
    case O_PACKED: o->packed = true; return true;
    case O_CHECKPOINTING: o->checkpointing = true; return true;
    case O_QUIET: *quiet = true; return true;
    case O_MAX_LEN: LONG("--max-len", 2, 1 << 20, o->max_len); return true;
    case O_LR: DBL("--lr", 1e-12, 0.999, o->lr); return true;
    case O_WARMUP_RATIO: DBL("--warmup-ratio", 0, 0.999, o->warmup_ratio); return true;
    case O_WARMUP_STEPS: LONG("--warmup-steps", 0, 1L << 40, o->warmup_steps); return true;
    case O_WEIGHT_DECAY: DBL("--weight-decay", 0, 0.999, o->weight_decay); return true;
    case O_MAX_GRAD_NORM: DBL("--max-grad-norm", 0, 1e9, o->max_grad_norm); return true;
    case O_EPOCHS: DBL("--epochs", 1e-6, 1e6, o->epochs); return true;
    case O_MAX_STEPS: LONG("--max-steps", 1, 1L << 40, o->max_steps); return true;
    case O_BATCH: LONG("--batch", 1, 4096, o->batch); return true;
    case O_GRAD_ACCUM: LONG("--grad-accum", 1, 4096, o->grad_accum); return true;
    case O_SEED: LONG("--seed", 0, 1L << 62, o->seed); return true;
    case O_LOGGING: LONG("--logging-steps", 1, 1L << 40, o->logging_steps); return true;
    case O_EVAL_STEPS: LONG("--eval-steps", 0, 1L << 40, o->eval_steps); return true;
    case O_SAVE_STEPS: LONG("--save-steps", 0, 1L << 40, o->save_steps); return true;
    case O_SAVE_LIMIT: LONG("--save-total-limit", 0, 1L << 20, o->save_total_limit); return true;
    case O_PATIENCE: LONG("--early-stopping-patience", 0, 1L << 20, o->early_stopping_patience); return true;
    case O_THRESHOLD: DBL("--early-stopping-threshold", 0, 1e9, o->early_stopping_threshold); return true;
    case O_EVAL_SPLIT: DBL("--eval-split", 0, 0.5, o->eval_split); return true;
    case O_THREADS: LONG("--threads", 1, 64, o->be.threads); return true;
    case O_DEVICE: LONG("--device", 0, 255, o->be.device); return true;
    case O_FAULT_NAN: {
        long a = 0, n = 1;
        if (sscanf(optarg, "%ld:%ld", &a, &n) < 1 || a < 1 || n < 1) {
            fprintf(stderr, "tunebench %s: --fault-nan-step: STEP[:COUNT]\n", cmd_name);
            return false;
        }
        o->fault_nan_step = a, o->fault_nan_count = n;
        return true;
    }
    case O_FAULT_KILL: LONG("--fault-kill-checkpoint", 1, 1L << 40, o->fault_kill_checkpoint); return true;
    default: return false;
    }
}

static void fmt_time(double s, char *buf, size_t size)
{
    if (!isfinite(s) || s < 0)
        snprintf(buf, size, "?");
    else if (s < 60)
        snprintf(buf, size, "%.0fs", s);
    else if (s < 3600)
        snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)(s / 3600), (int)(s / 60) % 60);
}

static void on_update(void *ctx, const tb_train_update *u)
{
    bool quiet = *(bool *)ctx;
    const tb_train_progress *p = u->progress;
    char eta[32];
    switch (u->kind) {
    case TB_UPD_LOG:
        if (quiet)
            return;
        fmt_time(p->eta, eta, sizeof eta);
        printf("step %lld/%lld  epoch %.2f  loss %.4f", (long long)u->metric->step, (long long)p->total_steps,
               u->metric->epoch, u->metric->train_loss);
        if (!isnan(p->eval_loss))
            printf("  eval %.4f", p->eval_loss);
        printf("  lr %.3g  grad-norm %.3g  %.0f tokens/s  ETA %s\n", u->metric->lr, u->metric->grad_norm,
               u->metric->tokens_per_s, eta);
        fflush(stdout);
        break;
    case TB_UPD_EVAL:
        if (!quiet)
            printf("eval at step %lld: loss %.4f (best %.4f at step %lld)\n", (long long)u->metric->step,
                   u->metric->eval_loss, p->best_eval_loss, (long long)p->best_eval_step);
        fflush(stdout);
        break;
    case TB_UPD_EVENT:
        if (strcmp(u->event->level, "info") != 0 || !quiet)
            fprintf(stderr, "tunebench %s: %s: %s\n", cmd_name, u->event->level, u->event->message);
        break;
    case TB_UPD_CHECKPOINT:
        if (!quiet)
            printf("checkpoint: %s\n", u->path);
        fflush(stdout);
        break;
    case TB_UPD_STATE: break;
    }
}

int tb_cmd_train(int argc, char **argv) { return tb_cli_train(argc, argv, NULL, 0); }

int tb_cli_train(int argc, char **argv, char *result, size_t result_size)
{
    cmd_name = argc > 0 ? argv[0] : "train";
    if (result && result_size)
        result[0] = '\0';
    tb_train_options o;
    tb_train_options_init(&o);
    const char *resume = NULL;
    bool quiet = false, quant_given = false;
    tb_quant_mode quant = TB_QUANT_NONE;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == O_HELP) {
            usage(stdout);
            return TB_EXIT_OK;
        }
        if (c == '?' || c == ':') {
            fprintf(stderr, "tunebench %s: unknown or incomplete option '%s'\n", cmd_name, argv[optind - 1]);
            return TB_EXIT_USAGE;
        }
        if (!parse_opt(c, &o, &resume, &quiet, &quant, &quant_given))
            return TB_EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "tunebench %s: unexpected argument '%s'\n", cmd_name, argv[optind]);
        return TB_EXIT_USAGE;
    }
    /* --quant picks QLoRA's storage: with lora (or no --mode) it makes the run QLoRA */
    if (quant != TB_QUANT_NONE && o.mode == TB_TRAIN_FULL) {
        fprintf(stderr,
                "tunebench %s: --quant: full fine-tuning trains every weight in f32; NF4 is for QLoRA (--mode qlora)\n",
                cmd_name);
        return TB_EXIT_USAGE;
    }
    if (quant_given && quant == TB_QUANT_NONE && o.mode != TB_TRAIN_FULL && o.mode != TB_TRAIN_LORA) {
        fprintf(stderr, "tunebench %s: --quant none contradicts --mode qlora (use --mode lora)\n", cmd_name);
        return TB_EXIT_USAGE;
    }
    if (quant != TB_QUANT_NONE)
        o.mode = tb_train_mode_of_quant(quant);
    tb_error err;
    tb_error_clear(&err);
    tb_trainer *t;
    if (tb_trainer_create(&t, &o, resume, on_update, &quiet, &err) != TB_OK) {
        tb_cli_print_error(cmd_name, &err);
        return TB_EXIT_USAGE;
    }
    const tb_train_options *eff = tb_trainer_options(t);
    tb_train_progress p;
    tb_trainer_progress(t, &p);
    char stats[1024];
    tb_data_stats_format(tb_trainer_data_stats(t), stats, sizeof stats);
    if (!quiet) {
        char targets[64];
        tb_lora_targets_format(eff->targets, targets, sizeof targets);
        printf("run %lld: %s\n", (long long)p.run_id, p.run_dir);
        printf("data: %s\n", stats);
        if (tb_train_mode_adapter(eff->mode))
            printf("%s: r=%lld alpha=%g targets %s, %lld trainable parameters%s\n",
                   eff->mode == TB_TRAIN_LORA ? "lora" : "qlora", (long long)eff->rank, tb_train_options_alpha(eff),
                   targets, (long long)p.trainable_params,
                   eff->mode == TB_TRAIN_LORA ? ""
                   : eff->mode == TB_TRAIN_QLORA ? ", base linears in NF4"
                                                 : ", base linears in NF4 with double quantization");
        else
            printf("full fine-tuning: %lld trainable parameters (f32 master weights)\n", (long long)p.trainable_params);
        printf("%lld steps (batch %lld x grad-accum %lld), memory predicted %.1f MB\n", (long long)p.total_steps,
               (long long)eff->batch, (long long)eff->grad_accum, (double)p.mem_predicted / 1e6);
        fflush(stdout);
    }
    g_trainer = t;
    struct sigaction sa = {0}, old_int, old_term;
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    tb_status st = tb_trainer_run(t, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    g_trainer = NULL;
    tb_trainer_progress(t, &p);
    int rc = TB_EXIT_OK;
    if (st != TB_OK) {
        tb_cli_print_error(cmd_name, &err);
        rc = TB_EXIT_FINDINGS;
    } else {
        if (p.message[0])
            printf("%s\n", p.message);
        printf("peak memory %.1f MB (predicted %.1f MB), %.0f tokens/s\n", (double)p.mem_peak / 1e6,
               (double)p.mem_predicted / 1e6, p.tokens_per_s);
        printf("%s: %s\n", tb_train_mode_adapter(eff->mode) ? "adapter" : "model", p.adapter_path);
        if (result)
            snprintf(result, result_size, "%s", p.adapter_path);
    }
    tb_trainer_free(t);
    return rc;
}
