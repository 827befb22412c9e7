/*
 * test_wl_lengths.c: length distributions, clamping, empirical columns and
 * shared prefixes of synthetic sources.
 *
 * Each statistical check draws 100k lengths from a fixed seed; tolerances
 * are stated next to the assertions in standard errors (SE), at least 4 SE.
 */
#include <math.h>

#include "ss_test.h"
#include "wl.h"

#define N_SAMPLES 100000

/* One class "a", constant 1000 req/s, output constant 1, input `input`. */
static void spec_with_input(WlSpec *s, const WlDistSpec *input, uint64_t n)
{
    wl_spec_init(s);
    s->arrival.kind = WL_ARRIVAL_CONSTANT;
    s->arrival.rate = 1000;
    s->num_requests = n;
    s->num_classes = 1;
    s->classes = g_new0(WlClassSpec, 1);
    s->classes[0].name = g_strdup("a");
    s->classes[0].share = 1;
    s->classes[0].input = *input;
    s->classes[0].input.path = g_strdup(input->path);
    s->classes[0].input.column = g_strdup(input->column);
    s->classes[0].output.kind = WL_DIST_CONSTANT;
    s->classes[0].output.value = 1;
}

typedef struct {
    double mean, sd;
    guint32 min, max;
    GHashTable *counts; /* value -> count */
} Sample;

static Sample draw_inputs(const WlDistSpec *d, guint64 seed)
{
    WlSpec s;
    spec_with_input(&s, d, N_SAMPLES);
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&s, seed, &error);
    if (!src)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    Sample out = {0, 0, G_MAXUINT32, 0, g_hash_table_new(NULL, NULL)};
    double sum = 0, sum2 = 0;
    WlRequest r;
    guint64 n = 0;
    while (wl_source_next(src, &r, &error) == 1) {
        double x = r.input_tokens;
        sum += x;
        sum2 += x * x;
        n++;
        out.min = MIN(out.min, r.input_tokens);
        out.max = MAX(out.max, r.input_tokens);
        gpointer key = GUINT_TO_POINTER(r.input_tokens);
        g_hash_table_insert(out.counts, key,
                            GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(out.counts, key)) + 1));
    }
    CU_ASSERT_EQUAL(n, N_SAMPLES);
    out.mean = sum / (double)n;
    out.sd = sqrt((sum2 - sum * sum / (double)n) / (double)(n - 1));
    wl_source_free(src);
    wl_spec_clear(&s);
    return out;
}

static guint count_of(const Sample *s, guint32 v)
{
    return GPOINTER_TO_UINT(g_hash_table_lookup(s->counts, GUINT_TO_POINTER(v)));
}

static void sample_free(Sample *s)
{
    g_hash_table_destroy(s->counts);
}

static void test_constant(void)
{
    WlDistSpec d = {.kind = WL_DIST_CONSTANT, .value = 30};
    Sample s = draw_inputs(&d, 1);
    CU_ASSERT_EQUAL(s.min, 30);
    CU_ASSERT_EQUAL(s.max, 30);
    sample_free(&s);
}

static void test_uniform(void)
{
    WlDistSpec d = {.kind = WL_DIST_UNIFORM, .min = 10, .max = 20};
    Sample s = draw_inputs(&d, 2);
    /* Integers 10..20: mean 15, sd sqrt((11^2-1)/12) = 3.162; SE(mean) =
     * 0.01 -> tolerance 0.05 (5 SE). Each of the 11 values has frequency
     * 1/11 = 0.0909, SE 0.0009 -> tolerance 0.0045 (5 SE). */
    CU_ASSERT_EQUAL(s.min, 10);
    CU_ASSERT_EQUAL(s.max, 20);
    CU_ASSERT_DOUBLE_EQUAL(s.mean, 15.0, 0.05);
    CU_ASSERT_DOUBLE_EQUAL(s.sd, sqrt(120.0 / 12.0), 0.05);
    for (guint32 v = 10; v <= 20; v++)
        CU_ASSERT_DOUBLE_EQUAL(count_of(&s, v) / (double)N_SAMPLES, 1.0 / 11.0, 0.0045);
    sample_free(&s);
}

static void test_normal(void)
{
    WlDistSpec d = {.kind = WL_DIST_NORMAL, .mean = 1000, .stddev = 100};
    Sample s = draw_inputs(&d, 3);
    /* Far from the clamp (1): SE(mean) = 100/sqrt(1e5) = 0.32 -> tolerance
     * 1.5 (4.7 SE); SE(sd) = 100/sqrt(2e5) = 0.22 -> tolerance 1.5 (6.7 SE;
     * rounding to integers adds 1/12 to the variance, negligible). */
    CU_ASSERT_DOUBLE_EQUAL(s.mean, 1000.0, 1.5);
    CU_ASSERT_DOUBLE_EQUAL(s.sd, 100.0, 1.5);
    sample_free(&s);
}

static void test_lognormal(void)
{
    WlDistSpec d = {.kind = WL_DIST_LOGNORMAL, .mean = 800, .stddev = 600};
    Sample s = draw_inputs(&d, 4);
    /* mean and sd of the lognormal itself. SE(mean) = 600/sqrt(1e5) = 1.9
     * -> tolerance 10 (5.3 SE). sd: excess kurtosis of this lognormal is
     * 14.9, so SE(sd)/sd = sqrt((14.9 + 2)/1e5)/2 = 0.65% -> tolerance 3.5%
     * (5.4 SE). */
    CU_ASSERT_DOUBLE_EQUAL(s.mean, 800.0, 10.0);
    CU_ASSERT_DOUBLE_EQUAL(s.sd, 600.0, 0.035 * 600.0);
    CU_ASSERT(s.min >= 1);
    sample_free(&s);
    /* No spread: exactly the mean. */
    WlDistSpec flat = {.kind = WL_DIST_LOGNORMAL, .mean = 250, .stddev = 0};
    s = draw_inputs(&flat, 4);
    CU_ASSERT_EQUAL(s.min, 250);
    CU_ASSERT_EQUAL(s.max, 250);
    sample_free(&s);
}

static void test_clamping(void)
{
    /* Normal(100, 50) clamped to [80, 120]: P(round(X) <= 80) = P(X < 80.5)
     * = Phi(-0.39) = 0.3483, same mass at 120 (P(X >= 119.5)). SE 0.0015 ->
     * tolerance 0.008 (5 SE). */
    WlDistSpec d = {.kind = WL_DIST_NORMAL, .mean = 100, .stddev = 50, .min = 80, .max = 120};
    Sample s = draw_inputs(&d, 5);
    CU_ASSERT_EQUAL(s.min, 80);
    CU_ASSERT_EQUAL(s.max, 120);
    double p = 0.5 * erfc(0.39 / sqrt(2.0));
    CU_ASSERT_DOUBLE_EQUAL(count_of(&s, 80) / (double)N_SAMPLES, p, 0.008);
    CU_ASSERT_DOUBLE_EQUAL(count_of(&s, 120) / (double)N_SAMPLES, p, 0.008);
    sample_free(&s);
    /* At least 1 token whatever the distribution says. */
    WlDistSpec low = {.kind = WL_DIST_NORMAL, .mean = 2, .stddev = 10};
    s = draw_inputs(&low, 5);
    CU_ASSERT_EQUAL(s.min, 1);
    CU_ASSERT(count_of(&s, 1) > N_SAMPLES / 3); /* P(X < 1.5) = 0.48 */
    sample_free(&s);
    /* Lognormal clamped above. */
    WlDistSpec tail = {.kind = WL_DIST_LOGNORMAL, .mean = 800, .stddev = 600, .min = 4, .max = 1000};
    s = draw_inputs(&tail, 5);
    CU_ASSERT(s.min >= 4);
    CU_ASSERT_EQUAL(s.max, 1000);
    sample_free(&s);
}

static void test_empirical_generated(void)
{
    /* Values 1..100 in the second column, quoted now and then: mean 50.5,
     * sd 28.87; SE(mean) = 0.091 -> tolerance 0.45 (5 SE). */
    GString *csv = g_string_new("id,tokens,other\n");
    for (int v = 1; v <= 100; v++)
        g_string_append_printf(csv, v % 7 == 0 ? "%d,\"%d\",x\n" : "%d,%d,y\n", 1000 + v, v);
    char *path = ss_test_write_file("lens.csv", csv->str);
    g_string_free(csv, TRUE);
    WlDistSpec d = {.kind = WL_DIST_EMPIRICAL, .path = path, .column = (char *)"tokens"};
    Sample s = draw_inputs(&d, 6);
    CU_ASSERT_DOUBLE_EQUAL(s.mean, 50.5, 0.45);
    CU_ASSERT_EQUAL(s.min, 1);
    CU_ASSERT_EQUAL(s.max, 100);
    CU_ASSERT_EQUAL(g_hash_table_size(s.counts), 100); /* every value drawn */
    sample_free(&s);
    /* Clamped. */
    d.min = 10;
    d.max = 50;
    s = draw_inputs(&d, 6);
    CU_ASSERT_EQUAL(s.min, 10);
    CU_ASSERT_EQUAL(s.max, 50);
    CU_ASSERT_DOUBLE_EQUAL(count_of(&s, 50) / (double)N_SAMPLES, 0.51, 0.008); /* 51..100 and 50 */
    sample_free(&s);
    g_free(path);
}

static void test_empirical_real_column(void)
{
    /* data/traces/azure-2023-code.csv, num_prefill_tokens: 8819 values,
     * mean 2047.85, sd 1973.77 (computed independently from the file).
     * SE(mean) = 1973.77/sqrt(1e5) = 6.24 -> tolerance 30 (4.8 SE). */
    char *path = g_build_filename(ss_test_data_dir(), "traces", "azure-2023-code.csv", NULL);
    WlDistSpec d = {.kind = WL_DIST_EMPIRICAL, .path = path, .column = (char *)"num_prefill_tokens"};
    Sample s = draw_inputs(&d, 7);
    CU_ASSERT_DOUBLE_EQUAL(s.mean, 2047.85, 30.0);
    CU_ASSERT_DOUBLE_EQUAL(s.sd, 1973.77, 0.03 * 1973.77);
    CU_ASSERT_EQUAL(s.min, 3);
    CU_ASSERT_EQUAL(s.max, 7437);
    sample_free(&s);
    g_free(path);
}

static void expect_empirical_error(const char *text, const char *column, const char *message_tail)
{
    char *path = ss_test_write_file("lens.csv", text);
    WlDistSpec d = {.kind = WL_DIST_EMPIRICAL, .path = path, .column = (char *)column};
    WlSpec s;
    spec_with_input(&s, &d, 10);
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&s, 1, &error);
    CU_ASSERT_PTR_NULL(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    char *expected = g_strdup_printf("%s%s", path, message_tail);
    if (strcmp(error->message, expected) != 0)
        fprintf(stderr, "\n  got      %s\n  expected %s\n", error->message, expected);
    CU_ASSERT_STRING_EQUAL(error->message, expected);
    CU_ASSERT_EQUAL(error->code, 3);
    g_free(expected);
    g_error_free(error);
    wl_source_free(src);
    wl_spec_clear(&s);
    g_free(path);
}

static void test_empirical_errors(void)
{
    expect_empirical_error("a,tokens\n1,5\n2,x\n", "tokens",
                           ":3:2: column 'tokens': expected a positive integer, got 'x'");
    expect_empirical_error("a,tokens\n1,5\n2,0\n", "tokens",
                           ":3:2: column 'tokens': expected a positive integer, got '0'");
    expect_empirical_error("a,tokens\n1,5\n2\n", "tokens",
                           ":3:2: column 'tokens': expected a positive integer, got no field (the "
                           "row has 1 field)");
    expect_empirical_error("a,tokens\n1,5\n\n2,6\n", "tokens",
                           ":3:1: expected a data row, got an empty row");
    expect_empirical_error("a,b\n1,5\n", "tokens",
                           ":1: expected a column 'tokens', got the header 'a,b'");
    expect_empirical_error("a,tokens\n", "tokens",
                           ": column 'tokens': expected at least one value, got no data rows");
    expect_empirical_error("", "tokens", ": expected a header line, got an empty file");
    /* A missing file. */
    WlDistSpec d = {.kind = WL_DIST_EMPIRICAL, .path = (char *)"/nonexistent/x.csv", .column = (char *)"t"};
    WlSpec s;
    spec_with_input(&s, &d, 10);
    GError *error = NULL;
    CU_ASSERT_PTR_NULL(wl_source_new_synthetic(&s, 1, &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    SS_ASSERT_CONTAINS(error->message, "/nonexistent/x.csv: cannot open: ");
    g_error_free(error);
    wl_spec_clear(&s);
}

static void test_prefix_groups(void)
{
    WlSpec s;
    wl_spec_init(&s);
    s.arrival.kind = WL_ARRIVAL_POISSON;
    s.arrival.rate = 50;
    s.num_requests = 120000;
    s.num_classes = 3;
    s.classes = g_new0(WlClassSpec, 3);
    const char *names[] = {"a", "plain", "b"};
    for (int i = 0; i < 3; i++) {
        s.classes[i].name = g_strdup(names[i]);
        s.classes[i].share = 1;
        s.classes[i].output.kind = WL_DIST_CONSTANT;
        s.classes[i].output.value = 3;
    }
    s.classes[0].input.kind = WL_DIST_CONSTANT; /* a: 4 groups of 100 tokens + 10 */
    s.classes[0].input.value = 10;
    s.classes[0].prefix_groups = 4;
    s.classes[0].prefix_tokens = 100;
    s.classes[1].input.kind = WL_DIST_CONSTANT; /* plain: no prefix */
    s.classes[1].input.value = 7;
    s.classes[2].input.kind = WL_DIST_UNIFORM; /* b: 3 groups of 50 tokens + 1..5 */
    s.classes[2].input.min = 1;
    s.classes[2].input.max = 5;
    s.classes[2].prefix_groups = 3;
    s.classes[2].prefix_tokens = 50;
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&s, 8, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    guint64 groups[9] = {0};
    guint64 per_class[3] = {0};
    WlRequest r;
    while (wl_source_next(src, &r, &error) == 1) {
        per_class[r.class_id]++;
        if (r.class_id == 0) {
            CU_ASSERT(r.prefix_group >= 1 && r.prefix_group <= 4);
            CU_ASSERT_EQUAL(r.shared_prefix_tokens, 100);
            CU_ASSERT_EQUAL(r.input_tokens, 110);
        } else if (r.class_id == 1) {
            CU_ASSERT_EQUAL(r.prefix_group, 0);
            CU_ASSERT_EQUAL(r.shared_prefix_tokens, 0);
            CU_ASSERT_EQUAL(r.input_tokens, 7);
        } else {
            /* ids continue after class a's (class "plain" has none): 5..7 */
            CU_ASSERT(r.prefix_group >= 5 && r.prefix_group <= 7);
            CU_ASSERT_EQUAL(r.shared_prefix_tokens, 50);
            CU_ASSERT(r.input_tokens >= 51 && r.input_tokens <= 55);
        }
        if (r.prefix_group < 9)
            groups[r.prefix_group]++;
    }
    /* Uniform choice: each of a's 4 groups gets 1/4 of a's requests (n about
     * 40k, SE 0.0022 -> tolerance 0.011, 5 SE); each of b's 3 groups 1/3. */
    for (int g = 1; g <= 4; g++)
        CU_ASSERT_DOUBLE_EQUAL(groups[g] / (double)per_class[0], 0.25, 0.011);
    for (int g = 5; g <= 7; g++)
        CU_ASSERT_DOUBLE_EQUAL(groups[g] / (double)per_class[2], 1.0 / 3.0, 0.012);
    CU_ASSERT_EQUAL(groups[8], 0);
    wl_source_free(src);
    wl_spec_clear(&s);
}

static const SsTestCase dist_cases[] = {
    {"constant", test_constant},
    {"uniform integers", test_uniform},
    {"normal mean and stddev", test_normal},
    {"lognormal mean and stddev", test_lognormal},
    {"clamping to min and max", test_clamping},
    {"empirical column of a generated file", test_empirical_generated},
    {"empirical column of the Azure code trace", test_empirical_real_column},
    {"empirical file errors", test_empirical_errors},
    {NULL, NULL},
};

static const SsTestCase prefix_cases[] = {
    {"prefix group ids, uniform choice, input = L + draw", test_prefix_groups},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"lengths", dist_cases},
    {"prefixes", prefix_cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
