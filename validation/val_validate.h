/*
 * val_validate.h: replaying measured runs of real vLLM servers and comparing.
 *
 * An experiment is a folder with experiment.json and one request CSV per
 * load level ("point"), in the format of docs/validation-format.md. Each
 * point is replayed with its exact arrivals, lengths, prefix groups and
 * engine settings (the logged num_gpu_blocks when known), and the simulated
 * TTFT, TPOT and E2E (mean, p50, p90, p99) and output throughput are
 * compared with the measured ones where measured: signed percentage error
 * per point, mean absolute percentage error (MAPE) per metric. A `vllm
 * bench serve` result file is an experiment of one point (val_bench.h).
 */
#ifndef VAL_VALIDATE_H
#define VAL_VALIDATE_H

#include "scn.h"

/* The compared metrics, in table order. */
typedef enum {
    VAL_TTFT_MEAN = 0,
    VAL_TTFT_P50,
    VAL_TTFT_P90,
    VAL_TTFT_P99,
    VAL_TPOT_MEAN,
    VAL_TPOT_P50,
    VAL_TPOT_P90,
    VAL_TPOT_P99,
    VAL_E2E_MEAN,
    VAL_E2E_P50,
    VAL_E2E_P90,
    VAL_E2E_P99,
    VAL_OUTPUT_THROUGHPUT,
    VAL_NUM_METRICS
} ValMetric;

/* Short machine name ("ttft_mean", ..., "output_throughput") and a label. */
const char *val_metric_name(ValMetric m);
const char *val_metric_label(ValMetric m);

typedef struct {
    char *name;
    char *requests_path;
    WlTraceFormat trace_format;         /* of requests_path; AUTO (0): servesim's CSV */
    guint num_requests;                 /* measured.num_requests (0 when absent) */
    gboolean has_num_requests;          /* it was given: checked against the CSV rows */
    double measured[VAL_NUM_METRICS];   /* ms, or tokens/s for throughput */
    double simulated[VAL_NUM_METRICS];
    gboolean has_measured[VAL_NUM_METRICS];
    /* Aggregate-only ground truth (docs/validation-format.md, "aggregates"):
     * TPOT measured as a ratio of means, (E2E mean - TTFT mean) /
     * (mean output - 1); the simulated TPOT of such a point is computed the
     * same way from the simulated means. */
    gboolean tpot_ratio_of_means;
    gboolean sim_estimated;          /* some kernel had no measured table on any GPU */
    gboolean sim_transferred;        /* timed from another GPU's tables */
    uint64_t sim_preemptions;
    uint64_t sim_rejected;
    double sim_kv_usage_peak;
    uint64_t sim_arrived, sim_completed;
    /* Why the point is left out of the MAPE (no rows, nothing completed,
     * rejected requests: its errors would compare different workloads), or
     * NULL. Owned. Its errors are NAN then. */
    char *excluded;
} ValPoint;

typedef struct {
    char *name;
    char *dir;
    char *hardware;
    char *model;
    char *vllm_version;
    guint tensor_parallel_size;
    guint max_num_seqs;
    guint max_num_batched_tokens;
    guint max_model_len;
    guint long_prefill_token_threshold;
    gboolean enable_prefix_caching;
    guint block_size;
    guint num_gpu_blocks;            /* 0: not logged */
    double gpu_memory_utilization;
    gboolean otlp_tracing;           /* engine.otlp_tracing: the server exported OpenTelemetry traces */
    ScnOptions options;              /* engine options the server ran with (engine.quantization,
                                        kv_cache_dtype, speculative_config, ...: docs/options/) */
    guint sim_num_gpu_blocks;        /* what the simulation used */
    GPtrArray *points;               /* ValPoint* */
    ScnScenario *deployment;         /* owned, may be NULL: a vllm bench result's whole deployment
                                        (val_bench.c), which each point starts from */
} ValExperiment;

/* Frees a ValPoint (the free function of ValExperiment.points). */
void val_point_free(gpointer p);

/* Reads an experiment folder. Errors name the file and the field. */
ValExperiment *val_experiment_load(const char *dir, GError **error);
void val_experiment_free(ValExperiment *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ValExperiment, val_experiment_free)

/* Simulates every point with the given latency parameters (backend and
 * constants). A measured.num_requests that differs from the rows of the
 * point's CSV is an error (SS_ERROR_INPUT); a point with no rows, with no
 * completed request or with rejected requests is kept, marked `excluded`
 * with the reason. */
gboolean val_experiment_simulate(ValExperiment *e, ScnCache *cache, const LatParams *latency, GError **error);

/* Simulates one point (the same as val_experiment_simulate does for each);
 * *sim_blocks (may be NULL) receives the KV blocks the simulation used.
 * Thread-safe for distinct points. */
gboolean val_point_simulate(const ValExperiment *e, ValPoint *p, ScnCache *cache, const LatParams *latency,
                            guint *sim_blocks, GError **error);

/* Signed percentage error of one metric of a point (NAN when not measured
 * or the point is excluded). */
double val_point_error(const ValPoint *p, ValMetric m);

/* The number of points left out of the MAPE (ValPoint.excluded). */
guint val_num_excluded(ValExperiment *const *exps, guint n);

/* MAPE of each metric over the points of the experiments (NAN where no
 * point has the metric); excluded points are left out. */
void val_mape(ValExperiment *const *exps, guint n, double mape[VAL_NUM_METRICS]);

/* MAPE averaged over runs (each run's MAPE, then their mean) and over the
 * points of the runs no default constant was fitted on (out of sample)
 * and of the others (in sample; lat_params_fitted_on). */
typedef struct {
    double by_run[VAL_NUM_METRICS];
    double out_of_sample[VAL_NUM_METRICS];
    double in_sample[VAL_NUM_METRICS];
    guint runs_in, runs_out;
} ValSummary;
void val_summary(ValExperiment *const *exps, guint n, ValSummary *out);

/* The report: per experiment and point, measured, simulated, error; MAPE per
 * experiment and overall. */
void val_validate_print(FILE *out, ValExperiment *const *exps, guint n, const char *backend_name);
/* The report as Markdown tables (docs/accuracy.md is made of this). */
void val_validate_markdown(FILE *out, ValExperiment *const *exps, guint n, const char *backend_name);
/* The same as JSON: {"latency_model", "mape": {...}, "experiments": [...]}. g_free. */
char *val_validate_json(ValExperiment *const *exps, guint n, const char *backend_name);

#endif /* VAL_VALIDATE_H */
