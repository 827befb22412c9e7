/*
 * wl_internal.h: what the files of the workload module share and nobody else
 * sees: the source object behind the opaque WlSource, the random streams, the
 * checked number parsers and the streaming CSV reader.
 *
 * Layout: wl_source.c holds the common part of a source (ids, class names,
 * skipped-row count, description) and dispatches to the kind's operations;
 * wl_synthetic.c and wl_trace.c implement the two kinds; wl_rand.c the random
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
    uint64_t next_id;        /* id of the next request */
    uint64_t rows_skipped;   /* bad rows skipped (traces) */
    double offered_rate;     /* requests/s, 0 when unknown */
    WlTraceFormat trace_format; /* AUTO for a synthetic source */
    char *description;       /* owned */
    gboolean failed;         /* an error was returned: the source is finished */
    gboolean ended;          /* the end was returned */
};

/* A new source of a kind; takes `impl` (freed by ops->finalize). */
WlSource *wl_source_alloc(const WlSourceOps *ops, void *impl);
/* The id of class `name`, adding it at the end when new. Returns -1 when
 * there would be more than WL_MAX_CLASSES classes. */
int wl_source_intern_class(WlSource *src, const char *name);

/* Sets an SS_ERROR_INPUT error. */
void wl_set_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

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

/* ----------------------------------------------------------------- CSV -- */

/*
 * A streaming CSV reader: getline() gives one physical line at a time, fed to
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
 * -1 on a malformed row (bad quoting) or an I/O error. After a malformed row
 * the reader has skipped the rest of that line and may be read on: the row is
 * lost, the next call continues. An I/O error is final. */
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
