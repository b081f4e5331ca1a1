/* tunebench — the table of CLI commands. One line per command; keep it alphabetical. */
#include "tui/cli/cli.h"

#include "tui/cli/commands.h"

const tb_cli_command tb_cli_commands[] = {
    {"calc", "LoRA calculator: parameters, adapter size, rank for a budget, training memory", tb_cmd_calc},
    {"decide", "prompting vs RAG vs fine-tuning: the decision matrix", tb_cmd_decide},
    {"detokenize", "token ids back to text", tb_cmd_detokenize},
    {"devices", "Vulkan devices, and the backend --backend/--device would pick", tb_cmd_devices},
    {"eval", "before/after evaluation: base vs base + adapters on held-out data, regression check, judge", tb_cmd_eval},
    {"export", "a PEFT adapter as a llama.cpp GGUF LoRA adapter", tb_cmd_export},
    {"generate", "generate text from a prompt with a model (KV cache, sampling)", tb_cmd_generate},
    {"grad", "gradients of a PEFT adapter (or every weight) for one token sequence (safetensors)", tb_cmd_grad},
    {"help", "list the commands", tb_cli_help},
    {"logits", "write a model's logits for a token sequence (safetensors)", tb_cmd_logits},
    {"merge", "merge an adapter into a full-precision copy of its base model (HF directory)", tb_cmd_merge},
    {"pretrain", "train a base model from scratch on plain text (full mode, packed sequences)", tb_cmd_pretrain},
    {"runs", "list, compare and export training runs; recommend the best", tb_cmd_runs},
    {"tokenize", "text to token ids with a model's tokenizer.json", tb_cmd_tokenize},
    {"tokenizer-train", "learn a byte-level BPE tokenizer.json from a text corpus", tb_cmd_tokenizer_train},
    {"train", "fine-tune a model on the CPU (LoRA or full): runs, checkpoints, PEFT adapters", tb_cmd_train},
    {"validate", "check a dataset: duplicates, empty outputs, PII, leakage, lengths (exit 1 on errors)", tb_cmd_validate},
    {0},
};
