/*
 * lat_util.c: file reading, JSON error positions, typed JSON getters and
 * checked number parsing for the latency module's loaders.
 *
 * Everything here runs at load time only (never on the step-time hot path).
 * Getters borrow the cJSON nodes they are given and copy strings out, so the
 * loader that parsed a document can delete it before it returns.
 */
#include "lat_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ss_error.h"

char *lat_read_text_file(const char *path, GError **error)
{
    char *text = NULL;
    gsize len = 0;
    GError *local = NULL;
    if (!g_file_get_contents(path, &text, &len, &local)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot read: %s", path, local->message);
        g_clear_error(&local);
        return NULL;
    }
    if (strlen(text) != len) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: the file contains a NUL byte", path);
        g_free(text);
        return NULL;
    }
    return text;
}

void lat_text_position(const char *text, const char *pos, guint *line, guint *column)
{
    guint l = 1, c = 1;
    if (text && pos) {
        for (const char *p = text; *p && p < pos; p++) {
            if (*p == '\n') {
                l++;
                c = 1;
            } else {
                c++;
            }
        }
    }
    *line = l;
    *column = c;
}

/* Sets the error of a failed cJSON_ParseWithOpts over `text`, whose end pointer is `end`. */
static void json_syntax_error(const char *text, const char *end, const char *path, GError **error)
{
    guint line, column;
    lat_text_position(text, end, &line, &column);
    char near[24] = "";
    if (end && *end) {
        guint i = 0;
        for (const char *p = end; *p && *p != '\n' && i < sizeof near - 1; p++)
            near[i++] = *p;
        near[i] = '\0';
    }
    if (near[0])
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%u:%u: malformed JSON near '%s'", path, line, column,
                    near);
    else
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%u:%u: malformed JSON (unexpected end of file)", path,
                    line, column);
}

cJSON *lat_read_json_file(const char *path, GError **error)
{
    char *text = lat_read_text_file(path, error);
    if (!text)
        return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root)
        json_syntax_error(text, end, path, error);
    g_free(text);
    return root;
}

static const char *json_kind(const cJSON *v)
{
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "null";
}

/* The value as written, for messages ("-3", "\"abc\"", "an object"). */
static char *json_shown(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return g_strdup_printf("%.17g", v->valuedouble);
    if (cJSON_IsString(v))
        return g_strdup_printf("'%s'", v->valuestring);
    return g_strdup(json_kind(v));
}

gboolean lat_json_uint(const cJSON *obj, const char *field, const char *where, gboolean required,
                       gboolean allow_zero, guint *out, gboolean *present, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    const char *want = allow_zero ? "a non-negative integer" : "a positive integer";
    if (present)
        *present = FALSE;
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field '%s': expected %s, but it is missing",
                        where, field, want);
            return FALSE;
        }
        return TRUE;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!cJSON_IsNumber(v) || !isfinite(d) || d != floor(d) || d < (allow_zero ? 0.0 : 1.0) ||
        d > (double)G_MAXUINT) {
        char *shown = json_shown(v);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field '%s': expected %s, got %s", where, field,
                    want, shown);
        g_free(shown);
        return FALSE;
    }
    *out = (guint)d;
    if (present)
        *present = TRUE;
    return TRUE;
}

gboolean lat_json_number(const cJSON *obj, const char *field, const char *where, gboolean required,
                         gboolean positive, double *out, gboolean *present, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    const char *want = positive ? "a positive number" : "a number";
    if (present)
        *present = FALSE;
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field '%s': expected %s, but it is missing",
                        where, field, want);
            return FALSE;
        }
        return TRUE;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || (positive && !(v->valuedouble > 0.0))) {
        char *shown = json_shown(v);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field '%s': expected %s, got %s", where, field,
                    want, shown);
        g_free(shown);
        return FALSE;
    }
    *out = v->valuedouble;
    if (present)
        *present = TRUE;
    return TRUE;
}

gboolean lat_json_bool(const cJSON *obj, const char *field, const char *where, gboolean *out,
                       GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v || cJSON_IsNull(v))
        return TRUE;
    if (!cJSON_IsBool(v)) {
        char *shown = json_shown(v);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field '%s': expected true or false, got %s",
                    where, field, shown);
        g_free(shown);
        return FALSE;
    }
    *out = cJSON_IsTrue(v) ? TRUE : FALSE;
    return TRUE;
}

gboolean lat_json_string(const cJSON *obj, const char *field, const char *where, gboolean required,
                         char **out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v || cJSON_IsNull(v)) {
        if (required) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field '%s': expected a string, but it is missing",
                        where, field);
            return FALSE;
        }
        *out = NULL;
        return TRUE;
    }
    if (!cJSON_IsString(v) || !v->valuestring) {
        char *shown = json_shown(v);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: field '%s': expected a string, got %s", where,
                    field, shown);
        g_free(shown);
        return FALSE;
    }
    *out = g_strdup(v->valuestring);
    return TRUE;
}

gboolean lat_parse_uint64(const char *s, guint64 *out)
{
    if (!s || !g_ascii_isdigit(s[0]))
        return FALSE;
    char *end = NULL;
    errno = 0;
    guint64 v = g_ascii_strtoull(s, &end, 10);
    if (errno != 0 || !end || *end != '\0')
        return FALSE;
    *out = v;
    return TRUE;
}

gboolean lat_parse_double(const char *s, double *out)
{
    if (!s || !*s || g_ascii_isspace(s[0]))
        return FALSE;
    char *end = NULL;
    errno = 0;
    double v = g_ascii_strtod(s, &end);
    if (errno == ERANGE || !end || end == s || *end != '\0' || !isfinite(v))
        return FALSE;
    *out = v;
    return TRUE;
}

char *lat_join_names(char *const *names)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; names && names[i]; i++) {
        if (i)
            g_string_append(s, ", ");
        g_string_append(s, names[i]);
    }
    if (s->len == 0)
        g_string_append(s, "(none)");
    return g_string_free(s, FALSE);
}
