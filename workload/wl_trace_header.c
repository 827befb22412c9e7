/*
 * wl_trace_header.c: the header of a trace: which format it holds and which
 * column plays each role.
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
 * are all in the header (servesim's when none). A format asked for must have
 * its three columns. Every mapped column must be in the header, no column
 * may appear twice, and session_prefix_tokens needs session_id. The Azure
 * format's arrival column is ISO-8601 unless a time format is given or the
 * arrival column is mapped.
 *
 * Cost: O(header fields x roles), once per pass over the file.
 */
#include "wl_trace_internal.h"

#include <string.h>

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
gboolean wl_trace_read_header(Trace *t, GError **error)
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
