/*
 * sw_run.c: running a sweep's points (see sw_sweep.h): every scenario of the
 * slice is built in the calling thread (scn_scenario_set parses JSON with
 * cJSON, whose error pointer is global), then a GThreadPool simulates them;
 * each worker writes only its own row, so rows are stored by point and come
 * out in point order whatever the number of threads. The caller waits on a
 * condition variable and reports progress about five times a second. A dry
 * run builds each point in the calling thread and reports what the build
 * found. The metric columns and the cells that fill them are kept here
 * together.
 *
 * Limit: per-class aggregates of multi-class workloads are not in the rows
 * (run the point alone for them).
 */
#include <string.h>

#include "sw_internal.h"

/* The output columns after `status` and `error`, run and dry run. */
static const char *const stats_metrics[] = {"ttft", "tpot", "itl", "e2e", "queue"};
static const char *const stats_names[] = {"mean", "p50", "p90", "p95", "p99", "max"};
static const char *const metrics_before_stats[] = {
    "arrived", "completed", "rejected", "in_flight", "rejected_too_long", "rejected_no_blocks", "rows_skipped",
    "preemptions", "preempted_requests", "input_tokens", "output_tokens", "steps", "num_gpu_blocks",
    "latency_backend", "latency_basis", "duration_s", "first_arrival_s", "end_s", "offered_rate", "achieved_rate",
    "requests_per_s", "input_tokens_per_s", "output_tokens_per_s", NULL};
static const char *const metrics_after_stats[] = {"kv_usage_mean", "kv_usage_peak", "batch_size_mean",
                                                  "batch_tokens_mean", "busy_fraction", "queue_growth_ms",
                                                  "prefix_hit_tokens",
                                                  "stopped_at_limit", "num_replicas", "router_policy",
                                                  "imbalance", "jain_index", "prefix_hit_rate",
                                                  "rejected_admission", NULL};
static const char *const dry_run_metrics[] = {"num_gpu_blocks", "latency_backend", "latency_basis", NULL};

void sw_add_metric_columns(GPtrArray *cols, gboolean dry_run)
{
    if (dry_run) {
        for (const char *const *m = dry_run_metrics; *m; m++)
            g_ptr_array_add(cols, g_strdup(*m));
        return;
    }
    for (const char *const *m = metrics_before_stats; *m; m++)
        g_ptr_array_add(cols, g_strdup(*m));
    for (size_t i = 0; i < G_N_ELEMENTS(stats_metrics); i++)
        for (size_t j = 0; j < G_N_ELEMENTS(stats_names); j++)
            g_ptr_array_add(cols, g_strdup_printf("%s_%s_ms", stats_metrics[i], stats_names[j]));
    for (const char *const *m = metrics_after_stats; *m; m++)
        g_ptr_array_add(cols, g_strdup(*m));
}


typedef struct {
    const SwSweep *sw;
    ScnCache *cache;
    guint ncols;
    guint first_metric;   /* column of the first metric */
    ScnScenario **scenarios; /* per row; NULL: not to run */
    Row **rows;
    GMutex lock;
    GCond cond;
    guint done;
} RunState;

static void fill_stats(Cell *c, const SimStats *st)
{
    const double v[] = {st->mean, st->p50, st->p90, st->p95, st->p99, st->max};
    G_STATIC_ASSERT(G_N_ELEMENTS(v) == G_N_ELEMENTS(stats_names));
    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        if (st->count)
            sw_cell_number(&c[i], v[i]);
        else
            sw_cell_set(&c[i], CELL_EMPTY, NULL); /* no value: nothing completed */
    }
}

/* The metric cells of an ok row, in the order of sw_add_metric_columns(). */
static void fill_metrics(Cell *c, const ClResult *fleet, const ScnBuilt *b)
{
    const SimSummary *sum = fleet->summary;
    const SimClassSummary *a = &sum->all;
    guint i = 0;
    sw_cell_number(&c[i++], (double)a->arrived);
    sw_cell_number(&c[i++], (double)a->completed);
    sw_cell_number(&c[i++], (double)a->rejected);
    sw_cell_number(&c[i++], (double)a->in_flight);
    sw_cell_number(&c[i++], (double)sum->rejected_too_long);
    sw_cell_number(&c[i++], (double)sum->rejected_no_blocks);
    sw_cell_number(&c[i++], (double)sum->rows_skipped);
    sw_cell_number(&c[i++], (double)sum->preemptions);
    sw_cell_number(&c[i++], (double)a->preempted_requests);
    sw_cell_number(&c[i++], (double)a->input_tokens);
    sw_cell_number(&c[i++], (double)a->output_tokens);
    sw_cell_number(&c[i++], (double)sum->steps);
    sw_cell_number(&c[i++], (double)sum->num_gpu_blocks);
    sw_cell_set(&c[i++], CELL_STRING, lat_backend_name(lat_step_model_backend(b->step)));
    char basis[96];
    scn_latency_basis(b, basis, sizeof basis);
    sw_cell_set(&c[i++], CELL_STRING, basis);
    sw_cell_number(&c[i++], sum->duration_s);
    sw_cell_number(&c[i++], sum->first_arrival_s);
    sw_cell_number(&c[i++], sum->end_s);
    sw_cell_number(&c[i++], sum->offered_rate);
    sw_cell_number(&c[i++], sum->achieved_rate);
    sw_cell_number(&c[i++], a->requests_per_s);
    sw_cell_number(&c[i++], a->input_tokens_per_s);
    sw_cell_number(&c[i++], a->output_tokens_per_s);
    g_assert(i == G_N_ELEMENTS(metrics_before_stats) - 1); /* the static tables agree: not input */
    const SimStats *st[] = {&a->ttft_ms, &a->tpot_ms, &a->itl_ms, &a->e2e_ms, &a->queue_ms};
    G_STATIC_ASSERT(G_N_ELEMENTS(st) == G_N_ELEMENTS(stats_metrics));
    for (size_t k = 0; k < G_N_ELEMENTS(st); k++, i += G_N_ELEMENTS(stats_names))
        fill_stats(&c[i], st[k]);
    guint after = i;
    sw_cell_number(&c[i++], sum->kv_usage_mean);
    sw_cell_number(&c[i++], sum->kv_usage_peak);
    sw_cell_number(&c[i++], sum->batch_size_mean);
    sw_cell_number(&c[i++], sum->batch_tokens_mean);
    sw_cell_number(&c[i++], sum->busy_fraction);
    sw_cell_number(&c[i++], sum->queue_growth_ms);
    sw_cell_number(&c[i++], (double)sum->prefix_hit_tokens);
    sw_cell_set(&c[i++], CELL_LITERAL, sum->stopped_at_limit ? "true" : "false");
    sw_cell_number(&c[i++], (double)fleet->num_replicas);
    sw_cell_set(&c[i++], CELL_STRING, cl_router_policy_name(fleet->policy));
    sw_cell_number(&c[i++], fleet->imbalance);
    sw_cell_number(&c[i++], fleet->jain_index);
    sw_cell_number(&c[i++], fleet->prefix_hit_rate);
    sw_cell_number(&c[i++], (double)sum->rejected_admission);
    g_assert(i - after == G_N_ELEMENTS(metrics_after_stats) - 1); /* the static tables agree: not input */
}

static void row_set_status(const RunState *st, Row *r, const char *error_message)
{
    guint c = st->first_metric - 2;
    sw_cell_set(&r->cells[c], CELL_STRING, error_message ? "error" : "ok");
    sw_cell_set(&r->cells[c + 1], CELL_STRING, error_message);
}

static void run_point(gpointer data, gpointer user)
{
    RunState *st = user;
    guint j = GPOINTER_TO_UINT(data) - 1;
    Row *r = st->rows[j];
    ScnBuilt built;
    GError *error = NULL;
    ClResult *res = scn_run_fleet(st->scenarios[j], st->cache, NULL, &built, &error);
    if (res) {
        row_set_status(st, r, NULL);
        fill_metrics(&r->cells[st->first_metric], res, &built);
        scn_built_clear(&built);
        cl_result_free(res);
    } else {
        row_set_status(st, r, error ? error->message : "the simulation failed");
        g_clear_error(&error);
    }
    scn_scenario_free(st->scenarios[j]);
    st->scenarios[j] = NULL;
    g_mutex_lock(&st->lock);
    st->done++;
    g_cond_signal(&st->cond);
    g_mutex_unlock(&st->lock);
}

/* Dry run: build the point in this thread, report what the build found. */
static void check_point(RunState *st, guint j)
{
    Row *r = st->rows[j];
    ScnBuilt built;
    GError *error = NULL;
    if (scn_build(st->scenarios[j], st->cache, &built, &error)) {
        row_set_status(st, r, NULL);
        sw_cell_number(&r->cells[st->first_metric], (double)built.sched.num_gpu_blocks);
        sw_cell_set(&r->cells[st->first_metric + 1], CELL_STRING,
                 lat_backend_name(lat_step_model_backend(built.step)));
        char basis[96];
        scn_latency_basis(&built, basis, sizeof basis);
        sw_cell_set(&r->cells[st->first_metric + 2], CELL_STRING, basis);
        scn_built_clear(&built);
    } else {
        row_set_status(st, r, error->message);
        g_clear_error(&error);
    }
}

SwSweepTable *sw_sweep_run(const SwSweep *sw, ScnCache *cache, const SwSweepRunOptions *opts, GError **error)
{
    SwShard shard = opts->shard.count ? opts->shard : (SwShard){1, 1};
    gboolean ok = FALSE;
    SwSweepTable *t = sw_table_new();
    t->name = g_strdup(sw->name);
    t->sweep_id = g_strdup(sw->id);
    t->sweep_points = sw->num_points;
    t->shard = shard;
    t->dry_run = opts->dry_run;
    g_ptr_array_add(t->columns, g_strdup("point"));
    for (guint k = 0; k < sw->params->len; k++) {
        g_ptr_array_add(t->params, g_strdup(sw_sweep_param_name(sw, k)));
        g_ptr_array_add(t->columns, g_strdup(sw_sweep_param_name(sw, k)));
    }
    g_ptr_array_add(t->columns, g_strdup("status"));
    g_ptr_array_add(t->columns, g_strdup("error"));
    guint first_metric = t->columns->len;
    sw_add_metric_columns(t->columns, opts->dry_run);
    g_ptr_array_add(t->columns, g_strdup("sweep_id"));
    g_ptr_array_add(t->columns, g_strdup("sweep_points"));
    guint ncols = t->columns->len;

    /* the rows of the slice and their scenarios, built here (cJSON is not thread-safe) */
    RunState st = {.sw = sw, .cache = cache, .ncols = ncols, .first_metric = first_metric};
    g_mutex_init(&st.lock);
    g_cond_init(&st.cond);
    guint n = 0;
    for (guint p = 0; p < sw->num_points; p++)
        n += sw_shard_contains(&shard, p);
    st.scenarios = g_new0(ScnScenario *, n);
    st.rows = g_new0(Row *, n);
    GThreadPool *pool = NULL;
    guint to_run = 0;
    for (guint p = 0, j = 0; p < sw->num_points; p++) {
        if (!sw_shard_contains(&shard, p))
            continue;
        Row *r = st.rows[j] = sw_row_new(p, ncols);
        sw_cell_number(&r->cells[0], p);
        for (guint k = 0; k < sw->params->len; k++) {
            const Param *par = g_ptr_array_index(sw->params, k);
            const Cell *c = &par->cells[sw_sweep_value_index(sw, par, p)];
            sw_cell_set(&r->cells[1 + k], c->kind, c->text);
        }
        sw_cell_set(&r->cells[ncols - 2], CELL_STRING, sw->id);
        sw_cell_number(&r->cells[ncols - 1], sw->num_points);
        GError *set_error = NULL;
        st.scenarios[j] = sw_sweep_point_scenario(sw, p, &set_error);
        if (!st.scenarios[j]) {
            row_set_status(&st, r, set_error->message);
            g_clear_error(&set_error);
            st.done++;
        } else {
            to_run++;
        }
        j++;
    }

    gint64 t0 = g_get_monotonic_time();
    if (opts->dry_run) {
        for (guint j = 0; j < n; j++) {
            if (st.scenarios[j])
                check_point(&st, j);
        }
        st.done = n;
    } else if (to_run > 0) {
        guint jobs = opts->jobs ? opts->jobs : g_get_num_processors();
        pool = g_thread_pool_new(run_point, &st, (gint)MIN(MAX(jobs, 1u), to_run), FALSE, error);
        if (!pool) {
            g_prefix_error(error, "cannot start the sweep's threads: ");
            goto out;
        }
        for (guint j = 0; j < n; j++) {
            if (st.scenarios[j] && !g_thread_pool_push(pool, GUINT_TO_POINTER(j + 1), error)) {
                g_prefix_error(error, "cannot start the sweep's threads: ");
                goto out;
            }
        }
        g_mutex_lock(&st.lock);
        while (st.done < n) {
            gint64 deadline = g_get_monotonic_time() + 200 * G_TIME_SPAN_MILLISECOND;
            while (st.done < n && g_cond_wait_until(&st.cond, &st.lock, deadline))
                ; /* a point finished: keep waiting until the deadline */
            guint done = st.done;
            if (opts->progress && done < n) {
                g_mutex_unlock(&st.lock);
                opts->progress(done, n, (g_get_monotonic_time() - t0) / 1e6, opts->progress_user);
                g_mutex_lock(&st.lock);
            }
        }
        g_mutex_unlock(&st.lock);
    }
    if (opts->progress)
        opts->progress(n, n, (g_get_monotonic_time() - t0) / 1e6, opts->progress_user);
    ok = TRUE;
out:
    if (pool)
        g_thread_pool_free(pool, !ok, TRUE); /* waits for the points under way */
    for (guint j = 0; j < n; j++) {
        scn_scenario_free(st.scenarios[j]);
        g_ptr_array_add(t->rows, st.rows[j]);
    }
    g_free(st.scenarios);
    g_free(st.rows);
    g_mutex_clear(&st.lock);
    g_cond_clear(&st.cond);
    if (!ok) {
        sw_sweep_table_free(t);
        return NULL;
    }
    return t;
}
