/*
 * test_wl_trace.c: trace sources: the three formats, header recognition,
 * quoting, CRLF, extra and reordered columns, Azure timestamps, the options
 * (time_scale, rate, limit, skip) and the shipped traces and validation
 * files.
 */
#include <math.h>

#include "ss_test.h"
#include "wl.h"

static WlSource *open_trace(const char *path, const WlTraceOptions *o)
{
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, o, &error);
    if (!src)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL(src);
    g_clear_error(&error);
    return src;
}

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

static GArray *drain_text(const char *text, const WlTraceOptions *o, WlSource **src_out)
{
    char *path = ss_test_write_file("trace.csv", text);
    WlSource *src = open_trace(path, o);
    g_free(path);
    if (!src)
        return g_array_new(FALSE, FALSE, sizeof(WlRequest));
    GArray *reqs = drain(src);
    if (src_out)
        *src_out = src;
    else
        wl_source_free(src);
    return reqs;
}

#define REQ(a, i) (&g_array_index((a), WlRequest, (i)))

static void test_native(void)
{
    WlSource *src = NULL;
    GArray *r = drain_text("arrival_time_s,input_tokens,output_tokens,prefix_group,"
                           "shared_prefix_tokens,class\n"
                           "0.0,100,10,0,64,chat\n"
                           "0.5,200,20,,0,code\n"
                           "1.25,300,30,7,300,chat\n"
                           "2,400,40,,,\n",
                           NULL, &src);
    CU_ASSERT_EQUAL_FATAL(r->len, 4);
    CU_ASSERT_EQUAL(wl_source_trace_format(src), WL_TRACE_NATIVE);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 0);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 500 * SIM_TIME_MS);
    CU_ASSERT_EQUAL(REQ(r, 2)->arrival, 1250 * SIM_TIME_MS);
    CU_ASSERT_EQUAL(REQ(r, 3)->arrival, 2 * SIM_TIME_S);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 100);
    CU_ASSERT_EQUAL(REQ(r, 3)->output_tokens, 40);
    /* group g -> g + 1, empty -> 0 */
    CU_ASSERT_EQUAL(REQ(r, 0)->prefix_group, 1);
    CU_ASSERT_EQUAL(REQ(r, 0)->shared_prefix_tokens, 64);
    CU_ASSERT_EQUAL(REQ(r, 1)->prefix_group, 0);
    CU_ASSERT_EQUAL(REQ(r, 2)->prefix_group, 8);
    CU_ASSERT_EQUAL(REQ(r, 2)->shared_prefix_tokens, 300);
    CU_ASSERT_EQUAL(REQ(r, 3)->prefix_group, 0);
    CU_ASSERT_EQUAL(REQ(r, 3)->shared_prefix_tokens, 0);
    /* classes in order of first appearance; an empty one is "default" */
    CU_ASSERT_EQUAL(wl_source_num_classes(src), 3);
    CU_ASSERT_STRING_EQUAL(wl_source_class_name(src, 0), "chat");
    CU_ASSERT_STRING_EQUAL(wl_source_class_name(src, 1), "code");
    CU_ASSERT_STRING_EQUAL(wl_source_class_name(src, 2), "default");
    CU_ASSERT_EQUAL(REQ(r, 0)->class_id, 0);
    CU_ASSERT_EQUAL(REQ(r, 1)->class_id, 1);
    CU_ASSERT_EQUAL(REQ(r, 2)->class_id, 0);
    CU_ASSERT_EQUAL(REQ(r, 3)->class_id, 2);
    for (guint i = 0; i < r->len; i++)
        CU_ASSERT_EQUAL(REQ(r, i)->id, i);
    CU_ASSERT_DOUBLE_EQUAL(wl_source_offered_rate(src), 0.0, 0);
    CU_ASSERT_EQUAL(wl_source_rows_skipped(src), 0);
    SS_ASSERT_CONTAINS(wl_source_describe(src), "(servesim)");
    wl_source_free(src);
    g_array_free(r, TRUE);
}

static void test_native_order_extra_quotes_crlf(void)
{
    /* Columns in another order, extra columns (one quoted with a comma and
     * a line break inside), CRLF line ends, quoted numbers, a BOM. */
    WlSource *src = NULL;
    GArray *r = drain_text("\xEF\xBB\xBFnote,output_tokens,ttft_s,input_tokens,arrival_time_s\r\n"
                           "\"hello, world\",5,0.1,50,0.25\r\n"
                           "\"two\r\nlines\",\"6\",0.2,\"60\",\"0.75\"\r\n"
                           "plain,7,0.3,70,1.0\r\n",
                           NULL, &src);
    CU_ASSERT_EQUAL_FATAL(r->len, 3);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 250 * SIM_TIME_MS);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 50);
    CU_ASSERT_EQUAL(REQ(r, 0)->output_tokens, 5);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 750 * SIM_TIME_MS);
    CU_ASSERT_EQUAL(REQ(r, 1)->input_tokens, 60);
    CU_ASSERT_EQUAL(REQ(r, 1)->output_tokens, 6);
    CU_ASSERT_EQUAL(REQ(r, 2)->input_tokens, 70);
    CU_ASSERT_EQUAL(wl_source_num_classes(src), 1);
    CU_ASSERT_STRING_EQUAL(wl_source_class_name(src, 0), "default");
    wl_source_free(src);
    g_array_free(r, TRUE);
    /* Blank lines at the end are ignored; a last line without a line end is read. */
    r = drain_text("arrival_time_s,input_tokens,output_tokens\n1,2,3\n4,5,6\n\n\n", NULL, NULL);
    CU_ASSERT_EQUAL(r->len, 2);
    g_array_free(r, TRUE);
    r = drain_text("arrival_time_s,input_tokens,output_tokens\n1,2,3\n4,5,6", NULL, NULL);
    CU_ASSERT_EQUAL(r->len, 2);
    CU_ASSERT_EQUAL(REQ(r, 1)->output_tokens, 6);
    g_array_free(r, TRUE);
    /* Integers written as decimals ("12.0") are integers. */
    r = drain_text("arrival_time_s,input_tokens,output_tokens\n0,12.0,3.00\n", NULL, NULL);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 12);
    CU_ASSERT_EQUAL(REQ(r, 0)->output_tokens, 3);
    g_array_free(r, TRUE);
}

static void test_azure(void)
{
    WlSource *src = NULL;
    GArray *r = drain_text("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                           "2023-11-16 18:15:46.6805900,4808,10\n"
                           "2023-11-16 18:15:47.0000001,3180,8\n"
                           "2023-11-16 18:16:00.5,110,27\n"
                           "2023-11-17 00:00:00,7,1\n",
                           NULL, &src);
    CU_ASSERT_EQUAL_FATAL(r->len, 4);
    CU_ASSERT_EQUAL(wl_source_trace_format(src), WL_TRACE_AZURE);
    /* Exact nanoseconds since the first row. */
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 0);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 319410100);
    CU_ASSERT_EQUAL(REQ(r, 2)->arrival, 13819410000);
    /* to midnight: 5 h 44 min 13.3194100 s */
    CU_ASSERT_EQUAL(REQ(r, 3)->arrival, (SimTime)(5 * 3600 + 44 * 60 + 13) * SIM_TIME_S + 319410000);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 4808);
    CU_ASSERT_EQUAL(REQ(r, 0)->output_tokens, 10);
    SS_ASSERT_CONTAINS(wl_source_describe(src), "(azure)");
    wl_source_free(src);
    g_array_free(r, TRUE);
    /* With a time scale the offsets are scaled (then rounded once). */
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.time_scale = 0.5;
    r = drain_text("ContextTokens,TIMESTAMP,GeneratedTokens,extra\n"
                   "10,2023-11-16 18:15:46.0000000,1,a\n"
                   "20,2023-11-16 18:15:49.0000001,2,b\n",
                   &o, NULL);
    CU_ASSERT_EQUAL_FATAL(r->len, 2);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 1500000050); /* 3.0000001 s x 0.5 */
    CU_ASSERT_EQUAL(REQ(r, 1)->input_tokens, 20);
    g_array_free(r, TRUE);
}

static void test_vidur_and_forced_format(void)
{
    WlSource *src = NULL;
    GArray *r = drain_text("arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n4.314579,396,109\n",
                           NULL, &src);
    CU_ASSERT_EQUAL_FATAL(r->len, 2);
    CU_ASSERT_EQUAL(wl_source_trace_format(src), WL_TRACE_VIDUR);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 4314579000);
    CU_ASSERT_EQUAL(REQ(r, 1)->input_tokens, 396);
    CU_ASSERT_EQUAL(REQ(r, 1)->output_tokens, 109);
    wl_source_free(src);
    g_array_free(r, TRUE);
    /* A header holding two formats' columns: auto takes servesim's; a
     * forced format takes its own. */
    const char *both = "arrival_time_s,input_tokens,output_tokens,arrived_at,num_prefill_tokens,"
                       "num_decode_tokens\n1,2,3,4,5,6\n";
    r = drain_text(both, NULL, NULL);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 2);
    g_array_free(r, TRUE);
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.format = WL_TRACE_VIDUR;
    r = drain_text(both, &o, NULL);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 5);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 4 * SIM_TIME_S);
    g_array_free(r, TRUE);
}

/* 1001 rows at irregular times 0 .. 500 s. */
static char *irregular_trace(void)
{
    GString *s = g_string_new("arrival_time_s,input_tokens,output_tokens\n");
    double t = 3.0;
    for (int i = 0; i <= 1000; i++) {
        g_string_append_printf(s, "%.6f,%d,%d\n", t, 10 + i, 1 + i % 50);
        t += (i % 3 == 0) ? 0.05 : 0.725; /* mean gap 0.5 s */
    }
    char *path = ss_test_write_file("irregular.csv", s->str);
    g_string_free(s, TRUE);
    return path;
}

static void test_options(void)
{
    char *path = irregular_trace();
    WlTraceOptions o;
    wl_trace_options_init(&o);
    WlSource *src = open_trace(path, &o);
    GArray *base = drain(src);
    wl_source_free(src);
    CU_ASSERT_EQUAL_FATAL(base->len, 1001);
    CU_ASSERT_EQUAL(REQ(base, 0)->arrival, 3 * SIM_TIME_S); /* relative times kept */

    /* time_scale doubles every arrival. */
    o.time_scale = 2.0;
    src = open_trace(path, &o);
    GArray *r = drain(src);
    wl_source_free(src);
    for (guint i = 0; i < r->len; i++)
        CU_ASSERT_EQUAL(REQ(r, i)->arrival, 2 * REQ(base, i)->arrival);
    g_array_free(r, TRUE);

    /* rate: the mean gap of the yielded rows becomes 1/rate. */
    o.time_scale = 1.0;
    o.rate = 5.0;
    src = open_trace(path, &o);
    CU_ASSERT_DOUBLE_EQUAL(wl_source_offered_rate(src), 5.0, 0);
    SS_ASSERT_CONTAINS(wl_source_describe(src), "rescaled to 5 req/s");
    r = drain(src);
    wl_source_free(src);
    CU_ASSERT_EQUAL(r->len, 1001);
    double span = sim_time_to_seconds(REQ(r, 1000)->arrival - REQ(r, 0)->arrival);
    CU_ASSERT_DOUBLE_EQUAL(1000.0 / span, 5.0, 1e-6);
    /* the shape is kept: gaps keep their ratios */
    double g0 = (double)(REQ(r, 1)->arrival - REQ(r, 0)->arrival);
    double g1 = (double)(REQ(r, 2)->arrival - REQ(r, 1)->arrival);
    CU_ASSERT_DOUBLE_EQUAL(g1 / g0, 0.725 / 0.05, 1e-6);
    g_array_free(r, TRUE);

    /* limit */
    o.rate = 0;
    o.limit = 10;
    src = open_trace(path, &o);
    r = drain(src);
    wl_source_free(src);
    CU_ASSERT_EQUAL(r->len, 10);
    CU_ASSERT_EQUAL(REQ(r, 9)->input_tokens, 19);
    g_array_free(r, TRUE);

    /* skip: starts at row 6, rebased to 0 */
    o.limit = 0;
    o.skip = 5;
    src = open_trace(path, &o);
    r = drain(src);
    wl_source_free(src);
    CU_ASSERT_EQUAL_FATAL(r->len, 996);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 15);
    CU_ASSERT_EQUAL(REQ(r, 0)->arrival, 0);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, REQ(base, 6)->arrival - REQ(base, 5)->arrival);
    CU_ASSERT_EQUAL(REQ(r, 0)->id, 0);
    g_array_free(r, TRUE);

    /* skip + limit + rate: the rate applies to the window */
    o.limit = 101;
    o.rate = 2.0;
    src = open_trace(path, &o);
    r = drain(src);
    wl_source_free(src);
    CU_ASSERT_EQUAL_FATAL(r->len, 101);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 15);
    span = sim_time_to_seconds(REQ(r, 100)->arrival - REQ(r, 0)->arrival);
    CU_ASSERT_DOUBLE_EQUAL(100.0 / span, 2.0, 1e-6);
    g_array_free(r, TRUE);

    g_array_free(base, TRUE);
    g_free(path);
}

static void test_azure_conv_trace(void)
{
    /* All 19,366 rows of the shipped conversation trace. */
    char *path = g_build_filename(ss_test_data_dir(), "traces", "azure-2023-conv.csv", NULL);
    WlSource *src = open_trace(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    GError *error = NULL;
    WlRequest r, first = {0}, last = {0};
    guint64 n = 0;
    int got;
    while ((got = wl_source_next(src, &r, &error)) == 1) {
        if (n == 0)
            first = r;
        last = r;
        n++;
    }
    CU_ASSERT_EQUAL(got, 0);
    CU_ASSERT_EQUAL(n, 19366);
    CU_ASSERT_EQUAL(first.arrival, 0);
    CU_ASSERT_EQUAL(first.input_tokens, 374);
    CU_ASSERT_EQUAL(first.output_tokens, 44);
    CU_ASSERT_EQUAL(last.arrival, 3501721937000); /* 3501.721937 s */
    CU_ASSERT_EQUAL(last.input_tokens, 197);
    CU_ASSERT_EQUAL(last.output_tokens, 183);
    CU_ASSERT_EQUAL(last.id, 19365);
    CU_ASSERT_EQUAL(wl_source_trace_format(src), WL_TRACE_VIDUR);
    wl_source_free(src);
    /* Rescaled to 10 req/s: (n-1)/span = 10. */
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.rate = 10;
    src = open_trace(path, &o);
    n = 0;
    while (wl_source_next(src, &r, &error) == 1) {
        if (n == 0)
            first = r;
        last = r;
        n++;
    }
    CU_ASSERT_EQUAL(n, 19366);
    CU_ASSERT_DOUBLE_EQUAL(19365.0 / sim_time_to_seconds(last.arrival - first.arrival), 10.0, 1e-6);
    wl_source_free(src);
    g_free(path);
}

static void test_validation_files(void)
{
    /* CRLF files with extra columns; prefix_group 0 is a real group. */
    char *path = g_build_filename(ss_test_data_dir(), "validation",
                                  "blis-h100-codellama34b-prefillheavy-mml4096",
                                  "p01_throughput.csv", NULL);
    WlSource *src = open_trace(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    GArray *r = drain(src);
    CU_ASSERT_EQUAL(r->len, 39);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 2508);
    CU_ASSERT_EQUAL(REQ(r, 0)->output_tokens, 34);
    CU_ASSERT_EQUAL(REQ(r, 0)->prefix_group, 1);
    CU_ASSERT_EQUAL(REQ(r, 0)->shared_prefix_tokens, 1024);
    CU_ASSERT_EQUAL(REQ(r, 1)->arrival, 323000);
    wl_source_free(src);
    g_array_free(r, TRUE);
    g_free(path);
    /* Empty prefix_group: no group. */
    path = g_build_filename(ss_test_data_dir(), "validation", "blis-h100-codellama34b-train",
                            "p01_throughput.csv", NULL);
    src = open_trace(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    r = drain(src);
    CU_ASSERT_EQUAL(r->len, 22);
    CU_ASSERT_EQUAL(REQ(r, 0)->input_tokens, 7168);
    CU_ASSERT_EQUAL(REQ(r, 0)->prefix_group, 0);
    CU_ASSERT_EQUAL(REQ(r, 0)->shared_prefix_tokens, 0);
    wl_source_free(src);
    g_array_free(r, TRUE);
    g_free(path);
    /* Every shipped validation request file streams without error. */
    char *dir = g_build_filename(ss_test_data_dir(), "validation", NULL);
    GDir *top = g_dir_open(dir, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(top);
    const char *exp;
    guint files = 0;
    while ((exp = g_dir_read_name(top))) {
        char *sub = g_build_filename(dir, exp, NULL);
        GDir *d = g_dir_open(sub, 0, NULL);
        const char *f;
        while (d && (f = g_dir_read_name(d))) {
            if (!g_str_has_suffix(f, ".csv"))
                continue;
            char *p = g_build_filename(sub, f, NULL);
            src = open_trace(p, NULL);
            if (src) {
                r = drain(src);
                CU_ASSERT(r->len > 0);
                g_array_free(r, TRUE);
                wl_source_free(src);
            }
            files++;
            g_free(p);
        }
        if (d)
            g_dir_close(d);
        g_free(sub);
    }
    g_dir_close(top);
    CU_ASSERT(files >= 5);
    g_free(dir);
}

static void test_format_names(void)
{
    WlTraceFormat f;
    CU_ASSERT_TRUE(wl_trace_format_from_name("azure", &f));
    CU_ASSERT_EQUAL(f, WL_TRACE_AZURE);
    CU_ASSERT_TRUE(wl_trace_format_from_name("native", &f));
    CU_ASSERT_EQUAL(f, WL_TRACE_NATIVE);
    CU_ASSERT_FALSE(wl_trace_format_from_name("csv", &f));
    CU_ASSERT_STRING_EQUAL(wl_trace_format_name(WL_TRACE_VIDUR), "vidur");
    CU_ASSERT_STRING_EQUAL(wl_trace_format_name(WL_TRACE_NATIVE), "servesim");
}

static const SsTestCase format_cases[] = {
    {"servesim columns, prefix groups, classes", test_native},
    {"column order, extra columns, quoting, CRLF", test_native_order_extra_quotes_crlf},
    {"Azure timestamps", test_azure},
    {"Vidur columns and a forced format", test_vidur_and_forced_format},
    {"format names", test_format_names},
    {NULL, NULL},
};

static const SsTestCase option_cases[] = {
    {"time_scale, rate, limit, skip", test_options},
    {NULL, NULL},
};

static const SsTestCase data_cases[] = {
    {"all 19366 rows of azure-2023-conv.csv", test_azure_conv_trace},
    {"validation request files", test_validation_files},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"formats", format_cases},
    {"options", option_cases},
    {"shipped data", data_cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
