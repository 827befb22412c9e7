/*
 * cmd_validate.c: `servesim validate EXPERIMENT_DIR...`: replays measured runs
 * of real vLLM servers and prints the error of each metric.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "val_validate.h"
#include "scn_json.h"
#include "ss_error.h"

int cmd_validate(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("EXPERIMENT_DIR... - compare with measured vLLM runs");
    ScnCache *cache = NULL; /* freed at out: (declared before any goto) */
    g_option_context_set_summary(ctx,
        "Replays each load level of each experiment folder (experiment.json + request CSVs, see\n"
        "docs/validation-format.md) with its exact arrivals, lengths and engine settings, and prints\n"
        "measured vs simulated TTFT (mean, p50, p90), TPOT (mean, p90), E2E (mean, p90) and output\n"
        "throughput with the signed error of each, then the mean absolute percentage error (MAPE).");
    gboolean json = FALSE, markdown = FALSE;
    char *output = NULL, *latency_model = NULL, *overhead = NULL, *data_dir = NULL;
    char **params = NULL, **profiles = NULL;
    GOptionEntry entries[] = {
        {"hardware-profile", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &profiles,
         "Calibrated constants for the experiments of its GPU (repeatable, one per GPU)", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of the table", NULL},
        {"markdown", 0, 0, G_OPTION_ARG_NONE, &markdown, "Print Markdown tables (as in docs/accuracy.md)", NULL},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Also write the JSON to FILE", "FILE"},
        {"latency-model", 0, 0, G_OPTION_ARG_STRING, &latency_model, "roofline-v2 (default where tables exist), roofline-v1 or auto", "NAME"},
        {"step-overhead-us", 0, 0, G_OPTION_ARG_STRING, &overhead, "Override the per-step overhead", "US"},
        {"param", 0, 0, G_OPTION_ARG_STRING_ARRAY, &params,
         "Override a latency constant (repeatable), e.g. --param bw_efficiency=0.8", "NAME=VALUE"},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder with models/, mfu/, hardware.json", "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    int rc = 0;
    GPtrArray *exps = g_ptr_array_new_with_free_func((GDestroyNotify)val_experiment_free);
    GError *error = NULL;
    if (!cli_parse(ctx, &argc, &argv, "validate", &rc))
        goto out;
    if (argc < 2) {
        fprintf(stderr, "servesim validate: error: expected one or more experiment folders (e.g. data/validation/*)\n");
        rc = 2;
        goto out;
    }
    LatParams latency;
    lat_params_default(&latency);
    if (latency_model && !lat_backend_parse(latency_model, &latency.backend)) {
        fprintf(stderr, "servesim validate: error: --latency-model: expected roofline-v2, roofline-v1 or auto, got '%s'\n",
                latency_model);
        rc = 2;
        goto out;
    }
    if (overhead) {
        char *end = NULL;
        double v = g_ascii_strtod(overhead, &end);
        if (!end || *end || !(v >= 0)) {
            fprintf(stderr, "servesim validate: error: --step-overhead-us: expected a number >= 0, got '%s'\n", overhead);
            rc = 2;
            goto out;
        }
        latency.step_overhead_us = v;
    }
    for (char **p = params; p && *p; p++) {
        GError *perr = NULL;
        if (!lat_params_set(&latency, *p, &perr)) {
            fprintf(stderr, "servesim validate: error: --param: %s\n", perr->message);
            g_error_free(perr);
            rc = 2;
            goto out;
        }
    }
    char *dir = cli_data_dir("validate", data_dir);
    if (!dir) {
        rc = 3;
        goto out;
    }
    cache = scn_cache_new(dir);
    g_free(dir);
    for (int i = 1; i < argc; i++) {
        ValExperiment *e = val_experiment_load(argv[i], &error);
        LatParams lp = latency;
        if (e) {
            for (char **f = profiles; f && *f; f++) {
                char *hw = lat_profile_hardware(*f, &error);
                if (!hw)
                    break;
                gboolean match = g_ascii_strcasecmp(hw, e->hardware) == 0;
                g_free(hw);
                if (match && !lat_params_apply_profile(&lp, *f, e->hardware, &error))
                    break;
            }
        }
        if (!e || error || !val_experiment_simulate(e, cache, &lp, &error)) {
            val_experiment_free(e);
            rc = cli_fail("validate", error);
            goto out;
        }
        g_ptr_array_add(exps, e);
    }
    const char *backend = latency.backend == LAT_BACKEND_AUTO ? "auto (roofline-v2 where MFU tables exist, else v1)"
                                                              : lat_backend_name(latency.backend);
    char *text = val_validate_json((ValExperiment *const *)exps->pdata, exps->len, backend);
    if (json)
        fputs(text, stdout);
    else if (markdown)
        val_validate_markdown(stdout, (ValExperiment *const *)exps->pdata, exps->len, backend);
    else
        val_validate_print(stdout, (ValExperiment *const *)exps->pdata, exps->len, backend);
    if (output && !scn_write_file(output, text, &error))
        rc = cli_fail("validate", error);
    g_free(text);
out:
    scn_cache_free(cache);
    g_ptr_array_free(exps, TRUE);
    g_free(output);
    g_free(latency_model);
    g_free(overhead);
    g_free(data_dir);
    g_strfreev(params);
    g_strfreev(profiles);
    return rc;
}
