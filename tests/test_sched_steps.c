/*
 * test_sched_steps.c: the vLLM V1 scheduler step by step on small cases
 * worked out by hand (budget split, chunking, long-prefill threshold,
 * max-num-seqs, preemption order, no admission after a preemption, prefix
 * hits, LRU reuse), the KV pool against a naive model, and the invariants
 * after every step of random workloads.
 */
#include <string.h>

#include "sched.h"
#include "sched_kv.h"
#include "ss_test.h"

#define MAXR 64

typedef struct {
    SchedScheduler *s;
    SchedRequest reqs[MAXR];
    uint32_t n;
} Fixture;

static void fx_init(Fixture *f, uint32_t mns, uint32_t mnbt, uint32_t blocks, uint32_t bs,
                    uint32_t threshold, gboolean caching)
{
    memset(f, 0, sizeof *f);
    SchedConfig c = {.max_num_seqs = mns,
                     .max_num_batched_tokens = mnbt,
                     .max_model_len = 100000,
                     .block_size = bs,
                     .num_gpu_blocks = blocks,
                     .long_prefill_token_threshold = threshold,
                     .enable_prefix_caching = caching};
    GError *error = NULL;
    f->s = sched_new(&c, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->s);
}

static SchedRequest *fx_add(Fixture *f, uint32_t prompt, uint32_t output, uint32_t group, uint32_t shared)
{
    SchedRequest *r = &f->reqs[f->n];
    sched_request_init(r, f->n, prompt, output, group, shared);
    f->n++;
    CU_ASSERT_EQUAL(sched_check_fit(f->s, prompt, output), SCHED_FITS);
    sched_add_request(f->s, r);
    return r;
}

static void fx_free(Fixture *f)
{
    for (uint32_t i = 0; i < f->n; i++)
        sched_request_release(&f->reqs[i]);
    sched_free(f->s);
}

static void assert_invariants(SchedScheduler *s)
{
    char *why = NULL;
    gboolean ok = sched_check_invariants(s, &why);
    if (!ok)
        fprintf(stderr, "\n  invariant broken: %s\n", why);
    CU_ASSERT(ok);
    g_free(why);
}

/* Runs one step; checks that the step scheduled exactly `want` tokens for
 * the listed requests (ids, tokens), in that order. */
static const SchedStep *step_expect(Fixture *f, const uint32_t (*want)[2], uint32_t nwant)
{
    const SchedStep *st = sched_schedule(f->s);
    CU_ASSERT_EQUAL(st->num_reqs, nwant);
    for (uint32_t i = 0; i < nwant && i < st->num_reqs; i++) {
        CU_ASSERT_EQUAL(st->reqs[i]->id, want[i][0]);
        CU_ASSERT_EQUAL(st->batch.entries[i].new_tokens, want[i][1]);
    }
    assert_invariants(f->s);
    return st;
}

static void test_budget_split(void)
{
    Fixture f;
    fx_init(&f, 8, 10, 100, 4, 0, FALSE);
    fx_add(&f, 4, 3, 0, 0);
    fx_add(&f, 4, 3, 0, 0);
    fx_add(&f, 4, 3, 0, 0);
    /* step 1: 4 + 4 + the first 2 tokens of the third prompt = 10 */
    const uint32_t s1[][2] = {{0, 4}, {1, 4}, {2, 2}};
    const SchedStep *st = step_expect(&f, s1, 3);
    CU_ASSERT_EQUAL(st->batch.total_tokens, 10);
    CU_ASSERT_EQUAL(st->batch.num_sampled, 2); /* the third is mid-prompt */
    CU_ASSERT_EQUAL(st->batch.entries[2].cached_tokens, 0);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(f.reqs[0].num_output, 1);
    CU_ASSERT(f.reqs[0].step_flags & SCHED_FIRST);
    CU_ASSERT_EQUAL(f.reqs[2].num_output, 0);
    CU_ASSERT_EQUAL(f.reqs[2].step_flags, 0);
    /* step 2: two decodes, then the rest of the third prompt (cached 2) */
    const uint32_t s2[][2] = {{0, 1}, {1, 1}, {2, 2}};
    st = step_expect(&f, s2, 3);
    CU_ASSERT_EQUAL(st->batch.entries[0].cached_tokens, 4);
    CU_ASSERT_EQUAL(st->batch.entries[2].cached_tokens, 2);
    CU_ASSERT_EQUAL(st->batch.num_decode, 2);
    CU_ASSERT_EQUAL(st->batch.decode_kv_tokens, 10); /* (4 + 1) * 2 */
    sched_finish_step(f.s);
    CU_ASSERT(f.reqs[2].step_flags & SCHED_FIRST);
    CU_ASSERT_EQUAL(f.reqs[0].num_output, 2);
    fx_free(&f);
}

static void test_chunked_prefill(void)
{
    Fixture f;
    fx_init(&f, 8, 10, 100, 4, 0, FALSE);
    fx_add(&f, 25, 2, 0, 0);
    const uint32_t c1[][2] = {{0, 10}};
    const uint32_t c3[][2] = {{0, 5}};
    step_expect(&f, c1, 1);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(f.reqs[0].num_output, 0);
    const SchedStep *st = step_expect(&f, c1, 1);
    CU_ASSERT_EQUAL(st->batch.entries[0].cached_tokens, 10);
    CU_ASSERT_FALSE(st->batch.entries[0].emits_token);
    sched_finish_step(f.s);
    st = step_expect(&f, c3, 1);
    CU_ASSERT(st->batch.entries[0].emits_token);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(f.reqs[0].num_output, 1);
    CU_ASSERT_EQUAL(f.reqs[0].num_blocks, 7); /* ceil(25 / 4) */
    const uint32_t d[][2] = {{0, 1}};
    step_expect(&f, d, 1);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(f.reqs[0].status, SCHED_FINISHED);
    CU_ASSERT(f.reqs[0].step_flags & SCHED_FINISHED_NOW);
    CU_ASSERT_EQUAL(sched_num_running(f.s), 0);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(f.s)), 0);
    fx_free(&f);
}

static void test_long_prefill_threshold(void)
{
    Fixture f;
    fx_init(&f, 8, 100, 100, 4, 3, FALSE);
    fx_add(&f, 10, 2, 0, 0);
    fx_add(&f, 2, 2, 0, 0);
    /* the long prompt takes at most 3 tokens a step; the short one is under the threshold */
    const uint32_t s1[][2] = {{0, 3}, {1, 2}};
    step_expect(&f, s1, 2);
    sched_finish_step(f.s);
    const uint32_t s2[][2] = {{0, 3}, {1, 1}};
    step_expect(&f, s2, 2);
    sched_finish_step(f.s);
    const uint32_t s3[][2] = {{0, 3}};
    step_expect(&f, s3, 1); /* request 1 finished after 2 tokens */
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(f.reqs[1].status, SCHED_FINISHED);
    const uint32_t s4[][2] = {{0, 1}};
    const SchedStep *st = step_expect(&f, s4, 1);
    CU_ASSERT(st->batch.entries[0].emits_token); /* 3 + 3 + 3 + 1 = 10 */
    sched_finish_step(f.s);
    fx_free(&f);
}

static void test_max_num_seqs(void)
{
    Fixture f;
    fx_init(&f, 2, 100, 100, 4, 0, FALSE);
    fx_add(&f, 3, 2, 0, 0);
    fx_add(&f, 3, 2, 0, 0);
    fx_add(&f, 3, 2, 0, 0);
    const uint32_t s1[][2] = {{0, 3}, {1, 3}};
    step_expect(&f, s1, 2);
    CU_ASSERT_EQUAL(sched_num_waiting(f.s), 1);
    sched_finish_step(f.s);
    step_expect(&f, (const uint32_t[][2]){{0, 1}, {1, 1}}, 2);
    sched_finish_step(f.s); /* both finish: 2 outputs each */
    CU_ASSERT_EQUAL(sched_num_running(f.s), 0);
    step_expect(&f, (const uint32_t[][2]){{2, 3}}, 1);
    sched_finish_step(f.s);
    fx_free(&f);
}

/* Block size 4, 5 blocks (4 usable). Two requests of prompt 4 hold one block
 * each after step 1; step 2 gives each a second block (the pool is full);
 * steps 3-5 decode to computed 8. At step 6 request 0 needs a third block,
 * preempts the tail (request 1), and request 2, waiting, is not admitted in
 * that step although budget and seats remain. */
static void test_preemption_order(void)
{
    Fixture f;
    fx_init(&f, 8, 100, 5, 4, 0, FALSE);
    fx_add(&f, 4, 12, 0, 0);
    fx_add(&f, 4, 12, 0, 0);
    step_expect(&f, (const uint32_t[][2]){{0, 4}, {1, 4}}, 2);
    sched_finish_step(f.s);
    for (int k = 0; k < 4; k++) {
        step_expect(&f, (const uint32_t[][2]){{0, 1}, {1, 1}}, 2);
        sched_finish_step(f.s);
    }
    CU_ASSERT_EQUAL(f.reqs[0].num_computed, 8);
    CU_ASSERT_EQUAL(f.reqs[1].num_output, 5);
    CU_ASSERT_EQUAL(sched_kv_pool_num_free(sched_kv_pool(f.s)), 0);
    fx_add(&f, 2, 1, 0, 0); /* request 2 waits */
    const SchedStep *st = sched_schedule(f.s);
    assert_invariants(f.s);
    CU_ASSERT_EQUAL(st->num_preempted, 1);
    CU_ASSERT_EQUAL(st->num_reqs, 1);
    CU_ASSERT_EQUAL(st->reqs[0]->id, 0);
    CU_ASSERT_EQUAL(st->num_admitted, 0); /* no admission in a step that preempted */
    CU_ASSERT_EQUAL(f.reqs[1].status, SCHED_PREEMPTED);
    CU_ASSERT_EQUAL(f.reqs[1].num_preemptions, 1);
    CU_ASSERT_EQUAL(f.reqs[1].num_computed, 0);
    CU_ASSERT_EQUAL(f.reqs[1].num_blocks, 0);
    CU_ASSERT_PTR_EQUAL(sched_waiting_at(f.s, 0), &f.reqs[1]); /* front of the queue */
    CU_ASSERT_PTR_EQUAL(sched_waiting_at(f.s, 1), &f.reqs[2]);
    CU_ASSERT_EQUAL(sched_num_preemptions(f.s), 1);
    sched_finish_step(f.s);
    /* step 7: request 0 decodes (its third block has room); request 1 must
     * recompute prompt + its 5 generated tokens = 9 tokens = 3 blocks, only 1
     * is free, so it is not admitted, and FCFS stops there: request 2 behind
     * it waits too although it would fit. */
    st = sched_schedule(f.s);
    assert_invariants(f.s);
    CU_ASSERT_EQUAL(st->num_reqs, 1);
    CU_ASSERT_EQUAL(st->num_admitted, 0);
    CU_ASSERT_EQUAL(sched_request_num_tokens(&f.reqs[1]), 9);
    CU_ASSERT_EQUAL(sched_kv_pool_num_free(sched_kv_pool(f.s)), 1);
    sched_finish_step(f.s);
    fx_free(&f);
}

/* When the request that needs a block is itself the tail of the running
 * list, it preempts itself and the step stops there. Block size 4, 3 usable
 * blocks: request 0 (prompt 6) holds 2, request 1 (prompt 4) holds 1. */
static void test_self_preemption(void)
{
    Fixture f;
    fx_init(&f, 8, 100, 4, 4, 0, FALSE);
    fx_add(&f, 6, 6, 0, 0);
    fx_add(&f, 4, 6, 0, 0);
    step_expect(&f, (const uint32_t[][2]){{0, 6}, {1, 4}}, 2);
    sched_finish_step(f.s);
    /* request 0 reaches 7 tokens within its 2 blocks; request 1 needs a
     * second block, none is free, and the tail is request 1 itself */
    const SchedStep *st = sched_schedule(f.s);
    CU_ASSERT_EQUAL(st->num_preempted, 1);
    CU_ASSERT_EQUAL(st->num_reqs, 1);
    CU_ASSERT_EQUAL(st->reqs[0]->id, 0);
    CU_ASSERT_EQUAL(f.reqs[1].status, SCHED_PREEMPTED);
    CU_ASSERT_EQUAL(f.reqs[0].status, SCHED_RUNNING);
    CU_ASSERT_EQUAL(sched_num_running(f.s), 1);
    assert_invariants(f.s);
    sched_finish_step(f.s);
    fx_free(&f);
}

static void test_fit_checks(void)
{
    Fixture f;
    fx_init(&f, 8, 100, 11, 16, 0, FALSE); /* 10 usable blocks = 160 tokens */
    CU_ASSERT_EQUAL(sched_check_fit(f.s, 100, 61), SCHED_FITS);  /* 160 KV tokens */
    CU_ASSERT_EQUAL(sched_check_fit(f.s, 100, 62), SCHED_REJECT_NO_BLOCKS);
    sched_free(f.s);
    SchedConfig c = {.max_num_seqs = 4, .max_num_batched_tokens = 64, .max_model_len = 50,
                     .block_size = 16, .num_gpu_blocks = 100};
    SchedScheduler *s = sched_new(&c, NULL);
    CU_ASSERT_EQUAL(sched_check_fit(s, 40, 10), SCHED_FITS);
    CU_ASSERT_EQUAL(sched_check_fit(s, 40, 11), SCHED_REJECT_TOO_LONG);
    sched_free(s);
}

static void test_config_errors(void)
{
    SchedConfig c = {.max_num_seqs = 256, .max_num_batched_tokens = 128, .max_model_len = 4096,
                     .block_size = 16, .num_gpu_blocks = 100};
    GError *error = NULL;
    CU_ASSERT_PTR_NULL(sched_new(&c, &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "--max-num-batched-tokens (128) must be >= --max-num-seqs (256)");
    g_clear_error(&error);
    c.max_num_batched_tokens = 4096;
    c.block_size = 0;
    CU_ASSERT_PTR_NULL(sched_new(&c, &error));
    SS_ASSERT_CONTAINS(error->message, "--block-size");
    g_clear_error(&error);
}

/* Prefix caching: block size 4; group 7 shares its first 8 prompt tokens. */
static void test_prefix_hits(void)
{
    Fixture f;
    fx_init(&f, 8, 100, 50, 4, 0, TRUE);
    fx_add(&f, 10, 2, 7, 8);
    step_expect(&f, (const uint32_t[][2]){{0, 10}}, 1);
    sched_finish_step(f.s);
    /* a second member of the group: blocks 0 and 1 (tokens 0-7) are hits */
    SchedRequest *r1 = fx_add(&f, 12, 1, 7, 8);
    const SchedStep *st = step_expect(&f, (const uint32_t[][2]){{0, 1}, {1, 4}}, 2);
    CU_ASSERT_EQUAL(st->batch.entries[1].cached_tokens, 8);
    CU_ASSERT_EQUAL(r1->num_cached_tokens, 8);
    CU_ASSERT_EQUAL(r1->blocks[0], f.reqs[0].blocks[0]);
    CU_ASSERT_EQUAL(r1->blocks[1], f.reqs[0].blocks[1]);
    CU_ASSERT_EQUAL(sched_kv_pool_ref_count(sched_kv_pool(f.s), f.reqs[0].blocks[0]), 2);
    sched_finish_step(f.s);
    /* request 0 finished, request 1 finished: all blocks back on the free
     * list, the group's two blocks still cached */
    CU_ASSERT_EQUAL(sched_num_running(f.s), 0);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(f.s)), 0);
    CU_ASSERT(sched_kv_pool_num_cached_free(sched_kv_pool(f.s)) >= 2);
    /* a prompt made only of the shared 8 tokens: the last token is always
     * computed, so only block 0 hits and 4 tokens are computed */
    SchedRequest *r2 = fx_add(&f, 8, 1, 7, 8);
    st = step_expect(&f, (const uint32_t[][2]){{2, 4}}, 1);
    CU_ASSERT_EQUAL(r2->num_cached_tokens, 4);
    CU_ASSERT_EQUAL(st->batch.entries[0].cached_tokens, 4);
    sched_finish_step(f.s);
    /* another group never hits */
    SchedRequest *r3 = fx_add(&f, 12, 1, 8, 8);
    step_expect(&f, (const uint32_t[][2]){{3, 12}}, 1);
    CU_ASSERT_EQUAL(r3->num_cached_tokens, 0);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(sched_prefix_hit_tokens(f.s), 12);
    fx_free(&f);
}

/* Without caching the same workload never hits. */
static void test_prefix_off(void)
{
    Fixture f;
    fx_init(&f, 8, 100, 50, 4, 0, FALSE);
    fx_add(&f, 10, 1, 7, 8);
    step_expect(&f, (const uint32_t[][2]){{0, 10}}, 1);
    sched_finish_step(f.s);
    fx_add(&f, 12, 1, 7, 8);
    step_expect(&f, (const uint32_t[][2]){{1, 12}}, 1);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(sched_prefix_hit_tokens(f.s), 0);
    fx_free(&f);
}

/* A preempted request finds its own blocks again when they were not reused.
 * Block size 4, 5 usable blocks, two prompts of 8 (2 blocks each). */
static void test_preempted_request_hits_its_blocks(void)
{
    Fixture f;
    fx_init(&f, 8, 100, 6, 4, 0, TRUE);
    fx_add(&f, 8, 2, 0, 0);
    fx_add(&f, 8, 12, 0, 0);
    step_expect(&f, (const uint32_t[][2]){{0, 8}, {1, 8}}, 2);
    sched_finish_step(f.s);
    /* computed 9 each: request 0 takes the last free block; request 1 has
     * none left and preempts itself: its 2 full blocks go to the free list
     * with their hashes */
    const SchedStep *st = sched_schedule(f.s);
    CU_ASSERT_EQUAL(st->num_preempted, 1);
    CU_ASSERT_EQUAL(f.reqs[1].status, SCHED_PREEMPTED);
    CU_ASSERT_EQUAL(sched_kv_pool_num_cached_free(sched_kv_pool(f.s)), 2);
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(f.reqs[0].status, SCHED_FINISHED);
    /* request 1 resumes with 9 tokens (8 prompt + 1 generated): blocks 0 and
     * 1 are hits (8 tokens); it computes 1 token in one new block */
    st = sched_schedule(f.s);
    assert_invariants(f.s);
    CU_ASSERT_EQUAL(st->num_admitted, 1);
    CU_ASSERT_EQUAL_FATAL(st->num_reqs, 1);
    CU_ASSERT_EQUAL(st->batch.entries[0].cached_tokens, 8);
    CU_ASSERT_EQUAL(st->batch.entries[0].new_tokens, 1);
    CU_ASSERT(st->batch.entries[0].emits_token);
    CU_ASSERT_EQUAL(f.reqs[1].num_cached_tokens, 0); /* its first admission had no hit */
    sched_finish_step(f.s);
    CU_ASSERT_EQUAL(f.reqs[1].num_output, 2);
    fx_free(&f);
}

/* --------------------------------------------------- KV pool vs a model -- */

/* Distinct (domain, owner, index) triples must give distinct hashes, or
 * requests would hit blocks that hold other tokens. */
static void test_block_hashes_distinct(void)
{
    GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
    guint64 *keys = g_new(guint64, 2 * 300 * 300);
    guint n = 0;
    for (uint64_t domain = 1; domain <= 2; domain++)
        for (uint64_t owner = 0; owner < 300; owner++)
            for (uint32_t index = 0; index < 300; index++) {
                keys[n] = sched_kv_block_hash(domain, owner, index);
                CU_ASSERT_NOT_EQUAL(keys[n], 0);
                if (g_hash_table_contains(seen, &keys[n])) {
                    CU_FAIL("two blocks share a hash");
                    goto out;
                }
                g_hash_table_add(seen, &keys[n]);
                n++;
            }
out:
    g_hash_table_destroy(seen);
    g_free(keys);
}

static void test_kv_pool_lru_and_eviction(void)
{
    SchedKvPool *p = sched_kv_pool_new(4, 16, TRUE);
    uint32_t a[2], b[2];
    sched_kv_pool_take(p, 2, a);
    CU_ASSERT_EQUAL(a[0], 0);
    CU_ASSERT_EQUAL(a[1], 1);
    CU_ASSERT(sched_kv_pool_cache(p, a[0], 111, TRUE));
    CU_ASSERT(sched_kv_pool_cache(p, a[1], 222, TRUE));
    CU_ASSERT_FALSE(sched_kv_pool_cache(p, a[1], 333, TRUE)); /* already hashed */
    sched_kv_pool_release(p, a, 2); /* tail first: 1 then 0 at the tail */
    CU_ASSERT_EQUAL(sched_kv_pool_num_free(p), 4);
    CU_ASSERT_EQUAL(sched_kv_pool_num_cached_free(p), 2);
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 111), 0);
    /* the free list is now 2, 3, 1, 0: taking 3 evicts block 1's hash only */
    sched_kv_pool_take(p, 2, b);
    CU_ASSERT_EQUAL(b[0], 2);
    CU_ASSERT_EQUAL(b[1], 3);
    uint32_t c;
    sched_kv_pool_take(p, 1, &c);
    CU_ASSERT_EQUAL(c, 1);
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 222), SCHED_KV_NONE);
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 111), 0);
    /* a hit on a free block takes it off the free list */
    sched_kv_pool_touch(p, 0);
    CU_ASSERT_EQUAL(sched_kv_pool_num_free(p), 0);
    CU_ASSERT_EQUAL(sched_kv_pool_ref_count(p, 0), 1);
    char *why = NULL;
    CU_ASSERT(sched_kv_pool_check(p, &why));
    g_free(why);
    sched_kv_pool_free(p);
}

/* A block of one request's own tokens is not in the map: only its owner,
 * who knows where it is, finds it, until the block is reused. */
static void test_kv_pool_owner_blocks(void)
{
    SchedKvPool *p = sched_kv_pool_new(2, 16, TRUE);
    uint32_t a, b, c;
    sched_kv_pool_take(p, 1, &a);
    CU_ASSERT(sched_kv_pool_cache(p, a, 777, FALSE));
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 777), SCHED_KV_NONE); /* not shared */
    CU_ASSERT(sched_kv_pool_holds(p, a, 777));
    CU_ASSERT_FALSE(sched_kv_pool_holds(p, a, 778));
    sched_kv_pool_release(p, &a, 1);
    CU_ASSERT(sched_kv_pool_holds(p, a, 777)); /* freed, still holds it */
    CU_ASSERT_EQUAL(sched_kv_pool_num_cached_free(p), 1);
    sched_kv_pool_take(p, 1, &b); /* the other block first (LRU) */
    CU_ASSERT_NOT_EQUAL(b, a);
    CU_ASSERT(sched_kv_pool_holds(p, a, 777));
    sched_kv_pool_take(p, 1, &c); /* now a is reused: its content is gone */
    CU_ASSERT_EQUAL(c, a);
    CU_ASSERT_FALSE(sched_kv_pool_holds(p, a, 777));
    char *why = NULL;
    CU_ASSERT(sched_kv_pool_check(p, &why));
    g_free(why);
    sched_kv_pool_free(p);
}

/* Random operations against a naive model: a count per block, a map from
 * hash to block, and vLLM's free queue as a plain array of places, head
 * first: a keyed block, or DEAD for a block without a key (which block fills
 * a dead place does not matter, only that it is one of the dead blocks).
 * Releases are plain or as for a finished request (which forgets the keys
 * of blocks not in the map: here, those cached with shared FALSE). */
#define DEAD UINT32_MAX
static void test_kv_pool_random_vs_naive(void)
{
    enum { NB = 64 };
    GRand *rng = g_rand_new_with_seed(12345);
    SchedKvPool *p = sched_kv_pool_new(NB, 16, TRUE);
    uint32_t ref[NB] = {0};
    uint64_t hash[NB] = {0};
    gboolean shared[NB] = {0};
    uint32_t queue[NB], nq = NB; /* places, head first */
    gboolean dead[NB];           /* free and without a key */
    for (uint32_t i = 0; i < NB; i++) {
        queue[i] = DEAD;
        dead[i] = TRUE;
    }
    GArray *held = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    uint64_t next_hash = 1000;
    uint32_t dead_takes = 0, keyed_takes = 0;
    for (int op = 0; op < 40000; op++) {
        int kind = g_rand_int_range(rng, 0, 4);
        if (kind == 0 && nq > 0) { /* take */
            uint32_t got;
            sched_kv_pool_take(p, 1, &got);
            if (queue[0] == DEAD) {
                CU_ASSERT_FATAL(got < NB && dead[got]);
                dead[got] = FALSE;
                dead_takes++;
            } else {
                CU_ASSERT_EQUAL_FATAL(got, queue[0]); /* the least recently freed keyed block: evicted */
                keyed_takes++;
            }
            memmove(queue, queue + 1, (--nq) * sizeof queue[0]);
            hash[got] = 0;
            ref[got] = 1;
            g_array_append_val(held, got);
        } else if (kind == 1 && held->len > 0) { /* release one holder */
            guint k = g_rand_int_range(rng, 0, held->len);
            uint32_t blk = g_array_index(held, uint32_t, k);
            g_array_remove_index(held, k);
            gboolean finished = g_rand_boolean(rng);
            if (finished)
                sched_kv_pool_release_finished(p, &blk, 1);
            else
                sched_kv_pool_release(p, &blk, 1);
            if (--ref[blk] == 0) {
                if (finished && !shared[blk])
                    hash[blk] = 0;
                queue[nq++] = hash[blk] ? blk : DEAD;
                dead[blk] = hash[blk] == 0;
            }
        } else if (kind == 2 && held->len > 0) { /* cache a held block */
            uint32_t blk = g_array_index(held, uint32_t, g_rand_int_range(rng, 0, held->len));
            gboolean sh = g_rand_boolean(rng);
            gboolean ok = sched_kv_pool_cache(p, blk, next_hash, sh);
            CU_ASSERT_EQUAL(ok, hash[blk] == 0);
            if (ok) {
                hash[blk] = next_hash;
                shared[blk] = sh;
            }
            next_hash++;
        } else if (kind == 3) { /* find a random block by its key and touch it */
            uint32_t blk = g_rand_int_range(rng, 0, NB);
            if (hash[blk]) {
                if (shared[blk]) {
                    CU_ASSERT_EQUAL_FATAL(sched_kv_pool_lookup(p, hash[blk]), blk);
                } else {
                    CU_ASSERT_FATAL(sched_kv_pool_holds(p, blk, hash[blk]));
                }
                sched_kv_pool_touch(p, blk);
                if (ref[blk]++ == 0) {
                    uint32_t j = 0;
                    while (queue[j] != blk)
                        j++;
                    memmove(queue + j, queue + j + 1, (nq - j - 1) * sizeof queue[0]);
                    nq--;
                }
                g_array_append_val(held, blk);
            }
        }
        CU_ASSERT_EQUAL_FATAL(sched_kv_pool_num_free(p), nq);
        CU_ASSERT_EQUAL_FATAL(sched_kv_pool_num_used(p) + sched_kv_pool_num_free(p), NB);
        if (op % 101 == 0) {
            char *bad = NULL;
            CU_ASSERT_FATAL(sched_kv_pool_check(p, &bad));
            g_free(bad);
        }
    }
    /* both kinds of place were taken many times */
    CU_ASSERT(dead_takes > 1000);
    CU_ASSERT(keyed_takes > 1000);
    uint32_t cached_free = 0;
    for (uint32_t b = 0; b < NB; b++) {
        CU_ASSERT_EQUAL(sched_kv_pool_ref_count(p, b), ref[b]);
        if (hash[b] && shared[b]) {
            CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, hash[b]), b);
        }
        if (hash[b] && !shared[b]) {
            CU_ASSERT(sched_kv_pool_holds(p, b, hash[b]));
        }
        if (hash[b] && ref[b] == 0)
            cached_free++;
    }
    CU_ASSERT_EQUAL(sched_kv_pool_num_cached_free(p), cached_free);
    char *why = NULL;
    CU_ASSERT(sched_kv_pool_check(p, &why));
    g_free(why);
    g_array_free(held, TRUE);
    sched_kv_pool_free(p);
    g_rand_free(rng);
}
#undef DEAD

/* ------------------------------------------- invariants, random loads -- */

static void run_random_workload(guint32 seed, gboolean caching, uint32_t threshold)
{
    GRand *rng = g_rand_new_with_seed(seed);
    enum { N = 400 };
    SchedConfig c = {.max_num_seqs = (uint32_t)g_rand_int_range(rng, 1, 40),
                     .max_model_len = 2048,
                     .block_size = 16,
                     .num_gpu_blocks = (uint32_t)g_rand_int_range(rng, 60, 400),
                     .long_prefill_token_threshold = threshold,
                     .enable_prefix_caching = caching};
    c.max_num_batched_tokens = c.max_num_seqs + (uint32_t)g_rand_int_range(rng, 0, 1024);
    SchedScheduler *s = sched_new(&c, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    SchedRequest *reqs = g_new0(SchedRequest, N);
    uint32_t *emitted = g_new0(uint32_t, N);
    uint32_t arrived = 0, finished = 0, rejected = 0;
    uint64_t steps = 0;
    while (finished + rejected < N) {
        /* a few arrivals between steps */
        int k = g_rand_int_range(rng, 0, 4);
        while (k-- > 0 && arrived < N) {
            SchedRequest *r = &reqs[arrived];
            uint32_t group = g_rand_boolean(rng) ? (uint32_t)g_rand_int_range(rng, 1, 4) : 0;
            sched_request_init(r, arrived, (uint32_t)g_rand_int_range(rng, 1, 1200),
                               (uint32_t)g_rand_int_range(rng, 1, 300), group,
                               (uint32_t)g_rand_int_range(rng, 0, 600));
            arrived++;
            if (sched_check_fit(s, r->prompt_tokens, r->max_output_tokens) != SCHED_FITS) {
                rejected++;
                continue;
            }
            sched_add_request(s, r);
        }
        const SchedStep *st = sched_schedule(s);
        if (st->num_reqs == 0) {
            CU_ASSERT_EQUAL_FATAL(sched_num_running(s) + sched_num_waiting(s), 0);
            continue;
        }
        steps++;
        CU_ASSERT_FATAL(st->batch.total_tokens <= c.max_num_batched_tokens);
        char *why = NULL;
        if (!sched_check_invariants(s, &why)) {
            fprintf(stderr, "\n  seed %u step %" G_GUINT64_FORMAT ": %s\n", seed, steps, why);
            CU_FAIL_FATAL("invariant broken");
        }
        g_free(why);
        sched_finish_step(s);
        for (uint32_t i = 0; i < st->num_reqs; i++) {
            SchedRequest *r = st->reqs[i];
            if (r->step_flags & SCHED_EMITTED)
                emitted[r->id]++;
            CU_ASSERT_FATAL(r->num_output <= r->max_output_tokens);
            if (r->step_flags & SCHED_FINISHED_NOW) {
                finished++;
                CU_ASSERT_EQUAL(r->num_output, r->max_output_tokens);
            }
        }
        /* arrived = completed + rejected + in flight */
        CU_ASSERT_EQUAL_FATAL(arrived, finished + rejected + sched_num_running(s) + sched_num_waiting(s));
        const SchedKvPool *pool = sched_kv_pool(s);
        CU_ASSERT_EQUAL_FATAL(sched_kv_pool_num_used(pool) + sched_kv_pool_num_free(pool),
                              sched_kv_pool_num_blocks(pool));
    }
    for (uint32_t i = 0; i < N; i++) {
        if (reqs[i].status == SCHED_FINISHED)
            CU_ASSERT_EQUAL(emitted[i], reqs[i].max_output_tokens);
        sched_request_release(&reqs[i]);
    }
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(s)), 0);
    g_free(reqs);
    g_free(emitted);
    sched_free(s);
    g_rand_free(rng);
}

static void test_invariants_random(void)
{
    for (guint32 seed = 1; seed <= 12; seed++)
        run_random_workload(seed, seed % 2 == 0, seed % 3 == 0 ? 64 : 0);
}

static const SsTestCase step_cases[] = {
    {"budget split between running and waiting", test_budget_split},
    {"chunked prefill of a long prompt", test_chunked_prefill},
    {"long_prefill_token_threshold caps a chunk", test_long_prefill_threshold},
    {"max_num_seqs caps the running set", test_max_num_seqs},
    {"preemption takes the tail, no admission after", test_preemption_order},
    {"a request can preempt itself", test_self_preemption},
    {"requests that can never fit", test_fit_checks},
    {"configuration errors name the flag", test_config_errors},
    {NULL, NULL},
};

static const SsTestCase prefix_cases[] = {
    {"hits on a shared prefix, last token computed", test_prefix_hits},
    {"no hits without prefix caching", test_prefix_off},
    {"a preempted request hits its own blocks", test_preempted_request_hits_its_blocks},
    {NULL, NULL},
};

static const SsTestCase pool_cases[] = {
    {"block hashes are distinct", test_block_hashes_distinct},
    {"LRU order and eviction", test_kv_pool_lru_and_eviction},
    {"blocks only their owner can find", test_kv_pool_owner_blocks},
    {"random operations against a naive model", test_kv_pool_random_vs_naive},
    {NULL, NULL},
};

static const SsTestCase invariant_cases[] = {
    {"invariants after every step, random workloads", test_invariants_random},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {
        {"scheduler steps", step_cases},
        {"prefix caching", prefix_cases},
        {"kv pool", pool_cases},
        {"invariants", invariant_cases},
        {NULL, NULL},
    };
    return ss_test_main(argc, argv, suites);
}
