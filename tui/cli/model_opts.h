/* tunebench — flags shared by the commands that run a model (logits, generate, and the
 * training commands): --model, --backend, --device, --threads, --precision; and opening the
 * model. */
#ifndef TB_CLI_MODEL_OPTS_H
#define TB_CLI_MODEL_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/backend/backend.h"
#include "engine/model/llama.h"

enum { TB_OPT_MODEL = 2000, TB_OPT_BACKEND, TB_OPT_THREADS, TB_OPT_PRECISION, TB_OPT_DEVICE };

#define TB_CLI_MODEL_OPTIONS                                                   \
    {"model", required_argument, NULL, TB_OPT_MODEL},                          \
    {"backend", required_argument, NULL, TB_OPT_BACKEND},                      \
    {"threads", required_argument, NULL, TB_OPT_THREADS},                      \
    {"precision", required_argument, NULL, TB_OPT_PRECISION},                  \
    {"device", required_argument, NULL, TB_OPT_DEVICE}

#define TB_CLI_MODEL_USAGE                                                                       \
    "  --backend cpu|vulkan|auto   where to compute (default cpu; auto: a Vulkan GPU if any)\n" \
    "  --device N                  Vulkan device (tunebench devices lists them)\n"               \
    "  --threads N                 CPU threads (default: all cores)\n"                           \
    "  --precision f32|bf16        matmul precision for bf16 weights (default f32; bf16 rounds\n" \
    "                              activations to bf16 like PyTorch's bf16 models, faster)\n"

typedef struct tb_cli_model_opts {
    const char *model;
    const char *backend;
    tb_backend_options be;
} tb_cli_model_opts;

void tb_cli_model_opts_init(tb_cli_model_opts *o);
/* Handle option c if it is one of TB_CLI_MODEL_OPTIONS: *handled is set; false on a bad value
 * (message printed). */
bool tb_cli_model_opt(const char *cmd, int c, const char *arg, tb_cli_model_opts *o, bool *handled);
/* Create the backend and load --model; on failure prints the error and returns false. */
bool tb_cli_open_model(const char *cmd, const tb_cli_model_opts *o, tb_backend **be, tb_llama **m);
/* "1,2,3" -> malloc'd ids; false (message printed) on a bad list. */
bool tb_cli_parse_ids(const char *cmd, const char *flag, const char *text, int32_t **ids, int64_t *n);

#endif
