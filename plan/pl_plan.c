/*
 * pl_plan.c: the capacity plan's search (see pl_plan.h and docs/planning.md).
 *
 * A plan file names a base scenario (model, engine settings, workload shape),
 * SLOs, a target load, candidate deployments and GPU prices. For each
 * candidate, one replica is simulated at chosen request rates (the workload's
 * arrival rate is set; a trace is rescaled) with a fixed number of requests:
 *   1. at the search's upper rate: if it is sustained, the answer is "at
 *      least" that rate; otherwise its achieved rate estimates the capacity C;
 *   2. a bracket [lo, hi] around C (lo sustained, hi not), widened as needed;
 *   3. bisection until (hi - lo) / hi <= tolerance.
 * "Sustained" means every SLO holds and the queue does not grow (the summary's
 * queue_growth_ms <= the plan's limit). The binding constraint is what fails
 * at hi: the SLO furthest over its limit, or queue growth. A curve of load
 * levels around the sustainable rate is then simulated for the report.
 *
 * Candidates run in parallel (GThreadPool); each candidate's simulations are
 * sequential and deterministic, and results are stored by candidate index,
 * so the outcome does not depend on the number of threads.
 *
 * The plan file is read by pl_spec.c, fleets are searched by pl_fleet.c
 * (pl_pd.c for disaggregated candidates), and the result is written by
 * pl_report*.c.
 */
#include "pl_plan.h"

#include <math.h>
#include <string.h>

#include "pl_plan_internal.h"

#define PL_MAX_BISECTIONS 64      /* a guard: the bracket stops shrinking long before */

/* ---------------------------------------------------------------- result -- */

char *pl_candidate_replicas_text(const PlCandidateResult *c)
{
    if (c->disaggregated)
        return g_strdup_printf("%uP+%uD", c->prefill_replicas, c->decode_replicas);
    return g_strdup_printf("%u", c->replicas);
}

const PlFleetTrial *pl_candidate_fleet(const PlCandidateResult *c)
{
    if (!c->trials || c->chosen_trial < 0 || (guint)c->chosen_trial >= c->num_trials)
        return NULL;
    return &c->trials[c->chosen_trial];
}

void pl_plan_result_free(PlPlanResult *r)
{
    if (!r)
        return;
    g_free(r->name);
    g_free(r->description);
    g_free(r->workload);
    for (guint i = 0; i < r->num_slos; i++)
        g_free(r->slos[i].label);
    g_free(r->slos);
    for (guint i = 0; i < r->num_candidates; i++) {
        PlCandidateResult *c = &r->candidates[i];
        g_free(c->name);
        g_free(c->hardware);
        g_free(c->model);
        g_free(c->error);
        g_free(c->binding);
        g_free(c->curve);
        g_free(c->verdict);
        g_free(c->latency_basis);
        g_free(c->router);
        g_free(c->trials);
        g_free(c->prefill_hardware);
        g_free(c->decode_hardware);
    }
    g_free(r->candidates);
    g_free(r->router);
    pl_scale_result_free(r->scale);
    g_free(r);
}


/* ------------------------------------------------------------ evaluation -- */

/* Progress shared by the candidates' threads. */
typedef struct {
    GMutex lock;
    PlProgressFunc fn;
    void *user;
    guint done, total, simulations;
} Progress;

typedef struct {
    const PlPlanSpec *spec;
    ScnCache *cache;
    guint index;
    PlCandidateResult *out;
    double mean_output_tokens; /* measured on the workload, 0 until known */
    GError *error;             /* a simulation error (not infeasibility) */
    Progress *progress;        /* NULL: none */
} CandidateJob;

static void report(Progress *pr, guint done, guint sims)
{
    if (!pr || !pr->fn)
        return;
    g_mutex_lock(&pr->lock);
    pr->done += done;
    pr->simulations += sims;
    pr->fn(pr->done, pr->total, pr->simulations, pr->user);
    g_mutex_unlock(&pr->lock);
}

/* Simulates one replica at `rate`; fills *pt. Returns FALSE with *why on a
 * build or simulation error. */
static gboolean evaluate(CandidateJob *job, double rate, PlLoadPoint *pt, char **why)
{
    const PlPlanSpec *p = job->spec;
    ScnScenario *s = scn_scenario_copy(p->candidates[job->index].scenario);
    char value[64];
    g_ascii_dtostr(value, sizeof value, rate);
    GError *error = NULL;
    gboolean ok = scn_scenario_set(s, "rate", value, "plan", &error);
    g_snprintf(value, sizeof value, "%u", p->num_requests);
    ok = ok && scn_scenario_set(s, "num_requests", value, "plan", &error);
    SimSummary *sum = ok ? scn_run(s, job->cache, NULL, NULL, &error) : NULL;
    scn_scenario_free(s);
    if (!sum) {
        *why = g_strdup(error->message);
        g_error_free(error);
        return FALSE;
    }
    memset(pt, 0, sizeof *pt);
    pt->rate = rate;
    pt->achieved_rate = sum->achieved_rate;
    pt->output_tokens_per_s = sum->all.output_tokens_per_s;
    pt->ttft_p50_ms = sum->all.ttft_ms.p50;
    pt->ttft_p99_ms = sum->all.ttft_ms.p99;
    pt->tpot_p50_ms = sum->all.tpot_ms.p50;
    pt->tpot_p99_ms = sum->all.tpot_ms.p99;
    pt->queue_growth_ms = sum->queue_growth_ms;
    pt->queue_growth_rate = sum->queue_growth_rate;
    pt->meets_slos = sum->all.completed > 0;
    for (guint i = 0; i < p->num_slos; i++) {
        pt->slo_values[i] = pl_slo_value(&p->slos[i], sum);
        if (!(pt->slo_values[i] <= p->slos[i].max_ms))
            pt->meets_slos = FALSE;
    }
    pt->stable = sum->queue_growth_ms <= p->max_queue_growth_ms &&
                 sum->queue_growth_rate <= p->max_queue_growth_rate && sum->all.rejected == 0;
    if (job->mean_output_tokens == 0 && sum->all.completed > 0)
        job->mean_output_tokens = (double)sum->all.output_tokens / (double)sum->all.completed;
    sim_summary_free(sum);
    job->out->evaluations++;
    report(job->progress, 0, 1);
    return TRUE;
}

gboolean pl_load_point_sustained(const PlLoadPoint *pt)
{
    return pt->meets_slos && pt->stable;
}

char *pl_binding_of(const PlPlanSpec *p, const double *slo_values, gboolean stable)
{
    int worst = -1;
    double worst_ratio = 1.0;
    for (guint i = 0; i < p->num_slos; i++) {
        double r = slo_values[i] / p->slos[i].max_ms;
        if (!(r <= worst_ratio)) { /* also NaN */
            worst_ratio = isnan(r) ? INFINITY : r;
            worst = (int)i;
        }
    }
    if (worst >= 0)
        return g_strdup(p->slos[worst].label);
    if (!stable)
        return g_strdup("queue growth (throughput)");
    return g_strdup("none");
}

static void fleet_simulated(void *progress)
{
    report(progress, 0, 1);
}

static void run_candidate(gpointer data, gpointer user)
{
    (void)user;
    CandidateJob *job = data;
    const PlPlanSpec *p = job->spec;
    PlCandidateResult *c = job->out;
    PlLoadPoint hi_pt, pt;
    char *why = NULL;

    /* can it run at all? (fits in memory, valid settings) */
    ScnBuilt b;
    GError *error = NULL;
    ScnScenario *probe = scn_scenario_copy(p->candidates[job->index].scenario);
    gboolean built = scn_build(probe, job->cache, &b, &error);
    scn_scenario_free(probe);
    if (!built) {
        c->error = g_strdup(error->message);
        g_error_free(error);
        return;
    }
    c->max_num_seqs = b.sched.max_num_seqs;
    c->max_num_batched_tokens = b.sched.max_num_batched_tokens;
    char basis[96];
    c->latency_measured = scn_latency_basis(&b, basis, sizeof basis);
    c->latency_basis = g_strdup(basis);
    scn_built_clear(&b);

    double lo = 0, hi = 0;
    gboolean have_lo = FALSE;
    if (!evaluate(job, p->max_rate, &hi_pt, &why))
        goto sim_error;
    if (pl_load_point_sustained(&hi_pt)) {
        lo = p->max_rate;
        c->max_rate_is_bound = TRUE;
    } else {
        hi = p->max_rate;
        /* the overloaded run's throughput estimates the capacity */
        double guess = CLAMP(hi_pt.achieved_rate, p->min_rate, p->max_rate);
        double r = guess;
        for (int tries = 0; tries < 40; tries++) {
            if (!evaluate(job, r, &pt, &why))
                goto sim_error;
            if (pl_load_point_sustained(&pt)) {
                lo = r;
                have_lo = TRUE;
                break;
            }
            if (r < hi) {
                hi = r;
                hi_pt = pt;
            }
            if (r <= p->min_rate)
                break;
            r = MAX(r * 0.6, p->min_rate);
        }
        if (!have_lo) {
            c->binding = pl_binding_of(p, hi_pt.slo_values, hi_pt.stable);
            c->error = g_strdup_printf("does not meet the SLOs even at %g requests/s (%s)", p->min_rate,
                                       c->binding);
            return;
        }
        /* bisection on [lo, hi]: until the bracket is narrow enough, or the
         * midpoint stops moving (lo and hi adjacent doubles: a tolerance
         * finer than double precision would loop for ever) */
        for (int steps = 0; (hi - lo) / hi > p->tolerance && steps < PL_MAX_BISECTIONS; steps++) {
            double mid = 0.5 * (lo + hi);
            if (!(mid > lo && mid < hi))
                break;
            if (!evaluate(job, mid, &pt, &why))
                goto sim_error;
            if (pl_load_point_sustained(&pt)) {
                lo = mid;
            } else {
                hi = mid;
                hi_pt = pt;
            }
        }
    }
    c->feasible = TRUE;
    c->max_rate = lo;
    c->max_rate_upper = c->max_rate_is_bound ? NAN : hi;
    c->binding = c->max_rate_is_bound ? g_strdup_printf("none below the search limit (%g requests/s)", p->max_rate)
                                      : pl_binding_of(p, hi_pt.slo_values, hi_pt.stable);

    /* the curve: load levels around the sustainable rate */
    if (p->curve_points > 0) {
        static const double fractions[] = {0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5};
        guint n = MIN(p->curve_points, G_N_ELEMENTS(fractions));
        c->curve = g_new0(PlLoadPoint, n);
        guint start = G_N_ELEMENTS(fractions) - n; /* keep the upper part: it shows the knee */
        if (n >= 9)
            start = (G_N_ELEMENTS(fractions) - n) / 2;
        for (guint k = 0; k < n; k++) {
            double r = lo * fractions[start + k];
            if (!evaluate(job, r, &c->curve[k], &why))
                goto sim_error;
            c->num_curve++;
        }
    }

    /* the fleet: from the division's count, the smallest that sustains the target */
    double div = ceil(p->target_rate / lo - 1e-9);
    c->replicas_by_division = (guint)CLAMP(div, 1, G_MAXUINT32);
    if (!pl_fleet_search(p, job->index, job->cache, c->replicas_by_division, c, fleet_simulated, job->progress, &why))
        goto sim_error;
    return;
sim_error:
    c->feasible = FALSE;
    c->error = why;
}

/* The pool's function: a candidate, then its progress. */
static void run_candidate_job(gpointer data, gpointer user)
{
    run_candidate(data, user);
    report(((CandidateJob *)data)->progress, 1, 0);
}

/* What the rate search measured: one replica, or one prefill and one decode replica. */
static const char *unit_phrase(const PlCandidateResult *c)
{
    return c->disaggregated ? "a pair of one prefill and one decode replica" : "one replica";
}

static int cmp_rank(gconstpointer a, gconstpointer b)
{
    const PlCandidateResult *x = *(PlCandidateResult *const *)a, *y = *(PlCandidateResult *const *)b;
    if (x->feasible != y->feasible)
        return x->feasible ? -1 : 1;
    if (x->feasible) {
        if (x->cost_per_hour != y->cost_per_hour)
            return x->cost_per_hour < y->cost_per_hour ? -1 : 1;
        if (x->max_rate != y->max_rate)
            return x->max_rate > y->max_rate ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

PlPlanResult *pl_plan_run(const PlPlanSpec *p, ScnCache *cache, guint jobs)
{
    return pl_plan_run_with_progress(p, cache, jobs, NULL, NULL);
}

PlPlanResult *pl_plan_run_with_progress(const PlPlanSpec *p, ScnCache *cache, guint jobs, PlProgressFunc progress,
                                        void *user)
{
    Progress prog = {.fn = progress, .user = user, .total = p->num_candidates};
    g_mutex_init(&prog.lock);
    PlPlanResult *r = g_new0(PlPlanResult, 1);
    r->name = g_strdup(p->name);
    r->description = g_strdup(p->description);
    r->target_rate = p->target_rate;
    r->num_slos = p->num_slos;
    r->slos = g_new0(PlSlo, p->num_slos);
    for (guint i = 0; i < p->num_slos; i++) {
        r->slos[i] = p->slos[i];
        r->slos[i].label = g_strdup(p->slos[i].label);
    }
    r->tolerance = p->tolerance;
    r->max_queue_growth_ms = p->max_queue_growth_ms;
    r->max_queue_growth_rate = p->max_queue_growth_rate;
    r->num_requests = p->num_requests;
    r->max_replicas = p->max_replicas;
    r->router = g_strdup(cl_router_policy_name(p->base->fleet.router.policy));
    r->seed = p->base->seed;
    r->num_candidates = p->num_candidates;
    r->candidates = g_new0(PlCandidateResult, p->num_candidates);
    r->recommended = -1;

    CandidateJob *jobv = g_new0(CandidateJob, p->num_candidates);
    for (guint i = 0; i < p->num_candidates; i++) {
        const ScnScenario *s = p->candidates[i].scenario;
        PlCandidateResult *c = &r->candidates[i];
        c->name = g_strdup(p->candidates[i].name);
        c->hardware = g_strdup(s->hardware);
        c->model = g_strdup(s->model);
        c->tensor_parallel_size = s->tensor_parallel_size;
        c->price_per_gpu_hour = pl_plan_spec_price(p, s->hardware);
        if (pl_pd_is_candidate(s)) {
            c->disaggregated = TRUE;
            pl_pd_pools(s, &c->prefill_hardware, &c->prefill_tp, &c->decode_hardware, &c->decode_tp);
            c->prefill_price = pl_plan_spec_price(p, c->prefill_hardware);
            c->decode_price = pl_plan_spec_price(p, c->decode_hardware);
            g_free(c->hardware);
            c->hardware = g_strdup_printf("%s + %s", c->prefill_hardware, c->decode_hardware);
            c->tensor_parallel_size = c->prefill_tp;
            c->price_per_gpu_hour = c->prefill_tp + c->decode_tp > 0
                                        ? (c->prefill_tp * c->prefill_price + c->decode_tp * c->decode_price) /
                                              (c->prefill_tp + c->decode_tp)
                                        : NAN; /* a pair's mean */
        }
        c->router = g_strdup(cl_router_policy_name(s->fleet.router.policy));
        c->chosen_trial = -1;
        jobv[i] = (CandidateJob){.spec = p, .cache = cache, .index = i, .out = c, .progress = &prog};
    }
    if (jobs <= 1 || p->num_candidates == 1) {
        for (guint i = 0; i < p->num_candidates; i++)
            run_candidate_job(&jobv[i], NULL);
    } else {
        GThreadPool *pool =
            g_thread_pool_new(run_candidate_job, NULL, (gint)MIN(jobs, p->num_candidates), TRUE, NULL);
        for (guint i = 0; i < p->num_candidates; i++)
            g_thread_pool_push(pool, &jobv[i], NULL);
        g_thread_pool_free(pool, FALSE, TRUE);
    }

    /* the workload's description and mean output length: the same for every candidate */
    for (guint i = 0; i < p->num_candidates; i++)
        if (jobv[i].mean_output_tokens > 0) {
            r->mean_output_tokens = jobv[i].mean_output_tokens;
            break;
        }
    {
        /* the workload alone: the base deployment itself need not fit */
        const ScnScenario *s = p->base;
        WlSource *src = s->is_trace ? wl_source_new_trace(s->trace_path, &s->trace, NULL)
                                    : wl_source_new_synthetic(&s->workload, s->seed, NULL);
        r->workload = g_strdup(src ? wl_source_describe(src) : (s->is_trace ? s->trace_path : "synthetic"));
        wl_source_free(src);
    }
    g_free(jobv);
    g_mutex_clear(&prog.lock);

    /* replicas and cost for the target load */
    GPtrArray *order = g_ptr_array_new();
    for (guint i = 0; i < r->num_candidates; i++) {
        PlCandidateResult *c = &r->candidates[i];
        if (c->feasible && c->max_rate > 0 && c->replicas > 0) {
            if (!c->disaggregated) { /* a disaggregated fleet's GPUs and cost come from its search */
                c->gpus = (guint)MIN((guint64)c->replicas * c->tensor_parallel_size, G_MAXUINT);
                c->cost_per_hour = c->gpus * c->price_per_gpu_hour;
            }
            double tokens_per_hour = r->target_rate * r->mean_output_tokens * 3600.0;
            c->cost_per_million_output_tokens = tokens_per_hour > 0 ? c->cost_per_hour / tokens_per_hour * 1e6 : NAN;
            c->output_tokens_per_s_at_target = r->target_rate / c->replicas * r->mean_output_tokens;
        } else {
            c->feasible = FALSE;
        }
        g_ptr_array_add(order, c);
    }
    g_ptr_array_sort(order, cmp_rank);
    const PlCandidateResult *best = NULL;
    for (guint k = 0; k < order->len; k++) {
        PlCandidateResult *c = g_ptr_array_index(order, k);
        if (!c->feasible) {
            c->rank = 0;
            c->verdict = g_strdup_printf("infeasible: %s", c->error ? c->error : "no sustainable rate");
            continue;
        }
        c->rank = k + 1;
        char *fleet = pl_fleet_phrase(c);
        if (!best) {
            best = c;
            r->recommended = (int)(c - r->candidates);
            c->verdict = g_strdup_printf(
                "recommended: the lowest cost for %g requests/s, $%.2f/hour for %u GPUs (%s); "
                "%s sustains %s%.3g requests/s, limited by %s",
                r->target_rate, c->cost_per_hour, c->gpus, fleet, unit_phrase(c), c->max_rate_is_bound ? ">= " : "",
                c->max_rate, c->binding);
            if (!c->latency_measured) {
                char *w = g_strdup_printf("%s. WARNING: its step times are %s (no tables measured on %s), an "
                                          "estimate: measure or calibrate on that GPU before buying",
                                          c->verdict, c->latency_basis ? c->latency_basis : "estimated", c->hardware);
                g_free(c->verdict);
                c->verdict = w;
            }
        } else if (c->cost_per_hour - best->cost_per_hour < 0.005) {
            c->verdict = g_strdup_printf(
                "costs the same as %s ($%.2f/hour, %u GPUs: %s) but %s sustains %s%.3g requests/s against "
                "%.3g (limited by %s): less headroom per replica",
                best->name, c->cost_per_hour, c->gpus, fleet, unit_phrase(c), c->max_rate_is_bound ? ">= " : "",
                c->max_rate, best->max_rate, c->binding);
        } else {
            double extra = c->cost_per_hour - best->cost_per_hour;
            c->verdict = g_strdup_printf(
                "costs $%.2f/hour more than %s (+%.0f%%): %s = %u GPUs; %s sustains %s%.3g requests/s "
                "(limited by %s)",
                extra, best->name, best->cost_per_hour > 0 ? 100.0 * extra / best->cost_per_hour : 0.0, fleet,
                c->gpus, unit_phrase(c), c->max_rate_is_bound ? ">= " : "", c->max_rate, c->binding);
        }
        g_free(fleet);
    }
    g_ptr_array_free(order, TRUE);
    r->scale = pl_scale_run(p, r, cache);
    return r;
}
