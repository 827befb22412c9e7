/*
 * cl_fleet_internal.h: the state of a running fleet, shared by the run loop
 * (cl_fleet.c), disaggregation (cl_pd.c), the autoscaler (cl_autoscale.c)
 * and the result (cl_result.c). Internal to cluster/.
 *
 * Replicas are slots: each pool owns a contiguous range of them (its count,
 * or its autoscaler's maximum), created when first used; reps[r] is NULL for
 * a slot never used. A fleet without disaggregation or autoscaling has every
 * slot created and serving from the start, and routes without masks: it
 * runs exactly as it did before either existed.
 */
#ifndef CL_FLEET_INTERNAL_H
#define CL_FLEET_INTERNAL_H

#include "cl_internal.h"
#include "sim_queue.h"

/* Router-queue events (the replica queue has only STEP_END). */
enum {
    EV_ARRIVAL = 1,
    EV_DELIVER = 2,
    EV_SNAPSHOT = 3,
    EV_STEP_END = 4,
    EV_HANDOFF = 5,   /* a prefill's KV is ready to go: pick (or use) the decode replica, deliver */
    EV_XFER = 6,      /* a transfer event (cl_transfer.c): data = id | version << 32 */
    EV_SCALE = 7,     /* a pool's autoscaler decides: data = pool */
    EV_READY = 8,     /* a provisioned replica starts serving: data = slot */
};

/* What a delivery brings to a replica. */
enum { DELIVER_WHOLE = 0, DELIVER_PREFILL, DELIVER_REMOTE };

/* Slot states. */
enum { SLOT_NONE = 0, SLOT_PROVISIONING, SLOT_SERVING, SLOT_DRAINING, SLOT_OFF };

typedef struct {
    WlRequest w;
    guint replica;
    uint8_t kind;                /* DELIVER_* */
    uint32_t tag;                /* handoff of a prefill or remote delivery */
} Transit;

typedef struct ClPd ClPd;        /* cl_pd.c */
typedef struct ClScaler ClScaler;/* cl_autoscale.c */

typedef struct {
    const ClConfig *cfg;
    guint n;                     /* slots */
    SimReplica **reps;           /* NULL: a slot never used */
    guint *pool_of;              /* pool of each slot */
    guint *pool_base;            /* first slot of each pool; pool_base[num_pools] = n */
    SimRecorder *rec;
    ClRouter *router;            /* whole requests, and prefills when disaggregated */
    ClRouter *decode_router;     /* disaggregated: decodes and whole requests */
    const char **class_names;

    SimQueue *rq;                /* router events */
    SimQueue *pq;                /* replica events */
    SimTime now;

    WlRequest pending;           /* the next request of the source */
    gboolean has_pending;
    gboolean any_arrival;
    SimTime first_arrival, last_arrival;
    uint64_t arrived;

    /* router state */
    uint32_t *outstanding;       /* routed - completed - handed off - rejected, per replica */
    uint64_t *routed;            /* per replica */
    uint32_t *in_transit;        /* per replica: routed, not yet delivered */
    uint32_t *unseen;            /* routed since the signals were read */
    ClSignals *signals;
    gboolean *eligible;
    double *scores;
    double *lora_affinity;       /* per replica, for the request being routed */
    gboolean need_signals;
    SimTime interval;            /* 0: live signals */
    gboolean timer_on;
    SimTime last_tick;
    double bucket;               /* token bucket level (requests) */
    SimTime bucket_time;
    uint64_t rejected[CL_REJECT_N];
    uint64_t routed_total;

    /* masks by role and state (NULL: every replica takes everything) */
    gboolean *mask_whole;        /* serving replicas that serve whole requests */
    gboolean *mask_prefill;      /* serving prefill replicas */
    gboolean *mask_decode;       /* serving decode replicas */
    uint8_t *state;              /* SLOT_*; NULL: every slot serving */

    /* deliveries in arrival order */
    Transit *transit;
    guint tr_head, tr_len, tr_cap;

    /* replicas to wake once the router events of this instant are done */
    guint *dirty;
    guint num_dirty;
    uint8_t *is_dirty;

    /* interval time series */
    SimTime ts_interval, ts_next;
    uint64_t ts_rows;            /* rows written */

    ClPd *pd;                    /* NULL: no disaggregation */
    ClScaler *scaler;            /* NULL: no autoscaling and no SLO series */
} Fleet;

/* ------------------------------------------------------- cl_fleet.c -- */

void cl_fleet_mark_dirty(Fleet *f, guint r);
void cl_fleet_update_outstanding(Fleet *f, guint r);
/* Signals of replica r as the router sees them. */
void cl_fleet_read_signals(Fleet *f, guint r, ClSignals *s);
/* Admission at the front door: the token bucket, then the caps on waiting
 * requests over the replicas of `mask` (NULL: all). Returns the reject
 * reason, or -1 with *elig (may be NULL) the replicas admission allows. */
int cl_fleet_admit(Fleet *f, const gboolean *mask, SimTime *age, const gboolean **elig);
/* A request chosen for replica r at the router: counts, then delivery
 * (after the router latency, or now). */
void cl_fleet_send(Fleet *f, const WlRequest *w, guint r, uint8_t kind, uint32_t tag);
/* The two halves of cl_fleet_send: the counts of a routing decision
 * (routed, outstanding, unseen, in transit), and the delivery. */
void cl_fleet_count_routed(Fleet *f, guint r);
void cl_fleet_dispatch(Fleet *f, const WlRequest *w, guint r, uint8_t kind, uint32_t tag);
/* Writes a routing row (decision "routed", "sticky", "prefill", "decode", "rejected_..."). */
void cl_fleet_routing_row(Fleet *f, const WlRequest *w, const char *decision, int replica, SimTime age);
/* After admission and the router: tells the route hook the decision (the
 * chosen replica, or -1 and the reason >= 0 of a rejection) and, for a
 * rejection, counts it, records the request and writes its routing row.
 * Returns TRUE when the request was rejected (nothing more to do). */
gboolean cl_fleet_decided(Fleet *f, const WlRequest *w, int chosen, int reason, SimTime age);
/* Each replica's affinity for the request's LoRA adapter, read now (0 for a
 * replica slot not serving), for a router of `policy` (the fleet's weights);
 * NULL when the request names no adapter or that router has no LoRA scorer. */
const double *cl_fleet_lora_affinity(Fleet *f, ClRouterPolicy policy, const WlRequest *w);
/* Creates the replica of slot r (autoscaling); FALSE with an error when its
 * scheduler configuration is invalid. */
gboolean cl_fleet_create_replica(Fleet *f, guint r, GError **error);

/* ---------------------------------------------------------- cl_pd.c -- */

gboolean cl_pd_init(Fleet *f, GError **error);
void cl_pd_free(ClPd *pd);
/* The kv hooks replicas of a disaggregated fleet get. */
const SimKvHooks *cl_pd_hooks(ClPd *pd);
/* Routes an admitted-or-not request at the front door of a disaggregated fleet. */
void cl_pd_route(Fleet *f, const WlRequest *w);
/* A delivery of kind PREFILL or REMOTE reached replica r. */
void cl_pd_deliver(Fleet *f, const WlRequest *w, guint r, uint8_t kind, uint32_t tag);
/* Router-queue events of disaggregation. */
void cl_pd_handoff(Fleet *f, uint32_t tag);
void cl_pd_transfer_event(Fleet *f, uint64_t data);
/* Whether transfers or handoffs are under way (the fleet is not quiet). */
gboolean cl_pd_busy(const ClPd *pd);
/* FALSE with an error when a transfer would have ended past the clock's
 * horizon (after the run). */
gboolean cl_pd_check_times(const ClPd *pd, GError **error);
/* At the end: rows of the requests a time limit left between stages, and
 * those requests for the front door's in-flight count (appended to out). */
void cl_pd_unfinished(Fleet *f, GArray *out);
/* The results (ClResult.pd); `duration_s` for utilisation. */
ClPdResult *cl_pd_result(Fleet *f, double duration_s);

/* --------------------------------------------------- cl_autoscale.c -- */

gboolean cl_scaler_init(Fleet *f, GError **error);
void cl_scaler_free(ClScaler *sc);
/* The first arrival: billing and windows start, the autoscalers' timers too. */
void cl_scaler_start(Fleet *f);
/* A request arrived at the front door (for attainment per window). */
void cl_scaler_arrival(Fleet *f, SimTime t);
/* A request was routed to a replica of pool p (for the rate metric). */
void cl_scaler_routed(Fleet *f, guint r);
void cl_scaler_tick(Fleet *f, guint pool, GError **error);
gboolean cl_scaler_ready(Fleet *f, guint slot, GError **error);
/* A replica may have finished draining (call after it ends a step or its
 * transfers end). */
void cl_scaler_check_drained(Fleet *f, guint r);
/* Whether the scaler's events would change nothing (the source is done and
 * the fleet is quiet): they are then dropped. */
gboolean cl_scaler_idle_event(const Fleet *f, const SimEvent *ev);
/* Stops the books at the end of the run and builds the series and the
 * per-pool figures (res->pools, res->series). */
void cl_scaler_finish(Fleet *f, SimTime end, ClResult *res);
/* Whether the run up to `end` fits in CL_SCALE_MAX_WINDOWS windows; else an
 * error naming the window to give (before cl_scaler_finish). */
gboolean cl_scaler_check_windows(const Fleet *f, SimTime end, GError **error);
/* Writes the scaling CSV (after cl_scaler_finish). */
void cl_scaler_write_csv(const Fleet *f, const ClResult *res, FILE *out);
/* Serving seconds of slot r over the run (after cl_scaler_finish). */
double cl_scaler_serving_s(const ClScaler *sc, guint r);

/* ------------------------------------------------------ cl_result.c -- */

/* The result of a run that ended at f->now (stopped: by the time limit). */
ClResult *cl_fleet_result(Fleet *f, gboolean stopped);

#endif /* CL_FLEET_INTERNAL_H */
