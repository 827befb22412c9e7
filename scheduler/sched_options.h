/*
 * sched_options.h: the parts of the scheduler that model vLLM's engine
 * options, internal to the scheduler (sched.c calls them; tests may too).
 * Each is reached only when its option is on (docs/options/).
 *
 * - sched_spec.c: the acceptance of draft tokens (speculative decoding).
 * - sched_window.c: the blocks of the sliding-window groups of vLLM's hybrid
 *   KV cache manager.
 * - sched_offload.c: the host-memory KV tier (CPU offload).
 * - sched_lora.c: LoRA adapters in GPU and host slots.
 */
#ifndef SCHED_OPTIONS_H
#define SCHED_OPTIONS_H

#include "sched.h"
#include "sched_kv.h"

/* ------------------------------------------------------------ spec -- */

/* How many of `drafted` draft tokens request `request_id` accepts at its
 * `step`-th verification: a uniform draw u from (seed, request, step) and
 * the largest a <= drafted with u < spec_accept[a - 1] (so P(a >= i) =
 * spec_accept[i - 1]). Pure: the same arguments give the same count,
 * whatever else the scheduler did. */
uint32_t sched_spec_draw(const SchedConfig *c, uint64_t request_id, uint32_t step, uint32_t drafted);

/* ---------------------------------------------------------- window -- */

/* The first token block a request must still hold in the sliding groups
 * when `computed` of its tokens have KV: the block of token computed -
 * window + 1 (vLLM's SlidingWindowManager frees the blocks before it). */
static inline uint32_t sched_window_first(const SchedConfig *c, uint32_t computed)
{
    return computed + 1 > c->sliding_window ? (computed + 1 - c->sliding_window) / c->block_size : 0;
}
/* Releases the rows of token blocks before `first` (tail first within a
 * row); returns the blocks released. */
uint32_t sched_window_release_before(SchedKvPool *pool, SchedRequest *r, uint32_t groups, uint32_t first);
/* Releases every row (preemption, finish). */
void sched_window_release_all(SchedKvPool *pool, SchedRequest *r, uint32_t groups);
/* Rows (token blocks) the request lacks to cover token blocks up to
 * `end_block` (exclusive), starting at `first`. */
static inline uint32_t sched_window_rows_missing(const SchedRequest *r, uint32_t first, uint32_t end_block)
{
    uint32_t start = r->window && r->window->rows ? r->window->first + r->window->rows : first;
    if (start < first)
        start = first;
    return end_block > start ? end_block - start : 0;
}
/* Takes blocks for `rows` more rows from the pool (the caller checked they
 * are free); the first new row is token block `first` when the request
 * holds none. */
void sched_window_append(SchedKvPool *pool, SchedRequest *r, uint32_t groups, uint32_t first, uint32_t rows);

/* --------------------------------------------------------- offload -- */

typedef struct SchedCpuTier SchedCpuTier;

/* A host-memory tier of `capacity` blocks (LRU). */
SchedCpuTier *sched_cpu_tier_new(uint32_t capacity);
void sched_cpu_tier_free(SchedCpuTier *t);
/* Stores a block's content (a key of sched_request_block_hash); a stored
 * key becomes the most recently used. Returns TRUE when it was not there. */
gboolean sched_cpu_tier_store(SchedCpuTier *t, uint64_t hash);
/* Whether the tier holds `hash` (a lookup; touch it when loading). */
gboolean sched_cpu_tier_contains(const SchedCpuTier *t, uint64_t hash);
void sched_cpu_tier_touch(SchedCpuTier *t, uint64_t hash);
uint32_t sched_cpu_tier_size(const SchedCpuTier *t);

/* ------------------------------------------------------------ lora -- */

typedef struct SchedLora SchedLora;

SchedLora *sched_lora_new(uint32_t max_loras, uint32_t max_cpu_loras);
void sched_lora_free(SchedLora *l);
/* Makes the step's adapters (`ids`, n <= max_loras, distinct, non-zero)
 * resident in GPU slots: each missing one takes the least recently used
 * slot not among them; *loads counts the copies into GPU slots and
 * *disk_loads those of adapters that were not in the host slots either. */
void sched_lora_activate(SchedLora *l, const uint32_t *ids, uint32_t n, uint32_t *loads, uint32_t *disk_loads);
gboolean sched_lora_is_resident(const SchedLora *l, uint32_t id);
/* Whether a GPU slot holds no adapter yet. */
gboolean sched_lora_has_free_slot(const SchedLora *l);

#endif /* SCHED_OPTIONS_H */
