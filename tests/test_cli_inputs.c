/*
 * test_cli_inputs.c: the inputs a new user brings, through the binary:
 * an epoch-timestamp trace with a target rate and a limit, renamed columns,
 * ISO-8601 times out of order, `vllm bench serve` result files for replay
 * and validate (measured against simulated p50/p90/p99), models by Hugging
 * Face id or config path, and the flag spellings (-j1, old names).
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "ss_test.h"

static int run(const char *const *args, char **out, char **err)
{
    int rc = ss_test_run_servesim(args, out, err);
    if (err && *err && (strstr(*err, "Assertion") || strstr(*err, "AddressSanitizer") || strstr(*err, "runtime error")))
        fprintf(stderr, "\n  %s\n", *err);
    return rc;
}

static void test_epoch_trace_rate_limit(void)
{
    GString *t = g_string_new("arrival_time_s,input_tokens,output_tokens\n");
    for (int i = 0; i < 300; i++)
        g_string_append_printf(t, "%.3f,%d,%d\n", 1714000000.0 + 0.2 * i, 200 + i % 300, 20 + i % 80);
    char *path = ss_test_write_file("epoch.csv", t->str);
    char *out = NULL, *err = NULL;
    char *json = g_strdup_printf("%s.json", path);
    const char *args[] = {"replay", path, "--rate", "0.5", "--limit", "50", "--output-json", json, NULL};
    CU_ASSERT_EQUAL(run(args, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "50 arrived, 50 completed, 0 rejected, 0 in flight");
    SS_ASSERT_CONTAINS(out, "epoch-s times from the first request, rescaled to 0.5 req/s, limit 50");
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(json, &text, NULL, NULL));
    cJSON *root = cJSON_Parse(text);
    /* 50 requests 2 s apart on average: the last arrives at 98 s */
    double first = cJSON_GetObjectItem(root, "first_arrival_s")->valuedouble;
    CU_ASSERT_DOUBLE_EQUAL(first, 0.0, 1e-9);
    CU_ASSERT(cJSON_GetObjectItem(root, "duration_s")->valuedouble > 98.0);
    CU_ASSERT(cJSON_GetObjectItem(root, "duration_s")->valuedouble < 110.0);
    cJSON_Delete(root);
    g_free(text);
    g_free(out);
    g_free(err);
    /* plan rescales a trace to each rate it tries: an epoch trace too */
    char *plan = g_strdup_printf("{\"base\": {\"model\": \"qwen2.5-1.5b-instruct\", \"workload\": {\"trace\": "
                                 "{\"path\": \"%s\", \"limit\": 60}}}, \"target_rate\": 5, "
                                 "\"slos\": [{\"metric\": \"ttft\", \"max_ms\": 5000}], "
                                 "\"candidates\": [{\"hardware\": \"H100-SXM\"}], \"prices\": {\"H100-SXM\": 2}, "
                                 "\"search\": {\"num_requests\": 60, \"max_rate\": 50, \"curve_points\": 2}}",
                                 path);
    char *plan_path = ss_test_write_file("plan.json", plan);
    const char *pargs[] = {"plan", plan_path, "-j1", NULL};
    CU_ASSERT_EQUAL(run(pargs, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "H100-SXM TP1");
    g_free(out);
    g_free(err);
    g_free(plan_path);
    g_free(plan);
    g_free(json);
    g_free(path);
    g_string_free(t, TRUE);
}

static void test_mapped_and_unsorted(void)
{
    char *path = ss_test_write_file("logs.csv", "request_id,time,prompt_len,completion_len\n"
                                                "a,2024-05-01T10:00:02.500Z,300,40\n"
                                                "b,2024-05-01T10:00:00Z,100,20\n"
                                                "c,2024-05-01T10:00:01Z,200,30\n");
    char *out = NULL, *err = NULL;
    const char *args[] = {"replay", path, "--columns", "arrival=time,input=prompt_len,output=completion_len", NULL};
    CU_ASSERT_EQUAL(run(args, &out, &err), 3);
    SS_ASSERT_CONTAINS(err, "logs.csv:3:2: column 'time': expected a time at or after '2024-05-01T10:00:02.500Z' "
                            "(line 2): rows must be in time order (or sorted: replay --sort");
    g_free(out);
    g_free(err);
    const char *sorted[] = {"replay", path, "--columns", "arrival=time,input=prompt_len,output=completion_len",
                            "--sort", NULL};
    CU_ASSERT_EQUAL(run(sorted, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "3 arrived, 3 completed");
    SS_ASSERT_CONTAINS(out, "iso8601 times from the first request, sorted by time");
    g_free(out);
    g_free(err);
    /* an unknown column name in the mapping, and an unknown time format: usage errors */
    const char *bad[] = {"replay", path, "--columns", "arrival=when,input=prompt_len,output=completion_len", NULL};
    CU_ASSERT_EQUAL(run(bad, NULL, &err), 3);
    SS_ASSERT_CONTAINS(err, "expected a column 'when' (arrival)");
    g_free(err);
    const char *bad2[] = {"replay", path, "--time-format", "fortnights", NULL};
    CU_ASSERT_EQUAL(run(bad2, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "time_format: expected one of auto, seconds, milliseconds, epoch-s");
    g_free(err);
    g_free(path);
}

/* A hand-made `vllm bench serve --save-result --save-detailed` file in the
 * format of vllm/benchmarks/serve.py (docs/validation-format.md): 12
 * requests, one failed. */
static char *write_bench_result(gboolean detailed, gboolean hardware)
{
    GString *t = g_string_new("{\n \"date\": \"20250301-101500\", \"endpoint_type\": \"vllm\", \"backend\": \"vllm\",\n"
                              " \"label\": null, \"model_id\": \"meta-llama/Llama-3.1-8B-Instruct\",\n"
                              " \"tokenizer_id\": \"meta-llama/Llama-3.1-8B-Instruct\", \"num_prompts\": 12,\n"
                              " \"request_rate\": 2.0, \"burstiness\": 1.0, \"max_concurrency\": null,\n"
                              " \"duration\": 7.8, \"completed\": 11, \"failed\": 1,\n"
                              " \"total_input_tokens\": 5500, \"total_output_tokens\": 1100,\n"
                              " \"request_throughput\": 1.41, \"request_goodput\": null,\n"
                              " \"output_throughput\": 141.03, \"total_token_throughput\": 846.15,\n"
                              " \"max_output_tokens_per_s\": 200.0, \"max_concurrent_requests\": 4,\n"
                              " \"mean_ttft_ms\": 31.5, \"median_ttft_ms\": 30.0, \"std_ttft_ms\": 4.1, "
                              "\"p99_ttft_ms\": 40.8,\n"
                              " \"mean_tpot_ms\": 7.6, \"median_tpot_ms\": 7.5, \"std_tpot_ms\": 0.3, "
                              "\"p99_tpot_ms\": 8.2,\n"
                              " \"mean_itl_ms\": 7.6, \"median_itl_ms\": 7.5, \"std_itl_ms\": 0.3, \"p99_itl_ms\": 9.0");
    if (hardware)
        g_string_append(t, ",\n \"hardware\": \"H100-SXM\", \"tensor_parallel_size\": \"1\"");
    if (detailed) {
        g_string_append(t, ",\n \"input_lens\": [");
        for (int i = 0; i < 12; i++)
            g_string_append_printf(t, "%s%d", i ? ", " : "", 300 + 40 * i);
        g_string_append(t, "],\n \"output_lens\": [");
        for (int i = 0; i < 12; i++)
            g_string_append_printf(t, "%s%d", i ? ", " : "", i == 7 ? 0 : 60 + 10 * i);
        g_string_append(t, "],\n \"ttfts\": [");
        for (int i = 0; i < 12; i++)
            g_string_append_printf(t, "%s%.4f", i ? ", " : "", i == 7 ? 0.0 : 0.025 + 0.001 * i);
        g_string_append(t, "],\n \"itls\": [");
        for (int i = 0; i < 12; i++) {
            g_string_append(t, i ? ", [" : "[");
            int n = i == 7 ? 0 : 60 + 10 * i - 1;
            for (int k = 0; k < n; k++)
                g_string_append_printf(t, "%s%.4f", k ? ", " : "", 0.0075 + 0.0001 * (k % 3));
            g_string_append(t, "]");
        }
        g_string_append(t, "],\n \"start_times\": [");
        for (int i = 0; i < 12; i++)
            g_string_append_printf(t, "%s%.4f", i ? ", " : "", 5231.25 + 0.5 * i);
        g_string_append(t, "],\n \"errors\": [");
        for (int i = 0; i < 12; i++)
            g_string_append_printf(t, "%s\"%s\"", i ? ", " : "", i == 7 ? "Server disconnected" : "");
        g_string_append(t, "],\n \"generated_texts\": [");
        for (int i = 0; i < 12; i++)
            g_string_append_printf(t, "%s\"text %d\"", i ? ", " : "", i);
        g_string_append(t, "]");
    }
    g_string_append(t, "\n}\n");
    char *path = ss_test_write_file(detailed ? "detailed.json" : "aggregate.json", t->str);
    g_string_free(t, TRUE);
    return path;
}

/* numpy's percentile (linear interpolation), as vllm bench serve reports them. */
static double np_percentile(double *v, int n, double p)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    double rank = p / 100.0 * (n - 1);
    int lo = (int)floor(rank), hi = lo + 1 < n ? lo + 1 : lo;
    return v[lo] + (v[hi] - v[lo]) * (rank - lo);
}

static void test_validate_bench_detailed(void)
{
    char *path = write_bench_result(TRUE, TRUE);
    char *out = NULL, *err = NULL;
    const char *args[] = {"validate", path, NULL};
    CU_ASSERT_EQUAL(run(args, &out, &err), 0);
    /* measured against simulated, with p50, p90 and p99 */
    SS_ASSERT_CONTAINS(out, "TTFT p50");
    SS_ASSERT_CONTAINS(out, "TTFT p99");
    SS_ASSERT_CONTAINS(out, "TPOT p99");
    SS_ASSERT_CONTAINS(out, "E2E p99");
    SS_ASSERT_CONTAINS(out, "rate 2 (11) meas");
    SS_ASSERT_CONTAINS(out, " sim ");
    SS_ASSERT_CONTAINS(out, " err ");
    SS_ASSERT_CONTAINS(out, "H100-SXM, meta-llama/Llama-3.1-8B-Instruct, TP 1");
    g_free(out);
    g_free(err);
    const char *jargs[] = {"validate", "--json", path, NULL};
    CU_ASSERT_EQUAL(run(jargs, &out, NULL), 0);
    cJSON *root = cJSON_Parse(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(root, "experiments"), 0),
                                                      "points"), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(p, "num_requests")->valueint, 11);
    cJSON *meas = cJSON_GetObjectItem(p, "measured"), *sim = cJSON_GetObjectItem(p, "simulated");
    /* the measured values are vllm's own definitions over the 11 successful requests */
    double ttft[11], tpot[11], e2e[11];
    int n = 0;
    for (int i = 0; i < 12; i++) {
        if (i == 7)
            continue;
        int out_tokens = 60 + 10 * i;
        double sum = 0.025 + 0.001 * i;
        ttft[n] = sum * 1e3;
        for (int k = 0; k < out_tokens - 1; k++)
            sum += 0.0075 + 0.0001 * (k % 3);
        e2e[n] = sum * 1e3;
        tpot[n] = (e2e[n] - ttft[n]) / (out_tokens - 1);
        n++;
    }
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "ttft_p99")->valuedouble, np_percentile(ttft, 11, 99), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "ttft_p50")->valuedouble, np_percentile(ttft, 11, 50), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "tpot_p90")->valuedouble, np_percentile(tpot, 11, 90), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "e2e_p99")->valuedouble, np_percentile(e2e, 11, 99), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "output_throughput")->valuedouble, 141.03, 1e-9);
    const char *keys[] = {"ttft_p50", "ttft_p90", "ttft_p99", "tpot_p50", "tpot_p99", "e2e_p50", "e2e_p99"};
    for (gsize i = 0; i < G_N_ELEMENTS(keys); i++) {
        CU_ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(meas, keys[i])));
        CU_ASSERT(cJSON_GetObjectItem(sim, keys[i])->valuedouble > 0);
    }
    cJSON_Delete(root);
    g_free(out);
    /* the same file replays */
    const char *rargs[] = {"replay", path, NULL};
    CU_ASSERT_EQUAL(run(rargs, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "11 arrived, 11 completed");
    SS_ASSERT_CONTAINS(out, "vllm bench serve result");
    SS_ASSERT_CONTAINS(out, "(1 failed request left out), measured send times");
    g_free(out);
    g_free(err);
    g_free(path);
}

static void test_validate_bench_aggregate(void)
{
    char *path = write_bench_result(FALSE, FALSE);
    char *out = NULL, *err = NULL;
    const char *noh[] = {"validate", path, NULL};
    CU_ASSERT_EQUAL(run(noh, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "a vllm bench serve result does not say which GPU served it: give --hardware NAME");
    g_free(err);
    const char *args[] = {"validate", "--json", path, "--hardware", "H100-SXM", "--max-num-seqs", "256", NULL};
    CU_ASSERT_EQUAL(run(args, &out, &err), 0);
    cJSON *root = cJSON_Parse(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "experiments"), 0);
    cJSON *meas = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(e, "points"), 0), "measured");
    /* the aggregates the file holds, and nothing it does not */
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "ttft_mean")->valuedouble, 31.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "ttft_p50")->valuedouble, 30.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "ttft_p99")->valuedouble, 40.8, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(cJSON_GetObjectItem(meas, "tpot_p99")->valuedouble, 8.2, 1e-9);
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(meas, "ttft_p90")));
    CU_ASSERT(cJSON_IsNull(cJSON_GetObjectItem(meas, "e2e_mean")));
    cJSON_Delete(root);
    g_free(out);
    g_free(err);
    g_free(path);
}

static void test_models_by_id_and_path(void)
{
    char *out = NULL, *err = NULL;
    const char *args[] = {"run", "--model", "META-LLAMA/Llama-3.1-8B-Instruct", "--num-requests", "20", NULL};
    CU_ASSERT_EQUAL(run(args, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "llama-3.1-8b-instruct on 1 x H100-SXM");
    g_free(out);
    g_free(err);
    const char *unknown[] = {"run", "--model", "meta-llama/Llama-3.2-8B-Instruct", NULL};
    CU_ASSERT_EQUAL(run(unknown, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "unknown model 'meta-llama/Llama-3.2-8B-Instruct' (nearest: llama-3.1-8b-instruct");
    g_free(err);
    /* a config.json copied from elsewhere, by --model-config, as a file and as a folder */
    char *dir = ss_test_tmpdir();
    char *folder = g_build_filename(dir, "my-qwen", NULL);
    g_mkdir_with_parents(folder, 0755);
    char *src = g_build_filename(ss_test_data_dir(), "models", "qwen3-8b", "config.json", NULL);
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(src, &text, NULL, NULL));
    char *cfg = g_build_filename(folder, "config.json", NULL);
    g_file_set_contents(cfg, text, -1, NULL);
    const char *a1[] = {"run", "--model-config", cfg, "--num-requests", "20", NULL};
    CU_ASSERT_EQUAL(run(a1, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "my-qwen on 1 x H100-SXM");
    g_free(out);
    const char *a2[] = {"step", "--model-config", folder, "--prefill", "512", NULL};
    CU_ASSERT_EQUAL(run(a2, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "my-qwen on H100-SXM");
    g_free(out);
    const char *a3[] = {"run", "--model-config", "/no/such/config.json", NULL};
    CU_ASSERT_EQUAL(run(a3, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--model-config /no/such/config.json: no such file or folder");
    g_free(err);
    const char *a4[] = {"run", "--model-config", cfg, "--model", "qwen3-8b", NULL};
    CU_ASSERT_EQUAL(run(a4, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--model and --model-config name the model twice");
    g_free(err);
    g_free(cfg);
    g_free(text);
    g_free(src);
    g_free(folder);
    g_free(dir);
}

static void test_engine_checks_and_spellings(void)
{
    char *out = NULL, *err = NULL;
    const char *mml[] = {"run", "--max-model-len", "200000", NULL};
    CU_ASSERT_EQUAL(run(mml, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "max_model_len 200000 is above llama-3.1-8b's max_position_embeddings (131072), which "
                            "vLLM refuses at start-up");
    g_free(err);
    /* old spellings still work, with a note */
    const char *v1[] = {"run", "--num-requests", "20", "--latency-model", "v1", NULL};
    CU_ASSERT_EQUAL(run(v1, &out, &err), 0);
    SS_ASSERT_CONTAINS(out, "roofline-v1 step model");
    SS_ASSERT_CONTAINS(err, "servesim run: note: --latency-model v1 is the old spelling of roofline-v1");
    g_free(out);
    g_free(err);
    char *exp = g_build_filename(ss_test_data_dir(), "validation", "blis-h100-llama2-7b-train", NULL);
    const char *param[] = {"validate", "--json", exp, "--param", "bw_efficiency=0.8", NULL};
    const char *lparam[] = {"validate", "--json", exp, "--latency-param", "bw_efficiency=0.8", NULL};
    char *out2 = NULL;
    CU_ASSERT_EQUAL(run(param, &out, &err), 0);
    SS_ASSERT_CONTAINS(err, "servesim validate: note: --param is the old name of --latency-param");
    CU_ASSERT_EQUAL(run(lparam, &out2, NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, out2); /* the same setting */
    g_free(out);
    g_free(out2);
    g_free(err);
    g_free(exp);
    /* -j1 as -j 1; a bad value is still a usage error */
    char *sweep = ss_test_write_file("s.json", "{\"base\": {\"workload\": {\"num_requests\": 30, \"arrival\": "
                                               "{\"process\": \"poisson\", \"rate\": 5}, \"classes\": [{\"name\": "
                                               "\"c\", \"share\": 1, \"input\": {\"dist\": \"constant\", \"value\": "
                                               "100}, \"output\": {\"dist\": \"constant\", \"value\": 10}}]}}, "
                                               "\"axes\": {\"max_num_seqs\": [8, 16]}}");
    const char *j1[] = {"sweep", sweep, "-j1", "-q", NULL};
    const char *j_1[] = {"sweep", sweep, "-j", "1", "-q", NULL};
    CU_ASSERT_EQUAL(run(j1, &out, NULL), 0);
    CU_ASSERT_EQUAL(run(j_1, &out2, NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, out2);
    g_free(out);
    g_free(out2);
    const char *j0[] = {"sweep", sweep, "-j0", NULL};
    CU_ASSERT_EQUAL(run(j0, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--jobs: expected a whole number from 1 to 4096, got '0'");
    g_free(err);
    g_free(sweep);
}

static const SsTestCase cases[] = {
    {"epoch trace with --rate 0.5 --limit 50", test_epoch_trace_rate_limit},
    {"renamed columns, ISO-8601 times out of order", test_mapped_and_unsorted},
    {"validate a vllm bench result with per-request data", test_validate_bench_detailed},
    {"validate an aggregate-only vllm bench result", test_validate_bench_aggregate},
    {"models by Hugging Face id and config path", test_models_by_id_and_path},
    {"max_model_len check, old spellings, -j1", test_engine_checks_and_spellings},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"cli_inputs", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
