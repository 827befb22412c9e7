/*
 * test_time_limits.c: simulated time is bounded and checked (ss_types.h).
 * Conversions never wrap or clamp silently; every input that becomes
 * simulated time is range-checked where it is read; a trace of absolute
 * Unix-epoch times rescaled to a rate (replay and plan) runs; the engine
 * turns an absurd step duration into an error instead of an assertion.
 * Each of these aborted, clamped or wrapped before the limits existed.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "pl_plan_internal.h"
#include "scn.h"
#include "ss_error.h"
#include "ss_test.h"
#include "ss_types.h"
#include "wl.h"

/* ------------------------------------------------------- conversions -- */

static void test_conversions(void)
{
    /* beyond 2^63 ns llround was out of range: 1e10 s and 1.5e10 s both came
     * out as 9223372036.85 s */
    CU_ASSERT_EQUAL(sim_time_from_seconds(1e10), (SimTime)1e19);
    CU_ASSERT_EQUAL(sim_time_from_seconds(1.5e10), (SimTime)1.5e19);
    CU_ASSERT(sim_time_from_seconds(1e10) != sim_time_from_seconds(1.5e10));
    CU_ASSERT_EQUAL(sim_time_from_seconds(1e30), SIM_TIME_MAX);   /* saturates */
    CU_ASSERT_EQUAL(sim_time_from_seconds(INFINITY), SIM_TIME_MAX);
    CU_ASSERT_EQUAL(sim_time_from_seconds(-5), 0);
    CU_ASSERT_EQUAL(sim_time_from_seconds(NAN), 0);
    CU_ASSERT_EQUAL(sim_time_from_seconds(1.5e-9), 2);             /* half away from zero */
    CU_ASSERT_EQUAL(sim_time_from_seconds(0.1), 100000000);

    SimTime t = 7;
    CU_ASSERT(sim_time_from_seconds_checked(SIM_TIME_LIMIT_S, &t));
    CU_ASSERT_EQUAL(t, SIM_TIME_LIMIT);
    t = 7;
    CU_ASSERT(!sim_time_from_seconds_checked(SIM_TIME_LIMIT_S * 1.0000001, &t));
    CU_ASSERT(!sim_time_from_seconds_checked(-1e-9, &t));
    CU_ASSERT(!sim_time_from_seconds_checked(NAN, &t));
    CU_ASSERT(!sim_time_from_seconds_checked(INFINITY, &t));
    CU_ASSERT_EQUAL(t, 7); /* untouched on failure */

    CU_ASSERT_EQUAL(sim_time_add_sat(SIM_TIME_MAX - 1, 5), SIM_TIME_MAX);
    CU_ASSERT_EQUAL(sim_time_add_sat(3, 4), 7);
    CU_ASSERT_EQUAL(sim_time_sub_sat(3, 4), 0);
    CU_ASSERT_EQUAL(sim_time_sub_sat(9, 4), 5);
    SimTime sum = 0;
    CU_ASSERT(sim_time_add_checked(SIM_TIME_LIMIT, SIM_TIME_LIMIT, SIM_TIME_HORIZON, &sum));
    CU_ASSERT_EQUAL(sum, SIM_TIME_HORIZON);
    CU_ASSERT(!sim_time_add_checked(SIM_TIME_HORIZON, 1, SIM_TIME_HORIZON, &sum));
    CU_ASSERT(!sim_time_add_checked(SIM_TIME_MAX, SIM_TIME_MAX, SIM_TIME_MAX, &sum)); /* would wrap */
    /* the horizon fits in a signed 64-bit count, so differences never overflow */
    CU_ASSERT(SIM_TIME_HORIZON <= (SimTime)INT64_MAX);

    CU_ASSERT(sim_rate_in_range(SIM_RATE_MIN) && sim_rate_in_range(SIM_RATE_MAX));
    CU_ASSERT(!sim_rate_in_range(1e-300) && !sim_rate_in_range(1e12) && !sim_rate_in_range(NAN));
    CU_ASSERT(sim_time_scale_in_range(1) && !sim_time_scale_in_range(1e300) && !sim_time_scale_in_range(0));
}

/* ---------------------------------------------------- synthetic inputs -- */

static char *run_servesim(const char *const *args, int *rc)
{
    char *out = NULL, *err = NULL;
    *rc = ss_test_run_servesim(args, &out, &err);
    char *both = g_strdup_printf("%s\n%s", out, err);
    g_free(out);
    g_free(err);
    return both;
}

static void expect_run(const char *const *args, int code, const char *message)
{
    int rc = -1;
    char *text = run_servesim(args, &rc);
    if (rc != code)
        fprintf(stderr, "\n  exit %d, expected %d:\n%s\n", rc, code, text);
    CU_ASSERT_EQUAL(rc, code);
    SS_ASSERT_CONTAINS(text, message);
    CU_ASSERT_PTR_NULL(strstr(text, "assertion failed"));
    g_free(text);
}

static void test_rates_and_times_checked(void)
{
    /* a tiny rate put every arrival beyond 584 years: clamped, then the
     * engine aborted with "assertion failed: (ev.time >= e.now)" */
    const char *tiny[] = {"run", "--rate", "1e-300", "--num-requests", "5", NULL};
    expect_run(tiny, 2, "expected a rate from 2.5e-10 to 1e+09 requests/s");
    /* a rate within bounds, but too low for the count: an error naming the request */
    const char *low[] = {"run", "--rate", "1e-9", "--num-requests", "8", NULL};
    expect_run(low, 3, "after the simulated-time limit of 4e+09 s");
    const char *max_time[] = {"run", "--max-time", "1e300", NULL};
    expect_run(max_time, 2, "max_time_s: expected at most 4e+09 s");
    /* a positive max_time below half a nanosecond no longer rounds to 0 ("no limit") */
    const char *tiny_limit[] = {"run", "--num-requests", "50", "--max-time", "1e-12", NULL};
    expect_run(tiny_limit, 0, "stopped at the time limit");
}

static void test_synthetic_source_limit(void)
{
    WlSpec spec;
    wl_spec_init(&spec);
    spec.arrival.kind = WL_ARRIVAL_CONSTANT;
    spec.arrival.rate = 1e-9; /* one request every 1e9 s */
    spec.num_requests = 10;
    spec.num_classes = 1;
    spec.classes = g_new0(WlClassSpec, 1);
    spec.classes[0].name = g_strdup("c");
    spec.classes[0].share = 1;
    spec.classes[0].input.kind = spec.classes[0].output.kind = WL_DIST_CONSTANT;
    spec.classes[0].input.value = spec.classes[0].output.value = 4;
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&spec, 1, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    WlRequest r;
    int got, n = 0;
    while ((got = wl_source_next(src, &r, &error)) > 0) {
        CU_ASSERT(r.arrival <= SIM_TIME_LIMIT);
        n++;
    }
    CU_ASSERT_EQUAL(got, -1);
    CU_ASSERT_EQUAL(n, 5); /* arrivals at 0, 1e9, 2e9, 3e9, 4e9 s; the sixth would be 5e9 s */
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "request 5 (class 'c') would arrive at 5e+09 s");
    g_clear_error(&error);
    wl_source_free(src);
    /* with a duration within the limit the class simply ends there */
    spec.duration_s = 3.5e9;
    src = wl_source_new_synthetic(&spec, 1, &error);
    n = 0;
    while ((got = wl_source_next(src, &r, &error)) > 0)
        n++;
    CU_ASSERT_EQUAL(got, 0);
    CU_ASSERT_EQUAL(n, 4);
    wl_source_free(src);
    /* the checks of the spec itself */
    spec.arrival.rate = 1e-300;
    CU_ASSERT(!wl_spec_validate(&spec, "s.json", &error));
    SS_ASSERT_CONTAINS(error->message, "s.json: workload.arrival.rate: expected a rate from 2.5e-10");
    g_clear_error(&error);
    spec.arrival.rate = 1;
    spec.duration_s = 1e12;
    CU_ASSERT(!wl_spec_validate(&spec, "s.json", &error));
    SS_ASSERT_CONTAINS(error->message, "workload.duration_s: expected at most 4e+09 s");
    g_clear_error(&error);
    wl_spec_clear(&spec);
}

/* --------------------------------------------------------- trace inputs -- */

/* A servesim trace of n rows at absolute Unix-epoch times (1.7e9 s), a
 * quarter to half a second apart. g_free. */
static char *epoch_trace(guint n)
{
    GString *s = g_string_new("arrival_time_s,input_tokens,output_tokens\n");
    double t = 1700000000.0;
    for (guint i = 0; i < n; i++) {
        g_string_append_printf(s, "%.3f,%u,%u\n", t, 100 + 37 * (i % 11), 10 + 7 * (i % 5));
        t += 0.25 + 0.05 * (i % 6);
    }
    char *path = ss_test_write_file("epoch.csv", s->str);
    g_string_free(s, TRUE);
    return path;
}

static double json_number(const char *path, const char *key)
{
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(path, &text, NULL, NULL));
    cJSON *root = cJSON_Parse(text);
    g_free(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    cJSON_Delete(root);
    return d;
}

/* The case that aborted: absolute epoch times rescaled to 0.5 req/s with a
 * limit of 50. The factor (49 / (0.5 x span)) times 1.7e9 s put every
 * arrival past 584 years; now the replay starts at the first row. */
static void test_epoch_trace_rate_replay(void)
{
    char *trace = epoch_trace(400);
    char *dir = ss_test_tmpdir();
    char *json = g_build_filename(dir, "out.json", NULL);
    const char *args[] = {"replay", trace, "--rate", "0.5", "--limit", "50", "--output-json", json, NULL};
    int rc = -1;
    char *text = run_servesim(args, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NULL(strstr(text, "assertion"));
    SS_ASSERT_CONTAINS(text, "50 arrived, 50 completed");
    CU_ASSERT_DOUBLE_EQUAL(json_number(json, "offered_rate"), 0.5, 1e-9);
    /* the first row at 0, so 49 gaps of 2 s on average end at 98 s */
    CU_ASSERT_DOUBLE_EQUAL(json_number(json, "first_arrival_s"), 0.0, 1e-12);
    /* the same times read as relative seconds are kept as they are (within the limit) */
    const char *plain[] = {"replay", trace, "--limit", "5", "--time-format", "seconds", "--output-json", json, NULL};
    g_free(text);
    text = run_servesim(plain, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_DOUBLE_EQUAL(json_number(json, "first_arrival_s"), 1700000000.0, 1e-3);
    /* and a time scale that moves them past the limit is an error naming the row */
    const char *scaled[] = {"replay", trace, "--time-format", "seconds", "--time-scale", "3", NULL};
    g_free(text);
    text = run_servesim(scaled, &rc);
    CU_ASSERT_EQUAL(rc, 3);
    SS_ASSERT_CONTAINS(text, "epoch.csv:2:1: column 'arrival_time_s': expected an arrival within the "
                             "simulated-time limit of 4e+09 s");
    SS_ASSERT_CONTAINS(text, "look absolute");
    g_free(text);
    g_free(json);
    g_free(dir);
    g_free(trace);
}

/* The same trace in a capacity plan: every evaluation rescales it. */
static void test_epoch_trace_rate_plan(void)
{
    char *trace = epoch_trace(400);
    char *plan = g_strdup_printf(
        "{\"base\": {\"model\": \"llama-3.1-8b\", \"hardware\": \"H100-SXM\","
        "  \"workload\": {\"trace\": {\"path\": \"%s\", \"rate\": 0.5, \"limit\": 50}}},"
        " \"target_rate\": 4, \"slos\": [{\"metric\": \"ttft\", \"percentile\": \"p99\", \"max_ms\": 2000}],"
        " \"candidates\": [{\"name\": \"h100\"}], \"prices\": {\"H100-SXM\": 2},"
        " \"search\": {\"min_rate\": 0.5, \"max_rate\": 8, \"num_requests\": 50, \"curve_points\": 2}}",
        trace);
    GError *error = NULL;
    PlPlanSpec *p = pl_plan_spec_parse(plan, "plan.json", ".", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    PlPlanResult *r = pl_plan_run(p, cache, 1);
    const PlCandidateResult *c = &r->candidates[0];
    if (!c->feasible)
        fprintf(stderr, "\n  infeasible: %s\n", c->error ? c->error : "?");
    CU_ASSERT(c->feasible);
    CU_ASSERT(c->max_rate >= 0.5 && c->max_rate <= 8);
    CU_ASSERT(c->evaluations > 1);
    pl_plan_result_free(r);
    pl_plan_spec_free(p);
    /* and through the command, as a user runs it */
    char *file = ss_test_write_file("plan.json", plan);
    const char *args[] = {"plan", file, "--quiet", "--jobs", "1", NULL};
    int rc = -1;
    char *text = run_servesim(args, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NULL(strstr(text, "assertion"));
    g_free(text);
    g_free(file);
    g_free(plan);
    g_free(trace);
}

/* Azure timestamps centuries apart: the signed difference overflowed
 * (UBSan) before; now the offset is checked against the limit. */
static void test_azure_span(void)
{
    char *path = ss_test_write_file("azure.csv", "TIMESTAMP,ContextTokens,GeneratedTokens\n"
                                                 "1680-01-01 00:00:00,10,5\n"
                                                 "2260-12-31 23:59:59.999999999,10,5\n");
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, NULL, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    WlRequest r;
    CU_ASSERT_EQUAL(wl_source_next(src, &r, &error), 1);
    CU_ASSERT_EQUAL(r.arrival, 0);
    CU_ASSERT_EQUAL(wl_source_next(src, &r, &error), -1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "azure.csv:3:1: column 'TIMESTAMP': expected an arrival within the "
                                       "simulated-time limit of 4e+09 s");
    g_clear_error(&error);
    wl_source_free(src);
    /* rescaling such a trace to a rate: its span is measured without overflow too */
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.rate = 1;
    src = wl_source_new_trace(path, &o, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    CU_ASSERT_EQUAL(wl_source_next(src, &r, &error), 1);
    CU_ASSERT_EQUAL(wl_source_next(src, &r, &error), 1);
    CU_ASSERT_EQUAL(r.arrival, SIM_TIME_S); /* two rows at 1 req/s: one second apart */
    wl_source_free(src);
    g_free(path);
}

static void test_trace_times_checked(void)
{
    /* 1e10 s and 1.5e10 s (relative seconds) were both clamped to
     * 9223372036.85 s without a word */
    char *path = ss_test_write_file("far.csv", "arrival_time_s,input_tokens,output_tokens\n"
                                               "1e10,10,5\n1.5e10,10,5\n");
    GError *error = NULL;
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.time_format = WL_TIME_SECONDS;
    WlSource *src = wl_source_new_trace(path, &o, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    WlRequest r;
    CU_ASSERT_EQUAL(wl_source_next(src, &r, &error), -1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "far.csv:2:1: column 'arrival_time_s': expected a time of at most 4e+09 s");
    g_clear_error(&error);
    wl_source_free(src);
    /* read as epoch seconds (the automatic choice for them): 1e10 s after 1970
     * is past what a nanosecond count holds; an error, not a clamped time */
    src = wl_source_new_trace(path, NULL, &error);
    if (src) {
        while (wl_source_next(src, &r, &error) > 0)
            ;
        wl_source_free(src);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "far.csv:2:1: column 'arrival_time_s'");
    g_clear_error(&error);
    /* a rate so low that the replay would outlast the limit: said up front */
    wl_trace_options_init(&o);
    o.rate = 1e-9;
    g_free(path);
    path = ss_test_write_file("t.csv", "arrival_time_s,input_tokens,output_tokens\n0,1,1\n1,1,1\n2,1,1\n3,1,1\n"
                                       "4,1,1\n5,1,1\n");
    src = wl_source_new_trace(path, &o, &error);
    CU_ASSERT_PTR_NULL(src);
    SS_ASSERT_CONTAINS(error->message, "cannot rescale to 1e-09 req/s: 6 rows at that rate span 5e+09 s");
    g_clear_error(&error);
    /* and the options themselves */
    o.rate = 1e-300;
    CU_ASSERT(!wl_trace_options_validate(&o, "s.json", "workload.trace", &error));
    SS_ASSERT_CONTAINS(error->message, "workload.trace.rate: expected 0 (no rescaling) or a rate from 2.5e-10");
    g_clear_error(&error);
    o.rate = 0;
    o.time_scale = 1e300;
    CU_ASSERT(!wl_trace_options_validate(&o, "s.json", "workload.trace", &error));
    SS_ASSERT_CONTAINS(error->message, "workload.trace.time_scale: expected a factor from 1e-09 to 1e+09");
    g_clear_error(&error);
    g_free(path);
}

/* ------------------------------------------------------------- engine -- */

/* A latency constant that makes every step last 1e297 s: the end of the
 * step wrapped past 2^64 ns and the engine aborted on its assertion. */
static void test_absurd_step_is_an_error(void)
{
    const char *args[] = {"run", "--num-requests", "20", "--latency-param", "bw_efficiency=1e-300", NULL};
    expect_run(args, 1, "the step model gave a step of");
    const char *args2[] = {"run", "--num-requests", "20", "--latency-param", "bw_efficiency=1e-300", NULL};
    expect_run(args2, 1, "expected finite durations from 0 to 4e+09 s");
}

static const SsTestCase cases[] = {
    {"conversions saturate or check, never wrap", test_conversions},
    {"rates and times checked where they are read", test_rates_and_times_checked},
    {"a synthetic source stops at the limit with an error", test_synthetic_source_limit},
    {"epoch trace at --rate 0.5 --limit 50: replay", test_epoch_trace_rate_replay},
    {"epoch trace at rate 0.5, limit 50: plan", test_epoch_trace_rate_plan},
    {"Azure timestamps centuries apart", test_azure_span},
    {"trace times beyond the limit are errors", test_trace_times_checked},
    {"an absurd step duration is an error", test_absurd_step_is_an_error},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"time limits", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
