/*
 * cl.h: the fleet: pools of replicas behind a router, on one clock.
 *
 * A fleet is one or more pools; a pool is `count` identical replicas (one
 * GPU type, TP degree, engine settings and step model), each a full engine
 * (sim/: scheduler, KV pool with prefix cache, step model). Requests come
 * from one workload source, in arrival order, to the router: admission
 * (token bucket, caps on waiting requests) accepts or rejects each one with
 * a reason; the routing policy picks a replica from what it knows (its own
 * counts, always fresh, and the replicas' reported signals, refreshed every
 * snapshot interval); after the router latency the request joins that
 * replica's waiting queue. One replica is a fleet of one: it gives exactly
 * the output a single server always gave.
 *
 * The run loop (cl_fleet.c) owns the clock: a queue of router events
 * (arrivals, deliveries after the router latency, signal refreshes) and a
 * queue of replica events (step ends), each ordered by (time, sequence
 * number). At equal times router events come first, then replica events;
 * replicas that received requests start their step once every router event
 * of that instant has run, so requests arriving together share a step, as
 * in vLLM where every request queued before schedule() is considered.
 *
 * Cost per request: O(replicas) for the policies that compare replicas,
 * plus O(prompt blocks) for the prefix-aware ones (router blocks, 64 tokens
 * by default), O(log replicas) per step end. Memory: the replicas', the
 * router's prefix index (bounded per replica), and a record per completed
 * request.
 *
 * Designed to grow: pools carry a role (today every pool serves whole
 * requests), replicas a state (today every replica is serving from the
 * start), and the router queue is where KV transfers between pools and
 * replicas joining or leaving will be scheduled.
 */
#ifndef CL_H
#define CL_H

#include <stdio.h>

#include "lat.h"
#include "sched.h"
#include "sim_engine.h"
#include "wl.h"

/* ---------------------------------------------------------------- router -- */

typedef enum {
    CL_ROUTER_ROUND_ROBIN = 0,
    CL_ROUTER_RANDOM,            /* seeded, uniform over the eligible replicas */
    CL_ROUTER_LEAST_OUTSTANDING, /* fewest requests routed and not finished (router-local) */
    CL_ROUTER_LEAST_WAITING,     /* fewest waiting requests (reported) */
    CL_ROUTER_LEAST_KV,          /* lowest KV-cache use (reported) */
    CL_ROUTER_VLLM_DP,           /* vLLM's data-parallel balancer: waiting x 4 + running, lowest */
    CL_ROUTER_PREFIX_AFFINITY,   /* longest prefix match in the router's index, ties by load */
    CL_ROUTER_CONSISTENT_HASH,   /* hash ring on the prefix, bounded load */
    CL_ROUTER_WEIGHTED,          /* llm-d's scorer pipeline: prefix, queue, KV scorers, max score */
    CL_ROUTER_N
} ClRouterPolicy;

/* The policy's name ("round-robin", ...), and the policy of a name (some
 * aliases accepted: "least-requests", "llm-d", "least-kv-usage"). */
const char *cl_router_policy_name(ClRouterPolicy p);
gboolean cl_router_policy_from_name(const char *name, ClRouterPolicy *out);
/* Every policy name, NULL-terminated (for messages). */
const char *const *cl_router_policy_names(void);

/* The key of consistent hashing: the session (requests without one: their
 * prefix group, then their own id) or the prefix group (then the id). */
typedef enum {
    CL_HASH_SESSION = 0,
    CL_HASH_PREFIX,
} ClHashKey;

/* The shortest snapshot interval (ms): each one is an event for as long as
 * the fleet is busy. */
#define CL_SNAPSHOT_INTERVAL_MIN_MS 1.0

typedef struct {
    ClRouterPolicy policy;
    /* How often replicas' signals (waiting, running, KV use, cached blocks)
     * reach the router; 0 = always fresh; < 0 = the policy's default (100 ms
     * for vllm-dp, vLLM's coordinator; 50 ms otherwise, llm-d's); else from
     * CL_SNAPSHOT_INTERVAL_MIN_MS to the simulated-time limit. */
    double snapshot_interval_ms;
    double latency_ms;           /* from arrival to the replica's queue (0 to the simulated-time limit) */
    /* weighted pipeline (llm-d's inference-scheduling profile: 3, 2, 2) */
    double prefix_weight, queue_weight, kv_weight;
    /* router-side prefix index (prefix-affinity and the prefix scorer) */
    guint prefix_block_size;     /* tokens per router block (llm-d: 64) */
    guint prefix_max_blocks;     /* leading blocks of a prompt considered (llm-d: 256) */
    guint prefix_capacity;       /* blocks remembered per replica, LRU; 0 = the replica's KV capacity */
    /* consistent hashing */
    ClHashKey hash_key;          /* what a request is hashed by */
    double load_factor;          /* bound: at most load_factor x the mean outstanding (> 1) */
    guint virtual_nodes;         /* ring points per replica */
    /* session stickiness (any policy): a later turn of a session goes to the
     * replica that took the session's previous turn, when admission allows */
    gboolean sticky_sessions;
} ClRouterSpec;

/* llm-d-like defaults for every field, round-robin policy. */
void cl_router_spec_init(ClRouterSpec *s);
/* Checks ranges; errors (SS_ERROR_INPUT) name `origin` and the field. */
gboolean cl_router_spec_validate(const ClRouterSpec *s, const char *origin, GError **error);
/* The snapshot interval in effect (the policy default when < 0), ms. */
double cl_router_spec_interval_ms(const ClRouterSpec *s);

/* ------------------------------------------------------------- admission -- */

typedef struct {
    guint max_waiting_per_replica;  /* a replica whose waiting requests (as the router sees them)
                                       reach this takes no more; 0: no cap */
    guint max_waiting;              /* the same over the whole fleet; 0: no cap */
    double rate_limit;              /* token bucket: requests/s admitted on average; 0: none */
    double burst;                   /* the bucket's size (requests); 0: max(1, rate_limit) */
} ClAdmissionSpec;

typedef enum {
    CL_REJECT_RATE_LIMIT = 0,
    CL_REJECT_FLEET_QUEUE,
    CL_REJECT_REPLICA_QUEUE,
    CL_REJECT_N
} ClRejectReason;

/* "rate_limit", "fleet_queue_full", "replica_queue_full". */
const char *cl_reject_reason_name(ClRejectReason r);

/* ----------------------------------------------------------------- pools -- */

typedef enum {
    CL_ROLE_BOTH = 0,   /* serves whole requests (prefill and decode) */
} ClPoolRole;

typedef struct {
    const char *name;            /* borrowed */
    ClPoolRole role;
    guint count;                 /* replicas (>= 1) */
    SchedConfig sched;
    LatStepModel *latency;       /* borrowed; shared by the pool's replicas */
    gboolean async_scheduling;   /* vLLM's async scheduling (sim_engine.h) */
} ClPoolSpec;

/* ------------------------------------------------------------------- run -- */

/* One routing decision, as a route hook sees it (tests). */
typedef struct {
    SimTime time;
    const WlRequest *request;
    int replica;                 /* chosen, or -1 when rejected */
    int reject_reason;           /* ClRejectReason when rejected, else -1 */
    guint num_replicas;
    SimReplica *const *replicas; /* the live replicas at decision time */
    const uint32_t *outstanding; /* router-local in-flight count per replica */
    SimTime snapshot_age;        /* how old the signals the router used are */
} ClDecision;

typedef void (*ClRouteHook)(const ClDecision *d, void *user);

typedef struct {
    guint num_pools;
    const ClPoolSpec *pools;     /* borrowed */
    ClRouterSpec router;
    ClAdmissionSpec admission;
    guint64 seed;                /* the router's random streams derive from it */
    WlSource *source;            /* borrowed; requests in arrival order */
    SimTime max_time;            /* 0: run until every request is done; else stop there */

    SimOutputs outputs;          /* FILEs borrowed; replica_column is set by the fleet */
    FILE *routing_csv;           /* optional: one row per routing decision */
    gboolean fleet_rows;         /* rows carry the replica (always when more than one replica) */

    SimStepHook step_hook;       /* optional, for tests */
    ClRouteHook route_hook;
    void *hook_user;
} ClConfig;

/* The outcome of a run. */
typedef struct {
    SimSummary *summary;         /* fleet-wide (run/1 figures) with the per-replica table */
    guint num_replicas;
    guint *replica_pool;         /* pool of each replica */
    ClRouterPolicy policy;
    double snapshot_interval_ms; /* in effect */
    double router_latency_ms;
    uint64_t rejected[CL_REJECT_N];
    uint64_t routed;             /* decisions that chose a replica */
    double imbalance;            /* max / mean requests per replica (1 = even) */
    double jain_index;           /* (sum x)^2 / (n sum x^2) over requests per replica, 1 = even */
    double prefix_hit_rate;      /* fleet-wide prefix-cache hits / looked-up tokens */
} ClResult;

/* Simulates the fleet to the end of its source (or max_time). Returns NULL
 * with an error on bad input from the source (SS_ERROR_INPUT), an invalid
 * configuration (SS_ERROR_USAGE / SS_ERROR_INPUT), or a stuck scheduler
 * (SS_ERROR_SIM). The result is the caller's (cl_result_free). */
ClResult *cl_run(const ClConfig *cfg, GError **error);
void cl_result_free(ClResult *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ClResult, cl_result_free)
/* Takes the summary out of a result (the result keeps NULL). */
SimSummary *cl_result_steal_summary(ClResult *r);

/* Whether a fleet with these pools and admission writes fleet outputs
 * (replica columns, servesim.run/2): more than one replica, or admission. */
gboolean cl_fleet_is_plural(guint num_pools, const ClPoolSpec *pools, const ClAdmissionSpec *admission);

#endif /* CL_H */
