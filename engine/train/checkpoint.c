/* tunebench — the run folder: config.json, checkpoints, resume, roll-back, the result.
 *
 * A checkpoint is written into checkpoints/.tmp-step-N/ file by file (each file atomic and
 * fsync'd), then the folder is renamed to step-N and the parent fsync'd: a crash at any
 * point leaves every earlier step-N folder complete and untouched; a half-written .tmp
 * folder is removed by the next checkpoint. */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine/core/fs.h"
#include "engine/train/trainer_internal.h"
#include "tb_config.h"

/* ------------------------------------------------------------------ small file helpers */

/* Remove a folder of plain files (what checkpoints hold). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && tb_path_join(p, sizeof p, dir, e->d_name))
            unlink(p);
    closedir(d);
    rmdir(dir);
}

static tb_status write_json(const char *path, json_t *j, tb_error *err)
{
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    tb_status st = text ? tb_atomic_write(path, text, strlen(text), err) : tb_fail(err, TB_ERR_NOMEM, "out of memory");
    free(text);
    return st;
}

/* xxh3 of a file's bytes, folded into state. */
static tb_status hash_file(XXH3_state_t *h, const char *path, tb_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return tb_error_set(err, TB_ERR_IO, path, 0, NULL, "cannot read for hashing");
    char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        XXH3_64bits_update(h, buf, n);
    fclose(f);
    return TB_OK;
}

/* A file's hash, or a folder's: config.json, tokenizer files and every .safetensors, by name. */
static tb_status hash_path(const char *path, char out[17], tb_error *err)
{
    XXH3_state_t *h = XXH3_createState();
    XXH3_64bits_reset(h);
    tb_status st = TB_OK;
    if (!tb_path_is_dir(path)) {
        st = hash_file(h, path, err);
    } else {
        struct dirent **list;
        int n = scandir(path, &list, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            const char *nm = list[i]->d_name;
            size_t len = strlen(nm);
            bool take = (len > 12 && strcmp(nm + len - 12, ".safetensors") == 0) || strcmp(nm, "config.json") == 0 ||
                        strncmp(nm, "tokenizer", 9) == 0 || strcmp(nm, "model.safetensors.index.json") == 0;
            char p[4096];
            if (st == TB_OK && take && tb_path_join(p, sizeof p, path, nm)) {
                XXH3_64bits_update(h, nm, len);
                st = hash_file(h, p, err);
            }
            free(list[i]);
        }
        free(list);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)XXH3_64bits_digest(h));
    XXH3_freeState(h);
    return st;
}

/* ------------------------------------------------------------------ config.json */

tb_status tb_trainer_write_config(tb_trainer *t, tb_error *err)
{
    char *settings = tb_train_options_to_json(&t->o);
    json_t *j = json_object(), *s = settings ? json_loads(settings, 0, NULL) : NULL;
    free(settings);
    json_object_set_new(j, "tunebench_version", json_string(TB_VERSION));
    json_object_set_new(j, "run_id", json_integer(t->info.id));
    json_object_set_new(j, "name", json_string(t->info.name));
    json_object_set_new(j, "settings", s ? s : json_null());
    json_t *hashes = json_object();
    struct {
        const char *key, *path;
    } what[] = {{"model", t->o.model[0] ? t->o.model : t->o.init_config},
                {"tokenizer", t->o.tokenizer[0] ? t->o.tokenizer : t->o.model},
                {"data", t->o.data},
                {"eval", t->o.eval}};
    tb_status st = TB_OK;
    for (size_t i = 0; i < sizeof what / sizeof what[0] && st == TB_OK; i++) {
        char hex[17];
        if (!what[i].path[0])
            continue;
        if ((st = hash_path(what[i].path, hex, err)) == TB_OK)
            json_object_set_new(hashes, what[i].key, json_string(hex));
    }
    json_object_set_new(j, "hashes_xxh3", hashes);
    const tb_data_stats *ds = &t->data.stats;
    json_object_set_new(j, "data",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rows", (json_int_t)ds->rows,
                                  "train_examples", (json_int_t)t->data.train.n, "eval_examples",
                                  (json_int_t)t->data.eval.n, "train_tokens", (json_int_t)ds->tokens,
                                  "trained_tokens", (json_int_t)ds->targets, "truncated", (json_int_t)ds->truncated,
                                  "truncated_trained_tokens", (json_int_t)ds->truncated_targets, "skipped_rows",
                                  (json_int_t)ds->skipped));
    char *cfg = tb_llama_config_json(&t->m->cfg, t->base_dtype);
    json_object_set_new(j, "model_config", cfg ? json_loads(cfg, 0, NULL) : json_null());
    free(cfg);
    json_object_set_new(j, "trainable_params", json_integer(t->info.trainable_params));
    json_object_set_new(j, "total_steps", json_integer(t->total_steps));
    json_object_set_new(j, "warmup_steps", json_integer(t->warmup));
    json_object_set_new(j, "memory_predicted_bytes", json_integer(t->mem_predicted));
    json_object_set_new(j, "backend", json_string(t->be->description));
    char path[4096];
    tb_path_join(path, sizeof path, t->run_dir, "config.json");
    if (st == TB_OK)
        st = write_json(path, j, err);
    json_decref(j);
    return st;
}

/* ------------------------------------------------------------------ checkpoints */

static tb_status download_state(tb_trainer *t, float *p, float *m, float *v, tb_error *err)
{
    size_t n = t->params->total;
    tb_status st = tb_param_set_download(t->params, p, err);
    if (st == TB_OK)
        st = t->be->ops->download(t->be, m, tb_view_of(t->opt.m), n, err);
    if (st == TB_OK)
        st = t->be->ops->download(t->be, v, tb_view_of(t->opt.v), n, err);
    return st;
}

/* The trainer state a checkpoint restores, listed once for writing and reading. */
typedef struct sfield {
    const char *name;
    char kind;          /* 'i' int64_t, 'f' double (NaN as null), 'b' bool */
    void *p;
} sfield;

static int state_fields(tb_trainer *t, sfield *f)
{
    tb_health *h = &t->health;
    int n = 0;
#define F(nm, k, ptr) f[n++] = (sfield){nm, k, ptr}
    F("global_step", 'i', &t->step);
    F("epoch", 'i', &t->epoch);
    F("batch_cursor", 'i', &t->cursor);
    F("adam_step", 'i', &t->opt.t);
    F("tokens_seen", 'i', &t->tokens_seen);
    F("elapsed_s", 'f', &t->elapsed0);
    F("last_train_loss", 'f', &t->last_train);
    F("last_eval_loss", 'f', &t->last_eval);
    F("bad_steps", 'i', &t->bad_steps);
    F("rollbacks", 'i', &t->rollbacks);
    F("health_gn_ema", 'f', &h->gn_ema);
    F("health_gn_count", 'i', &h->gn_count);
    F("health_zero_logs", 'i', &h->zero_logs);
    F("health_zero_alarmed", 'b', &h->zero_alarmed);
    F("health_last_eval", 'f', &h->last_eval);
    F("health_last_train", 'f', &h->last_train);
    F("health_rise_eval", 'f', &h->rise_eval);
    F("health_rise_train", 'f', &h->rise_train);
    F("health_rising", 'i', &h->rising);
    F("health_overfit_alarmed", 'b', &h->overfit_alarmed);
    F("best_eval_loss", 'f', &h->best_eval);
    F("best_eval_step", 'i', &h->best_step);
    F("health_since_best", 'i', &h->since_best);
#undef F
    return n;
}

static json_t *state_json(tb_trainer *t)
{
    json_t *j = json_object();
    double elapsed = t->elapsed0;
    t->elapsed0 = tb_trainer_elapsed(t); /* the file holds the time trained so far */
    sfield f[32];
    int n = state_fields(t, f);
    for (int i = 0; i < n; i++) {
        json_t *v = f[i].kind == 'i'   ? json_integer((json_int_t) * (int64_t *)f[i].p)
                    : f[i].kind == 'b' ? json_boolean(*(bool *)f[i].p)
                    : isnan(*(double *)f[i].p) ? json_null()
                                               : json_real(*(double *)f[i].p);
        json_object_set_new(j, f[i].name, v);
    }
    t->elapsed0 = elapsed;
    /* for people: the schedule, and randomness, which is counter-based: data order from
     * (seed, epoch), dropout from (seed, step, micro-batch); seed and counters are all of it */
    json_object_set_new(j, "total_steps", json_integer(t->total_steps));
    json_object_set_new(j, "warmup_steps", json_integer(t->warmup));
    json_object_set_new(j, "learning_rate_next", json_real(tb_trainer_lr(t, t->step)));
    json_object_set_new(j, "rng", json_pack("{s:I, s:s}", "seed", (json_int_t)t->o.seed, "kind",
                                            "counter-based: seed_mix(seed, epoch) orders data, seed_mix(seed, step, "
                                            "micro) seeds dropout"));
    return j;
}

static void state_read(tb_trainer *t, json_t *j)
{
    sfield f[32];
    int n = state_fields(t, f);
    for (int i = 0; i < n; i++) {
        json_t *v = json_object_get(j, f[i].name);
        if (f[i].kind == 'i')
            *(int64_t *)f[i].p = (int64_t)json_integer_value(v);
        else if (f[i].kind == 'b')
            *(bool *)f[i].p = json_is_true(v);
        else
            *(double *)f[i].p = json_is_number(v) ? json_number_value(v) : (double)NAN;
    }
}

static int64_t step_of(const char *name)
{
    if (strncmp(name, "step-", 5) != 0)
        return -1;
    char *end;
    long long v = strtoll(name + 5, &end, 10);
    return *end || v < 0 ? -1 : (int64_t)v;
}

/* Keep the newest `keep` step-N folders (0: all). */
static void prune(const char *ckdir, int64_t keep, int64_t current)
{
    if (keep <= 0)
        return;
    int64_t steps[4096];
    int n = 0;
    DIR *d = opendir(ckdir);
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 4096)
        if (step_of(e->d_name) >= 0)
            steps[n++] = step_of(e->d_name);
    if (d)
        closedir(d);
    for (int i = 0; i < n; i++) { /* a few folders: count the newer ones */
        int newer = 0;
        for (int k = 0; k < n; k++)
            newer += steps[k] > steps[i];
        if (newer >= keep && steps[i] != current) {
            char p[4096];
            snprintf(p, sizeof p, "%s/step-%lld", ckdir, (long long)steps[i]);
            remove_dir(p);
        }
    }
}

tb_status tb_trainer_checkpoint(tb_trainer *t, tb_error *err)
{
    size_t n = t->params->total;
    char ckdir[4096], tmp[4200], dir[4200], old[4200], path[4400];
    snprintf(ckdir, sizeof ckdir, "%s/checkpoints", t->run_dir);
    snprintf(tmp, sizeof tmp, "%s/.tmp-step-%lld", ckdir, (long long)t->step);
    snprintf(dir, sizeof dir, "%s/step-%lld", ckdir, (long long)t->step);
    snprintf(old, sizeof old, "%s/.old-step-%lld", ckdir, (long long)t->step);
    float *p = malloc(n * sizeof *p), *m = malloc(n * sizeof *m), *v = malloc(n * sizeof *v);
    tb_status st = p && m && v ? tb_mkdirs(ckdir, err) : tb_fail(err, TB_ERR_NOMEM, "out of memory for a checkpoint");
    if (st == TB_OK)
        st = download_state(t, p, m, v, err);
    size_t bad;
    if (st == TB_OK && !tb_floats_finite(p, n, &bad))
        st = tb_fail(err, TB_ERR_NUMERIC, "the weights hold NaN/Inf at step %lld: no checkpoint written",
                     (long long)t->step);
    if (st != TB_OK)
        goto done;
    remove_dir(tmp);
    if ((st = tb_mkdirs(tmp, err)) != TB_OK)
        goto done;
    if (t->lora) {
        st = tb_lora_save_peft(t->lora, tmp, t->base_name, TB_DTYPE_F32, NULL, err);
    } else {
        snprintf(path, sizeof path, "%s/model.safetensors", tmp);
        st = tb_param_set_save(t->params, p, path, "", err);
    }
    if (st == TB_OK && t->o.fault_kill_checkpoint == t->step)
        raise(SIGKILL); /* tests: die halfway through writing this checkpoint */
    if (st == TB_OK) {
        snprintf(path, sizeof path, "%s/optimizer.safetensors", tmp);
        st = tb_param_set_save(t->params, m, path, "exp_avg.", err);
    }
    if (st == TB_OK) {
        char p2[4400];
        snprintf(p2, sizeof p2, "%s/optimizer_sq.safetensors", tmp);
        st = tb_param_set_save(t->params, v, p2, "exp_avg_sq.", err);
    }
    if (st == TB_OK) {
        json_t *j = state_json(t);
        snprintf(path, sizeof path, "%s/trainer_state.json", tmp);
        st = write_json(path, j, err);
        json_decref(j);
    }
    if (st != TB_OK)
        goto done;
    /* the switch: one rename (a re-save of the same step first moves the old one aside) */
    bool replace = tb_path_exists(dir);
    if ((replace && rename(dir, old) != 0) || rename(tmp, dir) != 0) {
        st = tb_error_set(err, TB_ERR_IO, dir, 0, NULL, "cannot move the checkpoint into place");
        goto done;
    }
    if ((st = tb_fsync_dir(ckdir, err)) != TB_OK)
        goto done;
    if (replace)
        remove_dir(old);
    prune(ckdir, t->o.save_total_limit, t->step);
    /* the checkpoint is the new roll-back target; the host copies are at hand */
    memcpy(t->snap_p, p, n * sizeof *p);
    memcpy(t->snap_m, m, n * sizeof *m);
    memcpy(t->snap_v, v, n * sizeof *v);
    t->snap_t = t->opt.t, t->snap_step = t->step;
done:
    free(p), free(m), free(v);
    return st;
}

tb_status tb_trainer_load_latest(tb_trainer *t, bool *found, tb_error *err)
{
    *found = false;
    char ckdir[4096], dir[4200], path[4400];
    snprintf(ckdir, sizeof ckdir, "%s/checkpoints", t->run_dir);
    int64_t best = -1;
    DIR *d = opendir(ckdir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        best = step_of(e->d_name) > best ? step_of(e->d_name) : best;
    if (d)
        closedir(d);
    if (best < 0)
        return TB_OK;
    snprintf(dir, sizeof dir, "%s/step-%lld", ckdir, (long long)best);
    tb_status st;
    snprintf(path, sizeof path, "%s/%s", dir, t->lora ? "adapter_model.safetensors" : "model.safetensors");
    if ((st = tb_param_set_load(t->params, t->params->values, path, "", err)) != TB_OK)
        return st;
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    if ((st = tb_param_set_load(t->params, t->opt.m, path, "exp_avg.", err)) != TB_OK)
        return st;
    snprintf(path, sizeof path, "%s/optimizer_sq.safetensors", dir);
    if ((st = tb_param_set_load(t->params, t->opt.v, path, "exp_avg_sq.", err)) != TB_OK)
        return st;
    snprintf(path, sizeof path, "%s/trainer_state.json", dir);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    if (!j)
        return tb_error_set(err, TB_ERR_FORMAT, path, je.line, NULL, "cannot read the trainer state: %s", je.text);
    state_read(t, j);
    json_decref(j);
    *found = true;
    return tb_trainer_snapshot(t, err);
}

/* ------------------------------------------------------------------ roll-back */

tb_status tb_trainer_snapshot(tb_trainer *t, tb_error *err)
{
    tb_status st = download_state(t, t->snap_p, t->snap_m, t->snap_v, err);
    t->snap_t = t->opt.t, t->snap_step = t->step;
    return st;
}

tb_status tb_trainer_rollback(tb_trainer *t, tb_error *err)
{
    size_t n = t->params->total;
    t->be->ops->upload(t->be, tb_view_of(t->params->values), t->snap_p, n);
    t->be->ops->upload(t->be, tb_view_of(t->opt.m), t->snap_m, n);
    t->be->ops->upload(t->be, tb_view_of(t->opt.v), t->snap_v, n);
    t->opt.t = t->snap_t;
    tb_param_set_zero_grads(t->params);
    return t->be->ops->sync(t->be, err);
}

/* ------------------------------------------------------------------ the result */

tb_status tb_trainer_write_result(tb_trainer *t, tb_error *err)
{
    char dir[4096];
    tb_status st;
    int64_t bytes = 0;
    if (t->lora) {
        snprintf(dir, sizeof dir, "%s/adapter", t->run_dir);
        tb_dtype dt = t->o.save_dtype == TB_DTYPE_COUNT ? TB_DTYPE_F32 : t->o.save_dtype;
        st = tb_lora_save_peft(t->lora, dir, t->base_name, dt, &bytes, err);
    } else {
        snprintf(dir, sizeof dir, "%s/model", t->run_dir);
        tb_dtype dt = t->o.save_dtype == TB_DTYPE_COUNT ? t->base_dtype : t->o.save_dtype;
        const char *tok = t->o.tokenizer[0] ? t->o.tokenizer : t->o.model;
        st = tb_llama_save(t->m, dir, dt, tb_path_is_dir(tok) ? tok : NULL, err);
        if (st == TB_OK && !tb_path_is_dir(tok)) { /* a tokenizer.json file goes along as is */
            char *data, path[4200];
            size_t len;
            snprintf(path, sizeof path, "%s/tokenizer.json", dir);
            if ((st = tb_read_file(tok, &data, &len, err)) == TB_OK) {
                st = tb_atomic_write(path, data, len, err);
                free(data);
            }
        }
        struct stat sb;
        char path[4200];
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        bytes = stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
    }
    if (st == TB_OK) {
        pthread_mutex_lock(&t->lock);
        snprintf(t->prog.adapter_path, sizeof t->prog.adapter_path, "%s", dir);
        pthread_mutex_unlock(&t->lock);
        snprintf(t->info.adapter_path, sizeof t->info.adapter_path, "%s", dir);
        t->info.adapter_bytes = bytes;
    }
    return st;
}
