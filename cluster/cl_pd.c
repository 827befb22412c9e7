/*
 * cl_pd.c: disaggregated prefill and decode in a fleet (cl.h,
 * cl_fleet_internal.h, docs/disaggregation.md).
 *
 * A disaggregated request goes through these stages, each one an event of
 * the fleet's clock:
 *   1. at arrival the decider chooses: whole (to a decode or co-located
 *      replica, by the decode router) or disaggregated. With decode picked
 *      at arrival (llm-d, vLLM's proxy; always for the prefix-miss decider)
 *      the decode replica is chosen now, by the decode router;
 *   2. the prefill router sends it to a prefill replica, which computes its
 *      prompt and samples one token (vLLM's prefill server answers with
 *      max_tokens 1), then holds its blocks (vLLM's delayed free of a
 *      request whose KV another instance reads);
 *   3. once the prefill server's answer is out (the step's outputs
 *      processed), the handoff: the decode replica is picked if it was not,
 *      and the request sent to it (after the router latency);
 *   4. the decode replica admits it when its scheduler reaches it (FCFS),
 *      allocating the prompt's blocks less its own prefix hit; the transfer
 *      of the rest starts then (cl_transfer.c: fixed cost, descriptors,
 *      bytes over links shared with other transfers);
 *   5. when the transfer ends, the decode replica may schedule it (under
 *      async scheduling, from the batch after the next) and the prefill
 *      replica frees its blocks; the decode replica computes the prompt's
 *      last token again to sample the first output token (TTFT), then
 *      decodes.
 * With layer-wise streaming the handoff happens when the prefill's last
 * step starts, and the transfer cannot end before that step has ended plus
 * the time of its last layer.
 *
 * A request between stages 2 and 4 (its prefill done, not yet on a decode
 * replica) is in flight at the fleet, in this file's table of handoffs (a
 * record each, recycled through a free list). Per stage, the time of every
 * request is kept (six doubles per request) for exact percentiles.
 */
#include <math.h>
#include <string.h>

#include "cl_fleet_internal.h"
#include "ss_error.h"

static const char *const decider_names[] = {"always", "never", "prompt-length", "prefix-miss", NULL};
G_STATIC_ASSERT(G_N_ELEMENTS(decider_names) == CL_DECIDE_N + 1);

const char *cl_decider_name(ClDecider d)
{
    return d < CL_DECIDE_N ? decider_names[d] : "unknown";
}

const char *const *cl_decider_names(void)
{
    return decider_names;
}

gboolean cl_decider_from_name(const char *name, ClDecider *out)
{
    for (guint i = 0; i < CL_DECIDE_N; i++) {
        /* "prompt_length" and "prompt-length" alike */
        char *a = g_strdelimit(g_strdup(name), "_", '-');
        gboolean same = g_ascii_strcasecmp(a, decider_names[i]) == 0;
        g_free(a);
        if (same) {
            *out = (ClDecider)i;
            return TRUE;
        }
    }
    return FALSE;
}

static const char *const role_names[] = {"both", "prefill", "decode"};
G_STATIC_ASSERT(G_N_ELEMENTS(role_names) == CL_ROLE_N);

const char *cl_pool_role_name(ClPoolRole r)
{
    return r < CL_ROLE_N ? role_names[r] : "unknown";
}

gboolean cl_pool_role_from_name(const char *name, ClPoolRole *out)
{
    for (guint i = 0; i < CL_ROLE_N; i++)
        if (g_ascii_strcasecmp(name, role_names[i]) == 0) {
            *out = (ClPoolRole)i;
            return TRUE;
        }
    if (g_ascii_strcasecmp(name, "colocated") == 0 || g_ascii_strcasecmp(name, "co-located") == 0) {
        *out = CL_ROLE_BOTH;
        return TRUE;
    }
    return FALSE;
}

void cl_pd_spec_init(ClPdSpec *p, ClRouterPolicy policy)
{
    memset(p, 0, sizeof *p);
    p->decider = CL_DECIDE_ALWAYS;
    p->threshold_tokens = 0;
    p->decode_at_arrival = TRUE;
    p->decode_policy = policy;
    cl_transfer_spec_init(&p->transfer);
}

/* ---------------------------------------------------------------- state -- */

enum { H_FREE = 0, H_PREFILL, H_PENDING, H_TRANSIT, H_DECODE };

typedef struct {
    WlRequest w;
    SimTime first_sched, prefill_end, handoff, xfer_start, xfer_end;
    SimKvRef *pref, *dref;
    int prefill, decode;          /* replicas; decode -1 until picked */
    double bytes;                 /* per GPU */
    uint64_t descriptors;
    uint32_t next_free;
    uint8_t state;
    uint8_t held;                 /* the prefill replica holds its blocks */
    uint8_t early;                /* layer-wise: handed off at its last step's start */
    uint8_t cancelled;            /* the decode replica turned it away: free the prefill's blocks */
    uint8_t decode_counted;       /* the decode pick was counted at arrival (in transit since) */
} Handoff;

struct ClPd {
    Fleet *f;
    ClPdSpec spec;
    SimKvHooks hooks;
    ClNet *net;
    Handoff *h;
    uint32_t num_h, cap_h, free_head;
    GArray *xfer_tag;             /* net transfer id -> tag */
    guint pending;                /* handoffs in H_PENDING */
    uint64_t disaggregated, whole, transfers, rejected_no_decode;
    double bytes;
    GArray *v_mb, *v_xfer, *v_pq, *v_pf, *v_wait, *v_decode; /* per request, double */
};

#define NONE UINT32_MAX

static Handoff *handoff(ClPd *pd, uint32_t tag)
{
    /* tags are handed out here and come back only through the engine's hooks
     * and our own events: a bug check, unreachable from input */
    g_assert(tag >= 1 && tag <= pd->num_h);
    return &pd->h[tag - 1];
}

static uint32_t handoff_new(ClPd *pd, const WlRequest *w)
{
    uint32_t i;
    if (pd->free_head != NONE) {
        i = pd->free_head;
        pd->free_head = pd->h[i].next_free;
    } else {
        if (pd->num_h == pd->cap_h) {
            pd->cap_h = MAX(256, pd->cap_h * 2);
            pd->h = g_renew(Handoff, pd->h, pd->cap_h);
        }
        i = pd->num_h++;
    }
    memset(&pd->h[i], 0, sizeof pd->h[i]);
    pd->h[i].w = *w;
    pd->h[i].prefill = -1;
    pd->h[i].decode = -1;
    pd->h[i].state = H_PREFILL;
    return i + 1;
}

static void handoff_free(ClPd *pd, uint32_t tag)
{
    Handoff *h = handoff(pd, tag);
    h->state = H_FREE;
    h->next_free = pd->free_head;
    pd->free_head = tag - 1;
}

static void push_net_events(Fleet *f)
{
    guint n;
    const ClNetEvent *ev = cl_net_events(f->pd->net, &n);
    for (guint i = 0; i < n; i++)
        sim_queue_push(f->rq, ev[i].time, EV_XFER, (uint64_t)ev[i].id | ((uint64_t)ev[i].version << 32));
}

/* Frees the prefill replica's blocks of a handoff (its KV is no longer read). */
static void release_prefill(Fleet *f, Handoff *h)
{
    guint p = (guint)h->prefill;
    sim_replica_release_held(f->reps[p], h->pref);
    h->held = FALSE;
    h->pref = NULL;
    cl_fleet_mark_dirty(f, p); /* waiting prefills may fit now */
    if (f->state && f->state[p] == SLOT_DRAINING)
        cl_scaler_check_drained(f, p);
}

/* ---------------------------------------------------------------- hooks -- */

static void hook_prefilled(void *user, SimReplica *r, SimKvRef *ref, uint32_t tag, SimTime first_sched,
                           SimTime kv_ready, SimTime notify)
{
    (void)r;
    ClPd *pd = user;
    Handoff *h = handoff(pd, tag);
    h->pref = ref;
    h->held = TRUE;
    h->first_sched = first_sched;
    h->prefill_end = kv_ready;
    if (h->cancelled) {
        /* the decode replica turned it away while the prefill ran (layer-wise):
         * free its blocks, as an event (the replica is ending its step) */
        sim_queue_push(pd->f->rq, kv_ready, EV_HANDOFF, tag);
        return;
    }
    if (h->early)
        return; /* handed off when its last step started */
    h->state = H_PENDING;
    pd->pending++;
    sim_queue_push(pd->f->rq, notify, EV_HANDOFF, tag);
}

static void hook_last_prefill_step(void *user, SimReplica *r, SimKvRef *ref, uint32_t tag, SimTime start,
                                   SimTime end)
{
    (void)r;
    ClPd *pd = user;
    Handoff *h = handoff(pd, tag);
    h->pref = ref;
    h->early = TRUE;
    h->prefill_end = end;
    h->state = H_PENDING;
    pd->pending++;
    sim_queue_push(pd->f->rq, start, EV_HANDOFF, tag);
}

static void hook_allocated(void *user, SimReplica *r, SimKvRef *ref, uint32_t tag, uint32_t tokens, SimTime now)
{
    (void)r;
    ClPd *pd = user;
    Fleet *f = pd->f;
    Handoff *h = handoff(pd, tag);
    const ClPoolSpec *pp = &f->cfg->pools[f->pool_of[h->prefill]];
    const ClPoolSpec *dp = &f->cfg->pools[f->pool_of[h->decode]];
    h->dref = ref;
    h->xfer_start = now;
    /* per GPU: each shard moves its heads; the side with more bytes per GPU binds */
    h->bytes = (double)tokens * MAX(pp->kv_bytes_per_token, dp->kv_bytes_per_token);
    uint32_t bs = MAX(pp->sched.block_size, 1u);
    h->descriptors = (uint64_t)((tokens + bs - 1) / bs) * MAX(pp->kv_layers, 1u) * MAX(pp->kv_tensors, 1u);
    SimTime not_before = 0;
    if (h->early) {
        /* the last layer leaves once the step has computed it */
        double per_ns = cl_net_link_bytes_per_s(pd->net) / 1e9;
        double tail = h->bytes / MAX(pp->kv_layers, 1u) / MAX(per_ns, 1e-12);
        not_before = h->prefill_end + (SimTime)ceil(MIN(tail, 1e15)) + 1;
    }
    uint32_t id = cl_net_start(pd->net, now, (guint)h->prefill, (guint)h->decode, h->bytes, h->descriptors,
                               not_before);
    if (id >= pd->xfer_tag->len)
        g_array_set_size(pd->xfer_tag, id + 1);
    g_array_index(pd->xfer_tag, uint32_t, id) = tag;
    push_net_events(f);
}

static void hook_completed(void *user, SimReplica *r, uint32_t tag, SimTime first_token, SimTime last_token)
{
    (void)r;
    ClPd *pd = user;
    Fleet *f = pd->f;
    Handoff *h = handoff(pd, tag);
    double pq = sim_time_to_ms(h->first_sched - h->w.arrival);
    double pf = sim_time_to_ms(h->prefill_end - h->first_sched);
    double wait = sim_time_to_ms(h->xfer_end > h->prefill_end ? h->xfer_end - h->prefill_end : 0);
    double dec = sim_time_to_ms(last_token - h->xfer_end);
    g_array_append_val(pd->v_pq, pq);
    g_array_append_val(pd->v_pf, pf);
    g_array_append_val(pd->v_wait, wait);
    g_array_append_val(pd->v_decode, dec);
    FILE *out = f->cfg->transfers_csv;
    if (out)
        fprintf(out,
                "%" G_GUINT64_FORMAT ",%d,%d,%u,%.0f,%" G_GUINT64_FORMAT ",%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
                "%.6f,%.6f\n",
                h->w.id, h->prefill, h->decode, h->w.input_tokens, h->bytes, h->descriptors,
                sim_time_to_seconds(h->w.arrival), sim_time_to_seconds(h->first_sched),
                sim_time_to_seconds(h->prefill_end), sim_time_to_seconds(h->handoff),
                sim_time_to_seconds(h->xfer_start), sim_time_to_seconds(h->xfer_end),
                sim_time_to_seconds(first_token), sim_time_to_seconds(last_token),
                sim_time_to_ms(h->xfer_end - h->xfer_start), sim_time_to_ms(first_token - h->w.arrival));
    handoff_free(pd, tag);
}

/* ----------------------------------------------------------------- setup -- */

gboolean cl_pd_init(Fleet *f, GError **error)
{
    const ClConfig *cfg = f->cfg;
    guint roles[CL_ROLE_N] = {0};
    for (guint p = 0; p < cfg->num_pools; p++)
        roles[cfg->pools[p].role]++;
    if (roles[CL_ROLE_DECODE] && !roles[CL_ROLE_PREFILL]) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "a decode pool needs a prefill pool to send it KV: add a pool with role \"prefill\" (or make "
                    "the decode pool \"both\")");
        return FALSE;
    }
    if (roles[CL_ROLE_PREFILL] && !roles[CL_ROLE_DECODE]) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "a prefill pool needs a decode pool to send its KV to: add a pool with role \"decode\"");
        return FALSE;
    }
    for (guint p = 0; p < cfg->num_pools; p++)
        if (cfg->pools[p].role != CL_ROLE_BOTH && cfg->pools[p].sched.kv_groups_sliding > 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "pool %s: KV transfers of a model with sliding-window layers are not modelled (their "
                        "blocks are not the prompt's): set disable_sliding_window, or make the pool \"both\"",
                        cfg->pools[p].name ? cfg->pools[p].name : "?");
            return FALSE;
        }
    ClPd *pd = g_new0(ClPd, 1);
    f->pd = pd;
    pd->f = f;
    if (cfg->pd)
        pd->spec = *cfg->pd;
    else
        cl_pd_spec_init(&pd->spec, cfg->router.policy);
    if (pd->spec.decider == CL_DECIDE_NEVER) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "the decider \"never\" sends no request to the prefill pool: use pools of role \"both\", or "
                    "another decider");
        return FALSE;
    }
    if (!cl_transfer_spec_validate(&pd->spec.transfer, "fleet", "disaggregation.transfer", error))
        return FALSE;
    cl_transfer_spec_resolve(&pd->spec.transfer, &pd->spec.transfer);
    if (pd->spec.decider == CL_DECIDE_PREFIX_MISS)
        pd->spec.decode_at_arrival = TRUE;
    pd->net = cl_net_new(&pd->spec.transfer, f->n);
    pd->hooks = (SimKvHooks){.prefilled = hook_prefilled,
                             .last_prefill_step = hook_last_prefill_step,
                             .allocated = hook_allocated,
                             .completed = hook_completed,
                             .user = pd,
                             .layerwise = pd->spec.transfer.layerwise};
    pd->free_head = NONE;
    pd->xfer_tag = g_array_new(FALSE, TRUE, sizeof(uint32_t));
    GArray **vs[] = {&pd->v_mb, &pd->v_xfer, &pd->v_pq, &pd->v_pf, &pd->v_wait, &pd->v_decode};
    for (guint i = 0; i < G_N_ELEMENTS(vs); i++)
        *vs[i] = g_array_new(FALSE, FALSE, sizeof(double));
    if (cfg->transfers_csv)
        fputs("id,prefill_replica,decode_replica,prompt_tokens,bytes_per_gpu,descriptors,arrival_s,prefill_start_s,"
              "prefill_end_s,handoff_s,transfer_start_s,transfer_end_s,first_token_s,finish_s,transfer_ms,ttft_ms\n",
              cfg->transfers_csv);
    return TRUE;
}

void cl_pd_free(ClPd *pd)
{
    if (!pd)
        return;
    cl_net_free(pd->net);
    g_free(pd->h);
    g_array_free(pd->xfer_tag, TRUE);
    GArray *vs[] = {pd->v_mb, pd->v_xfer, pd->v_pq, pd->v_pf, pd->v_wait, pd->v_decode};
    for (guint i = 0; i < G_N_ELEMENTS(vs); i++)
        if (vs[i])
            g_array_free(vs[i], TRUE);
    g_free(pd);
}

const SimKvHooks *cl_pd_hooks(ClPd *pd)
{
    return &pd->hooks;
}

gboolean cl_pd_check_times(const ClPd *pd, GError **error)
{
    double late = cl_net_late_bytes(pd->net);
    if (late > 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "fleet.disaggregation.transfer: a KV transfer (%.4g bytes still to send) would end after %g s "
                    "of simulated time: the link (%g Gb/s at efficiency %g, shared by the transfers on it) is far "
                    "too slow for this load",
                    late, sim_time_to_seconds(SIM_TIME_HORIZON), pd->spec.transfer.bandwidth_gbps,
                    pd->spec.transfer.efficiency);
        return FALSE;
    }
    return TRUE;
}

gboolean cl_pd_busy(const ClPd *pd)
{
    return pd->pending > 0 || cl_net_active(pd->net) > 0;
}

/* -------------------------------------------------------------- routing -- */

/* Picks a decode replica (no admission: the request was admitted at the
 * front door); -1 when none serves. */
static int pick_decode(Fleet *f, const WlRequest *w, const gboolean *mask)
{
    ClView view = {.n = f->n, .outstanding = f->outstanding, .signals = f->signals, .unseen = f->unseen,
                   .eligible = mask, .lora_affinity = cl_fleet_lora_affinity(f, f->cfg->pd->decode_policy, w)};
    return cl_router_pick(f->decode_router, w, &view, f->cfg->routing_csv ? f->scores : NULL, NULL);
}

/* Reads the replicas' signals when the router uses live ones. */
static void refresh_signals(Fleet *f)
{
    if (!f->interval)
        for (guint r = 0; r < f->n; r++)
            cl_fleet_read_signals(f, r, &f->signals[r]);
}

void cl_pd_route(Fleet *f, const WlRequest *w)
{
    ClPd *pd = f->pd;
    const ClConfig *cfg = f->cfg;
    int d = -1;
    if (pd->spec.decode_at_arrival) {
        refresh_signals(f);
        d = pick_decode(f, w, f->mask_decode);
    }
    gboolean split;
    switch (pd->spec.decider) {
    case CL_DECIDE_ALWAYS:
        split = TRUE;
        break;
    case CL_DECIDE_PROMPT_LENGTH:
        split = w->input_tokens >= pd->spec.threshold_tokens;
        break;
    case CL_DECIDE_PREFIX_MISS: {
        uint32_t hit = d >= 0 ? cl_router_expected_hit_tokens(f->decode_router, w, (guint)d) : 0;
        split = w->input_tokens - hit >= pd->spec.threshold_tokens;
        break;
    }
    default:
        split = FALSE;
        break;
    }
    SimTime age = 0;
    const gboolean *elig = NULL;
    int reason = cl_fleet_admit(f, split ? f->mask_prefill : f->mask_whole, &age, &elig);
    int chosen = -1;
    gboolean sticky = FALSE;
    if (reason < 0) {
        ClView view = {.n = f->n, .outstanding = f->outstanding, .signals = f->signals, .unseen = f->unseen,
                       .eligible = elig,
                       .lora_affinity = cl_fleet_lora_affinity(f, split ? cfg->router.policy : cfg->pd->decode_policy, w)};
        if (split)
            chosen = cl_router_pick(f->router, w, &view, cfg->routing_csv ? f->scores : NULL, &sticky);
        else if (d >= 0 && (!elig || elig[d]))
            chosen = d;
        else
            chosen = cl_router_pick(f->decode_router, w, &view, cfg->routing_csv ? f->scores : NULL, &sticky);
        if (chosen < 0)
            reason = CL_REJECT_REPLICA_QUEUE;
    } else if (cfg->routing_csv) { /* rejected at the door: no replica was scored */
        for (guint r = 0; r < f->n; r++)
            f->scores[r] = NAN;
    }
    if (cl_fleet_decided(f, w, chosen, reason, age))
        return;
    if (cfg->admission.rate_limit > 0)
        f->bucket -= 1.0;
    guint r = (guint)chosen;
    if (!split) {
        pd->whole++;
        cl_router_commit(f->decode_router, w, r);
        if (cfg->routing_csv)
            cl_fleet_routing_row(f, w, sticky ? "sticky" : "routed", chosen, age);
        cl_fleet_send(f, w, r, DELIVER_WHOLE, 0);
        return;
    }
    pd->disaggregated++;
    uint32_t tag = handoff_new(pd, w);
    Handoff *h = handoff(pd, tag);
    h->prefill = (int)r;
    cl_router_commit(f->router, w, r);
    if (cfg->routing_csv)
        cl_fleet_routing_row(f, w, "prefill", chosen, age);
    if (d >= 0) {
        /* the decode replica is chosen now: it counts the request from now on */
        h->decode = d;
        h->decode_counted = TRUE;
        cl_router_commit(f->decode_router, w, (guint)d);
        cl_fleet_count_routed(f, (guint)d);
    }
    cl_fleet_send(f, w, r, DELIVER_PREFILL, tag);
}

void cl_pd_deliver(Fleet *f, const WlRequest *w, guint r, uint8_t kind, uint32_t tag)
{
    ClPd *pd = f->pd;
    Handoff *h = handoff(pd, tag);
    SimReplica *rep = f->reps[r];
    if (kind == DELIVER_PREFILL) {
        if (sim_replica_add_prefill(rep, w, f->now, tag) != SCHED_FITS) {
            /* counted as rejected by the prefill replica; a decode replica chosen for it has nothing to do */
            if (h->decode_counted) {
                guint d = (guint)h->decode;
                f->routed[d]--;
                f->routed_total--;
                f->in_transit[d]--;
                f->unseen[d] = MIN(f->unseen[d], f->in_transit[d]);
                cl_fleet_update_outstanding(f, d);
            }
            handoff_free(pd, tag);
        }
        return;
    }
    h->state = H_DECODE;
    if (sim_replica_add_remote(rep, w, f->now, tag, h->first_sched) != SCHED_FITS) {
        /* the decode replica can never hold it (counted as rejected there): its KV is not needed */
        if (h->held)
            release_prefill(f, h);
        else
            h->cancelled = TRUE;
        if (!h->cancelled)
            handoff_free(pd, tag);
    }
}

void cl_pd_handoff(Fleet *f, uint32_t tag)
{
    ClPd *pd = f->pd;
    Handoff *h = handoff(pd, tag);
    if (h->cancelled) { /* turned away by its decode replica while its prefill ran */
        if (h->held)
            release_prefill(f, h);
        handoff_free(pd, tag);
        return;
    }
    /* one handoff event is queued per prefill, when it ends: a bug check,
     * unreachable from input */
    g_assert(h->state == H_PENDING);
    pd->pending--;
    h->handoff = f->now;
    const ClConfig *cfg = f->cfg;
    if (h->decode < 0) {
        refresh_signals(f);
        int d = pick_decode(f, &h->w, f->mask_decode);
        if (d < 0) { /* no decode replica serves: cannot happen with a pool's minimum of 1; counted, never lost */
            pd->rejected_no_decode++;
            sim_recorder_reject(f->rec, &h->w, "rejected_no_decode");
            if (h->held)
                release_prefill(f, h);
            else
                h->cancelled = TRUE;
            if (!h->cancelled)
                handoff_free(pd, tag);
            return;
        }
        h->decode = d;
        cl_router_commit(f->decode_router, &h->w, (guint)d);
        if (cfg->routing_csv)
            cl_fleet_routing_row(f, &h->w, "decode", d, 0);
        h->state = H_TRANSIT;
        cl_fleet_send(f, &h->w, (guint)d, DELIVER_REMOTE, tag);
    } else {
        if (cfg->routing_csv) {
            for (guint r = 0; r < f->n; r++)
                f->scores[r] = NAN;
            cl_fleet_routing_row(f, &h->w, "decode", h->decode, 0);
        }
        h->state = H_TRANSIT;
        cl_fleet_dispatch(f, &h->w, (guint)h->decode, DELIVER_REMOTE, tag);
    }
}

void cl_pd_transfer_event(Fleet *f, uint64_t data)
{
    ClPd *pd = f->pd;
    uint32_t id = (uint32_t)data, version = (uint32_t)(data >> 32);
    gboolean done = cl_net_handle(pd->net, f->now, id, version);
    push_net_events(f);
    if (!done)
        return;
    uint32_t tag = g_array_index(pd->xfer_tag, uint32_t, id);
    Handoff *h = handoff(pd, tag);
    h->xfer_end = f->now;
    pd->transfers++;
    pd->bytes += h->bytes;
    double mb = h->bytes / 1e6, ms = sim_time_to_ms(h->xfer_end - h->xfer_start);
    g_array_append_val(pd->v_mb, mb);
    g_array_append_val(pd->v_xfer, ms);
    guint d = (guint)h->decode;
    sim_replica_kv_arrived(f->reps[d], h->dref, f->now);
    cl_fleet_mark_dirty(f, d);
    if (h->held)
        release_prefill(f, h);
}

/* ------------------------------------------------------------------ end -- */

void cl_pd_unfinished(Fleet *f, GArray *out)
{
    ClPd *pd = f->pd;
    for (uint32_t i = 0; i < pd->num_h; i++) {
        const Handoff *h = &pd->h[i];
        if (h->state != H_PENDING)
            continue;
        g_array_append_val(out, h->w);
        sim_recorder_unserved_row(f->rec, &h->w, "kv_handoff");
    }
}

static void stats_of(GArray *v, SimStats *out)
{
    sim_stats_compute((double *)v->data, v->len, out);
}

ClPdResult *cl_pd_result(Fleet *f, double duration_s)
{
    ClPd *pd = f->pd;
    ClPdResult *r = g_new0(ClPdResult, 1);
    r->disaggregated = pd->disaggregated;
    r->whole = pd->whole;
    r->transfers = pd->transfers;
    r->bytes = pd->bytes;
    r->transfer = pd->spec.transfer;
    stats_of(pd->v_mb, &r->transfer_mb);
    stats_of(pd->v_xfer, &r->transfer_ms);
    stats_of(pd->v_pq, &r->prefill_queue_ms);
    stats_of(pd->v_pf, &r->prefill_ms);
    stats_of(pd->v_wait, &r->kv_wait_ms);
    stats_of(pd->v_decode, &r->decode_ms);
    double cap = cl_net_link_bytes_per_s(pd->net) * duration_s;
    double rx_sum = 0;
    guint rx_n = 0;
    for (guint e = 0; e < f->n && cap > 0; e++) {
        double sent, received;
        cl_net_endpoint_bytes(pd->net, e, &sent, &received);
        r->nic_tx_util_max = MAX(r->nic_tx_util_max, sent / cap);
        r->nic_rx_util_max = MAX(r->nic_rx_util_max, received / cap);
        if (received > 0) {
            rx_sum += received / cap;
            rx_n++;
        }
    }
    r->nic_rx_util_mean = rx_n ? rx_sum / rx_n : 0;
    double fcap = cl_net_fabric_bytes_per_s(pd->net) * duration_s;
    r->fabric_util = fcap > 0 ? cl_net_fabric_bytes(pd->net) / fcap : 0;
    return r;
}
