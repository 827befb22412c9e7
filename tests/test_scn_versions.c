/*
 * test_scn_versions.c: what the scenario's vLLM version switches on (async
 * scheduling from 0.14, scheduler_reserve_full_isl from 0.18), explicit
 * settings over it, OpenTelemetry tracing, the CUDA-graph capture limit,
 * hardware profiles, and `servesim calibrate` as a user runs it.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "scn.h"
#include "ss_test.h"

static ScnBuilt build(const char *json, ScnCache *cache, GError **error)
{
    ScnBuilt b;
    memset(&b, 0, sizeof b);
    ScnScenario *s = scn_scenario_parse(json, "test.json", ss_test_source_dir(), error);
    if (s && !scn_build(s, cache, &b, error))
        memset(&b, 0, sizeof b);
    scn_scenario_free(s);
    return b;
}

static void test_versions(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    struct {
        const char *json;
        gboolean async, isl, tracing;
    } cases[] = {
        {"{}", TRUE, TRUE, FALSE}, /* the default: the newest modelled vLLM */
        {"{\"engine\": {\"vllm_version\": \"0.11.0\"}}", FALSE, FALSE, FALSE},
        {"{\"engine\": {\"vllm_version\": \"0.15.1\"}}", TRUE, FALSE, FALSE},
        {"{\"engine\": {\"vllm_version\": \"v0.18\"}}", TRUE, TRUE, FALSE},
        {"{\"engine\": {\"vllm_version\": \"0.15.1\", \"async_scheduling\": false}}", FALSE, FALSE, FALSE},
        {"{\"engine\": {\"vllm_version\": \"0.11\", \"scheduler_reserve_full_isl\": true}}", FALSE, TRUE, FALSE},
        {"{\"engine\": {\"otlp_traces_endpoint\": \"http://collector:4317\"}}", TRUE, TRUE, TRUE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *error = NULL;
        ScnBuilt b = build(cases[i].json, cache, &error);
        if (!b.step)
            fprintf(stderr, "\n  %s: %s\n", cases[i].json, error ? error->message : "?");
        CU_ASSERT_PTR_NOT_NULL_FATAL(b.step);
        CU_ASSERT_EQUAL(b.latency.async_scheduling, cases[i].async);
        CU_ASSERT_EQUAL(b.sched.reserve_full_isl, cases[i].isl);
        CU_ASSERT_EQUAL(b.latency.otlp_tracing, cases[i].tracing);
        CU_ASSERT_EQUAL(b.latency.cudagraph_max_size, 512); /* min(2 x 1024, 512) */
        scn_built_clear(&b);
    }
    GError *error = NULL;
    ScnBuilt b = build("{\"engine\": {\"max_num_seqs\": 64}}", cache, &error);
    CU_ASSERT_EQUAL(b.latency.cudagraph_max_size, 128);
    scn_built_clear(&b);
    /* bad values */
    const char *bad[] = {"{\"engine\": {\"vllm_version\": \"latest\"}}", "{\"engine\": {\"vllm_version\": 15}}",
                         "{\"engine\": {\"async_scheduling\": \"yes\"}}"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(ScnScenario) s = scn_scenario_parse(bad[i], "bad.json", ".", &error);
        CU_ASSERT_PTR_NULL(s);
        CU_ASSERT(error && strstr(error->message, "bad.json: engine."));
        g_clear_error(&error);
    }
    guint v;
    CU_ASSERT(scn_vllm_version_parse("0.15.1", &v) && v == 15);
    CU_ASSERT(scn_vllm_version_parse("1.2.0rc1", &v) && v == 1002);
    CU_ASSERT_FALSE(scn_vllm_version_parse("0.x", &v));
}

static void test_profile(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    char *dir = ss_test_tmpdir();
    char *prof = g_build_filename(dir, "h100.json", NULL);
    g_file_set_contents(prof, "{\"schema\": \"servesim.hardware_profile/1\", \"hardware\": \"H100-SXM\", "
                              "\"params\": {\"bw_scale\": 1.1}}", -1, NULL);
    char *json = g_strdup_printf("{\"hardware_profile\": \"%s\"}", prof);
    GError *error = NULL;
    ScnBuilt b = build(json, cache, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b.step);
    CU_ASSERT_EQUAL(b.latency.bw_scale, 1.1);
    scn_built_clear(&b);
    g_free(json);
    json = g_strdup_printf("{\"hardware\": \"A100-SXM-80GB\", \"hardware_profile\": \"%s\"}", prof);
    b = build(json, cache, &error);
    CU_ASSERT_PTR_NULL(b.step);
    CU_ASSERT(error && strstr(error->message, "a profile of H100-SXM cannot time A100-SXM-80GB"));
    g_clear_error(&error);
    g_free(json);
    g_free(prof);
    g_free(dir);
}

static void test_calibrate_cli(void)
{
    char *exp = g_build_filename(ss_test_data_dir(), "validation", "blis-h100-llama2-7b-train", NULL);
    char *other = g_build_filename(ss_test_data_dir(), "validation", "lss-rtx4090-llama3.1-8b-mns256", NULL);
    char *dir = ss_test_tmpdir();
    char *prof = g_build_filename(dir, "p.json", NULL);
    char *out = NULL, *err = NULL;
    const char *args[] = {"calibrate", exp, "--fit", "step_overhead_us", "--no-leave-one-out", "--quiet",
                          "-o", prof, NULL};
    CU_ASSERT_EQUAL_FATAL(ss_test_run_servesim(args, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "step_overhead_us");
    SS_ASSERT_CONTAINS(out, "in sample only");
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(prof, &text, NULL, NULL));
    cJSON *root = cJSON_Parse(text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(root, "schema")), "servesim.hardware_profile/1");
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(root, "hardware")), "H100-SXM");
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "params"), "step_overhead_us");
    CU_ASSERT(cJSON_IsNumber(v) && v->valuedouble > 100 && v->valuedouble < 5000);
    cJSON_Delete(root);
    g_free(text);
    g_free(out);
    g_free(err);
    /* the profile feeds validate and run */
    const char *val[] = {"validate", exp, "--hardware-profile", prof, NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(val, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "in sample: step_overhead_us");
    g_free(out);
    const char *run[] = {"run", "--hardware-profile", prof, "--num-requests", "20", "--quiet", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(run, NULL, NULL), 0);
    /* one profile per GPU: two GPUs is a usage error */
    const char *two[] = {"calibrate", exp, other, "--quiet", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(two, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "calibrate each GPU apart");
    g_free(err);
    const char *bad[] = {"calibrate", exp, "--fit", "warp_factor", "--quiet", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bad, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "warp_factor");
    g_free(err);
    /* a vllm bench serve result file, its GPU from a flag; a deployment flag
     * with an experiment folder is refused */
    char *bench = g_build_filename(ss_test_data_dir(), "examples", "vllm-bench-llama2-7b-h100.json", NULL);
    const char *fromfile[] = {"calibrate", bench, "--hardware", "H100-SXM", "--fit", "step_overhead_us",
                              "--quiet", "--json", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(fromfile, &out, &err), 0);
    root = cJSON_Parse(out);
    CU_ASSERT_PTR_NOT_NULL(root);
    if (root) {
        v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "params"), "step_overhead_us");
        CU_ASSERT(cJSON_IsNumber(v) && v->valuedouble > 100 && v->valuedouble < 5000);
        cJSON_Delete(root);
    }
    g_free(out);
    g_free(err);
    const char *flagged[] = {"calibrate", exp, "--max-num-seqs", "8", "--quiet", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(flagged, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--max-num-seqs does not apply to");
    g_free(err);
    g_free(bench);
    g_free(exp);
    g_free(other);
    g_free(prof);
    g_free(dir);
}

static const SsTestCase cases[] = {
    {"vLLM versions and engine switches", test_versions},
    {"hardware profiles in scenarios", test_profile},
    {"servesim calibrate", test_calibrate_cli},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"versions", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
