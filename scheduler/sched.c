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
 *
 * Data structures: the running list is an array in admission order (at most
 * max_num_seqs); the waiting queue is a ring buffer (preempted requests go to
 * its front). Cost per step: O(running + admitted + blocks touched).
 */
#include "sched.h"

#include <string.h>

#include "sched_kv.h"
#include "ss_error.h"

struct SchedScheduler {
    SchedConfig cfg;
    SchedKvPool *pool;

    SchedRequest **running;   /* admission order */
    uint32_t num_running;

    SchedRequest **waiting;   /* ring buffer */
    uint32_t wait_head;
    uint32_t wait_len;
    uint32_t wait_cap;

    SchedStep step;
    uint32_t *hit_blocks;     /* scratch: prefix-cache hits of one request */
    uint32_t hit_cap;

    /* block-id arrays of finished requests, for the next ones (at most max_num_seqs) */
    uint32_t **spare;
    uint32_t *spare_cap;
    uint32_t num_spare;

    uint64_t num_preemptions;
    uint64_t prefix_hit_tokens;
    uint64_t prefix_query_tokens;
    uint64_t last_step_tokens;
};

/* -------------------------------------------------------------- requests -- */

void sched_request_init(SchedRequest *r, uint64_t id, uint32_t prompt_tokens,
                        uint32_t max_output_tokens, uint32_t prefix_group,
                        uint32_t shared_prefix_tokens)
{
    memset(r, 0, sizeof *r);
    r->id = id;
    r->prompt_tokens = prompt_tokens;
    r->max_output_tokens = max_output_tokens;
    r->prefix_group = prefix_group;
    r->shared_prefix_tokens = prefix_group ? MIN(shared_prefix_tokens, prompt_tokens) : 0;
    r->own_hash_seed = sched_kv_hash_seed(2, id);
    r->status = SCHED_WAITING;
}

void sched_request_release(SchedRequest *r)
{
    g_free(r->blocks);
    r->blocks = NULL;
    r->num_blocks = r->cap_blocks = r->num_hashed_blocks = 0;
}

void sched_request_set_session(SchedRequest *r, uint64_t session_id, uint32_t prefix_tokens,
                               uint32_t branch, uint32_t prefix_branch)
{
    g_assert(r->status == SCHED_WAITING && !r->ever_scheduled);
    r->session_id = session_id;
    r->session_prefix_tokens = session_id ? MIN(prefix_tokens, r->prompt_tokens) : 0;
    r->session_branch = session_id ? branch : 0;
    r->session_prefix_branch = r->session_prefix_tokens ? prefix_branch : r->session_branch;
}

/*
 * Block keys. Which name a block of a request goes by (sched.h gives the
 * rule): a prefix group's, a session's on the branch of the previous turn
 * (inside the session prefix) or on its own branch (past it), or the
 * request's own. Group, session and session-prefix blocks are entered in the
 * pool's map, where any request can find them; a request's own blocks are
 * not (only it can find them again, where it left them).
 *
 * Why a later turn never hits a block holding other tokens. Name the tokens
 * of a session's branch b at position p: the branch is written by one turn
 * and then extended by the turns that continue it, each of which keeps all
 * the tokens that had KV before it, so branch b has one token at p whoever
 * wrote it. A block is registered only once full, under the name of the
 * branch its tokens belong to: the previous turn's branch inside the
 * session prefix (those tokens are the previous turn's), the turn's own
 * branch past it. The block that straddles the end of the session prefix
 * holds tokens of the new turn, so it goes by the new turn's branch: when
 * that branch is the previous turn's (a continuing turn), the previous
 * turn never had a full block there (its tokens with KV end before the
 * prefix does; a partial block is never registered), nor did any earlier
 * turn on the branch; when it is a new branch, nobody used the name
 * before. A lookup walks the blocks from the first and stops at the first
 * miss, so a block past a block of other tokens is never reached either.
 * A branch-starting turn also gives the blocks of its session prefix its
 * own branch's name (a second key in the pool): they hold the same tokens
 * on both branches, and the next turn looks its whole prefix up on this
 * turn's branch. A block keeps one second key: a later branch-starting
 * turn renames it, and a turn of the older branch coming back after a
 * preemption then misses it and computes it again (never a wrong hit). A
 * block both in a group prefix and in the session prefix goes by the
 * group's name, and is looked up under the session-prefix name when the
 * group's misses (an earlier turn may have computed it before the data
 * called it the group's): both names denote its tokens.
 */
typedef enum { KEY_OWN = 0, KEY_GROUP, KEY_SESSION_PREFIX, KEY_SESSION } BlockKey;

static inline BlockKey block_key(const SchedRequest *r, uint32_t index, uint32_t block_size)
{
    uint64_t end = (uint64_t)(index + 1) * block_size;
    if (r->prefix_group && end <= r->shared_prefix_tokens)
        return KEY_GROUP;
    if (r->session_id)
        return end <= r->session_prefix_tokens ? KEY_SESSION_PREFIX : KEY_SESSION;
    return KEY_OWN;
}

/* Whether block `index` lies wholly in the session prefix (whatever its key:
 * a group prefix inside it takes precedence for the key). */
static inline gboolean in_session_prefix(const SchedRequest *r, uint32_t index, uint32_t block_size)
{
    return (uint64_t)(index + 1) * block_size <= r->session_prefix_tokens;
}

static inline uint64_t key_hash(const SchedRequest *r, BlockKey key, uint32_t index)
{
    switch (key) {
    case KEY_GROUP:
        return sched_kv_block_hash(1, r->prefix_group, index);
    case KEY_SESSION_PREFIX:
        return sched_kv_session_block_hash(r->session_id, r->session_prefix_branch, index);
    case KEY_SESSION:
        return sched_kv_session_block_hash(r->session_id, r->session_branch, index);
    case KEY_OWN:
        break;
    }
    return sched_kv_hash_block(r->own_hash_seed, index); /* = sched_kv_block_hash(2, r->id, index) */
}

uint64_t sched_request_block_hash(const SchedRequest *r, uint32_t index, uint32_t block_size)
{
    g_return_val_if_fail(block_size > 0, 0);
    return key_hash(r, block_key(r, index, block_size), index);
}

/* Whether a request starts a new branch of its session (and so gives the
 * blocks of its session prefix a second name). */
static inline gboolean starts_branch(const SchedRequest *r)
{
    return r->session_branch != r->session_prefix_branch;
}

/* ---------------------------------------------------------------- config -- */

gboolean sched_config_validate(const SchedConfig *c, GError **error)
{
    struct {
        const char *flag;
        uint32_t value;
    } positive[] = {
        {"--max-num-seqs", c->max_num_seqs},
        {"--max-num-batched-tokens", c->max_num_batched_tokens},
        {"--max-model-len", c->max_model_len},
        {"--block-size", c->block_size},
        {"--num-gpu-blocks", c->num_gpu_blocks},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(positive); i++)
        if (positive[i].value == 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s must be a positive integer, got 0",
                        positive[i].flag);
            return FALSE;
        }
    if (c->max_num_batched_tokens < c->max_num_seqs) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--max-num-batched-tokens (%u) must be >= --max-num-seqs (%u), as vLLM requires",
                    c->max_num_batched_tokens, c->max_num_seqs);
        return FALSE;
    }
    if (c->num_gpu_blocks < 2) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "the KV cache needs at least 2 blocks (one is reserved), got %u", c->num_gpu_blocks);
        return FALSE;
    }
    if (c->max_model_len < 2) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--max-model-len must be at least 2 (one prompt and one output token), got %u",
                    c->max_model_len);
        return FALSE;
    }
    return TRUE;
}

const char *sched_fit_reason(SchedFit f)
{
    switch (f) {
    case SCHED_FITS:
        return "fits";
    case SCHED_REJECT_TOO_LONG:
        return "prompt + output longer than max_model_len";
    case SCHED_REJECT_NO_BLOCKS:
        return "needs more KV blocks than the cache has";
    }
    return "unknown";
}

/* ------------------------------------------------------------- lifecycle -- */

SchedScheduler *sched_new(const SchedConfig *cfg, GError **error)
{
    if (!sched_config_validate(cfg, error))
        return NULL;
    SchedScheduler *s = g_new0(SchedScheduler, 1);
    s->cfg = *cfg;
    /* vLLM's block pool reserves one block (the null block) */
    s->pool = sched_kv_pool_new(cfg->num_gpu_blocks - 1, cfg->block_size, cfg->enable_prefix_caching);
    s->running = g_new(SchedRequest *, cfg->max_num_seqs);
    s->wait_cap = 1024;
    s->waiting = g_new(SchedRequest *, s->wait_cap);
    s->step.reqs = g_new(SchedRequest *, cfg->max_num_seqs);
    s->spare = g_new(uint32_t *, cfg->max_num_seqs);
    s->spare_cap = g_new(uint32_t, cfg->max_num_seqs);
    if (!batch_desc_reserve(&s->step.batch, cfg->max_num_seqs)) {
        sched_free(s);
        g_set_error(error, SS_ERROR, SS_ERROR_SIM, "out of memory for %u batch entries", cfg->max_num_seqs);
        return NULL;
    }
    return s;
}

void sched_free(SchedScheduler *s)
{
    if (!s)
        return;
    sched_kv_pool_free(s->pool);
    g_free(s->running);
    g_free(s->waiting);
    g_free(s->step.reqs);
    for (uint32_t i = 0; i < s->num_spare; i++)
        g_free(s->spare[i]);
    g_free(s->spare);
    g_free(s->spare_cap);
    batch_desc_release(&s->step.batch);
    g_free(s->hit_blocks);
    g_free(s);
}

SchedFit sched_check_fit(const SchedScheduler *s, uint32_t prompt_tokens, uint32_t output_tokens)
{
    uint64_t total = (uint64_t)prompt_tokens + output_tokens;
    if (total > s->cfg.max_model_len)
        return SCHED_REJECT_TOO_LONG;
    /* the last sampled token never needs a KV slot */
    uint64_t kv_tokens = total - 1;
    uint64_t blocks = (kv_tokens + s->cfg.block_size - 1) / s->cfg.block_size;
    if (blocks > sched_kv_pool_num_blocks(s->pool))
        return SCHED_REJECT_NO_BLOCKS;
    return SCHED_FITS;
}

/* --------------------------------------------------------- waiting queue -- */

static void waiting_grow(SchedScheduler *s)
{
    uint32_t cap = s->wait_cap * 2;
    SchedRequest **w = g_new(SchedRequest *, cap);
    for (uint32_t i = 0; i < s->wait_len; i++)
        w[i] = s->waiting[(s->wait_head + i) % s->wait_cap];
    g_free(s->waiting);
    s->waiting = w;
    s->wait_cap = cap;
    s->wait_head = 0;
}

static void waiting_push_back(SchedScheduler *s, SchedRequest *r)
{
    if (s->wait_len == s->wait_cap)
        waiting_grow(s);
    s->waiting[(s->wait_head + s->wait_len) % s->wait_cap] = r;
    s->wait_len++;
}

static void waiting_push_front(SchedScheduler *s, SchedRequest *r)
{
    if (s->wait_len == s->wait_cap)
        waiting_grow(s);
    s->wait_head = (s->wait_head + s->wait_cap - 1) % s->wait_cap;
    s->waiting[s->wait_head] = r;
    s->wait_len++;
}

static SchedRequest *waiting_pop_front(SchedScheduler *s)
{
    SchedRequest *r = s->waiting[s->wait_head];
    s->wait_head = (s->wait_head + 1) % s->wait_cap;
    s->wait_len--;
    return r;
}

void sched_add_request(SchedScheduler *s, SchedRequest *r)
{
    g_assert(r->status == SCHED_WAITING && r->num_computed == 0 && r->num_blocks == 0);
    waiting_push_back(s, r);
}

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

static inline void update_alloc_limit(const SchedScheduler *s, SchedRequest *r)
{
    uint32_t limit = r->num_blocks * s->cfg.block_size;
    if (s->cfg.enable_prefix_caching) {
        uint32_t hashed_end = (r->num_hashed_blocks + 1) * s->cfg.block_size - 1;
        if (hashed_end < limit)
            limit = hashed_end;
    }
    r->alloc_limit = limit;
}

/* vLLM's allocate_slots(): gives `r` blocks for `num_computed + n` tokens
 * after taking `num_hits` cached blocks. Fails (changing nothing) when the
 * new blocks plus the hit blocks that sit on the free list exceed the free
 * blocks. On success registers the hashes of the blocks that become full. */
static gboolean allocate_slots(SchedScheduler *s, SchedRequest *r, const uint32_t *hits,
                               uint32_t num_hits, uint32_t n)
{
    const uint32_t bs = s->cfg.block_size;
    uint32_t computed = r->num_computed + num_hits * bs;
    uint32_t total = computed + n;
    uint32_t required = (total + bs - 1) / bs;
    uint32_t have = r->num_blocks + num_hits;
    uint32_t new_blocks = required > have ? required - have : 0;
    uint32_t evictable_hits = 0;
    for (uint32_t k = 0; k < num_hits; k++)
        if (sched_kv_pool_is_free(s->pool, hits[k]))
            evictable_hits++;
    if ((uint64_t)new_blocks + evictable_hits > sched_kv_pool_num_free(s->pool))
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

    if (s->cfg.enable_prefix_caching) {
        uint32_t full = total / bs;
        for (uint32_t i = r->num_hashed_blocks; i < full; i++) { /* full now: register */
            BlockKey key = block_key(r, i, bs);
            sched_kv_pool_cache(s->pool, r->blocks[i], key_hash(r, key, i), key != KEY_OWN);
            if (key != KEY_OWN && G_UNLIKELY(starts_branch(r)) && in_session_prefix(r, i, bs))
                sched_kv_pool_alias(s->pool, r->blocks[i], key_hash(r, KEY_SESSION, i));
        }
        if (full > r->num_hashed_blocks)
            r->num_hashed_blocks = full;
    }
    update_alloc_limit(s, r);
    return TRUE;
}

/* vLLM's scheduler_reserve_full_isl admission gate (allocate_slots with
 * full_sequence_must_fit, vllm/v1/core/kv_cache_manager.py): the blocks of
 * the request's whole sequence so far (prompt, plus output when resumed),
 * capped at max_model_len, less the prefix hits, plus the hit blocks that
 * sit on the free list, must all be free now. */
static gboolean full_sequence_fits(const SchedScheduler *s, const SchedRequest *r, uint32_t num_hits)
{
    const uint32_t bs = s->cfg.block_size;
    uint32_t tokens = MIN(sched_request_num_tokens(r), s->cfg.max_model_len);
    uint32_t required = (tokens + bs - 1) / bs;
    uint32_t have = r->num_blocks + num_hits;
    uint32_t new_blocks = required > have ? required - have : 0;
    uint32_t evictable_hits = 0;
    for (uint32_t k = 0; k < num_hits; k++)
        if (sched_kv_pool_is_free(s->pool, s->hit_blocks[k]))
            evictable_hits++;
    return (uint64_t)new_blocks + evictable_hits <= sched_kv_pool_num_free(s->pool);
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

static void preempt(SchedScheduler *s, SchedRequest *r)
{
    sched_kv_pool_release(s->pool, r->blocks, r->num_blocks);
    r->num_prev_blocks = r->num_blocks;
    r->num_blocks = 0;
    r->num_hashed_blocks = 0;
    r->alloc_limit = 0;
    r->num_computed = 0;
    r->num_preemptions++;
    r->status = SCHED_PREEMPTED;
    s->num_preemptions++;
    waiting_push_front(s, r);
}

static void step_add(SchedScheduler *s, SchedRequest *r, uint32_t n)
{
    uint32_t cached = r->num_computed;
    r->num_computed += n;
    r->scheduled_tokens = n;
    r->step_flags = 0;
    s->step.reqs[s->step.num_reqs++] = r;
    batch_desc_push(&s->step.batch, n, cached, r->num_computed >= sched_request_num_tokens(r));
}

static inline uint32_t cap_tokens(const SchedScheduler *s, const SchedRequest *r, uint32_t computed,
                                  uint32_t budget)
{
    uint32_t n = sched_request_num_tokens(r) - computed;
    uint32_t thr = s->cfg.long_prefill_token_threshold;
    if (thr > 0 && n > thr)
        n = thr;
    if (n > budget)
        n = budget;
    uint32_t room = s->cfg.max_model_len - 1 > computed ? s->cfg.max_model_len - 1 - computed : 0;
    return MIN(n, room);
}

/* ---------------------------------------------------------------- a step -- */

const SchedStep *sched_schedule(SchedScheduler *s)
{
    SchedStep *st = &s->step;
    st->num_reqs = 0;
    st->num_preempted = 0;
    st->num_admitted = 0;
    batch_desc_clear(&st->batch);
    uint32_t budget = s->cfg.max_num_batched_tokens;

    /* running requests, in admission order. A decode that needs no new
     * block (most of them) takes the fast path: its entry is written here
     * and the batch totals are kept in locals, added once after the loop */
    uint32_t i = 0;
    uint32_t k = 0;                /* st->num_reqs while on the fast path */
    uint32_t fast = 0;             /* entries written by the fast path */
    uint64_t fast_kv = 0;          /* their cached_tokens + 1 */
    uint32_t fast_kv_max = 0;
    SchedRequest **reqs = st->reqs;
    BatchEntry *entries = st->batch.entries;
    while (i < s->num_running && budget > 0) {
        SchedRequest *r = s->running[i];
        /* a decode takes one token: within the budget (> 0), the threshold
         * (0 or >= 1) and max_model_len (requests that could pass it are
         * rejected at arrival), so no cap applies */
        uint32_t computed = r->num_computed;
        uint32_t n = sched_request_num_tokens(r) - computed;
        if (n == 1 && computed + 1 <= r->alloc_limit) {
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
        st->batch.num_entries = k;
        if (n != 1)
            n = cap_tokens(s, r, r->num_computed, budget);
        if (n == 0) {
            i++;
            continue;
        }
        gboolean scheduled = TRUE;
        /* most decode steps need no block and fill none: skip the allocator */
        gboolean fits = r->num_computed + n <= r->alloc_limit;
        while (!fits && !allocate_slots(s, r, NULL, 0, n)) {
            SchedRequest *victim = s->running[--s->num_running];
            preempt(s, victim);
            st->num_preempted++;
            if (victim == r) {
                scheduled = FALSE;
                break;
            }
        }
        if (!scheduled)
            break;
        step_add(s, r, n);
        k = st->num_reqs;
        budget -= n;
        i++;
    }
    st->num_reqs = k;
    BatchDesc *b = &st->batch;
    b->num_entries = k;
    b->total_tokens += fast;
    b->num_decode += fast;
    b->num_sampled += fast;
    b->decode_kv_tokens += fast_kv;
    if (fast_kv_max > b->decode_kv_max)
        b->decode_kv_max = fast_kv_max;

    /* waiting requests, FCFS, only in a step without preemption */
    if (st->num_preempted == 0) {
        while (s->wait_len > 0 && budget > 0 && s->num_running < s->cfg.max_num_seqs) {
            SchedRequest *r = s->waiting[s->wait_head];
            uint32_t hits = r->num_computed == 0 ? find_prefix_hits(s, r) : 0;
            uint32_t computed = r->num_computed + hits * s->cfg.block_size;
            uint32_t n = cap_tokens(s, r, computed, budget);
            if (n == 0 || (s->cfg.reserve_full_isl && !full_sequence_fits(s, r, hits)) ||
                !allocate_slots(s, r, s->hit_blocks, hits, n))
                break;
            waiting_pop_front(s);
            r->num_prev_blocks = 0;
            r->num_computed = computed;
            if (!r->ever_scheduled) {
                r->ever_scheduled = TRUE;
                r->num_cached_tokens = computed;
            }
            s->prefix_hit_tokens += computed;
            s->prefix_query_tokens += sched_request_num_tokens(r);
            r->status = SCHED_RUNNING;
            s->running[s->num_running++] = r;
            step_add(s, r, n);
            st->num_admitted++;
            budget -= n;
        }
    }
    s->last_step_tokens = st->batch.total_tokens;
    return st;
}

void sched_finish_step(SchedScheduler *s)
{
    SchedStep *st = &s->step;
    gboolean any_finished = FALSE;
    for (uint32_t k = 0; k < st->num_reqs; k++) {
        SchedRequest *r = st->reqs[k];
        r->scheduled_tokens = 0;
        r->step_flags = 0;
        if (r->num_computed < sched_request_num_tokens(r))
            continue; /* a prefill chunk that has not reached the end of the prompt */
        r->num_output++;
        r->step_flags = SCHED_EMITTED | (r->num_output == 1 ? SCHED_FIRST : 0);
        if (r->num_output >= r->max_output_tokens) {
            r->step_flags |= SCHED_FINISHED_NOW;
            sched_kv_pool_release(s->pool, r->blocks, r->num_blocks);
            r->num_blocks = 0;
            r->alloc_limit = 0;
            r->status = SCHED_FINISHED;
            any_finished = TRUE;
        }
    }
    if (any_finished) { /* drop finished requests, keeping admission order */
        uint32_t w = 0;
        for (uint32_t k = 0; k < s->num_running; k++)
            if (s->running[k]->status != SCHED_FINISHED)
                s->running[w++] = s->running[k];
        s->num_running = w;
    }
}

void sched_request_recycle(SchedScheduler *s, SchedRequest *r)
{
    g_assert(r->status == SCHED_FINISHED || (r->status == SCHED_WAITING && r->num_blocks == 0));
    if (r->blocks && s->num_spare < s->cfg.max_num_seqs) {
        s->spare[s->num_spare] = r->blocks;
        s->spare_cap[s->num_spare++] = r->cap_blocks;
        r->blocks = NULL;
    }
    sched_request_release(r);
}

/* -------------------------------------------------------------- queries -- */

const SchedStep *sched_last_step(const SchedScheduler *s) { return &s->step; }
uint32_t sched_num_running(const SchedScheduler *s) { return s->num_running; }
uint32_t sched_num_waiting(const SchedScheduler *s) { return s->wait_len; }
const SchedKvPool *sched_kv_pool(const SchedScheduler *s) { return s->pool; }
uint64_t sched_num_preemptions(const SchedScheduler *s) { return s->num_preemptions; }
uint64_t sched_prefix_hit_tokens(const SchedScheduler *s) { return s->prefix_hit_tokens; }
uint64_t sched_prefix_query_tokens(const SchedScheduler *s) { return s->prefix_query_tokens; }
const SchedConfig *sched_config(const SchedScheduler *s) { return &s->cfg; }

SchedRequest *sched_running_at(const SchedScheduler *s, uint32_t i)
{
    return i < s->num_running ? s->running[i] : NULL;
}

SchedRequest *sched_waiting_at(const SchedScheduler *s, uint32_t i)
{
    return i < s->wait_len ? s->waiting[(s->wait_head + i) % s->wait_cap] : NULL;
}

gboolean sched_check_invariants(const SchedScheduler *s, char **why)
{
    if (!sched_kv_pool_check(s->pool, why))
        return FALSE;
    const uint32_t bs = s->cfg.block_size;
    if (s->num_running > s->cfg.max_num_seqs) {
        *why = g_strdup_printf("%u running > max_num_seqs %u", s->num_running, s->cfg.max_num_seqs);
        return FALSE;
    }
    if (s->last_step_tokens > s->cfg.max_num_batched_tokens) {
        *why = g_strdup_printf("step of %" G_GUINT64_FORMAT " tokens > budget %u", s->last_step_tokens,
                               s->cfg.max_num_batched_tokens);
        return FALSE;
    }
    uint32_t nb = sched_kv_pool_num_blocks(s->pool);
    uint32_t *holders = g_new0(uint32_t, nb);
    gboolean ok = TRUE;
    for (uint32_t k = 0; k < s->num_running && ok; k++) {
        const SchedRequest *r = s->running[k];
        uint32_t want = (r->num_computed + bs - 1) / bs;
        if (r->status != SCHED_RUNNING) {
            *why = g_strdup_printf("request %" G_GUINT64_FORMAT " in the running list has status %u", r->id,
                                   r->status);
            ok = FALSE;
        } else if (r->num_blocks != want) {
            *why = g_strdup_printf("request %" G_GUINT64_FORMAT " holds %u blocks for %u tokens (want %u)",
                                   r->id, r->num_blocks, r->num_computed, want);
            ok = FALSE;
        } else if (r->num_computed > sched_request_num_tokens(r) ||
                   sched_request_num_tokens(r) > r->prompt_tokens + r->max_output_tokens) {
            *why = g_strdup_printf("request %" G_GUINT64_FORMAT ": computed %u, tokens %u, prompt %u + output %u",
                                   r->id, r->num_computed, sched_request_num_tokens(r), r->prompt_tokens,
                                   r->max_output_tokens);
            ok = FALSE;
        }
        for (uint32_t b = 0; ok && b < r->num_blocks; b++)
            holders[r->blocks[b]]++;
    }
    for (uint32_t k = 0; k < s->wait_len && ok; k++) {
        const SchedRequest *r = sched_waiting_at(s, k);
        if (r->num_blocks != 0 || r->num_computed != 0 ||
            (r->status != SCHED_WAITING && r->status != SCHED_PREEMPTED)) {
            *why = g_strdup_printf("waiting request %" G_GUINT64_FORMAT " holds %u blocks, %u computed, status %u",
                                   r->id, r->num_blocks, r->num_computed, r->status);
            ok = FALSE;
        }
    }
    for (uint32_t b = 0; b < nb && ok; b++)
        if (holders[b] != sched_kv_pool_ref_count(s->pool, b)) {
            *why = g_strdup_printf("block %u has %u holders but reference count %u", b, holders[b],
                                   sched_kv_pool_ref_count(s->pool, b));
            ok = FALSE;
        }
    g_free(holders);
    return ok;
}
