/*
 * wl_trace.c: trace sources: a CSV file of requests streamed row by row.
 *
 * The header (the format and the column of each role) is read by
 * wl_trace_header.c and each data row decoded and checked by wl_trace_row.c;
 * wl_trace_internal.h holds the state the three files share. This file
 * makes the source of them: the passes over the file, skip and limit, bad
 * rows skipped, the sort, the rate, the arrivals, the classes and the
 * description.
 *
 * Arrival = (time - origin) x factor. The origin is 0 for relative times,
 * and the first yielded row for absolute ones (Azure's timestamps, epoch
 * units, ISO-8601), with a target rate, or for any form when rows were
 * skipped with `skip` (a window from the middle of a trace starts at once).
 * The factor is time_scale, or, with a target rate, (n - 1) / (rate x span)
 * so that the mean gap of the yielded rows is 1/rate; n and the span come
 * from a first streaming pass. With factor 1 absolute offsets are exact
 * integers of nanoseconds (differences taken in unsigned arithmetic, which
 * cannot overflow for timestamps centuries apart); otherwise the product
 * goes through sim_time_from_seconds_checked(). Every arrival must fall
 * within SIM_TIME_LIMIT (ss_types.h): a relative time beyond it, or an
 * arrival that the offset or the factor moves beyond it, is an error of its
 * row naming the value and the limit, never a clamped time.
 *
 * With `sort` every good row is read first and kept in memory, sorted by
 * time (ties in file order), then skip and limit apply to that order;
 * everything else is as when streaming.
 *
 * A row that fails a check (wl_trace_row.c) stops the source with its
 * error; with skip_bad_rows such rows are counted and skipped (an I/O error
 * still stops).
 *
 * Cost: O(bytes) per pass; one pass, or two with a rate or a class column.
 * Memory: one row plus the class names, independent of the number of rows,
 * plus one entry per session with a session_id column (with `sort`: about
 * 100 bytes per row, and the session ids).
 * Limits: comma-separated only; at most WL_MAX_CLASSES classes; relative
 * times are doubles (exact to the nanosecond below 104 days).
 */
#include "wl_trace_internal.h"

#include <string.h>

/* The next good row of this pass (applying skip, limit and skip_bad_rows):
 * 1, 0 at the end, -1 with error. */
static int pull(WlSource *src, Trace *t, Decoded *d, GError **error)
{
    for (;;) {
        if (!t->collecting && t->opts.limit > 0 && t->delivered >= t->opts.limit)
            return 0;
        WlCsvRow row;
        GError *err = NULL;
        int got = wl_csv_reader_next(t->csv, &row, &err);
        if (got == 0)
            return 0;
        gboolean broken = wl_csv_reader_broken(t->csv);
        if (!t->collecting && t->records < t->opts.skip && !broken) {
            t->records++;
            g_clear_error(&err);
            continue;
        }
        t->records++;
        if (got > 0 && wl_trace_decode_row(t, &row, d, &err)) {
            if (d->session && !t->collecting)
                wl_sessions_commit(t->sessions, d->session, d->input, d->output, row.line, &d->turn);
            t->delivered++;
            return 1;
        }
        if (t->opts.skip_bad_rows && !broken) {
            src->rows_skipped++;
            if (got > 0)
                wl_trace_mark_skipped(t, &row);
            g_clear_error(&err);
            continue;
        }
        g_propagate_error(error, err);
        return -1;
    }
}

static gboolean open_pass(Trace *t, GError **error)
{
    wl_csv_reader_free(t->csv);
    t->csv = wl_csv_reader_open(t->path, error);
    if (!t->csv)
        return FALSE;
    t->records = 0;
    t->delivered = 0;
    t->have_prev = FALSE;
    if (!wl_trace_read_header(t, error))
        return FALSE;
    if (t->col_session >= 0 && !t->sessions)
        t->sessions = wl_sessions_new();
    if (t->sessions)
        wl_sessions_reset(t->sessions);
    return TRUE;
}

/* a - b for a >= b, two nanosecond times since 1970: computed in unsigned
 * arithmetic, which cannot overflow where the signed difference of two
 * timestamps centuries apart would. */
static guint64 ns_span(gint64 a, gint64 b)
{
    return (guint64)a - (guint64)b;
}

/* The arrival of a decoded row: (time - origin) x factor, within the limit. */
static gboolean arrival_of(const Trace *t, const Decoded *d, SimTime *out, GError **error)
{
    double secs;
    if (t->absolute) {
        guint64 off_ns = ns_span(d->t_ns, t->origin_ns); /* rows are in order: d >= origin */
        if (t->factor == 1.0 && off_ns <= SIM_TIME_LIMIT) {
            *out = off_ns;
            return TRUE;
        }
        secs = (double)off_ns * 1e-9 * t->factor;
    } else {
        secs = (d->t_s - t->origin_s) * t->factor;
    }
    if (sim_time_from_seconds_checked(secs, out))
        return TRUE;
    GString *how = g_string_new(NULL);
    if (t->absolute)
        g_string_append(how, " after the first row");
    if (t->factor != 1.0)
        g_string_append_printf(how, " (x %g, the %s)", t->factor,
                               t->opts.rate > 0.0 ? "factor of the target rate" : "time scale");
    if (!t->absolute && t->opts.rate == 0.0 && t->origin_s == 0.0 && d->t_s > 1e8)
        g_string_append(how, "; times this large look absolute: with --time-format epoch-s (or a target "
                             "rate) the replay starts at the first row");
    wl_set_error(error,
                 "%s:%" G_GUINT64_FORMAT ":%d: column '%s': expected an arrival within the simulated-time "
                 "limit of %g s (about 126 years), got %g s%s",
                 t->path, d->line, t->col_arrival + 1, t->name_arrival, SIM_TIME_LIMIT_S, secs, how->str);
    g_string_free(how, TRUE);
    return FALSE;
}

static int trace_next(WlSource *src, WlRequest *out, GError **error)
{
    Trace *t = src->impl;
    Decoded d;
    if (t->held) {
        if (t->next_held >= t->held->len)
            return 0;
        d = g_array_index(t->held, Decoded, t->next_held++);
    } else {
        int got = pull(src, t, &d, error);
        if (got <= 0)
            return got;
    }
    if (!t->have_origin) {
        t->have_origin = TRUE;
        gboolean rebase = t->absolute || t->opts.skip > 0 || t->opts.rate > 0.0;
        t->origin_ns = rebase ? d.t_ns : 0;
        t->origin_s = rebase ? d.t_s : 0.0;
    }
    memset(out, 0, sizeof *out);
    if (!arrival_of(t, &d, &out->arrival, error))
        return -1;
    out->input_tokens = d.input;
    out->output_tokens = d.output;
    out->prefix_group = d.group;
    out->shared_prefix_tokens = d.shared;
    if (d.session) {
        out->session_id = d.turn.id;
        out->session_prefix_tokens = d.turn.prefix_tokens;
        out->session_branch = d.turn.branch;
        out->session_prefix_branch = d.turn.prefix_branch;
    }
    out->priority = d.priority;
    if (d.lora) {
        out->lora_id = wl_source_intern_adapter(src, d.lora);
        if (out->lora_id == 0) {
            wl_set_error(error, "%s: column '%s': expected at most %u adapters, got more", t->path, t->name_lora,
                         WL_MAX_ADAPTERS);
            return -1;
        }
    }
    if (d.class_name) {
        int id = wl_source_intern_class(src, d.class_name);
        if (id < 0) {
            wl_set_error(error, "%s: column 'class': expected at most %u classes, got more",
                         t->path, WL_MAX_CLASSES);
            return -1;
        }
        out->class_id = (uint16_t)id;
    }
    return 1;
}

static void trace_finalize(void *impl)
{
    Trace *t = impl;
    if (!t)
        return;
    wl_csv_reader_free(t->csv);
    wl_sessions_free(t->sessions);
    g_string_free(t->session_key, TRUE);
    g_string_free(t->lora_key, TRUE);
    if (t->held)
        g_array_free(t->held, TRUE);
    if (t->held_names)
        g_string_chunk_free(t->held_names);
    g_free(t->path);
    g_free(t);
}

static const WlSourceOps trace_ops = {trace_next, trace_finalize};

/* The factor that gives the yielded rows a mean gap of 1/rate. */
static gboolean set_rate_factor(Trace *t, guint64 n, double span_s, GError **error)
{
    if (n < 2 || !(span_s >= 1e-9)) {
        wl_set_error(error,
                     "%s: cannot rescale to %g req/s: expected at least two rows spanning at least "
                     "1 ns, got %" G_GUINT64_FORMAT " row%s spanning %g s",
                     t->path, t->opts.rate, n, n == 1 ? "" : "s", span_s);
        return FALSE;
    }
    double replay_s = (double)(n - 1) / t->opts.rate;
    if (!sim_seconds_in_range(replay_s)) {
        wl_set_error(error,
                     "%s: cannot rescale to %g req/s: %" G_GUINT64_FORMAT " rows at that rate "
                     "span %g s, beyond the simulated-time limit of %g s (about 126 years)",
                     t->path, t->opts.rate, n, replay_s, SIM_TIME_LIMIT_S);
        return FALSE;
    }
    t->factor = (double)(n - 1) / (t->opts.rate * span_s);
    return TRUE;
}

static double span_seconds(const Trace *t, const Decoded *first, const Decoded *last)
{
    return t->absolute ? (double)ns_span(last->t_ns, first->t_ns) * 1e-9 : last->t_s - first->t_s;
}

static gboolean intern_class(WlSource *src, const Trace *t, const char *name, GError **error)
{
    if (!name || wl_source_intern_class(src, name) >= 0)
        return TRUE;
    wl_set_error(error, "%s: column '%s': expected at most %u classes, got more", t->path, t->name_class,
                 WL_MAX_CLASSES);
    return FALSE;
}

/* The first pass: counts the rows that will be yielded, their time span, and
 * interns the class names in order of first appearance. */
static gboolean first_pass(WlSource *src, Trace *t, GError **error)
{
    Decoded d, first = {0}, last = {0};
    guint64 n = 0;
    int got;
    while ((got = pull(src, t, &d, error)) > 0) {
        if (n == 0)
            first = d;
        last = d;
        n++;
        if (!intern_class(src, t, d.class_name, error))
            return FALSE;
    }
    if (got < 0)
        return FALSE;
    if (t->opts.rate > 0.0 && !set_rate_factor(t, n, span_seconds(t, &first, &last), error))
        return FALSE;
    src->rows_skipped = 0; /* counted again by the real pass */
    return TRUE;
}

static gint cmp_held(gconstpointer a, gconstpointer b, gpointer user)
{
    const Decoded *x = a, *y = b;
    gboolean absolute = *(const gboolean *)user;
    if (absolute ? x->t_ns != y->t_ns : x->t_s != y->t_s)
        return (absolute ? x->t_ns < y->t_ns : x->t_s < y->t_s) ? -1 : 1;
    return x->line < y->line ? -1 : (x->line > y->line ? 1 : 0); /* ties: file order */
}

/* The session turns of the sorted rows, in time order (as a stream of them
 * would have them): a bad prefix stops, or with skip_bad_rows drops the row. */
static gboolean resolve_sorted_sessions(WlSource *src, Trace *t, GError **error)
{
    wl_sessions_reset(t->sessions);
    guint kept = 0;
    for (guint i = 0; i < t->held->len; i++) {
        Decoded d = g_array_index(t->held, Decoded, i);
        if (d.session) {
            char expected[256];
            if (wl_trace_session_resolve(t, &d, expected, sizeof expected) != WL_SESSION_OK) {
                if (t->opts.skip_bad_rows) {
                    src->rows_skipped++;
                    wl_sessions_mark_skipped(t->sessions, d.session);
                    continue;
                }
                wl_set_error(error, "%s:%" G_GUINT64_FORMAT ":%d: column '%s': expected %s, got '%u' (rows sorted by "
                             "time)", t->path, d.session_prefix_line, t->col_session_prefix + 1,
                             t->name_session_prefix, expected, d.session_prefix);
                return FALSE;
            }
            wl_sessions_commit(t->sessions, d.session, d.input, d.output, d.line, &d.turn);
        }
        g_array_index(t->held, Decoded, kept++) = d;
    }
    g_array_set_size(t->held, kept);
    return TRUE;
}

/* `sort`: reads every good row, sorts them by time, then applies skip, limit
 * and a rate to that order and names the classes in it. */
static gboolean collect_sorted(WlSource *src, Trace *t, GError **error)
{
    t->collecting = TRUE;
    t->held = g_array_new(FALSE, FALSE, sizeof(Decoded));
    t->held_names = g_string_chunk_new(256);
    Decoded d;
    int got;
    while ((got = pull(src, t, &d, error)) > 0) {
        if (d.class_name)
            d.class_name = g_string_chunk_insert_const(t->held_names, d.class_name);
        if (d.session)
            d.session = g_string_chunk_insert_const(t->held_names, d.session);
        if (d.lora)
            d.lora = g_string_chunk_insert_const(t->held_names, d.lora);
        g_array_append_val(t->held, d);
    }
    t->collecting = FALSE;
    wl_csv_reader_free(t->csv); /* everything is in memory now */
    t->csv = NULL;
    if (got < 0)
        return FALSE;
    g_array_sort_with_data(t->held, cmp_held, &t->absolute);
    guint64 skip = MIN(t->opts.skip, (guint64)t->held->len);
    if (skip > 0)
        g_array_remove_range(t->held, 0, (guint)skip);
    if (t->opts.limit > 0 && t->held->len > t->opts.limit)
        g_array_set_size(t->held, (guint)t->opts.limit);
    if (t->sessions && !resolve_sorted_sessions(src, t, error))
        return FALSE;
    for (guint i = 0; i < t->held->len; i++)
        if (!intern_class(src, t, g_array_index(t->held, Decoded, i).class_name, error))
            return FALSE;
    if (t->opts.rate > 0.0) {
        guint n = t->held->len;
        Decoded none = {0};
        const Decoded *first = n ? &g_array_index(t->held, Decoded, 0) : &none;
        const Decoded *last = n ? &g_array_index(t->held, Decoded, n - 1) : &none;
        if (!set_rate_factor(t, n, span_seconds(t, first, last), error))
            return FALSE;
    }
    return TRUE;
}

/* Settles an AUTO time format on the first data row, so that the source's
 * description names it (and its errors come now). */
static gboolean peek_time_format(WlSource *src, Trace *t, GError **error)
{
    Decoded d;
    int got = pull(src, t, &d, error);
    if (got < 0)
        return FALSE;
    src->rows_skipped = 0;
    return open_pass(t, error);
}

static char *describe(const Trace *t)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "trace %s (%s)", t->path, wl_trace_format_name(t->format));
    if (wl_trace_columns_any(&t->opts.columns)) {
        char *m = wl_trace_columns_format(&t->opts.columns);
        g_string_append_printf(s, ", columns %s", m);
        g_free(m);
    }
    WlTimeFormat usual = t->format == WL_TRACE_AZURE ? WL_TIME_ISO8601 : WL_TIME_SECONDS;
    if (t->time_format != usual && t->time_format != WL_TIME_AUTO)
        g_string_append_printf(s, ", %s times%s", wl_time_format_name(t->time_format),
                               t->absolute ? " from the first request" : "");
    if (t->held)
        g_string_append(s, ", sorted by time");
    if (t->opts.rate > 0.0)
        g_string_append_printf(s, ", rescaled to %g req/s", t->opts.rate);
    else if (t->opts.time_scale != 1.0)
        g_string_append_printf(s, ", time x %g", t->opts.time_scale);
    if (t->opts.skip > 0)
        g_string_append_printf(s, ", skip %" G_GUINT64_FORMAT, t->opts.skip);
    if (t->opts.limit > 0)
        g_string_append_printf(s, ", limit %" G_GUINT64_FORMAT, t->opts.limit);
    return g_string_free(s, FALSE);
}

WlSource *wl_source_new_trace(const char *path, const WlTraceOptions *opts, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL); /* a contract: parsers require a non-empty path */
    WlTraceOptions defaults;
    wl_trace_options_init(&defaults);
    if (!opts)
        opts = &defaults;
    if (!wl_trace_options_validate(opts, path, NULL, error))
        return NULL;
    if (opts->format == WL_TRACE_VLLM_BENCH || (opts->format == WL_TRACE_AUTO && wl_file_looks_like_json(path)))
        return wl_source_new_vllm_bench(path, opts, error);
    Trace *t = g_new0(Trace, 1);
    t->path = g_strdup(path);
    t->session_key = g_string_new(NULL);
    t->lora_key = g_string_new(NULL);
    t->opts = *opts;
    t->factor = opts->time_scale;
    t->time_format = opts->time_format;
    t->absolute = wl_time_is_absolute(t->time_format);
    WlSource *src = wl_source_alloc(&trace_ops, t);
    if (!open_pass(t, error))
        goto fail;
    src->trace_format = t->format;
    if (t->col_class < 0)
        wl_source_intern_class(src, "default");
    if (opts->sort) {
        if (!collect_sorted(src, t, error))
            goto fail;
    } else if (opts->rate > 0.0 || t->col_class >= 0) {
        if (!first_pass(src, t, error) || !open_pass(t, error))
            goto fail;
    } else if (t->time_format == WL_TIME_AUTO && !peek_time_format(src, t, error)) {
        goto fail;
    }
    if (wl_source_num_classes(src) == 0) /* a class column but no rows */
        wl_source_intern_class(src, "default");
    src->offered_rate = opts->rate;
    src->description = describe(t);
    return src;
fail:
    wl_source_free(src);
    return NULL;
}
