/* tunebench — entry point: a CLI command when one is named, else the workbench. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_config.h"
#include "tui/app.h"
#include "tui/cli/cli.h"

static void usage_workbench(FILE *out)
{
    fprintf(out, "usage: tunebench [--model DIR] [--data FILE]   open the workbench\n"
                 "       tunebench COMMAND [ARGS...]             run a command headless (tunebench help)\n"
                 "       tunebench --version\n");
    fprintf(out, "  --runs DIR   the runs folder the workbench reads and writes (default runs)\n"
                 "  --no-demo    start with no model or dataset chosen (default: the bundled demo)\n");
}

int main(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] != '-') {
        const tb_cli_command *cmd = tb_cli_find(argv[1]);
        if (!cmd) {
            fprintf(stderr, "tunebench: unknown command '%s' (tunebench help lists them)\n", argv[1]);
            return TB_EXIT_USAGE;
        }
        return cmd->run(argc - 1, argv + 1);
    }
    tb_app_options opts = {0};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("tunebench %s\n", TB_VERSION);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage_workbench(stdout);
            tb_cli_help(0, NULL);
            return 0;
        } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
            opts.model_dir = argv[++i];
        } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            opts.data_path = argv[++i];
        } else if (strcmp(argv[i], "--no-demo") == 0) {
            opts.no_demo = true;
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            opts.runs_dir = argv[++i];
        } else if (strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
            /* Headless smoke run (htop's -n): draw N frames and exit; used under sanitizers. */
            opts.max_frames = strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "tunebench: unknown option '%s'\n", argv[i]);
            usage_workbench(stderr);
            return TB_EXIT_USAGE;
        }
    }
    return tb_app_run(&opts);
}
