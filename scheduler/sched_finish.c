/*
 * sched_finish.c: the update after a step (vLLM's update_from_output): each
 * request whose computed tokens reached the end of its sequence emits a
 * token (with speculative decoding, 1 + its accepted drafts, drawn by
 * sched_spec.c, the rejected drafts' KV given back), a request that reached
 * its max_output_tokens finishes and frees its blocks (or keeps them for a
 * replica that reads them), and finished requests leave the running list in
 * admission order. Also the recycling of a finished request's block array.
 * Cost: O(requests of the step).
 */
#include "sched_internal.h"

/* Speculative decoding: the verification of a request's drafts at the end
 * of a step; returns the tokens it gains (1 + the accepted drafts). */
static G_NO_INLINE uint32_t finish_spec(SchedScheduler *s, SchedRequest *r)
{
    uint32_t d = r->spec_scheduled;
    uint32_t a = sched_spec_draw(&s->cfg, r->id, r->num_output, d); /* a distinct count per verification */
    r->num_computed -= d - a; /* the rejected drafts' KV is discarded (their slots stay) */
    r->spec_scheduled = 0;
    s->stats.spec_drafted += d;
    s->stats.spec_accepted += a;
    s->stats.spec_verifications++;
    uint32_t emitted = 1 + a, left = r->max_output_tokens - r->num_output;
    return emitted < left ? emitted : left;
}

static void finish_request(SchedScheduler *s, SchedRequest *r)
{
    r->step_flags |= SCHED_FINISHED_NOW;
    r->spec_pending = 0;
    if (G_UNLIKELY(r->window != NULL))
        sched_window_release_all(s->pool, r, s->cfg.kv_groups_sliding);
    if (G_UNLIKELY(r->kv_flags & SCHED_KV_HOLD)) {
        g_ptr_array_add(s->held, r); /* another replica reads its KV: sched_release_held */
    } else {
        sched_kv_pool_release_finished(s->pool, r->blocks, r->num_blocks);
        r->num_blocks = 0;
    }
    r->alloc_limit = 0;
    r->status = SCHED_FINISHED;
}

/* The loop of sched_finish_step; `spec` a constant where it is inlined. */
static G_ALWAYS_INLINE inline gboolean finish_requests(SchedScheduler *s, SchedStep *st, const gboolean spec)
{
    gboolean any_finished = FALSE;
    const uint16_t k_spec = (uint16_t)s->cfg.num_spec_tokens;
    for (uint32_t k = 0; k < st->num_reqs; k++) {
        SchedRequest *r = st->reqs[k];
        r->scheduled_tokens = 0;
        r->step_flags = 0;
        if (r->num_computed < sched_request_num_tokens(r))
            continue; /* a prefill chunk that has not reached the end of the prompt */
        if (spec && r->spec_scheduled > 0) { /* verification: accepted drafts, then the target's token */
            uint32_t emitted = finish_spec(s, r);
            r->num_output += emitted;
            r->step_flags = SCHED_EMITTED | (r->num_output == emitted ? SCHED_FIRST : 0);
        } else {
            r->num_output++;
            r->step_flags = SCHED_EMITTED | (r->num_output == 1 ? SCHED_FIRST : 0);
        }
        if (r->num_output >= r->max_output_tokens) {
            finish_request(s, r);
            any_finished = TRUE;
        } else if (spec) {
            r->spec_pending = k_spec; /* the drafter proposes for its next step */
        }
    }
    return any_finished;
}

void sched_finish_step(SchedScheduler *s)
{
    SchedStep *st = &s->step;
    gboolean any_finished = G_UNLIKELY(s->cfg.num_spec_tokens > 0) ? finish_requests(s, st, TRUE)
                                                                   : finish_requests(s, st, FALSE);
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
    /* the engine recycles finished or never-admitted requests only: a bug check, not input */
    g_assert(r->status == SCHED_FINISHED || (r->status == SCHED_WAITING && r->num_blocks == 0));
    if (r->blocks && s->num_spare < s->cfg.max_num_seqs) {
        s->spare[s->num_spare] = r->blocks;
        s->spare_cap[s->num_spare++] = r->cap_blocks;
        r->blocks = NULL;
    }
    sched_request_release(r);
}
