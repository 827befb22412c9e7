/*
 * scn.h: scenarios: what one simulation is (model, hardware, engine
 * settings, latency model, workload, seed), read from JSON (docs/scenario.md)
 * over the embedded default, overridden by command-line flags with vLLM's
 * names, then built into the objects of the other modules and run.
 *
 * The scenario module is the only one that reads scenario JSON; it hands the
 * other modules plain C structs. A scenario describes a fleet (cluster/): by
 * default one replica of its deployment; "fleet" gives N equal replicas or
 * heterogeneous pools, the router and admission. Objects it builds (model, hardware table,
 * MFU tables) may be shared between simulations through a ScnCache, which is
 * thread-safe, so a sweep loads each file once.
 */
#ifndef SCN_H
#define SCN_H

#include <stdio.h>

#include "cl.h"
#include "lat.h"
#include "sched.h"
#include "sim_engine.h"
#include "wl.h"

/* One pool of a heterogeneous fleet: `count` replicas of the scenario's
 * deployment with its own GPU and engine/latency settings. */
typedef struct {
    char *name;           /* "pool0", ... when not given */
    char *hardware;       /* NULL: the scenario's */
    guint count;          /* >= 1 (autoscaled: serving at the start) */
    char *overrides;      /* compact JSON {"engine": {...}, "latency": {...}} applied over the scenario, or NULL */
    ClPoolRole role;      /* both (default), prefill or decode (docs/disaggregation.md) */
    ClAutoscaleSpec autoscale; /* enabled when the pool has "autoscale" (docs/autoscaling.md) */
} ScnPool;

/* The fleet (docs/scenario.md, "fleet"): N equal replicas, or pools. */
typedef struct {
    guint replicas;       /* equal replicas of the scenario's deployment (>= 1) when there are no pools */
    guint num_pools;
    ScnPool *pools;       /* owned; 0 pools: one pool of `replicas` */
    ClRouterSpec router;
    ClAdmissionSpec admission;
    /* disaggregation (used when a pool has the role prefill or decode) */
    ClPdSpec pd;
    gboolean pd_given;            /* "disaggregation" was given */
    gboolean decode_policy_given; /* else the decode router has the router's policy */
    ClAutoscaleSpec autoscale;    /* of the one pool of `replicas` (no pools) */
    ClSloSpec slo;                /* ttft_ms and tpot_ms 0: none */
} ScnFleet;
/* An adapter of --lora-modules: its name and LoRA rank r. */
typedef struct {
    char *name;
    guint rank;
} ScnLoraModule;

/*
 * The engine options production deployments use (docs/options/), with
 * vLLM's names. Everything zero / NULL is vLLM's default (off). Read from
 * the scenario's "engine" object and from flags (scn_options.c).
 */
typedef struct {
    /* weights and KV cache */
    char *quantization;             /* --quantization; NULL: the checkpoint's own */
    char *kv_cache_dtype;           /* --kv-cache-dtype; NULL: auto */
    gboolean disable_sliding_window;
    gboolean disable_hybrid_kv_cache_manager;
    /* scheduling */
    SchedPolicy scheduling_policy;  /* --scheduling-policy */
    /* speculative decoding (--speculative-config) */
    gboolean speculative;
    char *spec_method;              /* ngram, eagle, eagle3, mtp, draft_model */
    guint num_speculative_tokens;
    char *spec_model;               /* config of the draft model or head; NULL: built from the target */
    guint draft_tensor_parallel_size; /* 0: the target's */
    guint draft_vocab_size;         /* EAGLE-3 head without a config: 0 = 32000 */
    guint num_acceptance_rates;     /* synthetic_acceptance_rates (vLLM's name) */
    double acceptance_rates[SCHED_MAX_SPEC_TOKENS];
    double acceptance_length;       /* synthetic_acceptance_length (0: not given) */
    double acceptance_rate;         /* a conditional per-position rate (< 0: not given) */
    /* CPU KV offload */
    double kv_offloading_size;      /* --kv-offloading-size: GiB over all TP ranks (0: off) */
    char *kv_offloading_backend;    /* native (NULL) or lmcache */
    /* LoRA */
    gboolean enable_lora;
    guint max_loras;                /* 0: vLLM's 1 */
    guint max_lora_rank;            /* 0: vLLM's 16 */
    guint max_cpu_loras;            /* 0: max_loras */
    guint num_lora_modules;
    ScnLoraModule *lora_modules;    /* declared adapters and their ranks */
} ScnOptions;

typedef struct {
    char *name;
    char *origin;         /* file the scenario came from ("<default>" when embedded) */
    char *base_dir;       /* relative paths resolve against it */

    char *model;          /* a bundled name, a Hugging Face id, or a path (lat_model_resolve) */
    char *hardware;       /* name in data/hardware.json */
    guint tensor_parallel_size;

    /* engine (vLLM names); 0 means "vLLM's default" where noted */
    guint max_num_seqs;             /* 0: 1024 on >= 70 GiB GPUs other than A100, else 256 */
    guint max_num_batched_tokens;   /* 0: 8192 on >= 70 GiB GPUs other than A100, else 2048 */
    guint max_model_len;            /* 0: the model's max_position_embeddings */
    guint block_size;
    double gpu_memory_utilization;
    guint num_gpu_blocks_override;  /* 0: derived from GPU memory */
    guint long_prefill_token_threshold;
    gboolean enable_prefix_caching;
    /* what changed between vLLM versions (docs/scheduler.md, "vLLM versions") */
    char *vllm_version;             /* the modelled server, "MAJOR.MINOR[.PATCH]" */
    int async_scheduling;           /* -1: on from 0.14; 0 off; 1 on */
    int scheduler_reserve_full_isl; /* -1: on from 0.18; 0 off; 1 on */
    gboolean enforce_eager;         /* no CUDA graphs */
    char *otlp_traces_endpoint;     /* OpenTelemetry tracing on when set (its CPU cost is modelled) */

    LatParams latency;
    char *hardware_profile;         /* calibrated constants of the GPU (servesim calibrate), or NULL */
    guint64 seed;
    double max_time_s;              /* 0: run until all requests finish */

    gboolean is_trace;
    WlSpec workload;                /* synthetic */
    char *trace_path;               /* trace */
    WlTraceOptions trace;

    ScnFleet fleet;                 /* one replica unless the scenario says otherwise */
    ScnOptions options;             /* the engine options (docs/options/) */
} ScnScenario;

/* The embedded default scenario as JSON text (also scenarios/default.json). */
const char *scn_default_json(void);

/* A scenario from JSON text over the embedded default: keys present in the
 * text replace the default's; a "workload" object replaces the whole default
 * workload. Unknown keys are errors. Errors (SS_ERROR_INPUT) name `origin`
 * and the field path, or line:column for malformed JSON. */
ScnScenario *scn_scenario_parse(const char *json_text, const char *origin, const char *base_dir,
                                GError **error);
/* Reads a scenario file (base_dir = its folder). */
ScnScenario *scn_scenario_load(const char *path, GError **error);
/* The embedded default. */
ScnScenario *scn_scenario_new_default(void);
ScnScenario *scn_scenario_copy(const ScnScenario *s);
void scn_scenario_free(ScnScenario *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScnScenario, scn_scenario_free)

/* Sets one field by its scenario name ("max_num_seqs", "engine.max_num_seqs",
 * "hardware", "rate", "workload.arrival.rate", "tensor_parallel_size", ...)
 * from a JSON-encoded value; used by flags and sweep axes. Errors name the
 * field and what was expected. */
gboolean scn_scenario_set(ScnScenario *s, const char *field, const char *json_value, const char *origin,
                          GError **error);
/* scn_scenario_set for a command-line flag (`flag` is the origin): a bad
 * value is a usage error (SS_ERROR_USAGE), not a data error. */
gboolean scn_scenario_set_flag(ScnScenario *s, const char *field, const char *json_value, const char *flag,
                               GError **error);
/* The name of the field `name` sets ("engine.max_num_seqs" -> "max_num_seqs",
 * "latency.model" -> "latency_model"), or NULL when scn_scenario_set does not
 * know it. Borrowed. */
const char *scn_scenario_field_canonical(const char *name);
/* Every field name scn_scenario_set accepts, NULL-terminated (borrowed). */
const char *const *scn_scenario_fields(void);

/* ------------------------------------------------------ engine options -- */
/* (scn_options.c; docs/options/) */

void scn_options_init(ScnOptions *o);
void scn_options_clear(ScnOptions *o);
void scn_options_copy(ScnOptions *dst, const ScnOptions *src);
/* Whether any option is on. */
gboolean scn_options_any(const ScnOptions *o);
/* One line per option in effect ("quantization fp8", ...) for reports;
 * NULL-terminated, g_strfreev. */
char **scn_options_describe(const ScnOptions *o);

/* The options' flags (--quantization, --kv-cache-dtype, --speculative-config,
 * --scheduling-policy, --disable-sliding-window,
 * --disable-hybrid-kv-cache-manager, --kv-offloading-size,
 * --kv-offloading-backend, --enable-lora, --max-loras, --max-lora-rank,
 * --max-cpu-loras, --lora-modules), for any command's option group. */
typedef struct ScnOptionFlags ScnOptionFlags;
ScnOptionFlags *scn_option_flags_new(void);
void scn_option_flags_free(ScnOptionFlags *f);
/* The entries (NULL-terminated, at most SCN_OPTION_FLAGS_MAX with the end, owned by f). */
#define SCN_OPTION_FLAGS_MAX 16
const GOptionEntry *scn_option_flags_entries(ScnOptionFlags *f);
/* Writes the given flags over `s` (through scn_scenario_set: the same
 * checks as scenario files; errors are SS_ERROR_USAGE). */
gboolean scn_option_flags_apply(const ScnOptionFlags *f, ScnScenario *s, GError **error);

/* The model as the options serve it: a copy of `base` with --quantization,
 * --kv-cache-dtype and --disable-sliding-window applied (*served NULL when
 * nothing changes it), and the drafter of speculative decoding (*draft, a
 * head built from the target or a config read from data_dir; NULL for
 * ngram or without speculation) with its tensor-parallel degree. The caller
 * frees both. Errors: unknown methods, a checkpoint that disagrees, a draft
 * config that cannot be read (SS_ERROR_USAGE / SS_ERROR_INPUT). */
gboolean scn_options_prepare_model(const ScnScenario *s, const char *data_dir, const LatModelDesc *base,
                                   LatModelDesc **served, LatModelDesc **draft, guint *draft_tp, GError **error);
/* Gives a step model the options' terms: the drafter's step model (built
 * here on the same GPU and tables), LoRA at max_lora_rank, KV loads. */
gboolean scn_options_attach(const ScnScenario *s, LatStepModel *sm, const LatModelDesc *draft, guint draft_tp,
                            const LatHardware *hw, const LatTableSource *sources, guint num_sources,
                            const LatParams *params, guint max_batched_tokens, GError **error);

/* Adds the engine, model and latency flags (vLLM names) to a command's
 * options. After parsing, scn_flags_apply() writes the given ones over `s`. */
typedef struct ScnFlags ScnFlags;
ScnFlags *scn_flags_new(void);
void scn_flags_free(ScnFlags *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScnFlags, scn_flags_free)
GOptionGroup *scn_flags_group(ScnFlags *f);
/* The same flags among the command's own (so that its --help lists them). */
void scn_flags_add_main(GOptionContext *ctx, ScnFlags *f);
/* The same but for the flags named in `skip` (long names, NULL-terminated),
 * which the command defines itself. */
void scn_flags_add_main_except(GOptionContext *ctx, ScnFlags *f, const char *const *skip);
/* The fleet flags (--data-parallel-size, --router, admission, ...) among the
 * command's own, for the commands that run scenarios (run, replay). */
void scn_flags_add_fleet(GOptionContext *ctx, ScnFlags *f);
gboolean scn_flags_apply(const ScnFlags *f, ScnScenario *s, GError **error);
/* The value given to a string flag ("hardware", "model", "latency-model",
 * ...), or NULL when it was not given. Borrowed. */
const char *scn_flags_value(const ScnFlags *f, const char *flag);
/* The long names of the flags that were given ("max-num-seqs", ...),
 * NULL-terminated; g_strfreev. */
char **scn_flags_given(const ScnFlags *f);
/* Notes on old spellings that were used ("--param is the old name of
 * --latency-param"), NULL-terminated; g_strfreev. */
char **scn_flags_notes(const ScnFlags *f);

/* ----------------------------------------------------------------- build -- */

typedef struct ScnCache ScnCache;
ScnCache *scn_cache_new(const char *data_dir);
void scn_cache_free(ScnCache *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScnCache, scn_cache_free)
const char *scn_cache_data_dir(const ScnCache *c);

#define SCN_MAX_SOURCES 8

/* One pool as built: its deployment (hardware and MFU tables borrowed from
 * the cache; the step model and the model as served owned). */
typedef struct {
    char *name;
    guint count;
    ClPoolRole role;
    ClAutoscaleSpec autoscale;
    guint tensor_parallel_size;
    double gpu_memory_utilization;
    const LatModelDesc *model;  /* as served: the cache's, or served_model */
    LatModelDesc *served_model; /* owned: the model with the pool's engine options applied, or NULL */
    LatModelDesc *draft_model;  /* owned: the drafter of speculative decoding, or NULL */
    guint draft_tp;
    const LatHardware *hw;
    const LatMfuDb *mfu;       /* this GPU's own tables, NULL when it has none */
    LatTableSource sources[SCN_MAX_SOURCES]; /* tables the step model draws on, best first */
    guint num_sources;
    LatStepModel *step;
    SchedConfig sched;
    LatParams latency;         /* the pool's, with the version-dependent switches resolved */
    LatMemoryPlan memory;      /* the estimate (also when overridden) */
    gboolean blocks_overridden;
} ScnBuiltPool;

/* What a scenario becomes. Hardware and MFU tables are borrowed from the
 * cache, models from the cache or the pools; the step models and source are
 * owned. model, draft_model, hw, mfu, sources, step,
 * sched, latency, memory and blocks_overridden are those of the first pool
 * (the only one of a scenario without pools). */
typedef struct {
    const LatModelDesc *model;  /* as the first pool serves it */
    const LatModelDesc *draft_model; /* its drafter, or NULL */
    const LatHardware *hw;
    const LatMfuDb *mfu;       /* this GPU's own tables, NULL when it has none */
    LatTableSource sources[SCN_MAX_SOURCES]; /* tables the step model draws on, best first */
    guint num_sources;
    LatStepModel *step;
    WlSource *source;
    SchedConfig sched;
    LatParams latency;         /* the scenario's, with the version-dependent switches resolved */
    LatMemoryPlan memory;      /* the estimate (also when overridden) */
    gboolean blocks_overridden;
    guint num_pools;           /* >= 1 */
    ScnBuiltPool *pools;
    guint num_replicas;        /* over all pools */
} ScnBuilt;

/* The newest vLLM version whose behaviour is modelled, the default of
 * "engine.vllm_version". */
#define SCN_DEFAULT_VLLM_VERSION "0.19"

/* Parses "MAJOR.MINOR[.PATCH][suffix]" into major*1000 + minor (0.15.1 ->
 * 15); FALSE when it is not such a string. */
gboolean scn_vllm_version_parse(const char *s, guint *out);

/* The step model's parameters for a scenario: its latency constants with the
 * switches of its vLLM version (async scheduling from 0.14), explicit engine
 * settings over them (async_scheduling, enforce_eager, OpenTelemetry
 * tracing), and the CUDA-graph capture limit min(2 x max_num_seqs, 512)
 * unless set; *reserve_full_isl (may be NULL) gets scheduler_reserve_full_isl
 * (on from 0.18). */
void scn_engine_resolve(const ScnScenario *s, guint max_num_seqs, LatParams *out, gboolean *reserve_full_isl);

/* Loads and checks everything a scenario needs. Errors: unknown model or
 * hardware (SS_ERROR_USAGE), bad files (SS_ERROR_INPUT), a model that does
 * not fit at that TP (SS_ERROR_INPUT), inconsistent engine settings
 * (SS_ERROR_USAGE); a pool's errors name it ("fleet.pools[1] (a100): ..."). */
gboolean scn_build(const ScnScenario *s, ScnCache *cache, ScnBuilt *out, GError **error);
void scn_built_clear(ScnBuilt *b);
/* Whether the run writes fleet outputs (servesim.run/2, replica columns):
 * more than one replica, admission control, roles, autoscaling or an SLO. */
gboolean scn_built_is_fleet(const ScnScenario *s, const ScnBuilt *b);
/* Whether the fleet disaggregates prefill and decode (a pool has a role). */
gboolean scn_built_is_disaggregated(const ScnBuilt *b);
/* The fleet's configuration for a built scenario, as scn_run_fleet runs it:
 * fills pools[0..b->num_pools) (roles, KV sizes, weights, autoscaling), *pd
 * and *cfg, which points into pools, pd, s and b (they must outlive it).
 * Outputs, hooks and progress are left unset for the caller. */
void scn_built_cluster_config(const ScnScenario *s, const ScnBuilt *b, ClPoolSpec *pools, ClPdSpec *pd,
                              ClConfig *cfg);
/* Whether a pool of the fleet is autoscaled. */
gboolean scn_built_is_autoscaled(const ScnBuilt *b);

/* Applies a "fleet" object over the scenario's fleet, keys present
 * replacing what they name (as in a scenario file; unlike the field
 * "fleet", which replaces the whole fleet). Errors name origin and path. */
gboolean scn_scenario_merge_fleet(ScnScenario *s, const char *fleet_json, const char *origin, GError **error);

/* Where a run writes (each optional). */
typedef struct {
    const char *requests_csv;
    const char *timeseries_csv;
    double timeseries_interval_s;  /* 0: a row per step (see SimOutputs for the bounds) */
    const char *itl_csv;
    WlProgressFunc progress;   /* optional: called as requests enter (wl_source_set_progress) */
    void *progress_user;
    const char *routing_csv;   /* one row per routing decision */
    const char *transfers_csv; /* one row per disaggregated request (its stages and transfer) */
    const char *scaling_csv;   /* replicas per pool, GPU-hours and SLO attainment per window */
    SimStepHook step_hook;     /* optional, for tests (ClConfig) */
    ClRouteHook route_hook;
    void *hook_user;
} ScnOutputs;

/* How the step times of a built scenario were obtained, for every output a
 * person reads: "measured" (this GPU's own tables), "transferred from GPU"
 * (another GPU's tables by the roofline rule: an estimate), or "estimated"
 * (roofline-v1, or some kernel without a table anywhere). `buf` receives the
 * text; returns TRUE when it is measured. */
gboolean scn_latency_basis(const ScnBuilt *b, char *buf, gsize len);

/* Builds and runs a scenario. The summary (fleet-wide) is the caller's.
 * `built_out`, when not NULL, receives the built objects (the caller clears
 * it). Outputs are written whole or not at all (ss_output.h): every path is
 * opened before the scenario is built, so a path that cannot be written
 * fails first; a run that fails leaves no output and any file already at a
 * path unchanged. A time series by intervals that would pass
 * SIM_TIMESERIES_MAX_ROWS rows over the time a synthetic workload covers is
 * an error before the run (SS_ERROR_USAGE). */
SimSummary *scn_run(const ScnScenario *s, ScnCache *cache, const ScnOutputs *outputs, ScnBuilt *built_out,
                    GError **error);
/* The same with the fleet's outcome (router, imbalance, admission, the
 * per-replica table). The result is the caller's. */
ClResult *scn_run_fleet(const ScnScenario *s, ScnCache *cache, const ScnOutputs *outputs, ScnBuilt *built_out,
                        GError **error);

/* ---------------------------------------------------------------- report -- */

/* The aggregates as JSON (docs/output.md): schema "servesim.run/1" for one
 * replica, "servesim.run/2" (the same fields, plus "fleet" and "replicas")
 * for a fleet. `fleet` may be NULL (then run/1). g_free. */
char *scn_report_json(const ScnScenario *s, const ScnBuilt *b, const SimSummary *sum, const ClResult *fleet);
/* Writes the readable summary (with the fleet section and per-replica
 * table for a fleet; `fleet` may be NULL). */
void scn_report_text(FILE *out, const ScnScenario *s, const ScnBuilt *b, const SimSummary *sum,
                     const ClResult *fleet);

#endif /* SCN_H */
