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
 * sched_internal.h); a newer alias replaces an older one.
 *
 * Free blocks form one queue in LRU order, as vLLM's free block queue:
 * allocation takes from the head, freeing appends at the tail, so the least
 * recently freed block is reused (and its keys evicted) first. A freed block
 * that keeps a key can be found again by a later request with the same
 * prefix, which takes it back off the queue ("touch"). A freed block that
 * no request can ever find again (it holds no key: a partly filled block, a
 * pool without caching, or the own tokens of a request that finished) is
 * "dead": where it sits in the queue matters (the blocks behind it are
 * evicted that much later) but which block it is does not. So the queue
 * keeps the keyed blocks on a doubly linked list, each with the number of
 * dead blocks queued just before it, and the dead blocks themselves on a
 * stack: taking a dead place in the queue takes the most recently freed dead
 * block, whose record is likely still in the cache, where a walk through
 * the whole pool in LRU order would miss the cache at every block. The
 * order in which keys are evicted is exactly the LRU queue's.
 *
 * The hash map is open addressing with linear probing and backward-shift
 * deletion (no tombstones), kept at most half full: it starts at 1024 slots
 * and doubles as keys enter it (shared blocks, sessions' blocks, aliases), so
 * a pool without shared content keeps it small. O(1) expected per lookup,
 * insert and eviction (amortised over the doublings). Memory: a 32-byte
 * record per block (its fields together: one cache line per block touched),
 * 8 bytes per block for the dead stack and the counts, plus 16 bytes per map
 * slot (at most 4 slots per block).
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
    uint32_t prev;      /* links of the keyed free list; NIL at the ends */
    uint32_t next;
    uint8_t on_free;    /* 1 while free (on the keyed list or the dead stack) */
    uint8_t in_map;     /* IN_MAP_FIRST: the hash is in the map (shared content), else only
                           its owner looks; IN_MAP_ALIAS: the block also has a second key */
} Block;
G_STATIC_ASSERT(sizeof(Block) == 32);

struct SchedKvPool {
    uint32_t num_blocks;
    uint32_t block_size;
    gboolean caching;

    Block *blk;         /* one 32-byte record per block: an operation on a block touches one cache line */
    uint32_t head, tail; /* the keyed free blocks, LRU first */
    uint32_t num_free;   /* keyed + dead */
    uint32_t num_cached_free; /* keyed */
    uint32_t *dead_before; /* per keyed free block: dead blocks queued just before it */
    uint32_t dead_tail;    /* dead blocks queued after the last keyed one */
    uint32_t *dead;        /* the dead blocks, most recently freed on top */
    uint32_t num_dead;

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

/* Takes a keyed block off the free list; the dead blocks queued before it
 * now queue before its successor. */
static void free_list_remove(SchedKvPool *p, uint32_t b)
{
    uint32_t pv = p->blk[b].prev, nx = p->blk[b].next;
    if (pv != NIL)
        p->blk[pv].next = nx;
    else
        p->head = nx;
    if (nx != NIL) {
        p->blk[nx].prev = pv;
        p->dead_before[nx] += p->dead_before[b];
    } else {
        p->tail = pv;
        p->dead_tail += p->dead_before[b];
    }
    p->blk[b].prev = p->blk[b].next = NIL;
    p->blk[b].on_free = 0;
    p->num_free--;
    p->num_cached_free--;
}

/* Queues a block that has no holder left: keyed at the tail of the list,
 * dead on the stack (its hash forgotten). */
static void free_list_append(SchedKvPool *p, uint32_t b)
{
    p->blk[b].on_free = 1;
    p->num_free++;
    if (!p->blk[b].hash) {
        p->dead[p->num_dead++] = b;
        p->dead_tail++;
        return;
    }
    p->blk[b].prev = p->tail;
    p->blk[b].next = NIL;
    if (p->tail != NIL)
        p->blk[p->tail].next = b;
    else
        p->head = b;
    p->tail = b;
    p->dead_before[b] = p->dead_tail;
    p->dead_tail = 0;
    p->num_cached_free++;
}

/* Takes the block at the head of the queue: a dead one if dead blocks come
 * first, else the keyed head; *dead says which. Precondition: num_free > 0. */
static inline uint32_t free_list_pop(SchedKvPool *p, gboolean *dead)
{
    uint32_t h = p->head;
    if (h != NIL && p->dead_before[h] == 0) {
        free_list_remove(p, h);
        *dead = FALSE;
        return h;
    }
    if (h != NIL)
        p->dead_before[h]--;
    else
        p->dead_tail--;
    uint32_t b = p->dead[--p->num_dead];
    p->blk[b].on_free = 0;
    p->num_free--;
    *dead = TRUE;
    return b;
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
    /* sched_new passes num_gpu_blocks - 1 >= 1 and block_size >= 1, both
     * checked by sched_config_validate: unreachable from input */
    g_return_val_if_fail(num_blocks > 0 && block_size > 0, NULL);
    SchedKvPool *p = g_new0(SchedKvPool, 1);
    p->num_blocks = num_blocks;
    p->block_size = block_size;
    p->caching = enable_caching;
    p->blk = g_new0(Block, num_blocks);
    p->dead_before = g_new0(uint32_t, num_blocks);
    p->dead = g_new(uint32_t, num_blocks);
    p->head = p->tail = NIL;
    for (uint32_t b = num_blocks; b-- > 0;) /* block 0 on top: taken first */
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
    g_free(p->dead_before);
    g_free(p->dead);
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
    /* a scheduler invariant (it counts free blocks before taking them), not
     * an input check: sched_check_invariants and the fuzz harness test it */
    g_assert(n <= p->num_free);
    /* the dead blocks on top of the stack were freed a while ago (other
     * replicas ran since): fetch the records of those this take (and the
     * next one, one more block) will pop before any keyed block, together */
    uint32_t dead_first = p->head == NIL ? p->num_dead : MIN(p->dead_before[p->head], p->num_dead);
    for (uint32_t k = 0, m = MIN(n + 1, dead_first); k < m; k++)
        __builtin_prefetch(&p->blk[p->dead[p->num_dead - 1 - k]], 1);
    for (uint32_t k = 0; k < n; k++) {
        gboolean dead;
        uint32_t b = free_list_pop(p, &dead);
        /* a dead block holds no key (its record is only written: no wait for
         * it to arrive); a keyed one is evicted: it is about to hold other tokens */
        if (!dead && p->blk[b].hash) {
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
    /* A keyed head was freed long ago, so its record is rarely in the
     * cache (a fleet's pools together are many times the cache): fetch the
     * record of the one after it, which the next unlink touches. */
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

static G_ALWAYS_INLINE inline void release_as(SchedKvPool *p, const uint32_t *blocks, uint32_t n,
                                              const gboolean forget_own)
{
    /* a finished request's blocks were last touched long ago: fetch their
     * records together before walking them one by one */
    for (uint32_t k = 0; k < n; k++)
        __builtin_prefetch(&p->blk[blocks[k]], 1);
    /* tail first, so that a request's last blocks are evicted before its first ones */
    for (uint32_t k = n; k-- > 0;) {
        uint32_t b = blocks[k];
        g_assert(p->blk[b].ref_cnt > 0); /* a bug check: only held blocks are released */
        if (--p->blk[b].ref_cnt == 0) {
            if (forget_own && !p->blk[b].in_map) /* its owner's tokens, and its owner is done */
                p->blk[b].hash = 0;
            free_list_append(p, b);
        }
    }
}

void sched_kv_pool_release(SchedKvPool *p, const uint32_t *blocks, uint32_t n)
{
    release_as(p, blocks, n, FALSE);
}

void sched_kv_pool_release_finished(SchedKvPool *p, const uint32_t *blocks, uint32_t n)
{
    release_as(p, blocks, n, TRUE);
}

gboolean sched_kv_pool_holds(const SchedKvPool *p, uint32_t block, uint64_t hash)
{
    return p->caching && block < p->num_blocks && p->blk[block].hash == hash;
}

gboolean sched_kv_pool_cache(SchedKvPool *p, uint32_t block, uint64_t hash, gboolean shared)
{
    if (!p->caching || p->blk[block].hash || p->blk[block].on_free) /* only a held block gets tokens */
        return FALSE;
    if (shared && !map_insert_new(p, hash, block)) /* another block already holds these tokens */
        return FALSE;
    p->blk[block].hash = hash;
    p->blk[block].in_map = shared ? IN_MAP_FIRST : 0;
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
    uint32_t n_keyed = 0, prev = NIL;
    uint64_t dead_queued = p->dead_tail;
    for (uint32_t b = p->head; b != NIL; b = p->blk[b].next) {
        if (++n_keyed > p->num_blocks) {
            *why = g_strdup("free list has a cycle");
            return FALSE;
        }
        if (p->blk[b].prev != prev || !p->blk[b].on_free || p->blk[b].ref_cnt != 0 || !p->blk[b].hash) {
            *why = g_strdup_printf("free list entry %u is inconsistent (ref_cnt %u)", b, p->blk[b].ref_cnt);
            return FALSE;
        }
        dead_queued += p->dead_before[b];
        prev = b;
    }
    if (prev != p->tail || n_keyed != p->num_cached_free || (uint64_t)n_keyed + p->num_dead != p->num_free) {
        *why = g_strdup_printf("free list holds %u keyed and %u dead blocks, counters say %u free (%u cached)",
                               n_keyed, p->num_dead, p->num_free, p->num_cached_free);
        return FALSE;
    }
    if (dead_queued != p->num_dead) {
        *why = g_strdup_printf("the queue counts %" G_GUINT64_FORMAT " dead places for %u dead blocks", dead_queued,
                               p->num_dead);
        return FALSE;
    }
    g_autofree uint8_t *seen = g_new0(uint8_t, p->num_blocks);
    for (uint32_t k = 0; k < p->num_dead; k++) {
        uint32_t b = p->dead[k];
        if (b >= p->num_blocks || seen[b] || !p->blk[b].on_free || p->blk[b].ref_cnt != 0 || p->blk[b].hash ||
            p->blk[b].in_map) {
            *why = g_strdup_printf("dead block entry %u is inconsistent", k);
            return FALSE;
        }
        seen[b] = 1;
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
    if (n_used + p->num_free != p->num_blocks) {
        *why = g_strdup_printf("used %u + free %u != total %u", n_used, p->num_free, p->num_blocks);
        return FALSE;
    }
    if (p->caching && n_hashed != p->map_count) {
        *why = g_strdup_printf("%u block keys but %u map entries", n_hashed, p->map_count);
        return FALSE;
    }
    return TRUE;
}
