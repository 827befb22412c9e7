/*
 * cmd_run.c: `servesim run [SCENARIO.json] [--flags]` and the output options
 * it shares with `servesim replay`.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <string.h>

#include "cli.h"
#include "scn.h"
#include "rp_scaling.h"
#include "scn_json.h"
#include "ss_error.h"
#include "ss_output.h"

struct CliRunOptions {
    char *output_json;
    char *output_requests;
    char *output_timeseries;
    char *timeseries_interval;
    char *output_itl;
    char *output_routing;
    char *output_transfers;
    char *output_scaling;
    char *output_scaling_html;
    char *data_dir;
    gboolean quiet;
    gboolean bench_stats;
};

CliRunOptions *cli_run_options_new(void)
{
    return g_new0(CliRunOptions, 1);
}

void cli_run_options_free(CliRunOptions *o)
{
    if (!o)
        return;
    g_free(o->output_json);
    g_free(o->output_requests);
    g_free(o->output_timeseries);
    g_free(o->timeseries_interval);
    g_free(o->output_itl);
    g_free(o->output_routing);
    g_free(o->output_transfers);
    g_free(o->output_scaling);
    g_free(o->output_scaling_html);
    g_free(o->data_dir);
    g_free(o);
}

void cli_run_options_add(GOptionContext *ctx, CliRunOptions *o)
{
    GOptionEntry entries[] = {
        {"output-json", 0, 0, G_OPTION_ARG_FILENAME, &o->output_json, "Write the aggregates as JSON", "FILE"},
        {"output-requests", 0, 0, G_OPTION_ARG_FILENAME, &o->output_requests, "Write one CSV row per request", "FILE"},
        {"output-timeseries", 0, 0, G_OPTION_ARG_FILENAME, &o->output_timeseries,
         "Write a CSV row per step (or per --timeseries-interval)", "FILE"},
        {"timeseries-interval", 0, 0, G_OPTION_ARG_STRING, &o->timeseries_interval,
         "Aggregate the time series over intervals of this many seconds", "S"},
        {"output-itl", 0, 0, G_OPTION_ARG_FILENAME, &o->output_itl, "Write every inter-token latency as CSV", "FILE"},
        {"output-routing", 0, 0, G_OPTION_ARG_FILENAME, &o->output_routing,
         "Write one CSV row per routing decision (the chosen replica, each replica's score)", "FILE"},
        {"output-transfers", 0, 0, G_OPTION_ARG_FILENAME, &o->output_transfers,
         "Write one CSV row per disaggregated request: its stages and its KV transfer", "FILE"},
        {"output-scaling", 0, 0, G_OPTION_ARG_FILENAME, &o->output_scaling,
         "Write replicas per pool, GPU-hours and SLO attainment per window as CSV", "FILE"},
        {"output-scaling-html", 0, 0, G_OPTION_ARG_FILENAME, &o->output_scaling_html,
         "Draw replicas, arrivals and SLO attainment over time (an HTML page of charts)", "FILE"},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &o->data_dir, "Folder with models/, mfu/, hardware.json", "DIR"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o->quiet, "Print nothing on success", NULL},
        {"bench-stats", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &o->bench_stats,
         "Print requests, wall time and peak memory on stderr (for bench/run.sh)", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
}

typedef struct {
    CliProgress bar;
    const char *cmd;
    guint64 total; /* 0: unknown */
} RunProgress;

static void run_progress(uint64_t yielded, SimTime last_arrival, void *user)
{
    RunProgress *rp = user;
    char pct[32] = "";
    if (rp->total)
        g_snprintf(pct, sizeof pct, " of %" G_GUINT64_FORMAT " (%.0f%%)", rp->total, 100.0 * yielded / rp->total);
    cli_progress_show(&rp->bar, "%s: %" G_GUINT64_FORMAT " requests%s, %.0f s simulated, %.1f s elapsed", rp->cmd,
                      yielded, pct, sim_time_to_seconds(last_arrival), cli_progress_elapsed(&rp->bar));
}

/* The outputs a fleet without disaggregation, autoscaling or an SLO has
 * nothing to write into: refused before the run, never an empty file. */
static int check_fleet_outputs(const char *cmd, const ScnScenario *s, const CliRunOptions *o)
{
    const ScnFleet *fl = &s->fleet;
    gboolean scaled = fl->num_pools == 0 && fl->autoscale.enabled, disagg = FALSE;
    for (guint i = 0; i < fl->num_pools; i++) {
        scaled = scaled || fl->pools[i].autoscale.enabled;
        disagg = disagg || fl->pools[i].role != CL_ROLE_BOTH;
    }
    gboolean books = scaled || fl->slo.ttft_ms > 0 || fl->slo.tpot_ms > 0;
    const char *flag = !books && o->output_scaling        ? "--output-scaling"
                       : !books && o->output_scaling_html ? "--output-scaling-html"
                                                          : NULL;
    if (flag) {
        fprintf(stderr, "servesim %s: error: %s: nothing to write without autoscaling or an SLO (--autoscale, "
                        "--slo-ttft-ms, --slo-tpot-ms, or fleet.autoscale / fleet.slo in the scenario)\n",
                cmd, flag);
        return 2;
    }
    if (!disagg && o->output_transfers) {
        fprintf(stderr, "servesim %s: error: --output-transfers: nothing to write without prefill and decode pools "
                        "(--prefill-replicas and --decode-replicas, or pool roles in the scenario)\n", cmd);
        return 2;
    }
    return 0;
}

int cli_run_scenario(const char *cmd, ScnScenario *s, const CliRunOptions *o)
{
    GError *error = NULL;
    int bad = check_fleet_outputs(cmd, s, o);
    if (bad)
        return bad;
    ScnOutputs outputs = {
        .requests_csv = o->output_requests,
        .timeseries_csv = o->output_timeseries,
        .itl_csv = o->output_itl,
        .routing_csv = o->output_routing,
        .transfers_csv = o->output_transfers,
        .scaling_csv = o->output_scaling,
    };
    if (o->timeseries_interval) {
        char *end = NULL;
        errno = 0;
        double v = g_ascii_strtod(o->timeseries_interval, &end);
        if (errno || !end || end == o->timeseries_interval || *end || !(v > 0)) {
            fprintf(stderr, "servesim %s: error: --timeseries-interval: expected a positive number of seconds, got '%s'\n",
                    cmd, o->timeseries_interval);
            return 2;
        }
        if (!(v >= SIM_OUTPUT_INTERVAL_MIN_S && v <= SIM_TIME_LIMIT_S)) {
            fprintf(stderr, "servesim %s: error: --timeseries-interval: expected %g to %g seconds (for finer detail "
                            "leave it out: a row per step), got '%s'\n",
                    cmd, SIM_OUTPUT_INTERVAL_MIN_S, SIM_TIME_LIMIT_S, o->timeseries_interval);
            return 2;
        }
        if (!o->output_timeseries) {
            fprintf(stderr, "servesim %s: error: --timeseries-interval needs --output-timeseries\n", cmd);
            return 2;
        }
        outputs.timeseries_interval_s = v;
    }
    /* the aggregates are written after the run, but their path is checked
     * (and its temporary file made) before it */
    g_autoptr(SsOutput) json_out = NULL;
    if (o->output_json && !(json_out = ss_output_open(o->output_json, &error)))
        return cli_fail(cmd, error);
    g_autoptr(SsOutput) html_out = NULL;
    if (o->output_scaling_html && !(html_out = ss_output_open(o->output_scaling_html, &error)))
        return cli_fail(cmd, error);
    g_autofree char *data_dir = cli_data_dir(cmd, o->data_dir);
    if (!data_dir)
        return 3;
    g_autoptr(ScnCache) cache = scn_cache_new(data_dir);
    ScnBuilt built;
    RunProgress rp = {.cmd = cmd};
    cli_progress_init(&rp.bar, o->quiet);
    if (rp.bar.enabled) {
        rp.total = s->is_trace ? s->trace.limit : s->workload.num_requests;
        outputs.progress = run_progress;
        outputs.progress_user = &rp;
    }
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(ClResult) fleet = scn_run_fleet(s, cache, &outputs, &built, &error);
    cli_progress_done(&rp.bar);
    if (!fleet)
        return cli_fail(cmd, error);
    const SimSummary *sum = fleet->summary;
    double wall = (g_get_monotonic_time() - t0) / 1e6;
    int rc = 0;
    if (json_out) {
        char *json = scn_report_json(s, &built, sum, fleet);
        fputs(json, ss_output_stream(json_out));
        g_free(json);
        if (!ss_output_commit(g_steal_pointer(&json_out), &error))
            rc = cli_fail(cmd, error);
    }
    if (html_out && rc == 0) {
        if (fleet->series) { /* always, after check_fleet_outputs */
            const ClScaleSeries *se = fleet->series;
            const char **names = g_new0(const char *, built.num_pools + 1);
            for (guint p = 0; p < built.num_pools; p++)
                names[p] = built.pools[p].name;
            GString *slo = g_string_new(NULL);
            if (se->slo.ttft_ms > 0)
                g_string_append_printf(slo, "TTFT <= %g ms", se->slo.ttft_ms);
            if (se->slo.tpot_ms > 0)
                g_string_append_printf(slo, "%sTPOT <= %g ms", slo->len ? " and " : "", se->slo.tpot_ms);
            RpScaling d = {.num_windows = se->num_windows, .window_s = se->window_s, .num_pools = se->num_pools,
                           .pool_names = names, .serving = se->serving, .arrived = se->arrived,
                           .met = se->has_slo ? se->met : NULL, .has_slo = se->has_slo, .slo_text = slo->str,
                           .static_replicas = NAN, .attainment_goal = NAN};
            char *summary = g_strdup_printf("%s: %.2f GPU-hours; %s", s->name ? s->name : "run", se->gpu_hours_total,
                                            se->has_slo ? "" : "no SLO given");
            if (se->has_slo) {
                char *t = g_strdup_printf("%s%.2f%% of the requests within %s", summary, 100 * se->slo_attainment,
                                          slo->str);
                g_free(summary);
                summary = t;
            }
            char *html = rp_scaling_html(&d, "Replicas and SLO attainment over time", summary);
            fputs(html, ss_output_stream(html_out));
            if (!ss_output_commit(g_steal_pointer(&html_out), &error))
                rc = cli_fail(cmd, error);
            g_free(html);
            g_free(summary);
            g_string_free(slo, TRUE);
            g_free(names);
        }
    }
    if (!o->quiet) {
        scn_report_text(stdout, s, &built, sum, fleet);
        fprintf(stderr, "\n%" G_GUINT64_FORMAT " requests simulated in %.3f s of wall time (%.0f requests/s)\n",
                sum->all.arrived, wall, wall > 0 ? sum->all.arrived / wall : 0.0);
    }
    if (o->bench_stats) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        fprintf(stderr, "bench: requests=%" G_GUINT64_FORMAT " wall_s=%.3f peak_rss_mib=%.1f\n", sum->all.arrived, wall,
                ru.ru_maxrss / 1024.0);
    }
    scn_built_clear(&built);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("[SCENARIO.json] - simulate one scenario");
    g_option_context_set_summary(ctx,
        "Simulates a vLLM V1 server under a workload and prints latency and throughput.\n"
        "Without a scenario file it runs the embedded default (scenarios/default.json):\n"
        "Llama-3.1-8B on one H100-SXM, Poisson chat traffic, 2000 requests, seed 42.\n"
        "Flags override any part of the scenario.");
    CliRunOptions *o = cli_run_options_new();
    cli_run_options_add(ctx, o);
    ScnFlags *flags = scn_flags_new();
    scn_flags_add_main(ctx, flags);
    scn_flags_add_fleet(ctx, flags);
    int rc = 0;
    ScnScenario *s = NULL;
    if (!cli_parse(ctx, &argc, &argv, "run", &rc))
        goto out;
    cli_print_notes("run", flags);
    if (argc > 2) {
        fprintf(stderr, "servesim run: error: expected at most one scenario file, got %d arguments\n", argc - 1);
        rc = 2;
        goto out;
    }
    GError *error = NULL;
    s = argc == 2 ? scn_scenario_load(argv[1], &error) : scn_scenario_new_default();
    if (!s) {
        rc = cli_fail("run", error);
        goto out;
    }
    if (!scn_flags_apply(flags, s, &error)) {
        rc = cli_fail("run", error);
        goto out;
    }
    rc = cli_run_scenario("run", s, o);
out:
    scn_scenario_free(s);
    scn_flags_free(flags);
    cli_run_options_free(o);
    return rc;
}
