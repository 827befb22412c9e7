/*
 * cmd_plan.c: `servesim plan PLAN.json`: capacity planning. Prints the
 * ranked candidates and writes report.html, report.md and plan.json.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pl_plan_internal.h"
#include "ss_error.h"
#include "ss_output.h"

static void print_table(FILE *out, const PlPlanResult *r)
{
    fprintf(out, "plan %s: %g requests/s of %s\nSLOs:", r->name, r->target_rate, r->workload ? r->workload : "");
    for (guint i = 0; i < r->num_slos; i++)
        fprintf(out, "%s %s", i ? "," : "", r->slos[i].label);
    fprintf(out, "; sustained = SLOs met and the queue grows by <= %g ms and <= %g%% of elapsed time\n",
            r->max_queue_growth_ms, 100 * r->max_queue_growth_rate);
    fprintf(out, "replicas: the smallest fleet simulated at the target load behind the %s router that sustains it "
                 "(\"division\": target / one replica's rate)\n\n",
            r->router ? r->router : "");
    int w = 28; /* the candidate column: as wide as the longest name, so none is cut */
    for (guint i = 0; i < r->num_candidates; i++)
        w = MAX(w, (int)strlen(r->candidates[i].name));
    fprintf(out, "%4s  %-*s %12s  %-26s %8s %8s %6s %5s %10s %10s  %s\n", "rank", w, "candidate", "max req/s",
            "binding", "replicas", "division", "imbal", "GPUs", "$/hour", "$/M tok", "step times");
    /* ranks are 1..F for the F feasible candidates, 0 for the others */
    const PlCandidateResult **order = g_new0(const PlCandidateResult *, r->num_candidates);
    guint tail = r->num_candidates;
    for (guint i = r->num_candidates; i-- > 0;) {
        const PlCandidateResult *c = &r->candidates[i];
        if (c->rank > 0)
            order[c->rank - 1] = c;
        else
            order[--tail] = c;
    }
    for (guint k = 0; k < r->num_candidates; k++) {
        const PlCandidateResult *c = order[k];
        if (c->rank == 0) {
            fprintf(out, "%4s  %-*s %s\n", "-", w, c->name, c->verdict ? c->verdict : "infeasible");
            continue;
        }
        char rate[32];
        g_snprintf(rate, sizeof rate, "%s%.3g", c->max_rate_is_bound ? ">=" : "", c->max_rate);
        const PlFleetTrial *fleet = pl_candidate_fleet(c);
        double imbalance = fleet ? fleet->imbalance : NAN;
        char *reps = pl_candidate_replicas_text(c);
        fprintf(out, "%4u  %-*s %12s  %-26.26s %8s %8u %6.3f %5u %10.2f %10.3f  %s\n", c->rank, w, c->name, rate,
                c->binding ? c->binding : "", reps, c->replicas_by_division, imbalance, c->gpus,
                c->cost_per_hour, c->cost_per_million_output_tokens, c->latency_basis ? c->latency_basis : "");
        g_free(reps);
    }
    g_free(order);
    if (r->recommended >= 0)
        fprintf(out, "\n%s: %s\n", r->candidates[r->recommended].name, r->candidates[r->recommended].verdict);
    else
        fprintf(out, "\nno candidate meets the SLOs\n");
}

static void show_progress(guint done, guint total, guint sims, void *user)
{
    CliProgress *bar = user;
    cli_progress_show(bar, "plan: %u/%u candidates, %u simulations, %.1f s elapsed", done, total, sims,
                      cli_progress_elapsed(bar));
}

/* The report files of --output-dir and how each is rendered. */
static const struct {
    const char *name;
    char *(*render)(const PlPlanResult *r);
} report_files[] = {{"report.html", pl_report_html}, {"report.md", pl_report_markdown}, {"plan.json", pl_report_json}};

/* Creates the folder and opens every report file in it, so that a path that
 * cannot be written fails before the search, not after it. */
static gboolean open_reports(const char *dir, SsOutput **outs, GError **error)
{
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        int e = errno;
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot create the report folder: %s", dir, g_strerror(e));
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(report_files); i++) {
        char *path = g_build_filename(dir, report_files[i].name, NULL);
        outs[i] = ss_output_open(path, error);
        g_free(path);
        if (!outs[i])
            return FALSE;
    }
    return TRUE;
}

int cmd_plan(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("PLAN.json - capacity planning");
    ScnCache *cache = NULL; /* freed at out: (declared before any goto) */
    g_option_context_set_summary(ctx,
        "For each candidate deployment, finds by bisection the highest request rate one replica sustains\n"
        "within the SLOs (and without a growing queue), then by simulating fleets behind the router the\n"
        "smallest number of replicas that sustains the target load, the GPUs and cost; ranks the\n"
        "candidates and writes a report (docs/planning.md).");
    char *output_dir = NULL, *data_dir = NULL, *jobs_text = NULL;
    char **sets = NULL;
    guint jobs = 0;
    gboolean quiet = FALSE;
    GOptionEntry entries[] = {
        {"output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &output_dir, "Write report.html, report.md and plan.json here", "DIR"},
        {"jobs", 'j', 0, G_OPTION_ARG_STRING, &jobs_text, "Candidates simulated in parallel (default: the number of cores)", "N"},
        {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
         "Override a setting of the plan (repeatable): a plan key (target_rate=40, search.num_requests=800, "
         "slos[0].max_ms=1500, prices.H100-SXM=2.5) or a scenario field of the base (max_model_len=8192)",
         "KEY=VALUE"},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder with models/, mfu/, hardware.json", "DIR"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print nothing on success", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    int rc = 0;
    GError *error = NULL;
    PlPlanSpec *spec = NULL;
    PlPlanResult *result = NULL;
    SsOutput *outs[G_N_ELEMENTS(report_files)] = {NULL};
    if (!cli_parse(ctx, &argc, &argv, "plan", &rc))
        goto out;
    if (argc != 2) {
        fprintf(stderr, "servesim plan: error: expected one plan file (see 'servesim plan --help')\n");
        rc = 2;
        goto out;
    }
    guint64 j = 0;
    if (jobs_text && !g_ascii_string_to_unsigned(jobs_text, 10, 1, 4096, &j, NULL)) {
        fprintf(stderr, "servesim plan: error: --jobs: expected a whole number from 1 to 4096, got '%s'\n", jobs_text);
        rc = 2;
        goto out;
    }
    jobs = (guint)j;
    spec = pl_plan_spec_load_with(argv[1], (const char *const *)sets, &error);
    if (!spec) {
        rc = cli_fail("plan", error);
        goto out;
    }
    if (output_dir && !open_reports(output_dir, outs, &error)) {
        rc = cli_fail("plan", error);
        goto out;
    }
    char *dir = cli_data_dir("plan", data_dir);
    if (!dir) {
        rc = 3;
        goto out;
    }
    cache = scn_cache_new(dir);
    g_free(dir);
    gint64 t0 = g_get_monotonic_time();
    CliProgress bar;
    cli_progress_init(&bar, quiet);
    result = pl_plan_run_with_progress(spec, cache, jobs > 0 ? jobs : g_get_num_processors(),
                                       bar.enabled ? show_progress : NULL, &bar);
    cli_progress_done(&bar);
    double wall = (g_get_monotonic_time() - t0) / 1e6;
    if (!quiet) {
        print_table(stdout, result);
        guint sims = 0, fleets = 0;
        for (guint i = 0; i < result->num_candidates; i++) {
            sims += result->candidates[i].evaluations;
            fleets += result->candidates[i].fleet_evaluations;
        }
        fprintf(stderr, "\n%u simulations of one replica (%u requests) and %u of fleets (%u requests per replica) in "
                        "%.1f s of wall time\n",
                sims, result->num_requests, fleets, result->num_requests, wall);
    }
    if (output_dir) {
        for (guint i = 0; i < G_N_ELEMENTS(report_files); i++) {
            char *text = report_files[i].render(result);
            fputs(text, ss_output_stream(outs[i]));
            g_free(text);
            if (!ss_output_commit(g_steal_pointer(&outs[i]), &error)) {
                rc = cli_fail("plan", error);
                goto out;
            }
        }
        if (!quiet)
            printf("\nreport: %s/report.html, %s/report.md, %s/plan.json\n", output_dir, output_dir, output_dir);
    }
out:
    for (guint i = 0; i < G_N_ELEMENTS(outs); i++)
        ss_output_abort(outs[i]);
    scn_cache_free(cache);
    pl_plan_result_free(result);
    pl_plan_spec_free(spec);
    g_free(output_dir);
    g_free(data_dir);
    g_free(jobs_text);
    g_strfreev(sets);
    return rc;
}
