/* tunebench — what the screens share: the model, dataset and run folder in use.
 * The workbench starts on the bundled demo when it is present (README "The demo"). */
#ifndef TB_TUI_SESSION_H
#define TB_TUI_SESSION_H

#include <stdbool.h>

typedef struct tb_session {
    char model_dir[4096];   /* Hugging Face model directory, "" when none */
    char data_path[4096];   /* training dataset */
    char eval_path[4096];   /* held-out dataset, "" when none */
    char runs_dir[4096];    /* where runs/ and runs/tunebench.db live */
    char train_settings[4096]; /* JSON the Train form starts from (tui/train_form.h), "" none */
} tb_session;

/* Fill with the defaults: the runs folder "runs" and, with demo, the bundled demo paths
 * that exist (source tree or next to the binary). */
void tb_session_defaults(tb_session *s, bool demo);

#endif
