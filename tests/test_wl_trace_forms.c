/*
 * test_wl_trace_forms.c: traces as people have them: arrival times in epoch
 * seconds, milliseconds, micro- and nanoseconds or ISO-8601 (rebased to the
 * first request), relative milliseconds, renamed columns (a column mapping),
 * unsorted rows (an error that names the fix, or sorted with `sort`), and
 * the result files of `vllm bench serve` (per-request and aggregate-only).
 */
#include <math.h>

#include "ss_test.h"
#include "wl.h"

static GArray *drain(WlSource *src)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(WlRequest));
    GError *error = NULL;
    WlRequest r;
    int got;
    while ((got = wl_source_next(src, &r, &error)) == 1)
        g_array_append_val(out, r);
    if (got < 0)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_EQUAL(got, 0);
    g_clear_error(&error);
    return out;
}

/* The requests of a trace text, or NULL (and *message) when it fails to open. */
static GArray *read_text(const char *name, const char *text, const WlTraceOptions *o, char **message,
                         char **describe)
{
    char *path = ss_test_write_file(name, text);
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, o, &error);
    g_free(path);
    if (!src) {
        if (message)
            *message = g_strdup(error->message);
        else
            fprintf(stderr, "\n  %s\n", error->message);
        g_clear_error(&error);
        return NULL;
    }
    GArray *r = drain(src);
    if (describe)
        *describe = g_strdup(wl_source_describe(src));
    wl_source_free(src);
    return r;
}

/* The error of the first failing request (the source opens). */
static char *first_error(const char *text, const WlTraceOptions *o)
{
    char *path = ss_test_write_file("t.csv", text);
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, o, &error);
    g_free(path);
    if (src) {
        WlRequest r;
        while (wl_source_next(src, &r, &error) == 1)
            ;
        wl_source_free(src);
    }
    char *m = error ? g_strdup(error->message) : NULL;
    g_clear_error(&error);
    return m;
}

#define REQ(a, i) (&g_array_index((a), WlRequest, (i)))

static void test_epoch_units(void)
{
    /* the same three arrivals (0, 0.25 s, 1.5 s after the first) in each unit */
    static const struct {
        const char *first, *second, *third, *form;
    } forms[] = {
        {"1700000000", "1700000000.25", "1700000001.5", "epoch-s"},
        {"1700000000000", "1700000000250", "1700000001500", "epoch-ms"},
        {"1700000000000000", "1700000000250000", "1700000001500000", "epoch-us"},
        {"1700000000000000000", "1700000000250000000", "1700000001500000000", "epoch-ns"},
        {"2023-11-14T22:13:20Z", "2023-11-14T22:13:20.25Z", "2023-11-14 23:13:21.5+01:00", "iso8601"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(forms); i++) {
        char *text = g_strdup_printf("arrival_time_s,input_tokens,output_tokens\n%s,10,5\n%s,20,6\n%s,30,7\n",
                                     forms[i].first, forms[i].second, forms[i].third);
        char *desc = NULL;
        GArray *r = read_text("t.csv", text, NULL, NULL, &desc);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(r->len, 3);
        CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 0);
        CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 250000000);   /* exact: no floating point */
        CU_ASSERT_EQUAL(REQ(r, 2)->arrival, 1500000000);
        CU_ASSERT_EQUAL(REQ(r, 2)->input_tokens, 30);
        SS_ASSERT_CONTAINS(desc, forms[i].form);
        SS_ASSERT_CONTAINS(desc, "times from the first request");
        g_array_free(r, TRUE);
        g_free(desc);
        g_free(text);
    }
    /* relative seconds keep their origin, as before */
    GArray *r = read_text("t.csv", "arrival_time_s,input_tokens,output_tokens\n5,10,5\n6.5,10,5\n", NULL, NULL, NULL);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 5000000000);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 6500000000);
    g_array_free(r, TRUE);
    /* a given form: relative milliseconds */
    WlTraceOptions o;
    wl_trace_options_init(&o);
    CU_ASSERT(wl_time_format_from_name("ms", &o.time_format));
    r = read_text("t.csv", "arrival_time_s,input_tokens,output_tokens\n100,10,5\n350,10,5\n", &o, NULL, NULL);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 100000000);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 350000000);
    g_array_free(r, TRUE);
    /* more digits than nanoseconds round half up */
    r = read_text("t.csv", "arrival_time_s,input_tokens,output_tokens\n1700000000,1,1\n1700000000.0000000015,1,1\n",
                  NULL, NULL, NULL);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 2);
    g_array_free(r, TRUE);
    /* the names */
    WlTimeFormat f;
    CU_ASSERT(wl_time_format_from_name("EPOCH-MS", &f) && f == WL_TIME_EPOCH_MS);
    CU_ASSERT(wl_time_format_from_name("iso-8601", &f) && f == WL_TIME_ISO8601);
    CU_ASSERT_FALSE(wl_time_format_from_name("fortnights", &f));
    CU_ASSERT_STRING_EQUAL(wl_time_format_name(WL_TIME_EPOCH_US), "epoch-us");
}

/* The case that once aborted: epoch seconds, a target rate and a limit. */
static void test_epoch_rate_limit(void)
{
    GString *t = g_string_new("arrival_time_s,input_tokens,output_tokens\n");
    for (int i = 0; i < 200; i++)
        g_string_append_printf(t, "%.3f,%d,%d\n", 1714000000.0 + 0.37 * i + 0.001 * (i % 7), 100 + i, 10 + i % 50);
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.rate = 0.5;
    o.limit = 50;
    GArray *r = read_text("epoch.csv", t->str, &o, NULL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->len, 50);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 0);
    /* 50 requests at 0.5 req/s: the last arrives 49 / 0.5 = 98 s after the first */
    CU_ASSERT(llabs((long long)REQ(r, 49)->arrival - 98000000000LL) <= 1);
    for (guint i = 1; i < r->len; i++)
        CU_ASSERT(REQ(r, i)->arrival >= REQ(r, i - 1)->arrival);
    g_array_free(r, TRUE);
    g_string_free(t, TRUE);
}

static void test_mixed_and_bad_times(void)
{
    char *m = first_error("arrival_time_s,input_tokens,output_tokens\n1700000000,1,1\n2023-11-14 22:13:21,1,1\n",
                          NULL);
    SS_ASSERT_CONTAINS(m, "t.csv:3:1: column 'arrival_time_s': expected Unix epoch seconds like '1700000000.25' "
                          "(epoch-s, the form of line 2), got '2023-11-14 22:13:21'");
    g_free(m);
    m = first_error("arrival_time_s,input_tokens,output_tokens\nyesterday,1,1\n", NULL);
    SS_ASSERT_CONTAINS(m, "t.csv:2:1: column 'arrival_time_s': expected a time (seconds, Unix epoch seconds or "
                          "milliseconds, or ISO-8601), got 'yesterday'");
    g_free(m);
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.time_format = WL_TIME_ISO8601;
    m = first_error("arrival_time_s,input_tokens,output_tokens\n1700000000,1,1\n", &o);
    SS_ASSERT_CONTAINS(m, "expected a timestamp like '2023-11-16 18:15:46.6805900', got '1700000000'");
    g_free(m);
}

static void test_column_mapping(void)
{
    WlTraceOptions o;
    wl_trace_options_init(&o);
    GError *error = NULL;
    CU_ASSERT_FATAL(wl_trace_columns_parse(" arrival = timestamp , input=prompt_len,output=completion_len,class=tier",
                                           &o.columns, &error));
    char *f = wl_trace_columns_format(&o.columns);
    CU_ASSERT_STRING_EQUAL(f, "arrival=timestamp,input=prompt_len,output=completion_len,class=tier");
    g_free(f);
    char *desc = NULL;
    GArray *r = read_text("m.csv", "user,timestamp,prompt_len,completion_len,tier\n"
                                   "a,1700000000000,100,10,gold\nb,1700000000500,200,20,free\n",
                          &o, NULL, &desc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->len, 2);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 500000000);
    CU_ASSERT_EQUAL(REQ(r, 1)->input_tokens, 200);
    CU_ASSERT_EQUAL(REQ(r, 1)->output_tokens, 20);
    CU_ASSERT_EQUAL(REQ(r, 1)->class_id, 1);
    SS_ASSERT_CONTAINS(desc, "columns arrival=timestamp,input=prompt_len,output=completion_len,class=tier");
    SS_ASSERT_CONTAINS(desc, "epoch-ms");
    g_free(desc);
    g_array_free(r, TRUE);
    /* a mapped column's errors use its own name */
    char *m = NULL;
    wl_trace_options_init(&o);
    CU_ASSERT(wl_trace_columns_parse("arrival=ts,input=p,output=c", &o.columns, NULL));
    char *e = first_error("ts,p,c\n0,10,5\n1,-3,5\n", &o);
    SS_ASSERT_CONTAINS(e, "t.csv:3:2: column 'p': expected a positive integer, got '-3'");
    g_free(e);
    /* a mapping naming a column the file lacks */
    CU_ASSERT_PTR_NULL(read_text("m.csv", "ts,prompt,c\n0,1,1\n", &o, &m, NULL));
    SS_ASSERT_CONTAINS(m, "m.csv:1: column mapping arrival=ts,input=p,output=c: expected a column 'p' (input), got "
                          "none in 'ts,prompt,c'");
    g_free(m);
    /* renaming only the arrival of an otherwise servesim header */
    wl_trace_options_init(&o);
    CU_ASSERT(wl_trace_columns_parse("arrival=when", &o.columns, NULL));
    r = read_text("m.csv", "when,input_tokens,output_tokens\n0.5,3,4\n", &o, NULL, NULL);
    CU_ASSERT_EQUAL(r->len, 1);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 500000000);
    g_array_free(r, TRUE);
    /* the mapping text */
    static const struct {
        const char *text, *message;
    } bad[] = {
        {"arrival", "column mapping 'arrival': expected ROLE=COLUMN (e.g. arrival=timestamp), got 'arrival'"},
        {"start=ts", "column mapping 'start=ts': unknown role 'start' (expected arrival, input, output, "
                     "prefix_group, shared_prefix_tokens, class, session_id, session_prefix_tokens, priority or lora)"},
        {"arrival=a,arrival=b", "column mapping 'arrival=a,arrival=b': arrival is given twice"},
        {"input=", "column mapping 'input=': input: expected a column name of 1 to 63 bytes, got ''"},
        {",", "column mapping ',': expected ROLE=COLUMN pairs"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        WlTraceColumns c;
        CU_ASSERT_FALSE(wl_trace_columns_parse(bad[i].text, &c, &error));
        SS_ASSERT_CONTAINS(error ? error->message : NULL, bad[i].message);
        g_clear_error(&error);
    }
}

static void test_sort(void)
{
    const char *text = "arrival_time_s,input_tokens,output_tokens,class\n"
                       "3,30,1,c\n1,10,1,a\n2,20,1,b\n1,11,1,d\n0.5,5,1,e\n";
    char *m = first_error(text, NULL);
    SS_ASSERT_CONTAINS(m, "t.csv:3:1: column 'arrival_time_s': expected a time at or after '3' (line 2): rows must be "
                          "in time order (or sorted: replay --sort, \"sort\": true in a scenario), got '1'");
    g_free(m);
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.sort = TRUE;
    char *desc = NULL;
    WlSource *src = NULL;
    char *path = ss_test_write_file("u.csv", text);
    src = wl_source_new_trace(path, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    GArray *r = drain(src);
    desc = g_strdup(wl_source_describe(src));
    CU_ASSERT_EQUAL(r->len, 5);
    static const guint32 order[] = {5, 10, 11, 20, 30}; /* ties (1 s) in file order */
    for (guint i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(REQ(r, i)->input_tokens, order[i]);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 500000000); /* relative times keep their origin */
    /* classes are named in the order requests are yielded */
    CU_ASSERT_STRING_EQUAL(wl_source_class_name(src, REQ(r, 0)->class_id), "e");
    CU_ASSERT_EQUAL(REQ(r, 0)->class_id, 0);
    SS_ASSERT_CONTAINS(desc, "sorted by time");
    wl_source_free(src);
    g_array_free(r, TRUE);
    g_free(desc);
    /* skip and limit apply to the sorted order; a rate to what is kept */
    o.skip = 1;
    o.limit = 3;
    o.rate = 2;
    src = wl_source_new_trace(path, &o, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    r = drain(src);
    CU_ASSERT_EQUAL(r->len, 3);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 10);
    CU_ASSERT_EQUAL(REQ(r, 2)->input_tokens, 20);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 0);               /* skip rebases */
    CU_ASSERT_EQUAL(REQ(r, 2)->arrival, 1000000000);      /* 2 gaps at 2 req/s */
    wl_source_free(src);
    g_array_free(r, TRUE);
    g_free(path);
    /* on a sorted file, sorting changes nothing */
    const char *sorted = "arrival_time_s,input_tokens,output_tokens\n0.1,1,1\n0.30000001,2,2\n7.25,3,3\n";
    wl_trace_options_init(&o);
    GArray *a = read_text("s.csv", sorted, &o, NULL, NULL);
    o.sort = TRUE;
    GArray *b = read_text("s.csv", sorted, &o, NULL, NULL);
    CU_ASSERT_EQUAL(a->len, b->len);
    for (guint i = 0; i < a->len && i < b->len; i++)
        CU_ASSERT_EQUAL(REQ(a, i)->arrival, REQ(b, i)->arrival);
    g_array_free(a, TRUE);
    g_array_free(b, TRUE);
}

/* Sessions through a mapping and out of order: sorted, a session's turns
 * follow in time order, and a bad prefix is reported on its own line. */
static void test_sessions_sorted_and_mapped(void)
{
    WlTraceOptions o;
    wl_trace_options_init(&o);
    CU_ASSERT_FATAL(wl_trace_columns_parse("arrival=t,input=in,output=out,session_id=conv,"
                                           "session_prefix_tokens=ctx", &o.columns, NULL));
    o.sort = TRUE;
    /* conv a: turns at 0, 10 and 20 s written out of order; b: one turn */
    const char *text = "t,in,out,conv,ctx\n"
                       "20,400,10,a,\n"
                       "0,100,40,a,\n"
                       "5,50,5,b,\n"
                       "10,200,30,a,140\n";
    char *path = ss_test_write_file("s.csv", text);
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, &o, &error);
    if (!src)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    GArray *r = drain(src);
    CU_ASSERT_EQUAL_FATAL(r->len, 4);
    static const guint32 in[] = {100, 50, 200, 400};
    for (guint i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(REQ(r, i)->input_tokens, in[i]);
    CU_ASSERT_EQUAL(REQ(r, 0)->session_id, REQ(r, 2)->session_id); /* a */
    CU_ASSERT_NOT_EQUAL(REQ(r, 0)->session_id, REQ(r, 1)->session_id);
    CU_ASSERT_EQUAL(REQ(r, 0)->session_prefix_tokens, 0);   /* the first turn */
    CU_ASSERT_EQUAL(REQ(r, 2)->session_prefix_tokens, 140); /* as given */
    CU_ASSERT(REQ(r, 3)->session_prefix_tokens > 0);          /* derived from the turn before it in time */
    wl_source_free(src);
    g_array_free(r, TRUE);
    g_free(path);
    /* a prefix longer than the previous turn in time order: its own line and column */
    path = ss_test_write_file("s.csv", "t,in,out,conv,ctx\n10,200,30,a,190\n0,100,40,a,\n");
    CU_ASSERT_PTR_NULL(wl_source_new_trace(path, &o, &error));
    SS_ASSERT_CONTAINS(error ? error->message : NULL,
                       "s.csv:2:5: column 'ctx': expected at most the previous turn's in + out (100 + 40 = 140, "
                       "line 3), got '190' (rows sorted by time)");
    g_clear_error(&error);
    /* ... skipped and counted with skip_bad_rows */
    o.skip_bad_rows = TRUE;
    src = wl_source_new_trace(path, &o, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    r = drain(src);
    CU_ASSERT_EQUAL(r->len, 1);
    CU_ASSERT_EQUAL(wl_source_rows_skipped(src), 1);
    wl_source_free(src);
    g_array_free(r, TRUE);
    g_free(path);
}

/* A `vllm bench serve --save-result --save-detailed` file of 5 requests, the
 * third failed; send times on the client's monotonic clock. */
static const char bench_detailed[] =
    "{\"date\": \"20250101-120000\", \"backend\": \"vllm\", \"model_id\": \"meta-llama/Llama-3.1-8B-Instruct\",\n"
    " \"num_prompts\": 5, \"request_rate\": 4.0, \"burstiness\": 1.0, \"max_concurrency\": null,\n"
    " \"duration\": 2.0, \"completed\": 4, \"failed\": 1, \"total_input_tokens\": 1000, \"total_output_tokens\": 40,\n"
    " \"output_throughput\": 20.0, \"mean_ttft_ms\": 25.0, \"median_ttft_ms\": 25.0, \"p99_ttft_ms\": 39.7,\n"
    " \"input_lens\": [100, 200, 300, 400, 300], \"output_lens\": [10, 10, 0, 12, 8],\n"
    " \"ttfts\": [0.01, 0.02, 0.0, 0.03, 0.04],\n"
    " \"itls\": [[0.005, 0.005], [0.006], [], [0.007, 0.007, 0.007], [0.008]],\n"
    " \"start_times\": [1000.5, 1000.75, 1000.8, 1001.0, 1000.9],\n"
    " \"errors\": [\"\", \"\", \"Server disconnected\", \"\", \"\"],\n"
    " \"generated_texts\": [\"a\", \"b\", \"\", \"d\", \"e\"], \"hardware\": \"H100-SXM\"}\n";

static void test_vllm_bench_detailed(void)
{
    char *desc = NULL;
    GArray *r = read_text("bench.json", bench_detailed, NULL, NULL, &desc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(r->len, 4); /* the failed request is left out */
    /* in send order, rebased to the first send */
    static const guint32 in[] = {100, 200, 300, 400};
    static const SimTime at[] = {0, 250000000, 400000000, 500000000};
    for (guint i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(REQ(r, i)->input_tokens, in[i]);
        CU_ASSERT(llabs((long long)REQ(r, i)->arrival - (long long)at[i]) <= 1);
    }
    CU_ASSERT_EQUAL(REQ(r, 2)->output_tokens, 8);
    SS_ASSERT_CONTAINS(desc, "4 requests (1 failed request left out), measured send times");
    g_array_free(r, TRUE);
    g_free(desc);
    /* as data */
    char *path = ss_test_write_file("bench.json", bench_detailed);
    GError *error = NULL;
    WlBenchResult *b = wl_bench_result_load(path, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_EQUAL(b->n, 5);
    CU_ASSERT_EQUAL(wl_bench_result_num_ok(b), 4);
    CU_ASSERT_FALSE(b->ok[2]);
    CU_ASSERT_STRING_EQUAL(b->model_id, "meta-llama/Llama-3.1-8B-Instruct");
    CU_ASSERT_STRING_EQUAL(wl_bench_result_string(b, "hardware"), "H100-SXM");
    CU_ASSERT_DOUBLE_EQUAL(wl_bench_result_number(b, "p99_ttft_ms"), 39.7, 1e-12);
    CU_ASSERT(isnan(wl_bench_result_number(b, "p90_ttft_ms")));
    CU_ASSERT_DOUBLE_EQUAL(b->e2e_s[0], 0.02, 1e-12); /* ttft + the itls */
    CU_ASSERT_DOUBLE_EQUAL(b->e2e_s[3], 0.051, 1e-12);
    wl_bench_result_free(b);
    g_free(path);
}

static void test_vllm_bench_drawn_and_aggregate(void)
{
    /* per-request lengths but no send times: vllm's schedule, last send at n / rate */
    GString *t = g_string_new("{\"completed\": 40, \"failed\": 0, \"request_rate\": 8, \"burstiness\": 0.5, "
                              "\"input_lens\": [");
    for (int i = 0; i < 40; i++)
        g_string_append_printf(t, "%s%d", i ? "," : "", 50 + i);
    g_string_append(t, "], \"output_lens\": [");
    for (int i = 0; i < 40; i++)
        g_string_append_printf(t, "%s%d", i ? "," : "", 5 + i % 3);
    g_string_append(t, "]}");
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.seed = 7;
    char *desc = NULL;
    GArray *a = read_text("drawn.json", t->str, &o, NULL, &desc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->len, 40);
    CU_ASSERT(llabs((long long)REQ(a, 39)->arrival - 5000000000LL) <= 1); /* 40 / 8 req/s */
    SS_ASSERT_CONTAINS(desc, "send times drawn as vllm does (8 req/s, burstiness 0.5)");
    GArray *b = read_text("drawn.json", t->str, &o, NULL, NULL); /* the same seed: the same schedule */
    for (guint i = 0; i < 40; i++)
        CU_ASSERT_EQUAL(REQ(a, i)->arrival, REQ(b, i)->arrival);
    g_array_free(a, TRUE);
    g_array_free(b, TRUE);
    g_free(desc);
    g_string_free(t, TRUE);
    /* aggregate-only (no --save-detailed), all sent at once */
    a = read_text("agg.json",
                  "{\"completed\": 10, \"failed\": 0, \"request_rate\": \"inf\", \"total_input_tokens\": 1004, "
                  "\"total_output_tokens\": 256, \"duration\": 3.5, \"mean_ttft_ms\": 120.5}",
                  NULL, NULL, &desc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->len, 10);
    for (guint i = 0; i < a->len; i++) {
        CU_ASSERT_EQUAL(REQ(a, i)->arrival, 0);
        CU_ASSERT_EQUAL(REQ(a, i)->input_tokens, 100);
        CU_ASSERT_EQUAL(REQ(a, i)->output_tokens, 26);
    }
    SS_ASSERT_CONTAINS(desc, "mean lengths 100 in / 26 out (no per-request data: --save-detailed gives it)");
    SS_ASSERT_CONTAINS(desc, "all sent at once");
    g_array_free(a, TRUE);
    g_free(desc);
    /* a linear ramp as vllm draws it */
    a = read_text("ramp.json",
                  "{\"completed\": 3, \"ramp_up_strategy\": \"linear\", \"ramp_up_start_rps\": 1, "
                  "\"ramp_up_end_rps\": 3, \"burstiness\": 1, \"input_lens\": [1, 2, 3], "
                  "\"output_lens\": [1, 1, 1]}",
                  NULL, NULL, &desc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_EQUAL(a->len, 3);
    CU_ASSERT(REQ(a, 0)->arrival <= REQ(a, 1)->arrival && REQ(a, 1)->arrival <= REQ(a, 2)->arrival);
    SS_ASSERT_CONTAINS(desc, "linear ramp from 1 to 3 req/s");
    g_array_free(a, TRUE);
    g_free(desc);
}

static void test_vllm_bench_errors(void)
{
    static const struct {
        const char *text, *message;
    } bad[] = {
        {"{\"duration\": 3}", "b.json: completed: missing (expected the result file of vllm bench serve --save-result"},
        {"{\"completed\": 2, \"input_lens\": [1, 2], \"output_lens\": [3]}",
         "b.json: output_lens: expected 2 entries, one per request as in the other lists, got 1"},
        {"{\"completed\": 2, \"input_lens\": [1, -2], \"output_lens\": [3, 4]}",
         "b.json: input_lens[1]: expected a positive whole number, got -2"},
        {"{\"completed\": 2, \"input_lens\": [1, 2]}",
         "b.json: expected both input_lens and output_lens (--save-detailed), got only input_lens"},
        {"{\"completed\": 1, \"request_rate\": \"fast\", \"total_input_tokens\": 5, \"total_output_tokens\": 5}",
         "b.json: request_rate: expected a positive number or \"inf\", got \"fast\""},
        {"{\"completed\": 3, \"total_input_tokens\": 1, \"total_output_tokens\": 9}",
         "b.json: total_input_tokens, total_output_tokens: expected at least one token per completed request (3)"},
        {"{\"completed\": 2, \"input_lens\": [1, 2], \"output_lens\": [3, 4], \"ttfts\": [0.1, \"x\"]}",
         "b.json: ttfts[1]: expected a number of seconds >= 0, got \"x\""},
        {"{\"completed\": 1,\n \"input_lens\": [1,,]}", "b.json:2:19: malformed JSON"},
        {"[1, 2]", "b.json: expected a JSON object (a vllm bench serve result)"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *m = NULL;
        WlTraceOptions o;
        wl_trace_options_init(&o);
        o.format = WL_TRACE_VLLM_BENCH;
        GArray *r = read_text("b.json", bad[i].text, &o, &m, NULL);
        CU_ASSERT_PTR_NULL(r);
        SS_ASSERT_CONTAINS(m, bad[i].message);
        if (r)
            g_array_free(r, TRUE);
        g_free(m);
    }
    /* CSV options make no sense for it */
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.sort = FALSE;
    o.time_format = WL_TIME_EPOCH_S;
    char *m = NULL;
    CU_ASSERT_PTR_NULL(read_text("bench.json", bench_detailed, &o, &m, NULL));
    SS_ASSERT_CONTAINS(m, "a vllm bench serve result has no columns or time format to set");
    g_free(m);
}

static const SsTestCase forms_cases[] = {
    {"epoch units and ISO-8601, rebased and exact", test_epoch_units},
    {"epoch seconds with a rate and a limit", test_epoch_rate_limit},
    {"mixed and bad times", test_mixed_and_bad_times},
    {"column mapping", test_column_mapping},
    {"unsorted rows and sort", test_sort},
    {"sessions sorted and mapped", test_sessions_sorted_and_mapped},
    {NULL, NULL},
};

static const SsTestCase bench_cases[] = {
    {"per-request result with send times", test_vllm_bench_detailed},
    {"drawn send times, aggregate-only, ramp", test_vllm_bench_drawn_and_aggregate},
    {"malformed result files", test_vllm_bench_errors},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {{"forms", forms_cases}, {"vllm_bench", bench_cases}, {NULL, NULL}};
    return ss_test_main(argc, argv, suites);
}
