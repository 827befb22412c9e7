/*
 * sw_table_read.c: sweep tables read back from the CSV (libcsv) or JSON a
 * sweep wrote, checked (every column, one sweep_id and sweep_points per
 * file, points in range; errors name the file and the row), and slices
 * merged into the table of the whole sweep (each point exactly once, none
 * missing). A merged table writes the same bytes as the unsharded run.
 */
#include <csv.h>
#include <string.h>

#include "scn_json.h"
#include "ss_error.h"
#include "sw_internal.h"

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
    SwSweepTable *t = sw_table_new();
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
        Row *r = sw_row_new(0, ncols);
        g_ptr_array_add(t->rows, r);
        for (guint c = 0; c < ncols; c++) {
            const char *v = g_ptr_array_index(f, c);
            sw_cell_set(&r->cells[c], CELL_STRING, *v ? v : NULL);
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
    SwSweepTable *t = sw_table_new();
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
        Row *r = sw_row_new(0, ncols);
        g_ptr_array_add(t->rows, r);
        guint c = 0;
        for (const cJSON *f = o->child; f; f = f->next, c++) {
            if (c >= ncols || strcmp(f->string, g_ptr_array_index(t->columns, c)) != 0) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                            "%s: rows[%u]: field %u is '%s', but rows[0] has '%s' there", path, i, c, f->string,
                            c < ncols ? (const char *)g_ptr_array_index(t->columns, c) : "(nothing)");
                goto out;
            }
            sw_cell_from_json(&r->cells[c], f);
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
    out = sw_table_new();
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
            by_point[r->point] = sw_row_copy(r, cols->columns->len);
        }
    for (guint p = 0; p < n; p++)
        g_ptr_array_add(out->rows, by_point[p]);
    g_free(by_point);
out:
    g_free(owner);
    g_free(mask);
    return out;
}
