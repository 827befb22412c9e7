/*
 * wl_bench.c: the result file of `vllm bench serve --save-result` (and
 * `--save-detailed`), read as data (WlBenchResult) and as a request source.
 *
 * The file is one JSON object (docs/workloads.md lists what is read):
 *   aggregate fields, always present: "completed", "failed", "duration" (s),
 *     "total_input_tokens", "total_output_tokens", "request_rate" (a number
 *     or "inf"), "burstiness", "max_concurrency" (null or a number),
 *     "num_prompts", "model_id", the optional "ramp_up_strategy",
 *     "ramp_up_start_rps", "ramp_up_end_rps", and the metrics
 *     "mean_/median_/std_/pNN_{ttft,tpot,itl,e2el}_ms" (which ones depends
 *     on --percentile-metrics and --metric-percentiles);
 *   per-request arrays, with --save-detailed: "input_lens", "output_lens"
 *     (0 for a failed request), "ttfts" (s), "itls" (lists of s),
 *     "errors" ("" for a success), and in newer vLLM "start_times" (s, the
 *     client's monotonic clock at sending, after any client-side queueing)
 *     and "latencies" (s);
 *   any --metadata KEY=VALUE pairs, as top-level strings.
 * Every top-level number and string is kept for lookups by name
 * (wl_bench_result_number / _string); unknown fields are ignored, since
 * vLLM adds fields between versions.
 *
 * The source yields the successful requests only (a failed one produced no
 * measurement). Arrivals: the send times rebased to the first, when the
 * file has them; otherwise the schedule vllm bench serve draws (gamma gaps
 * of shape `burstiness` and mean 1/request_rate, scaled so that the last
 * send is at n / request_rate; linear or exponential ramp-up; everything at
 * 0 for an infinite rate) from the scenario's seed. Without per-request
 * arrays (no --save-detailed) every request gets the mean input and output
 * lengths. time_scale, rate, skip and limit apply as for CSV traces.
 *
 * Cost: the whole file is parsed once (cJSON) and copied into arrays of
 * about 40 bytes per request; the document is freed before returning.
 */
#include "wl_internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <string.h>

gboolean wl_file_looks_like_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return FALSE;
    int c;
    while ((c = fgetc(f)) != EOF && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
        ;
    if (c == 0xEF && fgetc(f) == 0xBB && fgetc(f) == 0xBF) /* a UTF-8 byte order mark */
        while ((c = fgetc(f)) != EOF && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
            ;
    fclose(f);
    return c == '{';
}

/* ---------------------------------------------------------------- data -- */

void wl_bench_result_free(WlBenchResult *r)
{
    if (!r)
        return;
    g_free(r->path);
    g_free(r->model_id);
    g_free(r->input_tokens);
    g_free(r->output_tokens);
    g_free(r->ok);
    g_free(r->start_s);
    g_free(r->ttft_s);
    g_free(r->e2e_s);
    if (r->numbers)
        g_hash_table_destroy(r->numbers);
    if (r->strings)
        g_hash_table_destroy(r->strings);
    g_free(r);
}

double wl_bench_result_number(const WlBenchResult *r, const char *key)
{
    const double *v = g_hash_table_lookup(r->numbers, key);
    return v ? *v : NAN;
}

const char *wl_bench_result_string(const WlBenchResult *r, const char *key)
{
    return g_hash_table_lookup(r->strings, key);
}

/* The line and column of `pos` in `text`. */
static void text_position(const char *text, const char *pos, guint *line, guint *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < pos && *p; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* A per-request array of the document, checked to have `n` entries (n is
 * set from the first array read). NULL when absent. */
static const cJSON *get_array(const cJSON *root, const char *key, const char *path, guint *n, GError **error)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!a || cJSON_IsNull(a))
        return NULL;
    if (!cJSON_IsArray(a)) {
        wl_set_error(error, "%s: %s: expected a list (one entry per request)", path, key);
        return NULL;
    }
    guint size = (guint)cJSON_GetArraySize(a);
    if (*n == G_MAXUINT) {
        *n = size;
    } else if (size != *n) {
        wl_set_error(error, "%s: %s: expected %u entries, one per request as in the other lists, got %u", path,
                     key, *n, size);
        return NULL;
    }
    return a;
}

static gboolean bad_entry(GError **error, const char *path, const char *key, guint i, const char *expected,
                          const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    wl_set_error(error, "%s: %s[%u]: expected %s, got %s", path, key, i, expected, text ? text : "?");
    cJSON_free(text);
    return FALSE;
}

/* Reads a list of counts (0 allowed when allow_zero). */
static gboolean read_counts(const cJSON *a, const char *key, const char *path, gboolean allow_zero, guint32 *out,
                            GError **error)
{
    guint i = 0;
    for (const cJSON *v = a->child; v; v = v->next, i++) {
        double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (!(x >= (allow_zero ? 0 : 1)) || x > G_MAXUINT32 || x != floor(x))
            return bad_entry(error, path, key, i, allow_zero ? "a whole number >= 0" : "a positive whole number",
                             v);
        out[i] = (guint32)x;
    }
    return TRUE;
}

/* Reads a list of seconds (finite, >= 0 unless `any_sign`). */
static gboolean read_seconds(const cJSON *a, const char *key, const char *path, gboolean any_sign, double *out,
                             GError **error)
{
    guint i = 0;
    for (const cJSON *v = a->child; v; v = v->next, i++) {
        double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
        if (!isfinite(x) || (!any_sign && x < 0))
            return bad_entry(error, path, key, i, any_sign ? "a number of seconds" : "a number of seconds >= 0",
                             v);
        out[i] = x;
    }
    return TRUE;
}

/* e2e from ttft + the sum of the inter-token latencies. */
static gboolean read_itls(const cJSON *a, const char *path, const double *ttft, double *e2e, GError **error)
{
    guint i = 0;
    for (const cJSON *v = a->child; v; v = v->next, i++) {
        if (!cJSON_IsArray(v))
            return bad_entry(error, path, "itls", i, "a list of seconds", v);
        double sum = ttft[i];
        for (const cJSON *x = v->child; x; x = x->next) {
            if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || x->valuedouble < 0)
                return bad_entry(error, path, "itls", i, "a list of seconds >= 0", v);
            sum += x->valuedouble;
        }
        e2e[i] = sum;
    }
    return TRUE;
}

WlBenchResult *wl_bench_result_load(const char *path, GError **error)
{
    char *text = NULL;
    gsize len = 0;
    GError *ioerr = NULL;
    if (!g_file_get_contents(path, &text, &len, &ioerr)) {
        wl_set_error(error, "%s: cannot read the vllm bench result: %s", path, ioerr->message);
        g_error_free(ioerr);
        return NULL;
    }
    WlBenchResult *r = NULL;
    const char *end = NULL;
    cJSON *root = strlen(text) == len ? cJSON_ParseWithOpts(text, &end, 1) : NULL;
    if (!root) {
        guint line, col;
        text_position(text, end ? end : text, &line, &col);
        if (strlen(text) != len)
            wl_set_error(error, "%s: expected JSON text, got a NUL byte", path);
        else
            wl_set_error(error, "%s:%u:%u: malformed JSON", path, line, col);
        goto fail;
    }
    if (!cJSON_IsObject(root)) {
        wl_set_error(error, "%s: expected a JSON object (a vllm bench serve result)", path);
        goto fail;
    }
    r = g_new0(WlBenchResult, 1);
    r->path = g_strdup(path);
    r->numbers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    r->strings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (const cJSON *it = root->child; it; it = it->next) {
        if (!it->string)
            continue;
        if (cJSON_IsNumber(it) && isfinite(it->valuedouble))
            g_hash_table_replace(r->numbers, g_strdup(it->string), g_memdup2(&it->valuedouble, sizeof(double)));
        else if (cJSON_IsString(it))
            g_hash_table_replace(r->strings, g_strdup(it->string), g_strdup(it->valuestring));
    }
    if (!g_hash_table_contains(r->numbers, "completed")) {
        wl_set_error(error, "%s: completed: missing (expected the result file of vllm bench serve "
                            "--save-result, which has completed, duration, mean_ttft_ms, ...)", path);
        goto fail;
    }
    double completed = wl_bench_result_number(r, "completed");
    double failed = g_hash_table_contains(r->numbers, "failed") ? wl_bench_result_number(r, "failed") : 0;
    if (!(completed >= 0) || completed != floor(completed) || completed > G_MAXUINT32 || !(failed >= 0) ||
        failed != floor(failed) || failed > G_MAXUINT32) {
        wl_set_error(error, "%s: completed, failed: expected whole numbers >= 0, got %g and %g", path, completed,
                     failed);
        goto fail;
    }
    r->completed = (guint)completed;
    r->failed = (guint)failed;
    r->model_id = g_strdup(wl_bench_result_string(r, "model_id"));
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(root, "request_rate");
    r->request_rate = INFINITY;
    if (cJSON_IsNumber(rate) && rate->valuedouble > 0)
        r->request_rate = rate->valuedouble;
    else if (rate && !cJSON_IsNull(rate) && !(cJSON_IsString(rate) && strcmp(rate->valuestring, "inf") == 0)) {
        char *t = cJSON_PrintUnformatted(rate);
        wl_set_error(error, "%s: request_rate: expected a positive number or \"inf\", got %s", path, t);
        cJSON_free(t);
        goto fail;
    }
    r->burstiness = 1.0;
    if (g_hash_table_contains(r->numbers, "burstiness")) {
        r->burstiness = wl_bench_result_number(r, "burstiness");
        if (!(r->burstiness > 0)) {
            wl_set_error(error, "%s: burstiness: expected a positive number, got %g", path, r->burstiness);
            goto fail;
        }
    }
    double mc = wl_bench_result_number(r, "max_concurrency");
    r->max_concurrency = mc >= 1 && mc <= G_MAXUINT32 ? (guint)mc : 0;
    const char *ramp = wl_bench_result_string(r, "ramp_up_strategy");
    if (ramp) {
        r->ramp_up = strcmp(ramp, "linear") == 0 ? 1 : strcmp(ramp, "exponential") == 0 ? 2 : -1;
        r->ramp_start_rps = wl_bench_result_number(r, "ramp_up_start_rps");
        r->ramp_end_rps = wl_bench_result_number(r, "ramp_up_end_rps");
        if (r->ramp_up < 0 || !(r->ramp_start_rps >= 0) || !(r->ramp_end_rps > 0) ||
            (r->ramp_up == 2 && !(r->ramp_start_rps > 0))) {
            wl_set_error(error, "%s: ramp_up_strategy, ramp_up_start_rps, ramp_up_end_rps: expected linear or "
                                "exponential with positive rates, got %s from %g to %g", path, ramp,
                         r->ramp_start_rps, r->ramp_end_rps);
            goto fail;
        }
    }
    guint n = G_MAXUINT;
    GError *aerr = NULL;
    const cJSON *in = get_array(root, "input_lens", path, &n, &aerr);
    const cJSON *out = aerr ? NULL : get_array(root, "output_lens", path, &n, &aerr);
    const cJSON *ttfts = aerr ? NULL : get_array(root, "ttfts", path, &n, &aerr);
    const cJSON *itls = aerr ? NULL : get_array(root, "itls", path, &n, &aerr);
    const cJSON *lat = aerr ? NULL : get_array(root, "latencies", path, &n, &aerr);
    const cJSON *starts = aerr ? NULL : get_array(root, "start_times", path, &n, &aerr);
    const cJSON *errs = aerr ? NULL : get_array(root, "errors", path, &n, &aerr);
    if (aerr) {
        g_propagate_error(error, aerr);
        goto fail;
    }
    if (!in != !out) {
        wl_set_error(error, "%s: expected both input_lens and output_lens (--save-detailed), got only %s", path,
                     in ? "input_lens" : "output_lens");
        goto fail;
    }
    if (in && n > 0) {
        r->n = n;
        r->input_tokens = g_new(guint32, n);
        r->output_tokens = g_new(guint32, n);
        r->ok = g_new(gboolean, n);
        if (!read_counts(in, "input_lens", path, FALSE, r->input_tokens, error) ||
            !read_counts(out, "output_lens", path, TRUE, r->output_tokens, error))
            goto fail;
        guint i = 0;
        for (const cJSON *e = errs ? errs->child : NULL; i < n; i++, e = e ? e->next : NULL) {
            gboolean err_text = e && cJSON_IsString(e) && e->valuestring[0];
            r->ok[i] = !err_text && r->output_tokens[i] > 0;
        }
        if (starts) {
            r->start_s = g_new(double, n);
            if (!read_seconds(starts, "start_times", path, TRUE, r->start_s, error))
                goto fail;
        }
        if (ttfts) {
            r->ttft_s = g_new(double, n);
            if (!read_seconds(ttfts, "ttfts", path, FALSE, r->ttft_s, error))
                goto fail;
        }
        if (lat) {
            r->e2e_s = g_new(double, n);
            if (!read_seconds(lat, "latencies", path, FALSE, r->e2e_s, error))
                goto fail;
        } else if (itls && ttfts) {
            r->e2e_s = g_new(double, n);
            if (!read_itls(itls, path, r->ttft_s, r->e2e_s, error))
                goto fail;
        }
    } else if (r->completed > 0) {
        double tin = wl_bench_result_number(r, "total_input_tokens");
        double tout = wl_bench_result_number(r, "total_output_tokens");
        if (!(tin >= r->completed) || !(tout >= r->completed)) {
            wl_set_error(error, "%s: total_input_tokens, total_output_tokens: expected at least one token per "
                                "completed request (%u), got %g and %g", path, r->completed, tin, tout);
            goto fail;
        }
        r->mean_input_tokens = tin / r->completed;
        r->mean_output_tokens = tout / r->completed;
        if (!(r->mean_input_tokens <= WL_MAX_TOKENS) || !(r->mean_output_tokens <= WL_MAX_TOKENS)) {
            wl_set_error(error, "%s: total_input_tokens, total_output_tokens: expected at most %u tokens per "
                                "completed request (%u), got %g and %g in all", path, WL_MAX_TOKENS, r->completed,
                         tin, tout);
            goto fail;
        }
    }
    cJSON_Delete(root);
    g_free(text);
    return r;
fail:
    cJSON_Delete(root);
    g_free(text);
    wl_bench_result_free(r);
    return NULL;
}

guint wl_bench_result_num_ok(const WlBenchResult *r)
{
    if (r->n == 0)
        return r->completed;
    guint k = 0;
    for (guint i = 0; i < r->n; i++)
        k += r->ok[i] ? 1 : 0;
    return k;
}

/* -------------------------------------------------------------- source -- */

typedef struct {
    double t_s;      /* arrival, seconds from the first */
    guint32 input, output;
} BenchRequest;

typedef struct {
    GArray *reqs;    /* BenchRequest, in arrival order */
    guint next;
    double factor;
} Bench;

static gint cmp_bench(gconstpointer a, gconstpointer b)
{
    const BenchRequest *x = a, *y = b;
    return x->t_s < y->t_s ? -1 : (x->t_s > y->t_s ? 1 : 0);
}

static int bench_next(WlSource *src, WlRequest *out, GError **error)
{
    (void)error;
    Bench *b = src->impl;
    if (b->next >= b->reqs->len)
        return 0;
    const BenchRequest *q = &g_array_index(b->reqs, BenchRequest, b->next++);
    memset(out, 0, sizeof *out);
    out->arrival = sim_time_from_seconds(q->t_s * b->factor);
    out->input_tokens = q->input;
    out->output_tokens = q->output;
    return 1;
}

static void bench_finalize(void *impl)
{
    Bench *b = impl;
    if (!b)
        return;
    g_array_free(b->reqs, TRUE);
    g_free(b);
}

static const WlSourceOps bench_ops = {bench_next, bench_finalize};

/* vllm bench serve's send schedule for `n` requests (seconds from the start). */
static void draw_schedule(const WlBenchResult *r, guint n, guint64 seed, double *t)
{
    if (n == 0)
        return;
    GRand *rng = wl_rand_new_for(seed, "vllm-bench arrivals");
    double acc = 0;
    for (guint i = 0; i < n; i++) {
        double rate = r->request_rate;
        if (r->ramp_up) {
            double progress = (double)i / MAX(n - 1, 1u);
            rate = r->ramp_up == 1 ? r->ramp_start_rps + (r->ramp_end_rps - r->ramp_start_rps) * progress
                                   : r->ramp_start_rps * pow(r->ramp_end_rps / r->ramp_start_rps, progress);
        }
        double gap = 0;
        if (isinf(rate) || !(rate > 0))
            gap = 0;
        else if (isinf(r->burstiness))
            gap = 1.0 / rate;
        else
            gap = wl_rand_gamma(rng, r->burstiness) / (rate * r->burstiness);
        acc += gap;
        t[i] = acc;
    }
    g_rand_free(rng);
    /* without a ramp, vllm scales the schedule so that the last send is at n / rate */
    if (!r->ramp_up && isfinite(r->request_rate) && t[n - 1] > 0) {
        double k = (n / r->request_rate) / t[n - 1];
        for (guint i = 0; i < n; i++)
            t[i] *= k;
    }
}

WlSource *wl_source_new_vllm_bench(const char *path, const WlTraceOptions *opts, GError **error)
{
    if (wl_trace_columns_any(&opts->columns) || opts->time_format != WL_TIME_AUTO) {
        wl_set_error(error, "%s: a vllm bench serve result has no columns or time format to set (those options "
                            "are for CSV traces)", path);
        return NULL;
    }
    WlBenchResult *r = wl_bench_result_load(path, error);
    if (!r)
        return NULL;
    guint total = r->n ? r->n : r->completed;
    gboolean measured_times = r->start_s != NULL;
    double *sched = NULL;
    if (!measured_times) {
        sched = g_new(double, MAX(total, 1u));
        draw_schedule(r, total, opts->seed, sched);
    }
    Bench *b = g_new0(Bench, 1);
    b->reqs = g_array_new(FALSE, FALSE, sizeof(BenchRequest));
    b->factor = opts->time_scale;
    guint failed = 0;
    for (guint i = 0; i < total; i++) {
        BenchRequest q;
        if (r->n) {
            if (!r->ok[i]) {
                failed++;
                continue;
            }
            q.input = r->input_tokens[i];
            q.output = r->output_tokens[i];
            q.t_s = measured_times ? r->start_s[i] : sched[i];
        } else {
            q.input = (guint32)MAX(1.0, round(r->mean_input_tokens));
            q.output = (guint32)MAX(1.0, round(r->mean_output_tokens));
            q.t_s = sched[i];
        }
        g_array_append_val(b->reqs, q);
    }
    g_free(sched);
    g_array_sort(b->reqs, cmp_bench); /* send times are nearly in order; ties keep no meaning */
    guint skip = (guint)MIN(opts->skip, (guint64)b->reqs->len);
    if (skip)
        g_array_remove_range(b->reqs, 0, skip);
    if (opts->limit > 0 && b->reqs->len > opts->limit)
        g_array_set_size(b->reqs, (guint)opts->limit);
    guint n = b->reqs->len;
    double t0 = n ? g_array_index(b->reqs, BenchRequest, 0).t_s : 0;
    if (measured_times || skip)
        for (guint i = 0; i < n; i++)
            g_array_index(b->reqs, BenchRequest, i).t_s -= t0;
    if (opts->rate > 0) {
        double span = n ? g_array_index(b->reqs, BenchRequest, n - 1).t_s : 0;
        if (n < 2 || !(span > 0)) {
            wl_set_error(error, "%s: cannot rescale to %g req/s: expected at least two requests spanning some time, "
                                "got %u", path, opts->rate, n);
            bench_finalize(b);
            wl_bench_result_free(r);
            return NULL;
        }
        b->factor = (double)(n - 1) / (opts->rate * span);
    }
    WlSource *src = wl_source_alloc(&bench_ops, b);
    src->trace_format = WL_TRACE_VLLM_BENCH;
    src->offered_rate = opts->rate;
    wl_source_intern_class(src, "default");
    GString *d = g_string_new(NULL);
    g_string_append_printf(d, "vllm bench serve result %s: %u requests", path, n);
    if (failed)
        g_string_append_printf(d, " (%u failed request%s left out)", failed, failed == 1 ? "" : "s");
    if (r->n == 0)
        g_string_append_printf(d, ", mean lengths %u in / %u out (no per-request data: --save-detailed gives it)",
                               (guint)MAX(1.0, round(r->mean_input_tokens)),
                               (guint)MAX(1.0, round(r->mean_output_tokens)));
    if (measured_times)
        g_string_append(d, ", measured send times");
    else if (r->ramp_up)
        g_string_append_printf(d, ", %s ramp from %g to %g req/s drawn as vllm does", r->ramp_up == 1 ? "linear"
                               : "exponential", r->ramp_start_rps, r->ramp_end_rps);
    else if (isinf(r->request_rate))
        g_string_append(d, ", all sent at once (request rate inf)");
    else
        g_string_append_printf(d, ", send times drawn as vllm does (%g req/s, burstiness %g)", r->request_rate,
                               r->burstiness);
    if (r->max_concurrency && !measured_times)
        g_string_append_printf(d, "; the client's max concurrency %u is not modelled", r->max_concurrency);
    if (opts->rate > 0)
        g_string_append_printf(d, ", rescaled to %g req/s", opts->rate);
    else if (opts->time_scale != 1.0)
        g_string_append_printf(d, ", time x %g", opts->time_scale);
    if (skip)
        g_string_append_printf(d, ", skip %u", skip);
    if (opts->limit)
        g_string_append_printf(d, ", limit %" G_GUINT64_FORMAT, opts->limit);
    src->description = g_string_free(d, FALSE);
    wl_bench_result_free(r);
    return src;
}
