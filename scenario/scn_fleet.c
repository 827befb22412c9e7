/*
 * scn_fleet.c: the "fleet" object of a scenario (docs/scenario.md):
 *
 *   fleet { replicas,                      N equal replicas of the deployment
 *           pools [ {name, hardware, count, engine {...}, latency {...}} ],
 *           router { policy, snapshot_interval_ms, latency_ms,
 *                    weights {prefix, queue, kv, lora},
 *                    prefix {block_size, max_blocks, capacity_blocks},
 *                    hash_key, load_factor, virtual_nodes,
 *                    sticky_sessions }                   (or a policy name)
 *           admission { max_waiting_per_replica, max_waiting, rate_limit, burst } }
 *
 * A pool is the scenario's deployment with its own GPU, engine and latency
 * settings and a replica count; its overrides are kept as JSON and applied
 * over a copy of the scenario when it is built (so flags that change the
 * scenario's engine reach every pool that does not set that field itself),
 * and once at parse time to check them. Unknown keys, a count of 0, a
 * negative weight, an unknown router are errors naming the field.
 */
#include "scn_fleet.h"

#include <math.h>
#include <string.h>

#include "scn_json.h"
#include "ss_error.h"

static const char *const fleet_keys[] = {"replicas", "pools", "router", "admission", "disaggregation", "autoscale",
                                         "slo", NULL};
static const char *const router_keys[] = {"policy", "snapshot_interval_ms", "latency_ms", "weights", "prefix",
                                          "hash_key", "load_factor", "virtual_nodes", "sticky_sessions", NULL};
static const char *const weight_keys[] = {"prefix", "queue", "kv", "lora", NULL};
static const char *const prefix_keys[] = {"block_size", "max_blocks", "capacity_blocks", NULL};
static const char *const admission_keys[] = {"max_waiting_per_replica", "max_waiting", "rate_limit", "burst", NULL};
static const char *const pool_keys[] = {"name", "hardware", "count", "engine", "latency", "role", "autoscale", NULL};

void scn_fleet_init(ScnFleet *f)
{
    memset(f, 0, sizeof *f);
    f->replicas = 1;
    cl_router_spec_init(&f->router);
    cl_pd_spec_init(&f->pd, f->router.policy);
    cl_autoscale_spec_init(&f->autoscale);
}

static void pool_clear(ScnPool *p)
{
    g_free(p->name);
    g_free(p->hardware);
    g_free(p->overrides);
}

void scn_fleet_clear(ScnFleet *f)
{
    for (guint i = 0; i < f->num_pools; i++)
        pool_clear(&f->pools[i]);
    g_free(f->pools);
    f->pools = NULL;
    f->num_pools = 0;
}

void scn_fleet_copy(ScnFleet *dst, const ScnFleet *src)
{
    *dst = *src;
    dst->pools = src->num_pools ? g_new0(ScnPool, src->num_pools) : NULL;
    for (guint i = 0; i < src->num_pools; i++) {
        dst->pools[i].name = g_strdup(src->pools[i].name);
        dst->pools[i].hardware = g_strdup(src->pools[i].hardware);
        dst->pools[i].count = src->pools[i].count;
        dst->pools[i].overrides = g_strdup(src->pools[i].overrides);
        dst->pools[i].role = src->pools[i].role;
        dst->pools[i].autoscale = src->pools[i].autoscale;
    }
}

/* ----------------------------------------------------------------- pools -- */

gboolean scn_fleet_apply_pool(ScnScenario *s, const ScnPool *p, const char *origin, const char *path,
                              GError **error)
{
    if (p->hardware) {
        g_free(s->hardware);
        s->hardware = g_strdup(p->hardware);
    }
    if (!p->overrides)
        return TRUE;
    cJSON *o = cJSON_Parse(p->overrides);
    gboolean ok = o != NULL;
    char *sub = g_strdup_printf("%s.engine", path);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "engine");
    if (ok && e)
        ok = scn_scenario_apply_engine(s, e, origin, sub, error);
    g_free(sub);
    sub = g_strdup_printf("%s.latency", path);
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "latency");
    if (ok && l)
        ok = scn_scenario_apply_latency(s, l, origin, sub, error);
    g_free(sub);
    cJSON_Delete(o);
    return ok;
}

static gboolean parse_pool(ScnScenario *s, const cJSON *o, const char *origin, guint i, ScnPool *out,
                           GError **error)
{
    char *path = g_strdup_printf("fleet.pools[%u]", i);
    gboolean ok = FALSE;
    memset(out, 0, sizeof *out);
    guint64 count = 0;
    if (!scn_json_check_keys(o, path, pool_keys, origin, error) ||
        !scn_json_get_string(o, "name", path, origin, &out->name, error) ||
        !scn_json_get_string(o, "hardware", path, origin, &out->hardware, error) ||
        !scn_json_get_uint(o, "count", path, origin, 1, SIM_MAX_REPLICAS, &count, error))
        goto out;
    if (!cJSON_GetObjectItemCaseSensitive(o, "count")) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.count: missing (the pool's number of replicas)", origin,
                    path);
        goto out;
    }
    out->count = (guint)count;
    if (!out->name)
        out->name = g_strdup_printf("pool%u", i);
    cl_autoscale_spec_init(&out->autoscale);
    if (!scn_fleet_parse_role(o, origin, path, &out->role, error))
        goto out;
    const cJSON *as = cJSON_GetObjectItemCaseSensitive(o, "autoscale");
    if (as) {
        char *apath = g_strdup_printf("%s.autoscale", path);
        gboolean good = scn_fleet_parse_autoscale(&out->autoscale, as, origin, apath, error);
        g_free(apath);
        if (!good)
            goto out;
    }
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "engine");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "latency");
    if (e || l) {
        cJSON *ov = cJSON_CreateObject();
        if (e)
            cJSON_AddItemToObject(ov, "engine", cJSON_Duplicate(e, TRUE));
        if (l)
            cJSON_AddItemToObject(ov, "latency", cJSON_Duplicate(l, TRUE));
        char *text = cJSON_PrintUnformatted(ov);
        out->overrides = g_strdup(text);
        cJSON_free(text);
        cJSON_Delete(ov);
    }
    /* check the overrides now, on a copy of the scenario */
    ScnScenario *probe = scn_scenario_copy(s);
    ok = scn_fleet_apply_pool(probe, out, origin, path, error);
    scn_scenario_free(probe);
out:
    if (!ok)
        pool_clear(out);
    g_free(path);
    return ok;
}

static gboolean parse_pools(ScnScenario *s, const cJSON *a, const char *origin, GError **error)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0) {
        char *repr = scn_json_repr(a);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: fleet.pools: expected a non-empty list of pools, e.g. [{\"hardware\": \"H100-SXM\", "
                    "\"count\": 4}], got %s", origin, repr);
        g_free(repr);
        return FALSE;
    }
    guint n = (guint)cJSON_GetArraySize(a);
    ScnPool *pools = g_new0(ScnPool, n);
    guint i = 0;
    for (const cJSON *it = a->child; it; it = it->next, i++) {
        if (!parse_pool(s, it, origin, i, &pools[i], error)) {
            for (guint k = 0; k < i; k++)
                pool_clear(&pools[k]);
            g_free(pools);
            return FALSE;
        }
        for (guint k = 0; k < i; k++)
            if (strcmp(pools[k].name, pools[i].name) == 0) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: fleet.pools[%u].name: \"%s\" names pool %u too",
                            origin, i, pools[i].name, k);
                for (guint j = 0; j <= i; j++)
                    pool_clear(&pools[j]);
                g_free(pools);
                return FALSE;
            }
    }
    scn_fleet_clear(&s->fleet);
    s->fleet.pools = pools;
    s->fleet.num_pools = n;
    return TRUE;
}

/* ---------------------------------------------------------------- router -- */

static gboolean parse_policy(const cJSON *v, const char *origin, const char *path, ClRouterPolicy *out,
                             GError **error)
{
    if (cJSON_IsString(v) && cl_router_policy_from_name(v->valuestring, out))
        return TRUE;
    GString *known = g_string_new(NULL);
    const char *best = NULL;
    guint best_d = G_MAXUINT;
    for (const char *const *n = cl_router_policy_names(); *n; n++) {
        g_string_append_printf(known, "%s%s", known->len ? ", " : "", *n);
        if (cJSON_IsString(v)) {
            guint d = scn_edit_distance(v->valuestring, *n);
            if (d < best_d) {
                best_d = d;
                best = *n;
            }
        }
    }
    char *repr = scn_json_repr(v);
    if (best && best_d <= 3)
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: unknown router %s (did you mean '%s'?); known: %s",
                    origin, path, repr, best, known->str);
    else
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: unknown router %s; known: %s", origin, path, repr,
                    known->str);
    g_free(repr);
    g_string_free(known, TRUE);
    return FALSE;
}

static gboolean get_guint(const cJSON *obj, const char *key, const char *path, const char *origin, guint64 min,
                          guint64 max, guint *out, GError **error)
{
    guint64 v = *out;
    if (!scn_json_get_uint(obj, key, path, origin, min, max, &v, error))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

static gboolean parse_router(ClRouterSpec *r, const cJSON *o, const char *origin, GError **error)
{
    const char *p = "fleet.router";
    if (cJSON_IsString(o))
        return parse_policy(o, origin, p, &r->policy, error);
    if (!scn_json_check_keys(o, p, router_keys, origin, error))
        return FALSE;
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(o, "policy");
    if (pol && !parse_policy(pol, origin, "fleet.router.policy", &r->policy, error))
        return FALSE;
    char *key = NULL;
    if (!scn_json_get_string(o, "hash_key", p, origin, &key, error))
        return FALSE;
    if (key) {
        gboolean known = TRUE;
        if (strcmp(key, "session") == 0)
            r->hash_key = CL_HASH_SESSION;
        else if (strcmp(key, "prefix") == 0)
            r->hash_key = CL_HASH_PREFIX;
        else
            known = FALSE;
        if (!known)
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: fleet.router.hash_key: expected \"session\" or \"prefix\", got \"%s\"", origin, key);
        g_free(key);
        if (!known)
            return FALSE;
    }
    if (!scn_json_get_bool(o, "sticky_sessions", p, origin, &r->sticky_sessions, error) ||
        !scn_json_get_double(o, "snapshot_interval_ms", p, origin, 0, 3.6e6, FALSE, &r->snapshot_interval_ms,
                             error) ||
        !scn_json_get_double(o, "latency_ms", p, origin, 0, 3.6e6, FALSE, &r->latency_ms, error) ||
        !scn_json_get_double(o, "load_factor", p, origin, 1, 1e6, TRUE, &r->load_factor, error) ||
        !get_guint(o, "virtual_nodes", p, origin, 1, 10000, &r->virtual_nodes, error))
        return FALSE;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "weights");
    if (w) {
        const char *wp = "fleet.router.weights";
        if (!scn_json_check_keys(w, wp, weight_keys, origin, error) ||
            !scn_json_get_double(w, "prefix", wp, origin, 0, 1e6, FALSE, &r->prefix_weight, error) ||
            !scn_json_get_double(w, "queue", wp, origin, 0, 1e6, FALSE, &r->queue_weight, error) ||
            !scn_json_get_double(w, "kv", wp, origin, 0, 1e6, FALSE, &r->kv_weight, error) ||
            !scn_json_get_double(w, "lora", wp, origin, 0, 1e6, FALSE, &r->lora_weight, error))
            return FALSE;
    }
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "prefix");
    if (x) {
        const char *xp = "fleet.router.prefix";
        if (!scn_json_check_keys(x, xp, prefix_keys, origin, error) ||
            !get_guint(x, "block_size", xp, origin, 1, 1 << 20, &r->prefix_block_size, error) ||
            !get_guint(x, "max_blocks", xp, origin, 1, 1 << 20, &r->prefix_max_blocks, error) ||
            !get_guint(x, "capacity_blocks", xp, origin, 0, G_MAXUINT32, &r->prefix_capacity, error))
            return FALSE;
    }
    return cl_router_spec_validate(r, origin, error);
}

static gboolean parse_admission(ClAdmissionSpec *a, const cJSON *o, const char *origin, GError **error)
{
    const char *p = "fleet.admission";
    return scn_json_check_keys(o, p, admission_keys, origin, error) &&
           get_guint(o, "max_waiting_per_replica", p, origin, 0, G_MAXUINT32, &a->max_waiting_per_replica, error) &&
           get_guint(o, "max_waiting", p, origin, 0, G_MAXUINT32, &a->max_waiting, error) &&
           scn_json_get_double(o, "rate_limit", p, origin, 0, 1e12, FALSE, &a->rate_limit, error) &&
           scn_json_get_double(o, "burst", p, origin, 0, 1e12, FALSE, &a->burst, error);
}

/* ----------------------------------------------------------------- fleet -- */

gboolean scn_fleet_apply(ScnScenario *s, const cJSON *fleet, const char *origin, GError **error)
{
    if (!scn_json_check_keys(fleet, "fleet", fleet_keys, origin, error))
        return FALSE;
    const cJSON *reps = cJSON_GetObjectItemCaseSensitive(fleet, "replicas");
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(fleet, "pools");
    if (reps && pools) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: fleet: give either \"replicas\" (equal replicas) or \"pools\" (each with its count), not "
                    "both", origin);
        return FALSE;
    }
    /* work on a copy: a failing key leaves the scenario as it was */
    ScnFleet f;
    scn_fleet_copy(&f, &s->fleet);
    gboolean ok = FALSE;
    if (reps) {
        guint n = f.replicas;
        if (!get_guint(fleet, "replicas", "fleet", origin, 1, SIM_MAX_REPLICAS, &n, error))
            goto out;
        if (f.num_pools > 1) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: fleet.replicas: the fleet has %u pools; set each pool's count instead", origin,
                        f.num_pools);
            goto out;
        }
        if (f.num_pools == 1)
            f.pools[0].count = n;
        f.replicas = n;
    }
    const cJSON *router = cJSON_GetObjectItemCaseSensitive(fleet, "router");
    if (router && !parse_router(&f.router, router, origin, error))
        goto out;
    const cJSON *adm = cJSON_GetObjectItemCaseSensitive(fleet, "admission");
    if (adm && !parse_admission(&f.admission, adm, origin, error))
        goto out;
    const cJSON *dis = cJSON_GetObjectItemCaseSensitive(fleet, "disaggregation");
    if (dis && !scn_fleet_parse_disaggregation(&f, dis, origin, error))
        goto out;
    const cJSON *slo = cJSON_GetObjectItemCaseSensitive(fleet, "slo");
    if (slo && !scn_fleet_parse_slo(&f, slo, origin, error))
        goto out;
    const cJSON *as = cJSON_GetObjectItemCaseSensitive(fleet, "autoscale");
    if (as) {
        if (f.num_pools > 0 || pools) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: fleet.autoscale: the fleet has pools; give each pool its own \"autoscale\"", origin);
            goto out;
        }
        if (!scn_fleet_parse_autoscale(&f.autoscale, as, origin, "fleet.autoscale", error))
            goto out;
    }
    ok = TRUE;
out:
    if (!ok) {
        scn_fleet_clear(&f);
        return FALSE;
    }
    scn_fleet_clear(&s->fleet);
    s->fleet = f;
    return pools ? parse_pools(s, pools, origin, error) : TRUE;
}

/* --------------------------------------------------------- single fields -- */

typedef struct {
    const char *name;     /* canonical */
    const char *path;     /* inside "fleet", dotted */
} FleetField;

static const FleetField fleet_fields[] = {
    {"replicas", "replicas"},
    {"router", "router.policy"},
    {"snapshot_interval_ms", "router.snapshot_interval_ms"},
    {"router_latency_ms", "router.latency_ms"},
    {"prefix_weight", "router.weights.prefix"},
    {"queue_weight", "router.weights.queue"},
    {"kv_weight", "router.weights.kv"},
    {"lora_weight", "router.weights.lora"},
    {"max_waiting_per_replica", "admission.max_waiting_per_replica"},
    {"max_waiting", "admission.max_waiting"},
    {"rate_limit", "admission.rate_limit"},
    {"rate_limit_burst", "admission.burst"},
    {"sticky_sessions", "router.sticky_sessions"},
    {"fleet", ""},
    /* disaggregation and autoscaling (scn_fleet_pd.c) */
    {"prefill_replicas", "*prefill"},
    {"decode_replicas", "*decode"},
    {"pd_decider", "disaggregation.decider"},
    {"pd_threshold_tokens", "disaggregation.threshold_tokens"},
    {"pd_decode_pick", "disaggregation.decode_pick"},
    {"kv_link", "disaggregation.transfer.link"},
    {"kv_bandwidth_gbps", "disaggregation.transfer.bandwidth_gbps"},
    {"kv_fabric_gbps", "disaggregation.transfer.fabric_gbps"},
    {"kv_transfer_latency_ms", "disaggregation.transfer.latency_ms"},
    {"kv_layerwise", "disaggregation.transfer.layerwise"},
    {"autoscale", "autoscale"},
    {"slo_ttft_ms", "slo.ttft_ms"},
    {"slo_tpot_ms", "slo.tpot_ms"},
};

const char *const *scn_fleet_fields(void)
{
    static const char *names[G_N_ELEMENTS(fleet_fields) + 1];
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        for (size_t i = 0; i < G_N_ELEMENTS(fleet_fields); i++)
            names[i] = fleet_fields[i].name;
        names[G_N_ELEMENTS(fleet_fields)] = NULL;
        g_once_init_leave(&init, 1);
    }
    return names;
}

const char *scn_fleet_field_canonical(const char *name)
{
    if (strcmp(name, "data_parallel_size") == 0)
        return "replicas";
    const char *n = name;
    if (g_str_has_prefix(n, "fleet.")) {
        n += 6;
        for (size_t i = 0; i < G_N_ELEMENTS(fleet_fields); i++)
            if (*fleet_fields[i].path && strcmp(n, fleet_fields[i].path) == 0)
                return fleet_fields[i].name;
        if (strcmp(n, "router") == 0)
            return "router";
        if (strcmp(n, "disaggregation.transfer") == 0)
            return "kv_link";
        return NULL;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(fleet_fields); i++)
        if (strcmp(n, fleet_fields[i].name) == 0)
            return fleet_fields[i].name;
    return NULL;
}

gboolean scn_fleet_set_field(ScnScenario *s, const char *canonical, const cJSON *v, const char *origin,
                             GError **error)
{
    const FleetField *f = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(fleet_fields); i++)
        if (strcmp(canonical, fleet_fields[i].name) == 0)
            f = &fleet_fields[i];
    g_return_val_if_fail(f, FALSE); /* callers pass names scn_scenario_field_canonical gave: not input */
    if (f->path[0] == '*') /* the count of the prefill or decode pool */
        return scn_fleet_set_pd_count(s, strcmp(f->path, "*prefill") == 0 ? CL_ROLE_PREFILL : CL_ROLE_DECODE, v,
                                      origin, error);
    if (!*f->path) { /* "fleet": a whole new fleet */
        ScnScenario *probe = scn_scenario_copy(s);
        scn_fleet_clear(&probe->fleet);
        scn_fleet_init(&probe->fleet);
        gboolean ok = scn_fleet_apply(probe, v, origin, error);
        if (ok) {
            scn_fleet_clear(&s->fleet);
            scn_fleet_copy(&s->fleet, &probe->fleet);
        }
        scn_scenario_free(probe);
        return ok;
    }
    /* {"a": {"b": v}} for the path "a.b" */
    char **parts = g_strsplit(f->path, ".", -1);
    guint np = g_strv_length(parts);
    cJSON *root = cJSON_CreateObject();
    cJSON *at = root;
    for (guint i = 0; i + 1 < np; i++)
        at = cJSON_AddObjectToObject(at, parts[i]);
    cJSON_AddItemReferenceToObject(at, parts[np - 1], (cJSON *)v);
    g_strfreev(parts);
    gboolean ok = scn_fleet_apply(s, root, origin, error);
    cJSON_Delete(root);
    return ok;
}
