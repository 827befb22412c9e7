/*
 * sched_kv.c: the paged KV-cache block pool (vLLM V1's BlockPool).
 *
 * Blocks are numbered 0..n-1. Each has a reference count (the requests
 * holding it) and, with prefix caching, the hash of the tokens it holds once
 * it is full. Only blocks of content several requests can share (a prefix
 * group's, a session's) are entered in the hash map; a block of one
 * request's own tokens can only be found again by that request (after a
 * preemption), which remembers where its blocks were and checks that the
 * block still holds the same hash, so such blocks cost no map traffic.
 * A block in the map may carry one second key (an alias): the same tokens
 * under a second name, which a session turn that starts a new branch gives
 * the blocks of its shared part so that its next turn finds them (see
 * sched.c); a newer alias replaces an older one. Blocks with no holder sit
 * on a doubly linked free list in LRU order: allocation takes from the head,
 * freeing appends at the tail, so the least recently freed block is reused
 * (and its keys evicted) first. A freed block keeps its keys and can be
 * found again by a later request with the same prefix, which takes it back
 * off the free list ("touch").
 *
 * The hash map is open addressing with linear probing and backward-shift
 * deletion (no tombstones), kept at most half full: it starts at 1024 slots
 * and doubles as keys enter it (shared blocks, sessions' blocks, aliases), so
 * a pool without shared content keeps it small. O(1) expected per lookup,
 * insert and eviction (amortised over the doublings). Memory: a 32-byte
 * record per block (its fields together: one cache line per block touched),
 * plus 16 bytes per map slot (at most 4 slots per block).
 *
 * The pool is internal to the scheduler (sched_kv.h); its counters are
 * public through sched.h.
 */
#include "sched_kv.h"

#include <string.h>

#define NIL UINT32_MAX
#define IN_MAP_FIRST 0x1
#define IN_MAP_ALIAS 0x2

typedef struct {
    uint64_t key;
    uint32_t val;
    uint32_t pad;
} MapSlot;

/* A block's state, kept together (not in one array per field): the pool's
 * operations touch most fields of the blocks they work on, and the pools of
 * a fleet's replicas are far larger than the cache. */
typedef struct {
    uint64_t hash;      /* 0: none */
    uint64_t alias;     /* a second key in the map, valid when in_map has IN_MAP_ALIAS */
    uint32_t ref_cnt;   /* holders */
    uint32_t prev;      /* free list links; NIL at the ends */
    uint32_t next;
    uint8_t on_free;    /* 1 while on the free list */
    uint8_t in_map;     /* IN_MAP_FIRST: the hash is in the map (shared content), else only
                           its owner looks; IN_MAP_ALIAS: the block also has a second key */
} Block;
G_STATIC_ASSERT(sizeof(Block) == 32);

struct SchedKvPool {
    uint32_t num_blocks;
    uint32_t block_size;
    gboolean caching;

    Block *blk;         /* one 32-byte record per block: an operation on a block touches one cache line */
    uint32_t head, tail;
    uint32_t num_free;
    uint32_t num_cached_free;

    /* hash -> block: key and value side by side, one cache line per probe */
    MapSlot *map;       /* key 0: empty slot */
    uint32_t map_mask;
    uint32_t map_count;
    uint32_t map_limit; /* the most keys before the map grows: half its slots */
};

#define mix64 sched_kv_mix64

uint64_t sched_kv_hash_seed(uint64_t domain, uint64_t owner)
{
    return mix64(mix64(domain) ^ owner);
}

uint64_t sched_kv_session_block_hash(uint64_t session, uint32_t branch, uint32_t index)
{
    uint64_t h = mix64(3);
    h = mix64(h ^ session);
    h = mix64(h ^ branch);
    h = mix64(h ^ index);
    return h ? h : 1;
}

uint64_t sched_kv_block_hash(uint64_t domain, uint64_t owner, uint32_t index)
{
    /* sequential mixing: each step is a bijection of the state, so distinct
     * (owner, index) pairs collide only by a 64-bit accident (an XOR of
     * independent mixes would make (a, b) and (b', a') collide) */
    return sched_kv_hash_block(sched_kv_hash_seed(domain, owner), index);
}

/* ------------------------------------------------------------- free list -- */

static void free_list_remove(SchedKvPool *p, uint32_t b)
{
    uint32_t pv = p->blk[b].prev, nx = p->blk[b].next;
    if (pv != NIL)
        p->blk[pv].next = nx;
    else
        p->head = nx;
    if (nx != NIL)
        p->blk[nx].prev = pv;
    else
        p->tail = pv;
    p->blk[b].prev = p->blk[b].next = NIL;
    p->blk[b].on_free = 0;
    p->num_free--;
    if (p->blk[b].hash)
        p->num_cached_free--;
}

static void free_list_append(SchedKvPool *p, uint32_t b)
{
    p->blk[b].prev = p->tail;
    p->blk[b].next = NIL;
    if (p->tail != NIL)
        p->blk[p->tail].next = b;
    else
        p->head = b;
    p->tail = b;
    p->blk[b].on_free = 1;
    p->num_free++;
    if (p->blk[b].hash)
        p->num_cached_free++;
}

/* ------------------------------------------------------------------- map -- */

static inline uint32_t map_slot(const SchedKvPool *p, uint64_t key)
{
    return (uint32_t)(mix64(key) & p->map_mask);
}

static uint32_t map_find(const SchedKvPool *p, uint64_t key)
{
    for (uint32_t i = map_slot(p, key);; i = (i + 1) & p->map_mask) {
        if (p->map[i].key == key)
            return p->map[i].val;
        if (p->map[i].key == 0)
            return NIL;
    }
}

/* Doubles the map's capacity (rehashing every key). */
static void map_grow(SchedKvPool *p)
{
    MapSlot *old = p->map;
    uint32_t old_cap = p->map_mask + 1;
    uint32_t cap = old_cap * 2;
    p->map = g_new0(MapSlot, cap);
    p->map_mask = cap - 1;
    p->map_limit = cap / 2;
    for (uint32_t k = 0; k < old_cap; k++) {
        if (old[k].key == 0)
            continue;
        uint32_t i = map_slot(p, old[k].key);
        while (p->map[i].key != 0)
            i = (i + 1) & p->map_mask;
        p->map[i] = old[k];
    }
    g_free(old);
}

/* Inserts key -> val unless the key is present; returns whether it inserted.
 * Keeps the load at most one half, doubling the map when needed. */
static gboolean map_insert_new(SchedKvPool *p, uint64_t key, uint32_t val)
{
    if (p->map_count >= p->map_limit) {
        if (map_find(p, key) != NIL)
            return FALSE;
        map_grow(p);
    }
    uint32_t i = map_slot(p, key);
    while (p->map[i].key != 0) {
        if (p->map[i].key == key)
            return FALSE;
        i = (i + 1) & p->map_mask;
    }
    p->map[i].key = key;
    p->map[i].val = val;
    p->map_count++;
    return TRUE;
}

static void map_remove(SchedKvPool *p, uint64_t key)
{
    uint32_t i = map_slot(p, key);
    while (p->map[i].key != key) {
        if (p->map[i].key == 0)
            return;
        i = (i + 1) & p->map_mask;
    }
    /* backward-shift deletion keeps every probe chain unbroken */
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & p->map_mask;
        if (p->map[j].key == 0)
            break;
        uint32_t home = map_slot(p, p->map[j].key);
        /* can the entry at j move to the hole at i? yes unless home lies in (i, j] */
        gboolean between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            p->map[i] = p->map[j];
            i = j;
        }
    }
    p->map[i].key = 0;
    p->map_count--;
}

/* ----------------------------------------------------------------- public -- */

SchedKvPool *sched_kv_pool_new(uint32_t num_blocks, uint32_t block_size, gboolean enable_caching)
{
    g_return_val_if_fail(num_blocks > 0 && block_size > 0, NULL);
    SchedKvPool *p = g_new0(SchedKvPool, 1);
    p->num_blocks = num_blocks;
    p->block_size = block_size;
    p->caching = enable_caching;
    p->blk = g_new0(Block, num_blocks);
    p->head = p->tail = NIL;
    for (uint32_t b = 0; b < num_blocks; b++)
        free_list_append(p, b);
    if (enable_caching) {
        uint32_t cap = 1024;
        p->map = g_new0(MapSlot, cap);
        p->map_mask = cap - 1;
        p->map_limit = cap / 2;
    }
    return p;
}

void sched_kv_pool_free(SchedKvPool *p)
{
    if (!p)
        return;
    g_free(p->blk);
    g_free(p->map);
    g_free(p);
}

uint32_t sched_kv_pool_num_blocks(const SchedKvPool *p) { return p->num_blocks; }
uint32_t sched_kv_pool_num_free(const SchedKvPool *p) { return p->num_free; }
uint32_t sched_kv_pool_num_used(const SchedKvPool *p) { return p->num_blocks - p->num_free; }
uint32_t sched_kv_pool_num_cached_free(const SchedKvPool *p) { return p->num_cached_free; }
uint32_t sched_kv_pool_block_size(const SchedKvPool *p) { return p->block_size; }
gboolean sched_kv_pool_caching(const SchedKvPool *p) { return p->caching; }

void sched_kv_pool_take(SchedKvPool *p, uint32_t n, uint32_t *out)
{
    g_assert(n <= p->num_free);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t b = p->head;
        free_list_remove(p, b);
        if (p->blk[b].hash) { /* evict: the block is about to hold other tokens */
            uint8_t in_map = p->blk[b].in_map;
            if (in_map) { /* keys in the map: the first, and a second one */
                if (in_map & IN_MAP_FIRST)
                    map_remove(p, p->blk[b].hash);
                if (in_map & IN_MAP_ALIAS)
                    map_remove(p, p->blk[b].alias);
                p->blk[b].in_map = 0;
            }
            p->blk[b].hash = 0;
        }
        p->blk[b].ref_cnt = 1;
        out[k] = b;
    }
    /* The next take will unlink the new head, whose record was just written
     * (it is cached), and touch the one after it: fetch that record now. In
     * a large pool the head cycles through every free block, so it is
     * rarely in the cache; a fleet's pools together are many times the
     * cache. */
    if (p->head != NIL && p->blk[p->head].next != NIL)
        __builtin_prefetch(&p->blk[p->blk[p->head].next], 1);
}

uint32_t sched_kv_pool_lookup(const SchedKvPool *p, uint64_t hash)
{
    if (!p->caching)
        return NIL;
    return map_find(p, hash);
}

gboolean sched_kv_pool_is_free(const SchedKvPool *p, uint32_t block)
{
    return p->blk[block].on_free != 0;
}

void sched_kv_pool_touch(SchedKvPool *p, uint32_t block)
{
    if (p->blk[block].on_free)
        free_list_remove(p, block);
    p->blk[block].ref_cnt++;
}

void sched_kv_pool_release(SchedKvPool *p, const uint32_t *blocks, uint32_t n)
{
    /* a finished request's blocks were last touched long ago: fetch their
     * records together before walking them one by one */
    for (uint32_t k = 0; k < n; k++)
        __builtin_prefetch(&p->blk[blocks[k]], 1);
    /* tail first, so that a request's last blocks are evicted before its first ones */
    for (uint32_t k = n; k-- > 0;) {
        uint32_t b = blocks[k];
        g_assert(p->blk[b].ref_cnt > 0);
        if (--p->blk[b].ref_cnt == 0)
            free_list_append(p, b);
    }
}

gboolean sched_kv_pool_holds(const SchedKvPool *p, uint32_t block, uint64_t hash)
{
    return p->caching && block < p->num_blocks && p->blk[block].hash == hash;
}

gboolean sched_kv_pool_cache(SchedKvPool *p, uint32_t block, uint64_t hash, gboolean shared)
{
    if (!p->caching || p->blk[block].hash)
        return FALSE;
    if (shared && !map_insert_new(p, hash, block)) /* another block already holds these tokens */
        return FALSE;
    p->blk[block].hash = hash;
    p->blk[block].in_map = shared ? IN_MAP_FIRST : 0;
    if (p->blk[block].on_free)
        p->num_cached_free++;
    return TRUE;
}

gboolean sched_kv_pool_alias(SchedKvPool *p, uint32_t block, uint64_t hash)
{
    if (!p->caching)
        return FALSE;
    if (!p->blk[block].hash)
        return sched_kv_pool_cache(p, block, hash, TRUE);
    uint8_t in_map = p->blk[block].in_map;
    if (p->blk[block].hash == hash || ((in_map & IN_MAP_ALIAS) && p->blk[block].alias == hash))
        return TRUE;
    if (!(in_map & IN_MAP_FIRST))
        return FALSE;
    if (!map_insert_new(p, hash, block)) /* another block already holds these tokens */
        return FALSE;
    if (in_map & IN_MAP_ALIAS)
        map_remove(p, p->blk[block].alias);
    p->blk[block].alias = hash;
    p->blk[block].in_map = in_map | IN_MAP_ALIAS;
    return TRUE;
}

uint32_t sched_kv_pool_ref_count(const SchedKvPool *p, uint32_t block) { return p->blk[block].ref_cnt; }

gboolean sched_kv_pool_check(const SchedKvPool *p, char **why)
{
    uint32_t n_free = 0, n_cached_free = 0, prev = NIL;
    for (uint32_t b = p->head; b != NIL; b = p->blk[b].next) {
        if (++n_free > p->num_blocks) {
            *why = g_strdup("free list has a cycle");
            return FALSE;
        }
        if (p->blk[b].prev != prev || !p->blk[b].on_free || p->blk[b].ref_cnt != 0) {
            *why = g_strdup_printf("free list entry %u is inconsistent (ref_cnt %u)", b, p->blk[b].ref_cnt);
            return FALSE;
        }
        if (p->blk[b].hash)
            n_cached_free++;
        prev = b;
    }
    if (prev != p->tail || n_free != p->num_free || n_cached_free != p->num_cached_free) {
        *why = g_strdup_printf("free list holds %u blocks (%u cached), counters say %u (%u)", n_free,
                               n_cached_free, p->num_free, p->num_cached_free);
        return FALSE;
    }
    uint32_t n_used = 0, n_hashed = 0;
    for (uint32_t b = 0; b < p->num_blocks; b++) {
        if (p->blk[b].ref_cnt > 0) {
            n_used++;
            if (p->blk[b].on_free) {
                *why = g_strdup_printf("block %u is held and free", b);
                return FALSE;
            }
        } else if (!p->blk[b].on_free) {
            *why = g_strdup_printf("block %u is neither held nor free", b);
            return FALSE;
        }
        if (p->blk[b].hash && (p->blk[b].in_map & IN_MAP_FIRST)) {
            n_hashed++;
            if (map_find(p, p->blk[b].hash) != b) {
                *why = g_strdup_printf("block %u's hash does not map back to it", b);
                return FALSE;
            }
        }
        if (p->blk[b].in_map & IN_MAP_ALIAS) {
            n_hashed++;
            if (!p->blk[b].hash || !(p->blk[b].in_map & IN_MAP_FIRST) || p->blk[b].alias == p->blk[b].hash ||
                map_find(p, p->blk[b].alias) != b) {
                *why = g_strdup_printf("block %u's second key is inconsistent", b);
                return FALSE;
            }
        }
    }
    if (n_used + n_free != p->num_blocks) {
        *why = g_strdup_printf("used %u + free %u != total %u", n_used, n_free, p->num_blocks);
        return FALSE;
    }
    if (p->caching && n_hashed != p->map_count) {
        *why = g_strdup_printf("%u block keys but %u map entries", n_hashed, p->map_count);
        return FALSE;
    }
    return TRUE;
}
