/*
 * pl_spec.c: the plan file as read (see pl_plan_internal.h and
 * docs/planning.md): its SLOs, the candidates (a list, or a grid whose
 * cartesian product they are; each candidate's fields set on a copy of the
 * base scenario, "disaggregated" ones split into pools by pl_pd.c), GPU
 * prices, the search's settings, the router (pl_fleet.c) and the
 * "autoscale" section (pl_scale.c), with the --set overrides applied first
 * (pl_set.c). Errors name the file and the field. Nothing runs here: the
 * search is pl_plan.c.
 */
#include <math.h>
#include <string.h>

#include "pl_plan_internal.h"
#include "scn_json.h"
#include "ss_error.h"

#define PL_MAX_CANDIDATES 1000u   /* each runs 10 to 30 simulations */

/* ------------------------------------------------------------------ SLOs -- */

static const char *const slo_metrics[] = {"ttft", "tpot", "itl", "e2e", "queue"};
static const char *const slo_metric_labels[] = {"TTFT", "TPOT", "ITL", "E2E", "queueing delay"};
static const char *const stat_names[] = {"mean", "p50", "p90", "p95", "p99", "max"};

const char *pl_slo_metric_name(PlSloMetric m)
{
    return (guint)m < G_N_ELEMENTS(slo_metrics) ? slo_metrics[m] : "?";
}

const char *pl_slo_metric_label(PlSloMetric m)
{
    return (guint)m < G_N_ELEMENTS(slo_metric_labels) ? slo_metric_labels[m] : "?";
}

const char *pl_stat_name(PlStat s)
{
    return (guint)s < G_N_ELEMENTS(stat_names) ? stat_names[s] : "?";
}

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
