/*
 * sched_request.c: a simulated request's own fields (sched.h): made fresh,
 * given a session, its block arrays released, and the hash its block goes
 * by in the prefix cache (the block keys of sched_internal.h).
 */
#include <string.h>

#include "sched_internal.h"

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
    if (r->window) {
        g_free(r->window->blocks);
        g_free(r->window);
        r->window = NULL;
    }
}

void sched_request_set_session(SchedRequest *r, uint64_t session_id, uint32_t prefix_tokens,
                               uint32_t branch, uint32_t prefix_branch)
{
    /* the engine sets a session on fresh requests only: a bug check, not input */
    g_assert(r->status == SCHED_WAITING && !r->ever_scheduled);
    r->session_id = session_id;
    r->session_prefix_tokens = session_id ? MIN(prefix_tokens, r->prompt_tokens) : 0;
    r->session_branch = session_id ? branch : 0;
    r->session_prefix_branch = r->session_prefix_tokens ? prefix_branch : r->session_branch;
}

uint64_t sched_request_block_hash(const SchedRequest *r, uint32_t index, uint32_t block_size)
{
    g_return_val_if_fail(block_size > 0, 0); /* checked by sched_config_validate: not input */
    return key_hash(r, block_key(r, index, block_size), index);
}

uint32_t sched_request_shared_blocks(const SchedRequest *r, uint32_t max_blocks, uint32_t block_size)
{
    g_return_val_if_fail(block_size > 0, 0); /* checked by sched_config_validate: not input */
    if (r->session_id) /* every block of a turn is its session's */
        return max_blocks;
    if (!r->prefix_group)
        return 0;
    return (uint32_t)MIN((uint64_t)max_blocks, r->shared_prefix_tokens / block_size);
}
