/*
 * pl_plan.c: capacity planning (see pl_plan.h and docs/planning.md).
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
 */
#include "pl_plan.h"

#include <math.h>
#include <string.h>

#include "pl_plan_internal.h"
#include "scn_json.h"
#include "ss_error.h"

#define PL_MAX_CANDIDATES 1000u   /* each runs 10 to 30 simulations */
#define PL_MAX_BISECTIONS 64      /* a guard: the bracket stops shrinking long before */

/* ------------------------------------------------------------------ SLOs -- */

static const char *const slo_metrics[] = {"ttft", "tpot", "itl", "e2e", "queue"};
static const char *const slo_metric_labels[] = {"TTFT", "TPOT", "ITL", "E2E", "queueing delay"};
static const char *const stat_names[] = {"mean", "p50", "p90", "p95", "p99", "max"};

const char *pl_slo_metric_name(PlSloMetric m) { return slo_metrics[m]; }
const char *pl_stat_name(PlStat s) { return stat_names[s]; }

gboolean pl_slo_from_json(const cJSON *o, const char *origin, const char *path, PlSlo *out, GError **error)
{
    static const char *const keys[] = {"metric", "percentile", "stat", "max_ms", NULL};
    memset(out, 0, sizeof *out);
    if (!scn_json_check_keys(o, path, keys, origin, error))
        return FALSE;
    char *metric = NULL, *stat = NULL;
    double max_ms = NAN;
    gboolean ok = FALSE;
    if (!scn_json_get_string(o, "metric", path, origin, &metric, error) ||
        !scn_json_get_string(o, "percentile", path, origin, &stat, error) ||
        !scn_json_get_string(o, "stat", path, origin, &stat, error) ||
        !scn_json_get_double(o, "max_ms", path, origin, 0, INFINITY, TRUE, &max_ms, error))
        goto out;
    if (!metric || isnan(max_ms)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: an SLO needs \"metric\" and \"max_ms\"", origin, path);
        goto out;
    }
    char *m = g_ascii_strdown(metric, -1);
    if (g_str_has_suffix(m, "_ms"))
        m[strlen(m) - 3] = '\0';
    gboolean found = FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(slo_metrics); i++)
        if (strcmp(m, slo_metrics[i]) == 0) {
            out->metric = (PlSloMetric)i;
            found = TRUE;
        }
    g_free(m);
    if (!found) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s.metric: expected ttft, tpot, itl, e2e or queue, got \"%s\"", origin, path, metric);
        goto out;
    }
    out->stat = PL_STAT_P99;
    if (stat) {
        found = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(stat_names); i++)
            if (g_ascii_strcasecmp(stat, stat_names[i]) == 0) {
                out->stat = (PlStat)i;
                found = TRUE;
            }
        if (!found) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: %s.percentile: expected mean, p50, p90, p95, p99 or max, got \"%s\"", origin, path, stat);
            goto out;
        }
    }
    out->max_ms = max_ms;
    out->label = g_strdup_printf("%s %s <= %g ms", stat_names[out->stat], slo_metric_labels[out->metric], max_ms);
    ok = TRUE;
out:
    g_free(metric);
    g_free(stat);
    return ok;
}

gboolean pl_slo_parse(const char *json_text, const char *origin, const char *path, PlSlo *out, GError **error)
{
    cJSON *o = scn_json_parse(json_text, origin, error);
    if (!o)
        return FALSE;
    gboolean ok = pl_slo_from_json(o, origin, path, out, error);
    cJSON_Delete(o);
    return ok;
}

double pl_slo_value(const PlSlo *slo, const SimSummary *sum)
{
    const SimStats *st = NULL;
    switch (slo->metric) {
    case PL_SLO_TTFT:
        st = &sum->all.ttft_ms;
        break;
    case PL_SLO_TPOT:
        st = &sum->all.tpot_ms;
        break;
    case PL_SLO_ITL:
        st = &sum->all.itl_ms;
        break;
    case PL_SLO_E2E:
        st = &sum->all.e2e_ms;
        break;
    case PL_SLO_QUEUE:
        st = &sum->all.queue_ms;
        break;
    }
    switch (slo->stat) {
    case PL_STAT_MEAN:
        return st->mean;
    case PL_STAT_P50:
        return st->p50;
    case PL_STAT_P90:
        return st->p90;
    case PL_STAT_P95:
        return st->p95;
    case PL_STAT_P99:
        return st->p99;
    case PL_STAT_MAX:
        return st->max;
    }
    return NAN;
}

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

/* -------------------------------------------------------------- plan file -- */

void pl_plan_spec_free(PlPlanSpec *p)
{
    if (!p)
        return;
    scn_scenario_free(p->base);
    g_free(p->name);
    g_free(p->description);
    g_free(p->origin);
    for (guint i = 0; i < p->num_slos; i++)
        g_free(p->slos[i].label);
    g_free(p->slos);
    for (guint i = 0; i < p->num_candidates; i++)
        scn_scenario_free(p->candidates[i].scenario), g_free(p->candidates[i].name), g_free(p->candidates[i].pd_label);
    g_free(p->candidates);
    pl_scale_spec_clear(&p->scale);
    if (p->prices)
        g_hash_table_destroy(p->prices);
    g_free(p);
}

/* Applies {"field": value, ...} of a candidate to its scenario; "disaggregated"
 * splits it into prefill and decode pools (pl_pd.c) and names them in *label. */
static gboolean apply_overrides(ScnScenario *s, const cJSON *o, const char *origin, const char *path, char **name,
                                char **label, GError **error)
{
    for (const cJSON *it = o->child; it; it = it->next) {
        if (strcmp(it->string, "name") == 0) {
            if (!cJSON_IsString(it)) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.name: expected a string", origin, path);
                return FALSE;
            }
            g_free(*name);
            *name = g_strdup(it->valuestring);
            continue;
        }
        if (strcmp(it->string, "disaggregated") == 0) {
            char *sub = g_strdup_printf("%s.disaggregated", path);
            g_free(*label);
            *label = NULL;
            gboolean ok = pl_pd_apply(s, it, origin, sub, label, error);
            g_free(sub);
            if (!ok)
                return FALSE;
            continue;
        }
        char *value = cJSON_PrintUnformatted(it);
        char *where = g_strdup_printf("%s: %s", origin, path);
        gboolean ok = scn_scenario_set(s, it->string, value, where, error);
        g_free(where);
        cJSON_free(value);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

/* `name` NULL: named by pl_plan_name_candidates once all are known. */
static void add_candidate(GArray *cands, ScnScenario *s, char *name, char *pd_label)
{
    PlCandidateSpec c = {.scenario = s, .name = name, .pd_label = pd_label};
    g_array_append_val(cands, c);
}

/* "candidates": [ {...}, ... ]  or  {"grid": {"field": [values], ...}} */
static gboolean parse_candidates(PlPlanSpec *p, const cJSON *cj, GError **error)
{
    GArray *cands = g_array_new(FALSE, TRUE, sizeof(PlCandidateSpec));
    gboolean ok = FALSE;
    if (cJSON_IsArray(cj)) {
        int i = 0;
        for (const cJSON *it = cj->child; it; it = it->next, i++) {
            char *path = g_strdup_printf("candidates[%d]", i);
            ScnScenario *s = scn_scenario_copy(p->base);
            char *name = NULL, *label = NULL;
            gboolean good = cJSON_IsObject(it) && apply_overrides(s, it, p->origin, path, &name, &label, error);
            if (!cJSON_IsObject(it))
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected an object of scenario fields",
                            p->origin, path);
            g_free(path);
            if (!good) {
                scn_scenario_free(s);
                g_free(name);
                g_free(label);
                goto out;
            }
            add_candidate(cands, s, name, label);
            if (cands->len > PL_MAX_CANDIDATES) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: candidates: expected at most %u, got more",
                            p->origin, PL_MAX_CANDIDATES);
                goto out;
            }
        }
    } else if (cJSON_IsObject(cj) && cJSON_GetObjectItemCaseSensitive(cj, "grid")) {
        static const char *const keys[] = {"grid", NULL};
        if (!scn_json_check_keys(cj, "candidates", keys, p->origin, error))
            goto out;
        const cJSON *grid = cJSON_GetObjectItemCaseSensitive(cj, "grid");
        guint naxes = 0;
        const cJSON *axes[16];
        for (const cJSON *ax = grid ? grid->child : NULL; ax; ax = ax->next) {
            if (!cJSON_IsArray(ax) || cJSON_GetArraySize(ax) == 0 || naxes == G_N_ELEMENTS(axes)) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: candidates.grid.%s: expected a non-empty list",
                            p->origin, ax->string);
                goto out;
            }
            axes[naxes++] = ax;
        }
        if (naxes == 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: candidates.grid: expected at least one field",
                        p->origin);
            goto out;
        }
        double total = 1;
        for (guint a = 0; a < naxes; a++)
            total *= cJSON_GetArraySize(axes[a]);
        if (total > PL_MAX_CANDIDATES) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: candidates.grid: expected at most %u candidates, got %.0f (the product of the list "
                        "lengths)", p->origin, PL_MAX_CANDIDATES, total);
            goto out;
        }
        guint idx[16] = {0};
        for (;;) {
            ScnScenario *s = scn_scenario_copy(p->base);
            char *label = NULL;
            for (guint a = 0; a < naxes; a++) {
                const cJSON *v = cJSON_GetArrayItem(axes[a], (int)idx[a]);
                gboolean good;
                if (strcmp(axes[a]->string, "disaggregated") == 0) {
                    char *path = g_strdup_printf("candidates.grid.disaggregated[%u]", idx[a]);
                    g_free(label);
                    label = NULL;
                    good = cJSON_IsNull(v) || pl_pd_apply(s, v, p->origin, path, &label, error);
                    g_free(path);
                } else {
                    char *value = cJSON_PrintUnformatted(v);
                    char *where = g_strdup_printf("%s: candidates.grid.%s[%u]", p->origin, axes[a]->string, idx[a]);
                    good = scn_scenario_set(s, axes[a]->string, value, where, error);
                    g_free(where);
                    cJSON_free(value);
                }
                if (!good) {
                    scn_scenario_free(s);
                    g_free(label);
                    goto out;
                }
            }
            add_candidate(cands, s, NULL, label);
            int a = (int)naxes - 1; /* last field varies fastest */
            while (a >= 0 && ++idx[a] == (guint)cJSON_GetArraySize(axes[a]))
                idx[a--] = 0;
            if (a < 0)
                break;
        }
    } else {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: candidates: expected a list of deployments or {\"grid\": {field: [values]}}", p->origin);
        goto out;
    }
    if (cands->len == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: candidates: expected at least one", p->origin);
        goto out;
    }
    ok = TRUE;
out:
    p->num_candidates = cands->len;
    p->candidates = (PlCandidateSpec *)g_array_free(cands, FALSE);
    return ok && pl_plan_name_candidates(p, error);
}

PlPlanSpec *pl_plan_spec_load(const char *path, GError **error)
{
    return pl_plan_spec_load_with(path, NULL, error);
}

PlPlanSpec *pl_plan_spec_load_with(const char *path, const char *const *sets, GError **error)
{
    char *text = scn_read_file(path, "plan", NULL, error);
    if (!text)
        return NULL;
    char *dir = g_path_get_dirname(path);
    char *origin = sets && *sets ? g_strdup_printf("%s (with --set)", path) : g_strdup(path);
    PlPlanSpec *p = pl_plan_spec_parse_with(text, origin, dir, sets, error);
    g_free(origin);
    g_free(dir);
    g_free(text);
    return p;
}

PlPlanSpec *pl_plan_spec_parse(const char *text, const char *origin, const char *base_dir, GError **error)
{
    return pl_plan_spec_parse_with(text, origin, base_dir, NULL, error);
}

PlPlanSpec *pl_plan_spec_parse_with(const char *text, const char *origin, const char *base_dir,
                                    const char *const *sets, GError **error)
{
    static const char *const keys[] = {"name", "description", "base", "target_rate", "slos", "candidates",
                                       "prices", "search", "router", "autoscale", NULL};
    static const char *const search_keys[] = {"min_rate", "max_rate", "tolerance", "num_requests",
                                              "max_queue_growth_ms", "max_queue_growth_rate", "curve_points",
                                              "seed", "max_replicas", NULL};
    cJSON *root = scn_json_parse(text, origin, error);
    if (!root)
        return NULL;
    char **base_sets = NULL;
    if (!pl_set_apply_document(root, sets, &base_sets, error)) {
        cJSON_Delete(root);
        return NULL;
    }
    PlPlanSpec *p = g_new0(PlPlanSpec, 1);
    p->origin = g_strdup(origin);
    p->min_rate = 0.05;
    p->max_rate = 1000;
    p->tolerance = 0.02;
    p->num_requests = 1500;
    p->max_queue_growth_ms = 500;
    p->max_queue_growth_rate = 0.02;
    p->curve_points = 9;
    p->max_replicas = 1000;
    if (!scn_json_check_keys(root, "", keys, origin, error))
        goto fail;
    if (!scn_json_get_string(root, "name", "", origin, &p->name, error) ||
        !scn_json_get_string(root, "description", "", origin, &p->description, error))
        goto fail;
    if (!p->name) {
        char *b = g_path_get_basename(origin);
        char *dot = strrchr(b, '.');
        if (dot && dot != b)
            *dot = '\0';
        p->name = b;
    }

    /* the base scenario: an object, or a path to a scenario file */
    const cJSON *base = cJSON_GetObjectItemCaseSensitive(root, "base");
    if (!base) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: base: missing (the scenario to plan for)", origin);
        goto fail;
    }
    if (cJSON_IsString(base)) {
        char *bp = g_path_is_absolute(base->valuestring) ? g_strdup(base->valuestring)
                                                         : g_build_filename(base_dir, base->valuestring, NULL);
        p->base = scn_scenario_load(bp, error);
        g_free(bp);
    } else if (cJSON_IsObject(base)) {
        char *btext = cJSON_PrintUnformatted(base);
        char *borigin = g_strdup_printf("%s (base)", origin);
        p->base = scn_scenario_parse(btext, borigin, base_dir, error);
        g_free(borigin);
        cJSON_free(btext);
    } else {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: base: expected a scenario object or a file path", origin);
    }
    if (!p->base || !pl_set_apply_base(p->base, base_sets, origin, error))
        goto fail;
    if (p->base->fleet.num_pools > 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: base.fleet.pools: the plan sizes a fleet of one deployment per candidate; describe the "
                    "deployment in the base and the candidates (use servesim sweep to compare mixed fleets)", origin);
        goto fail;
    }
    if (!pl_fleet_apply_router(p, cJSON_GetObjectItemCaseSensitive(root, "router"), error))
        goto fail;
    if (!p->base->is_trace && p->base->workload.arrival.kind == WL_ARRIVAL_PIECEWISE) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: base.workload.arrival: a piecewise rate cannot be scaled by the search; use poisson, gamma "
                    "or constant", origin);
        goto fail;
    }

    if (!cJSON_GetObjectItemCaseSensitive(root, "target_rate")) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: target_rate: missing (requests/s the service must carry)",
                    origin);
        goto fail;
    }
    if (!scn_json_get_double(root, "target_rate", "", origin, 0, INFINITY, TRUE, &p->target_rate, error))
        goto fail;

    const cJSON *slos = cJSON_GetObjectItemCaseSensitive(root, "slos");
    if (!cJSON_IsArray(slos) || cJSON_GetArraySize(slos) == 0 || cJSON_GetArraySize(slos) > 8) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: slos: expected a list of 1 to 8 SLOs, e.g. [{\"metric\": \"ttft\", \"percentile\": \"p99\", "
                    "\"max_ms\": 2000}]", origin);
        goto fail;
    }
    p->num_slos = (guint)cJSON_GetArraySize(slos);
    p->slos = g_new0(PlSlo, p->num_slos);
    int i = 0;
    for (const cJSON *it = slos->child; it; it = it->next, i++) {
        char *path = g_strdup_printf("slos[%d]", i);
        gboolean ok = pl_slo_from_json(it, origin, path, &p->slos[i], error);
        g_free(path);
        if (!ok)
            goto fail;
    }

    const cJSON *search = cJSON_GetObjectItemCaseSensitive(root, "search");
    if (search) {
        guint64 n = p->num_requests, pts = p->curve_points, seed = 0, maxr = p->max_replicas;
        if (!scn_json_check_keys(search, "search", search_keys, origin, error) ||
            !scn_json_get_double(search, "min_rate", "search", origin, 0, INFINITY, TRUE, &p->min_rate, error) ||
            !scn_json_get_double(search, "max_rate", "search", origin, 0, INFINITY, TRUE, &p->max_rate, error) ||
            !scn_json_get_double(search, "tolerance", "search", origin, 0, 0.5, TRUE, &p->tolerance, error) ||
            !scn_json_get_uint(search, "num_requests", "search", origin, 50, 10000000, &n, error) ||
            !scn_json_get_double(search, "max_queue_growth_ms", "search", origin, 0, INFINITY, TRUE,
                                 &p->max_queue_growth_ms, error) ||
            !scn_json_get_double(search, "max_queue_growth_rate", "search", origin, 0, INFINITY, TRUE,
                                 &p->max_queue_growth_rate, error) ||
            !scn_json_get_uint(search, "curve_points", "search", origin, 0, 50, &pts, error) ||
            !scn_json_get_uint(search, "seed", "search", origin, 0, G_MAXUINT64, &seed, error) ||
            !scn_json_get_uint(search, "max_replicas", "search", origin, 1, 100000, &maxr, error))
            goto fail;
        p->num_requests = (guint)n;
        p->max_replicas = (guint)maxr;
        p->curve_points = (guint)pts;
        if (cJSON_GetObjectItemCaseSensitive(search, "seed"))
            p->base->seed = seed;
        if (!sim_rate_in_range(p->min_rate) || !sim_rate_in_range(p->max_rate)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: search.%s: expected a rate from %g to %g requests/s, got %g", origin,
                        sim_rate_in_range(p->min_rate) ? "max_rate" : "min_rate", SIM_RATE_MIN, SIM_RATE_MAX,
                        sim_rate_in_range(p->min_rate) ? p->max_rate : p->min_rate);
            goto fail;
        }
        if (p->min_rate >= p->max_rate) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: search: min_rate (%g) must be below max_rate (%g)",
                        origin, p->min_rate, p->max_rate);
            goto fail;
        }
    }

    if (!parse_candidates(p, cJSON_GetObjectItemCaseSensitive(root, "candidates"), error))
        goto fail;
    const cJSON *scale = cJSON_GetObjectItemCaseSensitive(root, "autoscale");
    if (scale && !pl_scale_parse(p, scale, error))
        goto fail;

    const cJSON *prices = cJSON_GetObjectItemCaseSensitive(root, "prices");
    if (!cJSON_IsObject(prices)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: prices: expected an object of GPU-hour prices, e.g. {\"H100-SXM\": 2.5}", origin);
        goto fail;
    }
    p->prices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (const cJSON *it = prices->child; it; it = it->next) {
        double v = NAN;
        if (!scn_json_get_double(prices, it->string, "prices", origin, 0, INFINITY, FALSE, &v, error))
            goto fail;
        char *key = g_ascii_strdown(it->string, -1);
        g_hash_table_replace(p->prices, key, g_memdup2(&v, sizeof v));
    }
    for (guint c = 0; c < p->num_candidates; c++) {
        const ScnScenario *cs = p->candidates[c].scenario;
        /* every GPU the candidate uses: its pools' when disaggregated */
        const char *hws[3] = {cs->hardware, NULL, NULL};
        char *ph = NULL, *dh = NULL;
        guint ptp, dtp;
        if (pl_pd_is_candidate(cs)) {
            pl_pd_pools(cs, &ph, &ptp, &dh, &dtp);
            hws[0] = ph;
            hws[1] = dh;
        }
        gboolean have = TRUE;
        const char *missing = NULL;
        for (guint k = 0; k < 2 && hws[k] && have; k++) {
            char *key = g_ascii_strdown(hws[k], -1);
            have = g_hash_table_contains(p->prices, key);
            g_free(key);
            missing = hws[k];
        }
        if (!have)
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: prices: no price for %s (candidate \"%s\")", origin,
                        missing, p->candidates[c].name);
        g_free(ph);
        g_free(dh);
        if (!have)
            goto fail;
    }
    cJSON_Delete(root);
    g_strfreev(base_sets);
    return p;
fail:
    cJSON_Delete(root);
    g_strfreev(base_sets);
    pl_plan_spec_free(p);
    return NULL;
}

double pl_plan_spec_price(const PlPlanSpec *p, const char *hardware)
{
    char *key = g_ascii_strdown(hardware, -1);
    const double *v = g_hash_table_lookup(p->prices, key);
    g_free(key);
    return v ? *v : NAN;
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

static gboolean sustained(const PlLoadPoint *pt)
{
    return pt->meets_slos && pt->stable;
}

/* What fails at a load point: the SLO furthest over its limit, else queue growth. */
static char *binding_of(const PlPlanSpec *p, const PlLoadPoint *pt)
{
    int worst = -1;
    double worst_ratio = 1.0;
    for (guint i = 0; i < p->num_slos; i++) {
        double r = pt->slo_values[i] / p->slos[i].max_ms;
        if (!(r <= worst_ratio)) { /* also NaN */
            worst_ratio = isnan(r) ? INFINITY : r;
            worst = (int)i;
        }
    }
    if (worst >= 0)
        return g_strdup(p->slos[worst].label);
    if (!pt->stable)
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
    if (sustained(&hi_pt)) {
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
            if (sustained(&pt)) {
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
            c->binding = binding_of(p, &hi_pt);
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
            if (sustained(&pt)) {
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
                                      : binding_of(p, &hi_pt);

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
