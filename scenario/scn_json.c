/*
 * scn_json.c: JSON reading with file:line:column and field-path errors.
 */
#include "scn_json.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ss_error.h"
#include "ss_output.h"

/* Line and column (1-based) of byte `offset` of `text`. */
static void text_position(const char *text, gsize offset, guint *line, guint *column)
{
    guint l = 1, c = 1;
    for (gsize i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *column = c;
}

/* Finds a \u0000 escape inside a JSON string: cJSON would decode it to a
 * NUL byte and so silently cut the string there. Returns its offset, or -1.
 * Scans strings only (a backslash escapes the next character), so the text
 * "\\u0000" (an escaped backslash, then "u0000") is not one. */
static gssize find_nul_escape(const char *text)
{
    gboolean in_string = FALSE;
    for (const char *p = text; *p; p++) {
        if (!in_string) {
            in_string = *p == '"';
        } else if (*p == '"') {
            in_string = FALSE;
        } else if (*p == '\\') {
            if (p[1] == 'u' && p[2] == '0' && p[3] == '0' && p[4] == '0' && p[5] == '0')
                return p - text;
            if (p[1])
                p++; /* the escaped character */
        }
    }
    return -1;
}

cJSON *scn_json_parse(const char *text, const char *origin, GError **error)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (root) {
        gssize nul = find_nul_escape(text);
        if (nul >= 0) {
            guint line, column;
            text_position(text, (gsize)nul, &line, &column);
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT,
                        "%s:%u:%u: expected a string without NUL characters, got the escape \\u0000", origin,
                        line, column);
            cJSON_Delete(root);
            return NULL;
        }
        return root;
    }
    int line = 1, col = 1;
    if (end) {
        for (const char *p = text; p < end && *p; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
    }
    char near[24] = "";
    if (end && *end)
        g_strlcpy(near, end, sizeof near);
    for (char *p = near; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = '\0';
    if (near[0])
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%d:%d: malformed JSON near '%s'", origin, line, col,
                    near);
    else
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%d:%d: malformed JSON (unexpected end of input)", origin,
                    line, col);
    return NULL;
}

char *scn_read_file_max(const char *path, const char *what, gsize max_bytes, gsize *length, GError **error)
{
    /* read in blocks rather than with g_file_get_contents, so that a device
     * or a pipe without end (/dev/zero) stops at max_bytes instead of
     * exhausting memory */
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot read the %s: %s", path, what, g_strerror(e));
        return NULL;
    }
    GString *buf = g_string_new(NULL);
    char block[65536];
    int err = 0;
    for (;;) {
        size_t n = fread(block, 1, sizeof block, f);
        if (n == 0) {
            if (ferror(f))
                err = errno ? errno : EIO;
            break;
        }
        if (buf->len + n > max_bytes) {
            g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: expected a %s of at most %" G_GSIZE_FORMAT
                        " MiB, got more", path, what, max_bytes >> 20);
            fclose(f);
            g_string_free(buf, TRUE);
            return NULL;
        }
        g_string_append_len(buf, block, (gssize)n);
    }
    fclose(f);
    if (err) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: cannot read the %s: %s", path, what, g_strerror(err));
        g_string_free(buf, TRUE);
        return NULL;
    }
    gsize len = buf->len;
    char *text = g_string_free(buf, FALSE);
    /* every reader works on NUL-terminated text: a NUL byte inside would
     * silently cut the file short */
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        guint line, column;
        text_position(text, (gsize)(nul - text), &line, &column);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s:%u:%u: expected text, got a NUL byte (the %s is binary "
                    "or corrupt)", path, line, column, what);
        g_free(text);
        return NULL;
    }
    if (length)
        *length = len;
    return text;
}

char *scn_read_file(const char *path, const char *what, gsize *length, GError **error)
{
    return scn_read_file_max(path, what, SCN_MAX_TEXT_FILE, length, error);
}

gboolean scn_check_input_file(const char *path, const char *what, GError **error)
{
    GStatBuf st;
    if (g_stat(path, &st) != 0)
        return TRUE;
    if (!S_ISREG(st.st_mode)) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: expected the %s as a regular file, got %s", path, what,
                    S_ISDIR(st.st_mode) ? "a folder" : "a device, pipe or socket");
        return FALSE;
    }
    if ((guint64)st.st_size > SCN_MAX_TEXT_FILE) {
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: expected a %s of at most %" G_GSIZE_FORMAT " MiB, got %"
                    G_GUINT64_FORMAT " MiB", path, what, SCN_MAX_TEXT_FILE >> 20, (guint64)st.st_size >> 20);
        return FALSE;
    }
    return TRUE;
}

gboolean scn_write_file(const char *path, const char *text, GError **error)
{
    return ss_output_write_text(path, text, error);
}

cJSON *scn_json_parse_file(const char *path, GError **error)
{
    char *text = scn_read_file(path, "file", NULL, error);
    if (!text)
        return NULL;
    cJSON *root = scn_json_parse(text, path, error);
    g_free(text);
    return root;
}

guint scn_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    guint *row = g_new(guint, lb + 1);
    for (size_t j = 0; j <= lb; j++)
        row[j] = (guint)j;
    for (size_t i = 1; i <= la; i++) {
        guint prev = row[0];
        row[0] = (guint)i;
        for (size_t j = 1; j <= lb; j++) {
            guint cur = row[j];
            guint sub = prev + (a[i - 1] != b[j - 1]);
            row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), sub);
            prev = cur;
        }
    }
    guint d = row[lb];
    g_free(row);
    return d;
}

static char *field_name(const char *path, const char *key)
{
    return path && *path ? g_strdup_printf("%s.%s", path, key) : g_strdup(key);
}

gboolean scn_json_check_keys(const cJSON *obj, const char *path, const char *const *allowed,
                             const char *origin, GError **error)
{
    if (!cJSON_IsObject(obj)) {
        char *repr = scn_json_repr(obj);
        g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected an object, got %s", origin,
                    path && *path ? path : "(top level)", repr);
        g_free(repr);
        return FALSE;
    }
    for (const cJSON *it = obj->child; it; it = it->next) {
        gboolean ok = FALSE;
        const char *best = NULL;
        guint best_d = G_MAXUINT;
        for (const char *const *k = allowed; *k; k++) {
            if (strcmp(it->string, *k) == 0) {
                ok = TRUE;
                break;
            }
            guint d = scn_edit_distance(it->string, *k);
            if (d < best_d) {
                best_d = d;
                best = *k;
            }
        }
        if (!ok) {
            char *name = field_name(path, it->string);
            if (best && best_d <= 3)
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: unknown field (did you mean '%s'?)", origin,
                            name, best);
            else
                g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: unknown field", origin, name);
            g_free(name);
            return FALSE;
        }
    }
    return TRUE;
}

char *scn_json_repr(const cJSON *v)
{
    if (!v)
        return g_strdup("nothing");
    char *s = cJSON_PrintUnformatted(v);
    if (!s)
        return g_strdup("?");
    char *r;
    if (strlen(s) > 40)
        r = g_strdup_printf("%.37s...", s);
    else
        r = g_strdup(s);
    cJSON_free(s);
    return r;
}

static gboolean type_error(const cJSON *v, const char *path, const char *key, const char *origin,
                           const char *expected, GError **error)
{
    char *name = field_name(path, key);
    char *repr = scn_json_repr(v);
    g_set_error(error, SS_ERROR, SS_ERROR_INPUT, "%s: %s: expected %s, got %s", origin, name, expected, repr);
    g_free(repr);
    g_free(name);
    return FALSE;
}

gboolean scn_json_get_uint(const cJSON *obj, const char *key, const char *path, const char *origin,
                           guint64 min, guint64 max, guint64 *out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return TRUE;
    char expected[96];
    if (max == G_MAXUINT64 || max >= (guint64)1 << 53)
        g_snprintf(expected, sizeof expected, "an integer >= %" G_GUINT64_FORMAT, min);
    else
        g_snprintf(expected, sizeof expected, "an integer from %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT, min,
                   max);
    if (min == 1 && max >= G_MAXUINT32)
        g_strlcpy(expected, "a positive integer", sizeof expected);
    else if (min == 0 && max >= G_MAXUINT32)
        g_strlcpy(expected, "a non-negative integer", sizeof expected);
    if (!cJSON_IsNumber(v))
        return type_error(v, path, key, origin, expected, error);
    double d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || d < (double)min || d > (double)max || d > 9007199254740992.0)
        return type_error(v, path, key, origin, expected, error);
    *out = (guint64)d;
    return TRUE;
}

gboolean scn_json_get_double(const cJSON *obj, const char *key, const char *path, const char *origin,
                             double min, double max, gboolean min_exclusive, double *out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return TRUE;
    char expected[96];
    if (min_exclusive && min == 0 && isinf(max))
        g_strlcpy(expected, "a positive number", sizeof expected);
    else if (isinf(max))
        g_snprintf(expected, sizeof expected, "a number %s %g", min_exclusive ? ">" : ">=", min);
    else
        g_snprintf(expected, sizeof expected, "a number %s %g and <= %g", min_exclusive ? ">" : ">=", min, max);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return type_error(v, path, key, origin, expected, error);
    double d = v->valuedouble;
    if (d < min || (min_exclusive && d == min) || d > max)
        return type_error(v, path, key, origin, expected, error);
    *out = d;
    return TRUE;
}

gboolean scn_json_get_bool(const cJSON *obj, const char *key, const char *path, const char *origin,
                           gboolean *out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return TRUE;
    if (!cJSON_IsBool(v))
        return type_error(v, path, key, origin, "true or false", error);
    *out = cJSON_IsTrue(v);
    return TRUE;
}

gboolean scn_json_get_string(const cJSON *obj, const char *key, const char *path, const char *origin,
                             char **out, GError **error)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return TRUE;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return type_error(v, path, key, origin, "a non-empty string", error);
    g_free(*out);
    *out = g_strdup(v->valuestring);
    return TRUE;
}
