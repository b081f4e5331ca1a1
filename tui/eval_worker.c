/* tunebench — the Eval screen's worker thread (tui/eval_worker.h). */
#include "tui/eval_worker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/backend/backend.h"
#include "engine/eval/prompt.h"
#include "engine/eval/run.h"
#include "engine/model/llama.h"
#include "engine/tokenizer/tokenizer.h"

typedef struct resident {
    tb_backend *be;
    tb_llama *m;
    tb_tokenizer *tok;
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
    pthread_mutex_lock(&w->mu);
    w->model_loaded = true;
    snprintf(w->model_info, sizeof w->model_info, "%s, %lld layers, D %lld, V %lld, %s", c->model_type,
             (long long)c->n_layers, (long long)c->dim, (long long)c->vocab_size, tb_dtype_short_name(c->torch_dtype));
    w->n_sides = 1;
    tb_ew_side *s = &w->sides[0];
    snprintf(s->name, sizeof s->name, "base");
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
    int32_t *ids;
    size_t n, cap, shown; /* shown: bytes of decoded text already posted */
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

static bool on_token(void *ctx, int32_t tok)
{
    stream *st = ctx;
    tb_eval_worker *w = st->w;
    if (atomic_load(&w->cancel))
        return false;
    if (st->n == st->cap) {
        size_t cap = st->cap ? 2 * st->cap : 64;
        int32_t *g = realloc(st->ids, cap * sizeof *g);
        if (!g)
            return false;
        st->ids = g, st->cap = cap;
    }
    st->ids[st->n++] = tok;
    /* Decode everything so far and post the new tail; an unfinished UTF-8 sequence decodes
     * to U+FFFD and is held back until its last byte arrives. */
    char *text = NULL;
    tb_error err;
    if (tb_tokenizer_decode(st->r->tok, st->ids, st->n, true, &text, &err) == TB_OK && text) {
        size_t len = strlen(text);
        bool partial = len >= 3 && memcmp(text + len - 3, "\xef\xbf\xbd", 3) == 0;
        pthread_mutex_lock(&w->mu);
        tb_ew_side *s = &w->sides[st->side];
        if (!partial && len > st->shown) {
            append_text(s, text + st->shown, len - st->shown);
            st->shown = len;
        }
        s->tokens = (int64_t)st->n;
        s->seconds = now_s() - st->t0;
        pthread_mutex_unlock(&w->mu);
        atomic_store(&w->dirty, true);
    }
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
        pthread_mutex_lock(&w->mu);
        w->sides[i].running = true;
        snprintf(w->status, sizeof w->status, "generating: %s", w->sides[i].name);
        pthread_mutex_unlock(&w->mu);
        stream s = {.w = w, .r = r, .side = i, .t0 = now_s()};
        tb_generate_opts go = {.sampler = set.sampler, .max_new = set.max_new, .on_token = on_token, .token_ctx = &s};
        char *text = NULL;
        st = tb_eval_generate_text(r->m, r->tok, ids, n, &go, &text, &err);
        free(text);
        free(s.ids);
        pthread_mutex_lock(&w->mu);
        w->sides[i].running = false;
        w->sides[i].done = st == TB_OK;
        pthread_mutex_unlock(&w->mu);
        atomic_store(&w->dirty, true);
    }
    free(ids);
    if (st != TB_OK)
        fail(w, "generating", &err);
    else
        set_status(w, "%s", atomic_load(&w->cancel) ? "generation stopped" : "generation done");
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
        char dir[sizeof w->model_dir];
        memcpy(dir, w->model_dir, sizeof dir);
        pthread_mutex_unlock(&w->mu);
        atomic_store(&w->cancel, false);
        switch (job) {
        case TB_EW_LOAD: do_load(w, r, dir); break;
        case TB_EW_GENERATE:
            if (r->m)
                do_generate(w, r);
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

bool tb_eval_worker_busy(tb_eval_worker *w)
{
    pthread_mutex_lock(&w->mu);
    bool b = w->busy;
    pthread_mutex_unlock(&w->mu);
    return b;
}
