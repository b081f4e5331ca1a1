/* tunebench — flags shared by the model-running commands. */
#include "tui/cli/model_opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli/cli.h"

void tb_cli_model_opts_init(tb_cli_model_opts *o)
{
    memset(o, 0, sizeof *o);
    o->backend = "cpu";
    o->be.precision = TB_PRECISION_F32;
    o->be.device = -1;
}

bool tb_cli_model_opt(const char *cmd, int c, const char *arg, tb_cli_model_opts *o, bool *handled)
{
    *handled = true;
    long v;
    switch (c) {
    case TB_OPT_MODEL: o->model = arg; return true;
    case TB_OPT_BACKEND: o->backend = arg; return true;
    case TB_OPT_THREADS:
        if (!tb_cli_parse_long(cmd, "--threads", arg, 1, 64, &v))
            return false;
        o->be.threads = (int)v;
        return true;
    case TB_OPT_DEVICE:
        if (!tb_cli_parse_long(cmd, "--device", arg, 0, 255, &v))
            return false;
        o->be.device = (int)v;
        return true;
    case TB_OPT_PRECISION:
        if (strcmp(arg, "f32") == 0) {
            o->be.precision = TB_PRECISION_F32;
        } else if (strcmp(arg, "bf16") == 0) {
            o->be.precision = TB_PRECISION_BF16;
        } else {
            fprintf(stderr, "tunebench %s: --precision: '%s' is not f32 or bf16\n", cmd, arg);
            return false;
        }
        return true;
    default: *handled = false; return true;
    }
}

bool tb_cli_open_model(const char *cmd, const tb_cli_model_opts *o, tb_backend **be, tb_llama **m)
{
    *be = NULL;
    *m = NULL;
    if (!o->model) {
        fprintf(stderr, "tunebench %s: --model DIR is required\n", cmd);
        return false;
    }
    tb_error err;
    tb_error_clear(&err);
    char notice[256];
    if (tb_backend_create(be, o->backend, &o->be, notice, sizeof notice, &err) != TB_OK) {
        tb_cli_print_error(cmd, &err);
        return false;
    }
    if (notice[0])
        fprintf(stderr, "tunebench %s: %s\n", cmd, notice);
    if (tb_llama_load(m, o->model, *be, &err) != TB_OK) {
        tb_cli_print_error(cmd, &err);
        tb_backend_destroy(*be);
        *be = NULL;
        return false;
    }
    return true;
}

bool tb_cli_parse_ids(const char *cmd, const char *flag, const char *text, int32_t **ids, int64_t *n)
{
    size_t cap = 16;
    *n = 0;
    *ids = malloc(cap * sizeof **ids);
    const char *p = text;
    while (*ids && *p) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end && *end != ',')) {
            fprintf(stderr, "tunebench %s: %s: '%s' is not a comma-separated list of token ids\n", cmd, flag, text);
            free(*ids);
            *ids = NULL;
            return false;
        }
        if ((size_t)*n == cap) {
            int32_t *g = realloc(*ids, 2 * cap * sizeof *g);
            if (!g) {
                free(*ids);
                *ids = NULL;
                break;
            }
            *ids = g;
            cap *= 2;
        }
        (*ids)[(*n)++] = (int32_t)v;
        p = *end ? end + 1 : end;
    }
    if (!*ids || *n == 0) {
        fprintf(stderr, "tunebench %s: %s: no token ids given\n", cmd, flag);
        free(*ids);
        *ids = NULL;
        return false;
    }
    return true;
}
