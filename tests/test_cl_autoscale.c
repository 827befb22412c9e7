/*
 * test_cl_autoscale.c: autoscaled pools and the fleet's books.
 *
 * - a burst makes a pool scale up, the quiet after it scale down: replicas
 *   are provisioned, serve only after the provisioning delay, drain and
 *   leave; a slot is reused by a later burst;
 * - conservation after every step and at the end, per replica (those that
 *   left included) and fleet-wide, also at a time limit;
 * - GPU-hours: a fixed fleet's are replicas x GPUs x the run's span; an
 *   autoscaled one's are the per-window sum, between its bounds;
 * - SLO attainment: 100% with a bound nothing misses, 0% with one nothing
 *   meets;
 * - the default provisioning delay (weights / load bandwidth + start);
 * - a disaggregated fleet with an autoscaled decode pool;
 * - the same bytes twice;
 * - the command line: an autoscaled replay of the Azure conversation trace
 *   (GPU-hours, SLO attainment, the scaling CSV and chart); exit codes and
 *   messages of bad input.
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

typedef struct {
    uint64_t steps, failures;
    SimTime first_route[64];    /* first request routed to each replica (0: none) */
    gboolean routed[64];
} Hooks;

static void step_hook(const SimStepInfo *info, void *user)
{
    Hooks *h = user;
    h->steps++;
    char *why = NULL;
    if (!sched_check_invariants(info->sched, &why) && h->failures++ < 3)
        fprintf(stderr, "\n  replica %u: %s\n", info->replica, why);
    g_free(why);
    uint64_t in_flight = sched_num_running(info->sched) + sched_num_waiting(info->sched) + info->deferred +
                         info->remote_waiting;
    if (info->arrived != info->completed + info->handed_off + info->rejected + in_flight)
        h->failures++;
}

static void route_hook(const ClDecision *d, void *user)
{
    Hooks *h = user;
    if (d->replica >= 0 && d->replica < 64 && !h->routed[d->replica]) {
        h->routed[d->replica] = TRUE;
        h->first_route[d->replica] = d->time;
    }
}

static ClResult *run(const ScnScenario *s, ScnCache *cache, Hooks *h, const char *scaling, const char *requests)
{
    ScnOutputs out = {.step_hook = h ? step_hook : NULL, .route_hook = h ? route_hook : NULL, .hook_user = h,
                      .scaling_csv = scaling, .requests_csv = requests};
    GError *error = NULL;
    ClResult *res = scn_run_fleet(s, cache, &out, NULL, &error);
    if (!res)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    return res;
}

static void check_conservation(const ClResult *res)
{
    const SimSummary *s = res->summary;
    const SimClassSummary *a = &s->all;
    CU_ASSERT_EQUAL(a->arrived, a->completed + a->rejected + a->in_flight);
    uint64_t completed = 0, arrived = 0;
    for (guint r = 0; r < s->num_replicas; r++) {
        const SimReplicaSummary *rs = &s->replicas[r];
        CU_ASSERT_EQUAL(rs->arrived, rs->completed + rs->handed_off + rs->rejected + rs->in_flight);
        completed += rs->completed;
        arrived += rs->arrived;
    }
    CU_ASSERT_EQUAL(completed, a->completed);
    CU_ASSERT(arrived >= a->completed);
}

/* Two bursts on a quiet base, Llama-3.1-8B on H100 with a small batch
 * (the queue grows fast in a burst). */
static const char *const bursts =
    "\"workload\": {\"duration_s\": 1500, \"arrival\": {\"process\": \"piecewise\","
    " \"points\": [[0, 1], [200, 40], [380, 1], [900, 40], [1080, 1], [1500, 0]]},"
    " \"input\": {\"dist\": \"lognormal\", \"mean\": 800, \"stddev\": 500, \"min\": 10, \"max\": 4000},"
    " \"output\": {\"dist\": \"lognormal\", \"mean\": 150, \"stddev\": 100, \"min\": 1, \"max\": 800}}";

static char *scaled_json(const char *autoscale, const char *top)
{
    return g_strdup_printf("{\"model\": \"llama-3.1-8b\", \"hardware\": \"H100-SXM\", %s"
                           " \"engine\": {\"max_num_seqs\": 32, \"max_num_batched_tokens\": 2048, \"num_gpu_blocks_override\": 3000},"
                           " \"fleet\": {\"replicas\": 1, \"router\": \"least-outstanding\", \"autoscale\": %s,"
                           " \"slo\": {\"ttft_ms\": 2000, \"tpot_ms\": 60, \"window_s\": 30}}, %s}",
                           top ? top : "", autoscale, bursts);
}

static const char *const policy =
    "{\"metric\": \"waiting\", \"target\": 4, \"min_replicas\": 1, \"max_replicas\": 6, \"interval_s\": 5,"
    " \"up_cooldown_s\": 10, \"down_cooldown_s\": 60, \"provision_s\": 20}";

static void test_scale_up_and_down(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *json = scaled_json(policy, NULL);
    ScnScenario *s = scenario_from(json);
    Hooks h = {0};
    ClResult *res = run(s, cache, &h, NULL, NULL);
    CU_ASSERT_EQUAL(h.failures, 0);
    check_conservation(res);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res->pools);
    const ClPoolResult *p = &res->pools[0];
    CU_ASSERT(p->scale_ups >= 2);
    CU_ASSERT(p->scale_downs >= 2);
    CU_ASSERT(p->replicas_max > 1 && p->replicas_max <= 6);
    CU_ASSERT_EQUAL(p->replicas_min, 1);
    CU_ASSERT(p->replicas_mean > 1 && p->replicas_mean < p->replicas_max);
    /* the slots used are at most max_replicas: drained slots were reused */
    CU_ASSERT(res->summary->num_replicas <= 6);
    CU_ASSERT(res->summary->num_replicas >= 2);
    CU_ASSERT_EQUAL(res->summary->all.completed, res->summary->all.arrived);
    /* a provisioned replica takes its first request at the earliest one
     * interval after the first arrival plus the provisioning delay */
    SimTime t0 = sim_time_from_seconds(res->summary->first_arrival_s);
    for (guint r = 1; r < 6; r++)
        if (h.routed[r])
            CU_ASSERT(h.first_route[r] >= t0 + sim_time_from_seconds(5 + 20));
    /* GPU-hours: between the bounds; the series sums to the pool's */
    double span_h = res->summary->duration_s / 3600.0;
    CU_ASSERT(p->gpu_hours > 1.0 * span_h && p->gpu_hours < 6.0 * span_h);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res->series);
    CU_ASSERT_DOUBLE_EQUAL(res->series->gpu_hours_total, p->gpu_hours, 1e-6);
    /* the serving replicas per window average to the pool's mean */
    double area = 0;
    for (guint k = 0; k < res->series->num_windows; k++) {
        double len = MIN(res->series->window_s, res->summary->duration_s - k * res->series->window_s);
        area += res->series->serving[k] * len;
    }
    CU_ASSERT_DOUBLE_EQUAL(area / res->summary->duration_s, p->replicas_mean, 1e-3);
    /* attainment: between 0 and 1, arrivals counted once */
    uint64_t arrived = 0;
    for (guint k = 0; k < res->series->num_windows; k++)
        arrived += res->series->arrived[k];
    CU_ASSERT_EQUAL(arrived, res->summary->all.arrived);
    CU_ASSERT(res->series->slo_attainment > 0.5 && res->series->slo_attainment <= 1.0);
    cl_result_free(res);
    scn_scenario_free(s);
    g_free(json);
}

static void test_static_books(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    /* a fixed fleet of 3 x TP2 with an SLO: its GPU-hours are 3 x 2 x the span */
    char *json = g_strdup_printf("{\"model\": \"llama-3.1-8b\", \"hardware\": \"H100-SXM\","
                                 " \"engine\": {\"tensor_parallel_size\": 2},"
                                 " \"fleet\": {\"replicas\": 3, \"slo\": {\"ttft_ms\": 1e6, \"tpot_ms\": 1e6}}, %s}",
                                 bursts);
    ScnScenario *s = scenario_from(json);
    ClResult *res = run(s, cache, NULL, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(res->series);
    CU_ASSERT_DOUBLE_EQUAL(res->series->gpu_hours_total, 3 * 2 * res->summary->duration_s / 3600.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(res->series->slo_attainment, 1.0, 1e-12);
    cl_result_free(res);
    scn_scenario_free(s);
    g_free(json);
    /* nothing meets an SLO of 1 microsecond of TTFT */
    json = g_strdup_printf("{\"model\": \"llama-3.1-8b\", \"hardware\": \"H100-SXM\","
                           " \"fleet\": {\"replicas\": 2, \"slo\": {\"ttft_ms\": 0.001}}, %s}", bursts);
    s = scenario_from(json);
    res = run(s, cache, NULL, NULL, NULL);
    CU_ASSERT_DOUBLE_EQUAL(res->series->slo_attainment, 0.0, 1e-12);
    cl_result_free(res);
    scn_scenario_free(s);
    g_free(json);
}

static void test_time_limit(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    double limits[] = {230, 300, 420, 950};
    for (guint i = 0; i < G_N_ELEMENTS(limits); i++) {
        char *top = g_strdup_printf("\"max_time_s\": %g,", limits[i]);
        char *json = scaled_json(policy, top);
        ScnScenario *s = scenario_from(json);
        Hooks h = {0};
        char *dir = ss_test_tmpdir();
        char *req = g_build_filename(dir, "r.csv", NULL);
        ClResult *res = run(s, cache, &h, NULL, req);
        CU_ASSERT_EQUAL(h.failures, 0);
        check_conservation(res);
        CU_ASSERT(res->summary->stopped_at_limit);
        GPtrArray *rows = ss_test_read_csv(req);
        CU_ASSERT_EQUAL(rows->len - 1, res->summary->all.arrived);
        g_ptr_array_unref(rows);
        cl_result_free(res);
        scn_scenario_free(s);
        g_free(json);
        g_free(top);
        g_free(req);
        g_free(dir);
    }
}

static void test_provision_default(void)
{
    ClAutoscaleSpec a;
    cl_autoscale_spec_init(&a);
    a.load_gbps = 2.0;
    a.startup_s = 60;
    CU_ASSERT_DOUBLE_EQUAL(cl_autoscale_provision_s(&a, 35e9), 35.0 / 2.0 + 60, 1e-9);
    a.provision_s = 12;
    CU_ASSERT_DOUBLE_EQUAL(cl_autoscale_provision_s(&a, 35e9), 12, 1e-12);
    ClScaleMetric m;
    CU_ASSERT(cl_scale_metric_from_name("kv", &m) && m == CL_SCALE_KV);
    CU_ASSERT(!cl_scale_metric_from_name("mood", &m));
}

static void test_pd_autoscaled_decode(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *json = g_strdup_printf(
        "{\"model\": \"llama-3.1-8b\", \"hardware\": \"H100-SXM\","
        " \"engine\": {\"max_num_seqs\": 32, \"max_num_batched_tokens\": 2048, \"num_gpu_blocks_override\": 3000},"
        " \"fleet\": {\"pools\": [{\"name\": \"p\", \"role\": \"prefill\", \"count\": 2,"
        "   \"autoscale\": {\"metric\": \"busy\", \"target\": 0.6, \"min_replicas\": 1, \"max_replicas\": 4,"
        "                   \"interval_s\": 5, \"down_cooldown_s\": 30, \"provision_s\": 10}},"
        "  {\"name\": \"d\", \"role\": \"decode\", \"count\": 1,"
        "   \"autoscale\": {\"metric\": \"kv\", \"target\": 0.5, \"min_replicas\": 1, \"max_replicas\": 5,"
        "                   \"interval_s\": 5, \"down_cooldown_s\": 30, \"provision_s\": 10}}],"
        " \"router\": \"least-outstanding\", \"disaggregation\": {\"decode_pick\": \"handoff\"}}, %s}",
        bursts);
    ScnScenario *s = scenario_from(json);
    Hooks h = {0};
    ClResult *res = run(s, cache, &h, NULL, NULL);
    CU_ASSERT_EQUAL(h.failures, 0);
    check_conservation(res);
    CU_ASSERT_EQUAL(res->summary->all.completed, res->summary->all.arrived);
    CU_ASSERT_EQUAL(res->pd->transfers, res->summary->all.arrived);
    CU_ASSERT(res->pools[0].scale_downs >= 1); /* prefill starts at 2, idle at the start */
    CU_ASSERT(res->pools[1].scale_ups >= 1);
    CU_ASSERT_EQUAL(res->pools[0].handed_off, res->summary->all.arrived);
    CU_ASSERT_EQUAL(res->pools[1].completed, res->summary->all.arrived);
    cl_result_free(res);
    scn_scenario_free(s);
    g_free(json);
}

static char *read_all(const char *path)
{
    char *text = NULL;
    g_file_get_contents(path, &text, NULL, NULL);
    return text;
}

static void test_deterministic(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *json = scaled_json("{\"metric\": \"rate\", \"target\": 8, \"min_replicas\": 1, \"max_replicas\": 5,"
                             " \"interval_s\": 10, \"down_cooldown_s\": 60}", NULL);
    ScnScenario *s = scenario_from(json);
    char *dir = ss_test_tmpdir();
    char *text[2][2];
    for (int i = 0; i < 2; i++) {
        char *a = g_strdup_printf("%s/s%d.csv", dir, i), *b = g_strdup_printf("%s/r%d.csv", dir, i);
        ClResult *res = run(s, cache, NULL, a, b);
        CU_ASSERT(res->pools[0].scale_ups >= 1);
        cl_result_free(res);
        text[i][0] = read_all(a);
        text[i][1] = read_all(b);
        g_free(a);
        g_free(b);
    }
    CU_ASSERT_STRING_EQUAL(text[0][0], text[1][0]);
    CU_ASSERT_STRING_EQUAL(text[0][1], text[1][1]);
    CU_ASSERT(strstr(text[0][0], "serving_H100-SXM") != NULL);
    for (int i = 0; i < 2; i++)
        g_free(text[i][0]), g_free(text[i][1]);
    scn_scenario_free(s);
    g_free(json);
    g_free(dir);
}

/* The command line: an autoscaled replay of the Azure conversation trace
 * stretched to a day prints GPU-hours and SLO attainment and writes the
 * scaling CSV (conserving the trace's requests over its windows) and the
 * chart of replicas over time; bad input gets exit code 2 or 3 and a
 * message naming the key; outputs with nothing to write are refused before
 * the run and leave no file. */
static void test_command_line(void)
{
    char *dir = ss_test_tmpdir();
    char *trace = g_build_filename(ss_test_source_dir(), "data", "traces", "azure-2023-conv.csv", NULL);
    char *csv = g_build_filename(dir, "scaling.csv", NULL);
    char *html = g_build_filename(dir, "scaling.html", NULL);
    const char *args[] = {"replay", trace, "--time-scale", "24", "--model", "llama-3.1-70b-instruct",
                          "--tensor-parallel-size", "4", "--hardware", "A100-SXM-80GB", "--autoscale",
                          "{\"metric\": \"rate\", \"target\": 0.2, \"max_replicas\": 4}", "--slo-ttft-ms", "2000",
                          "--slo-tpot-ms", "50", "--output-scaling", csv, "--output-scaling-html", html, NULL};
    char *out = NULL, *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "19366 arrived, 19366 completed, 0 rejected, 0 in flight");
    SS_ASSERT_CONTAINS(out, "GPU-hours over 1401 windows of 60 s");
    SS_ASSERT_CONTAINS(out, "SLO (TTFT <= 2000 ms, TPOT <= 50 ms) met by");
    GPtrArray *rows = ss_test_read_csv(csv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rows);
    CU_ASSERT(rows->len > 1000); /* a day in windows of 60 s, and the header */
    char **head = g_ptr_array_index(rows, 0);
    CU_ASSERT_STRING_EQUAL(head[0], "time_s");
    guint arrived_col = 0, completed_col = 0, serving_col = 0;
    for (guint c = 0; head[c]; c++) {
        if (strcmp(head[c], "arrived") == 0)
            arrived_col = c;
        else if (strcmp(head[c], "completed") == 0)
            completed_col = c;
        else if (g_str_has_prefix(head[c], "serving_"))
            serving_col = c;
    }
    CU_ASSERT_FATAL(arrived_col && completed_col && serving_col);
    uint64_t arrived = 0, completed = 0;
    double most = 0;
    for (guint i = 1; i < rows->len; i++) {
        char **row = g_ptr_array_index(rows, i);
        arrived += g_ascii_strtoull(row[arrived_col], NULL, 10);
        completed += g_ascii_strtoull(row[completed_col], NULL, 10);
        most = MAX(most, g_ascii_strtod(row[serving_col], NULL));
    }
    CU_ASSERT_EQUAL(arrived, 19366);
    CU_ASSERT_EQUAL(completed, 19366);
    CU_ASSERT(most > 1.5 && most <= 4); /* it scaled, within its bounds */
    g_ptr_array_free(rows, TRUE);
    char *page = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(html, &page, NULL, NULL));
    SS_ASSERT_CONTAINS(page, "Replicas serving over time");
    SS_ASSERT_CONTAINS(page, "<svg");
    g_free(page);
    g_free(out);
    g_free(err);

    char *decode_only = g_build_filename(dir, "decode-only.json", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(decode_only,
                                        "{\"fleet\": {\"pools\": [{\"name\": \"d\", \"role\": \"decode\", \"count\": 2}]}}",
                                        -1, NULL));
    char *left = g_build_filename(dir, "left.csv", NULL);
    struct {
        const char *args[12];
        int rc;
        const char *want;
    } bad[] = {
        {{"run", decode_only, "--num-requests", "5", NULL}, 3, "role decode but no pool has the role prefill"},
        {{"run", "--prefill-replicas", "1", "--decode-replicas", "1", "--kv-bandwidth-gbps", "0", NULL}, 2,
         "bandwidth_gbps: expected a number >= 0.01"},
        {{"run", "--data-parallel-size", "2", "--autoscale", "{\"min_replicas\": 4, \"max_replicas\": 2}", NULL}, 2,
         "min_replicas (4) must be at most max_replicas (2)"},
        {{"run", "--autoscale", "{\"interval_s\": 1e-12}", NULL}, 2, "interval_s: expected a number >= 0.1"},
        {{"run", "--autoscale", "{\"down_cooldown_s\": -1}", NULL}, 2, "down_cooldown_s: expected a number >= 0"},
        {{"run", "--prefill-replicas", "1", "--decode-replicas", "1", "--pd-decider", "sometimes", NULL}, 2,
         "decider: expected one of always"},
        {{"run", "--num-requests", "5", "--output-scaling", left, NULL}, 2,
         "--output-scaling: nothing to write without autoscaling or an SLO"},
        {{"run", "--num-requests", "5", "--output-transfers", left, NULL}, 2,
         "--output-transfers: nothing to write without prefill and decode pools"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *e = NULL;
        int rc = ss_test_run_servesim(bad[i].args, NULL, &e);
        if (rc != bad[i].rc || !e || !strstr(e, bad[i].want))
            fprintf(stderr, "\n  case %u: rc %d, want %d and \"%s\", got \"%s\"\n", i, rc, bad[i].rc, bad[i].want,
                    e ? e : "-");
        CU_ASSERT_EQUAL(rc, bad[i].rc);
        SS_ASSERT_CONTAINS(e, bad[i].want);
        g_free(e);
    }
    CU_ASSERT(!g_file_test(left, G_FILE_TEST_EXISTS));
    g_free(left);
    g_free(decode_only);
    g_free(csv);
    g_free(html);
    g_free(trace);
    g_free(dir);
}

static const SsTestCase cases[] = {
    {"a burst scales up, the quiet after it down", test_scale_up_and_down},
    {"a fixed fleet's GPU-hours; SLO attainment bounds", test_static_books},
    {"conservation at time limits with replicas provisioning and draining", test_time_limit},
    {"the provisioning delay's default", test_provision_default},
    {"disaggregated with autoscaled pools", test_pd_autoscaled_decode},
    {"the same bytes twice", test_deterministic},
    {"the command line: an autoscaled day of the Azure trace; bad input", test_command_line},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const SsTestSuite suites[] = {{"cl_autoscale", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
