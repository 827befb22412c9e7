/*
 * test_scn_scenario.c: scenario documents over the embedded default,
 * single-field updates (flags, sweep axes), engine defaults by GPU, and the
 * build errors a user can cause.
 */
#include <string.h>

#include "scn.h"
#include "ss_error.h"
#include "ss_test.h"

static void test_default_file_matches_embedded(void)
{
    char *path = g_build_filename(ss_test_source_dir(), "scenarios", "default.json", NULL);
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(path, &text, NULL, NULL));
    CU_ASSERT_STRING_EQUAL(text, scn_default_json());
    g_free(text);
    g_free(path);
    ScnScenario *s = scn_scenario_new_default();
    CU_ASSERT_STRING_EQUAL(s->model, "llama-3.1-8b");
    CU_ASSERT_STRING_EQUAL(s->hardware, "H100-SXM");
    CU_ASSERT_EQUAL(s->max_num_seqs, 1024);
    CU_ASSERT_EQUAL(s->max_num_batched_tokens, 8192);
    CU_ASSERT_EQUAL(s->seed, 42);
    CU_ASSERT_EQUAL(s->workload.num_requests, 2000);
    CU_ASSERT_EQUAL(s->workload.arrival.kind, WL_ARRIVAL_POISSON);
    CU_ASSERT_FALSE(s->is_trace);
    scn_scenario_free(s);
}

static void test_parse_over_default(void)
{
    GError *error = NULL;
    ScnScenario *s = scn_scenario_parse(
        "{\"hardware\": \"H20\", \"engine\": {\"max_num_seqs\": 64, \"enable_prefix_caching\": false},"
        " \"latency\": {\"model\": \"roofline-v1\", \"step_overhead_us\": 1500}}",
        "dir/my-scenario.json", "dir", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->name, "my-scenario"); /* named after its file */
    CU_ASSERT_STRING_EQUAL(s->hardware, "H20");
    CU_ASSERT_STRING_EQUAL(s->model, "llama-3.1-8b"); /* from the default */
    CU_ASSERT_EQUAL(s->max_num_seqs, 64);
    CU_ASSERT_EQUAL(s->max_num_batched_tokens, 8192);
    CU_ASSERT_FALSE(s->enable_prefix_caching);
    CU_ASSERT_EQUAL(s->latency.backend, LAT_BACKEND_ROOFLINE_V1);
    CU_ASSERT_DOUBLE_EQUAL(s->latency.step_overhead_us, 1500, 0);
    CU_ASSERT_EQUAL(s->workload.num_requests, 2000);
    ScnScenario *c = scn_scenario_copy(s);
    CU_ASSERT_STRING_EQUAL(c->hardware, "H20");
    CU_ASSERT_EQUAL(c->workload.num_classes, s->workload.num_classes);
    CU_ASSERT_PTR_NOT_EQUAL(c->workload.classes, s->workload.classes);
    scn_scenario_free(s);
    scn_scenario_free(c);
}

static void test_set_fields(void)
{
    ScnScenario *s = scn_scenario_new_default();
    GError *error = NULL;
    CU_ASSERT(scn_scenario_set(s, "max_num_seqs", "256", "axis", &error));
    CU_ASSERT_EQUAL(s->max_num_seqs, 256);
    CU_ASSERT(scn_scenario_set(s, "engine.max_num_batched_tokens", "2048", "axis", &error));
    CU_ASSERT_EQUAL(s->max_num_batched_tokens, 2048);
    CU_ASSERT(scn_scenario_set(s, "tensor_parallel_size", "2", "axis", &error));
    CU_ASSERT_EQUAL(s->tensor_parallel_size, 2);
    CU_ASSERT(scn_scenario_set(s, "hardware", "\"H200-SXM\"", "axis", &error));
    CU_ASSERT_STRING_EQUAL(s->hardware, "H200-SXM");
    CU_ASSERT(scn_scenario_set(s, "rate", "3.5", "axis", &error));
    CU_ASSERT_DOUBLE_EQUAL(s->workload.arrival.rate, 3.5, 0);
    CU_ASSERT(scn_scenario_set(s, "workload.arrival.rate", "4", "axis", &error));
    CU_ASSERT_DOUBLE_EQUAL(s->workload.arrival.rate, 4, 0);
    CU_ASSERT(scn_scenario_set(s, "latency.model", "\"v1\"", "axis", &error));
    CU_ASSERT_EQUAL(s->latency.backend, LAT_BACKEND_ROOFLINE_V1);
    CU_ASSERT(scn_scenario_set(s, "num_requests", "10", "axis", &error));
    CU_ASSERT_EQUAL(s->workload.num_requests, 10);

    CU_ASSERT_FALSE(scn_scenario_set(s, "max_num_sequences", "4", "axis", &error));
    SS_ASSERT_CONTAINS(error->message, "unknown scenario field 'max_num_sequences'");
    g_clear_error(&error);
    CU_ASSERT_FALSE(scn_scenario_set(s, "max_num_seqs", "-1", "axis", &error));
    SS_ASSERT_CONTAINS(error->message, "engine.max_num_seqs: expected a positive integer, got -1");
    g_clear_error(&error);
    CU_ASSERT_FALSE(scn_scenario_set(s, "gpu_memory_utilization", "0", "axis", &error));
    g_clear_error(&error);
    CU_ASSERT_FALSE(scn_scenario_set(s, "enable_prefix_caching", "1", "axis", &error));
    SS_ASSERT_CONTAINS(error->message, "true or false");
    g_clear_error(&error);
    CU_ASSERT_FALSE(scn_scenario_set(s, "cv", "2", "axis", &error)); /* poisson has no cv */
    g_clear_error(&error);
    scn_scenario_free(s);
}

static void test_flags(void)
{
    ScnFlags *f = scn_flags_new();
    GOptionContext *ctx = g_option_context_new(NULL);
    g_option_context_add_group(ctx, scn_flags_group(f));
    char *argv_in[] = {"x", "--max-num-seqs", "128", "--hardware", "H20", "--no-enable-prefix-caching", "--rate", "2", NULL};
    int argc = 8;
    char **argv = argv_in;
    GError *error = NULL;
    CU_ASSERT_FATAL(g_option_context_parse(ctx, &argc, &argv, &error));
    ScnScenario *s = scn_scenario_new_default();
    CU_ASSERT(scn_flags_apply(f, s, &error));
    CU_ASSERT_EQUAL(s->max_num_seqs, 128);
    CU_ASSERT_STRING_EQUAL(s->hardware, "H20");
    CU_ASSERT_FALSE(s->enable_prefix_caching);
    CU_ASSERT_DOUBLE_EQUAL(s->workload.arrival.rate, 2, 0);
    scn_scenario_free(s);
    g_option_context_free(ctx);
    scn_flags_free(f);

    f = scn_flags_new();
    ctx = g_option_context_new(NULL);
    g_option_context_add_group(ctx, scn_flags_group(f));
    char *bad_in[] = {"x", "--block-size", "sixteen", NULL};
    argc = 3;
    argv = bad_in;
    CU_ASSERT_FATAL(g_option_context_parse(ctx, &argc, &argv, &error));
    s = scn_scenario_new_default();
    CU_ASSERT_FALSE(scn_flags_apply(f, s, &error));
    CU_ASSERT_EQUAL(error->code, SS_ERROR_USAGE);
    SS_ASSERT_CONTAINS(error->message, "--block-size");
    SS_ASSERT_CONTAINS(error->message, "sixteen");
    g_clear_error(&error);
    scn_scenario_free(s);
    g_option_context_free(ctx);
    scn_flags_free(f);
}

/* vLLM's server defaults: 8192 / 1024 on >= 70 GiB GPUs other than A100,
 * else 2048 / 256; max_model_len from the model. */
static void test_engine_defaults_by_gpu(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    struct {
        const char *hw;
        guint mnbt, mns;
    } cases[] = {{"H100-SXM", 8192, 1024}, {"H200-SXM", 8192, 1024}, {"A100-SXM-80GB", 2048, 256},
                 {"L40S", 2048, 256}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        ScnScenario *s = scn_scenario_new_default();
        s->max_num_seqs = 0;
        s->max_num_batched_tokens = 0;
        s->max_model_len = 8192;
        g_free(s->hardware);
        s->hardware = g_strdup(cases[i].hw);
        ScnBuilt b;
        GError *error = NULL;
        gboolean ok = scn_build(s, cache, &b, &error);
        if (!ok)
            fprintf(stderr, "\n  %s: %s\n", cases[i].hw, error->message);
        CU_ASSERT_FATAL(ok);
        CU_ASSERT_EQUAL(b.sched.max_num_batched_tokens, cases[i].mnbt);
        CU_ASSERT_EQUAL(b.sched.max_num_seqs, cases[i].mns);
        scn_built_clear(&b);
        scn_scenario_free(s);
    }
    ScnScenario *s = scn_scenario_new_default();
    ScnBuilt b;
    CU_ASSERT_FATAL(scn_build(s, cache, &b, NULL));
    CU_ASSERT_EQUAL(b.sched.max_model_len, 131072); /* Llama-3.1-8B's max_position_embeddings */
    CU_ASSERT(b.sched.num_gpu_blocks > 20000);
    CU_ASSERT_FALSE(b.blocks_overridden);
    scn_built_clear(&b);
    s->num_gpu_blocks_override = 500;
    CU_ASSERT_FATAL(scn_build(s, cache, &b, NULL));
    CU_ASSERT_EQUAL(b.sched.num_gpu_blocks, 500);
    CU_ASSERT(b.blocks_overridden);
    scn_built_clear(&b);
    scn_scenario_free(s);
}

static void test_build_errors(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    struct {
        const char *field, *value;
        int code;
        const char *message;
    } cases[] = {
        {"model", "\"no-such-model\"", SS_ERROR_USAGE, "no-such-model"},
        {"hardware", "\"Z80\"", SS_ERROR_USAGE, "Z80"},
        {"model", "\"llama-3.1-70b-instruct\"", SS_ERROR_INPUT, "llama-3.1-70b-instruct"},
        {"max_model_len", "4000000", SS_ERROR_USAGE, "max_model_len 4000000"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        ScnScenario *s = scn_scenario_new_default();
        GError *error = NULL;
        CU_ASSERT_FATAL(scn_scenario_set(s, cases[i].field, cases[i].value, "test", &error));
        ScnBuilt b;
        CU_ASSERT_FALSE(scn_build(s, cache, &b, &error));
        CU_ASSERT_PTR_NOT_NULL_FATAL(error);
        CU_ASSERT_EQUAL(error->code, cases[i].code);
        SS_ASSERT_CONTAINS(error->message, cases[i].message);
        g_clear_error(&error);
        scn_scenario_free(s);
    }
}

static const SsTestCase cases[] = {
    {"scenarios/default.json is the embedded default", test_default_file_matches_embedded},
    {"a document over the default", test_parse_over_default},
    {"single fields, with errors", test_set_fields},
    {"engine flags", test_flags},
    {"engine defaults by GPU", test_engine_defaults_by_gpu},
    {"build errors", test_build_errors},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"scenario", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
