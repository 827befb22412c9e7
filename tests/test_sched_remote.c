/*
 * test_sched_remote.c: the scheduler's side of KV transfers (disaggregated
 * prefill and decode), on small cases worked out by hand:
 * - a request whose KV comes from elsewhere gets its prompt's blocks at
 *   admission, takes no token budget and no running slot, is never
 *   scheduled while it waits, and after its KV arrives computes one token
 *   (the last of its prompt) to sample its first output token;
 * - a local prefix hit is not loaded; blocks still loading are not found in
 *   the prefix cache, and are once loaded;
 * - admission stays FCFS: a request waiting for blocks holds back the ones
 *   behind it;
 * - a held request keeps its blocks after finishing until released;
 * - resetting an empty scheduler's cache frees every block;
 * - the invariants (blocks used + free = total, holders = reference counts)
 *   hold after every step.
 */
#include <string.h>

#include "sched.h"
#include "ss_test.h"

#define MAXR 16

typedef struct {
    SchedScheduler *s;
    SchedRequest reqs[MAXR];
    uint32_t n;
} Fixture;

static void fx_init(Fixture *f, uint32_t mns, uint32_t mnbt, uint32_t blocks, uint32_t bs, gboolean caching)
{
    memset(f, 0, sizeof *f);
    SchedConfig c = {.max_num_seqs = mns,
                     .max_num_batched_tokens = mnbt,
                     .max_model_len = 100000,
                     .block_size = bs,
                     .num_gpu_blocks = blocks,
                     .enable_prefix_caching = caching};
    GError *error = NULL;
    f->s = sched_new(&c, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f->s);
}

static SchedRequest *fx_add(Fixture *f, uint32_t prompt, uint32_t output, uint32_t group, uint32_t shared,
                            uint8_t kv_flags)
{
    CU_ASSERT_FATAL(f->n < MAXR);
    SchedRequest *r = &f->reqs[f->n];
    sched_request_init(r, f->n, prompt, output, group, shared);
    r->kv_flags = kv_flags;
    f->n++;
    sched_add_request(f->s, r);
    return r;
}

static void fx_free(Fixture *f)
{
    for (uint32_t i = 0; i < f->n; i++)
        sched_request_release(&f->reqs[i]);
    sched_free(f->s);
}

static void check(SchedScheduler *s)
{
    char *why = NULL;
    gboolean ok = sched_check_invariants(s, &why);
    if (!ok)
        fprintf(stderr, "\n  invariant broken: %s\n", why);
    CU_ASSERT(ok);
    g_free(why);
    const SchedKvPool *p = sched_kv_pool(s);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(p) + sched_kv_pool_num_free(p), sched_kv_pool_num_blocks(p));
}

static const SchedStep *step(Fixture *f)
{
    const SchedStep *st = sched_schedule(f->s);
    check(f->s);
    return st;
}

static void finish(Fixture *f)
{
    sched_finish_step(f->s);
    check(f->s);
}

static void test_remote_lifecycle(void)
{
    Fixture f;
    fx_init(&f, 4, 64, 33, 16, TRUE); /* 32 usable blocks of 16 tokens */
    SchedRequest *a = fx_add(&f, 40, 3, 0, 0, SCHED_KV_REMOTE);
    const SchedStep *st = step(&f);
    /* admitted to load: 3 blocks (40 tokens), nothing scheduled, no budget used */
    CU_ASSERT_EQUAL(st->num_reqs, 0);
    CU_ASSERT_EQUAL(st->num_remote_admitted, 1);
    CU_ASSERT_PTR_EQUAL(st->remote_admitted[0], a);
    CU_ASSERT_EQUAL(a->status, SCHED_WAITING_FOR_REMOTE_KV);
    CU_ASSERT_EQUAL(a->num_blocks, 3);
    CU_ASSERT_EQUAL(sched_request_remote_tokens(a), 40);
    CU_ASSERT_EQUAL(sched_num_remote_waiting(f.s), 1);
    CU_ASSERT_EQUAL(sched_num_waiting(f.s), 0);
    CU_ASSERT_EQUAL(sched_num_running(f.s), 0);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(f.s)), 3);
    /* while it loads it is never scheduled, and it is reported once */
    st = step(&f);
    CU_ASSERT_EQUAL(st->num_reqs, 0);
    CU_ASSERT_EQUAL(st->num_remote_admitted, 0);
    /* an ordinary request runs meanwhile */
    SchedRequest *b = fx_add(&f, 10, 2, 0, 0, 0);
    st = step(&f);
    CU_ASSERT_EQUAL(st->num_reqs, 1);
    CU_ASSERT_PTR_EQUAL(st->reqs[0], b);
    finish(&f);
    /* the KV arrives: one token (the prompt's last) samples the first token */
    sched_remote_kv_ready(f.s, a);
    check(f.s);
    CU_ASSERT_EQUAL(a->num_computed, 39);
    CU_ASSERT_EQUAL(sched_num_remote_waiting(f.s), 0);
    CU_ASSERT_EQUAL(sched_num_waiting(f.s), 1);
    CU_ASSERT_PTR_EQUAL(sched_waiting_at(f.s, 0), a);
    st = step(&f);
    CU_ASSERT_EQUAL(st->num_reqs, 2); /* b decodes, a computes one token */
    CU_ASSERT_PTR_EQUAL(st->reqs[1], a);
    CU_ASSERT_EQUAL(st->batch.entries[1].new_tokens, 1);
    CU_ASSERT_EQUAL(st->batch.entries[1].cached_tokens, 39);
    CU_ASSERT(st->batch.entries[1].emits_token);
    finish(&f);
    CU_ASSERT_EQUAL(a->num_output, 1);
    CU_ASSERT(a->step_flags & SCHED_FIRST);
    /* the loaded tokens are not prefix-cache hits */
    CU_ASSERT_EQUAL(a->num_cached_tokens, 0);
    CU_ASSERT_EQUAL(sched_prefix_hit_tokens(f.s), 0);
    for (int i = 0; i < 3; i++) {
        step(&f);
        finish(&f);
    }
    CU_ASSERT_EQUAL(a->status, SCHED_FINISHED);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(f.s)), 0);
    fx_free(&f);
}

static void test_remote_prefix(void)
{
    Fixture f;
    fx_init(&f, 4, 256, 33, 16, TRUE);
    /* a request of group 7 computes its 48-token shared prefix here */
    SchedRequest *a = fx_add(&f, 64, 1, 7, 48, 0);
    step(&f);
    finish(&f);
    CU_ASSERT_EQUAL(a->status, SCHED_FINISHED);
    /* a remote request of the same group loads only what it misses */
    SchedRequest *b = fx_add(&f, 80, 2, 7, 48, SCHED_KV_REMOTE);
    step(&f);
    CU_ASSERT_EQUAL(b->status, SCHED_WAITING_FOR_REMOTE_KV);
    CU_ASSERT_EQUAL(b->num_cached_tokens, 48);
    CU_ASSERT_EQUAL(sched_request_remote_tokens(b), 32);
    /* a remote request of another group 9: its blocks stay out of the cache
     * until they are loaded */
    SchedRequest *c = fx_add(&f, 64, 2, 9, 64, SCHED_KV_REMOTE);
    step(&f);
    CU_ASSERT_EQUAL(sched_request_remote_tokens(c), 64);
    SchedRequest *d = fx_add(&f, 64, 1, 9, 64, 0);
    step(&f);
    CU_ASSERT_EQUAL(d->num_cached_tokens, 0); /* nothing of group 9 is cached yet */
    finish(&f);
    sched_remote_kv_ready(f.s, c); /* its full blocks (63 computed tokens: 3) enter the cache */
    check(f.s);
    SchedRequest *e = fx_add(&f, 64, 1, 9, 64, 0);
    const SchedStep *st = step(&f);
    CU_ASSERT_EQUAL(e->num_cached_tokens, 48);
    CU_ASSERT(st->num_reqs >= 1);
    finish(&f);
    sched_remote_kv_ready(f.s, b);
    for (int i = 0; i < 4; i++) {
        step(&f);
        finish(&f);
    }
    CU_ASSERT_EQUAL(b->status, SCHED_FINISHED);
    CU_ASSERT_EQUAL(c->status, SCHED_FINISHED);
    fx_free(&f);
}

static void test_remote_fcfs_and_slots(void)
{
    Fixture f;
    fx_init(&f, 1, 64, 9, 16, FALSE); /* 8 usable blocks, one running request at most */
    SchedRequest *a = fx_add(&f, 16, 50, 0, 0, 0);
    step(&f); /* a runs: 1 block, then more as it decodes */
    finish(&f);
    /* remote requests take no running slot: two of them load while a runs */
    SchedRequest *b = fx_add(&f, 48, 2, 0, 0, SCHED_KV_REMOTE);
    SchedRequest *c = fx_add(&f, 48, 2, 0, 0, SCHED_KV_REMOTE);
    const SchedStep *st = sched_schedule(f.s);
    check(f.s);
    /* max_num_seqs = 1 is taken by a: nothing is admitted, not even to load */
    CU_ASSERT_EQUAL(st->num_remote_admitted, 0);
    sched_finish_step(f.s);
    a->max_output_tokens = a->num_output + 1; /* a ends at the next step */
    step(&f);
    finish(&f);
    CU_ASSERT_EQUAL(a->status, SCHED_FINISHED);
    st = step(&f);
    CU_ASSERT_EQUAL(st->num_remote_admitted, 2);
    CU_ASSERT_EQUAL(b->num_blocks + c->num_blocks, 6);
    /* a third needs 3 blocks, 2 are free: it waits, and so does the ordinary one behind it */
    SchedRequest *d = fx_add(&f, 48, 2, 0, 0, SCHED_KV_REMOTE);
    SchedRequest *e = fx_add(&f, 8, 1, 0, 0, 0);
    st = step(&f);
    CU_ASSERT_EQUAL(st->num_remote_admitted, 0);
    CU_ASSERT_EQUAL(st->num_reqs, 0);
    CU_ASSERT_EQUAL(d->status, SCHED_WAITING);
    CU_ASSERT_EQUAL(e->status, SCHED_WAITING);
    sched_remote_kv_ready(f.s, c);
    sched_remote_kv_ready(f.s, b);
    CU_ASSERT_PTR_EQUAL(sched_waiting_at(f.s, 0), c); /* in the order their KV arrived */
    CU_ASSERT_PTR_EQUAL(sched_waiting_at(f.s, 1), b);
    for (int i = 0; i < 12 && e->status != SCHED_FINISHED; i++) {
        step(&f);
        finish(&f);
        if (d->status == SCHED_WAITING_FOR_REMOTE_KV)
            sched_remote_kv_ready(f.s, d);
    }
    CU_ASSERT_EQUAL(b->status, SCHED_FINISHED);
    CU_ASSERT_EQUAL(c->status, SCHED_FINISHED);
    CU_ASSERT_EQUAL(e->status, SCHED_FINISHED);
    fx_free(&f);
}

static void test_held_blocks(void)
{
    Fixture f;
    fx_init(&f, 4, 256, 33, 16, TRUE);
    SchedRequest *a = fx_add(&f, 100, 1, 7, 64, SCHED_KV_HOLD); /* 64 tokens shared with its prefix group */
    step(&f);
    finish(&f);
    /* finished, but its 7 blocks stay with it */
    CU_ASSERT_EQUAL(a->status, SCHED_FINISHED);
    CU_ASSERT(a->step_flags & SCHED_FINISHED_NOW);
    CU_ASSERT_EQUAL(sched_num_held(f.s), 1);
    CU_ASSERT_PTR_EQUAL(sched_held_at(f.s, 0), a);
    CU_ASSERT_EQUAL(a->num_blocks, 7);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(f.s)), 7);
    CU_ASSERT_EQUAL(sched_num_running(f.s), 0);
    sched_release_held(f.s, a);
    check(f.s);
    CU_ASSERT_EQUAL(sched_num_held(f.s), 0);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(f.s)), 0);
    /* the full blocks of its shared prefix stay cached for later requests
     * (those of its own tokens, which no one can look for, forget their
     * hash), until the cache is reset */
    CU_ASSERT_EQUAL(sched_kv_pool_num_cached_free(sched_kv_pool(f.s)), 4);
    sched_reset_cache(f.s);
    check(f.s);
    CU_ASSERT_EQUAL(sched_kv_pool_num_cached_free(sched_kv_pool(f.s)), 0);
    CU_ASSERT_EQUAL(sched_kv_pool_num_free(sched_kv_pool(f.s)), 32);
    fx_free(&f);
}

static const SsTestCase remote_cases[] = {
    {"a remote request: blocks at admission, no budget, one token after its KV", test_remote_lifecycle},
    {"local prefix hits are not loaded; loading blocks are not cached", test_remote_prefix},
    {"FCFS admission and running slots with remote requests", test_remote_fcfs_and_slots},
    {"held blocks until released; cache reset", test_held_blocks},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const SsTestSuite suites[] = {{"sched_remote", remote_cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
