/*
 * cmd_replay.c: `servesim replay TRACE.csv [--flags]`: the default (or a
 * given) scenario with its workload replaced by a trace.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scn.h"
#include "ss_error.h"

int cmd_replay(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE.csv - replay a request trace");
    g_option_context_set_summary(ctx,
        "Replays a trace against a deployment (the default one unless --scenario or flags say otherwise).\n"
        "Recognised by the header: servesim's own CSV (arrival_time_s,input_tokens,output_tokens\n"
        "[,prefix_group,shared_prefix_tokens,class]), the Azure LLM inference trace\n"
        "(TIMESTAMP,ContextTokens,GeneratedTokens) and Vidur-style CSV\n"
        "(arrived_at,num_prefill_tokens,num_decode_tokens).");
    CliRunOptions *o = cli_run_options_new();
    cli_run_options_add(ctx, o);
    char *scenario = NULL, *time_scale = NULL, *limit = NULL, *skip = NULL, *format = NULL;
    gboolean skip_bad = FALSE;
    GOptionEntry trace_entries[] = {
        {"scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario, "Deployment from this scenario (its workload is replaced)", "FILE"},
        {"time-scale", 0, 0, G_OPTION_ARG_STRING, &time_scale, "Multiply every arrival time by F", "F"},
        {"limit", 0, 0, G_OPTION_ARG_STRING, &limit, "Replay at most N requests", "N"},
        {"skip", 0, 0, G_OPTION_ARG_STRING, &skip, "Drop the first N data rows", "N"},
        {"skip-bad-rows", 0, 0, G_OPTION_ARG_NONE, &skip_bad, "Skip and count malformed rows instead of failing", NULL},
        {"format", 0, 0, G_OPTION_ARG_STRING, &format, "auto (default), native, azure or vidur", "NAME"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, trace_entries, NULL);
    ScnFlags *flags = scn_flags_new();
    g_option_context_add_group(ctx, scn_flags_group(flags));
    int rc = 0;
    ScnScenario *s = NULL;
    GError *error = NULL;
    if (!cli_parse(ctx, &argc, &argv, "replay", &rc))
        goto out;
    if (argc != 2) {
        fprintf(stderr, "servesim replay: error: expected one trace file, got %d arguments\n(see 'servesim replay --help')\n",
                argc - 1);
        rc = 2;
        goto out;
    }
    s = scenario ? scn_scenario_load(scenario, &error) : scn_scenario_new_default();
    if (!s) {
        rc = cli_fail("replay", error);
        goto out;
    }
    /* the trace replaces the workload; options are JSON so that they are checked like a scenario's */
    GString *w = g_string_new("{\"trace\": {\"path\": ");
    char *cwd = g_get_current_dir();
    char *abs = g_path_is_absolute(argv[1]) ? g_strdup(argv[1]) : g_build_filename(cwd, argv[1], NULL);
    g_free(cwd);
    char *quoted = cli_json_quote(abs);
    g_string_append(w, quoted);
    g_free(quoted);
    g_free(abs);
    if (format) {
        char *q = cli_json_quote(format);
        g_string_append_printf(w, ", \"format\": %s", q);
        g_free(q);
    }
    if (time_scale)
        g_string_append_printf(w, ", \"time_scale\": %s", time_scale);
    if (limit)
        g_string_append_printf(w, ", \"limit\": %s", limit);
    if (skip)
        g_string_append_printf(w, ", \"skip\": %s", skip);
    if (skip_bad)
        g_string_append(w, ", \"skip_bad_rows\": true");
    g_string_append(w, "}}");
    gboolean ok = scn_scenario_set(s, "workload", w->str, "replay options", &error);
    g_string_free(w, TRUE);
    if (!ok) {
        rc = cli_fail("replay", error);
        goto out;
    }
    if (!scn_flags_apply(flags, s, &error)) {
        rc = cli_fail("replay", error);
        goto out;
    }
    rc = cli_run_scenario("replay", s, o);
out:
    scn_scenario_free(s);
    scn_flags_free(flags);
    cli_run_options_free(o);
    g_free(scenario);
    g_free(time_scale);
    g_free(limit);
    g_free(skip);
    g_free(format);
    return rc;
}
