/*
 * cl_autoscale.c: autoscaling and the fleet's books (cl.h,
 * cl_fleet_internal.h, docs/autoscaling.md).
 *
 * The books: when a replica started costing (provisioning or, for the
 * replicas there from the start, the first arrival) and when it stopped
 * (it left after draining, or the run ended); the replicas serving,
 * provisioning and draining per pool over time, integrated into windows of
 * the run (from its first arrival); the arrivals per window, against which
 * the completed requests within the SLO are counted at the end (from the
 * recorder's records, by arrival time).
 *
 * An autoscaled pool decides every interval (an event per pool), reading
 * the replicas' live signals as a metrics system would scrape them:
 *   value   = the metric over the serving replicas (waiting, running, KV use:
 *             means of the current values; rate and busy: per serving
 *             replica-second over the last metric_window_s)
 *   desired = ceil(serving x value / target) when value / target is above
 *             up_threshold or below down_threshold, else serving; then
 *             within [min, max]
 * Up: when desired exceeds serving + provisioning and the last scale-up is
 * at least up_cooldown_s ago, new replicas are provisioned: they cost from
 * now and serve after the provisioning delay (the weights per GPU over the
 * load bandwidth plus a start time, unless given). Down, as Kubernetes'
 * scale-down stabilization window: the count to go down to is the highest
 * desired count of the decisions of the last down_cooldown_s (so a
 * momentary lull, or a queue that is empty because the replicas keep up,
 * does not shed what the next minute needs); when it is below serving and
 * nothing is provisioning, the serving replicas with the fewest requests in
 * flight (the newest among equals) stop taking requests and drain: they
 * leave, and stop costing, once nothing is running, waiting, on its way to
 * them, or held for a transfer. No scale-down in the first down_cooldown_s
 * of the run. A pool's slots are reused lowest first; a
 * replica taking a slot again starts with an empty cache, and the router
 * forgets what it sent to the slot.
 *
 * Cost: O(replicas of the pool) per decision; O(pools) per change of a
 * replica's state; a window record per window of the run.
 */
#include <math.h>
#include <string.h>

#include "cl_fleet_internal.h"
#include "ss_error.h"

static const char *const metric_names[] = {"waiting", "running", "kv", "rate", "busy", NULL};
G_STATIC_ASSERT(G_N_ELEMENTS(metric_names) == CL_SCALE_N + 1);

const char *cl_scale_metric_name(ClScaleMetric m)
{
    return m < CL_SCALE_N ? metric_names[m] : "unknown";
}

const char *const *cl_scale_metric_names(void)
{
    return metric_names;
}

gboolean cl_scale_metric_from_name(const char *name, ClScaleMetric *out)
{
    static const struct {
        const char *alias;
        ClScaleMetric m;
    } aliases[] = {{"kv_usage", CL_SCALE_KV}, {"kv-usage", CL_SCALE_KV}, {"queue", CL_SCALE_WAITING},
                   {"requests_per_s", CL_SCALE_RATE}, {"utilization", CL_SCALE_BUSY}};
    for (guint i = 0; i < CL_SCALE_N; i++)
        if (g_ascii_strcasecmp(name, metric_names[i]) == 0) {
            *out = (ClScaleMetric)i;
            return TRUE;
        }
    for (guint i = 0; i < G_N_ELEMENTS(aliases); i++)
        if (g_ascii_strcasecmp(name, aliases[i].alias) == 0) {
            *out = aliases[i].m;
            return TRUE;
        }
    return FALSE;
}

void cl_autoscale_spec_init(ClAutoscaleSpec *a)
{
    memset(a, 0, sizeof *a);
    a->enabled = FALSE;
    a->metric = CL_SCALE_WAITING;
    a->target = 8;
    a->up_threshold = 1.1;
    a->down_threshold = 0.9;
    a->interval_s = 15;
    a->metric_window_s = 60;
    a->up_cooldown_s = 60;
    a->down_cooldown_s = 300;
    a->min_replicas = 1;
    a->max_replicas = 8;
    a->provision_s = -1;
    a->load_gbps = 2.0;
    a->startup_s = 60;
}

gboolean cl_autoscale_spec_validate(const ClAutoscaleSpec *a, guint count, const char *origin, const char *path,
                                    GError **error)
{
    if (!a->enabled)
        return TRUE;
    const char *o = origin ? origin : "fleet";
    const char *p = path ? path : "autoscale";
    if (a->min_replicas < 1) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s.min_replicas: expected at least 1, got 0 (scaling to zero needs a buffer for the "
                    "requests that arrive meanwhile, which is not modelled)", o, p);
        return FALSE;
    }
    if (a->min_replicas > a->max_replicas) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: min_replicas (%u) must be at most max_replicas (%u)", o, p, a->min_replicas,
                    a->max_replicas);
        return FALSE;
    }
    if (a->max_replicas > SIM_MAX_REPLICAS) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.max_replicas: at most %u, got %u", o, p,
                    SIM_MAX_REPLICAS, a->max_replicas);
        return FALSE;
    }
    if (count < a->min_replicas || count > a->max_replicas) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: the replicas serving at the start (%u, the pool's count) must be within "
                    "min_replicas (%u) and max_replicas (%u)", o, p, count, a->min_replicas, a->max_replicas);
        return FALSE;
    }
    if (!(a->target > 0) || !isfinite(a->target)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.target: expected a number > 0, got %g", o, p, a->target);
        return FALSE;
    }
    if (a->metric == CL_SCALE_KV && a->target > 1) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s.target: the kv metric is a share of the KV cache (0 to 1), got %g", o, p, a->target);
        return FALSE;
    }
    if (!(a->up_threshold >= 1) || !isfinite(a->up_threshold) || !(a->down_threshold > 0) ||
        !(a->down_threshold <= 1) || !(a->down_threshold < a->up_threshold)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: expected 0 < down_threshold <= 1 <= up_threshold with down < up (ratios of the "
                    "metric to its target), got %g and %g", o, p, a->down_threshold, a->up_threshold);
        return FALSE;
    }
    if (!(a->metric_window_s > 0) || a->metric_window_s > 86400) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.metric_window_s: expected a number in (0, 86400], got %g",
                    o, p, a->metric_window_s);
        return FALSE;
    }
    if (!(a->interval_s >= CL_SCALE_INTERVAL_MIN_S) || a->interval_s > 86400 || !(a->up_cooldown_s >= 0) ||
        !(a->down_cooldown_s >= 0) || !(a->up_cooldown_s <= 86400) || !(a->down_cooldown_s <= 86400)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: interval_s must be in [%g, 86400] and the cooldowns in [0, 86400], got %g, %g and %g",
                    o, p, CL_SCALE_INTERVAL_MIN_S, a->interval_s, a->up_cooldown_s, a->down_cooldown_s);
        return FALSE;
    }
    if ((a->provision_s != -1 && !(a->provision_s >= 0 && a->provision_s <= 86400)) ||
        !(a->load_gbps >= CL_LOAD_GBPS_MIN) || !(a->load_gbps <= 1e6) || !(a->startup_s >= 0) ||
        !(a->startup_s <= 86400)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: provision_s must be in [0, 86400] (or unset), load_gbps in [%g, 1e6] and startup_s in "
                    "[0, 86400], got %g, %g and %g", o, p, CL_LOAD_GBPS_MIN, a->provision_s, a->load_gbps,
                    a->startup_s);
        return FALSE;
    }
    return TRUE;
}

double cl_autoscale_provision_s(const ClAutoscaleSpec *a, double weight_bytes_per_gpu)
{
    if (a->provision_s >= 0)
        return a->provision_s;
    return weight_bytes_per_gpu / (a->load_gbps * 1e9) + a->startup_s;
}

/* ---------------------------------------------------------------- state -- */

typedef struct {
    SimTime time;
    guint desired;
} Recommendation;

/* The counters a tick reads, for the rate and busy metrics over a window. */
typedef struct {
    SimTime time;
    uint64_t routed;
    double busy, serving_area;
} Sample;

typedef struct {
    const ClAutoscaleSpec *spec;  /* NULL: a fixed count */
    SimTime interval, provision;
    guint serving, provisioning, draining;
    guint serving_min, serving_max;
    SimTime last_up, last_change;
    gboolean any_up;
    GArray *recent;               /* (time, desired) of the decisions of the last down_cooldown_s */
    uint64_t routed, routed_at_tick;
    double busy_serving;          /* step time of serving replicas, ns, summed over ticks */
    GArray *samples;              /* Sample of the ticks of the last metric window */
    guint ups, downs;
    double serving_area;          /* replicas x ns */
} Pool;

struct ClScaler {
    Fleet *f;
    guint np;
    Pool *pools;
    SimTime *bill_start;          /* per slot */
    double *billed_ns;
    SimTime *serving_since;
    double *serving_ns;
    SimTime *busy_at_tick;
    gboolean started;
    SimTime t0, last_acc, window;
    GArray *w_serving, *w_prov, *w_drain; /* double, num_pools per window */
    GArray *w_gpu;                /* double: GPU-ns per window */
    GArray *w_arrived;            /* uint64_t */
    gboolean has_slo, report;
    gboolean overflow;            /* a window past CL_SCALE_MAX_WINDOWS was needed */
    ClSloSpec slo;
};

static guint gpus_of(const Fleet *f, guint pool)
{
    return MAX(f->cfg->pools[pool].gpus_per_replica, 1u);
}

/* Makes window k exist; FALSE (and nothing allocated) past
 * CL_SCALE_MAX_WINDOWS, which cl_scaler_check_windows reports. */
static gboolean ensure_window(ClScaler *sc, guint64 k)
{
    if (k < sc->w_gpu->len)
        return TRUE;
    if (k >= CL_SCALE_MAX_WINDOWS) {
        sc->overflow = TRUE;
        return FALSE;
    }
    g_array_set_size(sc->w_gpu, k + 1);
    g_array_set_size(sc->w_arrived, k + 1);
    g_array_set_size(sc->w_serving, (k + 1) * sc->np);
    g_array_set_size(sc->w_prov, (k + 1) * sc->np);
    g_array_set_size(sc->w_drain, (k + 1) * sc->np);
    return TRUE;
}

/* Adds the replica counts since the last change to the windows up to now. */
static void integrate(ClScaler *sc, SimTime now)
{
    if (!sc->started || now <= sc->last_acc)
        return;
    Fleet *f = sc->f;
    SimTime t = sc->last_acc;
    while (t < now) {
        guint64 k = (guint64)((t - sc->t0) / sc->window);
        if (!ensure_window(sc, k))
            break;
        SimTime wend = sc->t0 + (SimTime)(k + 1) * sc->window;
        SimTime upto = MIN(wend, now);
        double dt = (double)(upto - t);
        double gpu = 0;
        for (guint p = 0; p < sc->np; p++) {
            const Pool *pl = &sc->pools[p];
            g_array_index(sc->w_serving, double, k * sc->np + p) += pl->serving * dt;
            g_array_index(sc->w_prov, double, k * sc->np + p) += pl->provisioning * dt;
            g_array_index(sc->w_drain, double, k * sc->np + p) += pl->draining * dt;
            gpu += (double)(pl->serving + pl->provisioning + pl->draining) * gpus_of(f, p) * dt;
        }
        g_array_index(sc->w_gpu, double, k) += gpu;
        t = upto;
    }
    for (guint p = 0; p < sc->np; p++)
        sc->pools[p].serving_area += sc->pools[p].serving * (double)(now - sc->last_acc);
    sc->last_acc = now;
}

static void set_masks(Fleet *f, guint r, gboolean serving)
{
    ClPoolRole role = f->cfg->pools[f->pool_of[r]].role;
    f->mask_whole[r] = serving && role != CL_ROLE_PREFILL;
    if (f->mask_prefill) {
        f->mask_prefill[r] = serving && role == CL_ROLE_PREFILL;
        f->mask_decode[r] = serving && role == CL_ROLE_DECODE;
    }
}

gboolean cl_scaler_init(Fleet *f, GError **error)
{
    (void)error;
    const ClConfig *cfg = f->cfg;
    ClScaler *sc = g_new0(ClScaler, 1);
    f->scaler = sc;
    sc->f = f;
    sc->np = cfg->num_pools;
    sc->pools = g_new0(Pool, sc->np);
    gboolean scaled = FALSE;
    double interval_min = 0;
    for (guint p = 0; p < sc->np; p++) {
        const ClPoolSpec *ps = &cfg->pools[p];
        Pool *pl = &sc->pools[p];
        pl->serving = ps->count;
        pl->serving_min = pl->serving_max = ps->count;
        if (ps->autoscale && ps->autoscale->enabled) {
            pl->spec = ps->autoscale;
            pl->recent = g_array_new(FALSE, FALSE, sizeof(Recommendation));
            pl->samples = g_array_new(FALSE, FALSE, sizeof(Sample));
            pl->interval = MAX(sim_time_from_seconds(ps->autoscale->interval_s), 1);
            pl->provision = sim_time_from_seconds(cl_autoscale_provision_s(ps->autoscale, ps->weight_bytes_per_gpu));
            scaled = TRUE;
            interval_min = interval_min > 0 ? MIN(interval_min, ps->autoscale->interval_s) : ps->autoscale->interval_s;
        }
    }
    sc->has_slo = cfg->slo && (cfg->slo->ttft_ms > 0 || cfg->slo->tpot_ms > 0);
    if (cfg->slo)
        sc->slo = *cfg->slo;
    sc->report = scaled || cfg->slo;
    double w = cfg->slo && cfg->slo->window_s > 0 ? cfg->slo->window_s : 60.0;
    sc->window = MAX(sim_time_from_seconds(w), 1);
    sc->bill_start = g_new0(SimTime, f->n);
    sc->billed_ns = g_new0(double, f->n);
    sc->serving_since = g_new0(SimTime, f->n);
    sc->serving_ns = g_new0(double, f->n);
    sc->busy_at_tick = g_new0(SimTime, f->n);
    sc->w_serving = g_array_new(FALSE, TRUE, sizeof(double));
    sc->w_prov = g_array_new(FALSE, TRUE, sizeof(double));
    sc->w_drain = g_array_new(FALSE, TRUE, sizeof(double));
    sc->w_gpu = g_array_new(FALSE, TRUE, sizeof(double));
    sc->w_arrived = g_array_new(FALSE, TRUE, sizeof(uint64_t));
    (void)interval_min;
    return TRUE;
}

void cl_scaler_free(ClScaler *sc)
{
    if (!sc)
        return;
    for (guint p = 0; p < sc->np; p++) {
        if (sc->pools[p].recent)
            g_array_free(sc->pools[p].recent, TRUE);
        if (sc->pools[p].samples)
            g_array_free(sc->pools[p].samples, TRUE);
    }
    g_free(sc->pools);
    g_free(sc->bill_start);
    g_free(sc->billed_ns);
    g_free(sc->serving_since);
    g_free(sc->serving_ns);
    g_free(sc->busy_at_tick);
    g_array_free(sc->w_serving, TRUE);
    g_array_free(sc->w_prov, TRUE);
    g_array_free(sc->w_drain, TRUE);
    g_array_free(sc->w_gpu, TRUE);
    g_array_free(sc->w_arrived, TRUE);
    g_free(sc);
}

void cl_scaler_start(Fleet *f)
{
    ClScaler *sc = f->scaler;
    SimTime t0 = f->first_arrival;
    sc->started = TRUE;
    sc->t0 = sc->last_acc = t0;
    for (guint r = 0; r < f->n; r++)
        if (f->reps[r]) {
            sc->bill_start[r] = t0;
            sc->serving_since[r] = t0;
        }
    for (guint p = 0; p < sc->np; p++) {
        Pool *pl = &sc->pools[p];
        pl->last_change = t0;
        if (pl->spec)
            sim_queue_push(f->rq, sim_time_add_sat(t0, pl->interval), EV_SCALE, p); /* interval <= a day */
    }
}

void cl_scaler_arrival(Fleet *f, SimTime t)
{
    ClScaler *sc = f->scaler;
    guint64 k = (guint64)((t - sc->t0) / sc->window);
    if (ensure_window(sc, k))
        g_array_index(sc->w_arrived, uint64_t, k)++;
}

void cl_scaler_routed(Fleet *f, guint r)
{
    f->scaler->pools[f->pool_of[r]].routed++;
}

/* ------------------------------------------------------------ decisions -- */

static gboolean provision(Fleet *f, guint p, GError **error)
{
    ClScaler *sc = f->scaler;
    Pool *pl = &sc->pools[p];
    guint slot = G_MAXUINT;
    for (guint r = f->pool_base[p]; r < f->pool_base[p + 1] && slot == G_MAXUINT; r++)
        if (!f->reps[r] || f->state[r] == SLOT_OFF)
            slot = r;
    if (slot == G_MAXUINT)
        return TRUE; /* every slot is taken (some still draining): max_replicas bounds them too */
    if (!f->reps[slot]) {
        if (!cl_fleet_create_replica(f, slot, error))
            return FALSE;
    } else {
        sim_replica_restart(f->reps[slot]);
        cl_fleet_read_signals(f, slot, &f->signals[slot]);
    }
    cl_router_forget(f->router, slot);
    if (f->decode_router)
        cl_router_forget(f->decode_router, slot);
    integrate(sc, f->now);
    f->state[slot] = SLOT_PROVISIONING;
    set_masks(f, slot, FALSE);
    sc->bill_start[slot] = f->now;
    sc->busy_at_tick[slot] = sim_replica_busy_ns(f->reps[slot]);
    pl->provisioning++;
    pl->ups++;
    /* provision_s <= a day, or weights over >= 0.01 GB/s plus <= a day: far
     * inside the clock's range; saturating regardless */
    sim_queue_push(f->rq, sim_time_add_sat(f->now, pl->provision), EV_READY, slot);
    return TRUE;
}

gboolean cl_scaler_ready(Fleet *f, guint slot, GError **error)
{
    (void)error;
    ClScaler *sc = f->scaler;
    Pool *pl = &sc->pools[f->pool_of[slot]];
    /* one READY event is queued per provisioning, and a provisioning slot is
     * never drained: a bug check, unreachable from input */
    g_assert(f->state[slot] == SLOT_PROVISIONING);
    integrate(sc, f->now);
    f->state[slot] = SLOT_SERVING;
    set_masks(f, slot, TRUE);
    sc->serving_since[slot] = f->now;
    pl->provisioning--;
    pl->serving++;
    pl->serving_max = MAX(pl->serving_max, pl->serving);
    return TRUE;
}

void cl_scaler_check_drained(Fleet *f, guint r)
{
    if (!f->state || f->state[r] != SLOT_DRAINING)
        return;
    const SimReplica *rep = f->reps[r];
    if (sim_replica_busy(rep) || sim_replica_in_flight(rep) || sim_replica_num_held(rep) || f->in_transit[r])
        return;
    ClScaler *sc = f->scaler;
    Pool *pl = &sc->pools[f->pool_of[r]];
    integrate(sc, f->now);
    f->state[r] = SLOT_OFF;
    sc->billed_ns[r] += (double)(f->now - sc->bill_start[r]);
    pl->draining--;
}

static void drain_one(Fleet *f, guint p)
{
    ClScaler *sc = f->scaler;
    Pool *pl = &sc->pools[p];
    guint pick = G_MAXUINT;
    for (guint r = f->pool_base[p]; r < f->pool_base[p + 1]; r++) {
        if (!f->reps[r] || f->state[r] != SLOT_SERVING)
            continue;
        if (pick == G_MAXUINT || f->outstanding[r] <= f->outstanding[pick])
            pick = r; /* fewest in flight; the newest (highest slot) among equals */
    }
    if (pick == G_MAXUINT)
        return;
    integrate(sc, f->now);
    f->state[pick] = SLOT_DRAINING;
    set_masks(f, pick, FALSE);
    sc->serving_ns[pick] += (double)(f->now - sc->serving_since[pick]);
    pl->serving--;
    pl->serving_min = MIN(pl->serving_min, pl->serving);
    pl->draining++;
    pl->downs++;
    cl_scaler_check_drained(f, pick);
}

void cl_scaler_tick(Fleet *f, guint p, GError **error)
{
    ClScaler *sc = f->scaler;
    Pool *pl = &sc->pools[p];
    const ClAutoscaleSpec *a = pl->spec;
    if (!a)
        return;
    guint n = 0;
    double sum = 0;
    integrate(sc, f->now); /* the pool's serving replica-time up to now */
    for (guint r = f->pool_base[p]; r < f->pool_base[p + 1]; r++) {
        if (!f->reps[r])
            continue;
        SimTime busy = sim_replica_busy_ns(f->reps[r]);
        SimTime busy_delta = busy - sc->busy_at_tick[r];
        sc->busy_at_tick[r] = busy;
        if (f->state[r] != SLOT_SERVING)
            continue;
        pl->busy_serving += (double)busy_delta;
        n++;
        ClSignals sg;
        cl_fleet_read_signals(f, r, &sg);
        switch (a->metric) {
        case CL_SCALE_WAITING:
            sum += sg.waiting;
            break;
        case CL_SCALE_RUNNING:
            sum += sg.running;
            break;
        case CL_SCALE_KV:
            sum += sg.kv_blocks ? (double)sg.kv_used / sg.kv_blocks : 0;
            break;
        default:
            break;
        }
    }
    /* rate and busy: over the metric window, per serving replica-second, as a
     * metrics system's rate() over its window would give them */
    Sample now_s = {f->now, pl->routed, pl->busy_serving, pl->serving_area};
    g_array_append_val(pl->samples, now_s);
    SimTime mw = sim_time_from_seconds(a->metric_window_s);
    guint first = 0;
    while (first + 1 < pl->samples->len && f->now - g_array_index(pl->samples, Sample, first + 1).time >= mw)
        first++;
    if (first)
        g_array_remove_range(pl->samples, 0, first);
    const Sample *old = &g_array_index(pl->samples, Sample, 0);
    double area_s = (now_s.serving_area - old->serving_area) / 1e9;
    pl->routed_at_tick = pl->routed;
    sim_queue_push(f->rq, sim_time_add_sat(f->now, pl->interval), EV_SCALE, p);
    if (n == 0)
        return;
    double value = sum / n;
    if (a->metric == CL_SCALE_RATE || a->metric == CL_SCALE_BUSY) {
        if (!(area_s > 0))
            return; /* no serving time in the window yet: nothing measured */
        value = a->metric == CL_SCALE_RATE ? (double)(now_s.routed - old->routed) / area_s
                                           : MIN((now_s.busy - old->busy) / 1e9 / area_s, 1.0);
    }
    double ratio = value / a->target;
    double desired = n;
    if (ratio > a->up_threshold || ratio < a->down_threshold)
        desired = ceil((double)n * ratio - 1e-9);
    desired = CLAMP(desired, (double)a->min_replicas, (double)a->max_replicas);
    guint want = (guint)desired;
    /* the stabilization window: the highest recommendation of the last down_cooldown_s */
    SimTime window = sim_time_from_seconds(a->down_cooldown_s);
    Recommendation rec = {f->now, want};
    g_array_append_val(pl->recent, rec);
    guint drop = 0;
    while (drop < pl->recent->len && f->now - g_array_index(pl->recent, Recommendation, drop).time > window)
        drop++;
    if (drop)
        g_array_remove_range(pl->recent, 0, drop);
    guint down_to = 0;
    for (guint k = 0; k < pl->recent->len; k++)
        down_to = MAX(down_to, g_array_index(pl->recent, Recommendation, k).desired);
    SimTime since_up = pl->any_up ? f->now - pl->last_up : G_MAXUINT64;
    if (want > n + pl->provisioning && since_up >= sim_time_from_seconds(a->up_cooldown_s)) {
        guint add = want - n - pl->provisioning;
        for (guint k = 0; k < add; k++)
            if (!provision(f, p, error))
                return;
        pl->last_up = pl->last_change = f->now;
        pl->any_up = TRUE;
    } else if (down_to < n && pl->provisioning == 0 && f->now - sc->t0 >= window) {
        for (guint k = n - down_to; k > 0; k--)
            drain_one(f, p);
        pl->last_change = f->now;
    }
}

gboolean cl_scaler_idle_event(const Fleet *f, const SimEvent *ev)
{
    (void)ev;
    if (f->has_pending || f->tr_len || (f->pd && cl_pd_busy(f->pd)))
        return FALSE;
    for (guint r = 0; r < f->n; r++)
        if (f->reps[r] && (sim_replica_busy(f->reps[r]) || sim_replica_in_flight(f->reps[r])))
            return FALSE;
    return TRUE;
}

/* ------------------------------------------------------------------ end -- */

double cl_scaler_serving_s(const ClScaler *sc, guint r)
{
    return sc->serving_ns[r] / 1e9;
}

static gboolean meets_slo(const ClSloSpec *slo, SimTime ttft, SimTime e2e, uint32_t output)
{
    if (slo->ttft_ms > 0 && sim_time_to_ms(ttft) > slo->ttft_ms)
        return FALSE;
    if (slo->tpot_ms > 0 && output > 1 && sim_time_to_ms(e2e - ttft) / (output - 1) > slo->tpot_ms)
        return FALSE;
    return TRUE;
}

gboolean cl_scaler_check_windows(const Fleet *f, SimTime end, GError **error)
{
    const ClScaler *sc = f->scaler;
    if (!sc->started)
        return TRUE;
    SimTime last = MAX(end, sc->last_acc);
    guint64 nw = last > sc->t0 ? (guint64)((last - sc->t0 + sc->window - 1) / sc->window) : 0;
    if (!sc->overflow && nw <= CL_SCALE_MAX_WINDOWS)
        return TRUE;
    double span = sim_time_to_seconds(last - sc->t0);
    g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                "fleet.slo.window_s: windows of %g s over a run of %.0f s are more than %u; give window_s of at "
                "least %g s", sim_time_to_seconds(sc->window), span, CL_SCALE_MAX_WINDOWS,
                ceil(span / CL_SCALE_MAX_WINDOWS));
    return FALSE;
}

void cl_scaler_finish(Fleet *f, SimTime end, ClResult *res)
{
    ClScaler *sc = f->scaler;
    const ClConfig *cfg = f->cfg;
    if (sc->started) {
        integrate(sc, MAX(end, sc->last_acc));
        for (guint r = 0; r < f->n; r++) {
            if (!f->reps[r])
                continue;
            uint8_t st = f->state ? f->state[r] : SLOT_SERVING;
            if (st == SLOT_PROVISIONING || st == SLOT_SERVING || st == SLOT_DRAINING)
                sc->billed_ns[r] += (double)(end > sc->bill_start[r] ? end - sc->bill_start[r] : 0);
            if (st == SLOT_SERVING)
                sc->serving_ns[r] += (double)(end > sc->serving_since[r] ? end - sc->serving_since[r] : 0);
        }
    }
    double duration = sc->started && end > sc->t0 ? (double)(end - sc->t0) : 0;

    /* per pool */
    res->num_pools = sc->np;
    res->pools = g_new0(ClPoolResult, sc->np);
    GArray **ttft = g_new0(GArray *, sc->np), **tpot = g_new0(GArray *, sc->np);
    for (guint p = 0; p < sc->np; p++) {
        ttft[p] = g_array_new(FALSE, FALSE, sizeof(double));
        tpot[p] = g_array_new(FALSE, FALSE, sizeof(double));
    }
    SimTime arr, t1, e2e;
    uint32_t out;
    guint rep;
    for (uint64_t i = 0; sim_recorder_completed_at(f->rec, i, &arr, &t1, &e2e, &out, &rep); i++) {
        guint p = rep < f->n ? f->pool_of[rep] : 0;
        double v = sim_time_to_ms(t1);
        g_array_append_val(ttft[p], v);
        if (out > 1) {
            v = sim_time_to_ms(e2e - t1) / (out - 1);
            g_array_append_val(tpot[p], v);
        }
    }
    for (guint p = 0; p < sc->np; p++) {
        ClPoolResult *pr = &res->pools[p];
        const Pool *pl = &sc->pools[p];
        pr->role = cfg->pools[p].role;
        pr->replicas_min = pl->serving_min;
        pr->replicas_max = pl->serving_max;
        pr->replicas_mean = duration > 0 ? pl->serving_area / duration : pl->serving;
        pr->scale_ups = pl->ups;
        pr->scale_downs = pl->downs;
        double billed = 0;
        for (guint r = f->pool_base[p]; r < f->pool_base[p + 1]; r++) {
            billed += sc->billed_ns[r];
            if (f->reps[r]) {
                pr->completed += sim_replica_completed(f->reps[r]);
                pr->handed_off += sim_replica_handed_off(f->reps[r]);
            }
        }
        pr->gpu_hours = billed * gpus_of(f, p) / 3.6e12;
        sim_stats_compute((double *)ttft[p]->data, ttft[p]->len, &pr->ttft_ms);
        sim_stats_compute((double *)tpot[p]->data, tpot[p]->len, &pr->tpot_ms);
        g_array_free(ttft[p], TRUE);
        g_array_free(tpot[p], TRUE);
    }
    g_free(ttft);
    g_free(tpot);
    if (!sc->report)
        return;

    /* the series */
    ClScaleSeries *s = g_new0(ClScaleSeries, 1);
    res->series = s;
    s->window_s = sim_time_to_seconds(sc->window);
    s->num_pools = sc->np;
    s->has_slo = sc->has_slo;
    s->slo = sc->slo;
    guint nw = sc->started && end > sc->t0 ? (guint)((end - sc->t0 + sc->window - 1) / sc->window) : 0;
    if (sc->started)
        nw = MAX(nw, sc->w_arrived->len);
    s->num_windows = nw;
    if (nw)
        ensure_window(sc, nw - 1);
    s->serving = g_new0(double, (gsize)nw * sc->np + 1);
    s->provisioning = g_new0(double, (gsize)nw * sc->np + 1);
    s->draining = g_new0(double, (gsize)nw * sc->np + 1);
    s->gpu_hours = g_new0(double, nw + 1);
    s->arrived = g_new0(uint64_t, nw + 1);
    s->met = g_new0(uint64_t, nw + 1);
    s->completed = g_new0(uint64_t, nw + 1);
    for (guint k = 0; k < nw; k++) {
        SimTime ws = sc->t0 + (SimTime)k * sc->window;
        SimTime we = MIN(ws + sc->window, MAX(end, ws + 1));
        double len = (double)(we - ws);
        for (guint p = 0; p < sc->np; p++) {
            s->serving[k * sc->np + p] = g_array_index(sc->w_serving, double, k * sc->np + p) / len;
            s->provisioning[k * sc->np + p] = g_array_index(sc->w_prov, double, k * sc->np + p) / len;
            s->draining[k * sc->np + p] = g_array_index(sc->w_drain, double, k * sc->np + p) / len;
        }
        s->gpu_hours[k] = g_array_index(sc->w_gpu, double, k) / 3.6e12;
        s->gpu_hours_total += s->gpu_hours[k];
        s->arrived[k] = g_array_index(sc->w_arrived, uint64_t, k);
    }
    uint64_t met = 0, arrived = 0;
    for (uint64_t i = 0; sim_recorder_completed_at(f->rec, i, &arr, &t1, &e2e, &out, &rep); i++) {
        if (arr < sc->t0)
            continue;
        guint k = (guint)((arr - sc->t0) / sc->window);
        if (k >= nw)
            continue;
        s->completed[k]++;
        if (meets_slo(&sc->slo, t1, e2e, out))
            s->met[k]++;
    }
    for (guint k = 0; k < nw; k++) {
        met += s->met[k];
        arrived += s->arrived[k];
    }
    s->slo_attainment = s->has_slo && arrived ? (double)met / (double)arrived : NAN;
}

void cl_scaler_write_csv(const Fleet *f, const ClResult *res, FILE *out)
{
    const ClScaleSeries *s = res->series;
    if (!s || !out)
        return;
    fputs("time_s", out);
    for (guint p = 0; p < s->num_pools; p++) {
        /* a pool's name in a column name: no separator or quote */
        char *name = g_strdup(f->cfg->pools[p].name ? f->cfg->pools[p].name : "pool");
        g_strdelimit(name, ",\"\r\n", '_');
        fprintf(out, ",serving_%s,provisioning_%s,draining_%s", name, name, name);
        g_free(name);
    }
    fputs(",gpu_hours,arrived,completed,met_slo,slo_attainment\n", out);
    for (guint k = 0; k < s->num_windows; k++) {
        fprintf(out, "%.3f", k * s->window_s);
        for (guint p = 0; p < s->num_pools; p++)
            fprintf(out, ",%.4f,%.4f,%.4f", s->serving[k * s->num_pools + p], s->provisioning[k * s->num_pools + p],
                    s->draining[k * s->num_pools + p]);
        fprintf(out, ",%.6f,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",", s->gpu_hours[k],
                s->arrived[k], s->completed[k], s->met[k]);
        if (s->has_slo && s->arrived[k])
            fprintf(out, "%.6f", (double)s->met[k] / (double)s->arrived[k]);
        fputc('\n', out);
    }
}
