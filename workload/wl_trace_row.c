/*
 * wl_trace_row.c: one data row of a trace, decoded and checked.
 *
 * A row is read, by the columns wl_trace_header.c found, into a Decoded
 * (wl_trace_internal.h). Arrival times are in any form of wl_time.c
 * (relative seconds or milliseconds, epoch units, ISO-8601), decided on the
 * first row unless given. Rows must be in time order (an earlier time is an
 * error that suggests `sort`); while a sort collects the rows, the order and
 * the session prefixes are left to be checked in time order afterwards.
 *
 * Checks on every row: the field count of the header, positive integer
 * counts, an arrival in the trace's time format (relative times at most
 * SIM_TIME_LIMIT_S), arrivals in order, shared_prefix_tokens <=
 * input_tokens, session prefixes against the session's previous good row
 * (wl_session.c), an integer priority, no NUL byte in any field (the CSV
 * reader). Each message reads "file:line:column: column 'name': expected
 * ..., got '...'".
 *
 * Cost: O(bytes of the row). Memory: the current row's session id and
 * adapter name (the class name is borrowed from the row).
 */
#include "wl_trace_internal.h"

#include <math.h>
#include <string.h>

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

/* The arrival field: in the trace's time format, which the first row decides
 * when it was not given. */
static gboolean decode_time(Trace *t, const WlCsvRow *row, int ca, Decoded *d, GError **error)
{
    const char *text = row->fields[ca];
    if (t->time_format == WL_TIME_AUTO) {
        WlTimeFormat f = wl_time_detect(text);
        if (f == WL_TIME_AUTO)
            return bad_field(t, row, ca, t->name_arrival, wl_time_expected(WL_TIME_AUTO), error);
        t->time_format = f;
        t->absolute = wl_time_is_absolute(f);
        t->time_line = row->field_lines[ca];
    }
    if (wl_time_parse(text, t->time_format, &d->t_s, &d->t_ns) == WL_PARSE_OK) {
        if (t->absolute || sim_seconds_in_range(d->t_s))
            return TRUE;
        char limit[160];
        g_snprintf(limit, sizeof limit, "a time of at most %g s (the simulated-time limit, about 126 years)",
                   SIM_TIME_LIMIT_S);
        return bad_field(t, row, ca, t->name_arrival, limit, error);
    }
    char expected[200];
    if (t->time_line && t->time_format != WL_TIME_SECONDS)
        g_snprintf(expected, sizeof expected, "%s (%s, the form of line %" G_GUINT64_FORMAT ")",
                   wl_time_expected(t->time_format), wl_time_format_name(t->time_format), t->time_line);
    else
        g_strlcpy(expected, wl_time_expected(t->time_format), sizeof expected);
    return bad_field(t, row, ca, t->name_arrival, expected, error);
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
                     t->path, row->line, ca + 1, t->name_arrival, wl_time_expected(t->time_format),
                     row->num_fields, row->num_fields == 1 ? "" : "s");
        return FALSE;
    }
    if (!decode_time(t, row, ca, d, error))
        return FALSE;
    d->line = row->line;
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
        if (!wl_csv_field_count(t->path, row, (guint)t->col_group, t->name_group, TRUE,
                                G_MAXUINT32 - 1, &v, error))
            return FALSE;
        d->group = (guint32)v + 1;
    }
    if (t->col_shared >= 0 && (guint)t->col_shared < row->num_fields &&
        !field_blank(row->fields[t->col_shared])) {
        if (!wl_csv_field_count(t->path, row, (guint)t->col_shared, t->name_shared, TRUE,
                                G_MAXUINT32, &v, error))
            return FALSE;
        d->shared = (guint32)v;
        if (d->shared > d->input) {
            char expected[64];
            g_snprintf(expected, sizeof expected, "at most %s (%u)", t->name_input, d->input);
            return bad_field(t, row, t->col_shared, t->name_shared, expected, error);
        }
        if (d->shared > 0 && d->group == 0) {
            char expected[128];
            g_snprintf(expected, sizeof expected, "0 or nothing when %s is empty",
                       t->name_group ? t->name_group : "prefix_group");
            return bad_field(t, row, t->col_shared, t->name_shared, expected, error);
        }
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
        if (!wl_csv_field_count(t->path, row, (guint)t->col_session_prefix, t->name_session_prefix,
                                TRUE, G_MAXUINT32, &v, error))
            return FALSE;
        d->has_session_prefix = TRUE;
        d->session_prefix = (guint32)v;
        d->session_prefix_line = row->field_lines[t->col_session_prefix];
        if (d->session_prefix > d->input) {
            char expected[64];
            g_snprintf(expected, sizeof expected, "at most %s (%u)", t->name_input, d->input);
            return bad_field(t, row, t->col_session_prefix, t->name_session_prefix, expected, error);
        }
        if (d->session_prefix > 0 && !d->session) {
            char expected[128];
            g_snprintf(expected, sizeof expected, "0 or nothing when %s is empty", t->name_session);
            return bad_field(t, row, t->col_session_prefix, t->name_session_prefix, expected, error);
        }
    }
    if (t->col_priority >= 0 && (guint)t->col_priority < row->num_fields &&
        !field_blank(row->fields[t->col_priority])) {
        double p = 0;
        if (wl_parse_double(row->fields[t->col_priority], &p) != WL_PARSE_OK || p != floor(p) || p < G_MININT32 ||
            p > G_MAXINT32)
            return bad_field(t, row, t->col_priority, t->name_priority, "an integer (lower is served first)", error);
        d->priority = (gint32)p;
    }
    if (t->col_lora >= 0 && (guint)t->col_lora < row->num_fields && !field_blank(row->fields[t->col_lora])) {
        g_string_assign(t->lora_key, row->fields[t->col_lora]);
        g_strstrip(t->lora_key->str);
        t->lora_key->len = strlen(t->lora_key->str);
        d->lora = t->lora_key->str;
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

/* Works out the session turn of a decoded row (without entering it); on a
 * bad prefix, what was expected instead. */
WlSessionStatus wl_trace_session_resolve(const Trace *t, Decoded *d, char *expected, gsize size)
{
    WlSessionPrevious prev;
    gboolean tolerate_first = t->opts.skip > 0;
    WlSessionStatus st = wl_sessions_resolve(t->sessions, d->session, d->input, d->has_session_prefix,
                                             d->session_prefix, tolerate_first, &d->turn, &prev);
    switch (st) {
    case WL_SESSION_OK:
        break;
    case WL_SESSION_PREFIX_PAST_PREVIOUS:
        g_snprintf(expected, size,
                   "at most the previous turn's %s + %s (%u + %u = %" G_GUINT64_FORMAT ", line %" G_GUINT64_FORMAT
                   ")",
                   t->name_input, t->name_output, prev.input, prev.output, (guint64)prev.input + prev.output,
                   prev.line);
        break;
    case WL_SESSION_PREFIX_ON_FIRST:
        g_snprintf(expected, size, "0 or nothing on the first turn of session '%.120s'", d->session);
        break;
    }
    return st;
}

static gboolean session_check(const Trace *t, const WlCsvRow *row, Decoded *d, GError **error)
{
    if (!d->session || t->collecting) /* sorted rows are checked in time order, afterwards */
        return TRUE;
    char expected[256];
    if (wl_trace_session_resolve(t, d, expected, sizeof expected) == WL_SESSION_OK)
        return TRUE;
    return bad_field(t, row, t->col_session_prefix, t->name_session_prefix, expected, error);
}

static gboolean check_order(Trace *t, const WlCsvRow *row, const Decoded *d, GError **error)
{
    int ca = t->col_arrival;
    if (t->collecting)
        return TRUE; /* sorted afterwards */
    if (t->have_prev) {
        gboolean back = t->absolute ? d->t_ns < t->prev_ns : d->t_s < t->prev_s;
        if (back) {
            char expected[240];
            g_snprintf(expected, sizeof expected,
                       "a time at or after '%s' (line %" G_GUINT64_FORMAT "): rows must be in time order "
                       "(or sorted: replay --sort, \"sort\": true in a scenario)",
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

gboolean wl_trace_decode_row(Trace *t, const WlCsvRow *row, Decoded *d, GError **error)
{
    return decode(t, row, d, error) && session_check(t, row, d, error) && check_order(t, row, d, error);
}

void wl_trace_mark_skipped(Trace *t, const WlCsvRow *row)
{
    if (t->sessions && (guint)t->col_session < row->num_fields && !field_blank(row->fields[t->col_session])) {
        g_string_assign(t->session_key, row->fields[t->col_session]);
        g_strstrip(t->session_key->str);
        wl_sessions_mark_skipped(t->sessions, t->session_key->str);
    }
}
