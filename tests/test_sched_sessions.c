/*
 * test_sched_sessions.c: prefix caching across the turns of multi-turn
 * sessions. Cases worked out by hand (a second turn's hit with block
 * rounding and the last prompt token, a turn that departs from the previous
 * tokens, sessions that must not share, preemption and re-admission, a next
 * turn that arrives while the previous one still runs), the pool's second
 * keys, and a reference model: random sessions whose tokens are spelled out
 * one by one, a shadow copy of what every KV block holds, and after every
 * step a check that each hit block holds exactly the request's tokens (no
 * false hit), that a pool which never evicts hits exactly what content
 * comparison finds, and the scheduler's invariants.
 */
#include <string.h>

#include "sched.h"
#include "sched_kv.h"
#include "ss_test.h"

static SchedScheduler *new_sched(uint32_t mns, uint32_t mnbt, uint32_t blocks, uint32_t bs)
{
    SchedConfig c = {.max_num_seqs = mns,
                     .max_num_batched_tokens = mnbt,
                     .max_model_len = 100000,
                     .block_size = bs,
                     .num_gpu_blocks = blocks,
                     .enable_prefix_caching = TRUE};
    SchedScheduler *s = sched_new(&c, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

static void check_invariants(const SchedScheduler *s)
{
    char *why = NULL;
    gboolean ok = sched_check_invariants(s, &why);
    if (!ok)
        fprintf(stderr, "\n  invariant broken: %s\n", why);
    CU_ASSERT_FATAL(ok);
    g_free(why);
}

static void add_turn(SchedScheduler *s, SchedRequest *r, uint64_t id, uint32_t prompt, uint32_t output,
                     uint64_t session, uint32_t prefix, uint32_t branch, uint32_t prefix_branch)
{
    sched_request_init(r, id, prompt, output, 0, 0);
    sched_request_set_session(r, session, prefix, branch, prefix_branch);
    CU_ASSERT_EQUAL_FATAL(sched_check_fit(s, prompt, output), SCHED_FITS);
    sched_add_request(s, r);
}

/* Steps until no request is running or waiting (checking invariants). */
static void run_all(SchedScheduler *s)
{
    for (int guard = 0; guard < 100000 && sched_num_running(s) + sched_num_waiting(s) > 0; guard++) {
        const SchedStep *st = sched_schedule(s);
        CU_ASSERT_FATAL(st->num_reqs > 0);
        check_invariants(s);
        sched_finish_step(s);
    }
    CU_ASSERT_EQUAL(sched_num_running(s) + sched_num_waiting(s), 0);
}

/* Steps until request r has been admitted (returns the step that admitted it). */
static const SchedStep *run_until_admitted(SchedScheduler *s, const SchedRequest *r)
{
    for (int guard = 0; guard < 100000; guard++) {
        const SchedStep *st = sched_schedule(s);
        check_invariants(s);
        for (uint32_t i = st->num_reqs - st->num_admitted; i < st->num_reqs; i++)
            if (st->reqs[i] == r)
                return st;
        sched_finish_step(s);
    }
    CU_FAIL_FATAL("never admitted");
    return NULL;
}

/* ------------------------------------------------------ worked by hand -- */

/* Block size 16. Turn 1: prompt 100, output 40: KV for 139 tokens (the last
 * sampled token never has any), so 8 full blocks (128 tokens) are
 * registered; block 8 (tokens 128-143) is partial. Turn 2: prompt 140 + 30
 * new = 170 with a session prefix of 140: blocks 0-7 hit (128 tokens),
 * block 8 misses (never registered), 42 tokens are computed. Turn 3: prompt
 * 170 + 20 + 10 = 200, prefix 190: turn 2 had KV for 189 tokens, 11 full
 * blocks: 176 tokens hit. */
static void test_second_turn_hit_by_hand(void)
{
    SchedScheduler *s = new_sched(8, 4096, 200, 16);
    SchedRequest t1, t2, t3;
    add_turn(s, &t1, 1, 100, 40, 7, 0, 0, 0);
    run_all(s);
    CU_ASSERT_EQUAL(t1.num_cached_tokens, 0);
    uint32_t t1_blocks[9];
    memcpy(t1_blocks, t1.blocks, sizeof t1_blocks); /* ids stay in the array after the release */

    add_turn(s, &t2, 2, 170, 20, 7, 140, 0, 0);
    const SchedStep *st = run_until_admitted(s, &t2);
    CU_ASSERT_EQUAL(t2.num_cached_tokens, 128);
    CU_ASSERT_EQUAL(st->batch.entries[st->num_reqs - 1].cached_tokens, 128);
    CU_ASSERT_EQUAL(st->batch.entries[st->num_reqs - 1].new_tokens, 42);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(t2.blocks[i], t1_blocks[i]); /* the very blocks turn 1 computed */
    /* the ninth block was partly filled, so it is not a hit: the 42 new
     * tokens go into a block that holds nothing anyone can find (which
     * block does not matter) */
    CU_ASSERT_EQUAL(t2.num_blocks, 11);
    sched_finish_step(s);
    run_all(s);

    add_turn(s, &t3, 3, 200, 5, 7, 190, 0, 0);
    run_until_admitted(s, &t3);
    CU_ASSERT_EQUAL(t3.num_cached_tokens, 176);
    sched_finish_step(s);
    run_all(s);
    CU_ASSERT_EQUAL(sched_prefix_hit_tokens(s), 128 + 176);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(s)), 0);
    sched_request_release(&t1);
    sched_request_release(&t2);
    sched_request_release(&t3);
    sched_free(s);
}

/* The last prompt token is always computed. Turn 1: prompt 112, output 17:
 * KV for 128 tokens, 8 full blocks. A next turn of exactly those 129 tokens
 * hits all 8 blocks (128) and computes 1; a next turn of 128 tokens (its
 * last is the token that never had KV) may hit only 7 blocks (112) and
 * computes 16. */
static void test_last_prompt_token_computed(void)
{
    SchedScheduler *s = new_sched(8, 4096, 200, 16);
    SchedRequest t1, a, b;
    add_turn(s, &t1, 1, 112, 17, 3, 0, 0, 0);
    run_all(s);
    add_turn(s, &a, 2, 129, 1, 3, 129, 0, 0);
    const SchedStep *st = run_until_admitted(s, &a);
    CU_ASSERT_EQUAL(a.num_cached_tokens, 128);
    CU_ASSERT_EQUAL(st->batch.entries[0].new_tokens, 1);
    sched_finish_step(s);
    run_all(s);
    add_turn(s, &b, 3, 128, 1, 3, 128, 0, 0);
    st = run_until_admitted(s, &b);
    CU_ASSERT_EQUAL(b.num_cached_tokens, 112);
    CU_ASSERT_EQUAL(st->batch.entries[0].new_tokens, 16);
    sched_finish_step(s);
    run_all(s);
    sched_request_release(&t1);
    sched_request_release(&a);
    sched_request_release(&b);
    sched_free(s);
}

/* A turn that keeps only the previous prompt (its prompt carries another
 * answer than the one generated) starts branch 1. Turn 1: prompt 100,
 * output 60: 9 full blocks (144 tokens), block 6 (tokens 96-111) holds
 * prompt tokens 96-99 and generated ones. Turn 2: prefix 100, prompt 300:
 * blocks 0-5 hit (96 tokens); block 6 must miss. Turn 3 continues turn 2
 * (prefix 300 + 50 = 350, branch 1): turn 2 had KV for 349 tokens, 21 full
 * blocks: 336 tokens hit, blocks 0-5 through the second name turn 2 gave
 * them. Turn 4 departs from turn 3 at 250 (branch 2): 15 blocks, 240. */
static void test_departing_turn_starts_branch(void)
{
    SchedScheduler *s = new_sched(8, 4096, 400, 16);
    SchedRequest t1, t2, t3, t4;
    add_turn(s, &t1, 1, 100, 60, 9, 0, 0, 0);
    run_all(s);
    uint32_t t1_block6 = t1.blocks[6];
    add_turn(s, &t2, 2, 300, 50, 9, 100, 1, 0);
    run_until_admitted(s, &t2);
    CU_ASSERT_EQUAL(t2.num_cached_tokens, 96);
    CU_ASSERT_NOT_EQUAL(t2.blocks[6], t1_block6);
    sched_finish_step(s);
    run_all(s);
    /* had turn 2 claimed to continue all of turn 1 (branch 0) it would have
     * taken block 6 and beyond: the branch is what prevents it */
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(sched_kv_pool(s), sched_kv_session_block_hash(9, 0, 6)), t1_block6);

    add_turn(s, &t3, 3, 400, 5, 9, 350, 1, 1);
    run_until_admitted(s, &t3);
    CU_ASSERT_EQUAL(t3.num_cached_tokens, 336);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(t3.blocks[i], t1.blocks[i]);
    sched_finish_step(s);
    run_all(s);

    add_turn(s, &t4, 4, 260, 5, 9, 250, 2, 1);
    run_until_admitted(s, &t4);
    CU_ASSERT_EQUAL(t4.num_cached_tokens, 240);
    sched_finish_step(s);
    run_all(s);
    CU_ASSERT_EQUAL(sched_prefix_hit_tokens(s), 96 + 336 + 240);
    sched_request_release(&t1);
    sched_request_release(&t2);
    sched_request_release(&t3);
    sched_request_release(&t4);
    sched_free(s);
}

/* Same lengths in another session, or without a session: no hit. A turn
 * with a session prefix of 0 (not a continuation) starts a branch and hits
 * nothing either. */
static void test_no_hits_across_sessions(void)
{
    SchedScheduler *s = new_sched(8, 4096, 200, 16);
    SchedRequest a1, b2, plain, a2;
    add_turn(s, &a1, 1, 100, 40, 1, 0, 0, 0);
    run_all(s);
    add_turn(s, &b2, 2, 170, 5, 2, 140, 0, 0); /* session 2 never had a turn */
    run_until_admitted(s, &b2);
    CU_ASSERT_EQUAL(b2.num_cached_tokens, 0);
    sched_finish_step(s);
    run_all(s);
    sched_request_init(&plain, 3, 170, 5, 0, 0);
    sched_add_request(s, &plain);
    run_until_admitted(s, &plain);
    CU_ASSERT_EQUAL(plain.num_cached_tokens, 0);
    sched_finish_step(s);
    run_all(s);
    add_turn(s, &a2, 4, 170, 5, 1, 0, 1, 0);
    run_until_admitted(s, &a2);
    CU_ASSERT_EQUAL(a2.num_cached_tokens, 0);
    sched_finish_step(s);
    run_all(s);
    CU_ASSERT_EQUAL(sched_prefix_hit_tokens(s), 0);
    sched_request_release(&a1);
    sched_request_release(&b2);
    sched_request_release(&plain);
    sched_request_release(&a2);
    sched_free(s);
}

/* A group prefix inside a session: its blocks keep the group's name, so a
 * turn of another session of the same group hits them too. */
static void test_group_prefix_in_sessions(void)
{
    SchedScheduler *s = new_sched(8, 4096, 200, 16);
    SchedRequest a1, b1, a2;
    sched_request_init(&a1, 1, 100, 40, 5, 64);
    sched_request_set_session(&a1, 1, 0, 0, 0);
    sched_add_request(s, &a1);
    run_all(s);
    sched_request_init(&b1, 2, 90, 4, 5, 64); /* another session, same system prompt */
    sched_request_set_session(&b1, 2, 0, 0, 0);
    sched_add_request(s, &b1);
    run_until_admitted(s, &b1);
    CU_ASSERT_EQUAL(b1.num_cached_tokens, 64);
    sched_finish_step(s);
    run_all(s);
    sched_request_init(&a2, 3, 150, 4, 5, 64); /* session 1's next turn: group and session blocks */
    sched_request_set_session(&a2, 1, 140, 0, 0);
    sched_add_request(s, &a2);
    run_until_admitted(s, &a2);
    CU_ASSERT_EQUAL(a2.num_cached_tokens, 128);
    sched_finish_step(s);
    run_all(s);
    CU_ASSERT_EQUAL(sched_request_block_hash(&a2, 3, 16), sched_kv_block_hash(1, 5, 3));
    CU_ASSERT_EQUAL(sched_request_block_hash(&a2, 4, 16), sched_kv_session_block_hash(1, 0, 4));
    sched_request_release(&a1);
    sched_request_release(&b1);
    sched_request_release(&a2);
    sched_free(s);
}

/* Preemption and re-admission, block size 4, 12 usable blocks (ids 0-11).
 * Turn 1 (prompt 16, output 1) leaves blocks 0-3 registered; the free list
 * is then 4-11, 3, 2, 1, 0. A plain request (prompt 8, output 16) takes 4
 * and 5. Turn 2 (prompt 20, session prefix 17, output 20) hits blocks 0-3
 * (16 tokens) and computes 4 in block 7. Both decode; when the pool is
 * empty, turn 2 holds 7 full blocks (0, 1, 2, 3, 7, 8, 10: 28 tokens, the
 * last 8 of them generated) and, the tail of the running list, is
 * preempted: its blocks are freed last first (10, 8, 7, 3, 2, 1, 0) and
 * keep their names. The plain request's sixth block takes the head, block
 * 10. When turn 2 returns with 29 tokens, blocks 0-5 are still cached: 24
 * tokens hit, block 5 (tokens 20-23) holding tokens it had generated. */
static void test_preempted_turn_hits_again(void)
{
    SchedScheduler *s = new_sched(8, 64, 13, 4);
    SchedRequest t1, plain, t2;
    add_turn(s, &t1, 1, 16, 1, 4, 0, 0, 0);
    run_all(s);
    sched_request_init(&plain, 2, 8, 16, 0, 0);
    sched_add_request(s, &plain);
    run_until_admitted(s, &plain);
    sched_finish_step(s);
    add_turn(s, &t2, 3, 20, 20, 4, 17, 0, 0);
    run_until_admitted(s, &t2);
    CU_ASSERT_EQUAL(t2.num_cached_tokens, 16);
    const uint32_t first[] = {0, 1, 2, 3, 7};
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(t2.blocks[i], first[i]);
    sched_finish_step(s);
    while (t2.status != SCHED_PREEMPTED) {
        CU_ASSERT_FATAL(sched_num_running(s) == 2);
        sched_schedule(s);
        check_invariants(s);
        sched_finish_step(s);
    }
    CU_ASSERT_EQUAL(t2.num_prev_blocks, 7);
    CU_ASSERT_EQUAL(sched_request_num_tokens(&t2), 29);
    const uint32_t held[] = {0, 1, 2, 3, 7, 8, 10};
    for (int i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(t2.blocks[i], held[i]);
    const SchedStep *st = run_until_admitted(s, &t2);
    CU_ASSERT_EQUAL(plain.status, SCHED_FINISHED);
    CU_ASSERT_EQUAL(st->batch.entries[st->num_reqs - 1].cached_tokens, 24);
    CU_ASSERT_EQUAL(st->batch.entries[st->num_reqs - 1].new_tokens, 5);
    for (int i = 0; i < 6; i++)
        CU_ASSERT_EQUAL(t2.blocks[i], held[i]);
    CU_ASSERT_EQUAL(t2.num_cached_tokens, 16); /* the first admission's hit */
    CU_ASSERT_EQUAL(sched_prefix_hit_tokens(s), 16 + 24);
    sched_finish_step(s);
    run_all(s);
    CU_ASSERT_EQUAL(t2.status, SCHED_FINISHED);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(s)), 0);
    sched_request_release(&t1);
    sched_request_release(&plain);
    sched_request_release(&t2);
    sched_free(s);
}

/* The next turn arrives while the previous one is still decoding: it shares
 * the full blocks computed so far (two holders each) and computes the rest
 * itself; both finish and every block is free again. */
static void test_next_turn_arrives_early(void)
{
    SchedScheduler *s = new_sched(8, 4096, 200, 16);
    SchedRequest t1, t2;
    add_turn(s, &t1, 1, 64, 40, 6, 0, 0, 0);
    for (int k = 0; k < 10; k++) { /* prompt + 9 decode steps: KV for 73 tokens, 4 full blocks */
        sched_schedule(s);
        sched_finish_step(s);
    }
    CU_ASSERT_EQUAL(t1.num_computed, 73);
    /* the trace says turn 2 continues all of turn 1 (104 tokens) */
    add_turn(s, &t2, 2, 110, 4, 6, 104, 0, 0);
    run_until_admitted(s, &t2);
    CU_ASSERT_EQUAL(t2.num_cached_tokens, 64);
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(t2.blocks[i], t1.blocks[i]);
        CU_ASSERT_EQUAL(sched_kv_pool_ref_count(sched_kv_pool(s), t1.blocks[i]), 2);
    }
    sched_finish_step(s);
    run_all(s);
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(s)), 0);
    sched_request_release(&t1);
    sched_request_release(&t2);
    sched_free(s);
}

/* ------------------------------------------------------- pool aliases -- */

static void check_pool(const SchedKvPool *p)
{
    char *why = NULL;
    gboolean ok = sched_kv_pool_check(p, &why);
    if (!ok)
        fprintf(stderr, "\n  pool broken: %s\n", why);
    CU_ASSERT_FATAL(ok);
    g_free(why);
}

static void test_kv_pool_second_keys(void)
{
    SchedKvPool *p = sched_kv_pool_new(3, 16, TRUE);
    uint32_t a[3];
    sched_kv_pool_take(p, 3, a);
    CU_ASSERT(sched_kv_pool_cache(p, a[0], 100, TRUE));
    CU_ASSERT(sched_kv_pool_alias(p, a[0], 200));
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 100), a[0]);
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 200), a[0]);
    CU_ASSERT(sched_kv_pool_alias(p, a[0], 100)); /* its own first key: nothing to do */
    /* a newer second key replaces the older */
    CU_ASSERT(sched_kv_pool_alias(p, a[0], 300));
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 200), SCHED_KV_NONE);
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 300), a[0]);
    /* a block without a hash takes the key as its first */
    CU_ASSERT(sched_kv_pool_alias(p, a[1], 400));
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 400), a[1]);
    CU_ASSERT_FALSE(sched_kv_pool_cache(p, a[1], 401, TRUE));
    /* a key another block holds is refused */
    CU_ASSERT_FALSE(sched_kv_pool_alias(p, a[1], 300));
    /* an owner-only block has no name in the map to add to */
    CU_ASSERT(sched_kv_pool_cache(p, a[2], 500, FALSE));
    CU_ASSERT_FALSE(sched_kv_pool_alias(p, a[2], 600));
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 600), SCHED_KV_NONE);
    check_pool(p);
    /* reuse evicts both names */
    sched_kv_pool_release(p, a, 3);
    CU_ASSERT_EQUAL(sched_kv_pool_num_cached_free(p), 3);
    uint32_t b[3];
    sched_kv_pool_take(p, 3, b);
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 100), SCHED_KV_NONE);
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 300), SCHED_KV_NONE);
    CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, 400), SCHED_KV_NONE);
    check_pool(p);
    sched_kv_pool_free(p);

    SchedKvPool *off = sched_kv_pool_new(2, 16, FALSE);
    uint32_t c;
    sched_kv_pool_take(off, 1, &c);
    CU_ASSERT_FALSE(sched_kv_pool_alias(off, c, 7));
    sched_kv_pool_free(off);
}

/* Random first and second keys against a naive model (a list of names per
 * block); the map grows past its first size when every block has two. */
static void test_kv_pool_second_keys_random(void)
{
    enum { NB = 48 };
    GRand *rng = g_rand_new_with_seed(777);
    SchedKvPool *p = sched_kv_pool_new(NB, 16, TRUE);
    uint64_t first[NB] = {0}, second[NB] = {0};
    uint32_t ref[NB] = {0};
    uint64_t next = 1;
    for (int op = 0; op < 30000; op++) {
        uint32_t b = (uint32_t)g_rand_int_range(rng, 0, NB);
        int kind = g_rand_int_range(rng, 0, 5);
        if (kind == 0 && sched_kv_pool_num_free(p) > 0) { /* take (evicts the head) */
            uint32_t got;
            sched_kv_pool_take(p, 1, &got);
            first[got] = second[got] = 0;
            ref[got] = 1;
        } else if (kind == 1 && ref[b] > 0) {
            sched_kv_pool_release(p, &b, 1);
            ref[b]--;
        } else if (kind == 2) { /* only a held block gets tokens */
            gboolean ok = sched_kv_pool_cache(p, b, next, TRUE);
            CU_ASSERT_EQUAL(ok, first[b] == 0 && ref[b] > 0);
            if (ok)
                first[b] = next;
            next++;
        } else if (kind == 3) {
            gboolean ok = sched_kv_pool_alias(p, b, next);
            /* a fresh key, and every first key is in the map; a block
             * without one is given it as its first, if held */
            CU_ASSERT_EQUAL(ok, first[b] != 0 || ref[b] > 0);
            if (ok && first[b] == 0)
                first[b] = next;
            else if (ok)
                second[b] = next;
            next++;
        } else if (kind == 4 && first[b]) {
            CU_ASSERT_EQUAL_FATAL(sched_kv_pool_lookup(p, first[b]), b);
            if (second[b])
                CU_ASSERT_EQUAL_FATAL(sched_kv_pool_lookup(p, second[b]), b);
            sched_kv_pool_touch(p, b);
            ref[b]++;
        }
        if (op % 97 == 0)
            check_pool(p);
    }
    for (uint32_t b = 0; b < NB; b++) {
        CU_ASSERT_EQUAL(sched_kv_pool_ref_count(p, b), ref[b]);
        if (first[b])
            CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, first[b]), b);
        if (second[b])
            CU_ASSERT_EQUAL(sched_kv_pool_lookup(p, second[b]), b);
    }
    check_pool(p);
    sched_kv_pool_free(p);
    g_rand_free(rng);
}

/* ----------------------------------------- reference model of content -- */

/*
 * Every token is a 32-bit id: a prefix group's stream is (group << 20 |
 * position); a user's new tokens get ids from a counter (bit 30); the token
 * a request generates at output position j is (bit 31 | id << 12 | j). A
 * turn's prompt is the first `prefix` tokens of the previous turn's prompt
 * and output, then new tokens. Groups are system prompts shared by
 * sessions (1, 2), or, for a third of the sessions, the conversation's own
 * prompt stream (as in data/validation/lss-*: every prompt of the
 * conversation is the group's stream, the answers in it are recorded ones,
 * not the generated tokens; a turn declares the group's tokens it shares,
 * the first turn often none of them). The shadow keeps
 * the tokens each block holds (written when a step computes them) and, per
 * block, a hash of all the tokens up to the block's end once it is full.
 */
#define RM_MAX_REQS 500
#define RM_MAX_SESSIONS 24
#define RM_MAX_PROMPT 1200
#define RM_MAX_OUTPUT 120

typedef struct {
    SchedRequest sr;      /* first member: a SchedRequest* is an RmReq* */
    uint32_t *prompt;     /* prompt token ids */
    uint64_t *chain;      /* chain[i]: hash of the tokens from 0 to the end of block i */
    uint32_t group_tokens;
    uint32_t group_run;   /* leading prompt tokens of its group's stream */
} RmReq;

typedef struct {
    gboolean started;
    gboolean conversation; /* its group is the conversation's own prompt stream */
    uint32_t last;        /* index of its last turn */
    uint32_t branch;
    uint32_t next_branch;
} RmSession;

typedef struct {
    uint32_t bs;
    uint32_t nb;
    uint32_t *tokens;     /* nb * bs: what each block holds */
    uint64_t *chain;      /* the writer's chain at the block's end once full; 0 otherwise */
    uint32_t *used;       /* tokens written into the block */
    GHashTable *full;     /* chains of full blocks (when nothing is evicted) */
} Shadow;

static inline uint32_t rm_token(const RmReq *q, uint32_t p)
{
    if (p < q->sr.prompt_tokens)
        return q->prompt[p];
    return 0x80000000u | (uint32_t)(q->sr.id << 12) | (p - q->sr.prompt_tokens);
}

static void rm_make_chain(RmReq *q, uint32_t bs)
{
    uint32_t total = q->sr.prompt_tokens + q->sr.max_output_tokens;
    q->chain = g_new(uint64_t, total / bs + 1);
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t p = 0; p < total; p++) {
        h = (h ^ rm_token(q, p)) * 1099511628211ULL;
        if ((p + 1) % bs == 0)
            q->chain[p / bs] = h ? h : 1;
    }
}

/* The hit a cache that compares content would give: the longest run of
 * leading full blocks (never covering the last token) whose whole prefix
 * some full block holds. */
static uint32_t rm_ideal_hit(const Shadow *sh, const RmReq *q)
{
    uint32_t max_blocks = (sched_request_num_tokens(&q->sr) - 1) / sh->bs;
    uint32_t n = 0;
    while (n < max_blocks && g_hash_table_contains(sh->full, &q->chain[n]))
        n++;
    return n * sh->bs;
}

/* On a failure: the request and the earlier turns of its session. */
static void rm_explain(const RmReq *reqs, const RmReq *q, guint32 seed, uint32_t cached, uint32_t ideal)
{
    fprintf(stderr, "\n  seed %u request %" G_GUINT64_FORMAT ": hit %u, content says %u\n", seed, q->sr.id, cached,
            ideal);
    for (uint32_t j = 0; j <= q->sr.id; j++) {
        const SchedRequest *o = &reqs[j].sr;
        if (j == q->sr.id || (o->session_id && o->session_id == q->sr.session_id))
            fprintf(stderr, "    request %u: session prefix %u, branch %u from %u, group %u shared %u, "
                    "prompt %u, output %u/%u\n", j, o->session_prefix_tokens, o->session_branch,
                    o->session_prefix_branch, o->prefix_group, o->shared_prefix_tokens, o->prompt_tokens,
                    o->num_output, o->max_output_tokens);
    }
}

typedef struct {
    uint64_t hits, ideal_hits, steps, preemptions;
    uint64_t digest;      /* of every step's (id, tokens) */
} RmResult;

/* A new turn (or a request without a session when sid is 0). */
static void rm_new_request(GRand *rng, RmReq *reqs, uint32_t index, uint32_t sid, RmSession *ss,
                           uint32_t *next_user_token, uint32_t bs)
{
    RmReq *q = &reqs[index];
    const RmReq *prev = sid && ss->started ? &reqs[ss->last] : NULL;
    uint32_t prev_total = prev ? prev->sr.prompt_tokens + prev->sr.max_output_tokens : 0;
    uint32_t group = 0, group_tokens = 0, prefix = 0, branch = 0, prefix_branch = 0;
    gboolean stream = FALSE; /* new prompt tokens continue the conversation's group stream */
    if (prev) {
        switch (g_rand_int_range(rng, 0, ss->conversation ? 7 : 5)) {
        case 5: case 6: prefix = prev->group_run; break; /* a recorded conversation's next prompt */
        case 0: case 1: prefix = prev_total; break;      /* a chat client sends the answer back */
        case 2: prefix = prev->sr.prompt_tokens; break;  /* a recorded answer in its place */
        case 3: prefix = (uint32_t)g_rand_int_range(rng, 0, (gint32)prev_total + 1); break;
        default: prefix = prev_total - 1; break;
        }
        if (prefix > RM_MAX_PROMPT - 160) /* the conversation is too long: a new one */
            prefix = 0;
        /* departing inside the recorded prompts forks the conversation's
         * stream: it no longer grows (one group, one stream) */
        if (ss->conversation && prefix < prev->group_run)
            ss->conversation = FALSE;
        group = ss->conversation ? 100 + sid : prev->sr.prefix_group;
        group_tokens = MIN(ss->conversation ? prev->group_run : prev->group_tokens, prefix);
        /* the next prompt of the conversation: all of the previous prompt
         * (a recorded answer follows, not the generated one) */
        stream = ss->conversation && prefix > 0 && prefix == prev->group_run;
        prefix_branch = ss->branch;
        /* the rule of workload/: continuing all of the previous tokens with
         * KV keeps the branch, anything else starts one */
        branch = prefix > 0 && prefix + 1 >= prev_total ? ss->branch : ss->next_branch++;
    } else {
        group = (uint32_t)g_rand_int_range(rng, 0, 3); /* 0: no system prompt */
        group_tokens = group ? (uint32_t)g_rand_int_range(rng, 1, 200) : 0;
        if (sid) {
            ss->started = TRUE;
            ss->next_branch = 1;
            ss->conversation = g_rand_int_range(rng, 0, 3) == 0;
            if (ss->conversation) {
                group = 100 + sid;
                group_tokens = 0;
                stream = TRUE;
            }
        }
    }
    uint32_t fresh = (uint32_t)g_rand_int_range(rng, prefix > 0 ? 0 : 1, 160);
    uint32_t prompt = (prefix > 0 ? prefix : group_tokens) + fresh;
    q->prompt = g_new(uint32_t, prompt);
    for (uint32_t p = 0; p < prompt; p++) {
        if (p < prefix)
            q->prompt[p] = rm_token(prev, p);
        else if (p < group_tokens || stream)
            q->prompt[p] = group << 20 | p;
        else
            q->prompt[p] = (*next_user_token)++;
    }
    q->group_run = stream ? prompt : group_tokens;
    if (ss->conversation) /* later turns declare their stream tokens; a first turn often fewer */
        group_tokens = prev || g_rand_boolean(rng) ? q->group_run
                                                   : (uint32_t)g_rand_int_range(rng, 0, (gint32)q->group_run + 1);
    q->group_tokens = group_tokens;
    sched_request_init(&q->sr, index, prompt, (uint32_t)g_rand_int_range(rng, 1, RM_MAX_OUTPUT),
                       group_tokens ? group : 0, group_tokens);
    if (sid) {
        sched_request_set_session(&q->sr, sid, prefix, branch, prefix_branch);
        ss->last = index;
        ss->branch = branch;
    }
    rm_make_chain(q, bs);
}

static void rm_run(guint32 seed, gboolean evicting, RmResult *res)
{
    GRand *rng = g_rand_new_with_seed(seed);
    const uint32_t bs = (uint32_t)(g_rand_boolean(rng) ? 16 : 4 + g_rand_int_range(rng, 0, 5));
    const uint32_t per_req = (RM_MAX_PROMPT + RM_MAX_OUTPUT) / bs + 1;
    SchedConfig c = {.max_num_seqs = (uint32_t)g_rand_int_range(rng, 2, 24),
                     .max_model_len = RM_MAX_PROMPT + RM_MAX_OUTPUT,
                     .block_size = bs,
                     .enable_prefix_caching = TRUE};
    c.max_num_batched_tokens = c.max_num_seqs + (uint32_t)g_rand_int_range(rng, 16, 900);
    /* never evicting: more blocks than the whole run allocates */
    c.num_gpu_blocks = evicting ? per_req + (uint32_t)g_rand_int_range(rng, 2, 120) : RM_MAX_REQS * per_req + 2;
    SchedScheduler *s = sched_new(&c, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    Shadow sh = {.bs = bs, .nb = sched_kv_pool_num_blocks(sched_kv_pool(s))};
    sh.tokens = g_new0(uint32_t, (gsize)sh.nb * bs);
    sh.chain = g_new0(uint64_t, sh.nb);
    sh.used = g_new0(uint32_t, sh.nb);
    sh.full = g_hash_table_new(g_int64_hash, g_int64_equal);
    RmReq *reqs = g_new0(RmReq, RM_MAX_REQS);
    RmSession sessions[RM_MAX_SESSIONS];
    memset(sessions, 0, sizeof sessions);
    uint32_t next_user_token = 0x40000000u;
    uint32_t arrived = 0, finished = 0;
    memset(res, 0, sizeof *res);
    res->digest = 14695981039346656037ULL;

    while (finished < RM_MAX_REQS) {
        int k = g_rand_int_range(rng, 0, 3);
        while (k-- > 0 && arrived < RM_MAX_REQS) {
            uint32_t sid = g_rand_int_range(rng, 0, 5) == 0 ? 0 : (uint32_t)g_rand_int_range(rng, 1, RM_MAX_SESSIONS);
            rm_new_request(rng, reqs, arrived, sid, &sessions[sid], &next_user_token, bs);
            RmReq *q = &reqs[arrived];
            CU_ASSERT_EQUAL_FATAL(sched_check_fit(s, q->sr.prompt_tokens, q->sr.max_output_tokens), SCHED_FITS);
            sched_add_request(s, &q->sr);
            arrived++;
        }
        const SchedStep *st = sched_schedule(s);
        if (st->num_reqs == 0) {
            CU_ASSERT_EQUAL_FATAL(sched_num_running(s) + sched_num_waiting(s), 0);
            continue;
        }
        res->steps++;
        res->preemptions += st->num_preempted;
        if (evicting || res->steps % 64 == 0) /* O(blocks): the never-evicting pool is large */
            check_invariants(s);
        /* in step order, as the scheduler allocated (and registered) them */
        for (uint32_t i = 0; i < st->num_reqs; i++) {
            RmReq *q = (RmReq *)(void *)st->reqs[i];
            uint32_t cached = st->batch.entries[i].cached_tokens, n = st->batch.entries[i].new_tokens;
            res->digest = (res->digest ^ (q->sr.id * 131 + n)) * 1099511628211ULL;
            if (i >= st->num_reqs - st->num_admitted) {
                res->hits += cached;
                if (!evicting) {
                    uint32_t ideal = rm_ideal_hit(&sh, q);
                    res->ideal_hits += ideal;
                    if (cached != ideal)
                        rm_explain(reqs, q, seed, cached, ideal);
                    CU_ASSERT_EQUAL(cached, ideal);
                }
                /* no false hit: every full block below the computed tokens
                 * holds exactly this request's tokens */
                for (uint32_t blk = 0; blk < cached / bs; blk++) {
                    uint32_t b = q->sr.blocks[blk];
                    for (uint32_t t = 0; t < bs; t++)
                        if (sh.tokens[(gsize)b * bs + t] != rm_token(q, blk * bs + t)) {
                            fprintf(stderr, "\n  seed %u request %" G_GUINT64_FORMAT ": false hit on block %u\n",
                                    seed, q->sr.id, blk);
                            CU_FAIL_FATAL("a hit block holds other tokens");
                        }
                    CU_ASSERT_EQUAL_FATAL(sh.chain[b], q->chain[blk]);
                }
            }
            for (uint32_t p = cached; p < cached + n; p++) {
                uint32_t b = q->sr.blocks[p / bs];
                /* Without eviction a block is reused only if no request
                 * can find what it held (partly filled, or a finished
                 * request's own tokens): the content stays in sh.full, so
                 * a reuse of anything findable shows as a hit below ideal. */
                if (p % bs == 0) {
                    sh.used[b] = 0;
                    sh.chain[b] = 0;
                }
                sh.tokens[(gsize)b * bs + p % bs] = rm_token(q, p);
                if (++sh.used[b] == bs) {
                    sh.chain[b] = q->chain[p / bs];
                    if (!evicting) /* keyed by the request's chain, which outlives the block's content */
                        g_hash_table_add(sh.full, &q->chain[p / bs]);
                }
            }
        }
        sched_finish_step(s);
        for (uint32_t i = 0; i < st->num_reqs; i++)
            if (st->reqs[i]->step_flags & SCHED_FINISHED_NOW)
                finished++;
        const SchedKvPool *pool = sched_kv_pool(s);
        CU_ASSERT_EQUAL_FATAL(sched_kv_pool_num_used(pool) + sched_kv_pool_num_free(pool),
                              sched_kv_pool_num_blocks(pool));
        CU_ASSERT_EQUAL_FATAL(arrived, finished + sched_num_running(s) + sched_num_waiting(s));
    }
    CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(s)), 0);
    CU_ASSERT_EQUAL(sched_prefix_hit_tokens(s), res->hits);
    for (uint32_t i = 0; i < RM_MAX_REQS; i++) {
        sched_request_release(&reqs[i].sr);
        g_free(reqs[i].prompt);
        g_free(reqs[i].chain);
    }
    g_free(reqs);
    g_hash_table_destroy(sh.full);
    g_free(sh.tokens);
    g_free(sh.chain);
    g_free(sh.used);
    sched_free(s);
    g_rand_free(rng);
}

/* A pool too large to evict anything and no preemption: the hits are exactly
 * what comparing content finds, turn after turn, branches included. */
static void test_reference_model_exact(void)
{
    uint64_t hits = 0;
    for (guint32 seed = 1; seed <= 6; seed++) {
        RmResult r;
        rm_run(seed, FALSE, &r);
        CU_ASSERT_EQUAL(r.preemptions, 0);
        CU_ASSERT_EQUAL(r.hits, r.ideal_hits);
        hits += r.hits;
    }
    CU_ASSERT(hits > 100000); /* the sessions do share a lot */
}

/* Small pools: eviction and preemption. Never a false hit; invariants after
 * every step; the same seed gives the same steps. */
static void test_reference_model_evicting(void)
{
    uint64_t preemptions = 0, hits = 0;
    for (guint32 seed = 11; seed <= 22; seed++) {
        RmResult a, b;
        rm_run(seed, TRUE, &a);
        rm_run(seed, TRUE, &b);
        CU_ASSERT_EQUAL(a.digest, b.digest);
        CU_ASSERT_EQUAL(a.hits, b.hits);
        preemptions += a.preemptions;
        hits += a.hits;
    }
    CU_ASSERT(preemptions > 0);
    CU_ASSERT(hits > 0);
}

static const SsTestCase hand_cases[] = {
    {"second and third turns hit what was computed", test_second_turn_hit_by_hand},
    {"the last prompt token is always computed", test_last_prompt_token_computed},
    {"a departing turn starts a branch and never hits past it", test_departing_turn_starts_branch},
    {"no hits across sessions or without one", test_no_hits_across_sessions},
    {"group prefix blocks inside sessions", test_group_prefix_in_sessions},
    {"a preempted turn hits again on its return", test_preempted_turn_hits_again},
    {"a next turn arriving during the previous one", test_next_turn_arrives_early},
    {NULL, NULL},
};

static const SsTestCase pool_cases[] = {
    {"second keys: add, replace, refuse, evict", test_kv_pool_second_keys},
    {"second keys against a naive model", test_kv_pool_second_keys_random},
    {NULL, NULL},
};

static const SsTestCase model_cases[] = {
    {"hits equal content comparison when nothing is evicted", test_reference_model_exact},
    {"no false hit under eviction and preemption, deterministic", test_reference_model_evicting},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {
        {"sessions by hand", hand_cases},
        {"kv pool second keys", pool_cases},
        {"sessions against a content model", model_cases},
        {NULL, NULL},
    };
    return ss_test_main(argc, argv, suites);
}
