/*
 * sim_engine.h: the engine of one replica, and the recorder its completed
 * requests go to.
 *
 * A SimReplica is one vLLM V1 server: a scheduler (waiting queue, running
 * set, KV block pool with prefix caching) and a step-time model. It has one
 * kind of event, the end of its running step, and knows nothing of the
 * clock beyond the times it is given: the fleet layer (cluster/) owns the
 * event loop, hands it requests (sim_replica_add), starts its steps when it
 * is idle (sim_replica_wake), and ends them at sim_replica_next_event()
 * (sim_replica_end_step), which starts the next step when there is work.
 * A replica never sees another replica.
 *
 * A SimRecorder is the metrics sink of one run, shared by its replicas (one
 * thread): a 40-byte record per completed request (for exact percentiles,
 * tagged with its replica), the inter-token latency histograms, per-class
 * counters, and the per-request, time-series and ITL CSV writers. A summary
 * (SimSummary) is computed from a recorder and its replicas.
 *
 * Memory grows with the requests in flight (a pooled record each) and a
 * record per completed request, not with the size of the input. Cost: the
 * scheduler's O(batch) per step plus O(1) per sampled token; no allocation
 * per step.
 *
 * Request lifecycle: added -> waiting -> running (prefill chunks, then
 * decode) -> finished, with preemption back to waiting. A request that can
 * never be served (prompt + output > max_model_len, or more KV blocks than
 * exist) is rejected when added, and counted. For each replica and for the
 * recorder, arrived = completed + handed off + rejected + in flight at every
 * step.
 *
 * KV transfers (a disaggregated fleet): a prefill-only request
 * (sim_replica_add_prefill) runs its prefill, samples the one token vLLM's
 * prefill server returns, and is then "handed off": not completed here, its
 * blocks held until the fleet releases them (sim_replica_release_held) when
 * its transfer has ended. A request whose KV comes from elsewhere
 * (sim_replica_add_remote) gets its blocks at admission, waits for its KV
 * (sim_replica_kv_arrived), then decodes here and completes here. The fleet
 * learns of these moments through SimKvHooks.
 */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdio.h>

#include "lat.h"
#include "sched.h"
#include "sim_metrics.h"
#include "wl.h"

typedef struct SimRecorder SimRecorder;
typedef struct SimReplica SimReplica;

/* The most replicas one run may have (a record keeps its replica in 16 bits). */
#define SIM_MAX_REPLICAS 65535u

/* ------------------------------------------------------------ recorder -- */

/* The most rows a time series by intervals may have: beyond, the run fails
 * (SS_ERROR_USAGE) before writing them, instead of filling a disk with rows
 * of idle intervals (a 1 ms interval over a day of simulated time). */
#define SIM_TIMESERIES_MAX_ROWS 10000000u

/* Where a run writes (each optional; borrowed, the caller closes them). */
typedef struct {
    FILE *requests_csv;            /* one row per request (docs/output.md) */
    FILE *timeseries_csv;          /* one row per step, or per interval and replica */
    double timeseries_interval_s;  /* 0: a row per step; else SIM_OUTPUT_INTERVAL_MIN_S to
                                    * SIM_TIME_LIMIT_S (the fleet checks it), at most
                                    * SIM_TIMESERIES_MAX_ROWS rows */
    FILE *itl_csv;                 /* every inter-token latency */
    gboolean replica_column;       /* fleets: request and time-series rows end with the replica */
} SimOutputs;

/* A recorder for requests of `num_classes` classes (>= 1) named
 * `class_names` (borrowed: they must outlive the recorder). `out` is copied;
 * NULL writes nothing. */
SimRecorder *sim_recorder_new(guint num_classes, const char *const *class_names, const SimOutputs *out);
void sim_recorder_free(SimRecorder *rec); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimRecorder, sim_recorder_free)
/* Writes the header lines of the CSV outputs it has. */
void sim_recorder_write_headers(SimRecorder *rec);
/* The interval of the interval time series, or 0 for a row per step. */
SimTime sim_recorder_interval(const SimRecorder *rec);
/* A request arrived at the front door of the run (before any routing). */
void sim_recorder_arrival(SimRecorder *rec, const WlRequest *w);
/* A request turned away before it reached a replica (admission at the
 * router): counted as rejected, with a request row of that `status`. */
void sim_recorder_reject(SimRecorder *rec, const WlRequest *w, const char *status);
/* Writes the request row of a request a time limit left between the router
 * and a replica (`status` e.g. "routing"). */
void sim_recorder_unserved_row(SimRecorder *rec, const WlRequest *w, const char *status);
/* Completed requests recorded so far. */
uint64_t sim_recorder_num_completed(const SimRecorder *rec);
/* Completed request i (in completion order): its arrival at the run, TTFT,
 * end-to-end latency (ns), output tokens and replica. FALSE past the end. */
gboolean sim_recorder_completed_at(const SimRecorder *rec, uint64_t i, SimTime *arrival, SimTime *ttft,
                                   SimTime *e2e, uint32_t *output, guint *replica);

/* The header line of the per-request CSV (without newline), with or
 * without the trailing replica column. */
const char *sim_requests_csv_header(gboolean replica_column);

/* ------------------------------------------------------------- replica -- */

/* What a step hook sees after each step has ended (tests check invariants). */
/* A request of a KV transfer, as the fleet holds it between hooks: valid
 * until the request is released (prefill side) or completes (decode side). */
typedef struct SimReq SimKvRef;

/* What a replica tells the fleet about KV transfers (each optional). `tag` is
 * the fleet's name for the request, given when it was added. */
typedef struct {
    /* A prefill-only request's prefill ended at `kv_ready` (its step's end);
     * the engine had processed the step's outputs at `notify`. It was first
     * scheduled at `first_sched`. Its blocks are held from now on. */
    void (*prefilled)(void *user, SimReplica *r, SimKvRef *ref, uint32_t tag, SimTime first_sched, SimTime kv_ready,
                      SimTime notify);
    /* Only with `layerwise`: the step that ends a prefill-only request's
     * prompt starts at `start` and ends at `end` (its KV streams out, layer
     * by layer, while the step runs). */
    void (*last_prefill_step)(void *user, SimReplica *r, SimKvRef *ref, uint32_t tag, SimTime start, SimTime end);
    /* A request added with sim_replica_add_remote got its blocks at `now` and
     * waits for `tokens` tokens of KV. */
    void (*allocated)(void *user, SimReplica *r, SimKvRef *ref, uint32_t tag, uint32_t tokens, SimTime now);
    /* A request added with sim_replica_add_remote completed (its record and
     * row are written as any other's). */
    void (*completed)(void *user, SimReplica *r, uint32_t tag, SimTime first_token, SimTime last_token);
    void *user;
    gboolean layerwise;
} SimKvHooks;

typedef struct {
    SimTime start;              /* when the step began */
    SimTime end;                /* when it ended (now) */
    const SchedStep *step;      /* the step that just ran */
    const SchedScheduler *sched;
    uint64_t arrived, completed, rejected; /* of this replica */
    uint64_t deferred;          /* arrived during the step, not yet in the scheduler (async scheduling) */
    uint64_t handed_off;        /* prefill-only requests done (their KV went elsewhere) */
    uint64_t remote_waiting;    /* requests waiting for their KV (in flight) */
    guint replica;
} SimStepInfo;

typedef void (*SimStepHook)(const SimStepInfo *info, void *user);

typedef struct {
    SchedConfig sched;
    LatStepModel *latency;         /* borrowed; its time per step */
    SimRecorder *recorder;         /* borrowed; shared by the replicas of a run */
    guint index;                   /* the replica's number in the run (records, rows) */
    /* vLLM's async scheduling (default from v0.14): the batch of the next
     * step is formed when the current one starts, so a request that arrives
     * while a step runs is scheduled two steps later, not one (the step time
     * itself, max(GPU, CPU) instead of their sum, is the latency model's). */
    gboolean async_scheduling;
    SimStepHook step_hook;         /* optional, for tests */
    void *hook_user;
    const SimKvHooks *kv;          /* borrowed; NULL: the replica takes part in no KV transfer */
} SimReplicaConfig;

/* A replica. NULL with an error (SS_ERROR_USAGE) when the scheduler
 * configuration is invalid. */
SimReplica *sim_replica_new(const SimReplicaConfig *cfg, GError **error);
/* Frees a replica and the requests it still holds. Accepts NULL. */
void sim_replica_free(SimReplica *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimReplica, sim_replica_free)

/* Hands a request to the replica at simulated time `now` (>= the request's
 * arrival at the run, which its latencies count from). Returns SCHED_FITS
 * when it joined the waiting queue; otherwise it can never be served here
 * and was rejected (counted, its row written). The request is copied. The
 * replica does not start a step: call sim_replica_wake() once every request
 * of this instant has been added. */
SchedFit sim_replica_add(SimReplica *r, const WlRequest *w, SimTime now);
/* A prefill-only request: its prompt is computed here and one token sampled
 * (vLLM's prefill server answers with max_tokens 1), then it is handed off:
 * SimKvHooks.prefilled, blocks held until sim_replica_release_held(). The
 * fit is checked for the prompt and that one token. Otherwise as
 * sim_replica_add. */
SchedFit sim_replica_add_prefill(SimReplica *r, const WlRequest *w, SimTime now, uint32_t tag);
/* A request whose prompt's KV comes from another replica: admitted, it gets
 * its blocks (SimKvHooks.allocated) and waits for sim_replica_kv_arrived();
 * it then samples its first token here and decodes. `first_sched` is when
 * its service began (its prefill's first step), its queueing delay.
 * Otherwise as sim_replica_add. */
SchedFit sim_replica_add_remote(SimReplica *r, const WlRequest *w, SimTime now, uint32_t tag, SimTime first_sched);
/* The KV of `ref` (a request of sim_replica_add_remote that got its blocks)
 * has arrived at `now`: it may be scheduled (under async scheduling, when
 * a step is running, from the batch after the next). Call
 * sim_replica_wake() afterwards. */
void sim_replica_kv_arrived(SimReplica *r, SimKvRef *ref, SimTime now);
/* Frees the blocks a handed-off prefill-only request held (its transfer
 * ended); `ref` is invalid afterwards. Call sim_replica_wake() afterwards:
 * waiting requests may fit now. */
void sim_replica_release_held(SimReplica *r, SimKvRef *ref);
/* A new server in the same place: an idle replica with nothing in flight or
 * held starts again with an empty KV cache; its counters go on. */
void sim_replica_restart(SimReplica *r);

/* When the replica is idle and has work, forms a step at `now` and times it.
 * FALSE with an error (SS_ERROR_SIM) when the scheduler cannot progress. */
gboolean sim_replica_wake(SimReplica *r, SimTime now, GError **error);
/* The end of the running step, or SIM_TIME_MAX when idle. */
SimTime sim_replica_next_event(const SimReplica *r);
/* Ends the running step at sim_replica_next_event(): samples tokens,
 * finishes requests (their records go to the recorder), and starts the next
 * step when there is work. Precondition: a step is running. */
gboolean sim_replica_end_step(SimReplica *r, GError **error);

/* Interval time series: writes this replica's row of the interval that
 * starts at `start` and resets its counters. */
void sim_replica_flush_interval(SimReplica *r, SimTime start);
/* Whether anything happened in the current interval (steps, arrivals,
 * completions). */
gboolean sim_replica_interval_active(const SimReplica *r);
/* Writes the request rows of the requests still running and waiting (a
 * time limit stopped the run). */
void sim_replica_write_in_flight_rows(SimReplica *r);

/* Read-only views. */
guint sim_replica_index(const SimReplica *r);
const SchedScheduler *sim_replica_scheduler(const SimReplica *r);
const SchedConfig *sim_replica_sched_config(const SimReplica *r);
uint64_t sim_replica_arrived(const SimReplica *r);   /* requests added */
uint64_t sim_replica_completed(const SimReplica *r);
uint64_t sim_replica_rejected(const SimReplica *r);  /* by the replica (too long, no blocks) */
uint64_t sim_replica_handed_off(const SimReplica *r); /* prefill-only requests done */
/* Requests running, waiting or waiting for their KV (arrived - completed -
 * handed off - rejected). */
uint32_t sim_replica_in_flight(const SimReplica *r);
/* Requests waiting for their remote KV; handed-off requests whose blocks
 * are still held. */
uint32_t sim_replica_num_remote_waiting(const SimReplica *r);
uint32_t sim_replica_num_held(const SimReplica *r);
/* Waiting in the scheduler's queue / arrived during the running step and
 * not yet handed to the scheduler (async scheduling): both are what vLLM
 * reports as waiting. */
uint32_t sim_replica_num_waiting(const SimReplica *r);
uint32_t sim_replica_num_deferred(const SimReplica *r);
uint32_t sim_replica_num_running(const SimReplica *r);
uint32_t sim_replica_kv_used(const SimReplica *r);   /* blocks held by requests */
uint32_t sim_replica_kv_blocks(const SimReplica *r); /* usable blocks */
uint32_t sim_replica_kv_cached(const SimReplica *r); /* free blocks still holding a cached prefix */
/* LoRA affinity of a replica for adapter `lora_id` (> 0), as llm-d's
 * lora-affinity scorer rates a server: 1 when the adapter sits in a GPU slot,
 * 0.8 when a slot is free to load it, 0 when loading it evicts another. */
double sim_replica_lora_affinity(const SimReplica *r, uint32_t lora_id);
SimTime sim_replica_busy_ns(const SimReplica *r);    /* time spent in steps that have ended */
gboolean sim_replica_busy(const SimReplica *r);

/* -------------------------------------------------------------- summary -- */

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

/* One replica's share of a run (the per-replica table of a fleet). */
typedef struct {
    guint index;
    uint64_t arrived, completed, rejected, in_flight;
    uint64_t handed_off;           /* prefill-only requests done (disaggregated fleets) */
    uint64_t output_tokens;        /* of its completed requests */
    double requests_per_s;         /* completed / the run's duration */
    double output_tokens_per_s;
    SimStats ttft_ms, tpot_ms;
    double kv_usage_mean, kv_usage_peak;
    double busy_fraction;
    uint64_t preemptions;
    uint64_t prefix_hit_tokens, prefix_query_tokens;
    double prefix_hit_rate;        /* hit / queried prompt tokens at admission; 0 when none */
    uint64_t steps;
    uint32_t num_gpu_blocks;
} SimReplicaSummary;

typedef struct {
    SimClassSummary all;
    guint num_classes;
    SimClassSummary *classes;      /* one per workload class, same order */

    uint64_t preemptions;          /* preemption events */
    uint64_t rejected_too_long;
    uint64_t rejected_no_blocks;
    uint64_t rejected_admission;   /* turned away by the router before any replica */
    uint64_t rows_skipped;         /* bad trace rows skipped */
    uint64_t steps;
    uint64_t prefix_hit_tokens;    /* prompt tokens served from the prefix cache */
    uint64_t prefix_query_tokens;  /* prompt tokens looked up in the prefix cache at admission */
    uint32_t num_gpu_blocks;       /* the configured count of the first replica (one is reserved) */

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
    double busy_fraction;          /* share of the duration spent in steps (mean over replicas) */
    /* Mean queueing delay of the requests that arrived in the last quarter
     * of the arrival span minus that of the second quarter: near 0 when the
     * server keeps up, growing with the backlog when it does not. */
    double queue_growth_ms;
    /* queue_growth_ms over the time between those two quarters' midpoints
     * (half the arrival span): about utilisation - 1 when overloaded. */
    double queue_growth_rate;
    gboolean stopped_at_limit;     /* max_time ended the run with work left */

    guint num_replicas;
    SimReplicaSummary *replicas;   /* one per replica, in index order */
    SchedOptionStats options;      /* what the engine options did (docs/options/); 0 when off */
} SimSummary;

/* What the front door of a run knows when it ends: the arrivals it saw,
 * the requests still between it and a replica, and the clock. */
typedef struct {
    gboolean any_arrival;
    SimTime first_arrival, last_arrival;
    uint64_t arrived;              /* at the front door */
    uint64_t rejected_admission;   /* turned away before any replica */
    guint num_in_transit;
    const WlRequest *in_transit;   /* requests routed but not yet delivered (borrowed) */
    uint64_t rows_skipped;
    SimTime now;                   /* the end of the run */
    gboolean stopped;              /* a time limit ended it */
} SimFrontDoor;

/* The summary of a run from its recorder and replicas (n >= 1). The result
 * is the caller's (sim_summary_free). */
SimSummary *sim_summarise(SimRecorder *rec, SimReplica *const *replicas, guint n, const SimFrontDoor *fd);
void sim_summary_free(SimSummary *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimSummary, sim_summary_free)

#endif /* SIM_ENGINE_H */
