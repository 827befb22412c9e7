/*
 * scn_fleet.h: the "fleet" part of a scenario (replicas, pools, router,
 * admission), internal to the scenario layer: scn_scenario.c calls it for
 * the "fleet" key and for the fleet's single fields (flags, sweep axes),
 * scn_build.c to build each pool.
 */
#ifndef SCN_FLEET_H
#define SCN_FLEET_H

#include <cjson/cJSON.h>

#include "scn.h"

/* One replica, round-robin, no admission limits, llm-d-like router defaults. */
void scn_fleet_init(ScnFleet *f);
void scn_fleet_clear(ScnFleet *f);
/* A deep copy into dst (its old contents are not freed). */
void scn_fleet_copy(ScnFleet *dst, const ScnFleet *src);

/* Applies a "fleet" object over s->fleet: keys present replace what they
 * name ("pools" replaces every pool). Errors (SS_ERROR_INPUT) name origin
 * and the field path (fleet.router.weights.prefix, fleet.pools[1].engine...). */
gboolean scn_fleet_apply(ScnScenario *s, const cJSON *fleet, const char *origin, GError **error);

/* Applies pool p's hardware and engine/latency overrides to s (a copy of
 * the scenario the pool belongs to). `path` names the pool in errors. */
gboolean scn_fleet_apply_pool(ScnScenario *s, const ScnPool *p, const char *origin, const char *path,
                              GError **error);

/* The canonical name of a fleet field ("fleet.router.weights.prefix" ->
 * "prefix_weight", "data_parallel_size" -> "replicas", ...), or NULL. */
const char *scn_fleet_field_canonical(const char *name);
/* Every canonical fleet field name, NULL-terminated. */
const char *const *scn_fleet_fields(void);
/* Sets one fleet field (canonical name) from a JSON value. */
gboolean scn_fleet_set_field(ScnScenario *s, const char *canonical, const cJSON *v, const char *origin,
                             GError **error);

/* The disaggregation, autoscaling and SLO parts (scn_fleet_pd.c). */
gboolean scn_fleet_parse_role(const cJSON *pool, const char *origin, const char *path, ClPoolRole *out,
                              GError **error);
gboolean scn_fleet_parse_autoscale(ClAutoscaleSpec *a, const cJSON *o, const char *origin, const char *path,
                                   GError **error);
gboolean scn_fleet_parse_disaggregation(ScnFleet *f, const cJSON *o, const char *origin, GError **error);
gboolean scn_fleet_parse_slo(ScnFleet *f, const cJSON *o, const char *origin, GError **error);
/* Sets the count of the fleet's one prefill or decode pool (a fleet of one
 * deployment becomes a prefill pool and a decode pool of it). */
gboolean scn_fleet_set_pd_count(ScnScenario *s, ClPoolRole role, const cJSON *v, const char *origin,
                                GError **error);
/* The checks across the fleet's parts: roles come in pairs, autoscaled
 * counts within their bounds, disaggregation only with prefill and decode
 * pools. Errors (SS_ERROR_INPUT) name origin and the field. */
gboolean scn_fleet_check(const ScnFleet *f, const char *origin, GError **error);

/* The reports' parts on disaggregation, autoscaling and SLO attainment
 * (scn_report_pd.c): objects added to servesim.run/2's "fleet", and a
 * section of the summary; nothing when the fleet has none of them. */
void scn_report_json_pd(cJSON *fleet, const ScnBuilt *b, const ClResult *fr);
void scn_report_text_pd(FILE *out, const ScnScenario *s, const ScnBuilt *b, const ClResult *fr);

/* The engine and latency sections (scn_scenario.c), with their path in errors. */
gboolean scn_scenario_apply_engine(ScnScenario *s, const cJSON *e, const char *origin, const char *path,
                                   GError **error);
gboolean scn_scenario_apply_latency(ScnScenario *s, const cJSON *l, const char *origin, const char *path,
                                    GError **error);

#endif /* SCN_FLEET_H */
