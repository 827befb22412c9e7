/*
 * sw_internal.h: the sweep module's shared state, internal to sweep/: the
 * cells and rows of a result table (sw_table.c writes them, sw_table_read.c
 * reads and merges them), the parsed sweep file (sw_sweep.c) and the
 * columns a run fills (sw_run.c).
 *
 * Cells keep their exact text and a kind (empty, string, number, literal):
 * CSV writes the text (quoted when needed), JSON writes a string, null, or
 * the text as a raw JSON value. Numbers are printed with the shortest of
 * "%.15g", "%.16g" and "%.17g" that reads back to the same double, so reading
 * a file and writing it again gives the same bytes; that is what makes a
 * merge of slices byte-identical to the unsharded run.
 */
#ifndef SW_INTERNAL_H
#define SW_INTERNAL_H

#include <cjson/cJSON.h>

#include "sw_sweep.h"

/* All scenarios of a slice are held in memory while it runs. */
#define SW_SWEEP_MAX_POINTS 1000000u
#define SW_SWEEP_SCHEMA "servesim.sweep/1"

/* ------------------------------------------------------------- cells -- */

typedef enum {
    CELL_EMPTY = 0,  /* CSV "", JSON null */
    CELL_STRING,     /* CSV the text, JSON a string */
    CELL_NUMBER,     /* the text is a JSON number */
    CELL_LITERAL,    /* true, false, or a JSON object or array (compact) */
} CellKind;

typedef struct {
    CellKind kind;
    char *text;      /* NULL when empty */
} Cell;

typedef struct {
    guint point;
    Cell *cells;     /* one per column */
} Row;

/* Sets a cell to a copy of `text` (NULL: empty, whatever the kind). */
void sw_cell_set(Cell *c, CellKind kind, const char *text);
/* A number cell (shortest exact text); empty when not finite. */
void sw_cell_number(Cell *c, double v);
/* The cell of a JSON value as it appears in an axis column or a JSON row. */
void sw_cell_from_json(Cell *c, const cJSON *v);

Row *sw_row_new(guint point, guint ncols);
void sw_row_free(Row *r, guint ncols);
Row *sw_row_copy(const Row *src, guint ncols);

/* ------------------------------------------------------------- table -- */

struct SwSweepTable {
    char *name;          /* NULL: unknown (read from CSV) */
    char *sweep_id;      /* NULL: unknown (a CSV slice without rows) */
    guint sweep_points;  /* 0: unknown */
    SwShard shard;
    gboolean dry_run;
    GPtrArray *params;   /* char *: the axis fields, for JSON's "axes" */
    GPtrArray *columns;  /* char * */
    GPtrArray *rows;     /* Row *, in point order once complete */
};

/* An empty table: no columns, no rows, shard 1/1. */
SwSweepTable *sw_table_new(void);

/* ------------------------------------------------------------- sweep -- */

typedef struct {
    char *name;          /* as written in the file: the column name */
    char *canon;         /* the scenario field it sets (prefix stripped) */
    guint dim;
    GPtrArray *values;   /* char *: compact JSON, one per value of the dimension */
    Cell *cells;         /* the same values as cells */
} Param;

typedef struct {
    guint n_values;
    guint stride;        /* product of the sizes of the later dimensions */
} Dim;

struct SwSweep {
    char *origin;
    char *name;
    char *description;   /* NULL when the file has none */
    char id[17];
    ScnScenario *base;
    GArray *dims;        /* Dim */
    GPtrArray *params;   /* Param * */
    guint num_points;
};

/* The index of the value a param takes at `point`. */
guint sw_sweep_value_index(const SwSweep *sw, const Param *p, guint point);

/* --------------------------------------------------------------- run -- */

/* Appends the names of the metric columns a run (or a dry run) fills, after
 * `status` and `error` (sw_run.c). */
void sw_add_metric_columns(GPtrArray *cols, gboolean dry_run);

#endif /* SW_INTERNAL_H */
