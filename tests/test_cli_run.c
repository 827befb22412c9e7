/*
 * test_cli_run.c: `servesim run` and `servesim replay` as a user runs them:
 * the default scenario, the JSON schema, byte-identical output for the same
 * seed, and every kind of bad input with its message and exit code.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "ss_test.h"

static char *read_file(const char *path)
{
    char *text = NULL;
    CU_ASSERT_FATAL(g_file_get_contents(path, &text, NULL, NULL));
    return text;
}

static void test_default_run(void)
{
    char *out = NULL, *err = NULL;
    char *dir = ss_test_tmpdir();
    char *json_path = g_build_filename(dir, "out.json", NULL);
    const char *args[] = {"run", "--output-json", json_path, NULL};
    int rc = ss_test_run_servesim(args, &out, &err);
    CU_ASSERT_EQUAL(rc, 0);
    SS_ASSERT_CONTAINS(out, "llama-3.1-8b");
    SS_ASSERT_CONTAINS(out, "H100-SXM");
    SS_ASSERT_CONTAINS(out, "2000 arrived, 2000 completed");
    SS_ASSERT_CONTAINS(out, "TTFT");
    char *json = read_file(json_path);
    cJSON *root = cJSON_Parse(json);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    const char *names[] = {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms", "queue_ms"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        cJSON *o = cJSON_GetObjectItem(root, names[i]);
        CU_ASSERT_FATAL(cJSON_IsObject(o));
        const char *fields[] = {"mean", "p50", "p90", "p95", "p99"};
        for (size_t k = 0; k < G_N_ELEMENTS(fields); k++)
            CU_ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(o, fields[k])));
    }
    const char *numbers[] = {"arrived", "completed", "rejected", "preemptions", "duration_s", "requests_per_s",
                             "input_tokens_per_s", "output_tokens_per_s", "kv_usage_mean", "kv_usage_peak"};
    for (size_t i = 0; i < G_N_ELEMENTS(numbers); i++)
        CU_ASSERT(cJSON_IsNumber(cJSON_GetObjectItem(root, numbers[i])));
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(root, "arrived")->valuedouble, 2000);
    CU_ASSERT_EQUAL(cJSON_GetObjectItem(root, "completed")->valuedouble, 2000);
    CU_ASSERT_STRING_EQUAL(cJSON_GetObjectItem(root, "schema")->valuestring, "servesim.run/1");
    cJSON_Delete(root);
    g_free(json);
    g_free(json_path);
    g_free(dir);
    g_free(out);
    g_free(err);
}

/* The same inputs and seed give the same bytes, in every output file. */
static void test_byte_identical(void)
{
    char *dir = ss_test_tmpdir();
    char *paths[2][3];
    char *outs[2];
    for (int run = 0; run < 2; run++) {
        const char *names[3] = {"a.json", "a.csv", "a-ts.csv"};
        for (int k = 0; k < 3; k++)
            paths[run][k] = g_strdup_printf("%s/%d-%s", dir, run, names[k]);
        const char *args[] = {"run", "--num-requests", "400", "--rate", "20", "--output-json", paths[run][0],
                              "--output-requests", paths[run][1], "--output-timeseries", paths[run][2], NULL};
        CU_ASSERT_EQUAL(ss_test_run_servesim(args, &outs[run], NULL), 0);
    }
    CU_ASSERT_STRING_EQUAL(outs[0], outs[1]);
    for (int k = 0; k < 3; k++) {
        char *a = read_file(paths[0][k]), *b = read_file(paths[1][k]);
        CU_ASSERT_STRING_EQUAL(a, b);
        CU_ASSERT(strlen(a) > 100);
        g_free(a);
        g_free(b);
    }
    /* a row per request, each accounted for */
    char *csv = read_file(paths[0][1]);
    guint lines = 0;
    for (char *p = csv; *p; p++)
        lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, 401);
    g_free(csv);
    /* another seed gives other results */
    char *other = g_strdup_printf("%s/seed43.json", dir);
    const char *args[] = {"run", "--num-requests", "400", "--rate", "20", "--seed", "43", "--output-json", other, NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, NULL, NULL), 0);
    char *a = read_file(paths[0][0]), *b = read_file(other);
    CU_ASSERT(strcmp(a, b) != 0);
    g_free(a);
    g_free(b);
    g_free(other);
    for (int run = 0; run < 2; run++) {
        g_free(outs[run]);
        for (int k = 0; k < 3; k++)
            g_free(paths[run][k]);
    }
    g_free(dir);
}

typedef struct {
    const char *what;
    const char *args[12];
    const char *scenario;   /* written to a file whose path replaces "@" in args */
    int code;
    const char *message[3];
} BadCase;

static void run_bad_cases(const BadCase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const BadCase *c = &cases[i];
        char *path = c->scenario ? ss_test_write_file("s.json", c->scenario) : NULL;
        const char *args[14];
        size_t k = 0;
        for (; c->args[k]; k++)
            args[k] = strcmp(c->args[k], "@") == 0 ? path : c->args[k];
        args[k] = NULL;
        char *err = NULL;
        int rc = ss_test_run_servesim(args, NULL, &err);
        if (rc != c->code)
            fprintf(stderr, "\n  %s: exit %d, expected %d; stderr: %s", c->what, rc, c->code, err);
        CU_ASSERT_EQUAL(rc, c->code);
        for (int m = 0; m < 3 && c->message[m]; m++)
            SS_ASSERT_CONTAINS(err, c->message[m]);
        CU_ASSERT(err && !strstr(err, "Assertion") && !strstr(err, "AddressSanitizer"));
        g_free(err);
        g_free(path);
    }
}

static void test_bad_input(void)
{
    static const BadCase cases[] = {
        {"unknown model", {"run", "--model", "no-such-model", NULL}, NULL, 2, {"unknown model 'no-such-model'", "nearest: "}},
        {"unknown hardware", {"run", "--hardware", "TPU9", NULL}, NULL, 2, {"TPU9", "H100-SXM"}},
        {"missing scenario", {"run", "/nonexistent/s.json", NULL}, NULL, 3, {"/nonexistent/s.json"}},
        {"malformed JSON", {"run", "@", NULL}, "{\n  \"engine\": {\n    \"max_num_seqs\": 12,,\n  }\n}\n", 3,
         {"s.json:3:"}},
        {"negative count flag", {"run", "--max-num-seqs", "-3", NULL}, NULL, 2, {"--max-num-seqs", "positive integer", "-3"}},
        {"non-number flag", {"run", "--max-num-batched-tokens", "lots", NULL}, NULL, 2, {"--max-num-batched-tokens", "lots"}},
        {"number with trailing text", {"run", "--max-num-seqs", "5 junk", NULL}, NULL, 2, {"--max-num-seqs", "5 junk"}},
        {"zero count in JSON", {"run", "@", NULL}, "{\"engine\": {\"max_num_seqs\": 0}}", 3,
         {"s.json", "engine.max_num_seqs", "positive integer"}},
        {"negative rate in JSON", {"run", "@", NULL}, "{\"workload\": {\"num_requests\": 10, \"arrival\": {\"process\": \"poisson\", \"rate\": -2}}}", 3,
         {"s.json", "workload.arrival.rate"}},
        {"batched tokens below seqs", {"run", "--max-num-batched-tokens", "128", "--max-num-seqs", "256", NULL}, NULL, 2,
         {"--max-num-batched-tokens (128) must be >= --max-num-seqs (256)"}},
        {"model too big for the GPU", {"run", "--model", "llama-3.1-70b-instruct", "--hardware", "RTX4090", NULL}, NULL, 3,
         {"llama-3.1-70b-instruct"}},
        {"unknown field", {"run", "@", NULL}, "{\"engin\": {}}", 3, {"s.json", "engin", "engine"}},
        {"unknown flag", {"run", "--max-num-seq", "4", NULL}, NULL, 2, {"max-num-seq"}},
        {"two scenarios", {"run", "a.json", "b.json", NULL}, NULL, 2, {"at most one"}},
        {"gpu memory utilization out of range", {"run", "--gpu-memory-utilization", "1.5", NULL}, NULL, 2,
         {"gpu_memory_utilization"}},
        {"bad latency model", {"run", "--latency-model", "v9", NULL}, NULL, 2, {"v9"}},
        {"unknown command", {"runn", NULL}, NULL, 2, {"unknown command"}},
    };
    run_bad_cases(cases, G_N_ELEMENTS(cases));
}

static void test_bad_trace(void)
{
    char *trace = ss_test_write_file("t.csv", "arrival_time_s,input_tokens,output_tokens\n0.0,10,5\n0.5,12,-3\n");
    const char *args[] = {"replay", trace, NULL};
    char *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, NULL, &err), 3);
    SS_ASSERT_CONTAINS(err, "t.csv:3:3");
    SS_ASSERT_CONTAINS(err, "output_tokens");
    SS_ASSERT_CONTAINS(err, "-3");
    g_free(err);
    /* skipped and counted with --skip-bad-rows */
    char *out = NULL;
    const char *args2[] = {"replay", trace, "--skip-bad-rows", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(args2, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "1 arrived, 1 completed");
    SS_ASSERT_CONTAINS(out, "1 bad rows skipped");
    g_free(out);
    const char *args3[] = {"replay", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(args3, NULL, NULL), 2);
    g_free(trace);
    /* --limit and --skip select rows; flag values are numbers, checked */
    trace = ss_test_write_file("t.csv", "arrival_time_s,input_tokens,output_tokens\n0.0,10,5\n0.5,12,3\n1.0,8,2\n1.5,9,4\n");
    const char *lim[] = {"replay", trace, "--limit", "2", "--skip", "1", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(lim, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "2 arrived, 2 completed");
    g_free(out);
    /* flag, value, what the message names (the flag, or the field it sets) */
    const char *bad_values[][3] = {{"--limit", "lots", "--limit"},
                                   {"--limit", "-3", "workload.trace.limit"},
                                   {"--limit", "5, \"skip\": 3", "--limit"},
                                   {"--time-scale", "0", "workload.trace.time_scale"}};
    for (size_t i = 0; i < G_N_ELEMENTS(bad_values); i++) {
        const char *bad[] = {"replay", trace, bad_values[i][0], bad_values[i][1], NULL};
        CU_ASSERT_EQUAL(ss_test_run_servesim(bad, NULL, &err), 2);
        SS_ASSERT_CONTAINS(err, bad_values[i][2]);
        g_free(err);
    }
    g_free(trace);
}

static void test_list(void)
{
    char *out = NULL;
    const char *a1[] = {"list", "models", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(a1, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "llama-3.1-8b");
    SS_ASSERT_CONTAINS(out, "mixtral-8x7b-v0.1");
    g_free(out);
    const char *a2[] = {"list", "hardware", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(a2, &out, NULL), 0);
    SS_ASSERT_CONTAINS(out, "H100-SXM");
    SS_ASSERT_CONTAINS(out, "RTXPRO6000-SE");
    g_free(out);
    const char *a3[] = {"list", "gpus", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(a3, NULL, NULL), 2);
}

static guint count_lines(const char *text)
{
    guint n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* Every output file: rows per request (with rejected ones), a time series
 * per interval, every inter-token latency. */
static void test_output_files(void)
{
    char *dir = ss_test_tmpdir();
    char *req = g_build_filename(dir, "req.csv", NULL), *ts = g_build_filename(dir, "ts.csv", NULL);
    char *itl = g_build_filename(dir, "itl.csv", NULL), *json = g_build_filename(dir, "o.json", NULL);
    /* constant lengths: 100 in, 20 out; max_model_len 110 rejects none; 60 requests */
    char *scenario = ss_test_write_file(
        "s.json", "{\"engine\": {\"max_model_len\": 2000}, \"workload\": {\"num_requests\": 60, \"arrival\": "
                  "{\"process\": \"constant\", \"rate\": 10}, \"classes\": [{\"name\": \"a,b\", \"share\": 1, "
                  "\"input\": {\"dist\": \"uniform\", \"min\": 100, \"max\": 2500}, \"output\": {\"dist\": "
                  "\"constant\", \"value\": 20}}]}}");
    const char *args[] = {"run", scenario, "-q", "--output-requests", req, "--output-timeseries", ts,
                          "--timeseries-interval", "1", "--output-itl", itl, "--output-json", json, NULL};
    CU_ASSERT_EQUAL_FATAL(ss_test_run_servesim(args, NULL, NULL), 0);
    char *r = read_file(req), *t = read_file(ts), *i = read_file(itl), *j = read_file(json);
    /* a header and one row per request, rejected ones included */
    CU_ASSERT(g_str_has_prefix(r, "id,class,status,arrival_s,input_tokens,output_tokens,cached_tokens,preemptions,"
                                  "queue_ms,ttft_ms,tpot_ms,e2e_ms,itl_max_ms\n"));
    CU_ASSERT_EQUAL(count_lines(r), 61);
    SS_ASSERT_CONTAINS(r, ",\"a,b\",completed,");   /* a class name with a comma is quoted */
    SS_ASSERT_CONTAINS(r, ",rejected_too_long,");    /* prompts over 1980 tokens */
    cJSON *root = cJSON_Parse(j);
    double completed = cJSON_GetObjectItem(root, "completed")->valuedouble;
    double rejected = cJSON_GetObjectItem(root, "rejected")->valuedouble;
    CU_ASSERT_EQUAL(completed + rejected, 60);
    CU_ASSERT(rejected > 0);
    /* one ITL row per token after the first of each completed request */
    CU_ASSERT(g_str_has_prefix(i, "id,token,time_s,itl_ms\n"));
    CU_ASSERT_EQUAL(count_lines(i), 1 + (guint)completed * 19);
    /* one row per simulated second, arrivals summing to 60 */
    CU_ASSERT(g_str_has_prefix(t, "time_s,steps,arrived,completed,preemptions,batch_tokens,running,waiting,"
                                  "kv_blocks_used_max,kv_usage_max\n"));
    guint rows = count_lines(t) - 1;
    CU_ASSERT(rows >= 6 && rows <= 8);
    guint arrived = 0;
    char **lines = g_strsplit(t, "\n", -1);
    for (char **l = lines + 1; *l && **l; l++) {
        char **f = g_strsplit(*l, ",", -1);
        arrived += (guint)g_ascii_strtoull(f[2], NULL, 10);
        g_strfreev(f);
    }
    g_strfreev(lines);
    CU_ASSERT_EQUAL(arrived, 60);
    /* the per-step series has one row per step */
    const char *args2[] = {"run", scenario, "-q", "--output-timeseries", ts, NULL};
    CU_ASSERT_EQUAL_FATAL(ss_test_run_servesim(args2, NULL, NULL), 0);
    g_free(t);
    t = read_file(ts);
    CU_ASSERT_EQUAL(count_lines(t) - 1, (guint)cJSON_GetObjectItem(root, "steps")->valuedouble);
    const char *bad[] = {"run", "--timeseries-interval", "-1", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(bad, NULL, NULL), 2);
    const char *unwritable[] = {"run", "-q", "--num-requests", "5", "--output-json", "/nonexistent-dir/o.json", NULL};
    char *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(unwritable, NULL, &err), 3);
    SS_ASSERT_CONTAINS(err, "/nonexistent-dir/o.json");
    g_free(err);
    cJSON_Delete(root);
    g_free(r);
    g_free(t);
    g_free(i);
    g_free(j);
    g_free(req);
    g_free(ts);
    g_free(itl);
    g_free(json);
    g_free(scenario);
    g_free(dir);
}

static const SsTestCase cases[] = {
    {"every output file", test_output_files},
    {"the default scenario and the JSON schema", test_default_run},
    {"byte-identical output for the same seed", test_byte_identical},
    {"bad input: message and exit code", test_bad_input},
    {"bad trace rows", test_bad_trace},
    {"list models and hardware", test_list},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"cli run", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
