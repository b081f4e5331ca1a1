/* tunebench pretrain — train a base model from scratch on plain text. A thin layer over
 * `tunebench train`: full mode from random weights (--init-config) on packed text
 * (--packed), with pretraining defaults that any train flag overrides, so checkpoints,
 * resume, SIGINT handling and the run store are the trainer's. At the end it completes the
 * Hugging Face model directory with what a from-scratch model has nobody to copy from:
 * tokenizer_config.json and generation_config.json, from the tokenizer's special tokens. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/tokenizer/tokenizer.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"

/* Put first, so that flags given on the command line (parsed later) win. */
static const char *const defaults[] = {
    "--mode", "full", "--packed", "--max-len", "256", "--batch", "16", "--grad-accum", "2",
    "--lr", "1e-3", "--warmup-steps", "100", "--weight-decay", "0.1", "--schedule", "cosine",
    "--epochs", "1", "--logging-steps", "10", "--eval-steps", "200", "--save-steps", "100",
    "--save-total-limit", "2", "--save-dtype", "bf16", "--name", "pretrain",
};
#define N_DEFAULTS (sizeof defaults / sizeof defaults[0])

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench pretrain --config config.json --tokenizer FILE|DIR --corpus FILE\n"
            "                          [--eval-split F] [--max-steps N] [any tunebench train option]\n"
            "       tunebench pretrain --resume RUNS/ID\n\n"
            "Trains a Llama-family model from random weights on a plain-text corpus: tunebench train\n"
            "in full mode on packed text (documents are separated by blank lines and end with EOS,\n"
            "then cut into --max-len blocks; every token is trained). --config is a Hugging Face\n"
            "config.json, --corpus the text (--data works too); --eval-split F holds that share of the\n"
            "blocks out for the eval loss.\n\n"
            "Defaults (each train flag given overrides its default):\n"
            "  --max-len 256 --batch 16 --grad-accum 2 --lr 1e-3 --warmup-steps 100\n"
            "  --weight-decay 0.1 --schedule cosine --epochs 1 --logging-steps 10 --eval-steps 200\n"
            "  --save-steps 100 --save-total-limit 2 --save-dtype bf16 --name pretrain\n\n"
            "The model lands in RUNS/ID/model/ (config.json, model.safetensors, tokenizer.json,\n"
            "tokenizer_config.json, generation_config.json). An interrupted run (Ctrl-C, kill)\n"
            "continues from its last checkpoint with --resume RUNS/ID. Exit codes as train.\n");
}

static tb_status write_json(const char *dir, const char *name, json_t *root, tb_error *err)
{
    char path[4096];
    if (!tb_path_join(path, sizeof path, dir, name))
        return tb_fail(err, TB_ERR_INVALID, "%s/%s: path too long", dir, name);
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    size_t len = strlen(text);
    text[len] = '\n'; /* the NUL becomes the final newline (written: len + 1 bytes) */
    tb_status st = tb_atomic_write(path, text, len + 1, err);
    free(text);
    return st;
}

static void set_token(json_t *o, const char *key, const tb_tokenizer *tok, int32_t id)
{
    const char *s = id >= 0 ? tb_tokenizer_token_str(tok, id) : NULL;
    json_object_set_new(o, key, s ? json_string(s) : json_null());
}

static void set_id(json_t *o, const char *key, int32_t id) { json_object_set_new(o, key, id >= 0 ? json_integer(id) : json_null()); }

/* tokenizer_config.json and generation_config.json where dir has none. */
static tb_status complete_model_dir(const char *dir, tb_error *err)
{
    tb_tokenizer *tok;
    tb_status st = tb_tokenizer_load_dir(&tok, dir, err);
    if (st != TB_OK)
        return st;
    int32_t bos = tb_tokenizer_bos(tok), eos = tb_tokenizer_eos(tok), pad = tb_tokenizer_pad(tok);
    if (pad < 0) /* tokenizer-train's convention: id 1 is "<|pad|>" */
        pad = tb_tokenizer_token_id(tok, "<|pad|>");
    char path[4096];
    json_t *cfg = NULL;
    if (tb_path_join(path, sizeof path, dir, "config.json"))
        cfg = json_load_file(path, 0, NULL);
    json_t *ctx = cfg ? json_object_get(cfg, "max_position_embeddings") : NULL;
    if (tb_path_join(path, sizeof path, dir, "tokenizer_config.json") && !tb_path_exists(path)) {
        json_t *o = json_object();
        json_object_set_new(o, "tokenizer_class", json_string("PreTrainedTokenizerFast"));
        set_token(o, "bos_token", tok, bos);
        set_token(o, "eos_token", tok, eos);
        set_token(o, "pad_token", tok, pad);
        json_object_set_new(o, "add_bos_token", json_false());
        json_object_set_new(o, "add_eos_token", json_false());
        json_object_set_new(o, "clean_up_tokenization_spaces", json_false());
        if (json_is_integer(ctx))
            json_object_set(o, "model_max_length", ctx);
        st = write_json(dir, "tokenizer_config.json", o, err);
        json_decref(o);
    }
    if (st == TB_OK && tb_path_join(path, sizeof path, dir, "generation_config.json") && !tb_path_exists(path)) {
        json_t *o = json_object();
        set_id(o, "bos_token_id", bos);
        set_id(o, "eos_token_id", eos);
        set_id(o, "pad_token_id", pad);
        json_object_set_new(o, "do_sample", json_false());
        if (json_is_integer(ctx))
            json_object_set(o, "max_length", ctx);
        st = write_json(dir, "generation_config.json", o, err);
        json_decref(o);
    }
    json_decref(cfg);
    tb_tokenizer_free(tok);
    return st;
}

int tb_cmd_pretrain(int argc, char **argv)
{
    bool resume = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return TB_EXIT_OK;
        }
        if (strcmp(argv[i], "--resume") == 0 || strncmp(argv[i], "--resume=", 9) == 0)
            resume = true;
    }
    if (argc < 2) {
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    /* A resumed run takes its settings from the run folder: pass the flags as they are. */
    size_t n = 1 + (resume ? 0 : N_DEFAULTS) + (size_t)argc;
    char **args = calloc(n, sizeof *args);
    if (!args) {
        fprintf(stderr, "tunebench pretrain: out of memory\n");
        return TB_EXIT_FINDINGS;
    }
    int k = 0;
    args[k++] = argv[0];
    for (size_t i = 0; !resume && i < N_DEFAULTS; i++)
        args[k++] = (char *)(uintptr_t)defaults[i]; /* getopt_long does not write to them */
    static char init_flag[] = "--init-config", data_flag[] = "--data";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0)
            args[k++] = init_flag;
        else if (strcmp(argv[i], "--corpus") == 0)
            args[k++] = data_flag;
        else
            args[k++] = argv[i];
    }
    char model[4096];
    int rc = tb_cli_train(k, args, model, sizeof model);
    free(args);
    if (rc == TB_EXIT_OK && model[0]) {
        tb_error err;
        tb_error_clear(&err);
        if (complete_model_dir(model, &err) != TB_OK) {
            tb_cli_print_error("pretrain", &err);
            return TB_EXIT_FINDINGS;
        }
    }
    return rc;
}
