/*
 * cmd_step.c: `servesim step`: the time of one step of a model on a GPU, with
 * its breakdown per component (projections, attention, experts, all-reduce,
 * LM head, overhead) and, with --verbose, the table rows that served each
 * lookup.
 *
 * A thin layer over the latency module: it builds a BatchDesc from
 * --prefill T[@P] and --decode NxKV, asks lat_step_model_breakdown, and
 * prints a table (or JSON written with cJSON). The engine options' flags
 * (--quantization, --kv-cache-dtype, --speculative-config: each decode then
 * verifies k drafts, --enable-lora with --lora-adapters, --kv-offloading-size
 * with --kv-load) time the same step as served with them
 * (docs/options/). Exit codes: 0 ok, 2 bad flags or unknown names, 3 bad
 * data files.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lat.h"
#include "lat_mfu.h"
#include "scn.h"
#include "ss_error.h"

static gboolean parse_count(const char *s, guint64 max, guint64 *out)
{
    if (!s || !g_ascii_isdigit(s[0]))
        return FALSE;
    char *end = NULL;
    guint64 v = g_ascii_strtoull(s, &end, 10);
    if (!end || *end || v == 0 || v > max)
        return FALSE;
    *out = v;
    return TRUE;
}

/* "T" or "T@P". */
static gboolean parse_prefill(const char *arg, guint32 *t, guint32 *p, GError **error)
{
    char **parts = g_strsplit(arg, "@", 2);
    guint64 tv = 0, pv = 0;
    gboolean ok = parse_count(parts[0], G_MAXUINT32, &tv);
    if (ok && parts[1])
        ok = (strcmp(parts[1], "0") == 0) || parse_count(parts[1], G_MAXUINT32, &pv);
    g_strfreev(parts);
    if (!ok) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--prefill '%s': expected T or T@P (T new tokens after P cached ones, T >= 1)", arg);
        return FALSE;
    }
    *t = (guint32)tv;
    *p = (guint32)pv;
    return TRUE;
}

/* "NxKV". */
static gboolean parse_decode(const char *arg, guint32 *n, guint32 *kv, GError **error)
{
    const char *x = strchr(arg, 'x');
    guint64 nv = 0, kvv = 0;
    gboolean ok = FALSE;
    if (x) {
        char *left = g_strndup(arg, (gsize)(x - arg));
        ok = parse_count(left, 1u << 20, &nv) && parse_count(x + 1, G_MAXUINT32, &kvv);
        g_free(left);
    }
    if (!ok) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--decode '%s': expected NxKV (N decode requests, each with KV length KV), e.g. 64x2048", arg);
        return FALSE;
    }
    *n = (guint32)nv;
    *kv = (guint32)kvv;
    return TRUE;
}

static const char *bound_name(LatBound b)
{
    switch (b) {
    case LAT_BOUND_COMPUTE:
        return "compute";
    case LAT_BOUND_MEMORY:
        return "memory";
    case LAT_BOUND_COMMUNICATION:
        return "communication";
    case LAT_BOUND_FIXED:
        return "fixed";
    }
    return "unknown";
}

static void print_json(const LatModelDesc *model, const LatHardware *hw, guint tp, const BatchDesc *b,
                       const LatBreakdown *br, gboolean verbose, const LatStepModel *sm)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model->name);
    cJSON_AddStringToObject(root, "hardware", hw->name);
    cJSON_AddNumberToObject(root, "tensor_parallel_size", tp);
    cJSON_AddStringToObject(root, "backend", lat_backend_name(br->backend));
    cJSON_AddNumberToObject(root, "total_ms", br->total_seconds * 1e3);
    cJSON_AddNumberToObject(root, "gpu_ms", br->gpu_seconds * 1e3);
    cJSON_AddNumberToObject(root, "cpu_ms", br->cpu_seconds * 1e3);
    cJSON_AddNumberToObject(root, "delivery_delay_ms", br->delivery_delay_seconds * 1e3);
    cJSON_AddBoolToObject(root, "async_scheduling", br->async_scheduling);
    cJSON_AddBoolToObject(root, "estimated", br->estimated);
    cJSON_AddBoolToObject(root, "measured_on_this_gpu", lat_step_model_measured_gpu(sm));
    if (lat_step_model_table_gpu(sm))
        cJSON_AddStringToObject(root, "tables_of", lat_step_model_table_gpu(sm));
    cJSON_AddNumberToObject(root, "padded_tokens", br->padded_tokens);
    cJSON_AddStringToObject(root, "cuda_graph", br->cuda_graph ? br->cuda_graph : "none");
    cJSON_AddNumberToObject(root, "tokens", (double)b->total_tokens);
    cJSON_AddNumberToObject(root, "prefill_chunks", b->num_prefill);
    cJSON_AddNumberToObject(root, "decodes", b->num_decode);
    cJSON *comps = cJSON_AddArrayToObject(root, "components");
    for (guint i = 0; i < br->num_components; i++) {
        const LatComponent *c = &br->components[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", c->name);
        cJSON_AddNumberToObject(o, "ms", c->seconds * 1e3);
        cJSON_AddStringToObject(o, "bound", bound_name(c->bound));
        cJSON_AddBoolToObject(o, "estimated", c->estimated);
        cJSON_AddStringToObject(o, "source", c->source);
        cJSON_AddNumberToObject(o, "flops", c->flops);
        cJSON_AddNumberToObject(o, "bytes", c->bytes);
        cJSON_AddItemToArray(comps, o);
    }
    if (verbose) {
        cJSON *ls = cJSON_AddArrayToObject(root, "lookups");
        for (guint i = 0; i < br->num_lookups; i++) {
            const LatLookup *l = &br->lookups[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "component", l->component);
            cJSON_AddStringToObject(o, "kernel", l->what);
            cJSON_AddNumberToObject(o, "ms", l->seconds * 1e3);
            cJSON_AddBoolToObject(o, "estimated", l->estimated);
            cJSON_AddStringToObject(o, "source", l->source);
            cJSON_AddItemToArray(ls, o);
        }
    }
    char *text = cJSON_Print(root);
    printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(root);
}

static void print_text(const LatModelDesc *model, const LatHardware *hw, guint tp, const BatchDesc *b,
                       const LatBreakdown *br, gboolean verbose, const LatStepModel *sm)
{
    printf("%s on %s, TP%u, %s: %u prefill chunk%s (%" G_GUINT64_FORMAT " new tokens), %u decode%s "
           "(%" G_GUINT64_FORMAT " KV tokens), %u sampled\n\n",
           model->name, hw->name, tp, lat_backend_name(br->backend), b->num_prefill, b->num_prefill == 1 ? "" : "s",
           (guint64)b->prefill_tokens, b->num_decode, b->num_decode == 1 ? "" : "s", (guint64)b->decode_kv_tokens,
           b->num_sampled);
    char fmt[128];
    if (model->fp8_weights || model->weight_only || model->kv_bytes < 2 || model->num_sliding_layers || b->spec_tokens ||
        b->lora_tokens || b->kv_load_tokens)
        printf("as served: weights %s, KV cache %s bytes/element%s%s%s%s\n\n", lat_model_weight_format(model, fmt, sizeof fmt),
               model->kv_bytes < 2 ? "1" : "2", model->num_sliding_layers ? ", sliding-window layers" : "",
               b->spec_tokens ? ", each decode verifies its draft tokens" : "", b->lora_tokens ? ", LoRA" : "",
               b->kv_load_tokens ? ", KV loaded from host memory" : "");
    printf("%-18s %10s %7s  %-13s %s\n", "component", "ms", "share", "bound", "source");
    gboolean any_est = FALSE;
    for (guint i = 0; i < br->num_components; i++) {
        const LatComponent *c = &br->components[i];
        double share = br->total_seconds > 0 ? 100.0 * c->seconds / br->total_seconds : 0.0;
        printf("%-18s %10.3f %6.1f%%  %-13s %s%s\n", c->name, c->seconds * 1e3, share, bound_name(c->bound),
               c->estimated ? "* " : "", c->source);
        any_est = any_est || c->estimated;
    }
    printf("%-18s %10.3f   GPU %.3f ms, CPU %.3f ms: %s; %g tokens run (CUDA graph: %s)\n", "total",
           br->total_seconds * 1e3, br->gpu_seconds * 1e3, br->cpu_seconds * 1e3,
           br->async_scheduling ? "max(GPU, CPU), async scheduling" : "GPU + CPU, synchronous scheduling",
           br->padded_tokens, br->cuda_graph ? br->cuda_graph : "none");
    if (br->delivery_delay_seconds > 0)
        printf("%-18s %10.3f   after the step: its outputs are processed once its GPU work ends\n", "tokens out",
               br->delivery_delay_seconds * 1e3);
    if (any_est)
        printf("\n* estimated: no measured table on any GPU served this part (roofline-v1 constant MFU)\n");
    if (!lat_step_model_measured_gpu(sm) && lat_step_model_table_gpu(sm))
        printf("\nnote: no kernel tables were measured on %s; its kernels are timed from %s's tables by the roofline "
               "rule (docs/latency.md): an estimate\n",
               hw->name, lat_step_model_table_gpu(sm));
    if (verbose && br->num_lookups) {
        printf("\nlookups:\n");
        for (guint i = 0; i < br->num_lookups; i++) {
            const LatLookup *l = &br->lookups[i];
            printf("  %-17s %-38s %9.3f ms  %s%s\n", l->component, l->what, l->seconds * 1e3,
                   l->estimated ? "* " : "", l->source);
        }
    }
}

int cmd_step(int argc, char **argv)
{
    char *model_name = NULL, *hw_name = NULL, *backend_name = NULL, *data_dir_flag = NULL, *data_dir = NULL;
    char **prefills = NULL, **decodes = NULL;
    char *model_config = NULL;
    gint tp = 1;
    double overhead_us = NAN;
    gboolean verbose = FALSE, json = FALSE;
    int code = 0;
    GError *error = NULL;
    LatModelDesc *model = NULL;
    LatHardwareTable *hwt = NULL;
    GPtrArray *dbs = g_ptr_array_new_with_free_func((GDestroyNotify)lat_mfu_db_free);
    LatStepModel *sm = NULL;
    ScnScenario *scn = scn_scenario_new_default();
    char *vllm_version = NULL, *otlp = NULL;
    char **params_set = NULL;
    gboolean async_on = FALSE, async_off = FALSE, eager = FALSE;
    gint max_num_seqs = 256;
    gint lora_adapters = 0, lora_loads = 0;
    gint64 kv_load = 0;
    BatchDesc batch = {0};
    ScnOptionFlags *optflags = scn_option_flags_new();
    LatModelDesc *served = NULL, *draft = NULL;
    guint draft_tp = 1;

    GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model_name,
         "model: a bundled name or Hugging Face id (servesim list models), or a config.json / model folder",
         "NAME|HF-ID|PATH"},
        {"model-config", 0, 0, G_OPTION_ARG_FILENAME, &model_config,
         "model from a Hugging Face config.json, or a local snapshot folder holding one", "PATH"},
        {"hardware", 0, 0, G_OPTION_ARG_STRING, &hw_name, "GPU name from data/hardware.json (default H100-SXM)",
         "NAME"},
        {"tensor-parallel-size", 0, 0, G_OPTION_ARG_INT, &tp, "tensor-parallel degree (default 1)", "N"},
        {"prefill", 0, 0, G_OPTION_ARG_STRING_ARRAY, &prefills,
         "a prefill chunk of T new tokens after P cached ones (repeatable); it samples a token", "T[@P]"},
        {"decode", 0, 0, G_OPTION_ARG_STRING_ARRAY, &decodes,
         "N decode requests, each with KV length KV (repeatable)", "NxKV"},
        {"latency-model", 0, 0, G_OPTION_ARG_STRING, &backend_name,
         "step-time model: roofline-v2, roofline-v1 or auto (default auto: roofline-v2 where MFU tables exist)",
         "NAME"},
        {"step-overhead-us", 0, 0, G_OPTION_ARG_DOUBLE, &overhead_us, "CPU time per step (microseconds)",
         "US"},
        {"latency-param", 0, 0, G_OPTION_ARG_STRING_ARRAY, &params_set,
         "set a step-time constant (repeatable; names in docs/latency.md)", "NAME=VALUE"},
        {"vllm-version", 0, 0, G_OPTION_ARG_STRING, &vllm_version,
         "vLLM version to behave like (default " SCN_DEFAULT_VLLM_VERSION ")", "X.Y"},
        {"async-scheduling", 0, 0, G_OPTION_ARG_NONE, &async_on, "step = max(GPU, CPU) (default from vLLM 0.14)",
         NULL},
        {"no-async-scheduling", 0, 0, G_OPTION_ARG_NONE, &async_off, "step = GPU + CPU", NULL},
        {"enforce-eager", 0, 0, G_OPTION_ARG_NONE, &eager, "no CUDA graphs", NULL},
        {"otlp-traces-endpoint", 0, 0, G_OPTION_ARG_STRING, &otlp, "the server exports OpenTelemetry traces", "URL"},
        {"max-num-seqs", 0, 0, G_OPTION_ARG_INT, &max_num_seqs,
         "sets the largest CUDA-graph size, min(2 x N, 512) (default 256)", "N"},
        {"lora-adapters", 0, 0, G_OPTION_ARG_INT, &lora_adapters,
         "with --enable-lora: every request of the step runs with one of N adapters", "N"},
        {"lora-loads", 0, 0, G_OPTION_ARG_INT, &lora_loads,
         "with --enable-lora: N adapters are read from disk and copied into GPU slots before the step", "N"},
        {"kv-load", 0, 0, G_OPTION_ARG_INT64, &kv_load,
         "with --kv-offloading-size: T tokens of KV are loaded from host memory in the step", "T"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "show which table rows served each lookup", NULL},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
        {"data-dir", 0, 0, G_OPTION_ARG_FILENAME, &data_dir_flag, "data directory", "DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- time one step of a model on a GPU");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, scn_option_flags_entries(optflags), NULL);
    g_option_context_set_description(
        ctx, "Examples:\n  servesim step --model llama-3.1-8b --prefill 4096\n"
             "  servesim step --model mixtral-8x7b-v0.1 --tensor-parallel-size 2 --decode 64x2048 --verbose\n");
    if (!cli_parse(ctx, &argc, &argv, "step", &code))
        goto out;
    if (argc > 1) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "unexpected argument '%s'", argv[1]);
        goto fail;
    }
    if (model_name && model_config) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--model and --model-config name the model twice: give one");
        goto fail;
    }
    if (model_config && !g_file_test(model_config, G_FILE_TEST_EXISTS)) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE,
                    "--model-config %s: no such file or folder (expected a config.json or a model folder)", model_config);
        goto fail;
    }
    if (model_config)
        model_name = g_strdup(model_config);
    if (!model_name) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--model (or --model-config) is required");
        goto fail;
    }
    if (tp < 1 || tp > 1024) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--tensor-parallel-size: expected 1 to 1024, got %d", tp);
        goto fail;
    }
    if (async_on && async_off) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--async-scheduling and --no-async-scheduling contradict each other");
        goto fail;
    }
    if (max_num_seqs < 1) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--max-num-seqs: expected a positive number");
        goto fail;
    }
    if (vllm_version) {
        guint v;
        if (!scn_vllm_version_parse(vllm_version, &v)) {
            g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--vllm-version '%s': expected a version such as 0.15.1",
                        vllm_version);
            goto fail;
        }
        g_free(scn->vllm_version);
        scn->vllm_version = g_strdup(vllm_version);
    }
    if (async_on || async_off)
        scn->async_scheduling = async_on ? 1 : 0;
    scn->enforce_eager = eager;
    if (otlp && *otlp)
        scn->otlp_traces_endpoint = g_strdup(otlp);
    for (char **p = params_set; p && *p; p++)
        if (!lat_params_set(&scn->latency, *p, &error))
            goto fail;
    LatParams params;
    if (backend_name && !lat_backend_parse(backend_name, &scn->latency.backend)) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--latency-model '%s': expected roofline-v2, roofline-v1 or auto",
                    backend_name);
        goto fail;
    }
    if (backend_name && (g_ascii_strcasecmp(backend_name, "v1") == 0 || g_ascii_strcasecmp(backend_name, "v2") == 0))
        fprintf(stderr, "servesim step: note: --latency-model %s is the old spelling of %s (it still works)\n",
                backend_name, lat_backend_name(scn->latency.backend));
    if (!isnan(overhead_us)) {
        if (!(overhead_us >= 0) || !isfinite(overhead_us)) {
            g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--step-overhead-us: expected a non-negative number");
            goto fail;
        }
        scn->latency.step_overhead_us = overhead_us;
    }
    scn->tensor_parallel_size = (guint)tp;
    if (!scn_option_flags_apply(optflags, scn, &error))
        goto fail;
    if (lora_adapters < 0 || lora_loads < 0 || kv_load < 0 || kv_load > G_MAXUINT32) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--lora-adapters, --lora-loads, --kv-load: expected counts >= 0");
        goto fail;
    }
    if ((lora_adapters || lora_loads) && !scn->options.enable_lora) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--lora-adapters and --lora-loads need --enable-lora");
        goto fail;
    }
    if (lora_loads > lora_adapters) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--lora-loads (%d) cannot exceed --lora-adapters (%d)",
                    lora_loads, lora_adapters);
        goto fail;
    }
    if (kv_load && scn->options.kv_offloading_size <= 0) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "--kv-load needs --kv-offloading-size");
        goto fail;
    }
    scn_engine_resolve(scn, (guint)max_num_seqs, &params, NULL);
    guint spec_k = scn->options.speculative ? scn->options.num_speculative_tokens : 0;

    guint64 entries_n = 0, tokens = 0;
    for (char **p = prefills; p && *p; p++) {
        guint32 t, c;
        if (!parse_prefill(*p, &t, &c, &error))
            goto fail;
        entries_n++;
        tokens += t;
    }
    for (char **d = decodes; d && *d; d++) {
        guint32 n, kv;
        if (!parse_decode(*d, &n, &kv, &error))
            goto fail;
        entries_n += n;
        tokens += (guint64)n * (1 + spec_k);
    }
    if (entries_n == 0) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "nothing to time: give --prefill T[@P] and/or --decode NxKV");
        goto fail;
    }
    if (entries_n > (1u << 22) || tokens > G_MAXUINT32) {
        g_set_error(&error, SS_ERROR, SS_ERROR_USAGE, "the step is too large (%" G_GUINT64_FORMAT " requests, %"
                    G_GUINT64_FORMAT " tokens)", entries_n, tokens);
        goto fail;
    }
    if (!batch_desc_reserve(&batch, (uint32_t)entries_n)) {
        g_set_error(&error, SS_ERROR, SS_ERROR_SIM, "out of memory");
        goto fail;
    }
    for (char **p = prefills; p && *p; p++) {
        guint32 t, c;
        parse_prefill(*p, &t, &c, NULL);
        batch_desc_push(&batch, t, c, true);
    }
    for (char **d = decodes; d && *d; d++) {
        guint32 n, kv;
        parse_decode(*d, &n, &kv, NULL);
        for (guint32 i = 0; i < n; i++) {
            if (spec_k)
                batch_desc_push_spec(&batch, spec_k, kv - 1);
            else
                batch_desc_push(&batch, 1, kv - 1, true);
        }
    }
    if (lora_adapters > 0) {
        batch.lora_tokens = batch.total_tokens;
        batch.lora_adapters = MIN((guint)lora_adapters, (guint)batch.num_entries);
        batch.lora_loads = batch.lora_disk_loads = (uint32_t)lora_loads;
    }
    batch.kv_load_tokens = (uint64_t)kv_load;

    data_dir = cli_data_dir("step", data_dir_flag);
    if (!data_dir) {
        code = 3;
        goto out;
    }
    model = lat_model_desc_load(model_name, data_dir, &error);
    if (!model)
        goto fail;
    if (!scn_options_prepare_model(scn, data_dir, model, &served, &draft, &draft_tp, &error))
        goto fail;
    const LatModelDesc *as_served = served ? served : model;
    hwt = lat_hardware_table_load(data_dir, NULL, &error);
    if (!hwt)
        goto fail;
    const LatHardware *hw = lat_hardware_table_find(hwt, hw_name ? hw_name : "H100-SXM", &error);
    if (!hw)
        goto fail;
    LatTableSource sources[SCN_MAX_SOURCES];
    guint nsrc = 0;
    if (params.backend != LAT_BACKEND_ROOFLINE_V1) {
        const LatHardware *donors[SCN_MAX_SOURCES];
        guint nd = lat_hardware_table_donors(hwt, hw, donors, SCN_MAX_SOURCES);
        for (guint i = 0; i < nd; i++) {
            LatMfuDb *db = lat_mfu_db_load(data_dir, donors[i]->mfu_tables, &error);
            if (!db)
                goto fail;
            g_ptr_array_add(dbs, db);
            sources[nsrc++] = (LatTableSource){donors[i], db};
        }
    }
    sm = lat_step_model_new(as_served, hw, (guint)tp, sources, nsrc, &params, (guint)MIN(tokens, (guint64)G_MAXUINT),
                            &error);
    if (!sm || !scn_options_attach(scn, sm, draft, draft_tp, hw, sources, nsrc, &params,
                                   (guint)MIN(tokens, (guint64)G_MAXUINT), &error))
        goto fail;
    LatBreakdown br;
    lat_step_model_breakdown(sm, &batch, &br);
    if (json)
        print_json(as_served, hw, (guint)tp, &batch, &br, verbose, sm);
    else
        print_text(as_served, hw, (guint)tp, &batch, &br, verbose, sm);
    code = 0;
    goto out;

fail:
    code = cli_fail("step", error);
    error = NULL;
out:
    lat_step_model_free(sm);
    lat_model_desc_free(served);
    lat_model_desc_free(draft);
    scn_option_flags_free(optflags);
    g_ptr_array_free(dbs, TRUE);
    scn_scenario_free(scn);
    g_free(vllm_version);
    g_free(otlp);
    g_strfreev(params_set);
    lat_hardware_table_free(hwt);
    lat_model_desc_free(model);
    batch_desc_release(&batch);
    g_option_context_free(ctx);
    g_free(model_name);
    g_free(hw_name);
    g_free(backend_name);
    g_free(model_config);
    g_free(data_dir_flag);
    g_free(data_dir);
    g_strfreev(prefills);
    g_strfreev(decodes);
    return code;
}
