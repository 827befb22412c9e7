/*
 * test_pl_pd.c: capacity plans with disaggregated candidates and the
 * autoscale comparison.
 *
 * - a "disaggregated" candidate is named after its pools, priced by their
 *   GPUs, and bad ones get errors naming the field;
 * - its fleet search returns the cheapest prefill:decode counts it saw
 *   sustain the target, and no cheaper fleet it simulated sustains it; its
 *   GPUs and cost are those of its pools;
 * - the autoscale section: the static count meets every SLO and one fewer
 *   does not; GPU-hours and the per-window series add up; the documents
 *   carry it (HTML charts, Markdown table, JSON object);
 * - the same plan on 1 and 2 threads gives the same plan.json.
 */
#include <math.h>
#include <string.h>

#include "pl_plan_internal.h"
#include "ss_test.h"

static const char *const base =
    "\"base\": {\"model\": \"llama-3.1-8b\", \"engine\": {\"max_num_seqs\": 64},"
    " \"workload\": {\"num_requests\": 150, \"arrival\": {\"process\": \"poisson\", \"rate\": 4},"
    " \"input\": {\"dist\": \"lognormal\", \"mean\": 4000, \"stddev\": 2000, \"min\": 100, \"max\": 16000},"
    " \"output\": {\"dist\": \"lognormal\", \"mean\": 200, \"stddev\": 100, \"min\": 1, \"max\": 800}}}";

static char *plan_text(const char *candidates, const char *extra)
{
    return g_strdup_printf(
        "{\"name\": \"pd\", %s, \"target_rate\": 12,"
        " \"slos\": [{\"metric\": \"ttft\", \"percentile\": \"p99\", \"max_ms\": 4000},"
        "            {\"metric\": \"tpot\", \"percentile\": \"p99\", \"max_ms\": 40}],"
        " \"candidates\": %s, \"prices\": {\"H100-SXM\": 3, \"A100-SXM-80GB\": 1.8},"
        " \"router\": \"least-outstanding\","
        " \"search\": {\"num_requests\": 150, \"tolerance\": 0.15, \"curve_points\": 0, \"max_replicas\": 30}%s}",
        base, candidates, extra ? extra : "");
}

static PlPlanSpec *parse(const char *text, GError **error)
{
    return pl_plan_spec_parse(text, "plan.json", ss_test_source_dir(), error);
}

static const char *const pd_candidates =
    "[{\"hardware\": \"H100-SXM\"},"
    " {\"disaggregated\": {\"prefill\": {\"hardware\": \"H100-SXM\"}, \"decode\": {\"hardware\": \"A100-SXM-80GB\","
    "   \"tensor_parallel_size\": 2}, \"disaggregation\": {\"transfer\": \"rdma-200\"}}}]";

static void test_spec(void)
{
    char *text = plan_text(pd_candidates, NULL);
    GError *error = NULL;
    PlPlanSpec *p = parse(text, &error);
    if (!p)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->num_candidates, 2);
    CU_ASSERT_STRING_EQUAL(p->candidates[0].name, "H100-SXM TP1");
    CU_ASSERT_STRING_EQUAL(p->candidates[1].name, "P/D H100-SXM TP1 -> A100-SXM-80GB TP2");
    CU_ASSERT(pl_pd_is_candidate(p->candidates[1].scenario));
    CU_ASSERT(!pl_pd_is_candidate(p->candidates[0].scenario));
    char *ph, *dh;
    guint ptp, dtp;
    pl_pd_pools(p->candidates[1].scenario, &ph, &ptp, &dh, &dtp);
    CU_ASSERT_STRING_EQUAL(ph, "H100-SXM");
    CU_ASSERT_STRING_EQUAL(dh, "A100-SXM-80GB");
    CU_ASSERT_EQUAL(ptp, 1);
    CU_ASSERT_EQUAL(dtp, 2);
    g_free(ph);
    g_free(dh);
    CU_ASSERT_EQUAL(p->candidates[1].scenario->fleet.pd.transfer.link, CL_LINK_RDMA_200);
    pl_plan_spec_free(p);
    g_free(text);
    struct {
        const char *cands, *want;
    } bad[] = {
        {"[{\"disaggregated\": {\"prefill\": {\"hardware\": \"H100-SXM\"}}}]", "needs both \"prefill\" and \"decode\""},
        {"[{\"disaggregated\": {\"prefill\": {\"gpu\": \"H100-SXM\"}, \"decode\": {}}}]",
         "candidates[0].disaggregated.prefill.gpu: unknown field"},
        {"[{\"disaggregated\": {\"prefill\": {\"hardware\": \"B200\"}, \"decode\": {}}}]", "no price for B200"},
        {"[{\"disaggregated\": {\"prefill\": {}, \"decode\": {}, \"disaggregation\": {\"transfer\": {\"bandwidth_gbps\": 0}}}}]",
         "bandwidth_gbps: expected a number >= 0.01"},
        {"[{\"disaggregated\": 3}]", "candidates[0].disaggregated: expected"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        text = plan_text(bad[i].cands, NULL);
        p = parse(text, &error);
        CU_ASSERT_PTR_NULL(p);
        if (!error || !strstr(error->message, bad[i].want))
            fprintf(stderr, "\n  case %u: want \"%s\", got \"%s\"\n", i, bad[i].want, error ? error->message : "-");
        CU_ASSERT(error && strstr(error->message, bad[i].want));
        g_clear_error(&error);
        pl_plan_spec_free(p);
        g_free(text);
    }
    /* the autoscale section's errors */
    const char *bad_scale[][2] = {
        {", \"autoscale\": {\"policy\": {}}", "autoscale.workload: expected"},
        {", \"autoscale\": {\"workload\": {\"num_requests\": 5, \"arrival\": {\"process\": \"poisson\", \"rate\": 1},"
         " \"input\": {\"dist\": \"constant\", \"value\": 10}, \"output\": {\"dist\": \"constant\", \"value\": 5}},"
         " \"policy\": {\"min_replicas\": 5, \"max_replicas\": 2}}", "min_replicas (5) must be at most max_replicas (2)"},
        {", \"autoscale\": {\"workload\": {}, \"windows\": 3}", "autoscale.windows: unknown field"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad_scale); i++) {
        text = plan_text(pd_candidates, bad_scale[i][0]);
        p = parse(text, &error);
        CU_ASSERT_PTR_NULL(p);
        if (!error || !strstr(error->message, bad_scale[i][1]))
            fprintf(stderr, "\n  scale case %u: want \"%s\", got \"%s\"\n", i, bad_scale[i][1],
                    error ? error->message : "-");
        CU_ASSERT(error && strstr(error->message, bad_scale[i][1]));
        g_clear_error(&error);
        pl_plan_spec_free(p);
        g_free(text);
    }
}

static const char *const scale_section =
    ", \"autoscale\": {\"workload\": {\"duration_s\": 900, \"arrival\": {\"process\": \"piecewise\","
    "   \"points\": [[0, 3], [300, 14], [600, 3], [900, 0]]},"
    "   \"input\": {\"dist\": \"lognormal\", \"mean\": 4000, \"stddev\": 2000, \"min\": 100, \"max\": 16000},"
    "   \"output\": {\"dist\": \"lognormal\", \"mean\": 200, \"stddev\": 100, \"min\": 1, \"max\": 800}},"
    " \"policy\": {\"min_replicas\": 2, \"interval_s\": 10, \"down_cooldown_s\": 120, \"provision_s\": 30},"
    " \"window_s\": 60}";

static void test_run(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *text = plan_text(pd_candidates, scale_section);
    GError *error = NULL;
    PlPlanSpec *p = parse(text, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    PlPlanResult *r = pl_plan_run(p, cache, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    const PlCandidateResult *pd = &r->candidates[1];
    CU_ASSERT(pd->disaggregated);
    if (!pd->feasible)
        fprintf(stderr, "\n  %s\n", pd->error ? pd->error : "?");
    CU_ASSERT_FATAL(pd->feasible);
    CU_ASSERT_EQUAL(pd->replicas, pd->prefill_replicas + pd->decode_replicas);
    CU_ASSERT_EQUAL(pd->gpus, pd->prefill_replicas * 1 + pd->decode_replicas * 2);
    CU_ASSERT_DOUBLE_EQUAL(pd->cost_per_hour, pd->prefill_replicas * 1 * 3.0 + pd->decode_replicas * 2 * 1.8, 1e-9);
    const PlFleetTrial *chosen = pl_candidate_fleet(pd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(chosen);
    CU_ASSERT(chosen->meets_slos && chosen->stable);
    /* no cheaper fleet simulated sustains the target */
    guint cheaper = 0;
    for (guint i = 0; i < pd->num_trials; i++) {
        const PlFleetTrial *t = &pd->trials[i];
        CU_ASSERT_EQUAL(t->replicas, t->prefill_replicas + t->decode_replicas);
        if (t->cost_per_hour < pd->cost_per_hour - 1e-9) {
            cheaper++;
            CU_ASSERT(!(t->meets_slos && t->stable));
        }
    }
    CU_ASSERT(pd->num_trials >= 2);
    /* the co-located one and the ranking */
    const PlCandidateResult *co = &r->candidates[0];
    CU_ASSERT(!co->disaggregated);
    CU_ASSERT(r->recommended >= 0);
    /* the autoscale comparison, on the best co-located candidate */
    const PlScaleResult *s = r->scale;
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    if (s->error)
        fprintf(stderr, "\n  %s\n", s->error);
    CU_ASSERT_PTR_NULL_FATAL(s->error);
    CU_ASSERT_STRING_EQUAL(s->candidate, co->name);
    CU_ASSERT(s->static_replicas >= 2);
    CU_ASSERT(s->static_trials >= 2);
    CU_ASSERT_DOUBLE_EQUAL(s->static_gpu_hours, s->static_replicas * s->duration_s / 3600.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(s->static_cost, s->static_gpu_hours * 3.0, 1e-9);
    CU_ASSERT(s->auto_gpu_hours > 0);
    CU_ASSERT(s->auto_min >= 2 && s->auto_max <= s->policy.max_replicas);
    /* no metric given: the rate at shares of the sustainable one, the cheapest meeting the SLOs kept */
    CU_ASSERT_EQUAL(s->policy.metric, CL_SCALE_RATE);
    CU_ASSERT_EQUAL(s->num_tried, 8);
    static const double shares[] = {0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5};
    gboolean kept = FALSE;
    for (guint t = 0; t < s->num_tried; t++) {
        CU_ASSERT_DOUBLE_EQUAL(s->tried_target[t], shares[t] * co->max_rate, 1e-9);
        if (s->tried_target[t] == s->policy.target) {
            kept = TRUE;
            CU_ASSERT_DOUBLE_EQUAL(s->tried_gpu_hours[t], s->auto_gpu_hours, 1e-12);
            CU_ASSERT_EQUAL(s->tried_meets[t], s->auto_meets_slos);
        }
        if (s->auto_meets_slos && s->tried_meets[t])
            CU_ASSERT(s->tried_gpu_hours[t] >= s->auto_gpu_hours - 1e-12);
    }
    CU_ASSERT(kept);
    CU_ASSERT(s->num_windows >= 15);
    uint64_t arrived = 0, met = 0;
    for (guint k = 0; k < s->num_windows; k++) {
        arrived += s->arrived[k];
        met += s->met_auto[k];
        CU_ASSERT(s->met_auto[k] <= s->arrived[k] && s->met_static[k] <= s->arrived[k]);
    }
    CU_ASSERT(arrived > 0);
    CU_ASSERT_DOUBLE_EQUAL((double)met / arrived, s->auto_attainment, 1e-12);
    /* the documents */
    char *html = pl_report_html(r), *md = pl_report_markdown(r), *json = pl_report_json(r);
    SS_ASSERT_CONTAINS(html, "Autoscaling against a static fleet");
    SS_ASSERT_CONTAINS(html, "Replicas serving over time");
    SS_ASSERT_CONTAINS(html, "SLO attainment over time");
    SS_ASSERT_CONTAINS(html, "P/D H100-SXM TP1 -&gt; A100-SXM-80GB TP2");
    SS_ASSERT_CONTAINS(md, "| GPU-hours |");
    SS_ASSERT_CONTAINS(json, "\"autoscale\"");
    SS_ASSERT_CONTAINS(json, "\"disaggregated\"");
    SS_ASSERT_CONTAINS(json, "\"prefill_replicas\"");
    g_free(html);
    g_free(md);
    /* the same on two threads */
    PlPlanResult *r2 = pl_plan_run(p, cache, 2);
    char *json2 = pl_report_json(r2);
    CU_ASSERT_STRING_EQUAL(json, json2);
    g_free(json);
    g_free(json2);
    pl_plan_result_free(r2);
    pl_plan_result_free(r);
    pl_plan_spec_free(p);
    g_free(text);
}

static const SsTestCase cases[] = {
    {"disaggregated candidates and the autoscale section in plan files", test_spec},
    {"the P/D fleet search, the autoscale comparison, the documents", test_run},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const SsTestSuite suites[] = {{"pl_pd", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
