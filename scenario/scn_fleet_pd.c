/*
 * scn_fleet_pd.c: the parts of a scenario's "fleet" that disaggregate
 * prefill and decode and scale pools (docs/scenario.md,
 * docs/disaggregation.md, docs/autoscaling.md):
 *
 *   fleet { pools [ {..., role, autoscale {...}} ],
 *           autoscale {...}                 (the one pool of "replicas")
 *           disaggregation { decider, threshold_tokens, decode_pick, decode_router,
 *                            transfer { link, bandwidth_gbps, efficiency, fabric_gbps,
 *                                       latency_ms, per_descriptor_us, layerwise } }
 *           slo { ttft_ms, tpot_ms, window_s } }
 *
 *   autoscale { metric, target, up_threshold, down_threshold, interval_s,
 *               metric_window_s, up_cooldown_s, down_cooldown_s, min_replicas,
 *               max_replicas, provision_s, load_gbps, startup_s }
 *
 * and the single fields that reach them from flags and sweep axes
 * (prefill_replicas and decode_replicas turn a fleet of one deployment into
 * a prefill pool and a decode pool of it). Every error names the field and
 * what was expected; checks that involve several parts of the fleet (a
 * decode pool needs a prefill pool, ...) are made once it is complete
 * (scn_fleet_check).
 */
#include "scn_fleet.h"

#include <math.h>
#include <string.h>

#include "scn_json.h"
#include "ss_error.h"

static const char *const disagg_keys[] = {"decider", "threshold_tokens", "decode_pick", "decode_router", "transfer",
                                          NULL};
static const char *const transfer_keys[] = {"link", "bandwidth_gbps", "efficiency", "fabric_gbps", "latency_ms",
                                            "per_descriptor_us", "layerwise", NULL};
static const char *const autoscale_keys[] = {"metric", "target", "up_threshold", "down_threshold", "interval_s",
                                             "metric_window_s", "up_cooldown_s", "down_cooldown_s", "min_replicas",
                                             "max_replicas", "provision_s", "load_gbps", "startup_s", "enabled", NULL};
static const char *const slo_keys[] = {"ttft_ms", "tpot_ms", "window_s", NULL};

/* A string value among `names` (NULL-terminated), through `from_name`. */
static gboolean get_named(const cJSON *o, const char *key, const char *path, const char *origin,
                          const char *const *names, gboolean (*from_name)(const char *, int *), int *out,
                          GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return TRUE;
    if (cJSON_IsString(v) && from_name(v->valuestring, out))
        return TRUE;
    GString *known = g_string_new(NULL);
    for (const char *const *n = names; *n; n++)
        g_string_append_printf(known, "%s%s", known->len ? ", " : "", *n);
    char *repr = scn_json_repr(v);
    g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.%s: expected one of %s, got %s", origin, path, key,
                known->str, repr);
    g_free(repr);
    g_string_free(known, TRUE);
    return FALSE;
}

static gboolean link_from(const char *n, int *out)
{
    ClLinkClass c;
    gboolean ok = cl_link_class_from_name(n, &c);
    *out = (int)c;
    return ok;
}

static gboolean decider_from(const char *n, int *out)
{
    ClDecider d;
    gboolean ok = cl_decider_from_name(n, &d);
    *out = (int)d;
    return ok;
}

static gboolean policy_from(const char *n, int *out)
{
    ClRouterPolicy p;
    gboolean ok = cl_router_policy_from_name(n, &p);
    *out = (int)p;
    return ok;
}

static gboolean metric_from(const char *n, int *out)
{
    ClScaleMetric m;
    gboolean ok = cl_scale_metric_from_name(n, &m);
    *out = (int)m;
    return ok;
}

static gboolean role_from(const char *n, int *out)
{
    ClPoolRole r;
    gboolean ok = cl_pool_role_from_name(n, &r);
    *out = (int)r;
    return ok;
}

static gboolean pick_from(const char *n, int *out)
{
    if (g_ascii_strcasecmp(n, "arrival") == 0)
        *out = 1;
    else if (g_ascii_strcasecmp(n, "handoff") == 0)
        *out = 0;
    else
        return FALSE;
    return TRUE;
}

gboolean scn_fleet_parse_role(const cJSON *pool, const char *origin, const char *path, ClPoolRole *out,
                              GError **error)
{
    static const char *const names[] = {"both", "prefill", "decode", NULL};
    int v = (int)*out;
    if (!get_named(pool, "role", path, origin, names, role_from, &v, error))
        return FALSE;
    *out = (ClPoolRole)v;
    return TRUE;
}

gboolean scn_fleet_parse_autoscale(ClAutoscaleSpec *a, const cJSON *o, const char *origin, const char *path,
                                   GError **error)
{
    if (!cJSON_IsObject(o)) {
        char *repr = scn_json_repr(o);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: expected an object, e.g. {\"metric\": \"waiting\", \"target\": 8, \"min_replicas\": 1, "
                    "\"max_replicas\": 8}, got %s", origin, path, repr);
        g_free(repr);
        return FALSE;
    }
    ClAutoscaleSpec c = *a;
    c.enabled = TRUE;
    int metric = (int)c.metric;
    guint64 lo = c.min_replicas, hi = c.max_replicas;
    gboolean have_max = cJSON_GetObjectItemCaseSensitive(o, "max_replicas") != NULL;
    if (!scn_json_check_keys(o, path, autoscale_keys, origin, error) ||
        !get_named(o, "metric", path, origin, cl_scale_metric_names(), metric_from, &metric, error) ||
        !scn_json_get_bool(o, "enabled", path, origin, &c.enabled, error) ||
        !scn_json_get_double(o, "target", path, origin, 0, 1e9, TRUE, &c.target, error) ||
        !scn_json_get_double(o, "up_threshold", path, origin, 1, 1e6, FALSE, &c.up_threshold, error) ||
        !scn_json_get_double(o, "down_threshold", path, origin, 0, 1, TRUE, &c.down_threshold, error) ||
        !scn_json_get_double(o, "interval_s", path, origin, CL_SCALE_INTERVAL_MIN_S, 86400, FALSE, &c.interval_s, error) ||
        !scn_json_get_double(o, "metric_window_s", path, origin, 0, 86400, TRUE, &c.metric_window_s, error) ||
        !scn_json_get_double(o, "up_cooldown_s", path, origin, 0, 86400, FALSE, &c.up_cooldown_s, error) ||
        !scn_json_get_double(o, "down_cooldown_s", path, origin, 0, 86400, FALSE, &c.down_cooldown_s, error) ||
        !scn_json_get_uint(o, "min_replicas", path, origin, 0, SIM_MAX_REPLICAS, &lo, error) ||
        !scn_json_get_uint(o, "max_replicas", path, origin, 1, SIM_MAX_REPLICAS, &hi, error) ||
        !scn_json_get_double(o, "provision_s", path, origin, 0, 86400, FALSE, &c.provision_s, error) ||
        !scn_json_get_double(o, "load_gbps", path, origin, CL_LOAD_GBPS_MIN, 1e6, FALSE, &c.load_gbps, error) ||
        !scn_json_get_double(o, "startup_s", path, origin, 0, 86400, FALSE, &c.startup_s, error))
        return FALSE;
    c.metric = (ClScaleMetric)metric;
    c.min_replicas = (guint)lo;
    c.max_replicas = (guint)hi;
    if (!have_max && c.max_replicas < c.min_replicas)
        c.max_replicas = c.min_replicas;
    if (c.metric == CL_SCALE_KV && !cJSON_GetObjectItemCaseSensitive(o, "target") && c.target > 1)
        c.target = 0.8; /* the kv metric is a share */
    if (c.min_replicas > c.max_replicas) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: min_replicas (%u) must be at most max_replicas (%u)",
                    origin, path, c.min_replicas, c.max_replicas);
        return FALSE;
    }
    /* the count is checked against the bounds once the fleet is complete */
    if (!cl_autoscale_spec_validate(&c, c.min_replicas, origin, path, error))
        return FALSE;
    *a = c;
    return TRUE;
}

gboolean scn_fleet_parse_disaggregation(ScnFleet *f, const cJSON *o, const char *origin, GError **error)
{
    const char *p = "fleet.disaggregation";
    if (!cJSON_IsObject(o)) {
        char *repr = scn_json_repr(o);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: expected an object, e.g. {\"decider\": \"prompt-length\", \"threshold_tokens\": 1024, "
                    "\"transfer\": {\"link\": \"rdma-400\"}}, got %s", origin, p, repr);
        g_free(repr);
        return FALSE;
    }
    ClPdSpec pd = f->pd;
    int decider = (int)pd.decider, pick = pd.decode_at_arrival ? 1 : 0, policy = (int)pd.decode_policy;
    guint64 thr = pd.threshold_tokens;
    static const char *const picks[] = {"arrival", "handoff", NULL};
    if (!scn_json_check_keys(o, p, disagg_keys, origin, error) ||
        !get_named(o, "decider", p, origin, cl_decider_names(), decider_from, &decider, error) ||
        !scn_json_get_uint(o, "threshold_tokens", p, origin, 0, G_MAXUINT32, &thr, error) ||
        !get_named(o, "decode_pick", p, origin, picks, pick_from, &pick, error) ||
        !get_named(o, "decode_router", p, origin, cl_router_policy_names(), policy_from, &policy, error))
        return FALSE;
    if (cJSON_GetObjectItemCaseSensitive(o, "decode_router"))
        f->decode_policy_given = TRUE;
    pd.decider = (ClDecider)decider;
    pd.threshold_tokens = (guint)thr;
    pd.decode_at_arrival = pick == 1;
    pd.decode_policy = (ClRouterPolicy)policy;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "transfer");
    if (t) {
        const char *tp = "fleet.disaggregation.transfer";
        if (cJSON_IsString(t)) { /* a link class alone */
            int link = 0;
            cJSON *wrap = cJSON_CreateObject();
            cJSON_AddItemReferenceToObject(wrap, "link", (cJSON *)t);
            gboolean ok = get_named(wrap, "link", tp, origin, cl_link_class_names(), link_from, &link, error);
            cJSON_Delete(wrap);
            if (!ok)
                return FALSE;
            cl_transfer_spec_init(&pd.transfer);
            pd.transfer.link = (ClLinkClass)link;
        } else {
            ClTransferSpec x = pd.transfer;
            int link = (int)x.link;
            if (!scn_json_check_keys(t, tp, transfer_keys, origin, error) ||
                !get_named(t, "link", tp, origin, cl_link_class_names(), link_from, &link, error))
                return FALSE;
            if (cJSON_GetObjectItemCaseSensitive(t, "link") && link != (int)x.link) {
                /* a new class: its defaults, unless given here */
                gboolean layerwise = x.layerwise;
                double fabric = x.fabric_gbps;
                cl_transfer_spec_init(&x);
                x.layerwise = layerwise;
                x.fabric_gbps = fabric;
            }
            x.link = (ClLinkClass)link;
            if (!scn_json_get_double(t, "bandwidth_gbps", tp, origin, CL_LINK_GBPS_MIN, 1e7, FALSE, &x.bandwidth_gbps, error) ||
                !scn_json_get_double(t, "efficiency", tp, origin, CL_LINK_EFFICIENCY_MIN, 1, FALSE, &x.efficiency, error) ||
                !scn_json_get_double(t, "fabric_gbps", tp, origin, 0, 1e9, FALSE, &x.fabric_gbps, error) ||
                !scn_json_get_double(t, "latency_ms", tp, origin, 0, 3.6e6, FALSE, &x.latency_ms, error) ||
                !scn_json_get_double(t, "per_descriptor_us", tp, origin, 0, 1e6, FALSE, &x.per_descriptor_us,
                                     error) ||
                !scn_json_get_bool(t, "layerwise", tp, origin, &x.layerwise, error))
                return FALSE;
            if (!cl_transfer_spec_validate(&x, origin, tp, error))
                return FALSE;
            pd.transfer = x;
        }
    }
    f->pd = pd;
    f->pd_given = TRUE;
    return TRUE;
}

gboolean scn_fleet_parse_slo(ScnFleet *f, const cJSON *o, const char *origin, GError **error)
{
    const char *p = "fleet.slo";
    ClSloSpec slo = f->slo;
    if (!cJSON_IsObject(o)) {
        char *repr = scn_json_repr(o);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: %s: expected an object, e.g. {\"ttft_ms\": 2000, \"tpot_ms\": 50}, got %s", origin, p, repr);
        g_free(repr);
        return FALSE;
    }
    if (!scn_json_check_keys(o, p, slo_keys, origin, error) ||
        !scn_json_get_double(o, "ttft_ms", p, origin, 0, 1e9, FALSE, &slo.ttft_ms, error) ||
        !scn_json_get_double(o, "tpot_ms", p, origin, 0, 1e9, FALSE, &slo.tpot_ms, error) ||
        !scn_json_get_double(o, "window_s", p, origin, 1, 1e6, FALSE, &slo.window_s, error))
        return FALSE;
    f->slo = slo;
    return TRUE;
}

gboolean scn_fleet_check(const ScnFleet *f, const char *origin, GError **error)
{
    guint roles[CL_ROLE_N] = {0};
    const ScnPool *decode = NULL, *prefill = NULL;
    for (guint i = 0; i < f->num_pools; i++) {
        const ScnPool *p = &f->pools[i];
        roles[p->role]++;
        if (p->role == CL_ROLE_DECODE && !decode)
            decode = p;
        if (p->role == CL_ROLE_PREFILL && !prefill)
            prefill = p;
        if (p->autoscale.enabled) {
            char *path = g_strdup_printf("fleet.pools[%u].autoscale", i);
            gboolean ok = cl_autoscale_spec_validate(&p->autoscale, p->count, origin, path, error);
            g_free(path);
            if (!ok)
                return FALSE;
        }
    }
    if (f->num_pools == 0 && f->autoscale.enabled &&
        !cl_autoscale_spec_validate(&f->autoscale, f->replicas, origin, "fleet.autoscale", error))
        return FALSE;
    if (decode && !prefill) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: fleet.pools: pool \"%s\" has the role decode but no pool has the role prefill: a decode "
                    "pool receives the KV of prefills made elsewhere (add a prefill pool, or make it \"both\")",
                    origin, decode->name);
        return FALSE;
    }
    if (prefill && !decode) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: fleet.pools: pool \"%s\" has the role prefill but no pool has the role decode: its KV "
                    "would have nowhere to go", origin, prefill->name);
        return FALSE;
    }
    if (prefill && f->pd.decider == CL_DECIDE_NEVER) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: fleet.disaggregation.decider: \"never\" sends nothing to the prefill pool \"%s\"", origin,
                    prefill->name);
        return FALSE;
    }
    if (f->pd_given && !prefill && f->pd.decider != CL_DECIDE_NEVER) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: fleet.disaggregation: the fleet has no prefill and decode pools to disaggregate over (give "
                    "pools with \"role\": \"prefill\" and \"decode\", or --prefill-replicas and --decode-replicas)",
                    origin);
        return FALSE;
    }
    if (roles[CL_ROLE_BOTH] && prefill && f->pd.decider == CL_DECIDE_ALWAYS)
        return TRUE; /* co-located pools then serve nothing disaggregated; allowed */
    return TRUE;
}

/* ------------------------------------------------------ P:D pool counts -- */

gboolean scn_fleet_set_pd_count(ScnScenario *s, ClPoolRole role, const cJSON *v, const char *origin,
                                GError **error)
{
    const char *field = role == CL_ROLE_PREFILL ? "prefill_replicas" : "decode_replicas";
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 1 ||
        v->valuedouble > SIM_MAX_REPLICAS) {
        char *repr = scn_json_repr(v);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected a positive integer, got %s", origin, field,
                    repr);
        g_free(repr);
        return FALSE;
    }
    guint n = (guint)v->valuedouble;
    ScnFleet *f = &s->fleet;
    if (f->num_pools == 0) {
        /* a fleet of one deployment: a prefill pool and a decode pool of it */
        f->pools = g_new0(ScnPool, 2);
        f->num_pools = 2;
        f->pools[0].name = g_strdup("prefill");
        f->pools[0].role = CL_ROLE_PREFILL;
        f->pools[0].count = MAX(f->replicas, 1);
        cl_autoscale_spec_init(&f->pools[0].autoscale);
        f->pools[1].name = g_strdup("decode");
        f->pools[1].role = CL_ROLE_DECODE;
        f->pools[1].count = MAX(f->replicas, 1);
        cl_autoscale_spec_init(&f->pools[1].autoscale);
    }
    int found = -1;
    for (guint i = 0; i < f->num_pools; i++)
        if (f->pools[i].role == role) {
            if (found >= 0) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: %s: the fleet has more than one %s pool (%s, %s): set each pool's count", origin,
                            field, cl_pool_role_name(role), f->pools[found].name, f->pools[i].name);
                return FALSE;
            }
            found = (int)i;
        }
    if (found < 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: the fleet's pools have no %s pool", origin, field,
                    cl_pool_role_name(role));
        return FALSE;
    }
    f->pools[found].count = n;
    return TRUE;
}
