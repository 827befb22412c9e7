/*
 * pl_plan.h: capacity planning. For each candidate deployment (hardware x
 * TP x engine settings x model), the highest request rate one replica
 * sustains within the SLOs, found by bisection; then the smallest fleet of
 * such replicas, behind the chosen router, that sustains the target load,
 * found by simulating fleets (a search over replica counts, not a division
 * by one replica's rate); the GPUs and cost; latency and throughput curves
 * against load; a ranked table with a recommendation and the reason each
 * other candidate lost.
 *
 * "Sustains" means every SLO holds and the queue does not grow without
 * bound: SimSummary.queue_growth_ms and queue_growth_rate below the plan's
 * limits (500 ms and 2% by default).
 */
#ifndef PL_PLAN_H
#define PL_PLAN_H

#include "scn.h"

/* ----------------------------------------------------------------- SLOs -- */

typedef enum {
    PL_SLO_TTFT = 0,
    PL_SLO_TPOT,
    PL_SLO_ITL,
    PL_SLO_E2E,
    PL_SLO_QUEUE,
} PlSloMetric;

typedef enum { PL_STAT_MEAN = 0, PL_STAT_P50, PL_STAT_P90, PL_STAT_P95, PL_STAT_P99, PL_STAT_MAX } PlStat;

typedef struct {
    PlSloMetric metric;
    PlStat stat;
    double max_ms;   /* the statistic must be <= this */
    char *label;     /* e.g. "p99 TTFT <= 2000 ms" (owned) */
} PlSlo;

/* Parses an SLO object {"metric": "ttft", "percentile": "p99", "max_ms": 2000}
 * (metric: ttft|tpot|itl|e2e|queue, with or without "_ms"; percentile: mean,
 * p50, p90, p95, p99, max). Errors name origin and path. */
gboolean pl_slo_parse(const char *json_text, const char *origin, const char *path, PlSlo *out, GError **error);
/* The value of the SLO's statistic in a summary. */
double pl_slo_value(const PlSlo *slo, const SimSummary *sum);
/* A metric's name in plan files and plan.json ("ttft"), its label in
 * reports ("TTFT"), a statistic's name ("p99"); "?" out of range. */
const char *pl_slo_metric_name(PlSloMetric m);
const char *pl_slo_metric_label(PlSloMetric m);
const char *pl_stat_name(PlStat s);

/* ---------------------------------------------------------------- result -- */

/* One simulated load level of a candidate. */
typedef struct {
    double rate;                 /* offered requests/s */
    double achieved_rate;        /* completed / duration */
    double output_tokens_per_s;
    double ttft_p50_ms, ttft_p99_ms;
    double tpot_p50_ms, tpot_p99_ms;
    double slo_values[8];        /* value of each SLO's statistic, plan order */
    double queue_growth_ms;
    double queue_growth_rate;
    gboolean meets_slos;
    gboolean stable;
} PlLoadPoint;

/* One fleet simulated at the target load. */
typedef struct {
    guint replicas;              /* all of them (prefill + decode when disaggregated) */
    guint prefill_replicas, decode_replicas; /* disaggregated candidates; 0 otherwise */
    double cost_per_hour;        /* disaggregated candidates: the fleet's cost */
    gboolean meets_slos, stable; /* sustained = both */
    double slo_values[8];        /* fleet-wide, plan order */
    double ttft_p99_ms, tpot_p99_ms;
    double queue_growth_ms, queue_growth_rate;
    double achieved_rate;
    double imbalance;            /* max / mean requests per replica */
    double jain_index;
    double prefix_hit_rate;
    guint num_requests;          /* simulated */
} PlFleetTrial;

typedef struct {
    char *name;                  /* e.g. "H100-SXM TP4" */
    char *hardware;
    char *model;
    guint tensor_parallel_size;
    guint max_num_seqs, max_num_batched_tokens; /* effective */
    double price_per_gpu_hour;
    char *latency_basis;         /* "measured", "transferred from GPU" or "estimated" (scn_latency_basis) */
    gboolean latency_measured;   /* its step times come from tables measured on its own GPU */

    gboolean feasible;           /* FALSE: could not run (why in `error`) or sustains no load */
    char *error;                 /* why it is infeasible (owned), NULL otherwise */

    double max_rate;             /* highest sustained rate of one replica (requests/s) */
    double max_rate_upper;       /* the lowest rate found not sustained (bisection bracket) */
    gboolean max_rate_is_bound;  /* the search hit its upper rate limit: max_rate is a lower bound */
    char *binding;               /* what fails just above max_rate: an SLO label or "queue growth" */
    guint evaluations;           /* simulations run by the bisection */

    guint replicas;              /* for the target load: the smallest sustaining fleet simulated */
    guint replicas_by_division;  /* ceil(target / max_rate): what dividing by one replica's rate gives */
    char *router;                /* the fleet's routing policy */
    guint num_trials;
    PlFleetTrial *trials;        /* the fleets simulated, by increasing replicas */
    int chosen_trial;            /* the trial of `replicas`, -1 when none sustained */
    guint fleet_evaluations;     /* fleet simulations run */
    guint gpus;
    double cost_per_hour;
    double cost_per_million_output_tokens;
    double output_tokens_per_s_at_target; /* per replica, at target / replicas */

    guint num_curve;
    PlLoadPoint *curve;          /* load levels, increasing rate */
    guint rank;                  /* 1 = recommended; 0 = infeasible */
    char *verdict;               /* why it won or lost (owned) */

    /* Disaggregated prefill and decode (docs/disaggregation.md): the unit of
     * the rate search is one prefill and one decode replica; the fleet search
     * finds the cheapest prefill:decode counts. hardware reads "P + D". */
    gboolean disaggregated;
    char *prefill_hardware, *decode_hardware;
    guint prefill_tp, decode_tp;
    double prefill_price, decode_price; /* per GPU-hour */
    guint prefill_replicas, decode_replicas;
} PlCandidateResult;

/* The plan's "autoscale" comparison (docs/autoscaling.md): one candidate on
 * a time-varying workload, the smallest static fleet that meets the SLOs
 * against the autoscaled one. */
typedef struct {
    char *candidate;             /* its name */
    char *workload;              /* one-line description */
    char *error;                 /* why it could not be made (owned), NULL otherwise */
    double duration_s;
    /* static */
    guint static_replicas;       /* smallest count meeting every SLO over the whole run (0: none up to the limit) */
    guint static_trials;
    double static_gpu_hours, static_cost;
    double static_attainment;
    double static_slo_values[8];
    /* autoscaled: the targets tried (one, or shares of the sustainable rate) */
    guint num_tried;
    double tried_target[8], tried_gpu_hours[8], tried_attainment[8];
    gboolean tried_meets[8];
    ClAutoscaleSpec policy;      /* with the target kept: the cheapest meeting every SLO */
    double provision_s;
    gboolean auto_meets_slos;
    double auto_gpu_hours, auto_cost;
    double auto_attainment;
    double auto_slo_values[8];
    guint auto_min, auto_max;
    double auto_mean;
    guint scale_ups, scale_downs;
    /* per window */
    double window_s;
    guint num_windows;
    uint64_t *arrived, *met_static, *met_auto;
    double *serving_auto;
    double slo_ttft_ms, slo_tpot_ms;  /* the per-request bounds of attainment */
    double attainment_goal;
    gboolean per_window;         /* meeting the SLOs includes the goal in every window */
} PlScaleResult;

typedef struct {
    char *name;
    char *description;
    char *workload;              /* one-line description of the workload */
    double mean_output_tokens;   /* per request, of the workload */
    double target_rate;          /* requests/s the service must carry */
    guint num_slos;
    PlSlo *slos;
    double tolerance;            /* relative width of the final bisection bracket */
    double max_queue_growth_ms;
    double max_queue_growth_rate;
    guint num_requests;          /* per simulation of one replica (a fleet of N gets N times as many) */
    guint max_replicas;          /* the fleet search's limit */
    char *router;                /* the routing policy of the fleets (from the plan's base) */
    guint64 seed;
    guint num_candidates;
    PlCandidateResult *candidates; /* in plan order */
    int recommended;             /* index, -1 when none is feasible */
    PlScaleResult *scale;        /* the autoscale comparison, NULL when the plan has none */
} PlPlanResult;

/* The fleet a candidate's replica count comes from, or NULL (none sustained,
 * or no fleet search ran). */
const PlFleetTrial *pl_candidate_fleet(const PlCandidateResult *c);

/* A candidate's replica count as people read it: "8", or "3P+5D" for a
 * disaggregated one (prefill + decode). g_free. */
char *pl_candidate_replicas_text(const PlCandidateResult *c);

void pl_plan_result_free(PlPlanResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PlPlanResult, pl_plan_result_free)

/* ---------------------------------------------------------------- report -- */

/* Writes report.html (self-contained: inline CSS and SVG charts, no network),
 * report.md and plan.json into `dir` (created if needed). */
gboolean pl_report_write(const PlPlanResult *r, const char *dir, GError **error);

/* The three documents as strings (g_free), for tests. */
char *pl_report_html(const PlPlanResult *r);
char *pl_report_markdown(const PlPlanResult *r);
char *pl_report_json(const PlPlanResult *r);

#endif /* PL_PLAN_H */
