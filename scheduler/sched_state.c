/*
 * sched_state.c: the scheduler's state outside a step: the requests waiting
 * for their KV from another replica and the finished ones whose blocks
 * another replica still reads (a disaggregated fleet), a cache reset for a
 * restarted replica, the read-only queries, and the invariant check the
 * tests and the fuzzers run (blocks held = reference counts, request states
 * by list, the step within its budget).
 */
#include <string.h>

#include "sched_internal.h"

static void ptr_array_remove_ordered(GPtrArray *a, gpointer p)
{
    gboolean found = g_ptr_array_remove(a, p); /* keeps the order of the others */
    /* the callers (sched_remote_kv_ready, sched_release_held) checked its
     * status, which says which list holds it: a bug check, unreachable from input */
    g_assert(found);
}

/* --------------------------------------------------------- KV transfers -- */

uint32_t sched_num_remote_waiting(const SchedScheduler *s) { return s->remote->len; }
uint32_t sched_num_held(const SchedScheduler *s) { return s->held->len; }

SchedRequest *sched_remote_at(const SchedScheduler *s, uint32_t i)
{
    return i < s->remote->len ? g_ptr_array_index(s->remote, i) : NULL;
}

SchedRequest *sched_held_at(const SchedScheduler *s, uint32_t i)
{
    return i < s->held->len ? g_ptr_array_index(s->held, i) : NULL;
}

void sched_remote_kv_ready(SchedScheduler *s, SchedRequest *r)
{
    /* the fleet calls this once per transfer, when it ends, for the request
     * it admitted to load (cl_pd.c): a bug check, unreachable from input */
    g_assert(r->status == SCHED_WAITING_FOR_REMOTE_KV);
    ptr_array_remove_ordered(s->remote, r);
    /* vLLM (_update_waiting_for_remote_kv): every prompt token is computed but
     * the last, which the next step computes again to sample the first token */
    r->num_computed = r->prompt_tokens - 1;
    sched_register_full_blocks(s, r);
    r->kv_flags = (uint8_t)((r->kv_flags & ~SCHED_KV_REMOTE) | SCHED_KV_LOADED);
    r->status = SCHED_WAITING;
    g_ptr_array_add(s->ready, r);
}

void sched_release_held(SchedScheduler *s, SchedRequest *r)
{
    /* the fleet releases a prefill request once, when its transfer ends
     * (cl_pd.c): a bug check, unreachable from input */
    g_assert(r->status == SCHED_FINISHED && (r->kv_flags & SCHED_KV_HOLD));
    ptr_array_remove_ordered(s->held, r);
    sched_kv_pool_release_finished(s->pool, r->blocks, r->num_blocks);
    r->num_blocks = 0;
    r->kv_flags &= (uint8_t)~SCHED_KV_HOLD;
}

void sched_reset_cache(SchedScheduler *s)
{
    /* the autoscaler restarts only a replica that drained (cl_autoscale.c):
     * a bug check, unreachable from input */
    g_assert(s->num_running == 0 && s->wait_len == 0 && s->ready->len == s->ready_head && s->remote->len == 0 &&
             s->held->len == 0);
    sched_kv_pool_free(s->pool);
    s->pool = sched_kv_pool_new(s->cfg.num_gpu_blocks - 1, s->cfg.block_size, s->cfg.enable_prefix_caching);
    if (s->cpu) { /* a new host too */
        sched_cpu_tier_free(s->cpu);
        s->cpu = sched_cpu_tier_new(s->cfg.cpu_blocks);
    }
    if (s->lora) {
        sched_lora_free(s->lora);
        s->lora = sched_lora_new(s->cfg.max_loras, s->cfg.max_cpu_loras);
        s->num_step_loras = 0;
    }
}

/* -------------------------------------------------------------- queries -- */

const SchedStep *sched_last_step(const SchedScheduler *s) { return &s->step; }
uint32_t sched_num_running(const SchedScheduler *s) { return s->num_running; }
uint32_t sched_num_waiting(const SchedScheduler *s) { return s->wait_len + (s->ready->len - s->ready_head); }
const SchedKvPool *sched_kv_pool(const SchedScheduler *s) { return s->pool; }
uint64_t sched_num_preemptions(const SchedScheduler *s) { return s->num_preemptions; }
uint64_t sched_prefix_hit_tokens(const SchedScheduler *s) { return s->prefix_hit_tokens; }
uint64_t sched_prefix_query_tokens(const SchedScheduler *s) { return s->prefix_query_tokens; }
const SchedConfig *sched_config(const SchedScheduler *s) { return &s->cfg; }

void sched_option_stats(const SchedScheduler *s, SchedOptionStats *out) { *out = s->stats; }

gboolean sched_lora_resident(const SchedScheduler *s, uint32_t lora_id)
{
    return s->lora && sched_lora_is_resident(s->lora, lora_id);
}

gboolean sched_lora_free_slot(const SchedScheduler *s)
{
    return s->lora && sched_lora_has_free_slot(s->lora);
}

SchedRequest *sched_running_at(const SchedScheduler *s, uint32_t i)
{
    return i < s->num_running ? s->running[i] : NULL;
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
        uint32_t want_max = (r->num_computed + s->slack_tokens + bs - 1) / bs;
        if (r->status != SCHED_RUNNING) {
            *why = g_strdup_printf("request %" G_GUINT64_FORMAT " in the running list has status %u", r->id,
                                   r->status);
            ok = FALSE;
        } else if (r->num_blocks < want || r->num_blocks > want_max) {
            *why = g_strdup_printf("request %" G_GUINT64_FORMAT " holds %u blocks for %u tokens (want %u)",
                                   r->id, r->num_blocks, r->num_computed, want);
            ok = FALSE;
        } else if (r->num_computed > sched_request_num_tokens(r) + r->spec_scheduled ||
                   sched_request_num_tokens(r) > r->prompt_tokens + r->max_output_tokens) {
            *why = g_strdup_printf("request %" G_GUINT64_FORMAT ": computed %u, tokens %u, prompt %u + output %u",
                                   r->id, r->num_computed, sched_request_num_tokens(r), r->prompt_tokens,
                                   r->max_output_tokens);
            ok = FALSE;
        }
        for (uint32_t b = 0; ok && b < r->num_blocks; b++)
            holders[r->blocks[b]]++;
        const SchedWindow *w = r->window;
        for (uint32_t row = 0; ok && w && row < w->rows; row++)
            for (uint32_t g = 0; g < s->cfg.kv_groups_sliding; g++)
                holders[w->blocks[(gsize)((w->head + row) % w->cap) * s->cfg.kv_groups_sliding + g]]++;
    }
    for (uint32_t k = 0; k < sched_num_waiting(s) && ok; k++) {
        const SchedRequest *r = sched_waiting_at(s, k);
        gboolean loaded = (r->kv_flags & SCHED_KV_LOADED) != 0;
        uint32_t want_blocks = loaded ? (r->prompt_tokens + bs - 1) / bs : 0;
        uint32_t want_computed = loaded ? r->prompt_tokens - 1 : 0;
        if (r->num_blocks != want_blocks || r->num_computed != want_computed || sched_request_window_rows(r) != 0 ||
            (r->status != SCHED_WAITING && r->status != SCHED_PREEMPTED) ||
            (loaded != (k < s->ready->len - s->ready_head))) {
            *why = g_strdup_printf("waiting request %" G_GUINT64_FORMAT " holds %u blocks, %u computed, status %u%s",
                                   r->id, r->num_blocks, r->num_computed, r->status, loaded ? " (KV loaded)" : "");
            ok = FALSE;
        }
        for (uint32_t b = 0; ok && b < r->num_blocks; b++)
            holders[r->blocks[b]]++;
    }
    for (uint32_t k = 0; k < s->remote->len && ok; k++) {
        const SchedRequest *r = g_ptr_array_index(s->remote, k);
        if (r->status != SCHED_WAITING_FOR_REMOTE_KV || !(r->kv_flags & SCHED_KV_REMOTE) || r->num_computed != 0 ||
            r->num_blocks != (r->prompt_tokens + bs - 1) / bs) {
            *why = g_strdup_printf("request %" G_GUINT64_FORMAT " waiting for its KV holds %u blocks for a prompt "
                                   "of %u, %u computed, status %u",
                                   r->id, r->num_blocks, r->prompt_tokens, r->num_computed, r->status);
            ok = FALSE;
        }
        for (uint32_t b = 0; ok && b < r->num_blocks; b++)
            holders[r->blocks[b]]++;
    }
    for (uint32_t k = 0; k < s->held->len && ok; k++) {
        const SchedRequest *r = g_ptr_array_index(s->held, k);
        if (r->status != SCHED_FINISHED || !(r->kv_flags & SCHED_KV_HOLD)) {
            *why = g_strdup_printf("held request %" G_GUINT64_FORMAT " has status %u", r->id, r->status);
            ok = FALSE;
        }
        for (uint32_t b = 0; ok && b < r->num_blocks; b++)
            holders[r->blocks[b]]++;
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
