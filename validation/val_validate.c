/*
 * val_validate.c: measured runs of real servers, replayed and compared (see
 * val_validate.h). Each point is simulated as a trace replay of its request
 * CSV over a scenario built from the experiment's engine settings.
 */
#include "val_validate.h"

#include <math.h>
#include <string.h>

#include "scn_json.h"
#include "scn_options.h"
#include "ss_error.h"

static const struct {
    const char *name;
    const char *label;
} metric_names[VAL_NUM_METRICS] = {
    {"ttft_mean", "TTFT mean"}, {"ttft_p50", "TTFT p50"}, {"ttft_p90", "TTFT p90"}, {"ttft_p99", "TTFT p99"},
    {"tpot_mean", "TPOT mean"}, {"tpot_p50", "TPOT p50"}, {"tpot_p90", "TPOT p90"}, {"tpot_p99", "TPOT p99"},
    {"e2e_mean", "E2E mean"},   {"e2e_p50", "E2E p50"},   {"e2e_p90", "E2E p90"},   {"e2e_p99", "E2E p99"},
    {"output_throughput", "out tok/s"},
};

const char *val_metric_name(ValMetric m) { return metric_names[m].name; }
const char *val_metric_label(ValMetric m) { return metric_names[m].label; }

static void point_free(gpointer p)
{
    ValPoint *pt = p;
    g_free(pt->name);
    g_free(pt->requests_path);
    g_free(pt->excluded);
    g_free(pt);
}

void val_point_free(gpointer p)
{
    point_free(p);
}

void val_experiment_free(ValExperiment *e)
{
    if (!e)
        return;
    g_free(e->name);
    g_free(e->dir);
    g_free(e->hardware);
    g_free(e->model);
    g_free(e->vllm_version);
    scn_scenario_free(e->deployment);
    scn_options_clear(&e->options);
    if (e->points)
        g_ptr_array_free(e->points, TRUE);
    g_free(e);
}

/* measured.<group>.<stat> into p->measured[m] when present */
static gboolean get_measured(const cJSON *measured, const char *group, const char *stat, const char *path,
                             const char *origin, ValPoint *p, ValMetric m, GError **error)
{
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(measured, group);
    if (!g)
        return TRUE;
    char *gpath = g_strdup_printf("%s.%s", path, group);
    double v = NAN;
    gboolean ok = scn_json_get_double(g, stat, gpath, origin, 0, INFINITY, FALSE, &v, error);
    g_free(gpath);
    if (ok && !isnan(v)) {
        p->measured[m] = v;
        p->has_measured[m] = TRUE;
    }
    return ok;
}

static gboolean get_guint_field(const cJSON *o, const char *key, const char *path, const char *origin, guint64 min,
                                guint *out, GError **error)
{
    guint64 v = *out;
    if (!scn_json_get_uint(o, key, path, origin, min, G_MAXUINT32, &v, error))
        return FALSE;
    *out = (guint)v;
    return TRUE;
}

static gboolean require(const cJSON *o, const char *key, const char *path, const char *origin, GError **error)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key))
        return TRUE;
    g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s%s%s: missing", origin, path, *path ? "." : "", key);
    return FALSE;
}

/* "aggregates" of an aggregate-only experiment (one point whose request rows
 * carry no timings): measured_tpot_ms with tpot_definition "ratio_of_means"
 * becomes the TPOT mean of its single point. */
static gboolean read_aggregates(const cJSON *root, const char *path, ValExperiment *e, GError **error)
{
    const cJSON *ag = cJSON_GetObjectItemCaseSensitive(root, "aggregates");
    if (!ag || cJSON_IsNull(ag))
        return TRUE;
    if (!cJSON_IsObject(ag)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: aggregates: expected an object", path);
        return FALSE;
    }
    double tpot = NAN;
    char *def = NULL;
    if (!scn_json_get_double(ag, "measured_tpot_ms", "aggregates", path, 0, INFINITY, TRUE, &tpot, error) ||
        !scn_json_get_string(ag, "tpot_definition", "aggregates", path, &def, error))
        return FALSE;
    gboolean ok = TRUE;
    if (!isnan(tpot)) {
        if (!def || strcmp(def, "ratio_of_means") != 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: aggregates.tpot_definition: expected \"ratio_of_means\" with measured_tpot_ms, got %s%s%s",
                        path, def ? "'" : "", def ? def : "nothing", def ? "'" : "");
            ok = FALSE;
        } else if (e->points->len != 1) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: aggregates.measured_tpot_ms: expected exactly one point (found %u)", path,
                        e->points->len);
            ok = FALSE;
        } else {
            ValPoint *p = g_ptr_array_index(e->points, 0);
            p->measured[VAL_TPOT_MEAN] = tpot;
            p->has_measured[VAL_TPOT_MEAN] = TRUE;
            p->tpot_ratio_of_means = TRUE;
        }
    }
    g_free(def);
    return ok;
}

ValExperiment *val_experiment_load(const char *dir, GError **error)
{
    char *path = g_build_filename(dir, "experiment.json", NULL);
    ValExperiment *e = NULL;
    cJSON *root = NULL;
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: not an experiment folder (expected a folder with experiment.json)",
                    dir);
        goto fail;
    }
    root = scn_json_parse_file(path, error);
    if (!root)
        goto fail;
    e = g_new0(ValExperiment, 1);
    scn_options_init(&e->options);
    e->dir = g_strdup(dir);
    e->points = g_ptr_array_new_with_free_func(point_free);
    e->tensor_parallel_size = 1;
    e->block_size = 16;
    e->gpu_memory_utilization = 0.9;
    if (!require(root, "hardware", "", path, error) || !require(root, "model", "", path, error) ||
        !require(root, "engine", "", path, error) || !require(root, "points", "", path, error))
        goto fail;
    char *base = g_path_get_basename(dir);
    e->name = base;
    if (!scn_json_get_string(root, "name", "", path, &e->name, error) ||
        !scn_json_get_string(root, "hardware", "", path, &e->hardware, error) ||
        !scn_json_get_string(root, "model", "", path, &e->model, error))
        goto fail;
    const cJSON *eng = cJSON_GetObjectItemCaseSensitive(root, "engine");
    if (!cJSON_IsObject(eng)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: engine: expected an object", path);
        goto fail;
    }
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(eng, "num_gpu_blocks");
    if (!require(eng, "max_num_seqs", "engine", path, error) ||
        !require(eng, "max_num_batched_tokens", "engine", path, error) ||
        !require(eng, "max_model_len", "engine", path, error) ||
        !scn_json_get_string(eng, "vllm_version", "engine", path, &e->vllm_version, error) ||
        !get_guint_field(eng, "tensor_parallel_size", "engine", path, 1, &e->tensor_parallel_size, error) ||
        !get_guint_field(eng, "max_num_seqs", "engine", path, 1, &e->max_num_seqs, error) ||
        !get_guint_field(eng, "max_num_batched_tokens", "engine", path, 1, &e->max_num_batched_tokens, error) ||
        !get_guint_field(eng, "max_model_len", "engine", path, 2, &e->max_model_len, error) ||
        !get_guint_field(eng, "long_prefill_token_threshold", "engine", path, 0, &e->long_prefill_token_threshold,
                         error) ||
        !scn_json_get_bool(eng, "enable_prefix_caching", "engine", path, &e->enable_prefix_caching, error) ||
        !get_guint_field(eng, "block_size", "engine", path, 1, &e->block_size, error) ||
        !scn_json_get_double(eng, "gpu_memory_utilization", "engine", path, 0, 1, TRUE, &e->gpu_memory_utilization,
                             error) ||
        !scn_json_get_bool(eng, "otlp_tracing", "engine", path, &e->otlp_tracing, error))
        goto fail;
    guint version_code;
    if (e->vllm_version && !scn_vllm_version_parse(e->vllm_version, &version_code)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: engine.vllm_version: expected a version such as \"0.15.1\", got \"%s\"",
                    path, e->vllm_version);
        goto fail;
    }
    if (blocks && !cJSON_IsNull(blocks) &&
        !get_guint_field(eng, "num_gpu_blocks", "engine", path, 2, &e->num_gpu_blocks, error))
        goto fail;
    if (!scn_options_apply_engine(&e->options, eng, path, error))
        goto fail;

    const cJSON *points = cJSON_GetObjectItemCaseSensitive(root, "points");
    if (!cJSON_IsArray(points) || cJSON_GetArraySize(points) == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: points: expected a non-empty array", path);
        goto fail;
    }
    int i = 0;
    for (const cJSON *pj = points->child; pj; pj = pj->next, i++) {
        char *ppath = g_strdup_printf("points[%d]", i);
        ValPoint *p = g_new0(ValPoint, 1);
        g_ptr_array_add(e->points, p);
        char *req = NULL;
        gboolean ok = require(pj, "requests", ppath, path, error) &&
                      scn_json_get_string(pj, "name", ppath, path, &p->name, error) &&
                      scn_json_get_string(pj, "requests", ppath, path, &req, error);
        if (ok) {
            if (!p->name)
                p->name = g_strdup_printf("p%02d", i);
            p->requests_path = g_path_is_absolute(req) ? g_strdup(req) : g_build_filename(dir, req, NULL);
            const cJSON *m = cJSON_GetObjectItemCaseSensitive(pj, "measured");
            char *mpath = g_strdup_printf("%s.measured", ppath);
            if (!cJSON_IsObject(m)) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected an object", path, mpath);
                ok = FALSE;
            }
            double thr = NAN;
            ok = ok && get_measured(m, "ttft_ms", "mean", mpath, path, p, VAL_TTFT_MEAN, error) &&
                 get_measured(m, "ttft_ms", "p50", mpath, path, p, VAL_TTFT_P50, error) &&
                 get_measured(m, "ttft_ms", "p90", mpath, path, p, VAL_TTFT_P90, error) &&
                 get_measured(m, "ttft_ms", "p99", mpath, path, p, VAL_TTFT_P99, error) &&
                 get_measured(m, "tpot_ms", "mean", mpath, path, p, VAL_TPOT_MEAN, error) &&
                 get_measured(m, "tpot_ms", "p50", mpath, path, p, VAL_TPOT_P50, error) &&
                 get_measured(m, "tpot_ms", "p90", mpath, path, p, VAL_TPOT_P90, error) &&
                 get_measured(m, "tpot_ms", "p99", mpath, path, p, VAL_TPOT_P99, error) &&
                 get_measured(m, "e2e_ms", "mean", mpath, path, p, VAL_E2E_MEAN, error) &&
                 get_measured(m, "e2e_ms", "p50", mpath, path, p, VAL_E2E_P50, error) &&
                 get_measured(m, "e2e_ms", "p90", mpath, path, p, VAL_E2E_P90, error) &&
                 get_measured(m, "e2e_ms", "p99", mpath, path, p, VAL_E2E_P99, error) &&
                 get_guint_field(m, "num_requests", mpath, path, 0, &p->num_requests, error) &&
                 scn_json_get_double(m, "output_throughput_tok_s", mpath, path, 0, INFINITY, FALSE, &thr, error);
            if (ok && !isnan(thr)) {
                p->measured[VAL_OUTPUT_THROUGHPUT] = thr;
                p->has_measured[VAL_OUTPUT_THROUGHPUT] = TRUE;
            }
            p->has_num_requests = ok && cJSON_GetObjectItemCaseSensitive(m, "num_requests") != NULL;
            g_free(mpath);
        }
        g_free(req);
        g_free(ppath);
        if (!ok)
            goto fail;
        if (!g_file_test(p->requests_path, G_FILE_TEST_IS_REGULAR)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: points[%d].requests: no file %s", path, i,
                        p->requests_path);
            goto fail;
        }
    }
    if (!read_aggregates(root, path, e, error))
        goto fail;
    cJSON_Delete(root);
    g_free(path);
    return e;
fail:
    cJSON_Delete(root);
    val_experiment_free(e);
    g_free(path);
    return NULL;
}

/* The scenario of one point: the experiment's deployment replaying the point's requests. */
static ScnScenario *point_scenario(const ValExperiment *e, const ValPoint *p, const LatParams *latency)
{
    ScnScenario *s = e->deployment ? scn_scenario_copy(e->deployment) : scn_scenario_new_default();
    g_free(s->name);
    s->name = g_strdup_printf("%s/%s", e->name, p->name);
    g_free(s->model);
    s->model = g_strdup(e->model);
    g_free(s->hardware);
    s->hardware = g_strdup(e->hardware);
    s->tensor_parallel_size = e->tensor_parallel_size;
    s->max_num_seqs = e->max_num_seqs;
    s->max_num_batched_tokens = e->max_num_batched_tokens;
    s->max_model_len = e->max_model_len;
    s->block_size = e->block_size;
    s->gpu_memory_utilization = e->gpu_memory_utilization;
    s->num_gpu_blocks_override = e->num_gpu_blocks;
    s->long_prefill_token_threshold = e->long_prefill_token_threshold;
    s->enable_prefix_caching = e->enable_prefix_caching;
    if (e->vllm_version) {
        g_free(s->vllm_version);
        s->vllm_version = g_strdup(e->vllm_version);
    }
    if (e->otlp_tracing)
        s->otlp_traces_endpoint = g_strdup("(traced)");
    scn_options_clear(&s->options);
    scn_options_copy(&s->options, &e->options);
    s->latency = *latency;
    wl_spec_clear(&s->workload);
    s->is_trace = TRUE;
    s->trace_path = g_strdup(p->requests_path);
    wl_trace_options_init(&s->trace);
    s->trace.format = p->trace_format != WL_TRACE_AUTO ? p->trace_format : WL_TRACE_NATIVE;
    return s;
}

/* Checks a simulated point against what its experiment says: the measured
 * request count must be the CSV's (an error otherwise: the folder is
 * inconsistent); a point whose simulation has no rows, completes nothing or
 * rejects requests compares different workloads, so it is marked excluded
 * (with the reason) rather than averaged into the MAPE. */
static gboolean check_point(const ValExperiment *e, guint index, ValPoint *p, const SimSummary *sum, GError **error)
{
    const SimClassSummary *a = &sum->all;
    p->sim_arrived = a->arrived;
    p->sim_completed = a->completed;
    if (p->has_num_requests && p->num_requests != a->arrived) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s/experiment.json: points[%u].measured.num_requests: expected the %" G_GUINT64_FORMAT
                    " requests of %s, got %u", e->dir, index, a->arrived, p->requests_path, p->num_requests);
        return FALSE;
    }
    g_clear_pointer(&p->excluded, g_free);
    if (a->arrived == 0)
        p->excluded = g_strdup_printf("%s has no request rows", p->requests_path);
    else if (a->completed == 0)
        p->excluded = g_strdup_printf("no request completed in the simulation (%" G_GUINT64_FORMAT " rejected)",
                                      a->rejected);
    else if (a->rejected > 0)
        p->excluded = g_strdup_printf("%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " requests rejected in the "
                                      "simulation (longer than max_model_len or than the KV cache)",
                                      a->rejected, a->arrived);
    return TRUE;
}

gboolean val_point_simulate(const ValExperiment *e, ValPoint *p, ScnCache *cache, const LatParams *latency,
                            guint *sim_blocks, GError **error)
{
    ScnScenario *s = point_scenario(e, p, latency);
    ScnBuilt b;
    GError *err = NULL;
    SimSummary *sum = scn_run(s, cache, NULL, &b, &err);
    scn_scenario_free(s);
    if (!sum) {
        g_set_error(error, err->domain, err->code, "%s, point %s: %s", e->name, p->name, err->message);
        g_error_free(err);
        return FALSE;
    }
    if (sim_blocks)
        *sim_blocks = b.sched.num_gpu_blocks;
    const SimClassSummary *a = &sum->all;
    const SimStats *st[3] = {&a->ttft_ms, &a->tpot_ms, &a->e2e_ms};
    const ValMetric first[3] = {VAL_TTFT_MEAN, VAL_TPOT_MEAN, VAL_E2E_MEAN}; /* then p50, p90, p99 */
    for (int k = 0; k < 3; k++) {
        p->simulated[first[k]] = st[k]->mean;
        p->simulated[first[k] + 1] = st[k]->p50;
        p->simulated[first[k] + 2] = st[k]->p90;
        p->simulated[first[k] + 3] = st[k]->p99;
    }
    if (p->tpot_ratio_of_means) {
        double mean_out = a->completed ? (double)a->output_tokens / (double)a->completed : 0;
        p->simulated[VAL_TPOT_MEAN] = mean_out > 1 ? (a->e2e_ms.mean - a->ttft_ms.mean) / (mean_out - 1) : NAN;
    }
    p->simulated[VAL_OUTPUT_THROUGHPUT] = a->output_tokens_per_s;
    p->sim_preemptions = sum->preemptions;
    p->sim_rejected = a->rejected;
    p->sim_kv_usage_peak = sum->kv_usage_peak;
    p->sim_estimated = lat_step_model_estimated(b.step);
    p->sim_transferred = !lat_step_model_measured_gpu(b.step);
    guint index = 0;
    while (index < e->points->len && g_ptr_array_index(e->points, index) != p)
        index++;
    gboolean ok = check_point(e, index, p, sum, error);
    sim_summary_free(sum);
    scn_built_clear(&b);
    if (!ok)
        return FALSE;
    return TRUE;
}

gboolean val_experiment_simulate(ValExperiment *e, ScnCache *cache, const LatParams *latency, GError **error)
{
    for (guint i = 0; i < e->points->len; i++)
        if (!val_point_simulate(e, g_ptr_array_index(e->points, i), cache, latency, &e->sim_num_gpu_blocks, error))
            return FALSE;
    return TRUE;
}

double val_point_error(const ValPoint *p, ValMetric m)
{
    if (!p->has_measured[m] || p->measured[m] == 0 || p->excluded)
        return NAN;
    return 100.0 * (p->simulated[m] - p->measured[m]) / p->measured[m];
}

guint val_num_excluded(ValExperiment *const *exps, guint n)
{
    guint count = 0;
    for (guint k = 0; k < n; k++)
        for (guint i = 0; i < exps[k]->points->len; i++)
            count += ((const ValPoint *)g_ptr_array_index(exps[k]->points, i))->excluded != NULL;
    return count;
}

void val_mape(ValExperiment *const *exps, guint n, double mape[VAL_NUM_METRICS])
{
    for (int m = 0; m < VAL_NUM_METRICS; m++) {
        double sum = 0;
        guint count = 0;
        for (guint k = 0; k < n; k++)
            for (guint i = 0; i < exps[k]->points->len; i++) {
                double err = val_point_error(g_ptr_array_index(exps[k]->points, i), (ValMetric)m);
                if (!isnan(err)) {
                    sum += fabs(err);
                    count++;
                }
            }
        mape[m] = count ? sum / count : NAN;
    }
}

static void print_value(FILE *out, double v, gboolean percent)
{
    if (isnan(v))
        fprintf(out, " %10s", "-");
    else if (percent)
        fprintf(out, " %+9.1f%%", v);
    else if (fabs(v) >= 1000)
        fprintf(out, " %10.0f", v);
    else
        fprintf(out, " %10.2f", v);
}

static void print_header(FILE *out, const char *first)
{
    fprintf(out, "  %-26s", first);
    for (int m = 0; m < VAL_NUM_METRICS; m++)
        fprintf(out, " %10s", val_metric_label((ValMetric)m));
    fputc('\n', out);
}

static void print_mape_row(FILE *out, const char *label, const double mape[VAL_NUM_METRICS])
{
    fprintf(out, "  %-26s", label);
    for (int m = 0; m < VAL_NUM_METRICS; m++) {
        if (isnan(mape[m]))
            fprintf(out, " %10s", "-");
        else
            fprintf(out, " %9.1f%%", mape[m]);
    }
    fputc('\n', out);
}

/* "step times measured on H100-SXM; in sample: step_overhead_us was fitted on this run" */
static void experiment_sample(const ValExperiment *e, char *buf, gsize len)
{
    const char *names[4];
    guint n = lat_params_fitted_on(e->name, names, 4);
    const ValPoint *p = e->points->len ? g_ptr_array_index(e->points, 0) : NULL;
    const char *basis = !p ? "" : p->sim_estimated ? "step times estimated (no tables)" : p->sim_transferred
                                                      ? "step times transferred from another GPU's tables"
                                                      : "step times from tables measured on this GPU";
    if (n == 0) {
        g_snprintf(buf, len, "%s; out of sample: no default constant was fitted on this run", basis);
        return;
    }
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < n; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "", names[i]);
    g_snprintf(buf, len, "%s; in sample: %s fitted on this run", basis, s->str);
    g_string_free(s, TRUE);
}

void val_validate_print(FILE *out, ValExperiment *const *exps, guint n, const char *backend_name)
{
    fprintf(out, "servesim validate: %u experiment%s, %s step model (times in ms)\n", n, n == 1 ? "" : "s",
            backend_name);
    for (guint k = 0; k < n; k++) {
        const ValExperiment *e = exps[k];
        fprintf(out, "\n%s: %s, %s, TP %u, vLLM %s; max_num_seqs %u, max_num_batched_tokens %u, %u KV blocks (%s)\n",
                e->name, e->hardware, e->model, e->tensor_parallel_size, e->vllm_version ? e->vllm_version : "?",
                e->max_num_seqs, e->max_num_batched_tokens, e->sim_num_gpu_blocks,
                e->num_gpu_blocks ? "logged" : "estimated");
        char sample[160];
        experiment_sample(e, sample, sizeof sample);
        fprintf(out, "  %s\n", sample);
        print_header(out, "point");
        for (guint i = 0; i < e->points->len; i++) {
            const ValPoint *p = g_ptr_array_index(e->points, i);
            char label[64];
            g_snprintf(label, sizeof label, "%.18s (%u) meas", p->name, p->num_requests);
            fprintf(out, "  %-26s", label);
            for (int m = 0; m < VAL_NUM_METRICS; m++)
                print_value(out, p->has_measured[m] ? p->measured[m] : NAN, FALSE);
            fprintf(out, "\n  %-26s", "                      sim");
            for (int m = 0; m < VAL_NUM_METRICS; m++)
                print_value(out, p->simulated[m], FALSE);
            fprintf(out, "\n  %-26s", "                      err");
            for (int m = 0; m < VAL_NUM_METRICS; m++)
                print_value(out, val_point_error(p, (ValMetric)m), TRUE);
            if (p->sim_preemptions)
                fprintf(out, "   (%" G_GUINT64_FORMAT " preemptions simulated)", p->sim_preemptions);
            fputc('\n', out);
            if (p->excluded)
                fprintf(out, "  note: %s left out of the MAPE: %s\n", p->name, p->excluded);
        }
        double mape[VAL_NUM_METRICS];
        val_mape((ValExperiment *const *)&exps[k], 1, mape);
        print_mape_row(out, "MAPE", mape);
    }
    if (n > 1) {
        double mape[VAL_NUM_METRICS];
        val_mape(exps, n, mape);
        guint points = 0, excluded = val_num_excluded(exps, n);
        for (guint k = 0; k < n; k++)
            points += exps[k]->points->len;
        fprintf(out, "\nmean absolute percentage error over all %u points", points);
        if (excluded)
            fprintf(out, " (%u left out: see the notes)", excluded);
        fputc('\n', out);
        print_header(out, "");
        print_mape_row(out, "MAPE", mape);
        ValSummary sm;
        val_summary(exps, n, &sm);
        print_mape_row(out, "MAPE, runs averaged", sm.by_run);
        char label[64];
        if (sm.runs_out > 0 && sm.runs_in > 0) {
            g_snprintf(label, sizeof label, "out of sample (%u runs)", sm.runs_out);
            print_mape_row(out, label, sm.out_of_sample);
            g_snprintf(label, sizeof label, "in sample (%u runs)", sm.runs_in);
            print_mape_row(out, label, sm.in_sample);
        }
    }
}

void val_summary(ValExperiment *const *exps, guint n, ValSummary *out)
{
    memset(out, 0, sizeof *out);
    ValExperiment **in = g_new(ValExperiment *, n), **outs = g_new(ValExperiment *, n);
    double sum[VAL_NUM_METRICS] = {0};
    guint cnt[VAL_NUM_METRICS] = {0};
    for (guint k = 0; k < n; k++) {
        const char *names[4];
        if (lat_params_fitted_on(exps[k]->name, names, 4) > 0)
            in[out->runs_in++] = exps[k];
        else
            outs[out->runs_out++] = exps[k];
        double m[VAL_NUM_METRICS];
        val_mape(&exps[k], 1, m);
        for (int j = 0; j < VAL_NUM_METRICS; j++)
            if (!isnan(m[j])) {
                sum[j] += m[j];
                cnt[j]++;
            }
    }
    for (int j = 0; j < VAL_NUM_METRICS; j++)
        out->by_run[j] = cnt[j] ? sum[j] / cnt[j] : NAN;
    val_mape(in, out->runs_in, out->in_sample);
    val_mape(outs, out->runs_out, out->out_of_sample);
    g_free(in);
    g_free(outs);
}

static void md_cell(FILE *out, double v, gboolean percent)
{
    if (isnan(v))
        fputs(" - |", out);
    else if (percent)
        fprintf(out, " %+.1f%% |", v);
    else if (fabs(v) >= 1000)
        fprintf(out, " %.0f |", v);
    else
        fprintf(out, " %.2f |", v);
}

static void md_header(FILE *out)
{
    fputs("| point | n | |", out);
    for (int m = 0; m < VAL_NUM_METRICS; m++)
        fprintf(out, " %s |", val_metric_label((ValMetric)m));
    fputs("\n|---|---|---|", out);
    for (int m = 0; m < VAL_NUM_METRICS; m++)
        fputs("---|", out);
    fputc('\n', out);
}

static void md_mape_row(FILE *out, const char *label, const double mape[VAL_NUM_METRICS])
{
    fprintf(out, "| **%s** | | |", label);
    for (int m = 0; m < VAL_NUM_METRICS; m++) {
        if (isnan(mape[m]))
            fputs(" - |", out);
        else
            fprintf(out, " **%.1f%%** |", mape[m]);
    }
    fputc('\n', out);
}

void val_validate_markdown(FILE *out, ValExperiment *const *exps, guint n, const char *backend_name)
{
    fprintf(out, "Step model: %s. Times in ms, throughput in output tokens/s; error = (simulated - measured) / "
                 "measured.\n",
            backend_name);
    for (guint k = 0; k < n; k++) {
        const ValExperiment *e = exps[k];
        fprintf(out, "\n### %s\n\n%s, %s, TP %u, vLLM %s; max_num_seqs %u, max_num_batched_tokens %u, %u KV blocks "
                     "(%s)\n\n",
                e->name, e->hardware, e->model, e->tensor_parallel_size, e->vllm_version ? e->vllm_version : "?",
                e->max_num_seqs, e->max_num_batched_tokens, e->sim_num_gpu_blocks,
                e->num_gpu_blocks ? "logged" : "estimated");
        char sample[160];
        experiment_sample(e, sample, sizeof sample);
        sample[0] = g_ascii_toupper(sample[0]);
        fprintf(out, "%s.\n\n", sample);
        md_header(out);
        for (guint i = 0; i < e->points->len; i++) {
            const ValPoint *p = g_ptr_array_index(e->points, i);
            fprintf(out, "| %s | %u | measured |", p->name, p->num_requests);
            for (int m = 0; m < VAL_NUM_METRICS; m++)
                md_cell(out, p->has_measured[m] ? p->measured[m] : NAN, FALSE);
            fputs("\n| | | simulated |", out);
            for (int m = 0; m < VAL_NUM_METRICS; m++)
                md_cell(out, p->simulated[m], FALSE);
            fputs("\n| | | error |", out);
            for (int m = 0; m < VAL_NUM_METRICS; m++)
                md_cell(out, val_point_error(p, (ValMetric)m), TRUE);
            fputc('\n', out);
            if (p->excluded)
                fprintf(out, "| | | *left out of the MAPE: %s* |\n", p->excluded);
        }
        double mape[VAL_NUM_METRICS];
        val_mape((ValExperiment *const *)&exps[k], 1, mape);
        md_mape_row(out, "MAPE", mape);
    }
    double mape[VAL_NUM_METRICS];
    val_mape(exps, n, mape);
    guint points = 0, excluded = val_num_excluded(exps, n);
    for (guint k = 0; k < n; k++)
        points += exps[k]->points->len;
    fprintf(out, "\n### All %u points\n\n", points);
    if (excluded)
        fprintf(out, "%u point%s left out of the MAPE (see the notes above).\n\n", excluded, excluded == 1 ? "" : "s");
    fputs("| | |", out);
    for (int m = 0; m < VAL_NUM_METRICS; m++)
        fprintf(out, " %s |", val_metric_label((ValMetric)m));
    fputs("\n|---|---|", out);
    for (int m = 0; m < VAL_NUM_METRICS; m++)
        fputs("---|", out);
    fputs("\n| **MAPE, all points** | |", out);
    for (int m = 0; m < VAL_NUM_METRICS; m++)
        fprintf(out, " **%.1f%%** |", mape[m]);
    ValSummary sm;
    val_summary(exps, n, &sm);
    const struct {
        const char *label;
        const double *v;
        guint runs;
    } rows[] = {{"MAPE, runs averaged", sm.by_run, n},
                {"out of sample (no default constant fitted on these runs)", sm.out_of_sample, sm.runs_out},
                {"in sample (a default constant fitted on these runs)", sm.in_sample, sm.runs_in}};
    for (guint r = 0; r < G_N_ELEMENTS(rows); r++) {
        if (rows[r].runs == 0)
            continue;
        fprintf(out, "\n| %s | %u runs |", rows[r].label, rows[r].runs);
        for (int m = 0; m < VAL_NUM_METRICS; m++) {
            if (isnan(rows[r].v[m]))
                fputs(" - |", out);
            else
                fprintf(out, " %.1f%% |", rows[r].v[m]);
        }
    }
    fputc('\n', out);
}

static void add_metrics(cJSON *obj, const char *name, const double v[VAL_NUM_METRICS], const gboolean *has)
{
    cJSON *o = cJSON_AddObjectToObject(obj, name);
    for (int m = 0; m < VAL_NUM_METRICS; m++) {
        if ((has && !has[m]) || isnan(v[m]))
            cJSON_AddNullToObject(o, val_metric_name((ValMetric)m));
        else
            cJSON_AddNumberToObject(o, val_metric_name((ValMetric)m), v[m]);
    }
}

char *val_validate_json(ValExperiment *const *exps, guint n, const char *backend_name)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "servesim.validate/1");
    cJSON_AddStringToObject(root, "latency_model", backend_name);
    double mape[VAL_NUM_METRICS];
    val_mape(exps, n, mape);
    add_metrics(root, "mape", mape, NULL);
    cJSON *arr = cJSON_AddArrayToObject(root, "experiments");
    for (guint k = 0; k < n; k++) {
        const ValExperiment *e = exps[k];
        cJSON *eo = cJSON_CreateObject();
        cJSON_AddStringToObject(eo, "name", e->name);
        cJSON_AddStringToObject(eo, "hardware", e->hardware);
        cJSON_AddStringToObject(eo, "model", e->model);
        cJSON_AddNumberToObject(eo, "tensor_parallel_size", e->tensor_parallel_size);
        cJSON_AddNumberToObject(eo, "num_gpu_blocks", e->sim_num_gpu_blocks);
        cJSON_AddBoolToObject(eo, "num_gpu_blocks_logged", e->num_gpu_blocks != 0);
        double emape[VAL_NUM_METRICS];
        val_mape((ValExperiment *const *)&exps[k], 1, emape);
        add_metrics(eo, "mape", emape, NULL);
        cJSON *pts = cJSON_AddArrayToObject(eo, "points");
        for (guint i = 0; i < e->points->len; i++) {
            const ValPoint *p = g_ptr_array_index(e->points, i);
            cJSON *po = cJSON_CreateObject();
            cJSON_AddStringToObject(po, "name", p->name);
            cJSON_AddNumberToObject(po, "num_requests", p->num_requests);
            add_metrics(po, "measured", p->measured, p->has_measured);
            add_metrics(po, "simulated", p->simulated, NULL);
            double err[VAL_NUM_METRICS];
            for (int m = 0; m < VAL_NUM_METRICS; m++)
                err[m] = val_point_error(p, (ValMetric)m);
            add_metrics(po, "error_pct", err, NULL);
            cJSON_AddNumberToObject(po, "simulated_preemptions", (double)p->sim_preemptions);
            cJSON_AddNumberToObject(po, "simulated_kv_usage_peak", p->sim_kv_usage_peak);
            if (p->excluded)
                cJSON_AddStringToObject(po, "excluded_from_mape", p->excluded);
            else
                cJSON_AddNullToObject(po, "excluded_from_mape");
            cJSON_AddItemToArray(pts, po);
        }
        cJSON_AddItemToArray(arr, eo);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char *out = g_strdup_printf("%s\n", text);
    cJSON_free(text);
    return out;
}
