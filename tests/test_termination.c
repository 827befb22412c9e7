/*
 * test_termination.c: every loop ends. The plan's bisection stops when its
 * midpoint stops moving (a tolerance of 1e-300 never ended before); a time
 * series by intervals has a floor on the interval and a ceiling on its rows
 * (1e-12 s wrote a row per nanosecond, hundreds of MB in seconds), said up
 * front when the workload's span is known and before writing otherwise.
 */
#include <math.h>

#include "cl.h"
#include "pl_plan_internal.h"
#include "scn.h"
#include "ss_error.h"
#include "ss_test.h"

/* One request at a time, one short step each (as test_pl_plan.c). */
static const char *base =
    "{\"model\": \"llama-3.1-8b\", \"hardware\": \"H100-SXM\", \"seed\": 5,"
    " \"engine\": {\"max_num_seqs\": 1, \"max_num_batched_tokens\": 16, \"max_model_len\": 4096,"
    " \"enable_prefix_caching\": false},"
    " \"workload\": {\"num_requests\": 50, \"arrival\": {\"process\": \"constant\", \"rate\": 1},"
    " \"classes\": [{\"name\": \"one-step\", \"share\": 1, \"input\": {\"dist\": \"constant\", \"value\": 16},"
    " \"output\": {\"dist\": \"constant\", \"value\": 1}}]}}";

static void test_bisection_tolerance_finer_than_doubles(void)
{
    char *text = g_strdup_printf(
        "{\"base\": %s, \"target_rate\": 10, \"slos\": [{\"metric\": \"ttft\", \"max_ms\": 1e6}],"
        " \"candidates\": [{\"name\": \"h100\"}], \"prices\": {\"H100-SXM\": 2},"
        " \"search\": {\"min_rate\": 1, \"max_rate\": 2000, \"tolerance\": 1e-300, \"num_requests\": 50,"
        " \"max_queue_growth_ms\": 1e9, \"curve_points\": 0}}",
        base);
    GError *error = NULL;
    PlPlanSpec *p = pl_plan_spec_parse(text, "plan.json", ".", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    PlPlanResult *r = pl_plan_run(p, cache, 1);
    const PlCandidateResult *c = &r->candidates[0];
    CU_ASSERT_FATAL(c->feasible);
    /* the bracket shrank until lo and hi were adjacent doubles (or the guard) */
    fprintf(stderr, "\n  %u simulations, bracket [%.17g, %.17g]\n", c->evaluations, c->max_rate, c->max_rate_upper);
    CU_ASSERT(c->evaluations <= 1 + 40 + 64);
    CU_ASSERT(c->max_rate < c->max_rate_upper);
    CU_ASSERT((c->max_rate_upper - c->max_rate) / c->max_rate_upper < 1e-12);
    pl_plan_result_free(r);
    pl_plan_spec_free(p);
    g_free(text);
}

/* Runs `scenario_json` (one replica) with a time series by `interval_s` to /dev/null. */
static SimSummary *run_series(const char *scenario_json, double interval_s, GError **error)
{
    ScnScenario *s = scn_scenario_parse(scenario_json, "s.json", ".", error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    ScnBuilt b;
    CU_ASSERT_FATAL(scn_build(s, cache, &b, error));
    FILE *sink = fopen("/dev/null", "w");
    ClPoolSpec pool = {.name = "one", .count = 1, .sched = b.sched, .latency = b.step,
                       .async_scheduling = b.latency.async_scheduling};
    ClConfig cfg = {.num_pools = 1, .pools = &pool, .source = b.source};
    cl_router_spec_init(&cfg.router);
    cfg.outputs.timeseries_csv = sink;
    cfg.outputs.timeseries_interval_s = interval_s;
    ClResult *res = cl_run(&cfg, error);
    SimSummary *sum = res ? cl_result_steal_summary(res) : NULL;
    cl_result_free(res);
    fclose(sink);
    scn_built_clear(&b);
    scn_scenario_free(s);
    return sum;
}

static void test_interval_floor_and_rows(void)
{
    const char *small = "{\"workload\": {\"num_requests\": 20, \"arrival\": {\"process\": \"poisson\", \"rate\": 5},"
                        " \"input\": {\"dist\": \"constant\", \"value\": 100},"
                        " \"output\": {\"dist\": \"constant\", \"value\": 10}}}";
    GError *error = NULL;
    /* below the floor: an error, not a row per nanosecond */
    SimSummary *sum = run_series(small, 1e-12, &error);
    CU_ASSERT_PTR_NULL(sum);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_EQUAL(error->code, SS_ERROR_USAGE);
    SS_ASSERT_CONTAINS(error->message, "time series interval: expected 0.001 to 4e+09 s, got 1e-12");
    g_clear_error(&error);
    /* at the floor, a short run is fine */
    sum = run_series(small, 1e-3, &error);
    CU_ASSERT_PTR_NOT_NULL(sum);
    sim_summary_free(sum);

    /* a trace whose two arrivals are 20,000 s apart: 2e7 rows of 1 ms,
     * unknown before the run (no rate), refused before they are written */
    char *trace = ss_test_write_file("gap.csv", "arrival_time_s,input_tokens,output_tokens\n0,10,2\n20000,10,2\n");
    char *json = g_strdup_printf("{\"workload\": {\"trace\": {\"path\": \"%s\"}}}", trace);
    gint64 t0 = g_get_monotonic_time();
    sum = run_series(json, 1e-3, &error);
    double wall = (g_get_monotonic_time() - t0) / 1e6;
    CU_ASSERT_PTR_NULL(sum);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_EQUAL(error->code, SS_ERROR_USAGE);
    SS_ASSERT_CONTAINS(error->message, "would have more than 10000000 rows");
    SS_ASSERT_CONTAINS(error->message, "use a longer --timeseries-interval");
    CU_ASSERT(wall < 5); /* refused, not written */
    g_clear_error(&error);
    /* the same at 10 s intervals: 2,000 rows */
    sum = run_series(json, 10, &error);
    CU_ASSERT_PTR_NOT_NULL(sum);
    sim_summary_free(sum);
    g_free(json);
    g_free(trace);

    /* a synthetic workload's span is known: said before the run */
    const char *args[] = {"run", "--num-requests", "1000", "--rate", "0.01", "--output-timeseries", "/dev/null",
                          "--timeseries-interval", "0.001", NULL};
    char *err = NULL;
    t0 = g_get_monotonic_time();
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, NULL, &err), 2);
    CU_ASSERT((g_get_monotonic_time() - t0) / 1e6 < 5);
    SS_ASSERT_CONTAINS(err, "would write about 1e+08 rows (more than 10000000)");
    g_free(err);
}

static const SsTestCase cases[] = {
    {"plan bisection with a tolerance finer than doubles ends", test_bisection_tolerance_finer_than_doubles},
    {"time series intervals: a floor and a ceiling on rows", test_interval_floor_and_rows},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"termination", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
