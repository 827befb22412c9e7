/*
 * wl_trace_internal.h: the state of a CSV trace source, shared by the three
 * files that make it; internal to workload/ (callers use wl.h).
 *
 * - wl_trace_header.c: the header of a pass: the format it holds (or the one
 *   asked for) and the column of each role, after a column mapping.
 * - wl_trace_row.c: one data row decoded and checked: its fields, its
 *   arrival time in the trace's time format, its session turn, its order.
 * - wl_trace.c: the source: the passes over the file (skip, limit, bad rows
 *   skipped), the sort, the rate factor, arrivals, classes, the description.
 */
#ifndef WL_TRACE_INTERNAL_H
#define WL_TRACE_INTERNAL_H

#include "wl_internal.h"

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

/* ------------------------------------------------- wl_trace_header.c -- */

/* Reads the header of the pass (t->csv, just opened): recognises the format
 * (or checks t->opts.format), finds the column of every role (-1: absent)
 * and its name in messages, and sets t->num_header_fields and t->format;
 * an Azure header, with no time format given and the arrival column not
 * mapped, sets t->time_format to ISO-8601 (and t->absolute). FALSE + error
 * ("file:line[:column]: ...") on an empty or malformed header, a mapped
 * column or a format's column missing, a role's column twice, or
 * session_prefix_tokens without session_id. */
gboolean wl_trace_read_header(Trace *t, GError **error);

/* ---------------------------------------------------- wl_trace_row.c -- */

/* Decodes `row` (a data row of the pass) into *d and checks it: the field
 * count, the values, the session prefix against the session's previous good
 * turn and the time order (neither while t->collecting: a sort checks them
 * in time order afterwards). Decides an AUTO time format on the first row
 * and records the row as the previous one for the order check. Enters
 * nothing in t->sessions (the caller commits a good row's turn). *d's
 * session and lora point into t's keys and its class_name into `row` (or is
 * "default"): valid until the next row. FALSE + error "file:line:column: column 'name':
 * expected ..., got '...'". */
gboolean wl_trace_decode_row(Trace *t, const WlCsvRow *row, Decoded *d, GError **error);
/* Works out the session turn of a decoded row with a session (d->turn;
 * nothing entered); on a bad prefix, what was expected instead, in
 * `expected` (`size` bytes). */
WlSessionStatus wl_trace_session_resolve(const Trace *t, Decoded *d, char *expected, gsize size);
/* Notes that `row`, skipped as bad, belongs to a session (when it names
 * one): that session's next good turn is not a continuation. */
void wl_trace_mark_skipped(Trace *t, const WlCsvRow *row);

#endif /* WL_TRACE_INTERNAL_H */
