/*
 * scn_options.c: the engine options production deployments use, as a
 * scenario reads them (vLLM's names, docs/options/) and as a simulation is
 * built with them.
 *
 *   engine.quantization           --quantization fp8|awq|gptq|...
 *   engine.kv_cache_dtype         --kv-cache-dtype auto|fp8|...
 *   engine.speculative_config     --speculative-config '{"method": ..., "num_speculative_tokens": k,
 *                                  "synthetic_acceptance_length": L, ...}'
 *   engine.num_speculative_tokens (a sweep axis: k of the scenario's speculative_config)
 *   engine.scheduling_policy      --scheduling-policy fcfs|priority
 *   engine.disable_sliding_window --disable-sliding-window
 *   engine.disable_hybrid_kv_cache_manager  --disable-hybrid-kv-cache-manager
 *   engine.kv_offloading_size     --kv-offloading-size GiB
 *   engine.kv_offloading_backend  --kv-offloading-backend native|lmcache
 *   engine.enable_lora, max_loras, max_lora_rank, max_cpu_loras, lora_modules
 *
 * The flags are scn_option_flags.c's: each becomes an update of the engine
 * key it names, so that both are checked here.
 * Values are checked where they are read (exit 3 in a file, 2 from a flag);
 * what depends on the model or the GPU (a checkpoint's own quantization,
 * an adapter's rank against max_lora_rank) when the scenario is built.
 * Reading: O(keys); building: loads a draft config at most.
 */
#include "scn_options.h"

#include <math.h>
#include <string.h>

#include "scn_json.h"
#include "ss_error.h"

/* vLLM's allowed --max-lora-rank values (vllm/config/lora.py MaxLoRARanks). */
static const guint lora_ranks[] = {1, 8, 16, 32, 64, 128, 256, 320, 512};

/* ------------------------------------------------------------- basics -- */

void scn_options_init(ScnOptions *o)
{
    memset(o, 0, sizeof *o);
    o->acceptance_rate = -1.0;
}

void scn_options_clear(ScnOptions *o)
{
    g_free(o->quantization);
    g_free(o->kv_cache_dtype);
    g_free(o->spec_method);
    g_free(o->spec_model);
    g_free(o->kv_offloading_backend);
    for (guint i = 0; i < o->num_lora_modules; i++)
        g_free(o->lora_modules[i].name);
    g_free(o->lora_modules);
    scn_options_init(o);
}

void scn_options_copy(ScnOptions *dst, const ScnOptions *src)
{
    *dst = *src;
    dst->quantization = g_strdup(src->quantization);
    dst->kv_cache_dtype = g_strdup(src->kv_cache_dtype);
    dst->spec_method = g_strdup(src->spec_method);
    dst->spec_model = g_strdup(src->spec_model);
    dst->kv_offloading_backend = g_strdup(src->kv_offloading_backend);
    dst->lora_modules = src->num_lora_modules ? g_new(ScnLoraModule, src->num_lora_modules) : NULL;
    for (guint i = 0; i < src->num_lora_modules; i++) {
        dst->lora_modules[i].name = g_strdup(src->lora_modules[i].name);
        dst->lora_modules[i].rank = src->lora_modules[i].rank;
    }
}

gboolean scn_options_any(const ScnOptions *o)
{
    return o->quantization || o->kv_cache_dtype || o->disable_sliding_window || o->disable_hybrid_kv_cache_manager ||
           o->scheduling_policy != SCHED_POLICY_FCFS || o->speculative || o->kv_offloading_size > 0 ||
           o->enable_lora;
}

static guint max_loras(const ScnOptions *o) { return o->max_loras ? o->max_loras : 1; }
static guint max_lora_rank(const ScnOptions *o) { return o->max_lora_rank ? o->max_lora_rank : 16; }
static guint max_cpu_loras(const ScnOptions *o) { return o->max_cpu_loras ? o->max_cpu_loras : max_loras(o); }
static gboolean lmcache(const ScnOptions *o)
{
    return o->kv_offloading_backend && strcmp(o->kv_offloading_backend, "lmcache") == 0;
}

/* The acceptance model as text. */
static char *acceptance_text(const ScnOptions *o)
{
    if (o->num_acceptance_rates) {
        GString *s = g_string_new("synthetic_acceptance_rates [");
        for (guint i = 0; i < o->num_acceptance_rates; i++)
            g_string_append_printf(s, "%s%g", i ? ", " : "", o->acceptance_rates[i]);
        g_string_append_c(s, ']');
        return g_string_free(s, FALSE);
    }
    if (o->acceptance_length > 0)
        return g_strdup_printf("synthetic_acceptance_length %g", o->acceptance_length);
    return g_strdup_printf("acceptance_rate %g per position", o->acceptance_rate);
}

char **scn_options_describe(const ScnOptions *o)
{
    GPtrArray *a = g_ptr_array_new();
    if (o->quantization)
        g_ptr_array_add(a, g_strdup_printf("quantization %s", o->quantization));
    if (o->kv_cache_dtype)
        g_ptr_array_add(a, g_strdup_printf("kv_cache_dtype %s", o->kv_cache_dtype));
    if (o->speculative) {
        char *acc = acceptance_text(o);
        g_ptr_array_add(a, g_strdup_printf("speculative decoding %s, %u tokens, %s", o->spec_method,
                                           o->num_speculative_tokens, acc));
        g_free(acc);
    }
    if (o->scheduling_policy == SCHED_POLICY_PRIORITY)
        g_ptr_array_add(a, g_strdup("scheduling_policy priority"));
    if (o->disable_sliding_window)
        g_ptr_array_add(a, g_strdup("disable_sliding_window"));
    if (o->disable_hybrid_kv_cache_manager)
        g_ptr_array_add(a, g_strdup("disable_hybrid_kv_cache_manager"));
    if (o->kv_offloading_size > 0)
        g_ptr_array_add(a, g_strdup_printf("kv_offloading_size %g GiB (%s)", o->kv_offloading_size,
                                           lmcache(o) ? "lmcache" : "native"));
    if (o->enable_lora)
        g_ptr_array_add(a, g_strdup_printf("LoRA: max_loras %u, max_lora_rank %u, max_cpu_loras %u", max_loras(o),
                                           max_lora_rank(o), max_cpu_loras(o)));
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

/* ------------------------------------------------------------ reading -- */

static const char *const engine_keys[] = {
    "quantization",          "kv_cache_dtype",        "disable_sliding_window", "disable_hybrid_kv_cache_manager",
    "scheduling_policy",     "speculative_config",    "num_speculative_tokens", "kv_offloading_size",
    "kv_offloading_backend", "enable_lora",           "max_loras",              "max_lora_rank",
    "max_cpu_loras",         "lora_modules",          NULL,
};

const char *const *scn_options_engine_keys(void) { return engine_keys; }

static const char *const field_pairs[] = {
    "quantization",          "quantization",          "kv_cache_dtype",        "kv_cache_dtype",
    "disable_sliding_window", "disable_sliding_window", "disable_hybrid_kv_cache_manager",
    "disable_hybrid_kv_cache_manager", "scheduling_policy", "scheduling_policy", "speculative_config",
    "speculative_config",    "num_speculative_tokens", "num_speculative_tokens", "kv_offloading_size",
    "kv_offloading_size",    "kv_offloading_backend", "kv_offloading_backend", "enable_lora", "enable_lora",
    "max_loras",             "max_loras",             "max_lora_rank",         "max_lora_rank",
    "max_cpu_loras",         "max_cpu_loras",         "lora_modules",          "lora_modules",
    NULL,                    NULL,
};

const char *const *scn_options_fields(void) { return field_pairs; }

static gboolean bad(GError **error, const char *origin, const char *path, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static gboolean bad(GError **error, const char *origin, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: %s", origin, path, msg);
    g_free(msg);
    return FALSE;
}

/* A string of `allowed`, or null (*out = NULL). */
static gboolean get_choice(const cJSON *e, const char *key, const char *const *allowed, const char *origin,
                           char **out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
    if (!v)
        return TRUE;
    char path[64];
    g_snprintf(path, sizeof path, "engine.%s", key);
    if (cJSON_IsNull(v)) {
        g_free(*out);
        *out = NULL;
        return TRUE;
    }
    char *list = g_strjoinv(", ", (char **)allowed);
    gboolean ok = FALSE;
    if (!cJSON_IsString(v)) {
        char *got = scn_json_repr(v);
        bad(error, origin, path, "expected one of %s, got %s", list, got);
        g_free(got);
    } else {
        for (const char *const *a = allowed; *a; a++)
            if (g_ascii_strcasecmp(*a, v->valuestring) == 0) {
                g_free(*out);
                *out = g_ascii_strdown(*a, -1);
                ok = TRUE;
            }
        if (!ok)
            bad(error, origin, path, "expected one of %s, got \"%s\"", list, v->valuestring);
    }
    g_free(list);
    return ok;
}

/* vLLM's speculative methods and what servesim does with them. */
static const struct {
    const char *name;
    const char *method; /* the method it means, NULL: not modelled */
} spec_methods[] = {
    {"ngram", "ngram"},       {"eagle", "eagle"},           {"eagle3", "eagle3"},
    {"mtp", "mtp"},           {"draft_model", "draft_model"}, {"deepseek_mtp", "mtp"},
    {"qwen3_next_mtp", "mtp"}, {"glm4_moe_mtp", "mtp"},     {"mimo_mtp", "mtp"},
    {"ernie_mtp", "mtp"},     {"longcat_flash_mtp", "mtp"}, {"medusa", NULL},
    {"mlp_speculator", NULL}, {"suffix", NULL},             {"ngram_gpu", NULL},
};

/* vLLM keys of speculative_config accepted without effect on the model. */
static const char *const spec_ignored[] = {"draft_model_config",
                                           "quantization",
                                           "max_model_len",
                                           "revision",
                                           "code_revision",
                                           "disable_padded_drafter_batch",
                                           "disable_by_batch_size",
                                           "disable_logprobs",
                                           "disable_log_stats",
                                           "enforce_eager",
                                           "rejection_sample_method",
                                           "draft_sample_method",
                                           "prompt_lookup_max",
                                           "prompt_lookup_min",
                                           "speculative_token_tree",
                                           "attention_backend",
                                           "kv_cache_dtype",
                                           "moe_backend",
                                           NULL};

static gboolean parse_speculative(ScnOptions *o, const cJSON *v, const char *origin, GError **error)
{
    const char *p = "engine.speculative_config";
    if (cJSON_IsNull(v)) {
        o->speculative = FALSE;
        g_free(o->spec_method);
        g_free(o->spec_model);
        o->spec_method = o->spec_model = NULL;
        return TRUE;
    }
    if (!cJSON_IsObject(v))
        return bad(error, origin, p, "expected an object such as {\"method\": \"eagle3\", \"num_speculative_tokens\": 3, "
                                     "\"synthetic_acceptance_length\": 2.8}, or null");
    static const char *const keys[] = {"method",
                                       "num_speculative_tokens",
                                       "model",
                                       "draft_tensor_parallel_size",
                                       "draft_vocab_size",
                                       "synthetic_acceptance_rates",
                                       "synthetic_acceptance_length",
                                       "acceptance_rate",
                                       NULL};
    for (const cJSON *it = v->child; it; it = it->next) {
        gboolean known = FALSE;
        for (const char *const *k = keys; *k && !known; k++)
            known = strcmp(*k, it->string) == 0;
        for (const char *const *k = spec_ignored; *k && !known; k++)
            known = strcmp(*k, it->string) == 0;
        if (!known)
            return bad(error, origin, p,
                       "unknown key '%s' (modelled: method, num_speculative_tokens, model, "
                       "draft_tensor_parallel_size, draft_vocab_size, synthetic_acceptance_rates, "
                       "synthetic_acceptance_length, acceptance_rate; docs/options/speculative-decoding.md)",
                       it->string);
    }
    ScnOptions n;
    scn_options_init(&n);
    char *method = NULL, *model = NULL;
    guint64 k = 0, dtp = 0, dvocab = 0;
    gboolean ok = scn_json_get_string(v, "method", p, origin, &method, error) &&
                  scn_json_get_string(v, "model", p, origin, &model, error) &&
                  scn_json_get_uint(v, "num_speculative_tokens", p, origin, 1, SCHED_MAX_SPEC_TOKENS, &k, error) &&
                  scn_json_get_uint(v, "draft_tensor_parallel_size", p, origin, 1, 1024, &dtp, error) &&
                  scn_json_get_uint(v, "draft_vocab_size", p, origin, 1, G_MAXUINT32, &dvocab, error) &&
                  scn_json_get_double(v, "synthetic_acceptance_length", p, origin, 1, SCHED_MAX_SPEC_TOKENS + 1.0,
                                      FALSE, &n.acceptance_length, error) &&
                  scn_json_get_double(v, "acceptance_rate", p, origin, 0, 1, FALSE, &n.acceptance_rate, error);
    if (!ok)
        goto fail;
    if (!method) {
        if (!model) {
            ok = bad(error, origin, p, "expected a method (ngram, eagle, eagle3, mtp, draft_model) or a draft model");
            goto fail;
        }
        method = g_strdup(strcmp(model, "ngram") == 0 ? "ngram" : "draft_model"); /* vLLM's inference */
    }
    gsize m = 0;
    while (m < G_N_ELEMENTS(spec_methods) && strcmp(spec_methods[m].name, method) != 0)
        m++;
    if (m == G_N_ELEMENTS(spec_methods)) {
        ok = bad(error, origin, p, "method: expected ngram, eagle, eagle3, mtp or draft_model, got \"%s\"", method);
        goto fail;
    }
    if (!spec_methods[m].method) {
        ok = bad(error, origin, p,
                 "method \"%s\": not modelled (servesim models ngram, eagle, eagle3, mtp and draft_model)", method);
        goto fail;
    }
    if (!cJSON_GetObjectItemCaseSensitive(v, "num_speculative_tokens")) {
        ok = bad(error, origin, p, "num_speculative_tokens: expected a positive integer (at most %u), got nothing",
                 SCHED_MAX_SPEC_TOKENS);
        goto fail;
    }
    if (strcmp(spec_methods[m].method, "draft_model") == 0 && !model) {
        ok = bad(error, origin, p, "model: the draft_model method needs the draft model (a name under data/models "
                                   "or a config.json path)");
        goto fail;
    }
    const cJSON *rates = cJSON_GetObjectItemCaseSensitive(v, "synthetic_acceptance_rates");
    if (rates) {
        int nr = cJSON_GetArraySize(rates);
        if (!cJSON_IsArray(rates) || nr < 1 || (guint)nr != k) {
            ok = bad(error, origin, p,
                     "synthetic_acceptance_rates: expected %" G_GUINT64_FORMAT
                     " probabilities (one per speculative token: the chance that the first i are all accepted)",
                     k);
            goto fail;
        }
        for (int i = 0; i < nr; i++) {
            const cJSON *r = cJSON_GetArrayItem(rates, i);
            if (!cJSON_IsNumber(r)) {
                ok = bad(error, origin, p, "synthetic_acceptance_rates[%d]: expected a number", i);
                goto fail;
            }
            n.acceptance_rates[i] = r->valuedouble;
        }
        n.num_acceptance_rates = (guint)nr;
        GError *e2 = NULL;
        if (!sched_spec_rates_check(n.acceptance_rates, (guint)nr, &e2)) {
            ok = bad(error, origin, p, "%s", e2->message);
            g_error_free(e2);
            goto fail;
        }
    }
    int given = (rates != NULL) + (n.acceptance_length > 0) + (n.acceptance_rate >= 0);
    if (given != 1) {
        ok = bad(error, origin, p,
                 "expected exactly one acceptance model: synthetic_acceptance_length (the mean acceptance length "
                 "vLLM reports), synthetic_acceptance_rates (per position) or acceptance_rate (conditional per "
                 "position); got %d",
                 given);
        goto fail;
    }
    if (n.acceptance_length > k + 1.0) {
        ok = bad(error, origin, p,
                 "synthetic_acceptance_length: expected at most num_speculative_tokens + 1 = %" G_GUINT64_FORMAT
                 ", got %g",
                 k + 1, n.acceptance_length);
        goto fail;
    }
    g_free(o->spec_method);
    g_free(o->spec_model);
    o->speculative = TRUE;
    o->spec_method = g_strdup(spec_methods[m].method);
    o->spec_model = g_steal_pointer(&model);
    o->num_speculative_tokens = (guint)k;
    o->draft_tensor_parallel_size = (guint)dtp;
    o->draft_vocab_size = (guint)dvocab;
    o->num_acceptance_rates = n.num_acceptance_rates;
    memcpy(o->acceptance_rates, n.acceptance_rates, sizeof o->acceptance_rates);
    o->acceptance_length = n.acceptance_length;
    o->acceptance_rate = n.acceptance_rate;
fail:
    g_free(method);
    g_free(model);
    return ok;
}

static gboolean parse_lora_modules(ScnOptions *o, const cJSON *v, const char *origin, GError **error)
{
    const char *p = "engine.lora_modules";
    if (cJSON_IsNull(v)) {
        for (guint i = 0; i < o->num_lora_modules; i++)
            g_free(o->lora_modules[i].name);
        g_free(o->lora_modules);
        o->lora_modules = NULL;
        o->num_lora_modules = 0;
        return TRUE;
    }
    if (!cJSON_IsArray(v))
        return bad(error, origin, p, "expected an array of adapters: \"name\" or {\"name\": ..., \"rank\": r}");
    int n = cJSON_GetArraySize(v);
    ScnLoraModule *mods = g_new0(ScnLoraModule, MAX(n, 1));
    gboolean ok = TRUE;
    for (int i = 0; i < n && ok; i++) {
        const cJSON *it = cJSON_GetArrayItem(v, i);
        char path[64];
        g_snprintf(path, sizeof path, "%s[%d]", p, i);
        if (cJSON_IsString(it) && *it->valuestring) {
            mods[i].name = g_strdup(it->valuestring);
            continue;
        }
        static const char *const keys[] = {"name", "rank", "path", "base_model_name", NULL};
        guint64 rank = 0;
        char *name = NULL;
        ok = cJSON_IsObject(it) && scn_json_check_keys(it, path, keys, origin, error) &&
             scn_json_get_string(it, "name", path, origin, &name, error) &&
             scn_json_get_uint(it, "rank", path, origin, 1, 4096, &rank, error);
        if (ok && (!name || !*name))
            ok = bad(error, origin, path, "expected an adapter name (a string, or an object with \"name\")");
        else if (!ok && error && !*error)
            bad(error, origin, path, "expected an adapter name, or {\"name\": ..., \"rank\": r}");
        mods[i].name = name;
        mods[i].rank = (guint)rank;
    }
    for (int i = 0; ok && i < n; i++)
        for (int j = 0; ok && j < i; j++)
            if (strcmp(mods[i].name, mods[j].name) == 0)
                ok = bad(error, origin, p, "adapter '%s' is given twice", mods[i].name);
    if (!ok) {
        for (int i = 0; i < n; i++)
            g_free(mods[i].name);
        g_free(mods);
        return FALSE;
    }
    for (guint i = 0; i < o->num_lora_modules; i++)
        g_free(o->lora_modules[i].name);
    g_free(o->lora_modules);
    o->lora_modules = mods;
    o->num_lora_modules = (guint)n;
    return TRUE;
}

gboolean scn_options_apply_engine(ScnOptions *o, const cJSON *e, const char *origin, GError **error)
{
    const char *p = "engine";
    static const char *const policies[] = {"fcfs", "priority", NULL};
    static const char *const dtypes[] = {"auto", "bfloat16", "float16", "fp8", "fp8_e4m3", "fp8_e5m2", NULL};
    static const char *const backends[] = {"native", "lmcache", NULL};
    char *policy = NULL;
    if (!get_choice(e, "scheduling_policy", policies, origin, &policy, error))
        return FALSE;
    if (cJSON_GetObjectItemCaseSensitive(e, "scheduling_policy"))
        o->scheduling_policy = policy && strcmp(policy, "priority") == 0 ? SCHED_POLICY_PRIORITY : SCHED_POLICY_FCFS;
    g_free(policy);
    if (!get_choice(e, "quantization", lat_quantization_names(), origin, &o->quantization, error) ||
        !get_choice(e, "kv_cache_dtype", dtypes, origin, &o->kv_cache_dtype, error) ||
        !get_choice(e, "kv_offloading_backend", backends, origin, &o->kv_offloading_backend, error) ||
        !scn_json_get_bool(e, "disable_sliding_window", p, origin, &o->disable_sliding_window, error) ||
        !scn_json_get_bool(e, "disable_hybrid_kv_cache_manager", p, origin, &o->disable_hybrid_kv_cache_manager,
                           error) ||
        !scn_json_get_bool(e, "enable_lora", p, origin, &o->enable_lora, error) ||
        !scn_json_get_double(e, "kv_offloading_size", p, origin, 0, 1e6, FALSE, &o->kv_offloading_size, error))
        return FALSE;
    if (o->kv_cache_dtype && strcmp(o->kv_cache_dtype, "auto") == 0) {
        g_free(o->kv_cache_dtype);
        o->kv_cache_dtype = NULL;
    }
    if (o->kv_offloading_backend && strcmp(o->kv_offloading_backend, "native") == 0) {
        g_free(o->kv_offloading_backend);
        o->kv_offloading_backend = NULL;
    }
    guint64 v = o->max_loras;
    if (!scn_json_get_uint(e, "max_loras", p, origin, 1, 100000, &v, error))
        return FALSE;
    o->max_loras = (guint)v;
    v = o->max_cpu_loras;
    if (!scn_json_get_uint(e, "max_cpu_loras", p, origin, 1, 1000000, &v, error))
        return FALSE;
    o->max_cpu_loras = (guint)v;
    v = o->max_lora_rank;
    if (!scn_json_get_uint(e, "max_lora_rank", p, origin, 1, 4096, &v, error))
        return FALSE;
    if (cJSON_GetObjectItemCaseSensitive(e, "max_lora_rank")) {
        gboolean allowed = FALSE;
        for (gsize i = 0; i < G_N_ELEMENTS(lora_ranks); i++)
            allowed = allowed || lora_ranks[i] == v;
        if (!allowed)
            return bad(error, origin, "engine.max_lora_rank",
                       "expected one of vLLM's 1, 8, 16, 32, 64, 128, 256, 320, 512, got %" G_GUINT64_FORMAT, v);
        o->max_lora_rank = (guint)v;
    }
    const cJSON *mods = cJSON_GetObjectItemCaseSensitive(e, "lora_modules");
    if (mods && !parse_lora_modules(o, mods, origin, error))
        return FALSE;
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(e, "speculative_config");
    if (spec && !parse_speculative(o, spec, origin, error))
        return FALSE;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "num_speculative_tokens");
    if (k) {
        guint64 kv = 0;
        if (!scn_json_get_uint(e, "num_speculative_tokens", p, origin, 1, SCHED_MAX_SPEC_TOKENS, &kv, error))
            return FALSE;
        if (!o->speculative)
            return bad(error, origin, "engine.num_speculative_tokens",
                       "sets k of the scenario's speculative_config, but it has none");
        if (o->num_acceptance_rates)
            return bad(error, origin, "engine.num_speculative_tokens",
                       "the scenario's synthetic_acceptance_rates give one rate per token: change speculative_config "
                       "as a whole");
        if (o->acceptance_length > kv + 1.0)
            return bad(error, origin, "engine.num_speculative_tokens",
                       "%" G_GUINT64_FORMAT " tokens cannot reach the synthetic_acceptance_length %g", kv,
                       o->acceptance_length);
        o->num_speculative_tokens = (guint)kv;
    }
    return TRUE;
}

/* --------------------------------------------------------- building -- */

gboolean scn_options_prepare_model(const ScnScenario *s, const char *data_dir, const LatModelDesc *base,
                                   LatModelDesc **served, LatModelDesc **draft, guint *draft_tp, GError **error)
{
    const ScnOptions *o = &s->options;
    *served = NULL;
    *draft = NULL;
    *draft_tp = s->tensor_parallel_size;
    LatModelDesc *m = NULL;
    if (o->quantization || o->kv_cache_dtype || (o->disable_sliding_window && base->num_sliding_layers)) {
        m = lat_model_desc_copy(base);
        if ((o->quantization && !lat_model_apply_quantization(m, o->quantization, error)) ||
            (o->kv_cache_dtype && !lat_model_apply_kv_cache_dtype(m, o->kv_cache_dtype, error)))
            goto fail;
        if (o->disable_sliding_window)
            lat_model_disable_sliding_window(m);
    }
    const LatModelDesc *target = m ? m : base;
    if (o->speculative && strcmp(o->spec_method, "ngram") != 0) {
        gboolean eagle3 = strcmp(o->spec_method, "eagle3") == 0;
        gboolean head = eagle3 || strcmp(o->spec_method, "eagle") == 0 || strcmp(o->spec_method, "mtp") == 0;
        guint dtp = o->draft_tensor_parallel_size ? o->draft_tensor_parallel_size : s->tensor_parallel_size;
        if (dtp != 1 && dtp != s->tensor_parallel_size) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "speculative_config.draft_tensor_parallel_size: expected 1 or the target's %u (vLLM's rule), "
                        "got %u",
                        s->tensor_parallel_size, dtp);
            goto fail;
        }
        if (o->spec_model && strcmp(o->spec_method, "mtp") != 0) {
            LatModelDesc *loaded = lat_model_desc_load(o->spec_model, data_dir, error);
            if (!loaded)
                goto fail;
            if (head) { /* the config.json of an EAGLE head: one layer, its fc, maybe its own vocabulary */
                LatModelDesc *h = lat_model_draft_head(loaded, eagle3 ? LAT_DRAFT_EAGLE3 : LAT_DRAFT_EAGLE,
                                                       o->draft_vocab_size);
                h->num_layers = MAX(loaded->num_layers, 1u);
                h->num_dense_layers = h->num_layers;
                lat_model_desc_free(loaded);
                loaded = h;
            }
            if (!lat_model_apply_kv_cache_dtype(loaded, o->kv_cache_dtype ? o->kv_cache_dtype : "auto", error)) {
                lat_model_desc_free(loaded);
                goto fail;
            }
            *draft = loaded;
        } else if (head) {
            LatDraftHead kind = eagle3 ? LAT_DRAFT_EAGLE3 : strcmp(o->spec_method, "mtp") == 0 ? LAT_DRAFT_MTP
                                                                                                 : LAT_DRAFT_EAGLE;
            *draft = lat_model_draft_head(target, kind, o->draft_vocab_size);
        } else {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "speculative_config: the draft_model method needs \"model\"");
            goto fail;
        }
        *draft_tp = dtp;
    }
    *served = m;
    return TRUE;
fail:
    lat_model_desc_free(m);
    lat_model_desc_free(*draft);
    *draft = NULL;
    return FALSE;
}

gboolean scn_options_attach(const ScnScenario *s, LatStepModel *sm, const LatModelDesc *draft, guint draft_tp,
                            const LatHardware *hw, const LatTableSource *sources, guint num_sources,
                            const LatParams *params, guint max_batched_tokens, GError **error)
{
    const ScnOptions *o = &s->options;
    if (o->speculative) {
        LatStepModel *d = NULL;
        if (draft) {
            GError *err = NULL;
            d = lat_step_model_new(draft, hw, draft_tp, sources, num_sources, params, max_batched_tokens, &err);
            if (!d) {
                g_set_error(error, err->domain, err->code, "the draft of speculative decoding: %s", err->message);
                g_error_free(err);
                return FALSE;
            }
        }
        lat_step_model_set_draft(sm, d, o->num_speculative_tokens);
    }
    if (o->enable_lora)
        lat_step_model_set_lora(sm, max_lora_rank(o));
    if (o->kv_offloading_size > 0)
        lat_step_model_set_offload(sm, TRUE);
    return TRUE;
}

/* What the scheduler and the memory plan take from the options (scn_build.c). */
void scn_options_memory_input(const ScnScenario *s, const LatModelDesc *draft, guint draft_tp, const LatModelDesc *model,
                              LatMemoryInput *in)
{
    const ScnOptions *o = &s->options;
    in->draft = draft;
    in->draft_tp = draft_tp;
    in->hybrid_kv = !o->disable_hybrid_kv_cache_manager;
    in->extra_weight_bytes =
        o->enable_lora ? max_loras(o) * lat_lora_adapter_bytes(model, s->tensor_parallel_size, max_lora_rank(o)) : 0.0;
}

gboolean scn_options_sched(const ScnScenario *s, const LatModelDesc *model, const LatMemoryPlan *plan,
                           SchedConfig *c, GError **error)
{
    const ScnOptions *o = &s->options;
    c->policy = o->scheduling_policy;
    if (o->speculative) {
        guint k = o->num_speculative_tokens;
        c->num_spec_tokens = k;
        gboolean eagle = strcmp(o->spec_method, "eagle") == 0 || strcmp(o->spec_method, "eagle3") == 0 ||
                         strcmp(o->spec_method, "mtp") == 0;
        c->num_lookahead_tokens = eagle ? k : 0; /* vLLM: use_eagle() reserves k lookahead slots */
        c->spec_seed = s->seed;
        gboolean ok = o->num_acceptance_rates ? (memcpy(c->spec_accept, o->acceptance_rates,
                                                        sizeof(double) * k),
                                                 sched_spec_rates_check(c->spec_accept, k, error))
                      : o->acceptance_length > 0
                          ? sched_spec_rates_from_length(o->acceptance_length, k, c->spec_accept, error)
                          : sched_spec_rates_from_conditional(o->acceptance_rate, k, c->spec_accept, error);
        if (!ok)
            return FALSE;
    }
    if (plan->groups_sliding > 0) {
        c->kv_groups_sliding = plan->groups_sliding;
        c->sliding_window = model->sliding_window;
    }
    if (o->kv_offloading_size > 0) {
        if (!c->enable_prefix_caching) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--kv-offloading-size: CPU KV offload finds blocks by their prefix-cache hashes; turn prefix "
                        "caching on (--enable-prefix-caching)");
            return FALSE;
        }
        /* vLLM: the size is summed over the TP ranks; each rank holds its shard of every block */
        double per_gpu = o->kv_offloading_size * 1073741824.0 / s->tensor_parallel_size;
        double blocks = floor(per_gpu / plan->block_bytes);
        if (blocks < 1) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--kv-offloading-size %g GiB holds no KV block of %.1f MB per GPU", o->kv_offloading_size,
                        plan->block_bytes / 1e6);
            return FALSE;
        }
        if (blocks > SCHED_MAX_BLOCKS) { /* the tier's map is allocated whole, about 40 bytes per block */
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--kv-offloading-size %g GiB holds %.0f KV blocks of %.1f MB per GPU, more than the %u the "
                        "simulator supports (lower it, or raise --block-size)",
                        o->kv_offloading_size, blocks, plan->block_bytes / 1e6, SCHED_MAX_BLOCKS);
            return FALSE;
        }
        c->cpu_blocks = (uint32_t)blocks;
        c->cpu_hit_tokens = lmcache(o) ? 256 : 0; /* LMCache's default chunk_size */
    }
    if (o->enable_lora) {
        c->max_loras = max_loras(o);
        c->max_cpu_loras = max_cpu_loras(o);
        for (guint i = 0; i < o->num_lora_modules; i++) {
            guint r = o->lora_modules[i].rank;
            if (r > max_lora_rank(o)) {
                g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                            "lora_modules: adapter '%s' has rank %u, more than --max-lora-rank %u (vLLM refuses to "
                            "load it)",
                            o->lora_modules[i].name, r, max_lora_rank(o));
                return FALSE;
            }
        }
        if (c->max_cpu_loras < c->max_loras) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--max-cpu-loras (%u) must be >= --max-loras (%u)",
                        c->max_cpu_loras, c->max_loras);
            return FALSE;
        }
    } else if (o->num_lora_modules > 0 || o->max_loras || o->max_cpu_loras) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "LoRA settings (max_loras, max_cpu_loras, lora_modules) need --enable-lora");
        return FALSE;
    }
    return TRUE;
}
