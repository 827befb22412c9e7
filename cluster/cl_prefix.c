/*
 * cl_prefix.c: the router-side prefix index (cl_internal.h).
 *
 * Nodes are (block hash, replica) pairs in one array recycled through a free
 * list. A node is linked twice: into the chain of nodes with the same hash
 * (singly linked, head in the hash map) and into its replica's LRU list
 * (doubly linked; head = least recently used). The map is open addressing
 * with linear probing and backward-shift deletion, keyed by the block hash,
 * grown by doubling to stay at most half full.
 *
 * Matching a prompt walks its blocks in order and, at block i, advances the
 * replicas that matched blocks 0..i-1 and hold block i; it stops at the
 * first block that advanced nobody: O(matched blocks x holders). Inserting
 * touches or creates one node per block, last block first, and evicts the
 * replica's least recently used node when it is over capacity.
 */
#include <string.h>

#include "cl_internal.h"

#define NIL UINT32_MAX

typedef struct {
    uint64_t hash;
    uint32_t replica;
    uint32_t chain;      /* next node with the same hash */
    uint32_t prev, next; /* LRU links within the replica (or free list: next) */
} Node;

typedef struct {
    uint64_t key;        /* 0: empty (block hashes are never 0) */
    uint32_t head;       /* first node of the chain */
    uint32_t pad;
} Slot;

typedef struct {
    uint32_t head, tail; /* LRU: head is the least recently used */
    uint32_t count, capacity;
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
    ix->lru = g_new(Lru, n);
    for (guint r = 0; r < n; r++)
        ix->lru[r] = (Lru){.head = NIL, .tail = NIL, .count = 0, .capacity = MAX(capacity[r], 1)};
    ix->free_head = NIL;
    ix->map_mask = 1023;
    ix->map = g_new0(Slot, ix->map_mask + 1);
    return ix;
}

void cl_prefix_index_free(ClPrefixIndex *ix)
{
    if (!ix)
        return;
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

static uint32_t map_find(const ClPrefixIndex *ix, uint64_t key)
{
    for (uint32_t i = (uint32_t)(mix(key) & ix->map_mask);; i = (i + 1) & ix->map_mask) {
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
    uint32_t i = (uint32_t)(mix(key) & ix->map_mask);
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
        uint32_t i = (uint32_t)(mix(old[k].key) & ix->map_mask);
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
        uint32_t home = (uint32_t)(mix(ix->map[j].key) & ix->map_mask);
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

/* ------------------------------------------------------------------ LRU -- */

static void lru_unlink(ClPrefixIndex *ix, uint32_t k)
{
    Node *nd = &ix->nodes[k];
    Lru *l = &ix->lru[nd->replica];
    if (nd->prev != NIL)
        ix->nodes[nd->prev].next = nd->next;
    else
        l->head = nd->next;
    if (nd->next != NIL)
        ix->nodes[nd->next].prev = nd->prev;
    else
        l->tail = nd->prev;
    nd->prev = nd->next = NIL;
}

static void lru_append(ClPrefixIndex *ix, uint32_t k)
{
    Node *nd = &ix->nodes[k];
    Lru *l = &ix->lru[nd->replica];
    nd->prev = l->tail;
    nd->next = NIL;
    if (l->tail != NIL)
        ix->nodes[l->tail].next = k;
    else
        l->head = k;
    l->tail = k;
}

static uint32_t node_alloc(ClPrefixIndex *ix)
{
    if (ix->free_head != NIL) {
        uint32_t k = ix->free_head;
        ix->free_head = ix->nodes[k].next;
        return k;
    }
    if (ix->num_nodes == ix->cap_nodes) {
        ix->cap_nodes = MAX(1024, ix->cap_nodes * 2);
        ix->nodes = g_renew(Node, ix->nodes, ix->cap_nodes);
    }
    return ix->num_nodes++;
}

/* Drops node k: out of its chain (and the map when the chain empties), its LRU list, onto the free list. */
static void node_evict(ClPrefixIndex *ix, uint32_t k)
{
    Node *nd = &ix->nodes[k];
    uint32_t s = map_find(ix, nd->hash);
    g_assert(s != NIL); /* every live node's hash is in the map */
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
    lru_unlink(ix, k);
    ix->lru[nd->replica].count--;
    nd->hash = 0;
    nd->next = ix->free_head;
    ix->free_head = k;
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

void cl_prefix_index_insert(ClPrefixIndex *ix, const uint64_t *hashes, guint nblocks, guint replica)
{
    Lru *l = &ix->lru[replica];
    for (guint j = nblocks; j-- > 0;) {
        uint32_t s = map_slot(ix, hashes[j]);
        uint32_t k = ix->map[s].head;
        while (k != NIL && ix->nodes[k].replica != replica)
            k = ix->nodes[k].chain;
        if (k != NIL) { /* known: now the most recently used */
            lru_unlink(ix, k);
            lru_append(ix, k);
            continue;
        }
        k = node_alloc(ix);
        /* node_alloc may move the node array; the map slot index stays valid */
        Node *nd = &ix->nodes[k];
        nd->hash = hashes[j];
        nd->replica = replica;
        nd->chain = ix->map[s].head;
        ix->map[s].head = k;
        lru_append(ix, k);
        l->count++;
        if (l->count > l->capacity)
            node_evict(ix, l->head);
    }
}

void cl_prefix_index_forget(ClPrefixIndex *ix, guint replica)
{
    while (ix->lru[replica].head != NIL)
        node_evict(ix, ix->lru[replica].head);
}

gboolean cl_prefix_index_check(const ClPrefixIndex *ix, char **why)
{
    uint32_t *seen = g_new0(uint32_t, MAX(ix->num_nodes, 1));
    gboolean ok = TRUE;
    for (guint r = 0; r < ix->n && ok; r++) {
        uint32_t cnt = 0, prev = NIL;
        for (uint32_t k = ix->lru[r].head; k != NIL && ok; k = ix->nodes[k].next) {
            if (ix->nodes[k].replica != r || ix->nodes[k].prev != prev || ix->nodes[k].hash == 0) {
                *why = g_strdup_printf("replica %u: LRU node %u is broken", r, k);
                ok = FALSE;
            }
            seen[k]++;
            cnt++;
            prev = k;
        }
        if (ok && (cnt != ix->lru[r].count || ix->lru[r].tail != prev || cnt > ix->lru[r].capacity)) {
            *why = g_strdup_printf("replica %u: LRU holds %u nodes, count %u, capacity %u", r, cnt,
                                   ix->lru[r].count, ix->lru[r].capacity);
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
            if (ix->nodes[k].hash != ix->map[i].key || seen[k] != 1) {
                *why = g_strdup_printf("chain of slot %u holds node %u of another hash or list", i, k);
                ok = FALSE;
            }
            seen[k]++;
            chained++;
        }
    }
    uint32_t live = 0;
    for (guint r = 0; r < ix->n; r++)
        live += ix->lru[r].count;
    if (ok && (chained != live || keys != ix->map_count)) {
        *why = g_strdup_printf("%u chained nodes for %u live, %u keys for a count of %u", chained, live, keys,
                               ix->map_count);
        ok = FALSE;
    }
    g_free(seen);
    return ok;
}
