/*
 * scn_build.c: from a scenario to the objects of one simulation, and running it.
 *
 * A scenario is a fleet (cluster/): one pool of `fleet.replicas` equal
 * replicas of its deployment, or the pools of `fleet.pools`, each the
 * scenario with the pool's hardware and engine/latency settings applied
 * over it, built here into its own step model and scheduler settings. The
 * workload source is built once for the fleet. Outputs are written whole
 * or not at all (ss_output.h: a temporary file renamed into place when the
 * run succeeded), and every output path is opened before anything is built.
 *
 * The cache holds what is read from data/ (model configs, the hardware
 * table, MFU tables) once per process, behind a mutex, so that the points of
 * a sweep running in parallel share them read-only. Everything per
 * simulation (step model, workload source, scheduler) is built fresh.
 *
 * Engine defaults follow vLLM: max_num_batched_tokens / max_num_seqs are
 * 8192 / 1024 on GPUs with >= 70 GiB that are not A100s, else 2048 / 256;
 * max_model_len is the model's max_position_embeddings (a larger one is an
 * error, as in vLLM); num_gpu_blocks is the
 * memory estimate unless overridden. Like vLLM at start-up, a max_model_len
 * whose KV cache does not fit in the memory left for it is an error; with a
 * given block count (vLLM checks memory, not the override) requests that
 * need more blocks than exist are rejected one by one instead.
 * The engine options (scn_options.c) change the model as served, the memory
 * plan, the scheduler's configuration and the step model.
 */
#include "scn.h"

#include <errno.h>
#include <string.h>

#include "scn_fleet.h"
#include "scn_json.h"
#include "scn_options.h"
#include "ss_error.h"
#include "ss_output.h"

struct ScnCache {
    char *data_dir;
    GMutex lock;
    GHashTable *models;       /* name -> LatModelDesc* */
    LatHardwareTable *hw;     /* loaded on first use */
    GHashTable *mfu;          /* gpu tables name -> LatMfuDb* */
};

ScnCache *scn_cache_new(const char *data_dir)
{
    ScnCache *c = g_new0(ScnCache, 1);
    c->data_dir = g_strdup(data_dir);
    g_mutex_init(&c->lock);
    c->models = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)lat_model_desc_free);
    c->mfu = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)lat_mfu_db_free);
    return c;
}

void scn_cache_free(ScnCache *c)
{
    if (!c)
        return;
    g_hash_table_destroy(c->models);
    g_hash_table_destroy(c->mfu);
    lat_hardware_table_free(c->hw);
    g_mutex_clear(&c->lock);
    g_free(c->data_dir);
    g_free(c);
}

const char *scn_cache_data_dir(const ScnCache *c)
{
    return c->data_dir;
}

/* The model's config.json when `name` is a path (as lat_model_desc_load
 * resolves it: a folder holding config.json, or a name with a slash or a
 * .json suffix), checked with scn_check_input_file. */
static gboolean check_model_path(const char *name, GError **error)
{
    gboolean is_dir = g_file_test(name, G_FILE_TEST_IS_DIR);
    if (!is_dir && !strchr(name, G_DIR_SEPARATOR) && !g_str_has_suffix(name, ".json"))
        return TRUE;
    char *path = is_dir ? g_build_filename(name, "config.json", NULL) : g_strdup(name);
    gboolean ok = scn_check_input_file(path, "model config", error);
    g_free(path);
    return ok;
}

static const LatModelDesc *cache_model(ScnCache *c, const char *name, GError **error)
{
    if (!check_model_path(name, error))
        return NULL;
    g_mutex_lock(&c->lock);
    LatModelDesc *m = g_hash_table_lookup(c->models, name);
    if (!m) {
        m = lat_model_desc_load(name, c->data_dir, error);
        if (m)
            g_hash_table_insert(c->models, g_strdup(name), m);
    }
    g_mutex_unlock(&c->lock);
    return m;
}

static const LatHardware *cache_hardware(ScnCache *c, const char *name, GError **error)
{
    const LatHardware *hw = NULL;
    g_mutex_lock(&c->lock);
    if (!c->hw) {
        char *path = g_build_filename(c->data_dir, "hardware.json", NULL);
        if (scn_check_input_file(path, "hardware table", error))
            c->hw = lat_hardware_table_load(c->data_dir, NULL, error);
        g_free(path);
    }
    if (c->hw)
        hw = lat_hardware_table_find(c->hw, name, error);
    g_mutex_unlock(&c->lock);
    return hw;
}

static const LatMfuDb *cache_mfu(ScnCache *c, const char *gpu, GError **error)
{
    g_mutex_lock(&c->lock);
    LatMfuDb *db = g_hash_table_lookup(c->mfu, gpu);
    if (!db) {
        db = lat_mfu_db_load(c->data_dir, gpu, error);
        if (db)
            g_hash_table_insert(c->mfu, g_strdup(gpu), db);
    }
    g_mutex_unlock(&c->lock);
    return db;
}

void scn_built_clear(ScnBuilt *b)
{
    if (!b)
        return;
    for (guint i = 0; i < b->num_pools; i++) {
        lat_step_model_free(b->pools[i].step);
        g_free(b->pools[i].name);
        lat_model_desc_free(b->pools[i].served_model);
        lat_model_desc_free(b->pools[i].draft_model);
    }
    g_free(b->pools);
    wl_source_free(b->source);
    memset(b, 0, sizeof *b);
}

/* The measured tables a step model on `hw` draws on, best first
 * (lat_hardware_table_donors). */
static gboolean cache_sources(ScnCache *c, const LatHardware *hw, LatTableSource *out, guint *n, GError **error)
{
    const LatHardware *donors[SCN_MAX_SOURCES];
    g_mutex_lock(&c->lock);
    guint nd = c->hw ? lat_hardware_table_donors(c->hw, hw, donors, SCN_MAX_SOURCES) : 0;
    g_mutex_unlock(&c->lock);
    *n = 0;
    for (guint i = 0; i < nd; i++) {
        const LatMfuDb *db = cache_mfu(c, donors[i]->mfu_tables, error);
        if (!db)
            return FALSE;
        out[*n].hw = donors[i];
        out[*n].db = db;
        (*n)++;
    }
    return TRUE;
}

/* The engine behaviour of the scenario's vLLM version, with explicit
 * settings over it (docs/scheduler.md, "vLLM versions"). */
void scn_engine_resolve(const ScnScenario *s, guint max_num_seqs, LatParams *lp, gboolean *reserve_full_isl)
{
    guint v = 19;
    if (!scn_vllm_version_parse(s->vllm_version, &v))
        scn_vllm_version_parse(SCN_DEFAULT_VLLM_VERSION, &v);
    *lp = s->latency;
    lp->async_scheduling = s->async_scheduling >= 0 ? s->async_scheduling == 1 : v >= 14;
    if (reserve_full_isl)
        *reserve_full_isl = s->scheduler_reserve_full_isl >= 0 ? s->scheduler_reserve_full_isl == 1 : v >= 18;
    /* vLLM turns async scheduling off with speculative methods other than
     * EAGLE and MTP (docs/scheduler.md) */
    const ScnOptions *o = &s->options;
    if (s->async_scheduling < 0 && o->speculative &&
        (strcmp(o->spec_method, "ngram") == 0 || strcmp(o->spec_method, "draft_model") == 0))
        lp->async_scheduling = FALSE;
    lp->enforce_eager = s->enforce_eager;
    lp->otlp_tracing = s->otlp_traces_endpoint != NULL;
    if (lp->cudagraph_max_size == 0) /* vLLM: min(2 x max_num_seqs, 512) */
        lp->cudagraph_max_size = MIN(2.0 * max_num_seqs, 512.0);
}

static gboolean is_a100(const char *name)
{
    return g_ascii_strncasecmp(name, "A100", 4) == 0;
}

/* One deployment (a pool) of model `base`: the model as served, hardware, engine defaults,
 * memory plan, KV blocks, step model. */
static gboolean build_pool(const ScnScenario *s, const LatModelDesc *base, ScnCache *cache, ScnBuiltPool *out,
                           GError **error)
{
    out->tensor_parallel_size = s->tensor_parallel_size;
    out->gpu_memory_utilization = s->gpu_memory_utilization;
    /* the model as served: weights and KV as the engine options make them, and a drafter */
    if (!scn_options_prepare_model(s, cache->data_dir, base, &out->served_model, &out->draft_model, &out->draft_tp,
                                   error))
        return FALSE;
    const LatModelDesc *model = out->model = out->served_model ? out->served_model : base;
    out->hw = cache_hardware(cache, s->hardware, error);
    if (!out->hw)
        return FALSE;
    if (s->latency.backend != LAT_BACKEND_ROOFLINE_V1 &&
        !cache_sources(cache, out->hw, out->sources, &out->num_sources, error))
        return FALSE;
    out->mfu = out->num_sources && out->sources[0].hw == out->hw ? out->sources[0].db : NULL;

    /* vLLM's server defaults by GPU class */
    gboolean big = out->hw->mem_gb * 1e9 >= 70.0 * 1073741824.0 && !is_a100(out->hw->name);
    SchedConfig *c = &out->sched;
    c->max_num_seqs = s->max_num_seqs ? s->max_num_seqs : (big ? 1024 : 256);
    c->max_num_batched_tokens = s->max_num_batched_tokens ? s->max_num_batched_tokens : (big ? 8192 : 2048);
    if (s->max_model_len > model->max_position_embeddings && model->max_position_embeddings > 0) {
        /* vLLM refuses this at start-up (unless VLLM_ALLOW_LONG_MAX_MODEL_LEN is set) */
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "max_model_len %u is above %s's max_position_embeddings (%u), which vLLM refuses at start-up: "
                    "lower --max-model-len to at most %u",
                    s->max_model_len, model->name, model->max_position_embeddings, model->max_position_embeddings);
        return FALSE;
    }
    c->max_model_len = s->max_model_len ? s->max_model_len : model->max_position_embeddings;
    if (s->options.disable_sliding_window && model->sliding_window > 0) {
        /* vLLM caps max_model_len at the window when the window is disabled */
        if (s->max_model_len > model->sliding_window) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--max-model-len %u: with --disable-sliding-window vLLM caps it at the model's sliding "
                        "window, %u",
                        s->max_model_len, model->sliding_window);
            return FALSE;
        }
        c->max_model_len = MIN(c->max_model_len, model->sliding_window);
    }
    c->block_size = s->block_size;
    c->long_prefill_token_threshold = s->long_prefill_token_threshold;
    c->enable_prefix_caching = s->enable_prefix_caching;

    LatMemoryInput mem = {.model = model,
                          .hw = out->hw,
                          .tp = s->tensor_parallel_size,
                          .gpu_memory_utilization = s->gpu_memory_utilization,
                          .block_size = s->block_size,
                          .max_num_batched_tokens = c->max_num_batched_tokens,
                          .max_num_seqs = c->max_num_seqs};
    scn_options_memory_input(s, out->draft_model, out->draft_tp, model, &mem);
    if (!lat_memory_plan_ex(&mem, &out->memory, error))
        return FALSE;
    if (s->num_gpu_blocks_override) {
        c->num_gpu_blocks = s->num_gpu_blocks_override;
        out->blocks_overridden = TRUE;
    } else {
        if (out->memory.num_blocks < 2) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s at TP %u on %s leaves no room for the KV cache: %.2f GiB usable, %.2f GiB of weights, "
                        "%.2f GiB of activations per GPU (raise --tensor-parallel-size or "
                        "--gpu-memory-utilization)",
                        model->name, s->tensor_parallel_size, out->hw->name,
                        out->memory.usable_bytes / 1073741824.0, out->memory.weight_bytes / 1073741824.0,
                        out->memory.activation_bytes / 1073741824.0);
            return FALSE;
        }
        c->num_gpu_blocks = out->memory.num_blocks > G_MAXUINT32 ? G_MAXUINT32 : (uint32_t)out->memory.num_blocks;
    }
    if (!scn_options_sched(s, model, &out->memory, c, error) || !sched_config_validate(c, error))
        return FALSE;
    uint64_t kv_tokens = (uint64_t)(c->num_gpu_blocks - 1) * c->block_size;
    if (c->kv_groups_sliding > 0) { /* the longest sequence the groups hold */
        uint64_t lo = 0, hi = kv_tokens;
        while (lo < hi) {
            uint64_t mid = lo + (hi - lo + 1) / 2;
            if (sched_blocks_for_tokens(c, mid) <= c->num_gpu_blocks - 1)
                lo = mid;
            else
                hi = mid - 1;
        }
        kv_tokens = lo;
    }
    if (!out->blocks_overridden && sched_blocks_for_tokens(c, c->max_model_len) > c->num_gpu_blocks - 1) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "max_model_len %u needs more KV cache than %u blocks hold (%" G_GUINT64_FORMAT
                    " tokens), as vLLM would report at start-up; lower --max-model-len or give more memory",
                    c->max_model_len, c->num_gpu_blocks, kv_tokens);
        return FALSE;
    }

    scn_engine_resolve(s, c->max_num_seqs, &out->latency, &c->reserve_full_isl);
    if (s->hardware_profile && (!scn_check_input_file(s->hardware_profile, "hardware profile", error) ||
                                !lat_params_apply_profile(&out->latency, s->hardware_profile, out->hw->name, error)))
        return FALSE;
    out->step = lat_step_model_new(model, out->hw, s->tensor_parallel_size, out->sources, out->num_sources,
                                   &out->latency, c->max_num_batched_tokens, error);
    return out->step != NULL &&
           scn_options_attach(s, out->step, out->draft_model, out->draft_tp, out->hw, out->sources, out->num_sources,
                              &out->latency, c->max_num_batched_tokens, error);
}

gboolean scn_build(const ScnScenario *s, ScnCache *cache, ScnBuilt *out, GError **error)
{
    memset(out, 0, sizeof *out);
    const LatModelDesc *base = cache_model(cache, s->model, error);
    if (!base)
        goto fail;
    const ScnFleet *fl = &s->fleet;
    if (!scn_fleet_check(fl, s->origin ? s->origin : "scenario", error))
        goto fail;
    out->num_pools = MAX(fl->num_pools, 1);
    out->pools = g_new0(ScnBuiltPool, out->num_pools);
    if (fl->num_pools == 0) {
        out->pools[0].name = g_strdup(s->hardware);
        out->pools[0].count = MAX(fl->replicas, 1);
        out->pools[0].autoscale = fl->autoscale;
        if (!build_pool(s, base, cache, &out->pools[0], error))
            goto fail;
    } else {
        for (guint i = 0; i < fl->num_pools; i++) {
            const ScnPool *p = &fl->pools[i];
            char *path = g_strdup_printf("fleet.pools[%u]", i);
            ScnScenario *ps = scn_scenario_copy(s);
            GError *err = NULL;
            gboolean ok = scn_fleet_apply_pool(ps, p, s->origin ? s->origin : "scenario", path, &err) &&
                          build_pool(ps, base, cache, &out->pools[i], &err);
            scn_scenario_free(ps);
            out->pools[i].name = g_strdup(p->name);
            out->pools[i].count = p->count;
            out->pools[i].role = p->role;
            out->pools[i].autoscale = p->autoscale;
            if (!ok) {
                g_set_error(error, err->domain, err->code, "%s: %s (%s): %s", s->origin ? s->origin : "scenario",
                            path, p->name, err->message);
                g_error_free(err);
                g_free(path);
                goto fail;
            }
            g_free(path);
        }
    }
    for (guint i = 0; i < out->num_pools; i++)
        out->num_replicas += out->pools[i].count;
    /* the first pool stands for the deployment in single-server reports */
    out->model = out->pools[0].model;
    out->draft_model = out->pools[0].draft_model;
    out->hw = out->pools[0].hw;
    out->mfu = out->pools[0].mfu;
    memcpy(out->sources, out->pools[0].sources, sizeof out->sources);
    out->num_sources = out->pools[0].num_sources;
    out->step = out->pools[0].step;
    out->sched = out->pools[0].sched;
    out->latency = out->pools[0].latency;
    out->memory = out->pools[0].memory;
    out->blocks_overridden = out->pools[0].blocks_overridden;

    if (s->is_trace) {
        WlTraceOptions topts = s->trace;
        topts.seed = s->seed; /* the drawn send times of a vllm bench result without them */
        out->source = wl_source_new_trace(s->trace_path, &topts, error);
    }
    else
        out->source = wl_source_new_synthetic(&s->workload, s->seed, error);
    if (!out->source)
        goto fail;
    return TRUE;
fail:
    scn_built_clear(out);
    return FALSE;
}

gboolean scn_built_is_disaggregated(const ScnBuilt *b)
{
    for (guint i = 0; i < b->num_pools; i++)
        if (b->pools[i].role != CL_ROLE_BOTH)
            return TRUE;
    return FALSE;
}

gboolean scn_built_is_autoscaled(const ScnBuilt *b)
{
    for (guint i = 0; i < b->num_pools; i++)
        if (b->pools[i].autoscale.enabled)
            return TRUE;
    return FALSE;
}

gboolean scn_built_is_fleet(const ScnScenario *s, const ScnBuilt *b)
{
    const ClAdmissionSpec *a = &s->fleet.admission;
    return b->num_replicas > 1 || a->max_waiting_per_replica || a->max_waiting || a->rate_limit > 0 ||
           scn_built_is_disaggregated(b) || scn_built_is_autoscaled(b) || s->fleet.slo.ttft_ms > 0 ||
           s->fleet.slo.tpot_ms > 0;
}

gboolean scn_scenario_merge_fleet(ScnScenario *s, const char *fleet_json, const char *origin, GError **error)
{
    cJSON *o = scn_json_parse(fleet_json, origin, error);
    if (!o)
        return FALSE;
    gboolean ok = scn_fleet_apply(s, o, origin, error);
    cJSON_Delete(o);
    return ok;
}

/* The simulated time a workload covers when that is known before the run
 * (a synthetic workload, or a trace rescaled to a rate with a limit), else 0. */
static double expected_span_s(const ScnScenario *s)
{
    if (s->is_trace)
        return s->trace.rate > 0 && s->trace.limit > 1 ? (double)(s->trace.limit - 1) / s->trace.rate : 0.0;
    const WlArrivalSpec *a = &s->workload.arrival;
    double by_count = 0.0;
    if (s->workload.num_requests > 0 && a->kind != WL_ARRIVAL_PIECEWISE && a->rate > 0)
        by_count = (double)s->workload.num_requests / a->rate;
    if (s->workload.duration_s > 0)
        return by_count > 0 ? MIN(by_count, s->workload.duration_s) : s->workload.duration_s;
    return by_count;
}

/* Says up front when a time series by intervals would be absurdly long. */
static gboolean check_output_size(const ScnScenario *s, const ScnOutputs *o, GError **error)
{
    if (!o->timeseries_csv || !(o->timeseries_interval_s > 0))
        return TRUE;
    double rows = expected_span_s(s) / o->timeseries_interval_s;
    if (rows > SIM_TIMESERIES_MAX_ROWS) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--timeseries-interval %g s over the about %.4g s of simulated time this workload covers "
                    "would write about %.3g rows (more than %u): use a longer interval",
                    o->timeseries_interval_s, expected_span_s(s), rows, SIM_TIMESERIES_MAX_ROWS);
        return FALSE;
    }
    return TRUE;
}

void scn_built_cluster_config(const ScnScenario *s, const ScnBuilt *b, ClPoolSpec *pools, ClPdSpec *pd,
                              ClConfig *cfg)
{
    for (guint i = 0; i < b->num_pools; i++) {
        const ScnBuiltPool *bp = &b->pools[i];
        guint tp = bp->tensor_parallel_size;
        pools[i] = (ClPoolSpec){.name = bp->name, .role = bp->role, .count = bp->count, .sched = bp->sched,
                                .latency = bp->step, .async_scheduling = bp->latency.async_scheduling,
                                .gpus_per_replica = tp,
                                .kv_bytes_per_token = lat_model_kv_bytes_per_token(bp->model, tp),
                                .kv_layers = bp->model->num_layers - bp->model->num_linear_attn_layers,
                                .kv_tensors = bp->model->kv_lora_rank ? 1 : 2,
                                .weight_bytes_per_gpu = lat_model_weight_bytes_per_gpu(bp->model, tp),
                                .autoscale = bp->autoscale.enabled ? &bp->autoscale : NULL};
    }
    *pd = s->fleet.pd;
    if (!s->fleet.decode_policy_given)
        pd->decode_policy = s->fleet.router.policy;
    gboolean has_slo = s->fleet.slo.ttft_ms > 0 || s->fleet.slo.tpot_ms > 0;
    *cfg = (ClConfig){
        .pd = scn_built_is_disaggregated(b) ? pd : NULL,
        .slo = has_slo ? &s->fleet.slo : NULL,
        .num_pools = b->num_pools,
        .pools = pools,
        .router = s->fleet.router,
        .admission = s->fleet.admission,
        .seed = s->seed,
        .source = b->source,
        /* max_time_s <= SIM_TIME_LIMIT_S (checked when read); a positive time
         * below 0.5 ns must not round to 0, which means "no limit" */
        .max_time = s->max_time_s > 0 ? MAX(sim_time_from_seconds(s->max_time_s), 1) : 0,
        .fleet_rows = scn_built_is_fleet(s, b),
    };
}

ClResult *scn_run_fleet(const ScnScenario *s, ScnCache *cache, const ScnOutputs *outputs, ScnBuilt *built_out,
                        GError **error)
{
    ClResult *res = NULL;
    ClPoolSpec *pools = NULL;
    ScnBuilt b = {0};
    /* every output is opened (and so its path checked) before anything is
     * built or run, and committed whole after the run, or removed when it
     * fails (a file already at the path is then left as it was): ss_output.h */
    enum { NUM_OUT = 6 };
    SsOutput *files[NUM_OUT] = {NULL};
    if (outputs) {
        if (!check_output_size(s, outputs, error))
            goto out;
        const char *paths[NUM_OUT] = {outputs->requests_csv, outputs->timeseries_csv, outputs->itl_csv,
                                      outputs->routing_csv, outputs->transfers_csv, outputs->scaling_csv};
        for (int i = 0; i < NUM_OUT; i++)
            if (paths[i] && !(files[i] = ss_output_open(paths[i], error)))
                goto out;
    }
    if (!scn_build(s, cache, &b, error))
        goto out;
    pools = g_new0(ClPoolSpec, b.num_pools);
    ClPdSpec pd;
    ClConfig cfg;
    scn_built_cluster_config(s, &b, pools, &pd, &cfg);
    if (outputs) {
        if (outputs->progress)
            wl_source_set_progress(b.source, outputs->progress, outputs->progress_user, 8192);
        cfg.outputs.timeseries_interval_s = outputs->timeseries_interval_s;
        cfg.outputs.requests_csv = files[0] ? ss_output_stream(files[0]) : NULL;
        cfg.outputs.timeseries_csv = files[1] ? ss_output_stream(files[1]) : NULL;
        cfg.outputs.itl_csv = files[2] ? ss_output_stream(files[2]) : NULL;
        cfg.routing_csv = files[3] ? ss_output_stream(files[3]) : NULL;
        cfg.transfers_csv = files[4] ? ss_output_stream(files[4]) : NULL;
        cfg.scaling_csv = files[5] ? ss_output_stream(files[5]) : NULL;
        cfg.step_hook = outputs->step_hook;
        cfg.route_hook = outputs->route_hook;
        cfg.hook_user = outputs->hook_user;
    }
    res = cl_run(&cfg, error);
out:
    /* the outputs are kept only when the run and every write succeeded */
    for (int i = 0; i < NUM_OUT && res; i++)
        if (files[i] && !ss_output_commit(g_steal_pointer(&files[i]), error))
            g_clear_pointer(&res, cl_result_free);
    for (int i = 0; i < NUM_OUT; i++)
        ss_output_abort(files[i]);
    g_free(pools);
    if (res && built_out)
        *built_out = b;
    else
        scn_built_clear(&b);
    return res;
}

SimSummary *scn_run(const ScnScenario *s, ScnCache *cache, const ScnOutputs *outputs, ScnBuilt *built_out,
                    GError **error)
{
    ClResult *res = scn_run_fleet(s, cache, outputs, built_out, error);
    if (!res)
        return NULL;
    SimSummary *sum = cl_result_steal_summary(res);
    cl_result_free(res);
    return sum;
}

gboolean scn_latency_basis(const ScnBuilt *b, char *buf, gsize len)
{
    if (lat_step_model_estimated(b->step)) {
        g_strlcpy(buf, "estimated", len);
        return FALSE;
    }
    if (lat_step_model_measured_gpu(b->step)) {
        g_strlcpy(buf, "measured", len);
        return TRUE;
    }
    const char *gpu = lat_step_model_table_gpu(b->step);
    g_snprintf(buf, len, "transferred from %s", gpu ? gpu : "another GPU");
    return FALSE;
}
