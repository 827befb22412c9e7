/*
 * wl_spec.c: the synthetic workload description (init, clear, copy, rate
 * scaling) and its checks, plus the trace options and format names.
 *
 * A WlSpec is plain data: arrival process, classes, stop rule. Validation is
 * split by piece (arrival, distribution, class) so that the scenario parser
 * can check each piece under its own JSON path; every message reads
 * "origin: path.field: expected ..., got ...". Cost: O(classes + points)
 * (the class-name uniqueness check uses a hash set; no iteration order leaks
 * into the messages, which follow the class order). Limits: checks are about
 * values only; an empirical CSV file is opened and read by
 * wl_source_new_synthetic, not here.
 */
#include "wl_internal.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

void wl_spec_init(WlSpec *spec)
{
    memset(spec, 0, sizeof *spec);
}

void wl_dist_spec_clear(WlDistSpec *d)
{
    g_free(d->path);
    g_free(d->column);
    memset(d, 0, sizeof *d);
}

void wl_spec_clear(WlSpec *spec)
{
    g_free(spec->arrival.times_s);
    g_free(spec->arrival.rates);
    for (guint i = 0; i < spec->num_classes; i++) {
        g_free(spec->classes[i].name);
        wl_dist_spec_clear(&spec->classes[i].input);
        wl_dist_spec_clear(&spec->classes[i].output);
        wl_dist_spec_clear(&spec->classes[i].session.turns);
        wl_dist_spec_clear(&spec->classes[i].session.new_tokens);
        wl_dist_spec_clear(&spec->classes[i].session.think_s);
        g_free(spec->classes[i].lora_name);
    }
    g_free(spec->classes);
    wl_spec_init(spec);
}

static void dist_copy(WlDistSpec *dst, const WlDistSpec *src)
{
    *dst = *src;
    dst->path = g_strdup(src->path);
    dst->column = g_strdup(src->column);
}

void wl_spec_copy(WlSpec *dst, const WlSpec *src)
{
    *dst = *src;
    guint n = src->arrival.num_points;
    dst->arrival.times_s = n ? g_memdup2(src->arrival.times_s, n * sizeof(double)) : NULL;
    dst->arrival.rates = n ? g_memdup2(src->arrival.rates, n * sizeof(double)) : NULL;
    dst->classes = src->num_classes ? g_new0(WlClassSpec, src->num_classes) : NULL;
    for (guint i = 0; i < src->num_classes; i++) {
        dst->classes[i] = src->classes[i];
        dst->classes[i].name = g_strdup(src->classes[i].name);
        dist_copy(&dst->classes[i].input, &src->classes[i].input);
        dist_copy(&dst->classes[i].output, &src->classes[i].output);
        dist_copy(&dst->classes[i].session.turns, &src->classes[i].session.turns);
        dist_copy(&dst->classes[i].session.new_tokens, &src->classes[i].session.new_tokens);
        dist_copy(&dst->classes[i].session.think_s, &src->classes[i].session.think_s);
        dst->classes[i].lora_name = g_strdup(src->classes[i].lora_name);
    }
}

void wl_spec_scale_rate(WlSpec *spec, double factor)
{
    g_return_if_fail(factor > 0.0); /* a contract on the caller (a load factor), not input */
    spec->arrival.rate *= factor;
    for (guint i = 0; i < spec->arrival.num_points; i++)
        spec->arrival.rates[i] *= factor;
}

void wl_set_error(GError **error, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    g_set_error_literal(error, SS_ERROR, SS_ERROR_INPUT, msg);
    g_free(msg);
}

/* "origin: path.field: <message>"; origin, path and field may each be NULL. */
G_GNUC_PRINTF(5, 6)
static gboolean field_error(GError **error, const char *origin, const char *path,
                            const char *field, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    char *msg = g_strdup_vprintf(format, ap);
    va_end(ap);
    gboolean has_path = path && *path;
    gboolean has_field = field && *field;
    wl_set_error(error, "%s%s%s%s%s: %s", origin && *origin ? origin : "",
                 origin && *origin ? ": " : "", has_path ? path : "",
                 has_path && has_field ? "." : "", has_field ? field : "", msg);
    g_free(msg);
    return FALSE;
}

static gboolean is_integer(double x)
{
    return isfinite(x) && floor(x) == x;
}

/* "a rate from 2.5e-10 to 1e+09 requests/s (...)": the message of an out-of-range rate. */
#define RATE_EXPECTED                                                                              \
    "expected a rate from %g to %g requests/s (at least one request per simulated-time limit of " \
    "%g s, at most one per nanosecond), got %g"

gboolean wl_arrival_spec_validate(const WlArrivalSpec *a, const char *origin, const char *path,
                                  GError **error)
{
    switch (a->kind) {
    case WL_ARRIVAL_POISSON:
    case WL_ARRIVAL_CONSTANT:
    case WL_ARRIVAL_GAMMA:
        if (!(isfinite(a->rate) && a->rate > 0.0))
            return field_error(error, origin, path, "rate", "expected a positive number, got %g",
                               a->rate);
        if (!sim_rate_in_range(a->rate))
            return field_error(error, origin, path, "rate", RATE_EXPECTED, SIM_RATE_MIN,
                               SIM_RATE_MAX, SIM_TIME_LIMIT_S, a->rate);
        if (a->kind == WL_ARRIVAL_GAMMA && !(isfinite(a->cv) && a->cv > 0.0))
            return field_error(error, origin, path, "cv", "expected a positive number, got %g",
                               a->cv);
        if (a->kind == WL_ARRIVAL_GAMMA && a->cv > WL_MAX_CV)
            return field_error(error, origin, path, "cv",
                               "expected at most %g (beyond, gamma gaps underflow to 0), got %g",
                               WL_MAX_CV, a->cv);
        return TRUE;
    case WL_ARRIVAL_PIECEWISE: {
        if (a->num_points == 0)
            return field_error(error, origin, path, "points",
                               "expected at least one [time_s, rate] point, got none");
        gboolean any_positive = FALSE;
        for (guint i = 0; i < a->num_points; i++) {
            char field[64];
            double t = a->times_s[i];
            g_snprintf(field, sizeof field, "points[%u][0]", i);
            if (i == 0 && t != 0.0)
                return field_error(error, origin, path, field,
                                   "expected 0 (the first point starts at time 0), got %g", t);
            if (i > 0 && !(isfinite(t) && t > a->times_s[i - 1]))
                return field_error(error, origin, path, field, "expected a time after %g, got %g",
                                   a->times_s[i - 1], t);
            if (!sim_seconds_in_range(t))
                return field_error(error, origin, path, field,
                                   "expected a time of at most %g s (the simulated-time limit), got %g",
                                   SIM_TIME_LIMIT_S, t);
            g_snprintf(field, sizeof field, "points[%u][1]", i);
            double r = a->rates[i];
            if (!(isfinite(r) && r >= 0.0))
                return field_error(error, origin, path, field,
                                   "expected a non-negative rate, got %g", r);
            if (r != 0.0 && !sim_rate_in_range(r))
                return field_error(error, origin, path, field, "expected 0 or a rate from %g to %g "
                                   "requests/s, got %g", SIM_RATE_MIN, SIM_RATE_MAX, r);
            any_positive |= r > 0.0;
        }
        if (!any_positive)
            return field_error(error, origin, path, "points",
                               "expected at least one positive rate, got only zeros");
        return TRUE;
    }
    }
    return field_error(error, origin, path, "process", "unknown arrival process %d", (int)a->kind);
}

/* min and max of the clamped distributions (normal, lognormal, empirical). */
static gboolean check_clamp(const WlDistSpec *d, const char *origin, const char *path,
                            GError **error)
{
    if (!(isfinite(d->min) && d->min >= 0.0 && d->min <= WL_MAX_TOKENS))
        return field_error(error, origin, path, "min",
                           "expected a number from 0 to %u, got %g", WL_MAX_TOKENS, d->min);
    double lo = d->min > 1.0 ? d->min : 1.0;
    if (d->max != 0.0 && !(isfinite(d->max) && d->max >= lo && d->max <= WL_MAX_TOKENS))
        return field_error(error, origin, path, "max",
                           "expected 0 (no limit) or a number from %g to %u, got %g", lo,
                           WL_MAX_TOKENS, d->max);
    return TRUE;
}

gboolean wl_dist_spec_validate(const WlDistSpec *d, const char *origin, const char *path,
                               GError **error)
{
    switch (d->kind) {
    case WL_DIST_CONSTANT:
        if (!(isfinite(d->value) && d->value >= 1.0 && d->value <= WL_MAX_TOKENS))
            return field_error(error, origin, path, "value",
                               "expected a number from 1 to %u, got %g", WL_MAX_TOKENS, d->value);
        return TRUE;
    case WL_DIST_UNIFORM:
        if (!(is_integer(d->min) && d->min >= 1.0 && d->min <= WL_MAX_TOKENS))
            return field_error(error, origin, path, "min",
                               "expected an integer from 1 to %u, got %g", WL_MAX_TOKENS, d->min);
        if (!(is_integer(d->max) && d->max >= d->min && d->max <= WL_MAX_TOKENS))
            return field_error(error, origin, path, "max",
                               "expected an integer from %g (min) to %u, got %g", d->min,
                               WL_MAX_TOKENS, d->max);
        return TRUE;
    case WL_DIST_NORMAL:
    case WL_DIST_LOGNORMAL:
        if (!(isfinite(d->mean) && d->mean > 0.0 && d->mean <= WL_MAX_TOKENS))
            return field_error(error, origin, path, "mean", "expected a positive number, got %g",
                               d->mean);
        if (!(isfinite(d->stddev) && d->stddev >= 0.0 && d->stddev <= WL_MAX_TOKENS))
            return field_error(error, origin, path, "stddev",
                               "expected a non-negative number, got %g", d->stddev);
        return check_clamp(d, origin, path, error);
    case WL_DIST_EMPIRICAL:
        if (!d->path || !*d->path)
            return field_error(error, origin, path, "path", "expected a CSV file name, got none");
        if (!d->column || !*d->column)
            return field_error(error, origin, path, "column", "expected a column name, got none");
        return check_clamp(d, origin, path, error);
    }
    return field_error(error, origin, path, "dist", "unknown distribution %d", (int)d->kind);
}

gboolean wl_seconds_dist_spec_validate(const WlDistSpec *d, const char *origin, const char *path,
                                       GError **error)
{
    const double big = 1e9; /* about 32 years */
    switch (d->kind) {
    case WL_DIST_CONSTANT:
        if (!(isfinite(d->value) && d->value >= 0.0 && d->value <= big))
            return field_error(error, origin, path, "value",
                               "expected a number of seconds from 0 to %g, got %g", big, d->value);
        return TRUE;
    case WL_DIST_UNIFORM:
        if (!(isfinite(d->min) && d->min >= 0.0 && d->min <= big))
            return field_error(error, origin, path, "min",
                               "expected a number of seconds from 0 to %g, got %g", big, d->min);
        if (!(isfinite(d->max) && d->max >= d->min && d->max <= big))
            return field_error(error, origin, path, "max",
                               "expected a number of seconds from %g (min) to %g, got %g", d->min,
                               big, d->max);
        return TRUE;
    case WL_DIST_NORMAL:
    case WL_DIST_LOGNORMAL:
        if (!(isfinite(d->mean) && d->mean > 0.0 && d->mean <= big))
            return field_error(error, origin, path, "mean", "expected a positive number, got %g",
                               d->mean);
        if (!(isfinite(d->stddev) && d->stddev >= 0.0 && d->stddev <= big))
            return field_error(error, origin, path, "stddev",
                               "expected a non-negative number, got %g", d->stddev);
        if (!(isfinite(d->min) && d->min >= 0.0 && d->min <= big))
            return field_error(error, origin, path, "min",
                               "expected a number of seconds from 0 to %g, got %g", big, d->min);
        if (d->max != 0.0 && !(isfinite(d->max) && d->max >= d->min && d->max <= big))
            return field_error(error, origin, path, "max",
                               "expected 0 (no limit) or a number of seconds from %g to %g, got %g",
                               d->min, big, d->max);
        return TRUE;
    case WL_DIST_EMPIRICAL:
        return field_error(error, origin, path, "dist",
                           "expected one of constant, uniform, normal, lognormal (seconds), got "
                           "empirical");
    }
    return field_error(error, origin, path, "dist", "unknown distribution %d", (int)d->kind);
}

/* The session part of a class at `path` ("....session"). */
static gboolean session_spec_validate(const WlSessionSpec *ss, const char *origin,
                                      const char *path, GError **error)
{
    char *sub = g_strdup_printf("%s.turns", path);
    gboolean ok = wl_dist_spec_validate(&ss->turns, origin, sub, error);
    g_free(sub);
    if (ok) {
        sub = g_strdup_printf("%s.new_tokens", path);
        ok = wl_dist_spec_validate(&ss->new_tokens, origin, sub, error);
        g_free(sub);
    }
    if (ok) {
        sub = g_strdup_printf("%s.think_s", path);
        ok = wl_seconds_dist_spec_validate(&ss->think_s, origin, sub, error);
        g_free(sub);
    }
    if (!ok)
        return FALSE;
    if (!(isfinite(ss->answer_tokens_per_s) && ss->answer_tokens_per_s >= 0.0))
        return field_error(error, origin, path, "answer_tokens_per_s",
                           "expected a non-negative number (0: no time for the answer), got %g",
                           ss->answer_tokens_per_s);
    if (ss->max_input_tokens > WL_MAX_TOKENS)
        return field_error(error, origin, path, "max_input_tokens",
                           "expected 0 (no limit) or an integer from 1 to %u, got %u",
                           WL_MAX_TOKENS, ss->max_input_tokens);
    return TRUE;
}

gboolean wl_class_spec_validate(const WlClassSpec *c, const char *origin, const char *path,
                                GError **error)
{
    if (!c->name || !*c->name)
        return field_error(error, origin, path, "name", "expected a non-empty name, got none");
    if (!(isfinite(c->share) && c->share > 0.0))
        return field_error(error, origin, path, "share", "expected a positive number, got %g",
                           c->share);
    if (c->prefix_groups > 0 && c->prefix_tokens == 0)
        return field_error(error, origin, path, "prefix.tokens",
                           "expected a positive integer when prefix.groups is set, got 0");
    if (c->prefix_tokens > 0 && c->prefix_groups == 0)
        return field_error(error, origin, path, "prefix.groups",
                           "expected a positive integer when prefix.tokens is set, got 0");
    if (c->prefix_tokens > WL_MAX_TOKENS)
        return field_error(error, origin, path, "prefix.tokens",
                           "expected an integer from 1 to %u, got %u", WL_MAX_TOKENS,
                           c->prefix_tokens);
    if (c->lora_adapters > WL_MAX_ADAPTERS)
        return field_error(error, origin, path, "lora.adapters", "expected at most %u adapters, got %u",
                           WL_MAX_ADAPTERS, c->lora_adapters);
    if (!(isfinite(c->lora_zipf) && c->lora_zipf >= 0.0 && c->lora_zipf <= 100.0))
        return field_error(error, origin, path, "lora.zipf", "expected a number from 0 (uniform) to 100, got %g",
                           c->lora_zipf);
    if (c->lora_name && (!*c->lora_name || strlen(c->lora_name) > 256))
        return field_error(error, origin, path, "lora.name", "expected a name of 1 to 256 characters");
    char *sub = g_strdup_printf("%s%sinput", path && *path ? path : "", path && *path ? "." : "");
    gboolean ok = wl_dist_spec_validate(&c->input, origin, sub, error);
    g_free(sub);
    if (!ok)
        return FALSE;
    sub = g_strdup_printf("%s%soutput", path && *path ? path : "", path && *path ? "." : "");
    ok = wl_dist_spec_validate(&c->output, origin, sub, error);
    g_free(sub);
    if (ok && c->multi_turn) {
        sub = g_strdup_printf("%s%ssession", path && *path ? path : "", path && *path ? "." : "");
        ok = session_spec_validate(&c->session, origin, sub, error);
        g_free(sub);
    }
    return ok;
}

gboolean wl_spec_validate(const WlSpec *spec, const char *origin, GError **error)
{
    if (!wl_arrival_spec_validate(&spec->arrival, origin, "workload.arrival", error))
        return FALSE;
    if (spec->num_classes == 0 || spec->num_classes > WL_MAX_CLASSES)
        return field_error(error, origin, "workload", "classes",
                           "expected from 1 to %u classes, got %u", WL_MAX_CLASSES,
                           spec->num_classes);
    gboolean ok = TRUE;
    guint64 groups = 0;
    GHashTable *names = g_hash_table_new(g_str_hash, g_str_equal); /* name -> index + 1 */
    for (guint i = 0; ok && i < spec->num_classes; i++) {
        const WlClassSpec *c = &spec->classes[i];
        char path[64];
        g_snprintf(path, sizeof path, "workload.classes[%u]", i);
        ok = wl_class_spec_validate(c, origin, path, error);
        if (!ok)
            break;
        gpointer seen = g_hash_table_lookup(names, c->name);
        if (seen) {
            ok = field_error(error, origin, path, "name",
                             "expected a name not used by another class, got '%s' (also "
                             "classes[%u])",
                             c->name, GPOINTER_TO_UINT(seen) - 1);
            break;
        }
        g_hash_table_insert(names, c->name, GUINT_TO_POINTER(i + 1));
        groups += c->prefix_groups;
        if (groups >= G_MAXUINT32)
            ok = field_error(error, origin, path, "prefix.groups",
                             "expected fewer than %u prefix groups in all, got %" G_GUINT64_FORMAT,
                             G_MAXUINT32, groups);
    }
    g_hash_table_destroy(names);
    if (!ok)
        return FALSE;
    if (!(isfinite(spec->duration_s) && spec->duration_s >= 0.0))
        return field_error(error, origin, "workload", "duration_s",
                           "expected a non-negative number, got %g", spec->duration_s);
    if (!sim_seconds_in_range(spec->duration_s))
        return field_error(error, origin, "workload", "duration_s",
                           "expected at most %g s (the simulated-time limit), got %g",
                           SIM_TIME_LIMIT_S, spec->duration_s);
    if (spec->num_requests == 0 && spec->duration_s == 0.0)
        return field_error(error, origin, "workload", "num_requests",
                           "expected a positive integer (or a positive workload.duration_s), got 0");
    return TRUE;
}

/* --------------------------------------------------------------- traces -- */

void wl_trace_options_init(WlTraceOptions *o)
{
    memset(o, 0, sizeof *o);
    o->format = WL_TRACE_AUTO;
    o->time_scale = 1.0;
}

gboolean wl_trace_options_validate(const WlTraceOptions *o, const char *origin, const char *path,
                                   GError **error)
{
    if (o->format < WL_TRACE_AUTO || o->format > WL_TRACE_VLLM_BENCH)
        return field_error(error, origin, path, "format",
                           "expected auto, servesim, azure, vidur or vllm-bench, got %d", (int)o->format);
    if (o->time_format < WL_TIME_AUTO || o->time_format > WL_TIME_ISO8601)
        return field_error(error, origin, path, "time_format", "expected a time format, got %d",
                           (int)o->time_format);
    if (!(isfinite(o->time_scale) && o->time_scale > 0.0))
        return field_error(error, origin, path, "time_scale", "expected a positive number, got %g",
                           o->time_scale);
    if (!sim_time_scale_in_range(o->time_scale))
        return field_error(error, origin, path, "time_scale",
                           "expected a factor from %g to %g, got %g", SIM_TIME_SCALE_MIN,
                           SIM_TIME_SCALE_MAX, o->time_scale);
    if (!(isfinite(o->rate) && o->rate >= 0.0))
        return field_error(error, origin, path, "rate", "expected a non-negative number, got %g",
                           o->rate);
    if (o->rate != 0.0 && !sim_rate_in_range(o->rate))
        return field_error(error, origin, path, "rate", "expected 0 (no rescaling) or a rate from %g "
                           "to %g requests/s, got %g", SIM_RATE_MIN, SIM_RATE_MAX, o->rate);
    if (o->rate > 0.0 && o->time_scale != 1.0)
        return field_error(error, origin, path, "rate",
                           "expected 0 when time_scale is not 1 (a rate fixes the time scale), "
                           "got %g with time_scale %g",
                           o->rate, o->time_scale);
    return TRUE;
}

const char *wl_trace_format_name(WlTraceFormat format)
{
    switch (format) {
    case WL_TRACE_AUTO:
        return "auto";
    case WL_TRACE_NATIVE:
        return "servesim";
    case WL_TRACE_AZURE:
        return "azure";
    case WL_TRACE_VIDUR:
        return "vidur";
    case WL_TRACE_VLLM_BENCH:
        return "vllm-bench";
    }
    return "unknown";
}

gboolean wl_trace_format_from_name(const char *name, WlTraceFormat *out)
{
    static const struct {
        const char *name;
        WlTraceFormat format;
    } names[] = {
        {"auto", WL_TRACE_AUTO},   {"servesim", WL_TRACE_NATIVE}, {"native", WL_TRACE_NATIVE},
        {"azure", WL_TRACE_AZURE}, {"vidur", WL_TRACE_VIDUR},  {"vllm-bench", WL_TRACE_VLLM_BENCH},
    };
    for (gsize i = 0; name && i < G_N_ELEMENTS(names); i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].format;
            return TRUE;
        }
    }
    return FALSE;
}
