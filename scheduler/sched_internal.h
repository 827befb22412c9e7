/*
 * sched_internal.h: the scheduler's state and the pieces its files share;
 * not part of the scheduler's interface (other modules include sched.h).
 *
 * - sched.c: schedule(): the running loop, the admission of waiting
 *   requests, block allocation, preemption and the waiting queue.
 * - sched_finish.c: the update after a step (tokens emitted, drafts
 *   verified, requests finished) and request recycling.
 * - sched_request.c: a request's fields and the names of its blocks.
 * - sched_setup.c: the configuration checked, a scheduler made and freed.
 * - sched_state.c: KV transfers, queries and the invariant check.
 *
 * The block keys, which allocation computes per block, are static inline
 * here.
 */
#ifndef SCHED_INTERNAL_H
#define SCHED_INTERNAL_H

#include "sched.h"
#include "sched_kv.h"
#include "sched_options.h"

struct SchedScheduler {
    SchedConfig cfg;
    SchedKvPool *pool;

    SchedRequest **running;   /* admission order */
    uint32_t num_running;

    SchedRequest **waiting;   /* ring buffer */
    uint32_t wait_head;
    uint32_t wait_len;
    uint32_t wait_cap;

    /* KV transfers: loaded requests (ahead of the waiting queue), requests
     * waiting for their KV, held finished requests */
    GPtrArray *ready;         /* FIFO from ready_head */
    guint ready_head;
    GPtrArray *remote;
    GPtrArray *held;
    GPtrArray *remote_admitted; /* of the last step */

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

    /* engine options (NULL / 0 when off) */
    SchedRequest **heap;      /* priority policy: the waiting queue as a heap (wait_len entries) */
    SchedRequest **skipped;   /* LoRA: waiting requests set aside in this step */
    uint32_t skipped_cap;
    uint32_t *step_loras;     /* LoRA: the adapters of the step (at most max_loras) */
    uint32_t num_step_loras;
    SchedLora *lora;
    SchedCpuTier *cpu;
    SchedOptionStats stats;
    uint32_t slack_tokens;    /* speculative decoding: KV slots a request may hold past its computed tokens */
};

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

/* Whether a request starts a new branch of its session (and so gives the
 * blocks of its session prefix a second name). */
static inline gboolean starts_branch(const SchedRequest *r)
{
    return r->session_branch != r->session_prefix_branch;
}

/* Registers the hashes of the request's blocks that are full of computed
 * tokens (num_computed), as allocate_slots does for the blocks it fills
 * (and writes them through to the host tier); sched.c. */
void sched_register_full_blocks(SchedScheduler *s, SchedRequest *r);

/* ------------------------------------------------------- waiting queue -- */

/* The priority policy's order: vLLM's (priority, arrival time); requests
 * are numbered in arrival order, and a lower priority value runs first. */
static inline gboolean prio_before(const SchedRequest *a, const SchedRequest *b)
{
    return a->priority != b->priority ? a->priority < b->priority : a->id < b->id;
}

/* sched_waiting.c: a new request at the back; a preempted or set-aside one
 * at the front (under the priority policy, both at their own place); the
 * head taken off. */
void sched_waiting_push_back(SchedScheduler *s, SchedRequest *r);
void sched_waiting_push_front(SchedScheduler *s, SchedRequest *r);
SchedRequest *sched_waiting_pop_front(SchedScheduler *s);

static inline SchedRequest *waiting_peek(const SchedScheduler *s)
{
    return G_UNLIKELY(s->heap != NULL) ? s->heap[0] : s->waiting[s->wait_head];
}

/* The next request to consider for admission: a loaded one, else the head
 * of the waiting queue; NULL when both are empty. */
static inline SchedRequest *next_waiting(const SchedScheduler *s)
{
    if (G_UNLIKELY(s->ready_head < s->ready->len))
        return g_ptr_array_index(s->ready, s->ready_head);
    return s->wait_len ? waiting_peek(s) : NULL;
}

/* Removes next_waiting(s). */
static inline void pop_waiting(SchedScheduler *s)
{
    if (G_UNLIKELY(s->ready_head < s->ready->len)) {
        if (++s->ready_head == s->ready->len) {
            g_ptr_array_set_size(s->ready, 0);
            s->ready_head = 0;
        }
        return;
    }
    sched_waiting_pop_front(s);
}

#endif /* SCHED_INTERNAL_H */
