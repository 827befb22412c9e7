/*
 * test_pl_plan.c: capacity planning: SLO and plan-file parsing errors, the
 * bisection against a server whose capacity is known exactly, infeasible
 * candidates, replicas and cost, ranking, and independence from the number
 * of threads.
 */
#include <math.h>
#include <string.h>

#include "pl_plan_internal.h"
#include "ss_error.h"
#include "ss_test.h"

static void test_slo_parse(void)
{
    PlSlo slo;
    GError *error = NULL;
    CU_ASSERT_FATAL(pl_slo_parse("{\"metric\": \"ttft_ms\", \"percentile\": \"p99\", \"max_ms\": 2000}", "p.json",
                                 "slos[0]", &slo, &error));
    CU_ASSERT_EQUAL(slo.metric, PL_SLO_TTFT);
    CU_ASSERT_EQUAL(slo.stat, PL_STAT_P99);
    CU_ASSERT_DOUBLE_EQUAL(slo.max_ms, 2000, 0);
    CU_ASSERT_STRING_EQUAL(slo.label, "p99 TTFT <= 2000 ms");
    g_free(slo.label);
    CU_ASSERT_FATAL(pl_slo_parse("{\"metric\": \"TPOT\", \"stat\": \"mean\", \"max_ms\": 40}", "p.json", "slos[1]",
                                 &slo, &error));
    CU_ASSERT_EQUAL(slo.metric, PL_SLO_TPOT);
    CU_ASSERT_EQUAL(slo.stat, PL_STAT_MEAN);
    g_free(slo.label);
    struct {
        const char *json, *message;
    } bad[] = {
        {"{\"metric\": \"latency\", \"max_ms\": 5}", "slos[0].metric: expected ttft, tpot, itl, e2e or queue"},
        {"{\"metric\": \"ttft\", \"percentile\": \"p42\", \"max_ms\": 5}", "slos[0].percentile: expected mean, p50"},
        {"{\"metric\": \"ttft\"}", "needs \"metric\" and \"max_ms\""},
        {"{\"metric\": \"ttft\", \"max_ms\": -1}", "slos[0].max_ms: expected a positive number, got -1"},
        {"{\"metric\": \"ttft\", \"max_ms\": \"2s\"}", "slos[0].max_ms"},
        {"{\"metric\": \"ttft\", \"max_ms\": 5, \"p\": 1}", "slos[0].p: unknown field"},
        {"{\"metric\": \"ttft\", \"max_ms\": 5", "p.json:1:"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        CU_ASSERT_FALSE(pl_slo_parse(bad[i].json, "p.json", "slos[0]", &slo, &error));
        CU_ASSERT_PTR_NOT_NULL_FATAL(error);
        SS_ASSERT_CONTAINS(error->message, bad[i].message);
        g_clear_error(&error);
    }
}

/* A plan around a base scenario; `extra` is spliced into the top level. */
static char *plan_text(const char *base, const char *candidates, const char *extra)
{
    return g_strdup_printf("{\"base\": %s, \"target_rate\": 10, \"slos\": [{\"metric\": \"ttft\", \"percentile\": "
                           "\"p99\", \"max_ms\": 1e6}], \"candidates\": %s, \"prices\": {\"H100-SXM\": 2, "
                           "\"H200-SXM\": 3}%s}",
                           base, candidates, extra ? extra : "");
}

static const char *single_step_base =
    "{\"model\": \"llama-3.1-8b\", \"hardware\": \"H100-SXM\", \"seed\": 5,"
    " \"engine\": {\"max_num_seqs\": 1, \"max_num_batched_tokens\": 16, \"max_model_len\": 4096,"
    " \"enable_prefix_caching\": false},"
    " \"workload\": {\"num_requests\": 400, \"arrival\": {\"process\": \"constant\", \"rate\": 1},"
    " \"classes\": [{\"name\": \"one-step\", \"share\": 1, \"input\": {\"dist\": \"constant\", \"value\": 16},"
    " \"output\": {\"dist\": \"constant\", \"value\": 1}}]}}";

static void test_plan_parse_errors(void)
{
    struct {
        const char *text, *message;
    } bad[] = {
        {"{\"target_rate\": 1}", "base: missing"},
        {"{\"base\": {}, \"target_rate\": 0}", "target_rate: expected a positive number, got 0"},
        {"{\"base\": {}, \"target_rate\": 1, \"slos\": []}", "slos: expected a list of 1 to 8 SLOs"},
        {"{\"base\": {}, \"target_rate\": 1, \"slos\": [{\"metric\": \"ttft\", \"max_ms\": 1}], \"candidates\": 3}",
         "candidates: expected a list"},
        {"{\"base\": {}, \"target_rate\": 1, \"slos\": [{\"metric\": \"ttft\", \"max_ms\": 1}], "
         "\"candidates\": [{\"hardware\": \"H20\"}], \"prices\": {\"H100-SXM\": 2}}",
         "prices: no price for H20"},
        {"{\"base\": {}, \"target_rate\": 1, \"slos\": [{\"metric\": \"ttft\", \"max_ms\": 1}], "
         "\"candidates\": [{\"max_num_seqs\": -4}], \"prices\": {\"H100-SXM\": 2}}",
         "candidates[0]"},
        {"{\"base\": {}, \"target_rate\": 1, \"slos\": [{\"metric\": \"ttft\", \"max_ms\": 1}], "
         "\"candidates\": {\"grid\": {\"tensor_parallel_size\": []}}, \"prices\": {\"H100-SXM\": 2}}",
         "candidates.grid.tensor_parallel_size: expected a non-empty list"},
        {"{\"base\": {}, \"target_rate\": 1, \"slos\": [{\"metric\": \"ttft\", \"max_ms\": 1}], "
         "\"candidates\": [{}], \"prices\": {\"H100-SXM\": 2}, \"search\": {\"min_rate\": 5, \"max_rate\": 2}}",
         "min_rate (5) must be below max_rate (2)"},
        {"{\"base\": {}, \"target_rate\": 1, \"slo\": []}", "slo: unknown field (did you mean 'slos'?)"},
        {"{\"base\": {\"fleet\": {\"pools\": [{\"count\": 2}]}}, \"target_rate\": 1}",
         "base.fleet.pools: the plan sizes a fleet of one deployment"},
        {"{\"base\": {}, \"target_rate\": 1, \"router\": \"closest\"}", "fleet.router: unknown router"},
        {"{\"base\": {}, \"target_rate\": 1, \"slos\": [{\"metric\": \"ttft\", \"max_ms\": 1}], "
         "\"candidates\": [{}], \"prices\": {\"H100-SXM\": 2}, \"search\": {\"max_replicas\": 0}}",
         "search.max_replicas: expected"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        GError *error = NULL;
        PlPlanSpec *p = pl_plan_spec_parse(bad[i].text, "plan.json", ".", &error);
        CU_ASSERT_PTR_NULL(p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(error);
        CU_ASSERT_EQUAL(error->code, SS_ERROR_INPUT);
        SS_ASSERT_CONTAINS(error->message, bad[i].message);
        g_clear_error(&error);
        pl_plan_spec_free(p);
    }
    /* a grid expands to the product of its lists, last field fastest */
    char *text = plan_text(single_step_base,
                           "{\"grid\": {\"hardware\": [\"H100-SXM\", \"H200-SXM\"], \"max_num_seqs\": [1, 2, 4]}}",
                           NULL);
    GError *error = NULL;
    PlPlanSpec *p = pl_plan_spec_parse(text, "plan.json", ".", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->num_candidates, 6);
    CU_ASSERT_STRING_EQUAL(p->candidates[4].scenario->hardware, "H200-SXM");
    CU_ASSERT_EQUAL(p->candidates[4].scenario->max_num_seqs, 2);
    CU_ASSERT_DOUBLE_EQUAL(pl_plan_spec_price(p, "h200-sxm"), 3, 0);
    pl_plan_spec_free(p);
    g_free(text);
}

/* The step time of one 16-token prefill on one H100 for Llama-3.1-8B. */
static double single_step_seconds(ScnCache *cache, const char *hardware)
{
    ScnScenario *s = scn_scenario_parse(single_step_base, "base", ".", NULL);
    g_free(s->hardware);
    s->hardware = g_strdup(hardware);
    ScnBuilt b;
    CU_ASSERT_FATAL(scn_build(s, cache, &b, NULL));
    BatchDesc batch = {0};
    batch_desc_reserve(&batch, 1);
    batch_desc_push(&batch, 16, 0, true);
    double t = sim_time_to_seconds(sim_time_from_seconds(lat_step_model_seconds(b.step, &batch)));
    batch_desc_release(&batch);
    scn_built_clear(&b);
    scn_scenario_free(s);
    return t;
}

/* One request at a time, one step each: the server's capacity is exactly
 * 1 / T requests/s. Below it nothing queues; above it the queue grows at
 * (rate T - 1) of elapsed time. The bisection must find 1 / T within the
 * stability limit (2%) and its tolerance (1%). */
static void test_bisection_known_threshold(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    double t = single_step_seconds(cache, "H100-SXM");
    double t200 = single_step_seconds(cache, "H200-SXM");
    CU_ASSERT(t > 0.004 && t < 0.010);
    char *text = plan_text(single_step_base, "[{\"name\": \"h100\"}, {\"name\": \"h200\", \"hardware\": \"H200-SXM\"}]",
                           ", \"search\": {\"min_rate\": 1, \"max_rate\": 2000, \"tolerance\": 0.01, "
                           "\"num_requests\": 400, \"max_queue_growth_ms\": 1e9, \"curve_points\": 3}");
    GError *error = NULL;
    PlPlanSpec *p = pl_plan_spec_parse(text, "plan.json", ".", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    PlPlanResult *r = pl_plan_run(p, cache, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const PlCandidateResult *h100 = &r->candidates[0], *h200 = &r->candidates[1];
    CU_ASSERT_FATAL(h100->feasible && h200->feasible);
    fprintf(stderr, "\n  capacity 1/T = %.2f req/s, found %.2f (bracket %.2f); H200 %.2f vs %.2f\n", 1 / t,
            h100->max_rate, h100->max_rate_upper, 1 / t200, h200->max_rate);
    CU_ASSERT(fabs(h100->max_rate * t - 1) < 0.04);
    CU_ASSERT(fabs(h200->max_rate * t200 - 1) < 0.04);
    CU_ASSERT(h100->max_rate < h100->max_rate_upper);
    CU_ASSERT((h100->max_rate_upper - h100->max_rate) / h100->max_rate_upper <= 0.01 + 1e-12);
    CU_ASSERT_STRING_EQUAL(h100->binding, "queue growth (throughput)");
    CU_ASSERT_EQUAL(h100->num_curve, 3);
    /* replicas and cost for 10 requests/s: one replica each */
    CU_ASSERT_EQUAL(h100->replicas, 1);
    CU_ASSERT_EQUAL(h100->gpus, 1);
    CU_ASSERT_DOUBLE_EQUAL(h100->cost_per_hour, 2.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(r->mean_output_tokens, 1.0, 1e-12);
    /* $2/h for 10 req/s x 1 token x 3600 s = 36,000 tokens/h: $55.56 per million */
    CU_ASSERT_DOUBLE_EQUAL(h100->cost_per_million_output_tokens, 2.0 / 36000 * 1e6, 1e-9);
    /* the cheaper one wins; the other says by how much */
    CU_ASSERT_EQUAL(r->recommended, 0);
    CU_ASSERT_EQUAL(h100->rank, 1);
    CU_ASSERT_EQUAL(h200->rank, 2);
    SS_ASSERT_CONTAINS(h200->verdict, "costs $1.00/hour more than h100");
    pl_plan_result_free(r);
    pl_plan_spec_free(p);
    g_free(text);
}

/* An SLO tighter than one step can never hold; a deployment that does not
 * fit is infeasible with the reason; a target needing several replicas. */
static void test_infeasible_and_replicas(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *text = g_strdup_printf(
        "{\"base\": %s, \"target_rate\": 500, \"slos\": [{\"metric\": \"ttft\", \"percentile\": \"p99\", "
        "\"max_ms\": 1e6}, {\"metric\": \"e2e\", \"percentile\": \"max\", \"max_ms\": 1e6}],"
        " \"candidates\": [{\"name\": \"ok\"}, {\"name\": \"too big\", \"model\": \"llama-3.1-70b-instruct\"}],"
        " \"prices\": {\"H100-SXM\": 2}, \"search\": {\"min_rate\": 1, \"max_rate\": 2000, \"tolerance\": 0.02,"
        " \"num_requests\": 300, \"max_queue_growth_ms\": 1e9, \"curve_points\": 0}}",
        single_step_base);
    GError *error = NULL;
    PlPlanSpec *p = pl_plan_spec_parse(text, "plan.json", ".", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    PlPlanResult *r = pl_plan_run(p, cache, 1);
    const PlCandidateResult *ok = &r->candidates[0], *big = &r->candidates[1];
    CU_ASSERT_FATAL(ok->feasible);
    CU_ASSERT_EQUAL(ok->replicas, (guint)ceil(500 / ok->max_rate));
    CU_ASSERT(ok->replicas >= 3);
    CU_ASSERT_DOUBLE_EQUAL(ok->cost_per_hour, 2.0 * ok->replicas, 1e-9);
    CU_ASSERT_FALSE(big->feasible);
    CU_ASSERT_EQUAL(big->rank, 0);
    SS_ASSERT_CONTAINS(big->error, "does not fit");
    SS_ASSERT_CONTAINS(big->verdict, "infeasible");
    pl_plan_result_free(r);
    pl_plan_spec_free(p);
    g_free(text);

    text = plan_text(single_step_base, "[{\"name\": \"fast enough?\"}]",
                     ", \"search\": {\"min_rate\": 1, \"max_rate\": 100, \"num_requests\": 100, \"curve_points\": 0}");
    /* TTFT of one step is ~6 ms: an SLO of 1 ms can never hold */
    char *tight = g_strdup(text);
    char *at = strstr(tight, "\"max_ms\": 1e6");
    memcpy(at, "\"max_ms\": 001", 13);
    p = pl_plan_spec_parse(tight, "plan.json", ".", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    r = pl_plan_run(p, cache, 1);
    CU_ASSERT_FALSE(r->candidates[0].feasible);
    SS_ASSERT_CONTAINS(r->candidates[0].error, "does not meet the SLOs even at 1 requests/s");
    SS_ASSERT_CONTAINS(r->candidates[0].binding, "p99 TTFT <= 1 ms");
    CU_ASSERT_EQUAL(r->recommended, -1);
    pl_plan_result_free(r);
    pl_plan_spec_free(p);
    g_free(tight);
    g_free(text);
}

/* The fleet search: the count comes from simulated fleets, every fleet
 * tried is recorded, the chosen one is the smallest that sustains the target
 * and one fewer does not; with constant arrivals and round-robin the split
 * is exact, so the count equals the division's. A router that cannot spread
 * the load (prefix affinity, every request in one prefix group: all go to
 * the replica that holds the prefix) sustains the target with no count. */
static void test_fleet_search(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *text = g_strdup_printf(
        "{\"base\": %s, \"target_rate\": 500, \"router\": \"round-robin\", \"slos\": [{\"metric\": \"ttft\","
        " \"percentile\": \"p99\", \"max_ms\": 1e6}], \"candidates\": [{\"name\": \"rr\"}, {\"name\": \"affinity\","
        " \"router\": \"prefix-affinity\", \"workload\": {\"num_requests\": 300, \"arrival\": {\"process\":"
        " \"constant\", \"rate\": 1}, \"classes\": [{\"name\": \"one-step\", \"share\": 1, \"input\": {\"dist\":"
        " \"constant\", \"value\": 4}, \"output\": {\"dist\": \"constant\", \"value\": 1}, \"prefix\":"
        " {\"groups\": 1, \"tokens\": 128}}]}}],"
        " \"prices\": {\"H100-SXM\": 2}, \"search\": {\"min_rate\": 1, \"max_rate\": 2000, \"tolerance\": 0.02,"
        " \"num_requests\": 300, \"max_queue_growth_ms\": 1e9, \"curve_points\": 0, \"max_replicas\": 12}}",
        single_step_base);
    GError *error = NULL;
    PlPlanSpec *p = pl_plan_spec_parse(text, "plan.json", ".", &error);
    if (!p)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    PlPlanResult *r = pl_plan_run(p, cache, 2);
    const PlCandidateResult *rr = &r->candidates[0], *aff = &r->candidates[1];
    CU_ASSERT_STRING_EQUAL(r->router, "round-robin");
    CU_ASSERT_STRING_EQUAL(rr->router, "round-robin");
    CU_ASSERT_STRING_EQUAL(aff->router, "prefix-affinity");
    CU_ASSERT_FATAL(rr->feasible);
    CU_ASSERT_EQUAL(rr->replicas_by_division, (guint)ceil(500 / rr->max_rate - 1e-9));
    CU_ASSERT_EQUAL(rr->replicas, rr->replicas_by_division);
    const PlFleetTrial *chosen = pl_candidate_fleet(rr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(chosen);
    CU_ASSERT_EQUAL(chosen->replicas, rr->replicas);
    CU_ASSERT(chosen->meets_slos && chosen->stable);
    CU_ASSERT_DOUBLE_EQUAL(chosen->imbalance, 1.0, 0.01);
    CU_ASSERT_EQUAL(chosen->num_requests, 300 * rr->replicas);
    CU_ASSERT_EQUAL(rr->fleet_evaluations, rr->num_trials);
    gboolean fewer_fails = FALSE;
    for (guint i = 0; i < rr->num_trials; i++) {
        if (i)
            CU_ASSERT(rr->trials[i].replicas > rr->trials[i - 1].replicas);
        if (rr->trials[i].replicas == rr->replicas - 1)
            fewer_fails = !rr->trials[i].stable;
        if (rr->trials[i].replicas < rr->replicas)
            CU_ASSERT(!(rr->trials[i].meets_slos && rr->trials[i].stable));
    }
    CU_ASSERT(fewer_fails);
    /* prefix affinity with one group: every fleet sends everything to one replica */
    CU_ASSERT_FALSE(aff->feasible);
    SS_ASSERT_CONTAINS(aff->error, "no fleet of up to 12 replicas sustains 500 requests/s");
    CU_ASSERT(aff->num_trials >= 1);
    CU_ASSERT_EQUAL(aff->trials[aff->num_trials - 1].replicas, 12);
    CU_ASSERT_DOUBLE_EQUAL(aff->trials[aff->num_trials - 1].imbalance, 12.0, 1e-9);
    char *json = pl_report_json(r);
    SS_ASSERT_CONTAINS(json, "\"replicas_by_division\"");
    SS_ASSERT_CONTAINS(json, "\"fleets\"");
    g_free(json);
    pl_plan_result_free(r);
    pl_plan_spec_free(p);
    g_free(text);
}

/* The same plan on 1 and on 2 threads gives the same bytes of plan.json. */
static void test_thread_independence(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *text = plan_text(single_step_base,
                           "{\"grid\": {\"hardware\": [\"H100-SXM\", \"H200-SXM\"], \"max_num_seqs\": [1, 2]}}",
                           ", \"search\": {\"min_rate\": 1, \"max_rate\": 3000, \"num_requests\": 200, "
                           "\"curve_points\": 4}");
    GError *error = NULL;
    PlPlanSpec *p = pl_plan_spec_parse(text, "plan.json", ".", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    PlPlanResult *a = pl_plan_run(p, cache, 1);
    PlPlanResult *b = pl_plan_run(p, cache, 2);
    char *ja = pl_report_json(a), *jb = pl_report_json(b);
    CU_ASSERT_STRING_EQUAL(ja, jb);
    g_free(ja);
    g_free(jb);
    pl_plan_result_free(a);
    pl_plan_result_free(b);
    pl_plan_spec_free(p);
    g_free(text);
}

/* The shipped example runs and writes its three documents. */
static void test_example_plan_cli(void)
{
    char *plan = g_build_filename(ss_test_source_dir(), "scenarios", "plan-llama70b-chat.json", NULL);
    char *dir = ss_test_tmpdir();
    char *out = NULL;
    const char *args[] = {"plan", plan, "--output-dir", dir, NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "recommended");
    SS_ASSERT_CONTAINS(out, "does not fit"); /* TP 2 of a 70B model in 80 GB GPUs */
    const char *files[] = {"report.html", "report.md", "plan.json"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *f = g_build_filename(dir, files[i], NULL);
        CU_ASSERT(g_file_test(f, G_FILE_TEST_IS_REGULAR));
        g_free(f);
    }
    g_free(out);
    char *err = NULL;
    const char *bad[] = {"plan", "/nonexistent/plan.json", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bad, NULL, &err), 3);
    SS_ASSERT_CONTAINS(err, "/nonexistent/plan.json");
    g_free(err);
    const char *usage[] = {"plan", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(usage, NULL, NULL), 2);
    g_free(dir);
    g_free(plan);
}

static const SsTestCase cases[] = {
    {"SLO parsing and its errors", test_slo_parse},
    {"plan file errors and grids", test_plan_parse_errors},
    {"bisection finds a known capacity", test_bisection_known_threshold},
    {"infeasible candidates and replicas", test_infeasible_and_replicas},
    {"the fleet search: simulated counts, trials, a router that cannot spread", test_fleet_search},
    {"independent of the thread count", test_thread_independence},
    {"the example plan on the command line", test_example_plan_cli},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"plan", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
