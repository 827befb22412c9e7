/*
 * lat_model_names.c: which config.json a model argument names.
 *
 * A model is given as (first match wins):
 *   1. a path: a config.json (any file name), a folder holding config.json
 *      (a local Hugging Face snapshot), or a Hugging Face hub cache folder
 *      "models--ORG--NAME" (its snapshot named by refs/main, or its only
 *      snapshot);
 *   2. a bundled name: a folder of <data>/models ("llama-3.1-8b-instruct"),
 *      in any case;
 *   3. a Hugging Face id ("meta-llama/Llama-3.1-8B-Instruct"), in any case:
 *      the ids recorded in <data>/models/index.json ("hf_id" and "also"),
 *      else the part after the last '/' equal to a bundled name;
 *   4. a Hugging Face id found in the local hub cache ($HF_HUB_CACHE, else
 *      $HF_HOME/hub, else ~/.cache/huggingface/hub), offline.
 * An unknown name is an error (SS_ERROR_USAGE) listing the nearest bundled
 * names by edit distance; a path that does not exist is SS_ERROR_INPUT.
 *
 * Cost: one small JSON read (the index) and a directory listing per lookup;
 * model loads are cached by the callers. Limits: the hub cache is only read,
 * never filled (no network).
 */
#include <string.h>

#include "lat.h"
#include "lat_internal.h"
#include "ss_error.h"

/* ------------------------------------------------------------- index -- */

typedef struct {
    char *name;   /* folder under models/ */
    char *hf_id;  /* may be NULL */
    GPtrArray *also; /* char*, other ids of the same config */
} IndexEntry;

static void index_entry_free(gpointer p)
{
    IndexEntry *e = p;
    g_free(e->name);
    g_free(e->hf_id);
    g_ptr_array_free(e->also, TRUE);
    g_free(e);
}

/* The entries of <data>/models/index.json (an empty array when there is
 * none). A malformed index is an error: it ships with the data. */
static GPtrArray *index_load(const char *data_dir, GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(index_entry_free);
    char *path = g_build_filename(data_dir ? data_dir : ".", "models", "index.json", NULL);
    cJSON *root = NULL;
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        goto done;
    root = lat_read_json_file(path, error);
    if (!root)
        goto fail;
    const cJSON *models = cJSON_GetObjectItemCaseSensitive(root, "models");
    if (!cJSON_IsArray(models)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: models: expected a list", path);
        goto fail;
    }
    int i = 0;
    for (const cJSON *m = models->child; m; m = m->next, i++) {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(m, "name");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(m, "hf_id");
        const cJSON *also = cJSON_GetObjectItemCaseSensitive(m, "also");
        if (!cJSON_IsString(name) || (id && !cJSON_IsString(id) && !cJSON_IsNull(id)) ||
            (also && !cJSON_IsArray(also))) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s: models[%d]: expected {\"name\": string, \"hf_id\": string or null, \"also\": [strings]}",
                        path, i);
            goto fail;
        }
        IndexEntry *e = g_new0(IndexEntry, 1);
        e->name = g_strdup(name->valuestring);
        e->hf_id = cJSON_IsString(id) ? g_strdup(id->valuestring) : NULL;
        e->also = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(out, e);
        for (const cJSON *a = also ? also->child : NULL; a; a = a->next) {
            if (!cJSON_IsString(a)) {
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: models[%d].also: expected strings", path, i);
                goto fail;
            }
            g_ptr_array_add(e->also, g_strdup(a->valuestring));
        }
    }
done:
    cJSON_Delete(root);
    g_free(path);
    return out;
fail:
    cJSON_Delete(root);
    g_free(path);
    g_ptr_array_free(out, TRUE);
    return NULL;
}

char *lat_model_hf_id(const char *data_dir, const char *name)
{
    GPtrArray *idx = index_load(data_dir, NULL);
    char *id = NULL;
    for (guint i = 0; idx && i < idx->len && !id; i++) {
        const IndexEntry *e = g_ptr_array_index(idx, i);
        if (strcmp(e->name, name) == 0)
            id = g_strdup(e->hf_id);
    }
    if (idx)
        g_ptr_array_free(idx, TRUE);
    return id;
}

/* ------------------------------------------------------------- paths -- */

/* The snapshot folder of a hub cache repository folder, or NULL. */
static char *hub_snapshot(const char *repo_dir, GError **error)
{
    char *snaps = g_build_filename(repo_dir, "snapshots", NULL);
    char *ref = g_build_filename(repo_dir, "refs", "main", NULL);
    char *out = NULL, *hash = NULL;
    if (!g_file_test(snaps, G_FILE_TEST_IS_DIR))
        goto done;
    if (g_file_get_contents(ref, &hash, NULL, NULL)) {
        g_strstrip(hash);
        out = g_build_filename(snaps, hash, NULL);
        if (g_file_test(out, G_FILE_TEST_IS_DIR))
            goto done;
        g_clear_pointer(&out, g_free);
    }
    GDir *d = g_dir_open(snaps, 0, NULL);
    guint n = 0;
    const char *entry;
    char *only = NULL;
    while (d && (entry = g_dir_read_name(d))) {
        n++;
        g_free(only);
        only = g_strdup(entry);
    }
    if (d)
        g_dir_close(d);
    if (n == 1)
        out = g_build_filename(snaps, only, NULL);
    else
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: expected one snapshot or refs/main in a Hugging Face cache folder, found %u snapshots "
                    "and no refs/main (give the snapshot folder itself)", repo_dir, n);
    g_free(only);
done:
    g_free(hash);
    g_free(ref);
    g_free(snaps);
    return out;
}

/* "models--ORG--NAME" -> "ORG/NAME" (g_free), NULL when `base` is not one. */
static char *hub_repo_id(const char *base)
{
    if (!g_str_has_prefix(base, "models--"))
        return NULL;
    char **parts = g_strsplit(base + 8, "--", 2);
    char *id = parts[0] && parts[1] ? g_strdup_printf("%s/%s", parts[0], parts[1]) : NULL;
    g_strfreev(parts);
    return id;
}

/* The display name of a config found at `path`: the hub id of a cache
 * snapshot, the folder of a config.json, or the file's stem. */
static char *name_for_path(const char *config_path)
{
    char *base = g_path_get_basename(config_path);
    char *name = NULL;
    if (strcmp(base, "config.json") == 0) {
        char *dir = g_path_get_dirname(config_path);
        char *parent = g_path_get_dirname(dir);
        char *grand = g_path_get_dirname(parent);
        char *pbase = g_path_get_basename(parent), *gbase = g_path_get_basename(grand);
        if (strcmp(pbase, "snapshots") == 0)
            name = hub_repo_id(gbase);
        if (!name)
            name = g_path_get_basename(dir);
        g_free(pbase);
        g_free(gbase);
        g_free(grand);
        g_free(parent);
        g_free(dir);
    } else {
        char *dot = strrchr(base, '.');
        name = dot && dot != base ? g_strndup(base, (gsize)(dot - base)) : g_strdup(base);
    }
    g_free(base);
    return name;
}

/* A path argument: a file, a folder with config.json, or a hub cache folder. */
static gboolean resolve_path(const char *arg, char **path_out, GError **error)
{
    if (g_file_test(arg, G_FILE_TEST_IS_REGULAR)) {
        *path_out = g_strdup(arg);
        return TRUE;
    }
    char *snap = NULL;
    const char *dir = arg;
    char *cfg = g_build_filename(dir, "config.json", NULL);
    if (!g_file_test(cfg, G_FILE_TEST_IS_REGULAR)) {
        GError *err = NULL;
        snap = hub_snapshot(arg, &err);
        if (err) {
            g_propagate_error(error, err);
            g_free(cfg);
            return FALSE;
        }
        if (snap) {
            g_free(cfg);
            cfg = g_build_filename(snap, "config.json", NULL);
        }
    }
    gboolean ok = g_file_test(cfg, G_FILE_TEST_IS_REGULAR);
    if (ok)
        *path_out = g_steal_pointer(&cfg);
    else
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                    "%s: expected a model folder with a config.json (a Hugging Face snapshot), got a folder "
                    "without one", arg);
    g_free(cfg);
    g_free(snap);
    return ok;
}

/* The hub cache folder. g_free. */
static char *hub_cache_dir(void)
{
    const char *v = g_getenv("HF_HUB_CACHE");
    if (v && *v)
        return g_strdup(v);
    v = g_getenv("HF_HOME");
    if (v && *v)
        return g_build_filename(v, "hub", NULL);
    return g_build_filename(g_get_home_dir(), ".cache", "huggingface", "hub", NULL);
}

/* An id "ORG/NAME" in the local hub cache (names compared in any case). */
static char *hub_cache_lookup(const char *id, GError **error)
{
    if (!strchr(id, '/') || strchr(id, '/') != strrchr(id, '/'))
        return NULL;
    char *cache = hub_cache_dir();
    GDir *d = g_dir_open(cache, 0, NULL);
    char *out = NULL;
    const char *entry;
    while (d && !out && (entry = g_dir_read_name(d))) {
        char *rid = hub_repo_id(entry);
        if (rid && g_ascii_strcasecmp(rid, id) == 0) {
            char *repo = g_build_filename(cache, entry, NULL);
            char *snap = hub_snapshot(repo, error);
            if (snap) {
                char *cfg = g_build_filename(snap, "config.json", NULL);
                if (g_file_test(cfg, G_FILE_TEST_IS_REGULAR))
                    out = g_steal_pointer(&cfg);
                g_free(cfg);
            }
            g_free(snap);
            g_free(repo);
        }
        g_free(rid);
    }
    if (d)
        g_dir_close(d);
    g_free(cache);
    return out;
}

/* ----------------------------------------------------------- matching -- */

/* Levenshtein distance of two strings, in any case. */
static guint edit_distance(const char *a, const char *b)
{
    gsize n = strlen(b);
    guint *row = g_new(guint, n + 1);
    for (gsize j = 0; j <= n; j++)
        row[j] = (guint)j;
    for (gsize i = 1; a[i - 1]; i++) {
        guint diag = row[0];
        row[0] = (guint)i;
        for (gsize j = 1; j <= n; j++) {
            guint up = row[j];
            guint cost = g_ascii_tolower(a[i - 1]) == g_ascii_tolower(b[j - 1]) ? 0 : 1;
            row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + cost);
            diag = up;
        }
    }
    guint d = row[n];
    g_free(row);
    return d;
}

/* The part after the last '/'. */
static const char *id_tail(const char *s)
{
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

typedef struct {
    const char *name;
    const char *hf_id;
    guint distance;
} Near;

static gint cmp_near(gconstpointer a, gconstpointer b)
{
    const Near *x = a, *y = b;
    if (x->distance != y->distance)
        return x->distance < y->distance ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* "a (org/A), b, c": the bundled models nearest to `arg`. g_free. */
static char *nearest_names(const char *arg, char **known, const GPtrArray *idx)
{
    GArray *near = g_array_new(FALSE, FALSE, sizeof(Near));
    for (char **k = known; k && *k; k++) {
        Near n = {.name = *k, .distance = MIN(edit_distance(arg, *k), edit_distance(id_tail(arg), *k))};
        for (guint i = 0; idx && i < idx->len; i++) {
            const IndexEntry *e = g_ptr_array_index(idx, i);
            if (strcmp(e->name, *k) != 0 || !e->hf_id)
                continue;
            n.hf_id = e->hf_id;
            n.distance = MIN(n.distance, edit_distance(arg, e->hf_id));
        }
        g_array_append_val(near, n);
    }
    g_array_sort(near, cmp_near);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < MIN(near->len, 3u); i++) {
        const Near *n = &g_array_index(near, Near, i);
        g_string_append_printf(s, "%s%s", i ? ", " : "", n->name);
        if (n->hf_id)
            g_string_append_printf(s, " (%s)", n->hf_id);
    }
    g_array_free(near, TRUE);
    return g_string_free(s, FALSE);
}

/* The bundled name `arg` names (folder, recorded id, or id tail), or NULL. */
static const char *match_bundled(const char *arg, char **known, const GPtrArray *idx)
{
    for (char **k = known; k && *k; k++)
        if (strcmp(arg, *k) == 0)
            return *k;
    for (char **k = known; k && *k; k++)
        if (g_ascii_strcasecmp(arg, *k) == 0)
            return *k;
    for (guint i = 0; idx && i < idx->len; i++) {
        const IndexEntry *e = g_ptr_array_index(idx, i);
        gboolean hit = e->hf_id && g_ascii_strcasecmp(arg, e->hf_id) == 0;
        for (guint j = 0; !hit && j < e->also->len; j++)
            hit = g_ascii_strcasecmp(arg, g_ptr_array_index(e->also, j)) == 0;
        for (char **k = known; hit && k && *k; k++)
            if (strcmp(*k, e->name) == 0)
                return *k;
    }
    if (strchr(arg, '/')) {
        for (char **k = known; k && *k; k++)
            if (g_ascii_strcasecmp(id_tail(arg), *k) == 0)
                return *k;
    }
    return NULL;
}

static gboolean looks_like_path(const char *s)
{
    return g_str_has_suffix(s, ".json") || s[0] == '/' || s[0] == '~' || g_str_has_prefix(s, "./") ||
           g_str_has_prefix(s, "../");
}

gboolean lat_model_resolve(const char *name_or_path, const char *data_dir, char **config_path, char **short_name,
                           GError **error)
{
    g_return_val_if_fail(name_or_path != NULL && config_path != NULL && short_name != NULL, FALSE);
    const char *dd = data_dir ? data_dir : ".";
    char *path = NULL;
    if (!*name_or_path) {
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "expected a model name, id or path, got an empty string");
        return FALSE;
    }
    if (g_file_test(name_or_path, G_FILE_TEST_EXISTS)) {
        if (!resolve_path(name_or_path, &path, error))
            return FALSE;
        *config_path = path;
        *short_name = name_for_path(path);
        return TRUE;
    }
    if (looks_like_path(name_or_path)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: no such file or folder (expected a config.json or a "
                    "model folder)", name_or_path);
        return FALSE;
    }
    GError *ierr = NULL;
    GPtrArray *idx = index_load(dd, &ierr);
    if (!idx) {
        g_propagate_error(error, ierr);
        return FALSE;
    }
    char **known = lat_model_list(dd);
    const char *bundled = match_bundled(name_or_path, known, idx);
    gboolean ok = FALSE;
    if (bundled) {
        *config_path = g_build_filename(dd, "models", bundled, "config.json", NULL);
        *short_name = g_strdup(bundled);
        ok = TRUE;
    } else if ((path = hub_cache_lookup(name_or_path, error))) {
        *config_path = path;
        *short_name = g_strdup(name_or_path);
        ok = TRUE;
    } else if (!error || !*error) {
        char *near = nearest_names(name_or_path, known, idx);
        guint n = g_strv_length(known);
        g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                    "unknown model '%s' (nearest: %s; 'servesim list models' shows all %u bundled models; "
                    "--model-config PATH loads any config.json or model folder)",
                    name_or_path, n ? near : "none: no models in the data folder", n);
        g_free(near);
    }
    g_strfreev(known);
    g_ptr_array_free(idx, TRUE);
    return ok;
}
