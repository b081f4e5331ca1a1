/* tunebench validate — the Data screen, headless: for CI pipelines and scripts. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli/cli.h"
#include "tui/cli/commands.h"
#include "validators/validate.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench validate FILE [--eval FILE] [--format jsonl|json|csv] [--map A=B,...]\n"
            "                          [--rules FILE] [--max-tokens N] [--json] [--fix OUT.jsonl]\n\n"
            "Checks a fine-tuning dataset (JSONL, JSON array or CSV; alpaca, chat, ShareGPT or\n"
            "prompt/completion rows) and reports every problem with its line.\n\n"
            "  --eval FILE            also report eval rows that repeat a training row (leakage)\n"
            "  --format F             jsonl, json or csv (default: sniffed from the content)\n"
            "  --map A=B,...          read canonical field A from column B (instruction=question)\n"
            "  --rules FILE           extra checks, one per line: severity field /pattern/flags message\n"
            "  --max-tokens N         warn about examples longer than N tokens (token_length)\n"
            "  --model DIR            count tokens with DIR/tokenizer.json; --tokenizer FILE likewise\n"
            "  --template NAME        prompt template for token counts: alpaca, chatml, llama3, plain\n"
            "  --near-threshold J     Jaccard similarity for near duplicates (default 0.8)\n"
            "  --max-findings N       findings listed per check (default 1000, 0 = all; counts are always complete)\n"
            "  --json                 machine-readable report on stdout\n"
            "  --fix OUT.jsonl        write a cleaned copy: duplicates dropped, whitespace trimmed,\n"
            "                         placeholder inputs emptied (never over the input)\n\n"
            "Exit status: 0 no errors, 1 errors found, 2 unusable input or bad flags.\n\nChecks:\n");
    for (int c = 0; c < tb_check_count(); c++)
        fprintf(out, "  %-20s %-8s %s\n", tb_check_name(c), tb_severity_name(tb_check_severity(c)), tb_check_about(c));
}

static void print_text(const tb_report *r, FILE *out)
{
    for (long i = 0; i < r->n_findings; i++) {
        const tb_finding *f = &r->findings[i];
        fprintf(out, "%s:%ld: %s: %s: ", f->in_eval ? r->eval_path : r->path, f->line, tb_severity_name(f->severity),
                tb_check_name(f->check));
        if (f->record)
            fprintf(out, "(record %ld) ", f->record);
        fprintf(out, "%s\n", f->message);
    }
    fprintf(out, "\n%s: %ld rows (%s, %s) in %.2f s\n", r->path, r->rows, tb_format_name(r->format),
            tb_shape_name(r->shape), r->seconds);
    bool any = false;
    long listed = 0, total = 0;
    for (int c = 0; c < tb_check_count(); c++) {
        const tb_check_summary *cs = &r->checks[c];
        listed += cs->stored;
        total += cs->count;
        if (!cs->count)
            continue;
        if (!any)
            fprintf(out, "\n  %-20s %-8s %8s %8s %7s\n", "check", "severity", "count", "rows", "share");
        any = true;
        long base = strcmp(tb_check_name(c), "leakage") == 0 ? r->eval_rows : r->rows;
        fprintf(out, "  %-20s %-8s %8ld %8ld %6.1f%%\n", tb_check_name(c), tb_severity_name(tb_check_severity(c)),
                cs->count, cs->rows, base ? 100.0 * (double)cs->rows / (double)base : 0.0);
    }
    if (!any)
        fprintf(out, "\n  no findings\n");
    if (total > listed)
        fprintf(out, "  (%ld findings not listed; --max-findings 0 lists all)\n", total - listed);
    fprintf(out, "\n  %-12s %8s %8s %8s %8s %8s %9s %9s\n", "length", "min", "p10", "median", "p90", "max", "mean",
            "stddev");
    for (int f = 0; f < TB_STAT_COUNT; f++) {
        const tb_length_stats *s = &r->stats[f];
        if (!s->n)
            continue;
        fprintf(out, "  %-12s %8.0f %8.0f %8.0f %8.0f %8.0f %9.1f %9.1f\n", tb_stat_field_name((tb_stat_field)f),
                s->min, s->p10, s->median, s->p90, s->max, s->mean, s->stddev);
    }
    fprintf(out, "  (characters; tokens: %s)\n", r->token_note);
    if (r->fix.done)
        fprintf(out,
                "\nfixed: wrote %ld rows to %s; dropped %ld exact duplicates and %ld unreadable records, trimmed "
                "%ld fields, emptied %ld placeholder inputs\n",
                r->fix.written, r->fix.path, r->fix.dropped_duplicates, r->fix.dropped_unparseable,
                r->fix.trimmed_fields, r->fix.emptied_inputs);
    fprintf(out, "\n%ld error%s, %ld warning%s\n", r->by_severity[TB_SEV_ERROR],
            r->by_severity[TB_SEV_ERROR] == 1 ? "" : "s", r->by_severity[TB_SEV_WARNING],
            r->by_severity[TB_SEV_WARNING] == 1 ? "" : "s");
}

int tb_cmd_validate(int argc, char **argv)
{
    enum { O_EVAL = 1000, O_FORMAT, O_MAP, O_RULES, O_MAXTOK, O_JSON, O_FIX, O_MODEL, O_TOKENIZER, O_NEAR, O_MAXF,
           O_TEMPLATE, O_HELP };
    static const struct option opts[] = {
        {"eval", required_argument, NULL, O_EVAL},         {"format", required_argument, NULL, O_FORMAT},
        {"map", required_argument, NULL, O_MAP},           {"rules", required_argument, NULL, O_RULES},
        {"max-tokens", required_argument, NULL, O_MAXTOK}, {"json", no_argument, NULL, O_JSON},
        {"fix", required_argument, NULL, O_FIX},           {"model", required_argument, NULL, O_MODEL},
        {"tokenizer", required_argument, NULL, O_TOKENIZER}, {"near-threshold", required_argument, NULL, O_NEAR},
        {"max-findings", required_argument, NULL, O_MAXF}, {"template", required_argument, NULL, O_TEMPLATE},
        {"help", no_argument, NULL, O_HELP},               {0},
    };
    tb_validate_opts vo;
    tb_validate_opts_init(&vo);
    tb_field_map map;
    bool json = false;
    tb_error err;
    tb_error_clear(&err);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_EVAL: vo.eval_path = optarg; break;
        case O_RULES: vo.rules_path = optarg; break;
        case O_JSON: json = true; break;
        case O_FIX: vo.fix_path = optarg; break;
        case O_MODEL: vo.model_dir = optarg; break;
        case O_TOKENIZER: vo.tokenizer_path = optarg; break;
        case O_HELP: usage(stdout); return TB_EXIT_OK;
        case O_FORMAT:
            if (!tb_format_parse(optarg, &vo.format)) {
                fprintf(stderr, "tunebench validate: --format: '%s' is not jsonl, json or csv\n", optarg);
                return TB_EXIT_USAGE;
            }
            break;
        case O_TEMPLATE:
            if (!tb_template_parse(optarg, &vo.template_kind)) {
                fprintf(stderr, "tunebench validate: --template: '%s' is not alpaca, chatml, llama3 or plain\n", optarg);
                return TB_EXIT_USAGE;
            }
            break;
        case O_MAP:
            if (tb_field_map_parse(&map, optarg, &err) != TB_OK) {
                tb_cli_print_error("validate", &err);
                return TB_EXIT_USAGE;
            }
            vo.map = &map;
            break;
        case O_MAXTOK:
            if (!tb_cli_parse_long("validate", "--max-tokens", optarg, 1, 100000000L, &vo.max_tokens))
                return TB_EXIT_USAGE;
            break;
        case O_MAXF:
            if (!tb_cli_parse_long("validate", "--max-findings", optarg, 0, 1000000000L, &vo.max_findings))
                return TB_EXIT_USAGE;
            break;
        case O_NEAR:
            if (!tb_cli_parse_double("validate", "--near-threshold", optarg, 0.05, 1.0, &vo.near_threshold))
                return TB_EXIT_USAGE;
            break;
        default:
            fprintf(stderr, "tunebench validate: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TB_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "tunebench validate: %s\n", optind >= argc ? "name the dataset FILE" : "one FILE at a time");
        usage(stderr);
        return TB_EXIT_USAGE;
    }
    vo.path = argv[optind];
    tb_report rep;
    tb_status s = tb_validate(&vo, &rep, &err);
    if (s != TB_OK) {
        tb_report_free(&rep);
        tb_cli_print_error("validate", &err);
        return TB_EXIT_USAGE;
    }
    if (json) {
        json_t *doc = tb_report_to_json(&rep);
        if (json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
            s = TB_ERR_IO;
        fputc('\n', stdout);
        json_decref(doc);
    } else {
        print_text(&rep, stdout);
    }
    int rc = tb_report_errors(&rep) > 0 ? TB_EXIT_FINDINGS : TB_EXIT_OK;
    if (rep.fix.done)
        fprintf(stderr, "tunebench validate: wrote the cleaned copy to %s (%ld rows)\n", rep.fix.path, rep.fix.written);
    tb_report_free(&rep);
    return s == TB_OK ? rc : TB_EXIT_USAGE;
}
