/*
 * test_sim_queue.c: the event queue against a naive sorted array (random
 * pushes and pops, many equal times, which must pop in FIFO order), and the
 * statistics helpers against values computed by hand.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim_metrics.h"
#include "sim_queue.h"
#include "ss_test.h"

typedef struct {
    SimTime time;
    uint64_t seq;
    uint64_t data;
} Ref;

/* the reference: an array kept sorted by (time, seq) with insertion */
static void ref_insert(Ref *a, size_t *n, Ref r)
{
    size_t i = *n;
    while (i > 0 && (a[i - 1].time > r.time || (a[i - 1].time == r.time && a[i - 1].seq > r.seq))) {
        a[i] = a[i - 1];
        i--;
    }
    a[i] = r;
    (*n)++;
}

static void test_queue_vs_sorted_array(void)
{
    enum { OPS = 200000 };
    GRand *rng = g_rand_new_with_seed(7);
    SimQueue *q = sim_queue_new();
    Ref *ref = g_new(Ref, OPS);
    size_t n = 0;
    uint64_t payload = 0;
    for (int op = 0; op < OPS; op++) {
        gboolean push = n == 0 || g_rand_int_range(rng, 0, 100) < 55;
        if (push) {
            /* few distinct times, so that ties are frequent */
            SimTime t = (SimTime)g_rand_int_range(rng, 0, 50);
            uint64_t seq = sim_queue_push(q, t, 1, payload);
            ref_insert(ref, &n, (Ref){t, seq, payload});
            payload++;
        } else {
            SimEvent ev;
            CU_ASSERT_FATAL(sim_queue_pop(q, &ev));
            CU_ASSERT_EQUAL_FATAL(ev.time, ref[0].time);
            CU_ASSERT_EQUAL_FATAL(ev.seq, ref[0].seq);
            CU_ASSERT_EQUAL_FATAL(ev.data, ref[0].data);
            memmove(ref, ref + 1, (n - 1) * sizeof *ref);
            n--;
        }
        CU_ASSERT_EQUAL_FATAL(sim_queue_size(q), n);
        if (n)
            CU_ASSERT_EQUAL_FATAL(sim_queue_peek(q)->seq, ref[0].seq);
    }
    /* drain: non-decreasing times, FIFO among equal times */
    SimEvent prev = {0}, ev;
    gboolean first = TRUE;
    while (sim_queue_pop(q, &ev)) {
        if (!first) {
            CU_ASSERT_FATAL(ev.time > prev.time || (ev.time == prev.time && ev.seq > prev.seq));
        }
        prev = ev;
        first = FALSE;
    }
    CU_ASSERT_PTR_NULL(sim_queue_peek(q));
    CU_ASSERT_FALSE(sim_queue_pop(q, &ev));
    g_free(ref);
    sim_queue_free(q);
    g_rand_free(rng);
}

static void test_queue_equal_times_fifo(void)
{
    SimQueue *q = sim_queue_new();
    for (uint64_t i = 0; i < 1000; i++)
        sim_queue_push(q, 5, 0, i);
    sim_queue_push(q, 4, 0, 9999);
    SimEvent ev;
    CU_ASSERT(sim_queue_pop(q, &ev));
    CU_ASSERT_EQUAL(ev.data, 9999);
    for (uint64_t i = 0; i < 1000; i++) {
        CU_ASSERT_FATAL(sim_queue_pop(q, &ev));
        CU_ASSERT_EQUAL_FATAL(ev.data, i);
    }
    sim_queue_free(q);
}

static void test_percentiles_by_hand(void)
{
    double v[] = {5, 1, 4, 2, 3};
    SimStats st;
    sim_stats_compute(v, 5, &st);
    CU_ASSERT_EQUAL(st.count, 5);
    CU_ASSERT_DOUBLE_EQUAL(st.mean, 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.p50, 3.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.p90, 4.6, 1e-12); /* rank 3.6: 4 + 0.6 * (5 - 4) */
    CU_ASSERT_DOUBLE_EQUAL(st.p99, 4.96, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.max, 5.0, 1e-12);
    double one[] = {7};
    sim_stats_compute(one, 1, &st);
    CU_ASSERT_DOUBLE_EQUAL(st.p50, 7.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.p99, 7.0, 1e-12);
    sim_stats_compute(NULL, 0, &st);
    CU_ASSERT_EQUAL(st.count, 0);
    CU_ASSERT_DOUBLE_EQUAL(st.mean, 0.0, 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The histogram against exact percentiles: within its bucket precision. */
static void test_histogram_precision(void)
{
    enum { N = 100000 };
    GRand *rng = g_rand_new_with_seed(99);
    SimHist *h = sim_hist_new();
    uint64_t *v = g_new(uint64_t, N);
    double *d = g_new(double, N);
    for (int i = 0; i < N; i++) {
        /* log-uniform from 100 ns to 10 s */
        v[i] = (uint64_t)exp(g_rand_double_range(rng, log(100.0), log(1e10)));
        sim_hist_add(h, v[i]);
    }
    qsort(v, N, sizeof *v, cmp_u64);
    for (int i = 0; i < N; i++)
        d[i] = (double)v[i];
    SimStats exact, approx;
    sim_stats_compute(d, N, &exact);
    sim_hist_stats(h, 1.0, &approx);
    CU_ASSERT_EQUAL(approx.count, N);
    CU_ASSERT_DOUBLE_EQUAL(approx.mean, exact.mean, exact.mean * 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(approx.max, exact.max, 0);
    CU_ASSERT_DOUBLE_EQUAL(approx.p50, exact.p50, exact.p50 * 2e-3);
    CU_ASSERT_DOUBLE_EQUAL(approx.p90, exact.p90, exact.p90 * 2e-3);
    CU_ASSERT_DOUBLE_EQUAL(approx.p99, exact.p99, exact.p99 * 2e-3);
    /* small values are exact */
    SimHist *s = sim_hist_new();
    for (uint64_t i = 1; i <= 100; i++)
        sim_hist_add(s, i);
    sim_hist_stats(s, 1.0, &approx);
    CU_ASSERT_DOUBLE_EQUAL(approx.p50, 50.5, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(approx.p90, 90.1, 1e-9);
    /* merging two halves gives the whole */
    SimHist *m = sim_hist_new();
    sim_hist_merge(m, s);
    sim_hist_merge(m, h);
    CU_ASSERT_EQUAL(sim_hist_count(m), N + 100);
    sim_hist_free(m);
    sim_hist_free(s);
    sim_hist_free(h);
    g_free(v);
    g_free(d);
    g_rand_free(rng);
}

/* Selection-based percentiles equal those of a sorted copy, on random
 * arrays with many duplicates, few values, and sorted or reversed input. */
static void test_percentiles_vs_sort(void)
{
    GRand *rng = g_rand_new_with_seed(3);
    for (int trial = 0; trial < 300; trial++) {
        size_t n = (size_t)g_rand_int_range(rng, 1, 2000);
        int distinct = g_rand_int_range(rng, 1, 50);
        double *v = g_new(double, n), *sorted = g_new(double, n);
        for (size_t i = 0; i < n; i++)
            v[i] = (double)g_rand_int_range(rng, 0, distinct);
        if (trial % 7 == 0)
            for (size_t i = 0; i < n; i++)
                v[i] = (double)i;
        if (trial % 11 == 0)
            for (size_t i = 0; i < n; i++)
                v[i] = (double)(n - i);
        memcpy(sorted, v, n * sizeof *v);
        qsort(sorted, n, sizeof *sorted, cmp_double);
        SimStats st;
        sim_stats_compute(v, n, &st);
        CU_ASSERT_DOUBLE_EQUAL_FATAL(st.p50, sim_percentile_sorted(sorted, n, 50), 1e-9);
        CU_ASSERT_DOUBLE_EQUAL_FATAL(st.p90, sim_percentile_sorted(sorted, n, 90), 1e-9);
        CU_ASSERT_DOUBLE_EQUAL_FATAL(st.p95, sim_percentile_sorted(sorted, n, 95), 1e-9);
        CU_ASSERT_DOUBLE_EQUAL_FATAL(st.p99, sim_percentile_sorted(sorted, n, 99), 1e-9);
        CU_ASSERT_DOUBLE_EQUAL_FATAL(st.max, sorted[n - 1], 0);
        g_free(v);
        g_free(sorted);
    }
    g_rand_free(rng);
}

static void test_time_rounding(void)
{
    CU_ASSERT_EQUAL(sim_time_from_seconds(1.5e-9), 2);
    CU_ASSERT_EQUAL(sim_time_from_seconds(1.4e-9), 1);
    CU_ASSERT_EQUAL(sim_time_from_seconds(0.25), 250000000);
    CU_ASSERT_EQUAL(sim_time_from_seconds(-1.0), 0);
    CU_ASSERT_EQUAL(sim_time_from_seconds(NAN), 0);
    CU_ASSERT_EQUAL(sim_time_from_seconds(1e300), SIM_TIME_MAX);
    CU_ASSERT_DOUBLE_EQUAL(sim_time_to_seconds(1500000000), 1.5, 1e-15);
}

static const SsTestCase queue_cases[] = {
    {"against a naive sorted array", test_queue_vs_sorted_array},
    {"equal times pop in FIFO order", test_queue_equal_times_fifo},
    {NULL, NULL},
};

static const SsTestCase stats_cases[] = {
    {"percentiles computed by hand", test_percentiles_by_hand},
    {"histogram against exact percentiles", test_histogram_precision},
    {"selection percentiles equal sorted ones", test_percentiles_vs_sort},
    {"seconds to simulated time", test_time_rounding},
    {NULL, NULL},
};

int main(int argc, char **argv)
{
    static const SsTestSuite suites[] = {
        {"event queue", queue_cases},
        {"statistics", stats_cases},
        {NULL, NULL},
    };
    return ss_test_main(argc, argv, suites);
}
