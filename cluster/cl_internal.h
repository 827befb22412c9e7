/*
 * cl_internal.h: the router and its prefix index, internal to cluster/ (and
 * its tests). The fleet loop (cl_fleet.c) gives the router a view of the
 * replicas and asks it for one; the router never touches a replica.
 */
#ifndef CL_INTERNAL_H
#define CL_INTERNAL_H

#include "cl.h"

/* ---------------------------------------------------------- prefix index -- */

/* The router's memory of which prompt blocks it sent where, as llm-d's
 * approximate prefix-cache index keeps it: per replica, an LRU set of block
 * hashes of bounded size. A hash maps to the replicas that hold it (a chain
 * of nodes); each replica's LRU order is a queue of its nodes' uses. A
 * prompt's blocks are shared (a prefix group's or a session's, which other
 * requests can hold too), then private (keyed by the request's own id:
 * sched_request_shared_blocks). A private block can match no other request
 * and the router never matches a request after recording it, so private
 * blocks are not indexed: they only hold their place in the LRU order and
 * count against the capacity. Lookup and insertion are O(1) expected per
 * shared block and per holder, O(1) per run of private blocks; memory is 16
 * bytes per remembered (shared block, replica) pair, 16 bytes per queue
 * entry (at most about twice the pairs plus one per run) plus the hash map
 * (16 bytes per slot, at most half full). */
typedef struct ClPrefixIndex ClPrefixIndex;

/* An index for `n` replicas remembering at most capacity[r] blocks each (>= 1). */
ClPrefixIndex *cl_prefix_index_new(guint n, const uint32_t *capacity);
void cl_prefix_index_free(ClPrefixIndex *ix); /* accepts NULL */
/* match[r] = how many leading blocks of hashes[0..nblocks) replica r holds
 * (pass the shared blocks: no replica holds a private one). */
void cl_prefix_index_match(const ClPrefixIndex *ix, const uint64_t *hashes, guint nblocks, uint32_t *match);
/* Records that `replica` now holds a prompt's `nblocks` blocks, the first
 * `nshared` of them shared with hashes[0..nshared), the rest private (most
 * recently used: the first block last, so that eviction takes a prompt's
 * tail before its head). */
void cl_prefix_index_insert(ClPrefixIndex *ix, const uint64_t *hashes, guint nshared, guint nblocks,
                            guint replica);
/* Blocks remembered for a replica. */
uint32_t cl_prefix_index_size(const ClPrefixIndex *ix, guint replica);
/* Checks the index's structure (chains, LRU lists, counts, map); FALSE and
 * a description in *why (g_free) when broken. For tests. */
gboolean cl_prefix_index_check(const ClPrefixIndex *ix, char **why);

/* ---------------------------------------------------------------- router -- */

/* What a replica reports to the router. */
typedef struct {
    uint32_t waiting, running;
    uint32_t kv_used, kv_blocks;
    uint32_t kv_cached;          /* free blocks still holding a cached prefix */
} ClSignals;

/* What the router knows when it decides. */
typedef struct {
    guint n;
    const uint32_t *outstanding; /* routed and not finished: router-local, always fresh */
    const ClSignals *signals;    /* as last reported (or live when the interval is 0) */
    const uint32_t *unseen;      /* routed since the signals were read */
    const gboolean *eligible;    /* admission's filter; NULL: all */
    /* the weighted pipeline's LoRA scorer: each replica's affinity for the
     * request's adapter (sim_replica_lora_affinity, read when the request
     * is routed); NULL when the request names no adapter or the scorer is off */
    const double *lora_affinity;
} ClView;

typedef struct ClRouter ClRouter;

/* A router for `n` replicas. kv_tokens[r] is replica r's KV capacity in
 * tokens (the default size of its prefix index). */
ClRouter *cl_router_new(const ClRouterSpec *spec, guint n, const uint64_t *kv_tokens, guint64 seed);
void cl_router_free(ClRouter *rt); /* accepts NULL */
/* Whether the policy reads reported signals (so they must be kept). */
gboolean cl_router_uses_signals(const ClRouter *rt);
/* Picks an eligible replica for w; -1 when none is eligible. When `scores`
 * is not NULL it receives each replica's score under the policy (NAN for
 * none: ineligible, or a policy without scores). *sticky (may be NULL) is
 * set when session stickiness chose instead of the policy. */
int cl_router_pick(ClRouter *rt, const WlRequest *w, const ClView *v, double *scores, gboolean *sticky);
/* Tells the router that w went to `replica` (after cl_router_pick on w). */
void cl_router_commit(ClRouter *rt, const WlRequest *w, guint replica);
/* The router's prefix index, NULL when the policy keeps none (tests). */
const ClPrefixIndex *cl_router_prefix_index(const ClRouter *rt);

/* Forgets what the router sent to `replica` (a new server took its place:
 * its cache is empty). */
void cl_router_forget(ClRouter *rt, guint replica);
/* Prompt tokens of w that `replica` is expected to hold, by the router's
 * prefix index (0 when the policy keeps none). */
uint32_t cl_router_expected_hit_tokens(ClRouter *rt, const WlRequest *w, guint replica);
/* Drops every block remembered for a replica. */
void cl_prefix_index_forget(ClPrefixIndex *ix, guint replica);

/* ------------------------------------------------------------ transfers -- */

/* KV transfers on a network of links (cl_transfer.c). Each endpoint (a
 * replica) has a sending and a receiving link of the per-GPU bandwidth (the
 * TP shards of a replica move in parallel, each over its GPU's NIC); with a
 * fabric, every transfer also crosses one shared link. A transfer first pays
 * its fixed cost and its descriptors (no bandwidth), then moves its bytes at
 * the rate of its most loaded link: capacity / transfers on it. When a
 * transfer enters or leaves a link, the others on that link are re-timed:
 * their bytes so far are counted at the old rate and their end is
 * recomputed at the new one. Events are handed to the caller, which queues
 * them and calls back; an event made stale by a re-timing is recognised by
 * its version and ignored. Cost: O(transfers on the links touched) per
 * start and end. */
typedef struct ClNet ClNet;

typedef struct {
    SimTime time;
    uint32_t id;
    uint32_t version;
} ClNetEvent;

/* A network of `n` endpoints with the resolved spec. */
ClNet *cl_net_new(const ClTransferSpec *resolved, guint n);
void cl_net_free(ClNet *net); /* accepts NULL */
/* Starts a transfer at `now` of `bytes` (per GPU) in `descriptors` pieces
 * from endpoint src to dst; it ends no sooner than `not_before` (layer-wise
 * streaming: the last layer leaves after the prefill's end). Returns its id. */
uint32_t cl_net_start(ClNet *net, SimTime now, guint src, guint dst, double bytes, uint64_t descriptors,
                      SimTime not_before);
/* Events to queue since the last call (valid until the next call into net). */
const ClNetEvent *cl_net_events(ClNet *net, guint *n);
/* Handles an event at its time `now`; TRUE when it ended transfer `id`
 * (which is then forgotten), FALSE for a stale or intermediate one. */
gboolean cl_net_handle(ClNet *net, SimTime now, uint32_t id, uint32_t version);
/* Transfers under way. */
guint cl_net_active(const ClNet *net);
/* 0, or the bytes of a transfer that would have ended past SIM_TIME_HORIZON
 * (its end was capped there): the run is then an error. */
double cl_net_late_bytes(const ClNet *net);
/* Bytes an endpoint sent and received so far, bytes that crossed the fabric,
 * and the capacity of one link in bytes per second (to compute utilisation). */
void cl_net_endpoint_bytes(const ClNet *net, guint endpoint, double *sent, double *received);
double cl_net_fabric_bytes(const ClNet *net);
double cl_net_link_bytes_per_s(const ClNet *net);
double cl_net_fabric_bytes_per_s(const ClNet *net);

#endif /* CL_INTERNAL_H */
