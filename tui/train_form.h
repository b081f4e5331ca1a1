/* tunebench — the Train screen's form: its fields and the mapping to tb_train_options.
 *
 * The fields start from tb_train_options_init (Engine II's Hugging Face defaults) and map
 * back to the same struct `tunebench train` fills, so the form and the CLI cannot drift.
 * Two screen-only choices: the train loss is logged every step (the live plot draws one
 * point per step) and, when the session has no eval file, 10% of the rows are held out so
 * the eval curve exists. Pure logic: unit-tested without a terminal. */
#ifndef TB_TUI_TRAIN_FORM_H
#define TB_TUI_TRAIN_FORM_H

#include <stdbool.h>

#include "engine/train/options.h"
#include "tui/session.h"
#include "tui/widgets/form.h"

typedef enum tb_train_field {
    TF_H_RUN = 0, TF_MODEL, TF_DATA, TF_EVAL, TF_NAME, TF_MODE,
    TF_H_LORA, TF_RANK, TF_ALPHA, TF_TARGETS, TF_DROPOUT,
    TF_H_OPT, TF_LR, TF_SCHEDULE, TF_WARMUP, TF_EPOCHS, TF_MAX_STEPS, TF_BATCH, TF_ACCUM, TF_MAX_LEN, TF_CKPT,
    TF_GROUP,
    TF_H_CADENCE, TF_EVAL_SPLIT, TF_EVAL_STEPS, TF_LOG_STEPS, TF_SAVE_STEPS, TF_SEED,
    TF_H_ENGINE, TF_BACKEND,
    TF_COUNT
} tb_train_field;

typedef struct tb_train_form {
    tb_field fields[TF_COUNT];
    tb_form form;
    const char *mode_names[TB_TRAIN_MODE_COUNT];
    int n_modes;
    /* follow-the-default bookkeeping: alpha stays 2r and lr stays the mode's default until
     * the user sets them */
    long last_rank;
    int last_mode;
} tb_train_form;

/* Fields from Engine II's defaults and the session's model, dataset and eval file. */
void tb_train_form_init(tb_train_form *tf, const tb_session *s);
/* Show these settings in the fields (the modes the form offers only). */
void tb_train_form_set(tb_train_form *tf, const tb_train_options *o);
/* The options the fields say; runs_dir is the session's runs folder (--out). Fails only on
 * text that does not parse (targets), with err->field the flag name, like the CLI. */
tb_status tb_train_form_get(const tb_train_form *tf, const char *runs_dir, tb_train_options *o, tb_error *err);
/* Settings from a JSON file over the fields: a run's config.json (its "settings") or a bare
 * object with the same keys (Hugging Face TrainingArguments names: "learning_rate",
 * "num_train_epochs", "max_steps", "rank", ...). Keys the file has win; the rest stay. A
 * file that sets the rank but not alpha gets alpha 2r; the mode but not the lr, the mode's
 * lr. Errors name the file and the key. */
tb_status tb_train_form_load(tb_train_form *tf, const char *path, tb_error *err);
/* A dataset from elsewhere (the Data screen). The session's eval file belongs to the
 * session's dataset (the demo's held-out words): with another dataset the form holds out
 * its own rows instead. Call tb_train_form_changed(tf, TF_DATA) after. */
void tb_train_form_take_data(tb_train_form *tf, const char *data, const char *session_eval);
/* After a field changed: alpha follows the rank (2r) and lr the mode's default while the
 * user has not set them, and LoRA fields are disabled in full mode. */
void tb_train_form_changed(tb_train_form *tf, int field);
/* The field of a refusal's err->field ("rank", "max-len", "data", ...); -1 when none. */
int tb_train_form_field_of(const char *flag);
/* The mode a choice index stands for. */
tb_train_mode tb_train_form_mode(const tb_train_form *tf);

#endif
