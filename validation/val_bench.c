/*
 * val_bench.c: a `vllm bench serve --save-result` file as an experiment of
 * one point (see val_bench.h; the fields read are listed in
 * workload/wl_bench.c and docs/validation-format.md).
 *
 * The point replays the file itself (trace format vllm-bench: the successful
 * requests with their lengths and send times). What was measured comes from
 * the per-request fields when present: TTFT = ttfts, E2E = latencies (or TTFT
 * + the inter-token latencies), TPOT = (E2E - TTFT) / (output - 1) for
 * requests with more than one output token, exactly as vllm bench serve
 * computes them; means and percentiles (linear interpolation, numpy's
 * default, which vllm uses) over the successful requests. Otherwise the
 * aggregate fields the file holds: mean_*, median_* (p50), p90_*, p99_* of
 * ttft, tpot and e2el in ms. Output throughput is the file's
 * output_throughput (output tokens / benchmark duration).
 *
 * Cost: one read of the file here and one by the replay; O(n log n) for the
 * percentiles.
 */
#include "val_bench.h"

#include <math.h>
#include <string.h>

#include "scn_options.h"
#include "sim_metrics.h"
#include "ss_error.h"

gboolean val_bench_is_result(const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return FALSE;
    FILE *f = fopen(path, "rb");
    if (!f)
        return FALSE;
    int c;
    while ((c = fgetc(f)) != EOF && (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0xEF || c == 0xBB ||
                                     c == 0xBF))
        ;
    fclose(f);
    return c == '{';
}

/* Metadata keys that name scenario fields (vllm bench serve --metadata KEY=VALUE). */
static const struct {
    const char *key;
    const char *field;
    gboolean is_string;
} meta_fields[] = {
    {"hardware", "hardware", TRUE},
    {"gpu", "hardware", TRUE},
    {"model", "model", TRUE},
    {"tensor_parallel_size", "tensor_parallel_size", FALSE},
    {"tp", "tensor_parallel_size", FALSE},
    {"max_num_seqs", "max_num_seqs", FALSE},
    {"max_num_batched_tokens", "max_num_batched_tokens", FALSE},
    {"max_model_len", "max_model_len", FALSE},
    {"block_size", "block_size", FALSE},
    {"gpu_memory_utilization", "gpu_memory_utilization", FALSE},
    {"num_gpu_blocks_override", "num_gpu_blocks_override", FALSE},
    {"num_gpu_blocks", "num_gpu_blocks_override", FALSE},
    {"long_prefill_token_threshold", "long_prefill_token_threshold", FALSE},
    {"enable_prefix_caching", "enable_prefix_caching", FALSE},
    {"vllm_version", "vllm_version", TRUE},
    {"async_scheduling", "async_scheduling", FALSE},
    {"enforce_eager", "enforce_eager", FALSE},
    {"scheduler_reserve_full_isl", "scheduler_reserve_full_isl", FALSE},
    {"otlp_traces_endpoint", "otlp_traces_endpoint", TRUE},
};

gboolean val_bench_apply_metadata(const char *path, ScnScenario *s, gboolean *have_hardware, GError **error)
{
    *have_hardware = FALSE;
    g_autoptr(WlBenchResult) r = wl_bench_result_load(path, error);
    if (!r)
        return FALSE;
    if (r->model_id && *r->model_id) {
        g_free(s->model);
        s->model = g_strdup(r->model_id);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(meta_fields); i++) {
        /* the key as written with '_', or with '-' as vllm's own flags */
        char *dashed = g_strdelimit(g_strdup(meta_fields[i].key), "_", '-');
        const char *value = wl_bench_result_string(r, meta_fields[i].key);
        if (!value)
            value = wl_bench_result_string(r, dashed);
        g_free(dashed);
        double num = NAN;
        char numbuf[G_ASCII_DTOSTR_BUF_SIZE];
        if (!value && !meta_fields[i].is_string && !isnan(num = wl_bench_result_number(r, meta_fields[i].key)))
            value = g_ascii_dtostr(numbuf, sizeof numbuf, num);
        if (!value)
            continue;
        char *json;
        if (meta_fields[i].is_string) {
            GString *q = g_string_new("\"");
            for (const char *c = value; *c; c++) {
                if (*c == '"' || *c == '\\')
                    g_string_append_c(q, '\\');
                if ((unsigned char)*c >= 0x20)
                    g_string_append_c(q, *c);
            }
            g_string_append_c(q, '"');
            json = g_string_free(q, FALSE);
        } else {
            json = g_ascii_strdown(value, -1);
        }
        char *origin = g_strdup_printf("%s: metadata %s", path, meta_fields[i].key);
        gboolean ok = scn_scenario_set(s, meta_fields[i].field, json, origin, error);
        g_free(origin);
        g_free(json);
        if (!ok)
            return FALSE;
        if (strcmp(meta_fields[i].field, "hardware") == 0)
            *have_hardware = TRUE;
    }
    return TRUE;
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : (x > y ? 1 : 0);
}

/* mean, p50, p90, p99 of `v` (ms) into p->measured[first .. first + 3]. */
static void set_stats(ValPoint *p, ValMetric first, GArray *v)
{
    if (v->len == 0)
        return;
    double sum = 0;
    for (guint i = 0; i < v->len; i++)
        sum += g_array_index(v, double, i);
    g_array_sort(v, cmp_double);
    const double *d = (const double *)v->data;
    p->measured[first] = sum / v->len;
    p->measured[first + 1] = sim_percentile_sorted(d, v->len, 50);
    p->measured[first + 2] = sim_percentile_sorted(d, v->len, 90);
    p->measured[first + 3] = sim_percentile_sorted(d, v->len, 99);
    for (int k = 0; k < 4; k++)
        p->has_measured[first + k] = TRUE;
}

/* The aggregate fields of one metric ("ttft", "tpot", "e2el"). */
static void set_aggregates(ValPoint *p, ValMetric first, const WlBenchResult *r, const char *metric)
{
    static const char *const stats[] = {"mean", "median", "p90", "p99"};
    for (int k = 0; k < 4; k++) {
        char key[64];
        g_snprintf(key, sizeof key, "%s_%s_ms", stats[k], metric);
        double v = wl_bench_result_number(r, key);
        if (k == 1 && isnan(v)) { /* --metric-percentiles 50 writes p50_ */
            g_snprintf(key, sizeof key, "p50_%s_ms", metric);
            v = wl_bench_result_number(r, key);
        }
        if (!isnan(v) && v >= 0) {
            p->measured[first + k] = v;
            p->has_measured[first + k] = TRUE;
        }
    }
}

ValExperiment *val_bench_load(const char *path, const ScnScenario *s, GError **error)
{
    g_autoptr(WlBenchResult) r = wl_bench_result_load(path, error);
    if (!r)
        return NULL;
    guint ok_count = wl_bench_result_num_ok(r);
    if (ok_count == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: no successful request to compare (completed %u, failed %u)",
                    path, r->completed, r->failed);
        return NULL;
    }
    ValExperiment *e = g_new0(ValExperiment, 1);
    char *base = g_path_get_basename(path);
    char *dot = strrchr(base, '.');
    if (dot && dot != base)
        *dot = '\0';
    e->name = base;
    e->dir = g_path_get_dirname(path);
    e->hardware = g_strdup(s->hardware);
    e->model = g_strdup(s->model);
    e->vllm_version = g_strdup(s->vllm_version);
    e->tensor_parallel_size = s->tensor_parallel_size;
    e->max_num_seqs = s->max_num_seqs;
    e->max_num_batched_tokens = s->max_num_batched_tokens;
    e->max_model_len = s->max_model_len;
    e->long_prefill_token_threshold = s->long_prefill_token_threshold;
    e->enable_prefix_caching = s->enable_prefix_caching;
    e->block_size = s->block_size;
    e->num_gpu_blocks = s->num_gpu_blocks_override;
    e->gpu_memory_utilization = s->gpu_memory_utilization;
    e->points = g_ptr_array_new_with_free_func(val_point_free);
    e->deployment = scn_scenario_copy(s); /* every setting, the vLLM switches too */
    scn_options_copy(&e->options, &s->options); /* and the engine options (point_scenario sets them from here) */

    ValPoint *p = g_new0(ValPoint, 1);
    const char *label = wl_bench_result_string(r, "label");
    double rate = r->request_rate;
    p->name = label && *label ? g_strdup(label)
              : isinf(rate)   ? g_strdup("rate inf")
                              : g_strdup_printf("rate %g", rate);
    p->requests_path = g_strdup(path);
    p->trace_format = WL_TRACE_VLLM_BENCH;
    p->num_requests = ok_count;
    g_ptr_array_add(e->points, p);

    if (r->n > 0 && r->ttft_s && r->e2e_s) {
        GArray *ttft = g_array_new(FALSE, FALSE, sizeof(double));
        GArray *tpot = g_array_new(FALSE, FALSE, sizeof(double));
        GArray *e2e = g_array_new(FALSE, FALSE, sizeof(double));
        for (guint i = 0; i < r->n; i++) {
            if (!r->ok[i])
                continue;
            double t = r->ttft_s[i] * 1e3, l = r->e2e_s[i] * 1e3;
            g_array_append_val(ttft, t);
            g_array_append_val(e2e, l);
            if (r->output_tokens[i] > 1) {
                double x = (l - t) / (r->output_tokens[i] - 1);
                g_array_append_val(tpot, x);
            }
        }
        set_stats(p, VAL_TTFT_MEAN, ttft);
        set_stats(p, VAL_TPOT_MEAN, tpot);
        set_stats(p, VAL_E2E_MEAN, e2e);
        g_array_free(ttft, TRUE);
        g_array_free(tpot, TRUE);
        g_array_free(e2e, TRUE);
    } else {
        set_aggregates(p, VAL_TTFT_MEAN, r, "ttft");
        set_aggregates(p, VAL_TPOT_MEAN, r, "tpot");
        set_aggregates(p, VAL_E2E_MEAN, r, "e2el");
    }
    double thr = wl_bench_result_number(r, "output_throughput");
    if (!isnan(thr) && thr >= 0) {
        p->measured[VAL_OUTPUT_THROUGHPUT] = thr;
        p->has_measured[VAL_OUTPUT_THROUGHPUT] = TRUE;
    }
    return e;
}
