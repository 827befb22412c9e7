/*
 * pl_plan_internal.h: the plan file as read (before the search runs), for
 * the plan command and its tests.
 */
#ifndef PL_PLAN_INTERNAL_H
#define PL_PLAN_INTERNAL_H

#include <cjson/cJSON.h>

#include "pl_plan.h"

typedef struct {
    char *name;               /* e.g. "H100-SXM TP4" */
    ScnScenario *scenario;    /* the base with the candidate's fields applied */
} PlCandidateSpec;

typedef struct {
    char *name;
    char *description;
    char *origin;
    ScnScenario *base;
    double target_rate;
    guint num_slos;
    PlSlo *slos;
    guint num_candidates;
    PlCandidateSpec *candidates;
    GHashTable *prices;       /* lower-case hardware name -> double* ($ per GPU-hour) */
    double min_rate, max_rate;
    double tolerance;
    guint num_requests;
    double max_queue_growth_ms;
    double max_queue_growth_rate;
    guint curve_points;
} PlPlanSpec;

/* Reads a plan file (docs/planning.md). Errors name the file and the field. */
PlPlanSpec *pl_plan_spec_load(const char *path, GError **error);
PlPlanSpec *pl_plan_spec_parse(const char *text, const char *origin, const char *base_dir, GError **error);
void pl_plan_spec_free(PlPlanSpec *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PlPlanSpec, pl_plan_spec_free)
double pl_plan_spec_price(const PlPlanSpec *p, const char *hardware);

/* An SLO object of a plan file. */
gboolean pl_slo_from_json(const cJSON *o, const char *origin, const char *path, PlSlo *out, GError **error);

/* Runs the search for every candidate on `jobs` threads. Candidates that
 * cannot run, sustain no load or fail to simulate are marked infeasible with
 * the reason, so the run itself does not fail. */
PlPlanResult *pl_plan_run(const PlPlanSpec *p, ScnCache *cache, guint jobs);

#endif /* PL_PLAN_INTERNAL_H */
