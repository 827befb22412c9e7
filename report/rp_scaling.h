/*
 * rp_scaling.h: charts of a fleet over time: replicas serving per pool,
 * arrivals, SLO attainment, per window of a run (plain arrays: the report
 * module knows nothing of the simulation's types).
 */
#ifndef RP_SCALING_H
#define RP_SCALING_H

#include <stdint.h>

#include "rp_svg.h"

typedef struct {
    guint num_windows;
    double window_s;
    guint num_pools;
    const char *const *pool_names;
    const double *serving;          /* num_windows x num_pools, window-major: mean replicas serving */
    const uint64_t *arrived;        /* per window */
    const uint64_t *met;            /* per window: arrived and completed within the SLO (NULL with no SLO) */
    const uint64_t *met_static;     /* optional: the same for a static fleet, for comparison */
    gboolean has_slo;
    const char *slo_text;           /* e.g. "TTFT <= 2000 ms and TPOT <= 50 ms" */
    double static_replicas;         /* a dashed line at this count (NAN: none) */
    double attainment_goal;         /* a dashed line at this share, 0..1 (NAN: none) */
} RpScaling;

/* Appends the charts (replicas, arrival rate, and SLO attainment when there
 * is an SLO) as <svg> elements. Nothing when there is no window. */
void rp_scaling_charts(GString *out, const RpScaling *d);
/* A self-contained HTML page with `title`, a paragraph `summary` (may be
 * NULL) and the charts. g_free. */
char *rp_scaling_html(const RpScaling *d, const char *title, const char *summary);

#endif /* RP_SCALING_H */
