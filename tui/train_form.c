/* tunebench — the Train form's fields and their mapping to tb_train_options. */
#include "tui/train_form.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"

/* The modes the trainer runs, in the order the form offers them. */
static const tb_train_mode form_modes[] = {
    TB_TRAIN_LORA,
    TB_TRAIN_QLORA_DQ,
    TB_TRAIN_QLORA,
    TB_TRAIN_FULL,
};
#define N_FORM_MODES ((int)(sizeof form_modes / sizeof form_modes[0]))

static const char *const schedule_names[TB_SCHED_COUNT] = {"constant", "linear", "cosine"};
static const char *const onoff_names[] = {"off", "on"};
static const char *const backend_names[] = {"cpu", "auto", "vulkan"};
#define N_BACKENDS ((int)(sizeof backend_names / sizeof backend_names[0]))

/* The screen logs every step: the plot draws the train loss per step. */
#define UI_LOGGING_STEPS 1
/* Without an eval file, hold out this share of the rows so there is an eval curve. */
#define UI_EVAL_SPLIT 0.1

static tb_field heading(const char *label) { return (tb_field){.kind = TB_FIELD_HEADING, .label = label}; }

static tb_field text(const char *label, const char *help)
{
    return (tb_field){.kind = TB_FIELD_TEXT, .label = label, .help = help};
}

static tb_field integer(const char *label, long lo, long hi, long step, const char *help)
{
    return (tb_field){.kind = TB_FIELD_INT, .label = label, .imin = lo, .imax = hi, .istep = step, .help = help};
}

static tb_field real(const char *label, double lo, double hi, double step, const char *fmt, const char *help)
{
    return (tb_field){.kind = TB_FIELD_REAL, .label = label, .dmin = lo, .dmax = hi, .dstep = step, .dfmt = fmt,
                      .help = help};
}

static tb_field choice(const char *label, const char *const *names, int n, const char *help)
{
    return (tb_field){.kind = TB_FIELD_CHOICE, .label = label, .choices = names, .n_choices = n, .help = help};
}

tb_train_mode tb_train_form_mode(const tb_train_form *tf)
{
    int c = tf->fields[TF_MODE].choice;
    return form_modes[c >= 0 && c < N_FORM_MODES ? c : 0];
}

void tb_train_form_set(tb_train_form *tf, const tb_train_options *o)
{
    tb_field *f = tf->fields;
    snprintf(f[TF_MODEL].text, sizeof f[TF_MODEL].text, "%s", o->model);
    snprintf(f[TF_DATA].text, sizeof f[TF_DATA].text, "%s", o->data);
    snprintf(f[TF_EVAL].text, sizeof f[TF_EVAL].text, "%s", o->eval);
    snprintf(f[TF_NAME].text, sizeof f[TF_NAME].text, "%s", o->name);
    f[TF_MODE].choice = 0;
    for (int i = 0; i < N_FORM_MODES; i++)
        if (form_modes[i] == o->mode)
            f[TF_MODE].choice = i;
    f[TF_RANK].ival = (long)o->rank;
    f[TF_ALPHA].dval = tb_train_options_alpha(o);
    tb_lora_targets_format(o->targets, f[TF_TARGETS].text, sizeof f[TF_TARGETS].text);
    f[TF_DROPOUT].dval = o->dropout;
    f[TF_LR].dval = tb_train_options_lr(o);
    f[TF_SCHEDULE].choice = (int)o->schedule;
    f[TF_WARMUP].dval = o->warmup_ratio;
    f[TF_EPOCHS].dval = o->epochs;
    f[TF_MAX_STEPS].ival = (long)o->max_steps;
    f[TF_BATCH].ival = (long)o->batch;
    f[TF_ACCUM].ival = (long)o->grad_accum;
    f[TF_MAX_LEN].ival = (long)o->max_len;
    f[TF_CKPT].choice = o->checkpointing;
    f[TF_GROUP].choice = o->group_by_length;
    f[TF_EVAL_SPLIT].dval = o->eval_split;
    f[TF_EVAL_STEPS].ival = (long)o->eval_steps;
    f[TF_LOG_STEPS].ival = (long)o->logging_steps;
    f[TF_SAVE_STEPS].ival = (long)o->save_steps;
    f[TF_SEED].ival = (long)o->seed;
    f[TF_BACKEND].choice = 0;
    for (int i = 0; i < N_BACKENDS; i++)
        if (strcmp(backend_names[i], o->backend) == 0)
            f[TF_BACKEND].choice = i;
    tf->last_rank = f[TF_RANK].ival;
    tf->last_mode = f[TF_MODE].choice;
    tb_train_form_changed(tf, -1);
}

void tb_train_form_init(tb_train_form *tf, const tb_session *s)
{
    memset(tf, 0, sizeof *tf);
    tb_field *f = tf->fields;
    tf->n_modes = N_FORM_MODES;
    for (int i = 0; i < N_FORM_MODES; i++)
        tf->mode_names[i] = tb_train_mode_name(form_modes[i]);
    f[TF_H_RUN] = heading("Run");
    f[TF_MODEL] = text("Model dir", "Hugging Face model directory: config.json, safetensors, tokenizer.json");
    f[TF_DATA] = text("Dataset", "JSONL / JSON / CSV rows (the Data screen's dataset, or a path)");
    f[TF_EVAL] = text("Eval file", "held-out rows for the eval loss; empty: hold out the eval split");
    f[TF_NAME] = text("Run name", "the name in the Runs screen; empty: model, dataset and rank");
    f[TF_MODE] = choice("Mode", tf->mode_names, N_FORM_MODES, "lora: adapters on a frozen base; qlora_dq / qlora: that base in NF4 (with / without double-quantized scales); full: every weight");
    f[TF_H_LORA] = heading("LoRA");
    f[TF_RANK] = integer("Rank r", 1, 65536, 4, "rank of A (r x in) and B (out x r)");
    f[TF_ALPHA] = real("Alpha", 1e-6, 1e6, 8, "%g", "scale = alpha / r (follows 2r until you set it)");
    f[TF_TARGETS] = text("Targets", "q,k,v,o,gate,up,down or all-linear");
    f[TF_DROPOUT] = real("Dropout", 0, 0.99, 0.05, "%g", "LoRA dropout on the adapter input");
    f[TF_H_OPT] = heading("Optimization");
    f[TF_LR] = real("Learning rate", 1e-9, 0.5, 1e-4, "%g", "AdamW peak learning rate (2e-4 LoRA, 5e-5 full)");
    f[TF_SCHEDULE] = choice("Schedule", schedule_names, TB_SCHED_COUNT, "after warmup: constant, linear or cosine decay");
    f[TF_WARMUP] = real("Warmup ratio", 0, 0.99, 0.01, "%g", "share of the steps spent warming up the lr");
    f[TF_EPOCHS] = real("Epochs", 0.01, 1e6, 1, "%g", "passes over the training rows (unless max steps)");
    f[TF_MAX_STEPS] = integer("Max steps", 0, 1L << 40, 100, "optimizer steps; 0: from the epochs");
    f[TF_BATCH] = integer("Batch", 1, 4096, 1, "examples per micro-batch");
    f[TF_ACCUM] = integer("Grad accum", 1, 4096, 1, "micro-batches per optimizer step");
    f[TF_MAX_LEN] = integer("Max length", 0, 1L << 20, 64, "tokens per example; 0: min(1024, context)");
    f[TF_CKPT] = choice("Grad checkpoint", onoff_names, 2, "recompute layers in backward: less memory, slower");
    f[TF_GROUP] = choice("Group by length", onoff_names, 2,
                         "batch rows of similar length: less padding, faster; the train loss then saw-tooths");
    f[TF_H_CADENCE] = heading("Eval, logging, saving");
    f[TF_EVAL_SPLIT] = real("Eval split", 0, 0.5, 0.05, "%g", "share of the rows held out (no eval file)");
    f[TF_EVAL_STEPS] = integer("Eval steps", 0, 1L << 40, 10, "eval loss every N steps; 0: only at the end");
    f[TF_LOG_STEPS] = integer("Log steps", 1, 1L << 40, 1, "a train-loss point every N steps");
    f[TF_SAVE_STEPS] = integer("Save steps", 0, 1L << 40, 100, "checkpoint every N steps; 0: none");
    f[TF_SEED] = integer("Seed", 0, 1L << 40, 1, "data order, dropout, LoRA init");
    f[TF_H_ENGINE] = heading("Engine");
    f[TF_BACKEND] = choice("Backend", backend_names, N_BACKENDS, "cpu; auto: a Vulkan GPU when there is one");

    tb_train_options o;
    tb_train_options_init(&o);
    o.logging_steps = UI_LOGGING_STEPS;
    if (s) {
        snprintf(o.model, sizeof o.model, "%s", s->model_dir);
        snprintf(o.data, sizeof o.data, "%s", s->data_path);
        snprintf(o.eval, sizeof o.eval, "%s", s->eval_path);
    }
    if (!o.eval[0])
        o.eval_split = UI_EVAL_SPLIT;
    tb_train_form_set(tf, &o);
    tb_form_init(&tf->form, tf->fields, TF_COUNT);
}

tb_status tb_train_form_get(const tb_train_form *tf, const char *runs_dir, tb_train_options *o, tb_error *err)
{
    const tb_field *f = tf->fields;
    tb_train_options_init(o);
    snprintf(o->model, sizeof o->model, "%s", f[TF_MODEL].text);
    snprintf(o->data, sizeof o->data, "%s", f[TF_DATA].text);
    snprintf(o->eval, sizeof o->eval, "%s", f[TF_EVAL].text);
    snprintf(o->name, sizeof o->name, "%s", f[TF_NAME].text);
    if (runs_dir && runs_dir[0])
        snprintf(o->out, sizeof o->out, "%s", runs_dir);
    o->mode = tb_train_form_mode(tf);
    o->rank = f[TF_RANK].ival;
    o->alpha = f[TF_ALPHA].dval;
    o->dropout = f[TF_DROPOUT].dval;
    o->lr = f[TF_LR].dval;
    o->schedule = (tb_schedule_kind)f[TF_SCHEDULE].choice;
    o->warmup_ratio = f[TF_WARMUP].dval;
    o->epochs = f[TF_EPOCHS].dval;
    o->max_steps = f[TF_MAX_STEPS].ival;
    o->batch = f[TF_BATCH].ival;
    o->grad_accum = f[TF_ACCUM].ival;
    o->max_len = f[TF_MAX_LEN].ival;
    o->checkpointing = f[TF_CKPT].choice == 1;
    o->group_by_length = f[TF_GROUP].choice == 1;
    o->eval_split = o->eval[0] ? 0 : f[TF_EVAL_SPLIT].dval; /* the field is disabled then */
    o->eval_steps = f[TF_EVAL_STEPS].ival;
    o->logging_steps = f[TF_LOG_STEPS].ival;
    o->save_steps = f[TF_SAVE_STEPS].ival;
    o->seed = (uint64_t)f[TF_SEED].ival;
    snprintf(o->backend, sizeof o->backend, "%s", backend_names[f[TF_BACKEND].choice]);
    if (o->mode == TB_TRAIN_FULL)
        return TB_OK; /* the LoRA fields do not apply (and are disabled) */
    if (tb_lora_targets_parse(f[TF_TARGETS].text, &o->targets, err) != TB_OK) {
        snprintf(err->field, sizeof err->field, "targets");
        return err->status;
    }
    return TB_OK;
}

tb_status tb_train_form_load(tb_train_form *tf, const char *path, tb_error *err)
{
    char *text = NULL, *cur_text = NULL, *merged_text = NULL;
    json_t *file = NULL, *merged = NULL;
    tb_train_options o;
    tb_status st = tb_read_file(path, &text, NULL, err);
    if (st != TB_OK)
        return st;
    json_error_t je;
    file = json_loads(text, 0, &je);
    json_t *set = file ? json_object_get(file, "settings") : NULL;
    if (!set)
        set = file;
    if (!json_is_object(set)) {
        st = tb_error_set(err, TB_ERR_FORMAT, path, file ? 0 : je.line, NULL, "not a settings object%s%s",
                          file ? "" : ": ", file ? "" : je.text);
        goto done;
    }
    if ((st = tb_train_form_get(tf, NULL, &o, err)) != TB_OK)
        goto done;
    cur_text = tb_train_options_to_json(&o);
    merged = cur_text ? json_loads(cur_text, 0, NULL) : NULL;
    if (!merged) {
        st = tb_fail(err, TB_ERR_NOMEM, "out of memory");
        goto done;
    }
    /* alpha and lr follow the rank and the mode unless the file sets them too */
    if (json_object_get(set, "rank") && !json_object_get(set, "alpha"))
        json_object_del(merged, "alpha");
    if (json_object_get(set, "mode") && !json_object_get(set, "learning_rate"))
        json_object_del(merged, "learning_rate");
    json_object_update(merged, set);
    merged_text = json_dumps(merged, 0);
    if ((st = tb_train_options_from_json(&o, merged_text ? merged_text : "", path, err)) != TB_OK)
        goto done;
    bool offered = false;
    for (int i = 0; i < N_FORM_MODES; i++)
        offered |= form_modes[i] == o.mode;
    if (!offered)
        st = tb_error_set(err, TB_ERR_UNSUPPORTED, path, 0, "mode", "mode %s is not available here", tb_train_mode_name(o.mode));
    else
        tb_train_form_set(tf, &o);
done:
    free(text);
    free(cur_text);
    free(merged_text);
    json_decref(file);
    json_decref(merged);
    return st;
}

void tb_train_form_take_data(tb_train_form *tf, const char *data, const char *session_eval)
{
    tb_field *f = tf->fields;
    snprintf(f[TF_DATA].text, sizeof f[TF_DATA].text, "%s", data);
    if (session_eval && session_eval[0] && strcmp(f[TF_EVAL].text, session_eval) == 0) {
        f[TF_EVAL].text[0] = '\0';
        if (f[TF_EVAL_SPLIT].dval == 0)
            f[TF_EVAL_SPLIT].dval = UI_EVAL_SPLIT;
    }
}

void tb_train_form_changed(tb_train_form *tf, int field)
{
    tb_field *f = tf->fields;
    if (field == TF_RANK && fabs(f[TF_ALPHA].dval - 2.0 * (double)tf->last_rank) < 1e-9)
        f[TF_ALPHA].dval = 2.0 * (double)f[TF_RANK].ival;
    tf->last_rank = f[TF_RANK].ival;
    if (field == TF_MODE) {
        tb_train_options was;
        tb_train_options_init(&was);
        was.mode = form_modes[tf->last_mode];
        tb_train_options now = was;
        now.mode = tb_train_form_mode(tf);
        if (f[TF_LR].dval == tb_train_options_lr(&was))
            f[TF_LR].dval = tb_train_options_lr(&now);
    }
    tf->last_mode = f[TF_MODE].choice;
    bool lora = tb_train_form_mode(tf) != TB_TRAIN_FULL;
    for (int i = TF_RANK; i <= TF_DROPOUT; i++)
        f[i].disabled = !lora;
    f[TF_EVAL_SPLIT].disabled = f[TF_EVAL].text[0] != '\0';
}

int tb_train_form_field_of(const char *flag)
{
    static const struct {
        const char *flag;
        int field;
    } map[] = {
        {"model", TF_MODEL}, {"tokenizer", TF_MODEL}, {"data", TF_DATA}, {"eval", TF_EVAL}, {"mode", TF_MODE},
        {"rank", TF_RANK}, {"alpha", TF_ALPHA}, {"targets", TF_TARGETS}, {"dropout", TF_DROPOUT}, {"lr", TF_LR},
        {"schedule", TF_SCHEDULE}, {"warmup-ratio", TF_WARMUP}, {"epochs", TF_EPOCHS}, {"max-steps", TF_MAX_STEPS},
        {"batch", TF_BATCH}, {"grad-accum", TF_ACCUM}, {"max-len", TF_MAX_LEN}, {"no-group-by-length", TF_GROUP},
        {"eval-split", TF_EVAL_SPLIT}, {"eval-steps", TF_EVAL_STEPS}, {"logging-steps", TF_LOG_STEPS},
        {"save-steps", TF_SAVE_STEPS},
        {"seed", TF_SEED}, {"backend", TF_BACKEND}, {"--backend", TF_BACKEND},
    };
    if (!flag)
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].flag, flag) == 0)
            return map[i].field;
    return -1;
}
