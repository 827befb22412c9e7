/*
 * pl_pd.c: disaggregated candidates of a capacity plan (pl_plan_internal.h,
 * docs/planning.md, docs/disaggregation.md).
 *
 * A candidate written
 *   {"disaggregated": {"prefill": {"hardware": "H100-SXM", "tensor_parallel_size": 2},
 *                      "decode":  {"hardware": "H200-SXM", "tensor_parallel_size": 4},
 *                      "disaggregation": {"transfer": {"link": "rdma-400"}}}}
 * is the base deployment split into a prefill pool and a decode pool, each
 * with its own GPU and engine settings, one replica each: the unit whose
 * sustainable rate the plan's bisection finds. Its fleet search then looks
 * for the cheapest prefill and decode counts that sustain the target:
 *
 *   1. from (n0, n0), n0 the division of the target by the unit's rate,
 *      doubling both until a fleet sustains it (or the replica limit);
 *   2. for each prefill count p from there down to 1, the fewest decode
 *      replicas d(p) that sustain it: d(p) does not fall as p falls, so
 *      each search starts at d(p + 1) and goes up (steps of 1, 2, 4, ...)
 *      then bisects; it stops when no d within the limit works, or when
 *      even p = 1 with d(p) could not be cheaper than the best found;
 *   3. then p above the first count, while d(p) keeps falling and the cost
 *      could still fall;
 * the cheapest (p, d) seen to sustain the target is the answer (ties: the
 * fewer GPUs). Like the co-located search it assumes more replicas of
 * either role never make the fleet worse; every fleet simulated is kept.
 */
#include <math.h>
#include <string.h>

#include "pl_plan_internal.h"
#include "scn_json.h"
#include "ss_error.h"

static const char *const pd_keys[] = {"prefill", "decode", "disaggregation", NULL};
static const char *const pool_keys[] = {"hardware", "tensor_parallel_size", "engine", "latency", NULL};

/* A pool of the candidate as fleet JSON (role, one replica). */
static cJSON *pool_json(const cJSON *o, const char *role, const char *origin, const char *path, char **label,
                        const ScnScenario *s, GError **error)
{
    if (!cJSON_IsObject(o)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: expected an object of the pool's hardware, tensor_parallel_size, engine and latency",
                    origin, path);
        return NULL;
    }
    if (!scn_json_check_keys(o, path, pool_keys, origin, error))
        return NULL;
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "name", role);
    cJSON_AddStringToObject(p, "role", role);
    cJSON_AddNumberToObject(p, "count", 1);
    const cJSON *hw = cJSON_GetObjectItemCaseSensitive(o, "hardware");
    if (hw && (!cJSON_IsString(hw) || !*hw->valuestring)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.hardware: expected a GPU name", origin, path);
        cJSON_Delete(p);
        return NULL;
    }
    if (hw)
        cJSON_AddStringToObject(p, "hardware", hw->valuestring);
    const cJSON *eng = cJSON_GetObjectItemCaseSensitive(o, "engine");
    cJSON *e = eng ? cJSON_Duplicate(eng, TRUE) : cJSON_CreateObject();
    const cJSON *tp = cJSON_GetObjectItemCaseSensitive(o, "tensor_parallel_size");
    if (tp) {
        cJSON_DeleteItemFromObjectCaseSensitive(e, "tensor_parallel_size");
        cJSON_AddItemToObject(e, "tensor_parallel_size", cJSON_Duplicate(tp, TRUE));
    }
    cJSON_AddItemToObject(p, "engine", e);
    const cJSON *lat = cJSON_GetObjectItemCaseSensitive(o, "latency");
    if (lat)
        cJSON_AddItemToObject(p, "latency", cJSON_Duplicate(lat, TRUE));
    const cJSON *tpe = cJSON_GetObjectItemCaseSensitive(e, "tensor_parallel_size");
    *label = g_strdup_printf("%s TP%g", hw ? hw->valuestring : s->hardware,
                             cJSON_IsNumber(tpe) ? tpe->valuedouble : (double)s->tensor_parallel_size);
    return p;
}

gboolean pl_pd_apply(ScnScenario *s, const cJSON *v, const char *origin, const char *path, char **label,
                     GError **error)
{
    if (!cJSON_IsObject(v)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: expected {\"prefill\": {...}, \"decode\": {...}} (each: hardware, "
                    "tensor_parallel_size, engine, latency)", origin, path);
        return FALSE;
    }
    if (!scn_json_check_keys(v, path, pd_keys, origin, error))
        return FALSE;
    if (s->fleet.num_pools > 0 || s->fleet.replicas > 1) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: a disaggregated candidate is sized by the plan: its base has no pools or replicas",
                    origin, path);
        return FALSE;
    }
    char *ppath = g_strdup_printf("%s.prefill", path), *dpath = g_strdup_printf("%s.decode", path);
    char *pl = NULL, *dl = NULL;
    cJSON *fleet = cJSON_CreateObject();
    cJSON *pools = cJSON_AddArrayToObject(fleet, "pools");
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(v, "prefill"), *dec = cJSON_GetObjectItemCaseSensitive(v, "decode");
    gboolean ok = FALSE;
    cJSON *pj = NULL, *dj = NULL;
    if (!pre || !dec) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: needs both \"prefill\" and \"decode\"", origin, path);
        goto out;
    }
    pj = pool_json(pre, "prefill", origin, ppath, &pl, s, error);
    if (!pj)
        goto out;
    cJSON_AddItemToArray(pools, pj);
    dj = pool_json(dec, "decode", origin, dpath, &dl, s, error);
    if (!dj)
        goto out;
    cJSON_AddItemToArray(pools, dj);
    const cJSON *dis = cJSON_GetObjectItemCaseSensitive(v, "disaggregation");
    if (dis)
        cJSON_AddItemToObject(fleet, "disaggregation", cJSON_Duplicate(dis, TRUE));
    char *text = cJSON_PrintUnformatted(fleet);
    char *where = g_strdup_printf("%s: %s", origin, path);
    ok = scn_scenario_merge_fleet(s, text, where, error);
    g_free(where);
    cJSON_free(text);
    if (ok)
        *label = g_strdup_printf("%s -> %s", pl, dl);
out:
    cJSON_Delete(fleet);
    g_free(ppath);
    g_free(dpath);
    g_free(pl);
    g_free(dl);
    return ok;
}

gboolean pl_pd_is_candidate(const ScnScenario *s)
{
    for (guint i = 0; i < s->fleet.num_pools; i++)
        if (s->fleet.pools[i].role != CL_ROLE_BOTH)
            return TRUE;
    return FALSE;
}

/* The TP of a pool: its engine override, else the scenario's. */
static guint pool_tp(const ScnScenario *s, const ScnPool *p)
{
    guint tp = s->tensor_parallel_size;
    if (!p->overrides)
        return tp;
    cJSON *o = cJSON_Parse(p->overrides);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "engine");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "tensor_parallel_size");
    if (cJSON_IsNumber(v) && v->valuedouble >= 1)
        tp = (guint)v->valuedouble;
    cJSON_Delete(o);
    return tp;
}

void pl_pd_pools(const ScnScenario *s, char **prefill_hw, guint *prefill_tp, char **decode_hw, guint *decode_tp)
{
    *prefill_hw = *decode_hw = NULL;
    *prefill_tp = *decode_tp = s->tensor_parallel_size;
    for (guint i = 0; i < s->fleet.num_pools; i++) {
        const ScnPool *p = &s->fleet.pools[i];
        const char *hw = p->hardware ? p->hardware : s->hardware;
        if (p->role == CL_ROLE_PREFILL && !*prefill_hw) {
            *prefill_hw = g_strdup(hw);
            *prefill_tp = pool_tp(s, p);
        } else if (p->role == CL_ROLE_DECODE && !*decode_hw) {
            *decode_hw = g_strdup(hw);
            *decode_tp = pool_tp(s, p);
        }
    }
}

/* -------------------------------------------------------------- search -- */

typedef struct {
    const PlPlanSpec *p;
    guint index;
    ScnCache *cache;
    PlCandidateResult *c;
    GArray *trials;
    double cp, cd;                /* $ per replica-hour of each role */
    guint max;
    gboolean have_best;
    guint best_p, best_d;
    double best_cost;
    void (*on_simulation)(void *user);
    void *user;
} PdSearch;

static double cost(const PdSearch *s, guint p, guint d)
{
    return p * s->cp + d * s->cd;
}

/* Simulates (p, d) unless done already; *ok: it sustains the target. */
static gboolean try_pd(PdSearch *s, guint p, guint d, gboolean *ok, char **why)
{
    for (guint i = 0; i < s->trials->len; i++) {
        const PlFleetTrial *t = &g_array_index(s->trials, PlFleetTrial, i);
        if (t->prefill_replicas == p && t->decode_replicas == d) {
            *ok = pl_fleet_trial_sustained(t);
            return TRUE;
        }
    }
    PlFleetTrial t;
    if (!pl_fleet_trial(s->p, s->index, s->cache, 0, p, d, &t, why))
        return FALSE;
    t.cost_per_hour = cost(s, p, d);
    s->c->fleet_evaluations++;
    if (s->on_simulation)
        s->on_simulation(s->user);
    g_array_append_val(s->trials, t);
    *ok = pl_fleet_trial_sustained(&t);
    if (*ok) {
        double c = cost(s, p, d);
        guint gpus = p * s->c->prefill_tp + d * s->c->decode_tp;
        guint best_gpus = s->best_p * s->c->prefill_tp + s->best_d * s->c->decode_tp;
        if (!s->have_best || c < s->best_cost - 1e-9 || (fabs(c - s->best_cost) <= 1e-9 && gpus < best_gpus)) {
            s->have_best = TRUE;
            s->best_p = p;
            s->best_d = d;
            s->best_cost = c;
        }
    }
    return TRUE;
}

/* The fewest decode replicas in [lo, max - p] that sustain the target with
 * p prefill replicas, searching up from lo; 0 when none does. */
static gboolean min_decode(PdSearch *s, guint p, guint lo, guint *out, char **why)
{
    *out = 0;
    guint cap = s->max > p ? s->max - p : 0;
    if (lo < 1)
        lo = 1;
    if (lo > cap)
        return TRUE;
    gboolean ok;
    if (!try_pd(s, p, lo, &ok, why))
        return FALSE;
    if (ok) {
        *out = lo;
        return TRUE;
    }
    guint fail = lo, good = 0;
    for (guint step = 1; !good && fail < cap; step *= 2) {
        guint d = MIN(fail + step, cap);
        if (!try_pd(s, p, d, &ok, why))
            return FALSE;
        if (ok)
            good = d;
        else
            fail = d;
    }
    while (good && good - fail > 1) {
        guint d = fail + (good - fail) / 2;
        if (!try_pd(s, p, d, &ok, why))
            return FALSE;
        if (ok)
            good = d;
        else
            fail = d;
    }
    *out = good;
    return TRUE;
}

gboolean pl_pd_fleet_search(const PlPlanSpec *p, guint index, ScnCache *cache, guint start, PlCandidateResult *c,
                            void (*on_simulation)(void *user), void *user, char **why)
{
    PdSearch s = {.p = p, .index = index, .cache = cache, .c = c,
                  .trials = g_array_new(FALSE, TRUE, sizeof(PlFleetTrial)),
                  .cp = c->prefill_tp * c->prefill_price, .cd = c->decode_tp * c->decode_price,
                  .max = MAX(p->max_replicas, 2), .on_simulation = on_simulation, .user = user};
    gboolean good = TRUE, ok = FALSE;
    /* 1. a sustaining (n, n) */
    guint n = CLAMP(start, 1, s.max / 2);
    guint p0 = 0, d0 = 0;
    while (good) {
        good = try_pd(&s, n, n, &ok, why);
        if (!good || ok || 2 * n >= s.max)
            break;
        n = MIN(2 * n, s.max / 2);
    }
    if (good && ok) {
        p0 = n;
        /* the fewest decode replicas with p0 prefill ones: down from n */
        guint lo = 1;
        if (!min_decode(&s, p0, lo, &d0, why))
            good = FALSE;
    }
    /* 2. fewer prefill replicas, each with its fewest decode replicas */
    guint dprev = d0;
    for (guint pp = p0; good && pp > 1 && dprev > 0;) {
        pp--;
        if (s.have_best && cost(&s, 1, dprev) >= s.best_cost)
            break; /* even one prefill replica with this many decode ones costs more */
        guint d;
        if (!min_decode(&s, pp, dprev, &d, why)) {
            good = FALSE;
            break;
        }
        if (d == 0)
            break; /* too few prefill replicas at any decode count */
        dprev = d;
    }
    /* 3. more prefill replicas, while fewer decode ones suffice */
    dprev = d0;
    for (guint pp = p0; good && p0 > 0 && dprev > 1 && pp + 1 + 1 <= s.max;) {
        pp++;
        if (s.have_best && cost(&s, pp, 1) >= s.best_cost)
            break;
        /* d(pp) <= d(pp - 1): bisect below dprev */
        guint lo = 1, hi = dprev, d = dprev;
        gboolean okd;
        if (!try_pd(&s, pp, hi - 1, &okd, why)) {
            good = FALSE;
            break;
        }
        if (!okd)
            break; /* one more prefill replica does not spare a decode one */
        hi = hi - 1;
        d = hi;
        while (good && hi > lo) {
            guint mid = lo + (hi - lo) / 2;
            if (!try_pd(&s, pp, mid, &okd, why)) {
                good = FALSE;
                break;
            }
            if (okd)
                hi = d = mid;
            else
                lo = mid + 1;
        }
        dprev = d;
    }

    pl_fleet_take_trials(c, s.trials);
    if (!good)
        return FALSE;
    if (!s.have_best) {
        c->error = g_strdup_printf("no fleet of up to %u replicas (prefill and decode) sustains %g requests/s", s.max,
                                   p->target_rate);
        c->feasible = FALSE;
        return TRUE;
    }
    c->prefill_replicas = s.best_p;
    c->decode_replicas = s.best_d;
    c->replicas = s.best_p + s.best_d;
    c->gpus = s.best_p * c->prefill_tp + s.best_d * c->decode_tp;
    c->cost_per_hour = s.best_cost;
    for (guint i = 0; i < c->num_trials; i++)
        if (c->trials[i].prefill_replicas == s.best_p && c->trials[i].decode_replicas == s.best_d)
            c->chosen_trial = (int)i;
    return TRUE;
}
