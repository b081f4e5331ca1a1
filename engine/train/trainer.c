/* tunebench — the trainer: creation (everything checked before any compute), the run loop,
 * requests from other threads, progress for the UI. */
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/core/fs.h"
#include "engine/train/trainer_internal.h"
#include "validators/validate.h"

static const char *const state_names[] = {"ready", "running", "paused", "saving", "finished", "stopped", "failed"};

const char *tb_train_state_name(tb_train_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

double tb_trainer_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double tb_trainer_elapsed(const tb_trainer *t) { return t->elapsed0 + (t->t0 > 0 ? tb_trainer_now() - t->t0 : 0); }

/* ------------------------------------------------------------------ progress, events */

static void fill_progress(tb_trainer *t)
{
    tb_train_progress *p = &t->prog;
    tb_mem_stats ms;
    tb_mem_get_stats(&ms);
    p->run_id = t->info.id;
    p->step = t->step, p->total_steps = t->total_steps;
    p->epoch = (double)t->epoch + (t->batches_per_epoch ? (double)t->cursor / (double)t->batches_per_epoch : 0);
    p->train_loss = t->last_train, p->eval_loss = t->last_eval;
    p->best_eval_loss = t->health.best_eval, p->best_eval_step = t->health.best_step;
    p->lr = t->last_lr, p->grad_norm = t->last_gn;
    p->elapsed = tb_trainer_elapsed(t);
    p->tokens_seen = t->tokens_seen;
    p->tokens_per_s = p->elapsed > 0 ? (double)t->tokens_seen / p->elapsed : 0;
    double session = t->t0 > 0 ? tb_trainer_now() - t->t0 : 0;
    int64_t done = t->step - t->snap_step0;
    p->eta = done > 0 ? session / (double)done * (double)(t->total_steps - t->step) : NAN;
    p->trainable_params = t->info.trainable_params;
    p->mem_current = ms.total_current, p->mem_peak = ms.total_peak, p->mem_predicted = t->mem_predicted;
    p->bad_steps = t->bad_steps, p->rollbacks = t->rollbacks;
}

void tb_trainer_publish(tb_trainer *t, tb_train_update_kind kind, const tb_train_metric *mt, const tb_run_event *ev,
                        const char *path)
{
    pthread_mutex_lock(&t->lock);
    fill_progress(t);
    tb_train_progress copy = t->prog;
    pthread_mutex_unlock(&t->lock);
    if (t->cb) {
        tb_train_update u = {kind, &copy, mt, ev, path};
        t->cb(t->cb_ctx, &u);
    }
}

static void set_state(tb_trainer *t, tb_train_state s)
{
    pthread_mutex_lock(&t->lock);
    t->prog.state = s;
    pthread_mutex_unlock(&t->lock);
    tb_trainer_publish(t, TB_UPD_STATE, NULL, NULL, NULL);
}

void tb_trainer_event(tb_trainer *t, const char *level, const char *fmt, ...)
{
    tb_run_event ev = {.step = t->step, .time = wall_now()};
    snprintf(ev.level, sizeof ev.level, "%s", level);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev.message, sizeof ev.message, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&t->lock);
    if (t->n_events == t->cap_events) {
        size_t cap = t->cap_events ? 2 * t->cap_events : 16;
        tb_run_event *ne = realloc(t->events, cap * sizeof *ne);
        if (ne)
            t->events = ne, t->cap_events = cap;
    }
    if (t->n_events < t->cap_events)
        t->events[t->n_events++] = ev;
    if (strcmp(level, "info") != 0)
        snprintf(t->prog.alarm, sizeof t->prog.alarm, "%s", ev.message);
    pthread_mutex_unlock(&t->lock);
    if (t->store)
        tb_run_store_add_event(t->store, t->info.id, &ev, NULL); /* best effort: the log is a convenience */
    tb_trainer_publish(t, TB_UPD_EVENT, NULL, &ev, NULL);
}

static void push_metric(tb_trainer *t, const tb_train_metric *mt)
{
    pthread_mutex_lock(&t->lock);
    tb_train_metric *last = t->ring_n ? &t->ring[(t->ring_n - 1) % RING] : NULL;
    if (last && last->step == mt->step) { /* an eval at a logging step joins its row */
        if (!isnan(mt->eval_loss))
            last->eval_loss = mt->eval_loss;
        if (!isnan(mt->train_loss))
            *last = *mt;
    } else {
        t->ring[t->ring_n++ % RING] = *mt;
    }
    pthread_mutex_unlock(&t->lock);
    if (t->store) {
        tb_metric_row r = {mt->step, mt->epoch, mt->train_loss, mt->eval_loss, mt->lr, mt->grad_norm,
                           mt->tokens_per_s, mt->elapsed};
        tb_run_store_append_metrics(t->store, t->info.id, &r, 1, NULL);
    }
}

void tb_trainer_request(tb_trainer *t, tb_train_request r)
{
    switch (r) {
    case TB_REQ_PAUSE: atomic_store(&t->req_pause, 1); break;
    case TB_REQ_RESUME: atomic_store(&t->req_pause, 0); break;
    case TB_REQ_STOP: atomic_store(&t->req_stop, 1); break;
    case TB_REQ_SAVE: atomic_store(&t->req_save, 1); break;
    }
    /* no lock here: a signal handler may call this; the paused loop polls */
}

void tb_trainer_progress(tb_trainer *t, tb_train_progress *out)
{
    pthread_mutex_lock(&t->lock);
    *out = t->prog;
    pthread_mutex_unlock(&t->lock);
}

size_t tb_trainer_metrics(tb_trainer *t, int64_t after, tb_train_metric *out, size_t max)
{
    pthread_mutex_lock(&t->lock);
    size_t first = t->ring_n > RING ? t->ring_n - RING : 0, n = 0;
    for (size_t i = first; i < t->ring_n && n < max; i++)
        if (t->ring[i % RING].step > after)
            out[n++] = t->ring[i % RING];
    pthread_mutex_unlock(&t->lock);
    return n;
}

size_t tb_trainer_events(tb_trainer *t, size_t first, tb_run_event *out, size_t max)
{
    pthread_mutex_lock(&t->lock);
    size_t n = 0;
    for (size_t i = first; i < t->n_events && n < max; i++)
        out[n++] = t->events[i];
    pthread_mutex_unlock(&t->lock);
    return n;
}

const tb_data_stats *tb_trainer_data_stats(const tb_trainer *t) { return &t->data.stats; }
const tb_train_options *tb_trainer_options(const tb_trainer *t) { return &t->o; }

tb_llama *tb_trainer_model(tb_trainer *t)
{
    if (t->lora)
        t->lora->train = false;
    return t->m;
}

/* ------------------------------------------------------------------ create */

/* The validator's errors stop a run before it starts (unless --skip-validation). */
static tb_status validate_data(const tb_trainer *t, const tb_field_map *map, tb_error *err)
{
    tb_validate_opts vo;
    tb_validate_opts_init(&vo);
    vo.path = t->o.data;
    vo.eval_path = t->o.eval[0] ? t->o.eval : NULL;
    vo.format = t->o.format;
    vo.map = map;
    vo.template_kind = t->o.template_kind;
    vo.max_findings = 3;
    tb_report rep;
    tb_status st = tb_validate(&vo, &rep, err);
    long errors = st == TB_OK ? tb_report_errors(&rep) : 0;
    if (st == TB_OK && errors > 0) {
        char list[640] = "";
        size_t used = 0;
        int shown = 0;
        for (long i = 0; i < rep.n_findings && shown < 3; i++) {
            const tb_finding *f = &rep.findings[i];
            if (f->severity != TB_SEV_ERROR)
                continue;
            int w = snprintf(list + used, sizeof list - used, "%s line %ld: %s: %s", shown ? ";" : "", f->line,
                             tb_check_name(f->check), f->message);
            if (w < 0 || (size_t)w >= sizeof list - used)
                break;
            used += (size_t)w;
            shown++;
        }
        st = tb_error_set(err, TB_ERR_INVALID, t->o.data, 0, "data",
                          "the validator found %ld error%s:%s (see tunebench validate %s; fix them, or pass "
                          "--skip-validation to train anyway)",
                          errors, errors == 1 ? "" : "s", list, t->o.data);
    }
    tb_report_free(&rep);
    return st;
}

static tb_status load_tokenizer(tb_trainer *t, tb_error *err)
{
    const char *p = t->o.tokenizer[0] ? t->o.tokenizer : t->o.model;
    return tb_path_is_dir(p) ? tb_tokenizer_load_dir(&t->tok, p, err) : tb_tokenizer_load(&t->tok, p, err);
}

static tb_status load_model(tb_trainer *t, tb_error *err)
{
    if (t->o.model[0]) {
        tb_status st = tb_llama_load(&t->m, t->o.model, t->be, err);
        if (st == TB_OK)
            t->base_dtype = t->m->embed.buf->dtype;
        snprintf(t->base_name, sizeof t->base_name, "%s", t->o.model);
        return st;
    }
    tb_llama_config cfg;
    tb_status st = tb_llama_config_load(&cfg, t->o.init_config, err);
    if (st == TB_OK)
        st = tb_llama_create(&t->m, &cfg, t->be, err);
    t->base_dtype = TB_DTYPE_F32;
    snprintf(t->base_name, sizeof t->base_name, "%s", t->o.init_config);
    return st;
}

static tb_status setup_weights(tb_trainer *t, tb_error *err)
{
    tb_status st;
    if (t->o.mode == TB_TRAIN_LORA) {
        tb_lora_opts lo = {t->o.rank, tb_train_options_alpha(&t->o), t->o.dropout, t->o.rslora, t->o.targets};
        if ((st = tb_lora_create(&t->lora, &t->m->cfg, &lo, t->be, true, err)) != TB_OK)
            return st;
        if ((st = tb_lora_init_weights(t->lora, t->o.seed, err)) != TB_OK)
            return st;
        t->m->lora = t->lora;
        t->params = &t->lora->params;
        return TB_OK;
    }
    if ((st = tb_llama_params_create(t->m, &t->full, err)) != TB_OK)
        return st;
    t->params = &t->full.set;
    if (t->o.init_config[0])
        st = tb_llama_params_init_random(&t->full, t->o.seed, 0.02, err);
    return st;
}

static int64_t longest(const tb_token_set *s)
{
    int64_t m = 0;
    for (int64_t i = 0; i < s->n; i++)
        m = tb_token_set_len(s, i) > m ? tb_token_set_len(s, i) : m;
    return m;
}

static tb_status setup_buffers(tb_trainer *t, tb_error *err)
{
    int64_t L = longest(&t->data.train), Le = longest(&t->data.eval);
    t->Tmax = (L > Le ? L : Le) - 1;
    tb_acts_mode mode = t->o.checkpointing ? TB_ACTS_CHECKPOINT : TB_ACTS_SAVE;
    int64_t N = t->o.batch * t->Tmax;
    tb_status st = tb_llama_acts_init(&t->acts, t->m, t->o.batch, t->Tmax, mode, tb_llama_logit_rows(&t->m->cfg, N), err);
    if (st == TB_OK)
        st = tb_llama_bwd_init(&t->bwd, t->m, &t->acts, err);
    tb_adamw_opts ao = {tb_train_options_lr(&t->o), t->o.adam_beta1, t->o.adam_beta2, t->o.adam_eps, t->o.weight_decay,
                        t->o.max_grad_norm};
    if (st == TB_OK)
        st = tb_adamw_init(&t->opt, t->params, &ao, err);
    size_t stage = (size_t)(t->o.grad_accum * N), n = t->params->total;
    t->ids = malloc(stage * sizeof *t->ids);
    t->targets = malloc(stage * sizeof *t->targets);
    t->snap_p = malloc(n * sizeof(float));
    t->snap_m = malloc(n * sizeof(float));
    t->snap_v = malloc(n * sizeof(float));
    if (st == TB_OK && (!t->ids || !t->targets || !t->snap_p || !t->snap_m || !t->snap_v))
        st = tb_fail(err, TB_ERR_NOMEM, "out of memory for the training buffers");
    return st;
}

static void plan_steps(tb_trainer *t)
{
    t->batches_per_epoch = (t->data.train.n + t->o.batch - 1) / t->o.batch;
    t->steps_per_epoch = (t->batches_per_epoch + t->o.grad_accum - 1) / t->o.grad_accum;
    t->total_steps = t->o.max_steps > 0 ? t->o.max_steps : (int64_t)ceil(t->o.epochs * (double)t->steps_per_epoch);
    if (t->total_steps < 1)
        t->total_steps = 1;
    t->warmup = tb_schedule_warmup(t->o.warmup_steps, t->o.warmup_ratio, t->total_steps);
    tb_mem_options mo = {.batch = t->o.batch, .seq = t->Tmax, .checkpointing = t->o.checkpointing,
                         .base_dtype = t->base_dtype, .optim = TB_OPTIM_ADAMW, .rank = t->o.rank,
                         .targets = t->o.targets};
    tb_mem_estimate me;
    tb_plan_memory(&t->m->cfg, t->o.mode, &mo, &me);
    t->mem_predicted = (int64_t)me.total;
}

/* A new run row and folder, or the resumed run's. */
static tb_status open_run(tb_trainer *t, const char *resume, tb_error *err)
{
    char db[4096];
    tb_status st;
    if (resume) {
        char copy[TB_PATH_MAX];
        snprintf(copy, sizeof copy, "%s", resume);
        snprintf(db, sizeof db, "%s/tunebench.db", dirname(copy));
        snprintf(t->run_dir, sizeof t->run_dir, "%s", resume);
    } else {
        snprintf(db, sizeof db, "%s/tunebench.db", t->o.out);
    }
    if ((st = tb_run_store_open(&t->store, db, false, err)) != TB_OK)
        return st;
    tb_run_info *r = &t->info;
    if (resume) {
        int64_t id = t->info.id;
        if ((st = tb_run_store_get(t->store, id, r, err)) != TB_OK)
            return st;
        free(r->config_json);
        r->config_json = NULL;
    } else {
        tb_run_info_init(r);
        if (t->o.name[0])
            snprintf(r->name, sizeof r->name, "%s", t->o.name);
        else {
            char a[TB_PATH_MAX], b[TB_PATH_MAX];
            snprintf(a, sizeof a, "%s", t->base_name);
            snprintf(b, sizeof b, "%s", t->o.data);
            snprintf(r->name, sizeof r->name, "%s %s r%lld", basename(a), basename(b),
                     (long long)(t->o.mode == TB_TRAIN_LORA ? t->o.rank : 0));
        }
    }
    snprintf(r->mode, sizeof r->mode, "%s", tb_train_mode_name(t->o.mode));
    r->status = TB_RUN_RUNNING;
    r->pid = getpid();
    r->total_steps = t->total_steps;
    r->trainable_params = (int64_t)t->params->total;
    int64_t tp = 0;
    for (size_t i = 0; i < t->params->n; i++)
        tp += (int64_t)t->params->p[i].n;
    r->trainable_params = tp;
    r->rank = t->o.mode == TB_TRAIN_LORA ? t->o.rank : -1;
    r->alpha = t->o.mode == TB_TRAIN_LORA ? tb_train_options_alpha(&t->o) : (double)NAN;
    r->lr = tb_train_options_lr(&t->o);
    r->epochs = t->o.max_steps > 0 ? (double)t->total_steps / (double)t->steps_per_epoch : t->o.epochs;
    r->batch = t->o.batch * t->o.grad_accum;
    char *settings = tb_train_options_to_json(&t->o);
    r->config_json = settings;
    if (!resume) {
        r->started = wall_now();
        st = tb_run_store_create(t->store, r, &r->id, err);
        if (st == TB_OK) {
            snprintf(t->run_dir, sizeof t->run_dir, "%s/%lld", t->o.out, (long long)r->id);
            snprintf(r->run_dir, sizeof r->run_dir, "%s", t->run_dir);
            st = tb_mkdirs(t->run_dir, err);
        }
        if (st == TB_OK)
            st = tb_trainer_write_config(t, err);
    }
    if (st == TB_OK)
        st = tb_run_store_update(t->store, r, err);
    free(settings);
    r->config_json = NULL;
    snprintf(t->prog.run_dir, sizeof t->prog.run_dir, "%s", t->run_dir);
    return st;
}

/* The run folder's settings replace the given ones (callback and test faults stay). */
static tb_status read_resume(tb_trainer *t, const char *resume, tb_error *err)
{
    char path[4096], *text;
    snprintf(path, sizeof path, "%s/config.json", resume);
    tb_status st = tb_read_file(path, &text, NULL, err);
    if (st != TB_OK)
        return tb_error_set(err, TB_ERR_IO, path, 0, "resume", "not a run folder (no config.json): %s", err->message);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    json_t *s = j ? json_object_get(j, "settings") : NULL;
    char *stext = s ? json_dumps(s, 0) : NULL;
    tb_train_options keep = t->o;
    st = stext ? tb_train_options_from_json(&t->o, stext, path, err)
               : tb_error_set(err, TB_ERR_FORMAT, path, 0, "settings", "no settings in the run's config.json");
    t->info.id = j ? (int64_t)json_integer_value(json_object_get(j, "run_id")) : -1;
    free(stext);
    json_decref(j);
    t->o.fault_nan_step = keep.fault_nan_step, t->o.fault_nan_count = keep.fault_nan_count;
    t->o.fault_kill_checkpoint = keep.fault_kill_checkpoint;
    if (keep.max_steps > t->o.max_steps && keep.max_steps > 0) /* resume may extend a run */
        t->o.max_steps = keep.max_steps;
    return st;
}

tb_status tb_trainer_create(tb_trainer **out, const tb_train_options *opt, const char *resume, tb_train_callback cb,
                            void *cb_ctx, tb_error *err)
{
    *out = NULL;
    tb_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&t->lock, NULL);
    t->o = *opt;
    t->cb = cb, t->cb_ctx = cb_ctx;
    t->plan_epoch = -1;
    t->last_train = t->last_eval = t->last_lr = t->last_gn = NAN;
    tb_status st = resume ? read_resume(t, resume, err) : TB_OK;
    tb_field_map map = {0};
    char notice[256];
    if (st == TB_OK)
        st = tb_train_options_check(&t->o, err);
    if (st == TB_OK && t->o.map[0])
        st = tb_field_map_parse(&map, t->o.map, err);
    if (st == TB_OK)
        st = tb_backend_create(&t->be, t->o.backend, &t->o.be, notice, sizeof notice, err);
    if (st == TB_OK)
        st = load_model(t, err);
    if (st == TB_OK)
        st = tb_train_options_check_model(&t->o, &t->m->cfg, err);
    if (st == TB_OK) { /* defaults resolved: the run's config.json records what was used */
        t->o.lr = tb_train_options_lr(&t->o);
        t->o.max_len = tb_train_options_max_len(&t->o, &t->m->cfg);
        if (t->o.mode == TB_TRAIN_LORA)
            t->o.alpha = tb_train_options_alpha(&t->o);
        if (t->o.save_dtype == TB_DTYPE_COUNT)
            t->o.save_dtype = t->o.mode == TB_TRAIN_LORA ? TB_DTYPE_F32 : t->base_dtype;
        st = load_tokenizer(t, err);
    }
    if (st == TB_OK && tb_tokenizer_vocab_size(t->tok) > t->m->cfg.vocab_size)
        st = tb_error_set(err, TB_ERR_INVALID, NULL, 0, "tokenizer",
                          "the tokenizer has %d tokens, more than the model's vocabulary of %lld",
                          tb_tokenizer_vocab_size(t->tok), (long long)t->m->cfg.vocab_size);
    if (st == TB_OK && !t->o.packed && !t->o.skip_validation && !resume)
        st = validate_data(t, t->o.map[0] ? &map : NULL, err);
    if (st == TB_OK) {
        tb_data_opts d = {t->o.data,
                          t->o.eval[0] ? t->o.eval : NULL,
                          t->o.format,
                          t->o.map[0] ? &map : NULL,
                          t->o.template_kind,
                          t->o.train_on_inputs,
                          tb_train_options_max_len(&t->o, &t->m->cfg),
                          t->o.eval_split,
                          t->o.seed,
                          t->o.packed};
        st = tb_train_data_load(&t->data, &d, t->tok, err);
    }
    if (st == TB_OK) {
        int32_t pad = tb_tokenizer_pad(t->tok);
        t->pad_id = pad >= 0 ? pad : tb_tokenizer_eos(t->tok) >= 0 ? tb_tokenizer_eos(t->tok) : 0;
        if (t->pad_id >= t->m->cfg.vocab_size)
            t->pad_id = 0;
        st = setup_weights(t, err);
    }
    if (st == TB_OK)
        st = setup_buffers(t, err);
    if (st == TB_OK) {
        plan_steps(t);
        tb_health_init(&t->health, t->o.overfit_evals, t->o.early_stopping_patience, t->o.early_stopping_threshold);
        st = open_run(t, resume, err);
    }
    bool found = false;
    if (st == TB_OK && resume) {
        st = tb_trainer_load_latest(t, &found, err);
        if (st == TB_OK && !found) /* a run killed before its first checkpoint starts over */
            tb_trainer_event(t, "info", "no checkpoint in %s: starting from step 0", t->run_dir);
    }
    if (st == TB_OK && !found)
        st = tb_trainer_snapshot(t, err);
    t->snap_step0 = t->step;
    if (st != TB_OK) {
        tb_trainer_free(t);
        return st;
    }
    fill_progress(t);
    *out = t;
    return TB_OK;
}

void tb_trainer_free(tb_trainer *t)
{
    if (!t)
        return;
    if (t->store && t->prog.state == TB_TRAIN_RUNNING) /* freed mid-run: record it */
        tb_run_store_set_status(t->store, t->info.id, TB_RUN_FAILED, NULL);
    tb_run_store_close(t->store);
    free(t->ids);
    free(t->targets);
    free(t->snap_p), free(t->snap_m), free(t->snap_v);
    free(t->events);
    tb_batch_plan_free(&t->plan);
    tb_batch_plan_free(&t->eval_plan);
    tb_train_data_free(&t->data);
    if (t->be) {
        tb_adamw_free(&t->opt);
        tb_llama_bwd_free(&t->bwd, t->be);
        tb_llama_acts_free(&t->acts);
    }
    if (t->m)
        t->m->lora = NULL;
    tb_lora_free(t->lora);
    tb_llama_params_free(t->m, &t->full);
    tb_llama_free(t->m);
    tb_tokenizer_free(t->tok);
    tb_backend_destroy(t->be);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* ------------------------------------------------------------------ run */

static void log_step(tb_trainer *t)
{
    if (t->log_steps == 0)
        return;
    double now = tb_trainer_now();
    tb_train_metric mt = {t->step, t->prog.epoch, t->log_loss / (double)t->log_steps, NAN, t->last_lr, t->last_gn,
                          now > t->log_t0 ? (double)t->log_tokens / (now - t->log_t0) : 0, tb_trainer_elapsed(t)};
    mt.epoch = (double)t->epoch + (double)t->cursor / (double)t->batches_per_epoch;
    t->last_train = mt.train_loss;
    t->log_loss = 0, t->log_steps = 0, t->log_tokens = 0, t->log_t0 = now;
    push_metric(t, &mt);
    tb_trainer_publish(t, TB_UPD_LOG, &mt, NULL, NULL);
    char msg[512];
    if (tb_health_train(&t->health, t->step, mt.train_loss, msg, sizeof msg))
        tb_trainer_event(t, "alarm", "%s", msg);
}

static tb_status eval_step(tb_trainer *t, tb_error *err)
{
    double loss;
    tb_status st = tb_trainer_eval(t, &loss, err);
    if (st != TB_OK || isnan(loss))
        return st;
    t->last_eval = loss;
    tb_train_metric mt = {t->step, (double)t->epoch + (double)t->cursor / (double)t->batches_per_epoch, NAN, loss,
                          t->last_lr, t->last_gn, NAN, tb_trainer_elapsed(t)};
    char msg[512] = "";
    int f = tb_health_eval(&t->health, t->step, loss, t->last_train, msg, sizeof msg);
    push_metric(t, &mt);
    tb_trainer_publish(t, TB_UPD_EVAL, &mt, NULL, NULL);
    if (f & TB_HEALTH_OVERFIT)
        tb_trainer_event(t, "alarm", "%s", msg);
    if (f & TB_HEALTH_STOP) {
        tb_trainer_event(t, "info", "%s", msg);
        t->stop_early = true;
        snprintf(t->prog.message, sizeof t->prog.message, "%s", msg);
    }
    return TB_OK;
}

static tb_status save(tb_trainer *t, tb_error *err)
{
    set_state(t, TB_TRAIN_SAVING);
    tb_status st = tb_trainer_checkpoint(t, err);
    char path[TB_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/checkpoints/step-%lld", t->run_dir, (long long)t->step);
    if (st == TB_OK) {
        pthread_mutex_lock(&t->lock);
        snprintf(t->prog.last_checkpoint, sizeof t->prog.last_checkpoint, "%s", path);
        pthread_mutex_unlock(&t->lock);
        tb_trainer_publish(t, TB_UPD_CHECKPOINT, NULL, NULL, path);
    }
    set_state(t, TB_TRAIN_RUNNING);
    return st;
}

static void finish_run(tb_trainer *t, tb_train_state s, const tb_error *failure)
{
    tb_mem_stats ms;
    tb_mem_get_stats(&ms);
    tb_run_info *r = &t->info;
    r->status = s == TB_TRAIN_FINISHED ? TB_RUN_FINISHED : s == TB_TRAIN_STOPPED ? TB_RUN_STOPPED : TB_RUN_FAILED;
    r->last_step = t->step;
    r->best_eval_loss = t->health.best_eval;
    r->best_eval_step = t->health.best_step;
    r->final_eval_loss = t->last_eval;
    r->final_train_loss = t->last_train;
    r->wall_time = tb_trainer_elapsed(t);
    r->tokens_per_s = r->wall_time > 0 ? (double)t->tokens_seen / r->wall_time : NAN;
    r->peak_mem_bytes = ms.total_peak;
    r->ended = wall_now();
    if (failure) {
        char buf[1024];
        snprintf(t->prog.message, sizeof t->prog.message, "%s", tb_error_format(failure, buf, sizeof buf));
        tb_trainer_event(t, "alarm", "run failed: %s", t->prog.message);
    }
    tb_run_store_update(t->store, r, NULL);
    tb_run_store_set_status(t->store, r->id, r->status, NULL);
    set_state(t, s);
}

tb_status tb_trainer_run(tb_trainer *t, tb_error *err)
{
    tb_status st = TB_OK;
    t->t0 = t->log_t0 = tb_trainer_now();
    tb_run_store_set_status(t->store, t->info.id, TB_RUN_RUNNING, NULL);
    set_state(t, TB_TRAIN_RUNNING);
    int64_t saved_at = -1, evaluated_at = -1;
    if (t->step == 0 && t->data.eval.n > 0) { /* the baseline: where the eval curve starts */
        if ((st = eval_step(t, err)) != TB_OK) {
            finish_run(t, TB_TRAIN_FAILED, err);
            return st;
        }
        evaluated_at = 0;
    }
    while (t->step < t->total_steps && !t->stop_early) {
        if (atomic_load(&t->req_pause) && !atomic_load(&t->req_stop)) {
            double p0 = tb_trainer_now();
            set_state(t, TB_TRAIN_PAUSED);
            tb_run_store_set_status(t->store, t->info.id, TB_RUN_PAUSED, NULL);
            while (atomic_load(&t->req_pause) && !atomic_load(&t->req_stop))
                usleep(20000);
            t->t0 += tb_trainer_now() - p0; /* paused time is not training time */
            t->log_t0 += tb_trainer_now() - p0;
            tb_run_store_set_status(t->store, t->info.id, TB_RUN_RUNNING, NULL);
            set_state(t, TB_TRAIN_RUNNING);
        }
        if (atomic_load(&t->req_stop))
            break;
        if ((st = tb_trainer_step(t, err)) != TB_OK)
            break;
        if (t->step % t->o.logging_steps == 0 || t->step == t->total_steps)
            log_step(t);
        if (t->o.eval_steps > 0 && t->step % t->o.eval_steps == 0) {
            if ((st = eval_step(t, err)) != TB_OK)
                break;
            evaluated_at = t->step;
        }
        if ((t->o.save_steps > 0 && t->step % t->o.save_steps == 0 && t->step < t->total_steps) ||
            atomic_exchange(&t->req_save, 0)) {
            if ((st = save(t, err)) != TB_OK)
                break;
            saved_at = t->step;
        }
    }
    if (st != TB_OK) {
        finish_run(t, TB_TRAIN_FAILED, err);
        return st;
    }
    bool stopped = t->step < t->total_steps && !t->stop_early;
    log_step(t); /* whatever the window holds */
    if (!stopped && evaluated_at != t->step)
        st = eval_step(t, err);
    if (st == TB_OK && stopped && saved_at != t->step)
        st = save(t, err);
    if (st == TB_OK)
        st = tb_trainer_write_result(t, err);
    if (st != TB_OK) {
        finish_run(t, TB_TRAIN_FAILED, err);
        return st;
    }
    if (stopped)
        snprintf(t->prog.message, sizeof t->prog.message, "stopped at step %lld; resume with --resume %s",
                 (long long)t->step, t->run_dir);
    finish_run(t, stopped ? TB_TRAIN_STOPPED : TB_TRAIN_FINISHED, NULL);
    return TB_OK;
}
