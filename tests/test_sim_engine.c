/*
 * test_sim_engine.c: whole simulations with the invariants checked after
 * every step (blocks used + free = total, tokens within prompt + output, time
 * never running backwards, arrived = completed + rejected + in flight), a
 * single request against the step model, rejections, the time limit, and
 * determinism of the summary.
 */
#include <math.h>
#include <string.h>

#include "scn.h"
#include "ss_test.h"

typedef struct {
    SimTime last_end;
    uint64_t steps;
    uint64_t failures;
    uint64_t max_preempted_in_step;
} HookState;

static void check_step(const SimStepInfo *info, void *user)
{
    HookState *h = user;
    h->steps++;
    char *why = NULL;
    if (!sched_check_invariants(info->sched, &why)) {
        if (h->failures++ < 3)
            fprintf(stderr, "\n  step %" G_GUINT64_FORMAT ": %s\n", h->steps, why);
    }
    g_free(why);
    /* time never runs backwards; steps do not overlap */
    if (info->start < h->last_end || info->end <= info->start)
        h->failures++;
    h->last_end = info->end;
    /* every request is accounted for */
    uint64_t in_flight = sched_num_running(info->sched) + sched_num_waiting(info->sched) + info->deferred;
    if (info->arrived != info->completed + info->rejected + in_flight)
        h->failures++;
    const SchedKvPool *pool = sched_kv_pool(info->sched);
    if (sched_kv_pool_num_used(pool) + sched_kv_pool_num_free(pool) != sched_kv_pool_num_blocks(pool))
        h->failures++;
    if (info->step->num_preempted > h->max_preempted_in_step)
        h->max_preempted_in_step = info->step->num_preempted;
    /* a step never exceeds the token budget */
    if (info->step->batch.total_tokens > sched_config(info->sched)->max_num_batched_tokens)
        h->failures++;
}

static ScnScenario *scenario_from(const char *json)
{
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(json, "test.json", ss_test_source_dir(), &error);
    if (!s)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    return s;
}

/* Runs with the invariant hook; returns the summary (caller frees). */
static SimSummary *run_checked(ScnScenario *s, HookState *h, ScnCache *cache)
{
    ScnBuilt b;
    GError *error = NULL;
    if (!scn_build(s, cache, &b, &error))
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_FATAL(b.step != NULL);
    ClPoolSpec pool = {.name = "one", .count = 1, .sched = b.sched, .latency = b.step,
                        .async_scheduling = b.latency.async_scheduling};
    ClConfig cfg = {.num_pools = 1, .pools = &pool, .source = b.source, .step_hook = check_step, .hook_user = h,
                    .max_time = s->max_time_s > 0 ? sim_time_from_seconds(s->max_time_s) : 0};
    cl_router_spec_init(&cfg.router);
    ClResult *res = cl_run(&cfg, &error);
    if (!res)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    SimSummary *sum = cl_result_steal_summary(res);
    cl_result_free(res);
    scn_built_clear(&b);
    return sum;
}

static void test_invariants_default_workload(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnScenario *s = scenario_from("{\"workload\": {\"num_requests\": 600, \"arrival\": {\"process\": \"poisson\", "
                                   "\"rate\": 8}, \"classes\": [{\"name\": \"chat\", \"share\": 1, \"input\": "
                                   "{\"dist\": \"lognormal\", \"mean\": 1000, \"stddev\": 800, \"min\": 4, \"max\": 8000}, "
                                   "\"output\": {\"dist\": \"lognormal\", \"mean\": 200, \"stddev\": 150, \"min\": 1, "
                                   "\"max\": 1000}}]}}");
    HookState h = {0};
    SimSummary *sum = run_checked(s, &h, cache);
    CU_ASSERT_EQUAL(h.failures, 0);
    CU_ASSERT_EQUAL(h.steps, sum->steps);
    CU_ASSERT_EQUAL(sum->all.arrived, 600);
    CU_ASSERT_EQUAL(sum->all.completed, 600);
    CU_ASSERT_EQUAL(sum->all.rejected + sum->all.in_flight, 0);
    CU_ASSERT(sum->all.ttft_ms.mean > 0);
    CU_ASSERT(sum->all.tpot_ms.mean > 0);
    CU_ASSERT(sum->all.ttft_ms.p99 >= sum->all.ttft_ms.p50);
    CU_ASSERT(sum->all.e2e_ms.mean > sum->all.ttft_ms.mean);
    CU_ASSERT(sum->kv_usage_peak > 0 && sum->kv_usage_peak <= 1);
    /* no shared prefixes and no preemption: nothing can be a prefix hit */
    CU_ASSERT_EQUAL(sum->preemptions, 0);
    CU_ASSERT_EQUAL(sum->prefix_hit_tokens, 0);
    sim_summary_free(sum);
    scn_scenario_free(s);
}

/* A small KV cache (given, so vLLM's start-up check of max_model_len against
 * the cache does not apply) forces preemptions; some requests need more
 * blocks than exist and some are longer than max_model_len: both are
 * rejected and counted. */
static void test_invariants_under_pressure(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnScenario *s = scenario_from(
        "{\"engine\": {\"max_num_seqs\": 64, \"max_num_batched_tokens\": 512, \"num_gpu_blocks_override\": 200,"
        " \"max_model_len\": 4000, \"enable_prefix_caching\": true},"
        " \"workload\": {\"num_requests\": 400, \"arrival\": {\"process\": \"gamma\", \"rate\": 40, \"cv\": 3},"
        " \"classes\": [{\"name\": \"a\", \"share\": 0.7, \"input\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 3000},"
        " \"output\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 1500}, \"prefix\": {\"groups\": 3, \"tokens\": 200}},"
        " {\"name\": \"b\", \"share\": 0.3, \"input\": {\"dist\": \"constant\", \"value\": 100},"
        " \"output\": {\"dist\": \"constant\", \"value\": 50}}]}}");
    HookState h = {0};
    SimSummary *sum = run_checked(s, &h, cache);
    CU_ASSERT_EQUAL(h.failures, 0);
    CU_ASSERT(sum->preemptions > 0);
    CU_ASSERT(sum->rejected_too_long > 0);   /* e.g. 3000 + 1500 > 4000 */
    CU_ASSERT(sum->rejected_no_blocks > 0);  /* 199 blocks hold 3184 tokens */
    CU_ASSERT(sum->prefix_hit_tokens > 0);
    CU_ASSERT_EQUAL(sum->all.arrived, 400);
    CU_ASSERT_EQUAL(sum->all.completed + sum->all.rejected + sum->all.in_flight, 400);
    CU_ASSERT_EQUAL(sum->all.in_flight, 0);
    CU_ASSERT_EQUAL(sum->num_classes, 2);
    CU_ASSERT_EQUAL(sum->classes[0].arrived + sum->classes[1].arrived, 400);
    CU_ASSERT_EQUAL(sum->classes[1].rejected, 0);
    sim_summary_free(sum);
    scn_scenario_free(s);
}

/* Multi-turn sessions (a third of the turns on a small KV cache, so that
 * sessions lose blocks to eviction and preemption): the invariants hold
 * after every step, and later turns hit their sessions' blocks. */
static void test_invariants_multi_turn(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnScenario *s = scenario_from(
        "{\"engine\": {\"max_num_seqs\": 48, \"max_num_batched_tokens\": 1024, \"num_gpu_blocks_override\": 700,"
        " \"max_model_len\": 8000, \"enable_prefix_caching\": true},"
        " \"workload\": {\"num_requests\": 500, \"arrival\": {\"process\": \"poisson\", \"rate\": 6},"
        " \"classes\": [{\"name\": \"chat\", \"share\": 0.5, \"input\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 900},"
        " \"output\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 400}, \"prefix\": {\"groups\": 2, \"tokens\": 100},"
        " \"session\": {\"turns\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 6},"
        " \"new_tokens\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 300},"
        " \"think_s\": {\"dist\": \"uniform\", \"min\": 0, \"max\": 4}, \"max_input_tokens\": 6000}},"
        " {\"name\": \"single\", \"share\": 0.5, \"input\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 2000},"
        " \"output\": {\"dist\": \"uniform\", \"min\": 1, \"max\": 300}}]}}");
    HookState h = {0};
    SimSummary *sum = run_checked(s, &h, cache);
    CU_ASSERT_EQUAL(h.failures, 0);
    CU_ASSERT(sum->preemptions > 0);
    CU_ASSERT(sum->prefix_hit_tokens > 0);
    CU_ASSERT_EQUAL(sum->all.arrived, 500);
    CU_ASSERT_EQUAL(sum->all.completed + sum->all.rejected, 500);
    sim_summary_free(sum);
    scn_scenario_free(s);
}

/* A time limit stops the run with requests in flight, still accounted for. */
static void test_time_limit(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnScenario *s = scenario_from("{\"max_time_s\": 5, \"workload\": {\"num_requests\": 5000, \"arrival\": "
                                   "{\"process\": \"poisson\", \"rate\": 200}, \"classes\": [{\"name\": \"c\", "
                                   "\"share\": 1, \"input\": {\"dist\": \"constant\", \"value\": 2000}, \"output\": "
                                   "{\"dist\": \"constant\", \"value\": 500}}]}}");
    HookState h = {0};
    SimSummary *sum = run_checked(s, &h, cache);
    CU_ASSERT_EQUAL(h.failures, 0);
    CU_ASSERT(sum->stopped_at_limit);
    CU_ASSERT(sum->all.in_flight > 0);
    CU_ASSERT_EQUAL(sum->all.arrived, sum->all.completed + sum->all.rejected + sum->all.in_flight);
    CU_ASSERT(sum->all.arrived < 5000);
    CU_ASSERT_DOUBLE_EQUAL(sum->end_s, 5.0, 1e-9);
    sim_summary_free(sum);
    scn_scenario_free(s);
}

/* One request alone: its TTFT is the time of one prefill step plus the
 * delay before that step's token leaves the engine, and each later token
 * takes one decode step, as `lat_step_model_seconds_delay` says. */
static void test_single_request_matches_step_model(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnScenario *s = scenario_from("{\"workload\": {\"num_requests\": 1, \"arrival\": {\"process\": \"constant\", "
                                   "\"rate\": 1}, \"classes\": [{\"name\": \"c\", \"share\": 1, \"input\": {\"dist\": "
                                   "\"constant\", \"value\": 512}, \"output\": {\"dist\": \"constant\", \"value\": "
                                   "64}}]}}");
    ScnBuilt b;
    GError *error = NULL;
    CU_ASSERT_FATAL(scn_build(s, cache, &b, &error));
    BatchDesc batch = {0};
    batch_desc_reserve(&batch, 1);
    batch_desc_push(&batch, 512, 0, true);
    double delay_s = 0;
    double prefill_ms = sim_time_to_ms(sim_time_from_seconds(lat_step_model_seconds_delay(b.step, &batch, &delay_s)));
    double first_delay_ms = sim_time_to_ms(sim_time_from_seconds(delay_s));
    double decode_sum_ms = 0, last_delay_ms = 0;
    for (uint32_t k = 512; k < 512 + 63; k++) {
        batch_desc_clear(&batch);
        batch_desc_push(&batch, 1, k, true);
        decode_sum_ms += sim_time_to_ms(sim_time_from_seconds(lat_step_model_seconds_delay(b.step, &batch, &delay_s)));
        last_delay_ms = sim_time_to_ms(sim_time_from_seconds(delay_s));
    }
    batch_desc_release(&batch);
    scn_built_clear(&b);
    CU_ASSERT(first_delay_ms >= 0 && last_delay_ms >= 0);
    HookState h = {0};
    SimSummary *sum = run_checked(s, &h, cache);
    CU_ASSERT_EQUAL(sum->all.completed, 1);
    CU_ASSERT_EQUAL(sum->steps, 64);
    CU_ASSERT_DOUBLE_EQUAL(sum->all.ttft_ms.mean, prefill_ms + first_delay_ms, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(sum->all.tpot_ms.mean, (decode_sum_ms + last_delay_ms - first_delay_ms) / 63, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(sum->all.e2e_ms.mean, prefill_ms + decode_sum_ms + last_delay_ms, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(sum->all.queue_ms.mean, 0.0, 1e-12);
    CU_ASSERT_EQUAL(sum->all.itl_ms.count, 63);
    sim_summary_free(sum);
    scn_scenario_free(s);
}

static void summaries_equal(const SimSummary *a, const SimSummary *b)
{
    CU_ASSERT_EQUAL(a->steps, b->steps);
    CU_ASSERT_EQUAL(a->preemptions, b->preemptions);
    CU_ASSERT_EQUAL(memcmp(&a->all.ttft_ms, &b->all.ttft_ms, sizeof a->all.ttft_ms), 0);
    CU_ASSERT_EQUAL(memcmp(&a->all.e2e_ms, &b->all.e2e_ms, sizeof a->all.e2e_ms), 0);
    CU_ASSERT_EQUAL(memcmp(&a->all.itl_ms, &b->all.itl_ms, sizeof a->all.itl_ms), 0);
    CU_ASSERT_EQUAL(a->kv_usage_mean, b->kv_usage_mean);
}

static void test_same_seed_same_result(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnScenario *s = scenario_from("{}");
    GError *error = NULL;
    CU_ASSERT_FATAL(scn_scenario_set(s, "num_requests", "300", "test", &error));
    HookState h1 = {0}, h2 = {0};
    SimSummary *a = run_checked(s, &h1, cache);
    SimSummary *b = run_checked(s, &h2, cache);
    summaries_equal(a, b);
    CU_ASSERT(scn_scenario_set(s, "seed", "43", "test", &error));
    SimSummary *c = run_checked(s, &h1, cache);
    CU_ASSERT(c->all.ttft_ms.mean != a->all.ttft_ms.mean);
    sim_summary_free(a);
    sim_summary_free(b);
    sim_summary_free(c);
    scn_scenario_free(s);
}

static const SsTestCase cases[] = {
    {"invariants after every step: default workload", test_invariants_default_workload},
    {"invariants under KV pressure, rejections, prefixes", test_invariants_under_pressure},
    {"invariants with multi-turn sessions", test_invariants_multi_turn},
    {"a time limit leaves requests accounted for", test_time_limit},
    {"one request matches the step model", test_single_request_matches_step_model},
    {"same seed, same summary; other seed, other summary", test_same_seed_same_result},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"engine", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
