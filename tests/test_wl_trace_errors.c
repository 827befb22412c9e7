/*
 * test_wl_trace_errors.c: every malformed-row case of a trace, with its
 * exact message (file:line:column, the column name, what was expected, what
 * was found), and the same rows skipped and counted with skip_bad_rows.
 */
#include "ss_test.h"
#include "wl.h"

#define HEADER "arrival_time_s,input_tokens,output_tokens,prefix_group,shared_prefix_tokens\n"
#define GOOD "0.5,10,5,,\n"

/* Streams `text` and expects the error `tail` (after "path") either from
 * wl_source_new_trace or from a later wl_source_next. */
static void expect_error_opts(const char *text, const WlTraceOptions *o, const char *tail)
{
    char *path = ss_test_write_file("t.csv", text);
    char *expected = g_strdup_printf("%s%s", path, tail);
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, o, &error);
    if (src) {
        WlRequest r;
        int got;
        while ((got = wl_source_next(src, &r, &error)) == 1)
            ;
        CU_ASSERT_EQUAL(got, -1);
        /* A failed source stays failed. */
        GError *again = NULL;
        CU_ASSERT_EQUAL(wl_source_next(src, &r, &again), -1);
        CU_ASSERT_PTR_NOT_NULL(again);
        g_clear_error(&again);
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_EQUAL(error->domain, g_quark_from_static_string("servesim-error-quark"));
    CU_ASSERT_EQUAL(error->code, 3);
    if (strcmp(error->message, expected) != 0)
        fprintf(stderr, "\n  got      %s\n  expected %s\n", error->message, expected);
    CU_ASSERT_STRING_EQUAL(error->message, expected);
    g_error_free(error);
    wl_source_free(src);
    g_free(expected);
    g_free(path);
}

static void expect_error(const char *text, const char *tail)
{
    expect_error_opts(text, NULL, tail);
}

static void test_counts(void)
{
    expect_error(HEADER GOOD "1.0,10,-3,,\n",
                 ":3:3: column 'output_tokens': expected a positive integer, got '-3'");
    expect_error(HEADER GOOD "1.0,0,5,,\n",
                 ":3:2: column 'input_tokens': expected a positive integer, got '0'");
    expect_error(HEADER GOOD "1.0,10,2.5,,\n",
                 ":3:3: column 'output_tokens': expected a positive integer, got '2.5'");
    expect_error(HEADER GOOD "1.0,ten,5,,\n",
                 ":3:2: column 'input_tokens': expected a positive integer, got 'ten'");
    expect_error(HEADER GOOD "1.0,,5,,\n",
                 ":3:2: column 'input_tokens': expected a positive integer, got an empty field");
    expect_error(HEADER GOOD "1.0,99999999999,5,,\n",
                 ":3:2: column 'input_tokens': expected a positive integer of at most 4294967295, "
                 "got '99999999999'");
    expect_error("arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n1,1,-3\n",
                 ":3:3: column 'num_decode_tokens': expected a positive integer, got '-3'");
    expect_error("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,0,1\n",
                 ":2:2: column 'ContextTokens': expected a positive integer, got '0'");
    expect_error(HEADER GOOD "1.0,10,5,-1,\n",
                 ":3:4: column 'prefix_group': expected a non-negative integer, got '-1'");
}

static void test_missing_fields(void)
{
    expect_error(HEADER GOOD "1.0,10\n",
                 ":3:3: column 'output_tokens': expected a positive integer, got no field (the row "
                 "has 2 fields)");
    expect_error("input_tokens,output_tokens,arrival_time_s\n5,5,0\n5,5\n",
                 ":3:3: column 'arrival_time_s': expected a non-negative number of seconds, got no "
                 "field (the row has 2 fields)");
    /* Only an unused column is missing, or a field too many. */
    expect_error("arrival_time_s,input_tokens,output_tokens,note\n0,1,1,a\n1,1,1\n",
                 ":3:4: expected 4 fields as in the header, got 3");
    expect_error("arrival_time_s,input_tokens,output_tokens\n0,1,1\n1,1,1,extra\n",
                 ":3:4: expected 3 fields as in the header, got 4");
}

static void test_arrivals(void)
{
    expect_error(HEADER GOOD "abc,10,5,,\n",
                 ":3:1: column 'arrival_time_s': expected a non-negative number of seconds, got "
                 "'abc'");
    expect_error(HEADER GOOD "-1,10,5,,\n",
                 ":3:1: column 'arrival_time_s': expected a non-negative number of seconds, got "
                 "'-1'");
    expect_error(HEADER GOOD "nan,10,5,,\n",
                 ":3:1: column 'arrival_time_s': expected a non-negative number of seconds, got "
                 "'nan'");
    expect_error(HEADER GOOD "0.25,10,5,,\n",
                 ":3:1: column 'arrival_time_s': expected a time at or after '0.5' (line 2): rows must "
                 "be in time order (or sorted: replay --sort, \"sort\": true in a scenario), got '0.25'");
    expect_error("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                 "2023-11-16 18:15:46.6805900,5,1\n"
                 "2023-11-16 18:15:46.6805899,5,1\n",
                 ":3:1: column 'TIMESTAMP': expected a time at or after '2023-11-16 "
                 "18:15:46.6805900' (line 2): rows must be in time order (or sorted: replay --sort, "
                 "\"sort\": true in a scenario), got '2023-11-16 18:15:46.6805899'");
    expect_error("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 25:00:00,5,1\n",
                 ":2:1: column 'TIMESTAMP': expected a timestamp like '2023-11-16 "
                 "18:15:46.6805900', got '2023-11-16 25:00:00'");
    expect_error("TIMESTAMP,ContextTokens,GeneratedTokens\n1700158546.68,5,1\n",
                 ":2:1: column 'TIMESTAMP': expected a timestamp like '2023-11-16 "
                 "18:15:46.6805900', got '1700158546.68'");
}

static void test_prefix(void)
{
    expect_error(HEADER GOOD "1.0,10,5,0,20\n",
                 ":3:5: column 'shared_prefix_tokens': expected at most input_tokens (10), got "
                 "'20'");
    expect_error(HEADER GOOD "1.0,10,5,,4\n",
                 ":3:5: column 'shared_prefix_tokens': expected 0 or nothing when prefix_group is "
                 "empty, got '4'");
}

static void test_rows_and_csv(void)
{
    expect_error(HEADER GOOD "\n1.0,10,5,,\n", ":3:1: expected a data row, got an empty row");
    expect_error(HEADER GOOD ",,,,\n1.0,10,5,,\n", ":3:1: expected a data row, got an empty row");
    expect_error(HEADER GOOD "1.0,1\"0,5,,\n",
                 ":3:2: malformed CSV: expected a delimiter or a line end after a closing quote, "
                 "and no quote inside an unquoted field");
    expect_error(HEADER GOOD "1.0,\"10\"x,5,,\n",
                 ":3:2: malformed CSV: expected a delimiter or a line end after a closing quote, "
                 "and no quote inside an unquoted field");
    expect_error(HEADER GOOD "1.0,10,5,,\"oops\n\n",
                 ":3:5: expected a closing quote, got the end of the file (the quoted field starts "
                 "on line 3)");
    /* Line numbers are physical lines: a quoted field spanning two lines
     * (CRLF inside) moves the next rows down. */
    expect_error("arrival_time_s,note,input_tokens,output_tokens\r\n"
                 "0,\"a\r\nb\",1,1\r\n"
                 "1,x,1,0\r\n",
                 ":4:4: column 'output_tokens': expected a positive integer, got '0'");
    /* An error inside a row whose first field spans lines points at the field. */
    expect_error("note,arrival_time_s,input_tokens,output_tokens\n"
                 "\"a\nb\nc\",0,x,1\n",
                 ":4:3: column 'input_tokens': expected a positive integer, got 'x'");
}

static void test_headers_and_files(void)
{
    expect_error("time,in,out\n1,2,3\n",
                 ":1: expected a header with the columns of one of: servesim "
                 "(arrival_time_s,input_tokens,output_tokens[,prefix_group,shared_prefix_tokens,"
                 "class,session_id,session_prefix_tokens,priority,lora]), azure (TIMESTAMP,ContextTokens,GeneratedTokens), vidur (arrived_at,"
                 "num_prefill_tokens,num_decode_tokens); got 'time,in,out' (or map your columns: "
                 "--columns arrival=NAME,input=NAME,output=NAME)");
    expect_error("", ": expected a header line, got an empty file");
    expect_error("\n\n", ": expected a header line, got an empty file");
    expect_error("arrival_time_s,input_tokens,output_tokens,input_tokens\n0,1,1,1\n",
                 ":1:4: expected each column once, got 'input_tokens' twice (columns 2 and 4)");
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.format = WL_TRACE_AZURE;
    expect_error_opts("arrived_at,num_prefill_tokens,num_decode_tokens\n0,1,1\n", &o,
                      ":1: expected the azure columns TIMESTAMP,ContextTokens,GeneratedTokens, got "
                      "no 'TIMESTAMP' in 'arrived_at,num_prefill_tokens,num_decode_tokens'");
    /* Options. */
    wl_trace_options_init(&o);
    o.time_scale = 0;
    expect_error_opts(HEADER GOOD, &o, ": time_scale: expected a positive number, got 0");
    wl_trace_options_init(&o);
    o.rate = 5;
    o.time_scale = 2;
    expect_error_opts(HEADER GOOD, &o,
                      ": rate: expected 0 when time_scale is not 1 (a rate fixes the time scale), "
                      "got 5 with time_scale 2");
    wl_trace_options_init(&o);
    o.rate = 5;
    expect_error_opts(HEADER GOOD, &o,
                      ": cannot rescale to 5 req/s: expected at least two rows spanning at least 1 ns, "
                      "got 1 row spanning 0 s");
    /* With a rate the first pass finds bad rows before the first request. */
    expect_error_opts(HEADER GOOD "1.0,10,-3,,\n2.0,1,1,,\n", &o,
                      ":3:3: column 'output_tokens': expected a positive integer, got '-3'");
    /* A missing file. */
    GError *error = NULL;
    CU_ASSERT_PTR_NULL(wl_source_new_trace("/nonexistent/t.csv", NULL, &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "/nonexistent/t.csv: cannot open: ");
    CU_ASSERT_EQUAL(error->code, 3);
    g_error_free(error);
}

/* The bad rows of the tests above, mixed with good ones: with skip_bad_rows
 * they are counted and the good rows come through. */
static void test_skip_bad_rows(void)
{
    const char *text = HEADER
        "0.5,10,5,,\n"       /* good 1 */
        "1.0,10,-3,,\n"      /* negative */
        "1.0,0,5,,\n"        /* zero */
        "1.0,10,2.5,,\n"     /* non-integer */
        "1.0,10\n"           /* missing field */
        "abc,10,5,,\n"       /* non-numeric arrival */
        "0.25,10,5,,\n"      /* backwards */
        "1.0,10,5,0,20\n"    /* shared > input */
        "\n"                 /* empty row */
        ",,,,\n"             /* empty row */
        "1.0,1\"0,5,,\n"     /* bad quoting */
        "1.0,11,6,3,4\n"     /* good 2 */
        "0.75,10,5,,\n"      /* backwards from good 2 */
        "2.0,12,7,,\n"       /* good 3 */
        "\n";                /* trailing blank: ignored, not counted */
    char *path = ss_test_write_file("t.csv", text);
    WlTraceOptions o;
    wl_trace_options_init(&o);
    o.skip_bad_rows = TRUE;
    GError *error = NULL;
    WlSource *src = wl_source_new_trace(path, &o, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    WlRequest r[4];
    guint n = 0;
    int got;
    while (n < 4 && (got = wl_source_next(src, &r[n], &error)) == 1)
        n++;
    CU_ASSERT_EQUAL(got, 0);
    CU_ASSERT_PTR_NULL(error);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_EQUAL(r[0].arrival, 500 * SIM_TIME_MS);
    CU_ASSERT_EQUAL(r[1].arrival, 1 * SIM_TIME_S);
    CU_ASSERT_EQUAL(r[1].input_tokens, 11);
    CU_ASSERT_EQUAL(r[1].prefix_group, 4);
    CU_ASSERT_EQUAL(r[1].shared_prefix_tokens, 4);
    CU_ASSERT_EQUAL(r[2].arrival, 2 * SIM_TIME_S);
    CU_ASSERT_EQUAL(r[2].id, 2);
    CU_ASSERT_EQUAL(wl_source_rows_skipped(src), 11);
    wl_source_free(src);
    /* The same with a first pass (rate): counted once, not twice. */
    o.rate = 1.0;
    src = wl_source_new_trace(path, &o, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    n = 0;
    while (n < 4 && wl_source_next(src, &r[n], &error) == 1)
        n++;
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(r[2].arrival - r[0].arrival, 2 * SIM_TIME_S); /* 2 gaps at 1/s */
    CU_ASSERT_EQUAL(wl_source_rows_skipped(src), 11);
    wl_source_free(src);
    /* skip counts data rows before any check: skipping the first 7 passes
     * over six bad rows without counting them. */
    o.rate = 0;
    o.skip = 7;
    src = wl_source_new_trace(path, &o, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    n = 0;
    while (n < 4 && wl_source_next(src, &r[n], &error) == 1)
        n++;
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(r[0].input_tokens, 11);
    CU_ASSERT_EQUAL(r[0].arrival, 0); /* rebased after skip */
    CU_ASSERT_EQUAL(r[1].arrival, 1 * SIM_TIME_S);
    CU_ASSERT_EQUAL(wl_source_rows_skipped(src), 5);
    wl_source_free(src);
    g_free(path);
}

#define SESSION_HEADER "arrival_time_s,input_tokens,output_tokens,session_id,session_prefix_tokens\n"

static void test_sessions(void)
{
    expect_error(SESSION_HEADER "0,100,40,a,\n1,300,50,a,400\n",
                 ":3:5: column 'session_prefix_tokens': expected at most input_tokens (300), got '400'");
    expect_error(SESSION_HEADER "0,100,40,a,\n1,300,50,b,\n2,300,50,a,141\n",
                 ":4:5: column 'session_prefix_tokens': expected at most the previous turn's input_tokens + "
                 "output_tokens (100 + 40 = 140, line 2), got '141'");
    expect_error(SESSION_HEADER "0,100,40,conv 7,12\n",
                 ":2:5: column 'session_prefix_tokens': expected 0 or nothing on the first turn of session "
                 "'conv 7', got '12'");
    expect_error(SESSION_HEADER "0,100,40,,5\n",
                 ":2:5: column 'session_prefix_tokens': expected 0 or nothing when session_id is empty, got '5'");
    expect_error(SESSION_HEADER "0,100,40,a,\n1,300,50,a,-3\n",
                 ":3:5: column 'session_prefix_tokens': expected a non-negative integer, got '-3'");
    expect_error("arrival_time_s,input_tokens,output_tokens,session_prefix_tokens\n0,1,1,0\n",
                 ":1:4: expected a session_id column with session_prefix_tokens, got none in "
                 "'arrival_time_s,input_tokens,output_tokens,session_prefix_tokens'");
    expect_error("arrival_time_s,input_tokens,output_tokens,session_id,session_id\n0,1,1,a,a\n",
                 ":1:5: expected each column once, got 'session_id' twice (columns 4 and 5)");
}

static const SsTestCase row_cases[] = {
    {"negative, zero, non-integer, empty counts", test_counts},
    {"missing and extra fields", test_missing_fields},
    {"non-numeric and backward arrivals", test_arrivals},
    {"shared prefix checks", test_prefix},
    {"session checks", test_sessions},
    {"empty rows, bad quoting, physical lines", test_rows_and_csv},
    {"headers, options, files", test_headers_and_files},
    {NULL, NULL},
};

static const SsTestCase skip_cases[] = {
    {"bad rows skipped and counted", test_skip_bad_rows},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"malformed rows", row_cases},
    {"skip_bad_rows", skip_cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
