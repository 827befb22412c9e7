/*
 * test_no_silent_drops.c: nothing given is silently dropped or misread. A
 * NUL byte inside a CSV number was read as a shorter number, and one inside
 * a JSON file or string cut it short; --rate with --time-scale on replay
 * dropped the time scale without a word; validate accepted a
 * measured.num_requests that disagreed with the CSV rows and printed
 * "sim 0.00, -100%" for a point with no rows or with every request
 * rejected, and averaged it into the MAPE.
 */
#include <cjson/cJSON.h>
#include <math.h>

#include "scn.h"
#include "scn_json.h"
#include "ss_error.h"
#include "ss_test.h"
#include "val_validate.h"
#include "wl.h"

static char *write_bytes(const char *name, const char *bytes, gsize len)
{
    char *dir = ss_test_tmpdir();
    char *path = g_build_filename(dir, name, NULL);
    g_free(dir);
    CU_ASSERT_FATAL(g_file_set_contents(path, bytes, (gssize)len, NULL));
    return path;
}

static void test_nul_bytes(void)
{
    /* "2\0" + "00" in the input_tokens field was read as 2 */
    static const char trace[] = "arrival_time_s,input_tokens,output_tokens\n0.0,100,10\n0.5,2\00000,20\n";
    char *path = write_bytes("t.csv", trace, sizeof trace - 1);
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, NULL, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    WlRequest r;
    CU_ASSERT_EQUAL(wl_source_next(src, &r, &error), 1);
    CU_ASSERT_EQUAL(wl_source_next(src, &r, &error), -1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "t.csv:3:2: expected text, got a NUL byte in the field");
    g_clear_error(&error);
    wl_source_free(src);
    /* with skip_bad_rows the row is skipped and counted, not misread */
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.skip_bad_rows = TRUE;
    src = wl_source_new_trace(path, &o, &error);
    int n = 0;
    while (wl_source_next(src, &r, &error) > 0)
        n++;
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(wl_source_rows_skipped(src), 1);
    wl_source_free(src);
    g_free(path);

    /* a scenario file with a NUL byte: everything after it was ignored */
    static const char scenario[] = "{\"seed\": 3}\n\0{\"engine\": {\"max_num_seqs\": 0}}\n";
    path = write_bytes("s.json", scenario, sizeof scenario - 1);
    ScnScenario *s = scn_scenario_load(path, &error);
    CU_ASSERT_PTR_NULL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "s.json:2:1: expected text, got a NUL byte");
    g_clear_error(&error);
    g_free(path);

    /* a \u0000 escape cut the string short: "a\u0000b" was "a" */
    s = scn_scenario_parse("{\"name\": \"a\\u0000b\"}", "s.json", ".", &error);
    CU_ASSERT_PTR_NULL(s);
    SS_ASSERT_CONTAINS(error->message, "s.json:1:12: expected a string without NUL characters");
    g_clear_error(&error);
    /* an escaped backslash followed by u0000 is just text */
    s = scn_scenario_parse("{\"name\": \"a\\\\u0000b\"}", "s.json", ".", &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s->name, "a\\u0000b");
    scn_scenario_free(s);
    /* trailing garbage after the document */
    s = scn_scenario_parse("{\"seed\": 3} {\"seed\": 4}", "s.json", ".", &error);
    CU_ASSERT_PTR_NULL(s);
    SS_ASSERT_CONTAINS(error->message, "s.json:1:13: malformed JSON near '{\"seed\": 4}'");
    g_clear_error(&error);
}

static void test_conflicting_flags(void)
{
    char *trace = ss_test_write_file("t.csv", "arrival_time_s,input_tokens,output_tokens\n0,10,2\n1,10,2\n2,10,2\n");
    const char *both[] = {"replay", trace, "--rate", "5", "--time-scale", "3", NULL};
    char *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(both, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--rate and --time-scale contradict each other");
    g_free(err);
    const char *limits[] = {"replay", trace, "--limit", "2", "--num-requests", "3", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(limits, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--limit and --num-requests both set how many requests are replayed");
    g_free(err);
    /* an interval without a series to apply it to */
    const char *interval[] = {"run", "--timeseries-interval", "1", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(interval, NULL, &err), 2);
    SS_ASSERT_CONTAINS(err, "--timeseries-interval needs --output-timeseries");
    g_free(err);
    /* each alone is fine */
    const char *rate[] = {"replay", trace, "--rate", "5", "--quiet", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(rate, NULL, NULL), 0);
    const char *scale[] = {"replay", trace, "--time-scale", "3", "--quiet", NULL};
    CU_ASSERT_EQUAL(ss_test_run_servesim(scale, NULL, NULL), 0);
    g_free(trace);
}

/* An experiment folder with one point per CSV text (each "requests" file
 * its own), H100 + Llama-2-7B, max_model_len `mml`. Returns the folder. */
static char *experiment(guint mml, const char *const *csvs, const int *num_requests, guint n)
{
    char *dir = ss_test_tmpdir();
    GString *points = g_string_new(NULL);
    for (guint i = 0; i < n; i++) {
        char *name = g_strdup_printf("p%u.csv", i);
        char *path = g_build_filename(dir, name, NULL);
        CU_ASSERT_FATAL(g_file_set_contents(path, csvs[i], -1, NULL));
        char *count = num_requests[i] >= 0 ? g_strdup_printf(", \"num_requests\": %d", num_requests[i]) : g_strdup("");
        g_string_append_printf(points,
                               "%s{\"name\": \"p%u\", \"requests\": \"%s\", \"measured\": {\"ttft_ms\": {\"mean\": 50},"
                               " \"e2e_ms\": {\"mean\": 300}%s}}",
                               i ? ", " : "", i, name, count);
        g_free(count);
        g_free(path);
        g_free(name);
    }
    char *json = g_strdup_printf(
        "{\"name\": \"e\", \"hardware\": \"H100-SXM\", \"model\": \"llama-2-7b-hf\","
        " \"engine\": {\"vllm_version\": \"0.11\", \"max_num_seqs\": 64, \"max_num_batched_tokens\": 2048,"
        " \"max_model_len\": %u, \"num_gpu_blocks\": 4000}, \"points\": [%s]}",
        mml, points->str);
    char *path = g_build_filename(dir, "experiment.json", NULL);
    CU_ASSERT_FATAL(g_file_set_contents(path, json, -1, NULL));
    g_free(path);
    g_free(json);
    g_string_free(points, TRUE);
    return dir;
}

#define CSV_HEADER "arrival_time_s,input_tokens,output_tokens,ttft_s,e2e_s\n"

static void test_validate_counts_and_exclusions(void)
{
    g_autoptr(ScnCache) cache = scn_cache_new(ss_test_data_dir());
    LatParams lat;
    lat_params_default(&lat);
    GError *error = NULL;

    /* measured.num_requests that disagrees with the rows: an error */
    const char *three[] = {CSV_HEADER "0,100,10,0.05,0.3\n0.5,100,10,0.05,0.3\n1,100,10,0.05,0.3\n"};
    const int five[] = {5};
    char *dir = experiment(4096, three, five, 1);
    ValExperiment *e = val_experiment_load(dir, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT(!val_experiment_simulate(e, cache, &lat, &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_EQUAL(error->code, SS_ERROR_INPUT);
    SS_ASSERT_CONTAINS(error->message, "points[0].measured.num_requests: expected the 3 requests of");
    g_clear_error(&error);
    val_experiment_free(e);
    g_free(dir);

    /* four points: fine; no rows; every request rejected; some rejected.
     * max_model_len 1000 rejects the 2000-token prompts. */
    const char *csvs[] = {
        CSV_HEADER "0,100,10,0.05,0.3\n0.5,100,10,0.05,0.3\n",
        CSV_HEADER,
        CSV_HEADER "0,2000,10,0.05,0.3\n0.5,2000,10,0.05,0.3\n",
        CSV_HEADER "0,100,10,0.05,0.3\n0.5,2000,10,0.05,0.3\n",
    };
    const int counts[] = {2, 0, -1, -1};
    dir = experiment(1000, csvs, counts, 4);
    e = val_experiment_load(dir, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_FATAL(val_experiment_simulate(e, cache, &lat, &error));
    const ValPoint *p[4];
    for (int i = 0; i < 4; i++)
        p[i] = g_ptr_array_index(e->points, i);
    CU_ASSERT_PTR_NULL(p[0]->excluded);
    CU_ASSERT(!isnan(val_point_error(p[0], VAL_TTFT_MEAN)));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[1]->excluded);
    SS_ASSERT_CONTAINS(p[1]->excluded, "has no request rows");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[2]->excluded);
    SS_ASSERT_CONTAINS(p[2]->excluded, "no request completed in the simulation (2 rejected)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[3]->excluded);
    SS_ASSERT_CONTAINS(p[3]->excluded, "1 of 2 requests rejected");
    for (int i = 1; i < 4; i++)
        CU_ASSERT(isnan(val_point_error(p[i], VAL_TTFT_MEAN))); /* not -100% */
    ValExperiment *arr[1] = {e};
    CU_ASSERT_EQUAL(val_num_excluded(arr, 1), 3);
    double mape[VAL_NUM_METRICS];
    val_mape(arr, 1, mape);
    CU_ASSERT_DOUBLE_EQUAL(mape[VAL_TTFT_MEAN], fabs(val_point_error(p[0], VAL_TTFT_MEAN)), 1e-9);
    /* the JSON says why */
    char *json = val_validate_json(arr, 1, "test");
    SS_ASSERT_CONTAINS(json, "\"excluded_from_mape\":\t\"no request completed");
    g_free(json);
    val_experiment_free(e);

    /* the command warns per point and notes it under the table */
    const char *args[] = {"validate", dir, NULL};
    char *out = NULL, *err = NULL;
    CU_ASSERT_EQUAL(ss_test_run_servesim(args, &out, &err), 0);
    SS_ASSERT_CONTAINS(err, "warning: e, point p1: ");
    SS_ASSERT_CONTAINS(err, "has no request rows; left out of the MAPE");
    SS_ASSERT_CONTAINS(err, "warning: e, point p2: no request completed");
    SS_ASSERT_CONTAINS(err, "warning: e, point p3: 1 of 2 requests rejected");
    SS_ASSERT_CONTAINS(out, "note: p2 left out of the MAPE");
    CU_ASSERT_PTR_NULL(strstr(out, "-100.0%"));
    g_free(out);
    g_free(err);
    g_free(dir);
}

static const SsTestCase cases[] = {
    {"NUL bytes and trailing garbage are errors", test_nul_bytes},
    {"conflicting flags are errors", test_conflicting_flags},
    {"validate: counts checked, empty or rejected points left out with a note", test_validate_counts_and_exclusions},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"no silent drops", cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
