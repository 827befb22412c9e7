/*
 * test_wl_arrivals.c: synthetic arrival processes, classes, stop rules,
 * determinism and stream independence.
 *
 * Statistical checks draw 100k-200k samples from a fixed seed; each tolerance
 * is stated next to its assertion as a multiple of the standard error (SE)
 * of the estimate, at least 4 SE, so a correct generator passes for any seed
 * with overwhelming probability and a wrong parameter (e.g. a rate off by
 * 5%, a CV off by 10%) fails.
 */
#include <math.h>

#include "ss_test.h"
#include "wl.h"

static void set_const_dist(WlDistSpec *d, double v)
{
    memset(d, 0, sizeof *d);
    d->kind = WL_DIST_CONSTANT;
    d->value = v;
}

/* A spec with `n` classes named c0, c1, ... of equal share, constant lengths. */
static void spec_init_classes(WlSpec *s, WlArrivalKind kind, double rate, guint n,
                              uint64_t num_requests)
{
    wl_spec_init(s);
    s->arrival.kind = kind;
    s->arrival.rate = rate;
    s->num_requests = num_requests;
    s->num_classes = n;
    s->classes = g_new0(WlClassSpec, n);
    for (guint i = 0; i < n; i++) {
        s->classes[i].name = g_strdup_printf("c%u", i);
        s->classes[i].share = 1.0;
        set_const_dist(&s->classes[i].input, 100);
        set_const_dist(&s->classes[i].output, 10);
    }
}

/* All requests of a source (asserting success). */
static GArray *drain(const WlSpec *spec, guint64 seed)
{
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(spec, seed, &error);
    if (!src)
        fprintf(stderr, "\n  %s\n", error->message);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(WlRequest));
    WlRequest r;
    int got;
    while ((got = wl_source_next(src, &r, &error)) == 1)
        g_array_append_val(out, r);
    CU_ASSERT_EQUAL(got, 0);
    CU_ASSERT_PTR_NULL(error);
    wl_source_free(src);
    return out;
}

typedef struct {
    double mean, var;
    guint64 n;
} Moments;

/* Mean and variance of the gaps between consecutive arrivals, in seconds. */
static Moments gap_moments(const GArray *reqs)
{
    Moments m = {0, 0, 0};
    double sum = 0, sum2 = 0;
    for (guint i = 1; i < reqs->len; i++) {
        const WlRequest *a = &g_array_index(reqs, WlRequest, i - 1);
        const WlRequest *b = &g_array_index(reqs, WlRequest, i);
        double g = sim_time_to_seconds(b->arrival - a->arrival);
        sum += g;
        sum2 += g * g;
        m.n++;
    }
    m.mean = sum / (double)m.n;
    m.var = (sum2 - sum * sum / (double)m.n) / (double)(m.n - 1);
    return m;
}

static void assert_ordered_ids(const GArray *reqs)
{
    for (guint i = 0; i < reqs->len; i++) {
        const WlRequest *r = &g_array_index(reqs, WlRequest, i);
        CU_ASSERT_EQUAL(r->id, i);
        if (i > 0)
            CU_ASSERT(r->arrival >= g_array_index(reqs, WlRequest, i - 1).arrival);
    }
}

static void test_poisson(void)
{
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_POISSON, 10.0, 1, 200001);
    GArray *reqs = drain(&s, 7);
    CU_ASSERT_EQUAL(reqs->len, 200001);
    assert_ordered_ids(reqs);
    Moments m = gap_moments(reqs);
    /* Exponential(10/s): mean 0.1 s, variance 0.01 s^2. n = 200k gaps:
     * SE(mean) = 0.1/sqrt(n) = 0.22% -> tolerance 1% (4.5 SE);
     * SE(var)/var = sqrt(8/n) = 0.63% -> tolerance 4% (6 SE). */
    CU_ASSERT_DOUBLE_EQUAL(m.mean, 0.1, 0.001);
    CU_ASSERT_DOUBLE_EQUAL(m.var, 0.01, 0.0004);
    CU_ASSERT(g_array_index(reqs, WlRequest, 0).arrival > 0); /* first one gap after 0 */
    g_array_free(reqs, TRUE);
    wl_spec_clear(&s);
}

static void check_gamma(double cv, double tol_cv_rel)
{
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_GAMMA, 10.0, 1, 200001);
    s.arrival.cv = cv;
    GArray *reqs = drain(&s, 11);
    Moments m = gap_moments(reqs);
    double got_cv = sqrt(m.var) / m.mean;
    /* SE(mean)/mean = cv/sqrt(n): 0.11% (cv 0.5), 0.45% (2), 0.9% (4);
     * tolerance 5 SE. The CV's relative SE combines that with
     * SE(s)/s = sqrt((6/k + 2)/n)/2 (k = 1/cv^2): about 0.15%, 0.6%, 1.4%;
     * tolerances 1%, 3%, 6% (>= 4 SE). */
    CU_ASSERT_DOUBLE_EQUAL(m.mean, 0.1, 0.1 * 5 * cv / sqrt((double)m.n));
    if (fabs(got_cv - cv) > tol_cv_rel * cv)
        fprintf(stderr, "\n  gamma cv %g: got %g\n", cv, got_cv);
    CU_ASSERT_DOUBLE_EQUAL(got_cv, cv, tol_cv_rel * cv);
    g_array_free(reqs, TRUE);
    wl_spec_clear(&s);
}

static void test_gamma_cv(void)
{
    check_gamma(0.5, 0.01);
    check_gamma(2.0, 0.03);
    check_gamma(4.0, 0.06);
}

static void test_constant_spacing(void)
{
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_CONSTANT, 4.0, 1, 1000);
    GArray *reqs = drain(&s, 1);
    CU_ASSERT_EQUAL(reqs->len, 1000);
    for (guint i = 0; i < reqs->len; i++)
        CU_ASSERT_EQUAL(g_array_index(reqs, WlRequest, i).arrival, (SimTime)i * 250 * SIM_TIME_MS);
    g_array_free(reqs, TRUE);
    wl_spec_clear(&s);
    /* 3 req/s: k/3 s, rounded once to the nearest ns (no drift). */
    spec_init_classes(&s, WL_ARRIVAL_CONSTANT, 3.0, 1, 30001);
    reqs = drain(&s, 1);
    CU_ASSERT_EQUAL(g_array_index(reqs, WlRequest, 1).arrival, 333333333);
    CU_ASSERT_EQUAL(g_array_index(reqs, WlRequest, 2).arrival, 666666667);
    CU_ASSERT_EQUAL(g_array_index(reqs, WlRequest, 30000).arrival, 10000 * SIM_TIME_S);
    g_array_free(reqs, TRUE);
    wl_spec_clear(&s);
}

static void set_points(WlSpec *s, guint n, const double *times, const double *rates)
{
    s->arrival.kind = WL_ARRIVAL_PIECEWISE;
    s->arrival.num_points = n;
    s->arrival.times_s = g_memdup2(times, n * sizeof(double));
    s->arrival.rates = g_memdup2(rates, n * sizeof(double));
}

static void test_piecewise(void)
{
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_PIECEWISE, 0, 1, 0);
    const double times[] = {0, 1000, 2000, 3000};
    const double rates[] = {50, 200, 0, 100};
    set_points(&s, 4, times, rates);
    s.duration_s = 4000;
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&s, 3, &error);
    CU_ASSERT_PTR_NOT_NULL_FATAL(src);
    /* Expected mean rate over the 4000 s: (50k + 200k + 0 + 100k) / 4000. */
    CU_ASSERT_DOUBLE_EQUAL(wl_source_offered_rate(src), 87.5, 1e-9);
    SS_ASSERT_CONTAINS(wl_source_describe(src), "piecewise 4 points");
    guint64 counts[4] = {0, 0, 0, 0};
    WlRequest r;
    double sum_gap = 0, last = -1;
    guint64 n_gap = 0;
    while (wl_source_next(src, &r, &error) == 1) {
        double t = sim_time_to_seconds(r.arrival);
        CU_ASSERT(t < 4000.0);
        counts[(int)(t / 1000.0)]++;
        if (t >= 1000.0 && last >= 1000.0 && t < 2000.0) {
            sum_gap += t - last;
            n_gap++;
        }
        last = t;
    }
    /* Counts are Poisson: SE = sqrt(count): 224 (0.45%), 447 (0.22%), 316
     * (0.32%); tolerance 2% (>= 4.5 SE). No arrival while the rate is 0. */
    CU_ASSERT_DOUBLE_EQUAL(counts[0], 50000, 1000);
    CU_ASSERT_DOUBLE_EQUAL(counts[1], 200000, 4000);
    CU_ASSERT_EQUAL(counts[2], 0);
    CU_ASSERT_DOUBLE_EQUAL(counts[3], 100000, 2000);
    /* Gaps inside the 200/s interval: mean 5 ms, SE 0.22% -> tolerance 1%. */
    CU_ASSERT_DOUBLE_EQUAL(sum_gap / (double)n_gap, 0.005, 0.00005);
    wl_source_free(src);
    wl_spec_clear(&s);
}

static void test_piecewise_edges(void)
{
    /* Starts at rate 0: nothing before 10 s. */
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_PIECEWISE, 0, 1, 100);
    const double t1[] = {0, 10};
    const double r1[] = {0, 5};
    set_points(&s, 2, t1, r1);
    GArray *reqs = drain(&s, 5);
    CU_ASSERT_EQUAL(reqs->len, 100);
    CU_ASSERT(g_array_index(reqs, WlRequest, 0).arrival >= 10 * SIM_TIME_S);
    g_array_free(reqs, TRUE);
    wl_spec_clear(&s);
    /* Ends at rate 0: the source ends by itself, about 5 x 100 = 500 arrivals
     * (Poisson, SE 22; tolerance 5 SE), all before 100 s. */
    spec_init_classes(&s, WL_ARRIVAL_PIECEWISE, 0, 1, 1000000);
    const double t2[] = {0, 100};
    const double r2[] = {5, 0};
    set_points(&s, 2, t2, r2);
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&s, 5, &error);
    CU_ASSERT_DOUBLE_EQUAL(wl_source_offered_rate(src), 5.0, 1e-9);
    wl_source_free(src);
    reqs = drain(&s, 5);
    CU_ASSERT_DOUBLE_EQUAL(reqs->len, 500, 110);
    CU_ASSERT(g_array_index(reqs, WlRequest, reqs->len - 1).arrival < 100 * SIM_TIME_S);
    g_array_free(reqs, TRUE);
    wl_spec_clear(&s);
    /* A count limit: the offered rate is over the time the count takes:
     * 1500 requests = 500 in [0,100) at 5/s + 1000 at 20/s -> 150 s. */
    spec_init_classes(&s, WL_ARRIVAL_PIECEWISE, 0, 1, 1500);
    const double t3[] = {0, 100};
    const double r3[] = {5, 20};
    set_points(&s, 2, t3, r3);
    src = wl_source_new_synthetic(&s, 5, &error);
    CU_ASSERT_DOUBLE_EQUAL(wl_source_offered_rate(src), 10.0, 1e-9);
    wl_source_free(src);
    wl_spec_clear(&s);
}

static void test_class_shares(void)
{
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_POISSON, 100.0, 3, 100000);
    s.classes[0].share = 5; /* normalised: 0.5, 0.3, 0.2 */
    s.classes[1].share = 3;
    s.classes[2].share = 2;
    s.classes[1].input.value = 200;
    GError *error = NULL;
    WlSource *src = wl_source_new_synthetic(&s, 9, &error);
    CU_ASSERT_EQUAL(wl_source_num_classes(src), 3);
    CU_ASSERT_STRING_EQUAL(wl_source_class_name(src, 1), "c1");
    CU_ASSERT_STRING_EQUAL(wl_source_describe(src), "poisson 100 req/s, 3 classes, 100000 requests");
    CU_ASSERT_DOUBLE_EQUAL(wl_source_offered_rate(src), 100.0, 0);
    guint64 counts[3] = {0, 0, 0};
    WlRequest r;
    SimTime prev = 0;
    while (wl_source_next(src, &r, &error) == 1) {
        counts[r.class_id]++;
        CU_ASSERT(r.arrival >= prev);
        prev = r.arrival;
        CU_ASSERT_EQUAL(r.input_tokens, r.class_id == 1 ? 200u : 100u);
    }
    /* Fractions: SE = sqrt(p(1-p)/n) <= 0.0016; tolerance 0.008 (5 SE). */
    CU_ASSERT_DOUBLE_EQUAL(counts[0] / 1e5, 0.5, 0.008);
    CU_ASSERT_DOUBLE_EQUAL(counts[1] / 1e5, 0.3, 0.008);
    CU_ASSERT_DOUBLE_EQUAL(counts[2] / 1e5, 0.2, 0.008);
    /* Each class is a Poisson process at share x rate: the overall time
     * span is about 100000/100 = 1000 s (SE 0.3%). */
    CU_ASSERT_DOUBLE_EQUAL(sim_time_to_seconds(prev), 1000.0, 15.0);
    wl_source_free(src);
    wl_spec_clear(&s);
}

static void test_ties_by_class_index(void)
{
    /* Two constant classes at 1/s each: both arrive at 0, 1, 2, ... s; the
     * lower class index goes first. */
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_CONSTANT, 2.0, 2, 10);
    GArray *reqs = drain(&s, 1);
    CU_ASSERT_EQUAL(reqs->len, 10);
    for (guint i = 0; i < reqs->len; i++) {
        const WlRequest *r = &g_array_index(reqs, WlRequest, i);
        CU_ASSERT_EQUAL(r->class_id, i % 2);
        CU_ASSERT_EQUAL(r->arrival, (SimTime)(i / 2) * SIM_TIME_S);
    }
    g_array_free(reqs, TRUE);
    wl_spec_clear(&s);
}

static void test_stop_rules(void)
{
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_POISSON, 10.0, 1, 1234);
    GArray *reqs = drain(&s, 1);
    CU_ASSERT_EQUAL(reqs->len, 1234);
    CU_ASSERT_EQUAL(g_array_index(reqs, WlRequest, 1233).id, 1233);
    g_array_free(reqs, TRUE);
    /* Duration only: arrivals in [0, 100 s); about 1000 (SE 32, tolerance 5 SE). */
    s.num_requests = 0;
    s.duration_s = 100;
    reqs = drain(&s, 1);
    CU_ASSERT_DOUBLE_EQUAL(reqs->len, 1000, 160);
    CU_ASSERT(g_array_index(reqs, WlRequest, reqs->len - 1).arrival < 100 * SIM_TIME_S);
    g_array_free(reqs, TRUE);
    /* Both: whichever comes first. */
    s.num_requests = 50;
    reqs = drain(&s, 1);
    CU_ASSERT_EQUAL(reqs->len, 50);
    g_array_free(reqs, TRUE);
    /* Constant 1/s for 10 s: arrivals 0..9 (the end is exclusive). */
    wl_spec_clear(&s);
    spec_init_classes(&s, WL_ARRIVAL_CONSTANT, 1.0, 1, 0);
    s.duration_s = 10;
    reqs = drain(&s, 1);
    CU_ASSERT_EQUAL(reqs->len, 10);
    g_array_free(reqs, TRUE);
    wl_spec_clear(&s);
}

static gboolean same_requests(const GArray *a, const GArray *b)
{
    if (a->len != b->len)
        return FALSE;
    return memcmp(a->data, b->data, a->len * sizeof(WlRequest)) == 0;
}

static void richer_classes(WlSpec *s)
{
    spec_init_classes(s, WL_ARRIVAL_GAMMA, 20.0, 2, 20000);
    s->arrival.cv = 2.0;
    WlClassSpec *a = &s->classes[0];
    a->input.kind = WL_DIST_LOGNORMAL;
    a->input.mean = 800;
    a->input.stddev = 600;
    a->output.kind = WL_DIST_NORMAL;
    a->output.mean = 200;
    a->output.stddev = 50;
    a->prefix_groups = 4;
    a->prefix_tokens = 100;
}

static void test_determinism(void)
{
    WlSpec s;
    richer_classes(&s);
    GArray *x = drain(&s, 42);
    GArray *y = drain(&s, 42);
    GArray *z = drain(&s, 43);
    CU_ASSERT_EQUAL(x->len, 20000);
    CU_ASSERT(same_requests(x, y));
    CU_ASSERT_FALSE(same_requests(x, z));
    /* A different seed changes every stream, not just one. */
    guint differ_in = 0, differ_arr = 0;
    for (guint i = 0; i < MIN(x->len, z->len); i++) {
        differ_in += g_array_index(x, WlRequest, i).input_tokens !=
                     g_array_index(z, WlRequest, i).input_tokens;
        differ_arr += g_array_index(x, WlRequest, i).arrival != g_array_index(z, WlRequest, i).arrival;
    }
    CU_ASSERT(differ_in > 1000);
    CU_ASSERT(differ_arr > 1000);
    g_array_free(x, TRUE);
    g_array_free(y, TRUE);
    g_array_free(z, TRUE);
    wl_spec_clear(&s);
}

/* The requests of one class, without ids (which depend on the merge). */
static GArray *class_only(const GArray *reqs, guint16 class_id)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(WlRequest));
    for (guint i = 0; i < reqs->len; i++) {
        WlRequest r = g_array_index(reqs, WlRequest, i);
        if (r.class_id == class_id) {
            r.id = 0;
            g_array_append_val(out, r);
        }
    }
    return out;
}

static void test_independence(void)
{
    WlSpec s;
    richer_classes(&s);
    s.num_requests = 0;
    s.duration_s = 500;
    GArray *base = drain(&s, 5);
    GArray *a_base = class_only(base, 0);
    CU_ASSERT(a_base->len > 4000);

    /* Change everything about class B but its share. */
    WlSpec t;
    wl_spec_copy(&t, &s);
    WlClassSpec *b = &t.classes[1];
    b->input.kind = WL_DIST_UNIFORM;
    b->input.min = 5;
    b->input.max = 5000;
    b->output.kind = WL_DIST_LOGNORMAL;
    b->output.mean = 300;
    b->output.stddev = 400;
    b->prefix_groups = 7;
    b->prefix_tokens = 64;
    g_free(b->name);
    b->name = g_strdup("renamed");
    GArray *changed = drain(&t, 5);
    GArray *a_changed = class_only(changed, 0);
    CU_ASSERT(same_requests(a_base, a_changed));
    CU_ASSERT_FALSE(same_requests(base, changed));

    /* Add a class C and keep A's normalised share (1/2). */
    WlSpec u;
    wl_spec_init(&u);
    u = s;
    u.num_classes = 3;
    u.classes = g_new0(WlClassSpec, 3);
    u.classes[0] = s.classes[0];
    u.classes[1] = s.classes[1];
    u.classes[1].share = 0.6;
    u.classes[2] = s.classes[1];
    u.classes[2].share = 0.4;
    u.classes[2].name = "c2";
    GArray *added = drain(&u, 5);
    GArray *a_added = class_only(added, 0);
    CU_ASSERT(same_requests(a_base, a_added));
    g_free(u.classes); /* the rest is borrowed from s */

    g_array_free(base, TRUE);
    g_array_free(a_base, TRUE);
    g_array_free(changed, TRUE);
    g_array_free(a_changed, TRUE);
    g_array_free(added, TRUE);
    g_array_free(a_added, TRUE);
    wl_spec_clear(&t);
    wl_spec_clear(&s);
}

static void test_scale_rate_and_copy(void)
{
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_PIECEWISE, 0, 1, 10);
    const double times[] = {0, 10};
    const double rates[] = {2, 4};
    set_points(&s, 2, times, rates);
    WlSpec c;
    wl_spec_copy(&c, &s);
    wl_spec_scale_rate(&c, 2.5);
    CU_ASSERT_DOUBLE_EQUAL(c.arrival.rates[0], 5.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(c.arrival.rates[1], 10.0, 0);
    CU_ASSERT_DOUBLE_EQUAL(s.arrival.rates[0], 2.0, 0); /* a deep copy */
    CU_ASSERT_STRING_EQUAL(c.classes[0].name, "c0");
    CU_ASSERT_PTR_NOT_EQUAL(c.classes[0].name, s.classes[0].name);
    wl_spec_clear(&c);
    wl_spec_clear(&s);
}

static void expect_invalid(const WlSpec *s, const char *message)
{
    GError *error = NULL;
    CU_ASSERT_FALSE(wl_spec_validate(s, "s.json", &error));
    CU_ASSERT_PTR_NOT_NULL_FATAL(error);
    CU_ASSERT_EQUAL(error->code, 3);
    if (strcmp(error->message, message) != 0)
        fprintf(stderr, "\n  got      %s\n  expected %s\n", error->message, message);
    CU_ASSERT_STRING_EQUAL(error->message, message);
    g_clear_error(&error);
    WlSource *src = wl_source_new_synthetic(s, 1, &error);
    CU_ASSERT_PTR_NULL(src);
    CU_ASSERT_PTR_NOT_NULL(error);
    g_clear_error(&error);
}

static void test_validate(void)
{
    WlSpec s;
    spec_init_classes(&s, WL_ARRIVAL_POISSON, 10.0, 2, 100);
    GError *error = NULL;
    CU_ASSERT_TRUE(wl_spec_validate(&s, "s.json", &error));
    s.arrival.rate = -1;
    expect_invalid(&s, "s.json: workload.arrival.rate: expected a positive number, got -1");
    s.arrival.rate = 10;
    s.arrival.kind = WL_ARRIVAL_GAMMA;
    expect_invalid(&s, "s.json: workload.arrival.cv: expected a positive number, got 0");
    s.arrival.kind = WL_ARRIVAL_POISSON;
    s.classes[1].input.stddev = -2;
    s.classes[1].input.kind = WL_DIST_NORMAL;
    s.classes[1].input.mean = 10;
    expect_invalid(&s, "s.json: workload.classes[1].input.stddev: expected a non-negative "
                       "number, got -2");
    s.classes[1].input.stddev = 2;
    s.classes[1].input.max = 0.5;
    expect_invalid(&s, "s.json: workload.classes[1].input.max: expected 0 (no limit) or a number "
                       "from 1 to 1000000000, got 0.5");
    s.classes[1].input.max = 0;
    s.classes[0].output.kind = WL_DIST_UNIFORM;
    s.classes[0].output.min = 10;
    s.classes[0].output.max = 5;
    expect_invalid(&s, "s.json: workload.classes[0].output.max: expected an integer from 10 (min) "
                       "to 1000000000, got 5");
    s.classes[0].output.max = 20;
    s.classes[1].share = 0;
    expect_invalid(&s, "s.json: workload.classes[1].share: expected a positive number, got 0");
    s.classes[1].share = 1;
    g_free(s.classes[1].name);
    s.classes[1].name = g_strdup("c0");
    expect_invalid(&s, "s.json: workload.classes[1].name: expected a name not used by another "
                       "class, got 'c0' (also classes[0])");
    s.classes[0].prefix_groups = 3;
    expect_invalid(&s, "s.json: workload.classes[0].prefix.tokens: expected a positive integer "
                       "when prefix.groups is set, got 0");
    s.classes[0].prefix_groups = 0;
    g_free(s.classes[1].name);
    s.classes[1].name = g_strdup("c1");
    s.num_requests = 0;
    expect_invalid(&s, "s.json: workload.num_requests: expected a positive integer (or a positive "
                       "workload.duration_s), got 0");
    s.num_requests = 5;
    s.arrival.kind = WL_ARRIVAL_PIECEWISE;
    const double times[] = {0, 10, 5};
    const double rates[] = {1, 2, 3};
    set_points(&s, 3, times, rates);
    expect_invalid(&s, "s.json: workload.arrival.points[2][0]: expected a time after 10, got 5");
    s.arrival.times_s[2] = 20;
    s.arrival.rates[0] = s.arrival.rates[1] = s.arrival.rates[2] = 0;
    expect_invalid(&s, "s.json: workload.arrival.points: expected at least one positive rate, got "
                       "only zeros");
    wl_spec_clear(&s);
}

static const SsTestCase arrival_cases[] = {
    {"poisson inter-arrival mean and variance", test_poisson},
    {"gamma coefficient of variation 0.5, 2, 4", test_gamma_cv},
    {"constant spacing", test_constant_spacing},
    {"piecewise rates per interval", test_piecewise},
    {"piecewise zero rates at either end", test_piecewise_edges},
    {NULL, NULL},
};

static const SsTestCase class_cases[] = {
    {"class shares", test_class_shares},
    {"ties broken by class index", test_ties_by_class_index},
    {"stop after num_requests or duration", test_stop_rules},
    {"same seed same sequence, other seed other", test_determinism},
    {"changing class B leaves class A identical", test_independence},
    {"copy and rate scaling", test_scale_rate_and_copy},
    {"validation messages", test_validate},
    {NULL, NULL},
};

static const SsTestSuite suites[] = {
    {"arrivals", arrival_cases},
    {"classes", class_cases},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    return ss_test_main(argc, argv, suites);
}
