/* tunebench runs — the Runs screen headless: list, compare + recommend, export metrics. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/fs.h"
#include "engine/io/run_export.h"
#include "engine/io/run_store.h"
#include "engine/plan/recommend.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"
#include "tui/run_columns.h"

#define CMD "runs"
#define MAX_COMPARE 64

static void usage(FILE *out)
{
    char keys[512];
    tb_run_col_keys(keys, sizeof keys);
    fprintf(out,
            "usage: tunebench runs [--dir DIR] [--sort KEY] [--desc] [--json]\n"
            "       tunebench runs --compare ID,ID[,...] [--dir DIR] [--json]\n"
            "       tunebench runs --export ID --csv [--out FILE] [--dir DIR]\n\n"
            "  --dir DIR       the runs folder holding tunebench.db (default runs), or the .db file\n"
            "  --sort KEY      order of the table (default best_eval; unknown values last):\n"
            "                  %s\n"
            "  --desc          descending order\n"
            "  --json          machine-readable output\n"
            "  --compare IDS   only these runs, plus the recommendation: best eval loss, with runs of\n"
            "                  more than %.0fx the smallest run's trainable parameters that improve eval\n"
            "                  loss by less than %.0f%% over it penalized\n"
            "  --export ID     the run's metrics, one row per logged step (CSV, RFC 4180)\n"
            "  --out FILE      write the CSV to FILE atomically instead of stdout\n",
            keys, TB_RECOMMEND_PARAM_RATIO, 100 * TB_RECOMMEND_MIN_GAIN);
}

/* ---- JSON --------------------------------------------------------------------------- */

static json_t *jreal(double v) { return isfinite(v) ? json_real(v) : json_null(); }
static json_t *jint(int64_t v) { return v >= 0 ? json_integer(v) : json_null(); }
static json_t *jtext(const char *s) { return s && s[0] ? json_string(s) : json_null(); }

static json_t *run_json(const tb_run_info *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "name", json_string(r->name));
    json_object_set_new(o, "status", json_string(tb_run_display_status(r)));
    json_object_set_new(o, "mode", jtext(r->mode));
    json_object_set_new(o, "rank", jint(r->rank));
    json_object_set_new(o, "alpha", jreal(r->alpha));
    json_object_set_new(o, "lr", jreal(r->lr));
    json_object_set_new(o, "epochs", jreal(r->epochs));
    json_object_set_new(o, "batch", jint(r->batch));
    json_object_set_new(o, "last_step", jint(r->last_step));
    json_object_set_new(o, "total_steps", jint(r->total_steps));
    json_object_set_new(o, "trainable_params", jint(r->trainable_params));
    json_object_set_new(o, "best_eval_loss", jreal(r->best_eval_loss));
    json_object_set_new(o, "best_eval_step", jint(r->best_eval_step));
    json_object_set_new(o, "final_eval_loss", jreal(r->final_eval_loss));
    json_object_set_new(o, "final_train_loss", jreal(r->final_train_loss));
    json_object_set_new(o, "tokens_per_s", jreal(r->tokens_per_s));
    json_object_set_new(o, "wall_time_s", jreal(r->wall_time));
    json_object_set_new(o, "peak_mem_bytes", jint(r->peak_mem_bytes));
    json_object_set_new(o, "adapter_bytes", jint(r->adapter_bytes));
    json_object_set_new(o, "started", jreal(r->started));
    json_object_set_new(o, "ended", jreal(r->ended));
    json_object_set_new(o, "pid", jint(r->pid));
    json_object_set_new(o, "run_dir", jtext(r->run_dir));
    json_object_set_new(o, "adapter_path", jtext(r->adapter_path));
    return o;
}

static json_t *recommendation_json(const tb_recommendation *rec, const tb_run_info *runs, const size_t *order)
{
    json_t *o = json_object();
    json_object_set_new(o, "pick", rec->pick >= 0 ? json_integer(runs[order[rec->pick]].id) : json_null());
    json_object_set_new(o, "pick_name", rec->pick >= 0 ? json_string(runs[order[rec->pick]].name) : json_null());
    json_object_set_new(o, "smallest", rec->smallest >= 0 ? json_integer(runs[order[rec->smallest]].id) : json_null());
    json_object_set_new(o, "rule", json_pack("{s:f, s:f}", "max_param_ratio", TB_RECOMMEND_PARAM_RATIO, "min_gain",
                                             TB_RECOMMEND_MIN_GAIN));
    json_t *reasons = json_array();
    for (size_t i = 0; i < rec->n_reasons; i++)
        json_array_append_new(reasons, json_string(rec->reasons[i]));
    json_object_set_new(o, "reasons", reasons);
    json_t *verdicts = json_array();
    for (size_t i = 0; i < rec->n; i++) {
        const tb_recommend_entry *e = &rec->entries[i];
        json_t *v = json_object();
        json_object_set_new(v, "id", json_integer(runs[order[i]].id));
        json_object_set_new(v, "verdict", json_string(tb_recommend_verdict_name(e->verdict)));
        json_object_set_new(v, "order", e->order >= 0 ? json_integer(e->order) : json_null());
        json_object_set_new(v, "param_ratio", jreal(e->param_ratio));
        json_object_set_new(v, "gain", isfinite(e->gain) ? json_real(e->gain) : json_null());
        json_array_append_new(verdicts, v);
    }
    json_object_set_new(o, "verdicts", verdicts);
    return o;
}

/* ---- text --------------------------------------------------------------------------- */

static void print_row(const tb_run_info *r, const char *mark)
{
    printf("%-2s", mark);
    for (int c = 0; c < TB_RUN_COL_COUNT; c++) {
        const tb_table_column *col = &tb_run_columns[c];
        char cell[256];
        if (r)
            tb_run_col_text(r, (tb_run_col)c, cell, sizeof cell);
        else
            snprintf(cell, sizeof cell, "%s", col->title);
        /* Clip to the column so rows stay aligned; names are the only long cells. */
        if ((int)strlen(cell) > col->width)
            cell[col->width] = '\0';
        printf(col->right ? "%*s" : "%-*s", col->width, cell);
        putchar(c + 1 < TB_RUN_COL_COUNT ? ' ' : '\n');
    }
}

/* ---- the command -------------------------------------------------------------------- */

typedef struct opts {
    const char *dir, *compare, *out;
    int64_t export_id;
    bool json, csv, desc, has_export;
    tb_run_col sort;
} opts;

static bool store_path(const char *dir, char *path, size_t size)
{
    if (tb_path_exists(dir) && !tb_path_is_dir(dir))
        return snprintf(path, size, "%s", dir) < (int)size;
    return tb_path_join(path, size, dir, "tunebench.db");
}

/* Parse "1,2,3" into ids (no duplicates kept). */
static bool parse_ids(const char *text, int64_t *ids, size_t *n)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (!tb_cli_parse_long(CMD, "--compare", tok, 1, 2147483647L, &v))
            return false;
        bool dup = false;
        for (size_t i = 0; i < *n; i++)
            dup |= ids[i] == v;
        if (dup)
            continue;
        if (*n == MAX_COMPARE) {
            fprintf(stderr, "tunebench runs: --compare: at most %d runs\n", MAX_COMPARE);
            return false;
        }
        ids[(*n)++] = v;
    }
    if (*n == 0)
        fprintf(stderr, "tunebench runs: --compare: give run ids, e.g. --compare 1,2\n");
    return *n > 0;
}

static int do_export(tb_run_store *rs, const opts *o)
{
    tb_error err;
    tb_run_info run;
    if (tb_run_store_get(rs, o->export_id, &run, &err) != TB_OK) {
        snprintf(err.field, sizeof err.field, "--export");
        tb_cli_print_error(CMD, &err);
        return TB_EXIT_USAGE;
    }
    free(run.config_json);
    tb_metric_row *rows;
    size_t n;
    if (tb_run_store_metrics(rs, run.id, INT64_MIN, &rows, &n, &err) != TB_OK) {
        tb_cli_print_error(CMD, &err);
        return TB_EXIT_USAGE;
    }
    tb_status st;
    if (o->out) {
        tb_atomic_file af;
        st = tb_atomic_file_open(&af, o->out, &err);
        if (st == TB_OK) {
            st = tb_run_export_csv(af.fp, o->out, &run, rows, n, &err);
            if (st == TB_OK)
                st = tb_atomic_file_commit(&af, &err);
            else
                tb_atomic_file_abort(&af);
        }
        if (st == TB_OK)
            fprintf(stderr, "tunebench runs: wrote %zu metric rows of run #%lld \"%s\" to %s\n", n,
                    (long long)run.id, run.name, o->out);
    } else {
        st = tb_run_export_csv(stdout, "stdout", &run, rows, n, &err);
    }
    free(rows);
    if (st != TB_OK) {
        tb_cli_print_error(CMD, &err);
        return TB_EXIT_USAGE;
    }
    return TB_EXIT_OK;
}

/* Keep only the runs named by --compare, in the order given; false (message) on an unknown id. */
static bool filter_runs(tb_run_info *runs, size_t *n, const int64_t *ids, size_t n_ids, const char *db)
{
    for (size_t k = 0; k < n_ids; k++) {
        bool found = false;
        for (size_t i = 0; i < *n; i++)
            found |= runs[i].id == ids[k];
        if (!found) {
            fprintf(stderr, "tunebench runs: --compare: no run with id %lld in %s\n", (long long)ids[k], db);
            return false;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < *n; i++) {
        bool want = false;
        for (size_t k = 0; k < n_ids; k++)
            want |= runs[i].id == ids[k];
        if (want) {
            tb_run_info tmp = runs[kept];
            runs[kept++] = runs[i];
            runs[i] = tmp;
        }
    }
    for (size_t i = kept; i < *n; i++) {
        free(runs[i].config_json);
        runs[i].config_json = NULL;
    }
    *n = kept;
    return true;
}

/* The table order, by the same sort as the Runs screen's table. */
static bool sort_runs(tb_run_info *runs, size_t n, tb_run_col col, bool desc, size_t *order)
{
    tb_run_rows rows = {runs, n};
    tb_table t;
    tb_table_init(&t, tb_run_columns, TB_RUN_COL_COUNT, TB_RUN_COLS_FROZEN, tb_run_table_source(&rows));
    if (!tb_table_set_rows(&t, (int)n))
        return false;
    tb_table_sort(&t, col, desc);
    for (size_t i = 0; i < n; i++)
        order[i] = (size_t)t.order[i];
    tb_table_free(&t);
    return true;
}

static int list_or_compare(tb_run_store *rs, const opts *o, const int64_t *ids, size_t n_ids)
{
    tb_error err;
    tb_run_info *runs;
    size_t n;
    if (tb_run_store_list(rs, &runs, &n, &err) != TB_OK) {
        tb_cli_print_error(CMD, &err);
        return TB_EXIT_USAGE;
    }
    size_t n_all = n;
    int rc = TB_EXIT_USAGE;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    tb_recommend_run *cand = malloc((n ? n : 1) * sizeof *cand);
    tb_recommendation rec = {.pick = -1, .smallest = -1};
    if (!order || !cand || !sort_runs(runs, n, o->sort, o->desc, order))
        goto out;
    if (o->compare) {
        if (!filter_runs(runs, &n, ids, n_ids, tb_run_store_path(rs)) || !sort_runs(runs, n, o->sort, o->desc, order))
            goto out;
        for (size_t i = 0; i < n; i++) {
            const tb_run_info *r = &runs[order[i]];
            cand[i] = (tb_recommend_run){r->id, r->name, r->trainable_params, r->best_eval_loss};
        }
        if (tb_recommend(cand, n, &rec, &err) != TB_OK) {
            tb_cli_print_error(CMD, &err);
            goto out;
        }
    }
    if (o->json) {
        json_t *root = json_object();
        json_object_set_new(root, "store", json_string(tb_run_store_path(rs)));
        json_object_set_new(root, "sort", json_string(tb_run_col_key(o->sort)));
        json_object_set_new(root, "descending", json_boolean(o->desc));
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, run_json(&runs[order[i]]));
        json_object_set_new(root, "runs", arr);
        if (o->compare)
            json_object_set_new(root, "recommendation", recommendation_json(&rec, runs, order));
        char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        puts(text);
        free(text);
        json_decref(root);
    } else if (n == 0) {
        printf("No runs in %s yet.\n", tb_run_store_path(rs));
    } else {
        print_row(NULL, "");
        for (size_t i = 0; i < n; i++)
            print_row(&runs[order[i]], (long)i == rec.pick ? "*" : "");
        if (o->compare) {
            printf("\nRecommendation: ");
            if (rec.pick >= 0)
                printf("#%lld %s\n", (long long)runs[order[rec.pick]].id, runs[order[rec.pick]].name);
            else
                printf("none\n");
            for (size_t i = 0; i < rec.n_reasons; i++)
                printf("  - %s\n", rec.reasons[i]);
        }
    }
    rc = TB_EXIT_OK;
out:
    tb_recommendation_free(&rec);
    free(cand);
    free(order);
    tb_run_info_free_list(runs, n_all);
    return rc;
}

static int parse_opts(int argc, char **argv, opts *o, int64_t *ids, size_t *n_ids)
{
    enum { OPT_DIR = 1000, OPT_JSON, OPT_COMPARE, OPT_EXPORT, OPT_CSV, OPT_OUT, OPT_SORT, OPT_DESC, OPT_HELP };
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, OPT_DIR},        {"json", no_argument, NULL, OPT_JSON},
        {"compare", required_argument, NULL, OPT_COMPARE}, {"export", required_argument, NULL, OPT_EXPORT},
        {"csv", no_argument, NULL, OPT_CSV},               {"out", required_argument, NULL, OPT_OUT},
        {"sort", required_argument, NULL, OPT_SORT},       {"desc", no_argument, NULL, OPT_DESC},
        {"help", no_argument, NULL, OPT_HELP},             {0},
    };
    *o = (opts){.dir = "runs", .sort = TB_RUN_COL_BEST_EVAL};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        long v;
        switch (c) {
        case OPT_DIR: o->dir = optarg; break;
        case OPT_JSON: o->json = true; break;
        case OPT_CSV: o->csv = true; break;
        case OPT_OUT: o->out = optarg; break;
        case OPT_DESC: o->desc = true; break;
        case OPT_HELP: usage(stdout); return TB_EXIT_OK;
        case OPT_COMPARE:
            o->compare = optarg;
            if (!parse_ids(optarg, ids, n_ids))
                return TB_EXIT_USAGE;
            break;
        case OPT_EXPORT:
            if (!tb_cli_parse_long(CMD, "--export", optarg, 1, 2147483647L, &v))
                return TB_EXIT_USAGE;
            o->export_id = v;
            o->has_export = true;
            break;
        case OPT_SORT:
            if (!tb_run_col_parse(optarg, &o->sort)) {
                char keys[512];
                tb_run_col_keys(keys, sizeof keys);
                fprintf(stderr, "tunebench runs: --sort: unknown column '%s' (one of: %s)\n", optarg, keys);
                return TB_EXIT_USAGE;
            }
            break;
        default:
            fprintf(stderr, "tunebench runs: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tunebench runs: unexpected argument '%s'\n", argv[optind]);
        return TB_EXIT_USAGE;
    }
    const char *clash = o->has_export && o->compare ? "--export and --compare do not go together"
                        : o->has_export && o->json  ? "--export writes CSV; --json does not apply"
                        : !o->has_export && o->csv  ? "--csv goes with --export ID"
                        : !o->has_export && o->out  ? "--out goes with --export ID"
                                                    : NULL;
    if (clash) {
        fprintf(stderr, "tunebench runs: %s\n", clash);
        return TB_EXIT_USAGE;
    }
    return -1; /* go on */
}

int tb_cmd_runs(int argc, char **argv)
{
    opts o;
    int64_t ids[MAX_COMPARE];
    size_t n_ids = 0;
    int rc = parse_opts(argc, argv, &o, ids, &n_ids);
    if (rc >= 0)
        return rc;
    char db[4096];
    if (!store_path(o.dir, db, sizeof db)) {
        fprintf(stderr, "tunebench runs: --dir: path too long\n");
        return TB_EXIT_USAGE;
    }
    tb_run_store *rs;
    tb_error err;
    if (tb_run_store_open(&rs, db, true, &err) != TB_OK) {
        tb_cli_print_error(CMD, &err);
        return TB_EXIT_USAGE;
    }
    rc = o.has_export ? do_export(rs, &o) : list_or_compare(rs, &o, ids, n_ids);
    tb_run_store_close(rs);
    return rc;
}
