/* tunebench — a training run on a worker thread, watched from the UI thread. */
#include "tui/train_job.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_METRICS 512  /* metric points copied per call under the trainer's lock */
#define BATCH_EVENTS 64

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tb_train_job_init(tb_train_job *j)
{
    memset(j, 0, sizeof *j);
    pthread_mutex_init(&j->lock, NULL);
    pthread_cond_init(&j->cond, NULL);
    atomic_store(&j->phase, TB_JOB_IDLE);
}

static void *worker(void *arg)
{
    tb_train_job *j = arg;
    tb_trainer *t = NULL;
    tb_error err;
    tb_error_clear(&err);
    tb_status st = tb_trainer_create(&t, &j->o, NULL, NULL, NULL, &err);
    pthread_mutex_lock(&j->lock);
    j->create_status = st;
    if (st != TB_OK)
        j->err = err;
    j->t = t;
    pthread_mutex_unlock(&j->lock);
    if (st == TB_OK) {
        if (atomic_load(&j->stop_early))
            tb_trainer_request(t, TB_REQ_STOP); /* stops after the baseline eval, with a checkpoint */
        atomic_store(&j->phase, TB_JOB_TRAINING);
        st = tb_trainer_run(t, &err);
        pthread_mutex_lock(&j->lock);
        j->run_status = st;
        if (st != TB_OK)
            j->err = err;
        pthread_mutex_unlock(&j->lock);
    }
    atomic_store(&j->phase, TB_JOB_ENDED);
    /* Keep the trainer until the UI has read its end, then free it here, where it was made. */
    pthread_mutex_lock(&j->lock);
    while (!j->release)
        pthread_cond_wait(&j->cond, &j->lock);
    t = j->t;
    j->t = NULL;
    pthread_mutex_unlock(&j->lock);
    tb_trainer_free(t);
    return NULL;
}

tb_status tb_train_job_start(tb_train_job *j, const tb_train_options *o, tb_error *err)
{
    if (j->thread_live)
        return tb_fail(err, TB_ERR_INVALID, "a run is already going: one at a time");
    j->o = *o;
    j->t = NULL;
    j->release = false;
    j->create_status = j->run_status = TB_OK;
    tb_error_clear(&j->err);
    atomic_store(&j->stop_early, false);
    atomic_store(&j->phase, TB_JOB_PREPARING);
    if (pthread_create(&j->thread, NULL, worker, j) != 0) {
        atomic_store(&j->phase, TB_JOB_IDLE);
        return tb_fail(err, TB_ERR_NOMEM, "cannot start the training thread");
    }
    j->thread_live = true;
    return TB_OK;
}

tb_job_phase tb_train_job_phase(tb_train_job *j) { return (tb_job_phase)atomic_load(&j->phase); }

bool tb_train_job_busy(tb_train_job *j) { return j->thread_live; }

void tb_train_job_request(tb_train_job *j, tb_train_request r)
{
    pthread_mutex_lock(&j->lock);
    if (j->t)
        tb_trainer_request(j->t, r);
    else if (r == TB_REQ_STOP)
        atomic_store(&j->stop_early, true);
    pthread_mutex_unlock(&j->lock);
}

static bool push_event(tb_train_live *l, const tb_run_event *ev)
{
    if (l->n_events == l->cap_events) {
        size_t cap = l->cap_events ? 2 * l->cap_events : 32;
        tb_run_event *e = realloc(l->events, cap * sizeof *e);
        if (!e)
            return false;
        l->events = e;
        l->cap_events = cap;
    }
    l->events[l->n_events++] = *ev;
    tb_alarm_banner_feed(&l->banner, ev);
    return true;
}

bool tb_train_job_collect(tb_train_job *j, tb_train_live *l)
{
    static tb_train_metric m[BATCH_METRICS];  /* UI thread only */
    static tb_metric_row rows[BATCH_METRICS];
    tb_run_event ev[BATCH_EVENTS];
    bool changed = false;
    pthread_mutex_lock(&j->lock);
    tb_trainer *t = j->t;
    if (!t) {
        pthread_mutex_unlock(&j->lock);
        return false;
    }
    tb_train_progress *p = &l->prog;
    tb_train_state state = p->state;
    int64_t step = p->step;
    double elapsed = p->elapsed;
    tb_trainer_progress(t, p);
    changed |= !l->have || p->state != state || p->step != step || p->elapsed != elapsed;
    l->have = true;
    /* The last step again: an eval at a logging step joins that step's point later. */
    int64_t after = l->curve.n ? (int64_t)l->curve.step[l->curve.n - 1] - 1 : INT64_MIN;
    for (;;) {
        size_t n = tb_trainer_metrics(t, after, m, BATCH_METRICS);
        for (size_t i = 0; i < n; i++)
            rows[i] = (tb_metric_row){m[i].step, m[i].epoch, m[i].train_loss, m[i].eval_loss, m[i].lr,
                                      m[i].grad_norm, m[i].tokens_per_s, m[i].elapsed};
        bool c = false;
        tb_run_curve_merge(&l->curve, rows, n, &c);
        changed |= c;
        if (n < BATCH_METRICS)
            break;
        after = m[n - 1].step;
    }
    for (;;) {
        size_t n = tb_trainer_events(t, l->n_events, ev, BATCH_EVENTS);
        for (size_t i = 0; i < n; i++)
            if (!push_event(l, &ev[i]))
                n = 0;
        changed |= n > 0;
        if (n < BATCH_EVENTS)
            break;
    }
    pthread_mutex_unlock(&j->lock);
    return changed;
}

void tb_train_job_finish(tb_train_job *j)
{
    if (!j->thread_live)
        return;
    pthread_mutex_lock(&j->lock);
    j->release = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
    pthread_join(j->thread, NULL);
    j->thread_live = false;
    atomic_store(&j->phase, TB_JOB_IDLE);
}

void tb_train_job_destroy(tb_train_job *j)
{
    if (j->thread_live) {
        tb_train_job_request(j, TB_REQ_STOP);
        tb_train_job_finish(j);
    }
    pthread_mutex_destroy(&j->lock);
    pthread_cond_destroy(&j->cond);
}

void tb_train_live_reset(tb_train_live *l)
{
    tb_train_live_free(l);
    l->started = now_s();
}

void tb_train_live_free(tb_train_live *l)
{
    tb_run_curve_free(&l->curve);
    free(l->events);
    memset(l, 0, sizeof *l);
}
