/*
 * sched.h: vLLM V1 batch formation and the paged KV-cache block pool.
 *
 * The scheduler reproduces vllm/v1/core/sched/scheduler.py as described in
 * docs/scheduler.md: a token budget per step (max_num_batched_tokens), a cap
 * on the running set (max_num_seqs), running requests first in admission
 * order, then waiting ones in FCFS order, chunked prefill, the long-prefill
 * threshold, preemption by recompute of the most recently admitted request
 * (which goes to the front of the waiting queue), no admission in a step that
 * preempted, and prefix caching over hashed full blocks with LRU eviction
 * (shared prefixes of a group, and the turns of multi-turn sessions).
 * Engine options (docs/options/), each off by default: priority scheduling
 * (vLLM's --scheduling-policy priority), speculative decoding (decodes carry
 * k draft tokens, accepted ones drawn per request: sched_spec.c), vLLM's
 * hybrid KV cache manager for sliding-window models (sched_window.c), a
 * host-memory KV tier (sched_offload.c) and LoRA adapters (sched_lora.c).
 *
 * It knows nothing of time or of step durations: sim/ calls
 * sched_schedule() to form a step (which fills a BatchDesc for the latency
 * model) and sched_finish_step() when the step's forward pass has ended.
 *
 * Cost: a step is O(running + admitted) plus O(1) per KV block allocated or
 * freed; no allocation per step once the buffers have grown to the running
 * set. Requests are owned by the caller; the scheduler only links them.
 */
#ifndef SCHED_H
#define SCHED_H

#include <glib.h>

#include "ss_types.h"

/* ------------------------------------------------------------ KV pool -- */

typedef struct SchedKvPool SchedKvPool;

/* A pool of `num_blocks` blocks of `block_size` tokens. With caching, full
 * blocks carry a content hash and stay findable after they are freed until
 * they are reused (LRU: the least recently freed block is reused first). */
SchedKvPool *sched_kv_pool_new(uint32_t num_blocks, uint32_t block_size, gboolean enable_caching);
void sched_kv_pool_free(SchedKvPool *pool);
uint32_t sched_kv_pool_num_blocks(const SchedKvPool *pool);
/* Blocks on the free list, including cached blocks that may be evicted. */
uint32_t sched_kv_pool_num_free(const SchedKvPool *pool);
/* Blocks referenced by at least one request (num_blocks - num_free). */
uint32_t sched_kv_pool_num_used(const SchedKvPool *pool);
/* Blocks on the free list that still hold a cached hash. */
uint32_t sched_kv_pool_num_cached_free(const SchedKvPool *pool);
/* Checks the pool's internal consistency (free list length and links,
 * reference counts, hash map entries point at blocks with that hash);
 * returns FALSE and a description in *why (g_free) when broken. O(blocks). */
gboolean sched_kv_pool_check(const SchedKvPool *pool, char **why);

/* ----------------------------------------------------------- requests -- */

typedef enum {
    SCHED_WAITING = 0,   /* never scheduled yet */
    SCHED_RUNNING,       /* in the running list */
    SCHED_PREEMPTED,     /* back in the waiting queue after a preemption */
    SCHED_FINISHED,      /* generated all its output; blocks freed (or held: SCHED_KV_HOLD) */
    SCHED_WAITING_FOR_REMOTE_KV, /* blocks allocated, its prompt's KV still arriving (vLLM's
                                    WAITING_FOR_REMOTE_KVS): not schedulable until
                                    sched_remote_kv_ready() */
} SchedStatus;

/* A request's KV-transfer role (SchedRequest.kv_flags), set before
 * sched_add_request; 0 for an ordinary request. */
#define SCHED_KV_REMOTE 0x1 /* its prompt's KV is computed elsewhere (a decode replica of a
                               disaggregated fleet): admission allocates the prompt's blocks and
                               it waits in SCHED_WAITING_FOR_REMOTE_KV */
#define SCHED_KV_HOLD 0x2   /* its blocks are kept when it finishes (a prefill replica keeps the
                               KV until the transfer ends): sched_release_held() frees them */
#define SCHED_KV_LOADED 0x4 /* (the scheduler's) its KV arrived; cleared at its admission */

/* A request as the scheduler sees it. Visible because the hot path reads it;
 * fields marked read-only are the scheduler's to change. The fields every
 * step reads and writes come first, together (32 bytes), so that a caller
 * who embeds the request in a cache-line-aligned record, after its own few
 * per-step fields, touches one cache line per request and step. */
typedef struct SchedRequest {
    /* every step: */
    uint32_t prompt_tokens;         /* >= 1 */
    uint32_t max_output_tokens;     /* >= 1: the request finishes after this many */
    /* read-only: */
    uint32_t num_computed;          /* tokens whose KV is computed (or scheduled this step) */
    uint32_t num_output;            /* tokens generated so far */
    uint32_t scheduled_tokens;      /* tokens of the current step (0 when not scheduled) */
    uint32_t alloc_limit;           /* computed tokens the request can reach without the
                                       allocator: the end of its last block, or (with prefix
                                       caching) the end of its first unregistered full block */
    uint8_t status;                 /* SchedStatus */
    uint8_t step_flags;             /* SCHED_EMITTED | ... after sched_finish_step */
    uint8_t ever_scheduled;         /* boolean */
    uint8_t kv_flags;               /* SCHED_KV_REMOTE | SCHED_KV_HOLD (the caller's, before it is added) */
    uint16_t spec_pending;          /* speculative decoding: draft tokens proposed for its next step */
    uint16_t spec_scheduled;        /* ... and scheduled in the current step */

    uint64_t id;                    /* unique; also seeds its block hashes */
    uint32_t prefix_group;          /* 0: none; requests of a group share their first ... */
    uint32_t shared_prefix_tokens;  /* ... shared_prefix_tokens prompt tokens */
    uint64_t session_id;            /* 0: none; turns of one conversation (see below) */
    uint32_t session_prefix_tokens; /* first prompt tokens that are the previous turn's tokens */
    uint32_t session_branch;        /* content branch of its tokens past that prefix */
    uint32_t session_prefix_branch; /* content branch of that prefix (the previous turn's) */
    int32_t priority;               /* --scheduling-policy priority: lower is served first (vLLM) */
    uint32_t lora_id;               /* LoRA adapter (0: the base model) */

    /* read-only: */
    uint32_t num_preemptions;
    uint32_t num_cached_tokens;     /* prefix-cache hit at first admission (SCHED_KV_REMOTE: the
                                       local hit; the rest of the prompt is loaded) */
    uint32_t num_blocks;
    uint32_t cap_blocks;
    uint32_t *blocks;               /* block ids, in token order */
    uint32_t num_hashed_blocks;     /* leading blocks registered in the prefix cache */
    uint32_t num_prev_blocks;       /* blocks held before its last preemption (their ids
                                       stay in `blocks` until it is admitted again) */
    uint64_t own_hash_seed;         /* the first half of its own blocks' hash (sched_kv_hash_seed) */
    struct SchedWindow *window;     /* sliding-window groups' blocks (NULL without them) */

    void *user;                     /* the caller's data */
} SchedRequest;

/* The blocks a request holds in the sliding-window groups of vLLM's hybrid
 * KV cache manager (sched_window.c): token blocks [first, first + rows) in
 * every group, a ring of rows of kv_groups_sliding block ids. Allocated
 * with the request's first sliding block. */
typedef struct SchedWindow {
    uint32_t *blocks;
    uint32_t first, rows, head, cap;
} SchedWindow;

static inline uint32_t sched_request_window_rows(const SchedRequest *r)
{
    return r->window ? r->window->rows : 0;
}

/* step_flags after sched_finish_step(): */
#define SCHED_EMITTED 0x1  /* the step produced a token for this request */
#define SCHED_FIRST 0x2    /* ... and it was its first token */
#define SCHED_FINISHED_NOW 0x4 /* ... and the request finished */

/* Fills the identity of a request; the rest is zeroed. */
void sched_request_init(SchedRequest *r, uint64_t id, uint32_t prompt_tokens,
                        uint32_t max_output_tokens, uint32_t prefix_group,
                        uint32_t shared_prefix_tokens);
/* Frees the block array of a finished or never-admitted request. */
void sched_request_release(SchedRequest *r);

/*
 * Sessions: the turns of a multi-turn conversation. A turn's prompt begins
 * with the previous turn's tokens (its prompt, then its output): the first
 * `prefix_tokens` of them, all or the part the new prompt kept. Its blocks
 * must then hit the blocks the earlier turns computed, prompt and output
 * alike, and never a block that holds other tokens.
 *
 * A session's tokens are named by (session, branch, block index). The first
 * turn writes branch 0. A turn that continues all of the previous turn's
 * tokens (prefix_tokens >= that turn's prompt + output - 1: its last
 * sampled token never had KV) keeps the previous turn's branch. Any other
 * turn departs from the previous tokens earlier (a recorded answer in place
 * of the generated one, an edited or shortened history) and starts a new
 * branch, a number not used before in the session, so that its tokens past
 * the departure point are never taken for the earlier turn's there. The
 * caller assigns branches (workload/ does, per session: 0, 1, 2, ...); the
 * scheduler only compares them.
 *
 * Sets the session of a request made by sched_request_init, before
 * sched_add_request: `session_id` 0 means none (the other arguments are then
 * ignored); `prefix_tokens` is capped at the prompt; `prefix_branch` is the
 * previous turn's branch (ignored when prefix_tokens is 0).
 */
void sched_request_set_session(SchedRequest *r, uint64_t session_id, uint32_t prefix_tokens,
                               uint32_t branch, uint32_t prefix_branch);

/*
 * The prefix-cache key of block `index` (tokens index * block_size up to
 * (index + 1) * block_size) of a request's tokens: the one rule by which the
 * KV pool registers and finds cached blocks, public so that a router can
 * index prompts exactly as the replicas cache them. Only full blocks are
 * ever registered or looked up.
 * - a block wholly inside the request's group prefix (shared_prefix_tokens):
 *   (prefix group, index): every request of the group may hit it;
 * - otherwise, for a session turn, a block wholly inside its session prefix:
 *   (session, session_prefix_branch, index), the key the previous turn gave
 *   it; any other block of the turn: (session, session_branch, index), so
 *   the next turn finds it (generated tokens included);
 * - otherwise (request id, index): only the request itself finds it again,
 *   after a preemption.
 * A turn that starts a new branch also registers the blocks of its session
 * prefix under (session, session_branch, index), which is what its next
 * turn looks up: the key this function gives for the same request with
 * session_prefix_tokens 0 and no group. A block inside both the group
 * prefix and the session prefix is looked up under the group key and, on a
 * miss, under the session-prefix key (both name its tokens). Never 0. Pure:
 * depends on the request's identity fields only (not on its progress).
 */
uint64_t sched_request_block_hash(const SchedRequest *r, uint32_t index, uint32_t block_size);
/* How many of the request's first `max_blocks` blocks of `block_size`
 * tokens other requests can hold too (a group's or a session's): these come
 * first; the blocks after them are keyed by the request's own id, and only
 * the request itself can ever find them again. */
uint32_t sched_request_shared_blocks(const SchedRequest *r, uint32_t max_blocks, uint32_t block_size);
/* prompt + generated so far: the tokens the request must have KV for before
 * it can sample its next token. */
static inline uint32_t sched_request_num_tokens(const SchedRequest *r)
{
    return r->prompt_tokens + r->num_output;
}

/* ---------------------------------------------------------- scheduler -- */

typedef enum {
    SCHED_POLICY_FCFS = 0,   /* vLLM's default */
    SCHED_POLICY_PRIORITY,   /* waiting requests by (priority, arrival); preempt the lowest */
} SchedPolicy;

/* The largest num_speculative_tokens modelled. */
#define SCHED_MAX_SPEC_TOKENS 32

/* Bounds of a configuration: memory is allocated in proportion to them (28
 * bytes per sequence slot, about 90 per KV block with prefix caching), so an
 * absurd value is an error, not an allocation failure. 2^24 blocks of 16
 * tokens hold 268 million tokens; 2^20 sequences are far beyond any server.
 * SCHED_MAX_BLOCKS bounds the host KV tier (cpu_blocks) too. */
#define SCHED_MAX_NUM_SEQS (1u << 20)
#define SCHED_MAX_BLOCKS (1u << 24)

typedef struct {
    uint32_t max_num_seqs;             /* cap on the running set */
    uint32_t max_num_batched_tokens;   /* token budget per step */
    uint32_t max_model_len;            /* prompt + output must fit */
    uint32_t block_size;               /* tokens per KV block */
    uint32_t num_gpu_blocks;           /* as vLLM reports it; one is reserved (null block) */
    uint32_t long_prefill_token_threshold; /* 0: off */
    gboolean enable_prefix_caching;
    /* vLLM's scheduler_reserve_full_isl (on from about 0.18): a waiting
     * request is admitted only when the blocks of its whole sequence (prompt,
     * and output so far when resumed), less its prefix hits, are free, not
     * just those of its first chunk. */
    gboolean reserve_full_isl;

    /* Engine options (docs/options/); all zero means off. */
    SchedPolicy policy;
    /* speculative decoding: a request that sampled carries num_spec_tokens
     * draft tokens into its next step, verified with its last token; how
     * many are accepted is drawn from spec_accept: spec_accept[i] is the
     * probability that the first i + 1 drafts are all accepted
     * (non-increasing; vLLM's synthetic_acceptance_rates), seeded by
     * spec_seed and the request (sched_spec.c). */
    uint32_t num_spec_tokens;
    uint32_t num_lookahead_tokens;  /* KV slots reserved beyond them (EAGLE and MTP: k, vLLM) */
    double spec_accept[SCHED_MAX_SPEC_TOKENS];
    uint64_t spec_seed;
    /* vLLM's hybrid KV cache manager (sliding-window models): a request
     * holds ceil(tokens / block_size) blocks of the full-attention group and,
     * in each of kv_groups_sliding groups, only the blocks of its last
     * sliding_window tokens (and of the tokens it computes this step). */
    uint32_t kv_groups_sliding;
    uint32_t sliding_window;
    /* host-memory KV tier (CPU offload): cpu_blocks blocks (0: off); every
     * registered block is stored there (write-through, LRU), and a waiting
     * request's prefix blocks past its GPU hits are loaded from it, in
     * multiples of cpu_hit_tokens tokens (0: block_size) */
    uint32_t cpu_blocks;
    uint32_t cpu_hit_tokens;
    /* LoRA: at most max_loras adapters among a step's requests (0: off);
     * adapters live in max_loras GPU slots and max_cpu_loras host slots (LRU) */
    uint32_t max_loras;
    uint32_t max_cpu_loras;
} SchedConfig;

/* Checks a configuration (positive counts, max_num_batched_tokens >=
 * max_num_seqs, at least 2 blocks, the bounds above; the options' ranges:
 * num_spec_tokens <= SCHED_MAX_SPEC_TOKENS with acceptance probabilities in
 * [0, 1] and non-increasing, a sliding window with sliding groups,
 * max_cpu_loras >= max_loras). Errors are SS_ERROR_USAGE naming the flag
 * (e.g. "--max-num-batched-tokens (512) must be >= --max-num-seqs (1024)"). */
gboolean sched_config_validate(const SchedConfig *cfg, GError **error);

typedef enum {
    SCHED_FITS = 0,
    SCHED_REJECT_TOO_LONG,    /* prompt + output > max_model_len */
    SCHED_REJECT_NO_BLOCKS,   /* needs more KV blocks than the pool has */
} SchedFit;

const char *sched_fit_reason(SchedFit f);

typedef struct SchedScheduler SchedScheduler;

/* The scheduler's output for one step: the requests scheduled, in order,
 * with the batch description for the latency model. Owned by the scheduler;
 * valid until the next sched_schedule(). */
typedef struct {
    SchedRequest **reqs;       /* scheduled requests, running ones first */
    uint32_t num_reqs;
    uint32_t num_preempted;    /* preemptions in this step */
    uint32_t num_admitted;     /* waiting requests admitted in this step */
    BatchDesc batch;           /* one entry per scheduled request, same order */
    /* SCHED_KV_REMOTE requests that got their blocks in this step and now
     * wait for their KV (their transfers may start); not in reqs */
    SchedRequest **remote_admitted;
    uint32_t num_remote_admitted;
} SchedStep;

SchedScheduler *sched_new(const SchedConfig *cfg, GError **error);
void sched_free(SchedScheduler *s);

/* Whether a request can ever be served under this configuration. */
SchedFit sched_check_fit(const SchedScheduler *s, uint32_t prompt_tokens, uint32_t output_tokens);

/* Queues a new request at the back of the waiting queue. The request must
 * fit (sched_check_fit) and stay alive until it finishes. */
void sched_add_request(SchedScheduler *s, SchedRequest *r);

/* Forms one step (vLLM's schedule()): advances num_computed of the scheduled
 * requests, allocates their blocks, preempts when the pool is full. The
 * returned step is empty when there is nothing to run. */
const SchedStep *sched_schedule(SchedScheduler *s);

/* The step formed by the last sched_schedule() (valid until the next one). */
const SchedStep *sched_last_step(const SchedScheduler *s);

/* Ends the step formed by the last sched_schedule(): each request whose KV
 * caught up with its tokens samples one token; requests that reached their
 * output length finish (blocks freed, removed from the running list). Sets
 * each scheduled request's step_flags. Finished requests are then the
 * caller's to release. */
void sched_finish_step(SchedScheduler *s);

/* Releases a finished (or never-admitted) request as sched_request_release
 * does, but keeps its block-id array in the scheduler (up to max_num_seqs of
 * them) for the next request that needs one: no allocation per request in
 * steady state. */
void sched_request_recycle(SchedScheduler *s, SchedRequest *r);
/* Acceptance models of speculative decoding (sched_spec.c): fill
 * rates[0..k) (SchedConfig.spec_accept) from vLLM's
 * synthetic_acceptance_length (a mean acceptance length in [1, k + 1], by
 * vLLM's minimum-variance schedule), or from a conditional per-position
 * rate alpha (rates[i] = alpha^(i+1)); check a list given as is (vLLM's
 * synthetic_acceptance_rates: probabilities, non-increasing). Errors:
 * SS_ERROR_USAGE naming the field. */
gboolean sched_spec_rates_from_length(double length, uint32_t k, double *rates, GError **error);
gboolean sched_spec_rates_from_conditional(double alpha, uint32_t k, double *rates, GError **error);
gboolean sched_spec_rates_check(const double *rates, uint32_t k, GError **error);
/* The mean acceptance length the rates give: 1 + their sum. */
double sched_spec_mean_length(const double *rates, uint32_t k);

/* What the engine options did so far. */
typedef struct {
    uint64_t spec_drafted;       /* draft tokens verified */
    uint64_t spec_accepted;      /* ... accepted */
    uint64_t spec_verifications; /* decode steps that verified drafts */
    uint64_t offload_hit_tokens; /* prompt tokens loaded from the host tier (every admission) */
    uint64_t offload_stores;     /* blocks written to the host tier */
    uint64_t lora_loads;         /* adapters copied into GPU slots */
    uint64_t lora_disk_loads;    /* ... read from disk first */
} SchedOptionStats;
void sched_option_stats(const SchedScheduler *s, SchedOptionStats *out);
/* Whether adapter `lora_id` sits in a GPU slot now (a router's affinity
 * score reads this). */
gboolean sched_lora_resident(const SchedScheduler *s, uint32_t lora_id);
/* Whether one of the GPU's adapter slots is still empty (an adapter can be
 * loaded without evicting another). FALSE without LoRA. */
gboolean sched_lora_free_slot(const SchedScheduler *s);

uint32_t sched_num_running(const SchedScheduler *s);
/* Requests that may be scheduled: the waiting queue, with the requests
 * whose remote KV has arrived first (they were at its front in vLLM). */
uint32_t sched_num_waiting(const SchedScheduler *s);

/* ------------------------------------------------- KV transfers (P/D) -- */

/* Requests holding blocks while their KV arrives (SCHED_WAITING_FOR_REMOTE_KV),
 * in admission order; request i of them (NULL past the end). */
uint32_t sched_num_remote_waiting(const SchedScheduler *s);
SchedRequest *sched_remote_at(const SchedScheduler *s, uint32_t i);
/* The KV of a SCHED_WAITING_FOR_REMOTE_KV request has arrived: as vLLM does
 * on a finished receive, its blocks enter the prefix cache and it waits to
 * be scheduled with all its prompt computed but the last token (which the
 * next step computes to sample the first output token). It goes to the
 * front of the waiting queue, after those that arrived before it. */
void sched_remote_kv_ready(SchedScheduler *s, SchedRequest *r);
/* Tokens of a SCHED_KV_REMOTE request's prompt that must be loaded: the
 * prompt less the local prefix-cache hit found at its admission. */
static inline uint32_t sched_request_remote_tokens(const SchedRequest *r)
{
    return r->prompt_tokens - r->num_cached_tokens;
}
/* Finished SCHED_KV_HOLD requests whose blocks are still held, in finishing
 * order; request i of them (NULL past the end). */
uint32_t sched_num_held(const SchedScheduler *s);
SchedRequest *sched_held_at(const SchedScheduler *s, uint32_t i);
/* Frees the blocks of a finished SCHED_KV_HOLD request (its transfer ended);
 * the request is then the caller's to recycle. */
void sched_release_held(SchedScheduler *s, SchedRequest *r);
/* Empties the KV cache (a new server in the same place: every block free,
 * no cached prefix) and keeps the counters. Precondition: no request is
 * running, waiting, loading or held. */
void sched_reset_cache(SchedScheduler *s);
/* Usable blocks (num_gpu_blocks - 1), used, free. */
const SchedKvPool *sched_kv_pool(const SchedScheduler *s);
/* Total preemptions so far. */
uint64_t sched_num_preemptions(const SchedScheduler *s);
/* Prompt tokens served from the prefix cache so far (hits at admission). */
uint64_t sched_prefix_hit_tokens(const SchedScheduler *s);
/* Tokens looked up in the prefix cache so far (the tokens of each admitted
 * request, re-admissions after preemption included): the denominator of the
 * hit rate. */
uint64_t sched_prefix_query_tokens(const SchedScheduler *s);
const SchedConfig *sched_config(const SchedScheduler *s);

/* The request at position i of the running list (admission order) / waiting
 * queue (front first); for tests and reports. */
SchedRequest *sched_running_at(const SchedScheduler *s, uint32_t i);
SchedRequest *sched_waiting_at(const SchedScheduler *s, uint32_t i);

/* The blocks a sliding-window group holds for one request at most: those
 * of the window and a step's new tokens, ceil(min(window - 1 +
 * max_num_batched_tokens, max_model_len) / block_size) + 1 (vLLM's
 * SlidingWindowSpec.max_memory_usage and admission cap). */
uint32_t sched_window_cap_blocks(const SchedConfig *cfg);
/* The KV blocks a sequence of `tokens` tokens holds in the pool at most:
 * ceil(tokens / block_size) of the full-attention group, plus in each
 * sliding group as many, at most sched_window_cap_blocks. */
uint64_t sched_blocks_for_tokens(const SchedConfig *cfg, uint64_t tokens);

/* Checks every invariant (see docs/scheduler.md): blocks used + free = total;
 * each request holds exactly ceil(num_computed / block_size) blocks (with
 * speculative decoding, up to the slots of its rejected drafts and
 * lookahead more);
 * num_computed <= prompt + output; running <= max_num_seqs; the last step's
 * tokens <= budget; waiting requests hold no blocks (but those whose remote
 * KV arrived, and those waiting for it: the prompt's blocks); held requests
 * are finished; block reference counts equal the number of holders. Returns FALSE with a description in *why
 * (g_free). O(blocks + requests): for tests and debug builds. */
gboolean sched_check_invariants(const SchedScheduler *s, char **why);

#endif /* SCHED_H */
