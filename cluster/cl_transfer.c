/*
 * cl_transfer.c: KV transfers between replicas (cl.h, cl_internal.h).
 *
 * The time of one transfer is
 *     latency + descriptors x per_descriptor + bytes / rate
 * where bytes are the request's KV on one GPU (each TP shard moves its own
 * over its own GPU's NIC, in parallel), a descriptor is one block of one
 * layer's K or V (what vLLM's NIXL connector posts), and the rate is that
 * of the transfer's most loaded link: a link of capacity C carrying k
 * transfers gives each C / k. The links are the sender's outgoing NIC, the
 * receiver's incoming NIC (per GPU: bandwidth x efficiency) and, when
 * given, a fabric every transfer crosses. The first two terms are paid
 * before the transfer enters its links (set-up and posting do not use
 * bandwidth).
 *
 * Link classes give defaults (docs/disaggregation.md compares them with
 * published vLLM measurements): NVLink 3,600 Gb/s per GPU (H100's 450 GB/s
 * per direction), RDMA 400 and 200 Gb/s per GPU, PCIe Gen4 x16 (256 Gb/s)
 * between GPUs of one host, TCP at 100 and 25 Gb/s. Bulk RDMA and NVLink
 * reach about 90% and 80% of the line rate, PCIe 80%, TCP 60%. A descriptor
 * costs about 3.5 us to post (129 ms for 40,064 descriptors and 6.7 ms for
 * 1,785 in vLLM issues #34054 and #50913), 2 us on NVLink, 10 us over TCP.
 *
 * Rates are recomputed whenever a link's count changes, for the transfers
 * on that link only: each one's progress is counted at its old rate up to
 * now, then its end is set at the new rate (rounded up to the nanosecond,
 * so that the bytes are always gone by then). Transfers live in an array
 * recycled through a free list; a link keeps the ids of its transfers.
 */
#include <math.h>
#include <string.h>

#include "cl_internal.h"
#include "ss_error.h"

/* ---------------------------------------------------------- link classes -- */

typedef struct {
    const char *name;
    double gbps, efficiency, latency_ms, per_descriptor_us;
} LinkClass;

static const LinkClass link_classes[] = {
    {"nvlink", 3600, 0.8, 0.05, 2.0},
    {"rdma-400", 400, 0.9, 0.5, 3.5},
    {"rdma-200", 200, 0.9, 0.5, 3.5},
    {"pcie", 256, 0.8, 0.2, 3.5},
    {"tcp-100", 100, 0.6, 1.0, 10.0},
    {"tcp-25", 25, 0.6, 1.0, 10.0},
};
G_STATIC_ASSERT(G_N_ELEMENTS(link_classes) == CL_LINK_N);

const char *cl_link_class_name(ClLinkClass c)
{
    return c < CL_LINK_N ? link_classes[c].name : "unknown";
}

const char *const *cl_link_class_names(void)
{
    static const char *names[CL_LINK_N + 1];
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        for (guint i = 0; i < CL_LINK_N; i++)
            names[i] = link_classes[i].name;
        names[CL_LINK_N] = NULL;
        g_once_init_leave(&init, 1);
    }
    return names;
}

gboolean cl_link_class_from_name(const char *name, ClLinkClass *out)
{
    static const struct {
        const char *alias;
        ClLinkClass c;
    } aliases[] = {{"rdma", CL_LINK_RDMA_400}, {"infiniband", CL_LINK_RDMA_400}, {"tcp", CL_LINK_TCP_100},
                   {"nvl", CL_LINK_NVLINK}};
    for (guint i = 0; i < CL_LINK_N; i++)
        if (g_ascii_strcasecmp(name, link_classes[i].name) == 0) {
            *out = (ClLinkClass)i;
            return TRUE;
        }
    for (guint i = 0; i < G_N_ELEMENTS(aliases); i++)
        if (g_ascii_strcasecmp(name, aliases[i].alias) == 0) {
            *out = aliases[i].c;
            return TRUE;
        }
    return FALSE;
}

void cl_transfer_spec_init(ClTransferSpec *t)
{
    memset(t, 0, sizeof *t);
    t->link = CL_LINK_RDMA_400;
    t->bandwidth_gbps = -1;
    t->efficiency = -1;
    t->fabric_gbps = 0;
    t->latency_ms = -1;
    t->per_descriptor_us = -1;
    t->layerwise = FALSE;
}

void cl_transfer_spec_resolve(const ClTransferSpec *t, ClTransferSpec *out)
{
    const LinkClass *c = &link_classes[t->link < CL_LINK_N ? t->link : CL_LINK_RDMA_400];
    *out = *t;
    if (out->bandwidth_gbps < 0)
        out->bandwidth_gbps = c->gbps;
    if (out->efficiency < 0)
        out->efficiency = c->efficiency;
    if (out->latency_ms < 0)
        out->latency_ms = c->latency_ms;
    if (out->per_descriptor_us < 0)
        out->per_descriptor_us = c->per_descriptor_us;
}

gboolean cl_transfer_spec_validate(const ClTransferSpec *t, const char *origin, const char *path, GError **error)
{
    const char *o = origin ? origin : "fleet";
    const char *p = path ? path : "transfer";
    if (t->link >= CL_LINK_N) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.link: unknown link class", o, p);
        return FALSE;
    }
    /* unset (-1) means the class's; anything else must be in range */
    if (t->bandwidth_gbps != -1 && !(t->bandwidth_gbps >= CL_LINK_GBPS_MIN && t->bandwidth_gbps <= 1e7)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s.bandwidth_gbps: expected a number >= %g and <= 1e7 (Gb/s per GPU), got %g: a link "
                    "without bandwidth never moves a byte", o, p, CL_LINK_GBPS_MIN, t->bandwidth_gbps);
        return FALSE;
    }
    if (t->efficiency != -1 && !(t->efficiency >= CL_LINK_EFFICIENCY_MIN && t->efficiency <= 1)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.efficiency: expected a number in [%g, 1], got %g", o,
                    p, CL_LINK_EFFICIENCY_MIN, t->efficiency);
        return FALSE;
    }
    if (!(t->fabric_gbps == 0 || (t->fabric_gbps >= CL_LINK_GBPS_MIN && t->fabric_gbps <= 1e9))) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s.fabric_gbps: expected 0 (no shared fabric) or a number >= %g and <= 1e9, got %g", o, p,
                    CL_LINK_GBPS_MIN, t->fabric_gbps);
        return FALSE;
    }
    if ((t->latency_ms != -1 && !(t->latency_ms >= 0 && t->latency_ms <= 3.6e6)) ||
        (t->per_descriptor_us != -1 && !(t->per_descriptor_us >= 0 && t->per_descriptor_us <= 1e6))) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: latency_ms and per_descriptor_us must be numbers >= 0, got %g and %g", o, p,
                    t->latency_ms, t->per_descriptor_us);
        return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- network -- */

enum { PHASE_SETUP = 0, PHASE_DATA, PHASE_TAIL, PHASE_FREE };

typedef struct {
    guint src, dst;
    double remaining;       /* bytes */
    double rate;            /* bytes per ns */
    SimTime last;           /* progress counted up to here */
    SimTime not_before;
    uint32_t version;
    uint8_t phase;
    uint32_t next_free;
} Transfer;

typedef struct {
    double capacity;        /* bytes per ns */
    GArray *ids;            /* uint32_t of the transfers on it */
    double carried;         /* bytes */
} Link;

struct ClNet {
    ClTransferSpec spec;
    guint n;
    Link *links;            /* 2n + 1: tx of endpoint e at 2e, rx at 2e + 1, the fabric at 2n */
    gboolean has_fabric;
    Transfer *t;
    uint32_t num_t, cap_t, free_head;
    guint active;
    GArray *events;         /* ClNetEvent to hand out */
    double late_bytes;      /* > 0: a transfer of this many bytes would end past the clock's horizon */
};

#define NONE UINT32_MAX

ClNet *cl_net_new(const ClTransferSpec *resolved, guint n)
{
    ClNet *net = g_new0(ClNet, 1);
    net->spec = *resolved;
    net->n = n;
    net->links = g_new0(Link, 2 * n + 1);
    double nic = resolved->bandwidth_gbps * resolved->efficiency / 8.0; /* Gb/s -> bytes per ns */
    for (guint i = 0; i < 2 * n; i++) {
        net->links[i].capacity = nic;
        net->links[i].ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    }
    net->has_fabric = resolved->fabric_gbps > 0;
    net->links[2 * n].capacity = resolved->fabric_gbps * resolved->efficiency / 8.0;
    net->links[2 * n].ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    net->free_head = NONE;
    net->events = g_array_new(FALSE, FALSE, sizeof(ClNetEvent));
    return net;
}

void cl_net_free(ClNet *net)
{
    if (!net)
        return;
    for (guint i = 0; i < 2 * net->n + 1; i++)
        g_array_free(net->links[i].ids, TRUE);
    g_free(net->links);
    g_free(net->t);
    g_array_free(net->events, TRUE);
    g_free(net);
}

static void emit(ClNet *net, SimTime time, uint32_t id)
{
    ClNetEvent ev = {.time = time, .id = id, .version = ++net->t[id].version};
    g_array_append_val(net->events, ev);
}

const ClNetEvent *cl_net_events(ClNet *net, guint *n)
{
    *n = net->events->len;
    const ClNetEvent *ev = (const ClNetEvent *)net->events->data;
    g_array_set_size(net->events, 0); /* the data stays until the next append */
    return ev;
}

double cl_net_late_bytes(const ClNet *net)
{
    return net->late_bytes;
}

guint cl_net_active(const ClNet *net)
{
    return net->active;
}

/* The links of a transfer: 2 or 3 indices into net->links. */
static guint links_of(const ClNet *net, const Transfer *t, guint *out)
{
    out[0] = 2 * t->src;
    out[1] = 2 * t->dst + 1;
    if (net->has_fabric) {
        out[2] = 2 * net->n;
        return 3;
    }
    return 2;
}

/* Counts a transfer's progress up to now at its current rate. */
static void advance(ClNet *net, Transfer *t, SimTime now)
{
    if (t->phase != PHASE_DATA || now <= t->last)
        return;
    double moved = MIN(t->rate * (double)(now - t->last), t->remaining);
    t->remaining -= moved;
    guint l[3];
    guint nl = links_of(net, t, l);
    for (guint k = 0; k < nl; k++)
        net->links[l[k]].carried += moved;
    t->last = now;
}

/* Sets a transfer's rate from its links' counts and its end from its rate. */
static void retime(ClNet *net, uint32_t id, SimTime now)
{
    Transfer *t = &net->t[id];
    guint l[3];
    guint nl = links_of(net, t, l);
    double rate = INFINITY;
    for (guint k = 0; k < nl; k++) {
        const Link *lk = &net->links[l[k]];
        rate = MIN(rate, lk->capacity / (double)MAX(lk->ids->len, 1u));
    }
    t->rate = rate;
    double ns = t->remaining > 0 ? ceil(t->remaining / rate) : 0;
    /* the bandwidths have floors (CL_LINK_GBPS_MIN) but enough transfers
     * sharing a slow link can still outlast any run: capped at the horizon
     * and reported (cl_net_late_bytes), never wrapped */
    SimTime end = SIM_TIME_HORIZON;
    if (now >= SIM_TIME_HORIZON || !(ns < (double)(SIM_TIME_HORIZON - now)))
        net->late_bytes = MAX(net->late_bytes, t->remaining);
    else
        end = now + (SimTime)ns;
    emit(net, end, id);
}

/* Re-times every transfer on link l but `except`. */
static void retime_link(ClNet *net, guint l, uint32_t except, SimTime now)
{
    GArray *ids = net->links[l].ids;
    for (guint k = 0; k < ids->len; k++) {
        uint32_t id = g_array_index(ids, uint32_t, k);
        if (id == except)
            continue;
        advance(net, &net->t[id], now);
        retime(net, id, now);
    }
}

uint32_t cl_net_start(ClNet *net, SimTime now, guint src, guint dst, double bytes, uint64_t descriptors,
                      SimTime not_before)
{
    /* the endpoints are replica indices of the fleet the network was made
     * for: a bug check, unreachable from input */
    g_assert(src < net->n && dst < net->n);
    uint32_t id;
    if (net->free_head != NONE) {
        id = net->free_head;
        net->free_head = net->t[id].next_free;
    } else {
        if (net->num_t == net->cap_t) {
            net->cap_t = MAX(64, net->cap_t * 2);
            net->t = g_renew(Transfer, net->t, net->cap_t);
        }
        id = net->num_t++;
        net->t[id].version = 0;
    }
    Transfer *t = &net->t[id];
    uint32_t version = t->version;
    *t = (Transfer){.src = src, .dst = dst, .remaining = MAX(bytes, 0.0), .last = now, .not_before = not_before,
                    .version = version, .phase = PHASE_SETUP, .next_free = NONE};
    net->active++;
    double setup_ns = net->spec.latency_ms * 1e6 + (double)descriptors * net->spec.per_descriptor_us * 1e3;
    /* latency_ms <= 3.6e6 and per_descriptor_us <= 1e6 (checked when read):
     * within the clock's range; saturating regardless */
    emit(net, sim_time_add_sat(now, (SimTime)llround(MIN(MAX(setup_ns, 0.0), 1e18))), id);
    return id;
}

gboolean cl_net_handle(ClNet *net, SimTime now, uint32_t id, uint32_t version)
{
    if (id >= net->num_t)
        return FALSE;
    Transfer *t = &net->t[id];
    if (t->phase == PHASE_FREE || t->version != version)
        return FALSE; /* re-timed since this event was queued */
    guint l[3];
    guint nl = links_of(net, t, l);
    if (t->phase == PHASE_SETUP) {
        /* set up: it enters its links, which slows the others there */
        t->phase = PHASE_DATA;
        t->last = now;
        for (guint k = 0; k < nl; k++)
            g_array_append_val(net->links[l[k]].ids, id);
        for (guint k = 0; k < nl; k++)
            retime_link(net, l[k], id, now);
        retime(net, id, now);
        return FALSE;
    }
    if (t->phase == PHASE_DATA) {
        advance(net, t, now);
        /* the end was rounded up: what is left is rounding */
        t->remaining = 0;
        for (guint k = 0; k < nl; k++) {
            GArray *ids = net->links[l[k]].ids;
            for (guint j = 0; j < ids->len; j++)
                if (g_array_index(ids, uint32_t, j) == id) {
                    g_array_remove_index(ids, j); /* keeps the others' order */
                    break;
                }
        }
        for (guint k = 0; k < nl; k++)
            retime_link(net, l[k], id, now);
        if (now < t->not_before) {
            t->phase = PHASE_TAIL; /* the bytes are across; the last layer is not computed yet */
            emit(net, t->not_before, id);
            return FALSE;
        }
    }
    /* ended */
    t->phase = PHASE_FREE;
    t->next_free = net->free_head;
    net->free_head = id;
    net->active--;
    return TRUE;
}

void cl_net_endpoint_bytes(const ClNet *net, guint endpoint, double *sent, double *received)
{
    *sent = endpoint < net->n ? net->links[2 * endpoint].carried : 0;
    *received = endpoint < net->n ? net->links[2 * endpoint + 1].carried : 0;
}

double cl_net_fabric_bytes(const ClNet *net)
{
    return net->has_fabric ? net->links[2 * net->n].carried : 0;
}

double cl_net_link_bytes_per_s(const ClNet *net)
{
    return net->links[0].capacity * 1e9;
}

double cl_net_fabric_bytes_per_s(const ClNet *net)
{
    return net->has_fabric ? net->links[2 * net->n].capacity * 1e9 : 0;
}
