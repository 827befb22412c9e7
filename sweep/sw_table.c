/*
 * sw_table.c: a sweep's result table (see sw_sweep.h and sw_internal.h):
 * its cells and rows, the accessors, the slices (shards) of a sweep, and
 * the table written as CSV and as JSON (schema "servesim.sweep/1").
 * Reading them back and merging slices is sw_table_read.c.
 */
#include <math.h>
#include <string.h>

#include "ss_error.h"
#include "sw_internal.h"

/* ------------------------------------------------------------- cells -- */

void sw_cell_set(Cell *c, CellKind kind, const char *text)
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

void sw_cell_number(Cell *c, double v)
{
    cell_take(c, CELL_NUMBER, format_number(v));
}

/* The cell of a JSON value as it appears in an axis column or a JSON row. */
void sw_cell_from_json(Cell *c, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        sw_cell_set(c, CELL_STRING, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        sw_cell_number(c, v->valuedouble);
    } else if (cJSON_IsNull(v)) {
        sw_cell_set(c, CELL_EMPTY, NULL);
    } else {
        char *text = cJSON_PrintUnformatted(v);
        sw_cell_set(c, CELL_LITERAL, text);
        cJSON_free(text);
    }
}

Row *sw_row_new(guint point, guint ncols)
{
    Row *r = g_new(Row, 1);
    r->point = point;
    r->cells = g_new0(Cell, ncols);
    return r;
}

void sw_row_free(Row *r, guint ncols)
{
    if (!r)
        return;
    for (guint i = 0; i < ncols; i++)
        g_free(r->cells[i].text);
    g_free(r->cells);
    g_free(r);
}

Row *sw_row_copy(const Row *src, guint ncols)
{
    Row *r = sw_row_new(src->point, ncols);
    for (guint i = 0; i < ncols; i++)
        sw_cell_set(&r->cells[i], src->cells[i].kind, src->cells[i].text);
    return r;
}

/* ------------------------------------------------------------- table -- */

SwSweepTable *sw_table_new(void)
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
        sw_row_free(g_ptr_array_index(t->rows, i), t->columns->len);
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
