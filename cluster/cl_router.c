/*
 * cl_router.c: routing policies (cl.h, cl_internal.h).
 *
 * Every policy picks among the replicas admission left eligible, from the
 * router's view: its own counts (outstanding requests, always fresh) and the
 * replicas' signals as last reported. Ties are broken without bias and
 * deterministically: the scan starts after the replica chosen last (so equal
 * replicas take turns), except where the imitated system does otherwise:
 * vLLM's balancer scans from replica 0 and keeps the first minimum, llm-d's
 * max-score picker chooses at random among equal scores (a seeded stream).
 *
 *   round-robin        the next eligible replica in turn
 *   random             uniform over the eligible replicas (seeded)
 *   least-outstanding  fewest requests routed and not finished
 *   least-waiting      fewest waiting requests (reported)
 *   least-kv           lowest KV-cache use (reported)
 *   vllm-dp            lowest (waiting + routed since the report) x 4 + running
 *   prefix-affinity    longest run of leading prompt blocks in the router's
 *                      index, then fewest outstanding
 *   consistent-hash    a ring of virtual nodes keyed by the session (or the
 *                      prefix group; the request id when it has neither);
 *                      clockwise to the first replica within load_factor x
 *                      the mean outstanding
 *   weighted           llm-d's pipeline: sum of weight x score, each scorer
 *                      in [0, 1]: prefix (matched / prompt blocks), queue
 *                      (min-max normalised waiting, fewer is better), KV
 *                      (1 - use); highest wins
 *
 * Session stickiness, with any policy: a later turn of a session goes where
 * the session's previous turn went, while admission allows (a hash table
 * from session to replica, looked up, never iterated).
 *
 * A request's router blocks are hashed once per decision through the
 * scheduler's own block hash (sched_request_block_hash), so the router's
 * index and the replicas' caches agree on what a shared prefix is. Cost:
 * O(replicas) per decision, plus O(prompt blocks) for the prefix-aware
 * policies and O(log points) for the ring.
 */
#include <math.h>
#include <string.h>

#include "cl_internal.h"
#include "ss_error.h"

static const char *const policy_names[] = {
    "round-robin", "random", "least-outstanding", "least-waiting", "least-kv",
    "vllm-dp", "prefix-affinity", "consistent-hash", "weighted", NULL,
};
G_STATIC_ASSERT(G_N_ELEMENTS(policy_names) == CL_ROUTER_N + 1);

const char *cl_router_policy_name(ClRouterPolicy p)
{
    return p < CL_ROUTER_N ? policy_names[p] : "unknown";
}

const char *const *cl_router_policy_names(void)
{
    return policy_names;
}

gboolean cl_router_policy_from_name(const char *name, ClRouterPolicy *out)
{
    static const struct {
        const char *alias;
        ClRouterPolicy p;
    } aliases[] = {
        {"least-requests", CL_ROUTER_LEAST_OUTSTANDING},
        {"least-kv-usage", CL_ROUTER_LEAST_KV},
        {"llm-d", CL_ROUTER_WEIGHTED},
        {"rr", CL_ROUTER_ROUND_ROBIN},
    };
    for (guint i = 0; i < CL_ROUTER_N; i++)
        if (g_ascii_strcasecmp(name, policy_names[i]) == 0) {
            *out = (ClRouterPolicy)i;
            return TRUE;
        }
    for (guint i = 0; i < G_N_ELEMENTS(aliases); i++)
        if (g_ascii_strcasecmp(name, aliases[i].alias) == 0) {
            *out = aliases[i].p;
            return TRUE;
        }
    return FALSE;
}

void cl_router_spec_init(ClRouterSpec *s)
{
    memset(s, 0, sizeof *s);
    s->policy = CL_ROUTER_ROUND_ROBIN;
    s->snapshot_interval_ms = -1;
    s->latency_ms = 0;
    s->prefix_weight = 3;
    s->queue_weight = 2;
    s->kv_weight = 2;
    s->prefix_block_size = 64;
    s->prefix_max_blocks = 256;
    s->prefix_capacity = 0;
    s->hash_key = CL_HASH_SESSION;
    s->load_factor = 1.25;
    s->virtual_nodes = 100;
    s->sticky_sessions = FALSE;
}

double cl_router_spec_interval_ms(const ClRouterSpec *s)
{
    if (s->snapshot_interval_ms >= 0)
        return s->snapshot_interval_ms;
    return s->policy == CL_ROUTER_VLLM_DP ? 100.0 : 50.0;
}

gboolean cl_router_spec_validate(const ClRouterSpec *s, const char *origin, GError **error)
{
    const char *o = origin ? origin : "router";
    const struct {
        const char *name;
        double v;
    } nonneg[] = {{"latency_ms", s->latency_ms},
                  {"weights.prefix", s->prefix_weight},
                  {"weights.queue", s->queue_weight},
                  {"weights.kv", s->kv_weight},
                  {"weights.lora", s->lora_weight}};
    for (guint i = 0; i < G_N_ELEMENTS(nonneg); i++)
        if (!(nonneg[i].v >= 0) || !isfinite(nonneg[i].v)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: router.%s: expected a number >= 0, got %g", o,
                        nonneg[i].name, nonneg[i].v);
            return FALSE;
        }
    if (!isfinite(s->snapshot_interval_ms) || (s->snapshot_interval_ms < 0 && s->snapshot_interval_ms != -1)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: router.snapshot_interval_ms: expected a number >= 0 (0: always fresh), got %g", o,
                    s->snapshot_interval_ms);
        return FALSE;
    }
    /* both become simulated time (ss_types.h): a snapshot every nanosecond
     * would be an event every nanosecond for as long as the fleet is busy */
    if (s->snapshot_interval_ms > 0 && !(s->snapshot_interval_ms >= CL_SNAPSHOT_INTERVAL_MIN_MS &&
                                         s->snapshot_interval_ms <= SIM_TIME_LIMIT_S * 1e3)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: router.snapshot_interval_ms: expected 0 (always fresh) or %g to %g ms, got %g", o,
                    CL_SNAPSHOT_INTERVAL_MIN_MS, SIM_TIME_LIMIT_S * 1e3, s->snapshot_interval_ms);
        return FALSE;
    }
    if (s->latency_ms > SIM_TIME_LIMIT_S * 1e3) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: router.latency_ms: expected at most %g ms (the simulated-time limit), got %g", o,
                    SIM_TIME_LIMIT_S * 1e3, s->latency_ms);
        return FALSE;
    }
    if (s->policy == CL_ROUTER_WEIGHTED && s->prefix_weight + s->queue_weight + s->kv_weight + s->lora_weight <= 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: router.weights: at least one scorer weight must be positive", o);
        return FALSE;
    }
    if (s->prefix_block_size == 0 || s->prefix_max_blocks == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: router.prefix: block_size and max_blocks must be positive integers", o);
        return FALSE;
    }
    if (!(s->load_factor > 1) || !isfinite(s->load_factor)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: router.load_factor: expected a number > 1 (the bound over the mean load), got %g", o,
                    s->load_factor);
        return FALSE;
    }
    if (s->virtual_nodes == 0 || s->virtual_nodes > 10000) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: router.virtual_nodes: expected an integer from 1 to 10000, got %u", o, s->virtual_nodes);
        return FALSE;
    }
    return TRUE;
}

/* ---------------------------------------------------------------- router -- */

typedef struct {
    uint64_t point;
    uint32_t replica;
} RingPoint;

struct ClRouter {
    ClRouterSpec spec;
    guint n;
    GRand *rng;
    guint last;               /* the replica chosen last (tie-breaking turns) */
    ClPrefixIndex *index;     /* prefix-affinity, weighted with a prefix weight */
    uint64_t *hashes;         /* hashes of the shared router blocks of the request being routed */
    guint num_hashes, cap_hashes; /* its router blocks (shared, then private) */
    guint num_shared;         /* ... of which shared: hashes[0..num_shared) */
    uint64_t hashed_id;       /* the request they belong to */
    gboolean have_hashes;
    uint32_t *match;          /* per replica: leading blocks matched */
    double *score;            /* scratch */
    guint *ties;              /* scratch */
    RingPoint *ring;          /* consistent hash */
    guint ring_len;
    uint8_t *visited;         /* scratch for the ring walk */
    GHashTable *session_home; /* sticky sessions: session id -> replica + 1 (lookups only) */
};

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static int ring_cmp(const void *a, const void *b)
{
    const RingPoint *x = a, *y = b;
    if (x->point != y->point)
        return x->point < y->point ? -1 : 1;
    return x->replica < y->replica ? -1 : (x->replica > y->replica);
}

static gboolean uses_index(const ClRouterSpec *s)
{
    return s->policy == CL_ROUTER_PREFIX_AFFINITY || (s->policy == CL_ROUTER_WEIGHTED && s->prefix_weight > 0);
}

ClRouter *cl_router_new(const ClRouterSpec *spec, guint n, const uint64_t *kv_tokens, guint64 seed)
{
    ClRouter *rt = g_new0(ClRouter, 1);
    rt->spec = *spec;
    rt->n = n;
    /* the router's own stream: seeded from the run's seed, apart from the workload's */
    rt->rng = g_rand_new_with_seed_array((const guint32[]){(guint32)seed, (guint32)(seed >> 32), 0x726f7574u}, 3);
    rt->last = n - 1;
    rt->match = g_new0(uint32_t, n);
    rt->score = g_new0(double, n);
    rt->ties = g_new0(guint, n);
    if (uses_index(spec) && n > 1) { /* one replica needs no index: every request goes there */
        uint32_t *cap = g_new(uint32_t, n);
        for (guint r = 0; r < n; r++) {
            uint64_t c = spec->prefix_capacity ? spec->prefix_capacity : kv_tokens[r] / spec->prefix_block_size;
            cap[r] = (uint32_t)CLAMP(c, 1, G_MAXUINT32);
        }
        rt->index = cl_prefix_index_new(n, cap);
        g_free(cap);
    }
    if (spec->policy == CL_ROUTER_CONSISTENT_HASH) {
        rt->ring_len = n * spec->virtual_nodes;
        rt->ring = g_new(RingPoint, rt->ring_len);
        for (guint r = 0, k = 0; r < n; r++)
            for (guint v = 0; v < spec->virtual_nodes; v++, k++)
                rt->ring[k] = (RingPoint){.point = mix64(mix64((uint64_t)r + 1) ^ v), .replica = r};
        qsort(rt->ring, rt->ring_len, sizeof *rt->ring, ring_cmp);
        rt->visited = g_new0(uint8_t, n);
    }
    if (spec->sticky_sessions)
        rt->session_home = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    return rt;
}

void cl_router_free(ClRouter *rt)
{
    if (!rt)
        return;
    g_rand_free(rt->rng);
    cl_prefix_index_free(rt->index);
    g_free(rt->hashes);
    g_free(rt->match);
    g_free(rt->score);
    g_free(rt->ties);
    g_free(rt->ring);
    g_free(rt->visited);
    if (rt->session_home)
        g_hash_table_destroy(rt->session_home);
    g_free(rt);
}

gboolean cl_router_uses_signals(const ClRouter *rt)
{
    switch (rt->spec.policy) {
    case CL_ROUTER_LEAST_WAITING:
    case CL_ROUTER_LEAST_KV:
    case CL_ROUTER_VLLM_DP:
        return TRUE;
    case CL_ROUTER_WEIGHTED:
        return rt->spec.queue_weight > 0 || rt->spec.kv_weight > 0;
    default:
        return FALSE;
    }
}

const ClPrefixIndex *cl_router_prefix_index(const ClRouter *rt)
{
    return rt->index;
}

/* The router blocks of w (full blocks of its prompt, at most max_blocks),
 * and the hashes of those other requests can share. */
static void hash_request(ClRouter *rt, const WlRequest *w)
{
    if (rt->have_hashes && rt->hashed_id == w->id)
        return;
    guint bs = rt->spec.prefix_block_size;
    guint nb = MIN(w->input_tokens / bs, rt->spec.prefix_max_blocks);
    SchedRequest sr;
    sched_request_init(&sr, w->id, w->input_tokens, w->output_tokens, w->prefix_group, w->shared_prefix_tokens);
    sched_request_set_session(&sr, w->session_id, w->session_prefix_tokens, w->session_branch,
                              w->session_prefix_branch);
    guint ns = sched_request_shared_blocks(&sr, nb, bs);
    if (ns > rt->cap_hashes) {
        rt->cap_hashes = MAX(ns, rt->cap_hashes * 2);
        rt->hashes = g_renew(uint64_t, rt->hashes, rt->cap_hashes);
    }
    for (guint i = 0; i < ns; i++)
        rt->hashes[i] = sched_request_block_hash(&sr, i, bs);
    rt->num_hashes = nb;
    rt->num_shared = ns;
    rt->hashed_id = w->id;
    rt->have_hashes = TRUE;
}

static inline gboolean eligible(const ClView *v, guint r)
{
    return !v->eligible || v->eligible[r];
}

/* The eligible replica with the lowest key (ties: the first in turn after
 * `start - 1`, i.e. scanning from `start`). -1 when none is eligible. */
static int argmin_from(const ClView *v, const double *key, guint start)
{
    int best = -1;
    for (guint k = 0; k < v->n; k++) {
        guint r = (start + k) % v->n;
        if (!eligible(v, r))
            continue;
        if (best < 0 || key[r] < key[best])
            best = (int)r;
    }
    return best;
}

static int pick_weighted(ClRouter *rt, const WlRequest *w, const ClView *v)
{
    const ClRouterSpec *s = &rt->spec;
    guint n = v->n;
    if (s->prefix_weight > 0 && rt->index) {
        hash_request(rt, w);
        cl_prefix_index_match(rt->index, rt->hashes, rt->num_shared, rt->match);
    } else {
        rt->num_hashes = rt->num_shared = 0;
        rt->have_hashes = FALSE;
    }
    /* the queue scorer normalises waiting over the candidates: min-max */
    uint32_t qmin = UINT32_MAX, qmax = 0;
    for (guint r = 0; r < n; r++) {
        if (!eligible(v, r))
            continue;
        qmin = MIN(qmin, v->signals[r].waiting);
        qmax = MAX(qmax, v->signals[r].waiting);
    }
    double best = -INFINITY;
    guint nties = 0;
    for (guint r = 0; r < n; r++) {
        if (!eligible(v, r)) {
            rt->score[r] = NAN;
            continue;
        }
        double total = 0;
        if (s->prefix_weight > 0 && rt->num_hashes > 0)
            total += s->prefix_weight * (double)rt->match[r] / (double)rt->num_hashes;
        if (s->queue_weight > 0) {
            double q = qmax > qmin ? (double)(qmax - v->signals[r].waiting) / (double)(qmax - qmin) : 1.0;
            total += s->queue_weight * q;
        }
        if (s->kv_weight > 0) {
            const ClSignals *sg = &v->signals[r];
            double use = sg->kv_blocks ? (double)sg->kv_used / (double)sg->kv_blocks : 0.0;
            total += s->kv_weight * (1.0 - use);
        }
        if (s->lora_weight > 0 && v->lora_affinity) /* NULL for a base-model request: no preference */
            total += s->lora_weight * v->lora_affinity[r];
        rt->score[r] = total;
        if (total > best) {
            best = total;
            nties = 0;
        }
        if (total == best)
            rt->ties[nties++] = r;
    }
    if (nties == 0)
        return -1;
    return (int)rt->ties[nties == 1 ? 0 : g_rand_int_range(rt->rng, 0, (gint32)nties)];
}

/* The ring key of a request (ClHashKey): one place, so that every way of
 * naming a request's affinity is here. */
static uint64_t ring_key(const ClRouter *rt, const WlRequest *w)
{
    if (rt->spec.hash_key == CL_HASH_SESSION && w->session_id)
        return mix64(0x73657373ULL ^ mix64(w->session_id));
    if (w->prefix_group)
        return mix64(0x70726566ULL ^ mix64(w->prefix_group));
    return mix64(w->id);
}

static int pick_consistent(ClRouter *rt, const WlRequest *w, const ClView *v)
{
    uint64_t key = ring_key(rt, w);
    /* bounded load: at most ceil(load_factor x (total + 1) / n) outstanding after this one */
    uint64_t total = 0;
    guint n_eligible = 0;
    for (guint r = 0; r < v->n; r++) {
        total += v->outstanding[r];
        rt->score[r] = NAN;
        n_eligible += eligible(v, r);
    }
    if (n_eligible == 0)
        return -1;
    double bound = ceil(rt->spec.load_factor * (double)(total + 1) / (double)v->n);
    /* first ring point at or after the key */
    guint lo = 0, hi = rt->ring_len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (rt->ring[mid].point < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    memset(rt->visited, 0, v->n);
    guint seen = 0;
    int fallback = -1;
    for (guint k = 0; k < rt->ring_len && seen < n_eligible; k++) {
        guint r = rt->ring[(lo + k) % rt->ring_len].replica;
        if (rt->visited[r] || !eligible(v, r))
            continue;
        rt->visited[r] = 1;
        rt->score[r] = (double)seen; /* position in the walk: 0 owns the key */
        seen++;
        if ((double)v->outstanding[r] + 1 <= bound)
            return (int)r;
        if (fallback < 0 || v->outstanding[r] < v->outstanding[fallback])
            fallback = (int)r;
    }
    return fallback;
}

int cl_router_pick(ClRouter *rt, const WlRequest *w, const ClView *v, double *scores, gboolean *sticky)
{
    const guint n = v->n;
    if (sticky)
        *sticky = FALSE;
    if (rt->session_home && w->session_id) {
        gint64 key = (gint64)w->session_id;
        guint home = GPOINTER_TO_UINT(g_hash_table_lookup(rt->session_home, &key));
        if (home && eligible(v, home - 1)) {
            if (scores)
                for (guint r = 0; r < n; r++)
                    scores[r] = NAN;
            if (sticky)
                *sticky = TRUE;
            return (int)home - 1;
        }
    }
    double *key = rt->score;
    int chosen = -1;
    gboolean has_scores = TRUE;
    guint start = (rt->last + 1) % n;
    switch (rt->spec.policy) {
    case CL_ROUTER_ROUND_ROBIN:
        has_scores = FALSE;
        for (guint k = 0; k < n && chosen < 0; k++)
            if (eligible(v, (start + k) % n))
                chosen = (int)((start + k) % n);
        break;
    case CL_ROUTER_RANDOM: {
        has_scores = FALSE;
        guint m = 0;
        for (guint r = 0; r < n; r++)
            if (eligible(v, r))
                rt->ties[m++] = r;
        if (m)
            chosen = (int)rt->ties[g_rand_int_range(rt->rng, 0, (gint32)m)];
        break;
    }
    case CL_ROUTER_LEAST_OUTSTANDING:
        for (guint r = 0; r < n; r++)
            key[r] = v->outstanding[r];
        chosen = argmin_from(v, key, start);
        break;
    case CL_ROUTER_LEAST_WAITING:
        for (guint r = 0; r < n; r++)
            key[r] = v->signals[r].waiting;
        chosen = argmin_from(v, key, start);
        break;
    case CL_ROUTER_LEAST_KV:
        for (guint r = 0; r < n; r++)
            key[r] = v->signals[r].kv_blocks ? (double)v->signals[r].kv_used / v->signals[r].kv_blocks : 0.0;
        chosen = argmin_from(v, key, start);
        break;
    case CL_ROUTER_VLLM_DP:
        for (guint r = 0; r < n; r++)
            key[r] = 4.0 * ((double)v->signals[r].waiting + v->unseen[r]) + v->signals[r].running;
        chosen = argmin_from(v, key, 0); /* vLLM scans from its start index and keeps the first minimum */
        break;
    case CL_ROUTER_PREFIX_AFFINITY: {
        if (rt->index) {
            hash_request(rt, w);
            cl_prefix_index_match(rt->index, rt->hashes, rt->num_shared, rt->match);
        } else {
            memset(rt->match, 0, n * sizeof *rt->match);
        }
        for (guint k = 0; k < n; k++) {
            guint r = (start + k) % n;
            key[r] = rt->match[r];
            if (!eligible(v, r))
                continue;
            if (chosen < 0 || rt->match[r] > rt->match[chosen] ||
                (rt->match[r] == rt->match[chosen] && v->outstanding[r] < v->outstanding[chosen]))
                chosen = (int)r;
        }
        break;
    }
    case CL_ROUTER_CONSISTENT_HASH:
        chosen = pick_consistent(rt, w, v);
        break;
    case CL_ROUTER_WEIGHTED:
        chosen = pick_weighted(rt, w, v);
        break;
    case CL_ROUTER_N:
        break;
    }
    if (scores)
        for (guint r = 0; r < n; r++)
            scores[r] = has_scores && eligible(v, r) ? key[r] : NAN;
    if (chosen >= 0)
        rt->last = (guint)chosen;
    return chosen;
}

void cl_router_commit(ClRouter *rt, const WlRequest *w, guint replica)
{
    if (rt->session_home && w->session_id) {
        gint64 *key = g_new(gint64, 1);
        *key = (gint64)w->session_id;
        g_hash_table_replace(rt->session_home, key, GUINT_TO_POINTER(replica + 1));
    }
    if (!rt->index)
        return;
    hash_request(rt, w);
    cl_prefix_index_insert(rt->index, rt->hashes, rt->num_shared, rt->num_hashes, replica);
}

void cl_router_forget(ClRouter *rt, guint replica)
{
    if (rt->index && replica < rt->n)
        cl_prefix_index_forget(rt->index, replica);
}

uint32_t cl_router_expected_hit_tokens(ClRouter *rt, const WlRequest *w, guint replica)
{
    if (!rt->index || replica >= rt->n)
        return 0;
    hash_request(rt, w);
    cl_prefix_index_match(rt->index, rt->hashes, rt->num_shared, rt->match);
    return MIN(rt->match[replica] * rt->spec.prefix_block_size, w->input_tokens);
}
