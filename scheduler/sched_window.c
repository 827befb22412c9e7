/*
 * sched_window.c: the blocks of the sliding-window groups of vLLM's hybrid
 * KV cache manager (vllm/v1/core/single_type_kv_cache_manager.py,
 * SlidingWindowManager; docs/design/hybrid_kv_cache_manager.md).
 *
 * What it models: a model with sliding-window and full-attention layers has
 * one full-attention KV cache group (the request's `blocks`, prefix-cached
 * as any model's) and G sliding groups. In each sliding group a request
 * holds the blocks of its last `sliding_window` tokens and of the tokens it
 * computes in the current step; blocks that fall out of the window go back
 * to the pool's free list. The G groups hold the same token blocks, so a
 * request keeps them as rows of G block ids in a ring (SchedWindow, made
 * with its first sliding block): token blocks [first, first + rows).
 *
 * Prefix caching: sliding blocks are not hashed here. A prefix hit on the
 * full-attention group takes fresh blocks for the window before the hit
 * point in every sliding group (as many as vLLM's hit would hold) and does
 * not ask whether vLLM would still find them: docs/options/sliding-window.md
 * states the limit.
 *
 * Cost: O(G) per row taken or released; rows are taken and released once
 * per block_size tokens of a request.
 */
#include <string.h>

#include "sched_options.h"

static void ring_grow(SchedWindow *w, uint32_t groups, uint32_t need)
{
    if (need <= w->cap)
        return;
    uint32_t cap = MAX(need, MAX(4u, w->cap * 2));
    uint32_t *b = g_new(uint32_t, (gsize)cap * groups);
    for (uint32_t i = 0; i < w->rows; i++) {
        uint32_t src = (w->head + i) % w->cap;
        memcpy(b + (gsize)i * groups, w->blocks + (gsize)src * groups, groups * sizeof *b);
    }
    g_free(w->blocks);
    w->blocks = b;
    w->cap = cap;
    w->head = 0;
}

uint32_t sched_window_release_before(SchedKvPool *pool, SchedRequest *r, uint32_t groups, uint32_t first)
{
    SchedWindow *w = r->window;
    uint32_t released = 0;
    if (!w)
        return 0;
    while (w->rows > 0 && w->first < first) {
        sched_kv_pool_release(pool, w->blocks + (gsize)w->head * groups, groups);
        w->head = (w->head + 1) % w->cap;
        w->rows--;
        w->first++;
        released += groups;
    }
    if (w->rows == 0)
        w->head = 0;
    return released;
}

void sched_window_release_all(SchedKvPool *pool, SchedRequest *r, uint32_t groups)
{
    SchedWindow *w = r->window;
    if (!w)
        return;
    /* the last rows first, as a request's full-attention blocks */
    for (uint32_t i = w->rows; i-- > 0;)
        sched_kv_pool_release(pool, w->blocks + (gsize)((w->head + i) % w->cap) * groups, groups);
    w->rows = 0;
    w->head = 0;
    w->first = 0;
}

void sched_window_append(SchedKvPool *pool, SchedRequest *r, uint32_t groups, uint32_t first, uint32_t rows)
{
    if (rows == 0)
        return;
    if (!r->window)
        r->window = g_new0(SchedWindow, 1);
    SchedWindow *w = r->window;
    if (w->rows == 0)
        w->first = first;
    ring_grow(w, groups, w->rows + rows);
    for (uint32_t i = 0; i < rows; i++) {
        uint32_t slot = (w->head + w->rows) % w->cap;
        sched_kv_pool_take(pool, groups, w->blocks + (gsize)slot * groups);
        w->rows++;
    }
}
