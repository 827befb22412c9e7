/*
 * sim_engine.h: the simulation of one server instance.
 *
 * The engine streams requests from a workload source in arrival order,
 * hands them to the vLLM V1 scheduler, times each step with a latency model,
 * and records per-request and aggregate metrics. Event loop: a min-heap on
 * (time, seq) with two kinds of event, an arrival (the next request of the
 * source: one is pending at a time) and the end of the running step.
 *
 * Memory grows with the requests in flight (a pooled record each) and a
 * compact 40-byte record per completed request (for exact percentiles), not
 * with the size of the input. Cost: O(log n) per event plus the scheduler's
 * O(batch) per step; no allocation per step.
 *
 * Request lifecycle: arrival -> waiting -> running (prefill chunks, then
 * decode) -> finished, with preemption back to waiting. A request that can
 * never be served (prompt + output > max_model_len, or more KV blocks than
 * exist) is rejected at arrival and counted. At the end
 * arrived = completed + rejected + in flight (in flight is 0 unless a time
 * limit stopped the run).
 */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdio.h>

#include "lat.h"
#include "sched.h"
#include "sim_metrics.h"
#include "wl.h"

/* What a step hook sees after each step has ended (tests check invariants). */
typedef struct {
    SimTime start;              /* when the step began */
    SimTime end;                /* when it ended (now) */
    const SchedStep *step;      /* the step that just ran */
    const SchedScheduler *sched;
    uint64_t arrived, completed, rejected;
    uint64_t deferred;          /* arrived during the step, not yet in the scheduler (async) */
} SimStepInfo;

typedef void (*SimStepHook)(const SimStepInfo *info, void *user);

typedef struct {
    SchedConfig sched;
    LatStepModel *latency;         /* borrowed; its time per step */
    WlSource *source;              /* borrowed; requests in arrival order */
    SimTime max_time;              /* 0: run until every request is done; else stop there */
    /* vLLM's async scheduling (default from v0.14): the batch of the next
     * step is formed when the current one starts, so a request that arrives
     * while a step runs is scheduled two steps later, not one (the step time
     * itself, max(GPU, CPU) instead of their sum, is the latency model's). */
    gboolean async_scheduling;

    FILE *requests_csv;            /* optional: one row per request (docs/output.md) */
    FILE *timeseries_csv;          /* optional: one row per step or per interval */
    double timeseries_interval_s;  /* 0: a row per step */
    FILE *itl_csv;                 /* optional: every inter-token latency */

    SimStepHook step_hook;         /* optional, for tests */
    void *hook_user;
} SimConfig;

/* Aggregates of one request class (or of all requests). */
typedef struct {
    char *name;
    uint64_t arrived, completed, rejected, in_flight;
    uint64_t preempted_requests;   /* completed requests preempted at least once */
    uint64_t input_tokens;         /* of completed requests */
    uint64_t output_tokens;        /* of completed requests */
    SimStats ttft_ms, tpot_ms, itl_ms, e2e_ms, queue_ms;
    double requests_per_s;         /* completed / duration */
    double input_tokens_per_s;
    double output_tokens_per_s;
} SimClassSummary;

typedef struct {
    SimClassSummary all;
    guint num_classes;
    SimClassSummary *classes;      /* one per workload class, same order */

    uint64_t preemptions;          /* preemption events */
    uint64_t rejected_too_long;
    uint64_t rejected_no_blocks;
    uint64_t rows_skipped;         /* bad trace rows skipped */
    uint64_t steps;
    uint64_t prefix_hit_tokens;    /* prompt tokens served from the prefix cache */
    uint32_t num_gpu_blocks;       /* the configured count (one is reserved) */

    double first_arrival_s;        /* simulated time of the first arrival */
    double last_arrival_s;
    double end_s;                  /* end of the last step (or the time limit) */
    double duration_s;             /* end - first arrival */
    double offered_rate;           /* arrivals / arrival span (requests/s) */
    double achieved_rate;          /* completed / duration */
    double kv_usage_mean;          /* time-weighted over the duration, used / usable blocks */
    double kv_usage_peak;
    double batch_size_mean;        /* requests per step */
    double batch_tokens_mean;      /* tokens per step */
    double busy_fraction;          /* share of the duration spent in steps */
    /* Mean queueing delay of the requests that arrived in the last quarter
     * of the arrival span minus that of the second quarter: near 0 when the
     * server keeps up, growing with the backlog when it does not. */
    double queue_growth_ms;
    /* queue_growth_ms over the time between those two quarters' midpoints
     * (half the arrival span): about utilisation - 1 when overloaded. */
    double queue_growth_rate;
    gboolean stopped_at_limit;     /* max_time ended the run with work left */
} SimSummary;

/* Runs a simulation to its end. Returns NULL with an error when the source
 * reports bad input (SS_ERROR_INPUT) or the configuration is invalid
 * (SS_ERROR_USAGE). The summary is the caller's (sim_summary_free). */
SimSummary *sim_run(const SimConfig *cfg, GError **error);
void sim_summary_free(SimSummary *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimSummary, sim_summary_free)

/* The header line of the per-request CSV (without newline). */
const char *sim_requests_csv_header(void);

#endif /* SIM_ENGINE_H */
