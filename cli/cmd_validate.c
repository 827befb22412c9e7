/*
 * cmd_validate.c: `servesim validate EXPERIMENT_DIR|RESULT.json...`: replays
 * measured runs of real vLLM servers and prints the error of each metric.
 *
 * An argument is an experiment folder (docs/validation-format.md) or the
 * result file of `vllm bench serve --save-result` (val_bench.h), whose
 * deployment comes from its metadata and model_id and from the model,
 * hardware and engine flags (which win). The step-time flags apply to both.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scn_json.h"
#include "ss_error.h"
#include "ss_output.h"
#include "val_validate.h"

int cmd_validate(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("EXPERIMENT_DIR|RESULT.json... - compare with measured vLLM runs");
    ScnCache *cache = NULL; /* freed at out: (declared before any goto) */
    g_option_context_set_summary(ctx,
        "Replays each load level of each experiment folder (experiment.json + request CSVs, see\n"
        "docs/validation-format.md), or each 'vllm bench serve --save-result' file (JSON; per-request\n"
        "fields with --save-detailed, the aggregates otherwise), with its arrivals, lengths and engine\n"
        "settings, and prints measured vs simulated TTFT, TPOT and E2E (mean, p50, p90, p99, where\n"
        "measured) and output throughput with the signed error of each, then the mean absolute\n"
        "percentage error (MAPE). A result file names the model (model_id) but not the GPU or the\n"
        "engine settings: give them as flags (--hardware, --tensor-parallel-size, --max-num-seqs, ...)\n"
        "or record them with vllm bench serve --metadata hardware=H100-SXM tensor_parallel_size=2.");
    gboolean json = FALSE, markdown = FALSE;
    char *output = NULL, *data_dir = NULL;
    char **profiles = NULL;
    GOptionEntry entries[] = {
        {"hardware-profile", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &profiles,
         "Calibrated constants for the experiments of its GPU (repeatable, one per GPU)", "FILE"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of the table", NULL},
        {"markdown", 0, 0, G_OPTION_ARG_NONE, &markdown, "Print Markdown tables (as in docs/accuracy.md)", NULL},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Also write the JSON to FILE", "FILE"},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder with models/, mfu/, hardware.json", "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    ScnFlags *flags = scn_flags_new();
    static const char *const own[] = {"hardware-profile", NULL}; /* validate's is one per GPU */
    scn_flags_add_main_except(ctx, flags, own);
    int rc = 0;
    GPtrArray *exps = g_ptr_array_new_with_free_func((GDestroyNotify)val_experiment_free);
    SsOutput *out_file = NULL;
    GError *error = NULL;
    if (!cli_parse(ctx, &argc, &argv, "validate", &rc))
        goto out;
    cli_print_notes("validate", flags);
    if (argc < 2) {
        fprintf(stderr, "servesim validate: error: expected one or more experiment folders (e.g. data/validation/*) "
                        "or vllm bench serve result files\n");
        rc = 2;
        goto out;
    }
    /* the step-time flags, read through a scenario like every other flag */
    LatParams latency;
    {
        g_autoptr(ScnScenario) s = scn_scenario_new_default();
        if (!scn_flags_apply(flags, s, &error)) {
            rc = cli_fail("validate", error);
            goto out;
        }
        latency = s->latency;
    }
    char *dir = cli_data_dir("validate", data_dir);
    if (!dir) {
        rc = 3;
        goto out;
    }
    if (output && !(out_file = ss_output_open(output, &error))) { /* checked before the simulations */
        g_free(dir);
        rc = cli_fail("validate", error);
        goto out;
    }
    cache = scn_cache_new(dir);
    g_free(dir);
    if (!cli_check_measured_flags((const char *const *)argv + 1, (guint)argc - 1, flags, &error)) {
        rc = cli_fail("validate", error);
        goto out;
    }
    for (int i = 1; i < argc; i++) {
        ValExperiment *e = cli_load_measured(argv[i], flags, &error);
        LatParams lp = latency;
        if (e) {
            for (char **f = profiles; f && *f; f++) {
                if (!scn_check_input_file(*f, "hardware profile", &error))
                    break;
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
        for (guint k = 0; k < e->points->len; k++) {
            const ValPoint *p = g_ptr_array_index(e->points, k);
            if (p->excluded)
                fprintf(stderr, "servesim validate: warning: %s, point %s: %s; left out of the MAPE\n", e->name,
                        p->name, p->excluded);
        }
    }
    const char *backend = latency.backend == LAT_BACKEND_AUTO ? "auto (roofline-v2 where MFU tables exist, else roofline-v1)"
                                                              : lat_backend_name(latency.backend);
    char *text = val_validate_json((ValExperiment *const *)exps->pdata, exps->len, backend);
    if (json)
        fputs(text, stdout);
    else if (markdown)
        val_validate_markdown(stdout, (ValExperiment *const *)exps->pdata, exps->len, backend);
    else
        val_validate_print(stdout, (ValExperiment *const *)exps->pdata, exps->len, backend);
    if (out_file) {
        fputs(text, ss_output_stream(out_file));
        if (!ss_output_commit(g_steal_pointer(&out_file), &error))
            rc = cli_fail("validate", error);
    }
    g_free(text);
out:
    ss_output_abort(out_file);
    scn_cache_free(cache);
    g_ptr_array_free(exps, TRUE);
    scn_flags_free(flags);
    g_free(output);
    g_free(data_dir);
    g_strfreev(profiles);
    return rc;
}
