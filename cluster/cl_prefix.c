/*
 * cl_prefix.c: the router-side prefix index (cl_internal.h).
 *
 * Nodes are (replica, block) pairs in one array recycled through a free
 * list; a node is chained (singly linked) to the other nodes of the same
 * block hash, the chain's head in a hash map keyed by the block hash (open
 * addressing, linear probing, backward-shift deletion, grown by doubling to
 * stay at most half full).
 *
 * Each replica's LRU order is a queue of entries in the order the blocks
 * were used, oldest first. Using a block appends an entry (block hash, node,
 * stamp) and gives the node that entry's stamp (the replica's count of
 * appends), so a node's older entries turn stale: an entry is live while its
 * stamp is its node's. A node's stale entries all precede its live one, so
 * none is left when the node is dropped. Evicting takes entries from the
 * front, skipping the stale ones, and drops the node of the first live one:
 * the order of a doubly linked LRU list, read front to back. When the
 * queue's array is full it is compacted (stale entries dropped) and grown
 * when still more than half full: O(1) amortised per use.
 *
 * A private block (one only its own request could ever hold: cl_internal.h)
 * gets no node and no map entry: it only takes its place in the LRU order
 * and counts against the capacity, where it pushes other blocks out exactly
 * as an indexed block would. Consecutive private blocks share one queue
 * entry (a run), so a prompt with nothing shared costs one entry, and its
 * eviction a decrement, without touching the map.
 *
 * Matching a prompt walks its blocks in order and, at block i, advances the
 * replicas that matched blocks 0..i-1 and hold block i; it stops at the
 * first block that advanced nobody: O(matched blocks x holders). Inserting
 * touches or creates one node per shared block, last block first, and
 * evicts the replica's least recently used block when it is over capacity.
 */
#include <string.h>

#include "cl_internal.h"

#define NIL UINT32_MAX

typedef struct {
    uint32_t replica;    /* NIL while on the free list */
    uint32_t chain;      /* next node with the same hash (or on the free list) */
    uint32_t stamp;      /* the stamp of its live queue entry */
    uint32_t pad;
} Node;

typedef struct {
    uint64_t hash;
    uint32_t node;       /* NIL: a run of private blocks */
    uint32_t stamp;      /* a node's: its stamp then; a run's: its length */
} Entry;

typedef struct {
    uint64_t key;        /* 0: empty (block hashes are never 0) */
    uint32_t head;       /* first node of the chain */
    uint32_t pad;
} Slot;

typedef struct {
    Entry *q;            /* q[lo..hi): the queue, least recently used first */
    uint32_t lo, hi, alloc;
    uint32_t stamp;      /* the next node entry's */
    uint32_t stale;      /* entries in the queue that are no longer live */
    uint32_t count, capacity; /* blocks held (indexed and private), and their bound */
} Lru;

struct ClPrefixIndex {
    guint n;
    Lru *lru;
    Node *nodes;
    uint32_t num_nodes, cap_nodes;
    uint32_t free_head;
    Slot *map;
    uint32_t map_mask;
    uint32_t map_count;
};

static inline uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

ClPrefixIndex *cl_prefix_index_new(guint n, const uint32_t *capacity)
{
    ClPrefixIndex *ix = g_new0(ClPrefixIndex, 1);
    ix->n = n;
    ix->lru = g_new0(Lru, n);
    for (guint r = 0; r < n; r++)
        ix->lru[r].capacity = MAX(capacity[r], 1);
    ix->free_head = NIL;
    ix->map_mask = 1023;
    ix->map = g_new0(Slot, ix->map_mask + 1);
    return ix;
}

void cl_prefix_index_free(ClPrefixIndex *ix)
{
    if (!ix)
        return;
    for (guint r = 0; r < ix->n; r++)
        g_free(ix->lru[r].q);
    g_free(ix->lru);
    g_free(ix->nodes);
    g_free(ix->map);
    g_free(ix);
}

uint32_t cl_prefix_index_size(const ClPrefixIndex *ix, guint replica)
{
    return ix->lru[replica].count;
}

/* ------------------------------------------------------------------ map -- */

static inline uint32_t map_home(const ClPrefixIndex *ix, uint64_t key)
{
    return (uint32_t)(mix(key) & ix->map_mask);
}

static uint32_t map_find(const ClPrefixIndex *ix, uint64_t key)
{
    for (uint32_t i = map_home(ix, key);; i = (i + 1) & ix->map_mask) {
        if (ix->map[i].key == key)
            return i;
        if (ix->map[i].key == 0)
            return NIL;
    }
}

static void map_grow(ClPrefixIndex *ix);

/* The slot of `key`, created (head NIL) if absent. */
static uint32_t map_slot(ClPrefixIndex *ix, uint64_t key)
{
    if ((ix->map_count + 1) * 2 > ix->map_mask + 1)
        map_grow(ix);
    uint32_t i = map_home(ix, key);
    for (; ix->map[i].key != 0; i = (i + 1) & ix->map_mask)
        if (ix->map[i].key == key)
            return i;
    ix->map[i].key = key;
    ix->map[i].head = NIL;
    ix->map_count++;
    return i;
}

static void map_grow(ClPrefixIndex *ix)
{
    Slot *old = ix->map;
    uint32_t old_size = ix->map_mask + 1;
    ix->map_mask = old_size * 2 - 1;
    ix->map = g_new0(Slot, ix->map_mask + 1);
    for (uint32_t k = 0; k < old_size; k++) {
        if (!old[k].key)
            continue;
        uint32_t i = map_home(ix, old[k].key);
        while (ix->map[i].key)
            i = (i + 1) & ix->map_mask;
        ix->map[i] = old[k];
    }
    g_free(old);
}

/* Removes the entry at slot i, shifting later entries of its probe run back. */
static void map_delete(ClPrefixIndex *ix, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & ix->map_mask;
        if (!ix->map[j].key)
            break;
        uint32_t home = map_home(ix, ix->map[j].key);
        /* can the entry at j move to i? only if its home is not in (i, j] */
        gboolean movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
            ix->map[i] = ix->map[j];
            i = j;
        }
    }
    ix->map[i].key = 0;
    ix->map[i].head = NIL;
    ix->map_count--;
}

/* ---------------------------------------------------------------- queue -- */

static inline gboolean entry_live(const ClPrefixIndex *ix, const Entry *e)
{
    return e->node == NIL || ix->nodes[e->node].stamp == e->stamp;
}

/* Makes room for one more entry at the end of l's queue: drops the taken
 * and the stale entries, then grows the array if it is still more than half
 * full. */
static void queue_make_room(ClPrefixIndex *ix, Lru *l)
{
    uint32_t w = 0;
    if (l->stale == 0) { /* nothing stale: move the queue down */
        w = l->hi - l->lo;
        if (w > 0 && l->lo > 0) /* (a new queue has no array yet) */
            memmove(l->q, l->q + l->lo, (size_t)w * sizeof *l->q);
    } else {
        for (uint32_t i = l->lo; i < l->hi; i++)
            if (entry_live(ix, &l->q[i]))
                l->q[w++] = l->q[i];
        l->stale = 0;
    }
    l->lo = 0;
    l->hi = w;
    if (w + 1 > l->alloc / 2) {
        l->alloc = MAX(64, w * 2 + 16);
        l->q = g_renew(Entry, l->q, l->alloc);
    }
}

/* Node k (of l's replica) is now the most recently used; `fresh` when it
 * is new, else its previous entry turns stale. */
static inline void queue_push(ClPrefixIndex *ix, Lru *l, uint32_t k, uint64_t hash, gboolean fresh)
{
    if (l->hi == l->alloc)
        queue_make_room(ix, l);
    l->q[l->hi++] = (Entry){.hash = hash, .node = k, .stamp = l->stamp};
    ix->nodes[k].stamp = l->stamp++;
    l->stale += !fresh;
}

/* n more private blocks are now the most recently used. */
static inline void queue_push_private(ClPrefixIndex *ix, Lru *l, uint32_t n)
{
    if (l->hi > l->lo && l->q[l->hi - 1].node == NIL && l->q[l->hi - 1].stamp <= UINT32_MAX - n) {
        l->q[l->hi - 1].stamp += n; /* the newest entry is a run: it grows */
        return;
    }
    if (l->hi == l->alloc)
        queue_make_room(ix, l);
    l->q[l->hi++] = (Entry){.hash = 0, .node = NIL, .stamp = n};
}

/* ------------------------------------------------------------------ nodes -- */

static uint32_t node_alloc(ClPrefixIndex *ix)
{
    if (ix->free_head != NIL) {
        uint32_t k = ix->free_head;
        ix->free_head = ix->nodes[k].chain;
        return k;
    }
    if (ix->num_nodes == ix->cap_nodes) {
        ix->cap_nodes = MAX(1024, ix->cap_nodes * 2);
        ix->nodes = g_renew(Node, ix->nodes, ix->cap_nodes);
    }
    return ix->num_nodes++;
}

/* Drops node k, which holds `hash`: out of its chain (and the map when the
 * chain empties), onto the free list. Its queue entries are gone already. */
static void node_drop(ClPrefixIndex *ix, uint32_t k, uint64_t hash)
{
    uint32_t s = map_find(ix, hash);
    g_assert(s != NIL); /* every live node's hash is in the map */
    Node *nd = &ix->nodes[k];
    if (ix->map[s].head == k) {
        ix->map[s].head = nd->chain;
        if (nd->chain == NIL)
            map_delete(ix, s);
    } else {
        uint32_t p = ix->map[s].head;
        while (ix->nodes[p].chain != k)
            p = ix->nodes[p].chain;
        ix->nodes[p].chain = nd->chain;
    }
    ix->lru[nd->replica].count--;
    nd->replica = NIL;
    nd->chain = ix->free_head;
    ix->free_head = k;
}

/* Evicts l's least recently used block (l holds at least one). */
static void evict_lru(ClPrefixIndex *ix, Lru *l)
{
    for (;;) {
        g_assert(l->lo < l->hi); /* every block held has a live entry: the count says one is queued */
        Entry *e = &l->q[l->lo];
        if (e->node == NIL) { /* the oldest of a run of private blocks */
            l->count--;
            if (--e->stamp == 0)
                l->lo++;
            return;
        }
        l->lo++;
        if (entry_live(ix, e)) {
            node_drop(ix, e->node, e->hash);
            return;
        }
        l->stale--;
    }
}

/* ------------------------------------------------------------- queries -- */

void cl_prefix_index_match(const ClPrefixIndex *ix, const uint64_t *hashes, guint nblocks, uint32_t *match)
{
    memset(match, 0, ix->n * sizeof *match);
    for (guint i = 0; i < nblocks; i++) {
        uint32_t s = map_find(ix, hashes[i]);
        if (s == NIL)
            return;
        guint advanced = 0;
        for (uint32_t k = ix->map[s].head; k != NIL; k = ix->nodes[k].chain) {
            uint32_t r = ix->nodes[k].replica;
            if (match[r] == i) {
                match[r] = i + 1;
                advanced++;
            }
        }
        if (!advanced)
            return;
    }
}

void cl_prefix_index_insert(ClPrefixIndex *ix, const uint64_t *hashes, guint nshared, guint nblocks,
                            guint replica)
{
    Lru *l = &ix->lru[replica];
    if (nblocks > nshared) {
        /* the private tail, used before the shared head (deepest first): as
         * one run, then the oldest blocks over capacity out (the same blocks,
         * in the same order, as a push and an eviction per block) */
        queue_push_private(ix, l, nblocks - nshared);
        l->count += nblocks - nshared;
        while (l->count > l->capacity)
            evict_lru(ix, l);
    }
    for (guint j = nshared; j-- > 0;) {
        uint32_t s = map_slot(ix, hashes[j]);
        uint32_t k = ix->map[s].head;
        while (k != NIL && ix->nodes[k].replica != replica)
            k = ix->nodes[k].chain;
        if (k != NIL) { /* known: now the most recently used */
            queue_push(ix, l, k, hashes[j], FALSE);
            continue;
        }
        k = node_alloc(ix);
        /* node_alloc may move the node array; the map slot index stays valid */
        ix->nodes[k].replica = replica;
        ix->nodes[k].chain = ix->map[s].head;
        ix->map[s].head = k;
        queue_push(ix, l, k, hashes[j], TRUE);
        l->count++;
        if (l->count > l->capacity)
            evict_lru(ix, l);
    }
}

void cl_prefix_index_forget(ClPrefixIndex *ix, guint replica)
{
    Lru *l = &ix->lru[replica];
    while (l->count > 0)
        evict_lru(ix, l);
    l->lo = l->hi = l->stale = 0;
}

/* --------------------------------------------------------------- checks -- */

gboolean cl_prefix_index_check(const ClPrefixIndex *ix, char **why)
{
    /* per node: its hash as its live entry says, and how often it was seen */
    uint64_t *hash_of = g_new0(uint64_t, MAX(ix->num_nodes, 1));
    uint32_t *seen = g_new0(uint32_t, MAX(ix->num_nodes, 1));
    gboolean ok = TRUE;
    for (guint r = 0; r < ix->n && ok; r++) {
        const Lru *l = &ix->lru[r];
        uint32_t live = 0;
        if (l->lo > l->hi || l->hi > l->alloc) {
            *why = g_strdup_printf("replica %u: queue bounds %u..%u of %u", r, l->lo, l->hi, l->alloc);
            ok = FALSE;
        }
        uint32_t stale = 0;
        for (uint32_t i = l->lo; i < l->hi && ok; i++) {
            const Entry *e = &l->q[i];
            if (e->node == NIL) { /* a run of private blocks */
                if (e->stamp == 0 || e->hash != 0) {
                    *why = g_strdup_printf("replica %u: queue entry %u is an empty or hashed run", r, i);
                    ok = FALSE;
                }
                live += e->stamp;
            } else if (e->node >= ix->num_nodes || e->hash == 0) {
                *why = g_strdup_printf("replica %u: queue entry %u is broken", r, i);
                ok = FALSE;
            } else if (entry_live(ix, e)) {
                if (ix->nodes[e->node].replica != r || seen[e->node]) {
                    *why = g_strdup_printf("replica %u: node %u is live twice or in another replica", r, e->node);
                    ok = FALSE;
                }
                seen[e->node] = 1;
                hash_of[e->node] = e->hash;
                live++;
            } else {
                stale++;
            }
        }
        if (ok && (live != l->count || l->count > l->capacity || stale != l->stale)) {
            *why = g_strdup_printf("replica %u: queue holds %u blocks and %u stale entries, count %u (%u stale), "
                                   "capacity %u", r, live, stale, l->count, l->stale, l->capacity);
            ok = FALSE;
        }
    }
    uint32_t chained = 0, keys = 0;
    for (uint32_t i = 0; i <= ix->map_mask && ok; i++) {
        if (!ix->map[i].key)
            continue;
        keys++;
        if (map_find(ix, ix->map[i].key) != i || ix->map[i].head == NIL) {
            *why = g_strdup_printf("map slot %u is unreachable or empty", i);
            ok = FALSE;
        }
        for (uint32_t k = ix->map[i].head; k != NIL && ok; k = ix->nodes[k].chain) {
            if (seen[k] != 1 || hash_of[k] != ix->map[i].key) {
                *why = g_strdup_printf("chain of slot %u holds node %u of another hash, or not live", i, k);
                ok = FALSE;
            }
            seen[k]++;
            chained++;
        }
    }
    uint32_t live = 0;
    for (uint32_t k = 0; k < ix->num_nodes; k++)
        live += seen[k] > 0;
    if (ok && (chained != live || keys != ix->map_count)) {
        *why = g_strdup_printf("%u chained nodes for %u live, %u keys for a count of %u", chained, live, keys,
                               ix->map_count);
        ok = FALSE;
    }
    g_free(hash_of);
    g_free(seen);
    return ok;
}
