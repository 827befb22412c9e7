/*
 * sim_metrics.h: summary statistics: exact percentiles of per-request
 * values, and a log-linear histogram for per-token values (inter-token
 * latencies), whose count grows with every generated token and so cannot be
 * kept one by one.
 *
 * Percentiles use linear interpolation between the closest ranks (rank =
 * p/100 * (n - 1), numpy's default), so they compare directly with
 * measurements summarised the same way.
 *
 * The histogram keeps values below 1024 exactly and larger ones in buckets of
 * relative width 2^-9 (a relative error below 0.1% once a bucket's midpoint
 * stands for its values); its mean and maximum are exact. 28,672 buckets of
 * 8 bytes: 224 KiB, whatever the number of values.
 */
#ifndef SIM_METRICS_H
#define SIM_METRICS_H

#include <glib.h>
#include <stdint.h>

typedef struct {
    uint64_t count;
    double mean;
    double p50, p90, p95, p99;
    double max;
} SimStats;

/* The p-th percentile (0..100) of n sorted values; 0 when n == 0. */
double sim_percentile_sorted(const double *sorted, size_t n, double p);

/* Fills *out from unsorted values (reordered in place: expected O(n),
 * by selection); zeros when n == 0. */
void sim_stats_compute(double *values, size_t n, SimStats *out);

typedef struct SimHist SimHist;

SimHist *sim_hist_new(void);
void sim_hist_free(SimHist *h); /* accepts NULL */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimHist, sim_hist_free)
void sim_hist_add(SimHist *h, uint64_t value);
/* Adds `count` copies of a value. */
void sim_hist_add_n(SimHist *h, uint64_t value, uint64_t count);
/* Adds every value of src to dst. */
void sim_hist_merge(SimHist *dst, const SimHist *src);
uint64_t sim_hist_count(const SimHist *h);
/* Fills *out with the statistics of the values, each multiplied by `scale`
 * (e.g. 1e-6 for ns to ms). */
void sim_hist_stats(const SimHist *h, double scale, SimStats *out);

#endif /* SIM_METRICS_H */
