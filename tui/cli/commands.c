/* tunebench — the table of CLI commands. One line per command; keep it alphabetical. */
#include "tui/cli/cli.h"

#include "tui/cli/commands.h"

const tb_cli_command tb_cli_commands[] = {
    {"calc", "LoRA calculator: parameters, adapter size, rank for a budget, training memory", tb_cmd_calc},
    {"decide", "prompting vs RAG vs fine-tuning: the decision matrix", tb_cmd_decide},
    {"devices", "Vulkan devices, and the backend --backend/--device would pick", tb_cmd_devices},
    {"help", "list the commands", tb_cli_help},
    {"runs", "list, compare and export training runs; recommend the best", tb_cmd_runs},
    {0},
};
