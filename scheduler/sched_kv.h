/*
 * sched_kv.h: the block pool's operations, internal to the scheduler (and
 * its tests). The public counters are in sched.h.
 */
#ifndef SCHED_KV_H
#define SCHED_KV_H

#include "sched.h"

#define SCHED_KV_NONE UINT32_MAX

/* The content hash of block `index` of a token sequence. Requests of one
 * prefix group use (domain 1, owner = group) for the blocks that lie wholly
 * in their shared prefix, so they find each other's blocks; blocks of
 * requests without a session use (domain 2, owner = request id), so only the
 * same request (after a preemption) finds them again. Never 0. */
uint64_t sched_kv_block_hash(uint64_t domain, uint64_t owner, uint32_t index);
/* The hash of block `index` of a session's tokens on one branch (domain 3):
 * the other blocks of session requests (sched_internal.h explains branches). Never 0;
 * distinct from every sched_kv_block_hash but by a 64-bit accident. */
uint64_t sched_kv_session_block_hash(uint64_t session, uint32_t branch, uint32_t index);

/* splitmix64's finaliser: a bijection of 64-bit words with good avalanche. */
static inline uint64_t sched_kv_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* sched_kv_block_hash in two halves, for owners that hash many blocks:
 * sched_kv_block_hash(d, o, i) == sched_kv_hash_block(sched_kv_hash_seed(d, o), i). */
uint64_t sched_kv_hash_seed(uint64_t domain, uint64_t owner);
static inline uint64_t sched_kv_hash_block(uint64_t seed, uint32_t index)
{
    uint64_t h = sched_kv_mix64(seed ^ index);
    return h ? h : 1; /* 0 means "no hash" */
}

uint32_t sched_kv_pool_block_size(const SchedKvPool *pool);
gboolean sched_kv_pool_caching(const SchedKvPool *pool);

/* Takes n blocks from the head of the free list (evicting their hashes) and
 * gives each a reference count of 1. Precondition: n <= num_free. */
void sched_kv_pool_take(SchedKvPool *pool, uint32_t n, uint32_t *out);

/* The block holding `hash`, or SCHED_KV_NONE (always NONE without caching). */
uint32_t sched_kv_pool_lookup(const SchedKvPool *pool, uint64_t hash);

/* Whether a block is on the free list (a cache hit on it costs a free block). */
gboolean sched_kv_pool_is_free(const SchedKvPool *pool, uint32_t block);

/* Adds a holder to a block found by lookup (taking it off the free list if it was there). */
void sched_kv_pool_touch(SchedKvPool *pool, uint32_t block);

/* Drops one holder from each block, the last block first; blocks left
 * without holders go to the tail of the free queue with their hash kept. */
void sched_kv_pool_release(SchedKvPool *pool, const uint32_t *blocks, uint32_t n);
/* As sched_kv_pool_release, for a request that is done: blocks of its own
 * tokens (a hash not in the map, which only it could look for) forget their
 * hash, since no request can find them again. Where they sit in the free
 * queue, and so what is evicted when, is as with sched_kv_pool_release. */
void sched_kv_pool_release_finished(SchedKvPool *pool, const uint32_t *blocks, uint32_t n);

/* Registers a full block's hash. `shared`: content other requests may hold
 * too (a prefix group's), entered in the map for sched_kv_pool_lookup;
 * otherwise only recorded on the block, for sched_kv_pool_holds. Returns
 * FALSE (and registers nothing) when caching is off, the block is free or
 * already has a hash, or (shared) another block holds it. */
gboolean sched_kv_pool_cache(SchedKvPool *pool, uint32_t block, uint64_t hash, gboolean shared);

/* Gives a block a second key in the map: the same tokens under a second
 * name. A block without a hash gets `hash` as its first key instead (as
 * sched_kv_pool_cache with shared). A block has at most one second key: a
 * new one replaces the old (the old name is no longer found). TRUE when the
 * block is found under `hash` afterwards; FALSE (and nothing changes) when
 * caching is off, the block's first key is not in the map, or another block
 * holds `hash`. */
gboolean sched_kv_pool_alias(SchedKvPool *pool, uint32_t block, uint64_t hash);

/* Whether a block still holds the content of `hash` (not evicted since). */
gboolean sched_kv_pool_holds(const SchedKvPool *pool, uint32_t block, uint64_t hash);

uint32_t sched_kv_pool_ref_count(const SchedKvPool *pool, uint32_t block);

#endif /* SCHED_KV_H */
