/*
 * pl_plan_internal.h: the plan file as read (before the search runs), for
 * the plan command and its tests.
 */
#ifndef PL_PLAN_INTERNAL_H
#define PL_PLAN_INTERNAL_H

#include <cjson/cJSON.h>

#include "pl_plan.h"

typedef struct {
    char *name;               /* e.g. "H100-SXM TP4 max_num_seqs=256" */
    gboolean name_generated;  /* the plan file gave no name (pl_names.c made it) */
    ScnScenario *scenario;    /* the base with the candidate's fields applied */
    char *pd_label;           /* disaggregated: "H100-SXM TP2 -> H200-SXM TP4" (pl_pd.c), else NULL */
} PlCandidateSpec;

/* The plan's "autoscale" section (pl_scale.c). */
typedef struct {
    gboolean given;
    char *workload_json;      /* the scenario "workload" object */
    ClAutoscaleSpec policy;
    gboolean target_given;    /* else the rate metric at 80% of the candidate's sustainable rate */
    double window_s;
    double attainment_goal;   /* 0..1 */
    gboolean per_window;      /* "criterion": "window": the goal in every window too */
    guint max_static;         /* the static search's limit */
} PlScaleSpec;

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
    guint max_replicas;       /* the fleet search's limit */
    PlScaleSpec scale;
} PlPlanSpec;

/* Reads a plan file (pl_spec.c; docs/planning.md). Errors name the file and
 * the field. */
PlPlanSpec *pl_plan_spec_load(const char *path, GError **error);
PlPlanSpec *pl_plan_spec_parse(const char *text, const char *origin, const char *base_dir, GError **error);
/* The same with overrides "KEY=VALUE" (pl_set.c): a key of the plan file
 * ("target_rate", "search.num_requests", "slos[0].max_ms", "prices.H100-SXM",
 * "candidates.grid.tensor_parallel_size") replaces that value of the
 * document; a scenario field ("max_model_len", "base.hardware",
 * "workload.arrival.rate") is set on the base scenario, under the
 * candidates' own values. VALUE is JSON, or a string when it is not. Errors:
 * a malformed or unknown key (SS_ERROR_USAGE), a value the plan rejects
 * (SS_ERROR_INPUT, naming the file and "--set"). `sets` may be NULL. */
PlPlanSpec *pl_plan_spec_load_with(const char *path, const char *const *sets, GError **error);
PlPlanSpec *pl_plan_spec_parse_with(const char *text, const char *origin, const char *base_dir,
                                    const char *const *sets, GError **error);
/* The parts of --set (pl_set.c): overrides of the document are applied to
 * `root`; those naming scenario fields are returned in *base_sets
 * ("field=value", g_strfreev) for pl_set_apply_base. */
gboolean pl_set_apply_document(cJSON *root, const char *const *sets, char ***base_sets, GError **error);
gboolean pl_set_apply_base(ScnScenario *base, char *const *base_sets, const char *origin, GError **error);
/* Names the candidates without a name after their differing settings
 * (pl_names.c); an explicit name used twice is an error. */
gboolean pl_plan_name_candidates(PlPlanSpec *p, GError **error);
void pl_plan_spec_free(PlPlanSpec *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PlPlanSpec, pl_plan_spec_free)
double pl_plan_spec_price(const PlPlanSpec *p, const char *hardware);

/* Whether one replica sustains a load level: every SLO holds and the queue
 * does not grow (pl_plan.c). */
gboolean pl_load_point_sustained(const PlLoadPoint *p);

/* What fails at a load level or in a fleet, given its SLO values: the SLO
 * furthest over its limit, else "queue growth (throughput)" when it is not
 * stable, else "none" (g_free). */
char *pl_binding_of(const PlPlanSpec *p, const double *slo_values, gboolean stable);

/* An SLO object of a plan file. */
gboolean pl_slo_from_json(const cJSON *o, const char *origin, const char *path, PlSlo *out, GError **error);

/* The fleet search of one candidate (pl_fleet.c): the smallest number of
 * replicas whose fleet, at the plan's target rate with the base's router,
 * sustains it. Fills c->replicas, trials, chosen_trial; marks the candidate
 * infeasible when no fleet up to max_replicas does. `start` is the first
 * count tried (the division by one replica's rate). Returns FALSE with *why
 * on a simulation error. `on_simulation(user)`, if given, is called after
 * each fleet simulated (for progress). */
gboolean pl_fleet_search(const PlPlanSpec *p, guint index, ScnCache *cache, guint start, PlCandidateResult *c,
                         void (*on_simulation)(void *user), void *user, char **why);

/* The plan file's "router" (a policy name or a router object, may be NULL)
 * set on the base scenario's fleet. Errors name the field. */
gboolean pl_fleet_apply_router(PlPlanSpec *p, const cJSON *router, GError **error);
/* "8 replicas x TP2 behind round-robin; dividing by one replica's rate gives
 * 9; load imbalance 1.02", for verdicts (g_free). */
char *pl_fleet_phrase(const PlCandidateResult *c);

/* Disaggregated candidates (pl_pd.c). A candidate's "disaggregated" object
 * {"prefill": POOL, "decode": POOL, "disaggregation": {...}} (POOL:
 * hardware, tensor_parallel_size, engine, latency) makes its fleet one
 * prefill and one decode replica of those; *label names them. */
gboolean pl_pd_apply(ScnScenario *s, const cJSON *v, const char *origin, const char *path, char **label,
                     GError **error);
/* Whether a candidate's scenario disaggregates (a pool with a role). */
gboolean pl_pd_is_candidate(const ScnScenario *s);
/* The hardware and TP of its prefill and decode pools. */
void pl_pd_pools(const ScnScenario *s, char **prefill_hw, guint *prefill_tp, char **decode_hw, guint *decode_tp);
/* The fleet search of a disaggregated candidate: the cheapest prefill and
 * decode counts that sustain the target (as pl_fleet_search). */
gboolean pl_pd_fleet_search(const PlPlanSpec *p, guint index, ScnCache *cache, guint start, PlCandidateResult *c,
                            void (*on_simulation)(void *user), void *user, char **why);
/* Simulates one fleet trial of a candidate's scenario with `n` replicas (or
 * p prefill + d decode: n = 0) at the target rate (pl_fleet.c). */
gboolean pl_fleet_trial(const PlPlanSpec *p, guint index, ScnCache *cache, guint n, guint prefill, guint decode,
                        PlFleetTrial *t, char **why);
gboolean pl_fleet_trial_sustained(const PlFleetTrial *t);
/* Stores the trials (freed into c->trials) sorted by increasing replicas,
 * then prefill replicas; c->chosen_trial becomes -1. */
void pl_fleet_take_trials(PlCandidateResult *c, GArray *trials);

/* The "autoscale" section of a plan file (pl_scale.c). */
gboolean pl_scale_parse(PlPlanSpec *p, const cJSON *o, GError **error);
void pl_scale_spec_clear(PlScaleSpec *s);
/* Runs the comparison for the plan's chosen candidate (the recommended
 * one, or the best co-located one); NULL when the plan has no section. */
PlScaleResult *pl_scale_run(const PlPlanSpec *p, const PlPlanResult *r, ScnCache *cache);
void pl_scale_result_free(PlScaleResult *s);

/* Runs the search for every candidate on `jobs` threads. Candidates that
 * cannot run, sustain no load or fail to simulate are marked infeasible with
 * the reason, so the run itself does not fail. */
PlPlanResult *pl_plan_run(const PlPlanSpec *p, ScnCache *cache, guint jobs);
/* The same, calling `progress` (from any worker thread, one call at a time)
 * after each simulation and each finished candidate. */
typedef void (*PlProgressFunc)(guint candidates_done, guint candidates, guint simulations, void *user);
PlPlanResult *pl_plan_run_with_progress(const PlPlanSpec *p, ScnCache *cache, guint jobs, PlProgressFunc progress,
                                        void *user);

#endif /* PL_PLAN_INTERNAL_H */
