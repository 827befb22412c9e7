/*
 * sched_offload.c: the host-memory KV tier of CPU offload (vLLM's
 * OffloadingConnector with --kv-offloading-size, or LMCache's CPU backend).
 *
 * What it models: a second, larger KV store in host memory that holds
 * copies of blocks by their content key (the same names as the GPU prefix
 * cache: sched_request_block_hash). Blocks are written through: each block
 * is stored when it is registered in the GPU cache (vLLM's connector stores
 * every new full block, asynchronously, over the GPU's copy engines), so the
 * tier holds the most recently computed or used `capacity` blocks (LRU), a
 * request's own blocks included (a preempted request reloads them instead
 * of recomputing). A waiting request whose prefix runs past its GPU hits
 * into blocks the tier holds loads them (sched.c; the copy is timed by the
 * latency model over the host link).
 *
 * Structure: `capacity` slots in an LRU list, and an open-addressing map
 * from key to slot (linear probing, backward-shift deletion, at most half
 * full). Cost: O(1) expected per store, lookup and eviction; memory about
 * 40 bytes per slot.
 */
#include "sched_options.h"

#define NIL UINT32_MAX

struct SchedCpuTier {
    uint32_t capacity, size;
    uint64_t *key;      /* per slot */
    uint32_t *prev, *next;
    uint32_t head, tail; /* head: least recently used */
    uint64_t *mkey;     /* map: key (0 empty) -> slot */
    uint32_t *mval;
    uint32_t mask;
};

static inline uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

SchedCpuTier *sched_cpu_tier_new(uint32_t capacity)
{
    g_return_val_if_fail(capacity > 0, NULL);
    SchedCpuTier *t = g_new0(SchedCpuTier, 1);
    t->capacity = capacity;
    t->key = g_new0(uint64_t, capacity);
    t->prev = g_new(uint32_t, capacity);
    t->next = g_new(uint32_t, capacity);
    t->head = t->tail = NIL;
    uint64_t cap = 16;
    while (cap < 2ull * capacity)
        cap <<= 1;
    t->mkey = g_new0(uint64_t, cap);
    t->mval = g_new(uint32_t, cap);
    t->mask = (uint32_t)(cap - 1);
    return t;
}

void sched_cpu_tier_free(SchedCpuTier *t)
{
    if (!t)
        return;
    g_free(t->key);
    g_free(t->prev);
    g_free(t->next);
    g_free(t->mkey);
    g_free(t->mval);
    g_free(t);
}

uint32_t sched_cpu_tier_size(const SchedCpuTier *t) { return t->size; }

static uint32_t map_find(const SchedCpuTier *t, uint64_t key)
{
    for (uint32_t i = (uint32_t)mix64(key) & t->mask;; i = (i + 1) & t->mask) {
        if (t->mkey[i] == key)
            return t->mval[i];
        if (t->mkey[i] == 0)
            return NIL;
    }
}

static void map_put(SchedCpuTier *t, uint64_t key, uint32_t slot)
{
    uint32_t i = (uint32_t)mix64(key) & t->mask;
    while (t->mkey[i] != 0)
        i = (i + 1) & t->mask;
    t->mkey[i] = key;
    t->mval[i] = slot;
}

static void map_del(SchedCpuTier *t, uint64_t key)
{
    uint32_t i = (uint32_t)mix64(key) & t->mask;
    while (t->mkey[i] != key) {
        if (t->mkey[i] == 0)
            return;
        i = (i + 1) & t->mask;
    }
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & t->mask;
        if (t->mkey[j] == 0)
            break;
        uint32_t home = (uint32_t)mix64(t->mkey[j]) & t->mask;
        gboolean between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!between) {
            t->mkey[i] = t->mkey[j];
            t->mval[i] = t->mval[j];
            i = j;
        }
    }
    t->mkey[i] = 0;
}

static void unlink_slot(SchedCpuTier *t, uint32_t s)
{
    if (t->prev[s] != NIL)
        t->next[t->prev[s]] = t->next[s];
    else
        t->head = t->next[s];
    if (t->next[s] != NIL)
        t->prev[t->next[s]] = t->prev[s];
    else
        t->tail = t->prev[s];
}

static void append_slot(SchedCpuTier *t, uint32_t s)
{
    t->prev[s] = t->tail;
    t->next[s] = NIL;
    if (t->tail != NIL)
        t->next[t->tail] = s;
    else
        t->head = s;
    t->tail = s;
}

gboolean sched_cpu_tier_contains(const SchedCpuTier *t, uint64_t hash)
{
    return map_find(t, hash) != NIL;
}

void sched_cpu_tier_touch(SchedCpuTier *t, uint64_t hash)
{
    uint32_t s = map_find(t, hash);
    if (s == NIL || s == t->tail)
        return;
    unlink_slot(t, s);
    append_slot(t, s);
}

gboolean sched_cpu_tier_store(SchedCpuTier *t, uint64_t hash)
{
    uint32_t s = map_find(t, hash);
    if (s != NIL) {
        if (s != t->tail) {
            unlink_slot(t, s);
            append_slot(t, s);
        }
        return FALSE;
    }
    if (t->size < t->capacity) {
        s = t->size++;
    } else { /* evict the least recently used */
        s = t->head;
        unlink_slot(t, s);
        map_del(t, t->key[s]);
    }
    t->key[s] = hash;
    map_put(t, hash, s);
    append_slot(t, s);
    return TRUE;
}
