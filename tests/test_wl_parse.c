/*
 * test_wl_parse.c: the workload module's checked parsers (integers,
 * decimals, timestamps), its streaming CSV reader (physical line numbers,
 * quoting, CRLF, blank lines) and its random variates.
 */
#include <math.h>

#include "ss_test.h"
#include "wl_internal.h"

static void test_uint(void)
{
    guint64 v = 0;
    CU_ASSERT_EQUAL(wl_parse_uint("42", 100, &v), WL_PARSE_OK);
    CU_ASSERT_EQUAL(v, 42);
    CU_ASSERT_EQUAL(wl_parse_uint(" 7 ", 100, &v), WL_PARSE_OK);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(wl_parse_uint("12.000", 100, &v), WL_PARSE_OK);
    CU_ASSERT_EQUAL(v, 12);
    CU_ASSERT_EQUAL(wl_parse_uint("0", 100, &v), WL_PARSE_OK);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(wl_parse_uint("", 100, &v), WL_PARSE_EMPTY);
    CU_ASSERT_EQUAL(wl_parse_uint("  ", 100, &v), WL_PARSE_EMPTY);
    CU_ASSERT_EQUAL(wl_parse_uint("-3", 100, &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_uint("+3", 100, &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_uint("2.5", 100, &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_uint("1e3", 100000, &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_uint("0x10", 100, &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_uint("12 3", 100, &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_uint("101", 100, &v), WL_PARSE_RANGE);
    CU_ASSERT_EQUAL(wl_parse_uint("99999999999999999999999", G_MAXUINT64, &v), WL_PARSE_RANGE);
    CU_ASSERT_EQUAL(wl_parse_uint("18446744073709551615", G_MAXUINT64, &v), WL_PARSE_OK);
    CU_ASSERT_EQUAL(v, G_MAXUINT64);
}

static void test_double(void)
{
    double v = 0;
    CU_ASSERT_EQUAL(wl_parse_double("1.5", &v), WL_PARSE_OK);
    CU_ASSERT_DOUBLE_EQUAL(v, 1.5, 0);
    CU_ASSERT_EQUAL(wl_parse_double(" 2e-3 ", &v), WL_PARSE_OK);
    CU_ASSERT_DOUBLE_EQUAL(v, 0.002, 0);
    CU_ASSERT_EQUAL(wl_parse_double("-4", &v), WL_PARSE_OK);
    CU_ASSERT_DOUBLE_EQUAL(v, -4, 0);
    CU_ASSERT_EQUAL(wl_parse_double("", &v), WL_PARSE_EMPTY);
    CU_ASSERT_EQUAL(wl_parse_double("abc", &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_double("inf", &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_double("nan", &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_double("0x1p3", &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_double("1.5s", &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_double("1..5", &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_double("e", &v), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_double("1e999", &v), WL_PARSE_RANGE);
}

static void test_timestamp(void)
{
    gint64 ns = 0;
    CU_ASSERT_EQUAL(wl_parse_timestamp("1970-01-01 00:00:00", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(ns, 0);
    /* The first row of the Azure 2023 trace; the value is Python's
     * datetime(2023,11,16,18,15,46,tzinfo=utc).timestamp() * 1e9 + 680590000. */
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16 18:15:46.6805900", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(ns, G_GINT64_CONSTANT(1700158546680590000));
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16T18:15:46.6805900Z", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(ns, G_GINT64_CONSTANT(1700158546680590000));
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16 19:15:46.6805900+01:00", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(ns, G_GINT64_CONSTANT(1700158546680590000));
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16 17:15:46.6805900-0100", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(ns, G_GINT64_CONSTANT(1700158546680590000));
    /* Beyond nanoseconds: rounded to the nearest. */
    CU_ASSERT_EQUAL(wl_parse_timestamp("1970-01-01 00:00:00.0000000015", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(ns, 2);
    CU_ASSERT_EQUAL(wl_parse_timestamp("1970-01-01 00:00:00.0000000014", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(ns, 1);
    /* Leap days. */
    CU_ASSERT_EQUAL(wl_parse_timestamp("2024-02-29 00:00:00", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(ns, G_GINT64_CONSTANT(1709164800) * 1000000000);
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-02-29 00:00:00", &ns), WL_PARSE_RANGE);
    CU_ASSERT_EQUAL(wl_parse_timestamp("2000-02-29 00:00:00", &ns), WL_PARSE_OK);
    CU_ASSERT_EQUAL(wl_parse_timestamp("1900-02-29 00:00:00", &ns), WL_PARSE_RANGE);
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-13-01 00:00:00", &ns), WL_PARSE_RANGE);
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16 24:00:00", &ns), WL_PARSE_RANGE);
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16", &ns), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16 18:15", &ns), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16 18:15:46.", &ns), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_timestamp("2023-11-16 18:15:46 x", &ns), WL_PARSE_SYNTAX);
    CU_ASSERT_EQUAL(wl_parse_timestamp("", &ns), WL_PARSE_EMPTY);
}

typedef struct {
    guint num_fields;
    guint64 line;
    char *joined; /* fields joined by '|' */
} RowCopy;

/* All rows (or the error) of a CSV text. */
static GArray *read_rows(const char *text, char **error_out)
{
    char *path = ss_test_write_file("r.csv", text);
    GError *error = NULL;
    WlCsvReader *r = wl_csv_reader_open(path, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    GArray *rows = g_array_new(FALSE, FALSE, sizeof(RowCopy));
    WlCsvRow row;
    int got;
    *error_out = NULL;
    while ((got = wl_csv_reader_next(r, &row, &error)) != 0) {
        if (got < 0) {
            *error_out = g_strdup(error->message + strlen(path));
            g_clear_error(&error);
            break;
        }
        RowCopy c = {row.num_fields, row.line, NULL};
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < row.num_fields; i++)
            g_string_append_printf(s, "%s%s", i ? "|" : "", row.fields[i]);
        c.joined = g_string_free(s, FALSE);
        g_array_append_val(rows, c);
    }
    wl_csv_reader_free(r);
    g_free(path);
    return rows;
}

static void free_rows(GArray *rows)
{
    for (guint i = 0; i < rows->len; i++)
        g_free(g_array_index(rows, RowCopy, i).joined);
    g_array_free(rows, TRUE);
}

#define ROW(a, i) (&g_array_index((a), RowCopy, (i)))

static void test_csv_reader(void)
{
    char *err = NULL;
    GArray *rows = read_rows("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\r\n\r\n\"multi\r\nline\",2\r\nlast,3", &err);
    CU_ASSERT_PTR_NULL(err);
    CU_ASSERT_EQUAL_FATAL(rows->len, 5);
    CU_ASSERT_STRING_EQUAL(ROW(rows, 0)->joined, "a|b");
    CU_ASSERT_EQUAL(ROW(rows, 0)->line, 1);
    CU_ASSERT_STRING_EQUAL(ROW(rows, 1)->joined, "x,1|say \"hi\"");
    CU_ASSERT_EQUAL(ROW(rows, 1)->line, 2);
    CU_ASSERT_EQUAL(ROW(rows, 2)->num_fields, 0); /* the blank line 3 */
    CU_ASSERT_EQUAL(ROW(rows, 2)->line, 3);
    CU_ASSERT_STRING_EQUAL(ROW(rows, 3)->joined, "multi\r\nline|2");
    CU_ASSERT_EQUAL(ROW(rows, 3)->line, 4);
    CU_ASSERT_STRING_EQUAL(ROW(rows, 4)->joined, "last|3");
    CU_ASSERT_EQUAL(ROW(rows, 4)->line, 6);
    free_rows(rows);
    /* Several blank lines in a row, then trailing ones (ignored). */
    rows = read_rows("h\n\n\n1\n\n\n", &err);
    CU_ASSERT_EQUAL_FATAL(rows->len, 4);
    CU_ASSERT_EQUAL(ROW(rows, 1)->num_fields, 0);
    CU_ASSERT_EQUAL(ROW(rows, 1)->line, 2);
    CU_ASSERT_EQUAL(ROW(rows, 2)->line, 3);
    CU_ASSERT_STRING_EQUAL(ROW(rows, 3)->joined, "1");
    CU_ASSERT_EQUAL(ROW(rows, 3)->line, 4);
    free_rows(rows);
    /* A bad line is reported in order and reading goes on after it. */
    char *path = ss_test_write_file("r.csv", "a\nb\"c\nd\n");
    GError *error = NULL;
    WlCsvReader *r = wl_csv_reader_open(path, &error);
    WlCsvRow row;
    CU_ASSERT_EQUAL(wl_csv_reader_next(r, &row, &error), 1);
    CU_ASSERT_EQUAL(wl_csv_reader_next(r, &row, &error), -1);
    CU_ASSERT_PTR_NOT_NULL(error);
    g_clear_error(&error);
    CU_ASSERT_FALSE(wl_csv_reader_broken(r));
    CU_ASSERT_EQUAL(wl_csv_reader_next(r, &row, &error), 1);
    CU_ASSERT_STRING_EQUAL(row.fields[0], "d");
    CU_ASSERT_EQUAL(row.line, 3);
    CU_ASSERT_EQUAL(wl_csv_reader_next(r, &row, &error), 0);
    wl_csv_reader_free(r);
    g_free(path);
}

static void test_rand_streams(void)
{
    /* Same (seed, name): same stream; another name or seed: another. */
    GRand *a = wl_rand_new_for(1, "class/chat/arrivals");
    GRand *b = wl_rand_new_for(1, "class/chat/arrivals");
    GRand *c = wl_rand_new_for(1, "class/chat/input");
    GRand *d = wl_rand_new_for(2, "class/chat/arrivals");
    guint32 xa = g_rand_int(a), xb = g_rand_int(b), xc = g_rand_int(c), xd = g_rand_int(d);
    CU_ASSERT_EQUAL(xa, xb);
    CU_ASSERT_NOT_EQUAL(xa, xc);
    CU_ASSERT_NOT_EQUAL(xa, xd);
    g_rand_free(a);
    g_rand_free(b);
    g_rand_free(c);
    g_rand_free(d);
    /* Gamma(k) has mean k and variance k, also for k < 1 (the boost).
     * 200k draws: SE(mean) = sqrt(k/n); tolerance 5 SE. SE(var)/var =
     * sqrt((6/k + 2)/n); tolerance 5 SE. */
    const double shapes[] = {0.25, 1.0, 4.0};
    GRand *r = wl_rand_new_for(3, "gamma");
    for (gsize i = 0; i < G_N_ELEMENTS(shapes); i++) {
        double k = shapes[i], sum = 0, sum2 = 0;
        const int n = 200000;
        for (int j = 0; j < n; j++) {
            double x = wl_rand_gamma(r, k);
            CU_ASSERT(x >= 0.0);
            sum += x;
            sum2 += x * x;
        }
        double mean = sum / n, var = sum2 / n - mean * mean;
        CU_ASSERT_DOUBLE_EQUAL(mean, k, 5 * sqrt(k / n));
        CU_ASSERT_DOUBLE_EQUAL(var, k, 5 * k * sqrt((6 / k + 2) / n));
    }
    /* Normal(0, 1) and exponential(1). */
    double s = 0, s2 = 0, e = 0;
    const int n = 200000;
    for (int j = 0; j < n; j++) {
        double z = wl_rand_normal(r);
        s += z;
        s2 += z * z;
        e += wl_rand_exponential(r);
    }
    CU_ASSERT_DOUBLE_EQUAL(s / n, 0.0, 5 / sqrt((double)n));
    CU_ASSERT_DOUBLE_EQUAL(s2 / n, 1.0, 5 * sqrt(2.0 / n));
    CU_ASSERT_DOUBLE_EQUAL(e / n, 1.0, 5 / sqrt((double)n));
    g_rand_free(r);
}

static const SsTestCase parse_cases[] = {
    {"integers", test_uint},
    {"decimals", test_double},
    {"timestamps", test_timestamp},
    {NULL, NULL},
};

static const SsTestCase csv_cases[] = {
    {"quoting, CRLF, blank lines, line numbers", test_csv_reader},
    {NULL, NULL},
};

static const SsTestCase rand_cases[] = {
    {"seeded streams and variates", test_rand_streams},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"parsers", parse_cases},
    {"csv", csv_cases},
    {"random", rand_cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
