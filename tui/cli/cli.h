/* tunebench — the headless CLI: one command per screen (DESIGN.md §1).
 *
 * Exit codes, for every command: 0 success, 1 the command ran and found problems (e.g.
 * validation errors), 2 unusable input or bad flags (a message names the file/flag). */
#ifndef TB_CLI_H
#define TB_CLI_H

#include <stdbool.h>

#include "engine/core/error.h"

enum { TB_EXIT_OK = 0, TB_EXIT_FINDINGS = 1, TB_EXIT_USAGE = 2 };

typedef struct tb_cli_command {
    const char *name;
    const char *summary;   /* one line for `tunebench help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} tb_cli_command;

/* The table of commands (tui/cli/commands.c), terminated by a zeroed entry. */
extern const tb_cli_command tb_cli_commands[];

const tb_cli_command *tb_cli_find(const char *name);
int tb_cli_help(int argc, char **argv);

/* Helpers shared by commands: they print "tunebench CMD: --flag: why" to stderr and return
 * false on bad input, so a command can `return TB_EXIT_USAGE`. */
bool tb_cli_parse_long(const char *cmd, const char *flag, const char *text, long min, long max, long *out);
bool tb_cli_parse_double(const char *cmd, const char *flag, const char *text, double min, double max, double *out);
/* Print an error record as "tunebench CMD: file:line: field: message". */
void tb_cli_print_error(const char *cmd, const tb_error *err);

#endif
