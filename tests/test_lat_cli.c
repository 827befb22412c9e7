/*
 * test_lat_cli.c: `servesim step`, end to end through the built binary.
 *
 * Exit codes (0 ok, 2 bad flags or unknown names, 3 bad data), the JSON
 * object (total_ms, backend, components with name/ms/bound/estimated/source)
 * against the library's own numbers, and the --verbose listing of the table
 * rows. Needs the servesim target built (it is part of the default build).
 */
#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <math.h>

#include "lat.h"
#include "ss_test.h"

static int run(const char *const *args, char **out, char **err)
{
    if (!g_file_test(ss_test_binary(), G_FILE_TEST_IS_EXECUTABLE)) {
        fprintf(stderr, "\n  %s is missing: build the servesim target first\n", ss_test_binary());
        CU_FAIL_FATAL("servesim binary missing");
    }
    return ss_test_run_servesim(args, out, err);
}

static void test_json_output(void)
{
    char *out = NULL, *err = NULL;
    const char *args[] = {"step", "--model", "llama-3.1-8b", "--prefill", "4096", "--json", NULL};
    CU_ASSERT_EQUAL_FATAL(run(args, &out, &err), 0);
    cJSON *root = cJSON_Parse(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    const cJSON *total = cJSON_GetObjectItem(root, "total_ms");
    CU_ASSERT_FATAL(cJSON_IsNumber(total));
    /* 2 x 4096 x 7.5e9 FLOPs of projections at 55-80% of 989 TFLOP/s, plus attention and the rest */
    CU_ASSERT(total->valuedouble > 70.0 && total->valuedouble < 110.0);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(root, "backend")), "roofline-v2");
    const cJSON *comps = cJSON_GetObjectItem(root, "components");
    CU_ASSERT_FATAL(cJSON_IsArray(comps));
    double sum = 0, cpu = 0;
    gboolean saw_proj = FALSE;
    const cJSON *c;
    cJSON_ArrayForEach(c, comps)
    {
        CU_ASSERT(cJSON_IsString(cJSON_GetObjectItem(c, "name")));
        CU_ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(c, "ms")));
        CU_ASSERT(cJSON_IsBool(cJSON_GetObjectItem(c, "estimated")));
        CU_ASSERT(cJSON_IsString(cJSON_GetObjectItem(c, "source")));
        const char *bound = cJSON_GetStringValue(cJSON_GetObjectItem(c, "bound"));
        CU_ASSERT(bound && (strcmp(bound, "compute") == 0 || strcmp(bound, "memory") == 0 ||
                            strcmp(bound, "communication") == 0 || strcmp(bound, "fixed") == 0));
        if (strcmp(bound, "fixed") == 0)
            cpu += cJSON_GetObjectItem(c, "ms")->valuedouble;
        else
            sum += cJSON_GetObjectItem(c, "ms")->valuedouble;
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")), "projections") == 0) {
            saw_proj = TRUE;
            CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(c, "bound")), "compute");
            CU_ASSERT(cJSON_IsFalse(cJSON_GetObjectItem(c, "estimated")));
        }
    }
    CU_ASSERT(saw_proj);
    /* GPU and CPU parts, combined as the scheduling mode says */
    CU_ASSERT(fabs(sum - cJSON_GetObjectItem(root, "gpu_ms")->valuedouble) < 1e-9 * sum);
    CU_ASSERT(fabs(cpu - cJSON_GetObjectItem(root, "cpu_ms")->valuedouble) < 1e-9 * cpu);
    double expect = cJSON_IsTrue(cJSON_GetObjectItem(root, "async_scheduling")) ? MAX(sum, cpu) : sum + cpu;
    CU_ASSERT(fabs(expect - total->valuedouble) < 1e-9 * total->valuedouble);
    cJSON_Delete(root);
    g_free(out);
    g_free(err);
}

static void test_text_and_verbose(void)
{
    char *out = NULL, *err = NULL;
    const char *args[] = {"step", "--model", "mixtral-8x7b-v0.1", "--tensor-parallel-size", "2", "--decode", "64x2048",
                          "--prefill", "512@1024", "--verbose", NULL};
    CU_ASSERT_EQUAL_FATAL(run(args, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "mixtral-8x7b-v0.1 on H100-SXM, TP2, roofline-v2: 1 prefill chunk (512 new tokens), 64 decodes");
    SS_ASSERT_CONTAINS(out, "moe_experts");
    SS_ASSERT_CONTAINS(out, "allreduce");
    SS_ASSERT_CONTAINS(out, "lookups:");
    SS_ASSERT_CONTAINS(out, "mha/decode/h100/32-8-128-tp2.csv");
    SS_ASSERT_CONTAINS(out, "prefill t=512 p=1024");
    g_free(out);
    g_free(err);
    /* v1 and an overhead override */
    const char *v1[] = {"step", "--model", "llama-3.1-8b", "--decode", "8x1000", "--latency-model", "v1",
                        "--step-overhead-us", "0", "--json", NULL};
    CU_ASSERT_EQUAL_FATAL(run(v1, &out, &err), 0);
    cJSON *root = cJSON_Parse(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_STRING_EQUAL(cJSON_GetStringValue(cJSON_GetObjectItem(root, "backend")), "roofline-v1");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "components"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "name")), "cpu") == 0)
            CU_ASSERT_EQUAL(cJSON_GetObjectItem(c, "ms")->valuedouble, 0.0);
    }
    cJSON_Delete(root);
    g_free(out);
    g_free(err);
    /* A GPU without tables says whose tables time it; roofline-v1 marks its estimates. */
    const char *l40s[] = {"step", "--model", "llama-3.1-8b", "--hardware", "l40s", "--decode", "8x1000", NULL};
    CU_ASSERT_EQUAL_FATAL(run(l40s, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "measured on H100-SXM, transferred by the roofline rule");
    g_free(out);
    g_free(err);
    const char *v1e[] = {"step", "--model", "llama-3.1-8b", "--decode", "8x1000", "--latency-model", "v1", NULL};
    CU_ASSERT_EQUAL_FATAL(run(v1e, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "* estimated");
    g_free(out);
    g_free(err);
}

static void test_exit_codes(void)
{
    struct {
        const char *args[12];
        int code;
        const char *needle;
    } cases[] = {
        {{"step", "--model", "llama-3.1-8b", "--decode", "64", NULL}, 2, "expected NxKV"},
        {{"step", "--model", "llama-3.1-8b", "--prefill", "0", NULL}, 2, "--prefill '0'"},
        {{"step", "--model", "llama-3.1-8b", "--prefill", "12@x", NULL}, 2, "expected T or T@P"},
        {{"step", "--model", "llama-3.1-8b", NULL}, 2, "nothing to time"},
        {{"step", "--prefill", "10", NULL}, 2, "--model (or --model-config) is required"},
        {{"step", "--model", "llama-9", "--prefill", "10", NULL}, 2, "unknown model 'llama-9'"},
        {{"step", "--model", "llama-3.1-8b", "--prefill", "10", "--hardware", "TPU", NULL}, 2, "unknown hardware"},
        {{"step", "--model", "llama-3.1-8b", "--prefill", "10", "--latency-model", "v9", NULL}, 2, "roofline-v2, roofline-v1 or auto"},
        {{"step", "--model", "llama-3.1-8b", "--prefill", "10", "--tensor-parallel-size", "3", NULL},
         3,
         "does not divide"},
        {{"step", "--model", "llama-3.1-8b", "--prefill", "10", "--no-such-flag", NULL}, 2, "Unknown option"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *out = NULL, *err = NULL;
        int code = run(cases[i].args, &out, &err);
        if (code != cases[i].code)
            fprintf(stderr, "\n  case %u: exit %d, want %d; stderr: %s\n", i, code, cases[i].code, err);
        CU_ASSERT_EQUAL(code, cases[i].code);
        SS_ASSERT_CONTAINS(err, cases[i].needle);
        g_free(out);
        g_free(err);
    }
    /* Bad data: a malformed config.json is exit 3 with file:line:column. */
    char *path = ss_test_write_file("config.json", "{\n  \"hidden_size\": 4096,\n  oops\n}\n");
    const char *bad[] = {"step", "--model", path, "--prefill", "10", NULL};
    char *out = NULL, *err = NULL;
    CU_ASSERT_EQUAL(run(bad, &out, &err), 3);
    SS_ASSERT_CONTAINS(err, "config.json:3:4: malformed JSON");
    g_free(out);
    g_free(err);
    g_free(path);
    /* And a broken MFU table under --data-dir. */
    char *dir = ss_test_tmpdir();
    char *hw = g_build_filename(ss_test_data_dir(), "hardware.json", NULL);
    char *text = NULL;
    g_file_get_contents(hw, &text, NULL, NULL);
    char *hw2 = g_build_filename(dir, "hardware.json", NULL);
    g_file_set_contents(hw2, text, -1, NULL);
    char *models = g_build_filename(dir, "models", "m", NULL);
    g_mkdir_with_parents(models, 0755);
    char *cfg_src = g_build_filename(ss_test_data_dir(), "models", "llama-3.1-8b", "config.json", NULL);
    char *cfg_text = NULL;
    g_file_get_contents(cfg_src, &cfg_text, NULL, NULL);
    char *cfg = g_build_filename(models, "config.json", NULL);
    g_file_set_contents(cfg, cfg_text, -1, NULL);
    char *gemm_dir = g_build_filename(dir, "mfu", "gemm", "h100", NULL);
    g_mkdir_with_parents(gemm_dir, 0755);
    char *gemm = g_build_filename(gemm_dir, "data.csv", NULL);
    g_file_set_contents(gemm, "m,k,n,latency_us,mfu\n8,2048,6144,x,0.011\n", -1, NULL);
    const char *bad_table[] = {"step", "--model", "m", "--prefill", "10", "--data-dir", dir, NULL};
    CU_ASSERT_EQUAL(run(bad_table, &out, &err), 3);
    SS_ASSERT_CONTAINS(err, "data.csv:2:4: column 'latency_us'");
    g_free(out);
    g_free(err);
    g_free(gemm);
    g_free(gemm_dir);
    g_free(cfg);
    g_free(cfg_text);
    g_free(cfg_src);
    g_free(models);
    g_free(hw2);
    g_free(text);
    g_free(hw);
    g_free(dir);
}

static const SsTestCase cli_cases[] = {{"json_output", test_json_output},
                                       {"text_and_verbose", test_text_and_verbose},
                                       {"exit_codes", test_exit_codes},
                                       {NULL, NULL}};

static const SsTestSuite suites[] = {{"step_cli", cli_cases}, {NULL, NULL}};

int main(int argc, char **argv) { return ss_test_main(argc, argv, suites); }
