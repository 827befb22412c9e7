/*
 * cl_fleet.c: the run loop of a fleet on one clock (see cl.h).
 *
 * Two event queues, each a min-heap on (time, seq) (sim_queue.h):
 *   router  ARRIVAL   the next request of the source reaches the front door
 *           DELIVER   a routed request reaches its replica (router latency)
 *           SNAPSHOT  the replicas' signals are copied for the router
 *   replica STEP_END  a replica's running step ends (at most one per replica)
 * The loop takes the earlier head; at equal times the router's first. After
 * the last router event of an instant, the replicas that received requests
 * are woken (start a step if idle), so that requests arriving together are
 * scheduled together and a request arriving exactly when a step ends joins
 * the step that follows.
 *
 * Arrival: admission (token bucket, fleet-wide and per-replica caps on
 * waiting requests as the router sees them), then the policy, then delivery
 * (at once, or a DELIVER event after the router latency; deliveries keep
 * arrival order since the latency is constant, so they sit in a FIFO).
 *
 * Signals: with an interval of 0 the router reads the replicas live at each
 * decision; otherwise SNAPSHOT events at the multiples of the interval copy
 * them. When nothing can change them (every replica idle, nothing in
 * transit) the timer stops, and the next arrival restarts it at the next
 * multiple; the copy in hand is then exactly what a tick at the last
 * multiple would have read. Requests routed since the signals were read are
 * "unseen" (vLLM's balancer adds them to the waiting count it read).
 *
 * Conservation, checked in tests: for the fleet, arrived = completed +
 * rejected (admission and replicas) + in flight (in transit and on
 * replicas); for each replica, routed = completed + rejected + in flight.
 */
#include <math.h>
#include <string.h>

#include "cl_internal.h"
#include "sim_queue.h"
#include "ss_error.h"

enum { EV_ARRIVAL = 1, EV_DELIVER = 2, EV_SNAPSHOT = 3, EV_STEP_END = 4 };

static const char *const reject_names[] = {"rate_limit", "fleet_queue_full", "replica_queue_full"};
G_STATIC_ASSERT(G_N_ELEMENTS(reject_names) == CL_REJECT_N);

const char *cl_reject_reason_name(ClRejectReason r)
{
    return r < CL_REJECT_N ? reject_names[r] : "unknown";
}

typedef struct {
    WlRequest w;
    guint replica;
} Transit;

typedef struct {
    const ClConfig *cfg;
    guint n;                     /* replicas */
    SimReplica **reps;
    guint *pool_of;
    SimRecorder *rec;
    ClRouter *router;
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
    uint32_t *outstanding;       /* routed - completed - rejected, per replica */
    uint64_t *routed;            /* per replica */
    uint32_t *in_transit;        /* per replica */
    uint32_t *unseen;            /* routed since the signals were read */
    ClSignals *signals;
    gboolean *eligible;
    double *scores;
    gboolean need_signals;
    SimTime interval;            /* 0: live signals */
    gboolean timer_on;
    SimTime last_tick;
    double bucket;               /* token bucket level (requests) */
    SimTime bucket_time;
    uint64_t rejected[CL_REJECT_N];
    uint64_t routed_total;

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
} Fleet;

gboolean cl_fleet_is_plural(guint num_pools, const ClPoolSpec *pools, const ClAdmissionSpec *admission)
{
    guint total = 0;
    for (guint i = 0; i < num_pools; i++)
        total += pools[i].count;
    return total > 1 ||
           (admission && (admission->max_waiting_per_replica || admission->max_waiting || admission->rate_limit > 0));
}

/* ------------------------------------------------------------- helpers -- */

static void transit_push(Fleet *f, const WlRequest *w, guint replica)
{
    if (f->tr_len == f->tr_cap) {
        guint cap = MAX(64, f->tr_cap * 2);
        Transit *t = g_new(Transit, cap);
        for (guint i = 0; i < f->tr_len; i++)
            t[i] = f->transit[(f->tr_head + i) % f->tr_cap];
        g_free(f->transit);
        f->transit = t;
        f->tr_cap = cap;
        f->tr_head = 0;
    }
    f->transit[(f->tr_head + f->tr_len) % f->tr_cap] = (Transit){.w = *w, .replica = replica};
    f->tr_len++;
}

static void mark_dirty(Fleet *f, guint r)
{
    if (!f->is_dirty[r]) {
        f->is_dirty[r] = 1;
        f->dirty[f->num_dirty++] = r;
    }
}

static void update_outstanding(Fleet *f, guint r)
{
    f->outstanding[r] =
        (uint32_t)(f->routed[r] - sim_replica_completed(f->reps[r]) - sim_replica_rejected(f->reps[r]));
}

static void read_signals(Fleet *f, guint r, ClSignals *s)
{
    const SimReplica *rep = f->reps[r];
    s->waiting = sim_replica_num_waiting(rep) + sim_replica_num_deferred(rep);
    s->running = sim_replica_num_running(rep);
    s->kv_used = sim_replica_kv_used(rep);
    s->kv_blocks = sim_replica_kv_blocks(rep);
    s->kv_cached = sim_replica_kv_cached(rep);
}

/* Emits the interval rows whose end is at or before `t` (one per replica
 * and interval). Fails, before writing them, when the series would pass
 * SIM_TIMESERIES_MAX_ROWS rows (one is kept for the last, partial interval). */
static gboolean advance_intervals(Fleet *f, SimTime t, GError **error)
{
    if (!f->ts_interval || !f->any_arrival || !f->cfg->outputs.timeseries_csv || f->ts_next > t)
        return TRUE;
    uint64_t intervals = (t - f->ts_next) / f->ts_interval + 1;
    uint64_t room = (SIM_TIMESERIES_MAX_ROWS - f->ts_rows) / f->n;
    if (intervals + 1 > room) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "the time series by intervals of %g s would have more than %u rows by %.3f s of simulated "
                    "time (%.3f s after the first arrival, %u replica%s): use a longer --timeseries-interval",
                    f->cfg->outputs.timeseries_interval_s, SIM_TIMESERIES_MAX_ROWS, sim_time_to_seconds(t),
                    sim_time_to_seconds(t - f->first_arrival), f->n, f->n == 1 ? "" : "s");
        return FALSE;
    }
    while (f->ts_next <= t) {
        for (guint r = 0; r < f->n; r++)
            sim_replica_flush_interval(f->reps[r], f->ts_next - f->ts_interval);
        f->ts_next += f->ts_interval; /* within SIM_TIME_HORIZON + one interval: no wrap */
    }
    f->ts_rows += intervals * f->n;
    return TRUE;
}

/* -------------------------------------------------------------- signals -- */

static gboolean fleet_quiet(const Fleet *f)
{
    if (f->tr_len)
        return FALSE;
    for (guint r = 0; r < f->n; r++)
        if (sim_replica_busy(f->reps[r]) || sim_replica_in_flight(f->reps[r]))
            return FALSE;
    return TRUE;
}

static void start_timer(Fleet *f)
{
    if (f->timer_on || !f->need_signals || !f->interval)
        return;
    SimTime next = (f->now / f->interval + 1) * f->interval;
    f->last_tick = next - f->interval;
    sim_queue_push(f->rq, next, EV_SNAPSHOT, 0);
    f->timer_on = TRUE;
}

static void snapshot(Fleet *f)
{
    for (guint r = 0; r < f->n; r++) {
        read_signals(f, r, &f->signals[r]);
        f->unseen[r] = f->in_transit[r];
    }
    f->last_tick = f->now;
    if (fleet_quiet(f))
        f->timer_on = FALSE; /* nothing changes until the next arrival restarts it */
    else
        sim_queue_push(f->rq, sim_time_add_sat(f->now, f->interval), EV_SNAPSHOT, 0);
}

/* ------------------------------------------------------------ front door -- */

/* Whether every replica the router may choose serves a request naming a
 * LoRA adapter or a priority, as vLLM refuses them otherwise. */
static gboolean request_served(const Fleet *f, const WlRequest *w, GError **error)
{
    for (guint r = 0; r < f->n; r++) {
        const SchedConfig *c = sim_replica_sched_config(f->reps[r]);
        if (w->lora_id && c->max_loras == 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "request %" G_GUINT64_FORMAT " names LoRA adapter '%s', but the server does not serve LoRA "
                        "adapters (--enable-lora)",
                        w->id, wl_source_adapter_name(f->cfg->source, w->lora_id));
            return FALSE;
        }
        if (w->priority != 0 && c->policy != SCHED_POLICY_PRIORITY) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "request %" G_GUINT64_FORMAT " has priority %d, but the scheduling policy is fcfs (vLLM "
                        "refuses it: --scheduling-policy priority)",
                        w->id, w->priority);
            return FALSE;
        }
    }
    return TRUE;
}

/* Reads the source's next request into f->pending. */
static gboolean pull(Fleet *f, GError **error)
{
    int rc = wl_source_next(f->cfg->source, &f->pending, error);
    if (rc < 0)
        return FALSE;
    f->has_pending = rc > 0;
    if (f->has_pending && f->pending.arrival > SIM_TIME_LIMIT) { /* sources check it; a guard for new ones */
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "request %" G_GUINT64_FORMAT " arrives at %.9f s, after the simulated-time limit of %g s",
                    f->pending.id, sim_time_to_seconds(f->pending.arrival), SIM_TIME_LIMIT_S);
        return FALSE;
    }
    if (f->has_pending && f->pending.arrival < f->now) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "request %" G_GUINT64_FORMAT " arrives at %.9f s, before the previous one (%.9f s)",
                    f->pending.id, sim_time_to_seconds(f->pending.arrival), sim_time_to_seconds(f->now));
        return FALSE;
    }
    if (f->has_pending && (f->pending.lora_id || f->pending.priority) && !request_served(f, &f->pending, error))
        return FALSE;
    if (f->has_pending && (f->pending.input_tokens == 0 || f->pending.output_tokens == 0)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "request %" G_GUINT64_FORMAT " has %u input and %u output tokens; both must be >= 1",
                    f->pending.id, f->pending.input_tokens, f->pending.output_tokens);
        return FALSE;
    }
    return TRUE;
}

static void deliver(Fleet *f, const WlRequest *w, guint r)
{
    sim_replica_add(f->reps[r], w, f->now);
    update_outstanding(f, r);
    mark_dirty(f, r);
}

static void write_routing_row(Fleet *f, const WlRequest *w, const char *decision, int replica, SimTime age)
{
    FILE *out = f->cfg->routing_csv;
    fprintf(out, "%.6f,%" G_GUINT64_FORMAT ",%s,", sim_time_to_seconds(f->now), w->id, decision);
    if (replica >= 0)
        fprintf(out, "%d", replica);
    fprintf(out, ",%.3f", sim_time_to_ms(age));
    for (guint r = 0; r < f->n; r++) {
        fputc(',', out);
        if (!isnan(f->scores[r]))
            fprintf(out, "%.6g", f->scores[r]);
    }
    fputc('\n', out);
}

/* Admission and routing of one request at the front door. */
static void route(Fleet *f, const WlRequest *w)
{
    const ClConfig *cfg = f->cfg;
    const ClAdmissionSpec *adm = &cfg->admission;
    SimTime age = 0;
    if (f->need_signals || adm->max_waiting_per_replica || adm->max_waiting) {
        if (!f->interval) {
            for (guint r = 0; r < f->n; r++)
                read_signals(f, r, &f->signals[r]);
        } else {
            start_timer(f);
            age = f->now - f->last_tick;
        }
    }
    int reason = -1;
    /* token bucket */
    if (adm->rate_limit > 0) {
        double burst = adm->burst > 0 ? adm->burst : MAX(1.0, adm->rate_limit);
        f->bucket = MIN(burst, f->bucket + adm->rate_limit * sim_time_to_seconds(f->now - f->bucket_time));
        f->bucket_time = f->now;
        if (f->bucket < 1.0)
            reason = CL_REJECT_RATE_LIMIT;
    }
    /* caps on waiting requests as the router sees them: reported + unseen */
    gboolean *elig = NULL;
    if (reason < 0 && (adm->max_waiting || adm->max_waiting_per_replica)) {
        uint64_t total = 0;
        guint n_ok = 0;
        for (guint r = 0; r < f->n; r++) {
            uint64_t wq = (uint64_t)f->signals[r].waiting + f->unseen[r];
            total += wq;
            f->eligible[r] = !adm->max_waiting_per_replica || wq < adm->max_waiting_per_replica;
            n_ok += f->eligible[r];
        }
        elig = f->eligible;
        if (adm->max_waiting && total >= adm->max_waiting)
            reason = CL_REJECT_FLEET_QUEUE;
        else if (n_ok == 0)
            reason = CL_REJECT_REPLICA_QUEUE;
    }
    int chosen = -1;
    gboolean sticky = FALSE;
    if (reason < 0) {
        ClView view = {.n = f->n, .outstanding = f->outstanding, .signals = f->signals, .unseen = f->unseen,
                       .eligible = elig};
        if (f->n == 1 && !cfg->routing_csv && !elig)
            chosen = 0; /* a fleet of one: nothing to choose */
        else
            chosen = cl_router_pick(f->router, w, &view, cfg->routing_csv ? f->scores : NULL, &sticky);
        if (chosen < 0) /* cannot happen with an eligible replica; counted, never lost */
            reason = CL_REJECT_REPLICA_QUEUE;
    } else if (cfg->routing_csv) {
        for (guint r = 0; r < f->n; r++)
            f->scores[r] = NAN;
    }
    if (cfg->route_hook) {
        ClDecision d = {.time = f->now, .request = w, .replica = chosen, .reject_reason = reason,
                        .num_replicas = f->n, .replicas = f->reps, .outstanding = f->outstanding,
                        .snapshot_age = age};
        cfg->route_hook(&d, cfg->hook_user);
    }
    if (reason >= 0) {
        f->rejected[reason]++;
        char *status = g_strconcat("rejected_", reject_names[reason], NULL);
        sim_recorder_reject(f->rec, w, status);
        if (cfg->routing_csv)
            write_routing_row(f, w, status, -1, age);
        g_free(status);
        return;
    }
    guint r = (guint)chosen;
    if (adm->rate_limit > 0)
        f->bucket -= 1.0;
    cl_router_commit(f->router, w, r);
    f->routed[r]++;
    f->routed_total++;
    f->outstanding[r]++;
    f->unseen[r]++;
    if (cfg->routing_csv)
        write_routing_row(f, w, sticky ? "sticky" : "routed", chosen, age);
    if (cfg->router.latency_ms > 0) {
        f->in_transit[r]++;
        transit_push(f, w, r);
        /* latency_ms <= SIM_TIME_LIMIT (checked): within range; saturating regardless */
        sim_queue_push(f->rq, sim_time_add_sat(f->now, sim_time_from_seconds(cfg->router.latency_ms / 1e3)),
                       EV_DELIVER, 0);
    } else {
        if (!f->interval)
            f->unseen[r]--; /* live signals show it from now on */
        deliver(f, w, r);
    }
}

static gboolean handle_arrivals(Fleet *f, GError **error)
{
    do {
        const WlRequest *w = &f->pending;
        if (!f->any_arrival) {
            f->any_arrival = TRUE;
            f->first_arrival = w->arrival;
            f->ts_next = w->arrival + f->ts_interval; /* both <= SIM_TIME_LIMIT: no wrap */
            f->bucket_time = w->arrival;
            f->bucket = f->cfg->admission.burst > 0 ? f->cfg->admission.burst
                                                     : MAX(1.0, f->cfg->admission.rate_limit);
        }
        if (!advance_intervals(f, w->arrival, error))
            return FALSE;
        f->last_arrival = w->arrival;
        f->arrived++;
        sim_recorder_arrival(f->rec, w);
        WlRequest copy = *w;
        route(f, &copy);
        if (!pull(f, error))
            return FALSE;
    } while (f->has_pending && f->pending.arrival == f->now);
    if (f->has_pending)
        sim_queue_push(f->rq, f->pending.arrival, EV_ARRIVAL, 0);
    return TRUE;
}

static void handle_deliver(Fleet *f)
{
    g_assert(f->tr_len > 0); /* one DELIVER event per transit entry */
    Transit t = f->transit[f->tr_head];
    f->tr_head = (f->tr_head + 1) % f->tr_cap;
    f->tr_len--;
    f->in_transit[t.replica]--;
    if (!f->interval)
        f->unseen[t.replica]--;
    deliver(f, &t.w, t.replica);
}

/* Starts a step on the replicas that received requests at this instant. */
static gboolean wake_dirty(Fleet *f, GError **error)
{
    for (guint i = 0; i < f->num_dirty; i++) {
        guint r = f->dirty[i];
        f->is_dirty[r] = 0;
        SimReplica *rep = f->reps[r];
        if (sim_replica_busy(rep))
            continue;
        if (!sim_replica_wake(rep, f->now, error))
            return FALSE;
        if (sim_replica_busy(rep))
            sim_queue_push(f->pq, sim_replica_next_event(rep), EV_STEP_END, r);
    }
    f->num_dirty = 0;
    return TRUE;
}

/* ------------------------------------------------------------------ run -- */

static void fleet_clear(Fleet *f)
{
    if (f->reps)
        for (guint r = 0; r < f->n; r++)
            sim_replica_free(f->reps[r]);
    g_free(f->reps);
    sim_recorder_free(f->rec);
    cl_router_free(f->router);
    g_free(f->class_names);
    sim_queue_free(f->rq);
    sim_queue_free(f->pq);
    g_free(f->outstanding);
    g_free(f->routed);
    g_free(f->in_transit);
    g_free(f->unseen);
    g_free(f->signals);
    g_free(f->eligible);
    g_free(f->scores);
    g_free(f->transit);
    g_free(f->dirty);
    g_free(f->is_dirty);
    /* pool_of is handed to the result */
}

static gboolean fleet_init(Fleet *f, const ClConfig *cfg, GError **error)
{
    f->cfg = cfg;
    for (guint p = 0; p < cfg->num_pools; p++)
        f->n += cfg->pools[p].count;
    if (f->n == 0 || f->n > SIM_MAX_REPLICAS) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "a fleet needs from 1 to %u replicas, got %u", SIM_MAX_REPLICAS,
                    f->n);
        return FALSE;
    }
    if (!cl_router_spec_validate(&cfg->router, NULL, error))
        return FALSE;
    const ClAdmissionSpec *adm = &cfg->admission;
    if (!(adm->rate_limit >= 0) || !isfinite(adm->rate_limit) || !(adm->burst >= 0) || !isfinite(adm->burst)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "admission: rate_limit and burst must be numbers >= 0, got %g and %g", adm->rate_limit,
                    adm->burst);
        return FALSE;
    }
    guint nc = MAX(wl_source_num_classes(cfg->source), 1);
    f->class_names = g_new0(const char *, nc + 1);
    for (guint c = 0; c < nc; c++)
        f->class_names[c] = wl_source_class_name(cfg->source, c);
    SimOutputs out = cfg->outputs;
    out.replica_column = cfg->fleet_rows;
    double iv = out.timeseries_interval_s;
    if (iv != 0 && !(iv >= SIM_OUTPUT_INTERVAL_MIN_S && iv <= SIM_TIME_LIMIT_S)) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "time series interval: expected %g to %g s, got %g",
                    SIM_OUTPUT_INTERVAL_MIN_S, SIM_TIME_LIMIT_S, iv);
        return FALSE;
    }
    f->rec = sim_recorder_new(nc, f->class_names, &out);
    f->ts_interval = sim_recorder_interval(f->rec);

    f->reps = g_new0(SimReplica *, f->n);
    f->pool_of = g_new0(guint, f->n);
    uint64_t *kv_tokens = g_new0(uint64_t, f->n);
    guint r = 0;
    for (guint p = 0; p < cfg->num_pools; p++) {
        const ClPoolSpec *ps = &cfg->pools[p];
        for (guint k = 0; k < ps->count; k++, r++) {
            SimReplicaConfig rc = {.sched = ps->sched, .latency = ps->latency, .recorder = f->rec, .index = r,
                                   .async_scheduling = ps->async_scheduling, .step_hook = cfg->step_hook,
                                   .hook_user = cfg->hook_user};
            f->reps[r] = sim_replica_new(&rc, error);
            if (!f->reps[r]) {
                g_free(kv_tokens);
                return FALSE;
            }
            f->pool_of[r] = p;
            kv_tokens[r] = (uint64_t)sim_replica_kv_blocks(f->reps[r]) * ps->sched.block_size;
        }
    }
    f->router = cl_router_new(&cfg->router, f->n, kv_tokens, cfg->seed);
    g_free(kv_tokens);
    f->need_signals = cl_router_uses_signals(f->router);
    double interval_ms = cl_router_spec_interval_ms(&cfg->router);
    f->interval = interval_ms > 0 ? MAX(sim_time_from_seconds(interval_ms / 1e3), 1) : 0;
    if (!f->need_signals && !adm->max_waiting && !adm->max_waiting_per_replica)
        f->interval = 0; /* nothing reads them */

    f->rq = sim_queue_new();
    f->pq = sim_queue_new();
    f->outstanding = g_new0(uint32_t, f->n);
    f->routed = g_new0(uint64_t, f->n);
    f->in_transit = g_new0(uint32_t, f->n);
    f->unseen = g_new0(uint32_t, f->n);
    f->signals = g_new0(ClSignals, f->n);
    for (guint k = 0; k < f->n; k++)
        read_signals(f, k, &f->signals[k]); /* the idle fleet, as a first report */
    f->eligible = g_new0(gboolean, f->n);
    f->scores = g_new0(double, f->n);
    f->dirty = g_new0(guint, f->n);
    f->is_dirty = g_new0(uint8_t, f->n);
    return TRUE;
}

static ClResult *fleet_result(Fleet *f, gboolean stopped)
{
    ClResult *res = g_new0(ClResult, 1);
    /* requests between the router and a replica, in transit order */
    WlRequest *transit = g_new(WlRequest, MAX(f->tr_len, 1));
    for (guint i = 0; i < f->tr_len; i++)
        transit[i] = f->transit[(f->tr_head + i) % f->tr_cap].w;
    uint64_t rejected_admission = 0;
    for (guint k = 0; k < CL_REJECT_N; k++)
        rejected_admission += f->rejected[k];
    SimFrontDoor fd = {
        .any_arrival = f->any_arrival,
        .first_arrival = f->first_arrival,
        .last_arrival = f->last_arrival,
        .arrived = f->arrived,
        .rejected_admission = rejected_admission,
        .num_in_transit = f->tr_len,
        .in_transit = transit,
        .rows_skipped = wl_source_rows_skipped(f->cfg->source),
        .now = f->now,
        .stopped = stopped,
    };
    res->summary = sim_summarise(f->rec, f->reps, f->n, &fd);
    g_free(transit);
    res->num_replicas = f->n;
    res->replica_pool = f->pool_of;
    f->pool_of = NULL;
    res->policy = f->cfg->router.policy;
    res->snapshot_interval_ms = f->interval ? cl_router_spec_interval_ms(&f->cfg->router) : 0;
    res->router_latency_ms = f->cfg->router.latency_ms;
    memcpy(res->rejected, f->rejected, sizeof res->rejected);
    res->routed = f->routed_total;
    /* load imbalance over requests routed to each replica */
    double sum = 0, sum2 = 0, max = 0;
    for (guint r = 0; r < f->n; r++) {
        double x = (double)f->routed[r];
        sum += x;
        sum2 += x * x;
        max = MAX(max, x);
    }
    res->imbalance = sum > 0 ? max / (sum / f->n) : 1.0;
    res->jain_index = sum2 > 0 ? sum * sum / (f->n * sum2) : 1.0;
    const SimSummary *s = res->summary;
    res->prefix_hit_rate = s->prefix_query_tokens ? (double)s->prefix_hit_tokens / s->prefix_query_tokens : 0;
    return res;
}

ClResult *cl_run(const ClConfig *cfg, GError **error)
{
    g_return_val_if_fail(cfg && cfg->source && cfg->pools, NULL); /* a contract on the caller, not input */
    Fleet f = {0};
    ClResult *result = NULL;
    gboolean stopped = FALSE;
    if (!fleet_init(&f, cfg, error))
        goto out;
    sim_recorder_write_headers(f.rec);
    if (cfg->routing_csv) {
        fputs("time_s,id,decision,replica,snapshot_age_ms", cfg->routing_csv);
        for (guint r = 0; r < f.n; r++)
            fprintf(cfg->routing_csv, ",score_%u", r);
        fputc('\n', cfg->routing_csv);
    }
    if (!pull(&f, error))
        goto out;
    if (f.has_pending)
        sim_queue_push(f.rq, f.pending.arrival, EV_ARRIVAL, 0);

    for (;;) {
        const SimEvent *re = sim_queue_peek(f.rq), *pe = sim_queue_peek(f.pq);
        if (!re && !pe)
            break;
        gboolean router = re && (!pe || re->time <= pe->time);
        SimEvent ev;
        ev = router ? *re : *pe;
        if (cfg->max_time && ev.time > cfg->max_time) {
            stopped = TRUE;
            if (!advance_intervals(&f, cfg->max_time, error))
                goto out;
            f.now = cfg->max_time;
            break;
        }
        if (ev.time < f.now) { /* the queues never yield an earlier event: a bug, reported, not asserted */
            g_set_error(error, SS_ERROR, SS_ERROR_SIM, "simulated time ran backwards (%.9f s after %.9f s)",
                        sim_time_to_seconds(ev.time), sim_time_to_seconds(f.now));
            goto out;
        }
        sim_queue_pop(router ? f.rq : f.pq, &ev);
        f.now = ev.time;
        if (router) {
            switch (ev.kind) {
            case EV_ARRIVAL:
                if (!handle_arrivals(&f, error))
                    goto out;
                break;
            case EV_DELIVER:
                if (!advance_intervals(&f, f.now, error))
                    goto out;
                handle_deliver(&f);
                break;
            case EV_SNAPSHOT:
                if (!advance_intervals(&f, f.now, error))
                    goto out;
                snapshot(&f);
                break;
            }
            const SimEvent *next = sim_queue_peek(f.rq);
            if (f.num_dirty && (!next || next->time != f.now) && !wake_dirty(&f, error))
                goto out;
        } else {
            if (!advance_intervals(&f, f.now, error))
                goto out;
            guint r = (guint)ev.data;
            if (!sim_replica_end_step(f.reps[r], error))
                goto out;
            update_outstanding(&f, r);
            if (sim_replica_busy(f.reps[r]))
                sim_queue_push(f.pq, sim_replica_next_event(f.reps[r]), EV_STEP_END, r);
        }
    }
    if (cfg->outputs.timeseries_csv && f.ts_interval && f.any_arrival) {
        gboolean active = FALSE;
        for (guint r = 0; r < f.n; r++)
            active = active || sim_replica_interval_active(f.reps[r]);
        if (active)
            for (guint r = 0; r < f.n; r++)
                sim_replica_flush_interval(f.reps[r], f.ts_next - f.ts_interval);
    }
    /* rows for the requests a time limit left in flight */
    for (guint r = 0; r < f.n; r++)
        sim_replica_write_in_flight_rows(f.reps[r]);
    for (guint i = 0; i < f.tr_len; i++)
        sim_recorder_unserved_row(f.rec, &f.transit[(f.tr_head + i) % f.tr_cap].w, "routing");
    result = fleet_result(&f, stopped);
out:
    g_free(f.pool_of);
    fleet_clear(&f);
    return result;
}

void cl_result_free(ClResult *r)
{
    if (!r)
        return;
    sim_summary_free(r->summary);
    g_free(r->replica_pool);
    g_free(r);
}

SimSummary *cl_result_steal_summary(ClResult *r)
{
    SimSummary *s = r->summary;
    r->summary = NULL;
    return s;
}
