/*
 * cmd_replay.c: `servesim replay TRACE.csv [--flags]`: the default (or a
 * given) scenario with its workload replaced by a trace.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "scn.h"
#include "ss_error.h"

int cmd_replay(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE.csv|RESULT.json - replay a request trace");
    g_option_context_set_summary(ctx,
        "Replays a trace against a deployment (the default one unless --scenario or flags say otherwise).\n"
        "Recognised by the header: servesim's own CSV (arrival_time_s,input_tokens,output_tokens\n"
        "[,prefix_group,shared_prefix_tokens,class,session_id,session_prefix_tokens,priority,lora]), the Azure LLM\n"
        "inference trace (TIMESTAMP,ContextTokens,GeneratedTokens) and Vidur-style CSV\n"
        "(arrived_at,num_prefill_tokens,num_decode_tokens); any other columns through --columns.\n"
        "Arrival times: relative seconds, Unix epoch seconds/ms/us/ns or ISO-8601 (the last two kinds\n"
        "rebased to the first request), recognised on the first row or given by --time-format.\n"
        "A JSON file is a 'vllm bench serve --save-result' result: its successful requests are replayed\n"
        "with their lengths and send times (--save-detailed; mean lengths otherwise).");
    CliRunOptions *o = cli_run_options_new();
    cli_run_options_add(ctx, o);
    char *scenario = NULL, *time_scale = NULL, *limit = NULL, *skip = NULL, *format = NULL, *columns = NULL;
    char *time_format = NULL;
    gboolean skip_bad = FALSE, sort = FALSE;
    GOptionEntry trace_entries[] = {
        {"scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario, "Deployment from this scenario (its workload is replaced)", "FILE"},
        {"time-scale", 0, 0, G_OPTION_ARG_STRING, &time_scale, "Multiply every arrival time by F", "F"},
        {"limit", 0, 0, G_OPTION_ARG_STRING, &limit, "Replay at most N requests", "N"},
        {"skip", 0, 0, G_OPTION_ARG_STRING, &skip, "Drop the first N data rows", "N"},
        {"skip-bad-rows", 0, 0, G_OPTION_ARG_NONE, &skip_bad, "Skip and count malformed rows instead of failing", NULL},
        {"format", 0, 0, G_OPTION_ARG_STRING, &format, "auto (default), servesim, azure, vidur or vllm-bench", "NAME"},
        {"columns", 0, 0, G_OPTION_ARG_STRING, &columns,
         "Map the trace's columns: arrival=NAME,input=NAME,output=NAME[,prefix_group=,shared_prefix_tokens=,class=]",
         "ROLE=COLUMN,..."},
        {"time-format", 0, 0, G_OPTION_ARG_STRING, &time_format,
         "Arrival times: auto (default), seconds, milliseconds, epoch-s, epoch-ms, epoch-us, epoch-ns, iso8601", "FMT"},
        {"sort", 0, 0, G_OPTION_ARG_NONE, &sort, "Sort the rows by arrival time (reads the whole trace into memory)", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, trace_entries, NULL);
    ScnFlags *flags = scn_flags_new();
    scn_flags_add_main(ctx, flags);
    scn_flags_add_fleet(ctx, flags);
    int rc = 0;
    ScnScenario *s = NULL;
    GError *error = NULL;
    if (!cli_parse(ctx, &argc, &argv, "replay", &rc))
        goto out;
    cli_print_notes("replay", flags);
    if (argc != 2) {
        fprintf(stderr, "servesim replay: error: expected one trace file, got %d arguments\n(see 'servesim replay --help')\n",
                argc - 1);
        rc = 2;
        goto out;
    }
    /* flags that set the same thing two ways contradict each other: an error,
     * never one silently winning */
    if (time_scale && scn_flags_value(flags, "rate")) {
        fprintf(stderr, "servesim replay: error: --rate and --time-scale contradict each other (a target rate "
                        "fixes the time scale); give one of them\n");
        rc = 2;
        goto out;
    }
    if (limit && scn_flags_value(flags, "num-requests")) {
        fprintf(stderr, "servesim replay: error: --limit and --num-requests both set how many requests are "
                        "replayed; give one of them\n");
        rc = 2;
        goto out;
    }
    s = scenario ? scn_scenario_load(scenario, &error) : scn_scenario_new_default();
    if (!s) {
        rc = cli_fail("replay", error);
        goto out;
    }
    /* the trace replaces the workload; the options go through the scenario's
     * own reader so that they are checked like a scenario file's */
    cJSON *w = cJSON_CreateObject();
    cJSON *t = cJSON_AddObjectToObject(w, "trace");
    char *cwd = g_get_current_dir();
    char *abs = g_path_is_absolute(argv[1]) ? g_strdup(argv[1]) : g_build_filename(cwd, argv[1], NULL);
    cJSON_AddStringToObject(t, "path", abs);
    g_free(abs);
    g_free(cwd);
    if (format)
        cJSON_AddStringToObject(t, "format", format);
    if (columns)
        cJSON_AddStringToObject(t, "columns", columns);
    if (time_format)
        cJSON_AddStringToObject(t, "time_format", time_format);
    if (sort)
        cJSON_AddBoolToObject(t, "sort", TRUE);
    const struct {
        const char *flag, *key, *value;
    } numbers[] = {{"--time-scale", "time_scale", time_scale}, {"--limit", "limit", limit}, {"--skip", "skip", skip}};
    gboolean ok = TRUE;
    for (size_t i = 0; ok && i < G_N_ELEMENTS(numbers); i++) {
        if (!numbers[i].value)
            continue;
        cJSON *v = cJSON_ParseWithOpts(numbers[i].value, NULL, 1); /* nothing after the number */
        if (!cJSON_IsNumber(v)) {
            fprintf(stderr, "servesim replay: error: %s: expected a number, got '%s'\n", numbers[i].flag,
                    numbers[i].value);
            cJSON_Delete(v);
            ok = FALSE;
            break;
        }
        cJSON_AddItemToObject(t, numbers[i].key, v);
    }
    if (skip_bad)
        cJSON_AddBoolToObject(t, "skip_bad_rows", TRUE);
    char *text = cJSON_PrintUnformatted(w);
    cJSON_Delete(w);
    if (!ok) {
        cJSON_free(text);
        rc = 2;
        goto out;
    }
    ok = scn_scenario_set(s, "workload", text, "replay options", &error);
    cJSON_free(text);
    if (!ok) {
        error->code = SS_ERROR_USAGE; /* every value checked here came from a flag */
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
    g_free(columns);
    g_free(time_format);
    return rc;
}
