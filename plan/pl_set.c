/*
 * pl_set.c: `servesim plan --set KEY=VALUE`: overriding a plan's settings
 * from the command line without editing the file.
 *
 * KEY is either
 *   - a path into the plan document: a top-level key (name, description,
 *     target_rate, slos, candidates, prices, router, search, autoscale), then ".key" or "[i]"
 *     steps ("search.num_requests", "slos[0].max_ms", "prices.H100-SXM",
 *     "candidates.grid.tensor_parallel_size"); objects on the way are
 *     created, list entries must exist; the value replaces what the file
 *     says before the plan is read, so it is checked like the file; or
 *   - a scenario field (what `servesim sweep` accepts as an axis:
 *     "max_model_len", "hardware", "workload.arrival.rate", optionally
 *     written "base.max_model_len"), set on the base scenario before the
 *     candidates are made, so a candidate's own value still wins.
 * VALUE is read as JSON ("800", "[2, 4]", "true", "\"x\""), else taken as a
 * string ("H100-SXM"). Overrides apply in the order given. Cost: O(length).
 */
#include <string.h>

#include "pl_plan_internal.h"
#include "scn_json.h"
#include "ss_error.h"

static const char *const plan_keys[] = {"name", "description", "target_rate", "slos", "candidates",
                                        "prices", "router", "search", "autoscale", NULL};

/* The JSON of VALUE: as written when it parses, else as a string. */
static cJSON *value_json(const char *value)
{
    cJSON *v = cJSON_ParseWithOpts(value, NULL, 1);
    return v ? v : cJSON_CreateString(value);
}

/* The path's steps: object keys, or "[i]" list indices (as "[i]"). */
static gboolean split_path(const char *key, GPtrArray *steps)
{
    const char *p = key;
    while (*p) {
        if (*p == '[') {
            const char *close = strchr(p, ']');
            if (!close || close == p + 1)
                return FALSE;
            for (const char *d = p + 1; d < close; d++)
                if (!g_ascii_isdigit(*d))
                    return FALSE;
            g_ptr_array_add(steps, g_strndup(p, (gsize)(close - p + 1)));
            p = close + 1;
            if (*p == '.')
                p++;
            continue;
        }
        gsize n = strcspn(p, ".[");
        if (n == 0)
            return FALSE;
        g_ptr_array_add(steps, g_strndup(p, n));
        p += n;
        if (*p == '.')
            p++;
    }
    return steps->len > 0;
}

/* Sets `v` (taken) at the steps below `root`. */
static gboolean set_path(cJSON *root, GPtrArray *steps, cJSON *v, const char *key, GError **error)
{
    cJSON *node = root;
    for (guint i = 0; i < steps->len; i++) {
        const char *step = g_ptr_array_index(steps, i);
        gboolean last = i + 1 == steps->len;
        if (step[0] == '[') {
            guint64 idx = g_ascii_strtoull(step + 1, NULL, 10); /* digits only: split_path checked */
            if (!cJSON_IsArray(node) || idx >= (guint64)cJSON_GetArraySize(node)) {
                g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                            "--set %s: %s: no such entry (the list has %d)", key, step,
                            cJSON_IsArray(node) ? cJSON_GetArraySize(node) : 0);
                cJSON_Delete(v);
                return FALSE;
            }
            if (last)
                return cJSON_ReplaceItemInArray(node, (int)idx, v);
            node = cJSON_GetArrayItem(node, (int)idx);
            continue;
        }
        if (!cJSON_IsObject(node)) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--set %s: '%s' is inside something that is not an object",
                        key, step);
            cJSON_Delete(v);
            return FALSE;
        }
        cJSON *child = cJSON_GetObjectItemCaseSensitive(node, step);
        if (last) {
            if (child)
                return cJSON_ReplaceItemInObjectCaseSensitive(node, step, v);
            return cJSON_AddItemToObject(node, step, v);
        }
        if (!child)
            child = cJSON_AddObjectToObject(node, step);
        node = child;
    }
    cJSON_Delete(v);
    return FALSE;
}

gboolean pl_set_apply_document(cJSON *root, const char *const *sets, char ***base_sets, GError **error)
{
    GPtrArray *base = g_ptr_array_new_with_free_func(g_free);
    gboolean ok = TRUE;
    for (const char *const *s = sets; ok && s && *s; s++) {
        const char *eq = strchr(*s, '=');
        if (!eq || eq == *s) {
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE, "--set '%s': expected KEY=VALUE", *s);
            ok = FALSE;
            break;
        }
        char *key = g_strndup(*s, (gsize)(eq - *s));
        const char *value = eq + 1;
        gsize head = strcspn(key, ".[");
        gboolean is_plan = FALSE;
        for (const char *const *k = plan_keys; *k; k++)
            is_plan = is_plan || (strlen(*k) == head && strncmp(key, *k, head) == 0);
        const char *field = g_str_has_prefix(key, "base.") ? key + 5 : key;
        if (is_plan && field == key) {
            GPtrArray *steps = g_ptr_array_new_with_free_func(g_free);
            if (!split_path(key, steps)) {
                g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                            "--set %s: expected a path like search.num_requests or slos[0].max_ms", key);
                ok = FALSE;
            } else {
                ok = set_path(root, steps, value_json(value), key, error);
            }
            g_ptr_array_free(steps, TRUE);
        } else if (scn_scenario_field_canonical(field)) {
            cJSON *v = value_json(value);
            char *text = cJSON_PrintUnformatted(v);
            g_ptr_array_add(base, g_strdup_printf("%s=%s", field, text));
            cJSON_free(text);
            cJSON_Delete(v);
        } else {
            GString *fields = g_string_new(NULL);
            for (const char *const *f = scn_scenario_fields(); *f; f++)
                g_string_append_printf(fields, "%s%s", fields->len ? ", " : "", *f);
            g_set_error(error, SS_ERROR, SS_ERROR_USAGE,
                        "--set %s: unknown key (expected a plan key: name, description, target_rate, slos[i].KEY, "
                        "candidates..., prices.GPU, router, search.KEY, autoscale.KEY; or a scenario field of the base: %s)",
                        key, fields->str);
            g_string_free(fields, TRUE);
            ok = FALSE;
        }
        g_free(key);
    }
    g_ptr_array_add(base, NULL);
    char **out = (char **)g_ptr_array_free(base, FALSE);
    if (ok)
        *base_sets = out;
    else
        g_strfreev(out);
    return ok;
}

gboolean pl_set_apply_base(ScnScenario *base, char *const *base_sets, const char *origin, GError **error)
{
    for (char *const *s = base_sets; s && *s; s++) {
        const char *eq = strchr(*s, '=');
        char *field = g_strndup(*s, (gsize)(eq - *s));
        char *where = g_strdup_printf("%s: --set %s", origin, field);
        gboolean ok = scn_scenario_set(base, field, eq + 1, where, error);
        g_free(where);
        g_free(field);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}
