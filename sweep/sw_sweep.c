/*
 * sw_sweep.c: sweep files, their points, running them on a thread pool, and
 * the result table with its CSV and JSON forms, readers and merge.
 *
 * A sweep is a base scenario and a list of dimensions. A dimension is an
 * axis (one field, n values) or a zip group (k fields, n values each,
 * advancing together); its fields are "params", the columns between `point`
 * and `status`. Point p takes value (p / stride_d) mod n_d of dimension d,
 * where stride_d is the product of the sizes of the later dimensions: the
 * first dimension varies slowest. Each value is kept as compact JSON (what
 * scn_scenario_set takes) and as the cell it is written as.
 *
 * Running: every scenario of the slice is built in the calling thread
 * (scn_scenario_set parses JSON with cJSON, whose error pointer is global),
 * then a GThreadPool simulates them; each worker writes only its own row,
 * so rows are stored by point and come out in point order whatever the
 * number of threads. The caller waits on a condition variable and reports
 * progress about five times a second.
 *
 * Cells keep their exact text and a kind (empty, string, number, literal):
 * CSV writes the text (quoted when needed), JSON writes a string, null, or
 * the text as a raw JSON value. Numbers are printed with the shortest of
 * "%.15g", "%.16g" and "%.17g" that reads back to the same double, so reading a
 * file and writing it again gives the same bytes; that is what makes a
 * merge of slices byte-identical to the unsharded run.
 *
 * Limits: at most SW_SWEEP_MAX_POINTS points (all scenarios of a slice are
 * held in memory while it runs); per-class aggregates of multi-class
 * workloads are not in the rows (run the point alone for them); an axis
 * value must be valid on the base scenario by itself (it is checked there
 * when the file is read), even when another axis would make it valid.
 */
#include "sw_sweep.h"

#include <cjson/cJSON.h>
#include <csv.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "scn_json.h"
#include "ss_error.h"

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

static void cell_set(Cell *c, CellKind kind, const char *text)
{
    g_free(c->text);
    c->kind = text ? kind : CELL_EMPTY;
    c->text = g_strdup(text);
}

static void cell_take(Cell *c, CellKind kind, char *text)
{
    g_free(c->text);
    c->kind = text ? kind : CELL_EMPTY;
    c->text = text;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as the same double
 * (17 digits always do); NULL (an empty cell) when not finite. */
static char *format_number(double v)
{
    if (!isfinite(v))
        return NULL;
    static const char *const formats[] = {"%.15g", "%.16g", "%.17g"};
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
        g_ascii_formatd(buf, sizeof buf, formats[i], v);
        if (g_ascii_strtod(buf, NULL) == v)
            break;
    }
    return g_strdup(buf);
}

static void cell_number(Cell *c, double v)
{
    cell_take(c, CELL_NUMBER, format_number(v));
}

/* The cell of a JSON value as it appears in an axis column or a JSON row. */
static void cell_from_json(Cell *c, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        cell_set(c, CELL_STRING, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        cell_number(c, v->valuedouble);
    } else if (cJSON_IsNull(v)) {
        cell_set(c, CELL_EMPTY, NULL);
    } else {
        char *text = cJSON_PrintUnformatted(v);
        cell_set(c, CELL_LITERAL, text);
        cJSON_free(text);
    }
}

static Row *row_new(guint point, guint ncols)
{
    Row *r = g_new(Row, 1);
    r->point = point;
    r->cells = g_new0(Cell, ncols);
    return r;
}

static void row_free_n(Row *r, guint ncols)
{
    if (!r)
        return;
    for (guint i = 0; i < ncols; i++)
        g_free(r->cells[i].text);
    g_free(r->cells);
    g_free(r);
}

static Row *row_copy(const Row *src, guint ncols)
{
    Row *r = row_new(src->point, ncols);
    for (guint i = 0; i < ncols; i++)
        cell_set(&r->cells[i], src->cells[i].kind, src->cells[i].text);
    return r;
}

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

static SwSweepTable *table_new(void)
{
    SwSweepTable *t = g_new0(SwSweepTable, 1);
    t->shard = (SwShard){1, 1};
    t->params = g_ptr_array_new_with_free_func(g_free);
    t->columns = g_ptr_array_new_with_free_func(g_free);
    t->rows = g_ptr_array_new();
    return t;
}

void sw_sweep_table_free(SwSweepTable *t)
{
    if (!t)
        return;
    for (guint i = 0; i < t->rows->len; i++)
        row_free_n(g_ptr_array_index(t->rows, i), t->columns->len);
    g_ptr_array_free(t->rows, TRUE);
    g_ptr_array_free(t->columns, TRUE);
    g_ptr_array_free(t->params, TRUE);
    g_free(t->name);
    g_free(t->sweep_id);
    g_free(t);
}

guint sw_sweep_table_num_rows(const SwSweepTable *t)
{
    return t->rows->len;
}

guint sw_sweep_table_num_columns(const SwSweepTable *t)
{
    return t->columns->len;
}

const char *sw_sweep_table_column(const SwSweepTable *t, guint c)
{
    g_return_val_if_fail(c < t->columns->len, NULL); /* index contracts: callers loop within the counts */
    return g_ptr_array_index(t->columns, c);
}

int sw_sweep_table_find_column(const SwSweepTable *t, const char *name)
{
    for (guint i = 0; i < t->columns->len; i++)
        if (strcmp(g_ptr_array_index(t->columns, i), name) == 0)
            return (int)i;
    return -1;
}

const char *sw_sweep_table_cell(const SwSweepTable *t, guint row, guint c)
{
    g_return_val_if_fail(row < t->rows->len && c < t->columns->len, NULL); /* an index contract, not input */
    const Row *r = g_ptr_array_index(t->rows, row);
    return r->cells[c].text ? r->cells[c].text : "";
}

guint sw_sweep_table_point(const SwSweepTable *t, guint row)
{
    g_return_val_if_fail(row < t->rows->len, 0); /* an index contract, not input */
    return ((const Row *)g_ptr_array_index(t->rows, row))->point;
}

guint sw_sweep_table_num_errors(const SwSweepTable *t)
{
    int status = sw_sweep_table_find_column(t, "status");
    guint n = 0;
    for (guint i = 0; status >= 0 && i < t->rows->len; i++)
        n += strcmp(sw_sweep_table_cell(t, i, (guint)status), "error") == 0;
    return n;
}

gboolean sw_sweep_path_is_json(const char *path)
{
    size_t n = strlen(path);
    return n >= 5 && g_ascii_strcasecmp(path + n - 5, ".json") == 0;
}

/* ------------------------------------------------------------- shards -- */

gboolean sw_shard_parse(const char *text, SwShard *out, GError **error)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    guint64 k = 0, n = 0;
    gboolean ok = FALSE;
    if (slash) {
        char *ks = g_strndup(text, (gsize)(slash - text));
        ok = g_ascii_string_to_unsigned(ks, 10, 1, G_MAXUINT32, &k, NULL) &&
             g_ascii_string_to_unsigned(slash + 1, 10, 1, G_MAXUINT32, &n, NULL) && k <= n;
        g_free(ks);
    }
    if (!ok) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "--shard: expected K/N with 1 <= K <= N (slice K of N, e.g. 2/4), got '%s'", text ? text : "");
        return FALSE;
    }
    out->index = (guint)k;
    out->count = (guint)n;
    return TRUE;
}

gboolean sw_shard_contains(const SwShard *shard, guint point)
{
    if (shard->count <= 1)
        return TRUE;
    return point % shard->count == shard->index - 1;
}

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

static void param_free(Param *p)
{
    if (!p)
        return;
    for (guint i = 0; p->cells && i < p->values->len; i++)
        g_free(p->cells[i].text);
    g_free(p->cells);
    if (p->values)
        g_ptr_array_free(p->values, TRUE);
    g_free(p->name);
    g_free(p->canon);
    g_free(p);
}

void sw_sweep_free(SwSweep *sw)
{
    if (!sw)
        return;
    g_ptr_array_free(sw->params, TRUE);
    g_array_free(sw->dims, TRUE);
    scn_scenario_free(sw->base);
    g_free(sw->name);
    g_free(sw->description);
    g_free(sw->origin);
    g_free(sw);
}

const char *sw_sweep_name(const SwSweep *sw)
{
    return sw->name;
}

const char *sw_sweep_description(const SwSweep *sw)
{
    return sw->description;
}

const char *sw_sweep_id(const SwSweep *sw)
{
    return sw->id;
}

guint sw_sweep_num_points(const SwSweep *sw)
{
    return sw->num_points;
}

guint sw_sweep_num_params(const SwSweep *sw)
{
    return sw->params->len;
}

const char *sw_sweep_param_name(const SwSweep *sw, guint k)
{
    g_return_val_if_fail(k < sw->params->len, NULL); /* an index contract, not input */
    return ((const Param *)g_ptr_array_index(sw->params, k))->name;
}

static guint value_index(const SwSweep *sw, const Param *p, guint point)
{
    const Dim *d = &g_array_index(sw->dims, Dim, p->dim);
    return (point / d->stride) % d->n_values;
}

const char *sw_sweep_param_value(const SwSweep *sw, guint point, guint k)
{
    g_return_val_if_fail(k < sw->params->len && point < sw->num_points, NULL); /* an index contract, not input */
    const Param *p = g_ptr_array_index(sw->params, k);
    return g_ptr_array_index(p->values, value_index(sw, p, point));
}

ScnScenario *sw_sweep_point_scenario(const SwSweep *sw, guint point, GError **error)
{
    g_return_val_if_fail(point < sw->num_points, NULL); /* an index contract, not input */
    ScnScenario *s = scn_scenario_copy(sw->base);
    for (guint k = 0; k < sw->params->len; k++) {
        const Param *p = g_ptr_array_index(sw->params, k);
        if (!scn_scenario_set(s, p->name, g_ptr_array_index(p->values, value_index(sw, p, point)), "sweep",
                              error)) {
            scn_scenario_free(s);
            return NULL;
        }
    }
    return s;
}

/* The output columns after `status` and `error`, run and dry run. */
static const char *const stats_metrics[] = {"ttft", "tpot", "itl", "e2e", "queue"};
static const char *const stats_names[] = {"mean", "p50", "p90", "p95", "p99", "max"};
static const char *const metrics_before_stats[] = {
    "arrived", "completed", "rejected", "in_flight", "rejected_too_long", "rejected_no_blocks", "rows_skipped",
    "preemptions", "preempted_requests", "input_tokens", "output_tokens", "steps", "num_gpu_blocks",
    "latency_backend", "latency_basis", "duration_s", "first_arrival_s", "end_s", "offered_rate", "achieved_rate",
    "requests_per_s", "input_tokens_per_s", "output_tokens_per_s", NULL};
static const char *const metrics_after_stats[] = {"kv_usage_mean", "kv_usage_peak", "batch_size_mean",
                                                  "batch_tokens_mean", "busy_fraction", "queue_growth_ms",
                                                  "prefix_hit_tokens",
                                                  "stopped_at_limit", "num_replicas", "router_policy",
                                                  "imbalance", "jain_index", "prefix_hit_rate",
                                                  "rejected_admission", NULL};
static const char *const dry_run_metrics[] = {"num_gpu_blocks", "latency_backend", "latency_basis", NULL};

static void add_metric_columns(GPtrArray *cols, gboolean dry_run)
{
    if (dry_run) {
        for (const char *const *m = dry_run_metrics; *m; m++)
            g_ptr_array_add(cols, g_strdup(*m));
        return;
    }
    for (const char *const *m = metrics_before_stats; *m; m++)
        g_ptr_array_add(cols, g_strdup(*m));
    for (size_t i = 0; i < G_N_ELEMENTS(stats_metrics); i++)
        for (size_t j = 0; j < G_N_ELEMENTS(stats_names); j++)
            g_ptr_array_add(cols, g_strdup_printf("%s_%s_ms", stats_metrics[i], stats_names[j]));
    for (const char *const *m = metrics_after_stats; *m; m++)
        g_ptr_array_add(cols, g_strdup(*m));
}

/* Whether a name is one of the fixed columns (an axis must not take it). */
static gboolean is_fixed_column(const char *name)
{
    static const char *const fixed[] = {"point", "status", "error", "sweep_id", "sweep_points", NULL};
    GPtrArray *cols = g_ptr_array_new_with_free_func(g_free);
    add_metric_columns(cols, FALSE);
    gboolean found = g_strv_contains(fixed, name);
    for (guint i = 0; !found && i < cols->len; i++)
        found = strcmp(g_ptr_array_index(cols, i), name) == 0;
    g_ptr_array_free(cols, TRUE);
    return found;
}


static void set_unknown_field_error(GError **error, const char *origin, const char *path, const char *name)
{
    const char *best = NULL;
    guint best_d = G_MAXUINT;
    GString *known = g_string_new(NULL);
    for (const char *const *f = scn_scenario_fields(); *f; f++) {
        guint d = scn_edit_distance(name, *f);
        if (d < best_d) {
            best_d = d;
            best = *f;
        }
        g_string_append_printf(known, "%s%s", known->len ? ", " : "", *f);
    }
    gboolean close = best && best_d <= 3 && best_d < strlen(name);
    char *hint = close ? g_strdup_printf(" (did you mean '%s'?)", best) : g_strdup("");
    g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: unknown scenario field%s; axes may be: %s", origin, path,
                hint, known->str);
    g_free(hint);
    g_string_free(known, TRUE);
}

/* Adds one dimension: the fields of `obj` (an axis when it has one field
 * read from "axes", a zip group otherwise), each a non-empty list. */
static gboolean add_dimension(SwSweep *sw, const cJSON *obj, const char *path, gboolean zip, GError **error)
{
    gboolean ok = FALSE;
    guint n_values = 0;
    char *first_path = NULL; /* path of the group's first field */
    char *fpath = NULL;
    Param *p = NULL;
    guint dim = sw->dims->len;
    for (const cJSON *f = obj->child; f; f = f->next) {
        g_free(fpath);
        fpath = g_strdup_printf("%s.%s", path, f->string);
        p = g_new0(Param, 1);
        p->name = g_strdup(f->string);
        p->dim = dim;
        p->canon = g_strdup(scn_scenario_field_canonical(f->string));
        if (!p->canon) {
            set_unknown_field_error(error, sw->origin, fpath, f->string);
            goto fail;
        }
        if (is_fixed_column(p->name)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: %s: '%s' is also the name of an output column; write the field with its section "
                        "(e.g. 'workload.%s')",
                        sw->origin, fpath, p->name, p->name);
            goto fail;
        }
        for (guint k = 0; k < sw->params->len; k++) {
            const Param *q = g_ptr_array_index(sw->params, k);
            if (strcmp(q->canon, p->canon) == 0) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: %s: the field '%s' is swept twice (already as '%s'); a field may be in one axis "
                            "or zip group only",
                            sw->origin, fpath, p->canon, q->name);
                goto fail;
            }
        }
        if (!cJSON_IsArray(f)) {
            char *repr = scn_json_repr(f);
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected a list of values, got %s", sw->origin,
                        fpath, repr);
            g_free(repr);
            goto fail;
        }
        guint n = (guint)cJSON_GetArraySize(f);
        if (n == 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: empty list (a dimension needs at least one value)",
                        sw->origin, fpath);
            goto fail;
        }
        if (first_path && n != n_values) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: %s: has %u values but %s has %u; the lists of a zip group advance together and need "
                        "the same length",
                        sw->origin, fpath, n, first_path, n_values);
            goto fail;
        }
        n_values = n;
        p->values = g_ptr_array_new_with_free_func(g_free);
        p->cells = g_new0(Cell, n);
        guint i = 0;
        for (const cJSON *v = f->child; v; v = v->next, i++) {
            char *text = cJSON_PrintUnformatted(v);
            g_ptr_array_add(p->values, g_strdup(text));
            cJSON_free(text);
            cell_from_json(&p->cells[i], v);
            /* each value must be acceptable to the scenario on its own */
            char *vorigin = g_strdup_printf("%s: %s[%u]", sw->origin, fpath, i);
            ScnScenario *probe = scn_scenario_copy(sw->base);
            gboolean set = scn_scenario_set(probe, p->name, g_ptr_array_index(p->values, i), vorigin, error);
            scn_scenario_free(probe);
            g_free(vorigin);
            if (!set)
                goto fail;
        }
        g_ptr_array_add(sw->params, p);
        p = NULL;
        if (!first_path)
            first_path = g_strdup(fpath);
        if (!zip)
            break; /* an axis has one field */
    }
    if (n_values == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: an empty zip group (give it one or more fields)",
                    sw->origin, path);
        goto fail;
    }
    Dim d = {.n_values = n_values};
    g_array_append_val(sw->dims, d);
    ok = TRUE;
fail:
    param_free(p);
    g_free(fpath);
    g_free(first_path);
    return ok;
}

static gboolean read_dimensions(SwSweep *sw, const cJSON *root, GError **error)
{
    for (const cJSON *it = root->child; it; it = it->next) {
        if (strcmp(it->string, "axes") == 0) {
            if (!cJSON_IsObject(it)) {
                char *repr = scn_json_repr(it);
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: axes: expected an object of field: [values], got %s", sw->origin, repr);
                g_free(repr);
                return FALSE;
            }
            for (const cJSON *a = it->child; a; a = a->next) {
                /* one axis: a view of `axes` holding only this member */
                cJSON *one = cJSON_CreateObject();
                cJSON_AddItemReferenceToObject(one, a->string, (cJSON *)a);
                gboolean ok = add_dimension(sw, one, "axes", FALSE, error);
                cJSON_Delete(one);
                if (!ok)
                    return FALSE;
            }
        } else if (strcmp(it->string, "zip") == 0) {
            if (!cJSON_IsArray(it)) {
                char *repr = scn_json_repr(it);
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: zip: expected a list of groups ({field: [values], ...}), got %s", sw->origin, repr);
                g_free(repr);
                return FALSE;
            }
            guint g = 0;
            for (const cJSON *grp = it->child; grp; grp = grp->next, g++) {
                char *gpath = g_strdup_printf("zip[%u]", g);
                gboolean ok = cJSON_IsObject(grp);
                if (!ok) {
                    char *repr = scn_json_repr(grp);
                    g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                                "%s: %s: expected an object of field: [values], got %s", sw->origin, gpath, repr);
                    g_free(repr);
                }
                ok = ok && add_dimension(sw, grp, gpath, TRUE, error);
                g_free(gpath);
                if (!ok)
                    return FALSE;
            }
        }
    }
    guint64 total = 1;
    for (guint d = sw->dims->len; d-- > 0;) {
        Dim *dim = &g_array_index(sw->dims, Dim, d);
        dim->stride = (guint)total;
        total *= dim->n_values;
        if (total > SW_SWEEP_MAX_POINTS) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: the sweep has more than %u points; split it into several sweep files", sw->origin,
                        SW_SWEEP_MAX_POINTS);
            return FALSE;
        }
    }
    sw->num_points = (guint)total;
    return TRUE;
}

/* The base scenario; `canon` receives the canonical text of a base file. */
static gboolean read_base(SwSweep *sw, const cJSON *root, const char *base_dir, char **canon, GError **error)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "base");
    if (!b) {
        sw->base = scn_scenario_new_default();
        return TRUE;
    }
    if (cJSON_IsObject(b)) {
        char *text = cJSON_PrintUnformatted(b);
        char *borigin = g_strdup_printf("%s: base", sw->origin);
        sw->base = scn_scenario_parse(text, borigin, base_dir, error);
        g_free(borigin);
        cJSON_free(text);
        return sw->base != NULL;
    }
    if (!cJSON_IsString(b) || !*b->valuestring) {
        char *repr = scn_json_repr(b);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: base: expected a scenario object or the path of a scenario file, got %s", sw->origin, repr);
        g_free(repr);
        return FALSE;
    }
    gboolean ok = FALSE;
    char *path = g_path_is_absolute(b->valuestring) ? g_strdup(b->valuestring)
                                                    : g_build_filename(base_dir, b->valuestring, NULL);
    cJSON *doc = scn_json_parse_file(path, error);
    if (!doc)
        goto out;
    char *text = cJSON_PrintUnformatted(doc);
    *canon = g_strdup(text);
    cJSON_free(text);
    cJSON_Delete(doc);
    sw->base = scn_scenario_load(path, error);
    ok = sw->base != NULL;
out:
    if (!ok)
        g_prefix_error(error, "%s: base: ", sw->origin);
    g_free(path);
    return ok;
}

SwSweep *sw_sweep_parse(const char *json_text, const char *origin, const char *base_dir, GError **error)
{
    static const char *const keys[] = {"name", "description", "base", "axes", "zip", NULL};
    SwSweep *sw = g_new0(SwSweep, 1);
    sw->origin = g_strdup(origin);
    sw->dims = g_array_new(FALSE, FALSE, sizeof(Dim));
    sw->params = g_ptr_array_new_with_free_func((GDestroyNotify)param_free);
    char *base_canon = NULL;
    cJSON *root = scn_json_parse(json_text, origin, error);
    if (!root || !scn_json_check_keys(root, "", keys, origin, error))
        goto fail;
    if (!scn_json_get_string(root, "name", "", origin, &sw->name, error))
        goto fail;
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
    if (desc && !cJSON_IsString(desc)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: description: expected a string", origin);
        goto fail;
    }
    if (desc)
        sw->description = g_strdup(desc->valuestring);
    if (!sw->name) {
        sw->name = g_path_get_basename(origin);
        char *dot = strrchr(sw->name, '.');
        if (dot && dot != sw->name)
            *dot = '\0';
    }
    if (!read_base(sw, root, base_dir ? base_dir : ".", &base_canon, error) || !read_dimensions(sw, root, error))
        goto fail;

    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    char *canon = cJSON_PrintUnformatted(root);
    g_checksum_update(sum, (const guchar *)SW_SWEEP_SCHEMA "\n", -1);
    g_checksum_update(sum, (const guchar *)canon, -1);
    if (base_canon) {
        g_checksum_update(sum, (const guchar *)"\n", 1);
        g_checksum_update(sum, (const guchar *)base_canon, -1);
    }
    cJSON_free(canon);
    g_strlcpy(sw->id, g_checksum_get_string(sum), sizeof sw->id);
    g_checksum_free(sum);
    cJSON_Delete(root);
    g_free(base_canon);
    return sw;
fail:
    cJSON_Delete(root);
    g_free(base_canon);
    sw_sweep_free(sw);
    return NULL;
}

SwSweep *sw_sweep_load(const char *path, GError **error)
{
    char *text = scn_read_file(path, "sweep", NULL, error);
    if (!text)
        return NULL;
    char *dir = g_path_get_dirname(path);
    SwSweep *sw = sw_sweep_parse(text, path, dir, error);
    g_free(dir);
    g_free(text);
    return sw;
}

/* --------------------------------------------------------------- run -- */

typedef struct {
    const SwSweep *sw;
    ScnCache *cache;
    guint ncols;
    guint first_metric;   /* column of the first metric */
    ScnScenario **scenarios; /* per row; NULL: not to run */
    Row **rows;
    GMutex lock;
    GCond cond;
    guint done;
} RunState;

static void fill_stats(Cell *c, const SimStats *st)
{
    const double v[] = {st->mean, st->p50, st->p90, st->p95, st->p99, st->max};
    G_STATIC_ASSERT(G_N_ELEMENTS(v) == G_N_ELEMENTS(stats_names));
    for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
        if (st->count)
            cell_number(&c[i], v[i]);
        else
            cell_set(&c[i], CELL_EMPTY, NULL); /* no value: nothing completed */
    }
}

/* The metric cells of an ok row, in the order of add_metric_columns(). */
static void fill_metrics(Cell *c, const ClResult *fleet, const ScnBuilt *b)
{
    const SimSummary *sum = fleet->summary;
    const SimClassSummary *a = &sum->all;
    guint i = 0;
    cell_number(&c[i++], (double)a->arrived);
    cell_number(&c[i++], (double)a->completed);
    cell_number(&c[i++], (double)a->rejected);
    cell_number(&c[i++], (double)a->in_flight);
    cell_number(&c[i++], (double)sum->rejected_too_long);
    cell_number(&c[i++], (double)sum->rejected_no_blocks);
    cell_number(&c[i++], (double)sum->rows_skipped);
    cell_number(&c[i++], (double)sum->preemptions);
    cell_number(&c[i++], (double)a->preempted_requests);
    cell_number(&c[i++], (double)a->input_tokens);
    cell_number(&c[i++], (double)a->output_tokens);
    cell_number(&c[i++], (double)sum->steps);
    cell_number(&c[i++], (double)sum->num_gpu_blocks);
    cell_set(&c[i++], CELL_STRING, lat_backend_name(lat_step_model_backend(b->step)));
    char basis[96];
    scn_latency_basis(b, basis, sizeof basis);
    cell_set(&c[i++], CELL_STRING, basis);
    cell_number(&c[i++], sum->duration_s);
    cell_number(&c[i++], sum->first_arrival_s);
    cell_number(&c[i++], sum->end_s);
    cell_number(&c[i++], sum->offered_rate);
    cell_number(&c[i++], sum->achieved_rate);
    cell_number(&c[i++], a->requests_per_s);
    cell_number(&c[i++], a->input_tokens_per_s);
    cell_number(&c[i++], a->output_tokens_per_s);
    g_assert(i == G_N_ELEMENTS(metrics_before_stats) - 1); /* the static tables agree: not input */
    const SimStats *st[] = {&a->ttft_ms, &a->tpot_ms, &a->itl_ms, &a->e2e_ms, &a->queue_ms};
    G_STATIC_ASSERT(G_N_ELEMENTS(st) == G_N_ELEMENTS(stats_metrics));
    for (size_t k = 0; k < G_N_ELEMENTS(st); k++, i += G_N_ELEMENTS(stats_names))
        fill_stats(&c[i], st[k]);
    guint after = i;
    cell_number(&c[i++], sum->kv_usage_mean);
    cell_number(&c[i++], sum->kv_usage_peak);
    cell_number(&c[i++], sum->batch_size_mean);
    cell_number(&c[i++], sum->batch_tokens_mean);
    cell_number(&c[i++], sum->busy_fraction);
    cell_number(&c[i++], sum->queue_growth_ms);
    cell_number(&c[i++], (double)sum->prefix_hit_tokens);
    cell_set(&c[i++], CELL_LITERAL, sum->stopped_at_limit ? "true" : "false");
    cell_number(&c[i++], (double)fleet->num_replicas);
    cell_set(&c[i++], CELL_STRING, cl_router_policy_name(fleet->policy));
    cell_number(&c[i++], fleet->imbalance);
    cell_number(&c[i++], fleet->jain_index);
    cell_number(&c[i++], fleet->prefix_hit_rate);
    cell_number(&c[i++], (double)sum->rejected_admission);
    g_assert(i - after == G_N_ELEMENTS(metrics_after_stats) - 1); /* the static tables agree: not input */
}

static void row_set_status(const RunState *st, Row *r, const char *error_message)
{
    guint c = st->first_metric - 2;
    cell_set(&r->cells[c], CELL_STRING, error_message ? "error" : "ok");
    cell_set(&r->cells[c + 1], CELL_STRING, error_message);
}

static void run_point(gpointer data, gpointer user)
{
    RunState *st = user;
    guint j = GPOINTER_TO_UINT(data) - 1;
    Row *r = st->rows[j];
    ScnBuilt built;
    GError *error = NULL;
    ClResult *res = scn_run_fleet(st->scenarios[j], st->cache, NULL, &built, &error);
    if (res) {
        row_set_status(st, r, NULL);
        fill_metrics(&r->cells[st->first_metric], res, &built);
        scn_built_clear(&built);
        cl_result_free(res);
    } else {
        row_set_status(st, r, error ? error->message : "the simulation failed");
        g_clear_error(&error);
    }
    scn_scenario_free(st->scenarios[j]);
    st->scenarios[j] = NULL;
    g_mutex_lock(&st->lock);
    st->done++;
    g_cond_signal(&st->cond);
    g_mutex_unlock(&st->lock);
}

/* Dry run: build the point in this thread, report what the build found. */
static void check_point(RunState *st, guint j)
{
    Row *r = st->rows[j];
    ScnBuilt built;
    GError *error = NULL;
    if (scn_build(st->scenarios[j], st->cache, &built, &error)) {
        row_set_status(st, r, NULL);
        cell_number(&r->cells[st->first_metric], (double)built.sched.num_gpu_blocks);
        cell_set(&r->cells[st->first_metric + 1], CELL_STRING,
                 lat_backend_name(lat_step_model_backend(built.step)));
        char basis[96];
        scn_latency_basis(&built, basis, sizeof basis);
        cell_set(&r->cells[st->first_metric + 2], CELL_STRING, basis);
        scn_built_clear(&built);
    } else {
        row_set_status(st, r, error->message);
        g_clear_error(&error);
    }
}

SwSweepTable *sw_sweep_run(const SwSweep *sw, ScnCache *cache, const SwSweepRunOptions *opts, GError **error)
{
    SwShard shard = opts->shard.count ? opts->shard : (SwShard){1, 1};
    gboolean ok = FALSE;
    SwSweepTable *t = table_new();
    t->name = g_strdup(sw->name);
    t->sweep_id = g_strdup(sw->id);
    t->sweep_points = sw->num_points;
    t->shard = shard;
    t->dry_run = opts->dry_run;
    g_ptr_array_add(t->columns, g_strdup("point"));
    for (guint k = 0; k < sw->params->len; k++) {
        g_ptr_array_add(t->params, g_strdup(sw_sweep_param_name(sw, k)));
        g_ptr_array_add(t->columns, g_strdup(sw_sweep_param_name(sw, k)));
    }
    g_ptr_array_add(t->columns, g_strdup("status"));
    g_ptr_array_add(t->columns, g_strdup("error"));
    guint first_metric = t->columns->len;
    add_metric_columns(t->columns, opts->dry_run);
    g_ptr_array_add(t->columns, g_strdup("sweep_id"));
    g_ptr_array_add(t->columns, g_strdup("sweep_points"));
    guint ncols = t->columns->len;

    /* the rows of the slice and their scenarios, built here (cJSON is not thread-safe) */
    RunState st = {.sw = sw, .cache = cache, .ncols = ncols, .first_metric = first_metric};
    g_mutex_init(&st.lock);
    g_cond_init(&st.cond);
    guint n = 0;
    for (guint p = 0; p < sw->num_points; p++)
        n += sw_shard_contains(&shard, p);
    st.scenarios = g_new0(ScnScenario *, n);
    st.rows = g_new0(Row *, n);
    GThreadPool *pool = NULL;
    guint to_run = 0;
    for (guint p = 0, j = 0; p < sw->num_points; p++) {
        if (!sw_shard_contains(&shard, p))
            continue;
        Row *r = st.rows[j] = row_new(p, ncols);
        cell_number(&r->cells[0], p);
        for (guint k = 0; k < sw->params->len; k++) {
            const Param *par = g_ptr_array_index(sw->params, k);
            const Cell *c = &par->cells[value_index(sw, par, p)];
            cell_set(&r->cells[1 + k], c->kind, c->text);
        }
        cell_set(&r->cells[ncols - 2], CELL_STRING, sw->id);
        cell_number(&r->cells[ncols - 1], sw->num_points);
        GError *set_error = NULL;
        st.scenarios[j] = sw_sweep_point_scenario(sw, p, &set_error);
        if (!st.scenarios[j]) {
            row_set_status(&st, r, set_error->message);
            g_clear_error(&set_error);
            st.done++;
        } else {
            to_run++;
        }
        j++;
    }

    gint64 t0 = g_get_monotonic_time();
    if (opts->dry_run) {
        for (guint j = 0; j < n; j++) {
            if (st.scenarios[j])
                check_point(&st, j);
        }
        st.done = n;
    } else if (to_run > 0) {
        guint jobs = opts->jobs ? opts->jobs : g_get_num_processors();
        pool = g_thread_pool_new(run_point, &st, (gint)MIN(MAX(jobs, 1u), to_run), FALSE, error);
        if (!pool) {
            g_prefix_error(error, "cannot start the sweep's threads: ");
            goto out;
        }
        for (guint j = 0; j < n; j++) {
            if (st.scenarios[j] && !g_thread_pool_push(pool, GUINT_TO_POINTER(j + 1), error)) {
                g_prefix_error(error, "cannot start the sweep's threads: ");
                goto out;
            }
        }
        g_mutex_lock(&st.lock);
        while (st.done < n) {
            gint64 deadline = g_get_monotonic_time() + 200 * G_TIME_SPAN_MILLISECOND;
            while (st.done < n && g_cond_wait_until(&st.cond, &st.lock, deadline))
                ; /* a point finished: keep waiting until the deadline */
            guint done = st.done;
            if (opts->progress && done < n) {
                g_mutex_unlock(&st.lock);
                opts->progress(done, n, (g_get_monotonic_time() - t0) / 1e6, opts->progress_user);
                g_mutex_lock(&st.lock);
            }
        }
        g_mutex_unlock(&st.lock);
    }
    if (opts->progress)
        opts->progress(n, n, (g_get_monotonic_time() - t0) / 1e6, opts->progress_user);
    ok = TRUE;
out:
    if (pool)
        g_thread_pool_free(pool, !ok, TRUE); /* waits for the points under way */
    for (guint j = 0; j < n; j++) {
        scn_scenario_free(st.scenarios[j]);
        g_ptr_array_add(t->rows, st.rows[j]);
    }
    g_free(st.scenarios);
    g_free(st.rows);
    g_mutex_clear(&st.lock);
    g_cond_clear(&st.cond);
    if (!ok) {
        sw_sweep_table_free(t);
        return NULL;
    }
    return t;
}

/* ------------------------------------------------------------ writing -- */

static gboolean csv_needs_quotes(const char *s)
{
    if (!*s)
        return FALSE;
    size_t n = strlen(s);
    if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
        return TRUE; /* libcsv trims unquoted blanks */
    return strpbrk(s, ",\"\r\n") != NULL;
}

static void csv_append(GString *out, const char *s)
{
    if (!csv_needs_quotes(s)) {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

char *sw_sweep_table_csv(const SwSweepTable *t)
{
    GString *out = g_string_new(NULL);
    for (guint c = 0; c < t->columns->len; c++) {
        if (c)
            g_string_append_c(out, ',');
        csv_append(out, g_ptr_array_index(t->columns, c));
    }
    g_string_append_c(out, '\n');
    for (guint i = 0; i < t->rows->len; i++) {
        const Row *r = g_ptr_array_index(t->rows, i);
        for (guint c = 0; c < t->columns->len; c++) {
            if (c)
                g_string_append_c(out, ',');
            csv_append(out, r->cells[c].text ? r->cells[c].text : "");
        }
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

char *sw_sweep_table_json(const SwSweepTable *t)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", SW_SWEEP_SCHEMA);
    cJSON_AddStringToObject(root, "name", t->name ? t->name : "");
    cJSON_AddStringToObject(root, "sweep_id", t->sweep_id ? t->sweep_id : "");
    cJSON_AddNumberToObject(root, "sweep_points", t->sweep_points);
    if (t->shard.count > 1) {
        char *shard = g_strdup_printf("%u/%u", t->shard.index, t->shard.count);
        cJSON_AddStringToObject(root, "shard", shard);
        g_free(shard);
    }
    if (t->dry_run)
        cJSON_AddTrueToObject(root, "dry_run");
    cJSON *axes = cJSON_AddArrayToObject(root, "axes");
    for (guint k = 0; k < t->params->len; k++)
        cJSON_AddItemToArray(axes, cJSON_CreateString(g_ptr_array_index(t->params, k)));
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (guint i = 0; i < t->rows->len; i++) {
        const Row *r = g_ptr_array_index(t->rows, i);
        cJSON *o = cJSON_CreateObject();
        for (guint c = 0; c < t->columns->len; c++) {
            const char *name = g_ptr_array_index(t->columns, c);
            const Cell *cell = &r->cells[c];
            switch (cell->kind) {
            case CELL_EMPTY:
                cJSON_AddNullToObject(o, name);
                break;
            case CELL_STRING:
                cJSON_AddStringToObject(o, name, cell->text);
                break;
            case CELL_NUMBER:
            case CELL_LITERAL:
                cJSON_AddRawToObject(o, name, cell->text);
                break;
            }
        }
        cJSON_AddItemToArray(rows, o);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char *out = g_strdup_printf("%s\n", text);
    cJSON_free(text);
    return out;
}

/* ------------------------------------------------------------ reading -- */

/* Point and sweep columns of a row read back: checks and records them. */
static gboolean check_row(SwSweepTable *t, Row *r, const char *path, guint row_no, GError **error)
{
    int pc = sw_sweep_table_find_column(t, "point");
    int ic = sw_sweep_table_find_column(t, "sweep_id");
    int nc = sw_sweep_table_find_column(t, "sweep_points");
    const char *point = r->cells[pc].text ? r->cells[pc].text : "";
    const char *id = r->cells[ic].text ? r->cells[ic].text : "";
    const char *np = r->cells[nc].text ? r->cells[nc].text : "";
    guint64 n = 0, p = 0;
    if (!g_ascii_string_to_unsigned(np, 10, 1, SW_SWEEP_MAX_POINTS, &n, NULL)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: row %u: sweep_points: expected a positive integer, got '%s'",
                    path, row_no, np);
        return FALSE;
    }
    if (!*id) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: row %u: sweep_id is empty", path, row_no);
        return FALSE;
    }
    if (!t->sweep_id) {
        t->sweep_id = g_strdup(id);
        t->sweep_points = (guint)n;
    } else if (strcmp(t->sweep_id, id) != 0 || t->sweep_points != n) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: row %u: sweep %s with %" G_GUINT64_FORMAT " points, but the file is sweep %s with %u points",
                    path, row_no, id, n, t->sweep_id, t->sweep_points);
        return FALSE;
    }
    if (!g_ascii_string_to_unsigned(point, 10, 0, n - 1, &p, NULL)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: row %u: point: expected an integer from 0 to %" G_GUINT64_FORMAT ", got '%s'", path, row_no,
                    n - 1, point);
        return FALSE;
    }
    r->point = (guint)p;
    return TRUE;
}

/* The axis fields are the columns between `point` and `status`. */
static gboolean table_check_columns(SwSweepTable *t, const char *path, GError **error)
{
    static const char *const required[] = {"point", "status", "error", "sweep_id", "sweep_points"};
    for (size_t i = 0; i < G_N_ELEMENTS(required); i++) {
        if (sw_sweep_table_find_column(t, required[i]) < 0) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: no column '%s': not the output of servesim sweep", path, required[i]);
            return FALSE;
        }
    }
    for (guint c = 0; c < t->columns->len; c++) {
        for (guint d = c + 1; d < t->columns->len; d++) {
            if (strcmp(g_ptr_array_index(t->columns, c), g_ptr_array_index(t->columns, d)) == 0) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: column '%s' appears twice", path,
                            (const char *)g_ptr_array_index(t->columns, c));
                return FALSE;
            }
        }
    }
    return TRUE;
}

typedef struct {
    GPtrArray *fields;  /* char *: the row being read */
    GPtrArray *rows;    /* GPtrArray * of char * */
} CsvRead;

static void csv_on_field(void *s, size_t len, void *data)
{
    CsvRead *cr = data;
    g_ptr_array_add(cr->fields, g_strndup(s ? s : "", len));
}

static void csv_on_row(int c, void *data)
{
    (void)c;
    CsvRead *cr = data;
    g_ptr_array_add(cr->rows, cr->fields);
    cr->fields = g_ptr_array_new_with_free_func(g_free);
}

static SwSweepTable *read_csv(const char *path, const char *text, gsize len, GError **error)
{
    SwSweepTable *t = table_new();
    CsvRead cr = {g_ptr_array_new_with_free_func(g_free),
                  g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref)};
    struct csv_parser parser;
    gboolean ok = FALSE;
    gboolean parser_ready = csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) == 0;
    if (!parser_ready) {
        g_set_error(error, SS_ERROR, SS_ERROR_SIM, "%s: cannot start the CSV parser", path);
        goto out;
    }
    if (csv_parse(&parser, text, len, csv_on_field, csv_on_row, &cr) != len ||
        csv_fini(&parser, csv_on_field, csv_on_row, &cr) != 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: row %u: malformed CSV (%s)", path,
                    cr.rows->len ? cr.rows->len : 1, csv_strerror(csv_error(&parser)));
        goto out;
    }
    if (cr.rows->len == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: empty file: expected a header line", path);
        goto out;
    }
    GPtrArray *header = g_ptr_array_index(cr.rows, 0);
    for (guint c = 0; c < header->len; c++)
        g_ptr_array_add(t->columns, g_strdup(g_ptr_array_index(header, c)));
    if (!table_check_columns(t, path, error))
        goto out;
    for (guint c = 1; c < t->columns->len && strcmp(g_ptr_array_index(t->columns, c), "status") != 0; c++)
        g_ptr_array_add(t->params, g_strdup(g_ptr_array_index(t->columns, c)));
    guint ncols = t->columns->len;
    for (guint i = 1; i < cr.rows->len; i++) {
        GPtrArray *f = g_ptr_array_index(cr.rows, i);
        if (f->len != ncols) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: row %u: %u fields, but the header has %u", path, i,
                        f->len, ncols);
            goto out;
        }
        Row *r = row_new(0, ncols);
        g_ptr_array_add(t->rows, r);
        for (guint c = 0; c < ncols; c++) {
            const char *v = g_ptr_array_index(f, c);
            cell_set(&r->cells[c], CELL_STRING, *v ? v : NULL);
        }
        if (!check_row(t, r, path, i, error))
            goto out;
    }
    ok = TRUE;
out:
    if (parser_ready)
        csv_free(&parser);
    g_ptr_array_free(cr.fields, TRUE);
    g_ptr_array_free(cr.rows, TRUE);
    if (!ok) {
        sw_sweep_table_free(t);
        return NULL;
    }
    return t;
}

static gboolean json_get_required_string(const cJSON *root, const char *key, const char *path, char **out,
                                         GError **error)
{
    if (!scn_json_get_string(root, key, "", path, out, error))
        return FALSE;
    if (!*out) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: missing", path, key);
        return FALSE;
    }
    return TRUE;
}

static SwSweepTable *read_json(const char *path, const char *text, GError **error)
{
    static const char *const keys[] = {"schema", "name", "sweep_id", "sweep_points", "shard", "dry_run",
                                       "axes", "rows", NULL};
    SwSweepTable *t = table_new();
    char *schema = NULL, *shard = NULL, *sweep_id = NULL;
    gboolean ok = FALSE;
    cJSON *root = scn_json_parse(text, path, error);
    if (!root || !scn_json_check_keys(root, "", keys, path, error))
        goto out;
    if (!json_get_required_string(root, "schema", path, &schema, error))
        goto out;
    if (strcmp(schema, SW_SWEEP_SCHEMA) != 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: schema: expected \"%s\", got \"%s\"", path,
                    SW_SWEEP_SCHEMA, schema);
        goto out;
    }
    guint64 points = 0;
    if (!json_get_required_string(root, "name", path, &t->name, error) ||
        !json_get_required_string(root, "sweep_id", path, &sweep_id, error) ||
        !scn_json_get_uint(root, "sweep_points", "", path, 1, SW_SWEEP_MAX_POINTS, &points, error) ||
        !scn_json_get_string(root, "shard", "", path, &shard, error) ||
        !scn_json_get_bool(root, "dry_run", "", path, &t->dry_run, error))
        goto out;
    if (points == 0) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: sweep_points: missing", path);
        goto out;
    }
    if (shard && !sw_shard_parse(shard, &t->shard, NULL)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: shard: expected \"K/N\", got \"%s\"", path, shard);
        goto out;
    }
    const cJSON *axes = cJSON_GetObjectItemCaseSensitive(root, "axes");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    if (!cJSON_IsArray(axes) || !cJSON_IsArray(rows)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected a list", path,
                    cJSON_IsArray(axes) ? "rows" : "axes");
        goto out;
    }
    for (const cJSON *a = axes->child; a; a = a->next) {
        if (!cJSON_IsString(a)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: axes: expected field names", path);
            goto out;
        }
        g_ptr_array_add(t->params, g_strdup(a->valuestring));
    }
    guint i = 0;
    for (const cJSON *o = rows->child; o; o = o->next, i++) {
        if (!cJSON_IsObject(o)) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: rows[%u]: expected an object", path, i);
            goto out;
        }
        if (i == 0) {
            for (const cJSON *f = o->child; f; f = f->next)
                g_ptr_array_add(t->columns, g_strdup(f->string));
            if (!table_check_columns(t, path, error))
                goto out;
        }
        guint ncols = t->columns->len;
        Row *r = row_new(0, ncols);
        g_ptr_array_add(t->rows, r);
        guint c = 0;
        for (const cJSON *f = o->child; f; f = f->next, c++) {
            if (c >= ncols || strcmp(f->string, g_ptr_array_index(t->columns, c)) != 0) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: rows[%u]: field %u is '%s', but rows[0] has '%s' there", path, i, c, f->string,
                            c < ncols ? (const char *)g_ptr_array_index(t->columns, c) : "(nothing)");
                goto out;
            }
            cell_from_json(&r->cells[c], f);
        }
        if (c != ncols) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: rows[%u]: %u fields, but rows[0] has %u", path, i, c,
                        ncols);
            goto out;
        }
        if (!check_row(t, r, path, i + 1, error))
            goto out;
    }
    if (t->sweep_id && (strcmp(t->sweep_id, sweep_id) != 0 || t->sweep_points != points)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: the rows are of sweep %s (%u points), the header of %s (%"
                    G_GUINT64_FORMAT " points)", path, t->sweep_id, t->sweep_points, sweep_id, points);
        goto out;
    }
    g_free(t->sweep_id);
    t->sweep_id = g_steal_pointer(&sweep_id);
    t->sweep_points = (guint)points;
    ok = TRUE;
out:
    cJSON_Delete(root);
    g_free(schema);
    g_free(shard);
    g_free(sweep_id);
    if (!ok) {
        sw_sweep_table_free(t);
        return NULL;
    }
    return t;
}

SwSweepTable *sw_sweep_table_read(const char *path, GError **error)
{
    gsize len = 0;
    char *text = scn_read_file_max(path, "sweep output", (gsize)16 << 30, &len, error);
    if (!text)
        return NULL;
    SwSweepTable *t = sw_sweep_path_is_json(path) ? read_json(path, text, error) : read_csv(path, text, len, error);
    g_free(text);
    return t;
}

/* -------------------------------------------------------------- merge -- */

/* "3, 5, 7-9, ..." of the points flagged in `mask`, at most `limit` items. */
static char *point_list(const gboolean *mask, guint n, guint limit)
{
    GString *s = g_string_new(NULL);
    guint items = 0, total = 0;
    for (guint p = 0; p < n;) {
        if (!mask[p]) {
            p++;
            continue;
        }
        guint q = p;
        while (q + 1 < n && mask[q + 1])
            q++;
        total += q - p + 1;
        if (items < limit) {
            if (items)
                g_string_append(s, ", ");
            if (q == p)
                g_string_append_printf(s, "%u", p);
            else
                g_string_append_printf(s, "%u-%u", p, q);
        }
        items++;
        p = q + 1;
    }
    if (items > limit)
        g_string_append(s, ", ...");
    g_string_append_printf(s, " (%u point%s)", total, total == 1 ? "" : "s");
    return g_string_free(s, FALSE);
}

static gboolean same_strings(const GPtrArray *a, const GPtrArray *b)
{
    if (a->len != b->len)
        return FALSE;
    for (guint i = 0; i < a->len; i++)
        if (strcmp(g_ptr_array_index(a, i), g_ptr_array_index(b, i)) != 0)
            return FALSE;
    return TRUE;
}

SwSweepTable *sw_sweep_table_merge(SwSweepTable *const *parts, const char *const *origins, guint n_parts,
                                   GError **error)
{
    SwSweepTable *out = NULL;
    guint *owner = NULL;
    gboolean *mask = NULL;
    const SwSweepTable *ref = NULL, *cols = NULL; /* first part with an id, with columns */
    guint ref_i = 0, cols_i = 0;
    for (guint i = 0; i < n_parts; i++) {
        const SwSweepTable *t = parts[i];
        if (t->columns->len) {
            if (!cols) {
                cols = t;
                cols_i = i;
            } else if (!same_strings(t->columns, cols->columns)) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: its columns differ from those of %s: not slices of the same sweep", origins[i],
                            origins[cols_i]);
                goto out;
            }
        }
        if (t->sweep_id) {
            if (!ref) {
                ref = t;
                ref_i = i;
            } else if (strcmp(t->sweep_id, ref->sweep_id) != 0 || t->sweep_points != ref->sweep_points) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: sweep_id %s (%u points), but %s has sweep_id %s (%u points): slices of different "
                            "sweeps (or of an edited sweep file)",
                            origins[i], t->sweep_id, t->sweep_points, origins[ref_i], ref->sweep_id,
                            ref->sweep_points);
                goto out;
            }
            if (t->dry_run != ref->dry_run) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: a %s, but %s is a %s", origins[i],
                            t->dry_run ? "dry run" : "sweep result", origins[ref_i],
                            ref->dry_run ? "dry run" : "sweep result");
                goto out;
            }
        }
    }
    if (!ref) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "no input has a row, so the sweep and its points are unknown (inputs: %u file%s)", n_parts,
                    n_parts == 1 ? "" : "s");
        goto out;
    }
    guint n = ref->sweep_points;
    owner = g_new(guint, n);
    for (guint p = 0; p < n; p++)
        owner[p] = G_MAXUINT;
    mask = g_new0(gboolean, n);
    GString *dups = NULL;
    guint n_dups = 0;
    for (guint i = 0; i < n_parts; i++) {
        for (guint k = 0; k < parts[i]->rows->len; k++) {
            guint p = ((const Row *)g_ptr_array_index(parts[i]->rows, k))->point;
            if (owner[p] == G_MAXUINT) {
                owner[p] = i;
                continue;
            }
            if (!dups)
                dups = g_string_new(NULL);
            if (n_dups < 10)
                g_string_append_printf(dups, "%spoint %u in %s and in %s", n_dups ? "; " : "", p, origins[owner[p]],
                                       origins[i]);
            n_dups++;
        }
    }
    if (dups) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "duplicate points (%u): %s%s", n_dups, dups->str,
                    n_dups > 10 ? "; ..." : "");
        g_string_free(dups, TRUE);
        goto out;
    }
    gboolean missing = FALSE;
    for (guint p = 0; p < n; p++) {
        mask[p] = owner[p] == G_MAXUINT;
        missing = missing || mask[p];
    }
    if (missing) {
        char *list = point_list(mask, n, 20);
        GString *files = g_string_new(NULL);
        for (guint i = 0; i < n_parts; i++)
            g_string_append_printf(files, "%s%s", i ? ", " : "", origins[i]);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "sweep %s has %u points; missing from %s: %s (is a slice missing?)", ref->sweep_id, n,
                    files->str, list);
        g_string_free(files, TRUE);
        g_free(list);
        goto out;
    }
    out = table_new();
    const SwSweepTable *meta = ref;
    for (guint i = 0; i < n_parts; i++) /* a JSON part knows the sweep's name */
        if (parts[i]->name && parts[i]->sweep_id) {
            meta = parts[i];
            break;
        }
    out->name = g_strdup(meta->name);
    out->sweep_id = g_strdup(ref->sweep_id);
    out->sweep_points = n;
    out->dry_run = ref->dry_run;
    for (guint k = 0; k < meta->params->len; k++)
        g_ptr_array_add(out->params, g_strdup(g_ptr_array_index(meta->params, k)));
    for (guint c = 0; c < cols->columns->len; c++)
        g_ptr_array_add(out->columns, g_strdup(g_ptr_array_index(cols->columns, c)));
    Row **by_point = g_new0(Row *, n);
    for (guint i = 0; i < n_parts; i++)
        for (guint k = 0; k < parts[i]->rows->len; k++) {
            const Row *r = g_ptr_array_index(parts[i]->rows, k);
            by_point[r->point] = row_copy(r, cols->columns->len);
        }
    for (guint p = 0; p < n; p++)
        g_ptr_array_add(out->rows, by_point[p]);
    g_free(by_point);
out:
    g_free(owner);
    g_free(mask);
    return out;
}
