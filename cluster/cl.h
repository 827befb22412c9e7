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
 * Disaggregated prefill and decode (cl_pd.c): pools have a role (both,
 * prefill, decode); a decider sends a request whole to a replica that
 * serves whole requests, or to a prefill replica, whose KV then moves to a
 * decode replica over links that concurrent transfers share (cl_transfer.c).
 * Autoscaling (cl_autoscale.c): a pool's replica count follows a metric
 * between its bounds; a new replica serves after it has loaded the model, a
 * removed one drains its requests first. A replica is a slot: created when
 * first needed, its counters kept when it leaves and comes back.
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
    /* weighted pipeline (llm-d's inference-scheduling profile: 3, 2, 2);
     * lora_weight: the LoRA affinity scorer (0 by default: off) */
    double prefix_weight, queue_weight, kv_weight, lora_weight;
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

/* ------------------------------------------------------------- transfers -- */

/* How KV moves between replicas (docs/disaggregation.md). A class sets
 * defaults for the fields left unset (< 0). */
typedef enum {
    CL_LINK_NVLINK = 0,  /* GPUs of one node over NVLink */
    CL_LINK_RDMA_400,    /* a 400 Gb/s RDMA NIC per GPU (InfiniBand NDR, RoCE) */
    CL_LINK_RDMA_200,    /* a 200 Gb/s RDMA NIC per GPU */
    CL_LINK_PCIE,        /* GPUs of one host without NVLink, through PCIe */
    CL_LINK_TCP_100,     /* 100 Gb/s Ethernet without RDMA */
    CL_LINK_TCP_25,      /* 25 Gb/s Ethernet without RDMA */
    CL_LINK_N
} ClLinkClass;

const char *cl_link_class_name(ClLinkClass c);
gboolean cl_link_class_from_name(const char *name, ClLinkClass *out);
const char *const *cl_link_class_names(void); /* NULL-terminated */

typedef struct {
    ClLinkClass link;
    double bandwidth_gbps;     /* line rate per GPU and direction, Gb/s; < 0: the class's */
    double efficiency;         /* share of the line rate bulk data reaches (0, 1]; < 0: the class's */
    double fabric_gbps;        /* a fabric every transfer shares, Gb/s; 0: non-blocking (NICs only) */
    double latency_ms;         /* fixed cost per transfer (handshake, notification); < 0: the class's */
    double per_descriptor_us;  /* cost per descriptor (one block of one layer's K or V); < 0: the class's */
    gboolean layerwise;        /* the KV streams out layer by layer during the prefill's last step */
} ClTransferSpec;

/* RDMA at 400 Gb/s, class defaults, no fabric, not layer-wise. */
void cl_transfer_spec_init(ClTransferSpec *t);
/* The spec with the class's defaults in place of unset fields. */
void cl_transfer_spec_resolve(const ClTransferSpec *t, ClTransferSpec *out);
/* Checks ranges (bandwidth > 0, efficiency in (0, 1], ...); errors
 * (SS_ERROR_INPUT) name `path` ("fleet.disaggregation.transfer") and the field. */
gboolean cl_transfer_spec_validate(const ClTransferSpec *t, const char *origin, const char *path, GError **error);

/* Which requests are disaggregated. */
typedef enum {
    CL_DECIDE_ALWAYS = 0,
    CL_DECIDE_NEVER,
    CL_DECIDE_PROMPT_LENGTH,   /* prompt tokens >= threshold */
    CL_DECIDE_PREFIX_MISS,     /* prompt tokens the chosen decode replica is not expected to hold >= threshold */
    CL_DECIDE_N
} ClDecider;

const char *cl_decider_name(ClDecider d);
gboolean cl_decider_from_name(const char *name, ClDecider *out);
const char *const *cl_decider_names(void); /* NULL-terminated */

typedef struct {
    ClDecider decider;
    guint threshold_tokens;      /* of the prompt-length and prefix-miss deciders */
    /* The decode replica is picked at arrival, before the prefill (llm-d,
     * vLLM's proxy) or when the prefill ends (a smarter router). The
     * prefix-miss decider always picks it at arrival. */
    gboolean decode_at_arrival;
    ClRouterPolicy decode_policy; /* the decode router's policy (its other settings: the router's) */
    ClTransferSpec transfer;
} ClPdSpec;

/* Always disaggregate, decode picked at arrival by `policy`, RDMA 400. */
void cl_pd_spec_init(ClPdSpec *p, ClRouterPolicy policy);

/* ----------------------------------------------------------- autoscaling -- */

typedef enum {
    CL_SCALE_WAITING = 0,  /* waiting requests per serving replica */
    CL_SCALE_RUNNING,      /* running requests per serving replica */
    CL_SCALE_KV,           /* KV-cache use (0..1), mean over serving replicas */
    CL_SCALE_RATE,         /* requests/s routed to the pool per serving replica, over the metric window */
    CL_SCALE_BUSY,         /* share of the metric window the serving replicas spent in steps */
    CL_SCALE_N
} ClScaleMetric;

const char *cl_scale_metric_name(ClScaleMetric m);
gboolean cl_scale_metric_from_name(const char *name, ClScaleMetric *out);
const char *const *cl_scale_metric_names(void); /* NULL-terminated */

/* A pool's autoscaler (the rule of Kubernetes' horizontal autoscaler):
 * every interval, with value the metric over the serving replicas,
 * desired = ceil(serving x value / target) when value / target is above
 * up_threshold or below down_threshold, within [min, max]; no scale-up
 * sooner than up_cooldown_s after the last scale-up; scale-down only to the
 * highest desired count of the last down_cooldown_s (a stabilization
 * window). */
typedef struct {
    gboolean enabled;
    ClScaleMetric metric;
    double target;             /* per serving replica (> 0) */
    double up_threshold;       /* value / target above which it scales up (>= 1; 1.1) */
    double down_threshold;     /* value / target below which it scales down (<= 1, < up; 0.9) */
    double interval_s;         /* how often it decides (15) */
    double metric_window_s;    /* rate and busy: measured over this window (60) */
    double up_cooldown_s;      /* (60) */
    double down_cooldown_s;    /* the scale-down stabilization window (300) */
    guint min_replicas, max_replicas; /* 1 <= min <= max */
    /* A new replica serves after provision_s; < 0: the weights per GPU over
     * load_gbps (GB/s from storage) plus startup_s (container, engine
     * start, CUDA graphs). */
    double provision_s;
    double load_gbps;          /* (2.0) */
    double startup_s;          /* (60) */
} ClAutoscaleSpec;

/* Off, with the defaults above (metric waiting, target 8, min 1, max 8). */
void cl_autoscale_spec_init(ClAutoscaleSpec *a);
/* Checks ranges and min <= count <= max; errors (SS_ERROR_INPUT) name `path`. */
gboolean cl_autoscale_spec_validate(const ClAutoscaleSpec *a, guint count, const char *origin, const char *path,
                                    GError **error);
/* The provisioning delay of a replica holding `weight_bytes_per_gpu`, s. */
double cl_autoscale_provision_s(const ClAutoscaleSpec *a, double weight_bytes_per_gpu);

#define CL_SCALE_MAX_WINDOWS 1000000u /* windows of the scaling books in one run */
/* Floors of the inputs that become simulated time (below them a transfer or
 * a provisioning takes longer than any run, or decisions come every
 * nanosecond): */
#define CL_SCALE_INTERVAL_MIN_S 0.1   /* autoscaler decisions at most every 100 ms */
#define CL_LOAD_GBPS_MIN 0.01         /* weights loaded at 10 MB/s or faster */
#define CL_LINK_GBPS_MIN 0.01         /* links (and a fabric) of 10 Mb/s or more */
#define CL_LINK_EFFICIENCY_MIN 0.01

/* What counts as served well, for SLO attainment over time: a request meets
 * its SLO when its TTFT and TPOT are within these (0: not bounded); a
 * rejected or unfinished request does not. */
typedef struct {
    double ttft_ms, tpot_ms;
    double window_s;           /* attainment and replicas are reported per window (0: 60 s; at most
                                  CL_SCALE_MAX_WINDOWS windows in a run) */
} ClSloSpec;

/* ----------------------------------------------------------------- pools -- */

typedef enum {
    CL_ROLE_BOTH = 0,   /* serves whole requests (prefill and decode) */
    CL_ROLE_PREFILL,    /* prefills disaggregated requests; their KV goes to a decode replica */
    CL_ROLE_DECODE,     /* decodes disaggregated requests after their KV arrives; serves whole requests too */
    CL_ROLE_N
} ClPoolRole;

const char *cl_pool_role_name(ClPoolRole r);
gboolean cl_pool_role_from_name(const char *name, ClPoolRole *out);

typedef struct {
    const char *name;            /* borrowed */
    ClPoolRole role;
    guint count;                 /* replicas (>= 1); with autoscaling, those serving at the start */
    SchedConfig sched;
    LatStepModel *latency;       /* borrowed; shared by the pool's replicas */
    gboolean async_scheduling;   /* vLLM's async scheduling (sim_engine.h) */
    guint gpus_per_replica;      /* for GPU-hours; 0 counts as 1 */
    /* KV transfers: bytes of one token's KV on one GPU (TP shard), its
     * attention layers and tensors per layer (2: K and V; 1: MLA's latent) */
    double kv_bytes_per_token;
    guint kv_layers, kv_tensors;
    double weight_bytes_per_gpu; /* the provisioning delay's default */
    const ClAutoscaleSpec *autoscale; /* borrowed; NULL or not enabled: a fixed count */
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

    const ClPdSpec *pd;          /* borrowed; NULL: no disaggregation (no prefill or decode pool) */
    const ClSloSpec *slo;        /* borrowed; NULL: no attainment series (unless autoscaling) */

    SimOutputs outputs;          /* FILEs borrowed; replica_column is set by the fleet */
    FILE *routing_csv;           /* optional: one row per routing decision */
    FILE *transfers_csv;         /* optional: one row per disaggregated request */
    FILE *scaling_csv;           /* optional: replicas and SLO attainment per window and pool */
    gboolean fleet_rows;         /* rows carry the replica (always when more than one replica) */

    SimStepHook step_hook;       /* optional, for tests */
    ClRouteHook route_hook;
    void *hook_user;
} ClConfig;

/* Per pool (disaggregated or autoscaled fleets). */
typedef struct {
    ClPoolRole role;
    guint replicas_min, replicas_max; /* serving, over the run */
    double replicas_mean;        /* serving, time-weighted over the run's duration */
    double gpu_hours;            /* replica-hours x GPUs, from provisioning to leaving (the run's span for fixed ones) */
    guint scale_ups, scale_downs;
    uint64_t completed, handed_off;
    SimStats ttft_ms, tpot_ms;   /* of the requests completed on the pool */
} ClPoolResult;

/* Disaggregation: what the stages cost. */
typedef struct {
    uint64_t disaggregated, whole;  /* requests the decider sent each way (admitted ones) */
    uint64_t transfers;             /* transfers ended */
    double bytes;                   /* KV moved per GPU (each TP shard moves this much in parallel) */
    SimStats transfer_mb;           /* per transfer and GPU, MB (1e6 bytes) */
    SimStats transfer_ms;           /* from the transfer's start (blocks allocated) to its end */
    SimStats prefill_queue_ms;      /* arrival to the prefill's first step */
    SimStats prefill_ms;            /* first step to the end of the prefill */
    SimStats kv_wait_ms;            /* end of the prefill to the KV on the decode replica */
    SimStats decode_ms;             /* KV arrived to the last token */
    double nic_tx_util_max;         /* busiest sending NIC: bytes / (capacity x duration) */
    double nic_rx_util_max;         /* busiest receiving NIC */
    double nic_rx_util_mean;        /* over the replicas that received */
    double fabric_util;             /* 0 without a fabric */
    ClTransferSpec transfer;        /* resolved */
} ClPdResult;

/* Replicas and SLO attainment over time, per window of the run (from its
 * first arrival). Per-pool arrays are window-major (window w, pool p at
 * w * num_pools + p). */
typedef struct {
    double window_s;
    guint num_windows, num_pools;
    double *serving, *provisioning, *draining; /* time-weighted mean replicas in the window, per pool */
    double *gpu_hours;           /* billed in the window, all pools */
    uint64_t *arrived;           /* requests that arrived in the window */
    uint64_t *met;               /* ... and completed within the SLO */
    uint64_t *completed;         /* ... and completed */
    double gpu_hours_total;
    double slo_attainment;       /* met / arrived over the run (NAN without arrivals or an SLO) */
    gboolean has_slo;
    ClSloSpec slo;
} ClScaleSeries;

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
    /* disaggregated, autoscaled or SLO-measured fleets (NULL / 0 otherwise) */
    guint num_pools;
    ClPoolResult *pools;         /* per pool, when disaggregated or autoscaled */
    ClPdResult *pd;              /* when disaggregated */
    ClScaleSeries *series;       /* when autoscaled or an SLO is given */
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
