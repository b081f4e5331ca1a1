/* tunebench decide — the decision matrix, headless. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "engine/plan/decide.h"
#include "tui/cli/cli.h"
#include "tui/cli/commands.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tunebench decide [--preset NAME] [--examples N] [--FACT yes|no|unknown]... [--json]\n"
            "       tunebench decide --list\n\n"
            "Facts (unanswered facts count for nothing):\n"
            "  --examples N            labeled examples available\n");
    for (int f = 1; f < TB_FACT_COUNT; f++)
        fprintf(out, "  --%-21s %s\n", tb_decide_fact_flag((tb_decide_fact)f),
                tb_decide_fact_question((tb_decide_fact)f));
    fprintf(out, "\nA preset fills the facts of one of the tutorial's scenarios; flags after it override.\n");
}

static void list_presets(void)
{
    for (int i = 0; i < tb_decide_preset_count(); i++) {
        const tb_decide_preset *p = tb_decide_preset_at(i);
        printf("%-18s %-50s %s\n", p->name, p->scenario, tb_decide_option_name(p->expected));
    }
}

static void print_json(const tb_decide_facts *facts, const tb_decide_result *r, const char *preset)
{
    json_t *root = json_object();
    json_object_set_new(root, "recommendation", json_string(tb_decide_option_name(r->recommendation)));
    json_t *scores = json_object();
    for (int o = 0; o < TB_DECIDE_OPTION_COUNT; o++)
        json_object_set_new(scores, tb_decide_option_name((tb_decide_option)o), json_integer(r->scores[o]));
    json_object_set_new(root, "scores", scores);
    json_t *reasons = json_array();
    for (int i = 0; i < r->n_reasons; i++)
        json_array_append_new(reasons, json_string(r->reasons[i]));
    json_object_set_new(root, "reasons", reasons);
    json_t *contrib = json_array();
    for (int i = 0; i < r->n_contrib; i++) {
        const tb_decide_contribution *c = &r->contrib[i];
        json_array_append_new(contrib, json_pack("{s:s, s:i, s:i, s:i, s:s}", "fact", tb_decide_fact_flag(c->fact),
                                                 "prompting", c->points[TB_AXIS_PROMPTING], "fine_tuning",
                                                 c->points[TB_AXIS_FINE_TUNING], "rag", c->points[TB_AXIS_RAG],
                                                 "reason", c->reason));
    }
    json_object_set_new(root, "contributions", contrib);
    json_t *jf = json_object();
    json_object_set_new(jf, "examples", facts->examples < 0 ? json_null() : json_integer(facts->examples));
    for (int f = 1; f < TB_FACT_COUNT; f++)
        json_object_set_new(jf, tb_decide_fact_flag((tb_decide_fact)f),
                            facts->answer[f] == TB_ANSWER_UNKNOWN ? json_null()
                                                                  : json_boolean(facts->answer[f] == TB_ANSWER_YES));
    json_object_set_new(root, "facts", jf);
    if (preset)
        json_object_set_new(root, "preset", json_string(preset));
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    puts(text);
    free(text);
    json_decref(root);
}

static void print_table(const tb_decide_facts *facts, const tb_decide_result *r, const char *preset)
{
    if (preset)
        printf("Scenario:        %s\n", tb_decide_preset_find(preset)->scenario);
    printf("Recommendation:  %s\n\n", tb_decide_option_label(r->recommendation));
    printf("  %-20s %5s\n", "option", "score");
    for (int o = 0; o < TB_DECIDE_OPTION_COUNT; o++)
        printf("%s %-20s %5d\n", o == (int)r->recommendation ? ">" : " ",
               tb_decide_option_label((tb_decide_option)o), r->scores[o]);
    printf("\nWhy:\n");
    for (int i = 0; i < r->n_reasons; i++)
        printf("  - %s\n", r->reasons[i]);
    printf("\nContributions (points to prompting / fine-tuning / RAG):\n");
    printf("  %-18s %7s %4s %4s %4s\n", "fact", "answer", "P", "FT", "RAG");
    for (int i = 0; i < r->n_contrib; i++) {
        const tb_decide_contribution *c = &r->contrib[i];
        char ans[32];
        if (c->fact == TB_FACT_EXAMPLES)
            snprintf(ans, sizeof ans, "%ld", facts->examples);
        else
            snprintf(ans, sizeof ans, "%s", tb_answer_name(facts->answer[c->fact]));
        printf("  %-18s %7s %+4d %+4d %+4d\n", tb_decide_fact_flag(c->fact), ans, c->points[TB_AXIS_PROMPTING],
               c->points[TB_AXIS_FINE_TUNING], c->points[TB_AXIS_RAG]);
    }
    if (r->n_contrib == 0)
        printf("  (no facts answered)\n");
    printf("  %s\n", r->combine_note);
}

int tb_cmd_decide(int argc, char **argv)
{
    enum { OPT_JSON = 1000, OPT_LIST, OPT_PRESET, OPT_EXAMPLES, OPT_HELP, OPT_FACT0 };
    struct option opts[TB_FACT_COUNT + 8];
    int n = 0;
    opts[n++] = (struct option){"json", no_argument, NULL, OPT_JSON};
    opts[n++] = (struct option){"list", no_argument, NULL, OPT_LIST};
    opts[n++] = (struct option){"preset", required_argument, NULL, OPT_PRESET};
    opts[n++] = (struct option){"examples", required_argument, NULL, OPT_EXAMPLES};
    opts[n++] = (struct option){"help", no_argument, NULL, OPT_HELP};
    for (int f = 1; f < TB_FACT_COUNT; f++)
        opts[n++] = (struct option){tb_decide_fact_flag((tb_decide_fact)f), required_argument, NULL, OPT_FACT0 + f};
    opts[n] = (struct option){0};

    /* Two passes: the preset first, so the other flags override it wherever they stand. */
    tb_decide_facts facts;
    tb_decide_facts_init(&facts);
    const char *preset = NULL;
    bool json = false;
    opterr = 0;
    for (int pass = 0; pass < 2; pass++) {
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
            if (c == '?') {
                if (pass == 0) {
                    fprintf(stderr, "tunebench decide: unknown or incomplete option '%s'\n", argv[optind - 1]);
                    usage(stderr);
                }
                return TB_EXIT_USAGE;
            }
            if (pass == 0) {
                if (c == OPT_HELP)
                    return usage(stdout), TB_EXIT_OK;
                if (c == OPT_LIST)
                    return list_presets(), TB_EXIT_OK;
                if (c == OPT_PRESET) {
                    const tb_decide_preset *p = tb_decide_preset_find(optarg);
                    if (!p) {
                        fprintf(stderr, "tunebench decide: --preset: unknown preset '%s' (see --list)\n", optarg);
                        return TB_EXIT_USAGE;
                    }
                    preset = p->name;
                    facts = p->facts;
                }
                continue;
            }
            if (c == OPT_JSON) {
                json = true;
            } else if (c == OPT_EXAMPLES) {
                if (strcmp(optarg, "unknown") == 0 || strcmp(optarg, "?") == 0)
                    facts.examples = -1;
                else if (!tb_cli_parse_long("decide", "--examples", optarg, 0, 1000000000L, &facts.examples))
                    return TB_EXIT_USAGE;
            } else if (c >= OPT_FACT0 + 1 && c < OPT_FACT0 + TB_FACT_COUNT) {
                tb_error err;
                tb_error_clear(&err);
                int f = c - OPT_FACT0;
                if (tb_answer_parse(optarg, &facts.answer[f], &err) != TB_OK) {
                    fprintf(stderr, "tunebench decide: --%s: %s\n", tb_decide_fact_flag((tb_decide_fact)f), err.message);
                    return TB_EXIT_USAGE;
                }
            }
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tunebench decide: unexpected argument '%s'\n", argv[optind]);
        return TB_EXIT_USAGE;
    }
    tb_decide_result r;
    tb_decide(&facts, &r);
    if (json)
        print_json(&facts, &r, preset);
    else
        print_table(&facts, &r, preset);
    return TB_EXIT_OK;
}
