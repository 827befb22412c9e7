/*
 * pl_validate.h: replaying measured runs of real vLLM servers and comparing.
 *
 * An experiment is a folder with experiment.json and one request CSV per
 * load level ("point"), in the format of docs/validation-format.md. Each
 * point is replayed with its exact arrivals, lengths, prefix groups and
 * engine settings (the logged num_gpu_blocks when known), and the simulated
 * TTFT (mean, p50, p90), TPOT (mean, p90), E2E (mean, p90) and output
 * throughput are compared with the measured ones: signed percentage error
 * per point, mean absolute percentage error (MAPE) per metric.
 */
#ifndef PL_VALIDATE_H
#define PL_VALIDATE_H

#include "scn.h"

/* The compared metrics, in table order. */
typedef enum {
    PL_TTFT_MEAN = 0,
    PL_TTFT_P50,
    PL_TTFT_P90,
    PL_TPOT_MEAN,
    PL_TPOT_P90,
    PL_E2E_MEAN,
    PL_E2E_P90,
    PL_OUTPUT_THROUGHPUT,
    PL_NUM_METRICS
} PlMetric;

/* Short machine name ("ttft_mean", ..., "output_throughput") and a label. */
const char *pl_metric_name(PlMetric m);
const char *pl_metric_label(PlMetric m);

typedef struct {
    char *name;
    char *requests_path;
    guint num_requests;
    double measured[PL_NUM_METRICS];   /* ms, or tokens/s for throughput */
    double simulated[PL_NUM_METRICS];
    gboolean has_measured[PL_NUM_METRICS];
    uint64_t sim_preemptions;
    uint64_t sim_rejected;
    double sim_kv_usage_peak;
} PlPoint;

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
    guint sim_num_gpu_blocks;        /* what the simulation used */
    GPtrArray *points;               /* PlPoint* */
} PlExperiment;

/* Reads an experiment folder. Errors name the file and the field. */
PlExperiment *pl_experiment_load(const char *dir, GError **error);
void pl_experiment_free(PlExperiment *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PlExperiment, pl_experiment_free)

/* Simulates every point with the given latency parameters (backend and
 * constants). */
gboolean pl_experiment_simulate(PlExperiment *e, ScnCache *cache, const LatParams *latency, GError **error);

/* Signed percentage error of one metric of a point (NAN when not measured). */
double pl_point_error(const PlPoint *p, PlMetric m);

/* MAPE of each metric over the points of the experiments (NAN where no
 * point has the metric). */
void pl_mape(PlExperiment *const *exps, guint n, double mape[PL_NUM_METRICS]);

/* The report: per experiment and point, measured, simulated, error; MAPE per
 * experiment and overall. */
void pl_validate_print(FILE *out, PlExperiment *const *exps, guint n, const char *backend_name);
/* The report as Markdown tables (docs/accuracy.md is made of this). */
void pl_validate_markdown(FILE *out, PlExperiment *const *exps, guint n, const char *backend_name);
/* The same as JSON: {"latency_model", "mape": {...}, "experiments": [...]}. g_free. */
char *pl_validate_json(PlExperiment *const *exps, guint n, const char *backend_name);

#endif /* PL_VALIDATE_H */
