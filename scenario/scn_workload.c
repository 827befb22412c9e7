/*
 * scn_workload.c: reads the "workload" object of a scenario (cJSON) into the
 * workload module's types.
 *
 * Two shapes: a synthetic workload (num_requests / duration_s, "arrival",
 * and either "classes" or a single class given by top-level "input",
 * "output", "prefix" and "session") or {"trace": {...}}. The reader checks JSON types,
 * required and unknown keys here, and leaves value rules (positive rates,
 * bounds, shares, ...) to the workload module's validators, called with the
 * JSON path of each piece so that every message names the exact field.
 * Cost: O(size of the object). Limits: the first error stops the reading;
 * duplicate keys are errors (cJSON would silently keep the first).
 */
#include "scn_workload.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "ss_error.h"

typedef struct {
    const char *origin;
    const char *base_dir;
} Ctx;

G_GNUC_PRINTF(4, 5)
static gboolean fail(const Ctx *c, GError **error, const char *path, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s%s%s: %s", c->origin ? c->origin : "",
                c->origin ? ": " : "", path, msg);
    g_free(msg);
    return FALSE;
}

/* A short rendering of a JSON value for messages (g_free). */
static char *json_text(const cJSON *v)
{
    if (!v)
        return g_strdup("nothing");
    if (cJSON_IsNumber(v))
        return g_strdup_printf("%g", v->valuedouble);
    char *printed = cJSON_PrintUnformatted(v);
    char *out;
    if (!printed)
        out = g_strdup("?");
    else if (strlen(printed) > 60)
        out = g_strdup_printf("%.57s...", printed);
    else
        out = g_strdup(printed);
    cJSON_free(printed);
    return out;
}

static char *sub(const char *path, const char *key)
{
    return g_strdup_printf("%s.%s", path, key);
}

static gboolean is_object(const Ctx *c, const cJSON *obj, const char *path, GError **error)
{
    if (cJSON_IsObject(obj))
        return TRUE;
    g_autofree char *got = json_text(obj);
    return fail(c, error, path, "expected an object, got %s", got);
}

/* Checks that `obj` is an object whose keys are all in `allowed` (NULL-
 * terminated), each once. `what` describes the allowed set in messages. */
static gboolean check_object(const Ctx *c, const cJSON *obj, const char *path,
                             const char *const *allowed, const char *what, GError **error)
{
    if (!is_object(c, obj, path, error))
        return FALSE;
    for (const cJSON *item = obj->child; item; item = item->next) {
        gboolean known = FALSE;
        for (const char *const *a = allowed; *a && !known; a++)
            known = strcmp(*a, item->string) == 0;
        g_autofree char *p = sub(path, item->string);
        if (!known) {
            g_autofree char *list = g_strjoinv(", ", (char **)allowed);
            return fail(c, error, p, "unknown key (expected %s%s%s)", what ? what : "one of: ",
                        what ? ": " : "", list);
        }
        for (const cJSON *other = item->next; other; other = other->next)
            if (strcmp(other->string, item->string) == 0)
                return fail(c, error, p, "expected each key once, got it twice");
    }
    return TRUE;
}

/* A number field: *present tells whether it was there. */
static gboolean get_number(const Ctx *c, const cJSON *obj, const char *path, const char *key,
                           gboolean required, double *out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && !required)
        return TRUE;
    if (!cJSON_IsNumber(v)) {
        g_autofree char *p = sub(path, key);
        g_autofree char *got = json_text(v);
        return fail(c, error, p, "expected a number, got %s", got);
    }
    *out = v->valuedouble;
    return TRUE;
}

static gboolean get_uint(const Ctx *c, const cJSON *obj, const char *path, const char *key,
                         gboolean required, guint64 max, guint64 *out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && !required)
        return TRUE;
    double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(isfinite(x) && x >= 0.0 && floor(x) == x && x <= (double)max)) {
        g_autofree char *p = sub(path, key);
        g_autofree char *got = json_text(v);
        return fail(c, error, p, "expected an integer from 0 to %" G_GUINT64_FORMAT ", got %s",
                    max, got);
    }
    *out = (guint64)x;
    return TRUE;
}

/* A string field (borrowed from the JSON); NULL when absent and optional. */
static gboolean get_string(const Ctx *c, const cJSON *obj, const char *path, const char *key,
                           gboolean required, const char **out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v && !required)
        return TRUE;
    if (!cJSON_IsString(v) || !*v->valuestring) {
        g_autofree char *p = sub(path, key);
        g_autofree char *got = json_text(v);
        return fail(c, error, p, "expected a non-empty string, got %s", got);
    }
    *out = v->valuestring;
    return TRUE;
}

static char *resolve(const Ctx *c, const char *file)
{
    if (!c->base_dir || !*c->base_dir || g_path_is_absolute(file))
        return g_strdup(file);
    return g_build_filename(c->base_dir, file, NULL);
}

static gboolean parse_points(const Ctx *c, const cJSON *pts, const char *path, WlArrivalSpec *a,
                             GError **error)
{
    if (!cJSON_IsArray(pts) || cJSON_GetArraySize(pts) == 0) {
        g_autofree char *got = json_text(pts);
        return fail(c, error, path, "expected a non-empty array of [time_s, rate] points, got %s",
                    got);
    }
    guint n = (guint)cJSON_GetArraySize(pts);
    a->num_points = n;
    a->times_s = g_new0(double, n);
    a->rates = g_new0(double, n);
    guint i = 0;
    for (const cJSON *p = pts->child; p; p = p->next, i++) {
        if (!cJSON_IsArray(p) || cJSON_GetArraySize(p) != 2 || !cJSON_IsNumber(p->child) ||
            !cJSON_IsNumber(p->child->next)) {
            g_autofree char *pp = g_strdup_printf("%s[%u]", path, i);
            g_autofree char *got = json_text(p);
            return fail(c, error, pp, "expected [time_s, rate] (two numbers), got %s", got);
        }
        a->times_s[i] = p->child->valuedouble;
        a->rates[i] = p->child->next->valuedouble;
    }
    return TRUE;
}

static gboolean parse_arrival(const Ctx *c, const cJSON *obj, const char *path, WlArrivalSpec *a,
                              GError **error)
{
    static const char *const rate_only[] = {"process", "rate", NULL};
    static const char *const gamma[] = {"process", "rate", "cv", NULL};
    static const char *const piecewise[] = {"process", "points", NULL};
    if (!is_object(c, obj, path, error))
        return FALSE;
    const char *process = NULL;
    if (!get_string(c, obj, path, "process", TRUE, &process, error))
        return FALSE;
    const char *const *allowed;
    if (strcmp(process, "poisson") == 0) {
        a->kind = WL_ARRIVAL_POISSON;
        allowed = rate_only;
    } else if (strcmp(process, "constant") == 0) {
        a->kind = WL_ARRIVAL_CONSTANT;
        allowed = rate_only;
    } else if (strcmp(process, "gamma") == 0) {
        a->kind = WL_ARRIVAL_GAMMA;
        allowed = gamma;
    } else if (strcmp(process, "piecewise") == 0) {
        a->kind = WL_ARRIVAL_PIECEWISE;
        allowed = piecewise;
    } else {
        g_autofree char *p = sub(path, "process");
        return fail(c, error, p, "expected one of poisson, gamma, constant, piecewise, got \"%s\"",
                    process);
    }
    g_autofree char *what = g_strdup_printf("for process \"%s\" one of", process);
    if (!check_object(c, obj, path, allowed, what, error))
        return FALSE;
    if (a->kind == WL_ARRIVAL_PIECEWISE) {
        g_autofree char *p = sub(path, "points");
        if (!parse_points(c, cJSON_GetObjectItemCaseSensitive(obj, "points"), p, a, error))
            return FALSE;
    } else {
        if (!get_number(c, obj, path, "rate", TRUE, &a->rate, error))
            return FALSE;
        if (a->kind == WL_ARRIVAL_GAMMA && !get_number(c, obj, path, "cv", TRUE, &a->cv, error))
            return FALSE;
    }
    return wl_arrival_spec_validate(a, c->origin, path, error);
}

static gboolean dist_validate(const Ctx *c, const WlDistSpec *d, const char *path, gboolean seconds,
                              GError **error)
{
    return seconds ? wl_seconds_dist_spec_validate(d, c->origin, path, error)
                   : wl_dist_spec_validate(d, c->origin, path, error);
}

/* A distribution of token counts, or of seconds (think times). */
static gboolean parse_dist(const Ctx *c, const cJSON *obj, const char *path, gboolean seconds,
                           WlDistSpec *d, GError **error)
{
    static const char *const constant[] = {"dist", "value", NULL};
    static const char *const uniform[] = {"dist", "min", "max", NULL};
    static const char *const moments[] = {"dist", "mean", "stddev", "min", "max", NULL};
    static const char *const empirical[] = {"dist", "path", "column", "min", "max", NULL};
    if (!is_object(c, obj, path, error))
        return FALSE;
    const char *name = NULL;
    if (!get_string(c, obj, path, "dist", TRUE, &name, error))
        return FALSE;
    const char *const *allowed;
    if (strcmp(name, "constant") == 0) {
        d->kind = WL_DIST_CONSTANT;
        allowed = constant;
    } else if (strcmp(name, "uniform") == 0) {
        d->kind = WL_DIST_UNIFORM;
        allowed = uniform;
    } else if (strcmp(name, "normal") == 0) {
        d->kind = WL_DIST_NORMAL;
        allowed = moments;
    } else if (strcmp(name, "lognormal") == 0) {
        d->kind = WL_DIST_LOGNORMAL;
        allowed = moments;
    } else if (strcmp(name, "empirical") == 0) {
        d->kind = WL_DIST_EMPIRICAL;
        allowed = empirical;
    } else {
        g_autofree char *p = sub(path, "dist");
        return fail(c, error, p,
                    "expected one of constant, uniform, normal, lognormal, empirical, got \"%s\"",
                    name);
    }
    g_autofree char *what = g_strdup_printf("for dist \"%s\" one of", name);
    if (!check_object(c, obj, path, allowed, what, error))
        return FALSE;
    switch (d->kind) {
    case WL_DIST_CONSTANT:
        return get_number(c, obj, path, "value", TRUE, &d->value, error) &&
               dist_validate(c, d, path, seconds, error);
    case WL_DIST_UNIFORM:
        return get_number(c, obj, path, "min", TRUE, &d->min, error) &&
               get_number(c, obj, path, "max", TRUE, &d->max, error) &&
               dist_validate(c, d, path, seconds, error);
    case WL_DIST_NORMAL:
    case WL_DIST_LOGNORMAL:
        return get_number(c, obj, path, "mean", TRUE, &d->mean, error) &&
               get_number(c, obj, path, "stddev", TRUE, &d->stddev, error) &&
               get_number(c, obj, path, "min", FALSE, &d->min, error) &&
               get_number(c, obj, path, "max", FALSE, &d->max, error) &&
               dist_validate(c, d, path, seconds, error);
    case WL_DIST_EMPIRICAL: {
        const char *file = NULL, *column = NULL;
        if (!get_string(c, obj, path, "path", TRUE, &file, error) ||
            !get_string(c, obj, path, "column", TRUE, &column, error))
            return FALSE;
        d->path = resolve(c, file);
        d->column = g_strdup(column);
        return get_number(c, obj, path, "min", FALSE, &d->min, error) &&
               get_number(c, obj, path, "max", FALSE, &d->max, error) &&
               dist_validate(c, d, path, seconds, error);
    }
    }
    return FALSE;
}

/* A class's "session" object: multi-turn sessions. */
static gboolean parse_session(const Ctx *c, const cJSON *obj, const char *path, WlClassSpec *cls,
                              GError **error)
{
    static const char *const keys[] = {"turns",  "new_tokens", "think_s", "answer_tokens_per_s",
                                       "max_input_tokens", NULL};
    static const char *const dists[] = {"turns", "new_tokens", "think_s"};
    WlSessionSpec *ss = &cls->session;
    WlDistSpec *targets[] = {&ss->turns, &ss->new_tokens, &ss->think_s};
    if (!check_object(c, obj, path, keys, NULL, error))
        return FALSE;
    cls->multi_turn = TRUE;
    for (gsize i = 0; i < G_N_ELEMENTS(dists); i++) {
        g_autofree char *p = sub(path, dists[i]);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(obj, dists[i]);
        if (!d)
            return fail(c, error, p, "expected a %s distribution, got nothing",
                        i == 2 ? "seconds" : "count");
        if (!parse_dist(c, d, p, i == 2, targets[i], error))
            return FALSE;
    }
    guint64 max_input = 0;
    if (!get_number(c, obj, path, "answer_tokens_per_s", FALSE, &ss->answer_tokens_per_s, error) ||
        !get_uint(c, obj, path, "max_input_tokens", FALSE, WL_MAX_TOKENS, &max_input, error))
        return FALSE;
    ss->max_input_tokens = (guint)max_input;
    return TRUE;
}

static gboolean parse_prefix(const Ctx *c, const cJSON *obj, const char *path, WlClassSpec *cls,
                             GError **error)
{
    static const char *const keys[] = {"groups", "tokens", NULL};
    guint64 groups = 0, tokens = 0;
    if (!check_object(c, obj, path, keys, NULL, error) ||
        !get_uint(c, obj, path, "groups", TRUE, 1000000, &groups, error) ||
        !get_uint(c, obj, path, "tokens", TRUE, WL_MAX_TOKENS, &tokens, error))
        return FALSE;
    cls->prefix_groups = (guint)groups;
    cls->prefix_tokens = (guint)tokens;
    return TRUE;
}

/* A class's "priority" (an integer, lower first) and "lora": an adapter
 * name, or {"adapters": N, "name": "prefix", "zipf": s}. */
static gboolean parse_options(const Ctx *c, const cJSON *obj, const char *path, WlClassSpec *cls, GError **error)
{
    const cJSON *prio = cJSON_GetObjectItemCaseSensitive(obj, "priority");
    if (prio) {
        g_autofree char *p = sub(path, "priority");
        if (!cJSON_IsNumber(prio) || prio->valuedouble != floor(prio->valuedouble) ||
            prio->valuedouble < G_MININT32 || prio->valuedouble > G_MAXINT32) {
            g_autofree char *got = json_text(prio);
            return fail(c, error, p, "expected an integer (lower is served first), got %s", got);
        }
        cls->priority = (int)prio->valuedouble;
    }
    const cJSON *lora = cJSON_GetObjectItemCaseSensitive(obj, "lora");
    if (!lora || cJSON_IsNull(lora))
        return TRUE;
    g_autofree char *lp = sub(path, "lora");
    if (cJSON_IsString(lora)) {
        if (!*lora->valuestring)
            return fail(c, error, lp, "expected an adapter name, got an empty string");
        cls->lora_adapters = 1;
        cls->lora_name = g_strdup(lora->valuestring);
        return TRUE;
    }
    static const char *const keys[] = {"adapters", "name", "zipf", NULL};
    guint64 n = 0;
    const char *name = NULL;
    if (!cJSON_IsObject(lora))
        return fail(c, error, lp, "expected an adapter name or {\"adapters\": N, \"name\": ..., \"zipf\": s}");
    if (!check_object(c, lora, lp, keys, NULL, error) ||
        !get_uint(c, lora, lp, "adapters", TRUE, 1000000, &n, error) ||
        !get_string(c, lora, lp, "name", FALSE, &name, error) ||
        !get_number(c, lora, lp, "zipf", FALSE, &cls->lora_zipf, error))
        return FALSE;
    if (n == 0) {
        g_autofree char *ap = sub(lp, "adapters");
        return fail(c, error, ap, "expected a positive number of adapters, got 0");
    }
    cls->lora_adapters = (guint)n;
    cls->lora_name = name ? g_strdup(name) : NULL;
    return TRUE;
}

/* A class at `path`. top: the single class given by the workload object
 * itself (its keys were checked with the workload's; name "default"). */
static gboolean parse_class(const Ctx *c, const cJSON *obj, const char *path, gboolean top,
                            WlClassSpec *cls, GError **error)
{
    static const char *const keys[] = {"name", "share", "input", "output", "prefix", "session", "priority", "lora",
                                       NULL};
    cls->share = 1.0;
    if (top) {
        cls->name = g_strdup("default");
    } else {
        const char *name = NULL;
        if (!check_object(c, obj, path, keys, NULL, error) ||
            !get_string(c, obj, path, "name", TRUE, &name, error) ||
            !get_number(c, obj, path, "share", FALSE, &cls->share, error))
            return FALSE;
        cls->name = g_strdup(name);
    }
    g_autofree char *in_path = sub(path, "input");
    g_autofree char *out_path = sub(path, "output");
    g_autofree char *prefix_path = sub(path, "prefix");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(obj, "input");
    const cJSON *output = cJSON_GetObjectItemCaseSensitive(obj, "output");
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(obj, "prefix");
    const cJSON *session = cJSON_GetObjectItemCaseSensitive(obj, "session");
    if (!input)
        return fail(c, error, in_path, "expected a length distribution, got nothing");
    if (!output)
        return fail(c, error, out_path, "expected a length distribution, got nothing");
    if (!parse_dist(c, input, in_path, FALSE, &cls->input, error) ||
        !parse_dist(c, output, out_path, FALSE, &cls->output, error))
        return FALSE;
    if (prefix && !parse_prefix(c, prefix, prefix_path, cls, error))
        return FALSE;
    g_autofree char *session_path = sub(path, "session");
    if (session && !parse_session(c, session, session_path, cls, error))
        return FALSE;
    if (!parse_options(c, obj, path, cls, error))
        return FALSE;
    return wl_class_spec_validate(cls, c->origin, path, error);
}

/* "columns": {"arrival": "timestamp", "input": "prompt_len", ...} or the
 * same as text "arrival=timestamp,input=prompt_len". */
static gboolean parse_columns(const Ctx *c, const cJSON *cols, const char *path, WlTraceColumns *out,
                              GError **error)
{
    g_autofree char *p = sub(path, "columns");
    GString *text = g_string_new(NULL);
    gboolean ok = FALSE;
    if (cJSON_IsString(cols)) {
        g_string_append(text, cols->valuestring);
    } else if (cJSON_IsObject(cols)) {
        for (const cJSON *it = cols->child; it; it = it->next) {
            if (!cJSON_IsString(it)) {
                g_autofree char *got = json_text(it);
                fail(c, error, p, "%s: expected a column name, got %s", it->string, got);
                goto out;
            }
            g_string_append_printf(text, "%s%s=%s", text->len ? "," : "", it->string, it->valuestring);
        }
    } else {
        g_autofree char *got = json_text(cols);
        fail(c, error, p, "expected {\"arrival\": COLUMN, \"input\": COLUMN, ...}, got %s", got);
        goto out;
    }
    GError *err = NULL;
    if (!wl_trace_columns_parse(text->str, out, &err)) {
        fail(c, error, p, "%s", err->message);
        g_error_free(err);
        goto out;
    }
    ok = TRUE;
out:
    g_string_free(text, TRUE);
    return ok;
}

static gboolean parse_trace(const Ctx *c, const cJSON *obj, const char *path, char **trace_path,
                            WlTraceOptions *o, GError **error)
{
    static const char *const keys[] = {"path", "format",        "time_scale",  "rate",    "limit",
                                       "skip", "skip_bad_rows", "time_format", "columns", "sort",
                                       NULL};
    const char *file = NULL, *format = NULL, *time_format = NULL;
    if (!check_object(c, obj, path, keys, NULL, error) ||
        !get_string(c, obj, path, "path", TRUE, &file, error) ||
        !get_string(c, obj, path, "format", FALSE, &format, error) ||
        !get_number(c, obj, path, "time_scale", FALSE, &o->time_scale, error) ||
        !get_number(c, obj, path, "rate", FALSE, &o->rate, error) ||
        !get_uint(c, obj, path, "limit", FALSE, G_MAXUINT64 / 2, &o->limit, error) ||
        !get_uint(c, obj, path, "skip", FALSE, G_MAXUINT64 / 2, &o->skip, error))
        return FALSE;
    if (format && !wl_trace_format_from_name(format, &o->format)) {
        g_autofree char *p = sub(path, "format");
        return fail(c, error, p, "expected one of auto, servesim, azure, vidur, vllm-bench, got \"%s\"", format);
    }
    if (!get_string(c, obj, path, "time_format", FALSE, &time_format, error))
        return FALSE;
    if (time_format && !wl_time_format_from_name(time_format, &o->time_format)) {
        g_autofree char *p = sub(path, "time_format");
        return fail(c, error, p,
                    "expected one of auto, seconds, milliseconds, epoch-s, epoch-ms, epoch-us, epoch-ns, iso8601, "
                    "got \"%s\"", time_format);
    }
    static const char *const bools[] = {"skip_bad_rows", "sort"};
    gboolean *bool_out[] = {&o->skip_bad_rows, &o->sort};
    for (gsize i = 0; i < G_N_ELEMENTS(bools); i++) {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(obj, bools[i]);
        if (!b)
            continue;
        if (!cJSON_IsBool(b)) {
            g_autofree char *p = sub(path, bools[i]);
            g_autofree char *got = json_text(b);
            return fail(c, error, p, "expected true or false, got %s", got);
        }
        *bool_out[i] = cJSON_IsTrue(b);
    }
    const cJSON *cols = cJSON_GetObjectItemCaseSensitive(obj, "columns");
    if (cols && !parse_columns(c, cols, path, &o->columns, error))
        return FALSE;
    if (!wl_trace_options_validate(o, c->origin, path, error))
        return FALSE;
    *trace_path = resolve(c, file);
    return TRUE;
}

static gboolean parse_synthetic(const Ctx *c, const cJSON *w, WlSpec *spec, GError **error)
{
    static const char *const keys[] = {"num_requests", "duration_s", "arrival", "classes",  "input",
                                       "output",       "prefix",     "session", "priority", "lora", NULL};
    if (!check_object(c, w, "workload", keys, NULL, error) ||
        !get_uint(c, w, "workload", "num_requests", FALSE, G_MAXUINT64 / 2, &spec->num_requests,
                  error) ||
        !get_number(c, w, "workload", "duration_s", FALSE, &spec->duration_s, error))
        return FALSE;
    if (!cJSON_GetObjectItemCaseSensitive(w, "num_requests") &&
        !cJSON_GetObjectItemCaseSensitive(w, "duration_s"))
        return fail(c, error, "workload", "expected num_requests or duration_s (when to stop), got "
                                          "neither");
    const cJSON *arrival = cJSON_GetObjectItemCaseSensitive(w, "arrival");
    if (!arrival)
        return fail(c, error, "workload.arrival", "expected an arrival process, got nothing");
    if (!parse_arrival(c, arrival, "workload.arrival", &spec->arrival, error))
        return FALSE;
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(w, "classes");
    if (classes) {
        static const char *const single[] = {"input", "output", "prefix", "session", "priority", "lora"};
        for (gsize i = 0; i < G_N_ELEMENTS(single); i++) {
            if (cJSON_GetObjectItemCaseSensitive(w, single[i])) {
                g_autofree char *p = sub("workload", single[i]);
                return fail(c, error, p,
                            "expected no top-level %s with workload.classes (give it to each "
                            "class)",
                            single[i]);
            }
        }
        int n = cJSON_GetArraySize(classes);
        if (!cJSON_IsArray(classes) || n == 0 || (guint)n > WL_MAX_CLASSES) {
            g_autofree char *got = json_text(classes);
            return fail(c, error, "workload.classes",
                        "expected an array of 1 to %u classes, got %s", WL_MAX_CLASSES, got);
        }
        spec->classes = g_new0(WlClassSpec, (guint)n);
        spec->num_classes = (guint)n;
        guint i = 0;
        for (const cJSON *cls = classes->child; cls; cls = cls->next, i++) {
            g_autofree char *p = g_strdup_printf("workload.classes[%u]", i);
            if (!parse_class(c, cls, p, FALSE, &spec->classes[i], error))
                return FALSE;
        }
    } else {
        spec->classes = g_new0(WlClassSpec, 1);
        spec->num_classes = 1;
        if (!parse_class(c, w, "workload", TRUE, &spec->classes[0], error))
            return FALSE;
    }
    return wl_spec_validate(spec, c->origin, error);
}

gboolean scn_workload_parse(const cJSON *workload, const char *origin, const char *base_dir,
                            WlSpec *spec, gboolean *is_trace, char **trace_path,
                            WlTraceOptions *trace_opts, GError **error)
{
    Ctx c = {origin, base_dir};
    *trace_path = NULL;
    *is_trace = FALSE;
    wl_trace_options_init(trace_opts);
    if (!cJSON_IsObject(workload)) {
        g_autofree char *got = json_text(workload);
        return fail(&c, error, "workload", "expected an object, got %s", got);
    }
    const cJSON *trace = cJSON_GetObjectItemCaseSensitive(workload, "trace");
    if (trace) {
        for (const cJSON *item = workload->child; item; item = item->next) {
            if (strcmp(item->string, "trace") != 0) {
                g_autofree char *p = sub("workload", item->string);
                return fail(&c, error, p,
                            "unknown key with workload.trace (a trace gives the arrivals and "
                            "lengths; expected only \"trace\")");
            }
        }
        *is_trace = parse_trace(&c, trace, "workload.trace", trace_path, trace_opts, error);
        return *is_trace;
    }
    if (!parse_synthetic(&c, workload, spec, error)) {
        wl_spec_clear(spec);
        return FALSE;
    }
    return TRUE;
}
