/*
 * val_calibrate.h: fitting the step-time constants of one GPU to measured
 * vLLM runs of it, with leave-one-experiment-out error, and the hardware
 * profile the fit is written to (docs/calibration.md).
 *
 * The objective is the mean over experiments of the mean over their points
 * of w · ln(simulated / measured)² summed over the measured metrics
 * (TPOT mean and E2E mean weight 1, TTFT mean 0.5): every experiment counts
 * the same whatever its number of load levels, and errors are relative. It is
 * minimised by Nelder-Mead over the logarithms of the chosen constants
 * (deterministic: same runs, same start, same result), each evaluation
 * simulating every point, in parallel on all cores.
 */
#ifndef VAL_CALIBRATE_H
#define VAL_CALIBRATE_H

#include "val_validate.h"

#define VAL_MAX_FIT 8

typedef struct {
    guint num_params;
    const char *params[VAL_MAX_FIT];  /* names of LatParams constants (static strings or borrowed) */
    guint max_evaluations;            /* per fit (0: 40 per parameter) */
    gboolean leave_one_out;           /* also fit without each experiment and test on it */
    /* optional progress: called after each evaluation */
    void (*progress)(guint evaluation, double objective, void *user);
    void *user;
} ValCalibrateOptions;

typedef struct {
    char *experiment;
    double mape_default[VAL_NUM_METRICS];   /* with the starting constants */
    double mape_fitted[VAL_NUM_METRICS];    /* with the constants fitted on every experiment (in sample) */
    double mape_loo[VAL_NUM_METRICS];       /* fitted without this experiment (NAN when only one) */
    double loo_values[VAL_MAX_FIT];         /* the constants of that fit */
} ValCalibrateRow;

typedef struct {
    char *hardware;
    guint num_params;
    char *params[VAL_MAX_FIT];
    double start[VAL_MAX_FIT];
    double values[VAL_MAX_FIT];       /* fitted on every experiment */
    double objective_start, objective;
    guint evaluations;
    guint num_rows;
    ValCalibrateRow *rows;            /* one per experiment, in the given order */
    double mape_default[VAL_NUM_METRICS], mape_fitted[VAL_NUM_METRICS], mape_loo[VAL_NUM_METRICS];
} ValCalibration;

void val_calibration_free(ValCalibration *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ValCalibration, val_calibration_free)

/* The constants fitted by default for these experiments: step_overhead_us,
 * bw_scale and compute_scale. Writes names into o->params. */
void val_calibrate_default_params(ValExperiment *const *exps, guint n, ValCalibrateOptions *o);

/* Fits o->params on the experiments (all of one GPU) starting from `base`.
 * Errors: experiments of several GPUs, an unknown or non-numeric constant,
 * a simulation failure (with the experiment and point). The experiments'
 * simulated values are left at the in-sample fit. */
ValCalibration *val_calibrate(ValExperiment *const *exps, guint n, ScnCache *cache, const LatParams *base,
                              const ValCalibrateOptions *o, GError **error);

/* Simulates every point of the experiments in parallel (one task per point). */
gboolean val_experiments_simulate_parallel(ValExperiment *const *exps, guint n, ScnCache *cache,
                                           const LatParams *latency, GError **error);

/* The profile (docs/calibration.md): schema, hardware, params, what it was
 * fitted on and its errors. No clock or host: the same fit gives the same
 * bytes. g_free. */
char *val_calibration_profile_json(const ValCalibration *c);
/* A readable report: the constants (start -> fitted) and per experiment the
 * TTFT/TPOT/E2E MAPE with the default constants, fitted on all, and left out. */
void val_calibration_print(FILE *out, const ValCalibration *c);

#endif /* VAL_CALIBRATE_H */
