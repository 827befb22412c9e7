/*
 * val_calibrate.c: fitting a GPU's step-time constants to measured runs (see
 * val_calibrate.h), leave-one-experiment-out, and the profile it writes.
 *
 * Nelder-Mead over y = ln(constant), a simplex of k + 1 points started at the
 * given constants and 25% above each; reflection 1, expansion 2, contraction
 * 0.5, shrink 0.5; stops after max_evaluations or when the simplex is
 * smaller than 0.1% in every constant (or flat to 1e-10). Constants are clamped to their valid range
 * by lat_step_model_new's checks (an invalid point scores +inf).
 *
 * Cost: one evaluation simulates every point of every experiment (in
 * parallel); a fit is about 40 evaluations per constant; leave-one-out adds
 * one fit per experiment, each started from the full fit.
 */
#include "val_calibrate.h"

#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ss_error.h"

/* ------------------------------------------------------ parallel runs -- */

typedef struct {
    ValExperiment *e;
    ValPoint *p;
    ScnCache *cache;
    const LatParams *latency;
    guint blocks;
    GError *error;
} Task;

static void run_task(gpointer data, gpointer user)
{
    (void)user;
    Task *t = data;
    val_point_simulate(t->e, t->p, t->cache, t->latency, &t->blocks, &t->error);
}

gboolean val_experiments_simulate_parallel(ValExperiment *const *exps, guint n, ScnCache *cache,
                                           const LatParams *latency, GError **error)
{
    GArray *tasks = g_array_new(FALSE, TRUE, sizeof(Task));
    for (guint k = 0; k < n; k++)
        for (guint i = 0; i < exps[k]->points->len; i++) {
            Task t = {exps[k], g_ptr_array_index(exps[k]->points, i), cache, latency, 0, NULL};
            g_array_append_val(tasks, t);
        }
    guint threads = MAX(1u, MIN(g_get_num_processors(), tasks->len));
    GThreadPool *pool = g_thread_pool_new(run_task, NULL, (gint)threads, TRUE, NULL);
    for (guint i = 0; i < tasks->len; i++)
        g_thread_pool_push(pool, &g_array_index(tasks, Task, i), NULL);
    g_thread_pool_free(pool, FALSE, TRUE);
    gboolean ok = TRUE;
    for (guint i = 0; i < tasks->len; i++) { /* the first failure in order, the rest dropped */
        Task *t = &g_array_index(tasks, Task, i);
        if (!t->error)
            t->e->sim_num_gpu_blocks = t->blocks; /* the same for every point of an experiment */
        if (t->error && ok) {
            g_propagate_error(error, t->error);
            ok = FALSE;
        } else if (t->error) {
            g_error_free(t->error);
        }
    }
    g_array_free(tasks, TRUE);
    return ok;
}

/* ------------------------------------------------------------ objective -- */

static const struct {
    ValMetric m;
    double w;
} weights[] = {{VAL_TPOT_MEAN, 1.0}, {VAL_E2E_MEAN, 1.0}, {VAL_TTFT_MEAN, 0.5}};

static double objective_of(ValExperiment *const *exps, guint n)
{
    double total = 0;
    guint counted = 0;
    for (guint k = 0; k < n; k++) {
        double sum = 0;
        guint pts = 0;
        for (guint i = 0; i < exps[k]->points->len; i++) {
            const ValPoint *p = g_ptr_array_index(exps[k]->points, i);
            double v = 0;
            gboolean any = FALSE;
            for (guint w = 0; w < G_N_ELEMENTS(weights); w++) {
                ValMetric m = weights[w].m;
                if (!p->has_measured[m] || !(p->measured[m] > 0))
                    continue;
                if (!(p->simulated[m] > 0) || !isfinite(p->simulated[m]))
                    return INFINITY;
                double l = log(p->simulated[m] / p->measured[m]);
                v += weights[w].w * l * l;
                any = TRUE;
            }
            if (any) {
                sum += v;
                pts++;
            }
        }
        if (pts) {
            total += sum / pts;
            counted++;
        }
    }
    return counted ? total / counted : INFINITY;
}

typedef struct {
    ValExperiment *const *exps;
    guint n;
    ScnCache *cache;
    LatParams base;
    const ValCalibrateOptions *o;
    guint evaluations;
    GError *error; /* the first simulation error */
} Fit;

/* The objective at y (logs of the constants); +inf when they are invalid. */
static double evaluate(Fit *f, const double *y)
{
    LatParams lp = f->base;
    for (guint j = 0; j < f->o->num_params; j++) {
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        char *a = g_strdup_printf("%s=%s", f->o->params[j], g_ascii_dtostr(num, sizeof num, exp(y[j])));
        gboolean ok = lat_params_set(&lp, a, NULL);
        g_free(a);
        if (!ok)
            return INFINITY;
    }
    GError *err = NULL;
    double v = INFINITY;
    if (val_experiments_simulate_parallel(f->exps, f->n, f->cache, &lp, &err)) {
        v = objective_of(f->exps, f->n);
    } else if (err && (err->code == SS_ERROR_USAGE || f->error)) {
        g_error_free(err); /* constants out of range: not a point of the search */
    } else if (err) {
        f->error = err;
    }
    f->evaluations++;
    if (f->o->progress)
        f->o->progress(f->evaluations, v, f->o->user);
    return v;
}

/* Nelder-Mead from y0; the best point into y0, its objective returned. */
static double nelder_mead(Fit *f, double *y0, guint max_eval)
{
    guint k = f->o->num_params;
    double pts[VAL_MAX_FIT + 1][VAL_MAX_FIT], val[VAL_MAX_FIT + 1];
    for (guint i = 0; i <= k; i++) {
        memcpy(pts[i], y0, k * sizeof(double));
        if (i > 0)
            pts[i][i - 1] += log(1.25);
        val[i] = evaluate(f, pts[i]);
        if (f->error)
            return INFINITY;
    }
    while (f->evaluations < max_eval) {
        /* order: best first (insertion sort, k <= 8) */
        for (guint i = 1; i <= k; i++)
            for (guint j = i; j > 0 && val[j] < val[j - 1]; j--) {
                double tv = val[j];
                val[j] = val[j - 1];
                val[j - 1] = tv;
                for (guint d = 0; d < k; d++) {
                    double t = pts[j][d];
                    pts[j][d] = pts[j - 1][d];
                    pts[j - 1][d] = t;
                }
            }
        double size = 0; /* the simplex's extent in ln(constant) */
        for (guint i = 1; i <= k; i++)
            for (guint d = 0; d < k; d++)
                size = MAX(size, fabs(pts[i][d] - pts[0][d]));
        if (isfinite(val[k]) && (size < 1e-3 || val[k] - val[0] < 1e-10))
            break;
        double c[VAL_MAX_FIT] = {0}, r[VAL_MAX_FIT], e[VAL_MAX_FIT], q[VAL_MAX_FIT];
        for (guint i = 0; i < k; i++)
            for (guint d = 0; d < k; d++)
                c[d] += pts[i][d] / k;
        for (guint d = 0; d < k; d++)
            r[d] = c[d] + (c[d] - pts[k][d]);
        double vr = evaluate(f, r);
        if (f->error)
            return INFINITY;
        if (vr < val[0]) {
            for (guint d = 0; d < k; d++)
                e[d] = c[d] + 2.0 * (c[d] - pts[k][d]);
            double ve = evaluate(f, e);
            if (f->error)
                return INFINITY;
            if (ve < vr) {
                memcpy(pts[k], e, k * sizeof(double));
                val[k] = ve;
            } else {
                memcpy(pts[k], r, k * sizeof(double));
                val[k] = vr;
            }
            continue;
        }
        if (vr < val[k - 1]) {
            memcpy(pts[k], r, k * sizeof(double));
            val[k] = vr;
            continue;
        }
        for (guint d = 0; d < k; d++)
            q[d] = c[d] + 0.5 * (pts[k][d] - c[d]);
        double vq = evaluate(f, q);
        if (f->error)
            return INFINITY;
        if (vq < val[k]) {
            memcpy(pts[k], q, k * sizeof(double));
            val[k] = vq;
            continue;
        }
        for (guint i = 1; i <= k; i++) { /* shrink towards the best */
            for (guint d = 0; d < k; d++)
                pts[i][d] = pts[0][d] + 0.5 * (pts[i][d] - pts[0][d]);
            val[i] = evaluate(f, pts[i]);
            if (f->error)
                return INFINITY;
        }
    }
    guint best = 0;
    for (guint i = 1; i <= k; i++)
        if (val[i] < val[best])
            best = i;
    memcpy(y0, pts[best], k * sizeof(double));
    return val[best];
}

/* ------------------------------------------------------------ the fits -- */

void val_calibration_free(ValCalibration *c)
{
    if (!c)
        return;
    g_free(c->hardware);
    for (guint j = 0; j < c->num_params; j++)
        g_free(c->params[j]);
    for (guint i = 0; i < c->num_rows; i++)
        g_free(c->rows[i].experiment);
    g_free(c->rows);
    g_free(c);
}

void val_calibrate_default_params(ValExperiment *const *exps, guint n, ValCalibrateOptions *o)
{
    (void)exps;
    (void)n;
    o->num_params = 3;
    o->params[0] = "step_overhead_us";
    o->params[1] = "bw_scale";
    o->params[2] = "compute_scale";
}

static void set_values(LatParams *lp, const ValCalibrateOptions *o, const double *v)
{
    for (guint j = 0; j < o->num_params; j++) {
        char num[G_ASCII_DTOSTR_BUF_SIZE];
        char *a = g_strdup_printf("%s=%s", o->params[j], g_ascii_dtostr(num, sizeof num, v[j]));
        lat_params_set(lp, a, NULL);
        g_free(a);
    }
}

static gboolean mape_with(ValExperiment *const *exps, guint n, ScnCache *cache, const LatParams *lp,
                          double out[VAL_NUM_METRICS], GError **error)
{
    if (!val_experiments_simulate_parallel(exps, n, cache, lp, error))
        return FALSE;
    val_mape(exps, n, out);
    return TRUE;
}

ValCalibration *val_calibrate(ValExperiment *const *exps, guint n, ScnCache *cache, const LatParams *base,
                              const ValCalibrateOptions *o, GError **error)
{
    if (n == 0 || o->num_params == 0 || o->num_params > VAL_MAX_FIT) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "calibrate: expected 1 to %d constants and at least one experiment",
                    VAL_MAX_FIT);
        return NULL;
    }
    for (guint k = 1; k < n; k++)
        if (g_ascii_strcasecmp(exps[k]->hardware, exps[0]->hardware) != 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "calibrate: a profile is for one GPU, but %s runs on %s and %s on %s (calibrate each GPU "
                        "apart)",
                        exps[0]->name, exps[0]->hardware, exps[k]->name, exps[k]->hardware);
            return NULL;
        }
    ValCalibration *c = g_new0(ValCalibration, 1);
    c->hardware = g_strdup(exps[0]->hardware);
    c->num_params = o->num_params;
    double y[VAL_MAX_FIT];
    for (guint j = 0; j < o->num_params; j++) {
        double v;
        c->params[j] = g_strdup(o->params[j]);
        if (!lat_params_get(base, o->params[j], &v) || g_str_has_suffix(o->params[j], "_scheduling")) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "calibrate: '%s' is not a numeric latency constant (known: "
                        "see docs/latency.md)", o->params[j]);
            val_calibration_free(c);
            return NULL;
        }
        if (!(v > 0))
            v = 1.0; /* a constant at 0 starts at 1 (its unit) */
        c->start[j] = v;
        y[j] = log(v);
    }
    guint max_eval = o->max_evaluations ? o->max_evaluations : 40 * o->num_params;
    c->num_rows = n;
    c->rows = g_new0(ValCalibrateRow, n);
    for (guint k = 0; k < n; k++) {
        c->rows[k].experiment = g_strdup(exps[k]->name);
        for (int m = 0; m < VAL_NUM_METRICS; m++)
            c->rows[k].mape_loo[m] = NAN;
        for (guint j = 0; j < VAL_MAX_FIT; j++)
            c->rows[k].loo_values[j] = NAN;
    }

    /* the starting constants */
    LatParams lp = *base;
    set_values(&lp, o, c->start);
    if (!mape_with(exps, n, cache, &lp, c->mape_default, error))
        goto fail;
    c->objective_start = objective_of(exps, n);
    for (guint k = 0; k < n; k++)
        val_mape(&exps[k], 1, c->rows[k].mape_default);

    /* every experiment */
    Fit f = {exps, n, cache, *base, o, 0, NULL};
    c->objective = nelder_mead(&f, y, max_eval);
    c->evaluations = f.evaluations;
    if (f.error) {
        g_propagate_error(error, f.error);
        goto fail;
    }
    for (guint j = 0; j < o->num_params; j++)
        c->values[j] = exp(y[j]);

    /* leave one out, each started from the full fit */
    if (o->leave_one_out && n > 1) {
        double sum_loo[VAL_NUM_METRICS] = {0};
        guint cnt[VAL_NUM_METRICS] = {0};
        ValExperiment **rest = g_new(ValExperiment *, n - 1);
        for (guint k = 0; k < n; k++) {
            guint r = 0;
            for (guint i = 0; i < n; i++)
                if (i != k)
                    rest[r++] = exps[i];
            double yk[VAL_MAX_FIT];
            memcpy(yk, y, sizeof yk);
            Fit fk = {(ValExperiment *const *)rest, n - 1, cache, *base, o, 0, NULL};
            nelder_mead(&fk, yk, max_eval);
            if (fk.error) {
                g_propagate_error(error, fk.error);
                g_free(rest);
                goto fail;
            }
            double vk[VAL_MAX_FIT];
            for (guint j = 0; j < o->num_params; j++)
                vk[j] = c->rows[k].loo_values[j] = exp(yk[j]);
            LatParams lk = *base;
            set_values(&lk, o, vk);
            if (!mape_with(&exps[k], 1, cache, &lk, c->rows[k].mape_loo, error)) {
                g_free(rest);
                goto fail;
            }
            /* the left-out experiment's points count as in val_mape: by point */
            for (guint i = 0; i < exps[k]->points->len; i++)
                for (int m = 0; m < VAL_NUM_METRICS; m++) {
                    double e = val_point_error(g_ptr_array_index(exps[k]->points, i), (ValMetric)m);
                    if (!isnan(e)) {
                        sum_loo[m] += fabs(e);
                        cnt[m]++;
                    }
                }
        }
        g_free(rest);
        for (int m = 0; m < VAL_NUM_METRICS; m++)
            c->mape_loo[m] = cnt[m] ? sum_loo[m] / cnt[m] : NAN;
    } else {
        for (int m = 0; m < VAL_NUM_METRICS; m++)
            c->mape_loo[m] = NAN;
    }

    /* in sample, last: the experiments keep these simulated values */
    lp = *base;
    set_values(&lp, o, c->values);
    if (!mape_with(exps, n, cache, &lp, c->mape_fitted, error))
        goto fail;
    for (guint k = 0; k < n; k++)
        val_mape(&exps[k], 1, c->rows[k].mape_fitted);
    return c;
fail:
    val_calibration_free(c);
    return NULL;
}

/* ------------------------------------------------------------- reports -- */

static void add_mape(cJSON *obj, const char *name, const double *m)
{
    cJSON *o = cJSON_AddObjectToObject(obj, name);
    static const ValMetric shown[] = {VAL_TTFT_MEAN, VAL_TPOT_MEAN, VAL_E2E_MEAN};
    for (guint i = 0; i < G_N_ELEMENTS(shown); i++) {
        double v = m[shown[i]];
        if (isnan(v))
            cJSON_AddNullToObject(o, val_metric_name(shown[i]));
        else
            cJSON_AddNumberToObject(o, val_metric_name(shown[i]), v);
    }
}

char *val_calibration_profile_json(const ValCalibration *c)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", LAT_PROFILE_SCHEMA);
    cJSON_AddStringToObject(root, "hardware", c->hardware);
    char *desc = g_strdup_printf("step-time constants of %s fitted by servesim calibrate on %u experiment%s", c->hardware,
                                 c->num_rows, c->num_rows == 1 ? "" : "s");
    cJSON_AddStringToObject(root, "description", desc);
    g_free(desc);
    cJSON *params = cJSON_AddObjectToObject(root, "params");
    cJSON *start = cJSON_AddObjectToObject(root, "start");
    for (guint j = 0; j < c->num_params; j++) {
        cJSON_AddNumberToObject(params, c->params[j], c->values[j]);
        cJSON_AddNumberToObject(start, c->params[j], c->start[j]);
    }
    cJSON *fitted = cJSON_AddArrayToObject(root, "fitted_on");
    for (guint i = 0; i < c->num_rows; i++)
        cJSON_AddItemToArray(fitted, cJSON_CreateString(c->rows[i].experiment));
    cJSON *err = cJSON_AddObjectToObject(root, "mape_percent");
    add_mape(err, "start", c->mape_default);
    add_mape(err, "in_sample", c->mape_fitted);
    add_mape(err, "leave_one_experiment_out", c->mape_loo);
    cJSON *rows = cJSON_AddArrayToObject(root, "experiments");
    for (guint i = 0; i < c->num_rows; i++) {
        const ValCalibrateRow *r = &c->rows[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->experiment);
        add_mape(o, "start", r->mape_default);
        add_mape(o, "in_sample", r->mape_fitted);
        add_mape(o, "left_out", r->mape_loo);
        if (!isnan(r->loo_values[0])) {
            cJSON *lv = cJSON_AddObjectToObject(o, "params_without_it");
            for (guint j = 0; j < c->num_params; j++)
                cJSON_AddNumberToObject(lv, c->params[j], r->loo_values[j]);
        }
        cJSON_AddItemToArray(rows, o);
    }
    cJSON_AddNumberToObject(root, "evaluations", c->evaluations);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char *out = g_strdup_printf("%s\n", text);
    cJSON_free(text);
    return out;
}

static void print_mape3(FILE *out, const double *m)
{
    static const ValMetric shown[] = {VAL_TTFT_MEAN, VAL_TPOT_MEAN, VAL_E2E_MEAN};
    for (guint i = 0; i < G_N_ELEMENTS(shown); i++) {
        if (isnan(m[shown[i]]))
            fprintf(out, " %7s", "-");
        else
            fprintf(out, " %6.1f%%", m[shown[i]]);
    }
}

void val_calibration_print(FILE *out, const ValCalibration *c)
{
    fprintf(out, "servesim calibrate: %s, %u experiment%s, %u evaluations (objective %.4g -> %.4g)\n\n", c->hardware,
            c->num_rows, c->num_rows == 1 ? "" : "s", c->evaluations, c->objective_start, c->objective);
    fprintf(out, "  %-26s %12s %12s\n", "constant", "start", "fitted");
    for (guint j = 0; j < c->num_params; j++)
        fprintf(out, "  %-26s %12.4g %12.4g\n", c->params[j], c->start[j], c->values[j]);
    fprintf(out, "\n  MAPE (TTFT, TPOT, E2E means)  %-24s %-24s %-24s\n", "start", "fitted on all (in sample)",
            "left out (out of sample)");
    for (guint i = 0; i < c->num_rows; i++) {
        const ValCalibrateRow *r = &c->rows[i];
        fprintf(out, "  %-30.30s", r->experiment);
        print_mape3(out, r->mape_default);
        fputs(" ", out);
        print_mape3(out, r->mape_fitted);
        fputs(" ", out);
        print_mape3(out, r->mape_loo);
        fputc('\n', out);
    }
    fprintf(out, "  %-30s", "all points");
    print_mape3(out, c->mape_default);
    fputs(" ", out);
    print_mape3(out, c->mape_fitted);
    fputs(" ", out);
    print_mape3(out, c->mape_loo);
    fputc('\n', out);
    if (c->num_rows < 2)
        fprintf(out, "\n  one experiment: no leave-one-out error; the fitted error is in sample only\n");
}
