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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void sim_stats_compute(double *values, size_t n, SimStats *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    qsort(values, n, sizeof *values, cmp_double);
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += values[i];
    out->count = n;
    out->mean = sum / (double)n;
    out->p50 = sim_percentile_sorted(values, n, 50);
    out->p90 = sim_percentile_sorted(values, n, 90);
    out->p95 = sim_percentile_sorted(values, n, 95);
    out->p99 = sim_percentile_sorted(values, n, 99);
    out->max = values[n - 1];
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
