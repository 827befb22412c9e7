/*
 * sched.c: vLLM V1's schedule() and update-after-step, on simulated requests.
 *
 * One step (docs/scheduler.md has the rules with their vLLM sources):
 *  1. budget = max_num_batched_tokens.
 *  2. Running requests in admission order, while budget > 0: give each
 *     n = tokens - computed, capped by the long-prefill threshold, the budget
 *     and max_model_len - 1 - computed; allocate its blocks; when the pool is
 *     short, preempt the tail of the running list (free its blocks, computed =
 *     0, front of the waiting queue) and retry; when the victim is the request
 *     itself, stop.
 *  3. Only if nobody was preempted: waiting requests in FCFS order while
 *     budget > 0 and running < max_num_seqs: prefix-cache hit (never the last
 *     token), n = tokens - computed capped by threshold and budget, allocate;
 *     when that fails, stop admitting.
 * A request samples a token at the end of a step in which its computed
 * tokens reach prompt + generated; it finishes after max_output_tokens.
 * Prefix caching names each full block by its group prefix, its session
 * (turns of a conversation find each other's blocks, generated ones
 * included) or its request (see "Block keys" below and docs/scheduler.md).
 * A block keyed by its request is recorded on the block only when the
 * request gives it back at a preemption: no one else can find it, and the
 * request itself looks for it only after a preemption (a finished request's
 * own blocks are forgotten), so the record is the same as if made when the
 * block filled, without touching the block's record at every fill.
 *
 * Engine options (docs/options/), each reached only when on:
 *  - priority (vLLM's --scheduling-policy priority): the waiting queue is a
 *    heap on (priority, arrival); a preempted request goes back into it;
 *    the victim of a preemption is the running request of the lowest
 *    priority (largest value, then latest arrival), unscheduled from the
 *    step when it was already scheduled (vLLM gives its tokens back);
 *  - speculative decoding: a request that sampled carries k draft tokens
 *    into its next step (n = 1 + k, within the budget and max_model_len),
 *    with EAGLE/MTP's lookahead slots; at the step's end the accepted drafts
 *    are drawn (sched_spec.c): it gains 1 + a tokens and gives back the KV
 *    of the k - a rejected ones (its blocks stay);
 *  - sliding windows (vLLM's hybrid KV cache manager): blocks of the
 *    sliding groups within the window (sched_window.c);
 *  - CPU offload: blocks are written through to a host tier
 *    (sched_offload.c); a waiting request loads the blocks past its GPU
 *    hits that the tier holds (BatchDesc.kv_load_tokens);
 *  - LoRA: a waiting request whose adapter would make the step's adapters
 *    more than max_loras waits (skipped, kept at the head), as in vLLM; the
 *    step's adapters are made resident in GPU slots (sched_lora.c).
 *
 * KV transfers (a disaggregated fleet, vLLM's KV connector): a request
 * whose prompt's KV is computed elsewhere (SCHED_KV_REMOTE) is admitted like
 * any other (in queue order, within max_num_seqs, its blocks allocated less
 * its local prefix hit) but takes no token budget: it waits for its KV in
 * SCHED_WAITING_FOR_REMOTE_KV, its new blocks kept out of the prefix cache
 * until the KV has arrived (vLLM's delay_cache_blocks). Then its blocks are
 * cached and it waits, ahead of the waiting queue, with all its prompt but
 * the last token computed. A request whose blocks another replica is still
 * reading (SCHED_KV_HOLD) keeps them when it finishes, until released. The
 * fleet refuses transfers with sliding-window groups (their blocks are not
 * the prompt's blocks); a loaded request skips the host tier's lookup.
 *
 * Files: this one holds schedule() (the running loop, the admission of
 * waiting requests, allocation, preemption), kept in one file so that its
 * inlined parts stay inlined; sched_finish.c the update after a step,
 * sched_waiting.c the waiting queue, sched_request.c the requests and their
 * block keys, sched_setup.c the configuration and lifecycle, sched_state.c
 * KV transfers, queries and invariants; sched_internal.h the shared state.
 *
 * Data structures: the running list is an array in admission order (at most
 * max_num_seqs); the waiting queue is a ring buffer (preempted requests go to
 * its front), or a binary heap under the priority policy, after a FIFO of
 * requests whose remote KV has arrived; the requests waiting for their KV
 * and the held ones are arrays in arrival order. Cost per step:
 * O(running + admitted + blocks touched), plus O(log waiting) per queue
 * operation under the priority policy.
 */
#include "sched.h"

#include <string.h>

#include "sched_internal.h"

G_STATIC_ASSERT(SCHED_MAX_SPEC_TOKENS <= 255); /* BatchEntry.spec_tokens */

/* ------------------------------------------------------------ allocation -- */

/* Makes room for `needed` block ids in the request's array: a finished
 * request's array when the request has none yet (no allocation per request
 * in steady state), grown by doubling. */
static void request_reserve_blocks(SchedScheduler *s, SchedRequest *r, uint32_t needed)
{
    if (needed <= r->cap_blocks)
        return;
    if (!r->blocks && s->num_spare) {
        s->num_spare--;
        r->blocks = s->spare[s->num_spare];
        r->cap_blocks = s->spare_cap[s->num_spare];
        if (needed <= r->cap_blocks)
            return;
    }
    uint32_t cap = MAX(needed, r->cap_blocks * 2);
    r->blocks = g_renew(uint32_t, r->blocks, cap);
    r->cap_blocks = cap;
}

static G_ALWAYS_INLINE inline void update_alloc_limit(const SchedScheduler *s, SchedRequest *r,
                                                         const gboolean plain)
{
    uint32_t limit = r->num_blocks * s->cfg.block_size;
    if (s->cfg.enable_prefix_caching) {
        uint32_t hashed_end = (r->num_hashed_blocks + 1) * s->cfg.block_size - 1;
        if (hashed_end < limit)
            limit = hashed_end;
    }
    if (!plain && G_UNLIKELY(r->window != NULL) && r->window->rows > 0) {
        /* run the allocator again when its first sliding row leaves the window */
        uint64_t release = (uint64_t)(r->window->first + 1) * s->cfg.block_size + s->cfg.sliding_window - 1;
        if (release < limit)
            limit = (uint32_t)release;
    }
    r->alloc_limit = limit;
}

/* vLLM's allocate_slots(): gives `r` blocks for `num_computed + n` tokens
 * (and `lookahead` slots past them) after taking `num_hits` cached blocks
 * and `num_loaded` blocks filled from the host tier (new blocks). With
 * sliding groups, first releases the rows out of the window, then needs
 * rows up to the last block too. Fails (changing nothing else) when the new
 * blocks plus the hit blocks that sit on the free list exceed the free
 * blocks. On success registers the hashes of the blocks that become full of
 * known tokens (never of draft tokens), and stores them in the host tier.
 * `plain`: no option that changes allocation is on (no sliding groups, host
 * tier, loaded blocks or lookahead), the code of a scheduler without them.
 * `delay_cache`: register nothing (their KV is still to arrive:
 * sched_register_full_blocks() does it then). */
static G_ALWAYS_INLINE inline gboolean allocate_slots_as(SchedScheduler *s, SchedRequest *r, const uint32_t *hits,
                                                         uint32_t num_hits, uint32_t num_loaded, uint32_t n,
                                                         uint32_t lookahead, const gboolean plain,
                                                         const gboolean delay_cache)
{
    if (plain)
        num_loaded = lookahead = 0;
    const uint32_t bs = s->cfg.block_size;
    uint32_t computed = r->num_computed + (num_hits + num_loaded) * bs;
    uint32_t total = computed + n;
    uint32_t required = (total + lookahead + bs - 1) / bs;
    uint32_t have = r->num_blocks + num_hits;
    uint32_t new_blocks = required > have ? required - have : 0;
    uint32_t evictable_hits = 0;
    for (uint32_t k = 0; k < num_hits; k++)
        if (sched_kv_pool_is_free(s->pool, hits[k]))
            evictable_hits++;
    const uint32_t groups = plain ? 0 : s->cfg.kv_groups_sliding;
    uint32_t first = 0, rows = 0;
    if (G_UNLIKELY(groups > 0)) {
        first = sched_window_first(&s->cfg, computed);
        sched_window_release_before(s->pool, r, groups, first);
        rows = sched_window_rows_missing(r, first, required);
    }
    if ((uint64_t)new_blocks + (uint64_t)rows * groups + evictable_hits > sched_kv_pool_num_free(s->pool))
        return FALSE;

    request_reserve_blocks(s, r, required);
    for (uint32_t k = 0; k < num_hits; k++) {
        sched_kv_pool_touch(s->pool, hits[k]);
        r->blocks[r->num_blocks++] = hits[k];
    }
    if (num_hits) {
        r->num_hashed_blocks = r->num_blocks;
        if (starts_branch(r)) /* the hits of its session prefix get its branch's name too */
            for (uint32_t k = 0; k < num_hits && in_session_prefix(r, k, bs); k++)
                sched_kv_pool_alias(s->pool, hits[k], key_hash(r, KEY_SESSION, k));
    }
    sched_kv_pool_take(s->pool, new_blocks, r->blocks + r->num_blocks);
    r->num_blocks += new_blocks;
    if (G_UNLIKELY(rows > 0))
        sched_window_append(s->pool, r, groups, first, rows);

    if (s->cfg.enable_prefix_caching && !delay_cache) {
        uint32_t known = plain ? total : MIN(total, sched_request_num_tokens(r)); /* drafts may be rejected */
        uint32_t full = known / bs;
        for (uint32_t i = r->num_hashed_blocks; i < full; i++) { /* full now: register */
            BlockKey key = block_key(r, i, bs);
            if (key == KEY_OWN && (plain || G_LIKELY(s->cpu == NULL))) /* (plain: no host tier) */
                continue; /* recorded on the block when it is given back: preempt() */
            uint64_t h = key_hash(r, key, i);
            if (key != KEY_OWN) {
                sched_kv_pool_cache(s->pool, r->blocks[i], h, TRUE);
                if (G_UNLIKELY(starts_branch(r)) && in_session_prefix(r, i, bs))
                    sched_kv_pool_alias(s->pool, r->blocks[i], key_hash(r, KEY_SESSION, i));
            }
            if (!plain && G_UNLIKELY(s->cpu != NULL) && sched_cpu_tier_store(s->cpu, h))
                s->stats.offload_stores++;
        }
        if (full > r->num_hashed_blocks)
            r->num_hashed_blocks = full;
    }
    update_alloc_limit(s, r, plain);
    return TRUE;
}

static gboolean allocate_slots(SchedScheduler *s, SchedRequest *r, const uint32_t *hits, uint32_t num_hits,
                               uint32_t num_loaded, uint32_t n, uint32_t lookahead)
{
    return allocate_slots_as(s, r, hits, num_hits, num_loaded, n, lookahead, FALSE, FALSE);
}

/* Registers the hashes of the request's blocks that are full of computed
 * tokens (num_computed), as allocate_slots does for the blocks it fills
 * (and writes them through to the host tier). */
void sched_register_full_blocks(SchedScheduler *s, SchedRequest *r)
{
    const uint32_t bs = s->cfg.block_size;
    if (s->cfg.enable_prefix_caching) {
        uint32_t full = MIN(r->num_computed / bs, r->num_blocks);
        for (uint32_t i = r->num_hashed_blocks; i < full; i++) {
            BlockKey key = block_key(r, i, bs);
            if (key == KEY_OWN && G_LIKELY(s->cpu == NULL))
                continue; /* recorded on the block when it is given back: preempt() */
            uint64_t h = key_hash(r, key, i);
            if (key != KEY_OWN) {
                sched_kv_pool_cache(s->pool, r->blocks[i], h, TRUE);
                if (G_UNLIKELY(starts_branch(r)) && in_session_prefix(r, i, bs))
                    sched_kv_pool_alias(s->pool, r->blocks[i], key_hash(r, KEY_SESSION, i));
            }
            if (G_UNLIKELY(s->cpu != NULL) && sched_cpu_tier_store(s->cpu, h))
                s->stats.offload_stores++;
        }
        if (full > r->num_hashed_blocks)
            r->num_hashed_blocks = full;
    }
    update_alloc_limit(s, r, FALSE);
}

/* vLLM's scheduler_reserve_full_isl admission gate (allocate_slots with
 * full_sequence_must_fit, vllm/v1/core/kv_cache_manager.py): the blocks of
 * the request's whole sequence so far (prompt, plus output when resumed),
 * capped at max_model_len, less the prefix hits, plus the hit blocks that
 * sit on the free list, must all be free now (with sliding groups, their
 * blocks of the window too, at most sched_window_cap_blocks per group). */
static gboolean full_sequence_fits(const SchedScheduler *s, const SchedRequest *r, uint32_t num_hits,
                                   uint32_t num_loaded)
{
    const uint32_t bs = s->cfg.block_size;
    uint32_t tokens = MIN(sched_request_num_tokens(r), s->cfg.max_model_len);
    uint32_t required = (tokens + bs - 1) / bs;
    uint32_t have = r->num_blocks + num_hits;
    uint64_t new_blocks = required > have ? required - have : 0;
    uint32_t evictable_hits = 0;
    for (uint32_t k = 0; k < num_hits; k++)
        if (sched_kv_pool_is_free(s->pool, s->hit_blocks[k]))
            evictable_hits++;
    if (G_UNLIKELY(s->cfg.kv_groups_sliding > 0)) { /* capped at the window's blocks, as vLLM's admission cap */
        uint32_t first = sched_window_first(&s->cfg, r->num_computed + (num_hits + num_loaded) * bs);
        uint32_t capped = MIN(required, sched_window_cap_blocks(&s->cfg));
        new_blocks += (uint64_t)s->cfg.kv_groups_sliding * (capped > first ? capped - first : 0);
    }
    return new_blocks + evictable_hits <= sched_kv_pool_num_free(s->pool);
}

/* Finds the longest run of cached full blocks of the request's tokens,
 * leaving at least the last token to compute. Returns the hit count; the
 * blocks are in s->hit_blocks. */
static uint32_t find_prefix_hits(SchedScheduler *s, const SchedRequest *r)
{
    if (!s->cfg.enable_prefix_caching)
        return 0;
    const uint32_t bs = s->cfg.block_size;
    uint32_t max_blocks = (sched_request_num_tokens(r) - 1) / bs;
    if (max_blocks > s->hit_cap) {
        s->hit_cap = MAX(max_blocks, s->hit_cap * 2);
        s->hit_blocks = g_renew(uint32_t, s->hit_blocks, s->hit_cap);
    }
    uint32_t n = 0;
    for (; n < max_blocks; n++) {
        BlockKey key = block_key(r, n, bs);
        uint64_t h = key_hash(r, key, n);
        uint32_t b;
        if (key != KEY_OWN) {
            b = sched_kv_pool_lookup(s->pool, h);
            /* a group block inside the session prefix holds the previous
             * turn's tokens too, which may have gone by the session's name */
            if (b == SCHED_KV_NONE && key == KEY_GROUP && in_session_prefix(r, n, bs))
                b = sched_kv_pool_lookup(s->pool, key_hash(r, KEY_SESSION_PREFIX, n));
        } else /* only this request ever held these tokens: where it left them, if still there */
            b = n < r->num_prev_blocks && sched_kv_pool_holds(s->pool, r->blocks[n], h) ? r->blocks[n]
                                                                                       : SCHED_KV_NONE;
        if (b == SCHED_KV_NONE)
            break;
        s->hit_blocks[n] = b;
    }
    return n;
}

/* CPU offload: how many blocks past the request's `gpu_hits` GPU hits the
 * host tier holds (each by the name the GPU cache would know it by), in
 * whole multiples of cpu_hit_tokens, never covering the last prompt token. */
static uint32_t find_cpu_hits(const SchedScheduler *s, const SchedRequest *r, uint32_t gpu_hits)
{
    const uint32_t bs = s->cfg.block_size;
    uint32_t max_blocks = (sched_request_num_tokens(r) - 1) / bs;
    uint32_t n = gpu_hits;
    for (; n < max_blocks; n++) {
        BlockKey key = block_key(r, n, bs);
        if (sched_cpu_tier_contains(s->cpu, key_hash(r, key, n)))
            continue;
        if (key == KEY_GROUP && in_session_prefix(r, n, bs) &&
            sched_cpu_tier_contains(s->cpu, key_hash(r, KEY_SESSION_PREFIX, n)))
            continue;
        break;
    }
    uint32_t gran = s->cfg.cpu_hit_tokens > bs ? s->cfg.cpu_hit_tokens : bs;
    uint32_t end = n * bs / gran * gran / bs; /* LMCache: whole chunks only */
    return end > gpu_hits ? end - gpu_hits : 0;
}

/* Touches the blocks a request loads from the host tier (LRU). */
static void touch_cpu_hits(SchedScheduler *s, const SchedRequest *r, uint32_t from, uint32_t n)
{
    const uint32_t bs = s->cfg.block_size;
    for (uint32_t i = from; i < from + n; i++) {
        BlockKey key = block_key(r, i, bs);
        sched_cpu_tier_touch(s->cpu, key_hash(r, key, i));
    }
}

static void preempt(SchedScheduler *s, SchedRequest *r)
{
    if (G_UNLIKELY(r->window != NULL))
        sched_window_release_all(s->pool, r, s->cfg.kv_groups_sliding);
    r->spec_pending = r->spec_scheduled = 0;
    if (s->cfg.enable_prefix_caching) {
        /* Its full blocks of its own tokens were not recorded when they
         * filled (only the request itself can find them again, and only
         * once it has given them back): record them now, so that it finds
         * them when it is admitted again unless they were evicted meanwhile.
         * Blocks it found this way keep their record. */
        const uint32_t bs = s->cfg.block_size;
        for (uint32_t i = 0; i < r->num_hashed_blocks; i++)
            if (block_key(r, i, bs) == KEY_OWN)
                sched_kv_pool_cache(s->pool, r->blocks[i], key_hash(r, KEY_OWN, i), FALSE);
    }
    sched_kv_pool_release(s->pool, r->blocks, r->num_blocks);
    r->num_prev_blocks = r->num_blocks;
    r->num_blocks = 0;
    r->num_hashed_blocks = 0;
    r->alloc_limit = 0;
    r->num_computed = 0;
    r->num_preemptions++;
    r->status = SCHED_PREEMPTED;
    s->num_preemptions++;
    sched_waiting_push_front(s, r);
}

/* The batch entry of a scheduled request (n = scheduled_tokens). */
static inline void batch_push_request(BatchDesc *b, const SchedRequest *r)
{
    uint32_t n = r->scheduled_tokens, cached = r->num_computed - n;
    if (G_UNLIKELY(r->spec_scheduled > 0))
        batch_desc_push_spec(b, r->spec_scheduled, cached);
    else
        batch_desc_push(b, n, cached, r->num_computed >= sched_request_num_tokens(r));
}

/* Speculative decoding: the drafts of `r` that fit in this step. */
static G_NO_INLINE void step_add_spec(SchedScheduler *s, SchedRequest *r)
{
    uint32_t want = sched_request_num_tokens(r);
    r->spec_scheduled = r->num_computed > want ? (uint16_t)(r->num_computed - want) : 0;
    batch_push_request(&s->step.batch, r);
}

/* Adds a request to the step; `spec` (a constant where it is inlined):
 * speculative decoding is on, so it may carry drafts. */
static G_ALWAYS_INLINE inline void step_add_as(SchedScheduler *s, SchedRequest *r, uint32_t n, const gboolean spec)
{
    uint32_t cached = r->num_computed;
    r->num_computed += n;
    r->scheduled_tokens = n;
    r->step_flags = 0;
    s->step.reqs[s->step.num_reqs++] = r;
    if (spec && r->spec_pending > 0) {
        step_add_spec(s, r);
        return;
    }
    batch_desc_push(&s->step.batch, n, cached, r->num_computed >= sched_request_num_tokens(r));
}

static void step_add(SchedScheduler *s, SchedRequest *r, uint32_t n)
{
    step_add_as(s, r, n, s->cfg.num_spec_tokens > 0);
}

/* Priority policy: takes a request scheduled earlier in this step out of it
 * again (a preemption victim), rebuilding the batch of the others. */
static void step_remove(SchedScheduler *s, SchedRequest *victim)
{
    SchedStep *st = &s->step;
    uint32_t w = 0;
    for (uint32_t k = 0; k < st->num_reqs; k++)
        if (st->reqs[k] != victim)
            st->reqs[w++] = st->reqs[k];
    st->num_reqs = w;
    batch_desc_clear(&st->batch);
    for (uint32_t k = 0; k < w; k++)
        batch_push_request(&st->batch, st->reqs[k]);
    victim->scheduled_tokens = 0;
    victim->spec_scheduled = 0;
}

/* The preemption victim: the most recently admitted running request, or
 * under the priority policy the one of the lowest priority (largest value,
 * then the latest arrival), as vLLM's max(running, key=(priority,
 * arrival_time)). */
static inline uint32_t victim_index(const SchedScheduler *s)
{
    uint32_t v = s->num_running - 1;
    if (G_UNLIKELY(s->heap != NULL))
        for (uint32_t k = 0; k < s->num_running; k++)
            if (prio_before(s->running[v], s->running[k]))
                v = k;
    return v;
}

static inline uint32_t cap_tokens(const SchedScheduler *s, const SchedRequest *r, uint32_t computed,
                                  uint32_t budget)
{
    uint32_t n = sched_request_num_tokens(r) + r->spec_pending - computed;
    uint32_t thr = s->cfg.long_prefill_token_threshold;
    if (thr > 0 && n > thr)
        n = thr;
    if (n > budget)
        n = budget;
    uint32_t room = s->cfg.max_model_len - 1 > computed ? s->cfg.max_model_len - 1 - computed : 0;
    return MIN(n, room);
}

/* ---------------------------------------------------------------- a step -- */

/* LoRA: the adapters of the requests scheduled so far in this step. */
static void lora_collect(SchedScheduler *s)
{
    s->num_step_loras = 0;
    for (uint32_t k = 0; k < s->step.num_reqs; k++) {
        uint32_t id = s->step.reqs[k]->lora_id;
        if (!id)
            continue;
        uint32_t j = 0;
        while (j < s->num_step_loras && s->step_loras[j] != id)
            j++;
        if (j == s->num_step_loras && s->num_step_loras < s->cfg.max_loras)
            s->step_loras[s->num_step_loras++] = id;
    }
}

/* LoRA: whether a request of adapter `id` may join the step (vLLM: not
 * when max_loras other adapters are in it already); adds it. */
static gboolean lora_admit(SchedScheduler *s, uint32_t id)
{
    for (uint32_t j = 0; j < s->num_step_loras; j++)
        if (s->step_loras[j] == id)
            return TRUE;
    if (s->num_step_loras == s->cfg.max_loras)
        return FALSE;
    s->step_loras[s->num_step_loras++] = id;
    return TRUE;
}

static void skip_waiting(SchedScheduler *s, uint32_t *num_skipped)
{
    if (*num_skipped == s->skipped_cap) {
        s->skipped_cap = MAX(16u, s->skipped_cap * 2);
        s->skipped = g_renew(SchedRequest *, s->skipped, s->skipped_cap);
    }
    s->skipped[(*num_skipped)++] = sched_waiting_pop_front(s);
}

/* LoRA: the step's adapter tokens, adapters, and the copies that make them resident. */
static void lora_step(SchedScheduler *s, SchedStep *st)
{
    lora_collect(s);
    uint64_t tokens = 0;
    for (uint32_t k = 0; k < st->num_reqs; k++)
        if (st->reqs[k]->lora_id)
            tokens += st->reqs[k]->scheduled_tokens;
    uint32_t loads = 0, disk = 0;
    sched_lora_activate(s->lora, s->step_loras, s->num_step_loras, &loads, &disk);
    st->batch.lora_tokens = tokens;
    st->batch.lora_adapters = s->num_step_loras;
    st->batch.lora_loads = loads;
    st->batch.lora_disk_loads = disk;
    s->stats.lora_loads += loads;
    s->stats.lora_disk_loads += disk;
}

/* The running requests of a step, in admission order (vLLM's first loop);
 * returns the budget left. `spec` is a constant where it is inlined: the
 * loop without speculative decoding is the plain one. */
static G_ALWAYS_INLINE inline uint32_t schedule_running(SchedScheduler *s, SchedStep *st, uint32_t budget,
                                                         const gboolean spec, const gboolean prio)
{
    const uint32_t lookahead = spec ? s->cfg.num_lookahead_tokens : 0;
    /* no option changes allocation: the allocator of a scheduler without them, inlined */
    const gboolean plain = !spec && !prio && s->cfg.kv_groups_sliding == 0 && s->cpu == NULL;
    /* Without drafts, a decode that needs no new block (most of them) takes
     * the fast path: its entry is written here and the batch totals are kept
     * in locals, added after the loop (step_remove rebuilds the totals from
     * every entry, so they start again from zero then) */
    uint32_t i = 0;
    uint32_t k = 0;                /* st->num_reqs while on the fast path */
    uint32_t fast = 0;             /* entries written by the fast path, not yet in the totals */
    uint64_t fast_kv = 0;          /* their cached_tokens + 1 */
    uint32_t fast_kv_max = 0;
    SchedRequest **reqs = st->reqs;
    BatchEntry *entries = st->batch.entries;
    BatchDesc *b = &st->batch;
    while (i < s->num_running && budget > 0) {
        SchedRequest *r = s->running[i];
        /* a decode takes one token: within the budget (> 0), the threshold
         * (0 or >= 1) and max_model_len (requests that could pass it are
         * rejected at arrival), so no cap applies */
        uint32_t computed = r->num_computed;
        uint32_t n = sched_request_num_tokens(r) + (spec ? r->spec_pending : 0) - computed;
        if (!spec && n == 1 && computed + 1 <= r->alloc_limit) {
            /* step_add + batch_desc_push for one token, which always
             * reaches the request's tokens and so samples one */
            r->num_computed = computed + 1;
            r->scheduled_tokens = 1;
            r->step_flags = 0;
            reqs[k] = r;
            entries[k] = (BatchEntry){.new_tokens = 1, .cached_tokens = computed, .emits_token = true};
            k++;
            fast++;
            fast_kv += (uint64_t)computed + 1;
            if (computed + 1 > fast_kv_max)
                fast_kv_max = computed + 1;
            budget--;
            i++;
            continue;
        }
        st->num_reqs = k;
        b->num_entries = k;
        if (n != 1)
            n = cap_tokens(s, r, r->num_computed, budget);
        if (n == 0) {
            i++;
            continue;
        }
        gboolean scheduled = TRUE;
        /* most decode steps need no block and fill none: skip the allocator */
        gboolean fits = r->num_computed + n + lookahead <= r->alloc_limit;
        while (!fits && !(plain ? allocate_slots_as(s, r, NULL, 0, 0, n, 0, TRUE, FALSE)
                                : allocate_slots(s, r, NULL, 0, 0, n, lookahead))) {
            if (!prio) { /* FCFS: the most recently admitted request */
                SchedRequest *victim = s->running[--s->num_running];
                preempt(s, victim);
                st->num_preempted++;
                if (victim == r) {
                    scheduled = FALSE;
                    break;
                }
                continue;
            }
            uint32_t v = victim_index(s);
            SchedRequest *victim = s->running[v];
            if (G_LIKELY(v == s->num_running - 1)) {
                s->num_running--;
            } else {
                memmove(s->running + v, s->running + v + 1, (s->num_running - v - 1) * sizeof *s->running);
                s->num_running--;
                if (v < i) { /* scheduled earlier in this step: vLLM gives its tokens back */
                    budget += victim->scheduled_tokens;
                    step_remove(s, victim); /* the totals again from every entry, the fast ones too */
                    fast = 0;
                    fast_kv = 0;
                    fast_kv_max = 0;
                    i--;
                }
            }
            preempt(s, victim);
            st->num_preempted++;
            if (victim == r) {
                scheduled = FALSE;
                break;
            }
        }
        if (prio)
            k = st->num_reqs; /* step_remove may have taken one out */
        if (!scheduled)
            break;
        step_add_as(s, r, n, spec);
        k = st->num_reqs;
        budget -= n;
        i++;
    }
    st->num_reqs = k;
    b->num_entries = k;
    if (!spec) {
        b->total_tokens += fast;
        b->num_decode += fast;
        b->num_sampled += fast;
        b->decode_kv_tokens += fast_kv;
        if (fast_kv_max > b->decode_kv_max)
            b->decode_kv_max = fast_kv_max;
    }
    return budget;
}

const SchedStep *sched_schedule(SchedScheduler *s)
{
    SchedStep *st = &s->step;
    st->num_reqs = 0;
    st->num_preempted = 0;
    st->num_admitted = 0;
    batch_desc_clear(&st->batch);
    uint32_t budget = s->cfg.max_num_batched_tokens;

    /* running requests, in admission order */
    if (G_UNLIKELY(s->cfg.num_spec_tokens > 0))
        budget = schedule_running(s, st, budget, TRUE, TRUE);
    else if (G_UNLIKELY(s->heap != NULL))
        budget = schedule_running(s, st, budget, FALSE, TRUE);
    else
        budget = schedule_running(s, st, budget, FALSE, FALSE);
    if (G_UNLIKELY(s->lora != NULL))
        lora_collect(s);

    /* waiting requests, FCFS (or by priority), only in a step without preemption */
    st->num_remote_admitted = 0;
    if (st->num_preempted == 0) {
        const uint32_t bs = s->cfg.block_size;
        const gboolean plain = s->cfg.kv_groups_sliding == 0 && s->cpu == NULL; /* no loaded blocks then */
        uint32_t num_skipped = 0;
        SchedRequest *r;
        while ((r = next_waiting(s)) && budget > 0 && s->num_running < s->cfg.max_num_seqs) {
            if (G_UNLIKELY(r->kv_flags & SCHED_KV_REMOTE) && r->num_computed == 0 && !r->ever_scheduled) {
                /* its KV comes from elsewhere: the prompt's blocks now (less a
                 * local hit), no token budget; it waits for the transfer */
                uint32_t hits = find_prefix_hits(s, r);
                uint32_t load = r->prompt_tokens - hits * bs;
                if ((s->cfg.reserve_full_isl && !full_sequence_fits(s, r, hits, 0)) ||
                    !allocate_slots_as(s, r, s->hit_blocks, hits, 0, load, 0, FALSE, TRUE))
                    break;
                pop_waiting(s);
                r->ever_scheduled = TRUE;
                r->num_cached_tokens = hits * bs;
                s->prefix_hit_tokens += r->num_cached_tokens;
                s->prefix_query_tokens += r->prompt_tokens;
                r->status = SCHED_WAITING_FOR_REMOTE_KV;
                g_ptr_array_add(s->remote, r);
                g_ptr_array_add(s->remote_admitted, r);
                continue;
            }
            const gboolean is_loaded = (r->kv_flags & SCHED_KV_LOADED) != 0;
            if (G_UNLIKELY(s->lora != NULL) && r->lora_id && !lora_admit(s, r->lora_id)) {
                if (is_loaded) /* the loaded requests keep their order: it waits at their head */
                    break;
                skip_waiting(s, &num_skipped); /* its adapter would exceed max_loras: it waits */
                continue;
            }
            uint32_t hits = r->num_computed == 0 ? find_prefix_hits(s, r) : 0;
            uint32_t loaded = G_UNLIKELY(s->cpu != NULL) && r->num_computed == 0 ? find_cpu_hits(s, r, hits) : 0;
            uint32_t computed = r->num_computed + (hits + loaded) * bs;
            uint32_t n = cap_tokens(s, r, computed, budget);
            if (n == 0 || (s->cfg.reserve_full_isl && !full_sequence_fits(s, r, hits, loaded)) ||
                !(plain ? allocate_slots_as(s, r, s->hit_blocks, hits, 0, n, 0, TRUE, FALSE)
                        : allocate_slots(s, r, s->hit_blocks, hits, loaded, n, 0))) {
                if (G_UNLIKELY(s->lora != NULL))
                    lora_collect(s); /* it did not join */
                break;
            }
            pop_waiting(s);
            r->num_prev_blocks = 0;
            r->num_computed = computed;
            if (G_UNLIKELY(loaded > 0)) {
                touch_cpu_hits(s, r, hits, loaded);
                st->batch.kv_load_tokens += (uint64_t)loaded * bs;
                s->stats.offload_hit_tokens += (uint64_t)loaded * bs;
            }
            if (!r->ever_scheduled) {
                r->ever_scheduled = TRUE;
                r->num_cached_tokens = computed;
            }
            if (G_UNLIKELY(is_loaded)) {
                r->kv_flags &= (uint8_t)~SCHED_KV_LOADED; /* its prompt was looked up when it was admitted to load */
            } else {
                s->prefix_hit_tokens += computed - loaded * bs;
                s->prefix_query_tokens += sched_request_num_tokens(r);
            }
            r->status = SCHED_RUNNING;
            s->running[s->num_running++] = r;
            step_add(s, r, n);
            st->num_admitted++;
            budget -= n;
        }
        /* the requests set aside go back to the head, in their order */
        for (uint32_t k = num_skipped; k-- > 0;)
            sched_waiting_push_front(s, s->skipped[k]);
    }
    st->num_remote_admitted = s->remote_admitted->len;
    if (G_UNLIKELY(st->num_remote_admitted > 0)) {
        st->remote_admitted = (SchedRequest **)s->remote_admitted->pdata;
        g_ptr_array_set_size(s->remote_admitted, 0); /* pdata stays valid until the next step's first add */
    }
    if (G_UNLIKELY(s->lora != NULL))
        lora_step(s, st);
    s->last_step_tokens = st->batch.total_tokens;
    return st;
}
