/*
 * pl_scale.c: a capacity plan's comparison of a static fleet with an
 * autoscaled one over a time-varying workload (pl_plan_internal.h,
 * docs/autoscaling.md):
 *
 *   "autoscale": {"workload": {...a scenario workload: a trace with a time
 *                               scale, or piecewise-rate arrivals...},
 *                 "policy": {...fleet.autoscale...},
 *                 "window_s": 300, "attainment_goal": 0.99, "criterion": "run",
 *                 "max_static": 64}
 *
 * For the plan's recommended candidate (the best co-located one when the
 * recommendation is disaggregated):
 *   - the static fleet: the fewest replicas whose run of the whole workload
 *     meets every SLO of the plan over all its requests, with none rejected
 *     (from the candidate's count at the plan's target, down or up, then
 *     bisection; queue growth is not a criterion here: the load moves on
 *     purpose);
 *   - the autoscaled fleet: the policy, starting at its minimum (its maximum
 *     defaults to twice the static count); without a metric and target, the
 *     rate per replica at 70% to 150% of what one replica sustains within
 *     the SLOs (as the plan found it), the cheapest that meets every SLO
 *     kept (the others are reported);
 * each with its GPU-hours, cost and the share of requests within the SLOs'
 * bounds (TTFT and TPOT, taken per request) over the run and per window.
 * "Meets the SLOs" is the plan's SLOs over all the run's requests, none
 * rejected; with "criterion": "window", also the attainment goal in every
 * window (a service judged hour by hour cannot hide its peak in the day's
 * percentile).
 */
#include <math.h>
#include <string.h>

#include "pl_plan_internal.h"
#include "scn_json.h"
#include "ss_error.h"

static const char *const scale_keys[] = {"workload", "policy", "window_s", "attainment_goal", "max_static", "criterion",
                                         NULL};

void pl_scale_spec_clear(PlScaleSpec *s)
{
    g_free(s->workload_json);
    memset(s, 0, sizeof *s);
}

gboolean pl_scale_parse(PlPlanSpec *p, const cJSON *o, GError **error)
{
    const char *path = "autoscale";
    if (!cJSON_IsObject(o)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: autoscale: expected an object {\"workload\": {...}, \"policy\": {...}}", p->origin);
        return FALSE;
    }
    if (!scn_json_check_keys(o, path, scale_keys, p->origin, error))
        return FALSE;
    PlScaleSpec sp = {.window_s = 300, .attainment_goal = 0.99};
    guint64 max_static = 0;
    if (!scn_json_get_double(o, "window_s", path, p->origin, 0, 86400, TRUE, &sp.window_s, error) ||
        !scn_json_get_double(o, "attainment_goal", path, p->origin, 0, 1, FALSE, &sp.attainment_goal, error) ||
        !scn_json_get_uint(o, "max_static", path, p->origin, 1, 100000, &max_static, error))
        return FALSE;
    sp.max_static = (guint)max_static;
    char *criterion = NULL;
    if (!scn_json_get_string(o, "criterion", path, p->origin, &criterion, error))
        return FALSE;
    if (criterion && strcmp(criterion, "window") != 0 && strcmp(criterion, "run") != 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: autoscale.criterion: expected \"run\" (the SLOs over the whole run) or \"window\" (and the "
                    "attainment goal in every window), got \"%s\"", p->origin, criterion);
        g_free(criterion);
        return FALSE;
    }
    sp.per_window = criterion && strcmp(criterion, "window") == 0;
    g_free(criterion);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "workload");
    if (!cJSON_IsObject(w)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: autoscale.workload: expected a scenario workload object (e.g. a trace with a time_scale)",
                    p->origin);
        return FALSE;
    }
    /* checked on a copy of the base: the workload, then the policy */
    ScnScenario *probe = scn_scenario_copy(p->base);
    char *wtext = cJSON_PrintUnformatted(w);
    char *where = g_strdup_printf("%s: autoscale", p->origin);
    gboolean ok = scn_scenario_set(probe, "workload", wtext, where, error);
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(o, "policy");
    char *ptext = pol ? cJSON_PrintUnformatted(pol) : g_strdup("{}");
    ok = ok && scn_scenario_set(probe, "autoscale", ptext, where, error);
    if (ok)
        sp.policy = probe->fleet.autoscale;
    /* the max is settled when the static count is known; here its bound */
    sp.given = ok;
    sp.workload_json = ok ? g_strdup(wtext) : NULL;
    if (ok && (!pol || !cJSON_GetObjectItemCaseSensitive(pol, "max_replicas")))
        sp.policy.max_replicas = 0; /* twice the static count */
    sp.target_given = pol && cJSON_GetObjectItemCaseSensitive(pol, "target");
    if (ok && !sp.target_given && !(pol && cJSON_GetObjectItemCaseSensitive(pol, "metric")))
        sp.policy.metric = CL_SCALE_RATE;
    g_free(where);
    cJSON_free(wtext);
    if (pol)
        cJSON_free(ptext);
    else
        g_free(ptext);
    scn_scenario_free(probe);
    if (!ok)
        return FALSE;
    pl_scale_spec_clear(&p->scale);
    p->scale = sp;
    return TRUE;
}

void pl_scale_result_free(PlScaleResult *s)
{
    if (!s)
        return;
    g_free(s->candidate);
    g_free(s->workload);
    g_free(s->error);
    g_free(s->arrived);
    g_free(s->met_static);
    g_free(s->met_auto);
    g_free(s->serving_auto);
    g_free(s);
}

/* The per-request bounds of attainment: the plan's TTFT and TPOT SLOs. */
static void slo_bounds(const PlPlanSpec *p, double *ttft, double *tpot)
{
    *ttft = *tpot = 0;
    for (guint i = 0; i < p->num_slos; i++) {
        if (p->slos[i].metric == PL_SLO_TTFT && *ttft == 0)
            *ttft = p->slos[i].max_ms;
        if (p->slos[i].metric == PL_SLO_TPOT && *tpot == 0)
            *tpot = p->slos[i].max_ms;
    }
}

typedef struct {
    gboolean meets;
    double gpu_hours, attainment, duration_s;
    double slo_values[8];
    guint num_windows;
    uint64_t *arrived, *met;
    double *serving;
    double replicas_mean;
    guint replicas_min, replicas_max, ups, downs;
} Outcome;

static void outcome_clear(Outcome *o)
{
    g_free(o->arrived);
    g_free(o->met);
    g_free(o->serving);
    memset(o, 0, sizeof *o);
}

/* Runs the candidate on the workload with `replicas` (and the policy when
 * `policy` is not NULL). */
static gboolean simulate(const PlPlanSpec *p, const ScnScenario *base, ScnCache *cache, guint replicas,
                         const char *policy, Outcome *out, char **why)
{
    memset(out, 0, sizeof *out);
    ScnScenario *s = scn_scenario_copy(base);
    GError *error = NULL;
    char value[32];
    g_snprintf(value, sizeof value, "%u", replicas);
    gboolean ok = scn_scenario_set(s, "replicas", value, "plan autoscale", &error);
    if (ok && policy)
        ok = scn_scenario_set(s, "autoscale", policy, "plan autoscale", &error);
    ClResult *res = ok ? scn_run_fleet(s, cache, NULL, NULL, &error) : NULL;
    scn_scenario_free(s);
    if (!res) {
        *why = g_strdup_printf("%s fleet of %u: %s", policy ? "an autoscaled" : "a", replicas, error->message);
        g_error_free(error);
        return FALSE;
    }
    const SimSummary *sum = res->summary;
    out->meets = sum->all.completed > 0 && sum->all.rejected == 0;
    for (guint i = 0; i < p->num_slos && i < 8; i++) {
        out->slo_values[i] = pl_slo_value(&p->slos[i], sum);
        if (!(out->slo_values[i] <= p->slos[i].max_ms))
            out->meets = FALSE;
    }
    out->duration_s = sum->duration_s;
    const ClScaleSeries *se = res->series;
    if (se && p->scale.per_window) { /* the attainment goal in every window that had arrivals */
        for (guint k = 0; k < se->num_windows; k++)
            if (se->arrived[k] && (double)se->met[k] < p->scale.attainment_goal * (double)se->arrived[k])
                out->meets = FALSE;
    }
    if (se) {
        out->gpu_hours = se->gpu_hours_total;
        out->attainment = se->slo_attainment;
        out->num_windows = se->num_windows;
        out->arrived = g_memdup2(se->arrived, (se->num_windows + 1) * sizeof(uint64_t));
        out->met = g_memdup2(se->met, (se->num_windows + 1) * sizeof(uint64_t));
        out->serving = g_memdup2(se->serving, (se->num_windows + 1) * sizeof(double));
    }
    if (res->pools) {
        out->replicas_mean = res->pools[0].replicas_mean;
        out->replicas_min = res->pools[0].replicas_min;
        out->replicas_max = res->pools[0].replicas_max;
        out->ups = res->pools[0].scale_ups;
        out->downs = res->pools[0].scale_downs;
    } else {
        out->replicas_mean = out->replicas_min = out->replicas_max = replicas;
    }
    cl_result_free(res);
    return TRUE;
}

/* The candidate compared: the recommended one, unless it is disaggregated. */
static int pick_candidate(const PlPlanResult *r)
{
    if (r->recommended >= 0 && !r->candidates[r->recommended].disaggregated)
        return r->recommended;
    int best = -1;
    for (guint i = 0; i < r->num_candidates; i++) {
        const PlCandidateResult *c = &r->candidates[i];
        if (c->feasible && c->rank > 0 && !c->disaggregated && (best < 0 || c->rank < r->candidates[best].rank))
            best = (int)i;
    }
    return best;
}

PlScaleResult *pl_scale_run(const PlPlanSpec *p, const PlPlanResult *r, ScnCache *cache)
{
    if (!p->scale.given)
        return NULL;
    PlScaleResult *out = g_new0(PlScaleResult, 1);
    out->window_s = p->scale.window_s;
    out->attainment_goal = p->scale.attainment_goal;
    out->per_window = p->scale.per_window;
    slo_bounds(p, &out->slo_ttft_ms, &out->slo_tpot_ms);
    int ci = pick_candidate(r);
    if (ci < 0) {
        out->error = g_strdup("no co-located candidate is feasible: nothing to autoscale");
        return out;
    }
    const PlCandidateResult *c = &r->candidates[ci];
    out->candidate = g_strdup(c->name);
    /* the candidate on the workload, with the attainment bounds */
    ScnScenario *base = scn_scenario_copy(p->candidates[ci].scenario);
    GError *error = NULL;
    char *slo = g_strdup_printf("{\"slo\": {\"ttft_ms\": %.17g, \"tpot_ms\": %.17g, \"window_s\": %.17g}}",
                                out->slo_ttft_ms, out->slo_tpot_ms, out->window_s);
    gboolean ok = scn_scenario_set(base, "workload", p->scale.workload_json, "plan autoscale", &error) &&
                  scn_scenario_merge_fleet(base, slo, "plan autoscale", &error);
    g_free(slo);
    if (!ok) {
        out->error = g_strdup(error->message);
        g_error_free(error);
        scn_scenario_free(base);
        return out;
    }
    {
        WlSource *src = base->is_trace ? wl_source_new_trace(base->trace_path, &base->trace, NULL)
                                       : wl_source_new_synthetic(&base->workload, base->seed, NULL);
        out->workload = g_strdup(src ? wl_source_describe(src) : "the workload");
        wl_source_free(src);
    }
    char *why = NULL;
    /* the static fleet: from the candidate's fleet at the plan's target,
     * down (one fewer, then bisection) or up (doubling the step), as the
     * plan's fleet search does */
    guint max = p->scale.max_static ? p->scale.max_static : MAX(4 * c->replicas, 16u);
    Outcome best = {0}, o;
    guint good = 0, fail = 0;
    guint n = CLAMP(c->replicas, 1, max);
    if (!simulate(p, base, cache, n, NULL, &o, &why))
        goto fail;
    out->static_trials++;
    if (o.meets) {
        good = n;
        best = o;
        if (n > 1) {
            if (!simulate(p, base, cache, n - 1, NULL, &o, &why))
                goto fail;
            out->static_trials++;
            if (o.meets) {
                good = n - 1;
                outcome_clear(&best);
                best = o;
            } else {
                fail = n - 1;
                outcome_clear(&o);
            }
        }
    } else {
        fail = n;
        outcome_clear(&o);
        for (guint step = 1; !good && fail < max; step *= 2) {
            n = MIN(fail + step, max);
            if (!simulate(p, base, cache, n, NULL, &o, &why))
                goto fail;
            out->static_trials++;
            if (o.meets) {
                good = n;
                best = o;
            } else {
                fail = n;
                outcome_clear(&o);
            }
        }
    }
    while (good && good - fail > 1) {
        n = fail + (good - fail) / 2;
        if (!simulate(p, base, cache, n, NULL, &o, &why))
            goto fail;
        out->static_trials++;
        if (o.meets) {
            good = n;
            outcome_clear(&best);
            best = o;
        } else {
            fail = n;
            outcome_clear(&o);
        }
    }
    out->static_replicas = good;
    double price = c->price_per_gpu_hour;
    if (good) {
        out->static_gpu_hours = best.gpu_hours;
        out->static_cost = best.gpu_hours * price;
        out->static_attainment = best.attainment;
        memcpy(out->static_slo_values, best.slo_values, sizeof out->static_slo_values);
        out->duration_s = best.duration_s;
    }
    /* the autoscaled fleet: the policy's target, or (rate metric, no target
     * given) each of several shares of the rate one replica sustains, the
     * cheapest that meets every SLO kept */
    ClAutoscaleSpec pol = p->scale.policy;
    if (pol.max_replicas == 0)
        pol.max_replicas = MAX(2 * MAX(good, 1u), pol.min_replicas);
    double shares[] = {0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.35, 1.5};
    guint ntargets = 1;
    double targets[G_N_ELEMENTS(shares)] = {pol.target};
    if (!p->scale.target_given && pol.metric == CL_SCALE_RATE && c->max_rate > 0) {
        ntargets = G_N_ELEMENTS(shares);
        for (guint t = 0; t < ntargets; t++)
            targets[t] = shares[t] * c->max_rate;
    }
    double weights = 0;
    {
        ScnBuilt b;
        if (scn_build(base, cache, &b, NULL)) {
            weights = lat_model_weight_bytes_per_gpu(b.model, b.pools[0].tensor_parallel_size);
            scn_built_clear(&b);
        }
    }
    Outcome a = {0};
    gboolean have = FALSE;
    out->num_tried = ntargets;
    for (guint t = 0; t < ntargets; t++) {
        ClAutoscaleSpec tp = pol;
        tp.target = targets[t];
        char *ptext = g_strdup_printf(
            "{\"metric\": \"%s\", \"target\": %.17g, \"up_threshold\": %.17g, \"down_threshold\": %.17g,"
            " \"interval_s\": %.17g, \"metric_window_s\": %.17g, \"up_cooldown_s\": %.17g, \"down_cooldown_s\": %.17g,"
            " \"min_replicas\": %u, \"max_replicas\": %u, \"load_gbps\": %.17g, \"startup_s\": %.17g}",
            cl_scale_metric_name(tp.metric), tp.target, tp.up_threshold, tp.down_threshold, tp.interval_s,
            tp.metric_window_s, tp.up_cooldown_s, tp.down_cooldown_s, tp.min_replicas, tp.max_replicas, tp.load_gbps,
            tp.startup_s);
        if (tp.provision_s >= 0) {
            char *x = g_strdup_printf("%.*s, \"provision_s\": %.17g}", (int)strlen(ptext) - 1, ptext, tp.provision_s);
            g_free(ptext);
            ptext = x;
        }
        Outcome o2;
        gboolean sim_ok = simulate(p, base, cache, tp.min_replicas, ptext, &o2, &why);
        g_free(ptext);
        if (!sim_ok) {
            outcome_clear(&a);
            goto fail;
        }
        out->tried_target[t] = tp.target;
        out->tried_gpu_hours[t] = o2.gpu_hours;
        out->tried_attainment[t] = o2.attainment;
        out->tried_meets[t] = o2.meets;
        /* better: meeting the SLOs first, then fewer GPU-hours; among failures, the higher attainment */
        gboolean better = !have || (o2.meets && !a.meets) ||
                          (o2.meets == a.meets && (o2.meets ? o2.gpu_hours < a.gpu_hours : o2.attainment > a.attainment));
        if (better) {
            outcome_clear(&a);
            a = o2;
            have = TRUE;
            pol.target = tp.target;
        } else {
            outcome_clear(&o2);
        }
    }
    out->policy = pol;
    out->provision_s = cl_autoscale_provision_s(&pol, weights);
    out->auto_meets_slos = a.meets;
    out->auto_gpu_hours = a.gpu_hours;
    out->auto_cost = a.gpu_hours * price;
    out->auto_attainment = a.attainment;
    memcpy(out->auto_slo_values, a.slo_values, sizeof out->auto_slo_values);
    out->auto_min = a.replicas_min;
    out->auto_max = a.replicas_max;
    out->auto_mean = a.replicas_mean;
    out->scale_ups = a.ups;
    out->scale_downs = a.downs;
    if (!out->duration_s)
        out->duration_s = a.duration_s;
    /* per window: the autoscaled run's windows; the static one's where they exist */
    out->num_windows = a.num_windows;
    out->arrived = g_new0(uint64_t, out->num_windows + 1);
    out->met_auto = g_new0(uint64_t, out->num_windows + 1);
    out->met_static = g_new0(uint64_t, out->num_windows + 1);
    out->serving_auto = g_new0(double, out->num_windows + 1);
    for (guint k = 0; k < out->num_windows; k++) {
        out->arrived[k] = a.arrived[k];
        out->met_auto[k] = a.met[k];
        out->serving_auto[k] = a.serving[k];
        out->met_static[k] = good && k < best.num_windows ? best.met[k] : 0;
    }
    outcome_clear(&a);
    outcome_clear(&best);
    scn_scenario_free(base);
    return out;
fail:
    out->error = why;
    outcome_clear(&best);
    scn_scenario_free(base);
    return out;
}
