/*
 * sim_metrics.c: percentiles and the log-linear histogram (sim_metrics.h).
 */
#include "sim_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double sim_percentile_sorted(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0.0;
    if (p <= 0.0)
        return v[0];
    if (p >= 100.0)
        return v[n - 1];
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(rank);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = rank - (double)lo;
    return v[lo] + (v[hi] - v[lo]) * frac;
}

/* Places the k-th smallest of v[lo, hi) at v[k], smaller ones before it and
 * larger ones after: quickselect with a three-way partition (< pivot,
 * == pivot, > pivot), which always shrinks the range and handles runs of
 * equal values. The pivot is the median of three values at pseudo-random
 * positions (a fixed xorshift sequence, so the result is deterministic):
 * fixed positions such as first/middle/last degrade to O(n^2) on orders the
 * partition itself produces (an almost reversed range with its two smallest
 * values at the ends). O(hi - lo) expected. */
static void select_kth(double *v, size_t lo, size_t hi, size_t k)
{
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    while (hi - lo > 1) {
        size_t len = hi - lo;
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        double a = v[lo + (size_t)(rng % len)];
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        double b = v[lo + (size_t)(rng % len)];
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        double c = v[lo + (size_t)(rng % len)];
        double pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
        size_t lt = lo, i = lo, gt = hi; /* [lo,lt) < p, [lt,i) == p, [gt,hi) > p */
        while (i < gt) {
            double x = v[i];
            if (x < pivot) {
                v[i++] = v[lt];
                v[lt++] = x;
            } else if (x > pivot) {
                v[i] = v[--gt];
                v[gt] = x;
            } else {
                i++;
            }
        }
        if (k < lt)
            hi = lt;
        else if (k >= gt)
            lo = gt;
        else
            return; /* v[k] == pivot */
    }
}

/* The p-th percentile of unsorted values; `from` is the first index not yet
 * known to hold its final order statistic (selections go upward). */
static double percentile_select(double *v, size_t n, double p, size_t *from)
{
    double rank = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(rank);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    if (lo >= *from)
        select_kth(v, *from, n, lo);
    if (hi > lo) {
        /* the next order statistic is the smallest of what lies above lo */
        size_t m = lo + 1;
        for (size_t i = lo + 2; i < n; i++)
            if (v[i] < v[m])
                m = i;
        double t = v[lo + 1];
        v[lo + 1] = v[m];
        v[m] = t;
    }
    *from = hi + 1;
    return v[lo] + (v[hi] - v[lo]) * (rank - (double)lo);
}

void sim_stats_compute(double *values, size_t n, SimStats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    double sum = 0.0, max = values[0];
    for (size_t i = 0; i < n; i++) {
        sum += values[i];
        if (values[i] > max)
            max = values[i];
    }
    out->count = n;
    out->mean = sum / (double)n;
    size_t from = 0;
    out->p50 = percentile_select(values, n, 50, &from);
    out->p90 = percentile_select(values, n, 90, &from);
    out->p95 = percentile_select(values, n, 95, &from);
    out->p99 = percentile_select(values, n, 99, &from);
    out->max = max;
}

/* ------------------------------------------------------------ histogram -- */

#define SUB_BITS 10
#define SUB_COUNT (1u << SUB_BITS)       /* exact below this */
#define HALF (SUB_COUNT / 2)
#define NUM_BUCKETS (SUB_COUNT + (64 - SUB_BITS) * HALF)

struct SimHist {
    uint64_t counts[NUM_BUCKETS];
    uint64_t n;
    double sum;
    uint64_t max;
};

static inline uint32_t bucket_of(uint64_t v)
{
    if (v < SUB_COUNT)
        return (uint32_t)v;
    int msb = 63 - __builtin_clzll(v);      /* >= SUB_BITS */
    int shift = msb - (SUB_BITS - 1);       /* >= 1 */
    uint64_t top = v >> shift;              /* in [HALF, SUB_COUNT) */
    return SUB_COUNT + (uint32_t)(shift - 1) * HALF + (uint32_t)(top - HALF);
}

/* The value a bucket stands for: itself below SUB_COUNT, else its midpoint. */
static inline double bucket_value(uint32_t b)
{
    if (b < SUB_COUNT)
        return (double)b;
    uint32_t k = b - SUB_COUNT;
    int shift = (int)(k / HALF) + 1;
    uint64_t top = HALF + k % HALF;
    double lo = ldexp((double)top, shift);
    double width = ldexp(1.0, shift);
    return lo + (width - 1.0) / 2.0;
}

SimHist *sim_hist_new(void)
{
    return g_new0(SimHist, 1);
}

void sim_hist_free(SimHist *h)
{
    g_free(h);
}

void sim_hist_add(SimHist *h, uint64_t v)
{
    h->counts[bucket_of(v)]++;
    h->n++;
    h->sum += (double)v;
    if (v > h->max)
        h->max = v;
}

void sim_hist_add_n(SimHist *h, uint64_t v, uint64_t count)
{
    if (count == 0)
        return;
    h->counts[bucket_of(v)] += count;
    h->n += count;
    h->sum += (double)v * (double)count;
    if (v > h->max)
        h->max = v;
}

void sim_hist_merge(SimHist *dst, const SimHist *src)
{
    for (uint32_t b = 0; b < NUM_BUCKETS; b++)
        dst->counts[b] += src->counts[b];
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t sim_hist_count(const SimHist *h)
{
    return h->n;
}

/* Values of ranks k = 0..n-1 are read in one pass for the sorted targets. */
void sim_hist_stats(const SimHist *h, double scale, SimStats *out)
{
    memset(out, 0, sizeof *out);
    if (h->n == 0)
        return;
    out->count = h->n;
    out->mean = h->sum / (double)h->n * scale;
    out->max = (double)h->max * scale;
    const double ps[4] = {50, 90, 95, 99};
    double *dst[4] = {&out->p50, &out->p90, &out->p95, &out->p99};
    for (int i = 0; i < 4; i++) {
        double rank = ps[i] / 100.0 * (double)(h->n - 1);
        uint64_t lo = (uint64_t)floor(rank);
        double frac = rank - (double)lo;
        /* value at rank lo and lo + 1 */
        double vlo = 0, vhi = 0;
        uint64_t seen = 0;
        gboolean have_lo = FALSE;
        for (uint32_t b = 0; b < NUM_BUCKETS; b++) {
            if (!h->counts[b])
                continue;
            seen += h->counts[b];
            if (!have_lo && seen > lo) {
                vlo = bucket_value(b);
                have_lo = TRUE;
            }
            if (have_lo && seen > lo + 1) {
                vhi = bucket_value(b);
                break;
            }
        }
        if (lo + 1 >= h->n)
            vhi = vlo;
        double v = vlo + (vhi - vlo) * frac;
        if (v > (double)h->max)
            v = (double)h->max;
        *dst[i] = v * scale;
    }
}
