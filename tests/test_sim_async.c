/*
 * test_sim_async.c: vLLM's async scheduling in the engine. The batch of the
 * next step is formed when the current one starts, so a request that arrives
 * while a step runs is first scheduled two steps later (one step later with
 * synchronous scheduling); an idle engine schedules an arrival at once; the
 * deferred requests are counted in flight, and every invariant holds.
 */
#include <math.h>
#include <string.h>

#include "scn.h"
#include "ss_test.h"

typedef struct {
    guint step;
    guint first_step[8]; /* step (1-based) in which request i was first scheduled */
    uint64_t failures;
} Trace;

static void hook(const SimStepInfo *info, void *user)
{
    Trace *t = user;
    t->step++;
    for (uint32_t i = 0; i < info->step->num_reqs; i++) {
        uint64_t id = info->step->reqs[i]->id;
        if (id < 8 && t->first_step[id] == 0)
            t->first_step[id] = t->step;
    }
    uint64_t in_flight = sched_num_running(info->sched) + sched_num_waiting(info->sched) + info->deferred;
    if (info->arrived != info->completed + info->rejected + in_flight)
        t->failures++;
    char *why = NULL;
    if (!sched_check_invariants(info->sched, &why))
        t->failures++;
    g_free(why);
}

static void run(const char *trace_csv, gboolean async, Trace *t)
{
    char *path = ss_test_write_file("trace.csv", trace_csv);
    char *json = g_strdup_printf("{\"engine\": {\"async_scheduling\": %s, \"max_num_batched_tokens\": 2048},"
                                 " \"workload\": {\"trace\": {\"path\": \"%s\"}}}",
                                 async ? "true" : "false", path);
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(json, "test.json", "/", &error);
    if (!s)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnBuilt b;
    CU_ASSERT_FATAL(scn_build(s, cache, &b, &error));
    CU_ASSERT_EQUAL(b.latency.async_scheduling, async);
    memset(t, 0, sizeof *t);
    ClPoolSpec pool = {.name = "one", .count = 1, .sched = b.sched, .latency = b.step,
                       .async_scheduling = b.latency.async_scheduling};
    ClConfig cfg = {.num_pools = 1, .pools = &pool, .source = b.source, .step_hook = hook, .hook_user = t};
    cl_router_spec_init(&cfg.router);
    ClResult *res = cl_run(&cfg, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    SimSummary *sum = cl_result_steal_summary(res);
    cl_result_free(res);
    CU_ASSERT_EQUAL(sum->all.completed, sum->all.arrived);
    CU_ASSERT_EQUAL(t->failures, 0);
    sim_summary_free(sum);
    scn_built_clear(&b);
    scn_scenario_free(s);
    g_free(json);
    g_free(path);
}

/* Request 0 arrives at 0 with a 2,000-token prompt (one step of tens of ms);
 * request 1 arrives 1 ms later, while that step runs. */
static void test_arrival_during_a_step(void)
{
    const char *csv = "arrival_time_s,input_tokens,output_tokens\n0,2000,50\n0.001,100,50\n";
    Trace sync_t, async_t;
    run(csv, FALSE, &sync_t);
    run(csv, TRUE, &async_t);
    CU_ASSERT_EQUAL(sync_t.first_step[0], 1);
    CU_ASSERT_EQUAL(async_t.first_step[0], 1); /* idle engine: at once */
    CU_ASSERT_EQUAL(sync_t.first_step[1], 2);
    CU_ASSERT_EQUAL(async_t.first_step[1], 3);
}

/* A whole workload under async scheduling keeps every invariant, counts
 * deferred requests in flight, and is deterministic. */
static void test_invariants_async(void)
{
    GString *csv = g_string_new("arrival_time_s,input_tokens,output_tokens\n");
    for (int i = 0; i < 400; i++)
        g_string_append_printf(csv, "%.4f,%d,%d\n", i * 0.01, 100 + (i * 37) % 900, 20 + (i * 13) % 200);
    Trace a, b;
    run(csv->str, TRUE, &a);
    run(csv->str, TRUE, &b);
    CU_ASSERT_EQUAL(a.step, b.step);
    CU_ASSERT(a.step > 100);
    g_string_free(csv, TRUE);
}

static const SsTestCase cases[] = {
    {"a request arriving during a step waits one more step", test_arrival_during_a_step},
    {"invariants and conservation under async scheduling", test_invariants_async},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"async scheduling", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
