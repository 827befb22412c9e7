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
 * rejected (admission and replicas) + in flight (in transit, between the
 * stages of a disaggregated request, and on replicas); for each replica,
 * routed = completed + handed off + rejected + in flight.
 *
 * Disaggregation (cl_pd.c) and autoscaling (cl_autoscale.c) add router
 * events (handoffs, transfers, autoscaler decisions, replicas ready) and
 * masks of the replicas each kind of request may go to; without them
 * nothing here changes (no mask, no extra event, the same order).
 */
#include <math.h>
#include <string.h>

#include "cl_fleet_internal.h"
#include "ss_error.h"

static const char *const reject_names[] = {"rate_limit", "fleet_queue_full", "replica_queue_full"};
G_STATIC_ASSERT(G_N_ELEMENTS(reject_names) == CL_REJECT_N);

const char *cl_reject_reason_name(ClRejectReason r)
{
    return r < CL_REJECT_N ? reject_names[r] : "unknown";
}


gboolean cl_fleet_is_plural(guint num_pools, const ClPoolSpec *pools, const ClAdmissionSpec *admission)
{
    guint total = 0;
    for (guint i = 0; i < num_pools; i++)
        total += pools[i].count;
    return total > 1 ||
           (admission && (admission->max_waiting_per_replica || admission->max_waiting || admission->rate_limit > 0));
}

/* ------------------------------------------------------------- helpers -- */

static void transit_push(Fleet *f, const WlRequest *w, guint replica, uint8_t kind, uint32_t tag)
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
    f->transit[(f->tr_head + f->tr_len) % f->tr_cap] = (Transit){.w = *w, .replica = replica, .kind = kind, .tag = tag};
    f->tr_len++;
}

void cl_fleet_mark_dirty(Fleet *f, guint r)
{
    if (!f->is_dirty[r]) {
        f->is_dirty[r] = 1;
        f->dirty[f->num_dirty++] = r;
    }
}

void cl_fleet_update_outstanding(Fleet *f, guint r)
{
    const SimReplica *rep = f->reps[r];
    f->outstanding[r] = (uint32_t)(f->routed[r] - sim_replica_completed(rep) - sim_replica_rejected(rep) -
                                   sim_replica_handed_off(rep));
}

void cl_fleet_read_signals(Fleet *f, guint r, ClSignals *s)
{
    const SimReplica *rep = f->reps[r];
    if (!rep) { /* a slot never used: nothing to report */
        memset(s, 0, sizeof *s);
        return;
    }
    s->waiting = sim_replica_num_waiting(rep) + sim_replica_num_deferred(rep) + sim_replica_num_remote_waiting(rep);
    s->running = sim_replica_num_running(rep);
    s->kv_used = sim_replica_kv_used(rep);
    s->kv_blocks = sim_replica_kv_blocks(rep);
    s->kv_cached = sim_replica_kv_cached(rep);
}

/* Emits the interval rows whose end is at or before `t` (one per replica
 * and interval). Fails, before writing them, when the series would pass
 * SIM_TIMESERIES_MAX_ROWS rows (one is kept for the last, partial interval;
 * every slot of an autoscaled pool is counted, created or not). */
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
            if (f->reps[r])
                sim_replica_flush_interval(f->reps[r], f->ts_next - f->ts_interval);
        f->ts_next += f->ts_interval; /* within SIM_TIME_HORIZON + one interval: no wrap */
    }
    f->ts_rows += intervals * f->n;
    return TRUE;
}

/* -------------------------------------------------------------- signals -- */

static gboolean fleet_quiet(const Fleet *f)
{
    if (f->tr_len || (f->pd && cl_pd_busy(f->pd)))
        return FALSE;
    for (guint r = 0; r < f->n; r++)
        if (f->reps[r] && (sim_replica_busy(f->reps[r]) || sim_replica_in_flight(f->reps[r])))
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
        cl_fleet_read_signals(f, r, &f->signals[r]);
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
    for (guint p = 0; p < f->cfg->num_pools; p++) { /* by pool: an autoscaled pool's slots may not exist yet */
        const SchedConfig *c = &f->cfg->pools[p].sched;
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

static void deliver(Fleet *f, const WlRequest *w, guint r, uint8_t kind, uint32_t tag)
{
    if (kind == DELIVER_WHOLE)
        sim_replica_add(f->reps[r], w, f->now);
    else
        cl_pd_deliver(f, w, r, kind, tag);
    cl_fleet_update_outstanding(f, r);
    cl_fleet_mark_dirty(f, r);
}

void cl_fleet_routing_row(Fleet *f, const WlRequest *w, const char *decision, int replica, SimTime age)
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

int cl_fleet_admit(Fleet *f, const gboolean *mask, SimTime *age_out, const gboolean **elig_out)
{
    const ClConfig *cfg = f->cfg;
    const ClAdmissionSpec *adm = &cfg->admission;
    SimTime age = 0;
    if (f->need_signals || adm->max_waiting_per_replica || adm->max_waiting) {
        if (!f->interval) {
            for (guint r = 0; r < f->n; r++)
                cl_fleet_read_signals(f, r, &f->signals[r]);
        } else {
            start_timer(f);
            age = f->now - f->last_tick;
        }
    }
    *age_out = age;
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
    const gboolean *elig = mask;
    if (reason < 0 && (adm->max_waiting || adm->max_waiting_per_replica)) {
        uint64_t total = 0;
        guint n_ok = 0;
        for (guint r = 0; r < f->n; r++) {
            uint64_t wq = (uint64_t)f->signals[r].waiting + f->unseen[r];
            total += wq;
            f->eligible[r] = (!mask || mask[r]) && (!adm->max_waiting_per_replica || wq < adm->max_waiting_per_replica);
            n_ok += f->eligible[r];
        }
        elig = f->eligible;
        if (adm->max_waiting && total >= adm->max_waiting)
            reason = CL_REJECT_FLEET_QUEUE;
        else if (n_ok == 0)
            reason = CL_REJECT_REPLICA_QUEUE;
    }
    if (elig_out)
        *elig_out = elig;
    return reason;
}

void cl_fleet_count_routed(Fleet *f, guint r)
{
    f->routed[r]++;
    f->routed_total++;
    f->outstanding[r]++;
    f->unseen[r]++;
    f->in_transit[r]++;
    if (f->scaler)
        cl_scaler_routed(f, r);
}

void cl_fleet_dispatch(Fleet *f, const WlRequest *w, guint r, uint8_t kind, uint32_t tag)
{
    const ClConfig *cfg = f->cfg;
    if (cfg->router.latency_ms > 0) {
        transit_push(f, w, r, kind, tag);
        /* latency_ms <= SIM_TIME_LIMIT (checked): within range; saturating regardless */
        sim_queue_push(f->rq, sim_time_add_sat(f->now, sim_time_from_seconds(cfg->router.latency_ms / 1e3)),
                       EV_DELIVER, 0);
    } else {
        f->in_transit[r]--;
        if (!f->interval)
            f->unseen[r]--; /* live signals show it from now on */
        deliver(f, w, r, kind, tag);
    }
}

void cl_fleet_send(Fleet *f, const WlRequest *w, guint r, uint8_t kind, uint32_t tag)
{
    cl_fleet_count_routed(f, r);
    cl_fleet_dispatch(f, w, r, kind, tag);
}

const double *cl_fleet_lora_affinity(Fleet *f, ClRouterPolicy policy, const WlRequest *w)
{
    if (!w->lora_id || policy != CL_ROUTER_WEIGHTED || !(f->cfg->router.lora_weight > 0))
        return NULL;
    for (guint r = 0; r < f->n; r++)
        f->lora_affinity[r] = f->reps[r] ? sim_replica_lora_affinity(f->reps[r], w->lora_id) : 0.0;
    return f->lora_affinity;
}

gboolean cl_fleet_decided(Fleet *f, const WlRequest *w, int chosen, int reason, SimTime age)
{
    const ClConfig *cfg = f->cfg;
    if (cfg->route_hook) {
        ClDecision d = {.time = f->now, .request = w, .replica = chosen, .reject_reason = reason,
                        .num_replicas = f->n, .replicas = f->reps, .outstanding = f->outstanding,
                        .snapshot_age = age};
        cfg->route_hook(&d, cfg->hook_user);
    }
    if (reason < 0)
        return FALSE;
    f->rejected[reason]++;
    char *status = g_strconcat("rejected_", cl_reject_reason_name((ClRejectReason)reason), NULL);
    sim_recorder_reject(f->rec, w, status);
    if (cfg->routing_csv)
        cl_fleet_routing_row(f, w, status, -1, age);
    g_free(status);
    return TRUE;
}

/* Admission and routing of one request at the front door. */
static void route(Fleet *f, const WlRequest *w)
{
    if (f->pd) {
        cl_pd_route(f, w);
        return;
    }
    const ClConfig *cfg = f->cfg;
    const ClAdmissionSpec *adm = &cfg->admission;
    SimTime age = 0;
    const gboolean *elig = NULL;
    int reason = cl_fleet_admit(f, f->mask_whole, &age, &elig);
    int chosen = -1;
    gboolean sticky = FALSE;
    if (reason < 0) {
        ClView view = {.n = f->n, .outstanding = f->outstanding, .signals = f->signals, .unseen = f->unseen,
                       .eligible = elig, .lora_affinity = cl_fleet_lora_affinity(f, cfg->router.policy, w)};
        if (f->n == 1 && !cfg->routing_csv && !elig)
            chosen = 0; /* a fleet of one: nothing to choose */
        else
            chosen = cl_router_pick(f->router, w, &view, cfg->routing_csv ? f->scores : NULL, &sticky);
        if (chosen < 0) /* cannot happen with an eligible replica; counted, never lost */
            reason = CL_REJECT_REPLICA_QUEUE;
    } else if (cfg->routing_csv) { /* rejected at the door: no replica was scored */
        for (guint r = 0; r < f->n; r++)
            f->scores[r] = NAN;
    }
    if (cl_fleet_decided(f, w, chosen, reason, age))
        return;
    guint r = (guint)chosen;
    if (adm->rate_limit > 0)
        f->bucket -= 1.0;
    cl_router_commit(f->router, w, r);
    if (cfg->routing_csv)
        cl_fleet_routing_row(f, w, sticky ? "sticky" : "routed", chosen, age);
    cl_fleet_send(f, w, r, DELIVER_WHOLE, 0);
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
            if (f->scaler)
                cl_scaler_start(f);
        }
        if (!advance_intervals(f, w->arrival, error))
            return FALSE;
        f->last_arrival = w->arrival;
        f->arrived++;
        sim_recorder_arrival(f->rec, w);
        if (f->scaler)
            cl_scaler_arrival(f, w->arrival);
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
    deliver(f, &t.w, t.replica, t.kind, t.tag);
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
        else if (f->state && f->state[r] == SLOT_DRAINING)
            cl_scaler_check_drained(f, r);
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
    cl_router_free(f->decode_router);
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
    g_free(f->lora_affinity);
    g_free(f->transit);
    g_free(f->dirty);
    g_free(f->is_dirty);
    g_free(f->mask_whole);
    g_free(f->mask_prefill);
    g_free(f->mask_decode);
    g_free(f->state);
    g_free(f->pool_base);
    cl_pd_free(f->pd);
    cl_scaler_free(f->scaler);
    /* pool_of is handed to the result */
}

gboolean cl_fleet_create_replica(Fleet *f, guint r, GError **error)
{
    const ClConfig *cfg = f->cfg;
    const ClPoolSpec *ps = &cfg->pools[f->pool_of[r]];
    SimReplicaConfig rc = {.sched = ps->sched, .latency = ps->latency, .recorder = f->rec, .index = r,
                           .async_scheduling = ps->async_scheduling, .step_hook = cfg->step_hook,
                           .hook_user = cfg->hook_user, .kv = f->pd ? cl_pd_hooks(f->pd) : NULL};
    f->reps[r] = sim_replica_new(&rc, error);
    if (!f->reps[r])
        return FALSE;
    cl_fleet_read_signals(f, r, &f->signals[r]); /* the idle replica, as a first report */
    return TRUE;
}

/* Slots per pool: its count, or its autoscaler's maximum. */
static guint pool_slots(const ClPoolSpec *ps)
{
    return ps->autoscale && ps->autoscale->enabled ? MAX(ps->autoscale->max_replicas, ps->count) : ps->count;
}

static gboolean fleet_init(Fleet *f, const ClConfig *cfg, GError **error)
{
    f->cfg = cfg;
    gboolean scaled = FALSE, split = FALSE;
    guint64 total = 0;
    for (guint p = 0; p < cfg->num_pools; p++) {
        const ClPoolSpec *ps = &cfg->pools[p];
        total += pool_slots(ps);
        scaled = scaled || (ps->autoscale && ps->autoscale->enabled);
        split = split || ps->role != CL_ROLE_BOTH;
        if (ps->count == 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "pool %s has no replica", ps->name ? ps->name : "?");
            return FALSE;
        }
        if (ps->autoscale && !cl_autoscale_spec_validate(ps->autoscale, ps->count, "fleet", ps->name, error))
            return FALSE;
    }
    if (total == 0 || total > SIM_MAX_REPLICAS) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "a fleet needs from 1 to %u replicas, got %" G_GUINT64_FORMAT,
                    SIM_MAX_REPLICAS, total);
        return FALSE;
    }
    f->n = (guint)total;
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
    f->pool_base = g_new0(guint, cfg->num_pools + 1);
    f->outstanding = g_new0(uint32_t, f->n);
    f->routed = g_new0(uint64_t, f->n);
    f->in_transit = g_new0(uint32_t, f->n);
    f->unseen = g_new0(uint32_t, f->n);
    f->signals = g_new0(ClSignals, f->n);
    f->eligible = g_new0(gboolean, f->n);
    f->scores = g_new0(double, f->n);
    f->lora_affinity = g_new0(double, f->n);
    f->dirty = g_new0(guint, f->n);
    f->is_dirty = g_new0(uint8_t, f->n);
    uint64_t *kv_tokens = g_new0(uint64_t, f->n);
    guint r = 0;
    for (guint p = 0; p < cfg->num_pools; p++) {
        const ClPoolSpec *ps = &cfg->pools[p];
        f->pool_base[p] = r;
        /* usable blocks (one is reserved) x block size: the router's index size */
        uint64_t tokens = (uint64_t)(ps->sched.num_gpu_blocks > 0 ? ps->sched.num_gpu_blocks - 1 : 0) *
                          ps->sched.block_size;
        for (guint k = 0; k < pool_slots(ps); k++, r++) {
            f->pool_of[r] = p;
            kv_tokens[r] = tokens;
        }
    }
    f->pool_base[cfg->num_pools] = r;
    if (split || scaled) {
        f->mask_whole = g_new0(gboolean, f->n);
        f->state = g_new0(uint8_t, f->n);
    }
    if (split) {
        f->mask_prefill = g_new0(gboolean, f->n);
        f->mask_decode = g_new0(gboolean, f->n);
        if (!cl_pd_init(f, error)) {
            g_free(kv_tokens);
            return FALSE;
        }
    } else if (cfg->pd && cfg->pd->decider != CL_DECIDE_NEVER) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "disaggregation (decider %s) needs a prefill pool and a decode pool; every pool serves whole "
                    "requests", cl_decider_name(cfg->pd->decider));
        g_free(kv_tokens);
        return FALSE;
    }
    /* the replicas serving from the start */
    for (guint p = 0; p < cfg->num_pools; p++)
        for (guint k = 0; k < cfg->pools[p].count; k++) {
            guint slot = f->pool_base[p] + k;
            if (!cl_fleet_create_replica(f, slot, error)) {
                g_free(kv_tokens);
                return FALSE;
            }
            if (f->state) {
                ClPoolRole role = cfg->pools[p].role;
                f->state[slot] = SLOT_SERVING;
                f->mask_whole[slot] = role != CL_ROLE_PREFILL;
                if (f->mask_prefill) {
                    f->mask_prefill[slot] = role == CL_ROLE_PREFILL;
                    f->mask_decode[slot] = role == CL_ROLE_DECODE;
                }
            }
        }
    f->router = cl_router_new(&cfg->router, f->n, kv_tokens, cfg->seed);
    if (f->pd) {
        ClRouterSpec dspec = cfg->router;
        dspec.policy = cfg->pd->decode_policy;
        f->decode_router = cl_router_new(&dspec, f->n, kv_tokens, cfg->seed ^ 0x6465636f6465ULL);
    }
    g_free(kv_tokens);
    f->need_signals = cl_router_uses_signals(f->router) || (f->decode_router && cl_router_uses_signals(f->decode_router));
    if (scaled || cfg->slo || f->pd) { /* the books: GPU-hours, per-pool figures, the series */
        if (!cl_scaler_init(f, error))
            return FALSE;
    }
    double interval_ms = cl_router_spec_interval_ms(&cfg->router);
    f->interval = interval_ms > 0 ? MAX(sim_time_from_seconds(interval_ms / 1e3), 1) : 0;
    if (!f->need_signals && !adm->max_waiting && !adm->max_waiting_per_replica)
        f->interval = 0; /* nothing reads them */

    f->rq = sim_queue_new();
    f->pq = sim_queue_new();
    return TRUE;
}

/* Whether an event of the autoscaler would change nothing. */
static gboolean idle_event(const Fleet *f, const SimEvent *ev)
{
    return f->scaler && (ev->kind == EV_SCALE || ev->kind == EV_READY) && cl_scaler_idle_event(f, ev);
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
        if (router && idle_event(&f, &ev)) {
            sim_queue_pop(f.rq, &ev); /* nothing left to scale for: the clock stays where the work ended */
            continue;
        }
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
            case EV_HANDOFF:
                if (!advance_intervals(&f, f.now, error))
                    goto out;
                cl_pd_handoff(&f, (uint32_t)ev.data);
                break;
            case EV_XFER:
                if (!advance_intervals(&f, f.now, error))
                    goto out;
                cl_pd_transfer_event(&f, ev.data);
                break;
            case EV_SCALE: {
                if (!advance_intervals(&f, f.now, error))
                    goto out;
                GError *err = NULL;
                cl_scaler_tick(&f, (guint)ev.data, &err);
                if (err) {
                    g_propagate_error(error, err);
                    goto out;
                }
                break;
            }
            case EV_READY:
                if (!advance_intervals(&f, f.now, error))
                    goto out;
                if (!cl_scaler_ready(&f, (guint)ev.data, error))
                    goto out;
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
            cl_fleet_update_outstanding(&f, r);
            if (sim_replica_busy(f.reps[r]))
                sim_queue_push(f.pq, sim_replica_next_event(f.reps[r]), EV_STEP_END, r);
            else if (f.state && f.state[r] == SLOT_DRAINING)
                cl_scaler_check_drained(&f, r);
        }
    }
    if (cfg->outputs.timeseries_csv && f.ts_interval && f.any_arrival) {
        gboolean active = FALSE;
        for (guint r = 0; r < f.n; r++)
            active = active || (f.reps[r] && sim_replica_interval_active(f.reps[r]));
        if (active)
            for (guint r = 0; r < f.n; r++)
                if (f.reps[r])
                    sim_replica_flush_interval(f.reps[r], f.ts_next - f.ts_interval);
    }
    /* rows for the requests a time limit left in flight */
    for (guint r = 0; r < f.n; r++)
        if (f.reps[r])
            sim_replica_write_in_flight_rows(f.reps[r]);
    for (guint i = 0; i < f.tr_len; i++)
        sim_recorder_unserved_row(f.rec, &f.transit[(f.tr_head + i) % f.tr_cap].w, "routing");
    if (f.scaler && !cl_scaler_check_windows(&f, f.now, error))
        goto out;
    if (f.pd && !cl_pd_check_times(f.pd, error))
        goto out;
    result = cl_fleet_result(&f, stopped);
out:
    g_free(f.pool_of);
    fleet_clear(&f);
    return result;
}
