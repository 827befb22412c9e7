/*
 * pl_fleet.c: the fleet search of a capacity plan (pl_plan_internal.h).
 *
 * For a candidate whose one replica sustains some rate, the question the
 * plan answers is how many replicas the target load needs. Dividing the
 * target by one replica's sustainable rate assumes a perfect router and
 * traffic that splits into smooth equal shares; a real router sees bursts,
 * requests of very different sizes and (for most policies) stale load
 * signals, and the tail latency of the whole fleet is what the SLOs bind.
 * So the count is found by simulating whole fleets at the target rate:
 *
 *   1. start at the division's count n0 (a first guess only);
 *   2. if n0 sustains the target, step down (n0 - 1, then bisection) to the
 *      smallest count that still does; otherwise step up (n0 + 1, + 2, + 4,
 *      ...) to the first count that does, then bisect the gap;
 *   3. the answer is the smallest count seen to sustain the target; every
 *      fleet simulated is kept (trials) for the report.
 *
 * A fleet of n replicas is simulated with n times the plan's requests per
 * simulation, so each replica sees as many requests as in the one-replica
 * search. "Sustains" is the one-replica rule applied fleet-wide: every SLO
 * holds over all completed requests, the queue does not grow, nothing is
 * rejected. The search assumes more replicas never make the fleet worse
 * (the bisection relies on it); the trials show where that was tested.
 */
#include <string.h>

#include "pl_plan_internal.h"
#include "ss_error.h"

#define MAX_FLEET_REQUESTS 20000000u

gboolean pl_fleet_trial_sustained(const PlFleetTrial *t)
{
    return t->meets_slos && t->stable;
}

#define trial_sustained pl_fleet_trial_sustained

gboolean pl_fleet_trial(const PlPlanSpec *p, guint index, ScnCache *cache, guint n, guint prefill, guint decode,
                        PlFleetTrial *t, char **why)
{
    ScnScenario *s = scn_scenario_copy(p->candidates[index].scenario);
    char value[64];
    GError *error = NULL;
    g_ascii_dtostr(value, sizeof value, p->target_rate);
    gboolean ok = scn_scenario_set(s, "rate", value, "plan", &error);
    guint total = n ? n : prefill + decode;
    guint64 requests = MIN((guint64)p->num_requests * total, MAX_FLEET_REQUESTS);
    g_snprintf(value, sizeof value, "%" G_GUINT64_FORMAT, requests);
    ok = ok && scn_scenario_set(s, "num_requests", value, "plan", &error);
    if (n) {
        g_snprintf(value, sizeof value, "%u", n);
        ok = ok && scn_scenario_set(s, "replicas", value, "plan", &error);
    } else {
        g_snprintf(value, sizeof value, "%u", prefill);
        ok = ok && scn_scenario_set(s, "prefill_replicas", value, "plan", &error);
        g_snprintf(value, sizeof value, "%u", decode);
        ok = ok && scn_scenario_set(s, "decode_replicas", value, "plan", &error);
    }
    ClResult *res = ok ? scn_run_fleet(s, cache, NULL, NULL, &error) : NULL;
    scn_scenario_free(s);
    if (!res) {
        if (n)
            *why = g_strdup_printf("a fleet of %u replicas: %s", n, error->message);
        else
            *why = g_strdup_printf("a fleet of %u prefill and %u decode replicas: %s", prefill, decode,
                                   error->message);
        g_error_free(error);
        return FALSE;
    }
    const SimSummary *sum = res->summary;
    memset(t, 0, sizeof *t);
    t->replicas = total;
    t->prefill_replicas = n ? 0 : prefill;
    t->decode_replicas = n ? 0 : decode;
    t->num_requests = (guint)requests;
    t->achieved_rate = sum->achieved_rate;
    t->ttft_p99_ms = sum->all.ttft_ms.p99;
    t->tpot_p99_ms = sum->all.tpot_ms.p99;
    t->queue_growth_ms = sum->queue_growth_ms;
    t->queue_growth_rate = sum->queue_growth_rate;
    t->imbalance = res->imbalance;
    t->jain_index = res->jain_index;
    t->prefix_hit_rate = res->prefix_hit_rate;
    t->meets_slos = sum->all.completed > 0;
    for (guint i = 0; i < p->num_slos; i++) {
        t->slo_values[i] = pl_slo_value(&p->slos[i], sum);
        if (!(t->slo_values[i] <= p->slos[i].max_ms))
            t->meets_slos = FALSE;
    }
    t->stable = sum->queue_growth_ms <= p->max_queue_growth_ms &&
                sum->queue_growth_rate <= p->max_queue_growth_rate && sum->all.rejected == 0;
    cl_result_free(res);
    return TRUE;
}

/* Trials by increasing replicas, then prefill replicas (disaggregated). */
static int cmp_trial(gconstpointer a, gconstpointer b)
{
    const PlFleetTrial *x = a, *y = b;
    if (x->replicas != y->replicas)
        return x->replicas < y->replicas ? -1 : 1;
    return x->prefill_replicas < y->prefill_replicas ? -1 : x->prefill_replicas > y->prefill_replicas;
}

void pl_fleet_take_trials(PlCandidateResult *c, GArray *trials)
{
    g_array_sort(trials, cmp_trial); /* stable */
    c->num_trials = trials->len;
    c->trials = (PlFleetTrial *)g_array_free(trials, FALSE);
    c->chosen_trial = -1;
}

typedef struct {
    const PlPlanSpec *p;
    guint index;
    ScnCache *cache;
    PlCandidateResult *c;
    GArray *trials;
    guint ok, fail;   /* smallest count seen sustaining, largest seen failing (0: none) */
    void (*on_simulation)(void *user);
    void *user;
} Search;

static gboolean try_count(Search *s, guint n, char **why)
{
    PlFleetTrial t;
    if (!pl_fleet_trial(s->p, s->index, s->cache, n, 0, 0, &t, why))
        return FALSE;
    s->c->fleet_evaluations++;
    if (s->on_simulation)
        s->on_simulation(s->user);
    g_array_append_val(s->trials, t);
    if (trial_sustained(&t))
        s->ok = n;
    else
        s->fail = n;
    return TRUE;
}

gboolean pl_fleet_search(const PlPlanSpec *p, guint index, ScnCache *cache, guint start, PlCandidateResult *c,
                         void (*on_simulation)(void *user), void *user, char **why)
{
    if (c->disaggregated)
        return pl_pd_fleet_search(p, index, cache, start, c, on_simulation, user, why);
    Search s = {.p = p,
                .index = index,
                .cache = cache,
                .c = c,
                .trials = g_array_new(FALSE, TRUE, sizeof(PlFleetTrial)),
                .on_simulation = on_simulation,
                .user = user};
    guint max = MAX(p->max_replicas, 1);
    guint n = CLAMP(start, 1, max);
    gboolean good = try_count(&s, n, why);
    if (good && s.ok) {
        /* down: the division is usually close, so one less first */
        if (n > 1)
            good = try_count(&s, n - 1, why);
    } else {
        /* up, doubling the step, to the first sustaining count */
        for (guint step = 1; good && !s.ok && s.fail < max; step *= 2)
            good = try_count(&s, s.fail + step > max ? max : s.fail + step, why);
    }
    while (good && s.ok && s.ok - s.fail > 1)
        good = try_count(&s, s.fail + (s.ok - s.fail) / 2, why);

    pl_fleet_take_trials(c, s.trials);
    if (!good)
        return FALSE;
    if (!s.ok) {
        const PlFleetTrial *last = &c->trials[c->num_trials - 1];
        char *binding = pl_binding_of(p, last->slo_values, FALSE);
        c->error = g_strdup_printf("no fleet of up to %u replicas sustains %g requests/s (%s with %u replicas)", max,
                                   p->target_rate, binding, last->replicas);
        g_free(c->binding);
        c->binding = binding;
        c->feasible = FALSE;
        return TRUE;
    }
    c->replicas = s.ok;
    for (guint i = 0; i < c->num_trials; i++)
        if (c->trials[i].replicas == s.ok && trial_sustained(&c->trials[i]))
            c->chosen_trial = (int)i;
    return TRUE;
}

gboolean pl_fleet_apply_router(PlPlanSpec *p, const cJSON *router, GError **error)
{
    if (!router)
        return TRUE;
    cJSON *fleet = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(fleet, "router", (cJSON *)router);
    char *fleet_text = cJSON_PrintUnformatted(fleet);
    cJSON_Delete(fleet);
    /* a fresh fleet with this router; the base's admission, if any, stays */
    ScnScenario *probe = scn_scenario_copy(p->base);
    gboolean set = scn_scenario_set(probe, "fleet", fleet_text, p->origin, error);
    cJSON_free(fleet_text);
    if (!set) {
        scn_scenario_free(probe);
        return FALSE;
    }
    probe->fleet.admission = p->base->fleet.admission;
    scn_scenario_free(p->base);
    p->base = probe;
    return TRUE;
}

char *pl_fleet_phrase(const PlCandidateResult *c)
{
    GString *s = g_string_new(NULL);
    if (c->disaggregated)
        g_string_append_printf(s, "%u prefill x TP%u and %u decode x TP%u replicas behind %s", c->prefill_replicas,
                               c->prefill_tp, c->decode_replicas, c->decode_tp, c->router ? c->router : "the router");
    else
        g_string_append_printf(s, "%u replica%s x TP%u behind %s", c->replicas, c->replicas == 1 ? "" : "s",
                               c->tensor_parallel_size, c->router ? c->router : "the router");
    if (c->disaggregated)
        g_string_append_printf(s, "; dividing by one prefill and decode pair's rate gives %u of each",
                               c->replicas_by_division);
    else if (c->replicas_by_division != c->replicas)
        g_string_append_printf(s, "; dividing by one replica's rate gives %u", c->replicas_by_division);
    const PlFleetTrial *t = pl_candidate_fleet(c);
    if (t && c->replicas > 1)
        g_string_append_printf(s, "; load imbalance %.2f", t->imbalance);
    return g_string_free(s, FALSE);
}
