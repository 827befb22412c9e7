/*
 * test_cl_fleet.c: whole fleets on one clock.
 *
 * - conservation: after every step of every replica, the replica's arrived =
 *   completed + rejected + in flight, KV blocks used + free = total, the
 *   scheduler's invariants hold and time never runs backwards; at the end,
 *   for each replica and for the fleet, arrived = completed + rejected + in
 *   flight (with router rejections, router latency and a time limit);
 * - determinism: the same fleet twice gives the same bytes;
 * - least-waiting with fresh signals never picks a replica with more
 *   waiting requests than another eligible one at decision time;
 * - prefix affinity has a higher prefix-cache hit rate than random on a
 *   shared-prefix workload; stale signals (100 ms) leave a burst worse
 *   balanced than fresh ones;
 * - admission: per-replica caps hold at decision time, a token bucket admits
 *   about its rate;
 * - router latency adds exactly to a lone request's TTFT;
 * - heterogeneous pools build and run; outputs of a fleet carry the replica.
 */
#include <math.h>
#include <string.h>

#include "scn.h"
#include "ss_test.h"

static ScnScenario *scenario_from(const char *json)
{
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(json, "test.json", ss_test_source_dir(), &error);
    if (!s)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

/* -------------------------------------------------------- hooked runs -- */

typedef struct {
    guint n;
    SimTime *last_end;       /* per replica */
    uint64_t steps, failures;
    /* least-waiting check */
    gboolean check_least_waiting;
    gboolean quiet;          /* wrong choices are expected: do not print them */
    uint64_t decisions, wrong_choices;
    /* per-replica cap check */
    guint cap;
    uint64_t over_cap;
    /* sessions: where each session's turns went */
    GHashTable *session_replica;  /* session id -> replica + 1 */
    uint64_t turns_moved, later_turns;
} Hooks;

static void step_hook(const SimStepInfo *info, void *user)
{
    Hooks *h = user;
    h->steps++;
    char *why = NULL;
    if (!sched_check_invariants(info->sched, &why)) {
        if (h->failures++ < 3)
            fprintf(stderr, "\n  replica %u: %s\n", info->replica, why);
    }
    g_free(why);
    if (info->replica >= h->n || info->start < h->last_end[info->replica] || info->end <= info->start)
        h->failures++;
    else
        h->last_end[info->replica] = info->end;
    uint64_t in_flight = sched_num_running(info->sched) + sched_num_waiting(info->sched) + info->deferred;
    if (info->arrived != info->completed + info->rejected + in_flight)
        h->failures++;
    const SchedKvPool *pool = sched_kv_pool(info->sched);
    if (sched_kv_pool_num_used(pool) + sched_kv_pool_num_free(pool) != sched_kv_pool_num_blocks(pool))
        h->failures++;
}

static void route_hook(const ClDecision *d, void *user)
{
    Hooks *h = user;
    h->decisions++;
    if (d->replica < 0)
        return;
    uint32_t chosen = sim_replica_num_waiting(d->replicas[d->replica]);
    if (h->check_least_waiting)
        for (guint r = 0; r < d->num_replicas; r++)
            if (sim_replica_num_waiting(d->replicas[r]) < chosen) {
                if (h->wrong_choices++ < 3 && !h->quiet)
                    fprintf(stderr, "\n  at %.6f s chose replica %d with %u waiting; replica %u had %u\n",
                            sim_time_to_seconds(d->time), d->replica, chosen, r,
                            sim_replica_num_waiting(d->replicas[r]));
            }
    if (h->cap && chosen >= h->cap)
        h->over_cap++;
    if (h->session_replica && d->request->session_id) {
        gint64 key = (gint64)d->request->session_id;
        guint was = GPOINTER_TO_UINT(g_hash_table_lookup(h->session_replica, &key));
        if (was) {
            h->later_turns++;
            h->turns_moved += was != (guint)d->replica + 1;
        } else {
            g_hash_table_insert(h->session_replica, g_memdup2(&key, sizeof key),
                                GUINT_TO_POINTER((guint)d->replica + 1));
        }
    }
}

/* Builds and runs a scenario with the hooks. */
static ClResult *run_hooked(const ScnScenario *s, ScnCache *cache, Hooks *h)
{
    ScnBuilt b;
    GError *error = NULL;
    if (!scn_build(s, cache, &b, &error))
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_FATAL(b.step != NULL);
    ClPoolSpec *pools = g_new0(ClPoolSpec, b.num_pools);
    for (guint i = 0; i < b.num_pools; i++)
        pools[i] = (ClPoolSpec){.name = b.pools[i].name, .count = b.pools[i].count, .sched = b.pools[i].sched,
                                .latency = b.pools[i].step};
    h->n = b.num_replicas;
    g_free(h->last_end);
    h->last_end = g_new0(SimTime, h->n);
    ClConfig cfg = {.num_pools = b.num_pools, .pools = pools, .router = s->fleet.router,
                    .admission = s->fleet.admission, .seed = s->seed, .source = b.source,
                    .max_time = s->max_time_s > 0 ? sim_time_from_seconds(s->max_time_s) : 0,
                    .fleet_rows = TRUE, .step_hook = step_hook, .route_hook = route_hook, .hook_user = h};
    ClResult *res = cl_run(&cfg, &error);
    if (!res)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    g_free(pools);
    scn_built_clear(&b);
    return res;
}

static void hooks_clear(Hooks *h)
{
    g_free(h->last_end);
    if (h->session_replica)
        g_hash_table_destroy(h->session_replica);
    memset(h, 0, sizeof *h);
}

/* Fleet-wide and per-replica accounting at the end of a run. */
static void check_conservation(const ClResult *res)
{
    const SimSummary *s = res->summary;
    const SimClassSummary *a = &s->all;
    CU_ASSERT_EQUAL(a->arrived, a->completed + a->rejected + a->in_flight);
    uint64_t routed = 0, completed = 0, rejected = 0, in_flight = 0, admission = 0;
    for (guint r = 0; r < s->num_replicas; r++) {
        const SimReplicaSummary *rs = &s->replicas[r];
        CU_ASSERT_EQUAL(rs->arrived, rs->completed + rs->rejected + rs->in_flight);
        routed += rs->arrived;
        completed += rs->completed;
        rejected += rs->rejected;
        in_flight += rs->in_flight;
    }
    for (guint k = 0; k < CL_REJECT_N; k++)
        admission += res->rejected[k];
    CU_ASSERT_EQUAL(admission, s->rejected_admission);
    CU_ASSERT_EQUAL(completed, a->completed);
    CU_ASSERT_EQUAL(rejected + admission, a->rejected);
    /* what the replicas did not see is in transit */
    CU_ASSERT(a->in_flight >= in_flight);
    CU_ASSERT_EQUAL(routed + (a->in_flight - in_flight), res->routed);
    CU_ASSERT_EQUAL(res->routed + admission, a->arrived);
    uint64_t cls_arrived = 0;
    for (guint c = 0; c < s->num_classes; c++) {
        const SimClassSummary *cs = &s->classes[c];
        CU_ASSERT_EQUAL(cs->arrived, cs->completed + cs->rejected + cs->in_flight);
        cls_arrived += cs->arrived;
    }
    CU_ASSERT_EQUAL(cls_arrived, a->arrived);
}

static const char *const pressure_workload =
    "\"workload\": {\"num_requests\": 1500, \"arrival\": {\"process\": \"gamma\", \"rate\": 60, \"cv\": 3},"
    " \"classes\": [{\"name\": \"a\", \"share\": 0.7, \"input\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 3000},"
    " \"output\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 1500}, \"prefix\": {\"groups\": 4, \"tokens\": 256}},"
    " {\"name\": \"b\", \"share\": 0.3, \"input\": {\"dist\": \"constant\", \"value\": 100},"
    " \"output\": {\"dist\": \"constant\", \"value\": 50}}]}";

/* Every policy, under KV pressure (preemptions, rejections at the replicas),
 * with admission caps and a router latency, stopped by a time limit. */
static void test_conservation_every_policy(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    for (guint p = 0; p < CL_ROUTER_N; p++) {
        char *json = g_strdup_printf(
            "{\"max_time_s\": 20, \"engine\": {\"max_num_seqs\": 64, \"max_num_batched_tokens\": 512,"
            " \"num_gpu_blocks_override\": 300, \"max_model_len\": 4000},"
            " \"fleet\": {\"replicas\": 4, \"router\": {\"policy\": \"%s\", \"latency_ms\": %s},"
            " \"admission\": {\"max_waiting_per_replica\": 40, \"rate_limit\": 50, \"burst\": 30}}, %s}",
            cl_router_policy_name((ClRouterPolicy)p), p % 2 ? "3" : "0", pressure_workload);
        ScnScenario *s = scenario_from(json);
        Hooks h = {0};
        ClResult *res = run_hooked(s, cache, &h);
        if (h.failures)
            fprintf(stderr, "\n  policy %s: %" G_GUINT64_FORMAT " failures\n", cl_router_policy_name(p), h.failures);
        CU_ASSERT_EQUAL(h.failures, 0);
        CU_ASSERT(h.steps > 100);
        CU_ASSERT_EQUAL(h.decisions, res->summary->all.arrived);
        check_conservation(res);
        CU_ASSERT(res->summary->stopped_at_limit);
        CU_ASSERT(res->summary->all.in_flight > 0);
        CU_ASSERT(res->summary->rejected_no_blocks + res->summary->rejected_too_long > 0);
        CU_ASSERT(res->rejected[CL_REJECT_RATE_LIMIT] > 0);
        CU_ASSERT(res->summary->preemptions > 0);
        cl_result_free(res);
        hooks_clear(&h);
        scn_scenario_free(s);
        g_free(json);
    }
}

/* To the end (no time limit) with pools of different engines. */
static void test_conservation_pools_to_the_end(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *json = g_strdup_printf(
        "{\"engine\": {\"max_num_seqs\": 64, \"max_num_batched_tokens\": 1024, \"max_model_len\": 4000},"
        " \"fleet\": {\"pools\": [{\"name\": \"small\", \"count\": 2, \"engine\": {\"num_gpu_blocks_override\": 250}},"
        " {\"name\": \"big\", \"count\": 3, \"engine\": {\"num_gpu_blocks_override\": 2000, \"max_num_seqs\": 128}}],"
        " \"router\": \"least-outstanding\"}, %s}",
        pressure_workload);
    ScnScenario *s = scenario_from(json);
    Hooks h = {0};
    ClResult *res = run_hooked(s, cache, &h);
    CU_ASSERT_EQUAL(h.failures, 0);
    check_conservation(res);
    const SimSummary *sum = res->summary;
    CU_ASSERT_EQUAL(sum->all.in_flight, 0);
    CU_ASSERT_EQUAL(sum->all.arrived, 1500);
    CU_ASSERT_EQUAL(res->num_replicas, 5);
    CU_ASSERT_EQUAL(res->replica_pool[1], 0);
    CU_ASSERT_EQUAL(res->replica_pool[2], 1);
    CU_ASSERT_EQUAL(sum->replicas[0].num_gpu_blocks, 250);
    CU_ASSERT_EQUAL(sum->replicas[4].num_gpu_blocks, 2000);
    /* the small replicas reject requests the big ones can hold */
    CU_ASSERT(sum->replicas[0].rejected + sum->replicas[1].rejected > 0);
    uint64_t steps = 0;
    for (guint r = 0; r < 5; r++)
        steps += sum->replicas[r].steps;
    CU_ASSERT_EQUAL(steps, sum->steps);
    CU_ASSERT_EQUAL(steps, h.steps);
    cl_result_free(res);
    hooks_clear(&h);
    scn_scenario_free(s);
    g_free(json);
}

/* ---------------------------------------------------------- behaviours -- */

static const char *const chat_workload =
    "\"workload\": {\"num_requests\": %u, \"arrival\": {\"process\": \"%s\", \"rate\": %g%s},"
    " \"classes\": [{\"name\": \"chat\", \"share\": 1,"
    " \"input\": {\"dist\": \"lognormal\", \"mean\": 800, \"stddev\": 600, \"min\": 4, \"max\": 6000},"
    " \"output\": {\"dist\": \"lognormal\", \"mean\": 150, \"stddev\": 100, \"min\": 1, \"max\": 1000}%s}]}";

static char *chat(guint n, const char *process, double rate, const char *extra_arrival, const char *prefix)
{
    return g_strdup_printf(chat_workload, n, process, rate, extra_arrival, prefix);
}

static void test_least_waiting_fresh_is_exact(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *wl = chat(3000, "gamma", 120, ", \"cv\": 2.5", "");
    char *json = g_strdup_printf("{\"engine\": {\"max_num_seqs\": 32}, \"fleet\": {\"replicas\": 6, \"router\": "
                                 "{\"policy\": \"least-waiting\", \"snapshot_interval_ms\": 0}}, %s}",
                                 wl);
    ScnScenario *s = scenario_from(json);
    Hooks h = {.check_least_waiting = TRUE};
    ClResult *res = run_hooked(s, cache, &h);
    CU_ASSERT_EQUAL(h.decisions, 3000);
    CU_ASSERT_EQUAL(h.wrong_choices, 0);
    CU_ASSERT_EQUAL(h.failures, 0);
    /* the test is not vacuous: queues formed */
    CU_ASSERT(res->summary->all.queue_ms.p99 > 50);
    cl_result_free(res);
    hooks_clear(&h);
    scn_scenario_free(s);
    /* the same with stale signals does pick replicas with more waiting requests */
    char *json2 = g_strdup_printf("{\"engine\": {\"max_num_seqs\": 32}, \"fleet\": {\"replicas\": 6, \"router\": "
                                  "{\"policy\": \"least-waiting\", \"snapshot_interval_ms\": 100}}, %s}",
                                  wl);
    s = scenario_from(json2);
    Hooks h2 = {.check_least_waiting = TRUE, .quiet = TRUE};
    res = run_hooked(s, cache, &h2);
    CU_ASSERT(h2.wrong_choices > 0);
    cl_result_free(res);
    hooks_clear(&h2);
    scn_scenario_free(s);
    g_free(json2);
    g_free(json);
    g_free(wl);
}

static ClResult *run_json(ScnCache *cache, const char *json)
{
    ScnScenario *s = scenario_from(json);
    GError *error = NULL;
    ClResult *res = scn_run_fleet(s, cache, NULL, NULL, &error);
    if (!res)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    scn_scenario_free(s);
    return res;
}

static void test_prefix_affinity_beats_random(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    /* 64 system prompts of 2048 tokens; a replica's cache (3000 blocks, 48k tokens) holds about 20: spread
     * at random, every replica sees all 64 and keeps evicting them */
    char *wl = chat(4000, "poisson", 40, "", ", \"prefix\": {\"groups\": 64, \"tokens\": 2048}");
    double hit[2];
    const char *const routers[] = {"prefix-affinity", "random"};
    for (int k = 0; k < 2; k++) {
        char *json = g_strdup_printf("{\"engine\": {\"num_gpu_blocks_override\": 3000, \"max_model_len\": 8192},"
                                     " \"fleet\": {\"replicas\": 8, \"router\": \"%s\"}, %s}",
                                     routers[k], wl);
        ClResult *res = run_json(cache, json);
        hit[k] = res->prefix_hit_rate;
        check_conservation(res);
        cl_result_free(res);
        g_free(json);
    }
    fprintf(stderr, "\n  hit rate: prefix-affinity %.3f, random %.3f\n", hit[0], hit[1]);
    CU_ASSERT(hit[0] > hit[1] + 0.05);
    CU_ASSERT(hit[0] > 0.5);
    g_free(wl);
}

/* A burst of arrivals: with signals 100 ms old the router sends it where
 * the queue looked shortest; with fresh ones it spreads it. */
static void test_stale_signals_imbalance(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *wl = chat(3000, "gamma", 150, ", \"cv\": 4", "");
    double imb[2];
    const char *const intervals[] = {"0", "100"};
    for (int k = 0; k < 2; k++) {
        char *json = g_strdup_printf("{\"engine\": {\"max_num_seqs\": 32}, \"fleet\": {\"replicas\": 8, \"router\":"
                                     " {\"policy\": \"least-waiting\", \"snapshot_interval_ms\": %s}}, %s}",
                                     intervals[k], wl);
        ClResult *res = run_json(cache, json);
        imb[k] = res->imbalance;
        if (k == 1)
            CU_ASSERT_DOUBLE_EQUAL(res->snapshot_interval_ms, 100, 0);
        cl_result_free(res);
        g_free(json);
    }
    fprintf(stderr, "\n  imbalance: fresh %.3f, stale (100 ms) %.3f\n", imb[0], imb[1]);
    CU_ASSERT(imb[1] > imb[0]);
    g_free(wl);
}

static void test_replica_cap_and_token_bucket(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    /* caps with fresh signals hold at decision time */
    char *wl = chat(2000, "poisson", 200, "", "");
    char *json = g_strdup_printf("{\"engine\": {\"max_num_seqs\": 16}, \"fleet\": {\"replicas\": 3, \"router\":"
                                 " {\"policy\": \"round-robin\", \"snapshot_interval_ms\": 0},"
                                 " \"admission\": {\"max_waiting_per_replica\": 8}}, %s}",
                                 wl);
    ScnScenario *s = scenario_from(json);
    Hooks h = {.cap = 8};
    ClResult *res = run_hooked(s, cache, &h);
    CU_ASSERT_EQUAL(h.over_cap, 0);
    CU_ASSERT(res->rejected[CL_REJECT_REPLICA_QUEUE] > 0);
    check_conservation(res);
    cl_result_free(res);
    hooks_clear(&h);
    scn_scenario_free(s);
    g_free(json);
    g_free(wl);
    /* a bucket of 5 req/s (burst 1) under constant arrivals at 20 req/s for 50 s admits about 5/s */
    wl = chat(1000, "constant", 20, "", "");
    json = g_strdup_printf("{\"fleet\": {\"replicas\": 2, \"admission\": {\"rate_limit\": 5, \"burst\": 1}}, %s}", wl);
    res = run_json(cache, json);
    uint64_t admitted = res->routed;
    CU_ASSERT(admitted >= 245 && admitted <= 255);
    CU_ASSERT_EQUAL(res->rejected[CL_REJECT_RATE_LIMIT], 1000 - admitted);
    check_conservation(res);
    cl_result_free(res);
    g_free(json);
    /* a fleet-wide cap */
    json = g_strdup_printf("{\"engine\": {\"max_num_seqs\": 4}, \"fleet\": {\"replicas\": 2, \"router\": {\"policy\":"
                           " \"least-waiting\"}, \"admission\": {\"max_waiting\": 10}}, %s}", wl);
    res = run_json(cache, json);
    CU_ASSERT(res->rejected[CL_REJECT_FLEET_QUEUE] > 0);
    check_conservation(res);
    cl_result_free(res);
    g_free(json);
    g_free(wl);
}

/* One request: the router latency is added to its TTFT and E2E, exactly. */
static void test_router_latency_adds(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    double ttft[2], e2e[2];
    const char *const lat[] = {"0", "25"};
    for (int k = 0; k < 2; k++) {
        char *json = g_strdup_printf(
            "{\"fleet\": {\"replicas\": 2, \"router\": {\"latency_ms\": %s}}, \"workload\": {\"num_requests\": 1,"
            " \"arrival\": {\"process\": \"constant\", \"rate\": 1}, \"classes\": [{\"name\": \"c\", \"share\": 1,"
            " \"input\": {\"dist\": \"constant\", \"value\": 300}, \"output\": {\"dist\": \"constant\", \"value\": 20}}]}}",
            lat[k]);
        ClResult *res = run_json(cache, json);
        ttft[k] = res->summary->all.ttft_ms.mean;
        e2e[k] = res->summary->all.e2e_ms.mean;
        CU_ASSERT_DOUBLE_EQUAL(res->router_latency_ms, atof(lat[k]), 0);
        cl_result_free(res);
        g_free(json);
    }
    CU_ASSERT_DOUBLE_EQUAL(ttft[1] - ttft[0], 25.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(e2e[1] - e2e[0], 25.0, 1e-6);
}

/* Multi-turn sessions: with stickiness (over round-robin) and with
 * consistent hashing on the session (a load bound too loose to bind), every
 * later turn goes where its session's first turn went, and its prefix hits:
 * the hit rate beats round-robin's without stickiness. */
static void test_sessions_stay_together(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    const char *wl =
        "\"workload\": {\"num_requests\": 1500, \"arrival\": {\"process\": \"poisson\", \"rate\": 3},"
        " \"classes\": [{\"name\": \"chat\", \"share\": 1,"
        " \"input\": {\"dist\": \"lognormal\", \"mean\": 500, \"stddev\": 300, \"min\": 4, \"max\": 4000},"
        " \"output\": {\"dist\": \"lognormal\", \"mean\": 200, \"stddev\": 100, \"min\": 1, \"max\": 1000},"
        " \"session\": {\"turns\": {\"dist\": \"uniform\", \"min\": 2, \"max\": 6},"
        " \"new_tokens\": {\"dist\": \"constant\", \"value\": 100}, \"think_s\": {\"dist\": \"constant\","
        " \"value\": 5}}}]}";
    const char *const routers[] = {"{\"policy\": \"round-robin\", \"sticky_sessions\": true}",
                                   "{\"policy\": \"consistent-hash\", \"hash_key\": \"session\", \"load_factor\": 1000}",
                                   "\"round-robin\""};
    double hit[3];
    for (int k = 0; k < 3; k++) {
        char *json = g_strdup_printf("{\"fleet\": {\"replicas\": 6, \"router\": %s}, %s}", routers[k], wl);
        ScnScenario *s = scenario_from(json);
        Hooks h = {.session_replica = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL)};
        ClResult *res = run_hooked(s, cache, &h);
        hit[k] = res->prefix_hit_rate;
        CU_ASSERT(h.later_turns > 500);
        if (k < 2) {
            CU_ASSERT_EQUAL(h.turns_moved, 0);
        } else {
            CU_ASSERT(h.turns_moved > h.later_turns / 2); /* round-robin scatters them */
        }
        check_conservation(res);
        cl_result_free(res);
        hooks_clear(&h);
        scn_scenario_free(s);
        g_free(json);
    }
    fprintf(stderr, "\n  hit rate: sticky %.3f, consistent hash %.3f, round-robin %.3f\n", hit[0], hit[1], hit[2]);
    CU_ASSERT(hit[0] > hit[2] + 0.1);
    CU_ASSERT(hit[1] > hit[2] + 0.1);
}

/* --------------------------------------------------------- determinism -- */

static char *run_cli_json(const char *scenario_json, const char *extra)
{
    char *path = ss_test_write_file("fleet.json", scenario_json);
    char *dir = ss_test_tmpdir();
    char *out = g_build_filename(dir, "out.json", NULL);
    char *routing = g_build_filename(dir, "routing.csv", NULL);
    char *requests = g_build_filename(dir, "requests.csv", NULL);
    GPtrArray *args = g_ptr_array_new();
    const char *base[] = {"run", path, "--quiet", "--output-json", out, "--output-routing", routing,
                          "--output-requests", requests};
    for (guint i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(args, (gpointer)base[i]);
    char **words = extra ? g_strsplit(extra, " ", -1) : NULL;
    for (char **w = words; w && *w; w++)
        g_ptr_array_add(args, *w);
    g_ptr_array_add(args, NULL);
    char *err = NULL;
    int rc = ss_test_run_servesim((const char *const *)args->pdata, NULL, &err);
    if (rc != 0)
        fprintf(stderr, "\n  exit %d: %s\n", rc, err);
    CU_ASSERT_EQUAL(rc, 0);
    char *a = NULL, *b = NULL, *c = NULL;
    g_file_get_contents(out, &a, NULL, NULL);
    g_file_get_contents(routing, &b, NULL, NULL);
    g_file_get_contents(requests, &c, NULL, NULL);
    char *all = g_strconcat(a ? a : "", "\n--\n", b ? b : "", "\n--\n", c ? c : "", NULL);
    g_free(a);
    g_free(b);
    g_free(c);
    g_strfreev(words);
    g_ptr_array_free(args, TRUE);
    g_free(err);
    g_free(requests);
    g_free(routing);
    g_free(out);
    g_free(dir);
    g_free(path);
    return all;
}

static void test_same_bytes_twice(void)
{
    char *wl = chat(800, "gamma", 60, ", \"cv\": 2", ", \"prefix\": {\"groups\": 6, \"tokens\": 512}");
    const char *const routers[] = {"weighted", "random", "consistent-hash", "vllm-dp"};
    for (guint k = 0; k < G_N_ELEMENTS(routers); k++) {
        char *json = g_strdup_printf("{\"fleet\": {\"replicas\": 5, \"router\": {\"policy\": \"%s\", "
                                     "\"latency_ms\": 1.5}}, %s}",
                                     routers[k], wl);
        char *a = run_cli_json(json, NULL), *b = run_cli_json(json, NULL);
        CU_ASSERT_STRING_EQUAL(a, b);
        SS_ASSERT_CONTAINS(a, "\"schema\":\t\"servesim.run/2\"");
        SS_ASSERT_CONTAINS(a, "time_s,id,decision,replica,snapshot_age_ms,score_0,score_1,score_2,score_3,score_4\n");
        SS_ASSERT_CONTAINS(a, "e2e_ms,itl_max_ms,replica\n");
        /* another seed changes the routing of a random router */
        if (strcmp(routers[k], "random") == 0) {
            char *c = run_cli_json(json, "--seed 7");
            CU_ASSERT_STRING_NOT_EQUAL(a, c);
            g_free(c);
        }
        g_free(a);
        g_free(b);
        g_free(json);
    }
    g_free(wl);
}

/* --------------------------------------------------------------- output -- */

static void test_outputs_of_a_fleet(void)
{
    char *wl = chat(300, "poisson", 30, "", "");
    char *json = g_strdup_printf("{\"fleet\": {\"replicas\": 3, \"router\": \"least-outstanding\"}, %s}", wl);
    char *path = ss_test_write_file("f.json", json);
    char *dir = ss_test_tmpdir();
    char *ts = g_build_filename(dir, "ts.csv", NULL), *rt = g_build_filename(dir, "rt.csv", NULL);
    const char *args[] = {"run", path, "--output-timeseries", ts, "--timeseries-interval", "2", "--output-routing",
                          rt, NULL};
    char *out = NULL, *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "on 3 replicas of 1 x H100-SXM");
    SS_ASSERT_CONTAINS(out, "router     least-outstanding");
    SS_ASSERT_CONTAINS(out, "imbalance");
    SS_ASSERT_CONTAINS(out, "  replica pool");
    char *text = NULL;
    CU_ASSERT(g_file_get_contents(ts, &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    guint rows = g_strv_length(lines) - 2; /* header, final empty */
    CU_ASSERT(rows > 0 && rows % 3 == 0);  /* one row per interval and replica */
    SS_ASSERT_CONTAINS(lines[0], ",replica");
    g_strfreev(lines);
    g_free(text);
    CU_ASSERT(g_file_get_contents(rt, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    CU_ASSERT_EQUAL(g_strv_length(lines), 300 + 2);
    /* least-outstanding: the chosen replica has the lowest score of the row */
    guint bad = 0;
    for (guint i = 1; lines[i] && *lines[i]; i++) {
        char **f = g_strsplit(lines[i], ",", -1);
        int chosen = atoi(f[3]);
        double best = atof(f[5 + chosen]);
        for (int r = 0; r < 3; r++)
            bad += atof(f[5 + r]) < best;
        g_strfreev(f);
    }
    CU_ASSERT_EQUAL(bad, 0);
    g_strfreev(lines);
    g_free(text);
    g_free(out);
    g_free(err);
    g_free(ts);
    g_free(rt);
    g_free(dir);
    g_free(path);
    g_free(json);
    g_free(wl);
}

/* A sweep over replicas, routers and a scorer weight: the same bytes on 1
 * and 2 threads, and the fleet columns filled. */
static void test_sweep_of_fleets_threads(void)
{
    char *wl = chat(400, "poisson", 40, "", ", \"prefix\": {\"groups\": 4, \"tokens\": 512}");
    char *json = g_strdup_printf("{\"base\": {%s}, \"axes\": {\"replicas\": [1, 3], \"router\": [\"round-robin\","
                                 " \"weighted\"], \"prefix_weight\": [0, 3]}}",
                                 wl);
    char *path = ss_test_write_file("sweep.json", json);
    char *dir = ss_test_tmpdir();
    char *o1 = g_build_filename(dir, "j1.csv", NULL), *o2 = g_build_filename(dir, "j2.csv", NULL);
    const char *a1[] = {"sweep", path, "--jobs", "1", "--quiet", "--output", o1, NULL};
    const char *a2[] = {"sweep", path, "--jobs", "2", "--quiet", "--output", o2, NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(a1, NULL, NULL), 0);
    CU_ASSERT_EQUAL(ss_test_run_servesim(a2, NULL, NULL), 0);
    char *t1 = NULL, *t2 = NULL;
    CU_ASSERT(g_file_get_contents(o1, &t1, NULL, NULL));
    CU_ASSERT(g_file_get_contents(o2, &t2, NULL, NULL));
    CU_ASSERT_STRING_EQUAL(t1, t2);
    SS_ASSERT_CONTAINS(t1, "num_replicas,router_policy,imbalance,jain_index,prefix_hit_rate,rejected_admission");
    char **lines = g_strsplit(t1, "\n", -1);
    CU_ASSERT_EQUAL(g_strv_length(lines), 2 + 8);
    SS_ASSERT_CONTAINS(lines[8], ",3,weighted,3,ok,");
    g_strfreev(lines);
    g_free(t1);
    g_free(t2);
    g_free(o1);
    g_free(o2);
    g_free(dir);
    g_free(path);
    g_free(json);
    g_free(wl);
}

/* A run that fails midway (a bad trace row) writes none of its outputs:
 * files that existed keep their content, and no temporary file is left. */
static void test_outputs_whole_or_not_at_all(void)
{
    GString *trace = g_string_new("arrival_time_s,input_tokens,output_tokens\n");
    for (int i = 0; i < 200; i++)
        g_string_append_printf(trace, "%.3f,%d,%d\n", i * 0.05, 100 + i, 20);
    g_string_append(trace, "10.5,-3,20\n");
    char *tpath = ss_test_write_file("bad-trace.csv", trace->str);
    g_string_free(trace, TRUE);
    char *dir = ss_test_tmpdir();
    char *req = g_build_filename(dir, "req.csv", NULL), *rt = g_build_filename(dir, "rt.csv", NULL);
    CU_ASSERT(g_file_set_contents(req, "old content\n", -1, NULL));
    const char *args[] = {"replay", tpath, "--data-parallel-size", "3", "--output-requests", req,
                          "--output-routing", rt, "--quiet", NULL};
    char *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, NULL, &err), 3);
    SS_ASSERT_CONTAINS(err, "bad-trace.csv");
    char *text = NULL;
    CU_ASSERT(g_file_get_contents(req, &text, NULL, NULL));
    CU_ASSERT_STRING_EQUAL(text, "old content\n");
    g_free(text);
    CU_ASSERT_FALSE(g_file_test(rt, G_FILE_TEST_EXISTS));
    GDir *d = g_dir_open(dir, 0, NULL);
    guint files = 0;
    for (const char *n; (n = g_dir_read_name(d));)
        files++;
    g_dir_close(d);
    CU_ASSERT_EQUAL(files, 1); /* req.csv alone */
    g_free(err);
    g_free(req);
    g_free(rt);
    g_free(dir);
    g_free(tpath);
}

static const SsTestCase conservation_cases[] = {
    {"every policy: invariants and accounting", test_conservation_every_policy},
    {"pools, to the end", test_conservation_pools_to_the_end},
    {NULL, NULL},
};

static const SsTestCase behaviour_cases[] = {
    {"least-waiting with fresh signals is exact", test_least_waiting_fresh_is_exact},
    {"prefix affinity beats random on hit rate", test_prefix_affinity_beats_random},
    {"stale signals: more imbalance under a burst", test_stale_signals_imbalance},
    {"admission: replica cap, token bucket, fleet cap", test_replica_cap_and_token_bucket},
    {"router latency adds to TTFT", test_router_latency_adds},
    {"sessions stay on one replica: stickiness, hashing", test_sessions_stay_together},
    {NULL, NULL},
};

static const SsTestCase output_cases[] = {
    {"same inputs, same bytes", test_same_bytes_twice},
    {"time series per replica, routing rows", test_outputs_of_a_fleet},
    {"a sweep of fleets: same bytes on 1 and 2 threads", test_sweep_of_fleets_threads},
    {"outputs are written whole or not at all", test_outputs_whole_or_not_at_all},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"conservation", conservation_cases},
    {"behaviour", behaviour_cases},
    {"outputs", output_cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
