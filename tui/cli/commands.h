/* tunebench — entry points of the CLI commands (one per screen and tool). */
#ifndef TB_CLI_COMMANDS_H
#define TB_CLI_COMMANDS_H

int tb_cmd_calc(int argc, char **argv);
int tb_cmd_decide(int argc, char **argv);
int tb_cmd_devices(int argc, char **argv);
int tb_cmd_generate(int argc, char **argv);
int tb_cmd_grad(int argc, char **argv);
int tb_cmd_logits(int argc, char **argv);
int tb_cmd_detokenize(int argc, char **argv);
int tb_cmd_tokenize(int argc, char **argv);
int tb_cmd_tokenizer_train(int argc, char **argv);
int tb_cmd_runs(int argc, char **argv);
int tb_cmd_train(int argc, char **argv);
int tb_cmd_validate(int argc, char **argv);

#endif
