/*
 * cmd_calibrate.c: `servesim calibrate EXPERIMENT_DIR|RESULT.json...`: fits
 * the step-time constants of one GPU to measured runs of it (experiment
 * folders or vllm bench serve result files, read as validate reads them),
 * prints the error before, in sample and left out, and writes a hardware
 * profile that `run`, `replay`, `sweep`, `plan` and `validate` take with
 * --hardware-profile (docs/calibration.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scn_json.h"
#include "ss_error.h"
#include "ss_output.h"
#include "val_calibrate.h"

/* The progress line (after a second, on a terminal, as other long commands). */
static void show_progress(guint evaluation, double objective, void *user)
{
    CliProgress *p = user;
    cli_progress_show(p, "calibrate: evaluation %u, objective %.5g, %.0f s", evaluation, objective,
                      cli_progress_elapsed(p));
}

int cmd_calibrate(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("EXPERIMENT_DIR|RESULT.json... - fit a GPU's constants to measured runs");
    g_option_context_set_summary(
        ctx, "Fits step-time constants (by default step_overhead_us, bw_scale and compute_scale) so that the\n"
             "simulated TTFT, TPOT and E2E means of the experiments' load levels match the measured ones,\n"
             "prints the error with the starting constants, with the fitted ones (in sample) and, for each\n"
             "experiment, with constants fitted without it (leave one experiment out), and writes a\n"
             "hardware profile. All experiments must be of one GPU. An argument is an experiment folder\n"
             "(docs/validation-format.md) or a 'vllm bench serve --save-result' file, whose deployment comes\n"
             "from its metadata and the deployment flags (--hardware, --tensor-parallel-size, ...), as in\n"
             "servesim validate. The step-time flags set the constants the fit starts from.");
    char *output = NULL, *fit = NULL, *data_dir = NULL, *profile = NULL;
    gboolean no_loo = FALSE, json = FALSE, quiet = FALSE;
    gint max_eval = 0;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the hardware profile to FILE", "FILE"},
        {"fit", 0, 0, G_OPTION_ARG_STRING, &fit,
         "Constants to fit, comma-separated (default step_overhead_us,bw_scale,compute_scale)", "NAMES"},
        {"hardware-profile", 0, 0, G_OPTION_ARG_FILENAME, &profile, "Start from this profile's constants", "FILE"},
        {"max-evaluations", 0, 0, G_OPTION_ARG_INT, &max_eval, "Evaluations per fit (default 40 per constant)", "N"},
        {"no-leave-one-out", 0, 0, G_OPTION_ARG_NONE, &no_loo, "Skip the leave-one-experiment-out fits", NULL},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the profile (JSON) instead of the report", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress on stderr", NULL},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder with models/, mfu/, hardware.json", "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    ScnFlags *flags = scn_flags_new();
    static const char *const own[] = {"hardware-profile", NULL}; /* calibrate's is the start */
    scn_flags_add_main_except(ctx, flags, own);
    int rc = 0;
    ScnCache *cache = NULL;
    ValCalibration *cal = NULL;
    SsOutput *out_file = NULL;
    char **names = NULL;
    GPtrArray *exps = g_ptr_array_new_with_free_func((GDestroyNotify)val_experiment_free);
    GError *error = NULL;
    if (!cli_parse(ctx, &argc, &argv, "calibrate", &rc))
        goto out;
    if (argc < 2) {
        fprintf(stderr, "servesim calibrate: error: expected one or more experiment folders or vllm bench serve "
                        "result files of one GPU\n");
        rc = 2;
        goto out;
    }
    if (max_eval < 0 || max_eval > 100000) {
        fprintf(stderr, "servesim calibrate: error: --max-evaluations: expected 1 to 100000\n");
        rc = 2;
        goto out;
    }
    if (!cli_check_measured_flags((const char *const *)argv + 1, (guint)argc - 1, flags, &error)) {
        rc = cli_fail("calibrate", error);
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        ValExperiment *e = cli_load_measured(argv[i], flags, &error);
        if (!e) {
            rc = cli_fail("calibrate", error);
            goto out;
        }
        g_ptr_array_add(exps, e);
    }
    ValCalibrateOptions o = {0};
    val_calibrate_default_params((ValExperiment *const *)exps->pdata, exps->len, &o);
    if (fit) {
        names = g_strsplit(fit, ",", -1);
        o.num_params = 0;
        for (char **n = names; *n; n++) {
            g_strstrip(*n);
            if (!**n)
                continue;
            if (o.num_params == VAL_MAX_FIT) {
                fprintf(stderr, "servesim calibrate: error: --fit: at most %d constants\n", VAL_MAX_FIT);
                rc = 2;
                goto out;
            }
            o.params[o.num_params++] = *n;
        }
    }
    o.max_evaluations = (guint)max_eval;
    o.leave_one_out = !no_loo;
    LatParams base;
    {
        g_autoptr(ScnScenario) s = scn_scenario_new_default();
        if (!scn_flags_apply(flags, s, &error)) {
            rc = cli_fail("calibrate", error);
            goto out;
        }
        base = s->latency;
    }
    const ValExperiment *first = g_ptr_array_index(exps, 0);
    if (profile && (!scn_check_input_file(profile, "hardware profile", &error) ||
                    !lat_params_apply_profile(&base, profile, first->hardware, &error))) {
        rc = cli_fail("calibrate", error);
        goto out;
    }
    /* the profile is written after the fit (minutes); its path is checked before */
    if (output && !(out_file = ss_output_open(output, &error))) {
        rc = cli_fail("calibrate", error);
        goto out;
    }
    char *dir = cli_data_dir("calibrate", data_dir);
    if (!dir) {
        rc = 3;
        goto out;
    }
    cache = scn_cache_new(dir);
    g_free(dir);
    CliProgress progress;
    cli_progress_init(&progress, quiet);
    if (progress.enabled) {
        o.progress = show_progress;
        o.user = &progress;
    }
    cal = val_calibrate((ValExperiment *const *)exps->pdata, exps->len, cache, &base, &o, &error);
    cli_progress_done(&progress);
    if (!cal) {
        rc = cli_fail("calibrate", error);
        goto out;
    }
    char *text = val_calibration_profile_json(cal);
    if (json)
        fputs(text, stdout);
    else
        val_calibration_print(stdout, cal);
    if (out_file) {
        fputs(text, ss_output_stream(out_file));
        if (!ss_output_commit(g_steal_pointer(&out_file), &error))
            rc = cli_fail("calibrate", error);
        else if (!json)
            printf("\nprofile written to %s (use it with --hardware-profile)\n", output);
    }
    g_free(text);
out:
    ss_output_abort(out_file);
    val_calibration_free(cal);
    scn_cache_free(cache);
    g_ptr_array_free(exps, TRUE);
    g_strfreev(names);
    scn_flags_free(flags);
    g_free(output);
    g_free(fit);
    g_free(data_dir);
    g_free(profile);
    return rc;
}
