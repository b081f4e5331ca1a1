/* tunebench — entry points of the CLI commands (one per screen and tool). */
#ifndef TB_CLI_COMMANDS_H
#define TB_CLI_COMMANDS_H

#include <stddef.h>

int tb_cmd_calc(int argc, char **argv);
int tb_cmd_decide(int argc, char **argv);
int tb_cmd_devices(int argc, char **argv);
int tb_cmd_eval(int argc, char **argv);
int tb_cmd_export(int argc, char **argv);
int tb_cmd_generate(int argc, char **argv);
int tb_cmd_grad(int argc, char **argv);
int tb_cmd_logits(int argc, char **argv);
int tb_cmd_merge(int argc, char **argv);
int tb_cmd_detokenize(int argc, char **argv);
int tb_cmd_tokenize(int argc, char **argv);
int tb_cmd_tokenizer_train(int argc, char **argv);
int tb_cmd_runs(int argc, char **argv);
int tb_cmd_pretrain(int argc, char **argv);
int tb_cmd_train(int argc, char **argv);
/* tunebench train's body; result (may be NULL) gets the adapter or model directory written
 * (empty when the run stopped before the end). */
int tb_cli_train(int argc, char **argv, char *result, size_t result_size);
int tb_cmd_validate(int argc, char **argv);

#endif
