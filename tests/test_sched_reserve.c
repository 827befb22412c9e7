/*
 * test_sched_reserve.c: vLLM's scheduler_reserve_full_isl admission gate
 * (on from about vLLM 0.18): a waiting request is admitted only when the
 * blocks of its whole sequence, less its prefix hits, are free now; without
 * it the blocks of the first chunk suffice (and the request may be
 * preempted later).
 */
#include "sched.h"
#include "ss_test.h"

static SchedScheduler *make(gboolean reserve, gboolean caching)
{
    SchedConfig c = {.max_num_seqs = 8,
                     .max_num_batched_tokens = 16,
                     .max_model_len = 1000,
                     .block_size = 4,
                     .num_gpu_blocks = 11, /* 10 usable */
                     .long_prefill_token_threshold = 8,
                     .enable_prefix_caching = caching,
                     .reserve_full_isl = reserve};
    GError *error = NULL;
    SchedScheduler *s = sched_new(&c, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

static void check(SchedScheduler *s)
{
    char *why = NULL;
    gboolean ok = sched_check_invariants(s, &why);
    if (!ok)
        fprintf(stderr, "\n  invariant broken: %s\n", why);
    CU_ASSERT(ok);
    g_free(why);
}

/* A runs with 7 of 10 blocks; B's prompt needs 5: its first chunk (8 tokens,
 * the long-prefill threshold: 2 blocks) fits, its whole prompt does not. */
static void test_gate(void)
{
    for (int reserve = 0; reserve < 2; reserve++) {
        SchedScheduler *s = make(reserve, FALSE);
        SchedRequest a, b;
        sched_request_init(&a, 1, 24, 8, 0, 0);
        sched_request_init(&b, 2, 20, 4, 0, 0);
        sched_add_request(s, &a);
        const SchedStep *st = NULL;
        for (int i = 0; i < 3; i++) { /* A's prompt in chunks of 8 */
            st = sched_schedule(s);
            CU_ASSERT_EQUAL(st->num_reqs, 1);
            sched_finish_step(s);
        }
        CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(s)), 6);
        sched_add_request(s, &b);
        st = sched_schedule(s); /* A decodes its 25th token (7 blocks); 3 blocks free */
        check(s);
        if (reserve) {
            CU_ASSERT_EQUAL(st->num_reqs, 1); /* B's 5 blocks are not free (3 are) */
            CU_ASSERT_EQUAL(sched_kv_pool_num_used(sched_kv_pool(s)), 7);
            CU_ASSERT_EQUAL(sched_num_waiting(s), 1);
        } else {
            CU_ASSERT_EQUAL(st->num_reqs, 2); /* B's first chunk fits */
            CU_ASSERT_EQUAL(sched_num_waiting(s), 0);
        }
        sched_finish_step(s);
        /* run to the end: both finish either way */
        for (int i = 0; i < 100 && (sched_num_running(s) + sched_num_waiting(s)) > 0; i++) {
            sched_schedule(s);
            check(s);
            sched_finish_step(s);
        }
        CU_ASSERT_EQUAL(a.status, SCHED_FINISHED);
        CU_ASSERT_EQUAL(b.status, SCHED_FINISHED);
        sched_request_release(&a);
        sched_request_release(&b);
        sched_free(s);
    }
}

/* Prefix hits count: B shares A's first 16 tokens (4 full blocks, held by A),
 * so only its 1 remaining block must be free. */
static void test_gate_with_hits(void)
{
    SchedScheduler *s = make(TRUE, TRUE);
    SchedRequest a, b;
    sched_request_init(&a, 1, 24, 8, 7, 16);
    sched_request_init(&b, 2, 20, 4, 7, 16);
    sched_add_request(s, &a);
    sched_schedule(s);
    sched_finish_step(s);
    sched_schedule(s);
    sched_finish_step(s);
    sched_add_request(s, &b);
    const SchedStep *st = sched_schedule(s);
    CU_ASSERT_EQUAL(st->num_reqs, 2);
    CU_ASSERT_EQUAL(b.num_cached_tokens, 16);
    check(s);
    sched_finish_step(s);
    for (int i = 0; i < 100 && (sched_num_running(s) + sched_num_waiting(s)) > 0; i++) {
        sched_schedule(s);
        sched_finish_step(s);
    }
    sched_request_release(&a);
    sched_request_release(&b);
    sched_free(s);
}

static const SsTestCase cases[] = {
    {"the whole prompt must fit to be admitted", test_gate},
    {"prefix hits are not counted against it", test_gate_with_hits},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"reserve_full_isl", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
