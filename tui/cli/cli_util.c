/* tunebench — helpers shared by the CLI commands. */
#include "tui/cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const tb_cli_command *tb_cli_find(const char *name)
{
    for (const tb_cli_command *c = tb_cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int tb_cli_help(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("usage: tunebench [COMMAND [ARGS...]]\n\n"
           "Without a command, opens the workbench (a full-screen terminal UI).\n\n"
           "Commands (each takes --help):\n");
    for (const tb_cli_command *c = tb_cli_commands; c->name; c++)
        printf("  %-12s %s\n", c->name, c->summary);
    return TB_EXIT_OK;
}

bool tb_cli_parse_long(const char *cmd, const char *flag, const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0') {
        fprintf(stderr, "tunebench %s: %s: '%s' is not a whole number\n", cmd, flag, text);
        return false;
    }
    if (v < min || v > max) {
        fprintf(stderr, "tunebench %s: %s: %ld is out of range [%ld, %ld]\n", cmd, flag, v, min, max);
        return false;
    }
    *out = v;
    return true;
}

bool tb_cli_parse_double(const char *cmd, const char *flag, const char *text, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v)) {
        fprintf(stderr, "tunebench %s: %s: '%s' is not a number\n", cmd, flag, text);
        return false;
    }
    if (v < min || v > max) {
        fprintf(stderr, "tunebench %s: %s: %g is out of range [%g, %g]\n", cmd, flag, v, min, max);
        return false;
    }
    *out = v;
    return true;
}

void tb_cli_print_error(const char *cmd, const tb_error *err)
{
    char buf[2048];
    fprintf(stderr, "tunebench %s: %s\n", cmd, tb_error_format(err, buf, sizeof buf));
}
