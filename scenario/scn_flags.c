/*
 * scn_flags.c: the command line's model, hardware, engine, latency, workload
 * and fleet flags (vLLM's flag names where vLLM has one), and their
 * application to a scenario. Each flag becomes a single-field update of
 * scn_scenario_set (so a flag and the JSON key check their value the same
 * way), after the switches that have no field of their own; the engine
 * options' flags are scn_options.c's. Bad values are usage errors naming the
 * flag.
 */
#include "scn.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "ss_error.h"

struct ScnFlags {
    char *model, *hardware, *tp, *mns, *mnbt, *mml, *block_size, *gmu, *blocks, *threshold;
    gboolean prefix_on, prefix_off;
    char *seed, *latency_model, *overhead, *rate, *num_requests, *max_time;
    char *vllm_version, *otlp, *profile;
    gboolean async_on, async_off, eager, isl_on, isl_off;
    char *model_config;
    char **latency_params;
    char **old_params;       /* --param, the old name of --latency-param */
    GOptionEntry entries[40];
    /* fleet */
    char *dp, *router, *snapshot, *router_latency, *max_waiting_replica, *max_waiting, *rate_limit, *burst;
    char **scorer_weights;
    gboolean sticky;
    /* disaggregation, autoscaling, SLO (scn_fleet_pd.c) */
    char *prefill_reps, *decode_reps, *pd_decider, *pd_threshold, *kv_link, *kv_bw, *autoscale, *slo_ttft, *slo_tpot;
    gboolean kv_layerwise;
    GOptionEntry fleet_entries[26];
    ScnOptionFlags *options;  /* --quantization, --speculative-config, ... */
};

ScnFlags *scn_flags_new(void)
{
    ScnFlags *f = g_new0(ScnFlags, 1);
    GOptionEntry e[] = {
        {"model", 0, 0, G_OPTION_ARG_STRING, &f->model,
         "Model: a bundled name or Hugging Face id (servesim list models), or a config.json / model folder",
         "NAME|HF-ID|PATH"},
        {"model-config", 0, 0, G_OPTION_ARG_FILENAME, &f->model_config,
         "Model from a Hugging Face config.json, or a local snapshot folder holding one", "PATH"},
        {"hardware", 0, 0, G_OPTION_ARG_STRING, &f->hardware, "GPU type from data/hardware.json (e.g. H100-SXM)", "NAME"},
        {"tensor-parallel-size", 0, 0, G_OPTION_ARG_STRING, &f->tp, "Tensor-parallel degree", "N"},
        {"max-num-seqs", 0, 0, G_OPTION_ARG_STRING, &f->mns, "Cap on the running set", "N"},
        {"max-num-batched-tokens", 0, 0, G_OPTION_ARG_STRING, &f->mnbt, "Token budget per step", "N"},
        {"max-model-len", 0, 0, G_OPTION_ARG_STRING, &f->mml, "Longest prompt + output (default: the model's)", "N"},
        {"block-size", 0, 0, G_OPTION_ARG_STRING, &f->block_size, "Tokens per KV block (16)", "N"},
        {"gpu-memory-utilization", 0, 0, G_OPTION_ARG_STRING, &f->gmu, "Fraction of GPU memory vLLM may use (0.9)", "F"},
        {"num-gpu-blocks-override", 0, 0, G_OPTION_ARG_STRING, &f->blocks, "Number of KV blocks (instead of the estimate)", "N"},
        {"long-prefill-token-threshold", 0, 0, G_OPTION_ARG_STRING, &f->threshold, "Cap on prompt tokens per request per step (0: off)", "N"},
        {"enable-prefix-caching", 0, 0, G_OPTION_ARG_NONE, &f->prefix_on, "Enable prefix caching (vLLM V1's default)", NULL},
        {"no-enable-prefix-caching", 0, 0, G_OPTION_ARG_NONE, &f->prefix_off, "Disable prefix caching", NULL},
        {"vllm-version", 0, 0, G_OPTION_ARG_STRING, &f->vllm_version,
         "vLLM version to behave like (default " SCN_DEFAULT_VLLM_VERSION "; sets the switches below)", "X.Y"},
        {"async-scheduling", 0, 0, G_OPTION_ARG_NONE, &f->async_on, "Async scheduling (default from vLLM 0.14)", NULL},
        {"no-async-scheduling", 0, 0, G_OPTION_ARG_NONE, &f->async_off, "Synchronous scheduling", NULL},
        {"enforce-eager", 0, 0, G_OPTION_ARG_NONE, &f->eager, "No CUDA graphs", NULL},
        {"scheduler-reserve-full-isl", 0, 0, G_OPTION_ARG_NONE, &f->isl_on,
         "Admit a request only when its whole prompt fits in free KV blocks (default from vLLM 0.18)", NULL},
        {"no-scheduler-reserve-full-isl", 0, 0, G_OPTION_ARG_NONE, &f->isl_off, "Admit by the first chunk's blocks",
         NULL},
        {"otlp-traces-endpoint", 0, 0, G_OPTION_ARG_STRING, &f->otlp,
         "The server exports OpenTelemetry traces (models their CPU cost per step)", "URL"},
        {"hardware-profile", 0, 0, G_OPTION_ARG_FILENAME, &f->profile,
         "Calibrated constants of the GPU (written by servesim calibrate)", "FILE"},
        {"seed", 0, 0, G_OPTION_ARG_STRING, &f->seed, "Seed of every random stream", "N"},
        {"latency-model", 0, 0, G_OPTION_ARG_STRING, &f->latency_model,
         "Step-time model: roofline-v2, roofline-v1 or auto (roofline-v2 where MFU tables exist)", "NAME"},
        {"step-overhead-us", 0, 0, G_OPTION_ARG_STRING, &f->overhead, "Fixed CPU time per step", "US"},
        {"latency-param", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->latency_params,
         "Set a step-time constant (repeatable; names in docs/latency.md)", "NAME=VALUE"},
        {"param", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING_ARRAY, &f->old_params,
         "The old name of --latency-param", "NAME=VALUE"},
        {"rate", 0, 0, G_OPTION_ARG_STRING, &f->rate, "Mean arrival rate (a trace is rescaled to it)", "REQ/S"},
        {"num-requests", 0, 0, G_OPTION_ARG_STRING, &f->num_requests, "Number of requests (a trace: the first N)", "N"},
        {"max-time", 0, 0, G_OPTION_ARG_STRING, &f->max_time, "Stop the simulation at this simulated time", "S"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    G_STATIC_ASSERT(G_N_ELEMENTS(e) <= G_N_ELEMENTS(f->entries));
    memcpy(f->entries, e, sizeof e);
    GOptionEntry fl[] = {
        {"data-parallel-size", 0, 0, G_OPTION_ARG_STRING, &f->dp, "Replicas of the deployment behind the router (1)", "N"},
        {"router", 0, 0, G_OPTION_ARG_STRING, &f->router,
         "Routing policy: round-robin, random, least-outstanding, least-waiting, least-kv, vllm-dp, prefix-affinity, "
         "consistent-hash, weighted (llm-d)", "NAME"},
        {"snapshot-interval-ms", 0, 0, G_OPTION_ARG_STRING, &f->snapshot,
         "How often replicas report waiting, running and KV use to the router (0: always fresh)", "MS"},
        {"router-latency-ms", 0, 0, G_OPTION_ARG_STRING, &f->router_latency, "Delay from arrival to the replica's queue", "MS"},
        {"scorer-weight", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->scorer_weights,
         "Weight of a scorer of the weighted router: prefix, queue, kv or lora (repeatable)", "NAME=W"},
        {"max-waiting-per-replica", 0, 0, G_OPTION_ARG_STRING, &f->max_waiting_replica,
         "Admission: no replica gets a request while this many wait on it (0: no cap)", "N"},
        {"max-waiting", 0, 0, G_OPTION_ARG_STRING, &f->max_waiting,
         "Admission: reject while this many requests wait in the whole fleet (0: no cap)", "N"},
        {"rate-limit", 0, 0, G_OPTION_ARG_STRING, &f->rate_limit, "Admission: token bucket rate (0: none)", "REQ/S"},
        {"rate-limit-burst", 0, 0, G_OPTION_ARG_STRING, &f->burst, "Admission: token bucket size", "N"},
        {"sticky-sessions", 0, 0, G_OPTION_ARG_NONE, &f->sticky,
         "Send a session's later turns to the replica of its previous turn", NULL},
        {"prefill-replicas", 0, 0, G_OPTION_ARG_STRING, &f->prefill_reps,
         "Disaggregate: replicas of the prefill pool (a fleet of one deployment gets a prefill and a decode pool)",
         "N"},
        {"decode-replicas", 0, 0, G_OPTION_ARG_STRING, &f->decode_reps, "Disaggregate: replicas of the decode pool",
         "N"},
        {"pd-decider", 0, 0, G_OPTION_ARG_STRING, &f->pd_decider,
         "Which requests are disaggregated: always, never, prompt-length, prefix-miss", "NAME"},
        {"pd-threshold", 0, 0, G_OPTION_ARG_STRING, &f->pd_threshold,
         "Prompt (or missed prefix) tokens from which a request is disaggregated", "TOKENS"},
        {"kv-link", 0, 0, G_OPTION_ARG_STRING, &f->kv_link,
         "Link class of KV transfers: nvlink, rdma-400, rdma-200, pcie, tcp-100, tcp-25", "CLASS"},
        {"kv-bandwidth-gbps", 0, 0, G_OPTION_ARG_STRING, &f->kv_bw, "KV link line rate per GPU (Gb/s)", "GBPS"},
        {"kv-layerwise", 0, 0, G_OPTION_ARG_NONE, &f->kv_layerwise,
         "Stream the KV layer by layer during the prefill's last step", NULL},
        {"autoscale", 0, 0, G_OPTION_ARG_STRING, &f->autoscale,
         "Autoscale the deployment's replicas: a JSON object (docs/autoscaling.md), e.g. "
         "'{\"metric\": \"waiting\", \"target\": 8, \"max_replicas\": 16}'", "JSON"},
        {"slo-ttft-ms", 0, 0, G_OPTION_ARG_STRING, &f->slo_ttft,
         "SLO attainment: a request meets its SLO within this TTFT (and --slo-tpot-ms)", "MS"},
        {"slo-tpot-ms", 0, 0, G_OPTION_ARG_STRING, &f->slo_tpot, "SLO attainment: the TPOT bound", "MS"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    G_STATIC_ASSERT(G_N_ELEMENTS(fl) <= G_N_ELEMENTS(f->fleet_entries));
    memcpy(f->fleet_entries, fl, sizeof fl);
    f->options = scn_option_flags_new();
    return f;
}

void scn_flags_add_fleet(GOptionContext *ctx, ScnFlags *f)
{
    g_option_context_add_main_entries(ctx, f->fleet_entries, NULL);
}

void scn_flags_free(ScnFlags *f)
{
    if (!f)
        return;
    char **strs[] = {&f->model, &f->hardware, &f->tp, &f->mns, &f->mnbt, &f->mml, &f->block_size, &f->gmu,
                     &f->blocks, &f->threshold, &f->seed, &f->latency_model, &f->overhead, &f->rate,
                     &f->num_requests, &f->max_time, &f->vllm_version, &f->otlp, &f->profile, &f->model_config,
                     &f->dp, &f->router, &f->snapshot, &f->router_latency, &f->max_waiting_replica,
                     &f->max_waiting, &f->rate_limit, &f->burst, &f->prefill_reps, &f->decode_reps,
                     &f->pd_decider, &f->pd_threshold, &f->kv_link, &f->kv_bw, &f->autoscale, &f->slo_ttft,
                     &f->slo_tpot};
    for (size_t i = 0; i < G_N_ELEMENTS(strs); i++)
        g_free(*strs[i]);
    g_strfreev(f->latency_params);
    g_strfreev(f->old_params);
    g_strfreev(f->scorer_weights);
    scn_option_flags_free(f->options);
    g_free(f);
}

void scn_flags_add_main(GOptionContext *ctx, ScnFlags *f)
{
    scn_flags_add_main_except(ctx, f, NULL);
}

void scn_flags_add_main_except(GOptionContext *ctx, ScnFlags *f, const char *const *skip)
{
    GOptionEntry kept[G_N_ELEMENTS(f->entries) + SCN_OPTION_FLAGS_MAX];
    guint n = 0;
    const GOptionEntry *lists[2] = {f->entries, scn_option_flags_entries(f->options)};
    for (int l = 0; l < 2; l++)
        for (const GOptionEntry *e = lists[l]; e->long_name; e++) {
            gboolean skipped = FALSE;
            for (const char *const *k = skip; k && *k && !skipped; k++)
                skipped = strcmp(*k, e->long_name) == 0;
            if (!skipped)
                kept[n++] = *e;
        }
    kept[n] = (GOptionEntry){NULL, 0, 0, 0, NULL, NULL, NULL};
    g_option_context_add_main_entries(ctx, kept, NULL);
}

const char *scn_flags_value(const ScnFlags *f, const char *flag)
{
    for (const GOptionEntry *e = f->entries; e->long_name; e++)
        if (strcmp(e->long_name, flag) == 0 &&
            (e->arg == G_OPTION_ARG_STRING || e->arg == G_OPTION_ARG_FILENAME))
            return *(char **)e->arg_data;
    return NULL;
}

static gboolean entry_given(const GOptionEntry *e)
{
    switch (e->arg) {
    case G_OPTION_ARG_NONE:
        return *(gboolean *)e->arg_data;
    case G_OPTION_ARG_STRING:
    case G_OPTION_ARG_FILENAME:
        return *(char **)e->arg_data != NULL;
    case G_OPTION_ARG_STRING_ARRAY:
    case G_OPTION_ARG_FILENAME_ARRAY:
        return *(char ***)e->arg_data != NULL;
    default:
        return FALSE; /* every flag of ScnFlags is one of the kinds above */
    }
}

char **scn_flags_given(const ScnFlags *f)
{
    GPtrArray *names = g_ptr_array_new();
    for (const GOptionEntry *e = f->entries; e->long_name; e++)
        if (entry_given(e))
            g_ptr_array_add(names, g_strdup(e->long_name));
    for (const GOptionEntry *e = f->fleet_entries; e->long_name; e++)
        if (entry_given(e))
            g_ptr_array_add(names, g_strdup(e->long_name));
    for (const GOptionEntry *e = scn_option_flags_entries(f->options); e->long_name; e++)
        if (entry_given(e))
            g_ptr_array_add(names, g_strdup(e->long_name));
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}

char **scn_flags_notes(const ScnFlags *f)
{
    GPtrArray *notes = g_ptr_array_new();
    if (f->old_params)
        g_ptr_array_add(notes, g_strdup("--param is the old name of --latency-param (it still works)"));
    LatBackend b;
    if (f->latency_model && lat_backend_parse(f->latency_model, &b) &&
        (g_ascii_strcasecmp(f->latency_model, "v1") == 0 || g_ascii_strcasecmp(f->latency_model, "v2") == 0))
        g_ptr_array_add(notes, g_strdup_printf("--latency-model %s is the old spelling of %s (it still works)",
                                               f->latency_model, lat_backend_name(b)));
    g_ptr_array_add(notes, NULL);
    return (char **)g_ptr_array_free(notes, FALSE);
}

GOptionGroup *scn_flags_group(ScnFlags *f)
{
    GOptionGroup *g = g_option_group_new("engine", "Model, hardware and engine (vLLM's flag names):",
                                         "Show the model, hardware and engine options", NULL, NULL);
    g_option_group_add_entries(g, f->entries);
    g_option_group_add_entries(g, scn_option_flags_entries(f->options));
    return g;
}

static gboolean set_flag(ScnScenario *s, const char *flag, const char *field, const char *value, gboolean is_string,
                         GError **error)
{
    if (!value)
        return TRUE;
    char *json;
    if (is_string) {
        cJSON *str = cJSON_CreateString(value);
        json = cJSON_PrintUnformatted(str);
        cJSON_Delete(str);
    } else {
        cJSON *num = cJSON_ParseWithOpts(value, NULL, 1);
        gboolean is_number = cJSON_IsNumber(num);
        cJSON_Delete(num);
        if (!is_number) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s: expected a number, got '%s'", flag, value);
            return FALSE;
        }
        json = strdup(value);
    }
    gboolean ok = scn_scenario_set_flag(s, field, json, flag, error);
    free(json);
    return ok;
}

/* A flag whose value is a JSON document (an object). */
static gboolean set_json_flag(ScnScenario *s, const char *flag, const char *field, const char *value, GError **error)
{
    return !value || scn_scenario_set_flag(s, field, value, flag, error);
}

static gboolean apply_fleet_flags(const ScnFlags *f, ScnScenario *s, GError **error)
{
    for (char **p = f->scorer_weights; p && *p; p++) {
        const char *eq = strchr(*p, '=');
        char *name = eq ? g_strndup(*p, (gsize)(eq - *p)) : NULL;
        const char *field = NULL;
        if (name && (strcmp(name, "prefix") == 0 || strcmp(name, "prefix-cache") == 0))
            field = "prefix_weight";
        else if (name && (strcmp(name, "queue") == 0))
            field = "queue_weight";
        else if (name && (strcmp(name, "kv") == 0 || strcmp(name, "kv-cache") == 0))
            field = "kv_weight";
        else if (name && (strcmp(name, "lora") == 0 || strcmp(name, "lora-affinity") == 0))
            field = "lora_weight";
        g_free(name);
        if (!field) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--scorer-weight: expected prefix=W, queue=W, kv=W or lora=W, got '%s'", *p);
            return FALSE;
        }
        if (!set_flag(s, "--scorer-weight", field, eq + 1, FALSE, error))
            return FALSE;
    }
    return set_flag(s, "--data-parallel-size", "replicas", f->dp, FALSE, error) &&
           set_flag(s, "--router", "router", f->router, TRUE, error) &&
           set_flag(s, "--snapshot-interval-ms", "snapshot_interval_ms", f->snapshot, FALSE, error) &&
           set_flag(s, "--router-latency-ms", "router_latency_ms", f->router_latency, FALSE, error) &&
           set_flag(s, "--max-waiting-per-replica", "max_waiting_per_replica", f->max_waiting_replica, FALSE,
                    error) &&
           set_flag(s, "--max-waiting", "max_waiting", f->max_waiting, FALSE, error) &&
           set_flag(s, "--rate-limit", "rate_limit", f->rate_limit, FALSE, error) &&
           set_flag(s, "--rate-limit-burst", "rate_limit_burst", f->burst, FALSE, error) &&
           (!f->sticky || scn_scenario_set(s, "sticky_sessions", "true", "--sticky-sessions", error)) &&
           set_flag(s, "--prefill-replicas", "prefill_replicas", f->prefill_reps, FALSE, error) &&
           set_flag(s, "--decode-replicas", "decode_replicas", f->decode_reps, FALSE, error) &&
           set_flag(s, "--pd-decider", "pd_decider", f->pd_decider, TRUE, error) &&
           set_flag(s, "--pd-threshold", "pd_threshold_tokens", f->pd_threshold, FALSE, error) &&
           set_flag(s, "--kv-link", "kv_link", f->kv_link, TRUE, error) &&
           set_flag(s, "--kv-bandwidth-gbps", "kv_bandwidth_gbps", f->kv_bw, FALSE, error) &&
           (!f->kv_layerwise || scn_scenario_set(s, "kv_layerwise", "true", "--kv-layerwise", error)) &&
           set_json_flag(s, "--autoscale", "autoscale", f->autoscale, error) &&
           set_flag(s, "--slo-ttft-ms", "slo_ttft_ms", f->slo_ttft, FALSE, error) &&
           set_flag(s, "--slo-tpot-ms", "slo_tpot_ms", f->slo_tpot, FALSE, error);
}

gboolean scn_flags_apply(const ScnFlags *f, ScnScenario *s, GError **error)
{
    if (f->prefix_on && f->prefix_off) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--enable-prefix-caching and --no-enable-prefix-caching contradict each other");
        return FALSE;
    }
    if (f->prefix_on)
        s->enable_prefix_caching = TRUE;
    if (f->prefix_off)
        s->enable_prefix_caching = FALSE;
    if ((f->async_on && f->async_off) || (f->isl_on && f->isl_off)) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--%s and --no-%s contradict each other",
                    f->async_on && f->async_off ? "async-scheduling" : "scheduler-reserve-full-isl",
                    f->async_on && f->async_off ? "async-scheduling" : "scheduler-reserve-full-isl");
        return FALSE;
    }
    if (f->async_on || f->async_off)
        s->async_scheduling = f->async_on ? 1 : 0;
    if (f->isl_on || f->isl_off)
        s->scheduler_reserve_full_isl = f->isl_on ? 1 : 0;
    if (f->eager)
        s->enforce_eager = TRUE;
    if (f->otlp) {
        g_free(s->otlp_traces_endpoint);
        s->otlp_traces_endpoint = *f->otlp ? g_strdup(f->otlp) : NULL;
    }
    char **lists[] = {f->old_params, f->latency_params};
    for (gsize k = 0; k < G_N_ELEMENTS(lists); k++) {
        for (char **p = lists[k]; p && *p; p++) {
            GError *err = NULL;
            if (!lat_params_set(&s->latency, *p, &err)) {
                g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--latency-param: %s", err->message);
                g_error_free(err);
                return FALSE;
            }
        }
    }
    if (f->profile) {
        g_free(s->hardware_profile);
        s->hardware_profile = g_strdup(f->profile);
    }
    char *model_path = NULL;
    if (f->model_config) {
        if (f->model) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--model and --model-config name the model twice: give one");
            return FALSE;
        }
        if (!g_file_test(f->model_config, G_FILE_TEST_EXISTS)) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--model-config %s: no such file or folder (expected a config.json or a model folder)",
                        f->model_config);
            return FALSE;
        }
        model_path = g_canonicalize_filename(f->model_config, NULL);
    }
    gboolean ok = set_flag(s, "--model-config", "model", model_path, TRUE, error);
    g_free(model_path);
    return ok && set_flag(s, "--vllm-version", "vllm_version", f->vllm_version, TRUE, error) &&
           set_flag(s, "--model", "model", f->model, TRUE, error) &&
           set_flag(s, "--hardware", "hardware", f->hardware, TRUE, error) &&
           set_flag(s, "--tensor-parallel-size", "tensor_parallel_size", f->tp, FALSE, error) &&
           set_flag(s, "--max-num-seqs", "max_num_seqs", f->mns, FALSE, error) &&
           set_flag(s, "--max-num-batched-tokens", "max_num_batched_tokens", f->mnbt, FALSE, error) &&
           set_flag(s, "--max-model-len", "max_model_len", f->mml, FALSE, error) &&
           set_flag(s, "--block-size", "block_size", f->block_size, FALSE, error) &&
           set_flag(s, "--gpu-memory-utilization", "gpu_memory_utilization", f->gmu, FALSE, error) &&
           set_flag(s, "--num-gpu-blocks-override", "num_gpu_blocks_override", f->blocks, FALSE, error) &&
           set_flag(s, "--long-prefill-token-threshold", "long_prefill_token_threshold", f->threshold, FALSE,
                    error) &&
           set_flag(s, "--seed", "seed", f->seed, FALSE, error) &&
           set_flag(s, "--latency-model", "latency_model", f->latency_model, TRUE, error) &&
           set_flag(s, "--step-overhead-us", "step_overhead_us", f->overhead, FALSE, error) &&
           set_flag(s, "--rate", "rate", f->rate, FALSE, error) &&
           set_flag(s, "--num-requests", "num_requests", f->num_requests, FALSE, error) &&
           set_flag(s, "--max-time", "max_time_s", f->max_time, FALSE, error) &&
           apply_fleet_flags(f, s, error) &&
           scn_option_flags_apply(f->options, s, error);
}
