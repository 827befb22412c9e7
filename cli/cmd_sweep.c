/*
 * cmd_sweep.c: `servesim sweep SWEEP.json [--jobs N] [--shard K/N]
 * [--output FILE] [--html FILE] [--output-dir DIR] [--dry-run]`: a grid of
 * scenarios run in parallel, one row per point (docs/sweeps.md), and a page
 * of charts of them (sw_report.c).
 *
 * The rows go to --output (CSV, or JSON when the name ends in .json) or as
 * CSV to stdout; they depend only on the sweep file, the data and the slice,
 * never on --jobs. Progress (points done, elapsed, ETA, rewritten in place)
 * goes to stderr only when stderr is a terminal, after a second, and not
 * with --quiet; a one-line summary follows unless --quiet. Points that cannot run are rows with status "error" and
 * do not change the exit code.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sw_sweep.h"
#include "scn_json.h"
#include "ss_error.h"
#include "ss_output.h"

static void show_progress(guint done, guint total, double elapsed_s, void *user)
{
    CliProgress *bar = user;
    char eta[32] = "?";
    if (done > 0 && done < total)
        g_snprintf(eta, sizeof eta, "%.0f s", elapsed_s / done * (total - done));
    cli_progress_show(bar, "sweep: %u/%u points, %.1f s elapsed, ETA %s", done, total, elapsed_s, eta);
}

/* Parses --jobs: a positive integer. */
static gboolean parse_jobs(const char *text, guint *out)
{
    guint64 v = 0;
    if (!g_ascii_string_to_unsigned(text, 10, 1, 4096, &v, NULL))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

int cmd_sweep(int argc, char **argv)
{
    GOptionContext *ctx = g_option_context_new("SWEEP.json - run a grid of scenarios in parallel");
    g_option_context_set_summary(ctx,
        "Runs every point of a sweep (a base scenario and axes of values, see docs/sweeps.md) on all\n"
        "cores and writes one row per point: the axis values, status (ok|error), the error message,\n"
        "and the aggregate metrics. The output is the same whatever --jobs is. --shard K/N runs the\n"
        "points i with i mod N = K-1, for job arrays (Slurm, Kubernetes indexed Jobs, GNU parallel);\n"
        "'servesim merge' joins the slices into the file one unsharded run writes.");
    char *jobs_text = NULL, *shard_text = NULL, *output = NULL, *format = NULL, *data_dir = NULL, *html = NULL;
    char *output_dir = NULL;
    gboolean dry_run = FALSE, quiet = FALSE;
    GOptionEntry entries[] = {
        {"jobs", 'j', 0, G_OPTION_ARG_STRING, &jobs_text, "Simulations run at once (default: the number of cores)", "N"},
        {"shard", 0, 0, G_OPTION_ARG_STRING, &shard_text, "Run slice K of N: the points i with i mod N = K-1", "K/N"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the rows to FILE (JSON if it ends in .json, else CSV)", "FILE"},
        {"format", 0, 0, G_OPTION_ARG_STRING, &format, "csv or json (default: by the --output name; csv on stdout)", "FMT"},
        {"html", 0, 0, G_OPTION_ARG_FILENAME, &html,
         "Also write a page with charts of the swept metrics (throughput-latency curves, per-setting lines)", "FILE"},
        {"output-dir", 0, 0, G_OPTION_ARG_FILENAME, &output_dir,
         "Write report.html, sweep.csv and sweep.json into DIR (the rows then leave stdout alone)", "DIR"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
         "List the points and check that each builds (model fit, engine settings) without simulating", NULL},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder with models/, mfu/, hardware.json", "DIR"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No summary line on stderr", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    int rc = 0;
    GError *error = NULL;
    SwSweep *sw = NULL;
    SwSweepTable *table = NULL;
    ScnCache *cache = NULL;
    SsOutput *out_file = NULL, *html_file = NULL, *dir_files[3] = {NULL};
    char *text = NULL;
    if (!cli_parse(ctx, &argc, &argv, "sweep", &rc))
        goto out;
    if (argc != 2) {
        fprintf(stderr, "servesim sweep: error: expected one sweep file, got %d arguments\n(see 'servesim sweep --help')\n",
                argc - 1);
        rc = 2;
        goto out;
    }
    SwSweepRunOptions opts = {.jobs = g_get_num_processors(), .dry_run = dry_run};
    if (jobs_text && !parse_jobs(jobs_text, &opts.jobs)) {
        fprintf(stderr, "servesim sweep: error: --jobs: expected a whole number from 1 to 4096, got '%s'\n", jobs_text);
        rc = 2;
        goto out;
    }
    if (shard_text && !sw_shard_parse(shard_text, &opts.shard, &error)) {
        rc = cli_fail("sweep", error);
        goto out;
    }
    gboolean json = output && sw_sweep_path_is_json(output);
    if (format) {
        if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0) {
            fprintf(stderr, "servesim sweep: error: --format: expected csv or json, got '%s'\n", format);
            rc = 2;
            goto out;
        }
        json = strcmp(format, "json") == 0;
    }
    sw = sw_sweep_load(argv[1], &error);
    if (!sw) {
        rc = cli_fail("sweep", error);
        goto out;
    }
    /* every output is written after the run; its path is checked before it */
    if ((output && !(out_file = ss_output_open(output, &error))) ||
        (html && !(html_file = ss_output_open(html, &error)))) {
        rc = cli_fail("sweep", error);
        goto out;
    }
    if (output_dir) {
        if (g_mkdir_with_parents(output_dir, 0755) != 0) {
            int e = errno;
            g_set_error(&error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot create the output folder: %s", output_dir,
                        g_strerror(e));
            rc = cli_fail("sweep", error);
            goto out;
        }
        static const char *const names[3] = {"report.html", "sweep.csv", "sweep.json"};
        for (int i = 0; i < 3; i++) {
            char *path = g_build_filename(output_dir, names[i], NULL);
            dir_files[i] = ss_output_open(path, &error);
            g_free(path);
            if (!dir_files[i]) {
                rc = cli_fail("sweep", error);
                goto out;
            }
        }
    }
    if (!quiet && opts.shard.count > sw_sweep_num_points(sw))
        fprintf(stderr, "servesim sweep: note: %u slices for %u points: some slices are empty\n", opts.shard.count,
                sw_sweep_num_points(sw));
    char *dir = cli_data_dir("sweep", data_dir);
    if (!dir) {
        rc = 3;
        goto out;
    }
    cache = scn_cache_new(dir);
    g_free(dir);
    CliProgress bar;
    cli_progress_init(&bar, quiet);
    if (bar.enabled) {
        opts.progress = show_progress;
        opts.progress_user = &bar;
    }
    gint64 t0 = g_get_monotonic_time();
    table = sw_sweep_run(sw, cache, &opts, &error);
    cli_progress_done(&bar);
    if (!table) {
        rc = cli_fail("sweep", error);
        goto out;
    }
    double wall = (g_get_monotonic_time() - t0) / 1e6;
    text = json ? sw_sweep_table_json(table) : sw_sweep_table_csv(table);
    if (dir_files[0]) { /* report.html, sweep.csv, sweep.json */
        char *texts[3] = {sw_sweep_table_html(table, sw_sweep_name(sw), sw_sweep_description(sw)),
                          sw_sweep_table_csv(table), sw_sweep_table_json(table)};
        gboolean ok = TRUE;
        for (int i = 0; i < 3; i++) {
            fputs(texts[i], ss_output_stream(dir_files[i]));
            g_free(texts[i]);
            ok = ok && ss_output_commit(g_steal_pointer(&dir_files[i]), &error);
        }
        if (!ok) {
            rc = cli_fail("sweep", error);
            goto out;
        }
    }
    if (html_file) {
        char *page = sw_sweep_table_html(table, sw_sweep_name(sw), sw_sweep_description(sw));
        fputs(page, ss_output_stream(html_file));
        g_free(page);
        if (!ss_output_commit(g_steal_pointer(&html_file), &error)) {
            rc = cli_fail("sweep", error);
            goto out;
        }
    }
    if (out_file) {
        fputs(text, ss_output_stream(out_file));
        if (!ss_output_commit(g_steal_pointer(&out_file), &error)) {
            rc = cli_fail("sweep", error);
            goto out;
        }
    } else if (output_dir) {
        /* the rows are in the folder */
    } else if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
        fprintf(stderr, "servesim sweep: error: cannot write the rows to stdout\n");
        rc = 3;
        goto out;
    }
    if (!quiet) {
        guint rows = sw_sweep_table_num_rows(table), errors = sw_sweep_table_num_errors(table);
        char *slice = opts.shard.count > 1 ? g_strdup_printf(" (slice %u/%u of %u)", opts.shard.index,
                                                             opts.shard.count, sw_sweep_num_points(sw))
                                           : g_strdup("");
        const char *dest = output ? output : output_dir;
        fprintf(stderr, "servesim sweep: %s: %u point%s%s %s, %u ok, %u error, in %.2f s with %u job%s%s%s\n",
                sw_sweep_name(sw), rows, rows == 1 ? "" : "s", slice, dry_run ? "checked" : "run", rows - errors,
                errors, wall, opts.jobs, opts.jobs == 1 ? "" : "s", dest ? " -> " : "", dest ? dest : "");
        if (output_dir)
            fprintf(stderr, "report: %s/report.html, %s/sweep.csv, %s/sweep.json\n", output_dir, output_dir,
                    output_dir);
        else if (html)
            fprintf(stderr, "report: %s\n", html);
        g_free(slice);
    }
out:
    ss_output_abort(out_file);
    ss_output_abort(html_file);
    for (int i = 0; i < 3; i++)
        ss_output_abort(dir_files[i]);
    g_option_context_free(ctx);
    g_free(text);
    sw_sweep_table_free(table);
    scn_cache_free(cache);
    sw_sweep_free(sw);
    g_free(jobs_text);
    g_free(shard_text);
    g_free(output);
    g_free(format);
    g_free(data_dir);
    g_free(html);
    g_free(output_dir);
    return rc;
}
