/* tunebench — the table of CLI commands. One line per command; keep it alphabetical. */
#include "tui/cli/cli.h"

#include "tui/cli/commands.h"

const tb_cli_command tb_cli_commands[] = {
    {"decide", "prompting vs RAG vs fine-tuning: the decision matrix", tb_cmd_decide},
    {"devices", "Vulkan devices, and the backend --backend/--device would pick", tb_cmd_devices},
    {"help", "list the commands", tb_cli_help},
    {0},
};
