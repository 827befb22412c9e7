/*
 * cl_result.c: the outcome of a fleet's run (ClResult, cl.h): the summary of
 * its replicas and front door, the router's figures (rejections, load
 * imbalance, prefix-cache hit rate), and for disaggregated, autoscaled or
 * SLO-measured fleets the per-pool figures, the stages of disaggregated
 * requests and the series of replicas and SLO attainment over time.
 *
 * The summary covers the replicas that were ever created, in slot order. The
 * load imbalance is max / mean requests per replica; in a fleet whose pools
 * have roles or change size it is taken within each pool, per second of
 * serving (a replica that served half the run is not half as loaded), and
 * the worst pool's is reported.
 */
#include <math.h>
#include <string.h>

#include "cl_fleet_internal.h"

static void imbalance(Fleet *f, ClResult *res)
{
    double worst = 1.0, jain = 1.0;
    gboolean per_pool = f->state != NULL;
    guint np = per_pool ? f->cfg->num_pools : 1;
    for (guint p = 0; p < np; p++) {
        guint lo = per_pool ? f->pool_base[p] : 0, hi = per_pool ? f->pool_base[p + 1] : f->n;
        double sum = 0, sum2 = 0, max = 0;
        guint m = 0;
        for (guint r = lo; r < hi; r++) {
            if (!f->reps[r])
                continue;
            double x = (double)f->routed[r];
            if (per_pool && f->scaler) {
                double s = cl_scaler_serving_s(f->scaler, r);
                if (!(s > 0))
                    continue;
                x /= s;
            }
            sum += x;
            sum2 += x * x;
            max = MAX(max, x);
            m++;
        }
        if (m == 0)
            continue;
        double imb = sum > 0 ? max / (sum / m) : 1.0;
        double j = sum2 > 0 ? sum * sum / (m * sum2) : 1.0;
        worst = MAX(worst, imb);
        jain = MIN(jain, j);
    }
    res->imbalance = worst;
    res->jain_index = jain;
}

ClResult *cl_fleet_result(Fleet *f, gboolean stopped)
{
    ClResult *res = g_new0(ClResult, 1);
    /* requests between the router and a replica (in transit order), then
     * those between a prefill and a decode replica */
    GArray *transit = g_array_new(FALSE, FALSE, sizeof(WlRequest));
    for (guint i = 0; i < f->tr_len; i++)
        g_array_append_val(transit, f->transit[(f->tr_head + i) % f->tr_cap].w);
    if (f->pd)
        cl_pd_unfinished(f, transit);
    uint64_t rejected_admission = 0;
    for (guint k = 0; k < CL_REJECT_N; k++)
        rejected_admission += f->rejected[k];
    SimFrontDoor fd = {
        .any_arrival = f->any_arrival,
        .first_arrival = f->first_arrival,
        .last_arrival = f->last_arrival,
        .arrived = f->arrived,
        .rejected_admission = rejected_admission,
        .num_in_transit = transit->len,
        .in_transit = (const WlRequest *)transit->data,
        .rows_skipped = wl_source_rows_skipped(f->cfg->source),
        .now = f->now,
        .stopped = stopped,
    };
    /* the replicas ever created, in slot order */
    SimReplica **reps = g_new(SimReplica *, f->n);
    guint n = 0;
    res->replica_pool = g_new0(guint, f->n);
    for (guint r = 0; r < f->n; r++)
        if (f->reps[r]) {
            res->replica_pool[n] = f->pool_of[r];
            reps[n++] = f->reps[r];
        }
    res->summary = sim_summarise(f->rec, reps, n, &fd);
    g_free(reps);
    g_array_free(transit, TRUE);
    res->num_replicas = n;
    res->policy = f->cfg->router.policy;
    res->snapshot_interval_ms = f->interval ? cl_router_spec_interval_ms(&f->cfg->router) : 0;
    res->router_latency_ms = f->cfg->router.latency_ms;
    memcpy(res->rejected, f->rejected, sizeof res->rejected);
    res->routed = f->routed_total;
    const SimSummary *s = res->summary;
    res->prefix_hit_rate = s->prefix_query_tokens ? (double)s->prefix_hit_tokens / s->prefix_query_tokens : 0;
    if (f->scaler) {
        cl_scaler_finish(f, f->now, res);
        if (!f->pd && !f->state) { /* an SLO series only: no per-pool figures */
            g_free(res->pools);
            res->pools = NULL;
            res->num_pools = 0;
        }
    }
    imbalance(f, res);
    if (f->pd)
        res->pd = cl_pd_result(f, s->duration_s);
    if (f->scaler && f->cfg->scaling_csv)
        cl_scaler_write_csv(f, res, f->cfg->scaling_csv);
    return res;
}

void cl_result_free(ClResult *r)
{
    if (!r)
        return;
    sim_summary_free(r->summary);
    g_free(r->replica_pool);
    g_free(r->pools);
    g_free(r->pd);
    if (r->series) {
        g_free(r->series->serving);
        g_free(r->series->provisioning);
        g_free(r->series->draining);
        g_free(r->series->gpu_hours);
        g_free(r->series->arrived);
        g_free(r->series->met);
        g_free(r->series->completed);
        g_free(r->series);
    }
    g_free(r);
}

SimSummary *cl_result_steal_summary(ClResult *r)
{
    SimSummary *s = r->summary;
    r->summary = NULL;
    return s;
}
