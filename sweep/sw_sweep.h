/*
 * sw_sweep.h: sweeps: a grid of scenarios run in parallel, one row per point,
 * and the slices (shards) of a sweep that other machines run and `merge`
 * joins again (docs/sweeps.md).
 *
 * A sweep file is a base scenario plus dimensions: each axis (a scenario
 * field and a list of values) and each zip group (fields whose lists advance
 * together) is one dimension; the points are their cartesian product in
 * file order, the first dimension slowest. A point is the base with its
 * values set through scn_scenario_set, in column order.
 *
 * Results are a SwSweepTable: one row per point, the same columns for every
 * row (point, one per axis field, status, error, the aggregates of the run,
 * sweep_id, sweep_points), cells kept as the exact text they are written as.
 * Writing a table and reading it back gives the same table, so merged slices
 * are byte-identical to an unsharded run. Every row is a function of the
 * sweep file, the data files and the point only: never of the thread count,
 * the slice, the machine or the time.
 *
 * Cost: building the points is O(points x axis fields) in the calling
 * thread; the simulations run on a GThreadPool sharing one ScnCache; results
 * are held in memory (a few kB per point) until written.
 */
#ifndef SW_SWEEP_H
#define SW_SWEEP_H

#include <glib.h>

#include "scn.h"

/* ------------------------------------------------------------ the sweep -- */

typedef struct SwSweep SwSweep;

/* Reads a sweep file (docs/sweeps.md): {"name", "description", "base",
 * "axes", "zip"}. "base" is a scenario object or the path of a scenario file
 * relative to the sweep file (absent: the embedded default). Errors
 * (SS_ERROR_INPUT) name the file and the field path: unknown keys or axis
 * names, lists that are empty or not lists, zip lists of unequal length, a
 * field given twice, a value that scn_scenario_set rejects on the base
 * scenario, a base scenario that does not parse. Returns a new sweep
 * (sw_sweep_free) or NULL. */
SwSweep *sw_sweep_load(const char *path, GError **error);
/* The same from text; `origin` names it in errors, `base_dir` resolves a base
 * given as a path and the scenario's relative paths (NULL: "."). */
SwSweep *sw_sweep_parse(const char *json_text, const char *origin, const char *base_dir, GError **error);
void sw_sweep_free(SwSweep *sw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SwSweep, sw_sweep_free)

/* The sweep's name: its "name", else the file name without extension. Borrowed. */
const char *sw_sweep_name(const SwSweep *sw);
/* Its "description", or NULL. Borrowed. */
const char *sw_sweep_description(const SwSweep *sw);
/* 16 hex digits: a SHA-256 of the canonical content of the sweep file (and of
 * the base scenario file when "base" is a path); whitespace and formatting do
 * not change it, any value or key order does. Borrowed. */
const char *sw_sweep_id(const SwSweep *sw);
/* Number of points (>= 1). */
guint sw_sweep_num_points(const SwSweep *sw);
/* Number of axis fields (the columns between `point` and `status`): one per
 * axis and one per field of each zip group, in dimension order. */
guint sw_sweep_num_params(const SwSweep *sw);
/* The name of axis field k as written in the file (borrowed); k < num_params. */
const char *sw_sweep_param_name(const SwSweep *sw, guint k);
/* The compact JSON text of field k's value at `point` (borrowed);
 * point < num_points, k < num_params. */
const char *sw_sweep_param_value(const SwSweep *sw, guint point, guint k);
/* The scenario of a point: a copy of the base with the point's values set in
 * column order. Returns NULL with an error (SS_ERROR_INPUT, message starting
 * "sweep: ") when scn_scenario_set rejects the combination. The result is the
 * caller's. Uses cJSON's parser: call from one thread at a time. */
ScnScenario *sw_sweep_point_scenario(const SwSweep *sw, guint point, GError **error);

/* ----------------------------------------------------------- the slices -- */

/* Slice `index` of `count` (1 <= index <= count) holds the points i with
 * i mod count == index - 1 (strided, so costly corners of a grid spread over
 * the slices). {1, 1} is the whole sweep. */
typedef struct {
    guint index;
    guint count;
} SwShard;

/* Parses "K/N" (1 <= K <= N); errors are SS_ERROR_USAGE. */
gboolean sw_shard_parse(const char *text, SwShard *out, GError **error);
/* Whether `point` belongs to the slice. */
gboolean sw_shard_contains(const SwShard *shard, guint point);

/* --------------------------------------------------------- the results -- */

typedef struct SwSweepTable SwSweepTable;

/* Called from the thread running sw_sweep_run, about five times a second
 * and once at the end: points finished, points of the run, seconds since
 * the start. */
typedef void (*SwSweepProgress)(guint done, guint total, double elapsed_s, void *user);

typedef struct {
    guint jobs;                /* worker threads (0: g_get_num_processors()) */
    SwShard shard;             /* {0, 0} means {1, 1} */
    gboolean dry_run;          /* build each point (model fit, engine checks) but do not simulate */
    SwSweepProgress progress;  /* optional */
    void *progress_user;
} SwSweepRunOptions;

/* Runs the points of the slice and returns their rows in point order. A
 * point whose combination is invalid or whose build or simulation fails is a
 * row with status "error" and the message; it never stops the sweep. The
 * scenarios are built in the calling thread, then simulated on `jobs`
 * threads sharing `cache` (borrowed, thread-safe). Errors: none today
 * (NULL only if a thread cannot be started, SS_ERROR_SIM). */
SwSweepTable *sw_sweep_run(const SwSweep *sw, ScnCache *cache, const SwSweepRunOptions *opts, GError **error);

void sw_sweep_table_free(SwSweepTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SwSweepTable, sw_sweep_table_free)

guint sw_sweep_table_num_rows(const SwSweepTable *t);
guint sw_sweep_table_num_columns(const SwSweepTable *t);
/* Column c's name (borrowed). */
const char *sw_sweep_table_column(const SwSweepTable *t, guint c);
/* The index of a column, or -1. */
int sw_sweep_table_find_column(const SwSweepTable *t, const char *name);
/* The text of a cell as written in CSV ("" when empty). Borrowed. */
const char *sw_sweep_table_cell(const SwSweepTable *t, guint row, guint c);
/* The point index of a row. */
guint sw_sweep_table_point(const SwSweepTable *t, guint row);
/* Rows whose status is "error". */
guint sw_sweep_table_num_errors(const SwSweepTable *t);

/* The table as CSV (header line, then one line per row, "\n" line ends;
 * fields quoted when they hold a comma, quote, line end or edge blank) or
 * as JSON (schema "servesim.sweep/1"). g_free. */
char *sw_sweep_table_csv(const SwSweepTable *t);
char *sw_sweep_table_json(const SwSweepTable *t);
/* The table as one self-contained HTML page (sw_report.c): the swept
 * fields, throughput-latency curves and per-setting lines of the metrics
 * (inline SVG), and every row; every string escaped. `name` titles it,
 * `description` (may be NULL) follows. g_free. */
char *sw_sweep_table_html(const SwSweepTable *t, const char *name, const char *description);
/* Writes report.html, and sweep.csv and sweep.json, into `dir` (created if
 * needed). Errors name the file (SS_ERROR_INPUT). */
gboolean sw_sweep_write_output_dir(const SwSweepTable *t, const char *name, const char *description,
                                   const char *dir, GError **error);

/* Whether a file name means JSON (ends in ".json", any case). */
gboolean sw_sweep_path_is_json(const char *path);


/* Reads a table written by sw_sweep_table_csv or _json (by the extension of
 * `path`; CSV with libcsv). Checks that each row has every column, that
 * sweep_id and sweep_points agree within the file and that points are in
 * range. Errors (SS_ERROR_INPUT) name the file and the row. */
SwSweepTable *sw_sweep_table_read(const char *path, GError **error);

/* Joins slices into the table of the whole sweep. `origins` name the parts
 * in errors. Verifies the same columns, sweep_id and sweep_points in every
 * part, each point exactly once and every point 0..sweep_points-1 present;
 * errors (SS_ERROR_INPUT) name the files and the duplicate or missing
 * points. The parts are borrowed; the result is new. */
SwSweepTable *sw_sweep_table_merge(SwSweepTable *const *parts, const char *const *origins, guint n_parts,
                                   GError **error);

#endif /* SW_SWEEP_H */
