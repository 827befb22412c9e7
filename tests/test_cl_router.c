/*
 * test_cl_router.c: the router on its own: the prefix index against a
 * plain reference model (per replica, a list of hashes in recency order),
 * each policy's choice on hand-made views, the policy names, and the hash
 * the router indexes prompts with being the scheduler's own.
 */
#include <math.h>

#include "cl_internal.h"
#include "sched_kv.h"
#include "ss_test.h"

/* ------------------------------------------------------ reference index -- */

/* Per replica: hashes, most recently used last; capacity bound. */
typedef struct {
    GArray **lru;
    guint n;
    uint32_t *cap;
} RefIndex;

static void ref_init(RefIndex *ix, guint n, const uint32_t *cap)
{
    ix->n = n;
    ix->lru = g_new(GArray *, n);
    ix->cap = g_memdup2(cap, n * sizeof *cap);
    for (guint r = 0; r < n; r++)
        ix->lru[r] = g_array_new(FALSE, FALSE, sizeof(uint64_t));
}

static void ref_clear(RefIndex *ix)
{
    for (guint r = 0; r < ix->n; r++)
        g_array_free(ix->lru[r], TRUE);
    g_free(ix->lru);
    g_free(ix->cap);
}

static gboolean ref_holds(const RefIndex *ix, guint r, uint64_t h)
{
    for (guint i = 0; i < ix->lru[r]->len; i++)
        if (g_array_index(ix->lru[r], uint64_t, i) == h)
            return TRUE;
    return FALSE;
}

static void ref_insert(RefIndex *ix, const uint64_t *hashes, guint nb, guint r)
{
    for (guint j = nb; j-- > 0;) {
        GArray *a = ix->lru[r];
        for (guint i = 0; i < a->len; i++)
            if (g_array_index(a, uint64_t, i) == hashes[j]) {
                g_array_remove_index(a, i);
                break;
            }
        g_array_append_val(a, hashes[j]);
        if (a->len > ix->cap[r])
            g_array_remove_index(a, 0);
    }
}

static void ref_match(const RefIndex *ix, const uint64_t *hashes, guint nb, uint32_t *match)
{
    for (guint r = 0; r < ix->n; r++) {
        match[r] = 0;
        while (match[r] < nb && ref_holds(ix, r, hashes[match[r]]))
            match[r]++;
    }
}

/* Random prompts made of a few shared prefixes (so that blocks recur across
 * replicas) and private tails; small capacities force evictions, including
 * within one prompt; now and then a replica is forgotten (scaled down). The
 * index, which keeps private blocks only as runs in the LRU order, must
 * agree with the reference (which indexes every block) on every match and
 * size, and keep its structure. */
static void test_prefix_index_matches_reference(void)
{
    const guint n = 5;
    const uint32_t cap[] = {7, 16, 40, 3, 100};
    ClPrefixIndex *ix = cl_prefix_index_new(n, cap);
    RefIndex ref;
    ref_init(&ref, n, cap);
    GRand *rng = g_rand_new_with_seed(11);
    uint64_t hashes[24];
    uint32_t got[5], want[5];
    guint mismatches = 0, nonzero = 0, forgotten = 0;
    for (int round = 0; round < 6000; round++) {
        guint group = (guint)g_rand_int_range(rng, 0, 6);
        guint shared = (guint)g_rand_int_range(rng, 0, 12);
        guint nb = (guint)g_rand_int_range(rng, 1, 24);
        guint ns = MIN(shared, nb);
        for (guint i = 0; i < nb; i++)
            hashes[i] = i < shared ? (uint64_t)group * 1000 + i + 1 : (uint64_t)round * 100000 + i + 7;
        cl_prefix_index_match(ix, hashes, ns, got);
        ref_match(&ref, hashes, nb, want);
        for (guint r = 0; r < n; r++) {
            mismatches += got[r] != want[r];
            nonzero += got[r] > 0;
        }
        guint to = (guint)g_rand_int_range(rng, 0, (gint32)n);
        cl_prefix_index_insert(ix, hashes, ns, nb, to);
        ref_insert(&ref, hashes, nb, to);
        if (g_rand_int_range(rng, 0, 500) == 0) {
            guint gone = (guint)g_rand_int_range(rng, 0, (gint32)n);
            cl_prefix_index_forget(ix, gone);
            g_array_set_size(ref.lru[gone], 0);
            forgotten++;
        }
        for (guint r = 0; r < n; r++)
            CU_ASSERT_EQUAL(cl_prefix_index_size(ix, r), ref.lru[r]->len);
        if (round % 250 == 0) {
            char *why = NULL;
            gboolean ok = cl_prefix_index_check(ix, &why);
            if (!ok)
                fprintf(stderr, "\n  round %d: %s\n", round, why);
            CU_ASSERT(ok);
            g_free(why);
        }
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    CU_ASSERT(nonzero > 1000); /* the test exercised real matches */
    CU_ASSERT(forgotten > 3);
    char *why = NULL;
    CU_ASSERT(cl_prefix_index_check(ix, &why));
    g_free(why);
    g_rand_free(rng);
    ref_clear(&ref);
    cl_prefix_index_free(ix);
}

/* --------------------------------------------------------------- policies -- */

typedef struct {
    guint n;
    uint32_t outstanding[8];
    ClSignals sig[8];
    uint32_t unseen[8];
    gboolean elig[8];
} View;

static ClView view_of(View *v, gboolean filter)
{
    return (ClView){.n = v->n, .outstanding = v->outstanding, .signals = v->sig, .unseen = v->unseen,
                    .eligible = filter ? v->elig : NULL};
}

static ClRouter *router(ClRouterPolicy p, guint n)
{
    ClRouterSpec spec;
    cl_router_spec_init(&spec);
    spec.policy = p;
    uint64_t kv[8] = {1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1 << 20};
    return cl_router_new(&spec, n, kv, 1);
}

static WlRequest request(uint64_t id, uint32_t input, uint32_t group, uint32_t shared)
{
    return (WlRequest){.id = id, .input_tokens = input, .output_tokens = 10, .prefix_group = group,
                       .shared_prefix_tokens = shared};
}

static void test_round_robin_and_eligibility(void)
{
    View v = {.n = 4};
    ClRouter *rt = router(CL_ROUTER_ROUND_ROBIN, 4);
    WlRequest w = request(1, 100, 0, 0);
    ClView cv = view_of(&v, FALSE);
    for (guint k = 0; k < 8; k++)
        CU_ASSERT_EQUAL(cl_router_pick(rt, &w, &cv, NULL, NULL), (int)(k % 4));
    /* the last pick was 3; only 1 and 2 eligible: 1, 2, 1 */
    v.elig[1] = v.elig[2] = TRUE;
    cv = view_of(&v, TRUE);
    CU_ASSERT_EQUAL(cl_router_pick(rt, &w, &cv, NULL, NULL), 1);
    CU_ASSERT_EQUAL(cl_router_pick(rt, &w, &cv, NULL, NULL), 2);
    CU_ASSERT_EQUAL(cl_router_pick(rt, &w, &cv, NULL, NULL), 1);
    memset(v.elig, 0, sizeof v.elig);
    CU_ASSERT_EQUAL(cl_router_pick(rt, &w, &cv, NULL, NULL), -1);
    cl_router_free(rt);
}

static void test_least_policies(void)
{
    View v = {.n = 4};
    uint32_t out[] = {3, 1, 1, 2};
    uint32_t wait[] = {0, 5, 2, 2};
    uint32_t run[] = {9, 0, 4, 3};
    uint32_t used[] = {50, 80, 10, 10};
    for (guint r = 0; r < 4; r++) {
        v.outstanding[r] = out[r];
        v.sig[r] = (ClSignals){.waiting = wait[r], .running = run[r], .kv_used = used[r], .kv_blocks = 100};
    }
    ClView cv = view_of(&v, FALSE);
    WlRequest w = request(1, 100, 0, 0);
    double scores[4];

    ClRouter *rt = router(CL_ROUTER_LEAST_OUTSTANDING, 4);
    int a = cl_router_pick(rt, &w, &cv, scores, NULL), b = cl_router_pick(rt, &w, &cv, NULL, NULL);
    CU_ASSERT(a == 1 || a == 2);
    CU_ASSERT(b == 1 || b == 2);
    CU_ASSERT(a != b); /* equal replicas take turns */
    CU_ASSERT_DOUBLE_EQUAL(scores[0], 3, 0);
    cl_router_free(rt);

    rt = router(CL_ROUTER_LEAST_WAITING, 4);
    CU_ASSERT_EQUAL(cl_router_pick(rt, &w, &cv, NULL, NULL), 0);
    cl_router_free(rt);

    rt = router(CL_ROUTER_LEAST_KV, 4);
    a = cl_router_pick(rt, &w, &cv, scores, NULL);
    CU_ASSERT(a == 2 || a == 3);
    CU_ASSERT_DOUBLE_EQUAL(scores[1], 0.8, 1e-12);
    cl_router_free(rt);

    /* vLLM: waiting x 4 + running: 9, 20, 12, 11 -> 0; with 1 unseen request on 0: 13 -> 3 */
    rt = router(CL_ROUTER_VLLM_DP, 4);
    CU_ASSERT_EQUAL(cl_router_pick(rt, &w, &cv, scores, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(scores[1], 20, 0);
    v.unseen[0] = 1;
    CU_ASSERT_EQUAL(cl_router_pick(rt, &w, &cv, NULL, NULL), 3);
    cl_router_free(rt);
}

/* llm-d's pipeline by hand: queue scores min-max (waiting 0..5), KV 1 - use,
 * prefix matched / prompt blocks. */
static void test_weighted_scores(void)
{
    View v = {.n = 3};
    uint32_t wait[] = {0, 5, 1};
    uint32_t used[] = {90, 10, 50};
    for (guint r = 0; r < 3; r++)
        v.sig[r] = (ClSignals){.waiting = wait[r], .kv_used = used[r], .kv_blocks = 100};
    ClView cv = view_of(&v, FALSE);
    ClRouter *rt = router(CL_ROUTER_WEIGHTED, 3);
    /* a prompt of 4 router blocks (64 tokens each), in group 7, all shared */
    WlRequest w = request(10, 256, 7, 256);
    double s[3];
    int c = cl_router_pick(rt, &w, &cv, s, NULL);
    /* no prefix yet: 2*1 + 2*0.1 = 2.2; 2*0 + 2*0.9 = 1.8; 2*0.8 + 2*0.5 = 2.6 */
    CU_ASSERT_DOUBLE_EQUAL(s[0], 2.2, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s[1], 1.8, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s[2], 2.6, 1e-12);
    CU_ASSERT_EQUAL(c, 2);
    /* once replica 1 holds the prefix, its 3 x 1 lifts it to 4.8 */
    cl_router_commit(rt, &w, 1);
    WlRequest w2 = request(11, 300, 7, 256);
    c = cl_router_pick(rt, &w2, &cv, s, NULL);
    CU_ASSERT_DOUBLE_EQUAL(s[1], 4.8, 1e-12);
    CU_ASSERT_EQUAL(c, 1);
    cl_router_free(rt);
}

static void test_prefix_affinity_and_ties(void)
{
    View v = {.n = 4};
    ClView cv = view_of(&v, FALSE);
    ClRouter *rt = router(CL_ROUTER_PREFIX_AFFINITY, 4);
    WlRequest a = request(1, 1024, 3, 1024), b = request(2, 1024, 5, 512);
    /* nothing indexed: ties by load */
    v.outstanding[0] = 2, v.outstanding[1] = 0, v.outstanding[2] = 1, v.outstanding[3] = 1;
    CU_ASSERT_EQUAL(cl_router_pick(rt, &a, &cv, NULL, NULL), 1);
    cl_router_commit(rt, &a, 1);
    CU_ASSERT_EQUAL(cl_router_pick(rt, &b, &cv, NULL, NULL), 1);
    cl_router_commit(rt, &b, 3); /* the router sent it elsewhere (say admission chose) */
    /* same group as a: back to 1, whatever the load */
    v.outstanding[1] = 50;
    WlRequest a2 = request(3, 2000, 3, 1024);
    double s[4];
    CU_ASSERT_EQUAL(cl_router_pick(rt, &a2, &cv, s, NULL), 1);
    CU_ASSERT_DOUBLE_EQUAL(s[1], 16, 0); /* 1024 / 64 blocks */
    CU_ASSERT_DOUBLE_EQUAL(s[0], 0, 0);
    /* group 5's 512 shared tokens are on 3 */
    WlRequest b2 = request(4, 900, 5, 512);
    CU_ASSERT_EQUAL(cl_router_pick(rt, &b2, &cv, s, NULL), 3);
    CU_ASSERT_DOUBLE_EQUAL(s[3], 8, 0);
    cl_router_free(rt);
}

/* Consistent hashing: a prefix group keeps its replica while that replica
 * is within the bound, and moves when it is not. */
static void test_consistent_hash_bounded(void)
{
    View v = {.n = 8};
    ClView cv = view_of(&v, FALSE);
    ClRouter *rt = router(CL_ROUTER_CONSISTENT_HASH, 8);
    int home[6];
    for (guint g = 0; g < 6; g++) {
        WlRequest w = request(g, 100, g + 1, 100);
        home[g] = cl_router_pick(rt, &w, &cv, NULL, NULL);
        CU_ASSERT(home[g] >= 0);
        for (int k = 0; k < 5; k++) {
            WlRequest w2 = request(100 + g * 10 + (guint)k, 100, g + 1, 100);
            CU_ASSERT_EQUAL(cl_router_pick(rt, &w2, &cv, NULL, NULL), home[g]);
        }
    }
    /* different groups spread: not all on one replica */
    gboolean spread = FALSE;
    for (guint g = 1; g < 6; g++)
        spread = spread || home[g] != home[0];
    CU_ASSERT(spread);
    /* load the home of group 1 beyond 1.25 x the mean: its requests move */
    for (guint r = 0; r < 8; r++)
        v.outstanding[r] = 4;
    v.outstanding[home[0]] = 9; /* bound: ceil(1.25 * (37 + 1) / 8) = 6 */
    WlRequest w = request(999, 100, 1, 100);
    int moved = cl_router_pick(rt, &w, &cv, NULL, NULL);
    CU_ASSERT(moved >= 0 && moved != home[0]);
    CU_ASSERT(v.outstanding[moved] + 1 <= 6);
    cl_router_free(rt);
}

static void test_random_is_seeded_and_spreads(void)
{
    View v = {.n = 5};
    ClView cv = view_of(&v, FALSE);
    ClRouter *a = router(CL_ROUTER_RANDOM, 5), *b = router(CL_ROUTER_RANDOM, 5);
    guint count[5] = {0};
    WlRequest w = request(1, 10, 0, 0);
    for (int k = 0; k < 5000; k++) {
        int x = cl_router_pick(a, &w, &cv, NULL, NULL), y = cl_router_pick(b, &w, &cv, NULL, NULL);
        CU_ASSERT_EQUAL(x, y);
        count[x]++;
    }
    for (guint r = 0; r < 5; r++)
        CU_ASSERT(count[r] > 850 && count[r] < 1150);
    cl_router_free(a);
    cl_router_free(b);
}

static void test_policy_names(void)
{
    for (guint p = 0; p < CL_ROUTER_N; p++) {
        ClRouterPolicy q;
        CU_ASSERT(cl_router_policy_from_name(cl_router_policy_name((ClRouterPolicy)p), &q));
        CU_ASSERT_EQUAL(q, p);
    }
    ClRouterPolicy q;
    CU_ASSERT(cl_router_policy_from_name("llm-d", &q) && q == CL_ROUTER_WEIGHTED);
    CU_ASSERT(!cl_router_policy_from_name("least-loaded-magic", &q));
    ClRouterSpec s;
    cl_router_spec_init(&s);
    CU_ASSERT_DOUBLE_EQUAL(cl_router_spec_interval_ms(&s), 50, 0);
    s.policy = CL_ROUTER_VLLM_DP;
    CU_ASSERT_DOUBLE_EQUAL(cl_router_spec_interval_ms(&s), 100, 0);
    s.snapshot_interval_ms = 0;
    CU_ASSERT_DOUBLE_EQUAL(cl_router_spec_interval_ms(&s), 0, 0);
    GError *error = NULL;
    s.policy = CL_ROUTER_WEIGHTED;
    s.prefix_weight = s.queue_weight = s.kv_weight = 0;
    CU_ASSERT(!cl_router_spec_validate(&s, "x", &error));
    g_clear_error(&error);
    s.prefix_weight = -1;
    CU_ASSERT(!cl_router_spec_validate(&s, "x", &error));
    g_clear_error(&error);
}

/* The router's blocks are the scheduler's: a block wholly inside a group's
 * shared prefix hashes the same for every request of the group, others
 * differ per request; a session turn's blocks inside the previous turn's
 * tokens are that turn's. */
static void test_router_uses_scheduler_hash(void)
{
    SchedRequest a, b;
    sched_request_init(&a, 1, 300, 5, 9, 128);
    sched_request_init(&b, 2, 500, 5, 9, 128);
    CU_ASSERT_EQUAL(sched_request_block_hash(&a, 0, 64), sched_request_block_hash(&b, 0, 64));
    CU_ASSERT_EQUAL(sched_request_block_hash(&a, 1, 64), sched_request_block_hash(&b, 1, 64));
    CU_ASSERT(sched_request_block_hash(&a, 2, 64) != sched_request_block_hash(&b, 2, 64));
    /* a session's next turn: its blocks inside the previous turn's tokens are that turn's */
    SchedRequest t1, t2;
    sched_request_init(&t1, 10, 300, 100, 0, 0);
    sched_request_set_session(&t1, 5, 0, 0, 0);
    sched_request_init(&t2, 11, 500, 100, 0, 0);
    sched_request_set_session(&t2, 5, 399, 0, 0);
    CU_ASSERT_EQUAL(sched_request_block_hash(&t1, 3, 64), sched_request_block_hash(&t2, 3, 64));
    CU_ASSERT(sched_request_block_hash(&t1, 0, 64) != sched_request_block_hash(&a, 0, 64));
}

/* The router indexes a request's shared blocks only: those
 * sched_request_shared_blocks counts are exactly the blocks whose hash is
 * not the request's own (its id's), for groups, sessions and neither. */
static void test_shared_blocks_are_those_not_own(void)
{
    GRand *rng = g_rand_new_with_seed(5);
    guint checked = 0, shared = 0;
    for (int k = 0; k < 400; k++) {
        SchedRequest r;
        uint64_t id = (uint64_t)k + 1;
        uint32_t prompt = (uint32_t)g_rand_int_range(rng, 1, 2000);
        uint32_t group = (uint32_t)g_rand_int_range(rng, 0, 3);
        uint32_t pre = group ? (uint32_t)g_rand_int_range(rng, 0, (gint32)prompt + 1) : 0;
        sched_request_init(&r, id, prompt, 10, group, pre);
        if (g_rand_int_range(rng, 0, 3) == 0)
            sched_request_set_session(&r, 7, (uint32_t)g_rand_int_range(rng, 0, (gint32)prompt + 1), 0, 0);
        uint32_t bs = g_rand_boolean(rng) ? 64 : 16;
        uint32_t nb = MIN(prompt / bs, 256u);
        uint32_t ns = sched_request_shared_blocks(&r, nb, bs);
        CU_ASSERT(ns <= nb);
        for (uint32_t i = 0; i < nb; i++) {
            gboolean own = sched_request_block_hash(&r, i, bs) == sched_kv_block_hash(2, id, i);
            CU_ASSERT_EQUAL(own, i >= ns);
            checked++;
            shared += i < ns;
        }
    }
    CU_ASSERT(checked > 5000 && shared > 1000 && shared < checked);
    g_rand_free(rng);
}

static const SsTestCase index_cases[] = {
    {"prefix index against a reference model", test_prefix_index_matches_reference},
    {"the router hashes with the scheduler's block hash", test_router_uses_scheduler_hash},
    {"shared blocks are exactly those not keyed by the request", test_shared_blocks_are_those_not_own},
    {NULL, NULL},
};

static const SsTestCase policy_cases[] = {
    {"round-robin and the admission filter", test_round_robin_and_eligibility},
    {"least outstanding, waiting, KV; vLLM's balancer", test_least_policies},
    {"llm-d's weighted scorers", test_weighted_scores},
    {"prefix affinity, ties by load", test_prefix_affinity_and_ties},
    {"consistent hashing with bounded load", test_consistent_hash_bounded},
    {"random is seeded and uniform", test_random_is_seeded_and_spreads},
    {"names, defaults, validation", test_policy_names},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"prefix index", index_cases},
    {"policies", policy_cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
