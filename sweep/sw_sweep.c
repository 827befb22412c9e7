/*
 * sw_sweep.c: sweep files and their points (see sw_sweep.h and
 * docs/sweeps.md).
 *
 * A sweep is a base scenario and a list of dimensions. A dimension is an
 * axis (one field, n values) or a zip group (k fields, n values each,
 * advancing together); its fields are "params", the columns between `point`
 * and `status`. Point p takes value (p / stride_d) mod n_d of dimension d,
 * where stride_d is the product of the sizes of the later dimensions: the
 * first dimension varies slowest. Each value is kept as compact JSON (what
 * scn_scenario_set takes) and as the cell it is written as. The sweep's id
 * hashes the canonical text of the file (and of a base file).
 *
 * Running the points is sw_run.c; the result table sw_table.c and
 * sw_table_read.c.
 *
 * Limits: at most SW_SWEEP_MAX_POINTS points; an axis value must be valid
 * on the base scenario by itself (it is checked there when the file is
 * read), even when another axis would make it valid.
 */
#include <string.h>

#include "scn_json.h"
#include "ss_error.h"
#include "sw_internal.h"

/* ------------------------------------------------------------- sweep -- */


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

guint sw_sweep_value_index(const SwSweep *sw, const Param *p, guint point)
{
    const Dim *d = &g_array_index(sw->dims, Dim, p->dim);
    return (point / d->stride) % d->n_values;
}

const char *sw_sweep_param_value(const SwSweep *sw, guint point, guint k)
{
    g_return_val_if_fail(k < sw->params->len && point < sw->num_points, NULL); /* an index contract, not input */
    const Param *p = g_ptr_array_index(sw->params, k);
    return g_ptr_array_index(p->values, sw_sweep_value_index(sw, p, point));
}

ScnScenario *sw_sweep_point_scenario(const SwSweep *sw, guint point, GError **error)
{
    g_return_val_if_fail(point < sw->num_points, NULL); /* an index contract, not input */
    ScnScenario *s = scn_scenario_copy(sw->base);
    for (guint k = 0; k < sw->params->len; k++) {
        const Param *p = g_ptr_array_index(sw->params, k);
        if (!scn_scenario_set(s, p->name, g_ptr_array_index(p->values, sw_sweep_value_index(sw, p, point)), "sweep",
                              error)) {
            scn_scenario_free(s);
            return NULL;
        }
    }
    return s;
}

/* Whether a name is one of the fixed columns (an axis must not take it). */
static gboolean is_fixed_column(const char *name)
{
    static const char *const fixed[] = {"point", "status", "error", "sweep_id", "sweep_points", NULL};
    GPtrArray *cols = g_ptr_array_new_with_free_func(g_free);
    sw_add_metric_columns(cols, FALSE);
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
            sw_cell_from_json(&p->cells[i], v);
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
