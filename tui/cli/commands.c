/* tunebench — the table of CLI commands. One line per command; keep it alphabetical. */
#include "tui/cli/cli.h"

#include "tui/cli/commands.h"

const tb_cli_command tb_cli_commands[] = {
    {"calc", "LoRA calculator: parameters, adapter size, rank for a budget, training memory", tb_cmd_calc},
    {"decide", "prompting vs RAG vs fine-tuning: the decision matrix", tb_cmd_decide},
    {"devices", "Vulkan devices, and the backend --backend/--device would pick", tb_cmd_devices},
    {"detokenize", "token ids back to text", tb_cmd_detokenize},
    {"help", "list the commands", tb_cli_help},
    {"tokenize", "text to token ids with a model's tokenizer.json", tb_cmd_tokenize},
    {"tokenizer-train", "learn a byte-level BPE tokenizer.json from a text corpus", tb_cmd_tokenizer_train},
    {"runs", "list, compare and export training runs; recommend the best", tb_cmd_runs},
    {0},
};
