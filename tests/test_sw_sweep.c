/*
 * test_sw_sweep.c: the sweep module as a library: axis expansion (counts,
 * order, zip groups, values applied to the scenario), every error of a
 * sweep file with its path, the sweep id, slices, running points on several
 * threads with the same result, invalid combinations as error rows, the
 * CSV/JSON round trip and merging slices. Workloads are tiny (tens to a few
 * hundred requests per point) so the suite stays fast.
 */
#include <math.h>
#include <string.h>

#include "sw_sweep.h"
#include "ss_error.h"
#include "ss_test.h"

/* A small base: Llama-3.1-8B on one H100, 120 chat requests. */
#define SMALL_BASE                                                                                                 \
    "\"base\": {\"seed\": 3, \"workload\": {\"num_requests\": 120, \"arrival\": {\"process\": \"poisson\", "      \
    "\"rate\": 20}, \"classes\": [{\"name\": \"chat\", \"share\": 1, \"input\": {\"dist\": \"lognormal\", "         \
    "\"mean\": 400, \"stddev\": 300, \"min\": 4, \"max\": 3000}, \"output\": {\"dist\": \"lognormal\", \"mean\": "  \
    "80, \"stddev\": 60, \"min\": 1, \"max\": 500}}]}}"

static SwSweep *parse_ok(const char *text)
{
    GError *error = NULL;
    SwSweep *sw = sw_sweep_parse(text, "sweep.json", ".", &error);
    if (!sw)
        fprintf(stderr, "\n  unexpected error: %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sw);
    return sw;
}

/* The sweep fails to load; the message has every needle. */
static void parse_fails(const char *text, const char *const *needles)
{
    GError *error = NULL;
    SwSweep *sw = sw_sweep_parse(text, "sweep.json", ".", &error);
    CU_ASSERT_PTR_NULL(sw);
    sw_sweep_free(sw);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
    for (const char *const *n = needles; *n; n++)
        SS_ASSERT_CONTAINS(error->message, *n);
    g_error_free(error);
}

/* A 2 x 3 grid and a zip group of 2: 12 points, the first axis slowest. */
static void test_grid_and_zip(void)
{
    SwSweep *sw = parse_ok("{\"name\": \"g\", " SMALL_BASE ", \"axes\": {\"max_num_seqs\": [64, 128], "
                           "\"max_num_batched_tokens\": [2048, 4096, 8192]}, \"zip\": [{\"hardware\": "
                           "[\"H100-SXM\", \"H200-SXM\"], \"tensor_parallel_size\": [1, 2]}]}");
    CU_ASSERT_EQUAL(sw_sweep_num_points(sw), 12);
    CU_ASSERT_EQUAL_FATAL(sw_sweep_num_params(sw), 4);
    CU_ASSERT_STRING_EQUAL(sw_sweep_name(sw), "g");
    const char *names[] = {"max_num_seqs", "max_num_batched_tokens", "hardware", "tensor_parallel_size"};
    for (guint k = 0; k < 4; k++)
        CU_ASSERT_STRING_EQUAL(sw_sweep_param_name(sw, k), names[k]);
    /* every point, in order: mns slowest, then mnbt, then the zip group */
    const char *mns[] = {"64", "128"}, *mnbt[] = {"2048", "4096", "8192"};
    const char *hw[] = {"\"H100-SXM\"", "\"H200-SXM\""}, *tp[] = {"1", "2"};
    for (guint p = 0; p < 12; p++) {
        CU_ASSERT_STRING_EQUAL(sw_sweep_param_value(sw, p, 0), mns[p / 6]);
        CU_ASSERT_STRING_EQUAL(sw_sweep_param_value(sw, p, 1), mnbt[(p / 2) % 3]);
        CU_ASSERT_STRING_EQUAL(sw_sweep_param_value(sw, p, 2), hw[p % 2]);
        CU_ASSERT_STRING_EQUAL(sw_sweep_param_value(sw, p, 3), tp[p % 2]);
    }
    /* the values reach the scenario; the rest is the base */
    GError *error = NULL;
    ScnScenario *s = sw_sweep_point_scenario(sw, 5, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->max_num_seqs, 64);
    CU_ASSERT_EQUAL(s->max_num_batched_tokens, 8192);
    CU_ASSERT_STRING_EQUAL(s->hardware, "H200-SXM");
    CU_ASSERT_EQUAL(s->tensor_parallel_size, 2);
    CU_ASSERT_EQUAL(s->seed, 3);
    CU_ASSERT_EQUAL(s->workload.num_requests, 120);
    CU_ASSERT_STRING_EQUAL(s->model, "llama-3.1-8b");
    scn_scenario_free(s);
    s = sw_sweep_point_scenario(sw, 6, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(s->max_num_seqs, 128);
    CU_ASSERT_EQUAL(s->max_num_batched_tokens, 2048);
    CU_ASSERT_STRING_EQUAL(s->hardware, "H100-SXM");
    CU_ASSERT_EQUAL(s->tensor_parallel_size, 1);
    scn_scenario_free(s);
    sw_sweep_free(sw);
}

/* Dimensions follow the file: a zip written before the axes varies slowest;
 * workload fields and dotted names work; no axes is one point. */
static void test_order_and_fields(void)
{
    SwSweep *sw = parse_ok("{\"zip\": [{\"hardware\": [\"H100-SXM\", \"B200\"], \"engine.tensor_parallel_size\": "
                           "[2, 1]}], \"axes\": {\"rate\": [1.5, 3], \"latency.model\": [\"roofline-v1\"]}}");
    CU_ASSERT_EQUAL(sw_sweep_num_points(sw), 4);
    CU_ASSERT_STRING_EQUAL(sw_sweep_param_name(sw, 1), "engine.tensor_parallel_size");
    CU_ASSERT_STRING_EQUAL(sw_sweep_param_value(sw, 0, 0), "\"H100-SXM\"");
    CU_ASSERT_STRING_EQUAL(sw_sweep_param_value(sw, 1, 0), "\"H100-SXM\"");
    CU_ASSERT_STRING_EQUAL(sw_sweep_param_value(sw, 2, 0), "\"B200\"");
    CU_ASSERT_STRING_EQUAL(sw_sweep_param_value(sw, 1, 2), "3");
    GError *error = NULL;
    ScnScenario *s = sw_sweep_point_scenario(sw, 3, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->hardware, "B200");
    CU_ASSERT_EQUAL(s->tensor_parallel_size, 1);
    CU_ASSERT_DOUBLE_EQUAL(s->workload.arrival.rate, 3.0, 0);
    CU_ASSERT_EQUAL(s->latency.backend, LAT_BACKEND_ROOFLINE_V1);
    scn_scenario_free(s);
    sw_sweep_free(sw);

    sw = parse_ok("{\"name\": \"one\"}");
    CU_ASSERT_EQUAL(sw_sweep_num_points(sw), 1);
    CU_ASSERT_EQUAL(sw_sweep_num_params(sw), 0);
    sw_sweep_free(sw);
    /* a nameless sweep is called after its file */
    sw = parse_ok("{\"axes\": {\"seed\": [1, 2, 3]}}");
    CU_ASSERT_STRING_EQUAL(sw_sweep_name(sw), "sweep");
    CU_ASSERT_EQUAL(sw_sweep_num_points(sw), 3);
    sw_sweep_free(sw);
}

static void test_file_errors(void)
{
    parse_fails("{\"axes\": {\"max_num_seq\": [1, 2]}}",
                (const char *[]){"sweep.json: axes.max_num_seq: unknown scenario field", "did you mean 'max_num_seqs'",
                                 NULL});
    parse_fails("{\"axes\": {\"max_num_seqs\": [64], \"rate\": []}}",
                (const char *[]){"sweep.json: axes.rate: empty list", NULL});
    parse_fails("{\"zip\": [{\"hardware\": [\"H100-SXM\", \"H200-SXM\"], \"tensor_parallel_size\": [1, 2, 4]}]}",
                (const char *[]){"sweep.json: zip[0].tensor_parallel_size: has 3 values but zip[0].hardware has 2",
                                 NULL});
    parse_fails("{\"zip\": [{\"rate\": [1]}, {\"seed\": [1, 2], \"max_num_seqs\": []}]}",
                (const char *[]){"sweep.json: zip[1].max_num_seqs: empty list", NULL});
    parse_fails("{\"axes\": {\"max_num_seqs\": 64}}",
                (const char *[]){"sweep.json: axes.max_num_seqs: expected a list of values, got 64", NULL});
    parse_fails("{\"axes\": {\"max_num_seqs\": [64, -3]}}",
                (const char *[]){"sweep.json: axes.max_num_seqs[1]:", "expected a positive integer, got -3", NULL});
    parse_fails("{\"axes\": {\"max_num_seqs\": [64]}, \"zip\": [{\"engine.max_num_seqs\": [1]}]}",
                (const char *[]){"sweep.json: zip[0].engine.max_num_seqs: the field 'max_num_seqs' is swept twice",
                                 NULL});
    parse_fails("{\"axes\": {\"duration_s\": [10]}}",
                (const char *[]){"axes.duration_s", "output column", "workload.duration_s", NULL});
    parse_fails("{\"axes\": {\"rate\": [1]}, \"zip\": [{}]}",
                (const char *[]){"sweep.json: zip[0]: an empty zip group", NULL});
    parse_fails("{\"axes\": [1, 2]}", (const char *[]){"sweep.json: axes: expected an object", NULL});
    parse_fails("{\"axes\": {\"rate\": [1]}, \"axis\": {}}",
                (const char *[]){"sweep.json: axis: unknown field (did you mean 'axes'?)", NULL});
    parse_fails("{\"base\": {\"engine\": {\"max_num_seqs\": 0}}}",
                (const char *[]){"sweep.json: base: engine.max_num_seqs", NULL});
    parse_fails("{\"base\": \"no-such-scenario.json\"}",
                (const char *[]){"sweep.json: base:", "no-such-scenario.json", NULL});
    parse_fails("{\"base\": 3}", (const char *[]){"sweep.json: base: expected a scenario object or the path", NULL});
    parse_fails("{\"axes\": {\"rate\": [1,]}}", (const char *[]){"sweep.json:1:", "malformed JSON", NULL});
}

/* The id ignores formatting, not content; a base file is part of it. */
static void test_sweep_id(void)
{
    SwSweep *a = parse_ok("{\"axes\": {\"rate\": [1, 2]}}");
    SwSweep *b = parse_ok("{\n  \"axes\" : {\n    \"rate\": [ 1,2 ]\n  }\n}\n");
    SwSweep *c = parse_ok("{\"axes\": {\"rate\": [1, 3]}}");
    CU_ASSERT_EQUAL(strlen(sw_sweep_id(a)), 16);
    CU_ASSERT(strspn(sw_sweep_id(a), "0123456789abcdef") == 16);
    CU_ASSERT_STRING_EQUAL(sw_sweep_id(a), sw_sweep_id(b));
    CU_ASSERT_STRING_NOT_EQUAL(sw_sweep_id(a), sw_sweep_id(c));
    sw_sweep_free(a);
    sw_sweep_free(b);
    sw_sweep_free(c);

    char *dir = ss_test_tmpdir();
    char *base = g_build_filename(dir, "base.json", NULL);
    const char *sweep_text = "{\"base\": \"base.json\", \"axes\": {\"rate\": [1, 2]}}";
    GError *error = NULL;
    CU_ASSERT_FATAL(g_file_set_contents(base, "{\"seed\": 1}", -1, NULL));
    a = sw_sweep_parse(sweep_text, "s.json", dir, &error);
    CU_ASSERT_FATAL(g_file_set_contents(base, "{\"seed\": 2}", -1, NULL));
    b = sw_sweep_parse(sweep_text, "s.json", dir, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_STRING_NOT_EQUAL(sw_sweep_id(a), sw_sweep_id(b));
    ScnScenario *s = sw_sweep_point_scenario(b, 1, &error);
    CU_ASSERT_EQUAL(s->seed, 2);
    CU_ASSERT_DOUBLE_EQUAL(s->workload.arrival.rate, 2.0, 0);
    scn_scenario_free(s);
    sw_sweep_free(a);
    sw_sweep_free(b);
    g_free(base);
    g_free(dir);
}

static void test_shards(void)
{
    SwShard sh;
    GError *error = NULL;
    CU_ASSERT(sw_shard_parse("2/4", &sh, &error));
    CU_ASSERT_EQUAL(sh.index, 2);
    CU_ASSERT_EQUAL(sh.count, 4);
    CU_ASSERT(sw_shard_parse("1/1", &sh, &error));
    const char *bad[] = {"0/4", "5/4", "a/b", "3", "1/0", "", "/3", "2/", "-1/3", "1/3x", "1.5/3"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        CU_ASSERT_FALSE(sw_shard_parse(bad[i], &sh, &error));
        CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_USAGE));
        SS_ASSERT_CONTAINS(error->message, "--shard");
        g_clear_error(&error);
    }
    /* strided and disjoint: each of 10 points in exactly one of 3 slices */
    const guint want[3][4] = {{0, 3, 6, 9}, {1, 4, 7, G_MAXUINT}, {2, 5, 8, G_MAXUINT}};
    for (guint k = 1; k <= 3; k++) {
        SwShard s = {k, 3};
        guint n = 0;
        for (guint p = 0; p < 10; p++) {
            if (sw_shard_contains(&s, p)) {
                CU_ASSERT_EQUAL(p, want[k - 1][n]);
                n++;
            }
        }
        CU_ASSERT_EQUAL(n, k == 1 ? 4 : 3);
    }
    SwShard all = {1, 1};
    CU_ASSERT(sw_shard_contains(&all, 7));
}

static SwSweepTable *run(const SwSweep *sw, ScnCache *cache, guint jobs, guint k, guint n, gboolean dry)
{
    SwSweepRunOptions o = {.jobs = jobs, .shard = {k, n}, .dry_run = dry};
    GError *error = NULL;
    SwSweepTable *t = sw_sweep_run(sw, cache, &o, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}

static const char *cell(const SwSweepTable *t, guint row, const char *col)
{
    int c = sw_sweep_table_find_column(t, col);
    CU_ASSERT_FATAL(c >= 0);
    return sw_sweep_table_cell(t, row, (guint)c);
}

/* 6 points: 70B at TP 1 (does not fit) and at TP 4, and 8B with a token
 * budget below max_num_seqs (invalid); the same rows on 1 and 3 threads,
 * and an ok row equal to running that scenario alone. */
static const char mixed_sweep[] =
    "{\"name\": \"mixed\", " SMALL_BASE ", "
    "\"zip\": [{\"model\": [\"llama-3.1-70b-instruct\", \"llama-3.1-70b-instruct\", \"llama-3.1-8b\"], "
    "\"tensor_parallel_size\": [1, 4, 1], \"max_num_batched_tokens\": [2048, 2048, 32]}], "
    "\"axes\": {\"max_num_seqs\": [64, 128], \"max_model_len\": [8192]}}";

static void test_run_threads_and_errors(void)
{
    SwSweep *sw = parse_ok(mixed_sweep);
    ScnCache *cache = scn_cache_new(ss_test_data_dir());
    SwSweepTable *t1 = run(sw, cache, 1, 0, 0, FALSE);
    SwSweepTable *t3 = run(sw, cache, 3, 0, 0, FALSE);
    CU_ASSERT_EQUAL_FATAL(sw_sweep_table_num_rows(t1), 6);
    char *csv1 = sw_sweep_table_csv(t1), *csv3 = sw_sweep_table_csv(t3);
    char *json1 = sw_sweep_table_json(t1), *json3 = sw_sweep_table_json(t3);
    CU_ASSERT_STRING_EQUAL(csv1, csv3);
    CU_ASSERT_STRING_EQUAL(json1, json3);
    /* columns: point, the axis fields, status, error, metrics, sweep_id, sweep_points */
    const char *first[] = {"point", "model", "tensor_parallel_size", "max_num_batched_tokens", "max_num_seqs",
                           "max_model_len", "status", "error", "arrived"};
    for (guint c = 0; c < G_N_ELEMENTS(first); c++)
        CU_ASSERT_STRING_EQUAL(sw_sweep_table_column(t1, c), first[c]);
    guint nc = sw_sweep_table_num_columns(t1);
    CU_ASSERT_STRING_EQUAL(sw_sweep_table_column(t1, nc - 2), "sweep_id");
    CU_ASSERT_STRING_EQUAL(sw_sweep_table_column(t1, nc - 1), "sweep_points");
    CU_ASSERT(sw_sweep_table_find_column(t1, "ttft_p99_ms") > 0);
    CU_ASSERT(sw_sweep_table_find_column(t1, "queue_mean_ms") > 0);
    CU_ASSERT(sw_sweep_table_find_column(t1, "kv_usage_peak") > 0);
    /* rows: the zip group slowest (it comes first in the file), then max_num_seqs */
    for (guint r = 0; r < 2; r++) {
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "model"), "llama-3.1-70b-instruct");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "tensor_parallel_size"), "1");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "status"), "error");
        SS_ASSERT_CONTAINS(cell(t1, r, "error"), "does not fit");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "arrived"), "");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "ttft_p99_ms"), "");
    }
    CU_ASSERT_STRING_EQUAL(cell(t1, 1, "max_num_seqs"), "128");
    for (guint r = 2; r <= 3; r++) {
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "tensor_parallel_size"), "4");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "status"), "ok");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "error"), "");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "arrived"), "120");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "completed"), "120");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "sweep_points"), "6");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "sweep_id"), sw_sweep_id(sw));
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "latency_backend"), "roofline-v2");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "stopped_at_limit"), "false");
        CU_ASSERT(g_ascii_strtod(cell(t1, r, "ttft_p99_ms"), NULL) > 0);
    }
    /* 8B with 32 batched tokens < max_num_seqs: invalid, an error row */
    for (guint r = 4; r <= 5; r++) {
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "model"), "llama-3.1-8b");
        CU_ASSERT_STRING_EQUAL(cell(t1, r, "status"), "error");
        SS_ASSERT_CONTAINS(cell(t1, r, "error"), "(32) must be >= --max-num-seqs");
    }
    CU_ASSERT_EQUAL(sw_sweep_table_num_errors(t1), 4);
    for (guint r = 0; r < 6; r++)
        CU_ASSERT_EQUAL(sw_sweep_table_point(t1, r), r);

    /* row 3 (70B TP 4, 128 seqs) is exactly what running its scenario alone gives */
    GError *error = NULL;
    ScnScenario *s = sw_sweep_point_scenario(sw, 3, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    SimSummary *sum = scn_run(s, cache, NULL, NULL, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(sum);
    CU_ASSERT_EQUAL(g_ascii_strtod(cell(t1, 3, "ttft_p99_ms"), NULL), sum->all.ttft_ms.p99);
    CU_ASSERT_EQUAL(g_ascii_strtod(cell(t1, 3, "tpot_mean_ms"), NULL), sum->all.tpot_ms.mean);
    CU_ASSERT_EQUAL(g_ascii_strtod(cell(t1, 3, "duration_s"), NULL), sum->duration_s);
    CU_ASSERT_EQUAL(g_ascii_strtod(cell(t1, 3, "steps"), NULL), (double)sum->steps);
    sim_summary_free(sum);
    scn_scenario_free(s);

    g_free(csv1);
    g_free(csv3);
    g_free(json1);
    g_free(json3);
    sw_sweep_table_free(t1);
    sw_sweep_table_free(t3);
    scn_cache_free(cache);
    sw_sweep_free(sw);
}

/* A dry run builds each point: TP 1 of a 70B model is an error row. */
static void test_dry_run(void)
{
    SwSweep *sw = parse_ok(mixed_sweep);
    ScnCache *cache = scn_cache_new(ss_test_data_dir());
    SwSweepTable *t = run(sw, cache, 2, 2, 2, TRUE);
    CU_ASSERT_EQUAL_FATAL(sw_sweep_table_num_rows(t), 3); /* points 1, 3, 5 */
    CU_ASSERT_EQUAL(sw_sweep_table_point(t, 0), 1);
    CU_ASSERT_EQUAL(sw_sweep_table_point(t, 2), 5);
    SS_ASSERT_CONTAINS(cell(t, 0, "error"), "does not fit");
    SS_ASSERT_CONTAINS(cell(t, 2, "error"), "must be >= --max-num-seqs");
    CU_ASSERT_STRING_EQUAL(cell(t, 1, "status"), "ok");
    CU_ASSERT(g_ascii_strtoull(cell(t, 1, "num_gpu_blocks"), NULL, 10) > 1000);
    CU_ASSERT_STRING_EQUAL(cell(t, 1, "latency_backend"), "roofline-v2");
    CU_ASSERT_EQUAL(sw_sweep_table_find_column(t, "ttft_p99_ms"), -1);
    sw_sweep_table_free(t);
    scn_cache_free(cache);
    sw_sweep_free(sw);
}

static char *write_tmp(const char *dir, const char *name, const char *text)
{
    char *path = g_build_filename(dir, name, NULL);
    CU_ASSERT_FATAL(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* Cells with commas, quotes, line ends, edge blanks and JSON objects survive
 * writing and reading (CSV with libcsv, JSON with cJSON) byte for byte; and
 * slices merge, in any order, into the whole. */
static void test_round_trip_and_merge(void)
{
    SwSweep *sw = parse_ok(
        "{" SMALL_BASE ", \"axes\": {\"name\": [\"a,b\", \"say \\\"hi\\\"\", \" edge \", \"two\\nlines\", \"plain\"], "
        "\"workload\": [{\"num_requests\": 30, \"arrival\": {\"process\": \"poisson\", \"rate\": 5}, \"classes\": "
        "[{\"name\": \"c\", \"share\": 1, \"input\": {\"dist\": \"constant\", \"value\": 100}, \"output\": "
        "{\"dist\": \"constant\", \"value\": 10}}]}]}}");
    CU_ASSERT_EQUAL_FATAL(sw_sweep_num_points(sw), 5);
    ScnCache *cache = scn_cache_new(ss_test_data_dir());
    SwSweepTable *whole = run(sw, cache, 2, 0, 0, FALSE);
    CU_ASSERT_STRING_EQUAL(cell(whole, 1, "name"), "say \"hi\"");
    CU_ASSERT_STRING_EQUAL(cell(whole, 0, "completed"), "30");
    SS_ASSERT_CONTAINS(cell(whole, 0, "workload"), "{\"num_requests\":30,");
    char *dir = ss_test_tmpdir();
    const char *ext[] = {"csv", "json"};
    for (int f = 0; f < 2; f++) {
        gboolean json = f == 1;
        char *text = json ? sw_sweep_table_json(whole) : sw_sweep_table_csv(whole);
        char *name = g_strdup_printf("whole.%s", ext[f]);
        char *path = write_tmp(dir, name, text);
        GError *error = NULL;
        SwSweepTable *back = sw_sweep_table_read(path, &error);
        if (!back)
            fprintf(stderr, "\n  %s\n", error->message);
        CU_ASSERT_PTR_NOT_NULL_FATAL(back);
        char *again = json ? sw_sweep_table_json(back) : sw_sweep_table_csv(back);
        CU_ASSERT_STRING_EQUAL(again, text);
        CU_ASSERT_STRING_EQUAL(cell(back, 3, "name"), "two\nlines");
        CU_ASSERT_STRING_EQUAL(cell(back, 2, "name"), " edge ");

        /* three slices, merged in the order 3, 1, 2 */
        SwSweepTable *parts[3];
        char *paths[3];
        for (guint k = 1; k <= 3; k++) {
            SwSweepTable *slice = run(sw, cache, 1, k, 3, FALSE);
            char *st = json ? sw_sweep_table_json(slice) : sw_sweep_table_csv(slice);
            char *pn = g_strdup_printf("part%u.%s", k, ext[f]);
            paths[k - 1] = write_tmp(dir, pn, st);
            parts[k % 3] = sw_sweep_table_read(paths[k - 1], &error);
            CU_ASSERT_PTR_NOT_NULL_FATAL(parts[k % 3]);
            if (json)
                SS_ASSERT_CONTAINS(st, "\"shard\":");
            g_free(pn);
            g_free(st);
            sw_sweep_table_free(slice);
        }
        const char *origins[] = {paths[2], paths[0], paths[1]};
        SwSweepTable *merged = sw_sweep_table_merge(parts, origins, 3, &error);
        CU_ASSERT_PTR_NOT_NULL_FATAL(merged);
        char *mtext = json ? sw_sweep_table_json(merged) : sw_sweep_table_csv(merged);
        CU_ASSERT_STRING_EQUAL(mtext, text);
        g_free(mtext);
        sw_sweep_table_free(merged);

        /* a missing slice, a duplicate, the wrong sweep */
        merged = sw_sweep_table_merge(parts, origins, 2, &error);
        CU_ASSERT_PTR_NULL(merged);
        CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
        SS_ASSERT_CONTAINS(error->message, "missing");
        SS_ASSERT_CONTAINS(error->message, "1, 4 (2 points)");
        g_clear_error(&error);
        SwSweepTable *dup[] = {parts[0], parts[1], parts[2], parts[1]};
        const char *dup_origins[] = {"a", "b", "c", "d"};
        merged = sw_sweep_table_merge(dup, dup_origins, 4, &error);
        CU_ASSERT_PTR_NULL(merged);
        SS_ASSERT_CONTAINS(error ? error->message : NULL, "point 0 in b and in d");
        g_clear_error(&error);

        for (int k = 0; k < 3; k++) {
            sw_sweep_table_free(parts[k]);
            g_free(paths[k]);
        }
        sw_sweep_table_free(back);
        g_free(again);
        g_free(path);
        g_free(name);
        g_free(text);
    }
    sw_sweep_table_free(whole);
    scn_cache_free(cache);
    sw_sweep_free(sw);
    g_free(dir);
}

/* Reading rejects what is not a sweep's output, naming the file and row. */
static void test_read_errors(void)
{
    char *dir = ss_test_tmpdir();
    struct {
        const char *name, *text, *needle;
    } cases[] = {
        {"a.csv", "x,y\n1,2\n", "a.csv: no column 'point'"},
        {"b.csv", "point,status,error,sweep_id,sweep_points\n0,ok,,abc,2\n1,ok\n", "b.csv: row 2: 2 fields"},
        {"c.csv", "point,status,error,sweep_id,sweep_points\n2,ok,,abc,2\n", "c.csv: row 1: point: expected an integer from 0 to 1"},
        {"d.csv", "point,status,error,sweep_id,sweep_points\n0,ok,,abc,2\n1,ok,,abd,2\n", "d.csv: row 2: sweep abd"},
        {"e.csv", "point,status,error,sweep_id,sweep_points\n0,\"ok,,abc,2\n", "e.csv: row 1: malformed CSV"},
        {"f.csv", "", "f.csv: empty file"},
        {"g.json", "{\"schema\": \"other\"}", "g.json: schema: expected \"servesim.sweep/1\""},
        {"h.json", "{\"schema\": \"servesim.sweep/1\", \"name\": \"n\", \"sweep_id\": \"abc\", \"sweep_points\": 2, "
                   "\"axes\": [], \"rows\": [{\"point\": 0, \"status\": \"ok\", \"error\": null, \"sweep_id\": "
                   "\"abc\", \"sweep_points\": 2}, {\"point\": 1, \"status\": \"ok\"}]}",
         "h.json: rows[1]: 2 fields, but rows[0] has 5"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *path = write_tmp(dir, cases[i].name, cases[i].text);
        GError *error = NULL;
        SwSweepTable *t = sw_sweep_table_read(path, &error);
        CU_ASSERT_PTR_NULL(t);
        sw_sweep_table_free(t);
        CU_ASSERT(g_error_matches(error, SS_ERROR, SS_ERROR_INPUT));
        SS_ASSERT_CONTAINS(error ? error->message : NULL, cases[i].needle);
        g_clear_error(&error);
        g_free(path);
    }
    g_free(dir);
}

/* The shipped example sweeps load; the 70B grid's TP 1 points are errors. */
static void test_example_sweeps(void)
{
    struct {
        const char *file;
        guint points;
    } ex[] = {{"sweep-llama70b-h100.json", 24}, {"sweep-rate-default.json", 8}, {"sweep-gpus-70b.json", 8}};
    ScnCache *cache = scn_cache_new(ss_test_data_dir());
    for (size_t i = 0; i < G_N_ELEMENTS(ex); i++) {
        char *path = g_build_filename(ss_test_source_dir(), "scenarios", ex[i].file, NULL);
        GError *error = NULL;
        SwSweep *sw = sw_sweep_load(path, &error);
        if (!sw)
            fprintf(stderr, "\n  %s\n", error->message);
        CU_ASSERT_PTR_NOT_NULL_FATAL(sw);
        CU_ASSERT_EQUAL(sw_sweep_num_points(sw), ex[i].points);
        SwSweepTable *t = run(sw, cache, 2, 0, 0, TRUE);
        guint errors = 0;
        for (guint r = 0; r < sw_sweep_table_num_rows(t); r++) {
            if (strcmp(cell(t, r, "status"), "error") == 0) {
                errors++;
                if (i == 0) {
                    CU_ASSERT_STRING_EQUAL(cell(t, r, "tensor_parallel_size"), "1");
                    SS_ASSERT_CONTAINS(cell(t, r, "error"), "does not fit");
                }
            }
        }
        CU_ASSERT_EQUAL(errors, i == 0 ? 6 : 0);
        sw_sweep_table_free(t);
        sw_sweep_free(sw);
        g_free(path);
    }
    scn_cache_free(cache);
}

static const SsTestCase expansion_cases[] = {
    {"2x3 grid and a zip of 2: 12 points in order, values applied", test_grid_and_zip},
    {"file order, dotted and workload fields, no axes", test_order_and_fields},
    {"sweep file errors name the file and path", test_file_errors},
    {"sweep id: canonical content, base file included", test_sweep_id},
    {"shards: parsing, strided and disjoint", test_shards},
    {NULL, NULL},
};

static const SsTestCase run_cases[] = {
    {"1 or 3 threads give the same rows; invalid combinations are error rows", test_run_threads_and_errors},
    {"dry run of a slice", test_dry_run},
    {"CSV and JSON round trip; merge in any order; merge errors", test_round_trip_and_merge},
    {"reading rejects foreign files", test_read_errors},
    {"example sweeps load and check", test_example_sweeps},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    const SsTestSuite suites[] = {
        {"sweep expansion", expansion_cases},
        {"sweep runs and tables", run_cases},
        {NULL, NULL},
    };
    return ss_test_main(argc, argv, suites);
}
