/*
 * wl_trace.c: trace sources: a CSV file of requests streamed row by row.
 *
 * Formats, recognised by the header (extra columns ignored, any order):
 * - servesim: arrival_time_s,input_tokens,output_tokens and optionally
 *   prefix_group (any non-negative integer g, yielded as g + 1; empty: no
 *   group), shared_prefix_tokens (<= input_tokens), class (names interned
 *   in order of first appearance; no column: one class "default"),
 *   session_id (any text naming a conversation; empty: none) and
 *   session_prefix_tokens (<= input_tokens and <= the previous turn's
 *   input + output; empty: derived, see wl_session.c);
 * - Azure LLM inference trace: TIMESTAMP,ContextTokens,GeneratedTokens with
 *   absolute timestamps, read exactly to the nanosecond; arrival = time since
 *   the first row;
 * - Vidur: arrived_at,num_prefill_tokens,num_decode_tokens (seconds).
 *
 * Arrival = (time - origin) x factor. The origin is 0 for the relative
 * formats, and the first yielded row for Azure, or for any format when rows
 * were skipped with `skip` (a window from the middle of a trace starts at
 * once). The factor is time_scale, or, with a target rate, (n - 1) / (rate x
 * span) so that the mean gap of the yielded rows is 1/rate; n and the span
 * come from a first streaming pass. With factor 1 Azure offsets are exact
 * integers of nanoseconds; otherwise the product goes through
 * sim_time_from_seconds().
 *
 * Checks on every row: the field count of the header, positive integer
 * counts, a non-negative number (or timestamp) for the arrival, arrivals in
 * order, shared_prefix_tokens <= input_tokens, session prefixes against the
 * session's previous good row. Each message reads
 * "file:line:column: column 'name': expected ..., got '...'". With
 * skip_bad_rows such rows are counted and skipped (an I/O error still stops).
 *
 * Cost: O(bytes) per pass; one pass, or two with a rate or a class column.
 * Memory: one row plus the class names, independent of the number of rows,
 * plus one entry per session with a session_id column.
 * Limits: comma-separated only; at most WL_MAX_CLASSES classes; relative
 * times are doubles (exact to the nanosecond below 104 days).
 */
#include "wl_internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    double t_s;           /* servesim, Vidur: arrival, seconds as in the file */
    gint64 t_ns;          /* Azure: arrival, ns since 1970 */
    guint32 input, output, group, shared;
    const char *class_name; /* borrowed from the row; NULL without a class column */
    const char *session;    /* the session id, trimmed (Trace.session_key); NULL: none */
    gboolean has_session_prefix;
    guint32 session_prefix;
    WlSessionTurn turn;     /* when session != NULL */
} Decoded;

typedef struct {
    char *path;
    WlTraceOptions opts;
    WlTraceFormat format;     /* never AUTO once open */
    WlCsvReader *csv;
    guint num_header_fields;
    int col_arrival, col_input, col_output, col_group, col_shared, col_class; /* -1: absent */
    int col_session, col_session_prefix; /* -1: absent */
    WlSessions *sessions;     /* with a session_id column */
    GString *session_key;     /* the current row's session id, trimmed */
    const char *name_arrival, *name_input, *name_output;
    /* the state of one pass */
    guint64 records;          /* data records read, for `skip` */
    guint64 delivered;        /* rows yielded, for `limit` */
    gboolean have_prev;
    double prev_s;
    gint64 prev_ns;
    guint64 prev_line;
    char prev_text[64];
    gboolean have_origin;
    double origin_s;
    gint64 origin_ns;
    double factor;
} Trace;

static const struct {
    WlTraceFormat format;
    const char *columns[3];
} formats[] = {
    {WL_TRACE_NATIVE, {"arrival_time_s", "input_tokens", "output_tokens"}},
    {WL_TRACE_AZURE, {"TIMESTAMP", "ContextTokens", "GeneratedTokens"}},
    {WL_TRACE_VIDUR, {"arrived_at", "num_prefill_tokens", "num_decode_tokens"}},
};

#define ACCEPTED_HEADERS                                                                           \
    "servesim (arrival_time_s,input_tokens,output_tokens"                                          \
    "[,prefix_group,shared_prefix_tokens,class,session_id,session_prefix_tokens]), "               \
    "azure (TIMESTAMP,ContextTokens,GeneratedTokens)"                                              \
    ", vidur (arrived_at,num_prefill_tokens,num_decode_tokens)"

/* Finds a column; FALSE + error when it appears twice. */
static gboolean find_column(const char *path, const WlCsvRow *h, const char *name, int *out,
                            GError **error)
{
    int first = wl_csv_header_find(h, name);
    for (guint i = (guint)(first + 1); first >= 0 && i < h->num_fields; i++) {
        if (strcmp(h->fields[i], name) == 0) {
            wl_set_error(error,
                         "%s:%" G_GUINT64_FORMAT ":%u: expected each column once, got '%s' twice "
                         "(columns %d and %u)",
                         path, h->line, i + 1, name, first + 1, i + 1);
            return FALSE;
        }
    }
    *out = first;
    return TRUE;
}

/* Recognises the format (or checks the one asked for) and finds the columns. */
static gboolean read_header(Trace *t, GError **error)
{
    WlCsvRow h;
    if (!wl_csv_read_header(t->csv, &h, error))
        return FALSE;
    t->num_header_fields = h.num_fields;
    gboolean ok = FALSE;
    char *joined = wl_csv_header_join(&h);
    WlTraceFormat chosen = t->opts.format;
    if (chosen == WL_TRACE_AUTO) {
        for (gsize f = 0; chosen == WL_TRACE_AUTO && f < G_N_ELEMENTS(formats); f++) {
            gboolean all = TRUE;
            for (int c = 0; c < 3; c++)
                all &= wl_csv_header_find(&h, formats[f].columns[c]) >= 0;
            if (all)
                chosen = formats[f].format;
        }
        if (chosen == WL_TRACE_AUTO) {
            wl_set_error(error,
                         "%s:%" G_GUINT64_FORMAT ": expected a header with the columns of one of: "
                         ACCEPTED_HEADERS "; got '%s'",
                         t->path, h.line, joined);
            goto out;
        }
    }
    const char *const *cols = NULL;
    for (gsize f = 0; f < G_N_ELEMENTS(formats); f++)
        if (formats[f].format == chosen)
            cols = formats[f].columns;
    int *slots[3] = {&t->col_arrival, &t->col_input, &t->col_output};
    for (int c = 0; c < 3; c++) {
        if (!find_column(t->path, &h, cols[c], slots[c], error))
            goto out;
        if (*slots[c] < 0) {
            wl_set_error(error,
                         "%s:%" G_GUINT64_FORMAT ": expected the %s columns %s,%s,%s, got no '%s' "
                         "in '%s'",
                         t->path, h.line, wl_trace_format_name(chosen), cols[0], cols[1], cols[2],
                         cols[c], joined);
            goto out;
        }
    }
    t->name_arrival = cols[0];
    t->name_input = cols[1];
    t->name_output = cols[2];
    t->col_group = t->col_shared = t->col_class = t->col_session = t->col_session_prefix = -1;
    if (chosen == WL_TRACE_NATIVE &&
        (!find_column(t->path, &h, "prefix_group", &t->col_group, error) ||
         !find_column(t->path, &h, "shared_prefix_tokens", &t->col_shared, error) ||
         !find_column(t->path, &h, "class", &t->col_class, error) ||
         !find_column(t->path, &h, "session_id", &t->col_session, error) ||
         !find_column(t->path, &h, "session_prefix_tokens", &t->col_session_prefix, error)))
        goto out;
    if (t->col_session_prefix >= 0 && t->col_session < 0) {
        wl_set_error(error,
                     "%s:%" G_GUINT64_FORMAT ":%d: expected a session_id column with "
                     "session_prefix_tokens, got none in '%s'",
                     t->path, h.line, t->col_session_prefix + 1, joined);
        goto out;
    }
    t->format = chosen;
    ok = TRUE;
out:
    g_free(joined);
    return ok;
}

static gboolean field_blank(const char *s)
{
    for (; *s; s++)
        if (!g_ascii_isspace(*s))
            return FALSE;
    return TRUE;
}

/* Field-level error "path:line:col: column 'name': expected X, got '...'". */
static gboolean bad_field(const Trace *t, const WlCsvRow *row, int col, const char *name,
                          const char *expected, GError **error)
{
    const char *text = row->fields[col];
    if (field_blank(text))
        wl_set_error(error, "%s:%" G_GUINT64_FORMAT ":%d: column '%s': expected %s, got an empty field",
                     t->path, row->field_lines[col], col + 1, name, expected);
    else
        wl_set_error(error, "%s:%" G_GUINT64_FORMAT ":%d: column '%s': expected %s, got '%s'", t->path,
                     row->field_lines[col], col + 1, name, expected, text);
    return FALSE;
}

static gboolean decode(Trace *t, const WlCsvRow *row, Decoded *d, GError **error)
{
    gboolean empty = TRUE;
    for (guint i = 0; i < row->num_fields; i++)
        empty &= field_blank(row->fields[i]);
    if (empty) {
        wl_set_error(error, "%s:%" G_GUINT64_FORMAT ":1: expected a data row, got an empty row",
                     t->path, row->line);
        return FALSE;
    }
    if (row->num_fields > t->num_header_fields) {
        wl_set_error(error,
                     "%s:%" G_GUINT64_FORMAT ":%u: expected %u fields as in the header, got %u",
                     t->path, row->line, t->num_header_fields + 1, t->num_header_fields,
                     row->num_fields);
        return FALSE;
    }
    memset(d, 0, sizeof *d);
    /* Arrival time (a missing field is reported by the count checks below
     * when it is theirs; the arrival's own is checked here). */
    int ca = t->col_arrival;
    if ((guint)ca >= row->num_fields) {
        wl_set_error(error,
                     "%s:%" G_GUINT64_FORMAT ":%d: column '%s': expected %s, got no field (the row "
                     "has %u field%s)",
                     t->path, row->line, ca + 1, t->name_arrival,
                     t->format == WL_TRACE_AZURE ? "a timestamp" : "a non-negative number of seconds",
                     row->num_fields, row->num_fields == 1 ? "" : "s");
        return FALSE;
    }
    if (t->format == WL_TRACE_AZURE) {
        if (wl_parse_timestamp(row->fields[ca], &d->t_ns) != WL_PARSE_OK)
            return bad_field(t, row, ca, t->name_arrival,
                             "a timestamp like '2023-11-16 18:15:46.6805900'", error);
    } else {
        if (wl_parse_double(row->fields[ca], &d->t_s) != WL_PARSE_OK || d->t_s < 0.0)
            return bad_field(t, row, ca, t->name_arrival, "a non-negative number of seconds",
                             error);
    }
    guint64 v;
    if (!wl_csv_field_count(t->path, row, (guint)t->col_input, t->name_input, FALSE, G_MAXUINT32,
                            &v, error))
        return FALSE;
    d->input = (guint32)v;
    if (!wl_csv_field_count(t->path, row, (guint)t->col_output, t->name_output, FALSE,
                            G_MAXUINT32, &v, error))
        return FALSE;
    d->output = (guint32)v;
    if (t->col_group >= 0 && (guint)t->col_group < row->num_fields &&
        !field_blank(row->fields[t->col_group])) {
        if (!wl_csv_field_count(t->path, row, (guint)t->col_group, "prefix_group", TRUE,
                                G_MAXUINT32 - 1, &v, error))
            return FALSE;
        d->group = (guint32)v + 1;
    }
    if (t->col_shared >= 0 && (guint)t->col_shared < row->num_fields &&
        !field_blank(row->fields[t->col_shared])) {
        if (!wl_csv_field_count(t->path, row, (guint)t->col_shared, "shared_prefix_tokens", TRUE,
                                G_MAXUINT32, &v, error))
            return FALSE;
        d->shared = (guint32)v;
        if (d->shared > d->input) {
            char expected[64];
            g_snprintf(expected, sizeof expected, "at most %s (%u)", t->name_input, d->input);
            return bad_field(t, row, t->col_shared, "shared_prefix_tokens", expected, error);
        }
        if (d->shared > 0 && d->group == 0)
            return bad_field(t, row, t->col_shared, "shared_prefix_tokens",
                             "0 or nothing when prefix_group is empty", error);
    }
    if (t->col_session >= 0 && (guint)t->col_session < row->num_fields &&
        !field_blank(row->fields[t->col_session])) {
        g_string_assign(t->session_key, row->fields[t->col_session]);
        g_strstrip(t->session_key->str);
        t->session_key->len = strlen(t->session_key->str);
        d->session = t->session_key->str;
    }
    if (t->col_session_prefix >= 0 && (guint)t->col_session_prefix < row->num_fields &&
        !field_blank(row->fields[t->col_session_prefix])) {
        if (!wl_csv_field_count(t->path, row, (guint)t->col_session_prefix, "session_prefix_tokens",
                                TRUE, G_MAXUINT32, &v, error))
            return FALSE;
        d->has_session_prefix = TRUE;
        d->session_prefix = (guint32)v;
        if (d->session_prefix > d->input) {
            char expected[64];
            g_snprintf(expected, sizeof expected, "at most %s (%u)", t->name_input, d->input);
            return bad_field(t, row, t->col_session_prefix, "session_prefix_tokens", expected, error);
        }
        if (d->session_prefix > 0 && !d->session)
            return bad_field(t, row, t->col_session_prefix, "session_prefix_tokens",
                             "0 or nothing when session_id is empty", error);
    }
    if (t->col_class >= 0 && (guint)t->col_class < row->num_fields)
        d->class_name = field_blank(row->fields[t->col_class]) ? "default"
                                                               : row->fields[t->col_class];
    else if (t->col_class >= 0)
        d->class_name = "default";
    if (row->num_fields < t->num_header_fields) { /* only unused columns are missing */
        wl_set_error(error,
                     "%s:%" G_GUINT64_FORMAT ":%u: expected %u fields as in the header, got %u",
                     t->path, row->line, row->num_fields + 1, t->num_header_fields,
                     row->num_fields);
        return FALSE;
    }
    return TRUE;
}

/* Works out the session turn of a decoded row (without entering it). */
static gboolean session_check(const Trace *t, const WlCsvRow *row, Decoded *d, GError **error)
{
    if (!d->session)
        return TRUE;
    WlSessionPrevious prev;
    gboolean tolerate_first = t->opts.skip > 0;
    WlSessionStatus st = wl_sessions_resolve(t->sessions, d->session, d->input,
                                             d->has_session_prefix, d->session_prefix,
                                             tolerate_first, &d->turn, &prev);
    char expected[256];
    switch (st) {
    case WL_SESSION_OK:
        return TRUE;
    case WL_SESSION_PREFIX_PAST_PREVIOUS:
        g_snprintf(expected, sizeof expected,
                   "at most the previous turn's %s + %s (%u + %u = %" G_GUINT64_FORMAT
                   ", line %" G_GUINT64_FORMAT ")",
                   t->name_input, t->name_output, prev.input, prev.output,
                   (guint64)prev.input + prev.output, prev.line);
        break;
    case WL_SESSION_PREFIX_ON_FIRST:
        g_snprintf(expected, sizeof expected, "0 or nothing on the first turn of session '%.120s'",
                   d->session);
        break;
    }
    return bad_field(t, row, t->col_session_prefix, "session_prefix_tokens", expected, error);
}

static gboolean check_order(Trace *t, const WlCsvRow *row, const Decoded *d, GError **error)
{
    int ca = t->col_arrival;
    if (t->have_prev) {
        gboolean back = t->format == WL_TRACE_AZURE ? d->t_ns < t->prev_ns : d->t_s < t->prev_s;
        if (back) {
            char expected[160];
            g_snprintf(expected, sizeof expected, "a time at or after '%s' (line %" G_GUINT64_FORMAT ")",
                       t->prev_text, t->prev_line);
            return bad_field(t, row, ca, t->name_arrival, expected, error);
        }
    }
    t->have_prev = TRUE;
    t->prev_s = d->t_s;
    t->prev_ns = d->t_ns;
    t->prev_line = row->field_lines[ca];
    const char *text = row->fields[ca];
    while (g_ascii_isspace(*text))
        text++;
    g_strlcpy(t->prev_text, text, sizeof t->prev_text);
    g_strchomp(t->prev_text);
    return TRUE;
}

/* The next good row of this pass (applying skip, limit and skip_bad_rows):
 * 1, 0 at the end, -1 with error. */
static int pull(WlSource *src, Trace *t, Decoded *d, GError **error)
{
    for (;;) {
        if (t->opts.limit > 0 && t->delivered >= t->opts.limit)
            return 0;
        WlCsvRow row;
        GError *err = NULL;
        int got = wl_csv_reader_next(t->csv, &row, &err);
        if (got == 0)
            return 0;
        gboolean broken = wl_csv_reader_broken(t->csv);
        if (t->records < t->opts.skip && !broken) {
            t->records++;
            g_clear_error(&err);
            continue;
        }
        t->records++;
        if (got > 0 && decode(t, &row, d, &err) && session_check(t, &row, d, &err) &&
            check_order(t, &row, d, &err)) {
            if (d->session)
                wl_sessions_commit(t->sessions, d->session, d->input, d->output, row.line, &d->turn);
            t->delivered++;
            return 1;
        }
        if (t->opts.skip_bad_rows && !broken) {
            src->rows_skipped++;
            if (got > 0 && t->sessions && (guint)t->col_session < row.num_fields &&
                !field_blank(row.fields[t->col_session])) {
                g_string_assign(t->session_key, row.fields[t->col_session]);
                g_strstrip(t->session_key->str);
                wl_sessions_mark_skipped(t->sessions, t->session_key->str);
            }
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
    if (!read_header(t, error))
        return FALSE;
    if (t->col_session >= 0 && !t->sessions)
        t->sessions = wl_sessions_new();
    if (t->sessions)
        wl_sessions_reset(t->sessions);
    return TRUE;
}

static int trace_next(WlSource *src, WlRequest *out, GError **error)
{
    Trace *t = src->impl;
    Decoded d;
    int got = pull(src, t, &d, error);
    if (got <= 0)
        return got;
    if (!t->have_origin) {
        t->have_origin = TRUE;
        gboolean rebase = t->format == WL_TRACE_AZURE || t->opts.skip > 0;
        t->origin_ns = rebase ? d.t_ns : 0;
        t->origin_s = rebase ? d.t_s : 0.0;
    }
    memset(out, 0, sizeof *out);
    if (t->format == WL_TRACE_AZURE) {
        gint64 off_ns = d.t_ns - t->origin_ns; /* >= 0: rows are in order */
        out->arrival = t->factor == 1.0 ? (SimTime)off_ns
                                        : sim_time_from_seconds((double)off_ns * 1e-9 * t->factor);
    } else {
        out->arrival = sim_time_from_seconds((d.t_s - t->origin_s) * t->factor);
    }
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
    g_free(t->path);
    g_free(t);
}

static const WlSourceOps trace_ops = {trace_next, trace_finalize};

/* The first pass: counts the rows that will be yielded, their time span, and
 * interns the class names in order of first appearance. */
static gboolean first_pass(WlSource *src, Trace *t, GError **error)
{
    Decoded d;
    guint64 n = 0;
    double first_s = 0.0, last_s = 0.0;
    gint64 first_ns = 0, last_ns = 0;
    int got;
    while ((got = pull(src, t, &d, error)) > 0) {
        if (n == 0) {
            first_s = d.t_s;
            first_ns = d.t_ns;
        }
        last_s = d.t_s;
        last_ns = d.t_ns;
        n++;
        if (d.class_name && wl_source_intern_class(src, d.class_name) < 0) {
            wl_set_error(error, "%s: column 'class': expected at most %u classes, got more",
                         t->path, WL_MAX_CLASSES);
            return FALSE;
        }
    }
    if (got < 0)
        return FALSE;
    if (t->opts.rate > 0.0) {
        double span_s = t->format == WL_TRACE_AZURE ? (double)(last_ns - first_ns) * 1e-9
                                                    : last_s - first_s;
        if (n < 2 || !(span_s > 0.0)) {
            wl_set_error(error,
                         "%s: cannot rescale to %g req/s: expected at least two rows spanning some "
                         "time, got %" G_GUINT64_FORMAT " row%s spanning %g s",
                         t->path, t->opts.rate, n, n == 1 ? "" : "s", span_s);
            return FALSE;
        }
        t->factor = (double)(n - 1) / (t->opts.rate * span_s);
    }
    src->rows_skipped = 0; /* counted again by the real pass */
    return TRUE;
}

static char *describe(const Trace *t)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "trace %s (%s)", t->path, wl_trace_format_name(t->format));
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
    g_return_val_if_fail(path != NULL, NULL);
    WlTraceOptions defaults;
    wl_trace_options_init(&defaults);
    if (!opts)
        opts = &defaults;
    if (!wl_trace_options_validate(opts, path, NULL, error))
        return NULL;
    Trace *t = g_new0(Trace, 1);
    t->path = g_strdup(path);
    t->session_key = g_string_new(NULL);
    t->opts = *opts;
    t->factor = opts->time_scale;
    WlSource *src = wl_source_alloc(&trace_ops, t);
    if (!open_pass(t, error))
        goto fail;
    src->trace_format = t->format;
    if (t->col_class < 0)
        wl_source_intern_class(src, "default");
    if (opts->rate > 0.0 || t->col_class >= 0) {
        if (!first_pass(src, t, error) || !open_pass(t, error))
            goto fail;
        if (wl_source_num_classes(src) == 0) /* a class column but no rows */
            wl_source_intern_class(src, "default");
    }
    src->offered_rate = opts->rate;
    src->description = describe(t);
    return src;
fail:
    wl_source_free(src);
    return NULL;
}
