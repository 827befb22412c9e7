/*
 * scn_option_flags.c: the command-line flags of the engine options (vLLM's
 * names: --quantization, --speculative-config, --scheduling-policy,
 * --kv-offloading-size, --enable-lora, --lora-modules, ...; scn_options.c
 * lists them with their engine keys). Each given flag becomes a single-field
 * update of the scenario (scn_scenario_set), so a flag and the JSON key are
 * checked by the same code; errors are usage errors naming the flag.
 */
#include "scn.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "ss_error.h"

struct ScnOptionFlags {
    char *quantization, *kv_cache_dtype, *spec, *policy, *offload_size, *offload_backend;
    char *max_loras, *max_lora_rank, *max_cpu_loras;
    char **lora_modules;
    gboolean no_sliding, no_hybrid, lora;
    GOptionEntry entries[SCN_OPTION_FLAGS_MAX];
};

ScnOptionFlags *scn_option_flags_new(void)
{
    ScnOptionFlags *f = g_new0(ScnOptionFlags, 1);
    GOptionEntry e[] = {
        {"quantization", 0, 0, G_OPTION_ARG_STRING, &f->quantization,
         "Weight quantization: fp8, fbgemm_fp8, modelopt, awq, awq_marlin, gptq, gptq_marlin, compressed-tensors",
         "METHOD"},
        {"kv-cache-dtype", 0, 0, G_OPTION_ARG_STRING, &f->kv_cache_dtype, "KV cache type: auto, fp8, fp8_e4m3, ...",
         "DTYPE"},
        {"speculative-config", 0, 0, G_OPTION_ARG_STRING, &f->spec,
         "Speculative decoding, vLLM's JSON plus an acceptance model (docs/options/speculative-decoding.md)", "JSON"},
        {"scheduling-policy", 0, 0, G_OPTION_ARG_STRING, &f->policy, "fcfs or priority", "POLICY"},
        {"disable-sliding-window", 0, 0, G_OPTION_ARG_NONE, &f->no_sliding,
         "Sliding-window layers attend to everything (max_model_len capped at the window)", NULL},
        {"disable-hybrid-kv-cache-manager", 0, 0, G_OPTION_ARG_NONE, &f->no_hybrid,
         "Allocate sliding-window layers' KV as full attention", NULL},
        {"kv-offloading-size", 0, 0, G_OPTION_ARG_STRING, &f->offload_size,
         "CPU KV offload: host memory for KV blocks, GiB over all TP ranks", "GIB"},
        {"kv-offloading-backend", 0, 0, G_OPTION_ARG_STRING, &f->offload_backend, "native or lmcache", "NAME"},
        {"enable-lora", 0, 0, G_OPTION_ARG_NONE, &f->lora, "Serve LoRA adapters", NULL},
        {"max-loras", 0, 0, G_OPTION_ARG_STRING, &f->max_loras, "Most adapters in one batch (1)", "N"},
        {"max-lora-rank", 0, 0, G_OPTION_ARG_STRING, &f->max_lora_rank, "Largest adapter rank (16)", "R"},
        {"max-cpu-loras", 0, 0, G_OPTION_ARG_STRING, &f->max_cpu_loras, "Adapters kept in host memory", "N"},
        {"lora-modules", 0, 0, G_OPTION_ARG_STRING_ARRAY, &f->lora_modules,
         "An adapter and its rank (repeatable)", "NAME=RANK"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    G_STATIC_ASSERT(G_N_ELEMENTS(e) <= G_N_ELEMENTS(f->entries));
    memcpy(f->entries, e, sizeof e);
    return f;
}

void scn_option_flags_free(ScnOptionFlags *f)
{
    if (!f)
        return;
    char **strs[] = {&f->quantization, &f->kv_cache_dtype, &f->spec,      &f->policy,        &f->offload_size,
                     &f->offload_backend, &f->max_loras,    &f->max_lora_rank, &f->max_cpu_loras};
    for (gsize i = 0; i < G_N_ELEMENTS(strs); i++)
        g_free(*strs[i]);
    g_strfreev(f->lora_modules);
    g_free(f);
}

const GOptionEntry *scn_option_flags_entries(ScnOptionFlags *f) { return f->entries; }

/* One field from a flag: `json` is JSON text; errors become SS_ERROR_USAGE. */
static gboolean set_json(ScnScenario *s, const char *flag, const char *field, const char *json, GError **error)
{
    return scn_scenario_set_flag(s, field, json, flag, error);
}

static gboolean set_string(ScnScenario *s, const char *flag, const char *field, const char *value, GError **error)
{
    if (!value)
        return TRUE;
    cJSON *str = cJSON_CreateString(value);
    char *json = cJSON_PrintUnformatted(str);
    cJSON_Delete(str);
    gboolean ok = set_json(s, flag, field, json, error);
    cJSON_free(json);
    return ok;
}

static gboolean set_number(ScnScenario *s, const char *flag, const char *field, const char *value, GError **error)
{
    if (!value)
        return TRUE;
    cJSON *num = cJSON_ParseWithOpts(value, NULL, 1);
    gboolean is_number = cJSON_IsNumber(num);
    cJSON_Delete(num);
    if (!is_number) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "%s: expected a number, got '%s'", flag, value);
        return FALSE;
    }
    return set_json(s, flag, field, value, error);
}

gboolean scn_option_flags_apply(const ScnOptionFlags *f, ScnScenario *s, GError **error)
{
    if (f->spec) {
        cJSON *v = cJSON_ParseWithOpts(f->spec, NULL, 1);
        gboolean obj = cJSON_IsObject(v);
        cJSON_Delete(v);
        if (!obj) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--speculative-config: expected a JSON object such as '{\"method\": \"eagle3\", "
                        "\"num_speculative_tokens\": 3, \"synthetic_acceptance_length\": 2.8}', got '%s'",
                        f->spec);
            return FALSE;
        }
    }
    if ((f->spec && !set_json(s, "--speculative-config", "speculative_config", f->spec, error)) ||
        !set_string(s, "--quantization", "quantization", f->quantization, error) ||
        !set_string(s, "--kv-cache-dtype", "kv_cache_dtype", f->kv_cache_dtype, error) ||
        !set_string(s, "--scheduling-policy", "scheduling_policy", f->policy, error) ||
        !set_number(s, "--kv-offloading-size", "kv_offloading_size", f->offload_size, error) ||
        !set_string(s, "--kv-offloading-backend", "kv_offloading_backend", f->offload_backend, error) ||
        !set_number(s, "--max-loras", "max_loras", f->max_loras, error) ||
        !set_number(s, "--max-lora-rank", "max_lora_rank", f->max_lora_rank, error) ||
        !set_number(s, "--max-cpu-loras", "max_cpu_loras", f->max_cpu_loras, error))
        return FALSE;
    if (f->no_sliding)
        s->options.disable_sliding_window = TRUE;
    if (f->no_hybrid)
        s->options.disable_hybrid_kv_cache_manager = TRUE;
    if (f->lora)
        s->options.enable_lora = TRUE;
    if (f->lora_modules) {
        cJSON *arr = cJSON_CreateArray();
        for (char **m = f->lora_modules; *m; m++) {
            const char *eq = strchr(*m, '=');
            guint64 rank = 0;
            char *end = NULL;
            if (eq)
                rank = g_ascii_strtoull(eq + 1, &end, 10);
            if (!eq || eq == *m || !end || *end || end == eq + 1 || rank == 0) {
                cJSON_Delete(arr);
                g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                            "--lora-modules: expected NAME=RANK (the adapter's LoRA rank r), got '%s'", *m);
                return FALSE;
            }
            cJSON *o = cJSON_CreateObject();
            char *name = g_strndup(*m, (gsize)(eq - *m));
            cJSON_AddStringToObject(o, "name", name);
            g_free(name);
            cJSON_AddNumberToObject(o, "rank", (double)rank);
            cJSON_AddItemToArray(arr, o);
        }
        char *json = cJSON_PrintUnformatted(arr);
        cJSON_Delete(arr);
        gboolean ok = set_json(s, "--lora-modules", "lora_modules", json, error);
        cJSON_free(json);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

