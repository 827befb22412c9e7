/*
 * wl_internal.h: what the files of the workload module share and nobody else
 * sees: the source object behind the opaque WlSource, the random streams, the
 * checked number parsers and the streaming CSV reader.
 *
 * Layout: wl_source.c holds the common part of a source (ids, class names,
 * skipped-row count, description) and dispatches to the kind's operations;
 * wl_synthetic.c and wl_trace.c (with wl_trace_header.c and wl_trace_row.c,
 * sharing wl_trace_internal.h) implement the two kinds; wl_session.c the
 * sessions of a trace; wl_rand.c the random
 * variates; wl_parse.c the number and timestamp parsers; wl_csv.c the CSV
 * reader (libcsv, line by line, physical line numbers).
 */
#ifndef WL_INTERNAL_H
#define WL_INTERNAL_H

#include <stdio.h>

#include "ss_error.h"
#include "wl.h"

/* ------------------------------------------------------------- sources -- */

typedef struct {
    /* Fills *out except its id; returns 1, 0 at the end, -1 with error set. */
    int (*next)(WlSource *src, WlRequest *out, GError **error);
    /* Frees the kind's state (src->impl). */
    void (*finalize)(void *impl);
} WlSourceOps;

struct WlSource {
    const WlSourceOps *ops;
    void *impl;              /* the kind's state, owned */
    GPtrArray *class_names;  /* char *, owned; index = class id */
    GHashTable *class_ids;   /* name (borrowed from class_names) -> id + 1 */
    GPtrArray *adapter_names;  /* char *, owned; index = lora id - 1 */
    GHashTable *adapter_ids;   /* name (borrowed) -> lora id */
    uint64_t next_id;        /* id of the next request */
    uint64_t rows_skipped;   /* bad rows skipped (traces) */
    double offered_rate;     /* requests/s, 0 when unknown */
    WlTraceFormat trace_format; /* AUTO for a synthetic source */
    char *description;       /* owned */
    WlProgressFunc progress; /* optional, every progress_every requests */
    void *progress_user;
    uint64_t progress_every;
    gboolean failed;         /* an error was returned: the source is finished */
    gboolean ended;          /* the end was returned */
};

/* A new source of a kind; takes `impl` (freed by ops->finalize). */
WlSource *wl_source_alloc(const WlSourceOps *ops, void *impl);
/* The id of class `name`, adding it at the end when new. Returns -1 when
 * there would be more than WL_MAX_CLASSES classes. */
int wl_source_intern_class(WlSource *src, const char *name);

/* The LoRA id (>= 1) of adapter `name`, adding it when new; 0 when there
 * would be more than WL_MAX_ADAPTERS. */
#define WL_MAX_ADAPTERS 1000000u
guint32 wl_source_intern_adapter(WlSource *src, const char *name);

/* Sets an SS_ERROR_INPUT error. */
void wl_set_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* ------------------------------------------------------------ sessions -- */

/* The sessions of a trace (wl_session.c): per session id, its number and its
 * last good turn, to derive or check each new turn's session prefix and to
 * name the branches of its tokens. */
typedef struct WlSessions WlSessions;

typedef struct {
    uint64_t id;              /* the session's number: 1, 2, ... in order of first appearance */
    guint32 prefix_tokens;    /* session prefix of this turn */
    guint32 branch;           /* WlRequest.session_branch */
    guint32 prefix_branch;    /* WlRequest.session_prefix_branch */
    gboolean new_branch;      /* the turn starts a branch */
} WlSessionTurn;

typedef struct {
    guint32 input, output;    /* the previous turn's lengths (0, 0 for a first turn) */
    guint64 line;             /* and its line */
} WlSessionPrevious;

typedef enum {
    WL_SESSION_OK = 0,
    WL_SESSION_PREFIX_PAST_PREVIOUS,  /* a given prefix longer than the previous turn's input + output */
    WL_SESSION_PREFIX_ON_FIRST,       /* a given prefix > 0 on a session's first turn */
} WlSessionStatus;

WlSessions *wl_sessions_new(void);
void wl_sessions_free(WlSessions *sessions); /* accepts NULL */
/* Forgets every session (a new pass over the file). */
void wl_sessions_reset(WlSessions *sessions);
/* Sessions entered so far. */
uint64_t wl_sessions_count(const WlSessions *sessions);
/* Works out a turn of session `key` (non-empty text) with `input` prompt
 * tokens, and a given prefix (has_prefix) or a derived one. Changes nothing:
 * wl_sessions_commit enters the turn once its row is good. On a status
 * other than OK *previous says what the prefix was checked against.
 * tolerate_first: a given prefix on a session's first turn is ignored (its
 * earlier turns were skipped) instead of refused. A session with a skipped
 * row since its last good turn gets prefix 0 and a new branch, whatever is
 * given. */
WlSessionStatus wl_sessions_resolve(const WlSessions *sessions, const char *key, guint32 input,
                                    gboolean has_prefix, guint32 prefix, gboolean tolerate_first,
                                    WlSessionTurn *turn, WlSessionPrevious *previous);
/* Notes that a row of session `key` was skipped as bad: its next good turn
 * is not a continuation (its previous turn is unknown). */
void wl_sessions_mark_skipped(WlSessions *sessions, const char *key);
/* Enters a turn resolved by wl_sessions_resolve (for the same key, with no
 * other commit in between). */
void wl_sessions_commit(WlSessions *sessions, const char *key, guint32 input, guint32 output,
                        guint64 line, const WlSessionTurn *turn);

/* -------------------------------------------------------------- random -- */

/* A GRand seeded from (seed, consumer name) by a fixed hash (FNV-1a 64 of the
 * name, then the 64-bit seed and the hash fed to g_rand_new_with_seed_array).
 * The same pair gives the same stream on every platform. Free with g_rand_free. */
GRand *wl_rand_new_for(guint64 seed, const char *consumer);
/* Uniform on (0, 1]: never 0, so its logarithm is finite. */
double wl_rand_open0(GRand *r);
/* Standard exponential (mean 1). */
double wl_rand_exponential(GRand *r);
/* Standard normal (Box-Muller, one pair of uniforms per draw). */
double wl_rand_normal(GRand *r);
/* Gamma with the given shape (> 0) and scale 1: Marsaglia-Tsang (2000), with
 * the boost G(k) = G(k + 1) * U^(1/k) for k < 1. */
double wl_rand_gamma(GRand *r, double shape);

/* ------------------------------------------------------------- parsing -- */

typedef enum {
    WL_PARSE_OK = 0,
    WL_PARSE_EMPTY,        /* nothing but blanks */
    WL_PARSE_SYNTAX,       /* not a number of the expected kind */
    WL_PARSE_RANGE,        /* a number of the right kind out of range */
} WlParseStatus;

/* A non-negative decimal integer ("42", also "42.0" with only zeros after the
 * point), blanks around allowed, at most `max`. */
WlParseStatus wl_parse_uint(const char *text, guint64 max, guint64 *out);
/* A finite decimal number ("1.5", "2e-3", "-4"), blanks around allowed; no
 * hex, inf or nan. */
WlParseStatus wl_parse_double(const char *text, double *out);
/* An absolute timestamp "YYYY-MM-DD HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]"
 * ('T' may replace the space) as nanoseconds since 1970-01-01 UTC. Exact:
 * the fraction is read digit by digit (beyond 9 digits it rounds to the
 * nearest nanosecond). */
WlParseStatus wl_parse_timestamp(const char *text, gint64 *ns_out);

/* --------------------------------------------------------------- times -- */

/* The form of the first row's time text (AUTO when it is none). */
WlTimeFormat wl_time_detect(const char *text);
/* Reads a time in format `f` (not AUTO): relative formats set *seconds
 * (>= 0), absolute ones *ns since 1970 (exact). */
WlParseStatus wl_time_parse(const char *text, WlTimeFormat f, double *seconds, gint64 *ns);
gboolean wl_time_is_absolute(WlTimeFormat f);
/* What a message says was expected ("a non-negative number of seconds"). */
const char *wl_time_expected(WlTimeFormat f);

/* -------------------------------------------------------- vllm bench -- */

/* Whether the file's first non-blank byte is '{' (a JSON document). */
gboolean wl_file_looks_like_json(const char *path);
/* A source over a `vllm bench serve` result file (wl_bench.c). */
WlSource *wl_source_new_vllm_bench(const char *path, const WlTraceOptions *opts, GError **error);

/* ----------------------------------------------------------------- CSV -- */

/*
 * A streaming CSV reader: one physical line at a time (at most
 * WL_CSV_MAX_LINE bytes, an error beyond), fed to
 * libcsv; completed rows wait in a small queue (normally one row; more only
 * when a line holds bare carriage returns). Memory: the longest row plus the
 * queue, independent of the number of rows.
 *
 * Physical line numbers: a field starts on the current line minus the line
 * feeds inside it (a quoted field may span lines); a row's line is its first
 * field's. Blank lines are reported as empty rows (zero fields) except at the
 * end of the file, where they are ignored.
 */
typedef struct WlCsvReader WlCsvReader;

#define WL_CSV_MAX_LINE (16u << 20) /* bytes of one physical line */

typedef struct {
    guint num_fields;
    guint64 line;            /* physical line of the row's first field (1-based) */
    const char *const *fields; /* NUL-terminated copies, valid until the next call */
    const guint64 *field_lines; /* physical line where each field starts */
} WlCsvRow;

/* Opens `path` (a file name; shown in messages as given). NULL + error when it
 * cannot be opened. */
WlCsvReader *wl_csv_reader_open(const char *path, GError **error);
/* The next row: 1 (fills *row, borrowed until the next call), 0 at the end,
 * -1 on a malformed row (bad quoting, a NUL byte in a field) or an I/O
 * error. After a malformed row the reader has skipped the rest of that row
 * and may be read on: the row is lost, the next call continues. An I/O error
 * is final. */
int wl_csv_reader_next(WlCsvReader *r, WlCsvRow *row, GError **error);
/* TRUE after an I/O error (reading on is pointless). */
gboolean wl_csv_reader_broken(const WlCsvReader *r);
const char *wl_csv_reader_path(const WlCsvReader *r);
/* Accepts NULL. */
void wl_csv_reader_free(WlCsvReader *r);

/* Reads the header: the first non-blank row. FALSE + error on an empty file
 * or a malformed line. */
gboolean wl_csv_read_header(WlCsvReader *r, WlCsvRow *header, GError **error);
/* Index of the header field equal to `name`, or -1. */
int wl_csv_header_find(const WlCsvRow *header, const char *name);
/* The header's fields joined by commas (g_free). */
char *wl_csv_header_join(const WlCsvRow *header);
/* Field `index` (0-based) of `row` as an integer count in [1, max] ([0, max]
 * with allow_zero). On failure the message reads
 * "path:line:column: column 'name': expected a positive integer, got '-3'"
 * (or "got an empty field", "got no field (the row has 2 fields)"). */
gboolean wl_csv_field_count(const char *path, const WlCsvRow *row, guint index,
                            const char *column, gboolean allow_zero, guint64 max, guint64 *out,
                            GError **error);

/* Reads the positive-integer values of one column of a CSV file with a header
 * (for empirical distributions). Returns a new array of guint32 or NULL with
 * an error naming file:line:column. Memory: the values only. */
GArray *wl_csv_read_column(const char *path, const char *column, GError **error);

#endif /* WL_INTERNAL_H */
