/*
 * cli_measured.c: reading the measured runs that `validate` and `calibrate`
 * take: an experiment folder (experiment.json + request CSVs), whose
 * deployment and engine settings are the measured ones, or a `vllm bench
 * serve --save-result` file, whose deployment comes from its metadata and
 * model_id and from the command's deployment flags (which win).
 */
#include <stdio.h>

#include "cli.h"
#include "ss_error.h"
#include "val_bench.h"

/* The flags that apply to an experiment folder too: they set step-time
 * constants, not the deployment. */
static const char *const step_time_flags[] = {"latency-model", "step-overhead-us", "latency-param", "param", "seed",
                                              NULL};

static ValExperiment *load_result(const char *path, const ScnFlags *flags, GError **error)
{
    g_autoptr(ScnScenario) s = scn_scenario_new_default();
    gboolean have_hw = FALSE;
    if (!val_bench_apply_metadata(path, s, &have_hw, error) || !scn_flags_apply(flags, s, error))
        return NULL;
    if (!have_hw && !scn_flags_value(flags, "hardware")) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "%s: a vllm bench serve result does not say which GPU served it: give --hardware NAME (or "
                    "record it: vllm bench serve ... --metadata hardware=NAME tensor_parallel_size=N)", path);
        return NULL;
    }
    return val_bench_load(path, s, error);
}

gboolean cli_check_measured_flags(const char *const *paths, guint n, const ScnFlags *flags, GError **error)
{
    g_auto(GStrv) given = scn_flags_given(flags);
    for (guint i = 0; i < n; i++) {
        if (val_bench_is_result(paths[i]))
            continue;
        for (char **g = given; *g; g++)
            if (!g_strv_contains(step_time_flags, *g)) {
                g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                            "--%s does not apply to %s: an experiment folder's deployment and engine settings are "
                            "the measured ones, from its experiment.json (the deployment flags describe vllm bench "
                            "serve result files; the step-time flags --latency-model, --step-overhead-us and "
                            "--latency-param apply to both)",
                            *g, paths[i]);
                return FALSE;
            }
    }
    return TRUE;
}

ValExperiment *cli_load_measured(const char *path, const ScnFlags *flags, GError **error)
{
    return val_bench_is_result(path) ? load_result(path, flags, error) : val_experiment_load(path, error);
}
