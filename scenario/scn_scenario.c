/*
 * scn_scenario.c: scenario JSON over the embedded default, and single-field
 * updates (the flags of scn_flags.c, sweep axes).
 *
 * A scenario document has these top-level fields (docs/scenario.md):
 *   name, description, model, hardware, seed, max_time_s,
 *   engine   { tensor_parallel_size, max_num_seqs, max_num_batched_tokens,
 *              max_model_len, block_size, gpu_memory_utilization,
 *              num_gpu_blocks_override, long_prefill_token_threshold,
 *              enable_prefix_caching, vllm_version, async_scheduling,
 *              scheduler_reserve_full_isl, enforce_eager, otlp_traces_endpoint,
 *              and the engine options of scn_options.c: quantization,
 *              kv_cache_dtype, speculative_config, scheduling_policy, ... }
 *   latency  { model, step_overhead_us, bw_efficiency, link_efficiency,
 *              ... every constant of docs/latency.md }
 *   workload { synthetic classes, or a trace: see docs/workloads.md }
 * Unknown fields are errors: a typo must not silently fall back to a default.
 */
#include "scn.h"

#include <math.h>
#include <string.h>

#include "scn_fleet.h"
#include "scn_json.h"
#include "scn_options.h"
#include "scn_workload.h"
#include "ss_error.h"

static const char default_json[] =
    "{\n"
    "  \"name\": \"default\",\n"
    "  \"description\": \"Llama-3.1-8B on one H100-SXM with vLLM's H100 server defaults "
    "(8192 batched tokens, 1024 sequences), Poisson chat traffic\",\n"
    "  \"model\": \"llama-3.1-8b\",\n"
    "  \"hardware\": \"H100-SXM\",\n"
    "  \"seed\": 42,\n"
    "  \"engine\": {\n"
    "    \"tensor_parallel_size\": 1,\n"
    "    \"max_num_seqs\": 1024,\n"
    "    \"max_num_batched_tokens\": 8192,\n"
    "    \"block_size\": 16,\n"
    "    \"gpu_memory_utilization\": 0.9,\n"
    "    \"long_prefill_token_threshold\": 0,\n"
    "    \"enable_prefix_caching\": true\n"
    "  },\n"
    "  \"latency\": {\n"
    "    \"model\": \"auto\"\n"
    "  },\n"
    "  \"workload\": {\n"
    "    \"num_requests\": 2000,\n"
    "    \"arrival\": {\"process\": \"poisson\", \"rate\": 12},\n"
    "    \"classes\": [\n"
    "      {\"name\": \"chat\", \"share\": 1,\n"
    "       \"input\": {\"dist\": \"lognormal\", \"mean\": 1155, \"stddev\": 1109, \"min\": 4, \"max\": 16000},\n"
    "       \"output\": {\"dist\": \"lognormal\", \"mean\": 211, \"stddev\": 163, \"min\": 1, \"max\": 2048}}\n"
    "    ]\n"
    "  }\n"
    "}\n";

const char *scn_default_json(void)
{
    return default_json;
}

static const char *const top_keys[] = {"name", "description", "model", "hardware", "hardware_profile", "seed",
                                        "max_time_s", "engine", "latency", "workload", "fleet", NULL};
static const char *const engine_keys[] = {"tensor_parallel_size", "max_num_seqs", "max_num_batched_tokens",
                                          "max_model_len", "block_size", "gpu_memory_utilization",
                                          "num_gpu_blocks_override", "long_prefill_token_threshold",
                                          "enable_prefix_caching", "vllm_version", "async_scheduling",
                                          "scheduler_reserve_full_isl", "enforce_eager", "otlp_traces_endpoint",
                                          NULL};

static void scenario_init(ScnScenario *s)
{
    memset(s, 0, sizeof *s);
    s->tensor_parallel_size = 1;
    s->block_size = 16;
    s->gpu_memory_utilization = 0.9;
    s->enable_prefix_caching = TRUE;
    s->vllm_version = g_strdup(SCN_DEFAULT_VLLM_VERSION);
    s->async_scheduling = -1;
    s->scheduler_reserve_full_isl = -1;
    lat_params_default(&s->latency);
    wl_spec_init(&s->workload);
    wl_trace_options_init(&s->trace);
    scn_fleet_init(&s->fleet);
    scn_options_init(&s->options);
}

/* The engine object's keys: the scenario's own and the options'. */
static const char *const *all_engine_keys(void)
{
    static const char *keys[G_N_ELEMENTS(engine_keys) + 32];
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        gsize n = 0;
        for (gsize i = 0; engine_keys[i]; i++)
            keys[n++] = engine_keys[i];
        for (const char *const *k = scn_options_engine_keys(); *k && n + 1 < G_N_ELEMENTS(keys); k++)
            keys[n++] = *k;
        keys[n] = NULL;
        g_once_init_leave(&init, 1);
    }
    return keys;
}

void scn_scenario_free(ScnScenario *s)
{
    if (!s)
        return;
    g_free(s->name);
    g_free(s->origin);
    g_free(s->base_dir);
    g_free(s->model);
    g_free(s->hardware);
    g_free(s->vllm_version);
    g_free(s->otlp_traces_endpoint);
    g_free(s->hardware_profile);
    wl_spec_clear(&s->workload);
    g_free(s->trace_path);
    scn_fleet_clear(&s->fleet);
    scn_options_clear(&s->options);
    g_free(s);
}

/* get_guint, then an upper bound with its own message (the type error of a
 * negative or fractional value stays "expected a positive integer"). */
static gboolean get_guint_max(const cJSON *obj, const char *key, const char *path, const char *origin, guint64 min,
                              guint64 max, guint *out, GError **error)
{
    guint64 v = *out;
    if (!scn_json_get_uint(obj, key, path, origin, min, G_MAXUINT32, &v, error))
        return FALSE;
    if (v > max) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.%s: expected at most %" G_GUINT64_FORMAT ", got %"
                    G_GUINT64_FORMAT, origin, path, key, max, v);
        return FALSE;
    }
    *out = (guint)v;
    return TRUE;
}

static gboolean get_guint(const cJSON *obj, const char *key, const char *path, const char *origin, guint64 min,
                          guint *out, GError **error)
{
    guint64 v = *out;
    if (!scn_json_get_uint(obj, key, path, origin, min, G_MAXUINT32, &v, error))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

/* A tri-state switch: true, false, or null (= the version's default). */
static gboolean get_switch(const cJSON *obj, const char *key, const char *path, const char *origin, int *out,
                           GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return TRUE;
    if (cJSON_IsNull(v)) {
        *out = -1;
        return TRUE;
    }
    if (!cJSON_IsBool(v)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.%s: expected true, false or null (the version's default)",
                    origin, path, key);
        return FALSE;
    }
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return TRUE;
}

gboolean scn_vllm_version_parse(const char *s, guint *out)
{
    if (!s)
        return FALSE;
    const char *p = s;
    if (*p == 'v' || *p == 'V')
        p++;
    if (!g_ascii_isdigit(*p))
        return FALSE;
    char *end = NULL;
    guint64 major = g_ascii_strtoull(p, &end, 10);
    if (*end != '.' || !g_ascii_isdigit(end[1]) || major > 99)
        return FALSE;
    guint64 minor = g_ascii_strtoull(end + 1, &end, 10);
    if (minor > 999)
        return FALSE;
    if (*end == '.') { /* patch */
        if (!g_ascii_isdigit(end[1]))
            return FALSE;
        g_ascii_strtoull(end + 1, &end, 10);
    }
    if (*end && *end != '+' && *end != '-' && !g_ascii_isalpha(*end))
        return FALSE;
    *out = (guint)(major * 1000 + minor);
    return TRUE;
}

gboolean scn_scenario_apply_engine(ScnScenario *s, const cJSON *e, const char *origin, const char *p,
                                   GError **error)
{
    if (!scn_json_check_keys(e, p, all_engine_keys(), origin, error))
        return FALSE;
    char *version = NULL;
    if (!scn_json_get_string(e, "vllm_version", p, origin, &version, error))
        return FALSE;
    if (version) {
        guint v;
        if (!scn_vllm_version_parse(version, &v)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: %s.vllm_version: expected a version such as \"0.15.1\", got \"%s\"", origin, p, version);
            g_free(version);
            return FALSE;
        }
        g_free(s->vllm_version);
        s->vllm_version = version;
    }
    const cJSON *otlp = cJSON_GetObjectItemCaseSensitive(e, "otlp_traces_endpoint");
    if (otlp && cJSON_IsNull(otlp)) {
        g_free(s->otlp_traces_endpoint);
        s->otlp_traces_endpoint = NULL;
    } else if (!scn_json_get_string(e, "otlp_traces_endpoint", p, origin, &s->otlp_traces_endpoint, error)) {
        return FALSE;
    }
    if (s->otlp_traces_endpoint && !*s->otlp_traces_endpoint) {
        g_free(s->otlp_traces_endpoint);
        s->otlp_traces_endpoint = NULL;
    }
    return get_switch(e, "async_scheduling", p, origin, &s->async_scheduling, error) &&
           get_switch(e, "scheduler_reserve_full_isl", p, origin, &s->scheduler_reserve_full_isl, error) &&
           scn_json_get_bool(e, "enforce_eager", p, origin, &s->enforce_eager, error) &&
           get_guint(e, "tensor_parallel_size", p, origin, 1, &s->tensor_parallel_size, error) &&
           get_guint_max(e, "max_num_seqs", p, origin, 1, SCHED_MAX_NUM_SEQS, &s->max_num_seqs, error) &&
           get_guint(e, "max_num_batched_tokens", p, origin, 1, &s->max_num_batched_tokens, error) &&
           get_guint(e, "max_model_len", p, origin, 2, &s->max_model_len, error) &&
           get_guint(e, "block_size", p, origin, 1, &s->block_size, error) &&
           scn_json_get_double(e, "gpu_memory_utilization", p, origin, 0, 1, TRUE, &s->gpu_memory_utilization,
                               error) &&
           get_guint_max(e, "num_gpu_blocks_override", p, origin, 2, SCHED_MAX_BLOCKS, &s->num_gpu_blocks_override,
                         error) &&
           get_guint(e, "long_prefill_token_threshold", p, origin, 0, &s->long_prefill_token_threshold, error) &&
           scn_json_get_bool(e, "enable_prefix_caching", p, origin, &s->enable_prefix_caching, error) &&
           scn_options_apply_engine(&s->options, e, origin, error);
}

/* "latency": {"model": "roofline-v2", "<constant>": number, ...}: every
 * constant of LatParams by its name (lat_params_set knows them). */
gboolean scn_scenario_apply_latency(ScnScenario *s, const cJSON *l, const char *origin, const char *path,
                                    GError **error)
{
    if (!cJSON_IsObject(l)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected an object", origin, path);
        return FALSE;
    }
    for (const cJSON *it = l->child; it; it = it->next) {
        char *assignment;
        if (strcmp(it->string, "model") == 0) {
            if (!cJSON_IsString(it)) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: %s.model: expected \"roofline-v2\", \"roofline-v1\" or \"auto\"", origin, path);
                return FALSE;
            }
            assignment = g_strdup_printf("latency_model=%s", it->valuestring);
        } else if (cJSON_IsNumber(it)) {
            char num[G_ASCII_DTOSTR_BUF_SIZE];
            assignment = g_strdup_printf("%s=%s", it->string, g_ascii_dtostr(num, sizeof num, it->valuedouble));
        } else {
            char *repr = scn_json_repr(it);
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.%s: expected a number, got %s", origin, path,
                        it->string, repr);
            g_free(repr);
            return FALSE;
        }
        GError *err = NULL;
        gboolean ok = lat_params_set(&s->latency, assignment, &err);
        g_free(assignment);
        if (!ok) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s.%s: %s", origin, path, it->string, err->message);
            g_error_free(err);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean apply_workload(ScnScenario *s, const cJSON *w, const char *origin, const char *base_dir,
                               GError **error)
{
    WlSpec spec;
    wl_spec_init(&spec);
    WlTraceOptions topts;
    wl_trace_options_init(&topts);
    gboolean is_trace = FALSE;
    char *trace_path = NULL;
    if (!scn_workload_parse(w, origin, base_dir, &spec, &is_trace, &trace_path, &topts, error)) {
        wl_spec_clear(&spec);
        g_free(trace_path);
        return FALSE;
    }
    wl_spec_clear(&s->workload);
    g_free(s->trace_path);
    s->workload = spec;
    s->is_trace = is_trace;
    s->trace_path = trace_path;
    s->trace = topts;
    return TRUE;
}

/* "hardware_profile": a path relative to the scenario's folder, or null. */
static gboolean get_profile(const cJSON *root, const char *origin, const char *base_dir, ScnScenario *s,
                            GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "hardware_profile");
    if (!v)
        return TRUE;
    if (cJSON_IsNull(v)) {
        g_free(s->hardware_profile);
        s->hardware_profile = NULL;
        return TRUE;
    }
    if (!cJSON_IsString(v) || !*v->valuestring) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: hardware_profile: expected the path of a profile file",
                    origin);
        return FALSE;
    }
    g_free(s->hardware_profile);
    s->hardware_profile = g_path_is_absolute(v->valuestring) || !base_dir
                              ? g_strdup(v->valuestring)
                              : g_build_filename(base_dir, v->valuestring, NULL);
    return TRUE;
}

/* Applies a parsed document over *s. */
static gboolean apply_json(ScnScenario *s, const cJSON *root, const char *origin, const char *base_dir,
                           GError **error)
{
    if (!scn_json_check_keys(root, "", top_keys, origin, error))
        return FALSE;
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (desc && !cJSON_IsString(desc)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: description: expected a string", origin);
        return FALSE;
    }
    guint64 seed = s->seed;
    if (!scn_json_get_string(root, "name", "", origin, &s->name, error) ||
        !scn_json_get_string(root, "model", "", origin, &s->model, error) ||
        !scn_json_get_string(root, "hardware", "", origin, &s->hardware, error) ||
        !get_profile(root, origin, base_dir, s, error) ||
        !scn_json_get_uint(root, "seed", "", origin, 0, G_MAXUINT64, &seed, error) ||
        !scn_json_get_double(root, "max_time_s", "", origin, 0, INFINITY, FALSE, &s->max_time_s, error))
        return FALSE;
    if (!sim_seconds_in_range(s->max_time_s)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: max_time_s: expected at most %g s (the simulated-time limit, about 126 years), got %g",
                    origin, SIM_TIME_LIMIT_S, s->max_time_s);
        return FALSE;
    }
    s->seed = seed;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "engine");
    if (e && !scn_scenario_apply_engine(s, e, origin, "engine", error))
        return FALSE;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "latency");
    if (l && !scn_scenario_apply_latency(s, l, origin, "latency", error))
        return FALSE;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "workload");
    if (w && !apply_workload(s, w, origin, base_dir, error))
        return FALSE;
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(root, "fleet");
    if (fl && !scn_fleet_apply(s, fl, origin, error))
        return FALSE;
    return TRUE;
}

ScnScenario *scn_scenario_new_default(void)
{
    ScnScenario *s = g_new(ScnScenario, 1);
    scenario_init(s);
    GError *error = NULL;
    cJSON *root = scn_json_parse(default_json, "<default>", &error);
    if (!root || !apply_json(s, root, "<default>", ".", &error))
        /* the text is a constant of this file, parsed by the tests
         * (test_scn_scenario): unreachable from input */
        g_error("the embedded default scenario is invalid: %s", error->message);
    cJSON_Delete(root);
    s->origin = g_strdup("<default>");
    s->base_dir = g_get_current_dir();
    return s;
}

ScnScenario *scn_scenario_parse(const char *json_text, const char *origin, const char *base_dir, GError **error)
{
    cJSON *root = scn_json_parse(json_text, origin, error);
    if (!root)
        return NULL;
    ScnScenario *s = scn_scenario_new_default();
    g_free(s->origin);
    g_free(s->base_dir);
    s->origin = g_strdup(origin);
    s->base_dir = g_strdup(base_dir ? base_dir : ".");
    /* a scenario without a name is called after its file */
    g_free(s->name);
    char *base = g_path_get_basename(origin);
    char *dot = strrchr(base, '.');
    if (dot && dot != base)
        *dot = '\0';
    s->name = base;
    gboolean ok = apply_json(s, root, origin, s->base_dir, error);
    cJSON_Delete(root);
    if (!ok) {
        scn_scenario_free(s);
        return NULL;
    }
    return s;
}

ScnScenario *scn_scenario_load(const char *path, GError **error)
{
    char *text = scn_read_file(path, "scenario", NULL, error);
    if (!text)
        return NULL;
    char *dir = g_path_get_dirname(path);
    ScnScenario *s = scn_scenario_parse(text, path, dir, error);
    g_free(dir);
    g_free(text);
    return s;
}

ScnScenario *scn_scenario_copy(const ScnScenario *src)
{
    ScnScenario *s = g_new(ScnScenario, 1);
    *s = *src;
    s->name = g_strdup(src->name);
    s->origin = g_strdup(src->origin);
    s->base_dir = g_strdup(src->base_dir);
    s->model = g_strdup(src->model);
    s->hardware = g_strdup(src->hardware);
    s->vllm_version = g_strdup(src->vllm_version);
    s->otlp_traces_endpoint = g_strdup(src->otlp_traces_endpoint);
    s->hardware_profile = g_strdup(src->hardware_profile);
    s->trace_path = g_strdup(src->trace_path);
    wl_spec_copy(&s->workload, &src->workload);
    scn_fleet_copy(&s->fleet, &src->fleet);
    scn_options_copy(&s->options, &src->options);
    return s;
}

/* ------------------------------------------------------- single fields -- */

typedef enum { SEC_TOP, SEC_ENGINE, SEC_LATENCY, SEC_WORKLOAD } Section;

typedef struct {
    const char *name;   /* what users write */
    Section section;
    const char *key;    /* the key within its section */
} FieldDef;

static const FieldDef fields[] = {
    {"name", SEC_TOP, "name"},
    {"model", SEC_TOP, "model"},
    {"hardware", SEC_TOP, "hardware"},
    {"hardware_profile", SEC_TOP, "hardware_profile"},
    {"seed", SEC_TOP, "seed"},
    {"max_time_s", SEC_TOP, "max_time_s"},
    {"tensor_parallel_size", SEC_ENGINE, "tensor_parallel_size"},
    {"max_num_seqs", SEC_ENGINE, "max_num_seqs"},
    {"max_num_batched_tokens", SEC_ENGINE, "max_num_batched_tokens"},
    {"max_model_len", SEC_ENGINE, "max_model_len"},
    {"block_size", SEC_ENGINE, "block_size"},
    {"gpu_memory_utilization", SEC_ENGINE, "gpu_memory_utilization"},
    {"num_gpu_blocks_override", SEC_ENGINE, "num_gpu_blocks_override"},
    {"long_prefill_token_threshold", SEC_ENGINE, "long_prefill_token_threshold"},
    {"enable_prefix_caching", SEC_ENGINE, "enable_prefix_caching"},
    {"vllm_version", SEC_ENGINE, "vllm_version"},
    {"async_scheduling", SEC_ENGINE, "async_scheduling"},
    {"scheduler_reserve_full_isl", SEC_ENGINE, "scheduler_reserve_full_isl"},
    {"enforce_eager", SEC_ENGINE, "enforce_eager"},
    {"otlp_traces_endpoint", SEC_ENGINE, "otlp_traces_endpoint"},
    /* the engine options (scn_options.c) */
    {"quantization", SEC_ENGINE, "quantization"},
    {"kv_cache_dtype", SEC_ENGINE, "kv_cache_dtype"},
    {"speculative_config", SEC_ENGINE, "speculative_config"},
    {"num_speculative_tokens", SEC_ENGINE, "num_speculative_tokens"},
    {"scheduling_policy", SEC_ENGINE, "scheduling_policy"},
    {"disable_sliding_window", SEC_ENGINE, "disable_sliding_window"},
    {"disable_hybrid_kv_cache_manager", SEC_ENGINE, "disable_hybrid_kv_cache_manager"},
    {"kv_offloading_size", SEC_ENGINE, "kv_offloading_size"},
    {"kv_offloading_backend", SEC_ENGINE, "kv_offloading_backend"},
    {"enable_lora", SEC_ENGINE, "enable_lora"},
    {"max_loras", SEC_ENGINE, "max_loras"},
    {"max_lora_rank", SEC_ENGINE, "max_lora_rank"},
    {"max_cpu_loras", SEC_ENGINE, "max_cpu_loras"},
    {"lora_modules", SEC_ENGINE, "lora_modules"},
    {"latency_model", SEC_LATENCY, "model"},
    /* every step-time constant follows (lat_params_names), after the workload fields */
    {"rate", SEC_WORKLOAD, "rate"},
    {"num_requests", SEC_WORKLOAD, "num_requests"},
    {"duration_s", SEC_WORKLOAD, "duration_s"},
    {"cv", SEC_WORKLOAD, "cv"},
    {"time_scale", SEC_WORKLOAD, "time_scale"},
    {"workload", SEC_WORKLOAD, "workload"},
};

#define MAX_LATENCY_FIELDS 64
#define MAX_FLEET_FIELDS 32

/* The fields above and one per step-time constant, built once. */
static const FieldDef *all_fields(size_t *n)
{
    static FieldDef all[G_N_ELEMENTS(fields) + MAX_LATENCY_FIELDS];
    static size_t count;
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        memcpy(all, fields, sizeof fields);
        count = G_N_ELEMENTS(fields);
        for (const char *const *p = lat_params_names(); *p && count < G_N_ELEMENTS(all); p++)
            if (strcmp(*p, "latency_model") != 0)
                all[count++] = (FieldDef){*p, SEC_LATENCY, *p};
        g_once_init_leave(&init, 1);
    }
    *n = count;
    return all;
}

const char *const *scn_scenario_fields(void)
{
    static const char *names[G_N_ELEMENTS(fields) + MAX_LATENCY_FIELDS + MAX_FLEET_FIELDS + 1];
    static gsize init = 0;
    if (g_once_init_enter(&init)) {
        size_t n;
        const FieldDef *f = all_fields(&n);
        for (size_t i = 0; i < n; i++)
            names[i] = f[i].name;
        for (const char *const *fl = scn_fleet_fields(); *fl; fl++) {
            g_assert(n < G_N_ELEMENTS(names) - 1); /* MAX_FLEET_FIELDS is a constant of this file */
            names[n++] = *fl;
        }
        names[n] = NULL;
        g_once_init_leave(&init, 1);
    }
    return names;
}

const char *scn_scenario_field_canonical(const char *name)
{
    const char *fleet = scn_fleet_field_canonical(name);
    if (fleet)
        return fleet;
    const char *n = name;
    if (g_str_has_prefix(n, "engine."))
        n += 7;
    else if (g_str_has_prefix(n, "latency.")) {
        n += 8;
        if (strcmp(n, "model") == 0)
            n = "latency_model";
    } else if (g_str_has_prefix(n, "workload.arrival.")) {
        n += 17;
    } else if (g_str_has_prefix(n, "workload.")) {
        n += 9;
    }
    size_t count;
    const FieldDef *all = all_fields(&count);
    for (size_t i = 0; i < count; i++)
        if (strcmp(n, all[i].name) == 0)
            return all[i].name;
    return NULL;
}

static const FieldDef *find_field(const char *name)
{
    const char *canon = scn_scenario_field_canonical(name);
    size_t count;
    const FieldDef *all = all_fields(&count);
    for (size_t i = 0; canon && i < count; i++)
        if (all[i].name == canon)
            return &all[i];
    return NULL;
}

/* Workload fields that adjust the current workload instead of replacing it. */
static gboolean set_workload_field(ScnScenario *s, const FieldDef *f, const cJSON *v, const char *origin,
                                   GError **error)
{
    cJSON *wrap = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(wrap, f->key, (cJSON *)v);
    gboolean ok = FALSE;
    if (strcmp(f->key, "rate") == 0) {
        double rate = 0;
        if (!scn_json_get_double(wrap, "rate", "workload", origin, 0, INFINITY, TRUE, &rate, error))
            goto out;
        if (s->is_trace) {
            WlTraceOptions t = s->trace;
            t.rate = rate;
            t.time_scale = 1.0; /* a target rate replaces any time scale */
            if (!wl_trace_options_validate(&t, origin, "workload.trace", error))
                goto out;
            s->trace = t;
        } else if (s->workload.arrival.kind == WL_ARRIVAL_PIECEWISE) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: workload.rate: the arrival process is piecewise; set its points instead", origin);
            goto out;
        } else {
            WlArrivalSpec a = s->workload.arrival; /* shallow: only read by the check */
            a.rate = rate;
            if (!wl_arrival_spec_validate(&a, origin, "workload.arrival", error))
                goto out;
            s->workload.arrival.rate = rate;
        }
    } else if (strcmp(f->key, "num_requests") == 0) {
        guint64 n = s->workload.num_requests;
        if (!scn_json_get_uint(wrap, "num_requests", "workload", origin, 1, G_MAXUINT64, &n, error))
            goto out;
        if (s->is_trace)
            s->trace.limit = n;
        else
            s->workload.num_requests = n;
    } else if (strcmp(f->key, "duration_s") == 0) {
        if (!scn_json_get_double(wrap, "duration_s", "workload", origin, 0, SIM_TIME_LIMIT_S, FALSE,
                                 &s->workload.duration_s, error))
            goto out;
    } else if (strcmp(f->key, "cv") == 0) {
        if (s->is_trace || s->workload.arrival.kind != WL_ARRIVAL_GAMMA) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: workload.arrival.cv: only a gamma arrival process has a cv", origin);
            goto out;
        }
        if (!scn_json_get_double(wrap, "cv", "workload.arrival", origin, 0, WL_MAX_CV, TRUE,
                                 &s->workload.arrival.cv, error))
            goto out;
    } else if (strcmp(f->key, "time_scale") == 0) {
        if (!s->is_trace) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: workload.time_scale: only a trace has a time scale",
                        origin);
            goto out;
        }
        WlTraceOptions t = s->trace;
        if (!scn_json_get_double(wrap, "time_scale", "workload.trace", origin, 0, INFINITY, TRUE, &t.time_scale,
                                 error) ||
            !wl_trace_options_validate(&t, origin, "workload.trace", error))
            goto out;
        s->trace = t;
    } else { /* "workload": a whole new workload */
        if (!apply_workload(s, v, origin, s->base_dir, error))
            goto out;
    }
    ok = TRUE;
out:
    cJSON_Delete(wrap);
    return ok;
}

gboolean scn_scenario_set_flag(ScnScenario *s, const char *field, const char *json_value, const char *flag,
                               GError **error)
{
    GError *err = NULL;
    if (scn_scenario_set(s, field, json_value, flag, &err))
        return TRUE;
    g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s", err->message);
    g_error_free(err);
    return FALSE;
}

gboolean scn_scenario_set(ScnScenario *s, const char *field, const char *json_value, const char *origin,
                          GError **error)
{
    const char *fleet = scn_fleet_field_canonical(field);
    if (fleet) {
        cJSON *v = cJSON_ParseWithOpts(json_value, NULL, 1);
        if (!v) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected a JSON value, got '%s'", origin, field,
                        json_value);
            return FALSE;
        }
        gboolean ok = scn_fleet_set_field(s, fleet, v, origin, error);
        cJSON_Delete(v);
        return ok;
    }
    const FieldDef *f = find_field(field);
    if (!f) {
        GString *known = g_string_new(NULL);
        for (const char *const *k = scn_scenario_fields(); *k; k++)
            g_string_append_printf(known, "%s%s", known->len ? ", " : "", *k);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: unknown scenario field '%s' (known: %s)", origin, field,
                    known->str);
        g_string_free(known, TRUE);
        return FALSE;
    }
    cJSON *v = cJSON_ParseWithOpts(json_value, NULL, 1); /* one value, nothing after it */
    if (!v) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected a JSON value, got '%s'", origin, field,
                    json_value);
        return FALSE;
    }
    gboolean ok;
    if (f->section == SEC_WORKLOAD) {
        ok = set_workload_field(s, f, v, origin, error);
    } else {
        cJSON *root = cJSON_CreateObject();
        cJSON *target = root;
        if (f->section == SEC_ENGINE)
            target = cJSON_AddObjectToObject(root, "engine");
        else if (f->section == SEC_LATENCY)
            target = cJSON_AddObjectToObject(root, "latency");
        cJSON_AddItemReferenceToObject(target, f->key, v);
        ok = apply_json(s, root, origin, s->base_dir, error);
        cJSON_Delete(root);
    }
    cJSON_Delete(v);
    return ok;
}
