/* tunebench — the run store (SQLite, WAL). */
#include "engine/io/run_store.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/core/fs.h"

struct tb_run_store {
    sqlite3 *db;
    int64_t data_version;      /* last PRAGMA data_version seen by tb_run_store_poll; -1 none */
    char path[4096];
};

#define SCHEMA_VERSION 1

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS runs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL, mode TEXT,"
    " run_dir TEXT, adapter_path TEXT, config TEXT, started REAL, ended REAL, updated REAL, pid INTEGER,"
    " rank INTEGER, alpha REAL, lr REAL, epochs REAL, batch INTEGER, total_steps INTEGER, last_step INTEGER,"
    " trainable_params INTEGER, peak_mem_bytes INTEGER, adapter_bytes INTEGER,"
    " best_eval_loss REAL, best_eval_step INTEGER, final_eval_loss REAL, final_train_loss REAL,"
    " tokens_per_s REAL, wall_time REAL);"
    "CREATE TABLE IF NOT EXISTS metrics ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER NOT NULL, epoch REAL, train_loss REAL,"
    " eval_loss REAL, lr REAL, grad_norm REAL, tokens_per_s REAL, wall_time REAL,"
    " PRIMARY KEY (run_id, step)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS events ("
    " run_id INTEGER NOT NULL REFERENCES runs(id), step INTEGER, time REAL, level TEXT, message TEXT);"
    "CREATE INDEX IF NOT EXISTS events_run ON events(run_id);";

static const char *const status_names[TB_RUN_STATUS_COUNT] = {
    "created", "running", "paused", "finished", "stopped", "failed",
};

const char *tb_run_status_name(tb_run_status st)
{
    return (unsigned)st < TB_RUN_STATUS_COUNT ? status_names[st] : "unknown";
}

bool tb_run_status_parse(const char *name, tb_run_status *out)
{
    for (int i = 0; i < TB_RUN_STATUS_COUNT; i++)
        if (name && strcmp(name, status_names[i]) == 0)
            return (*out = (tb_run_status)i), true;
    return false;
}

void tb_run_info_init(tb_run_info *r)
{
    memset(r, 0, sizeof *r);
    r->id = -1;
    r->status = TB_RUN_CREATED;
    r->started = r->ended = r->updated = (double)NAN;
    r->pid = r->rank = r->total_steps = r->last_step = r->best_eval_step = r->batch = -1;
    r->trainable_params = r->peak_mem_bytes = r->adapter_bytes = -1;
    r->alpha = r->lr = r->epochs = (double)NAN;
    r->best_eval_loss = r->final_eval_loss = r->final_train_loss = r->tokens_per_s = r->wall_time = (double)NAN;
}

static tb_status db_fail(tb_run_store *rs, tb_error *err, const char *what)
{
    return tb_error_set(err, TB_ERR_IO, rs->path, 0, NULL, "%s: %s", what, sqlite3_errmsg(rs->db));
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

tb_status tb_run_store_open(tb_run_store **out, const char *db_path, bool readonly, tb_error *err)
{
    *out = NULL;
    tb_run_store *rs = calloc(1, sizeof *rs);
    if (!rs)
        return tb_error_set(err, TB_ERR_NOMEM, db_path, 0, NULL, "out of memory");
    snprintf(rs->path, sizeof rs->path, "%s", db_path);
    rs->data_version = -1;
    if (!readonly) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", db_path);
        tb_status st = tb_mkdirs(dirname(dir), err);
        if (st != TB_OK) {
            free(rs);
            return st;
        }
    } else if (!tb_path_exists(db_path)) {
        free(rs);
        return tb_error_set(err, TB_ERR_IO, db_path, 0, NULL, "no run store here (no runs yet?)");
    }
    int flags = readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(db_path, &rs->db, flags | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        tb_status st = db_fail(rs, err, "cannot open the run store");
        tb_run_store_close(rs);
        return st;
    }
    sqlite3_busy_timeout(rs->db, 5000);
    char *msg = NULL;
    /* WAL: readers never block the trainer and see every committed metric. */
    if (!readonly &&
        (sqlite3_exec(rs->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, &msg) != SQLITE_OK ||
         sqlite3_exec(rs->db, schema, NULL, NULL, &msg) != SQLITE_OK)) {
        tb_error_set(err, TB_ERR_IO, db_path, 0, NULL, "cannot prepare the run store: %s", msg ? msg : "?");
        sqlite3_free(msg);
        tb_run_store_close(rs);
        return TB_ERR_IO;
    }
    if (!readonly) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version=%d;", SCHEMA_VERSION);
        sqlite3_exec(rs->db, pragma, NULL, NULL, NULL);
    }
    *out = rs;
    return TB_OK;
}

void tb_run_store_close(tb_run_store *rs)
{
    if (!rs)
        return;
    if (rs->db)
        sqlite3_close(rs->db);
    free(rs);
}

const char *tb_run_store_path(const tb_run_store *rs) { return rs->path; }

tb_status tb_run_store_poll(tb_run_store *rs, bool *changed, tb_error *err)
{
    *changed = false;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(rs->db, "PRAGMA data_version", -1, &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot poll the run store");
    int rc = sqlite3_step(s);
    int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return db_fail(rs, err, "cannot poll the run store");
    *changed = v != rs->data_version;
    rs->data_version = v;
    return TB_OK;
}

bool tb_run_is_stale(const tb_run_info *r)
{
    if (r->status != TB_RUN_RUNNING && r->status != TB_RUN_PAUSED)
        return false;
    if (r->pid <= 0 || r->pid > INT32_MAX)
        return false; /* no trainer recorded: nothing to check against */
    /* Signal 0 checks existence only; EPERM means it exists under another user. */
    return kill((pid_t)r->pid, 0) != 0 && errno == ESRCH;
}

const char *tb_run_display_status(const tb_run_info *r)
{
    return tb_run_is_stale(r) ? "stale" : tb_run_status_name(r->status);
}

/* NaN / negative "unknown" values are stored as NULL. */
static void bind_real(sqlite3_stmt *s, int i, double v)
{
    if (isfinite(v))
        sqlite3_bind_double(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

static void bind_int(sqlite3_stmt *s, int i, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
    if (t && t[0])
        sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

#define RUN_FIELDS                                                                                  \
    "name, status, mode, run_dir, adapter_path, config, started, ended, updated, pid, rank, alpha, lr, " \
    "epochs, batch, total_steps, last_step, trainable_params, peak_mem_bytes, adapter_bytes, "          \
    "best_eval_loss, best_eval_step, final_eval_loss, final_train_loss, tokens_per_s, wall_time"

static void bind_run(sqlite3_stmt *s, const tb_run_info *r, double updated)
{
    int i = 1;
    sqlite3_bind_text(s, i++, r->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, i++, tb_run_status_name(r->status), -1, SQLITE_STATIC);
    bind_text(s, i++, r->mode);
    bind_text(s, i++, r->run_dir);
    bind_text(s, i++, r->adapter_path);
    bind_text(s, i++, r->config_json);
    bind_real(s, i++, r->started);
    bind_real(s, i++, r->ended);
    bind_real(s, i++, updated);
    bind_int(s, i++, r->pid);
    bind_int(s, i++, r->rank);
    bind_real(s, i++, r->alpha);
    bind_real(s, i++, r->lr);
    bind_real(s, i++, r->epochs);
    bind_int(s, i++, r->batch);
    bind_int(s, i++, r->total_steps);
    bind_int(s, i++, r->last_step);
    bind_int(s, i++, r->trainable_params);
    bind_int(s, i++, r->peak_mem_bytes);
    bind_int(s, i++, r->adapter_bytes);
    bind_real(s, i++, r->best_eval_loss);
    bind_int(s, i++, r->best_eval_step);
    bind_real(s, i++, r->final_eval_loss);
    bind_real(s, i++, r->final_train_loss);
    bind_real(s, i++, r->tokens_per_s);
    bind_real(s, i++, r->wall_time);
}

static tb_status exec_stmt(tb_run_store *rs, sqlite3_stmt *s, tb_error *err, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_fail(rs, err, what);
    return TB_OK;
}

tb_status tb_run_store_create(tb_run_store *rs, const tb_run_info *info, int64_t *id, tb_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(rs->db,
                           "INSERT INTO runs (" RUN_FIELDS ") VALUES "
                           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot create the run");
    bind_run(s, info, now_seconds());
    tb_status st = exec_stmt(rs, s, err, "cannot create the run");
    if (st == TB_OK)
        *id = sqlite3_last_insert_rowid(rs->db);
    return st;
}

tb_status tb_run_store_update(tb_run_store *rs, const tb_run_info *info, tb_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(rs->db,
                           "UPDATE runs SET (" RUN_FIELDS ") = "
                           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE id = ?27",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot update the run");
    bind_run(s, info, now_seconds());
    sqlite3_bind_int64(s, 27, info->id);
    return exec_stmt(rs, s, err, "cannot update the run");
}

tb_status tb_run_store_set_status(tb_run_store *rs, int64_t id, tb_run_status st, tb_error *err)
{
    sqlite3_stmt *s;
    bool done = st == TB_RUN_FINISHED || st == TB_RUN_STOPPED || st == TB_RUN_FAILED;
    if (sqlite3_prepare_v2(rs->db,
                           done ? "UPDATE runs SET status = ?1, updated = ?2, ended = ?2 WHERE id = ?3"
                                : "UPDATE runs SET status = ?1, updated = ?2 WHERE id = ?3",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot set the run status");
    sqlite3_bind_text(s, 1, tb_run_status_name(st), -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 2, now_seconds());
    sqlite3_bind_int64(s, 3, id);
    return exec_stmt(rs, s, err, "cannot set the run status");
}

tb_status tb_run_store_append_metrics(tb_run_store *rs, int64_t id, const tb_metric_row *rows, size_t n, tb_error *err)
{
    if (n == 0)
        return TB_OK;
    if (sqlite3_exec(rs->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot write metrics");
    sqlite3_stmt *s;
    /* Upsert: an eval row for a step merges with that step's train row. */
    if (sqlite3_prepare_v2(rs->db,
                           "INSERT INTO metrics (run_id, step, epoch, train_loss, eval_loss, lr, grad_norm, "
                           "tokens_per_s, wall_time) VALUES (?,?,?,?,?,?,?,?,?) "
                           "ON CONFLICT(run_id, step) DO UPDATE SET "
                           "epoch = coalesce(excluded.epoch, epoch), "
                           "train_loss = coalesce(excluded.train_loss, train_loss), "
                           "eval_loss = coalesce(excluded.eval_loss, eval_loss), "
                           "lr = coalesce(excluded.lr, lr), grad_norm = coalesce(excluded.grad_norm, grad_norm), "
                           "tokens_per_s = coalesce(excluded.tokens_per_s, tokens_per_s), "
                           "wall_time = coalesce(excluded.wall_time, wall_time)",
                           -1, &s, NULL) != SQLITE_OK) {
        sqlite3_exec(rs->db, "ROLLBACK", NULL, NULL, NULL);
        return db_fail(rs, err, "cannot write metrics");
    }
    for (size_t i = 0; i < n; i++) {
        const tb_metric_row *m = &rows[i];
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, m->step);
        bind_real(s, 3, m->epoch);
        bind_real(s, 4, m->train_loss);
        bind_real(s, 5, m->eval_loss);
        bind_real(s, 6, m->lr);
        bind_real(s, 7, m->grad_norm);
        bind_real(s, 8, m->tokens_per_s);
        bind_real(s, 9, m->wall_time);
        if (sqlite3_step(s) != SQLITE_DONE) {
            sqlite3_finalize(s);
            sqlite3_exec(rs->db, "ROLLBACK", NULL, NULL, NULL);
            return db_fail(rs, err, "cannot write metrics");
        }
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    sqlite3_stmt *u;
    if (sqlite3_prepare_v2(rs->db, "UPDATE runs SET updated = ?1, last_step = max(coalesce(last_step, -1), ?2) "
                                   "WHERE id = ?3", -1, &u, NULL) == SQLITE_OK) {
        sqlite3_bind_double(u, 1, now_seconds());
        sqlite3_bind_int64(u, 2, rows[n - 1].step);
        sqlite3_bind_int64(u, 3, id);
        sqlite3_step(u);
        sqlite3_finalize(u);
    }
    if (sqlite3_exec(rs->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(rs->db, "ROLLBACK", NULL, NULL, NULL);
        return db_fail(rs, err, "cannot commit metrics");
    }
    return TB_OK;
}

tb_status tb_run_store_add_event(tb_run_store *rs, int64_t id, const tb_run_event *ev, tb_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(rs->db, "INSERT INTO events (run_id, step, time, level, message) VALUES (?,?,?,?,?)", -1,
                           &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot log the event");
    sqlite3_bind_int64(s, 1, id);
    bind_int(s, 2, ev->step);
    bind_real(s, 3, isfinite(ev->time) && ev->time > 0 ? ev->time : now_seconds());
    sqlite3_bind_text(s, 4, ev->level, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, ev->message, -1, SQLITE_TRANSIENT);
    return exec_stmt(rs, s, err, "cannot log the event");
}

/* ---- reading ------------------------------------------------------------------------- */

static double col_real(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(s, i);
}

static int64_t col_int(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, i);
}

static void col_text(sqlite3_stmt *s, int i, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

/* What the runs row does not say yet comes from the metrics: a live run shows its last step,
 * best and latest losses before the trainer writes its summary. COALESCE stops at the first
 * non-NULL argument, so a finished run with its summary costs no subquery. Columns: id, then
 * RUN_FIELDS' order (read_run). */
#define FROM_METRICS(expr, cond, order) \
    "(SELECT " expr " FROM metrics m WHERE m.run_id = runs.id " cond " " order " LIMIT 1)"
#define SELECT_FIELDS                                                                              \
    "id, name, status, mode, run_dir, adapter_path, config, started, ended, updated, pid, rank, alpha, lr, " \
    "epochs, batch, total_steps, "                                                                 \
    "coalesce(last_step, " FROM_METRICS("max(step)", "", "") "), "                                 \
    "trainable_params, peak_mem_bytes, adapter_bytes, "                                            \
    "coalesce(best_eval_loss, " FROM_METRICS("min(eval_loss)", "", "") "), "                       \
    "coalesce(best_eval_step, " FROM_METRICS("step", "AND eval_loss IS NOT NULL", "ORDER BY eval_loss, step") "), " \
    "coalesce(final_eval_loss, " FROM_METRICS("eval_loss", "AND eval_loss IS NOT NULL", "ORDER BY step DESC") "), " \
    "coalesce(final_train_loss, " FROM_METRICS("train_loss", "AND train_loss IS NOT NULL", "ORDER BY step DESC") "), " \
    "coalesce(tokens_per_s, " FROM_METRICS("avg(tokens_per_s)", "", "") "), "                      \
    "coalesce(wall_time, " FROM_METRICS("max(wall_time)", "", "") ")"

static bool read_run(sqlite3_stmt *s, tb_run_info *r)
{
    tb_run_info_init(r);
    int i = 0;
    r->id = sqlite3_column_int64(s, i++);
    col_text(s, i++, r->name, sizeof r->name);
    char status[32];
    col_text(s, i++, status, sizeof status);
    tb_run_status_parse(status, &r->status);
    col_text(s, i++, r->mode, sizeof r->mode);
    col_text(s, i++, r->run_dir, sizeof r->run_dir);
    col_text(s, i++, r->adapter_path, sizeof r->adapter_path);
    const unsigned char *cfg = sqlite3_column_text(s, i++);
    r->config_json = strdup(cfg ? (const char *)cfg : "{}");
    r->started = col_real(s, i++);
    r->ended = col_real(s, i++);
    r->updated = col_real(s, i++);
    r->pid = col_int(s, i++);
    r->rank = col_int(s, i++);
    r->alpha = col_real(s, i++);
    r->lr = col_real(s, i++);
    r->epochs = col_real(s, i++);
    r->batch = col_int(s, i++);
    r->total_steps = col_int(s, i++);
    r->last_step = col_int(s, i++);
    r->trainable_params = col_int(s, i++);
    r->peak_mem_bytes = col_int(s, i++);
    r->adapter_bytes = col_int(s, i++);
    r->best_eval_loss = col_real(s, i++);
    r->best_eval_step = col_int(s, i++);
    r->final_eval_loss = col_real(s, i++);
    r->final_train_loss = col_real(s, i++);
    r->tokens_per_s = col_real(s, i++);
    r->wall_time = col_real(s, i++);
    return r->config_json != NULL;
}

void tb_run_info_free_list(tb_run_info *runs, size_t n)
{
    if (!runs)
        return;
    for (size_t i = 0; i < n; i++)
        free(runs[i].config_json);
    free(runs);
}

tb_status tb_run_store_list(tb_run_store *rs, tb_run_info **runs, size_t *n, tb_error *err)
{
    *runs = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(rs->db, "SELECT " SELECT_FIELDS " FROM runs ORDER BY id", -1, &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot list runs");
    size_t cap = 0;
    tb_run_info *list = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            tb_run_info *grown = realloc(list, cap * sizeof *list);
            if (!grown)
                goto nomem;
            list = grown;
        }
        if (!read_run(s, &list[*n]))
            goto nomem;
        (*n)++;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        tb_run_info_free_list(list, *n);
        *n = 0;
        return db_fail(rs, err, "cannot list runs");
    }
    *runs = list;
    return TB_OK;
nomem:
    sqlite3_finalize(s);
    tb_run_info_free_list(list, *n);
    *n = 0;
    return tb_error_set(err, TB_ERR_NOMEM, rs->path, 0, NULL, "out of memory listing runs");
}

tb_status tb_run_store_get(tb_run_store *rs, int64_t id, tb_run_info *out, tb_error *err)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(rs->db, "SELECT " SELECT_FIELDS " FROM runs WHERE id = ?", -1, &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot read the run");
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    tb_status st = TB_OK;
    if (rc == SQLITE_ROW) {
        if (!read_run(s, out))
            st = tb_error_set(err, TB_ERR_NOMEM, rs->path, 0, NULL, "out of memory");
    } else if (rc == SQLITE_DONE) {
        st = tb_error_set(err, TB_ERR_INVALID, rs->path, 0, "run", "no run with id %lld", (long long)id);
    } else {
        st = db_fail(rs, err, "cannot read the run");
    }
    sqlite3_finalize(s);
    return st;
}

tb_status tb_run_store_metrics(tb_run_store *rs, int64_t id, int64_t after_step, tb_metric_row **rows, size_t *n,
                               tb_error *err)
{
    *rows = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(rs->db,
                           "SELECT step, epoch, train_loss, eval_loss, lr, grad_norm, tokens_per_s, wall_time "
                           "FROM metrics WHERE run_id = ? AND step > ? ORDER BY step",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot read metrics");
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, after_step);
    size_t cap = 0;
    tb_metric_row *list = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            tb_metric_row *grown = realloc(list, cap * sizeof *list);
            if (!grown) {
                free(list);
                sqlite3_finalize(s);
                *n = 0;
                return tb_error_set(err, TB_ERR_NOMEM, rs->path, 0, NULL, "out of memory reading metrics");
            }
            list = grown;
        }
        tb_metric_row *m = &list[(*n)++];
        m->step = sqlite3_column_int64(s, 0);
        m->epoch = col_real(s, 1);
        m->train_loss = col_real(s, 2);
        m->eval_loss = col_real(s, 3);
        m->lr = col_real(s, 4);
        m->grad_norm = col_real(s, 5);
        m->tokens_per_s = col_real(s, 6);
        m->wall_time = col_real(s, 7);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(list);
        *n = 0;
        return db_fail(rs, err, "cannot read metrics");
    }
    *rows = list;
    return TB_OK;
}

tb_status tb_run_store_events(tb_run_store *rs, int64_t id, tb_run_event **events, size_t *n, tb_error *err)
{
    *events = NULL;
    *n = 0;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(rs->db, "SELECT step, time, level, message FROM events WHERE run_id = ? ORDER BY rowid",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(rs, err, "cannot read events");
    sqlite3_bind_int64(s, 1, id);
    size_t cap = 0;
    tb_run_event *list = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 32;
            tb_run_event *grown = realloc(list, cap * sizeof *list);
            if (!grown) {
                free(list);
                sqlite3_finalize(s);
                *n = 0;
                return tb_error_set(err, TB_ERR_NOMEM, rs->path, 0, NULL, "out of memory reading events");
            }
            list = grown;
        }
        tb_run_event *e = &list[(*n)++];
        e->step = col_int(s, 0);
        e->time = col_real(s, 1);
        col_text(s, 2, e->level, sizeof e->level);
        col_text(s, 3, e->message, sizeof e->message);
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        free(list);
        *n = 0;
        return db_fail(rs, err, "cannot read events");
    }
    *events = list;
    return TB_OK;
}
