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
 *   input + output; empty: derived, see wl_session.c), priority (an integer,
 *   lower first under --scheduling-policy priority; empty: 0) and lora (the
 *   name of a LoRA adapter, interned in order of first appearance; empty:
 *   the base model);
 * - Azure LLM inference trace: TIMESTAMP,ContextTokens,GeneratedTokens with
 *   absolute timestamps, read exactly to the nanosecond; arrival = time since
 *   the first row;
 * - Vidur: arrived_at,num_prefill_tokens,num_decode_tokens (seconds).
 *
 * A column mapping ("arrival=timestamp,input=prompt_len,...") renames the
 * columns of any role; the format is then the first whose columns, renamed,
 * are all in the header (servesim's when none). Arrival times are in any
 * form of wl_time.c (relative seconds or milliseconds, epoch units,
 * ISO-8601), decided on the first row unless given.
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
 * Rows must be in time order (an earlier time is an error that suggests
 * `sort`). With `sort` every good row is read first and kept in memory,
 * sorted by time (ties in file order), then skip and limit apply to that
 * order; everything else is as when streaming.
 *
 * Checks on every row: the field count of the header, positive integer
 * counts, an arrival in the trace's time format (relative times at most
 * SIM_TIME_LIMIT_S), arrivals in order, shared_prefix_tokens <=
 * input_tokens, session prefixes against the session's previous good row,
 * no NUL byte in any field (the CSV reader). Each message reads
 * "file:line:column: column 'name': expected ..., got '...'". With
 * skip_bad_rows such rows are counted and skipped (an I/O error still stops).
 *
 * Cost: O(bytes) per pass; one pass, or two with a rate or a class column.
 * Memory: one row plus the class names, independent of the number of rows,
 * plus one entry per session with a session_id column (with `sort`: about
 * 100 bytes per row, and the session ids).
 * Limits: comma-separated only; at most WL_MAX_CLASSES classes; relative
 * times are doubles (exact to the nanosecond below 104 days).
 */
#include "wl_internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    double t_s;           /* relative times: arrival, seconds */
    gint64 t_ns;          /* absolute times: arrival, ns since 1970 */
    guint32 input, output, group, shared;
    const char *class_name; /* borrowed from the row (or the sort's string chunk); NULL without a class column */
    const char *session;    /* the session id, trimmed (Trace.session_key, or the sort's chunk); NULL: none */
    gboolean has_session_prefix;
    guint32 session_prefix;
    WlSessionTurn turn;     /* when session != NULL */
    guint64 line;           /* physical line of the row */
    guint64 session_prefix_line; /* and of its session_prefix_tokens field (for messages after a sort) */
    gint32 priority;
    const char *lora;       /* the adapter name, trimmed (Trace.lora_key, or the sort's chunk); NULL: none */
} Decoded;

typedef struct {
    char *path;
    WlTraceOptions opts;
    WlTraceFormat format;     /* never AUTO once open */
    WlCsvReader *csv;
    guint num_header_fields;
    int col_arrival, col_input, col_output, col_group, col_shared, col_class; /* -1: absent */
    int col_session, col_session_prefix; /* -1: absent */
    int col_priority, col_lora;          /* -1: absent */
    WlSessions *sessions;     /* with a session_id column */
    GString *session_key;     /* the current row's session id, trimmed */
    GString *lora_key;        /* the current row's adapter name, trimmed */
    const char *name_arrival, *name_input, *name_output, *name_group, *name_shared, *name_class;
    const char *name_session, *name_session_prefix, *name_priority, *name_lora;
    WlTimeFormat time_format; /* AUTO until the first row decides (kept across passes) */
    gboolean absolute;        /* times are absolute (ns since 1970) */
    guint64 time_line;        /* the row that decided an AUTO time format (0: given) */
    /* sort: every good row, in time order */
    gboolean collecting;      /* reading every row: no skip, limit, order or session check */
    GArray *held;             /* Decoded, NULL when streaming */
    GStringChunk *held_names; /* class names, session ids and adapter names of held rows */
    guint next_held;
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
    "[,prefix_group,shared_prefix_tokens,class,session_id,session_prefix_tokens,priority,lora]), "               \
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

/* The name a role's column has: the mapping's, else the format's own
 * (required roles), else servesim's for the optional roles (NULL: none). */
static const char *role_column(const Trace *t, WlTraceFormat f, WlTraceRole role)
{
    const char *mapped = t->opts.columns.names[role];
    if (mapped[0])
        return mapped;
    if (role <= WL_ROLE_OUTPUT) {
        for (gsize i = 0; i < G_N_ELEMENTS(formats); i++)
            if (formats[i].format == f)
                return formats[i].columns[role];
        return NULL;
    }
    if (f != WL_TRACE_NATIVE && !wl_trace_columns_any(&t->opts.columns))
        return NULL;
    static const char *const optional[] = {"prefix_group", "shared_prefix_tokens", "class", "session_id",
                                           "session_prefix_tokens", "priority", "lora"};
    return optional[role - WL_ROLE_PREFIX_GROUP];
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
    char *mapping = wl_trace_columns_format(&t->opts.columns);
    gboolean mapped = wl_trace_columns_any(&t->opts.columns);
    for (guint r = 0; r < WL_TRACE_NUM_ROLES; r++) {
        const char *name = t->opts.columns.names[r];
        if (name[0] && wl_csv_header_find(&h, name) < 0) {
            wl_set_error(error, "%s:%" G_GUINT64_FORMAT ": column mapping %s: expected a column '%s' (%s), got "
                         "none in '%s'", t->path, h.line, mapping, name, wl_trace_role_name(r), joined);
            goto out;
        }
    }
    WlTraceFormat chosen = t->opts.format;
    if (chosen == WL_TRACE_AUTO) {
        for (gsize f = 0; chosen == WL_TRACE_AUTO && f < G_N_ELEMENTS(formats); f++) {
            gboolean all = TRUE;
            for (int c = 0; c < 3; c++)
                all &= wl_csv_header_find(&h, role_column(t, formats[f].format, (WlTraceRole)c)) >= 0;
            if (all)
                chosen = formats[f].format;
        }
        if (chosen == WL_TRACE_AUTO && mapped)
            chosen = WL_TRACE_NATIVE; /* the missing column is named below */
        if (chosen == WL_TRACE_AUTO) {
            wl_set_error(error,
                         "%s:%" G_GUINT64_FORMAT ": expected a header with the columns of one of: "
                         ACCEPTED_HEADERS "; got '%s' (or map your columns: --columns "
                         "arrival=NAME,input=NAME,output=NAME)",
                         t->path, h.line, joined);
            goto out;
        }
    }
    const char *cols[3];
    for (int c = 0; c < 3; c++)
        cols[c] = role_column(t, chosen, (WlTraceRole)c);
    int *slots[3] = {&t->col_arrival, &t->col_input, &t->col_output};
    for (int c = 0; c < 3; c++) {
        if (!find_column(t->path, &h, cols[c], slots[c], error))
            goto out;
        if (*slots[c] < 0) {
            char *after = mapped ? g_strdup_printf(" (after the column mapping %s)", mapping) : g_strdup("");
            wl_set_error(error,
                         "%s:%" G_GUINT64_FORMAT ": expected the %s columns %s,%s,%s%s, got no '%s' in '%s'",
                         t->path, h.line, wl_trace_format_name(chosen), cols[0], cols[1], cols[2], after, cols[c],
                         joined);
            g_free(after);
            goto out;
        }
    }
    t->name_arrival = cols[0];
    t->name_input = cols[1];
    t->name_output = cols[2];
    t->name_group = role_column(t, chosen, WL_ROLE_PREFIX_GROUP);
    t->name_shared = role_column(t, chosen, WL_ROLE_SHARED_PREFIX);
    t->name_class = role_column(t, chosen, WL_ROLE_CLASS);
    t->name_session = role_column(t, chosen, WL_ROLE_SESSION_ID);
    t->name_session_prefix = role_column(t, chosen, WL_ROLE_SESSION_PREFIX);
    t->name_priority = role_column(t, chosen, WL_ROLE_PRIORITY);
    t->name_lora = role_column(t, chosen, WL_ROLE_LORA);
    t->col_group = t->col_shared = t->col_class = t->col_session = t->col_session_prefix = -1;
    t->col_priority = t->col_lora = -1;
    if ((t->name_group && !find_column(t->path, &h, t->name_group, &t->col_group, error)) ||
        (t->name_shared && !find_column(t->path, &h, t->name_shared, &t->col_shared, error)) ||
        (t->name_class && !find_column(t->path, &h, t->name_class, &t->col_class, error)) ||
        (t->name_session && !find_column(t->path, &h, t->name_session, &t->col_session, error)) ||
        (t->name_session_prefix &&
         !find_column(t->path, &h, t->name_session_prefix, &t->col_session_prefix, error)) ||
        (t->name_priority && !find_column(t->path, &h, t->name_priority, &t->col_priority, error)) ||
        (t->name_lora && !find_column(t->path, &h, t->name_lora, &t->col_lora, error)))
        goto out;
    if (t->col_session_prefix >= 0 && t->col_session < 0) {
        wl_set_error(error,
                     "%s:%" G_GUINT64_FORMAT ":%d: expected a %s column with "
                     "%s, got none in '%s'",
                     t->path, h.line, t->col_session_prefix + 1, t->name_session, t->name_session_prefix,
                     joined);
        goto out;
    }
    t->format = chosen;
    if (t->time_format == WL_TIME_AUTO && t->opts.time_format == WL_TIME_AUTO && chosen == WL_TRACE_AZURE &&
        !t->opts.columns.names[WL_ROLE_ARRIVAL][0])
        t->time_format = WL_TIME_ISO8601; /* the Azure trace's timestamps */
    t->absolute = wl_time_is_absolute(t->time_format);
    ok = TRUE;
out:
    g_free(mapping);
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
static WlSessionStatus session_resolve(const Trace *t, Decoded *d, char *expected, gsize size)
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
    if (session_resolve(t, d, expected, sizeof expected) == WL_SESSION_OK)
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
        if (got > 0 && decode(t, &row, d, &err) && session_check(t, &row, d, &err) &&
            check_order(t, &row, d, &err)) {
            if (d->session && !t->collecting)
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
            if (session_resolve(t, &d, expected, sizeof expected) != WL_SESSION_OK) {
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
