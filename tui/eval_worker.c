/* tunebench — the Eval screen's worker thread (tui/eval_worker.h). */
#include "tui/eval_worker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/backend/backend.h"
#include "engine/eval/evaluate.h"
#include "engine/eval/prompt.h"
#include "engine/eval/run.h"
#include "engine/eval/ship.h"
#include "engine/io/gguf.h"
#include "engine/lora/adapter_set.h"
#include "engine/model/llama.h"
#include "engine/tokenizer/stream.h"
#include "engine/tokenizer/tokenizer.h"

typedef struct resident {
    tb_backend *be;
    tb_llama *m;
    tb_tokenizer *tok;
    tb_adapter_set set;   /* adapters on the resident base */
    char dir[4096];       /* the base model directory */
} resident;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void set_status(tb_eval_worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_status(tb_eval_worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&w->mu);
    vsnprintf(w->status, sizeof w->status, fmt, ap);
    pthread_mutex_unlock(&w->mu);
    va_end(ap);
    atomic_store(&w->dirty, true);
}

static void fail(tb_eval_worker *w, const char *what, const tb_error *err)
{
    char buf[900];
    pthread_mutex_lock(&w->mu);
    snprintf(w->error, sizeof w->error, "%s: %s", what, tb_error_format(err, buf, sizeof buf));
    snprintf(w->status, sizeof w->status, "%s failed", what);
    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->dirty, true);
}

static void free_resident(resident *r)
{
    tb_adapter_set_free(&r->set);
    tb_tokenizer_free(r->tok);
    tb_llama_free(r->m);
    tb_backend_destroy(r->be);
    memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ load */

static void do_load(tb_eval_worker *w, resident *r, const char *dir)
{
    free_resident(r);
    pthread_mutex_lock(&w->mu);
    w->model_loaded = false;
    w->n_sides = 0;
    pthread_mutex_unlock(&w->mu);
    set_status(w, "loading %s ...", dir);
    tb_error err;
    tb_error_clear(&err);
    tb_backend_options o = {.precision = TB_PRECISION_F32, .device = -1};
    tb_status st = tb_backend_create(&r->be, "cpu", &o, NULL, 0, &err);
    if (st == TB_OK)
        st = tb_llama_load(&r->m, dir, r->be, &err);
    if (st == TB_OK)
        st = tb_tokenizer_load_dir(&r->tok, dir, &err);
    if (st != TB_OK) {
        free_resident(r);
        fail(w, "loading the model", &err);
        return;
    }
    const tb_llama_config *c = &r->m->cfg;
    tb_adapter_set_init(&r->set, r->m);
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    pthread_mutex_lock(&w->mu);
    w->model_loaded = true;
    snprintf(w->model_info, sizeof w->model_info, "%s, %lld layers, D %lld, V %lld, %s", c->model_type,
             (long long)c->n_layers, (long long)c->dim, (long long)c->vocab_size, tb_dtype_short_name(c->torch_dtype));
    w->n_sides = 1;
    tb_ew_side *s = &w->sides[0];
    snprintf(s->name, sizeof s->name, "base");
    s->path[0] = '\0';
    s->len = 0, s->tokens = 0, s->done = false, s->running = false;
    snprintf(w->status, sizeof w->status, "model loaded");
    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->dirty, true);
}

/* ------------------------------------------------------------------ generate */

typedef struct stream {
    tb_eval_worker *w;
    resident *r;
    int side;
    tb_detok_stream dt;
    double t0;
} stream;

static bool append_text(tb_ew_side *s, const char *text, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *g = realloc(s->text, cap);
        if (!g)
            return false;
        s->text = g, s->cap = cap;
    }
    memcpy(s->text + s->len, text, n);
    s->len += n;
    s->text[s->len] = '\0';
    return true;
}

/* Post the text that became final (and the side's token count and speed). */
static void post(stream *st, const char *text, size_t len)
{
    tb_eval_worker *w = st->w;
    pthread_mutex_lock(&w->mu);
    tb_ew_side *s = &w->sides[st->side];
    if (len)
        append_text(s, text, len);
    s->tokens = (int64_t)st->dt.n;
    s->seconds = now_s() - st->t0;
    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->dirty, true);
}

static bool on_token(void *ctx, int32_t tok)
{
    stream *st = ctx;
    if (atomic_load(&st->w->cancel))
        return false;
    char *text;
    size_t len;
    tb_error err;
    if (tb_detok_stream_push(&st->dt, st->r->tok, tok, &text, &len, &err) != TB_OK)
        return false;
    post(st, text, len);
    free(text);
    return true;
}

static void do_generate(tb_eval_worker *w, resident *r)
{
    pthread_mutex_lock(&w->mu);
    char prompt[sizeof w->prompt];
    memcpy(prompt, w->prompt, sizeof prompt);
    tb_ew_settings set = w->settings;
    int n_sides = w->n_sides;
    for (int i = 0; i < n_sides; i++) {
        tb_ew_side *s = &w->sides[i];
        s->len = 0, s->tokens = 0, s->seconds = 0, s->done = false, s->running = false;
        if (s->text)
            s->text[0] = '\0';
    }
    pthread_mutex_unlock(&w->mu);
    static const tb_template_kind kinds[] = {TB_TEMPLATE_ALPACA, TB_TEMPLATE_CHATML, TB_TEMPLATE_PLAIN};
    tb_error err;
    tb_error_clear(&err);
    int32_t *ids = NULL;
    int64_t n = 0;
    tb_status st = tb_eval_prompt_ids(r->tok, kinds[set.template_kind % 3], prompt, &ids, &n, &err);
    if (st == TB_OK && n == 0)
        st = tb_fail(&err, TB_ERR_INVALID, "the prompt encodes to no tokens");
    for (int i = 0; i < n_sides && st == TB_OK && !atomic_load(&w->cancel); i++) {
        double t0 = now_s();
        tb_adapter_set_activate(&r->set, i - 1); /* a pointer swap: the base stays resident */
        double us = (now_s() - t0) * 1e6;
        pthread_mutex_lock(&w->mu);
        w->switch_us = us;
        w->sides[i].running = true;
        snprintf(w->status, sizeof w->status, "generating: %s", w->sides[i].name);
        pthread_mutex_unlock(&w->mu);
        stream s = {.w = w, .r = r, .side = i, .t0 = now_s()};
        tb_generate_opts go = {.sampler = set.sampler, .max_new = set.max_new, .on_token = on_token, .token_ctx = &s};
        char *text = NULL, *rest = NULL;
        size_t rest_len = 0;
        st = tb_eval_generate_text(r->m, r->tok, ids, n, &go, &text, &err);
        if (st == TB_OK && tb_detok_stream_flush(&s.dt, r->tok, &rest, &rest_len, &err) == TB_OK)
            post(&s, rest, rest_len);
        free(text);
        free(rest);
        tb_detok_stream_free(&s.dt);
        pthread_mutex_lock(&w->mu);
        w->sides[i].running = false;
        w->sides[i].done = st == TB_OK;
        pthread_mutex_unlock(&w->mu);
        atomic_store(&w->dirty, true);
    }
    tb_adapter_set_activate(&r->set, -1);
    free(ids);
    if (st != TB_OK)
        fail(w, "generating", &err);
    else
        set_status(w, "%s", atomic_load(&w->cancel) ? "generation stopped" : "generation done");
}


/* ------------------------------------------------------------------ adapters */

static void do_load_adapter(tb_eval_worker *w, resident *r, const char *dir)
{
    if (r->set.n + 1 >= TB_EW_MAX_SIDES) {
        tb_error err;
        tb_fail(&err, TB_ERR_INVALID, "at most %d adapters side by side", TB_EW_MAX_SIDES - 1);
        fail(w, "loading the adapter", &err);
        return;
    }
    set_status(w, "loading adapter %s ...", dir);
    tb_error err;
    tb_error_clear(&err);
    int i;
    if (tb_adapter_set_load(&r->set, dir, &i, &err) != TB_OK) {
        fail(w, "loading the adapter", &err);
        return;
    }
    const tb_lora *lo = r->set.v[i].lo;
    char targets[64];
    tb_lora_targets_format(lo->opt.targets, targets, sizeof targets);
    pthread_mutex_lock(&w->mu);
    tb_ew_side *s = &w->sides[w->n_sides++];
    snprintf(s->name, sizeof s->name, "%s", r->set.v[i].name);
    snprintf(s->path, sizeof s->path, "%s", r->set.v[i].path);
    s->len = 0, s->tokens = 0, s->done = false, s->running = false;
    if (s->text)
        s->text[0] = '\0';
    snprintf(w->status, sizeof w->status, "adapter %s loaded (r %lld, %s, s %.3g) on the resident base", s->name,
             (long long)lo->opt.rank, targets, (double)lo->scale);
    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->dirty, true);
}

/* ------------------------------------------------------------------ evaluation */

static void on_progress(void *ctx, int side, int64_t done, int64_t total)
{
    tb_eval_worker *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->eval_side = side, w->eval_done = done, w->eval_total = total;
    snprintf(w->status, sizeof w->status, "evaluating %s: example %lld of %lld", w->sides[side].name,
             (long long)done, (long long)total);
    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->dirty, true);
}

static void do_eval(tb_eval_worker *w, resident *r, const char *data, const char *general)
{
    pthread_mutex_lock(&w->mu);
    int64_t limit = w->eval_limit, max_new = w->eval_max_new;
    pthread_mutex_unlock(&w->mu);
    set_status(w, "evaluating on %s ...", data);
    tb_error err;
    tb_error_clear(&err);
    tb_eval_items items = {0};
    tb_eval_report rep;
    memset(&rep, 0, sizeof rep);
    int32_t *gen = NULL;
    tb_eval_opts o;
    tb_eval_opts_init(&o);
    o.max_new = max_new;
    o.progress = on_progress;
    o.progress_ctx = w;
    o.cancel = &w->cancel;
    int64_t max_len = r->m->cfg.max_pos < 1024 ? r->m->cfg.max_pos : 1024;
    tb_status st = tb_eval_items_load(&items, data, r->tok, TB_TEMPLATE_AUTO, max_len, limit, &err);
    if (st == TB_OK && general[0]) {
        st = tb_eval_text_ids(general, r->tok, &gen, &o.n_general, &err);
        o.general = gen;
        o.window = max_len;
    }
    if (st == TB_OK)
        st = tb_eval_run(&r->set, r->tok, &items, &o, &rep, &err);
    char *text = NULL;
    size_t len = 0;
    if (st == TB_OK) {
        rep.data_path = strdup(data);
        rep.model_path = strdup(r->dir);
        rep.general_path = general[0] ? strdup(general) : NULL;
        FILE *f = open_memstream(&text, &len);
        if (f) {
            tb_eval_report_print(&rep, f);
            fclose(f);
        }
    }
    int64_t n_examples = items.n;
    tb_eval_report_free(&rep);
    tb_eval_items_free(&items);
    free(gen);
    if (st != TB_OK) {
        free(text);
        if (st == TB_ERR_CANCELLED)
            set_status(w, "evaluation stopped");
        else
            fail(w, "evaluating", &err);
        return;
    }
    pthread_mutex_lock(&w->mu);
    free(w->report_text);
    w->report_text = text;
    w->report_len = len;
    w->report_new = true;
    snprintf(w->status, sizeof w->status, "evaluation done: %lld examples x %d sides", (long long)n_examples, w->n_sides);
    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->dirty, true);
}

/* ------------------------------------------------------------------ merge / export */

static void post_info(tb_eval_worker *w, const char *title, const char *text)
{
    pthread_mutex_lock(&w->mu);
    snprintf(w->info_title, sizeof w->info_title, "%s", title);
    snprintf(w->info, sizeof w->info, "%s", text);
    snprintf(w->status, sizeof w->status, "%s: done", title);
    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->dirty, true);
}

static void do_merge(tb_eval_worker *w, resident *r, int target, const char *out)
{
    if (target < 0 || target >= r->set.n)
        return;
    set_status(w, "merging into %s ...", out);
    tb_error err;
    tb_error_clear(&err);
    tb_ship_merge_result res;
    if (tb_ship_merge(r->dir, r->set.v[target].lo, r->m, r->be, TB_DTYPE_F32, out, &res, &err) != TB_OK) {
        fail(w, "merging", &err);
        return;
    }
    char text[1024], check[600];
    if (res.measured)
        snprintf(check, sizeof check, "max |logits(merged) - logits(base + adapter)| = %.3g over %lld positions.",
                 res.max_diff, (long long)res.positions);
    else
        snprintf(check, sizeof check, "Logits difference not measured: %s", res.why_not);
    snprintf(text, sizeof text, "Merged %s into %s (f32): %zu tensors, %zu linears merged, %zu other files copied.\n\n%s",
             r->set.v[target].name, out, res.info.tensors, res.info.merged, res.info.files_copied, check);
    post_info(w, "Merged", text);
}

static void do_export(tb_eval_worker *w, resident *r, int target, const char *path)
{
    if (target < 0 || target >= r->set.n)
        return;
    tb_error err;
    tb_error_clear(&err);
    tb_lora_gguf_info info;
    if (tb_ship_export(&r->m->cfg, r->set.v[target].lo, TB_GGML_F32, path, &info, &err) != TB_OK) {
        fail(w, "exporting", &err);
        return;
    }
    char text[1024];
    snprintf(text, sizeof text,
             "Wrote %s: a llama.cpp LoRA adapter (%zu tensors, general.architecture %s, adapter.lora.alpha %g%s).\n\n"
             "Use it with: llama-cli -m BASE.gguf --lora %s",
             path, info.n_tensors, info.arch, (double)info.alpha, info.permuted ? ", q/k rows in llama.cpp's RoPE order" : "",
             path);
    post_info(w, "Exported", text);
}

/* ------------------------------------------------------------------ thread */

static void *worker_main(void *arg)
{
    tb_eval_worker *w = arg;
    resident *r = w->priv;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (w->job == TB_EW_NONE && !w->quit)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->quit) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        tb_ew_job job = w->job;
        char dir[sizeof w->model_dir], a1[sizeof w->arg_path], a2[sizeof w->arg_path2];
        memcpy(dir, w->model_dir, sizeof dir);
        memcpy(a1, w->arg_path, sizeof a1);
        memcpy(a2, w->arg_path2, sizeof a2);
        int target = w->target;
        pthread_mutex_unlock(&w->mu);
        atomic_store(&w->cancel, false);
        switch (job) {
        case TB_EW_LOAD: do_load(w, r, dir); break;
        case TB_EW_GENERATE:
            if (r->m)
                do_generate(w, r);
            break;
        case TB_EW_LOAD_ADAPTER:
            if (r->m)
                do_load_adapter(w, r, a1);
            break;
        case TB_EW_EVAL:
            if (r->m)
                do_eval(w, r, a1, a2);
            break;
        case TB_EW_MERGE:
            if (r->m)
                do_merge(w, r, target, a1);
            break;
        case TB_EW_EXPORT:
            if (r->m)
                do_export(w, r, target, a1);
            break;
        default: break;
        }
        pthread_mutex_lock(&w->mu);
        w->job = TB_EW_NONE;
        w->busy = false;
        pthread_mutex_unlock(&w->mu);
        atomic_store(&w->dirty, true);
    }
    free_resident(r);
    return NULL;
}

tb_status tb_eval_worker_start(tb_eval_worker *w, tb_error *err)
{
    memset(w, 0, sizeof *w);
    w->priv = calloc(1, sizeof(resident));
    if (!w->priv)
        return tb_fail(err, TB_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->settings = (tb_ew_settings){.sampler = {.temperature = 0, .top_k = 0, .top_p = 1, .repetition_penalty = 1},
                                   .max_new = 64};
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        free(w->priv);
        w->priv = NULL;
        return tb_fail(err, TB_ERR_IO, "cannot start the worker thread");
    }
    w->started = true;
    return TB_OK;
}

void tb_eval_worker_stop(tb_eval_worker *w)
{
    if (!w->started)
        return;
    atomic_store(&w->cancel, true);
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    free(w->priv);
    for (int i = 0; i < TB_EW_MAX_SIDES; i++)
        free(w->sides[i].text);
    free(w->report_text);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    w->started = false;
}

static bool request(tb_eval_worker *w, tb_ew_job job)
{
    if (w->busy)
        return false;
    w->job = job;
    w->busy = true;
    w->error[0] = '\0';
    pthread_cond_signal(&w->cv);
    return true;
}

bool tb_eval_worker_load(tb_eval_worker *w, const char *model_dir)
{
    pthread_mutex_lock(&w->mu);
    bool ok = !w->busy;
    if (ok) {
        snprintf(w->model_dir, sizeof w->model_dir, "%s", model_dir);
        request(w, TB_EW_LOAD);
    }
    pthread_mutex_unlock(&w->mu);
    return ok;
}

bool tb_eval_worker_generate(tb_eval_worker *w, const char *prompt, const tb_ew_settings *s)
{
    pthread_mutex_lock(&w->mu);
    bool ok = !w->busy && w->model_loaded;
    if (ok) {
        snprintf(w->prompt, sizeof w->prompt, "%s", prompt);
        w->settings = *s;
        request(w, TB_EW_GENERATE);
    }
    pthread_mutex_unlock(&w->mu);
    return ok;
}

/* A job on the loaded model with its path arguments. */
static bool request_with(tb_eval_worker *w, tb_ew_job job, const char *p1, const char *p2, int target)
{
    pthread_mutex_lock(&w->mu);
    bool ok = !w->busy && w->model_loaded;
    if (ok) {
        snprintf(w->arg_path, sizeof w->arg_path, "%s", p1 ? p1 : "");
        snprintf(w->arg_path2, sizeof w->arg_path2, "%s", p2 ? p2 : "");
        w->target = target;
        request(w, job);
    }
    pthread_mutex_unlock(&w->mu);
    return ok;
}

bool tb_eval_worker_load_adapter(tb_eval_worker *w, const char *dir)
{
    return request_with(w, TB_EW_LOAD_ADAPTER, dir, NULL, -1);
}

bool tb_eval_worker_evaluate(tb_eval_worker *w, const char *data, const char *general, int64_t limit, int64_t max_new)
{
    pthread_mutex_lock(&w->mu);
    w->eval_limit = limit, w->eval_max_new = max_new;
    w->eval_done = 0, w->eval_total = 0;
    pthread_mutex_unlock(&w->mu);
    return request_with(w, TB_EW_EVAL, data, general, -1);
}

bool tb_eval_worker_merge(tb_eval_worker *w, int adapter, const char *out_dir)
{
    return request_with(w, TB_EW_MERGE, out_dir, NULL, adapter);
}

bool tb_eval_worker_export(tb_eval_worker *w, int adapter, const char *gguf_path)
{
    return request_with(w, TB_EW_EXPORT, gguf_path, NULL, adapter);
}

bool tb_eval_worker_busy(tb_eval_worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool b = w->busy;
    pthread_mutex_unlock(&w->mu);
    return b;
}
